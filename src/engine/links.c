/* links.c — a symbolic link made in a call and used by a later command of the call.
 *
 * `ln -s /dev/sda out.img && dd if=/dev/zero of=out.img` writes the disk, and
 * `ln -s ~/.bashrc notes.txt; echo … >> notes.txt` a shell start-up file, though the
 * words name a file of the project. After unwrapping, each `ln -s TARGET [LINK]` (also
 * `ln -s -t DIR TARGET`, `cp -s`; a TARGET that is an earlier link is followed) with
 * literal words makes the later commands' words and redirection targets that name LINK
 * (or a path under it) name TARGET instead, so the analyzers judge the real file. The
 * words of programs that act on the link itself (rm, mv, ln …) stay; redirections always
 * follow the link. Only scripts with an `ln -s` pay for the walk. */
#include <string.h>

#include "engine/an_common.h"
#include "engine/unwrap.h"

/* As many as analyze.c follows (AN_MAX_LINKS): a script that makes more is escalated
 * there (engine.budget), so no link past the bound is silently dropped. */
#define LK_MAX AN_MAX_LINKS

typedef struct link {
    const char *from;   /* the link, normalised absolute */
    size_t from_len;
    const char *to;     /* what it points to, normalised absolute */
    int at;             /* the ln command */
} link;

/* unwrap.h */
char *lh_abs_path(lh_ctx *c, int k, const char *t) {
    const lh_cmd *cmd = &c->script->cmds[k];
    const char *dir = cmd->cwd ? cmd->cwd : c->cwd;
    char *p;
    if (t[0] == '/') p = lh_arena_strdup(c->arena, t);
    else if (t[0] == '~' && (t[1] == '/' || !t[1])) {
        if (!c->home) return NULL;
        p = lh_arena_printf(c->arena, "%s%s", c->home, t + 1);
    } else {
        if (!dir || !strcmp(dir, "?")) return NULL;
        p = lh_arena_printf(c->arena, "%s/%s", dir, t);
    }
    if (!p) { c->oom = 1; return NULL; }
    lh_path_normalize(p, strlen(p));
    return p;
}

/* `ln -s [-f -n -T -v] TARGET [LINK]`, `ln -s -t DIR TARGET`, `cp -s TARGET LINK` of
 * command k as a link, or 0. */
static int readLn(lh_ctx *c, int k, link *out, const link *ls, int nl) {
    const lh_cmd *cmd = &c->script->cmds[k];
    int sym = 0, ops[2], n = 0;
    const char *dir = NULL;
    for (int i = 1; i < cmd->argc; i++) {
        const lh_word *w = &cmd->argv[i];
        if (w->flags & (LH_W_DYNAMIC | LH_W_GLOB | LH_W_PROCSUBST)) return 0;
        if (!strcmp(w->s, "--symbolic") || !strcmp(w->s, "--symbolic-link")) sym = 1;
        else if (!strncmp(w->s, "--target-directory=", 19)) dir = w->s + 19;
        else if (w->s[0] == '-' && w->s[1] != '-' && w->s[1]) {
            if (strchr(w->s, 's')) sym = 1;
            const char *t = strchr(w->s, 't');   /* -t DIR, -stDIR */
            if (t && t[1]) dir = t + 1;
            else if (t && i + 1 < cmd->argc) dir = cmd->argv[++i].s;
        }
        else if (w->s[0] == '-' && w->s[1] == '-') continue;
        else if (n < 2) ops[n++] = i;
        else return 0;   /* several targets into a directory */
    }
    if (!sym || n < 1 || (dir && n != 1)) return 0;
    const char *t = cmd->argv[ops[0]].s;
    const char *tb = strrchr(t, '/');
    tb = tb && tb[1] ? tb + 1 : t;
    /* ln -s T: the link is T's last part in the cwd (or DIR) */
    const char *l = n == 2 ? cmd->argv[ops[1]].s : lh_arena_printf(c->arena, "%s/%s", dir ? dir : ".", tb);
    if (!l) { c->oom = 1; return 0; }
    char *from = lh_abs_path(c, k, l);
    if (!from) return 0;
    const char *to;
    if (t[0] == '/' || t[0] == '~') {
        to = lh_abs_path(c, k, t);
    } else {   /* a relative target is read from the link's directory */
        char *slash = strrchr(from, '/');
        to = slash ? lh_arena_printf(c->arena, "%.*s/%s", (int)(slash - from), from, t) : NULL;
        if (to) lh_path_normalize((char *)to, strlen(to));
    }
    if (!to) return 0;
    for (int i = nl - 1; i >= 0; i--) {   /* ln -s /dev/sda a; ln -s a b: b is the disk */
        size_t fl = ls[i].from_len;
        if (!strncmp(to, ls[i].from, fl) && (!to[fl] || to[fl] == '/')) {
            to = lh_arena_printf(c->arena, "%s%s", ls[i].to, to + fl);
            if (!to) { c->oom = 1; return 0; }
            break;
        }
    }
    out->from = from;
    out->from_len = strlen(from);
    out->to = to;
    out->at = k;
    return 1;
}

