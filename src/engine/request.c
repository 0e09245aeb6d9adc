/* request.c — JSON requests (native and Claude Code hook payloads) into lh_request.
 *
 * Every request the bridge decides, and every hook call, comes through here, so the parser
 * is hand-written: one pass over the bytes, no tree, no allocation but the strings copied
 * into lh_request (and, only for objects with more than KEYS_LOCAL keys open at once, the
 * duplicate-key table, also in the arena).
 *
 * It accepts exactly what jansson 2.14's json_loadb(JSON_REJECT_DUPLICATES) accepted, which
 * this file used before (tests/unit/test_request_json.c keeps that parser and compares the
 * two on hand-written and 250,000 generated inputs):
 *   - RFC 8259 grammar, whitespace is space/tab/CR/LF, nothing after the top value;
 *   - the top value is an object or an array (we then require an object);
 *   - strict UTF-8 everywhere (no overlong forms, no raw surrogates, nothing past U+10FFFF);
 *   - \u escapes: surrogates only as a high-low pair, and no \u0000;
 *   - integers within long long, reals that do not overflow a double;
 *   - no duplicate key in any object, keys compared after decoding escapes;
 *   - at most 2048 levels (jansson's own limit; past it the JSON is malformed);
 *   - one quirk kept: a NUL byte right after a number or keyword is skipped (skipUngotNul).
 * Then the request rules: an object, values nested at most 32 levels below it, and the
 * members read below. Syntax errors anywhere win over the request rules, as before.
 *
 * Bounds: no recursion (an explicit stack of 2048 bits says object or array per level);
 * duplicate keys are found per object by sorting its keys when it closes (heapsort,
 * O(n log n), no recursion): an object with 100,000 keys costs ~45 ms of CPU, not the
 * tens of seconds of a pairwise check. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "util/check.h"

#define JSON_MAX_DEPTH 32         /* our bound: deeper requests are refused */
#define JSON_SYNTAX_DEPTH 2048    /* jansson's JSON_PARSER_MAX_DEPTH: deeper is malformed */
#define KEYS_LOCAL 128            /* key entries on the C stack before the arena is used */
#define KEYS_SORT_FROM 16         /* objects with more keys are sorted to find duplicates */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LH_LITTLE_ENDIAN 1        /* strings are scanned 8 bytes at a time */
#else
#define LH_LITTLE_ENDIAN 0
#endif

/* ---- what the parser keeps ------------------------------------------------------------ */

typedef enum { V_NONE = 0, V_STRING, V_OBJECT, V_OTHER } jkind;

/* A member the request reads: its kind and, for a string, its raw text (between the
 * quotes, escapes undecoded) and its decoded length. */
typedef struct jval {
    uint8_t kind;
    uint32_t off, rawlen, len;
} jval;

enum { R_TOOL, R_INPUT, R_TOOL_NAME, R_TOOL_INPUT, R_SESSION_ID, R_AGENT_ID, R_HOOK_EVENT,
       R_PERMISSION_MODE, R_SESSION, R_AGENT, R_ROLE, R_HOME, R_CWD, R_COUNT };
enum { I_COMMAND, I_FILE_PATH, I_NOTEBOOK_PATH, I_PATH, I_URL,
       I_FILENAME, I_DIRECTORY, I_SOURCE, I_DESTINATION, I_TARGET, I_URI, I_PATHS,
       I_CONTENT, I_NEW_STRING, I_NEW_SOURCE, I_EDITS, I_SQL, I_QUERY, I_COUNT };

typedef struct member { const char *name; size_t len; } member;
#define M(s) {s, sizeof(s) - 1}
static const member kRootKeys[R_COUNT] = {
    M("tool"), M("input"), M("tool_name"), M("tool_input"), M("session_id"), M("agent_id"),
    M("hook_event_name"), M("permission_mode"), M("session"), M("agent"), M("role"), M("home"), M("cwd")};
static const member kInputKeys[I_COUNT] = {M("command"), M("file_path"), M("notebook_path"), M("path"), M("url"),
    M("filename"), M("directory"), M("source"), M("destination"), M("target"), M("uri"), M("paths"),
    M("content"), M("new_string"), M("new_source"), M("edits"), M("sql"), M("query")};
#undef M

/* One key of an open object: its raw text and decoded length. A marker entry (rawlen ==
 * KEY_MARKER) opens each object and keeps in off where the enclosing object's keys start. */
typedef struct keyent {
    uint32_t off, rawlen, len;
} keyent;

#define KEY_MARKER UINT32_MAX
#define KEY_NAME_MAX 16 /* longer keys name no member we read */

