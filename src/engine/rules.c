/* rules.c — the table of built-in rules (from rules.def) and lookup by id.
 *
 * lh_rules is a constant array in the order of rules.def, indexed by lh_rule_id.
 * Lookup by id (policy loading, policy tier) uses a second array of indexes sorted
 * by id and a binary search. C cannot sort strings at compile time, so the index is
 * sorted once, under pthread_once, and never changes afterwards: threads may look up
 * ids concurrently. */
#include "engine/rules.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const lh_rule_info lh_rules[LH_RULE__COUNT] = {
#define RULE(e, id_, act, risk_, reason_, instead_) \
    [LH_RULE_##e] = {.id = (id_), .action = (act), .risk = (risk_), .reason = (reason_), .instead = (instead_)},
    LH_RULES_LIST
#undef RULE
};

static unsigned short g_sorted[LH_RULE__COUNT];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static int compareIds(const void *a, const void *b) {
    return strcmp(lh_rules[*(const unsigned short *)a].id, lh_rules[*(const unsigned short *)b].id);
}

/* Build the sorted index (runs once). */
static void buildIndex(void) {
    for (int i = 0; i < LH_RULE__COUNT; i++) g_sorted[i] = (unsigned short)i;
    qsort(g_sorted, LH_RULE__COUNT, sizeof(g_sorted[0]), compareIds);
}

const lh_rule_info *lh_rule_find(const char *id) {
    if (!id) return NULL;
    pthread_once(&g_once, buildIndex);
    int lo = 0, hi = LH_RULE__COUNT - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const lh_rule_info *r = &lh_rules[g_sorted[mid]];
        int c = strcmp(id, r->id);
        if (c == 0) return r;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}
