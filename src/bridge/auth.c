/* auth.c — see auth.h. Randomness and constant-time comparison come from OpenSSL's
 * libcrypto; the HMAC is computed over the engine's SHA-256 (see lh_auth_hmac()). */
#include "bridge/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sha256.h"

/* ---- roles ------------------------------------------------------------------- */

const char *lh_role_name(lh_role r) {
    switch (r) {
    case LH_ROLE_BUILDER: return "builder";
    case LH_ROLE_EXPERT: return "expert";
    case LH_ROLE_ADMIN: return "admin";
    }
    return "unknown";
}

int lh_role_parse(const char *s, lh_role *out) {
    if (!strcmp(s, "builder")) *out = LH_ROLE_BUILDER;
    else if (!strcmp(s, "expert")) *out = LH_ROLE_EXPERT;
    else if (!strcmp(s, "admin")) *out = LH_ROLE_ADMIN;
    else return -1;
    return 0;
}

const char *lh_auth_result_text(lh_auth_result r) {
    switch (r) {
    case LH_AUTH_OK: return "ok";
    case LH_AUTH_MISSING: return "missing bearer token: send \"Authorization: Bearer TOKEN\" (lighthouse token create)";
    case LH_AUTH_MALFORMED: return "malformed token";
    case LH_AUTH_FORGED: return "token signature does not verify";
    case LH_AUTH_EXPIRED: return "token has expired; create a new one";
    case LH_AUTH_REVOKED: return "token has been revoked";
    }
    return "bad token";
}

/* ---- key file ----------------------------------------------------------------- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void tohex(const unsigned char *in, size_t n, char *out) {
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) { out[2 * i] = h[in[i] >> 4]; out[2 * i + 1] = h[in[i] & 15]; }
    out[2 * n] = 0;
}

static int readKey(const char *path, unsigned char key[LH_AUTH_KEY_LEN], char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); return -1; }
    struct stat st;
    if (fstat(fd, &st) || (st.st_mode & 077)) {
        close(fd);
        snprintf(err, errlen, "%s must be readable by its owner only: chmod 600 %s", path, path);
        return -1;
    }
    char buf[2 * LH_AUTH_KEY_LEN + 8];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    if (n != 2 * LH_AUTH_KEY_LEN) {
        snprintf(err, errlen, "%s must hold %d hex characters", path, 2 * LH_AUTH_KEY_LEN);
        return -1;
    }
    for (int i = 0; i < LH_AUTH_KEY_LEN; i++) {
        int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
        if (hi < 0 || lo < 0) { snprintf(err, errlen, "%s is not hex", path); return -1; }
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int lh_auth_load_key(const char *dir, int create, unsigned char key[LH_AUTH_KEY_LEN], char *err,
                     size_t errlen) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/token.key", dir);
    if (access(path, F_OK) == 0 || !create) return readKey(path, key, err, errlen);
    if (mkdir(dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (RAND_bytes(key, LH_AUTH_KEY_LEN) != 1) { snprintf(err, errlen, "no randomness for the token key"); return -1; }
    char hex[2 * LH_AUTH_KEY_LEN + 2];
    tohex(key, LH_AUTH_KEY_LEN, hex);
    strcat(hex, "\n");
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) { snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno)); return -1; }
    int ok = write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex) && fsync(fd) == 0;
    close(fd);
    /* link() rather than rename(): when two processes race to create the key, exactly one
     * wins and the other reads the winner's key. */
    if (ok && link(tmp, path) != 0) {
        unlink(tmp);
        if (errno == EEXIST) return readKey(path, key, err, errlen);
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    unlink(tmp);
    if (!ok) { snprintf(err, errlen, "cannot write %s", path); return -1; }
    return 0;
}

