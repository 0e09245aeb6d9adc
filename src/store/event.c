/* event.c — the event model: input bounds, canonical form, ids, the MAC and the chain.
 *
 * Everything here is backend-independent. A backend calls lh_chain_seal() while holding its
 * write lock; that is the only place a seq, a time and a mac are given to an event. */
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init/Update/Final: see "MAC" below */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util/utf8.h"

/* ============================== Errors, clocks ============================== */

int lh_store_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int64_t lh_wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timespec lh_deadline_ms(long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long ns = ts.tv_nsec + (ms % 1000) * 1000000L;
    ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000L);
    ts.tv_nsec = ns % 1000000000L;
    return ts;
}

/* ============================== UTF-8 and JSON ============================== */

int lh_store_utf8_valid(const char *s, size_t len) { return lh_utf8_valid(s, len); }

/* Nesting depth of JSON text, counted without parsing so a hostile input cannot make the
 * parser recurse deeply. Stops counting at limit + 1. */
static int jsonDepth(const char *s, size_t len, int limit) {
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > max) max = depth;
            if (max > limit) return max;
        } else if (c == ']' || c == '}') depth--;
    }
    return max;
}

/* ---------- The fast path: input that is canonical already ----------
 *
 * Most callers send what a JSON library wrote with sorted keys, which is canonical as it
 * stands. Parsing it into a tree and writing it back (jansson) costs ~15,000 instructions
 * for a small object, on every append; recognising it costs a few hundred. canonicalValue()
 * accepts only text that jansson would write back byte for byte: no whitespace; strings
 * without control characters (jansson writes UTF-8 as is, and the caller has checked it)
 * whose only escapes are the ones jansson's dump writes (see janssonEscape()); integers
 * without a fraction or exponent, of at most 18 digits, and not "-0" (jansson writes "0");
 * keys without any escape, strictly increasing in jansson's order (bytes, then length),
 * so sorted and without duplicates. Anything else, valid or not, takes the rewriter's or
 * jansson's path, which canonicalises or refuses it as before. */
typedef struct scan { const char *p, *end; int depth, max_depth; } scan;

static int canonicalValue(scan *s);

/* The length of the escape at p (p[0] is '\\') when it is spelt as jansson's dump writes
 * it, else 0: \" \\ \b \f \n \r \t, and \u00XX with upper-case hex for the other code
 * points below 0x20. Every other spelling (\/, lower-case hex, \u0041, \u00e9, \u000a for
 * \n, surrogates) is valid JSON that jansson writes differently; \u0000 is refused by
 * jansson. Those all go to the other paths. */
static size_t janssonEscape(const char *p, const char *end) {
    if (end - p < 2) return 0;
    switch (p[1]) {
    case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't': return 2;
    case 'u': break;
    default: return 0;
    }
    if (end - p < 6 || p[2] != '0' || p[3] != '0' || (p[4] != '0' && p[4] != '1')) return 0;
    char h = p[5];
    unsigned lo = h >= '0' && h <= '9' ? (unsigned)(h - '0') : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16;
    if (lo == 16) return 0;
    unsigned cp = (unsigned)(p[4] - '0') << 4 | lo;
    if (cp == 0 || cp == '\b' || cp == '\t' || cp == '\n' || cp == '\f' || cp == '\r') return 0;
    return 6;
}

/* '"', '\\' and controls end a run of bytes a string keeps as they are (both paths). */
static const unsigned char stringStop[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* A string; escapes only when escapes is set (values). Keys have none on this path, so
 * their raw bytes are their decoded bytes and canonicalObject() can compare them as they
 * are. Local pointers and the table keep the per-byte loop to a load and a test. */
static int canonicalString(scan *s, int escapes, const char **start, size_t *len) {
    const char *p = s->p, *end = s->end;
    if (p >= end || *p != '"') return 0;
    const char *b = ++p;
    for (;;) {
        while (p < end && !stringStop[(unsigned char)*p]) p++;
        if (p >= end || (unsigned char)*p < 0x20) return 0;
        if (*p == '"') break;
        size_t n = escapes ? janssonEscape(p, end) : 0; /* at a backslash */
        if (!n) return 0;
        p += n;
    }
    *start = b;
    *len = (size_t)(p - b);
    s->p = p + 1;
    return 1;
}

static int canonicalNumber(scan *s) {
    const char *b = s->p;
    if (s->p < s->end && *s->p == '-') s->p++;
    const char *digits = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
    size_t n = (size_t)(s->p - digits);
    if (n == 0 || n > 18 || (n > 1 && *digits == '0')) return 0;
    if (*b == '-' && n == 1 && *digits == '0') return 0;
    return s->p >= s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E');
}

static int canonicalLiteral(scan *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n)) return 0;
    s->p += n;
    return 1;
}