typedef struct parser {
    const unsigned char *s;
    size_t n, i;
    lh_arena *a;
    keyent *keys;
    uint32_t nkeys, capkeys;
    int too_deep;               /* some value sits deeper than JSON_MAX_DEPTH */
    int root_is_object;
    const char *what;           /* syntax error, or NULL */
    size_t at;                  /* its offset */
    jval root[R_COUNT];
    jval input[2][I_COUNT];     /* members of "input" [0] and of "tool_input" [1] */
    /* the string elements of an input's "paths" array (MCP tools), per input set */
    unsigned paths_lvl;         /* level of the open "paths" array's elements, or 0 */
    int paths_set;
    jval paths[2][LH_MCP_MAX_ARGS];
    int npaths[2];
    int paths_more[2];          /* more string elements than paths[] holds */
    jval *edits;                /* MultiEdit's "edits" array while it is open: its raw span */
    unsigned edits_lvl;
    uint64_t strbytes;          /* decoded bytes of every string, keys included */
} parser;

static int fail(parser *p, const char *what) {
    if (!p->what) { p->what = what; p->at = p->i; }
    return -1;
}

/* ---- characters ------------------------------------------------------------------------ */

static inline int isDigit(int c) { return c >= '0' && c <= '9'; }
static inline int isAlpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static inline void skipWs(parser *p) {
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        p->i++;
    }
}

static int hexVal(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s[i..i+4), or -1. */
static int32_t hex4(const unsigned char *s, size_t i, size_t n) {
    if (i > n || n - i < 4) return -1;
    int32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexVal(s[i + k]);
        if (h < 0) return -1;
        v = (v << 4) | h;
    }
    return v;
}

static size_t utf8Put(uint32_t cp, unsigned char *o) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | (cp >> 6)); o[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12)); o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18)); o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), or 0 if it is not one:
 * no continuation byte first, no overlong form, no surrogate, nothing past U+10FFFF. */
static size_t utf8Valid(const unsigned char *s, size_t i, size_t n) {
    unsigned c = s[i];
    size_t k;
    uint32_t v;
    if (c < 0xC2 || c > 0xF4) return 0;
    if (c < 0xE0) { k = 2; v = c & 0x1F; }
    else if (c < 0xF0) { k = 3; v = c & 0x0F; }
    else { k = 4; v = c & 0x07; }
    if (n - i < k) return 0;
    for (size_t j = 1; j < k; j++) {
        if ((s[i + j] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i + j] & 0x3F);
    }
    if (k == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) return 0;
    if (k == 4 && (v < 0x10000 || v > 0x10FFFF)) return 0;
    return k;
}

/* A mask whose lowest set bit is in the first of the 8 bytes at q that ends or escapes a
 * string or needs UTF-8 checking; 0 when there is none. (Borrows can flag bytes after the
 * first, never before it.) */
static inline uint64_t special8(const unsigned char *q) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t v;
    memcpy(&v, q, 8);
    uint64_t qt = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    return (((qt - ones) & ~qt) | ((bs - ones) & ~bs) | ((v - ones * 0x20) & ~v) | v) & high;
}

static inline int plainByte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

/* ---- strings ----------------------------------------------------------------------------- */

/* Decode one unit of a validated string at s[*i]: a raw byte or a whole escape (a surrogate
 * pair is one unit). Writes 1 to 4 bytes to o and returns how many. */