/* ---- base64url ---------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64enc(const unsigned char *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18 & 63]; out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];  out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64[v >> 18 & 63]; out[o++] = b64[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = b64[v >> 18 & 63]; out[o++] = b64[v >> 12 & 63]; out[o++] = b64[v >> 6 & 63];
    }
    out[o] = 0;
    return o;
}

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Decode unpadded, canonical base64url; -1 on a bad character, length or padding bits. */
static long b64dec(const char *in, size_t n, unsigned char *out, size_t cap) {
    if (n % 4 == 1) return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    /* Canonical form only: the bits left over must be zero, or two spellings of one
     * token would both verify. */
    if (bits && (acc & ((1u << bits) - 1))) return -1;
    return (long)o;
}

/* ---- mint and verify ------------------------------------------------------------ */

/* HMAC-SHA256 (RFC 2104) over the engine's SHA-256. OpenSSL 3's one-shot HMAC() looks
 * the algorithm up in a lock-protected provider store on every call, which showed up
 * as lock contention on the per-request hot path; this takes no lock. n is at most
 * LH_AUTH_TOKEN_MAX (tokens are bounded before they get here). */
void lh_auth_hmac(const unsigned char key[LH_AUTH_KEY_LEN], const char *msg, size_t n,
                  unsigned char out[32]) {
    unsigned char buf[64 + LH_AUTH_TOKEN_MAX], inner[32];
    if (n > LH_AUTH_TOKEN_MAX) n = LH_AUTH_TOKEN_MAX;
    memset(buf, 0x36, 64);
    for (int i = 0; i < LH_AUTH_KEY_LEN; i++) buf[i] ^= key[i];
    memcpy(buf + 64, msg, n);
    lh_sha256(buf, 64 + n, inner);
    memset(buf, 0x5c, 64);
    for (int i = 0; i < LH_AUTH_KEY_LEN; i++) buf[i] ^= key[i];
    memcpy(buf + 64, inner, 32);
    lh_sha256(buf, 96, out);
}

int lh_auth_mint(const unsigned char key[LH_AUTH_KEY_LEN], lh_token_claims *c, char *out, size_t cap,
                 char *err, size_t errlen) {
    if (!c->tid[0]) {
        unsigned char r[LH_AUTH_TID_LEN / 2];
        if (RAND_bytes(r, sizeof(r)) != 1) { snprintf(err, errlen, "no randomness"); return -1; }
        tohex(r, sizeof(r), c->tid);
    }
    if (!c->agent[0]) { snprintf(err, errlen, "a token needs an agent name"); return -1; }
    json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:I}", "tid", c->tid, "agent", c->agent, "role",
                          lh_role_name(c->role), "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp);
    char *payload = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!payload) { snprintf(err, errlen, "agent name must be valid UTF-8"); return -1; }
    size_t plen = strlen(payload);
    char buf[LH_AUTH_TOKEN_MAX + 64];
    if (4 + (plen + 2) / 3 * 4 + 1 + 44 + 1 > sizeof(buf) || 4 + (plen + 2) / 3 * 4 + 45 >= cap) {
        free(payload);
        snprintf(err, errlen, "agent name is too long");
        return -1;
    }
    memcpy(buf, "lh1.", 4); /* NOLINT(bugprone-not-null-terminated-result): b64enc appends and ends it */
    size_t n = 4 + b64enc((const unsigned char *)payload, plen, buf + 4);
    free(payload);
    unsigned char m[32];
    lh_auth_hmac(key, buf, n, m);
    buf[n++] = '.';
    n += b64enc(m, 32, buf + n);
    if (n + 1 > cap || n > LH_AUTH_TOKEN_MAX) { snprintf(err, errlen, "token too long"); return -1; }
    memcpy(out, buf, n + 1);
    return 0;
}

