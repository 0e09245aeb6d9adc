/* policy_int.h — the compiled policy, private to the policy module: policy_load.c builds
 * it from YAML once (cold), policy_match.c reads it on every decision (hot). Nothing
 * else includes this file; the public face is policy.h.
 *
 * The small helpers at the end are used by both sides (the loader to build the
 * indexes, the matcher to read them), so they are static inline here: the hot path
 * keeps them inlined. */
#ifndef LH_POLICY_INT_H
#define LH_POLICY_INT_H

#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine/policy.h"

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
    const lh_escroute *esc; /* its `escalate:` route, or NULL */
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
    const lh_escroute *esc;     /* its `escalate:` route, or NULL */
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
    const lh_escroute *esc_default; /* settings.escalation, or NULL */
    const prule **escrules;         /* rules with `escalate:` (few: a linear scan) */
    int nescrules;
};

/* ------------------------------------------------------------------------------ */
/* Helpers of both sides                                                           */
/* ------------------------------------------------------------------------------ */

static inline int listMatch(const plist *l, const char *s, int pathmode) {
    for (int i = 0; i < l->n; i++)
        if (lh_policy_glob_match(l->v[i], s, pathmode)) return 1;
    return 0;
}

/* Ids that keep the engine failing closed: they cannot be disabled, allowed, excepted
 * or overridden ("a parse failure is never an allow"). Globs skip them. */
static inline int isProtected(const char *id) {
    return !strcmp(id, "shell.parse-error") || !strcmp(id, "shell.too-complex") ||
           !strcmp(id, "shell.bad-bytes") || !strcmp(id, "engine.error") ||
           !strcmp(id, "engine.budget");
}

static inline uint64_t shortBit(char ch) {
    if (ch >= 'a' && ch <= 'z') return 1ull << (ch - 'a');
    if (ch >= 'A' && ch <= 'Z') return 1ull << (26 + ch - 'A');
    if (ch >= '0' && ch <= '9') return 1ull << (52 + ch - '0');
    return 0;
}

static inline uint32_t hashStr(const char *s) {
    uint32_t h = 2166136261u;               /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static inline progslot *progFind(const lh_policy *P, const char *name, uint32_t h) {
    for (uint32_t k = h & P->progmask;; k = (k + 1) & P->progmask) {
        progslot *s = &P->progs[k];
        if (!s->name) return s;
        if (s->hash == h && !strcmp(s->name, name)) return s;
    }
}

#endif
