/* an_packs.c — the rule packs: delete commands of third-party tools, grouped so that a
 * policy can switch a group on or off (packs.h; docs/policy.md "Rule packs").
 *
 * The handlers always emit; the policy tier cancels the findings of a pack that is off.
 * What is on by default and why is in docs/policy.md. */
#include <string.h>

#include "engine/an_common.h"
#include "engine/packs.h"

const lh_pack_info lh_packs[] = {
    {"saas", 1, "pack-off:saas"},         {"objstore", 1, "pack-off:objstore"},
    {"backup", 1, "pack-off:backup"},     {"brokers", 0, "pack-off:brokers"},
    {"secrets", 1, "pack-off:secrets"},   {"disk", 1, "pack-off:disk"},
};
const int lh_npacks = (int)(sizeof(lh_packs) / sizeof(lh_packs[0]));

int lh_pack_find(const char *name) {
    for (int i = 0; i < lh_npacks; i++)
        if (!strcmp(lh_packs[i].name, name)) return i;
    return -1;
}

int lh_pack_of_rule(const char *id) {
    if (!id || strncmp(id, "pack.", 5)) return -1;
    const char *n = id + 5, *dot = strchr(n, '.');
    size_t l = dot ? (size_t)(dot - n) : strlen(n);
    for (int i = 0; i < lh_npacks; i++)
        if (strlen(lh_packs[i].name) == l && !strncmp(lh_packs[i].name, n, l)) return i;
    return -1;
}

unsigned lh_packs_default_off(void) {
    unsigned m = 0;
    for (int i = 0; i < lh_npacks; i++)
        if (!lh_packs[i].on_by_default) m |= 1u << i;
    return m;
}

/* ------------------------------------------------------------------------------ */

/* The first n operands (words that are not options) of cmd; option values are not
 * told apart, so handlers look at verbs, not at positions after value options. */
static int verbs(const lh_cmd *cmd, int *ops, int max) { return an_operands(cmd, 1, "", NULL, ops, max); }

static int hasVerb(const lh_cmd *cmd, const int *ops, int n, const char *v) {
    for (int i = 0; i < n; i++)
        if (!strcmp(cmd->argv[ops[i]].s, v)) return 1;
    return 0;
}

static int dry(const lh_cmd *cmd) {
    return lh_has_opt(cmd, 0, "--dry-run") || lh_has_opt(cmd, 0, "--dryrun");
}

/* saas: stripe <resource> delete, wrangler … delete, gitlab-rails runner '….destroy' */
static void saas(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[8];
    int n = verbs(cmd, ops, 8);
    const char *p = cmd->prog;
    if (!strcmp(p, "gitlab-rails")) {
        if (n < 2 || strcmp(cmd->argv[ops[0]].s, "runner")) return;
        const char *code = cmd->argv[ops[1]].s;
        if (strstr(code, "destroy") || strstr(code, "delete") || strstr(code, "truncate") || strstr(code, "TRUNCATE"))
            lh_emit(s->c, idx, LH_RULE(PACK_SAAS), code);
        return;
    }
    if (dry(cmd)) return;
    if (hasVerb(cmd, ops, n, "delete") ||
        (!strcmp(p, "wrangler") && (hasVerb(cmd, ops, n, "rm") || hasVerb(cmd, ops, n, "remove"))))
        lh_emit(s->c, idx, LH_RULE(PACK_SAAS), p);
}

/* objstore: single deletions in mc, s3cmd, azcopy (trees are storage.delete-tree); b2. */
static void objstore(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[8];
    int n = verbs(cmd, ops, 8);
    if (n < 1 || dry(cmd)) return;
    const char *p = cmd->prog, *v = cmd->argv[ops[0]].s;
    int rec = lh_has_opt(cmd, 'r', "--recursive");
    if (!strcmp(p, "b2")) {
        int bucket = !strcmp(v, "delete-bucket") || (!strcmp(v, "bucket") && hasVerb(cmd, ops, n, "delete"));
        if (bucket || (!strcmp(v, "rm") && rec)) { lh_emit(s->c, idx, LH_RULE(PACK_OBJSTORE_WIPE), v); return; }
        if (!strcmp(v, "rm") || !strcmp(v, "delete-file-version") || !strcmp(v, "hide-file") ||
            (!strcmp(v, "file") && hasVerb(cmd, ops, n, "hide")))
            lh_emit(s->c, idx, LH_RULE(PACK_OBJSTORE), v);
        return;
    }
    if (rec) return;
    if ((!strcmp(p, "mc") && !strcmp(v, "rm")) || (!strcmp(p, "s3cmd") && (!strcmp(v, "del") || !strcmp(v, "rm"))) ||
        (!strcmp(p, "azcopy") && !strcmp(v, "remove")))
        lh_emit(s->c, idx, LH_RULE(PACK_OBJSTORE), n > 1 ? cmd->argv[ops[1]].s : v);
}

