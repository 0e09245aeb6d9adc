/* litvar.c — variables the same call assigns a literal (issue 11).
 *
 * `x=go; y=fmt; $x$y -l .` runs gofmt, and `P=rm; $P -rf /` runs rm: a command word
 * made only of variables that the call itself set to a literal is that literal, so the
 * command is judged as the program it names rather than escalated as a dynamic command.
 * A variable is known only when every way the call sets it agrees on one literal value
 * (no $(…), no $x in the value, no `read`, `unset`, `getopts`, `mapfile`, `printf -v`
 * of that name, no second different value anywhere in the call, loops included). When
 * the call sets IFS, unquoted words are not resolved (they split on it).
 *
 * A child shell sees the values its starter assigned: in `env -i HOME=/tmp sh -c '…'`
 * and `NAME=VAL sh -c '…$NAME…'` every word of the child script that refers to NAME
 * gets the literal value (unwrap.c keeps env's NAME=VAL words as the command's
 * assignments). Everything not resolved keeps its dynamic flags. */
#include <string.h>

#include "engine/unwrap.h"

#define LV_MAX_WORD 1024   /* longer resolved words stay unresolved */

static int isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

/* w is "NAME=…" for name (n bytes). */
static int assignsName(const char *w, const char *name, size_t n) {
    return !strncmp(w, name, n) && w[n] == '=';
}

static int isSetter(const char *p) {
    switch (p[0]) {   /* most programs start with none of these: no string compare */
    case 'd': case 'e': case 'g': case 'l': case 'm': case 'p': case 'r': case 't': case 'u': break;
    default: return 0;
    }
    return !strcmp(p, "read") || !strcmp(p, "unset") || !strcmp(p, "getopts") ||
           !strcmp(p, "mapfile") || !strcmp(p, "readarray") || !strcmp(p, "printf") ||
           !strcmp(p, "let") || !strcmp(p, "export") || !strcmp(p, "declare") ||
           !strcmp(p, "local") || !strcmp(p, "readonly") || !strcmp(p, "typeset");
}

/* A value the resolver may use: a literal without expansions. */
static int literalWord(const lh_word *w) {
    return !(w->flags & (LH_W_DYNAMIC | LH_W_SUBST | LH_W_PROCSUBST | LH_W_TILDE | LH_W_BRACE | LH_W_GLOB));
}

/* True when scope (a command index, -1 the top level) encloses command k. */
static int encloses(const lh_script *s, int scope, int k) {
    for (int p = s->cmds[k].parent; ; p = s->cmds[p].parent) {
        if (p == scope) return 1;
        if (p < 0) return 0;
    }
}

/* True when command q's text is run by its parent with the parent's environment
 * (sh -c, eval, a shell fed a here-doc); $(…) and <(…) are expanded before. */
static int inheritsEnv(const lh_cmd *q) {
    return q->origin == LH_ORIGIN_SHELL_C || q->origin == LH_ORIGIN_EVAL ||
           q->origin == LH_ORIGIN_HEREDOC || q->origin == LH_ORIGIN_WRAPPED;
}

/* The literal value of NAME for command k, or NULL when it is not known. */
static const char *lookup(const lh_script *s, int k, const char *name, size_t n) {
    /* a starter's prefix assignment (NAME=VAL sh -c, env NAME=VAL sh -c) */
    for (int q = k, p = s->cmds[k].parent; p >= 0 && inheritsEnv(&s->cmds[q]); q = p, p = s->cmds[p].parent) {
        const lh_cmd *pc = &s->cmds[p];
        if (pc->flags & LH_C_FOR_LIST) continue;
        for (int a = pc->nassigns - 1; a >= 0; a--)
            if (assignsName(pc->assigns[a].s, name, n))
                return literalWord(&pc->assigns[a]) ? pc->assigns[a].s + n + 1 : NULL;
    }
    const char *val = NULL;
    int set_before = 0;
    for (int j = 0; j < s->ncmds; j++) {
        const lh_cmd *cmd = &s->cmds[j];
        for (int a = 0; a < cmd->nassigns; a++) {
            const lh_word *w = &cmd->assigns[a];
            if (!assignsName(w->s, name, n)) continue;
            if (!literalWord(w)) return NULL;
            if (val && strcmp(val, w->s + n + 1)) return NULL;
            val = w->s + n + 1;
            /* only a bare assignment (or a loop item) sets the shell's own variable */
            if (j < k && (cmd->argc == 0 || (cmd->flags & LH_C_FOR_LIST)) && encloses(s, cmd->parent, k))
                set_before = 1;
        }
        if (cmd->argc == 0 || !cmd->prog || !isSetter(cmd->prog)) continue;
        for (int a = 1; a < cmd->argc; a++) {
            const lh_word *w = &cmd->argv[a];
            if (!strncmp(w->s, name, n) && (w->s[n] == 0 || w->s[n] == '=' || w->s[n] == '['))
                return NULL;   /* read NAME, export NAME=…: not followed */
        }
    }
    return set_before ? val : NULL;
}

/* The step charge of one scan of the script's commands (lookup, setsIFS): a step per 4
 * commands, so a script with many commands and many references stays within the budget
 * (LH_STEP_BUDGET) instead of taking time quadratic in its size. */
static uint32_t scanCost(const lh_script *s) { return 1u + (uint32_t)s->ncmds / 4u; }

/* Expand the variables of w for command k into buf. Returns the length, or -1 when a
 * reference is not a known literal, the result would not fit or the budget is spent. */