/* The top-level command command k belongs to: children come after every top-level
 * command, so order is judged between top-level ancestors. */
static int top(const lh_ctx *c, int k) {
    for (int hop = 0; hop < 64 && c->script->cmds[k].parent >= 0; hop++) k = c->script->cmds[k].parent;
    return k;
}

/* Rewrite word w of command k (the text after off) when it names a link of the set. */
static void rewrite(lh_ctx *c, int k, lh_word *w, size_t off, const link *ls, int n) {
    if (w->flags & (LH_W_DYNAMIC | LH_W_GLOB | LH_W_PROCSUBST) || w->len <= off) return;
    const char *t = w->s + off;
    if (t[0] == '-' && off == 0) return;
    for (int i = n - 1; i >= 0; i--) {
        if (top(c, ls[i].at) >= top(c, k)) continue;
        const char *base = strrchr(ls[i].from, '/');
        if (!strstr(t, base ? base + 1 : ls[i].from)) continue;   /* cheap test first */
        char *abs = lh_abs_path(c, k, t);
        if (!abs) return;
        size_t fl = ls[i].from_len;
        if (strncmp(abs, ls[i].from, fl) || (abs[fl] && abs[fl] != '/')) continue;
        char *nw = lh_arena_printf(c->arena, "%.*s%s%s", (int)off, w->s, ls[i].to, abs + fl);
        if (!nw) { c->oom = 1; return; }
        w->s = nw;
        w->len = (uint32_t)strlen(nw);
        return;
    }
}

/* Programs that act on a link itself, not on what it points to: rm h removes the link
 * (a path under it, h/…, is followed by an_path's links in analyze.c). */
static int ownLink(const char *prog) {
    static const char *const own[] = {"rm", "unlink", "rmdir", "mv", "ln", "readlink", "find", "tar",
                                      "git", "ls", "stat", "lstat", "test", "[", NULL};
    for (int i = 0; own[i]; i++)
        if (!strcmp(prog, own[i])) return 1;
    return 0;
}

void lh_links(lh_ctx *c) {
    lh_script *s = c->script;
    link ls[LK_MAX];
    int n = 0;
    for (int k = 0; k < s->ncmds && !c->oom; k++) {
        lh_cmd *cmd = &s->cmds[k];
        if (n > 0) {
            int own = ownLink(cmd->prog);
            for (int i = 1; i < cmd->argc && !own; i++) {
                const char *eq = cmd->argv[i].s[0] != '-' ? strchr(cmd->argv[i].s, '=') : NULL;
                if (!eq && cmd->argv[i].s[0] == '-' && cmd->argv[i].s[1] == '-') eq = strchr(cmd->argv[i].s, '=');
                rewrite(c, k, &cmd->argv[i], eq ? (size_t)(eq - cmd->argv[i].s) + 1 : 0, ls, n);
            }
            for (int r = 0; r < cmd->nredirs; r++)
                if (cmd->redirs[r].op != LH_R_HEREDOC && cmd->redirs[r].op != LH_R_HERESTR)
                    rewrite(c, k, &cmd->redirs[r].target, 0, ls, n);
        }
        const char *p = cmd->prog;
        if (cmd->argc >= 2 && n < LK_MAX && ((p[0] == 'l' && p[1] == 'n' && !p[2]) || (p[0] == 'c' && p[1] == 'p' && !p[2])) &&
            readLn(c, k, &ls[n], ls, n))
            n++;
    }
}
