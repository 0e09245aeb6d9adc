/* analyze.h — what the engine's tiers share while deciding one request.
 *
 * lh_ctx is built by engine.c for each decision. The policy tier and the analyzers add
 * findings to it with lh_emit()/lh_emit_policy(); engine.c then combines them
 * (deny > escalate > allow). Internal to src/engine/. */
#ifndef LH_ANALYZE_H
#define LH_ANALYZE_H

#include "engine/engine.h"
#include "engine/shell.h"
#include "engine/rules.h"
#include "engine/paths.h"

typedef struct lh_ctx {
    lh_arena *arena;
    const lh_request *req;
    lh_script *script;          /* Bash only, after lh_unwrap(); NULL otherwise */
    const char *cwd;            /* normalised absolute cwd */
    size_t cwd_len;
    const char *home;           /* normalised home, or NULL when unknown */
    size_t home_len;
    int cwd_is_project;         /* cwd may be treated as a project dir (not /, not $HOME,
                                   not a system dir) */
    lh_finding *findings;
    int nfindings;
    int capfindings;
    int oom;                    /* an allocation failed: the engine denies */
    const struct lh_policy *policy; /* the engine's policy (settings the analyzers read) */
    const char *const *self_paths;  /* Lighthouse's configured files and dirs (an_self.c) */
    int nself_paths;
    uint32_t steps;             /* work done for this decision (see lh_step) */
    int over_budget;            /* steps passed LH_STEP_BUDGET: the engine escalates */
    int ifs_ncmds;              /* litvar.c: script->ncmds + 1 when ifs_set was computed */
    int ifs_set;
    int mcp_judged;             /* an_mcp.c judged the MCP call whole (a read, or a write of
                                   the paths it names): no tool.unknown fallback */
} lh_ctx;

/* The step budget of one decision. A step is one unit of bounded work: a word or
 * command the parser produced, one wrapper stripped, one nested script expanded, one
 * brace-expansion result, one command through the analyzers. Past the budget the
 * tiers stop and the decision is escalate (engine.budget). docs/architecture.md. */
#define LH_STEP_BUDGET 200000u

/* Count n steps; returns 0 (and marks the context) once the budget is spent. */
static inline int lh_step(lh_ctx *c, uint32_t n) {
    c->steps += n;
    if (c->steps > LH_STEP_BUDGET) c->over_budget = 1;
    return !c->over_budget;
}

/* Steps one word of a command costs each time the analyzers judge it: it is classified
 * as a path and read by several analyzers (2,000-5,000 instructions with its share of
 * the command's dispatch; a step is a few hundred). */
#define LH_STEP_WORD 6u
/* A redirection is judged as a write or read of its target by several analyzers, each
 * classifying it again (~10,000 instructions). */
#define LH_STEP_REDIR 48u

/* Bytes of text one step pays for where work is proportional to a text's length
 * (paths joined and classified, code scanned, words expanded). */
#define LH_STEP_BYTES 8u

/* Count the steps for scanning n bytes (at least one); as lh_step. */
static inline int lh_step_bytes(lh_ctx *c, size_t n) {
    return lh_step(c, 1u + (uint32_t)(n / LH_STEP_BYTES));
}

/* Record that analyzer rule r fired on command cmd (-1: the request), about subject
 * (the offending word; may be NULL). Uses r's default action, risk, reason and
 * "instead". The policy tier adjusts these afterwards. */
void lh_emit(lh_ctx *c, int cmd, const lh_rule_info *r, const char *subject);

/* Same, with the action, risk and reason given (used by the policy tier and by
 * analyzers whose verdict depends on context). reason/instead must outlive the arena
 * or be allocated in it. */
void lh_emit_full(lh_ctx *c, int cmd, const char *rule, lh_action act, lh_risk risk,
                  lh_tier tier, const char *reason, const char *instead,
                  const char *subject);

/* Run every built-in analyzer over the request. */
void lh_analyze(lh_ctx *c);

/* Write/Edit/NotebookEdit: the commands the file's content will run (CI steps, package
 * lifecycle scripts, Makefile recipes, notebook cells…) as c->script (an_content.c). */
void lh_content_analyze(lh_ctx *c);
/* The shell text a file at path with this content will run (by its kind: workflow,
 * tasks.json, package.json lifecycle scripts, Makefile recipes, notebook), or NULL. Each
 * unit that runs as its own shell (a recipe line, a run step) ends with LH_CONTENT_UNIT. */
#define LH_CONTENT_UNIT "\x1e"
const char *lh_content_commands(lh_ctx *c, const char *path, lh_tool tool, const char *s,
                                size_t len, size_t *outlen);
/* The string values of key in a JSON text or fragment, one a line, or NULL. */
const char *lh_content_json_value(lh_ctx *c, const char *s, size_t len, const char *key,
                                  size_t *outlen);

/* ---- helpers analyzers share (analyze.c) ---------------------------------------- */

/* argv[i] text, or "" when out of range. */
static inline const char *lh_arg(const lh_cmd *cmd, int i) {
    return (i >= 0 && i < cmd->argc) ? cmd->argv[i].s : "";
}
/* True when cmd has a short option letter ch (in "-rf", "-r") or the long option
 * long_name ("--recursive", "--recursive=…"); long_name may be NULL. Stops at "--". */
int lh_has_opt(const lh_cmd *cmd, char ch, const char *long_name);
/* Index of the first argument after argv[from] that is not an option, or -1. */
int lh_first_operand(const lh_cmd *cmd, int from);

#endif
