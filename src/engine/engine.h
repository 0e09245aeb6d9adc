/* engine.h — the Lighthouse decision engine: a tool call in, allow/deny/escalate out.
 *
 * A pure library: no I/O, no globals that change, no threads of its own. The CLI
 * (`lighthouse check`), the hook and the bridge all call lh_engine_decide().
 *
 * Flow of one decision (DESIGN.md): cache → policy → analyzers → (escalate).
 * Across all findings deny beats escalate beats allow. An operator's allow rule can
 * override an analyzer only for the analyzer ids that rule names.
 *
 * Thread-safety: an lh_engine may be shared by threads once built; each thread passes
 * its own arena. The cache is sharded so threads rarely contend.
 *
 * Memory: an lh_decision and everything it points to live in the arena passed to
 * lh_engine_decide() (or in the engine's policy, which outlives it). */
#ifndef LH_ENGINE_H
#define LH_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

/* ---- enums shared by every layer --------------------------------------------------- */

typedef enum { LH_ALLOW = 0, LH_ESCALATE = 1, LH_DENY = 2 } lh_action;
typedef enum { LH_RISK_LOW = 0, LH_RISK_MEDIUM, LH_RISK_HIGH, LH_RISK_CRITICAL } lh_risk;
typedef enum { LH_TIER_CACHE = 0, LH_TIER_POLICY, LH_TIER_ANALYSIS, LH_TIER_EXPERT } lh_tier;

typedef enum {
    LH_TOOL_BASH = 0, LH_TOOL_WRITE, LH_TOOL_EDIT, LH_TOOL_MULTIEDIT, LH_TOOL_NOTEBOOKEDIT,
    LH_TOOL_READ, LH_TOOL_GLOB, LH_TOOL_GREP, LH_TOOL_LS, LH_TOOL_WEBFETCH,
    LH_TOOL_WEBSEARCH, LH_TOOL_MCP, LH_TOOL_UNKNOWN,
} lh_tool;

const char *lh_action_name(lh_action a);   /* "allow" | "escalate" | "deny" */
const char *lh_risk_name(lh_risk r);       /* "low" … "critical" */
const char *lh_tier_name(lh_tier t);       /* "cache" | "policy" | "analysis" | "expert" */
const char *lh_tool_name(lh_tool t);       /* "Bash" … ; "unknown" */
lh_tool lh_tool_from_name(const char *name); /* mcp__x__y → LH_TOOL_MCP */
int lh_action_parse(const char *s, lh_action *out);  /* 0 ok, -1 unknown */
int lh_risk_parse(const char *s, lh_risk *out);

/* ---- request ----------------------------------------------------------------------- */

#define LH_MAX_REQUEST_BYTES (1u << 20)   /* 1 MiB of JSON */
#define LH_MAX_COMMAND_BYTES (256u << 10) /* 256 KiB of shell text */
#define LH_MAX_PATH_BYTES    4096u
#define LH_MCP_MAX_ARGS      32

typedef struct lh_request {
    lh_tool tool;
    const char *tool_name;  /* as sent ("Bash", "mcp__github__create_issue") */
    const char *command;    /* Bash */
    size_t command_len;
    const char *file_path;  /* Write, Edit, MultiEdit, NotebookEdit (notebook_path), Read */
    const char *content;    /* Write content, Edit new_string, NotebookEdit new_source, or NULL */
    const char *edits_json; /* MultiEdit: the "edits" array as JSON text, or NULL */
    const char *path;       /* Glob, Grep, LS: the directory searched */
    const char *url;        /* WebFetch, and an MCP tool's "url" */
    /* MCP: the string arguments that may be paths (path, file_path, filename, directory,
     * source, destination, target, uri, paths), with their keys; in that order; then the
     * string elements of a "paths" array. mcp_more: some did not fit (an_mcp escalates). */
    const char *mcp_args[LH_MCP_MAX_ARGS];
    const char *mcp_keys[LH_MCP_MAX_ARGS];
    int nmcp_args;
    int mcp_more;
    const char *cwd;        /* absolute; "/" when the caller sent none */
    const char *home;       /* the agent's home directory, or NULL when unknown */
    const char *agent;      /* agent name, or NULL */
    const char *role;       /* builder|expert|admin, or NULL */
    const char *session;
    const char *event;      /* hook_event_name when the request was a hook payload */
    const char *permission_mode;
} lh_request;

