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
    int mcp_judged;             /* an_mcp.c judged the MCP call whole (a read, or a write of
                                   the paths it names): no tool.unknown fallback */
} lh_ctx;

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
