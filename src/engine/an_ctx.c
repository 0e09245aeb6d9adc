/* an_ctx.c — context that makes an everyday call safe (issue 11 part 9).
 *
 * - Test and dev databases are not production: a wipe (db.drop, db.truncate,
 *   db.delete-all, db.update-all, db.flushall, db.reset) is dropped when the command
 *   names a test or dev database (a name ending in _test, _testing, _dev, _development;
 *   RAILS_ENV/NODE_ENV/RACK_ENV/APP_ENV/MIX_ENV… = test or development, on the command
 *   or exported earlier in the script) and no remote host (only loopback, or a
 *   one-label docker-compose service name), and nothing in it says "prod".
 * - A project .env made from its example (cp .env.example .env, cat .env.example > .env)
 *   or appended to (>> .env) is the documented setup step, not a secret overwrite.
 * - bash -n, sh -n, zsh -n only parse the script. */
#include <string.h>

#include "engine/an_common.h"

/* ------------------------------------------------------------------------------ */
/* Test databases                                                                  */
/* ------------------------------------------------------------------------------ */

static int isWipeRule(const char *r) {
    static const char *const ids[] = {"db.drop", "db.truncate", "db.delete-all", "db.update-all",
                                      "db.flushall", "db.reset", NULL};
    for (int k = 0; ids[k]; k++)
        if (!strcmp(r, ids[k])) return 1;
    return 0;
}

static int endsWithI(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    if (n < k) return 0;
    for (size_t i = 0; i < k; i++) {
        char c = s[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suf[i]) return 0;
    }
    return 1;
}

/* "app_test", "--dbname=app_dev", "postgres://h/app_test?sslmode=off" */
static int testDbName(const char *w) {
    if (strchr(w, ' ')) return 0;
    const char *b = strrchr(w, '=');
    b = b ? b + 1 : w;
    const char *sl = strrchr(b, '/');
    if (sl) b = sl + 1;
    size_t n = strcspn(b, "?#");
    static const char *const suf[] = {"_test", "_testing", "_dev", "_development", NULL};
    for (int k = 0; suf[k]; k++)
        if (endsWithI(b, n, suf[k])) return 1;
    return 0;
}

static int envName(const char *name, size_t n) {
    static const char *const names[] = {"RAILS_ENV", "RACK_ENV", "NODE_ENV", "APP_ENV", "MIX_ENV",
                                        "FLASK_ENV", "DJANGO_ENV", "ENVIRONMENT", NULL};
    for (int k = 0; names[k]; k++)
        if (strlen(names[k]) == n && !memcmp(names[k], name, n)) return 1;
    return 0;
}

static int testEnvValue(const char *v) {
    return an_ieq(v, "test") || an_ieq(v, "testing") || an_ieq(v, "development") || an_ieq(v, "dev");
}

/* NAME=value naming a test environment */
static int testEnvWord(const char *w) {
    const char *eq = strchr(w, '=');
    return eq && eq > w && envName(w, (size_t)(eq - w)) && testEnvValue(eq + 1);
}

/* A host word that is not this machine or a compose service. */
static int remoteHostWord(const char *h) {
    char buf[256];
    const char *host = strstr(h, "://") ? an_url_host(h, buf, sizeof(buf)) : h;
    if (an_is_loopback_host(host)) return 0;
    return strchr(host, '.') != NULL || strchr(host, ':') != NULL || an_istr(host, "prod") != NULL;
}