static size_t decodeUnit(const unsigned char *s, size_t *i, unsigned char *o) {
    unsigned char c = s[*i];
    if (c != '\\') { *i += 1; o[0] = c; return 1; }
    unsigned char e = s[*i + 1];
    *i += 2;
    switch (e) {
    case 'b': o[0] = '\b'; return 1;
    case 'f': o[0] = '\f'; return 1;
    case 'n': o[0] = '\n'; return 1;
    case 'r': o[0] = '\r'; return 1;
    case 't': o[0] = '\t'; return 1;
    case 'u': break;
    default: o[0] = e; return 1;   /* " \ / */
    }
    uint32_t cp = (uint32_t)hex4(s, *i, SIZE_MAX);
    *i += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo = (uint32_t)hex4(s, *i + 2, SIZE_MAX);
        *i += 6;
        cp = ((cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
    }
    return utf8Put(cp, o);
}

/* Scan the string whose opening quote is at p->i; leaves p->i past the closing quote and
 * sets *len to its decoded length. Every escape decodes shorter than it is written, so the
 * decoded length is the raw length less what the escapes save. */
static int scanString(parser *p, int key, uint32_t *len) {
    const unsigned char *s = p->s;
    size_t n = p->n, start = p->i + 1, i = start, saved = 0;
    for (;;) {
#if LH_LITTLE_ENDIAN
        for (;;) {
            if (n - i < 8) { while (i < n && plainByte(s[i])) i++; break; }
            uint64_t m = special8(s + i);
            if (m) { i += (size_t)__builtin_ctzll(m) >> 3; break; }
            i += 8;
        }
#else
        while (i < n && plainByte(s[i])) i++;
#endif
        if (i >= n) { p->i = i; return fail(p, "premature end of input"); }
        unsigned char c = s[i];
        if (c == '"') break;
        if (c < 0x20) { p->i = i; return fail(p, c == '\n' ? "unexpected newline" : "control character in string"); }
        if (c >= 0x80) {
            size_t k = utf8Valid(s, i, n);
            if (!k) { p->i = i; return fail(p, "invalid UTF-8"); }
            i += k;
            continue;
        }
        if (n - i < 2) { p->i = i; return fail(p, "premature end of input"); }
        unsigned char e = s[i + 1];
        if (e != 'u') {
            if (!strchr("\"\\/bfnrt", e) || e == 0) { p->i = i; return fail(p, "invalid escape"); }
            i += 2;
            saved += 1;
            continue;
        }
        int32_t cp = hex4(s, i + 2, n);
        if (cp < 0) { p->i = i; return fail(p, "invalid escape"); }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int32_t lo = (n - i >= 8 && s[i + 6] == '\\' && s[i + 7] == 'u') ? hex4(s, i + 8, n) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) { p->i = i; return fail(p, "invalid Unicode surrogate escape"); }
            i += 12;
            saved += 12 - 4;
            continue;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) { p->i = i; return fail(p, "invalid Unicode surrogate escape"); }
        if (cp == 0) { p->i = i; return fail(p, key ? "NUL byte in object key not supported" : "\\u0000 is not allowed"); }
        i += 6;
        saved += 6 - (cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3);
    }
    if (i - start - saved > UINT32_MAX) { p->i = i; return fail(p, "string too long"); }
    *len = (uint32_t)(i - start - saved);
    p->strbytes += *len;
    p->i = i + 1;
    return 0;
}

/* Decode a validated string's raw text into out (room for its decoded length). */
static size_t decodeInto(const unsigned char *raw, size_t rawlen, unsigned char *out) {
    size_t i = 0, o = 0;
    while (i < rawlen) {
        const unsigned char *bs = memchr(raw + i, '\\', rawlen - i);
        size_t run = bs ? (size_t)(bs - (raw + i)) : rawlen - i;
        memcpy(out + o, raw + i, run);
        o += run;
        i += run;
        if (i < rawlen) o += decodeUnit(raw, &i, out + o);
    }
    return o;
}

/* Copy a validated string's decoded bytes into the arena (NUL-terminated). */
static char *decodeString(lh_arena *a, const unsigned char *s, const jval *v) {
    const unsigned char *raw = s + v->off;
    if (v->rawlen == v->len) return lh_arena_strndup(a, (const char *)raw, v->len);
    unsigned char *out = lh_arena_alloc(a, (size_t)v->len + 1);
    if (!out) return NULL;
    size_t o = decodeInto(raw, v->rawlen, out);
    LH_ASSERT(o == v->len);   /* scanString measured what decodeInto writes */
    out[o] = '\0';
    return (char *)out;
}

/* ---- numbers ----------------------------------------------------------------------------- */

/* The smallest decimal that strtod rounds to infinity: the midpoint between DBL_MAX and
 * 2^1024 (a tie rounds to even, which is 2^1024). 309 digits, so values from 1e308 up to
 * 1e309 compare digit by digit. */
static const char kRealLimit[] =
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649"
    "017977587207096330286416692887910946555547851940402630657488671505820681908902000708383"
    "676273854845817711531764475730270069855571366959622842914819860834936475292719074168444"
    "365510704342711559699508093042880177904174497792";

/* Would strtod overflow on this real? Its digits are s[is..ie) and s[fs..fe), exp10 its
 * exponent (already clamped far beyond any double). */
static int realOverflows(const unsigned char *s, size_t is, size_t ie, size_t fs, size_t fe, int64_t exp10) {
    size_t total = (ie - is) + (fe - fs), first = 0;
    #define DIGIT(k) ((k) < ie - is ? s[is + (k)] : s[fs + (k) - (ie - is)])
    while (first < total && DIGIT(first) == '0') first++;
    if (first == total) return 0;   /* zero */
    int64_t e = (int64_t)(ie - is) - (int64_t)first + exp10;   /* value in [10^(e-1), 10^e) */
    if (e != 309) return e > 309;
    for (size_t k = 0; k < sizeof(kRealLimit) - 1; k++) {
        int d = first + k < total ? DIGIT(first + k) : '0';
        if (d != kRealLimit[k]) return d > kRealLimit[k];
    }
    return 1;   /* equal to the limit, or longer with the same leading digits */
    #undef DIGIT
}

