/* an_db.c — databases: SQL given to psql, mysql, sqlite3 and friends (-c, -e,
 * --execute, positional SQL, here-docs, here-strings, `echo … |`), Redis commands,
 * MongoDB shell code, the drop tools, and framework commands that reset a database.
 *
 * Wiping data (DROP, TRUNCATE, DELETE or UPDATE without WHERE, FLUSHALL,
 * dropDatabase, rails db:drop …) is denied wherever it runs. Other writes are
 * escalated when the server is remote or looks like production; local writes and
 * every read are allowed. The SQL reader is a small tokenizer, not a parser: it
 * skips strings, quoted identifiers and comments, splits statements on ';', and
 * looks at each statement's leading keywords and whether it has a real WHERE. */
#include <assert.h>
#include <string.h>

#include "engine/an_common.h"
#include "engine/unwrap.h"

#define SQL_DROP     0x01u
#define SQL_TRUNCATE 0x02u
#define SQL_DELALL   0x04u
#define SQL_UPDALL   0x08u
#define SQL_FLUSH    0x10u
#define SQL_WRITE    0x20u

typedef struct sql_verdict {
    unsigned flags;
    const char *what;        /* the statement that set the worst flag */
    size_t what_len;
} sql_verdict;

static int isWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int wordIs(const char *w, size_t n, const char *kw) {
    size_t l = strlen(kw);
    if (n != l) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 32);
        if (c != kw[i]) return 0;
    }
    return 1;
}

static void note(sql_verdict *v, unsigned f, const char *st, size_t n) {
    if (f > (v->flags & ~SQL_WRITE) || !v->what) {
        v->what = st;
        v->what_len = n;
    }
    v->flags |= f;
}

