/* packs.h — rule packs: groups of third-party tools' delete commands that a policy can
 * switch on or off (`packs:` in the policy YAML; docs/policy.md).
 *
 * Every rule of a pack has the id "pack.<name>.<what>" (rules.def); an_packs.c emits
 * them. When a pack is off, lh_policy_adjust() cancels its findings
 * ("pack-off:<name>"). Internal to src/engine/. */
#ifndef LH_PACKS_H
#define LH_PACKS_H

#define LH_PACKS_MAX 16

typedef struct lh_pack_info {
    const char *name;     /* "brokers" */
    int on_by_default;
    const char *tag_off;  /* "pack-off:brokers", the overridden_by of a cancelled finding */
} lh_pack_info;

extern const lh_pack_info lh_packs[];
extern const int lh_npacks;

/* The pack a rule id belongs to ("pack.brokers.delete" → index of brokers), or -1. */
int lh_pack_of_rule(const char *rule_id);
/* The pack with this name, or -1. */
int lh_pack_find(const char *name);
/* Bit i set for each pack off by default. */
unsigned lh_packs_default_off(void);

#endif