/* Parse a JSON request: native ({"tool","input","cwd","agent",…}) or a Claude Code hook
 * payload ({"tool_name","tool_input","cwd","session_id",…}). Strings are copied into
 * the arena. Returns 0, or -1 with a message in err that says what to fix. */
int lh_request_parse_json(lh_arena *a, const char *json, size_t len, lh_request *out,
                          char *err, size_t errlen);

/* 1 when json (len bytes) is an object or array that jansson's json_loadb accepts with
 * JSON_REJECT_DUPLICATES (the grammar above, without its rules on keys), with in
 * *strbytes the decoded bytes of all its strings, keys included. Scratch space in a. The
 * notebook reader uses it to tell a json_loadb that ran out of memory, which jansson does
 * not always say (and may then return strings with bytes missing), from bad JSON. */
int lh_json_well_formed(lh_arena *a, const char *json, size_t len, uint64_t *strbytes);

/* ---- decision ---------------------------------------------------------------------- */

typedef struct lh_rule_info lh_rule_info;   /* analyzers' table: see rules.h */

typedef struct lh_finding {
    const char *rule;       /* stable id: "rm.root", or a policy rule id */
    lh_action action;
    lh_risk risk;
    lh_tier tier;           /* LH_TIER_POLICY or LH_TIER_ANALYSIS */
    const char *reason;     /* what it found, for a person */
    const char *instead;    /* what to do instead, or NULL */
    const char *subject;    /* the word that triggered it ("/etc"), or NULL */
    int cmd;                /* index into the script's commands, -1 for the request */
    const char *overridden_by; /* policy rule or exception that cancelled it, or NULL */
    const void *policy_rule;   /* the policy rule behind a tier-policy finding (opaque) */
} lh_finding;

/* Where an escalate decision is routed (policy `escalate:`, docs/policy.md "Escalation
 * routes"): experts with all of caps decide; quorum distinct allows allow, any deny denies;
 * past deadline_ms the on_timeout action applies; a verdict is reused for cache_ttl_ms.
 * Lives in the policy (read-only, shared by threads). */
typedef enum { LH_ESC_TIMEOUT_DENY = 0, LH_ESC_TIMEOUT_ALLOW, LH_ESC_TIMEOUT_ASK } lh_esc_timeout;
#define LH_ESC_MAX_CAPS 16
#define LH_ESC_MAX_QUORUM 16
#define LH_ESC_MAX_DEADLINE_MS 3600000u
typedef struct lh_escroute {
    const char *const *caps;  /* capability names (each at most 64 bytes) */
    int ncaps;                /* 0: any expert may decide */
    int quorum;               /* 1 to LH_ESC_MAX_QUORUM */
    uint64_t deadline_ms;     /* 1 to LH_ESC_MAX_DEADLINE_MS */
    lh_esc_timeout on_timeout;
    uint64_t cache_ttl_ms;    /* 0: no verdict cache */
} lh_escroute;
const char *lh_esc_timeout_name(lh_esc_timeout t);   /* "deny" | "allow" | "ask" */

typedef struct lh_decision {
    lh_action action;
    lh_risk risk;
    lh_tier tier;
    const char *rule;       /* the finding that decided, or "default.allow" */
    const char *reason;
    const char *instead;    /* NULL when there is nothing better to suggest */
    const char *policy_revision;
    uint64_t latency_us;    /* set by the caller that timed it */
    uint64_t seq;           /* audit sequence; 0 outside the bridge */
    /* For --explain: everything below may be NULL/0 on a cache hit. */
    const lh_finding *findings;
    int nfindings;
    const struct lh_script *script;      /* the parsed command (Bash), after unwrapping */
    const char *parse_error;             /* set when the command failed to parse */
    uint32_t steps;                      /* work steps the decision took (0 on a cache
                                            hit); see LH_STEP_BUDGET in analyze.h */
    const lh_escroute *escalation;       /* an escalate decision's route (the policy's),
                                            NULL: none (the user is asked) */
} lh_decision;