/* Is the text after WHERE always true ("1=1", "true", "1")? */
static int trivialWhere(const char *p, const char *end) {
    char buf[16];
    size_t n = 0;
    for (; p < end && n < sizeof(buf) - 1; p++) {
        if (*p == ';') break;
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') continue;
        buf[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
    }
    buf[n] = 0;
    static const char *const t[] = {"1=1", "true", "1", "0=0", "'1'='1'", "1<>0", "1!=0", "2>1", NULL};
    for (int k = 0; t[k]; k++) {
        size_t l = strlen(t[k]);
        if (n >= l && !strncmp(buf, t[k], l) && (n == l || !isWordChar(buf[l]) || buf[l] == 0)) {
            if (n == l) return 1;
            /* "1=1 limit 5", "true;" */
            if (!strncmp(buf + l, "limit", 5) || !strncmp(buf + l, "order", 5)) return 1;
        }
    }
    return 0;
}

/* Past a quoted string ('…', "…", `…`), a -- comment or a C-style block comment at p, or p
 * itself when none starts there. Both SQL scanners below use it, so a ';' inside any of
 * these never splits a statement. */
static const char *skipSqlNoise(const char *p, const char *end) {
    char c = *p;
    if (c == '\'' || c == '"' || c == '`') {
        p++;
        while (p < end && *p != c) p += (*p == '\\' && p + 1 < end) ? 2 : 1;
        return p < end ? p + 1 : end;
    }
    if (c == '-' && p + 1 < end && p[1] == '-') {
        while (p < end && *p != '\n') p++;
        return p;
    }
    if (c == '/' && p + 1 < end && p[1] == '*') {
        p += 2;
        while (p + 1 < end && !(p[0] == '*' && p[1] == '/')) p++;
        return p + 1 < end ? p + 2 : end;
    }
    return p;
}

/* Judge one statement [st, end). */
static void judgeStatement(sql_verdict *v, const char *st, const char *end) {
    const char *w[4];
    size_t wl[4];
    int nw = 0, where = 0, trivial = 0;
    int depth = 0;
    const char *p = st;
    while (p < end) {
        char c = *p;
        const char *after = skipSqlNoise(p, end);
        if (after != p) { p = after; continue; }
        if (c == '$' && p + 1 < end && (p[1] == '$' || isWordChar(p[1]))) {
            /* $$ … $$ or $tag$ … $tag$ body */
            const char *t = p + 1;
            while (t < end && isWordChar(*t)) t++;
            if (t < end && *t == '$') {
                size_t tl = (size_t)(t - p + 1);
                const char *q = t + 1;
                while (q + tl <= end && memcmp(q, p, tl)) q++;
                p = q + tl;
                continue;
            }
        }
        if (c == '(') depth++;
        if (c == ')') depth--;
        if (isWordChar(c)) {
            const char *ws = p;
            while (p < end && isWordChar(*p)) p++;
            size_t n = (size_t)(p - ws);
            if (nw < 4) { w[nw] = ws; wl[nw] = n; nw++; }
            if (wordIs(ws, n, "WHERE")) {
                where = 1;
                trivial = trivialWhere(p, end);
            }
            continue;
        }
        p++;
    }
    if (nw == 0) return;
    size_t sl = (size_t)(end - st);
    int k = 0;
    if (wordIs(w[0], wl[0], "WITH")) {
        /* WITH … DELETE/UPDATE: look at the first write keyword */
        for (const char *q = st; q < end; q++)
            if (isWordChar(*q) && (q == st || !isWordChar(q[-1]))) {
                const char *e = q;
                while (e < end && isWordChar(*e)) e++;
                if (wordIs(q, (size_t)(e - q), "DELETE") || wordIs(q, (size_t)(e - q), "UPDATE") ||
                    wordIs(q, (size_t)(e - q), "INSERT")) {
                    w[0] = q;
                    wl[0] = (size_t)(e - q);
                    break;
                }
                q = e;
            }
    }
    const char *a = w[k];
    size_t al = wl[k];
    int real_where = where && !trivial;
    if (wordIs(a, al, "DROP")) {
        const char *b = nw > 1 ? w[1] : "";
        size_t bl = nw > 1 ? wl[1] : 0;
        if (wordIs(b, bl, "TABLE") || wordIs(b, bl, "DATABASE") || wordIs(b, bl, "SCHEMA") ||
            wordIs(b, bl, "KEYSPACE") || wordIs(b, bl, "OWNED") || wordIs(b, bl, "COLLECTION") ||
            wordIs(b, bl, "TABLES"))
            note(v, SQL_DROP, st, sl);
        else note(v, SQL_WRITE, st, sl);
    } else if (wordIs(a, al, "TRUNCATE")) {
        note(v, SQL_TRUNCATE, st, sl);
    } else if (wordIs(a, al, "DELETE")) {
        note(v, real_where ? SQL_WRITE : SQL_DELALL, st, sl);
    } else if (wordIs(a, al, "UPDATE")) {
        note(v, real_where ? SQL_WRITE : SQL_UPDALL, st, sl);
    } else if (wordIs(a, al, "FLUSHALL") || wordIs(a, al, "FLUSHDB")) {
        note(v, SQL_FLUSH, st, sl);
    } else if (wordIs(a, al, "INSERT") || wordIs(a, al, "ALTER") || wordIs(a, al, "CREATE") ||
               wordIs(a, al, "GRANT") || wordIs(a, al, "REVOKE") || wordIs(a, al, "REPLACE") ||
               wordIs(a, al, "MERGE") || wordIs(a, al, "UPSERT") || wordIs(a, al, "RENAME") ||
               wordIs(a, al, "COPY") || wordIs(a, al, "LOAD") || wordIs(a, al, "CALL") ||
               wordIs(a, al, "EXEC") || wordIs(a, al, "EXECUTE") || wordIs(a, al, "COMMENT") ||
               wordIs(a, al, "REINDEX") || wordIs(a, al, "CLUSTER") || wordIs(a, al, "VACUUM")) {
        note(v, SQL_WRITE, st, sl);
    }
}

static void scanSql(sql_verdict *v, const char *sql, size_t len) {
    const char *p = sql, *end = sql + len, *st = sql;
    while (p < end) {
        char c = *p;
        const char *after = skipSqlNoise(p, end);
        if (after != p) { p = after; continue; }
        if (c == ';') {
            judgeStatement(v, st, p);
            st = p + 1;
        }
        p++;
    }
    if (st < end) judgeStatement(v, st, end);
}

/* MongoDB shell code. */
static void scanMongo(sql_verdict *v, const char *js, size_t len) {
    char buf[4096];
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof(buf) - 1; i++)
        if (js[i] != ' ' && js[i] != '\t' && js[i] != '\n') buf[n++] = js[i];
    buf[n] = 0;
    if (strstr(buf, ".dropDatabase(") || strstr(buf, ".drop()") || strstr(buf, "dropCollection"))
        note(v, SQL_DROP, js, len);
    if (strstr(buf, ".deleteMany({})") || strstr(buf, ".deleteMany()") || strstr(buf, ".remove({})") ||
        strstr(buf, ".remove()"))
        note(v, SQL_DELALL, js, len);
    if (strstr(buf, ".updateMany({},")) note(v, SQL_UPDALL, js, len);
    static const char *const w[] = {".insert", ".update", ".delete", ".replaceOne", ".createCollection",
                                    ".createIndex", ".dropIndex", ".renameCollection", ".bulkWrite",
                                    ".findOneAndUpdate", ".findOneAndDelete", ".remove(", "createUser",
                                    "dropUser", ".save(", NULL};
    for (int k = 0; w[k]; k++)
        if (strstr(buf, w[k])) { note(v, SQL_WRITE, js, len); break; }
}

