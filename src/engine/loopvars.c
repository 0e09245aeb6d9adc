/* loopvars.c — loop variables and names set at run time, for the analyzers' variable
 * table (an_state.vars; analyze.c looks names up and substitutes them).
 *
 * `for d in build dist; do rm -rf "$d"; done` runs the body once per item, so each
 * item is recorded as a value of d and the commands that read a variable are judged
 * once per pass (analyze.c, judgeScript), d taking one item per pass. Loops nested in
 * one another form a nest: its passes go through every combination of their items
 * (mixed radix: the outer loop's item changes slowest). Separate nests advance
 * together, each holding its last combination once it has run through them.
 *
 * Bounds: AN_MAX_LOOP_ITEMS items per list, AN_MAX_LOOPS lists, AN_MAX_LOOP_PASSES
 * combinations per nest, AN_MAX_VARS variables. Past any of them the loop's name is
 * unknown (an_var_unknown), as are names the table has no room for, so a delete that
 * uses it escalates as a run-time path rather than being judged on some items only.
 *
 * Names set at run time inside the call (read, mapfile, getopts, unset, printf -v,
 * let, NAME+=…) are unknown from that command on: a loop body that reads or changes
 * its own name no longer holds the literal item. */
#include <string.h>

#include "engine/an_common.h"
#include "util/check.h"

const char an_var_unknown[] = "";

_Static_assert(AN_MAX_LOOP_PASSES * AN_MAX_LOOP_ITEMS <= INT16_MAX && AN_MAX_LOOPS <= INT16_MAX,
               "an_loop and an_var keep items, passes and loop indexes in int16_t");

static int isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

/* Length of the shell name w starts with, 0 when it starts with none. */
static size_t nameLen(const char *w) {
    if (!isNameStart(w[0])) return 0;
    size_t n = 1;
    while (isNameChar(w[n])) n++;
    return n;
}

/* One of 64 bits for a name: the set of dropped names is kept as these bits. */
static uint64_t nameBit(const char *name, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)name[i]) * 16777619u;
    return (uint64_t)1 << (h & 63u);
}

an_var *an_var_add(an_state *s, int idx, const char *name, size_t n, const char *val) {
    if (s->nvars >= AN_MAX_VARS) {
        s->dropped |= nameBit(name, n);
        return NULL;
    }
    an_var *v = &s->vars[s->nvars++];
    *v = (an_var){name, n, val, idx, 0, 0};
    return v;
}

int an_var_dropped(const an_state *s, const char *name, size_t n) {
    return (s->dropped & nameBit(name, n)) != 0;
}

/* ------------------------------------------------------------------------------ */
/* `for` lists                                                                      */
/* ------------------------------------------------------------------------------ */

/* True when command q (or a command it hangs below: sh -c "…" in the body) is in the
 * body of loop k. */
static int inBody(const an_state *s, int k, int q) {
    const an_loop *l = &s->loops[k];
    const lh_script *sc = s->c->script;
    for (int hop = 0; hop < 16 && q >= 0; hop++, q = sc->cmds[q].parent)
        if (q > l->cmd && q < l->end) return 1;
    return 0;
}

/* The innermost recorded loop whose body holds command idx, or -1. */
static int enclosingLoop(const an_state *s, int idx) {
    for (int k = s->nloops - 1; k >= 0; k--)
        if (inBody(s, k, idx)) return k;
    return -1;
}

void an_loop_collect(an_state *s, int idx, const lh_cmd *cmd) {
    int n = cmd->nassigns;
    if (n == 0) return;   /* `for d in; do …` runs no body */
    const char *w = cmd->assigns[0].s;   /* the parser wrote NAME=ITEM */
    size_t nl = nameLen(w);
    if (!nl || w[nl] != '=') return;
    int outer = enclosingLoop(s, idx);
    int nest = outer >= 0 ? s->loops[outer].nest : s->nloops;
    int stride = outer >= 0 ? s->loops[nest].passes : 1;
    if (n > AN_MAX_LOOP_ITEMS || s->nloops >= AN_MAX_LOOPS || stride * n > AN_MAX_LOOP_PASSES ||
        s->nvars + n > AN_MAX_VARS) {
        an_var_add(s, idx, w, nl, an_var_unknown);   /* past a cap: not judged item by item */
        return;
    }
    int k = s->nloops++;
    s->loops[k] = (an_loop){idx, cmd->body_end, (int16_t)n, (int16_t)stride, (int16_t)nest, 0};
    s->loops[nest].passes = (int16_t)(stride * n);
    if (s->loops[nest].passes > s->loop_items) s->loop_items = s->loops[nest].passes;
    for (int i = 0; i < n; i++) {
        an_var *v = an_var_add(s, idx, w, nl, cmd->assigns[i].s + nl + 1);
        LH_ASSERT(v);   /* room was checked above */
        int literal = !(cmd->assigns[i].flags & (LH_W_DYNAMIC | LH_W_PROCSUBST));
        v->item = (int16_t)(literal ? i + 1 : -(i + 1));   /* `$(ls)` keeps today's run-time value */
        v->loop = (int16_t)k;
    }
}

int an_loop_item(const an_state *s, int k) {
    LH_DEBUG_ASSERT(k >= 0 && k < s->nloops);
    const an_loop *l = &s->loops[k];
    int passes = s->loops[l->nest].passes;
    int c = s->pass < passes ? s->pass : passes - 1;
    return c / l->stride % l->n + 1;
}

/* ------------------------------------------------------------------------------ */
/* Names set at run time                                                            */
/* ------------------------------------------------------------------------------ */

/* True when the table holds a value of the name. */
static int known(const an_state *s, const char *name, size_t n) {
    for (int k = 0; k < s->nvars; k++)
        if (s->vars[k].nlen == n && !memcmp(s->vars[k].name, name, n)) return 1;
    return 0;
}

/* Runs for every command: two characters decide before any string compare. */
static int isSetter(const char *p) {
    switch (p[0]) {
    case 'r': return p[1] == 'e' && (!strcmp(p, "read") || !strcmp(p, "readarray"));
    case 'm': return p[1] == 'a' && !strcmp(p, "mapfile");
    case 'g': return p[1] == 'e' && !strcmp(p, "getopts");
    case 'u': return p[1] == 'n' && !strcmp(p, "unset");
    case 'l': return p[1] == 'e' && !strcmp(p, "let");
    case 'p': return p[1] == 'r' && !strcmp(p, "printf");
    default: return 0;
    }
}

void an_loop_setters(an_state *s, int idx, const lh_cmd *cmd) {
    if (!cmd->prog || !isSetter(cmd->prog)) return;
    int pf = !strcmp(cmd->prog, "printf"), let = !strcmp(cmd->prog, "let");
    for (int i = 1; i < cmd->argc; i++) {
        const char *w = cmd->argv[i].s;
        if (pf) {   /* printf -v NAME, printf -vNAME */
            if (strncmp(w, "-v", 2)) continue;
            w = w[2] ? w + 2 : (i + 1 < cmd->argc ? cmd->argv[++i].s : "");
        }
        size_t n = nameLen(w);
        if (!n || (!pf && !let && w[n] && w[n] != '[')) continue;   /* read NAME, unset a[1] */
        if (known(s, w, n)) an_var_add(s, idx, w, n, an_var_unknown);
    }
}
