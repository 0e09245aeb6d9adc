/* policy.h — operator policy as code (YAML, via libyaml).
 *
 * A policy bundle has rules (match → action, risk, reason) and settings for the
 * built-in analyzers (disable, change the action, exceptions). See docs/policy.md for
 * the format and policies/default.yaml for the shipped bundle.
 *
 * A policy is immutable once parsed and may be shared by threads. */
#ifndef LH_POLICY_H
#define LH_POLICY_H

#include <stddef.h>

#include "engine/engine.h"

struct lh_ctx;

#define LH_POLICY_MAX_BYTES (4u << 20)  /* 4 MiB of YAML */
#define LH_POLICY_MAX_RULES 10000

typedef struct lh_policy_diag {
    int line;            /* 1-based; 0 when not tied to a place */
    int column;          /* 1-based */
    char message[256];
} lh_policy_diag;

/* Parse a policy bundle. name is used in messages (a file name). On error returns NULL
 * and fills up to maxdiags diagnostics (*ndiags = how many). Warnings (e.g. an unknown
 * analyzer id) are errors too: a policy either loads cleanly or not at all. */
lh_policy *lh_policy_parse(const char *yaml, size_t len, const char *name,
                           lh_policy_diag *diags, int maxdiags, int *ndiags);
/* The built-in policies/default.yaml. Never NULL unless out of memory. */
lh_policy *lh_policy_default(void);
void lh_policy_free(lh_policy *p);

/* The revision: the bundle's `revision:` if it names one, else "sha256:<first 16 hex>"
 * of its bytes. */
const char *lh_policy_revision(const lh_policy *p);
/* How many rules it has. */
int lh_policy_nrules(const lh_policy *p);

/* Engine hooks (called by engine.c with a filled lh_ctx):
 * 1. lh_policy_match(): add findings (tier policy) for every operator rule that
 *    matches the request; allow rules are recorded too (action allow).
 * 2. lh_policy_adjust(): after the analyzers ran, apply analyzer settings
 *    (disabled → drop, action/risk changes, exceptions) and the `overrides` of allow
 *    rules that matched the same command; cancelled findings get overridden_by. */
void lh_policy_match(const lh_policy *p, struct lh_ctx *c);
void lh_policy_adjust(const lh_policy *p, struct lh_ctx *c);
/* The action for a tool the engine has no analyzer for (default escalate). */
lh_action lh_policy_unknown_tool_action(const lh_policy *p, const char *tool_name);
/* Does settings.allowed_hosts list host (lower case, no port)? */
int lh_policy_host_allowed(const lh_policy *p, const char *host);

/* The escalation route of an escalate decision by rule (a policy rule's id or an analyzer
 * id): the rule's own `escalate:`, else its analyzer settings', else settings.escalation;
 * NULL when none (no escalation is created). Lives as long as the policy. */
const lh_escroute *lh_policy_escalation(const lh_policy *p, const char *rule);

/* ---- small helpers shared with the CLI and tests ---------------------------------- */

/* The name given to lh_policy_parse() ("<default>" for the built-in bundle). */
const char *lh_policy_name(const lh_policy *p);
/* The id and the 1-based YAML line of a policy rule behind a tier-policy finding
 * (lh_finding.policy_rule); NULL / 0 when rule is NULL. */
const char *lh_policy_rule_id(const void *rule);
int lh_policy_rule_line(const void *rule);
/* Glob matching as rules use it: * and ? match any bytes (pathmode: not '/'; '**' then
 * crosses '/', and a pattern ending in "/" + "**" also matches the directory itself), [a-z] / [!x]
 * classes, \ escapes. Returns 1 on a match. */
int lh_policy_glob_match(const char *pattern, const char *s, int pathmode);
#endif