/* Redis commands (one per line, or argv joined). */
/* After "CONFIG": is the subcommand GET or HELP? */
static int configReads(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    const char *ws = p;
    while (p < end && isWordChar(*p)) p++;
    return wordIs(ws, (size_t)(p - ws), "GET") || wordIs(ws, (size_t)(p - ws), "HELP");
}

static void scanRedis(sql_verdict *v, const char *text, size_t len) {
    const char *p = text, *end = text + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';')) p++;
        const char *ws = p;
        while (p < end && isWordChar(*p)) p++;
        size_t n = (size_t)(p - ws);
        if (wordIs(ws, n, "FLUSHALL") || wordIs(ws, n, "FLUSHDB")) note(v, SQL_FLUSH, ws, n);
        else if (wordIs(ws, n, "CONFIG") && configReads(p, end)) { /* CONFIG GET / HELP: a read */ }
        else if (wordIs(ws, n, "SHUTDOWN") || wordIs(ws, n, "CONFIG") || wordIs(ws, n, "DEBUG") ||
                 wordIs(ws, n, "DEL") || wordIs(ws, n, "UNLINK") || wordIs(ws, n, "SET") ||
                 wordIs(ws, n, "HSET") || wordIs(ws, n, "EXPIRE") || wordIs(ws, n, "SLAVEOF") ||
                 wordIs(ws, n, "REPLICAOF") || wordIs(ws, n, "MIGRATE") || wordIs(ws, n, "RENAME"))
            note(v, SQL_WRITE, ws, n);
        while (p < end && *p != '\n') p++;
        if (p == ws) p++;
    }
}

/* ------------------------------------------------------------------------------ */
/* Where the SQL and the server come from                                          */
/* ------------------------------------------------------------------------------ */

static int looksProd(const char *s) {
    return an_istr(s, "prod") != NULL || an_istr(s, "live") != NULL;
}

/* Is a host, URL or connection word remote or production? */
static int remoteWord(const char *w) {
    if (!w || !*w) return 0;
    if (looksProd(w)) return 1;
    if (w[0] == '$') return 0;   /* unknown: do not guess */
    char host[256];
    if (strstr(w, "://")) return !an_is_loopback_host(an_url_host(w, host, sizeof(host)));
    if (strstr(w, "host=")) {
        const char *h = strstr(w, "host=") + 5;
        size_t n = strcspn(h, " ");
        if (n >= sizeof(host)) return 1;
        memcpy(host, h, n);
        host[n] = 0;
        return !an_is_loopback_host(host);
    }
    return 0;
}

static int remoteHost(const char *h) {
    if (!h || !*h) return 0;
    if (looksProd(h)) return 1;
    if (h[0] == '$' || h[0] == '/') return 0;   /* a variable, or a unix socket dir */
    return !an_is_loopback_host(h);
}

/* A database client run on a remote host (ssh host psql …), in the cluster
 * (kubectl exec … psql) or in a container named like production. */
static int viaRemoteParent(an_state *s, int idx) {
    const lh_script *sc = s->c->script;
    int cur = an_at(s, idx)->parent;
    for (int hop = 0; hop < 8 && cur >= 0; hop++) {
        const lh_cmd *p = &sc->cmds[cur];
        if (!strcmp(p->prog, "ssh")) return 1;
        if ((!strcmp(p->prog, "kubectl") || !strcmp(p->prog, "oc")) && an_has_word(p, 1, "exec")) return 1;
        if ((!strcmp(p->prog, "docker") || !strcmp(p->prog, "podman")) && an_has_word(p, 1, "exec"))
            for (int i = 2; i < p->argc; i++)
                if (p->argv[i].s[0] != '-' && looksProd(p->argv[i].s)) return 1;
        cur = p->parent;
    }
    return 0;
}

