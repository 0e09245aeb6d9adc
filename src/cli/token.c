/* token.c — `lighthouse token create | revoke`: bearer tokens for the bridge.
 *
 * create prints the token alone on stdout, so scripts can capture it, and on stderr a line
 * LIGHTHOUSE_REPLY_KEY=<64 hex>: the token's reply key, for the hook to check that a reply
 * is the bridge's (util/replysig.h, docs/api.md "Reply keys"); issuing it is a
 * token.issued event and revoking it a token.revoked event in the store (a running bridge
 * sees the revocation within a fraction of a second). See src/bridge/auth.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge/auth.h"
#include "cli/cli.h"
#include "store/store.h"
#include "util/replysig.h"

static const char *usageText =
    "usage: lighthouse token create --agent NAME --role builder|expert|admin [--ttl DURATION] [--data DIR]\n"
    "                               [--store sqlite|postgres] [--pg CONNINFO]\n"
    "       lighthouse token revoke (--id TOKEN_ID | TOKEN) [--data DIR] [--store ...] [--pg ...]\n"
    "DURATION is a number with s, m, h or d (default 30d).\n"
    "create prints the token on stdout and its reply key for the hook on stderr, as a line\n"
    "LIGHTHOUSE_REPLY_KEY=<64 hex digits>.\n";

/* "90s" "15m" "12h" "30d" → seconds; -1 when malformed. */
static int64_t parseDuration(const char *s) {
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || n <= 0) return -1;
    long long mul = 1;
    if (*end == 's') end++;
    else if (*end == 'm') { mul = 60; end++; }
    else if (*end == 'h') { mul = 3600; end++; }
    else if (*end == 'd') { mul = 86400; end++; }
    if (*end || n > 3650LL * 86400 / mul) return -1;
    return n * mul;
}

typedef struct opts {
    const char *agent, *role, *ttl, *data, *store, *pg, *id, *token;
    int defaultData;          /* neither --data nor LIGHTHOUSE_DATA: say which dir was used */
} opts;

static int parseOpts(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof(*o));
    o->data = getenv("LIGHTHOUSE_DATA");
    if (!o->data || !*o->data) { o->data = "./lighthouse-data"; o->defaultData = 1; }
    o->store = getenv("LIGHTHOUSE_STORE");
    if (!o->store || !*o->store) o->store = "sqlite";
    o->pg = getenv("LIGHTHOUSE_PG");
    o->ttl = "30d";
    for (int i = 2; i < argc; i++) {
        const char **dst = NULL;
        if (!strcmp(argv[i], "--agent")) dst = &o->agent;
        else if (!strcmp(argv[i], "--role")) dst = &o->role;
        else if (!strcmp(argv[i], "--ttl")) dst = &o->ttl;
        else if (!strcmp(argv[i], "--data")) { dst = &o->data; o->defaultData = 0; }
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(usageText, stdout); return 1; }
        else if (!strcmp(argv[i], "--store")) dst = &o->store;
        else if (!strcmp(argv[i], "--pg")) dst = &o->pg;
        else if (!strcmp(argv[i], "--id")) dst = &o->id;
        else if (argv[i][0] != '-' && !o->token) { o->token = argv[i]; continue; }
        if (dst && i + 1 >= argc) {
            fprintf(stderr, "lighthouse token: %s needs a value\n%s", argv[i], usageText);
            return -1;
        }
        if (!dst) {
            fprintf(stderr, "lighthouse token: unexpected argument '%s'\n%s", argv[i], usageText);
            return -1;
        }
        *dst = argv[++i];
    }
    return 0;
}

static lh_store *openStore(const opts *o) {
    lh_store_options so = {0};
    char err[512];
    if (lh_store_backend_parse(o->store, &so.backend, err, sizeof(err))) {
        fprintf(stderr, "lighthouse token: %s\n", err);
        return NULL;
    }
    so.data_dir = o->data;
    so.conninfo = o->pg;
    if (o->defaultData && so.backend == LH_STORE_SQLITE) {
        char abs[4096];
        fprintf(stderr, "lighthouse token: no --data or LIGHTHOUSE_DATA; using the default data dir %s/lighthouse-data\n",
                getcwd(abs, sizeof(abs)) ? abs : ".");
    }
    mkdir(o->data, 0700);
    lh_store *st = lh_store_open(&so, err, sizeof(err));
    if (!st) fprintf(stderr, "lighthouse token: event store: %s\n", err);
    return st;
}

static int appendEvent(lh_store *st, const char *type, const char *agent, const char *tid, json_t *data) {
    char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(data);
    if (!text) { fprintf(stderr, "lighthouse token: out of memory\n"); return -1; }
    char aggregate[64], err[512];
    snprintf(aggregate, sizeof(aggregate), "token:%s", tid);
    lh_event ev = {0};
    ev.type = type;
    ev.agent = agent;
    ev.aggregate = aggregate;
    ev.data = text;
    int rc = lh_store_append(st, &ev, 1, NULL, err, sizeof(err));
    free(text);
    if (rc) fprintf(stderr, "lighthouse token: cannot record %s: %s\n", type, err);
    return rc;
}