lh_auth_result lh_auth_verify(const unsigned char key[LH_AUTH_KEY_LEN], const char *tok, size_t len,
                              int64_t now, lh_token_claims *out) {
    if (len == 0) return LH_AUTH_MISSING;
    if (len > LH_AUTH_TOKEN_MAX || len < 8 || memcmp(tok, "lh1.", 4)) return LH_AUTH_MALFORMED;
    const char *dot = memchr(tok + 4, '.', len - 4);
    if (!dot) return LH_AUTH_MALFORMED;
    size_t signed_len = (size_t)(dot - tok);
    unsigned char given[40], want[32];
    if (b64dec(dot + 1, len - signed_len - 1, given, sizeof(given)) != 32) return LH_AUTH_MALFORMED;
    lh_auth_hmac(key, tok, signed_len, want);
    if (CRYPTO_memcmp(given, want, 32) != 0) return LH_AUTH_FORGED;
    /* Only a token we signed gets this far, so its payload is ours; still check it. */
    unsigned char payload[LH_AUTH_TOKEN_MAX];
    long plen = b64dec(tok + 4, signed_len - 4, payload, sizeof(payload));
    if (plen <= 0) return LH_AUTH_MALFORMED;
    json_t *j = json_loadb((const char *)payload, (size_t)plen, 0, NULL);
    const char *tid = json_string_value(json_object_get(j, "tid"));
    const char *agent = json_string_value(json_object_get(j, "agent"));
    const char *role = json_string_value(json_object_get(j, "role"));
    json_t *exp = json_object_get(j, "exp"), *iat = json_object_get(j, "iat");
    lh_auth_result r = LH_AUTH_MALFORMED;
    if (tid && agent && role && json_is_integer(exp) && strlen(tid) == LH_AUTH_TID_LEN &&
        strlen(agent) <= LH_AUTH_NAME_MAX && lh_role_parse(role, &out->role) == 0) {
        snprintf(out->tid, sizeof(out->tid), "%s", tid);
        snprintf(out->agent, sizeof(out->agent), "%s", agent);
        out->exp = json_integer_value(exp);
        out->iat = json_is_integer(iat) ? json_integer_value(iat) : 0;
        r = out->exp <= now ? LH_AUTH_EXPIRED : LH_AUTH_OK;
    }
    json_decref(j);
    return r;
}

/* ---- revoked set ---------------------------------------------------------------- */

typedef struct rset {
    size_t n;
    struct rset *older;                 /* retired snapshots, freed with the set */
    char ids[][LH_AUTH_TID_LEN + 1];    /* sorted */
} rset;

struct lh_revoked {
    _Atomic(rset *) cur;
    pthread_mutex_t mu;
};

lh_revoked *lh_revoked_new(void) {
    lh_revoked *r = calloc(1, sizeof(*r));
    rset *s = calloc(1, sizeof(rset));
    if (!r || !s) { free(r); free(s); return NULL; }
    atomic_init(&r->cur, s);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void lh_revoked_free(lh_revoked *r) {
    if (!r) return;
    rset *s = atomic_load(&r->cur);
    while (s) { rset *o = s->older; free(s); s = o; }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int cmpId(const void *a, const void *b) { return strcmp(a, b); }

int lh_revoked_has(const lh_revoked *r, const char *tid) {
    rset *s = atomic_load_explicit(&((lh_revoked *)r)->cur, memory_order_acquire);
    return s->n && bsearch(tid, s->ids, s->n, sizeof(s->ids[0]), cmpId) != NULL;
}

size_t lh_revoked_count(const lh_revoked *r) {
    return atomic_load_explicit(&((lh_revoked *)r)->cur, memory_order_acquire)->n;
}

int lh_revoked_add(lh_revoked *r, const char *tid) {
    if (strlen(tid) != LH_AUTH_TID_LEN) return -1;
    pthread_mutex_lock(&r->mu);
    rset *s = atomic_load(&r->cur);
    if (s->n && bsearch(tid, s->ids, s->n, sizeof(s->ids[0]), cmpId)) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    rset *ns = malloc(sizeof(rset) + (s->n + 1) * sizeof(s->ids[0]));
    if (!ns) { pthread_mutex_unlock(&r->mu); return -1; }
    ns->n = s->n + 1;
    ns->older = s;
    memcpy(ns->ids, s->ids, s->n * sizeof(s->ids[0]));
    snprintf(ns->ids[s->n], sizeof(ns->ids[0]), "%s", tid);
    qsort(ns->ids, ns->n, sizeof(ns->ids[0]), cmpId);
    atomic_store_explicit(&r->cur, ns, memory_order_release);
    pthread_mutex_unlock(&r->mu);
    return 0;
}