/* A number at p->i: JSON grammar, integers within long long, reals that fit a double. */
static int scanNumber(parser *p) {
    const unsigned char *s = p->s;
    size_t n = p->n, i = p->i;
    int neg = 0;
    if (s[i] == '-') { neg = 1; i++; }
    size_t is = i;
    if (i < n && s[i] == '0') {
        i++;
        if (i < n && isDigit(s[i])) { p->i = i; return fail(p, "invalid number"); }
    } else if (i < n && isDigit(s[i])) {
        while (i < n && isDigit(s[i])) i++;
    } else {
        p->i = i;
        return fail(p, "invalid number");
    }
    size_t ie = i, fs = i, fe = i;
    int real = 0;
    int64_t exp10 = 0;
    if (i < n && s[i] == '.') {
        i++;
        if (!(i < n && isDigit(s[i]))) { p->i = i; return fail(p, "invalid number"); }
        fs = i;
        while (i < n && isDigit(s[i])) i++;
        fe = i;
        real = 1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) { eneg = s[i] == '-'; i++; }
        if (!(i < n && isDigit(s[i]))) { p->i = i; return fail(p, "invalid number"); }
        while (i < n && isDigit(s[i])) {
            if (exp10 < 1000000000) exp10 = exp10 * 10 + (s[i] - '0');
            i++;
        }
        if (eneg) exp10 = -exp10;
        real = 1;
    }
    if (real) {
        if (realOverflows(s, is, ie, fs, fe, exp10)) { p->i = i; return fail(p, "real number overflow"); }
    } else {
        static const char kMax[] = "9223372036854775807", kMin[] = "9223372036854775808";
        size_t d = ie - is;
        if (d > 19 || (d == 19 && memcmp(s + is, neg ? kMin : kMax, 19) > 0)) {
            p->i = i;
            return fail(p, neg ? "too big negative integer" : "too big integer");
        }
    }
    p->i = i;
    return 0;
}

/* ---- duplicate keys ------------------------------------------------------------------------ */

/* Compare two keys by decoded length, then decoded bytes. */
static int keyCmp(const unsigned char *s, const keyent *x, const keyent *y) {
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    if (x->rawlen == x->len && y->rawlen == y->len) return memcmp(s + x->off, s + y->off, x->len);
    size_t i = x->off, j = y->off;
    unsigned char bx[4], by[4];
    size_t nx = 0, ny = 0, kx = 0, ky = 0;
    for (uint32_t m = 0; m < x->len; m++) {
        if (kx == nx) { nx = decodeUnit(s, &i, bx); kx = 0; }
        if (ky == ny) { ny = decodeUnit(s, &j, by); ky = 0; }
        if (bx[kx] != by[ky]) return bx[kx] < by[ky] ? -1 : 1;
        kx++;
        ky++;
    }
    return 0;
}

static void siftDown(const unsigned char *s, keyent *k, size_t root, size_t n) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && keyCmp(s, &k[c], &k[c + 1]) < 0) c++;
        if (keyCmp(s, &k[root], &k[c]) >= 0) return;
        keyent t = k[root]; k[root] = k[c]; k[c] = t;
        root = c;
    }
}

/* Does the object whose keys are k[0..n) repeat one? Reorders the keys. */
static int hasDuplicate(const unsigned char *s, keyent *k, size_t n) {
    if (n <= KEYS_SORT_FROM) {
        for (size_t x = 1; x < n; x++)
            for (size_t y = 0; y < x; y++)
                if (k[x].len == k[y].len && keyCmp(s, &k[x], &k[y]) == 0) return 1;
        return 0;
    }
    for (size_t r = n / 2; r-- > 0;) siftDown(s, k, r, n);
    for (size_t end = n - 1; end > 0; end--) {
        keyent t = k[0]; k[0] = k[end]; k[end] = t;
        siftDown(s, k, 0, end);
    }
    for (size_t x = 1; x < n; x++)
        if (keyCmp(s, &k[x - 1], &k[x]) == 0) return 1;
    return 0;
}

static int pushKey(parser *p, keyent e) {
    if (p->nkeys == p->capkeys) {
        if (p->capkeys >= UINT32_MAX / 2) return fail(p, "too many keys");
        keyent *k = lh_arena_alloc(p->a, (size_t)p->capkeys * 2 * sizeof(keyent));
        if (!k) return fail(p, "out of memory");
        memcpy(k, p->keys, (size_t)p->nkeys * sizeof(keyent));
        p->keys = k;
        p->capkeys *= 2;
    }
    p->keys[p->nkeys++] = e;
    return 0;
}