static int create(int argc, char **argv) {
    opts o;
    int prc = parseOpts(argc, argv, &o);
    if (prc) return prc > 0 ? 0 : 2;
    lh_role role;
    if (!o.agent || !*o.agent) {
        fprintf(stderr, "lighthouse token create: --agent NAME is missing (the agent the token is for)\n%s", usageText);
        return 2;
    }
    if (!o.role) {
        fprintf(stderr, "lighthouse token create: --role is missing; the roles are builder, expert and admin\n%s", usageText);
        return 2;
    }
    if (lh_role_parse(o.role, &role)) {
        fprintf(stderr, "lighthouse token create: --role '%s' is not a role; the roles are builder, expert and admin\n", o.role);
        return 2;
    }
    if (strlen(o.agent) > LH_AUTH_NAME_MAX || !lh_store_utf8_valid(o.agent, strlen(o.agent))) {
        fprintf(stderr, "lighthouse token create: the agent name must be UTF-8 of at most %d bytes\n", LH_AUTH_NAME_MAX);
        return 2;
    }
    int64_t ttl = parseDuration(o.ttl);
    if (ttl < 0) { fprintf(stderr, "lighthouse token create: --ttl %s: want e.g. 90s, 15m, 12h or 30d\n", o.ttl); return 2; }
    char err[512];
    lh_store *st = openStore(&o);
    if (!st) return 2;
    unsigned char key[LH_AUTH_KEY_LEN];
    if (lh_auth_load_key(o.data, 1, key, err, sizeof(err))) {
        fprintf(stderr, "lighthouse token create: %s\n", err);
        lh_store_close(st);
        return 2;
    }
    lh_token_claims c = {0};
    snprintf(c.agent, sizeof(c.agent), "%s", o.agent);
    c.role = role;
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + ttl;
    char tok[LH_AUTH_TOKEN_MAX + 1];
    if (lh_auth_mint(key, &c, tok, sizeof(tok), err, sizeof(err))) {
        fprintf(stderr, "lighthouse token create: %s\n", err);
        lh_store_close(st);
        return 2;
    }
    json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:I}", "token_id", c.tid, "agent", c.agent, "role", lh_role_name(role),
                          "issued_ns", (json_int_t)c.iat * 1000000000, "expires_ns", (json_int_t)c.exp * 1000000000);
    int rc = appendEvent(st, "token.issued", c.agent, c.tid, d);
    lh_store_close(st);
    if (rc) return 1;   /* an unrecorded token is not handed out */
    unsigned char rk[32];
    char rkhex[65];
    lh_reply_key_of(key, c.tid, rk);
    lh_reply_key_hex(rk, rkhex);
    printf("%s\n", tok);
    fprintf(stderr, "token %s for agent %s (role %s) expires in %s\n", c.tid, c.agent, lh_role_name(role), o.ttl);
    fprintf(stderr, "LIGHTHOUSE_REPLY_KEY=%s\n", rkhex);
    return 0;
}

/* Was a token with this id ever issued here (a token.issued event under token:TID)?
 * 1 yes, 0 no, -1 the store could not say (err). */
static int tokenIssued(lh_store *st, const char *tid, char *err, size_t errlen) {
    char aggregate[64];
    snprintf(aggregate, sizeof(aggregate), "token:%s", tid);
    lh_store_filter f = {0};
    f.type = "token.issued";
    f.aggregate = aggregate;
    int64_t n = 0;
    if (lh_store_count(st, &f, &n, err, errlen)) return -1;
    return n > 0;
}

static int revokeToken(int argc, char **argv) {
    opts o;
    int prc = parseOpts(argc, argv, &o);
    if (prc) return prc > 0 ? 0 : 2;
    char tid[LH_AUTH_TID_LEN + 1];
    char err[512];
    if (o.id) {
        if (strlen(o.id) != LH_AUTH_TID_LEN) {
            fprintf(stderr, "lighthouse token revoke: a token id has %d hex characters\n", LH_AUTH_TID_LEN);
            return 2;
        }
        snprintf(tid, sizeof(tid), "%s", o.id);
    } else if (o.token) {
        unsigned char key[LH_AUTH_KEY_LEN];
        if (lh_auth_load_key(o.data, 0, key, err, sizeof(err))) {
            fprintf(stderr, "lighthouse token revoke: %s\n", err);
            return 2;
        }
        lh_token_claims c;
        lh_auth_result ar = lh_auth_verify(key, o.token, strlen(o.token), 0, &c);
        if (ar != LH_AUTH_OK && ar != LH_AUTH_EXPIRED) {
            fprintf(stderr, "lighthouse token revoke: %s\n", lh_auth_result_text(ar));
            return 2;
        }
        snprintf(tid, sizeof(tid), "%s", c.tid);
    } else {
        fputs(usageText, stderr);
        return 2;
    }
    lh_store *st = openStore(&o);
    if (!st) return 2;
    int known = tokenIssued(st, tid, err, sizeof(err));
    if (known <= 0) {
        if (known < 0) fprintf(stderr, "lighthouse token revoke: cannot look up token %s: %s\n", tid, err);
        else fprintf(stderr, "lighthouse token revoke: no token with id %s was issued in %s; nothing revoked "
                             "(check --data / LIGHTHOUSE_DATA)\n", tid, o.data);
        lh_store_close(st);
        return 1;
    }
    int rc = appendEvent(st, "token.revoked", "", tid, json_pack("{s:s}", "token_id", tid));
    lh_store_close(st);
    if (rc) return 1;
    fprintf(stderr, "token %s revoked\n", tid);
    return 0;
}

int lh_cli_token(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "create")) return create(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "revoke")) return revokeToken(argc, argv);
    fputs(usageText, argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout : stderr);
    return argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : 2;
}