static int commandIsTestDb(an_state *s, int idx, const lh_cmd *cmd) {
    int test = 0;
    for (int i = 0; i < cmd->nassigns; i++)
        if (testEnvWord(cmd->assigns[i].s)) test = 1;
    for (int v = 0; v < s->nvars; v++)
        if (s->vars[v].cmd < idx && envName(s->vars[v].name, s->vars[v].nlen) && testEnvValue(s->vars[v].val))
            test = 1;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (an_istr(a, "prod")) return 0;
        if (testEnvWord(a) || testDbName(a)) test = 1;
        const char *host = NULL;
        if ((!strcmp(a, "-h") || !strcmp(a, "--host") || !strcmp(a, "--hostname")) && i + 1 < cmd->argc)
            host = cmd->argv[i + 1].s;
        else if (!strncmp(a, "--host=", 7)) host = a + 7;
        else if (!strncmp(a, "-h", 2) && a[2] && strcmp(cmd->prog, "mysql") == 0) host = a + 2;
        else if (strstr(a, "://") && !strchr(a, ' ')) host = a;
        if (host && remoteHostWord(host)) return 0;
    }
    return test;
}

void an_ctx_test_db(an_state *s, int idx, const lh_cmd *cmd, int from) {
    lh_ctx *c = s->c;
    int any = 0;
    for (int k = from; k < c->nfindings; k++)
        if (c->findings[k].cmd == idx && c->findings[k].rule && isWipeRule(c->findings[k].rule)) any = 1;
    if (!any || !commandIsTestDb(s, idx, cmd)) return;
    int o = from;
    for (int k = from; k < c->nfindings; k++) {
        const lh_finding *f = &c->findings[k];
        if (f->cmd == idx && f->rule && isWipeRule(f->rule)) continue;
        c->findings[o++] = *f;
    }
    c->nfindings = o;
}

/* ------------------------------------------------------------------------------ */
/* .env from its example                                                           */
/* ------------------------------------------------------------------------------ */

/* A project env file (.env, .env.local…), which paths.c counts as credentials. */
static int projectEnvFile(an_state *s, int idx, const char *text) {
    lh_path p;
    if (an_path(s, idx, text, &p) != LH_PATH_SECRET || !(p.flags & LH_PF_IN_PROJECT)) return 0;
    const char *b = strrchr(p.norm, '/');
    b = b ? b + 1 : p.norm;
    return !strncmp(b, ".env", 4) && !an_self_path(s->c, &p);
}

/* .env.example, .env.sample, .env.template…: documentation (not credentials). */
static int envExample(an_state *s, int idx, const char *text) {
    lh_path p;
    if (an_path(s, idx, text, &p) == LH_PATH_SECRET || !(p.flags & LH_PF_IN_PROJECT)) return 0;
    const char *b = strrchr(p.norm, '/');
    b = b ? b + 1 : p.norm;
    return !strncmp(b, ".env.", 5);
}

int an_ctx_env_copy(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int n, const char *dest) {
    if (n < 1 || !projectEnvFile(s, idx, dest)) return 0;
    for (int k = 0; k < n; k++)
        if (!envExample(s, idx, cmd->argv[ops[k]].s)) return 0;
    return 1;
}

int an_ctx_env_redirect(an_state *s, int idx, const lh_cmd *cmd, const lh_redir *rd) {
    if (!projectEnvFile(s, idx, rd->target.s)) return 0;
    if (rd->op == LH_R_APPEND) return 1;
    if (rd->op != LH_R_OUT || strcmp(cmd->prog, "cat")) return 0;
    int ops[8];
    int n = an_operands(cmd, 1, "", NULL, ops, 8);
    if (n < 1) return 0;
    for (int k = 0; k < n; k++)
        if (!envExample(s, idx, cmd->argv[ops[k]].s)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Syntax checks                                                                   */
/* ------------------------------------------------------------------------------ */

int an_syntax_only(const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || !strcmp(a, "--") || !strcmp(a, "-")) return 0;
        if ((!strcmp(a, "-o") || !strcmp(a, "+o")) && i + 1 < cmd->argc) {
            if (!strcmp(cmd->argv[i + 1].s, "noexec")) return 1;
            i++;
            continue;
        }
        if (a[1] != '-' && strchr(a + 1, 'n')) return 1;
        if (a[1] != '-' && strchr(a + 1, 'c')) return 0;   /* -c CODE: CODE is not an option */
    }
    return 0;
}
