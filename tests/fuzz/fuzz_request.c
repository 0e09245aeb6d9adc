/* fuzz_request.c — libFuzzer target: arbitrary bytes through the request parser
 * (lh_request_parse_json, src/engine/request.c). Checks what it promises: on success a
 * tool name of 1..256 bytes, a command whose length is command_len, an absolute cwd, at
 * most LH_MCP_MAX_ARGS MCP arguments; on failure a message; and the same answer twice
 * (the parser keeps no state between calls). Then the parsed request is decided. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

static lh_engine *E;
static lh_arena *A;

static int sameOpt(const char *x, const char *y) { return (!x || !y) ? x == y : !strcmp(x, y); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!E) {
        char err[256];
        E = lh_engine_new(NULL, 0, err, sizeof(err));
        A = lh_arena_new(1 << 16);
        if (!E || !A) abort();
    }
    lh_arena_reset(A);
    lh_request r, r2;
    char err[512], err2[512];
    err[0] = err2[0] = 0;
    int rc = lh_request_parse_json(A, (const char *)data, size, &r, err, sizeof(err));
    int rc2 = lh_request_parse_json(A, (const char *)data, size, &r2, err2, sizeof(err2));
    if (rc != rc2 || strcmp(err, err2)) abort();
    if (rc != 0) {
        if (rc != -1 || !err[0]) abort();
        return 0;
    }
    if (!r.tool_name || !*r.tool_name || strlen(r.tool_name) > 256) abort();
    if (!sameOpt(r.tool_name, r2.tool_name) || !sameOpt(r.command, r2.command) || !sameOpt(r.cwd, r2.cwd)) abort();
    if (r.tool == LH_TOOL_BASH && (!r.command || strlen(r.command) != r.command_len)) abort();
    if (r.cwd && r.cwd[0] != '/') abort();
    if (r.nmcp_args < 0 || r.nmcp_args > LH_MCP_MAX_ARGS) abort();
    for (int i = 0; i < r.nmcp_args; i++)
        if (!r.mcp_args[i] || !r.mcp_keys[i] || !*r.mcp_args[i]) abort();
    if (!r.cwd) r.cwd = "/";
    lh_decision d;
    lh_engine_decide(E, &r, A, &d, LH_DECIDE_NOCACHE | LH_DECIDE_EXPLAIN);
    if ((unsigned)d.action > LH_DENY || !d.rule) abort();
    return 0;
}