static long expandWord(lh_ctx *c, int k, const lh_word *w, char *buf, size_t cap) {
    const lh_script *s = c->script;
    size_t o = 0;
    for (const char *p = w->s; *p;) {
        if (*p != '$') {
            if (o + 1 >= cap) return -1;
            buf[o++] = *p++;
            continue;
        }
        const char *name = p + 1;
        int braced = name[0] == '{';
        if (braced) name++;
        if (!isNameStart(name[0])) return -1;
        size_t n = 0;
        while (isNameChar(name[n])) n++;
        if (braced && name[n] != '}') return -1;
        if (!lh_step(c, scanCost(s))) return -1;
        const char *v = lookup(s, k, name, n);
        if (!v) return -1;
        size_t vl = strlen(v);
        if (o + vl >= cap) return -1;
        memcpy(buf + o, v, vl);
        o += vl;
        p = name + n + braced;
    }
    buf[o] = 0;
    return (long)o;
}

/* True when the call sets IFS: an unquoted expansion then splits on other characters
 * (`IFS=,; c=rm,-rf,/; $c` runs rm), so it is not resolved as one word. Scanned again
 * only when the script has grown (children are added as the unwrapper goes). */
static int scanIFS(const lh_script *s);

static int setsIFS(lh_ctx *c) {
    if (c->ifs_ncmds != c->script->ncmds + 1) {
        lh_step(c, scanCost(c->script));
        c->ifs_set = scanIFS(c->script);
        c->ifs_ncmds = c->script->ncmds + 1;
    }
    return c->ifs_set;
}

static int scanIFS(const lh_script *s) {
    for (int j = 0; j < s->ncmds; j++) {
        const lh_cmd *cmd = &s->cmds[j];
        for (int a = 0; a < cmd->nassigns; a++)
            if (!strncmp(cmd->assigns[a].s, "IFS=", 4)) return 1;
        for (int a = 1; a < cmd->argc; a++)
            if (strstr(cmd->argv[a].s, "IFS")) return 1;   /* export IFS=…, read IFS, declare */
    }
    return 0;
}

/* Replace w by its expansion when every reference in it is known. In command position
 * the value must be one plain word (no blanks or glob characters: those split). */
static void resolveWord(lh_ctx *c, int k, lh_word *w, int command_word) {
    if (!(w->flags & LH_W_VAR) || (w->flags & (LH_W_SUBST | LH_W_PROCSUBST | LH_W_ARITH))) return;
    if (!lh_step(c, 1)) return;
    if (!(w->flags & LH_W_QUOTED) && setsIFS(c)) return;
    char buf[LV_MAX_WORD];
    long n = expandWord(c, k, w, buf, sizeof buf);
    if (n <= 0) return;
    if (command_word && strpbrk(buf, " \t\n*?[")) return;
    if (!(w->flags & LH_W_QUOTED) && strpbrk(buf, " \t\n")) return;
    char *t = lh_arena_alloc(c->arena, (size_t)n + 1);
    if (!t) { c->oom = 1; return; }
    memcpy(t, buf, (size_t)n + 1);
    w->s = t;
    w->len = (uint32_t)n;
    w->flags &= ~(LH_W_VAR | LH_W_DYNAMIC);
}

/* True when an enclosing command assigns a variable (a child of NAME=VAL sh -c). */
static int starterAssigns(const lh_script *s, int k) {
    for (int q = k, p = s->cmds[k].parent; p >= 0 && inheritsEnv(&s->cmds[q]); q = p, p = s->cmds[p].parent)
        if (s->cmds[p].nassigns > 0 && !(s->cmds[p].flags & LH_C_FOR_LIST)) return 1;
    return 0;
}

void lh_litvar_resolve(lh_ctx *c, int k) {
    lh_cmd *cmd = &c->script->cmds[k];
    if (cmd->argc == 0 || (cmd->flags & LH_C_FOR_LIST)) return;
    if (cmd->flags & LH_C_DYNAMIC_CMD) {
        resolveWord(c, k, &cmd->argv[0], 1);
        if (!(cmd->argv[0].flags & (LH_W_DYNAMIC | LH_W_PROCSUBST))) {
            const char *b = strrchr(cmd->argv[0].s, '/');
            cmd->prog = b ? b + 1 : cmd->argv[0].s;
            cmd->flags &= ~LH_C_DYNAMIC_CMD;
        }
    }
    if (!starterAssigns(c->script, k)) return;
    for (int i = 1; i < cmd->argc; i++) resolveWord(c, k, &cmd->argv[i], 0);
}

void lh_litvar_keep_assigns(lh_ctx *c, lh_cmd *cmd, int upto) {
    int n = 0;
    for (int i = 1; i < upto; i++) {
        const char *w = cmd->argv[i].s;
        if (!isNameStart(w[0])) continue;
        size_t j = 1;
        while (isNameChar(w[j])) j++;
        if (w[j] == '%' && w[j + 1] == '%') j += 2;   /* BASH_FUNC_name%%= */
        if (w[j] == '=') n++;
    }
    if (n == 0) return;
    lh_word *a = lh_arena_alloc(c->arena, sizeof(lh_word) * (size_t)(cmd->nassigns + n));
    if (!a) { c->oom = 1; return; }
    if (cmd->nassigns) memcpy(a, cmd->assigns, sizeof(lh_word) * (size_t)cmd->nassigns);
    int o = cmd->nassigns;
    for (int i = 1; i < upto; i++) {
        const char *w = cmd->argv[i].s;
        if (!isNameStart(w[0])) continue;
        size_t j = 1;
        while (isNameChar(w[j])) j++;
        if (w[j] == '%' && w[j + 1] == '%') j += 2;
        if (w[j] == '=') a[o++] = cmd->argv[i];
    }
    cmd->assigns = a;
    cmd->nassigns = o;
}