/* ---- the document ------------------------------------------------------------------------- */

/* The member slot a key at this level names, or NULL. */
static jval *memberSlot(parser *p, unsigned lvl, int in_set, const unsigned char *name, uint32_t len) {
    if (lvl == 1 && p->root_is_object) {
        for (int k = 0; k < R_COUNT; k++)
            if (kRootKeys[k].len == len && !memcmp(kRootKeys[k].name, name, len)) return &p->root[k];
    } else if (lvl == 2 && in_set >= 0) {
        for (int k = 0; k < I_COUNT; k++)
            if (kInputKeys[k].len == len && !memcmp(kInputKeys[k].name, name, len)) return &p->input[in_set][k];
    }
    return NULL;
}

/* jansson 2.14 drops one NUL byte right after a number or a keyword: its lexer ends those
 * tokens by ungetting the next byte, and its stream re-reads a fresh byte wherever its
 * buffer holds a NUL. So {"a":1<NUL>} was accepted, and must stay accepted. */
static inline void skipUngotNul(parser *p) {
    if (p->i < p->n && p->s[p->i] == 0) p->i++;
}

static int scanKeyword(parser *p) {
    size_t i = p->i;
    while (i < p->n && isAlpha(p->s[i])) i++;
    size_t w = i - p->i;
    const char *t = (const char *)p->s + p->i;
    if ((w == 4 && (!memcmp(t, "true", 4) || !memcmp(t, "null", 4))) || (w == 5 && !memcmp(t, "false", 5))) {
        p->i = i;
        return 0;
    }
    return fail(p, "invalid token");
}

/* A parser over json[0, len), its key table first in local[KEYS_LOCAL] (on the caller's stack). */
static void parserInit(parser *p, lh_arena *a, const char *json, size_t len, keyent *local) {
    memset(p, 0, sizeof(*p));
    p->s = (const unsigned char *)json;
    p->n = len;
    p->a = a;
    p->keys = local;
    p->capkeys = KEYS_LOCAL;
}

/* The whole document, iteratively. lvl counts the open containers, so the value being
 * read sits at level lvl (the top value at 0); obj says per level whether it is an object.
 * Members of the top object (level 1) and of its "input"/"tool_input" objects (level 2)
 * are recorded through slot. */