static void report(an_state *s, int idx, const sql_verdict *v, int remote) {
    if (v->flags == SQL_WRITE && !remote && idx >= 0) remote = viaRemoteParent(s, idx);
    if (!v->flags) return;
    size_t sl = v->what_len > 80 ? 80 : v->what_len;
    if (v->what) while (sl < v->what_len && sl > 0 && ((unsigned char)v->what[sl] & 0xC0) == 0x80) sl--;  /* whole UTF-8 */
    char *subj = v->what ? lh_arena_strndup(s->c->arena, v->what, sl) : NULL;
    if (subj) {
        /* trim leading blanks */
        while (*subj == ' ' || *subj == '\n' || *subj == '\t') subj++;
    }
    lh_ctx *c = s->c;
    if (v->flags & SQL_FLUSH) lh_emit(c, idx, LH_RULE(DB_FLUSHALL), subj);
    else if (v->flags & SQL_DROP) lh_emit(c, idx, LH_RULE(DB_DROP), subj);
    else if (v->flags & SQL_TRUNCATE) lh_emit(c, idx, LH_RULE(DB_TRUNCATE), subj);
    else if (v->flags & SQL_DELALL) lh_emit(c, idx, LH_RULE(DB_DELETE_ALL), subj);
    else if (v->flags & SQL_UPDALL) lh_emit(c, idx, LH_RULE(DB_UPDATE_ALL), subj);
    else if ((v->flags & SQL_WRITE) && remote) lh_emit(c, idx, LH_RULE(DB_REMOTE_WRITE), subj);
}

/* The value of any of the listed options (exact words or "opt=value"). */
static const char *optAny(const lh_cmd *cmd, const char *const *names) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        for (int k = 0; names[k]; k++) {
            size_t l = strlen(names[k]);
            if (!strncmp(a, names[k], l)) {
                if (a[l] == 0) return i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL;
                if (a[l] == '=') return a + l + 1;
                if (names[k][1] != '-' && l == 2) return a + l;   /* -hhost, -cSQL */
            }
        }
    }
    return NULL;
}

void an_db_sql(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    sql_verdict v = {0};
    int remote = 0;
    int sqlite = !strcmp(p, "sqlite3") || !strcmp(p, "sqlite") || !strcmp(p, "duckdb");
    if (sqlite) {
        int ops[16];
        int n = an_operands(cmd, 1, "", (const char *const[]){"-cmd", "-separator", "-nullvalue", "-init",
                                                               "-newline", NULL}, ops, 16);
        for (int k = 1; k < n; k++) scanSql(&v, cmd->argv[ops[k]].s, cmd->argv[ops[k]].len);
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-cmd")) scanSql(&v, cmd->argv[i + 1].s, cmd->argv[i + 1].len);
    } else {
        /* -c / -e / --command / --execute / --query / -q / -Q, possibly several */
        static const char *const sqlopts[] = {"-c", "--command", "-e", "--execute", "--query", "-q", "-Q", NULL};
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            assert(a); /* lh_word.s is never NULL (shell.h) */
            for (int k = 0; sqlopts[k]; k++) {
                size_t l = strlen(sqlopts[k]);
                if (strncmp(a, sqlopts[k], l)) continue;
                const char *sql = NULL;
                if (a[l] == 0 && i + 1 < cmd->argc) sql = cmd->argv[i + 1].s;
                else if (a[l] == '=') sql = a + l + 1;
                else if (l == 2 && a[l]) sql = a + l;
                if (sql) scanSql(&v, sql, strlen(sql));
                break;
            }
        }
        static const char *const hosts[] = {"-h", "--host", "-S", "--server", "--url", NULL};
        remote = remoteHost(optAny(cmd, hosts));
        static const char *const dbs[] = {"-d", "--dbname", "-D", "--database", NULL};
        remote |= remoteWord(optAny(cmd, dbs)) || looksProd(optAny(cmd, dbs) ? optAny(cmd, dbs) : "");
        int ops[8];
        int n = an_operands(cmd, 1, "hpUdDcefPSquWvTo", NULL, ops, 8);
        for (int k = 0; k < n; k++) remote |= remoteWord(cmd->argv[ops[k]].s);
        if (!strcmp(p, "cqlsh") && n > 0) remote |= remoteHost(cmd->argv[ops[0]].s);
    }
    size_t len;
    const char *in = lh_stdin_text(s->c, idx, &len);
    if (in) scanSql(&v, in, len);
    report(s, idx, &v, remote);
}

