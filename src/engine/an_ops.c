/* an_ops.c — operations tools whose writes reach shared systems: configuration stores,
 * Kafka record deletion, Salt functions on minions, ports published on every interface
 * (docker/podman run -p 0.0.0.0:…, socat TCP-LISTEN without a loopback bind), and schema
 * migrations applied to production (db.remote-write).
 *
 * Called from an_data_dispatch() for every command view, after the data handlers, so a
 * program that has another handler (consul kv delete in an_data.c, salt cmd.run in
 * runners.c) keeps it; these only add findings. */
#include <assert.h>
#include <string.h>

#include "engine/an_common.h"

/* Is tok a word of text, with no letter or digit around it ("app/prod/x", "prod-eu")? */
static int hasWord(const char *text, const char *tok) {
    size_t tl = strlen(tok);
    for (const char *p = an_istr(text, tok); p; p = an_istr(p + 1, tok)) {
        char b = p > text ? p[-1] : 0, a = p[tl];
        int bw = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
        int aw = (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z') || (a >= '0' && a <= '9');
        if (!bw && !aw) return 1;
    }
    return 0;
}

static int looksProd(const char *w) {
    return w && (hasWord(w, "prod") || hasWord(w, "production") || hasWord(w, "prd"));
}

/* ------------------------------------------------------------------------------ */
/* Configuration stores                                                            */
/* ------------------------------------------------------------------------------ */

/* Does any argument (key, endpoint, address) name production? */
static int anyProd(const lh_cmd *cmd, int from) {
    for (int i = from; i < cmd->argc; i++)
        if (looksProd(cmd->argv[i].s)) return 1;
    return 0;
}

/* consul kv put|import KEY…: a write of a production key or to a production agent. */
static void consulWrite(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[3];
    int n = an_operands(cmd, 1, "", NULL, ops, 3);
    if (n < 2 || strcmp(cmd->argv[ops[0]].s, "kv")) return;
    const char *v = cmd->argv[ops[1]].s;
    if (strcmp(v, "put") && strcmp(v, "import")) return;
    if (anyProd(cmd, ops[1] + 1) || anyProd(cmd, 1))
        lh_emit(s->c, idx, LH_RULE(DATA_PROD_CONFIG), n > 2 ? cmd->argv[ops[2]].s : v);
}

/* etcdctl put|txn KEY…, same test. */
static void etcdWrite(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--endpoints", "--cacert", "--cert", "--key", "--user", "--password",
                                     "--command-timeout", "--dial-timeout", "--write-out", NULL};
    int ops[3];
    int n = an_operands(cmd, 1, "w", lo, ops, 3);
    if (n < 1 || (strcmp(cmd->argv[ops[0]].s, "put") && strcmp(cmd->argv[ops[0]].s, "txn"))) return;
    if (anyProd(cmd, 1)) lh_emit(s->c, idx, LH_RULE(DATA_PROD_CONFIG), n > 1 ? cmd->argv[ops[1]].s : "txn");
}

/* kafka-delete-records deletes every record before the given offsets. */
static void kafkaDeleteRecords(an_state *s, int idx, const lh_cmd *cmd) {
    const char *f = an_opt_value(cmd, 0, "--offset-json-file");
    lh_emit(s->c, idx, LH_RULE(DATA_WIPE), f ? f : cmd->prog);
}

/* ------------------------------------------------------------------------------ */
/* Salt                                                                            */
/* ------------------------------------------------------------------------------ */

/* A Salt function that only reads: a read-only module or a read-like function name. */
static int saltReads(const char *f) {
    static const char *const mods[] = {"test", "grains", "status", "sys", "disk", "network", NULL};
    static const char *const verbs[] = {"list", "get", "show", "status", "info", "items", "item",
                                        "version", "versions", "ping", "available", "running", "doc",
                                        "usage", "ls", "stats", "check", "search", "is", NULL};
    const char *dot = strchr(f, '.');
    if (!dot) return 0;
    size_t ml = (size_t)(dot - f);
    for (int k = 0; mods[k]; k++)
        if (strlen(mods[k]) == ml && !strncmp(f, mods[k], ml)) return 1;
    const char *fn = dot + 1;
    for (int k = 0; verbs[k]; k++) {
        size_t l = strlen(verbs[k]);
        if (!strncmp(fn, verbs[k], l) && (fn[l] == 0 || fn[l] == '_')) return 1;
    }
    return 0;
}

/* salt TARGET FUNCTION [ARGS], salt-ssh TARGET FUNCTION, salt-call FUNCTION. cmd.* is
 * runners.c's (it parses the command run); test=True is a dry run. */
static void salt(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--timeout", "--batch-size", "--batch", "--config-dir", "--out",
                                     "--return", "--log-level", "--output", "--state-output",
                                     "--eauth", "--roster-file", "--user", "--priv", NULL};
    int ops[3];
    int n = an_operands(cmd, 1, "tbcla", lo, ops, 3);
    int fi = strcmp(cmd->prog, "salt-call") ? 1 : 0;
    if (n <= fi) return;
    const char *f = cmd->argv[ops[fi]].s;
    if (!strchr(f, '.') || !strncmp(f, "cmd.", 4) || saltReads(f)) return;
    for (int i = ops[fi] + 1; i < cmd->argc; i++)
        if (an_istarts(cmd->argv[i].s, "test=true")) return;
    lh_emit(s->c, idx, LH_RULE(INFRA_SALT), f);
}