static int canonicalObject(scan *s) {
    s->p++; /* '{' */
    if (s->p < s->end && *s->p == '}') { s->p++; return 1; }
    const char *prev = NULL;
    size_t prev_len = 0;
    for (;;) {
        const char *key;
        size_t key_len;
        if (!canonicalString(s, 0, &key, &key_len)) return 0;
        if (prev) {
            size_t m = prev_len < key_len ? prev_len : key_len;
            int c = memcmp(prev, key, m);
            if (c > 0 || (c == 0 && prev_len >= key_len)) return 0; /* not strictly increasing */
        }
        prev = key;
        prev_len = key_len;
        if (s->p >= s->end || *s->p++ != ':' || !canonicalValue(s) || s->p >= s->end) return 0;
        char c = *s->p++;
        if (c == '}') return 1;
        if (c != ',') return 0;
    }
}

static int canonicalArray(scan *s) {
    s->p++; /* '[' */
    if (s->p < s->end && *s->p == ']') { s->p++; return 1; }
    for (;;) {
        if (!canonicalValue(s) || s->p >= s->end) return 0;
        char c = *s->p++;
        if (c == ']') return 1;
        if (c != ',') return 0;
    }
}

static int canonicalValue(scan *s) {
    if (s->p >= s->end) return 0;
    const char *k;
    size_t kl;
    int ok;
    switch (*s->p) {
    case '{':
    case '[':
        if (++s->depth > s->max_depth) return 0;
        ok = *s->p == '{' ? canonicalObject(s) : canonicalArray(s);
        s->depth--;
        return ok;
    case '"': return canonicalString(s, 1, &k, &kl);
    case 't': return canonicalLiteral(s, "true", 4);
    case 'f': return canonicalLiteral(s, "false", 5);
    case 'n': return canonicalLiteral(s, "null", 4);
    default: return canonicalNumber(s);
    }
}

/* 1 when json[0..len) is an object already in canonical form (see above). */
static int isCanonical(const char *json, size_t len, int max_depth) {
    scan s = {json, json + len, 0, max_depth < 128 ? max_depth : 128};
    return len > 0 && *json == '{' && canonicalValue(&s) && s.p == s.end;
}

int lh_store_is_canonical(const char *json, size_t len, int max_depth) {
    return isCanonical(json, len, max_depth);
}

/* ---------- The general path: any object, canonicalised without building a tree ----------
 *
 * Text that is not canonical as it stands (the bridge's events: keys in the order it writes
 * them, strings with escapes) is rewritten in one pass instead of jansson's parse, tree and
 * dump (~19% of the bridge's CPU under load went there). Each value is written canonical
 * as it is read: whitespace dropped, string escapes decoded and written again the way
 * jansson's dump writes them, and an object's members, each written out whole, are sorted
 * by their decoded keys (jansson's order: bytes, then length) when the object closes. Only
 * what this path fully understands is handled: integers of at most 18 digits (not "-0"),
 * strings without "\u0000" or unpaired surrogates. Anything else, valid or not, returns 0
 * and goes to jansson, which canonicalises or refuses it as before; so the output is
 * always jansson's, byte for byte (tests/unit/test_store_canonical.c checks that against
 * jansson on generated inputs). */
/* Buffers sized once from the input: the canonical text of a value is never longer than
 * its input (whitespace goes, an escape is rewritten no longer than it was written), and
 * the decoded keys and the sorting scratch are no longer than the text. So no write below
 * checks for room. */
typedef struct cbuf { char *p; size_t n; } cbuf;
typedef struct member { size_t key, key_len, text, text_len; } member;
typedef struct canonState {
    const char *p, *end;
    int depth, max_depth;
    cbuf out, keys, tmp;          /* canonical text; decoded keys; scratch for sorting */
    member *m;                    /* members of the open objects, innermost last */
    size_t nm, cap_m;
} canonState;

