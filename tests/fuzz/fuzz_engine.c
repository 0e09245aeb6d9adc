/* fuzz_engine.c — libFuzzer target: arbitrary bytes as a Bash command and as a JSON
 * request, through the whole engine. Any crash, leak or sanitizer report is a bug.
 * Run with `make fuzz` (FUZZ_SECONDS=N, default 60). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

static lh_engine *E;
static lh_arena *A;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!E) {
        char err[256];
        E = lh_engine_new(NULL, 256, err, sizeof(err));
        A = lh_arena_new(1 << 16);
        if (!E || !A) abort();
    }
    lh_arena_reset(A);
    /* 1. as a shell command */
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool = LH_TOOL_BASH;
    r.tool_name = "Bash";
    r.command = (const char *)data;
    r.command_len = size;
    r.cwd = "/home/dev/project";
    r.home = "/home/dev";
    lh_decision d;
    lh_engine_decide(E, &r, A, &d, (size & 1) ? LH_DECIDE_EXPLAIN : 0);
    char buf[8192];
    lh_decision_to_json(&d, "x", buf, sizeof(buf));
    /* 2. as a JSON request */
    lh_arena_reset(A);
    char err[256];
    if (lh_request_parse_json(A, (const char *)data, size, &r, err, sizeof(err)) == 0) {
        if (!r.cwd) r.cwd = "/";
        lh_engine_decide(E, &r, A, &d, LH_DECIDE_NOCACHE);
    }
    return 0;
}