/* ------------------------------------------------------------------------------ */
/* Ports on every interface                                                        */
/* ------------------------------------------------------------------------------ */

/* docker|podman run|create -p|--publish 0.0.0.0:H:C ([::]:H:C): explicitly every
 * interface. A plain -p H:C is everyday container work and stays allowed. */
static void publishAll(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[2];
    int n = an_operands(cmd, 1, "", (const char *const[]){"--context", "--host", "-H", "--config", NULL}, ops, 2);
    if (n < 1) return;
    const char *v = cmd->argv[ops[0]].s;
    if (!strcmp(v, "container") && n > 1) v = cmd->argv[ops[1]].s;
    if (strcmp(v, "run") && strcmp(v, "create")) return;
    for (int i = ops[0] + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s, *val = NULL;
        assert(a); /* lh_word.s is never NULL (shell.h) */
        if (!strcmp(a, "--")) break;
        if ((!strcmp(a, "-p") || !strcmp(a, "--publish")) && i + 1 < cmd->argc) val = cmd->argv[i + 1].s;
        else if (!strncmp(a, "--publish=", 10)) val = a + 10;
        else if (!strncmp(a, "-p", 2) && a[2]) val = a + 2;
        if (val && (!strncmp(val, "0.0.0.0:", 8) || !strncmp(val, "[::]:", 5) || !strncmp(val, ":::", 3))) {
            lh_emit(s->c, idx, LH_RULE(NET_EXPOSE), val);
            return;
        }
    }
}

/* socat TCP-LISTEN:PORT[,opts] …: a listener serves every interface unless bind= names
 * loopback. */
static void socatListen(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!an_istarts(a, "tcp-listen:") && !an_istarts(a, "tcp4-listen:") && !an_istarts(a, "tcp6-listen:") &&
            !an_istarts(a, "udp-listen:") && !an_istarts(a, "udp4-listen:") && !an_istarts(a, "udp6-listen:") &&
            !an_istarts(a, "openssl-listen:"))
            continue;
        const char *b = an_istr(a, ",bind=");
        char host[256];
        size_t hn = 0;
        if (b)
            for (b += 6; b[hn] && b[hn] != ',' && hn + 1 < sizeof(host); hn++) host[hn] = b[hn];
        host[hn] = 0;
        if (!b || !strcmp(host, "0.0.0.0") || !strcmp(host, "[::]") || !strcmp(host, "::") ||
            !an_is_loopback_host(host)) {
            lh_emit(s->c, idx, LH_RULE(NET_EXPOSE), a);
            return;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* Schema migrations on production                                                 */
/* ------------------------------------------------------------------------------ */

/* A command that applies schema migrations: rails db:migrate, knex migrate:latest,
 * prisma migrate deploy, manage.py migrate, alembic upgrade, flyway migrate… (not a
 * status or a dry run). */
static int appliesMigrations(const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int tool = !strcmp(p, "alembic") || !strcmp(p, "flyway") || !strcmp(p, "liquibase") ||
               !strcmp(p, "goose") || !strcmp(p, "dbmate");
    int verb = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (strstr(a, "status") || !strcmp(a, "--dry-run") || !strcmp(a, "--sql") || strstr(a, "rollback"))
            return 0;
        if (strstr(a, "migrate") || strstr(a, "migration:run")) verb = 1;
        if (tool && (!strcmp(a, "upgrade") || !strcmp(a, "update") || !strcmp(a, "up"))) verb = 1;
    }
    return verb;
}

/* DATABASE_URL=$PROD_DATABASE_URL, RAILS_ENV=production, env=prod, --env production:
 * on the command, in an argument, or assigned earlier in the script. */
static int prodTarget(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 0; i < cmd->nassigns; i++)
        if (looksProd(cmd->assigns[i].s)) return 1;
    for (int v = 0; v < s->nvars; v++)
        if (s->vars[v].cmd < idx && (hasWord(s->vars[v].val, "prod") || hasWord(s->vars[v].val, "production") ||
                                     hasWord(s->vars[v].val, "prd")))
            return 1;
    return anyProd(cmd, 1);
}

static void migrations(an_state *s, int idx, const lh_cmd *cmd) {
    if (appliesMigrations(cmd) && prodTarget(s, idx, cmd))
        lh_emit(s->c, idx, LH_RULE(DB_REMOTE_WRITE), "schema migration on production");
}

/* ------------------------------------------------------------------------------ */
/* Dispatch                                                                        */
/* ------------------------------------------------------------------------------ */

void an_ops_dispatch(an_state *s, int idx, const lh_cmd *view) {
    const char *p = view->prog;
    if (!strcmp(p, "consul")) consulWrite(s, idx, view);
    else if (!strcmp(p, "etcdctl")) etcdWrite(s, idx, view);
    else if (!strcmp(p, "kafka-delete-records") || !strcmp(p, "kafka-delete-records.sh")) kafkaDeleteRecords(s, idx, view);
    else if (!strcmp(p, "salt") || !strcmp(p, "salt-ssh") || !strcmp(p, "salt-call")) salt(s, idx, view);
    else if (!strcmp(p, "docker") || !strcmp(p, "podman")) publishAll(s, idx, view);
    else if (!strcmp(p, "socat")) socatListen(s, idx, view);
    migrations(s, idx, view);
}