/* backup: borg delete / prune, restic forget / prune */
static void backup(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "r", (const char *const[]){"--repo", "--password-file", "--repository-file",
                                                           "--cache-dir", NULL},
                        ops, 4);
    if (n < 1 || dry(cmd) || lh_has_opt(cmd, 'n', NULL)) return;
    const char *v = cmd->argv[ops[0]].s;
    if (!strcmp(v, "delete") || !strcmp(v, "prune") || !strcmp(v, "forget"))
        lh_emit(s->c, idx, LH_RULE(PACK_BACKUP), v);
}

/* brokers: nats stream/consumer/kv rm, rabbitmqctl delete_queue/reset, rpk topic delete */
static void brokers(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[6];
    int n = verbs(cmd, ops, 6);
    if (n < 1) return;
    const char *p = cmd->prog, *v = cmd->argv[ops[0]].s;
    int hit = 0;
    if (!strcmp(p, "rabbitmqctl")) {
        static const char *const bad[] = {"delete_queue", "delete_vhost", "reset", "force_reset", "purge_queue",
                                          "delete_user", NULL};
        for (int i = 0; bad[i]; i++) hit |= !strcmp(v, bad[i]);
    } else if (!strcmp(p, "rabbitmqadmin")) {
        hit = !strcmp(v, "delete") || !strcmp(v, "purge");
    } else {   /* nats, rpk */
        hit = hasVerb(cmd, ops, n, "rm") || hasVerb(cmd, ops, n, "delete") || hasVerb(cmd, ops, n, "del") ||
              hasVerb(cmd, ops, n, "purge");
    }
    if (hit) lh_emit(s->c, idx, LH_RULE(PACK_BROKERS), v);
}

/* secrets: doppler secrets/configs/projects/environments delete, infisical secrets delete */
static void secrets(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = verbs(cmd, ops, 4);
    if (n >= 2 && (!strcmp(cmd->argv[ops[1]].s, "delete") || !strcmp(cmd->argv[ops[1]].s, "rm")))
        lh_emit(s->c, idx, LH_RULE(PACK_SECRETS), cmd->argv[ops[0]].s);
}

/* disk: btrfs subvolume delete (also "btrfs sub del") */
static void disk(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = verbs(cmd, ops, 4);
    if (n >= 2 && !strncmp(cmd->argv[ops[0]].s, "sub", 3) && !strncmp(cmd->argv[ops[1]].s, "del", 3))
        lh_emit(s->c, idx, LH_RULE(PACK_DISK), n > 2 ? cmd->argv[ops[2]].s : "subvolume");
}

typedef struct pentry {
    const char *name;
    an_fn fn;
} pentry;

/* Sorted by name (strcmp order); test_analyzers checks the order. */
static const pentry kPacks[] = {
    {"azcopy", objstore},      {"b2", objstore},     {"borg", backup},      {"btrfs", disk},
    {"doppler", secrets},      {"gitlab-rails", saas}, {"infisical", secrets}, {"mc", objstore},
    {"nats", brokers},         {"rabbitmqadmin", brokers}, {"rabbitmqctl", brokers}, {"restic", backup},
    {"rpk", brokers},          {"s3cmd", objstore},  {"stripe", saas},      {"wrangler", saas},
};
#define NPACKS ((int)(sizeof(kPacks) / sizeof(kPacks[0])))

int an_packs_table_sorted(void) {
    for (int i = 1; i < NPACKS; i++)
        if (strcmp(kPacks[i - 1].name, kPacks[i].name) >= 0) return 0;
    return 1;
}

void an_packs_dispatch(an_state *s, int idx, const lh_cmd *view) {
    int lo = 0, hi = NPACKS - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(view->prog, kPacks[mid].name);
        if (c == 0) { kPacks[mid].fn(s, idx, view); return; }
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
}
