/* policy_load.c — operator policy as code, the cold half: parse a YAML bundle once into
 * the compiled policy (policy_int.h) that policy_match.c matches on every decision.
 *
 * libyaml's event API builds a small bounded tree (depth, size, no aliases), which is
 * compiled into rules, indexes and analyzer settings. Every problem is a diagnostic
 * with a line and a column; a bundle with any error does not load. Regexes are
 * JIT-compiled here, so matching never compiles.
 *
 * The format is documented in docs/policy.md. */
#include "engine/policy_int.h"
#include "engine/packs.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "engine/paths.h"
#include "engine/rules.h"
#include "util/sha256.h"

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

static int hasGlobChars(const char *s) {
    return strpbrk(s, "*?[\\") != NULL;
}

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
/* Compiling: escalation routes                                                    */
/* ------------------------------------------------------------------------------ */

static const char *const escKeys[] = {"capabilities", "quorum", "deadline", "on_timeout", "cache_ttl", NULL};

#define MAX_CAP_NAME 64
#define MAX_CACHE_TTL_MS (7ull * 24 * 3600 * 1000)

/* A duration: "30s", "500ms", "10m", "1h", or a number of seconds. -1 after a diag. */
static int getDuration(pstate *ps, const ynode *n, const char *what, uint64_t *ms) {
    if (n->type != N_SCALAR || !n->len) { diag(ps, n, "%s must be a duration such as 30s, 10m or 1h", what); return -1; }
    char *end;
    double v = strtod(n->s, &end);
    double mul = !strcmp(end, "") || !strcmp(end, "s") ? 1000 : !strcmp(end, "ms") ? 1 : !strcmp(end, "m") ? 60000
               : !strcmp(end, "h") ? 3600000 : -1;
    if (end == n->s || mul < 0 || !(v >= 0) || v > 1e9) {
        diag(ps, n, "%s must be a duration such as 30s, 10m or 1h, not '%.40s'", what, n->s);
        return -1;
    }
    *ms = (uint64_t)(v * mul + 0.5);
    return 0;
}

/* A capability name: letters, digits, '-', '_', '.'; 1 to 64 bytes. */
static int checkCapability(pstate *ps, const ynode *n, const char *v) {
    size_t len = strlen(v);
    int ok = len > 0 && len <= MAX_CAP_NAME;
    for (const char *q = v; ok && *q; q++)
        ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-' ||
             *q == '_' || *q == '.';
    if (!ok) diag(ps, n, "capability '%.60s': 1 to %d letters, digits, '-', '_' or '.'", v, MAX_CAP_NAME);
    return ok ? 0 : -1;
}

/* An `escalate:` map (a rule's, an analyzer's, or settings.escalation). Keys not given
 * take base's values (settings.escalation), else quorum 1, deadline 30s, on_timeout deny,
 * cache_ttl 0 and no capabilities. NULL after a diagnostic. */
static const lh_escroute *compileEscRoute(pstate *ps, const ynode *n, const lh_escroute *base) {
    if (checkMap(ps, n, "escalate", escKeys) < 0) return NULL;
    lh_escroute *r = lh_arena_calloc(ps->pol->arena, sizeof(*r));
    if (!r) { diag(ps, n, "out of memory"); return NULL; }
    if (base) *r = *base;
    else *r = (lh_escroute){.quorum = 1, .deadline_ms = 30000, .on_timeout = LH_ESC_TIMEOUT_DENY};
    int bad = 0;
    for (int i = 0; i < n->nkids; i += 2) {
        const ynode *v = n->kids[i + 1];
        switch (keyIndex(n->kids[i]->s, escKeys)) {
        case 0: {
            plist l = {0};
            if (getList(ps, v, "capabilities", &l, checkCapability) < 0) { bad = 1; break; }
            if (l.n > LH_ESC_MAX_CAPS) { diag(ps, v, "at most %d capabilities", LH_ESC_MAX_CAPS); bad = 1; break; }
            r->caps = l.v;
            r->ncaps = l.n;
            break;
        }
        case 1: {
            char *end;
            long q = v->type == N_SCALAR ? strtol(v->s, &end, 10) : 0;
            if (v->type != N_SCALAR || *end || q < 1 || q > LH_ESC_MAX_QUORUM) {
                diag(ps, v, "quorum must be a whole number from 1 to %d", LH_ESC_MAX_QUORUM);
                bad = 1;
            } else r->quorum = (int)q;
            break;
        }
        case 2:
            if (getDuration(ps, v, "deadline", &r->deadline_ms) < 0) { bad = 1; break; }
            if (r->deadline_ms == 0 || r->deadline_ms > LH_ESC_MAX_DEADLINE_MS) {
                diag(ps, v, "deadline must be more than 0 and at most 1h");
                bad = 1;
            }
            break;
        case 3:
            if (v->type == N_SCALAR && !strcmp(v->s, "deny")) r->on_timeout = LH_ESC_TIMEOUT_DENY;
            else if (v->type == N_SCALAR && !strcmp(v->s, "allow")) r->on_timeout = LH_ESC_TIMEOUT_ALLOW;
            else if (v->type == N_SCALAR && !strcmp(v->s, "ask")) r->on_timeout = LH_ESC_TIMEOUT_ASK;
            else { diag(ps, v, "on_timeout must be deny, allow or ask"); bad = 1; }
            break;
        case 4:
            if (getDuration(ps, v, "cache_ttl", &r->cache_ttl_ms) < 0) { bad = 1; break; }
            if (r->cache_ttl_ms > MAX_CACHE_TTL_MS) { diag(ps, v, "cache_ttl must be at most 7 days"); bad = 1; }
            break;
        default: break;
        }
    }
    return bad ? NULL : r;
}

/* ------------------------------------------------------------------------------ */
/* Compiling: rules                                                                */
/* ------------------------------------------------------------------------------ */

static const char *const ruleKeys[] = {"id", "action", "risk", "reason", "instead", "match",
                                       "overrides", "escalate", NULL};
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
    const ynode *matchNode = NULL, *overNode = NULL, *idNode = NULL, *actNode = NULL, *escNode = NULL;
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
        case 7: escNode = v; break;
        default: break;
        }
    }
    if (escNode) {
        if (actNode && r->action != LH_ESCALATE) diag(ps, escNode, "escalate: is only for escalate rules");
        else r->esc = compileEscRoute(ps, escNode, ps->pol->esc_default);
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
        if (r->id && r->esc) {
            const prule **er = lh_arena_grow(P->arena, P->escrules, sizeof(prule *) * (size_t)P->nescrules,
                                             sizeof(prule *) * (size_t)(P->nescrules + 1));
            if (!er) { diag(ps, n, "out of memory"); return; }
            er[P->nescrules++] = r;
            P->escrules = er;
        }
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
                                     "escalate", NULL};
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
    const lh_escroute *esc;
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
        case 6: e->esc = compileEscRoute(ps, vv, ps->pol->esc_default); break;
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
    if (e->esc) s->esc = e->esc;
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

static const char *const settingsKeys[] = {"unknown_tool", "allowed_hosts", "escalation", NULL};

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
        else if (!strcmp(n->kids[i]->s, "escalation") && !isNull(n->kids[i + 1]))
            ps->pol->esc_default = compileEscRoute(ps, n->kids[i + 1], NULL);
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
        lh_sha256(yaml ? yaml : "", yaml ? len : 0, h);
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

const char *lh_policy_rule_id(const void *rule) {
    return rule ? ((const prule *)rule)->id : NULL;
}

int lh_policy_rule_line(const void *rule) {
    return rule ? ((const prule *)rule)->line : 0;
}
