/* rules.h — the built-in analyzers' rules: stable ids, default actions, reasons.
 *
 * Every finding an analyzer emits names one of these. Operators address them by id in
 * a policy (disable, change the action, scope with exceptions), so ids never change
 * meaning once shipped; docs/policy.md lists them all. */
#ifndef LH_RULES_H
#define LH_RULES_H

#include "engine/engine.h"

struct lh_rule_info {
    const char *id;       /* "rm.root" */
    lh_action action;     /* default action */
    lh_risk risk;
    const char *reason;   /* what it found, for a person */
    const char *instead;  /* what to do instead, or NULL */
};

/* X-macro: RULE(ENUM, "id", action, risk, "reason", "instead") — see rules.c */
#include "engine/rules.def"

typedef enum {
#define RULE(e, id, act, risk, reason, instead) LH_RULE_##e,
    LH_RULES_LIST
#undef RULE
    LH_RULE__COUNT
} lh_rule_id;

extern const lh_rule_info lh_rules[LH_RULE__COUNT];

#define LH_RULE(e) (&lh_rules[LH_RULE_##e])

/* The rule with this id, or NULL. */
const lh_rule_info *lh_rule_find(const char *id);

#endif
