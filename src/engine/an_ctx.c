/* an_ctx.c — context that makes an everyday call safe (issue 11 part 9).
 *
 * - Test and dev databases are not production: a wipe (db.drop, db.truncate,
 *   db.delete-all, db.update-all, db.flushall, db.reset) is dropped when the command
 *   names a test or dev database (a name ending in _test, _testing, _dev, _development;
 *   RAILS_ENV/NODE_ENV/RACK_ENV/APP_ENV/MIX_ENV… = test or development, on the command
 *   or exported earlier in the script; Django settings whose last dotted part is test,
 *   testing or tests; a database file named test/dev: db/test.sqlite3, dev.db) and no
 *   remote host (only loopback, or a one-label docker-compose service name), and
 *   nothing in it says "prod".
 * - Caches under home (~/.cache/X, ~/.npm/_cacache, ~/.gradle/caches, ~/Library/Caches/X,
 *   Xcode's DerivedData) are rebuilt on demand: deleting them is everyday work.
 * - A project .env made from its example (cp .env.example .env, cat .env.example > .env)
 *   or appended to (>> .env) is the documented setup step, not a secret overwrite.
 * - bash -n, sh -n, zsh -n only parse the script. */
#include <assert.h>
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
    /* a database file: db/test.sqlite3, dev.db, app-test.duckdb */
    static const char *const ext[] = {".sqlite3", ".sqlite", ".db", ".duckdb", NULL};
    int file = 0;
    for (int k = 0; ext[k] && !file; k++)
        if (endsWithI(b, n, ext[k])) { n -= strlen(ext[k]); file = 1; }
    for (int k = 0; suf[k]; k++)
        if (endsWithI(b, n, suf[k])) return 1;
    if (file) {
        static const char *const stem[] = {"test", "testing", "dev", "development", NULL};
        for (int k = 0; stem[k]; k++) {
            size_t l = strlen(stem[k]);
            if (endsWithI(b, n, stem[k]) && (n == l || b[n - l - 1] == '-' || b[n - l - 1] == '.'))
                return 1;
        }
    }
    return 0;
}

/* Django settings named for tests: DJANGO_SETTINGS_MODULE=app.settings.test, or
 * --settings=config.settings.testing (the last dotted part is test, testing or tests). */
static int djangoTestSettings(const char *v) {
    const char *dot = strrchr(v, '.');
    const char *last = dot ? dot + 1 : v;
    return an_ieq(last, "test") || an_ieq(last, "testing") || an_ieq(last, "tests") ||
           testDbName(last);
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
    if (eq && (!strncmp(w, "DJANGO_SETTINGS_MODULE=", 23) || !strncmp(w, "--settings=", 11)))
        return djangoTestSettings(eq + 1);
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
        else if (s->vars[v].cmd < idx && s->vars[v].nlen == 22 &&
                 !memcmp(s->vars[v].name, "DJANGO_SETTINGS_MODULE", 22) && djangoTestSettings(s->vars[v].val))
            test = 1;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        assert(a); /* lh_word.s is never NULL (shell.h) */
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

/* ------------------------------------------------------------------------------ */
/* Caches under home                                                               */
/* ------------------------------------------------------------------------------ */

/* Is the normalised path norm inside a tool cache under home? The cache directory
 * itself (~/.cache) is not: other state lives beside the caches there. */
int an_ctx_home_cache(const lh_ctx *c, const char *norm) {
    if (!c->home || strncmp(norm, c->home, c->home_len) || norm[c->home_len] != '/') return 0;
    const char *rel = norm + c->home_len + 1;
    /* below: the root must be followed by "/X" (X not empty); at: the root itself too */
    static const char *const below[] = {".cache", "Library/Caches", NULL};
    static const char *const at[] = {".npm/_cacache", ".npm/_npx", ".gradle/caches", ".yarn/berry/cache",
                                     ".cargo/registry/cache", "Library/Developer/Xcode/DerivedData",
                                     NULL};
    if (strstr(rel, "/../") || strstr(rel, "/./")) return 0;
    for (int k = 0; below[k]; k++) {
        size_t l = strlen(below[k]);
        if (!strncmp(rel, below[k], l) && rel[l] == '/' && rel[l + 1] && rel[l + 1] != '/') return 1;
    }
    for (int k = 0; at[k]; k++) {
        size_t l = strlen(at[k]);
        if (!strncmp(rel, at[k], l) && (rel[l] == 0 || (rel[l] == '/' && rel[l + 1]))) return 1;
    }
    return 0;
}