static int parseDocument(parser *p) {
    uint64_t obj[JSON_SYNTAX_DEPTH / 64] = {0}; /* a level's bit is set or cleared before it is read */
    unsigned lvl = 0;
    int in_set = -1;
    uint32_t base = 0;   /* first key entry of the innermost object */
    jval *slot = NULL;

    skipWs(p);
    if (p->i >= p->n || (p->s[p->i] != '{' && p->s[p->i] != '[')) return fail(p, "'[' or '{' expected");
    p->root_is_object = p->s[p->i] == '{';

value:
    if (lvl >= JSON_SYNTAX_DEPTH) return fail(p, "maximum parsing depth reached");
    if (lvl > JSON_MAX_DEPTH) p->too_deep = 1;
    if (p->i >= p->n) return fail(p, "premature end of input");
    switch (p->s[p->i]) {
    case '{': case '[': {
        int isobj = p->s[p->i] == '{';
        if (slot) slot->kind = isobj ? V_OBJECT : V_OTHER;
        if (!isobj && lvl == 2 && in_set >= 0 && slot == &p->input[in_set][I_PATHS]) {
            p->paths_lvl = lvl + 1;
            p->paths_set = in_set;
        } else if (!isobj && slot && lvl == 2 && (slot == &p->input[0][I_EDITS] || slot == &p->input[1][I_EDITS])) {
            p->edits = slot;          /* its text is kept for an_content.c */
            p->edits_lvl = lvl;
            slot->off = (uint32_t)p->i;
        }
        if (lvl == 1)
            in_set = !isobj ? -1 : slot == &p->root[R_INPUT] ? 0 : slot == &p->root[R_TOOL_INPUT] ? 1 : -1;
        if (isobj) obj[lvl / 64] |= 1ull << (lvl % 64);
        else obj[lvl / 64] &= ~(1ull << (lvl % 64));
        lvl++;
        p->i++;
        skipWs(p);
        slot = NULL;
        if (isobj) {
            if (pushKey(p, (keyent){base, KEY_MARKER, 0})) return -1;
            base = p->nkeys;
            if (p->i < p->n && p->s[p->i] == '}') { p->i++; goto close_object; }
            goto key;
        }
        if (p->i < p->n && p->s[p->i] == ']') { p->i++; lvl--; goto close_array; }
        goto value;
    }
    case '"': {
        size_t start = p->i + 1;
        uint32_t len;
        if (scanString(p, 0, &len)) return -1;
        if (slot) *slot = (jval){V_STRING, (uint32_t)start, (uint32_t)(p->i - 1 - start), len};
        else if (p->paths_lvl && lvl == p->paths_lvl) {   /* an element of the "paths" array */
            int ps = p->paths_set;
            if (p->npaths[ps] < LH_MCP_MAX_ARGS)
                p->paths[ps][p->npaths[ps]++] = (jval){V_STRING, (uint32_t)start, (uint32_t)(p->i - 1 - start), len};
            else p->paths_more[ps] = 1;
        }
        break;
    }
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        if (scanNumber(p)) return -1;
        if (slot) slot->kind = V_OTHER;
        skipUngotNul(p);
        break;
    default:
        if (!isAlpha(p->s[p->i])) return fail(p, "invalid token");
        if (scanKeyword(p)) return -1;
        if (slot) slot->kind = V_OTHER;
        skipUngotNul(p);
        break;
    }

after_value:
    if (lvl < p->paths_lvl) p->paths_lvl = 0;   /* the "paths" array closed */
    if (lvl == 0) goto end;
    skipWs(p);
    if (p->i >= p->n) return fail(p, "premature end of input");
    if (obj[(lvl - 1) / 64] & (1ull << ((lvl - 1) % 64))) {
        if (p->s[p->i] == ',') { p->i++; skipWs(p); goto key; }
        if (p->s[p->i] == '}') { p->i++; goto close_object; }
        return fail(p, "'}' expected");
    }
    if (p->s[p->i] == ',') { p->i++; skipWs(p); slot = NULL; goto value; }
    if (p->s[p->i] == ']') { p->i++; lvl--; goto close_array; }
    return fail(p, "']' expected");

close_array:
    if (p->edits && lvl == p->edits_lvl) {
        p->edits->rawlen = (uint32_t)(p->i - p->edits->off);
        p->edits = NULL;
    }
    goto after_value;

close_object:
    if (hasDuplicate(p->s, p->keys + base, p->nkeys - base)) { p->i--; return fail(p, "duplicate object key"); }
    LH_ASSERT(base > 0 && p->keys[base - 1].rawlen == KEY_MARKER);   /* the object's marker */
    p->nkeys = base - 1;
    base = p->keys[base - 1].off;
    lvl--;
    goto after_value;

key: {
    if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "string or '}' expected");
    keyent e;
    e.off = (uint32_t)(p->i + 1);
    if (scanString(p, 1, &e.len)) return -1;
    e.rawlen = (uint32_t)(p->i - 1 - e.off);
    if (pushKey(p, e)) return -1;
    slot = NULL;
    if ((lvl == 1 || (lvl == 2 && in_set >= 0)) && e.len < KEY_NAME_MAX) {
        unsigned char dec[KEY_NAME_MAX];
        const unsigned char *name = p->s + e.off;
        if (e.rawlen != e.len) {
            decodeInto(p->s + e.off, e.rawlen, dec);
            name = dec;
        }
        slot = memberSlot(p, lvl, in_set, name, e.len);
    }
    skipWs(p);
    if (p->i >= p->n || p->s[p->i] != ':') return fail(p, "':' expected");
    p->i++;
    skipWs(p);
    goto value;
}

end:
    skipWs(p);
    if (p->i != p->n) return fail(p, "end of file expected");
    return 0;
}

/* ---- the request ---------------------------------------------------------------------- */

static const char *dupStr(lh_arena *a, const parser *p, const jval *v) {
    if (v->kind != V_STRING) return NULL;
    return decodeString(a, p->s, v);
}

/* A string member that must be present. */
static int need(lh_arena *a, const parser *p, const jval *v, const char *key, const char **out,
                size_t max, const char *tool, char *err, size_t errlen) {
    if (v->kind != V_STRING) {
        snprintf(err, errlen, "%s input needs a string \"%s\"", tool, key);
        return -1;
    }
    if (v->len > max) {
        snprintf(err, errlen, "\"%s\" is longer than %zu bytes", key, max);
        return -1;
    }
    *out = dupStr(a, p, v);
    return *out ? 0 : -1;
}

/* Line and column (1-based, columns in bytes) of offset at. */
static void position(const unsigned char *s, size_t at, int *line, int *col) {
    size_t l = 1, start = 0;
    for (size_t i = 0; i < at; i++)
        if (s[i] == '\n') { l++; start = i + 1; }
    *line = (int)l;
    *col = (int)(at - start + 1);
}