void an_db_redis(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--user", "--pass", "--eval", "--pattern", "--count", "--cacert",
                                     "--cert", "--key", "--sni", "--rdb", "--functions-rdb", NULL};
    int ops[16];
    int n = an_operands(cmd, 1, "hpsaunridD", lo, ops, 16);
    sql_verdict v = {0};
    if (n > 0) {
        const char *w = cmd->argv[ops[0]].s;
        const char *w2 = n > 1 ? cmd->argv[ops[1]].s : "";
        if (!(an_ieq(w, "config") && (an_ieq(w2, "get") || an_ieq(w2, "help")))) scanRedis(&v, w, strlen(w));
    }
    size_t len;
    const char *in = lh_stdin_text(s->c, idx, &len);
    if (in) scanRedis(&v, in, len);
    const char *h = an_opt_value(cmd, 'h', NULL);
    const char *u = an_opt_value(cmd, 'u', NULL);
    int remote = remoteHost(h) || remoteWord(u);
    /* redis-cli --scan | xargs redis-cli del: deletes every key the scan matched */
    const lh_cmd *orig = an_at(s, idx);
    if ((orig->flags & LH_C_STDIN_ARGS) && n > 0 &&
        (an_ieq(cmd->argv[ops[0]].s, "del") || an_ieq(cmd->argv[ops[0]].s, "unlink"))) {
        const char *pat = NULL;
        const lh_script *sc = s->c->script;
        const lh_cmd *x = orig->parent >= 0 ? &sc->cmds[orig->parent] : orig;
        for (int j = AN_LO(orig->parent); j < AN_HI(orig->parent, sc->ncmds); j++) {
            const lh_cmd *up = &sc->cmds[j];
            if (up->pipeline == x->pipeline && up->pipe_pos == x->pipe_pos - 1 && up->parent == x->parent &&
                (!strcmp(up->prog, "redis-cli") || !strcmp(up->prog, "valkey-cli"))) {
                pat = an_opt_value(up, 0, "--pattern");
                if (!pat) {
                    for (int k = 1; k + 1 < up->argc; k++)
                        if (an_ieq(up->argv[k].s, "keys")) pat = up->argv[k + 1].s;
                }
                if (!pat && an_has_word(up, 1, "--scan")) pat = "*";
            }
        }
        if (pat && !strcmp(pat, "*")) note(&v, SQL_FLUSH, "DEL every key", 13);
        else note(&v, SQL_WRITE, "DEL keys read from stdin", 24);
    }
    report(s, idx, &v, remote);
}

void an_db_mongo(an_state *s, int idx, const lh_cmd *cmd) {
    sql_verdict v = {0};
    const char *code = an_opt_value(cmd, 0, "--eval");
    if (code) scanMongo(&v, code, strlen(code));
    size_t len;
    const char *in = lh_stdin_text(s->c, idx, &len);
    if (in) scanMongo(&v, in, len);
    int remote = 0;
    int ops[4];
    int n = an_operands(cmd, 1, "uph", (const char *const[]){"--eval", "--host", "--port", "--username",
                                                            "--password", "--authenticationDatabase", NULL},
                        ops, 4);
    for (int k = 0; k < n; k++) remote |= remoteWord(cmd->argv[ops[k]].s);
    remote |= remoteHost(an_opt_value(cmd, 0, "--host"));
    report(s, idx, &v, remote);
}

void an_db_admin(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (lh_has_opt(cmd, 0, "--help") || lh_has_opt(cmd, 0, "--version")) return;
    if (!strcmp(p, "dropdb")) { lh_emit(s->c, idx, LH_RULE(DB_DROP), "dropdb"); return; }
    /* mysqladmin [opts] drop DB | shutdown */
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (an_ieq(a, "drop")) { lh_emit(s->c, idx, LH_RULE(DB_DROP), "mysqladmin drop"); return; }
        if (an_ieq(a, "shutdown")) { lh_emit(s->c, idx, LH_RULE(DB_REMOTE_WRITE), "mysqladmin shutdown"); return; }
    }
}

/* SQL given as a tool argument (an MCP query tool's "sql"): judged as the text of psql -c
 * on a database the request does not name, so only what the statement does counts. */
void an_db_sql_text(lh_ctx *c, const char *sql) {
    an_state s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    sql_verdict v = {0};
    scanSql(&v, sql, strlen(sql));
    report(&s, -1, &v, 0);
}
