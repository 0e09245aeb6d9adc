/* policy.c — operator policy as code: parse a YAML bundle once, match it on every
 * decision.
 *
 * Parsing (cold): libyaml's event API builds a small bounded tree (depth, size, no
 * aliases), which is compiled into rules, indexes and analyzer settings. Every problem
 * is a diagnostic with a line and a column; a bundle with any error does not load.
 *
 * Matching (hot, lh_policy_match / lh_policy_adjust): rules that name literal programs
 * sit in a hash keyed by program, the rest in short lists; cheap keys are checked
 * before paths and regexes; regexes are JIT-compiled at load. The only memory used per
 * decision comes from the ctx arena (findings, path classification, PCRE2 match data).
 *
 * The format is documented in docs/policy.md. */
#include "engine/policy.h"
#include "engine/packs.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include "engine/analyze.h"
#include "engine/paths.h"
#include "engine/rules.h"

/* The bundle compiled into the binary (build/gen/default_policy.c, from
 * policies/default.yaml by scripts/embed.sh). */
extern const char lh_default_policy_yaml[];
extern const size_t lh_default_policy_yaml_len;
extern const char lh_default_policy_yaml_sha256[];   /* its revision, hashed at build time */

/* ------------------------------------------------------------------------------ */
/* Bounds                                                                          */
/* ------------------------------------------------------------------------------ */

#define MAX_DEPTH      16       /* YAML nesting */
#define MAX_NODES      400000   /* YAML nodes in one bundle */
#define MAX_CHILDREN   (2 * LH_POLICY_MAX_RULES) /* items of one list, keys+values of a map */
#define MAX_STR        1024     /* bytes of one string (reason, pattern, regex…) */
#define MAX_ID         64       /* bytes of a rule id */
#define MAX_REVISION   128
#define MAX_LIST       256      /* values of one list-valued key */
#define MAX_EXCEPTIONS 256      /* exceptions of one analyzer */
#define REGEX_MATCH_LIMIT 200000u /* PCRE2 backtracking budget per match */
#define CV_PATHS       32       /* path operands classified once per command */

/* ------------------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4)                                                            */
/* ------------------------------------------------------------------------------ */

/* Hand-written on purpose: the revision hash is computed in lighthouse-hook too, and
 * linking libcrypto there would cost about 1 ms of start-up per tool call (DESIGN.md,
 * "start-up cost"). It hashes a policy once per load, so speed does not matter. */