static void cbufPut(cbuf *b, const void *s, size_t n) {
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void cbufChar(cbuf *b, char ch) { b->p[b->n++] = ch; }

static void skipWs(canonState *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int hex4(const char *s, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char h = s[i];
        unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0') : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                   : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16;
        if (d == 16) return 0;
        *v = *v << 4 | d;
    }
    return 1;
}

/* Write code point cp (decoded from an escape) as jansson's dump does: '"' and '\\' and
 * controls escaped (\b \t \n \f \r, else \u00XX in upper case), everything else as UTF-8. */
static void emitCodepoint(cbuf *o, cbuf *dec, unsigned cp) {
    char u[8];
    size_t n = 0;
    if (cp < 0x80) u[n++] = (char)cp;
    else if (cp < 0x800) { u[n++] = (char)(0xC0 | cp >> 6); u[n++] = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        u[n++] = (char)(0xE0 | cp >> 12); u[n++] = (char)(0x80 | (cp >> 6 & 0x3F)); u[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
        u[n++] = (char)(0xF0 | cp >> 18); u[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[n++] = (char)(0x80 | (cp >> 6 & 0x3F)); u[n++] = (char)(0x80 | (cp & 0x3F));
    }
    if (dec) cbufPut(dec, u, n);
    if (cp == '"') cbufPut(o, "\\\"", 2);
    else if (cp == '\\') cbufPut(o, "\\\\", 2);
    else if (cp < 0x20) {
        static const char shortEsc[] = {[8] = 'b', [9] = 't', [10] = 'n', [12] = 'f', [13] = 'r'};
        char e[8];
        if (cp < sizeof(shortEsc) && shortEsc[cp]) { e[0] = '\\'; e[1] = shortEsc[cp]; cbufPut(o, e, 2); }
        else { snprintf(e, sizeof(e), "\\u%04X", cp); cbufPut(o, e, 6); }
    } else cbufPut(o, u, n);
}

/* A string, written canonical to o; its decoded bytes also to dec (keys), if given. */

static int canonString(canonState *c, cbuf *dec) {
    if (c->p >= c->end || *c->p != '"') return 0;
    c->p++;
    cbufChar(&c->out, '"');
    for (;;) {
        const char *run = c->p; /* bytes kept as they are: the text is valid UTF-8 already */
        while (c->p < c->end && !stringStop[(unsigned char)*c->p]) c->p++;
        cbufPut(&c->out, run, (size_t)(c->p - run));
        if (dec) cbufPut(dec, run, (size_t)(c->p - run));
        if (c->p >= c->end || (unsigned char)*c->p < 0x20) return 0;
        if (*c->p == '"') { c->p++; cbufChar(&c->out, '"'); return 1; }
        if (c->end - c->p < 2) return 0;
        char e = c->p[1];
        c->p += 2;
        unsigned cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (c->end - c->p < 4 || !hex4(c->p, &cp)) return 0;
            c->p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;            /* a low surrogate alone */
            if (cp >= 0xD800 && cp <= 0xDBFF) {                    /* needs its low half */
                unsigned lo;
                if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || !hex4(c->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
                c->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) return 0;                                 /* jansson refuses NUL */
            break;
        default: return 0;
        }
        emitCodepoint(&c->out, dec, cp);
    }
}

static int canonAny(canonState *c);

/* jansson's key order: bytes, then length. */
static int memberCmp(const member *a, const member *b, const char *keys) {
    size_t m = a->key_len < b->key_len ? a->key_len : b->key_len;
    int r = memcmp(keys + a->key, keys + b->key, m);
    return r ? r : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* Insertion sort: objects have a handful of keys, and often arrive nearly sorted. */
static void sortMembers(member *m, size_t n, const char *keys) {
    for (size_t i = 1; i < n; i++) {
        member x = m[i];
        size_t j = i;
        for (; j > 0 && memberCmp(&m[j - 1], &x, keys) > 0; j--) m[j] = m[j - 1];
        m[j] = x;
    }
}

/* An object: members are written one after another, then put in key order with commas. */
static int canonObject(canonState *c) {
    size_t start = c->out.n, base = c->nm, keys_base = c->keys.n;
    c->p++; /* '{' */
    cbufChar(&c->out, '{');
    skipWs(c);
    if (c->p < c->end && *c->p == '}') { c->p++; cbufChar(&c->out, '}'); return 1; }
    for (;;) {
        if (c->nm == c->cap_m) {
            size_t cap = c->cap_m ? 2 * c->cap_m : 32;
            member *m = realloc(c->m, cap * sizeof(*m));
            if (!m) return 0;
            c->m = m;
            c->cap_m = cap;
        }
        size_t i = c->nm++; /* reserved before the value, whose own objects push after it */
        c->m[i].text = c->out.n;
        c->m[i].key = c->keys.n;
        if (!canonString(c, &c->keys)) return 0;
        c->m[i].key_len = c->keys.n - c->m[i].key;
        skipWs(c);
        if (c->p >= c->end || *c->p++ != ':') return 0;
        cbufChar(&c->out, ':');
        skipWs(c);
        if (!canonAny(c)) return 0;
        c->m[i].text_len = c->out.n - c->m[i].text; /* c->m may have moved meanwhile */
        skipWs(c);
        if (c->p >= c->end) return 0;
        char ch = *c->p++;
        if (ch == '}') break;
        if (ch != ',') return 0;
        skipWs(c);
    }
    size_t n = c->nm - base, body = c->out.n - (start + 1);
    sortMembers(c->m + base, n, c->keys.p);
    memcpy(c->tmp.p, c->out.p + start + 1, body);
    c->out.n = start + 1;
    for (size_t i = 0; i < n; i++) {
        const member *mb = &c->m[base + i];
        if (i && memberCmp(mb - 1, mb, c->keys.p) == 0) return 0; /* a repeated key: jansson refuses it */
        if (i) cbufChar(&c->out, ',');
        cbufPut(&c->out, c->tmp.p + (mb->text - (start + 1)), mb->text_len);
    }
    cbufChar(&c->out, '}');
    c->nm = base;
    c->keys.n = keys_base;
    return 1;
}

static int canonArray(canonState *c) {
    c->p++; /* '[' */
    cbufChar(&c->out, '[');
    skipWs(c);
    if (c->p < c->end && *c->p == ']') { c->p++; cbufChar(&c->out, ']'); return 1; }
    for (;;) {
        if (!canonAny(c)) return 0;
        skipWs(c);
        if (c->p >= c->end) return 0;
        char ch = *c->p++;
        if (ch == ']') { cbufChar(&c->out, ']'); return 1; }
        if (ch != ',') return 0;
        cbufChar(&c->out, ',');
        skipWs(c);
    }
}

static int canonAny(canonState *c) {
    if (c->p >= c->end) return 0;
    scan s = {c->p, c->end, 0, 0};
    int ok;
    switch (*c->p) {
    case '{':
    case '[':
        if (++c->depth > c->max_depth) return 0;
        ok = *c->p == '{' ? canonObject(c) : canonArray(c);
        c->depth--;
        return ok;
    case '"': return canonString(c, NULL);
    case 't': ok = canonicalLiteral(&s, "true", 4); break;
    case 'f': ok = canonicalLiteral(&s, "false", 5); break;
    case 'n': ok = canonicalLiteral(&s, "null", 4); break;
    default: ok = canonicalNumber(&s); break;
    }
    if (!ok) return 0;
    cbufPut(&c->out, c->p, (size_t)(s.p - c->p));
    c->p = s.p;
    return 1;
}

int lh_canonical_rewrite(const char *json, size_t len, int max_depth, char **out) {
    canonState c = {.p = json, .end = json + len, .max_depth = max_depth < 128 ? max_depth : 128};
    *out = NULL;
    c.out.p = malloc(len + 1);
    c.keys.p = malloc(len + 1);
    c.tmp.p = malloc(len + 1);
    skipWs(&c);
    int ok = c.out.p && c.keys.p && c.tmp.p && c.p < c.end && *c.p == '{' && canonAny(&c);
    skipWs(&c);
    ok = ok && c.p == c.end;
    if (ok) {
        c.out.p[c.out.n] = 0;
        *out = c.out.p;
    } else {
        free(c.out.p);
    }
    free(c.keys.p);
    free(c.tmp.p);
    free(c.m);
    return ok;
}

int lh_store_canonical_json(const char *json, size_t len, int max_depth, char **out,
                            char *err, size_t errlen) {
    *out = NULL;
    size_t bad = lh_utf8_prefix(json, len);
    if (bad != len)
        return lh_store_err(err, errlen, "data is not valid UTF-8 (byte %zu); send UTF-8 text", bad);
    /* Both fast paths refuse text nested deeper than max_depth, so the depth is counted
     * only before jansson, which recurses. */
    if (isCanonical(json, len, max_depth)) {
        *out = strndup(json, len);
        return *out ? 0 : lh_store_err(err, errlen, "out of memory canonicalising data");
    }
    if (lh_canonical_rewrite(json, len, max_depth, out)) return 0;
    if (jsonDepth(json, len, max_depth) > max_depth)
        return lh_store_err(err, errlen, "data is nested deeper than %d levels; flatten it", max_depth);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return lh_store_err(err, errlen, "data is not valid JSON: %s (at character %d)", je.text, je.position);
    if (!json_is_object(root)) {
        json_decref(root);
        return lh_store_err(err, errlen, "data must be a JSON object ({...})");
    }
    /* Canonical: compact, keys sorted, UTF-8 kept as is. The result is stored verbatim and
     * the MAC covers the stored bytes, so verification never re-serialises. */
    *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!*out) return lh_store_err(err, errlen, "out of memory canonicalising data");
    return 0;
}

/* ============================== Validation ============================== */

static int typeValid(const char *t, size_t len) {
    if (len == 0 || len > LH_STORE_MAX_TYPE) return 0;
    int segs = 1, seg_len = 0;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (c == '.') {
            if (seg_len == 0) return 0;
            segs++;
            seg_len = 0;
        } else if ((c >= 'a' && c <= 'z') || c == '_' || (seg_len > 0 && c >= '0' && c <= '9')) {
            seg_len++;
        } else {
            return 0;
        }
    }
    return seg_len > 0 && segs >= 2;
}

static int nameValid(const char *s, size_t len) {
    if (len > LH_STORE_MAX_NAME || lh_utf8_prefix(s, len) != len) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

static int idValid(const char *s, size_t len) {
    if (len == 0 || len > LH_STORE_MAX_ID) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* Random bytes for ids, drawn from OpenSSL's CSPRNG 4 KiB at a time per thread: RAND_bytes
 * takes a process-wide lock on every call, and with many appending threads making an id per
 * event that lock was ~4% of the append path's CPU. A forked child discards what its
 * parent had buffered (idGeneration), so the two never hand out the same bytes. */
#define ID_RANDOM_BUF 4096
static _Atomic unsigned idGeneration = 1;
static pthread_once_t idForkOnce = PTHREAD_ONCE_INIT;
static void idAfterFork(void) { atomic_fetch_add(&idGeneration, 1); }
static void idRegisterFork(void) { pthread_atfork(NULL, NULL, idAfterFork); }

static int idRandom(unsigned char *out, size_t n) {
    static _Thread_local unsigned char buf[ID_RANDOM_BUF];
    static _Thread_local size_t used = ID_RANDOM_BUF;
    static _Thread_local unsigned gen;
    pthread_once(&idForkOnce, idRegisterFork);
    unsigned g = atomic_load(&idGeneration);
    if (gen != g || used + n > ID_RANDOM_BUF) {
        if (RAND_bytes(buf, ID_RANDOM_BUF) != 1) return -1;
        used = 0;
        gen = g;
    }
    memcpy(out, buf + used, n);
    OPENSSL_cleanse(buf + used, n); /* handed out once */
    used += n;
    return 0;
}

void lh_event_make_id(char out[37]) {
    unsigned char b[16];
    uint64_t ms = (uint64_t)(lh_wall_ns() / 1000000);
    if (idRandom(b + 6, 10) != 0) { /* never expected; fall back to the clock, still unique-ish */
        uint64_t t = (uint64_t)lh_wall_ns();
        for (int i = 6; i < 16; i++) b[i] = (unsigned char)(t >> (8 * (i % 8)));
    }
    for (int i = 0; i < 6; i++) b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x70); /* version 7: time ordered */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = 0;
}

int lh_events_prepare(lh_store *st, const lh_event *events, size_t n, lh_arena *a, lh_pending *out,
                      char *err, size_t errlen) {
    char e[300];
    for (size_t i = 0; i < n; i++) {
        const lh_event *in = &events[i];
        lh_pending *p = &out[i];
        memset(p, 0, sizeof(*p));
        const char *type = in->type ? in->type : "";
        const char *agent = in->agent ? in->agent : "";
        const char *agg = in->aggregate ? in->aggregate : "";
        const char *data = in->data ? in->data : "{}";
        size_t tl = strlen(type), al = strlen(agent), gl = strlen(agg), dl = strlen(data);
        size_t il = in->id ? strlen(in->id) : 0;
        if (tl + al + gl + dl + il > st->max_event_bytes)
            return lh_store_err(err, errlen, "event %zu: %zu bytes is over the limit of %zu bytes; "
                                "make it smaller", i, tl + al + gl + dl + il, st->max_event_bytes);
        if (!typeValid(type, tl))
            return lh_store_err(err, errlen, "event %zu: type '%.*s' is not a dotted lower-case name "
                                "such as \"decision.made\"", i, (int)(tl > 64 ? 64 : tl), type);
        if (!strncmp(type, "key.", 4))
            return lh_store_err(err, errlen, "event %zu: type prefix \"key.\" is reserved for the store's "
                                "key rotation", i);
        if (!nameValid(agent, al))
            return lh_store_err(err, errlen, "event %zu: agent must be UTF-8 without control characters, "
                                "at most %d bytes", i, LH_STORE_MAX_NAME);
        if (!nameValid(agg, gl))
            return lh_store_err(err, errlen, "event %zu: aggregate must be UTF-8 without control "
                                "characters, at most %d bytes", i, LH_STORE_MAX_NAME);
        if (in->id && !idValid(in->id, il))
            return lh_store_err(err, errlen, "event %zu: id must be 1-%d characters of [A-Za-z0-9._:-]",
                                i, LH_STORE_MAX_ID);
        char *canon = NULL;
        if (lh_store_canonical_json(data, dl, st->max_json_depth, &canon, e, sizeof(e)) < 0)
            return lh_store_err(err, errlen, "event %zu: %s", i, e);
        assert(canon); /* its contract: 0 only with *out set (lh_store_err returns -1) */
        size_t cl = strlen(canon);
        if (tl + al + gl + cl + il > st->max_event_bytes) {
            free(canon);
            return lh_store_err(err, errlen, "event %zu: over the limit of %zu bytes once canonical; "
                                "make it smaller", i, st->max_event_bytes);
        }
        p->ev.data = lh_arena_strndup(a, canon, cl);
        free(canon);
        if (in->id) {
            p->ev.id = lh_arena_strndup(a, in->id, il);
        } else {
            char *id = lh_arena_alloc(a, 37);
            if (id) lh_event_make_id(id);
            p->ev.id = id;
        }
        p->ev.type = lh_arena_strndup(a, type, tl);
        p->ev.agent = lh_arena_strndup(a, agent, al);
        p->ev.aggregate = lh_arena_strndup(a, agg, gl);
        if (!p->ev.data || !p->ev.id || !p->ev.type || !p->ev.agent || !p->ev.aggregate)
            return lh_store_err(err, errlen, "out of memory preparing events");
    }
    return 0;
}

/* ============================== Result lists ============================== */

typedef struct listMem {
    lh_arena *arena;
    size_t cap;
} listMem;

int lh_event_list_init(lh_event_list *l, size_t cap) {
    memset(l, 0, sizeof(*l));
    listMem *m = calloc(1, sizeof(*m));
    if (!m) return -1;
    m->arena = lh_arena_new(64 * 1024);
    if (!m->arena) { free(m); return -1; }
    m->cap = cap ? cap : 16;
    l->events = calloc(m->cap, sizeof(lh_event));
    if (!l->events) { lh_arena_free(m->arena); free(m); return -1; }
    l->mem_ = m;
    return 0;
}

int lh_event_list_push(lh_event_list *l, int64_t seq, int64_t time_ns, const char *id, const char *type,
                       const char *agent, const char *aggregate, const char *data, size_t data_len,
                       const unsigned char *mac, size_t mac_len) {
    listMem *m = l->mem_;
    if (l->n == m->cap) {
        size_t nc = m->cap * 2;
        lh_event *ne = realloc(l->events, nc * sizeof(lh_event));
        if (!ne) return -1;
        l->events = ne;
        m->cap = nc;
    }
    lh_event *e = &l->events[l->n];
    memset(e, 0, sizeof(*e));
    e->seq = seq;
    e->time_ns = time_ns;
    e->id = lh_arena_strdup(m->arena, id ? id : "");
    e->type = lh_arena_strdup(m->arena, type ? type : "");
    e->agent = lh_arena_strdup(m->arena, agent ? agent : "");
    e->aggregate = lh_arena_strdup(m->arena, aggregate ? aggregate : "");
    e->data = lh_arena_strndup(m->arena, data ? data : "", data ? data_len : 0);
    if (!e->id || !e->type || !e->agent || !e->aggregate || !e->data) return -1;
    if (mac && mac_len == LH_STORE_MAC_LEN) memcpy(e->mac, mac, LH_STORE_MAC_LEN);
    l->n++;
    l->cursor = seq;
    return 0;
}

void lh_event_list_free(lh_event_list *l) {
    if (!l) return;
    listMem *m = l->mem_;
    if (m) {
        lh_arena_free(m->arena);
        free(m);
    }
    free(l->events);
    memset(l, 0, sizeof(*l));
}

size_t lh_filter_limit(const lh_store_filter *f) {
    if (!f || f->limit == 0) return 100;
    return f->limit > LH_STORE_MAX_LIMIT ? LH_STORE_MAX_LIMIT : f->limit;
}

int lh_type_prefix_range(const char *type, char *lo, char *hi, size_t cap) {
    size_t n = type ? strlen(type) : 0;
    if (n < 2 || strcmp(type + n - 2, ".*") || n >= cap) return 0;
    memcpy(lo, type, n - 1); /* keep the '.' */
    lo[n - 1] = 0;
    memcpy(hi, type, n - 1);
    hi[n - 2] = '/';         /* '.' + 1: the first string after every "prefix.…" */
    hi[n - 1] = 0;
    return 1;
}

/* ============================== MAC ============================== */

/* HMAC-SHA256 (RFC 2104) over SHA-256 states computed once per key: the inner and outer
 * states after absorbing the padded key are kept, and each MAC starts from a struct copy
 * of them. That is the same computation as OpenSSL's HMAC, minus its per-call context
 * duplication (an allocation and a provider round trip per event); the writer MACs every
 * event, so this is on the append path. The low-level SHA256_* calls are deprecated in
 * OpenSSL 3 in favour of EVP, which has no cheap way to copy a digest state; they use the
 * same assembly (SHA-NI where present). */
struct lh_mac {
    SHA256_CTX inner0, outer0;    /* after the key block; per key */
    SHA256_CTX work;
    const lh_key *key;            /* the key the states are for */
    char keycopy_fp[LH_STORE_FP_LEN + 1];
};

lh_mac *lh_mac_new(void) { return calloc(1, sizeof(lh_mac)); }

void lh_mac_free(lh_mac *m) {
    if (!m) return;
    OPENSSL_cleanse(m, sizeof(*m)); /* the states are key material */
    free(m);
}

/* (Re)start the HMAC: the key states are recomputed only when the key changed. */
static int macStart(lh_mac *m, const lh_key *key) {
    if (m->key != key || memcmp(m->keycopy_fp, key->fp, LH_STORE_FP_LEN)) {
        unsigned char block[SHA256_CBLOCK], pad[SHA256_CBLOCK];
        memset(block, 0, sizeof(block));
        if (key->len > SHA256_CBLOCK) SHA256(key->bytes, key->len, block); /* long keys are hashed first */
        else memcpy(block, key->bytes, key->len);
        for (int i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x36;
        if (!SHA256_Init(&m->inner0) || !SHA256_Update(&m->inner0, pad, sizeof(pad))) return -1;
        for (int i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x5c;
        if (!SHA256_Init(&m->outer0) || !SHA256_Update(&m->outer0, pad, sizeof(pad))) return -1;
        OPENSSL_cleanse(block, sizeof(block));
        OPENSSL_cleanse(pad, sizeof(pad));
        m->key = key;
        memcpy(m->keycopy_fp, key->fp, LH_STORE_FP_LEN + 1);
    }
    m->work = m->inner0;
    return 0;
}

static int macUpdate(lh_mac *m, const void *p, size_t n) { return SHA256_Update(&m->work, p, n) ? 0 : -1; }

static unsigned char *put64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put32(unsigned char *p, uint32_t v) {
    for (int i = 3; i >= 0; i--) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static int macFinish(lh_mac *m, unsigned char out[LH_STORE_MAC_LEN]) {
    unsigned char inner[SHA256_DIGEST_LENGTH];
    if (!SHA256_Final(inner, &m->work)) return -1;
    m->work = m->outer0;
    if (!SHA256_Update(&m->work, inner, sizeof(inner)) || !SHA256_Final(out, &m->work)) return -1;
    return 0;
}

/* The canonical bytes of an event (docs/store.md, "Canonical form"):
 *   "LHEV1" ‖ be64(seq) ‖ be64(time_ns) ‖ [be32(len) ‖ bytes] for id, type, agent,
 *   aggregate, data.
 * Length prefixes make the encoding unambiguous; the MAC input is prev_mac ‖ these bytes. */
int lh_mac_event(lh_mac *m, const lh_key *key, const unsigned char prev[LH_STORE_MAC_LEN],
                 const lh_event *ev, unsigned char out[LH_STORE_MAC_LEN]) {
    if (macStart(m, key) < 0) return -1;
    const char *fields[4] = {ev->id, ev->type, ev->agent, ev->aggregate};
    unsigned char hdr[LH_STORE_MAC_LEN + 5 + 16 + 4 * (4 + LH_STORE_MAX_NAME) + 4];
    unsigned char *p = hdr;
    memcpy(p, prev, LH_STORE_MAC_LEN);
    p += LH_STORE_MAC_LEN;
    memcpy(p, "LHEV1", 5);
    p += 5;
    p = put64(p, (uint64_t)ev->seq);
    p = put64(p, (uint64_t)ev->time_ns);
    for (int i = 0; i < 4; i++) {
        size_t l = fields[i] ? strlen(fields[i]) : 0;
        if (l > LH_STORE_MAX_NAME) return -1;
        p = put32(p, (uint32_t)l);
        if (l) memcpy(p, fields[i], l);
        p += l;
    }
    size_t dl = ev->data ? strlen(ev->data) : 0;
    p = put32(p, (uint32_t)dl);
    if (macUpdate(m, hdr, (size_t)(p - hdr)) < 0) return -1;
    if (dl && macUpdate(m, ev->data, dl) < 0) return -1;
    return macFinish(m, out);
}

int lh_mac_snapshot(lh_mac *m, const lh_key *key, const char *name, int64_t seq, const char *state,
                    unsigned char out[LH_STORE_MAC_LEN]) {
    if (macStart(m, key) < 0) return -1;
    unsigned char hdr[64];
    unsigned char *p = hdr;
    size_t nl = strlen(name), sl = strlen(state);
    if (nl > 32) return -1;
    memcpy(p, "LHSNAP1", 7);
    p += 7;
    p = put32(p, (uint32_t)nl);
    memcpy(p, name, nl);
    p += nl;
    p = put64(p, (uint64_t)seq);
    p = put64(p, (uint64_t)sl);
    if (macUpdate(m, hdr, (size_t)(p - hdr)) < 0) return -1;
    if (macUpdate(m, state, sl) < 0) return -1;
    return macFinish(m, out);
}

/* ============================== The chain ============================== */

int lh_chain_seal(lh_store *st, lh_mac *m, lh_chain_head *head, lh_pending *evs, size_t n,
                  char *err, size_t errlen) {
    pthread_mutex_lock(&st->keys_lock);
    const lh_key *key = lh_keyring_find(&st->keys, head->key_fp);
    if (!key) {
        pthread_mutex_unlock(&st->keys_lock);
        return lh_store_err(err, errlen, "wrong key: the chain's current key has fingerprint %s, which is "
                            "not in %s; use the key this store was written with", head->key_fp,
                            st->keys.source);
    }
    /* time_ns is the commit clock, kept non-decreasing so time ranges map to seq ranges
     * even if the wall clock steps back or replicas' clocks differ a little. */
    int64_t now = lh_wall_ns();
    if (now < head->time_ns) now = head->time_ns;
    for (size_t i = 0; i < n; i++) {
        lh_event *ev = &evs[i].ev;
        ev->seq = head->seq + 1;
        ev->time_ns = now;
        if (lh_mac_event(m, key, head->mac, ev, ev->mac) < 0) {
            pthread_mutex_unlock(&st->keys_lock);
            return lh_store_err(err, errlen, "HMAC-SHA256 failed (OpenSSL)");
        }
        head->seq = ev->seq;
        head->time_ns = now;
        memcpy(head->mac, ev->mac, LH_STORE_MAC_LEN);
        if (evs[i].rotate_to[0]) {
            const lh_key *nk = lh_keyring_find(&st->keys, evs[i].rotate_to);
            if (!nk) {
                pthread_mutex_unlock(&st->keys_lock);
                return lh_store_err(err, errlen, "key %s is not in the key set", evs[i].rotate_to);
            }
            key = nk;
            memcpy(head->key_fp, nk->fp, LH_STORE_FP_LEN + 1);
        }
    }
    pthread_mutex_unlock(&st->keys_lock);
    return 0;
}