/* ---- engine ------------------------------------------------------------------------ */

typedef struct lh_policy lh_policy;     /* see policy.h */
typedef struct lh_engine lh_engine;

#define LH_DECIDE_NOCACHE 0x1u          /* bypass the cache (explain, benchmarks) */
#define LH_DECIDE_EXPLAIN 0x2u          /* keep findings and the parse in the decision */

/* Create an engine that decides with policy (the engine takes ownership; NULL means the
 * built-in default policy) and caches up to cache_entries decisions (0 disables the
 * cache). NULL on error, with a message in err. */
lh_engine *lh_engine_new(lh_policy *policy, size_t cache_entries, char *err, size_t errlen);
void lh_engine_free(lh_engine *e);

/* Decide one request. Fills *out (strings in the arena or the policy). Never fails
 * open: a request that cannot be analysed is escalated or denied. Returns 0, or -1 when
 * any allocation failed while deciding (out is then a deny with rule "engine.error"), even
 * one whose caller could have gone on with less; tests/unit/test_oom.c fails each. */
int lh_engine_decide(lh_engine *e, const lh_request *req, lh_arena *a, lh_decision *out,
                     unsigned opts);

const lh_policy *lh_engine_policy(const lh_engine *e);

typedef struct lh_cache_stats {
    uint64_t lookups, hits, inserts, evictions;
    size_t entries, capacity;
} lh_cache_stats;
void lh_engine_cache_stats(const lh_engine *e, lh_cache_stats *out);

/* Write the decision as the contract's JSON object (DESIGN.md "Decision") into buf.
 * id may be NULL (omitted). Returns the length, or -1 if it did not fit. */
int lh_decision_to_json(const lh_decision *d, const char *id, char *buf, size_t cap);
/* The same object with its keys in byte order: the store's canonical form as it stands
 * (docs/store.md, "Canonical form"), for the bridge's decision.made event. */
int lh_decision_to_json_sorted(const lh_decision *d, const char *id, char *buf, size_t cap);

/* The hook's PreToolUse output (../shared/reference/hooks.md), rendered here once for the
 * hook (hook.c) and the bridge's hook route (routes.c). Claude Code caps its output strings
 * at 10,000 characters: the reason is cut to LH_HOOK_REASON_MAX bytes, at a UTF-8 boundary.
 * LH_HOOK_OUTPUT_MAX holds any rendering (every reason byte escaped to \u00XX). */
#define LH_HOOK_REASON_MAX 10000
#define LH_HOOK_OUTPUT_MAX (LH_HOOK_REASON_MAX * 6 + 160)

/* Write {"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":P,
 * "permissionDecisionReason":R}} for d into buf, with no newline. P is allow, deny or ask
 * (an escalation: the user decides); R says what Lighthouse did, the rule, the risk, the
 * reason and what to do instead, then note (may be NULL). An allow is rendered only with
 * approve (hook_allow: approve); without it the output is "" (no opinion: the user's own
 * permission settings apply). reason_end (may be NULL) receives the offset just after R's
 * text, before the closing "}}, where a caller may add to the reason (the bridge adds the
 * event's seq). Returns the length, or -1 if it did not fit in cap. */
int lh_decision_to_hook_json(const lh_decision *d, const char *note, int approve, char *buf, size_t cap,
                             size_t *reason_end);

/* JSON-escape s into buf (no quotes added) the way jansson's dump does; returns bytes
 * written or -1 if no room. */
int lh_json_escape(const char *s, char *buf, size_t cap);

#endif