static const uint32_t shaK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void shaBlock(uint32_t h[8], const unsigned char *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) +
                      shaK[i] + w[i];
        uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void lh_policy_sha256(const void *data, size_t len, unsigned char out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    size_t n = len;
    while (n >= 64) { shaBlock(h, p); p += 64; n -= 64; }
    unsigned char tail[128] = {0};
    memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tl = n + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
    shaBlock(h, tail);
    if (tl == 128) shaBlock(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

/* ------------------------------------------------------------------------------ */
/* Globs                                                                           */
/* ------------------------------------------------------------------------------ */

/* Match one pattern element at *pp against ch; on a match advance *pp past it. */
static int globChar(const char **pp, unsigned char ch, int pathmode) {
    const char *p = *pp;
    if (*p == '?') {
        if (pathmode && ch == '/') return 0;
        *pp = p + 1;
        return 1;
    }
    if (*p == '[') {
        const char *q = p + 1;
        int neg = 0, hit = 0;
        if (*q == '!' || *q == '^') { neg = 1; q++; }
        const char *start = q;
        while (*q && (*q != ']' || q == start)) {
            unsigned char lo = (unsigned char)*q, hi = lo;
            if (q[1] == '-' && q[2] && q[2] != ']') { hi = (unsigned char)q[2]; q += 2; }
            if (ch >= lo && ch <= hi) hit = 1;
            q++;
        }
        if (*q == ']') {                 /* a well-formed class */
            if (pathmode && ch == '/') return 0;
            if (hit == neg) return 0;
            *pp = q + 1;
            return 1;
        }
        /* no closing ]: the [ is literal */
    }
    if (*p == '\\' && p[1]) p++;
    if ((unsigned char)*p != ch) return 0;
    *pp = p + 1;
    return 1;
}

/* Iterative glob with two backtrack points: the last single * (which in pathmode stays
 * inside one path segment) and the last ** (which crosses segments). Linear-ish: no
 * recursion, so a hostile pattern cannot blow the stack. */
int lh_policy_glob_match(const char *pat, const char *s, int pathmode) {
    const char *p = pat;
    const char *sp = NULL, *ss = NULL;       /* single star: pattern after it, text */
    const char *dp = NULL, *ds = NULL;       /* double star */
    int dslash = 0;                          /* the ** was "**" followed by '/' */
    for (;;) {
        if (*p == '*') {
            int n = 0;
            while (*p == '*') { p++; n++; }
            if (!pathmode || n >= 2) {
                dslash = pathmode && *p == '/' && (p - n == pat || p[-n - 1] == '/');
                if (dslash) p++;             /* "**" + "/" spans whole segments */
                dp = p; ds = s; sp = NULL;
                if (!*p && !dslash) return 1;
            } else {
                sp = p; ss = s;
            }
            continue;
        }
        if (!*s) {
            if (!*p) return 1;
            if (pathmode && p[0] == '/' && p[1] == '*' && p[2] == '*' && !p[3]) return 1;
            if (dslash && dp == p && !*p) return 1;
            return 0;
        }
        if (*p && globChar(&p, (unsigned char)*s, pathmode)) { s++; continue; }
        if (sp && *ss && *ss != '/') { ss++; s = ss; p = sp; continue; }
        if (dp && *ds) {
            if (dslash) {
                const char *sl = strchr(ds, '/');
                if (!sl) return 0;
                ds = sl + 1;
            } else {
                ds++;
            }
            s = ds; p = dp; sp = NULL;
            continue;
        }
        return 0;
    }
}

static int hasGlobChars(const char *s) {
    return strpbrk(s, "*?[\\") != NULL;
}

/* ------------------------------------------------------------------------------ */
/* The compiled policy                                                             */
/* ------------------------------------------------------------------------------ */

typedef struct plist {
    const char **v;
    int n;
} plist;

/* Match keys of a rule (bits of prule.keys). */
enum {
    K_TOOL = 1u << 0, K_PROGRAM = 1u << 1, K_SUBCMD = 1u << 2, K_FLAGS = 1u << 3,
    K_ARGS = 1u << 4, K_ANYARG = 1u << 5, K_CLASS = 1u << 6, K_PATH = 1u << 7,
    K_AGENT = 1u << 8, K_ROLE = 1u << 9, K_SUDO = 1u << 10, K_REGEX = 1u << 11,
};
#define K_BASH_ONLY (K_PROGRAM | K_SUBCMD | K_FLAGS | K_ARGS | K_ANYARG | K_SUDO)
#define K_PER_CMD   (K_BASH_ONLY | K_CLASS | K_PATH)

/* One entry of `flags:`: "-rf" (each letter, or the exact word), "--force" (also
 * "--force=…"), "--force=yes" (exactly). */
typedef struct pflag {
    uint64_t shorts;      /* letters of a single-dash cluster */
    const char *exact;    /* the word as written */
    const char *longname; /* "force" for --force (no '='); NULL otherwise */
    size_t longlen;
} pflag;

typedef struct prule {
    const char *id;
    int line, col;
    int index;            /* position in the file */
    lh_action action;
    lh_risk risk;
    const char *reason;
    const char *instead;
    const char *cancel_tag; /* "policy:<id>", put in overridden_by */
    unsigned keys;        /* K_* */
    plist tools, programs, subcmds, args, anyargs, paths, agents, roles, overrides;
    pflag *flags;
    int nflags;
    unsigned classes;     /* bit per lh_path_class */
    int sudo;
    pcre2_code *re;
    int re_jit;           /* JIT compiled: use pcre2_jit_match */
    int re_slot;          /* per-decision result cache slot */
    int prog_indexed;     /* reached only through the program hash */
} prule;

/* One `except:` entry of an analyzer (all its keys must hold). */
typedef struct pexcept {
    plist paths, programs, agents, roles, tools;
    unsigned classes;
    unsigned keys;        /* K_PATH, K_CLASS, K_PROGRAM, K_AGENT, K_ROLE, K_TOOL */
} pexcept;

/* The settings of one analyzer id, after merging every entry that names it. */
typedef struct anset {
    const char *id;
    int disabled;
    int has_action, has_risk;
    lh_action action;
    lh_risk risk;
    const char *reason, *instead;
    const pexcept **exc;
    int nexc;
    const char *tag_disabled;   /* "disabled:<id>" */
    const char *tag_except;     /* "exception:<id>" */
} anset;

typedef struct progslot {
    const char *name;     /* NULL: empty */
    uint32_t hash;
    int *rules;           /* rule indexes, ascending */
    int nrules;
} progslot;

typedef struct anslot {
    const char *id;
    uint32_t hash;
    const anset *set;
} anslot;

struct lh_policy {
    lh_arena *arena;          /* everything below lives here (but the pcre2 codes) */
    const char *name;
    const char *revision;
    lh_action unknown_tool;
    const char **allowed_hosts;     /* settings.allowed_hosts: host globs */
    int nallowed_hosts;
    prule *rules;
    int nrules;
    /* indexes */
    int *bash_req; int nbash_req;   /* Bash, once per request (no per-command key) */
    int *bash_any; int nbash_any;   /* Bash, per command, no literal program */
    progslot *progs; uint32_t progmask; /* Bash, per command, by literal program */
    int *other; int nother;         /* every other tool */
    anslot *ans; uint32_t ansmask;  /* analyzer settings by id; NULL when none */
    int has_overrides;              /* some allow rule has `overrides` */
    unsigned packs_off;             /* bit i: rule pack lh_packs[i] is off (packs.h) */
    int nregex;
    pcre2_match_context *mctx;
};

/* ------------------------------------------------------------------------------ */
/* YAML → a small tree                                                             */
/* ------------------------------------------------------------------------------ */

typedef enum { N_SCALAR, N_SEQ, N_MAP } ntype;

typedef struct ynode {
    ntype type;
    int line, col;        /* 1-based */
    const char *s;        /* scalar text (NUL-terminated, in the parse arena) */
    size_t len;
    int plain;            /* unquoted scalar: null/true/false have meaning */
    struct ynode **kids;  /* list items; for a map key0, value0, key1, value1… */
    int nkids, capkids;
} ynode;

typedef struct pstate {
    lh_policy *pol;
    lh_arena *tmp;        /* the tree, freed after compiling */
    lh_policy_diag *diags;
    int maxdiags;
    int ndiags;
    int nerr;
} pstate;

static void diagAt(pstate *ps, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diagAt(pstate *ps, int line, int col, const char *fmt, ...) {
    ps->nerr++;
    if (!ps->diags || ps->ndiags >= ps->maxdiags) return;
    lh_policy_diag *d = &ps->diags[ps->ndiags++];
    d->line = line;
    d->column = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
}

#define diag(ps, n, ...) diagAt((ps), (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

static int addKid(pstate *ps, ynode *parent, ynode *kid) {
    if (parent->nkids >= MAX_CHILDREN) {
        diag(ps, kid, "too many entries in one %s (at most %d)",
             parent->type == N_MAP ? "map" : "list", MAX_CHILDREN);
        return -1;
    }
    if (parent->nkids == parent->capkids) {
        int cap = parent->capkids ? parent->capkids * 2 : 8;
        ynode **k = lh_arena_grow(ps->tmp, parent->kids, sizeof(ynode *) * (size_t)parent->capkids,
                                  sizeof(ynode *) * (size_t)cap);
        if (!k) { diag(ps, kid, "out of memory"); return -1; }
        parent->kids = k;
        parent->capkids = cap;
    }
    parent->kids[parent->nkids++] = kid;
    return 0;
}

/* Parse yaml into a tree. Returns the root, or NULL after a diagnostic. */
static ynode *buildTree(pstate *ps, const char *yaml, size_t len) {
    yaml_parser_t parser;
    yaml_event_t ev;
    ynode *stack[MAX_DEPTH + 1];
    int depth = 0, ndocs = 0;
    long nnodes = 0;
    ynode *root = NULL;
    int ok = 1, done = 0;

    if (!yaml_parser_initialize(&parser)) { diagAt(ps, 0, 0, "out of memory"); return NULL; }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    while (ok && !done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            const char *ctx = parser.context;
            diagAt(ps, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
                   "YAML syntax error: %s%s%s", parser.problem ? parser.problem : "unknown",
                   ctx ? " " : "", ctx ? ctx : "");
            ok = 0;
            break;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1) {
                diagAt(ps, line, col, "a policy file holds one YAML document, not several");
                ok = 0;
            }
            break;
        case YAML_ALIAS_EVENT:
            diagAt(ps, line, col, "YAML aliases (*name) are not supported; repeat the value");
            ok = 0;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++nnodes > MAX_NODES) {
                diagAt(ps, line, col, "too many YAML nodes (at most %d)", MAX_NODES);
                ok = 0;
                break;
            }
            n = lh_arena_calloc(ps->tmp, sizeof(*n));
            if (!n) { diagAt(ps, line, col, "out of memory"); ok = 0; break; }
            n->line = line;
            n->col = col;
            if (ev.type == YAML_SCALAR_EVENT) {
                n->type = N_SCALAR;
                n->len = ev.data.scalar.length;
                n->s = lh_arena_strndup(ps->tmp, (const char *)ev.data.scalar.value, n->len);
                n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                if (!n->s) { diagAt(ps, line, col, "out of memory"); ok = 0; break; }
            } else {
                n->type = ev.type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP;
            }
            if (depth > 0) {
                if (addKid(ps, stack[depth - 1], n) < 0) { ok = 0; break; }
            } else {
                root = n;
            }
            if (n->type != N_SCALAR) {
                if (depth >= MAX_DEPTH) {
                    diagAt(ps, line, col, "nesting deeper than %d levels", MAX_DEPTH);
                    ok = 0;
                    break;
                }
                stack[depth++] = n;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) depth--;
            break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (!ok) return NULL;
    if (!root || (root->type == N_SCALAR && root->plain &&
                  (root->len == 0 || !strcmp(root->s, "~") || !strcmp(root->s, "null")))) {
        diagAt(ps, 1, 1, "the policy is empty; start with `rules: []`");
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------------------------------ */
/* Compiling: small typed readers                                                  */
/* ------------------------------------------------------------------------------ */

static const char *typeName(const ynode *n) {
    return n->type == N_MAP ? "a map" : n->type == N_SEQ ? "a list" : "a scalar";
}

static int isNull(const ynode *n) {
    return n->type == N_SCALAR && n->plain &&
           (n->len == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") || !strcmp(n->s, "Null") ||
            !strcmp(n->s, "NULL"));
}

/* A non-empty string of at most max bytes, without NUL; copied into the policy arena. */
static const char *getStr(pstate *ps, const ynode *n, const char *what, size_t max) {
    if (n->type != N_SCALAR || isNull(n)) {
        diag(ps, n, "%s must be a string, not %s", what, isNull(n) ? "empty" : typeName(n));
        return NULL;
    }
    if (n->len == 0) { diag(ps, n, "%s must not be empty", what); return NULL; }
    if (n->len > max) { diag(ps, n, "%s is longer than %zu bytes", what, max); return NULL; }
    if (memchr(n->s, 0, n->len)) { diag(ps, n, "%s contains a NUL byte", what); return NULL; }
    const char *s = lh_arena_strndup(ps->pol->arena, n->s, n->len);
    if (!s) diag(ps, n, "out of memory");
    return s;
}

static int getBool(pstate *ps, const ynode *n, const char *what, int *out) {
    if (n->type == N_SCALAR && n->plain) {
        if (!strcmp(n->s, "true") || !strcmp(n->s, "True") || !strcmp(n->s, "TRUE")) {
            *out = 1;
            return 0;
        }
        if (!strcmp(n->s, "false") || !strcmp(n->s, "False") || !strcmp(n->s, "FALSE")) {
            *out = 0;
            return 0;
        }
    }
    diag(ps, n, "%s must be true or false", what);
    return -1;
}

static int parseAction(const char *s, lh_action *out) {
    if (!strcmp(s, "allow")) *out = LH_ALLOW;
    else if (!strcmp(s, "escalate")) *out = LH_ESCALATE;
    else if (!strcmp(s, "deny")) *out = LH_DENY;
    else return -1;
    return 0;
}

static int parseRisk(const char *s, lh_risk *out) {
    if (!strcmp(s, "low")) *out = LH_RISK_LOW;
    else if (!strcmp(s, "medium")) *out = LH_RISK_MEDIUM;
    else if (!strcmp(s, "high")) *out = LH_RISK_HIGH;
    else if (!strcmp(s, "critical")) *out = LH_RISK_CRITICAL;
    else return -1;
    return 0;
}

static int getAction(pstate *ps, const ynode *n, lh_action *out) {
    if (n->type == N_SCALAR && parseAction(n->s, out) == 0) return 0;
    diag(ps, n, "action must be allow, deny or escalate");
    return -1;
}

static int getRisk(pstate *ps, const ynode *n, lh_risk *out) {
    if (n->type == N_SCALAR && parseRisk(n->s, out) == 0) return 0;
    diag(ps, n, "risk must be low, medium, high or critical");
    return -1;
}

/* check(ps, item, value) validates one list value; returns 0 or -1 (after a diag). */
typedef int (*itemcheck)(pstate *ps, const ynode *n, const char *v);

/* A string or a list of strings (OR). */
static int getList(pstate *ps, const ynode *n, const char *what, plist *out, itemcheck check) {
    const ynode *one = n;
    const ynode *const *items = &one;
    int count = 1;
    if (n->type == N_SEQ) {
        items = (const ynode *const *)n->kids;
        count = n->nkids;
        if (count == 0) { diag(ps, n, "%s must not be an empty list", what); return -1; }
        if (count > MAX_LIST) { diag(ps, n, "%s has more than %d values", what, MAX_LIST); return -1; }
    } else if (n->type != N_SCALAR) {
        diag(ps, n, "%s must be a string or a list of strings, not %s", what, typeName(n));
        return -1;
    }
    out->v = lh_arena_alloc(ps->pol->arena, sizeof(char *) * (size_t)count);
    if (!out->v) { diag(ps, n, "out of memory"); return -1; }
    out->n = 0;
    int bad = 0;
    for (int i = 0; i < count; i++) {
        const char *v = getStr(ps, items[i], what, MAX_STR);
        if (!v || (check && check(ps, items[i], v) < 0)) { bad = 1; continue; }
        out->v[out->n++] = v;
    }
    return bad ? -1 : 0;
}

static int listMatch(const plist *l, const char *s, int pathmode) {
    for (int i = 0; i < l->n; i++)
        if (lh_policy_glob_match(l->v[i], s, pathmode)) return 1;
    return 0;
}

/* Unknown key: name the keys that are allowed. */
static void diagKey(pstate *ps, const ynode *k, const char *where, const char *const *keys) {
    char list[200];
    size_t o = 0;
    list[0] = 0;
    for (int i = 0; keys[i] && o < sizeof(list); i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", keys[i]);
    diag(ps, k, "unknown key '%.60s' in %s (expected one of: %s)", k->s, where, list);
}

static int keyIndex(const char *k, const char *const *keys) {
    for (int i = 0; keys[i]; i++)
        if (!strcmp(k, keys[i])) return i;
    return -1;
}

/* Check that a map's keys are plain strings, unique and known. Returns 0 when usable. */
static int checkMap(pstate *ps, const ynode *n, const char *where, const char *const *keys) {
    if (n->type != N_MAP) {
        diag(ps, n, "%s must be a map, not %s", where, typeName(n));
        return -1;
    }
    int bad = 0;
    for (int i = 0; i < n->nkids; i += 2) {
        const ynode *k = n->kids[i];
        if (k->type != N_SCALAR) { diag(ps, k, "a key in %s must be a string", where); bad = 1; continue; }
        if (keys && keyIndex(k->s, keys) < 0) { diagKey(ps, k, where, keys); bad = 1; continue; }
        for (int j = 0; j < i; j += 2)
            if (n->kids[j]->type == N_SCALAR && !strcmp(n->kids[j]->s, k->s)) {
                diag(ps, k, "duplicate key '%.60s' in %s (first at line %d)", k->s, where,
                     n->kids[j]->line);
                bad = 1;
                break;
            }
    }
    return bad ? -1 : 0;
}

/* ------------------------------------------------------------------------------ */
/* Compiling: value checks                                                         */
/* ------------------------------------------------------------------------------ */

static int checkProgram(pstate *ps, const ynode *n, const char *v) {
    if (strchr(v, '/')) {
        diag(ps, n, "program '%.60s' must be a basename (write 'rm', not '/bin/rm')", v);
        return -1;
    }
    return 0;
}

static int checkFlag(pstate *ps, const ynode *n, const char *v) {
    if (v[0] != '-' || !v[1] || (v[1] == '-' && !v[2])) {
        diag(ps, n, "flag '%.60s' must look like -r, -rf, --force or --force=value", v);
        return -1;
    }
    if (v[1] != '-')
        for (const char *q = v + 1; *q; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) {
                diag(ps, n, "short flag '%.60s' may hold only letters and digits", v);
                return -1;
            }
    return 0;
}

static int checkPathGlob(pstate *ps, const ynode *n, const char *v) {
    if (strstr(v, "/../") || !strncmp(v, "../", 3) ||
        (strlen(v) >= 3 && !strcmp(v + strlen(v) - 3, "/..")) || !strcmp(v, "..")) {
        diag(ps, n, "path '%.60s' must not contain '..' (paths are matched after normalising)", v);
        return -1;
    }
    if (v[0] == '~' && v[1] && v[1] != '/') {
        diag(ps, n, "path '%.60s': only ~/ (the agent's home) is supported", v);
        return -1;
    }
    return 0;
}

static int checkPathClass(pstate *ps, const ynode *n, const char *v) {
    lh_path_class c;
    if (lh_path_class_parse(v, &c) == 0) return 0;
    diag(ps, n, "unknown path class '%.60s' (expected project, temp, home, secret, system, "
                "device, virtual, root, other or unknown)", v);
    return -1;
}

/* Ids that keep the engine failing closed: they cannot be disabled, allowed, excepted
 * or overridden ("a parse failure is never an allow"). Globs skip them. */
static int isProtected(const char *id) {
    return !strcmp(id, "shell.parse-error") || !strcmp(id, "shell.too-complex") ||
           !strcmp(id, "shell.bad-bytes") || !strcmp(id, "engine.error") ||
           !strcmp(id, "engine.budget");
}

static int isAnalyzerId(const char *id) {
    return strcmp(id, "none") != 0 && lh_rule_find(id) != NULL;
}

/* How many analyzer ids the glob (or literal) names, protected ones excluded for globs. */
static int countAnalyzers(const char *pat) {
    if (!hasGlobChars(pat)) return isAnalyzerId(pat);
    int n = 0;
    for (int i = 0; i < LH_RULE__COUNT; i++)
        if (strcmp(lh_rules[i].id, "none") && !isProtected(lh_rules[i].id) &&
            lh_policy_glob_match(pat, lh_rules[i].id, 0))
            n++;
    return n;
}

/* tool.unknown is decided by settings.unknown_tool, and any policy rule that matches
 * the tool replaces it, so naming it in analyzers/overrides would do nothing. */
static int isUnknownTool(pstate *ps, const ynode *n, const char *v) {
    if (strcmp(v, "tool.unknown")) return 0;
    diag(ps, n, "tool.unknown is set with settings: unknown_tool, and any rule that matches "
                "the tool replaces it");
    return 1;
}

static int checkAnalyzerRef(pstate *ps, const ynode *n, const char *v) {
    if (!hasGlobChars(v) && isProtected(v)) {
        diag(ps, n, "'%s' keeps the engine failing closed and cannot be overridden", v);
        return -1;
    }
    if (isUnknownTool(ps, n, v)) return -1;
    if (countAnalyzers(v) == 0) {
        diag(ps, n, hasGlobChars(v) ? "pattern '%.60s' matches no analyzer id"
                                    : "unknown analyzer id '%.60s' (see docs/policy.md)", v);
        return -1;
    }
    return 0;
}

static int checkRuleId(pstate *ps, const ynode *n, const char *v) {
    for (const char *q = v; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '.' || *q == '-' || *q == '_' || *q == ':' || *q == '/')) {
            diag(ps, n, "rule id '%.60s' may hold only letters, digits and . - _ : /", v);
            return -1;
        }
    if (lh_rule_find(v)) {
        diag(ps, n, "rule id '%.60s' is a built-in analyzer id; pick another name", v);
        return -1;
    }
    if (!strncmp(v, "default.", 8) || !strncmp(v, "engine.", 7)) {
        diag(ps, n, "rule id '%.60s': the prefixes default. and engine. are reserved", v);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Compiling: rules                                                                */
/* ------------------------------------------------------------------------------ */

static const char *const ruleKeys[] = {"id", "action", "risk", "reason", "instead", "match",
                                       "overrides", NULL};
static const char *const matchKeys[] = {"tool", "program", "subcommand", "flags", "args",
                                        "any_arg", "path_class", "path", "agent", "role",
                                        "sudo", "regex", NULL};

static unsigned classMask(const plist *l) {
    unsigned m = 0;
    for (int i = 0; i < l->n; i++) {
        lh_path_class c;
        if (lh_path_class_parse(l->v[i], &c) == 0) m |= 1u << c;
    }
    return m;
}

static uint64_t shortBit(char ch) {
    if (ch >= 'a' && ch <= 'z') return 1ull << (ch - 'a');
    if (ch >= 'A' && ch <= 'Z') return 1ull << (26 + ch - 'A');
    if (ch >= '0' && ch <= '9') return 1ull << (52 + ch - '0');
    return 0;
}

static int compileFlags(pstate *ps, const ynode *n, prule *r) {
    plist l = {0};
    if (getList(ps, n, "flags", &l, checkFlag) < 0) return -1;
    r->flags = lh_arena_calloc(ps->pol->arena, sizeof(pflag) * (size_t)l.n);
    if (!r->flags) { diag(ps, n, "out of memory"); return -1; }
    for (int i = 0; i < l.n; i++) {
        pflag *f = &r->flags[r->nflags++];
        const char *v = l.v[i];
        f->exact = v;
        if (v[1] == '-') {
            if (!strchr(v, '=')) { f->longname = v + 2; f->longlen = strlen(v + 2); }
        } else {
            for (const char *q = v + 1; *q; q++) f->shorts |= shortBit(*q);
        }
    }
    return 0;
}

static int compileRegex(pstate *ps, const ynode *n, prule *r) {
    const char *src = getStr(ps, n, "regex", MAX_STR);
    if (!src) return -1;
    int err = 0;
    PCRE2_SIZE off = 0;
    r->re = pcre2_compile((PCRE2_SPTR)src, strlen(src), 0, &err, &off, NULL);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof(msg));
        /* the column of the character at fault (quoted scalars start one later) */
        int col = n->col + (n->plain ? 0 : 1) + (int)off;
        diagAt(ps, n->line, col, "regex error at offset %zu: %s", (size_t)off, (const char *)msg);
        return -1;
    }
    r->re_jit = pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE) == 0;
    r->re_slot = ps->pol->nregex++;
    return 0;
}

static void compileMatch(pstate *ps, const ynode *m, prule *r) {
    if (checkMap(ps, m, "match", matchKeys) < 0) return;
    if (m->nkids == 0) {
        diag(ps, m, "match needs at least one key (use tool: \"*\" to match every call)");
        return;
    }
    for (int i = 0; i < m->nkids; i += 2) {
        const char *k = m->kids[i]->s;
        const ynode *v = m->kids[i + 1];
        int rc = 0;
        switch (keyIndex(k, matchKeys)) {
        case 0: rc = getList(ps, v, "tool", &r->tools, NULL); r->keys |= K_TOOL; break;
        case 1: rc = getList(ps, v, "program", &r->programs, checkProgram); r->keys |= K_PROGRAM; break;
        case 2: rc = getList(ps, v, "subcommand", &r->subcmds, NULL); r->keys |= K_SUBCMD; break;
        case 3: rc = compileFlags(ps, v, r); r->keys |= K_FLAGS; break;
        case 4: rc = getList(ps, v, "args", &r->args, NULL); r->keys |= K_ARGS; break;
        case 5: rc = getList(ps, v, "any_arg", &r->anyargs, NULL); r->keys |= K_ANYARG; break;
        case 6: {
            plist l = {0};
            rc = getList(ps, v, "path_class", &l, checkPathClass);
            r->classes = classMask(&l);
            r->keys |= K_CLASS;
            break;
        }
        case 7: rc = getList(ps, v, "path", &r->paths, checkPathGlob); r->keys |= K_PATH; break;
        case 8: rc = getList(ps, v, "agent", &r->agents, NULL); r->keys |= K_AGENT; break;
        case 9: rc = getList(ps, v, "role", &r->roles, NULL); r->keys |= K_ROLE; break;
        case 10: rc = getBool(ps, v, "sudo", &r->sudo); r->keys |= K_SUDO; break;
        case 11: rc = compileRegex(ps, v, r); r->keys |= K_REGEX; break;
        default: break;
        }
        (void)rc;
    }
}

static void compileRule(pstate *ps, const ynode *n, prule *r) {
    r->line = n->line;
    r->col = n->col;
    if (n->type != N_MAP) {
        diag(ps, n, "a rule must be a map with id, action, reason and match, not %s", typeName(n));
        return;
    }
    if (checkMap(ps, n, "a rule", ruleKeys) < 0) return;
    const ynode *matchNode = NULL, *overNode = NULL, *idNode = NULL, *actNode = NULL;
    int hasRisk = 0;
    for (int i = 0; i < n->nkids; i += 2) {
        const char *k = n->kids[i]->s;
        const ynode *v = n->kids[i + 1];
        switch (keyIndex(k, ruleKeys)) {
        case 0:
            idNode = v;
            r->id = getStr(ps, v, "id", MAX_ID);
            if (r->id && checkRuleId(ps, v, r->id) < 0) r->id = NULL;
            break;
        case 1: actNode = v; getAction(ps, v, &r->action); break;
        case 2: hasRisk = getRisk(ps, v, &r->risk) == 0; break;
        case 3: r->reason = getStr(ps, v, "reason", MAX_STR); break;
        case 4: r->instead = getStr(ps, v, "instead", MAX_STR); break;
        case 5: matchNode = v; break;
        case 6: overNode = v; break;
        default: break;
        }
    }
    if (!idNode) diag(ps, n, "the rule needs an id");
    if (!actNode) diag(ps, n, "rule '%s' needs an action (allow, deny or escalate)",
                       r->id ? r->id : "?");
    if (!matchNode) diag(ps, n, "rule '%s' needs a match", r->id ? r->id : "?");
    else compileMatch(ps, matchNode, r);
    if (actNode && r->action != LH_ALLOW && !r->reason)
        diag(ps, n, "rule '%s' needs a reason: a %s must say why", r->id ? r->id : "?",
             r->action == LH_DENY ? "deny" : "escalation");
    if (overNode) {
        if (actNode && r->action != LH_ALLOW)
            diag(ps, overNode, "overrides is only for allow rules");
        else
            getList(ps, overNode, "overrides", &r->overrides, checkAnalyzerRef);
    }
    if (!hasRisk)
        r->risk = r->action == LH_DENY ? LH_RISK_HIGH
                : r->action == LH_ESCALATE ? LH_RISK_MEDIUM : LH_RISK_LOW;
    if (r->id) {
        if (!r->reason)
            r->reason = lh_arena_printf(ps->pol->arena, "allowed by policy rule %s", r->id);
        r->cancel_tag = lh_arena_printf(ps->pol->arena, "policy:%s", r->id);
    }
}

/* An open-addressing set of strings (ids), sized for n entries; in the tmp arena. */
typedef struct strset {
    const char **slot;
    const ynode **where;
    uint32_t mask;
} strset;

static uint32_t hashStr(const char *s) {
    uint32_t h = 2166136261u;               /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static uint32_t tableSize(int n) {
    uint32_t sz = 16;
    while (sz < (uint32_t)n * 2) sz <<= 1;
    return sz;
}

/* Returns the node that already holds s, or NULL after adding it. */
static const ynode *strsetAdd(strset *t, const char *s, const ynode *where) {
    for (uint32_t i = hashStr(s) & t->mask;; i = (i + 1) & t->mask) {
        if (!t->slot[i]) { t->slot[i] = s; t->where[i] = where; return NULL; }
        if (!strcmp(t->slot[i], s)) return t->where[i];
    }
}

static void compileRules(pstate *ps, const ynode *n) {
    lh_policy *P = ps->pol;
    if (n->type != N_SEQ) {
        if (!isNull(n)) diag(ps, n, "rules must be a list, not %s", typeName(n));
        return;
    }
    if (n->nkids > LH_POLICY_MAX_RULES) {
        diag(ps, n, "too many rules: %d (at most %d)", n->nkids, LH_POLICY_MAX_RULES);
        return;
    }
    P->rules = lh_arena_calloc(P->arena, sizeof(prule) * (size_t)(n->nkids ? n->nkids : 1));
    strset ids = {0};
    ids.mask = tableSize(n->nkids) - 1;
    ids.slot = lh_arena_calloc(ps->tmp, sizeof(char *) * (ids.mask + 1));
    ids.where = lh_arena_calloc(ps->tmp, sizeof(ynode *) * (ids.mask + 1));
    if (!P->rules || !ids.slot || !ids.where) { diag(ps, n, "out of memory"); return; }
    for (int i = 0; i < n->nkids; i++) {
        prule *r = &P->rules[P->nrules++];
        r->index = i;
        r->re_slot = -1;
        compileRule(ps, n->kids[i], r);
        if (r->id) {
            const ynode *first = strsetAdd(&ids, r->id, n->kids[i]);
            if (first)
                diag(ps, n->kids[i], "duplicate rule id '%s' (first at line %d)", r->id, first->line);
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* Compiling: analyzers and settings                                               */
/* ------------------------------------------------------------------------------ */

static const char *const anKeys[] = {"enabled", "action", "risk", "reason", "instead", "except",
                                     NULL};
static const char *const exceptKeys[] = {"path", "path_class", "program", "agent", "role",
                                         "tool", NULL};

/* One `analyzers:` entry as written. */
typedef struct anentry {
    const char *pat;
    int glob;
    int has_enabled, enabled, has_action, has_risk;
    lh_action action;
    lh_risk risk;
    const char *reason, *instead;
    pexcept *exc;
    int nexc;
} anentry;

static void compileExcept(pstate *ps, const ynode *n, pexcept *e) {
    if (checkMap(ps, n, "an exception", exceptKeys) < 0) return;
    if (n->nkids == 0) { diag(ps, n, "an exception needs at least one key (path, program, …)"); return; }
    for (int i = 0; i < n->nkids; i += 2) {
        const ynode *v = n->kids[i + 1];
        switch (keyIndex(n->kids[i]->s, exceptKeys)) {
        case 0: getList(ps, v, "path", &e->paths, checkPathGlob); e->keys |= K_PATH; break;
        case 1: {
            plist l = {0};
            getList(ps, v, "path_class", &l, checkPathClass);
            e->classes = classMask(&l);
            e->keys |= K_CLASS;
            break;
        }
        case 2: getList(ps, v, "program", &e->programs, checkProgram); e->keys |= K_PROGRAM; break;
        case 3: getList(ps, v, "agent", &e->agents, NULL); e->keys |= K_AGENT; break;
        case 4: getList(ps, v, "role", &e->roles, NULL); e->keys |= K_ROLE; break;
        case 5: getList(ps, v, "tool", &e->tools, NULL); e->keys |= K_TOOL; break;
        default: break;
        }
    }
}

static void compileAnEntry(pstate *ps, const ynode *k, const ynode *v, anentry *e) {
    e->pat = getStr(ps, k, "analyzer id", MAX_ID);
    if (!e->pat) return;
    e->glob = hasGlobChars(e->pat);
    if (isUnknownTool(ps, k, e->pat)) { e->pat = NULL; return; }
    if (countAnalyzers(e->pat) == 0) {
        diag(ps, k, e->glob ? "pattern '%.60s' matches no analyzer id"
                            : "unknown analyzer id '%.60s' (see docs/policy.md)", e->pat);
        e->pat = NULL;
        return;
    }
    if (checkMap(ps, v, "analyzer settings", anKeys) < 0) { e->pat = NULL; return; }
    int prot = !e->glob && isProtected(e->pat);
    for (int i = 0; i < v->nkids; i += 2) {
        const ynode *kk = v->kids[i], *vv = v->kids[i + 1];
        switch (keyIndex(kk->s, anKeys)) {
        case 0:
            e->has_enabled = getBool(ps, vv, "enabled", &e->enabled) == 0;
            if (prot && e->has_enabled && !e->enabled)
                diag(ps, vv, "'%s' keeps the engine failing closed and cannot be disabled", e->pat);
            break;
        case 1:
            e->has_action = getAction(ps, vv, &e->action) == 0;
            if (prot && e->has_action && e->action == LH_ALLOW)
                diag(ps, vv, "'%s' keeps the engine failing closed and cannot be set to allow", e->pat);
            break;
        case 2: e->has_risk = getRisk(ps, vv, &e->risk) == 0; break;
        case 3: e->reason = getStr(ps, vv, "reason", MAX_STR); break;
        case 4: e->instead = getStr(ps, vv, "instead", MAX_STR); break;
        case 5:
            if (prot) { diag(ps, vv, "'%s' keeps the engine failing closed and takes no exceptions", e->pat); break; }
            if (vv->type != N_SEQ) { diag(ps, vv, "except must be a list of maps"); break; }
            if (vv->nkids > MAX_EXCEPTIONS) { diag(ps, vv, "more than %d exceptions", MAX_EXCEPTIONS); break; }
            e->exc = lh_arena_calloc(ps->pol->arena, sizeof(pexcept) * (size_t)(vv->nkids ? vv->nkids : 1));
            if (!e->exc) { diag(ps, vv, "out of memory"); break; }
            for (int j = 0; j < vv->nkids; j++) compileExcept(ps, vv->kids[j], &e->exc[e->nexc++]);
            break;
        default: break;
        }
    }
}

static void applyEntry(anset *s, const anentry *e) {
    if (e->has_enabled) s->disabled = !e->enabled;
    if (e->has_action) { s->has_action = 1; s->action = e->action; }
    if (e->has_risk) { s->has_risk = 1; s->risk = e->risk; }
    if (e->reason) s->reason = e->reason;
    if (e->instead) s->instead = e->instead;
    for (int i = 0; i < e->nexc; i++) s->exc[s->nexc++] = &e->exc[i];
}

static int entryNames(const anentry *e, const char *id) {
    if (!e->pat) return 0;
    if (!e->glob) return !strcmp(e->pat, id);
    return !isProtected(id) && lh_policy_glob_match(e->pat, id, 0);
}

/* Merge the entries per analyzer id (globs first, then exact ids, each in file order)
 * and index the result by id. */
static void buildAnalyzers(pstate *ps, const anentry *ents, int n) {
    lh_policy *P = ps->pol;
    int nsets = 0;
    anset **sets = lh_arena_calloc(ps->tmp, sizeof(anset *) * LH_RULE__COUNT);
    if (!sets) { diagAt(ps, 0, 0, "out of memory"); return; }
    for (int i = 0; i < LH_RULE__COUNT; i++) {
        const char *id = lh_rules[i].id;
        int nexc = 0, hits = 0;
        for (int j = 0; j < n; j++)
            if (entryNames(&ents[j], id)) { hits++; nexc += ents[j].nexc; }
        if (!hits || !strcmp(id, "none")) continue;
        anset *s = lh_arena_calloc(P->arena, sizeof(*s));
        if (!s) { diagAt(ps, 0, 0, "out of memory"); return; }
        s->id = id;
        s->exc = lh_arena_alloc(P->arena, sizeof(pexcept *) * (size_t)(nexc ? nexc : 1));
        s->tag_disabled = lh_arena_printf(P->arena, "disabled:%s", id);
        s->tag_except = lh_arena_printf(P->arena, "exception:%s", id);
        if (!s->exc || !s->tag_disabled || !s->tag_except) { diagAt(ps, 0, 0, "out of memory"); return; }
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < n; j++)
                if (ents[j].glob == !pass && entryNames(&ents[j], id)) applyEntry(s, &ents[j]);
        sets[nsets++] = s;
    }
    if (!nsets) return;
    P->ansmask = tableSize(nsets) - 1;
    P->ans = lh_arena_calloc(P->arena, sizeof(anslot) * (P->ansmask + 1));
    if (!P->ans) { diagAt(ps, 0, 0, "out of memory"); return; }
    for (int i = 0; i < nsets; i++) {
        uint32_t h = hashStr(sets[i]->id);
        uint32_t k = h & P->ansmask;
        while (P->ans[k].id) k = (k + 1) & P->ansmask;
        P->ans[k] = (anslot){sets[i]->id, h, sets[i]};
    }
}

static void compileAnalyzers(pstate *ps, const ynode *n) {
    if (isNull(n)) return;
    if (checkMap(ps, n, "analyzers", NULL) < 0) return;
    int count = n->nkids / 2;
    anentry *ents = lh_arena_calloc(ps->tmp, sizeof(anentry) * (size_t)(count ? count : 1));
    if (!ents) { diag(ps, n, "out of memory"); return; }
    for (int i = 0; i < count; i++) compileAnEntry(ps, n->kids[2 * i], n->kids[2 * i + 1], &ents[i]);
    if (ps->nerr == 0) buildAnalyzers(ps, ents, count);
}

static const char *const settingsKeys[] = {"unknown_tool", "allowed_hosts", NULL};

#define MAX_ALLOWED_HOSTS 256

/* settings.allowed_hosts: a list of host names or globs ("*.corp.example.com"). */
static void compileAllowedHosts(pstate *ps, const ynode *v) {
    if (isNull(v)) return;
    if (v->type != N_SEQ) { diag(ps, v, "allowed_hosts must be a list of host names"); return; }
    if (v->nkids > MAX_ALLOWED_HOSTS) { diag(ps, v, "allowed_hosts has more than %d entries", MAX_ALLOWED_HOSTS); return; }
    ps->pol->allowed_hosts = lh_arena_calloc(ps->pol->arena, sizeof(char *) * (size_t)(v->nkids ? v->nkids : 1));
    if (!ps->pol->allowed_hosts) { diag(ps, v, "out of memory"); return; }
    for (int i = 0; i < v->nkids; i++) {
        const char *h = getStr(ps, v->kids[i], "an allowed host", 253);
        if (!h) continue;
        char *low = (char *)h;
        for (char *q = low; *q; q++)
            if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
        ps->pol->allowed_hosts[ps->pol->nallowed_hosts++] = low;
    }
}

static void compileSettings(pstate *ps, const ynode *n) {
    if (isNull(n)) return;
    if (checkMap(ps, n, "settings", settingsKeys) < 0) return;
    for (int i = 0; i < n->nkids; i += 2) {
        if (!strcmp(n->kids[i]->s, "unknown_tool")) getAction(ps, n->kids[i + 1], &ps->pol->unknown_tool);
        else if (!strcmp(n->kids[i]->s, "allowed_hosts")) compileAllowedHosts(ps, n->kids[i + 1]);
    }
}

static const char *const topKeys[] = {"version", "revision", "settings", "rules", "analyzers",
                                      "packs", NULL};

/* packs: a map {name: true|false} switches packs from their defaults; a list of names
 * turns exactly those packs on and every other off. */
static void compilePacks(pstate *ps, const ynode *n) {
    if (isNull(n)) return;
    lh_policy *P = ps->pol;
    if (n->type == N_SEQ) {
        P->packs_off = (1u << lh_npacks) - 1;
        for (int i = 0; i < n->nkids; i++) {
            const char *name = getStr(ps, n->kids[i], "pack name", MAX_ID);
            int k = name ? lh_pack_find(name) : -1;
            if (name && k < 0) diag(ps, n->kids[i], "unknown rule pack '%.60s' (see docs/policy.md)", name);
            if (k >= 0) P->packs_off &= ~(1u << k);
        }
        return;
    }
    if (checkMap(ps, n, "packs", NULL) < 0) return;
    for (int i = 0; i < n->nkids; i += 2) {
        const char *name = getStr(ps, n->kids[i], "pack name", MAX_ID);
        int k = name ? lh_pack_find(name) : -1, on = 0;
        if (name && k < 0) { diag(ps, n->kids[i], "unknown rule pack '%.60s' (see docs/policy.md)", name); continue; }
        if (k < 0 || getBool(ps, n->kids[i + 1], "a pack's value", &on) != 0) continue;
        if (on) P->packs_off &= ~(1u << k);
        else P->packs_off |= 1u << k;
    }
}

static void compileTop(pstate *ps, const ynode *root) {
    lh_policy *P = ps->pol;
    if (checkMap(ps, root, "the policy", topKeys) < 0) return;
    const ynode *rules = NULL;
    for (int i = 0; i < root->nkids; i += 2) {
        const ynode *v = root->kids[i + 1];
        switch (keyIndex(root->kids[i]->s, topKeys)) {
        case 0:
            if (v->type != N_SCALAR || strcmp(v->s, "1"))
                diag(ps, v, "version must be 1 (the only format version so far)");
            break;
        case 1: {
            const char *rev = getStr(ps, v, "revision", MAX_REVISION);
            if (!rev) break;
            for (const char *q = rev; *q; q++)
                if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '"' || *q == '\\') {
                    diag(ps, v, "revision may hold no spaces, quotes, backslashes or control characters");
                    rev = NULL;
                    break;
                }
            if (rev) P->revision = rev;
            break;
        }
        case 2: compileSettings(ps, v); break;
        case 3: rules = v; break;
        case 4: break;                  /* after the rules: see below */
        case 5: compilePacks(ps, v); break;
        default: break;
        }
    }
    if (rules) compileRules(ps, rules);
    else diag(ps, root, "the policy needs a rules: list (it may be empty: rules: [])");
    for (int i = 0; i < root->nkids; i += 2)
        if (!strcmp(root->kids[i]->s, "analyzers")) compileAnalyzers(ps, root->kids[i + 1]);
}

/* ------------------------------------------------------------------------------ */
/* Indexes                                                                         */
/* ------------------------------------------------------------------------------ */

static int toolsAllowBash(const prule *r) {
    return !(r->keys & K_TOOL) || listMatch(&r->tools, "Bash", 0);
}

static int literalPrograms(const prule *r) {
    if (!(r->keys & K_PROGRAM)) return 0;
    for (int i = 0; i < r->programs.n; i++)
        if (hasGlobChars(r->programs.v[i])) return 0;
    return 1;
}

static progslot *progFind(const lh_policy *P, const char *name, uint32_t h) {
    for (uint32_t k = h & P->progmask;; k = (k + 1) & P->progmask) {
        progslot *s = &P->progs[k];
        if (!s->name) return s;
        if (s->hash == h && !strcmp(s->name, name)) return s;
    }
}

/* Build the per-tool lists and the program hash. Returns 0, or -1 out of memory. */
static int buildIndexes(lh_policy *P) {
    int nprog = 0;
    P->bash_req = lh_arena_alloc(P->arena, sizeof(int) * (size_t)(P->nrules + 1));
    P->bash_any = lh_arena_alloc(P->arena, sizeof(int) * (size_t)(P->nrules + 1));
    P->other = lh_arena_alloc(P->arena, sizeof(int) * (size_t)(P->nrules + 1));
    if (!P->bash_req || !P->bash_any || !P->other) return -1;
    for (int i = 0; i < P->nrules; i++) {
        prule *r = &P->rules[i];
        if (r->overrides.n) P->has_overrides = 1;
        if (!(r->keys & K_BASH_ONLY)) P->other[P->nother++] = i;
        if (!toolsAllowBash(r)) continue;
        if (!(r->keys & K_PER_CMD)) P->bash_req[P->nbash_req++] = i;
        else if (literalPrograms(r)) { r->prog_indexed = 1; nprog += r->programs.n; }
        else P->bash_any[P->nbash_any++] = i;
    }
    P->progmask = tableSize(nprog) - 1;
    P->progs = lh_arena_calloc(P->arena, sizeof(progslot) * (P->progmask + 1));
    if (!P->progs) return -1;
    /* two passes: count the rules per program, then fill (rule order is kept) */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < P->nrules; i++) {
            prule *r = &P->rules[i];
            if (!r->prog_indexed) continue;
            for (int j = 0; j < r->programs.n; j++) {
                const char *name = r->programs.v[j];
                uint32_t h = hashStr(name);
                progslot *s = progFind(P, name, h);
                if (!s->name) { s->name = name; s->hash = h; }
                if (pass == 0) { s->nrules++; continue; }
                if (s->nrules && s->rules[s->nrules - 1] == i) continue; /* listed twice */
                s->rules[s->nrules++] = i;
            }
        }
        if (pass == 0)
            for (uint32_t k = 0; k <= P->progmask; k++) {
                progslot *s = &P->progs[k];
                if (!s->name) continue;
                s->rules = lh_arena_alloc(P->arena, sizeof(int) * (size_t)s->nrules);
                if (!s->rules) return -1;
                s->nrules = 0;
            }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Public: parse, free, accessors                                                  */
/* ------------------------------------------------------------------------------ */

static void freePolicy(lh_policy *P) {
    if (!P) return;
    for (int i = 0; i < P->nrules; i++)
        if (P->rules[i].re) pcre2_code_free(P->rules[i].re);
    if (P->mctx) pcre2_match_context_free(P->mctx);
    lh_arena_free(P->arena);
    free(P);
}

/* Diagnostics in file order (stable), so a reader fixes them top to bottom. */
static void sortDiags(lh_policy_diag *d, int n) {
    for (int i = 1; i < n; i++) {
        lh_policy_diag x = d[i];
        int j = i;
        while (j > 0 && (d[j - 1].line > x.line ||
                         (d[j - 1].line == x.line && d[j - 1].column > x.column))) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = x;
    }
}

static lh_policy *parsePolicy(const char *yaml, size_t len, const char *name,
                              const char *known_revision, lh_policy_diag *diags,
                              int maxdiags, int *ndiags);

lh_policy *lh_policy_parse(const char *yaml, size_t len, const char *name,
                           lh_policy_diag *diags, int maxdiags, int *ndiags) {
    return parsePolicy(yaml, len, name, NULL, diags, maxdiags, ndiags);
}

/* known_revision: the content hash when the caller already has it (the built-in
 * bundle), else NULL. */
static lh_policy *parsePolicy(const char *yaml, size_t len, const char *name,
                              const char *known_revision, lh_policy_diag *diags,
                              int maxdiags, int *ndiags) {
    pstate ps = {0};
    ps.diags = diags;
    ps.maxdiags = diags ? maxdiags : 0;
    if (ndiags) *ndiags = 0;
    if (len > LH_POLICY_MAX_BYTES) {
        diagAt(&ps, 0, 0, "the policy is %zu bytes; at most %u are allowed", len,
               (unsigned)LH_POLICY_MAX_BYTES);
        if (ndiags) *ndiags = ps.ndiags;
        return NULL;
    }
    lh_policy *P = calloc(1, sizeof(*P));
    ps.pol = P;
    ps.tmp = lh_arena_new(64 * 1024);
    if (P) P->arena = lh_arena_new(16 * 1024);
    if (P) P->mctx = pcre2_match_context_create(NULL);
    if (!P || !ps.tmp || !P->arena || !P->mctx) {
        diagAt(&ps, 0, 0, "out of memory");
        goto fail;
    }
    pcre2_set_match_limit(P->mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(P->mctx, REGEX_MATCH_LIMIT / 10);
    P->unknown_tool = LH_ESCALATE;
    P->packs_off = lh_packs_default_off();
    P->name = lh_arena_strdup(P->arena, name ? name : "<policy>");

    ynode *root = buildTree(&ps, yaml ? yaml : "", yaml ? len : 0);
    if (root) compileTop(&ps, root);
    if (ps.nerr) goto fail;
    if (!P->revision && known_revision) P->revision = lh_arena_strdup(P->arena, known_revision);
    if (!P->revision) {
        unsigned char h[32];
        lh_policy_sha256(yaml ? yaml : "", yaml ? len : 0, h);
        char hex[24];
        for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", h[i]);
        P->revision = lh_arena_printf(P->arena, "sha256:%s", hex);
    }
    /* Any allocation that failed on the way (some callers go on with a default, as a
     * rule's reason) fails the load: a policy is whole or not at all (test_oom). */
    if (!P->name || !P->revision || buildIndexes(P) < 0 || lh_arena_failures(P->arena) ||
        lh_arena_failures(ps.tmp)) {
        diagAt(&ps, 0, 0, "out of memory");
        goto fail;
    }
    lh_arena_free(ps.tmp);
    return P;
fail:
    if (ps.nerr && ps.ndiags == 0 && ps.diags && ps.maxdiags > 0)
        diagAt(&ps, 0, 0, "the policy has errors");
    sortDiags(ps.diags, ps.ndiags);
    if (ndiags) *ndiags = ps.ndiags;
    lh_arena_free(ps.tmp);
    freePolicy(P);
    return NULL;
}

lh_policy *lh_policy_default(void) {
    return parsePolicy(lh_default_policy_yaml, lh_default_policy_yaml_len, "<default>",
                       lh_default_policy_yaml_sha256, NULL, 0, NULL);
}

void lh_policy_free(lh_policy *p) { freePolicy(p); }

const char *lh_policy_revision(const lh_policy *p) { return p ? p->revision : "none"; }
int lh_policy_nrules(const lh_policy *p) { return p ? p->nrules : 0; }
const char *lh_policy_name(const lh_policy *p) { return p ? p->name : NULL; }

lh_action lh_policy_unknown_tool_action(const lh_policy *p, const char *tool_name) {
    (void)tool_name;
    return p ? p->unknown_tool : LH_ESCALATE;
}

int lh_policy_host_allowed(const lh_policy *p, const char *host) {
    if (!p || !host) return 0;
    for (int i = 0; i < p->nallowed_hosts; i++)
        if (lh_policy_glob_match(p->allowed_hosts[i], host, 0)) return 1;
    return 0;
}

const char *lh_policy_rule_id(const void *rule) {
    return rule ? ((const prule *)rule)->id : NULL;
}

int lh_policy_rule_line(const void *rule) {
    return rule ? ((const prule *)rule)->line : 0;
}

/* ------------------------------------------------------------------------------ */
/* Matching: per-decision state (on the stack)                                     */
/* ------------------------------------------------------------------------------ */

/* Regex results are cached per decision, since the text they see is the same for every
 * command: bit i of done/hit for regex slot i < 64. */
typedef struct rxstate {
    uint64_t done, hit;
    pcre2_match_data *md;
} rxstate;

/* One path source of a command: its word, and what is known about it so far. */
typedef struct pitem {
    const lh_word *w;
    int argi;             /* argv index, -1 for a redirection target */
    int state;            /* 0 nothing yet, 1 p.norm only (fast path), 2 classified */
    lh_path p;
} pitem;

/* What one command offers to the rules, computed lazily and at most once. */
typedef struct cview {
    lh_ctx *c;
    const lh_cmd *cmd;
    int idx;
    int sub;              /* argv index of the subcommand; -1 none; -2 not computed */
    int shorts_done;
    uint64_t shorts;
    int npaths;           /* -1 not computed */
    int ncached;
    pitem paths[CV_PATHS];
} cview;

static void cvInit(cview *cv, lh_ctx *c, int idx) {
    cv->c = c;
    cv->idx = idx;
    cv->cmd = idx >= 0 && c->script ? &c->script->cmds[idx] : NULL;
    cv->sub = -2;
    cv->shorts_done = 0;
    cv->shorts = 0;
    cv->npaths = -1;
    cv->ncached = 0;
}

static int isOption(const char *s) { return s[0] == '-' && s[1] != 0; }

/* Options whose value is a separate word, per program, so "git -C dir push" has the
 * subcommand "push". Only the common global options of tools with subcommands. */
static const struct { const char *prog; const char *const opts[10]; } valueOpts[] = {
    {"git", {"-C", "-c", "--git-dir", "--work-tree", "--namespace", NULL}},
    {"kubectl", {"-n", "--namespace", "--context", "--kubeconfig", "-s", "--server",
                 "--cluster", "--user", NULL}},
    {"helm", {"-n", "--namespace", "--kube-context", "--kubeconfig", NULL}},
    {"docker", {"-H", "--host", "-c", "--context", "--config", "-l", "--log-level", NULL}},
    {"systemctl", {"-H", "--host", "-M", "--machine", NULL}},
    {"aws", {"--profile", "--region", "--output", "--endpoint-url", NULL}},
    {"gh", {"-R", "--repo", NULL}},
    {"cargo", {"-C", "-Z", "--config", NULL}},
    {"npm", {"--prefix", "-w", "--workspace", NULL}},
};

static int takesValue(const char *prog, const char *opt) {
    for (size_t i = 0; i < sizeof(valueOpts) / sizeof(valueOpts[0]); i++) {
        if (strcmp(valueOpts[i].prog, prog)) continue;
        for (int j = 0; valueOpts[i].opts[j]; j++)
            if (!strcmp(valueOpts[i].opts[j], opt)) return 1;
        return 0;
    }
    return 0;
}

static int cvSub(cview *cv) {
    if (cv->sub != -2) return cv->sub;
    const lh_cmd *cmd = cv->cmd;
    cv->sub = -1;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) { if (i + 1 < cmd->argc) cv->sub = i + 1; break; }
        if (!isOption(a)) { cv->sub = i; break; }
        if (takesValue(cmd->prog, a)) i++;
    }
    return cv->sub;
}

static uint64_t cvShorts(cview *cv) {
    if (cv->shorts_done) return cv->shorts;
    cv->shorts_done = 1;
    for (int i = 1; i < cv->cmd->argc; i++) {
        const char *a = cv->cmd->argv[i].s;
        if (a[0] != '-' || !a[1]) continue;
        if (a[1] == '-') { if (!a[2]) break; continue; }
        for (const char *q = a + 1; *q; q++) cv->shorts |= shortBit(*q);
    }
    return cv->shorts;
}

static int hasFlag(cview *cv, const pflag *f) {
    const lh_cmd *cmd = cv->cmd;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-') continue;
        if (!strcmp(a, "--")) break;
        if (!strcmp(a, f->exact)) return 1;
        if (f->longname && a[1] == '-' && !strncmp(a + 2, f->longname, f->longlen) &&
            (a[2 + f->longlen] == 0 || a[2 + f->longlen] == '='))
            return 1;
    }
    return f->shorts && (cvShorts(cv) & f->shorts) == f->shorts;
}

/* The path sources of a command, in order: its operands (argv words that are not
 * options, everything after "--"), then the targets of file redirections. */
static int isFileRedir(const lh_redir *r) {
    return lh_redir_writes_file(r) || r->op == LH_R_IN;
}

/* The normalised absolute form of a word that needs no normalising ("/srv/a/b",
 * "build/x"), without the cost of classifying it; NULL when the word holds anything
 * lh_path_classify() would resolve ($, ~, ".", "..", "//", a trailing "/", braces). */
static const char *fastNorm(lh_ctx *c, const lh_word *w) {
    const char *s = w->s;
    size_t len = w->len;
    if (!len || (w->flags & (LH_W_DYNAMIC | LH_W_TILDE | LH_W_SUBST | LH_W_PROCSUBST | LH_W_BRACE)))
        return NULL;
    if (s[0] == '~' || s[len - 1] == '/' || memchr(s, '$', len) || memchr(s, '`', len) ||
        memchr(s, '\\', len) || memchr(s, 0, len))
        return NULL;
    for (size_t i = s[0] == '/' ? 1 : 0; i < len;) {      /* every segment is a real name */
        const char *e = memchr(s + i, '/', len - i);
        size_t n = e ? (size_t)(e - (s + i)) : len - i;
        if (n == 0 || (n == 1 && s[i] == '.') || (n == 2 && s[i] == '.' && s[i + 1] == '.'))
            return NULL;
        i += n + 1;
    }
    if (s[0] == '/') return s;
    if (!c->cwd) return NULL;
    return c->cwd_len == 1 ? lh_arena_printf(c->arena, "/%s", s)
                           : lh_arena_printf(c->arena, "%s/%s", c->cwd, s);
}

/* The path of an item: its normalised form, and its class when need_class. Classifying
 * (lh_path_classify) is the costly part, so a rule with only `path` globs avoids it
 * for plain words. Results are kept in the item. */
static const lh_path *itemPath(cview *cv, pitem *it, int need_class) {
    if (it->state == 2 || (it->state == 1 && !need_class)) return &it->p;
    if (!need_class && it->state == 0) {
        const char *n = fastNorm(cv->c, it->w);
        if (n) {
            it->p.norm = n;
            it->p.cls = LH_PATH_UNKNOWN;
            it->p.flags = 0;
            it->state = 1;
            return &it->p;
        }
    }
    lh_path_classify(cv->c, it->w->s, it->w->len, &it->p);
    if (!it->p.norm) it->p.norm = "";
    it->state = 2;
    return &it->p;
}

/* The same for a plain string (a finding's subject, a tool's file path) into *out. */
static const lh_path *textPath(lh_ctx *c, const char *text, int need_class, lh_path *out) {
    lh_word w = {text, (uint32_t)strlen(text), 0};
    const char *n = need_class ? NULL : fastNorm(c, &w);
    if (n) {
        out->norm = n;
        out->cls = LH_PATH_UNKNOWN;
        out->flags = 0;
        return out;
    }
    lh_path_classify(c, text, w.len, out);
    return out->norm ? out : NULL;
}

static void itemInit(pitem *it, const lh_word *w, int argi) {
    it->w = w;
    it->argi = argi;
    it->state = 0;
}

/* Count the path sources and remember the first CV_PATHS of them. */
static void cvPaths(cview *cv) {
    if (cv->npaths >= 0) return;
    const lh_cmd *cmd = cv->cmd;
    int n = 0, ddash = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const lh_word *w = &cmd->argv[i];
        if (!ddash && !strcmp(w->s, "--")) { ddash = 1; continue; }
        if (!ddash && isOption(w->s)) continue;
        if (n < CV_PATHS) itemInit(&cv->paths[n], w, i);
        n++;
    }
    for (int i = 0; i < cmd->nredirs; i++) {
        if (!isFileRedir(&cmd->redirs[i])) continue;
        if (n < CV_PATHS) itemInit(&cv->paths[n], &cmd->redirs[i].target, -1);
        n++;
    }
    cv->npaths = n;
    cv->ncached = n < CV_PATHS ? n : CV_PATHS;
}

/* Walks a command's path sources in order, in one pass (a command may have thousands):
 * the first CV_PATHS come from the cache, the rest are set up in the caller's *tmp. */
typedef struct pwalk {
    int k, i, r, ddash;
} pwalk;

#define PWALK_INIT {0, 1, 0, 0}

static pitem *nextPath(cview *cv, pwalk *wk, pitem *tmp) {
    const lh_cmd *cmd = cv->cmd;
    while (wk->i < cmd->argc) {
        int i = wk->i++;
        const lh_word *w = &cmd->argv[i];
        if (!wk->ddash && !strcmp(w->s, "--")) { wk->ddash = 1; continue; }
        if (!wk->ddash && isOption(w->s)) continue;
        int k = wk->k++;
        if (k < cv->ncached) return &cv->paths[k];
        itemInit(tmp, w, i);
        return tmp;
    }
    while (wk->r < cmd->nredirs) {
        int r = wk->r++;
        if (!isFileRedir(&cmd->redirs[r])) continue;
        int k = wk->k++;
        if (k < cv->ncached) return &cv->paths[k];
        itemInit(tmp, &cmd->redirs[r].target, -1);
        return tmp;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* Matching: keys                                                                  */
/* ------------------------------------------------------------------------------ */

/* pat against a normalised absolute path: "~/x" is under the home, a pattern that
 * starts with neither '/' nor '*' is under the cwd. */
static int pathGlob(const lh_ctx *c, const char *pat, const char *norm) {
    const char *base = NULL;
    size_t blen = 0;
    if (pat[0] == '~') {
        if (!c->home) return 0;
        base = c->home; blen = c->home_len; pat++;
    } else if (pat[0] != '/' && pat[0] != '*') {
        if (!c->cwd) return 0;
        base = c->cwd; blen = c->cwd_len;
    }
    if (base) {
        while (blen > 0 && base[blen - 1] == '/') blen--;   /* "/" → "" */
        if (strncmp(norm, base, blen)) return 0;
        norm += blen;
        if (pat[0] != '/') {            /* relative pattern: the text after "<cwd>/" */
            if (*norm != '/') return 0;
            norm++;
        }
        if (!*norm) norm = pat[0] == '/' ? "/" : "";
    }
    return lh_policy_glob_match(pat, norm, 1);
}

static int pathListMatch(const lh_ctx *c, const plist *l, const char *norm) {
    for (int i = 0; i < l->n; i++)
        if (pathGlob(c, l->v[i], norm)) return 1;
    return 0;
}

/* Does one classified path satisfy the path keys (K_CLASS and K_PATH together)? */
static int pathOk(const lh_ctx *c, unsigned keys, unsigned classes, const plist *globs,
                  const lh_path *p) {
    if ((keys & K_CLASS) && !(classes & (1u << p->cls))) return 0;
    if (keys & K_PATH) {
        if (p->flags & LH_PF_DYNAMIC) return 0;   /* not known until run time */
        if (!pathListMatch(c, globs, p->norm)) return 0;
    }
    return 1;
}

/* The path keys over a command: a deny/escalate rule needs one path that satisfies
 * them, an allow rule needs every path to (and at least one path). */
static int cmdPathsOk(cview *cv, const prule *r, const char **subject) {
    cvPaths(cv);
    int seen = 0;
    int all = r->action == LH_ALLOW;
    pwalk wk = PWALK_INIT;
    pitem tmp, *it;
    while ((it = nextPath(cv, &wk, &tmp))) {
        if ((r->keys & K_SUBCMD) && it->argi >= 0 && it->argi == cvSub(cv)) continue;
        seen++;
        const lh_path *p = itemPath(cv, it, (r->keys & K_CLASS) != 0);
        int ok = pathOk(cv->c, r->keys, r->classes, &r->paths, p);
        if (ok && !all) { *subject = p->norm; return 1; }
        if (!ok && all) return 0;
        if (ok && !*subject) *subject = p->norm;
    }
    return all && seen > 0;
}

static int wordUsable(const prule *r, const lh_word *w) {
    /* an allow rule never vouches for a value known only at run time */
    return r->action != LH_ALLOW || !(w->flags & (LH_W_DYNAMIC | LH_W_SUBST | LH_W_PROCSUBST));
}

static int argsOk(cview *cv, const prule *r) {
    const lh_cmd *cmd = cv->cmd;
    int sub = (r->keys & K_SUBCMD) ? cvSub(cv) : -1;
    int seen = 0, ddash = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const lh_word *w = &cmd->argv[i];
        if (!ddash && !strcmp(w->s, "--")) { ddash = 1; continue; }
        if ((!ddash && isOption(w->s)) || i == sub) continue;
        seen++;
        if (!wordUsable(r, w) || !listMatch(&r->args, w->s, 0)) return 0;
    }
    return seen > 0;
}

static int anyArgOk(cview *cv, const prule *r) {
    const lh_cmd *cmd = cv->cmd;
    for (int i = 1; i < cmd->argc; i++)
        if (wordUsable(r, &cmd->argv[i]) && listMatch(&r->anyargs, cmd->argv[i].s, 0)) return 1;
    return 0;
}

static const char *toolName(const lh_request *req) {
    return req->tool_name && *req->tool_name ? req->tool_name : lh_tool_name(req->tool);
}

static void *arenaMalloc(PCRE2_SIZE n, void *data) { return lh_arena_alloc(data, n); }
static void arenaFree(void *p, void *data) { (void)p; (void)data; }

/* The regex over the request's text: the command for Bash, else the file path, the
 * searched path or the URL. An error (match limit, no memory) counts against the
 * caller: a match for deny/escalate rules, no match for allow rules. */
static int regexOk(const prule *r, lh_ctx *c, rxstate *rx, const lh_policy *P) {
    int slot = r->re_slot;
    if (slot >= 0 && slot < 64 && (rx->done >> slot & 1)) return (int)(rx->hit >> slot & 1);
    const lh_request *req = c->req;
    const char *text = NULL;
    size_t len = 0;
    if (req->tool == LH_TOOL_BASH) { text = req->command; len = req->command_len; }
    else if (req->file_path) text = req->file_path;
    else if (req->path) text = req->path;
    else if (req->url) text = req->url;
    if (!text) return 0;
    if (req->tool != LH_TOOL_BASH || (!len && text[0])) len = strlen(text);
    int failed = r->action == LH_ALLOW ? 0 : 1;
    if (!rx->md) {
        pcre2_general_context *g = pcre2_general_context_create(arenaMalloc, arenaFree, c->arena);
        rx->md = g ? pcre2_match_data_create(1, g) : NULL;
        if (!rx->md) { c->oom = 1; return failed; }
    }
    int rc = r->re_jit ? pcre2_jit_match(r->re, (PCRE2_SPTR)text, len, 0, 0, rx->md, P->mctx)
                       : pcre2_match(r->re, (PCRE2_SPTR)text, len, 0, 0, rx->md, P->mctx);
    int hit = rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : failed;
    if (slot >= 0 && slot < 64 && (rc >= 0 || rc == PCRE2_ERROR_NOMATCH)) {
        rx->done |= 1ull << slot;
        if (hit) rx->hit |= 1ull << slot;
    }
    return hit;
}

/* Keys about the request as a whole: agent, role (tool is checked by the caller). */
static int whoOk(const prule *r, const lh_request *req) {
    if ((r->keys & K_AGENT) && (!req->agent || !listMatch(&r->agents, req->agent, 0))) return 0;
    if ((r->keys & K_ROLE) && (!req->role || !listMatch(&r->roles, req->role, 0))) return 0;
    return 1;
}

/* Every key of a per-command rule against one command, cheapest first. */
static int cmdMatches(const lh_policy *P, const prule *r, cview *cv, rxstate *rx,
                      const char **subject) {
    const lh_cmd *cmd = cv->cmd;
    unsigned k = r->keys;
    *subject = NULL;
    if (k & K_PROGRAM) {
        if (cmd->argc == 0 || (cmd->flags & LH_C_DYNAMIC_CMD)) return 0;
        if (!r->prog_indexed && !listMatch(&r->programs, cmd->prog, 0)) return 0;
    }
    if ((k & K_SUDO) && !!(cmd->flags & LH_C_SUDO) != r->sudo) return 0;
    if (!whoOk(r, cv->c->req)) return 0;
    if (k & K_SUBCMD) {
        if (cmd->argc == 0) return 0;
        int si = cvSub(cv);
        if (si < 0 || !wordUsable(r, &cmd->argv[si]) ||
            !listMatch(&r->subcmds, cmd->argv[si].s, 0))
            return 0;
    }
    for (int i = 0; i < r->nflags; i++)
        if (!hasFlag(cv, &r->flags[i])) return 0;
    if ((k & K_ARGS) && !argsOk(cv, r)) return 0;
    if ((k & K_ANYARG) && !anyArgOk(cv, r)) return 0;
    if ((k & (K_CLASS | K_PATH)) && !cmdPathsOk(cv, r, subject)) return 0;
    if ((k & K_REGEX) && !regexOk(r, cv->c, rx, P)) return 0;
    return 1;
}

/* A rule evaluated once for the whole request (cmd -1). For a non-Bash tool the path
 * keys look at the file path (or the searched path). */
static int requestMatches(const lh_policy *P, const prule *r, lh_ctx *c, rxstate *rx,
                          const char **subject) {
    const lh_request *req = c->req;
    *subject = NULL;
    if ((r->keys & K_TOOL) && req->tool != LH_TOOL_BASH && !listMatch(&r->tools, toolName(req), 0))
        return 0;
    if (!whoOk(r, req)) return 0;
    if (r->keys & (K_CLASS | K_PATH)) {
        const char *fp = req->file_path ? req->file_path : req->path;
        if (!fp || !*fp || strlen(fp) > LH_MAX_PATH_BYTES) return 0;
        lh_path tmp;
        const lh_path *p = textPath(c, fp, (r->keys & K_CLASS) != 0, &tmp);
        if (!p || !pathOk(c, r->keys, r->classes, &r->paths, p)) return 0;
        *subject = p->norm;
    }
    if ((r->keys & K_REGEX) && !regexOk(r, c, rx, P)) return 0;
    return 1;
}

static void emitRule(lh_ctx *c, const prule *r, int cmd, const char *subject) {
    int before = c->nfindings;
    lh_emit_full(c, cmd, r->id, r->action, r->risk, LH_TIER_POLICY, r->reason, r->instead, subject);
    if (c->nfindings > before) c->findings[c->nfindings - 1].policy_rule = r;
}

/* Rules for one command: the program's bucket and the unindexed list, merged so the
 * findings come out in file order. */
static void matchCommand(const lh_policy *P, lh_ctx *c, int idx, rxstate *rx) {
    const lh_cmd *cmd = &c->script->cmds[idx];
    const int *a = NULL;
    int na = 0;
    if (cmd->argc > 0 && cmd->prog[0] && P->progmask) {
        const progslot *s = progFind(P, cmd->prog, hashStr(cmd->prog));
        if (s->name) { a = s->rules; na = s->nrules; }
    }
    if (!na && !P->nbash_any) return;
    cview cv;
    cvInit(&cv, c, idx);
    int i = 0, j = 0;
    while (i < na || j < P->nbash_any) {
        int ri = (j >= P->nbash_any || (i < na && a[i] < P->bash_any[j])) ? a[i++] : P->bash_any[j++];
        const prule *r = &P->rules[ri];
        const char *subject;
        if (cmdMatches(P, r, &cv, rx, &subject)) emitRule(c, r, idx, subject);
    }
}

void lh_policy_match(const lh_policy *P, lh_ctx *c) {
    if (!P || !P->nrules || !c || !c->req) return;
    rxstate rx = {0, 0, NULL};
    const char *subject;
    if (c->req->tool == LH_TOOL_BASH) {
        for (int i = 0; i < P->nbash_req; i++) {
            const prule *r = &P->rules[P->bash_req[i]];
            if (requestMatches(P, r, c, &rx, &subject)) emitRule(c, r, -1, subject);
        }
        if (c->script)
            for (int i = 0; i < c->script->ncmds; i++) matchCommand(P, c, i, &rx);
        return;
    }
    for (int i = 0; i < P->nother; i++) {
        const prule *r = &P->rules[P->other[i]];
        if (requestMatches(P, r, c, &rx, &subject)) emitRule(c, r, -1, subject);
    }
}

/* ------------------------------------------------------------------------------ */
/* Adjusting analyzer findings                                                     */
/* ------------------------------------------------------------------------------ */

static const anset *findSet(const lh_policy *P, const char *id) {
    if (!P->ans || !id) return NULL;
    uint32_t h = hashStr(id);
    for (uint32_t k = h & P->ansmask;; k = (k + 1) & P->ansmask) {
        const anslot *s = &P->ans[k];
        if (!s->id) return NULL;
        if (s->hash == h && !strcmp(s->id, id)) return s->set;
    }
}

/* Does the exception hold for this finding? Path keys look at the finding's subject;
 * without one, at every path of its command (all must match) or the file path. */
static int exceptionHolds(lh_ctx *c, const lh_finding *f, const pexcept *e) {
    const lh_request *req = c->req;
    const lh_cmd *cmd = f->cmd >= 0 && c->script && f->cmd < c->script->ncmds
                      ? &c->script->cmds[f->cmd] : NULL;
    if ((e->keys & K_AGENT) && (!req->agent || !listMatch(&e->agents, req->agent, 0))) return 0;
    if ((e->keys & K_ROLE) && (!req->role || !listMatch(&e->roles, req->role, 0))) return 0;
    if ((e->keys & K_TOOL) && !listMatch(&e->tools, toolName(req), 0)) return 0;
    if (e->keys & K_PROGRAM) {
        if (!cmd || cmd->argc == 0 || (cmd->flags & LH_C_DYNAMIC_CMD) ||
            !listMatch(&e->programs, cmd->prog, 0))
            return 0;
    }
    if (!(e->keys & (K_PATH | K_CLASS))) return 1;
    lh_path tmp;
    const lh_path *p;
    int need_class = (e->keys & K_CLASS) != 0;
    if (f->subject && *f->subject) {
        p = textPath(c, f->subject, need_class, &tmp);
        return p && pathOk(c, e->keys, e->classes, &e->paths, p);
    }
    if (cmd) {
        cview cv;
        cvInit(&cv, c, f->cmd);
        cvPaths(&cv);
        int seen = 0;
        pwalk wk = PWALK_INIT;
        pitem spare, *it;
        while ((it = nextPath(&cv, &wk, &spare))) {
            seen++;
            const lh_path *pp = itemPath(&cv, it, (e->keys & K_CLASS) != 0);
            if (!pathOk(c, e->keys, e->classes, &e->paths, pp)) return 0;
        }
        return seen > 0;
    }
    const char *fp = req->file_path ? req->file_path : req->path;
    if (f->cmd >= 0 || !fp || !*fp) return 0;
    p = textPath(c, fp, need_class, &tmp);
    return p && pathOk(c, e->keys, e->classes, &e->paths, p);
}

static int overridesName(const prule *r, const char *id) {
    if (isProtected(id)) return 0;
    return listMatch(&r->overrides, id, 0);
}

void lh_policy_adjust(const lh_policy *P, lh_ctx *c) {
    if (!P || !c) return;
    /* 0. rule packs that are off: cancel their findings */
    if (P->packs_off)
        for (int i = 0; i < c->nfindings; i++) {
            lh_finding *f = &c->findings[i];
            if (f->overridden_by || f->tier != LH_TIER_ANALYSIS || strncmp(f->rule, "pack.", 5)) continue;
            int k = lh_pack_of_rule(f->rule);
            if (k >= 0 && (P->packs_off >> k) & 1u) f->overridden_by = lh_packs[k].tag_off;
        }
    if (!P->ans && !P->has_overrides) return;
    /* 1. analyzer settings: disabled, action/risk/reason, exceptions */
    if (P->ans)
        for (int i = 0; i < c->nfindings; i++) {
            lh_finding *f = &c->findings[i];
            if (f->overridden_by || f->tier != LH_TIER_ANALYSIS) continue;
            const anset *s = findSet(P, f->rule);
            if (!s) continue;
            if (s->disabled) { f->overridden_by = s->tag_disabled; continue; }
            if (s->has_action) f->action = s->action;
            if (s->has_risk) f->risk = s->risk;
            if (s->reason) f->reason = s->reason;
            if (s->instead) f->instead = s->instead;
            for (int k = 0; k < s->nexc; k++)
                if (exceptionHolds(c, f, s->exc[k])) { f->overridden_by = s->tag_except; break; }
        }
    /* 2. allow rules that name analyzers: cancel those on the same command (a rule that
     *    matched the whole request, cmd -1, covers every command) */
    if (!P->has_overrides) return;
    for (int j = 0; j < c->nfindings; j++) {
        const lh_finding *a = &c->findings[j];
        const prule *r = a->policy_rule;
        if (a->tier != LH_TIER_POLICY || a->action != LH_ALLOW || !r || !r->overrides.n ||
            a->overridden_by)
            continue;
        for (int i = 0; i < c->nfindings; i++) {
            lh_finding *f = &c->findings[i];
            if (f->overridden_by || f->tier != LH_TIER_ANALYSIS) continue;
            if (a->cmd != -1 && f->cmd != a->cmd) continue;
            if (overridesName(r, f->rule)) f->overridden_by = r->cancel_tag;
        }
    }
}
