/* fuzz_policy.c — libFuzzer target: arbitrary bytes as a policy bundle through the policy
 * loader (lh_policy_parse, src/engine/policy_load.c). A bundle loads cleanly or is
 * refused with at least one diagnostic that has a message; a loaded one has a revision
 * and decides a few fixed requests of each tool kind without a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/policy.h"

#define MAX_DIAGS 8

static lh_arena *A;

static void decide(lh_engine *e, lh_tool tool, const char *name, const char *cmd, const char *path) {
    lh_arena_reset(A);
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool = tool;
    r.tool_name = name;
    r.command = cmd;
    r.command_len = cmd ? strlen(cmd) : 0;
    r.file_path = path;
    r.url = tool == LH_TOOL_WEBFETCH ? path : NULL;
    r.cwd = "/home/dev/project";
    r.home = "/home/dev";
    r.agent = "fuzz";
    r.role = "builder";
    lh_decision d;
    lh_engine_decide(e, &r, A, &d, LH_DECIDE_EXPLAIN);
    if ((unsigned)d.action > LH_DENY || !d.rule || !d.reason) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!A && !(A = lh_arena_new(1 << 16))) abort();
    lh_policy_diag diags[MAX_DIAGS];
    int nd = -1;
    lh_policy *p = lh_policy_parse((const char *)data, size, "fuzz.yaml", diags, MAX_DIAGS, &nd);
    if (!p) {
        if (nd < 1 || nd > MAX_DIAGS) abort();
        for (int i = 0; i < nd; i++)
            if (!diags[i].message[0] || diags[i].line < 0 || diags[i].column < 0) abort();
        return 0;
    }
    const char *rev = lh_policy_revision(p);
    if (!rev || !*rev || lh_policy_nrules(p) < 0) abort();
    char err[256];
    lh_engine *e = lh_engine_new(p, 16, err, sizeof(err));
    if (!e) abort();
    decide(e, LH_TOOL_BASH, "Bash", "ls -la src && git status", NULL);
    decide(e, LH_TOOL_BASH, "Bash", "cat ~/.ssh/config | grep Host", NULL);
    decide(e, LH_TOOL_WRITE, "Write", NULL, "/home/dev/project/README.md");
    decide(e, LH_TOOL_READ, "Read", NULL, "/etc/hosts");
    decide(e, LH_TOOL_WEBFETCH, "WebFetch", NULL, "https://example.com/x");
    decide(e, LH_TOOL_MCP, "mcp__github__create_issue", NULL, NULL);
    decide(e, LH_TOOL_UNKNOWN, "SomethingNew", NULL, NULL);
    lh_engine_free(e);
    return 0;
}