static int parseRequest(lh_arena *a, const char *json, size_t len, lh_request *out,
                        char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (len == 0) { snprintf(err, errlen, "empty request: expected a JSON object"); return -1; }
    if (len > LH_MAX_REQUEST_BYTES) {
        snprintf(err, errlen, "request is %zu bytes; the limit is %u", len, LH_MAX_REQUEST_BYTES);
        return -1;
    }
    keyent local[KEYS_LOCAL];
    parser p;
    parserInit(&p, a, json, len, local);
    if (parseDocument(&p)) {
        int line, col;
        position(p.s, p.at, &line, &col);
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", line, col, p.what);
        return -1;
    }
    if (!p.root_is_object) { snprintf(err, errlen, "request must be a JSON object"); return -1; }
    if (p.too_deep) {
        snprintf(err, errlen, "request JSON is nested deeper than %d", JSON_MAX_DEPTH);
        return -1;
    }
    /* Native: tool/input/agent/session; hook payload: tool_name/tool_input/session_id */
    const jval *tool = &p.root[R_TOOL], *input = &p.root[R_INPUT];
    const jval *members = p.input[0];
    if (tool->kind == V_NONE) {
        tool = &p.root[R_TOOL_NAME];
        input = &p.root[R_TOOL_INPUT];
        members = p.input[1];
        out->session = dupStr(a, &p, &p.root[R_SESSION_ID]);
        out->agent = dupStr(a, &p, &p.root[R_AGENT_ID]);
        out->event = dupStr(a, &p, &p.root[R_HOOK_EVENT]);
        out->permission_mode = dupStr(a, &p, &p.root[R_PERMISSION_MODE]);
    } else {
        out->session = dupStr(a, &p, &p.root[R_SESSION]);
        out->agent = dupStr(a, &p, &p.root[R_AGENT]);
        out->role = dupStr(a, &p, &p.root[R_ROLE]);
    }
    if (tool->kind != V_STRING || tool->len == 0 || tool->len > 256) {
        snprintf(err, errlen, "request needs a \"tool\" (or \"tool_name\") string of 1 to 256 bytes");
        return -1;
    }
    if (input->kind != V_NONE && input->kind != V_OBJECT) {
        snprintf(err, errlen, "\"input\"/\"tool_input\" must be an object");
        return -1;
    }
    static const jval kNone[I_COUNT];
    if (input->kind == V_NONE) members = kNone;
    out->tool_name = dupStr(a, &p, tool);
    out->tool = lh_tool_from_name(out->tool_name);
    out->home = dupStr(a, &p, &p.root[R_HOME]);
    const jval *cwd = &p.root[R_CWD];
    if (cwd->kind != V_NONE && cwd->kind != V_STRING) { snprintf(err, errlen, "\"cwd\" must be a string"); return -1; }
    if (cwd->kind == V_STRING) {
        unsigned char first[4] = {0};
        size_t at = cwd->off;
        if (cwd->len > 0) decodeUnit(p.s, &at, first);
        if (first[0] != '/' || cwd->len > LH_MAX_PATH_BYTES) {
            snprintf(err, errlen, "\"cwd\" must be an absolute path of at most %u bytes", LH_MAX_PATH_BYTES);
            return -1;
        }
        out->cwd = dupStr(a, &p, cwd);
    }
    switch (out->tool) {
    case LH_TOOL_BASH:
        if (need(a, &p, &members[I_COMMAND], "command", &out->command, LH_MAX_REQUEST_BYTES, "Bash", err, errlen)) return -1;
        out->command_len = members[I_COMMAND].len;
        break;
    case LH_TOOL_WRITE: case LH_TOOL_EDIT: case LH_TOOL_MULTIEDIT: case LH_TOOL_READ:
        if (need(a, &p, &members[I_FILE_PATH], "file_path", &out->file_path, LH_MAX_PATH_BYTES, out->tool_name, err, errlen)) return -1;
        /* what the file will hold: Write content, Edit new_string, MultiEdit's edits as
         * their JSON text (an_content.c) */
        out->content = dupStr(a, &p, &members[out->tool == LH_TOOL_WRITE ? I_CONTENT : I_NEW_STRING]);
        if (out->tool == LH_TOOL_MULTIEDIT && members[I_EDITS].kind == V_OTHER && members[I_EDITS].rawlen)
            out->edits_json = lh_arena_strndup(a, json + members[I_EDITS].off, members[I_EDITS].rawlen);
        break;
    case LH_TOOL_NOTEBOOKEDIT:
        if (members[I_NOTEBOOK_PATH].kind != V_NONE) {
            if (need(a, &p, &members[I_NOTEBOOK_PATH], "notebook_path", &out->file_path, LH_MAX_PATH_BYTES, "NotebookEdit", err, errlen)) return -1;
        } else if (need(a, &p, &members[I_FILE_PATH], "file_path", &out->file_path, LH_MAX_PATH_BYTES, "NotebookEdit", err, errlen)) return -1;
        out->content = dupStr(a, &p, &members[I_NEW_SOURCE]);
        break;
    case LH_TOOL_GLOB: case LH_TOOL_GREP: case LH_TOOL_LS: {
        const jval *pv = &members[I_PATH];
        if (pv->kind != V_NONE && pv->kind != V_STRING) { snprintf(err, errlen, "\"path\" must be a string"); return -1; }
        if (pv->kind == V_STRING && pv->len > LH_MAX_PATH_BYTES) { snprintf(err, errlen, "\"path\" is too long"); return -1; }
        out->path = dupStr(a, &p, pv);
        break;
    }
    case LH_TOOL_WEBFETCH:
        out->url = dupStr(a, &p, &members[I_URL]);
        break;
    case LH_TOOL_MCP: {
        /* the string arguments an MCP tool may take as paths (an_mcp.c judges them) */
        static const int kPathKeys[] = {I_PATH, I_FILE_PATH, I_FILENAME, I_DIRECTORY, I_SOURCE,
                                        I_DESTINATION, I_TARGET, I_URI, I_PATHS, I_SQL, I_QUERY};
        for (size_t k = 0; k < sizeof(kPathKeys) / sizeof(kPathKeys[0]); k++) {
            const jval *v = &members[kPathKeys[k]];
            /* a statement too long to keep is not judged: an_mcp escalates (mcp_more) */
            int text = kPathKeys[k] == I_SQL || kPathKeys[k] == I_QUERY;
            if (text && v->kind == V_STRING && v->len > LH_MAX_PATH_BYTES) out->mcp_more = 1;
            if (v->kind != V_STRING || v->len == 0 || v->len > LH_MAX_PATH_BYTES) continue;
            const char *str = dupStr(a, &p, v);
            if (!str) { snprintf(err, errlen, "out of memory"); return -1; }
            out->mcp_keys[out->nmcp_args] = kInputKeys[kPathKeys[k]].name;
            out->mcp_args[out->nmcp_args++] = str;
        }
        /* "paths": [..] (read_multiple_files): each element, as far as there is room */
        int set = members == p.input[1] ? 1 : 0;
        if (members == kNone) set = -1;
        for (int k = 0; set >= 0 && k < p.npaths[set]; k++) {
            const jval *v = &p.paths[set][k];
            if (v->len == 0 || v->len > LH_MAX_PATH_BYTES) continue;
            if (out->nmcp_args == LH_MCP_MAX_ARGS) { out->mcp_more = 1; break; }
            const char *str = dupStr(a, &p, v);
            if (!str) { snprintf(err, errlen, "out of memory"); return -1; }
            out->mcp_keys[out->nmcp_args] = "paths";
            out->mcp_args[out->nmcp_args++] = str;
        }
        if (set >= 0 && p.paths_more[set]) out->mcp_more = 1;
        out->url = dupStr(a, &p, &members[I_URL]);
        /* a "command" string (shell servers' run_command): an_mcp.c has it parsed as Bash */
        const jval *cv = &members[I_COMMAND];
        if (cv->kind == V_STRING && cv->len > 0 && cv->len <= LH_MAX_REQUEST_BYTES) {
            out->command = dupStr(a, &p, cv);
            if (!out->command) { snprintf(err, errlen, "out of memory"); return -1; }
            out->command_len = cv->len;
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

/* An allocation that failed anywhere refuses the request, also where the parse went on
 * without the field it was copying (a Write's content, the agent): a request missing a
 * member it sent must not reach the engine (test_oom). */
int lh_request_parse_json(lh_arena *a, const char *json, size_t len, lh_request *out,
                          char *err, size_t errlen) {
    unsigned long failures = lh_arena_failures(a);
    int rc = parseRequest(a, json, len, out, err, errlen);
    if (lh_arena_failures(a) != failures) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return rc;
}

int lh_json_well_formed(lh_arena *a, const char *json, size_t len, uint64_t *strbytes) {
    keyent local[KEYS_LOCAL];
    parser p;
    parserInit(&p, a, json, len, local);
    if (parseDocument(&p)) return 0;
    *strbytes = p.strbytes;
    return 1;
}
