/* writerun.c — a file written in a call and run by the same call.
 *
 * After unwrapping, the script's commands are walked in order. Files written by a
 * redirection of `cat <<EOF`, `echo`, `printf`, by `tee`, by `cp`/`mv` of a file written
 * before, by `npm pkg set scripts.NAME=…` or `sed -i 's/…/…/' package.json` are
 * remembered with their content when it is known, or as unknown (written from a
 * variable, a download, another program's output). A later command that runs the file —
 * `sh f`, `. f`, `source f`, `./f`, `python f.py` (any interpreter code_lex.c reads),
 * `make` with a written Makefile, `npm|yarn|pnpm install|test|run` with written scripts,
 * `pytest` with a written conftest.py, git with a written hook, `psql -f f` / `psql < f`
 * / `mysql < f` / `sqlite3 DB < f` (the SQL as `psql -c '…'`) — gets the content as a
 * child script (shell text, or `python3 -c '…'` for code), so the analyzers judge what
 * will really run. A run of unknown content escalates (code.written-then-run). */
#include <assert.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "engine/an_common.h"
#include "engine/code_lex.h"
#include "engine/feeds.h"
#include "engine/semantics.h"
#include "engine/unwrap.h"

#define WR_MAX_FILES 16
#define WR_MAX_CONTENT (64u << 10)   /* appends past this make the content unknown */

typedef struct wfile {
    const char *path;      /* normalised absolute path */
    const char *content;   /* NULL: unknown */
    size_t len;
    size_t cap;            /* > 0: content is an arena buffer of cap bytes appends may fill */
    int at;                /* the command that wrote it */
} wfile;

typedef struct wstate {
    lh_ctx *c;
    const lh_shell_limits *lim;
    wfile files[WR_MAX_FILES];
    int nfiles;
    const char *fdout[10];   /* exec N> F: the file fd N writes (N < 10) */
    const char *cloned[4];   /* git clone URL DIR: directories of unknown content */
    int ncloned;
    const char *path;        /* the latest top-level PATH=… / export PATH=… value */
    int overflow;            /* more files were written than WR_MAX_FILES */
} wstate;

static lh_cmd *at(lh_ctx *c, int k) { return &c->script->cmds[k]; }

/* The absolute, normalised path a word names for command k; NULL when it is dynamic. */
static const char *absPath(lh_ctx *c, int k, const lh_word *w) {
    if (w->flags & (LH_W_DYNAMIC | LH_W_GLOB | LH_W_PROCSUBST)) return NULL;
    return lh_abs_path(c, k, w->s);
}

static wfile *find(wstate *w, const char *path, int before) {
    if (!path) return NULL;
    for (int i = w->nfiles - 1; i >= 0; i--)
        if (w->files[i].at < before && !strcmp(w->files[i].path, path)) return &w->files[i];
    return NULL;
}

static const char *baseOf(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void remember(wstate *w, const char *path, const char *content, size_t len, int k) {
    if (!path) return;
    wfile *f = NULL;
    for (int i = 0; i < w->nfiles; i++)
        if (!strcmp(w->files[i].path, path)) f = &w->files[i];
    if (!f) {
        if (w->nfiles >= WR_MAX_FILES) { w->overflow = 1; return; }
        f = &w->files[w->nfiles++];
    }
    f->path = path;
    f->content = content;
    f->len = len;
    f->cap = 0;
    f->at = k;
}

/* path as the call wrote it before command k, remembered empty when it did not write it
 * (so what k adds is kept as a fragment of it); NULL when unknown. */
static wfile *fileFor(wstate *w, const char *path, int k) {
    wfile *f = find(w, path, k + 1);
    if (!f) {
        remember(w, path, "", 0, k);
        f = find(w, path, k + 1);
    }
    return f;
}

/* The project's package.json as command k sees it (fileFor). */
static wfile *packageJson(lh_ctx *c, wstate *w, int k) {
    lh_word pj = {"package.json", 12, 0};
    return fileFor(w, absPath(c, k, &pj), k);
}

/* `>>`: add text to f's content in a buffer that doubles, so appends stay linear. */
static void append(wstate *w, wfile *f, const char *text, size_t len, int k) {
    size_t need = f->len + 1 + len + 1;
    if (need > WR_MAX_CONTENT) {   /* bounded work: too long to follow */
        f->content = NULL;
        f->at = k;
        return;
    }
    if (need > f->cap) {
        size_t cap = need * 2 < 256 ? 256 : need * 2;
        char *b = lh_arena_alloc(w->c->arena, cap);
        if (!b) { w->c->oom = 1; return; }
        memcpy(b, f->content, f->len);
        f->content = b;
        f->cap = cap;
    }
    char *b = (char *)f->content;
    b[f->len++] = '\n';
    memcpy(b + f->len, text, len);
    f->len += len;
    b[f->len] = 0;
    f->at = k;
}

/* What command k prints to stdout, when it is known: cat of a here-doc, echo or printf
 * of literal words, cat of a file written before. NULL otherwise. */
static const char *printed(wstate *w, int k, size_t *len) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    if (!strcmp(cmd->prog, "cat")) {
        int op = lh_first_operand(cmd, 0);
        if (op < 0) {
            for (int r = 0; r < cmd->nredirs; r++)
                if (cmd->redirs[r].op == LH_R_HEREDOC || cmd->redirs[r].op == LH_R_HERESTR) {
                    *len = cmd->redirs[r].target.len;
                    return cmd->redirs[r].target.s;
                }
            return lh_stdin_text(c, k, len);
        }
        if (!strcmp(cmd->argv[op].s, "-") || lh_sem_is_stdin_path(cmd->argv[op].s))
            return lh_stdin_text(c, k, len);   /* cat - > F <<EOF: the here-doc */
        if (cmd->argv[op].flags & LH_W_PROCSUBST) return lh_feed_subst_text(c, k, op, len);   /* cat <(…) */
        wfile *f = find(w, absPath(c, k, &cmd->argv[op]), k);
        if (f && f->content) { *len = f->len; return f->content; }
        return NULL;
    }
    int is_printf = !strcmp(cmd->prog, "printf");
    if (strcmp(cmd->prog, "echo") && !is_printf) return NULL;
    int from = 1;
    int escapes = is_printf;
    while (!is_printf && from < cmd->argc && cmd->argv[from].s[0] == '-') {
        if (strchr(cmd->argv[from].s, 'e')) escapes = 1;
        from++;
    }
    if (is_printf) {   /* the format filled as printf fills it (feeds.c) */
        for (int a = 1; a < cmd->argc; a++)
            if (cmd->argv[a].flags & LH_W_DYNAMIC) return NULL;
        return lh_feed_printed(c, k, len);
    }
    int per_line = 0;
    size_t n = 2;
    for (int a = from; a < cmd->argc; a++) {
        if (cmd->argv[a].flags & LH_W_DYNAMIC) return NULL;
        n += cmd->argv[a].len + 1;
    }
    char *t = lh_arena_alloc(c->arena, n);
    if (!t) { c->oom = 1; return NULL; }
    size_t o = 0;
    for (int a = from; a < cmd->argc; a++) {
        const char *s = cmd->argv[a].s;
        for (size_t q = 0; q < cmd->argv[a].len; q++) {
            if (escapes && s[q] == '\\' && (s[q + 1] == 'n' || s[q + 1] == 't')) {
                t[o++] = s[q + 1] == 'n' ? '\n' : '\t';
                q++;
            } else {
                t[o++] = s[q];
            }
        }
        if (a + 1 < cmd->argc) t[o++] = per_line ? '\n' : ' ';
    }
    t[o] = 0;
    *len = o;
    return t;
}

/* s with " and \\ escaped, as a JSON string's inside. */
static const char *jsonEscape(lh_ctx *c, const char *s) {
    char *val = lh_arena_alloc(c->arena, strlen(s) * 2 + 1);
    if (!val) { c->oom = 1; return ""; }
    size_t o = 0;
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') val[o++] = '\\';
        val[o++] = *s;
    }
    val[o] = 0;
    return val;
}

/* Record what command k writes. */
/* The name after "scripts" in code (.NAME, ['NAME'], ["NAME"]) and the literal assigned
 * to it: returns the position after the literal, or NULL when there is no assignment
 * here. *lit is NULL when the value is not a plain literal. */
static const char *scriptAssign(lh_ctx *c, const char *q, const char *end, const char **name,
                                size_t *nlen, char **lit) {
    if (q < end && (*q == '\'' || *q == '"')) q++;
    if (q < end && *q == ']') q++;
    const char *nm;
    if (q < end && *q == '.') {
        nm = ++q;
        while (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$')) q++;
        *nlen = (size_t)(q - nm);
    } else if (q + 1 < end && *q == '[' && (q[1] == '\'' || q[1] == '"')) {
        char qq = q[1];
        nm = q + 2;
        const char *e = memchr(nm, qq, (size_t)(end - nm));
        if (!e || e + 1 >= end || e[1] != ']') return NULL;
        *nlen = (size_t)(e - nm);
        q = e + 2;
    } else {
        return NULL;
    }
    *name = nm;
    while (q < end && *q == ' ') q++;
    if (q >= end || *q != '=' || (q + 1 < end && q[1] == '=')) return NULL;
    q++;
    while (q < end && *q == ' ') q++;
    *lit = NULL;
    if (q >= end || (*q != '\'' && *q != '"' && *q != '`')) return q;
    char qq = *q++;
    char *out = lh_arena_alloc(c->arena, (size_t)(end - q) + 1);
    if (!out) { c->oom = 1; return NULL; }
    size_t o = 0;
    for (; q < end && *q != qq; q++) {
        if (*q == '\\' && q + 1 < end) q++;
        else if (qq == '`' && *q == '$' && q + 1 < end && q[1] == '{') return q;   /* interpolates */
        out[o++] = *q;
    }
    if (q >= end) return q;
    out[o] = 0;
    *lit = out;
    return q + 1;
}

/* Inline code (node -e, python3 -c …) that edits package.json's scripts and writes the
 * file: each `X.scripts.NAME = 'literal'` (or ['scripts']['NAME']) is kept as a
 * package.json fragment, as `npm pkg set` is; a value that is not a literal makes the
 * file's content unknown. */
static void noteCodeScripts(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    if (lh_code_lang(cmd->prog) == LH_LANG_NONE) return;
    const char *code = NULL;
    for (int i = 1; i + 1 < cmd->argc && !code; i++) {
        const char *a = cmd->argv[i].s;
        assert(a); /* lh_word.s is never NULL (shell.h) */
        if (!strcmp(a, "-e") || !strcmp(a, "-c") || !strcmp(a, "--eval") || !strcmp(a, "-r")) code = cmd->argv[i + 1].s;
    }
    if (!code || !strstr(code, "package.json")) return;
    const char *end = code + strlen(code);
    lh_word pj = {"package.json", 12, 0};
    const char *path = absPath(c, k, &pj);
    for (const char *q = strstr(code, "scripts"); q && !c->oom; q = strstr(q + 7, "scripts")) {
        const char *name = NULL;
        size_t nlen = 0;
        char *lit = NULL;
        const char *after = scriptAssign(c, q + 7, end, &name, &nlen, &lit);
        if (!after || !nlen) continue;
        wfile *old = fileFor(w, path, k);
        if (!old || !old->content) return;
        if (!lit) { old->content = NULL; return; }
        const char *piece = lh_arena_printf(c->arena, "\"%.*s\": \"%s\"", (int)nlen, name, jsonEscape(c, lit));
        if (!piece) { c->oom = 1; return; }
        append(w, old, piece, strlen(piece), k);
    }
}

/* A word's text from byte off on, as a word of its own (dd's of=F). */
static lh_word wordFrom(const lh_word *w, size_t off) {
    lh_word r = *w;
    r.s += off;
    r.len = (uint32_t)strlen(r.s);
    return r;
}

/* Copies other than cp/tee (evasion round 3): dd of=F [if=G], sponge F, aria2c -o F and
 * scp HOST:P DEST (downloads: unknown content), npm set-script NAME VALUE, and
 * `exec N<<EOF` / `exec N< F` / `exec N< <(…)`, which make /dev/fd/N read that text. */
static void noteCopies(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    const char *p = cmd->argc > 0 ? cmd->prog : "exec";
    size_t len = 0;
    if (!strcmp(p, "exec")) {
        if (cmd->argc > 1) return;
        for (int r = 0; r < cmd->nredirs; r++) {
            const lh_redir *rd = &cmd->redirs[r];
            if (rd->fd < 3 || rd->fd > 99) continue;
            const char *text = NULL;
            len = 0;
            if (rd->op == LH_R_HEREDOC || rd->op == LH_R_HERESTR) {
                text = rd->target.s;
                len = rd->target.len;
            } else if ((rd->op == LH_R_OUT || rd->op == LH_R_APPEND || rd->op == LH_R_CLOBBER) && rd->fd < 10) {
                const char *path = absPath(c, k, &rd->target);   /* exec 4> F; echo … >&4 */
                if (!path) continue;
                w->fdout[rd->fd] = path;
                if (rd->op != LH_R_APPEND || !find(w, path, k + 1)) remember(w, path, "", 0, k);
                continue;
            } else if (rd->op == LH_R_IN) {
                wfile *f = (rd->target.flags & LH_W_PROCSUBST) ? NULL : find(w, absPath(c, k, &rd->target), k + 1);
                if (!f && !(rd->target.flags & LH_W_PROCSUBST)) continue;   /* a file of the project */
                if (f) { text = f->content; len = f->len; }
            } else {
                continue;
            }
            const char *fd = lh_arena_printf(c->arena, "/dev/fd/%d", rd->fd);
            if (!fd) { c->oom = 1; return; }
            remember(w, fd, text, len, k);
        }
        return;
    }
    if (!strcmp(p, "sponge")) {
        int op = lh_first_operand(cmd, 0);
        const char *text = lh_stdin_text(c, k, &len);
        if (op > 0) remember(w, absPath(c, k, &cmd->argv[op]), text, len, k);
    } else if (!strcmp(p, "dd")) {
        const char *dst = NULL, *text = NULL;
        int from_file = 0;
        for (int i = 1; i < cmd->argc; i++) {
            lh_word wd = cmd->argv[i];
            if (!strncmp(wd.s, "of=", 3)) {
                lh_word t = wordFrom(&wd, 3);
                dst = absPath(c, k, &t);
            } else if (!strncmp(wd.s, "if=", 3)) {
                lh_word t = wordFrom(&wd, 3);
                wfile *f = find(w, absPath(c, k, &t), k + 1);
                from_file = 1;
                if (f) { text = f->content; len = f->len; }
                else if (!lh_sem_is_stdin_path(t.s)) return;   /* a file of the project */
                else from_file = 0;
            }
        }
        if (!from_file) text = lh_stdin_text(c, k, &len);
        if (dst) remember(w, dst, text, len, k);
    } else if (!strcmp(p, "git") || !strcmp(p, "gh")) {
        /* git clone URL [DIR], gh repo clone REPO [DIR]: what DIR holds is unknown */
        static const char *const lo[] = {"--branch", "--depth", "--origin", "--config", "--reference",
                                         "--separate-git-dir", "--jobs", "--template", "--upload-pack", NULL};
        int ops[3];
        int n = an_operands(cmd, !strcmp(p, "gh") ? 3 : 2, "bocju", lo, ops, 3);
        if (n < 1 || w->ncloned >= 4) return;
        const char *url = cmd->argv[ops[0]].s, *b = baseOf(url);
        lh_word dw = n > 1 ? cmd->argv[ops[1]] : (lh_word){b, (uint32_t)strlen(b), cmd->argv[ops[0]].flags};
        size_t bl = strlen(dw.s);
        if (n == 1 && bl > 4 && !strcmp(dw.s + bl - 4, ".git")) {
            dw.s = lh_arena_strndup(c->arena, dw.s, bl - 4);
            if (!dw.s) { c->oom = 1; return; }
            dw.len = (uint32_t)(bl - 4);
        }
        if (!*dw.s) return;
        const char *dir = absPath(c, k, &dw);
        if (dir) w->cloned[w->ncloned++] = dir;
    } else if (!strcmp(p, "lwp-download")) {
        int ops[3];
        int n = an_operands(cmd, 1, "", NULL, ops, 3);
        if (n == 2) remember(w, absPath(c, k, &cmd->argv[ops[1]]), NULL, 0, k);
    } else if (!strcmp(p, "axel") || !strcmp(p, "fetch")) {
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-o")) remember(w, absPath(c, k, &cmd->argv[i + 1]), NULL, 0, k);
    } else if (!strcmp(p, "aria2c")) {
        for (int i = 1; i < cmd->argc; i++) {
            lh_word wd = cmd->argv[i];
            if ((!strcmp(wd.s, "-o") || !strcmp(wd.s, "--out")) && i + 1 < cmd->argc)
                remember(w, absPath(c, k, &cmd->argv[i + 1]), NULL, 0, k);
            else if (!strncmp(wd.s, "--out=", 6)) {
                lh_word t = wordFrom(&wd, 6);
                remember(w, absPath(c, k, &t), NULL, 0, k);
            }
        }
    } else if (!strcmp(p, "scp")) {
        int op = lh_first_operand(cmd, 0);
        if (op <= 0 || op >= cmd->argc - 1) return;
        const lh_word *dw = &cmd->argv[cmd->argc - 1];
        for (int i = op; i < cmd->argc - 1; i++) {
            const char *a = cmd->argv[i].s, *colon = strchr(a, ':'), *slash = strchr(a, '/');
            if (!colon || (slash && slash < colon)) continue;   /* a local source */
            const char *rb = baseOf(colon + 1);
            int isdir = !strcmp(dw->s, ".") || dw->s[dw->len ? dw->len - 1 : 0] == '/';
            lh_word t = *dw;
            if (isdir && *rb) {
                t.s = lh_arena_printf(c->arena, "%s/%s", dw->s, rb);
                if (!t.s) { c->oom = 1; return; }
                t.len = (uint32_t)strlen(t.s);
            }
            remember(w, absPath(c, k, &t), NULL, 0, k);
        }
    } else if (!strcmp(p, "npm")) {
        /* npm set-script NAME VALUE: as npm pkg set scripts.NAME=VALUE */
        wfile *old = packageJson(c, w, k);
        if (!old || !old->content) return;
        if (cmd->argv[3].flags & LH_W_DYNAMIC) { old->content = NULL; return; }
        const char *piece = lh_arena_printf(c->arena, "\"%s\": \"%s\"", jsonEscape(c, cmd->argv[2].s),
                                            jsonEscape(c, cmd->argv[3].s));
        if (!piece) { c->oom = 1; return; }
        append(w, old, piece, strlen(piece), k);
    }
}

/* curl -K F / --config F / --config=F whose text the call gives: a here-doc on -, a
 * <(echo …), a file written before (curlcfg.c reads it as options). */
static void curlConfig(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        lh_word fw;
        int from = i;
        if ((!strcmp(a, "-K") || !strcmp(a, "--config")) && i + 1 < cmd->argc) fw = cmd->argv[++i];
        else if (!strncmp(a, "--config=", 9)) fw = wordFrom(&cmd->argv[i], 9);
        else if (!strncmp(a, "-K", 2) && a[2]) fw = wordFrom(&cmd->argv[i], 2);
        else continue;
        size_t len = 0;
        const char *text = NULL;
        if (!strcmp(fw.s, "-") || lh_sem_is_stdin_path(fw.s)) {
            text = lh_stdin_text(c, k, &len);
        } else if (fw.flags & LH_W_PROCSUBST) {
            text = lh_feed_subst_code(c, k, i, &len);
        } else {
            wfile *f = find(w, absPath(c, k, &fw), k);
            if (!f) continue;
            if (!f->content) { lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), f->path); return; }
            text = f->content;
            len = f->len;
        }
        if (text) lh_curl_config(c, w->lim, k, from, i + 1, text, len);
        return;
    }
}

/* Does noteCopies() read cmd? (the hot path: one switch on the first letter) */
static int isCopier(const lh_cmd *cmd) {
    const char *p = cmd->prog;
    switch (p[0]) {
    case 'd': return !strcmp(p, "dd");
    case 's': return !strcmp(p, "sponge") || !strcmp(p, "scp");
    case 'a': return !strcmp(p, "aria2c") || !strcmp(p, "axel");
    case 'l': return !strcmp(p, "lwp-download");
    case 'f': return !strcmp(p, "fetch");
    case 'e': return !strcmp(p, "exec");
    case 'g':
        if (!strcmp(p, "git")) return cmd->argc >= 3 && !strcmp(cmd->argv[1].s, "clone");
        return !strcmp(p, "gh") && cmd->argc >= 4 && !strcmp(cmd->argv[1].s, "repo") && !strcmp(cmd->argv[2].s, "clone");
    case 'n': return !strcmp(p, "npm") && cmd->argc >= 4 && !strcmp(cmd->argv[1].s, "set-script");
    default: return 0;
    }
}

static void noteWrites(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    if (cmd->parent < 0) {   /* PATH=… alone, export PATH=…: later bare names are looked up there */
        for (int a = 0; a < cmd->nassigns && cmd->argc == 0; a++)
            if (!strncmp(cmd->assigns[a].s, "PATH=", 5)) w->path = cmd->assigns[a].s + 5;
        if (cmd->argc >= 2 && !strcmp(cmd->prog, "export") && !strncmp(cmd->argv[1].s, "PATH=", 5))
            w->path = cmd->argv[1].s + 5;
    }
    for (int r = 0; r < cmd->nredirs; r++) {
        const lh_redir *rd = &cmd->redirs[r];
        if (rd->op == LH_R_DUPOUT && rd->fd <= 1 && rd->target.s[0] >= '3' && rd->target.s[0] <= '9' &&
            !rd->target.s[1] && w->fdout[rd->target.s[0] - '0']) {
            /* echo … >&4 after exec 4> F: appends to F */
            wfile *f = find(w, w->fdout[rd->target.s[0] - '0'], k + 1);
            size_t len = 0;
            const char *text = cmd->argc > 0 ? printed(w, k, &len) : NULL;
            if (f && f->content && text) append(w, f, text, len, k);
            else if (f) { f->content = NULL; f->at = k; }
            continue;
        }
        if (!lh_redir_writes_file(rd) || rd->fd > 1) continue;
        if (!strcmp(rd->target.s, "/dev/null")) continue;
        if (cmd->argc > 0 && !strcmp(cmd->prog, "cat") && lh_first_operand(cmd, 0) >= 0) {
            /* cat of files this call did not write: as trusted as running them directly */
            int tracked = 0;
            for (int i = lh_first_operand(cmd, 0); i > 0 && i < cmd->argc; i++)
                if (find(w, absPath(c, k, &cmd->argv[i]), k) || !strcmp(cmd->argv[i].s, "-") ||
                    lh_sem_is_stdin_path(cmd->argv[i].s) || (cmd->argv[i].flags & LH_W_PROCSUBST))
                    tracked = 1;
            if (!tracked) continue;
        }
        size_t len = 0;
        const char *text = cmd->argc > 0 ? printed(w, k, &len) : NULL;
        const char *path = absPath(c, k, &rd->target);
        wfile *old = find(w, path, k + 1);
        if (rd->op == LH_R_APPEND && old && text) {
            /* >> adds to what was written before (unknown stays unknown) */
            if (old->content) append(w, old, text, len, k);
            continue;
        }
        remember(w, path, text, len, k);
    }
    if (cmd->argc == 0) { noteCopies(w, k); return; }
    const char *p = cmd->prog;
    noteCodeScripts(w, k);
    if (!strcmp(p, "tee")) {
        size_t len = 0;
        const char *text = lh_stdin_text(c, k, &len);
        for (int i = 1; i < cmd->argc; i++)
            if (cmd->argv[i].s[0] != '-') remember(w, absPath(c, k, &cmd->argv[i]), text, len, k);
    } else if ((!strcmp(p, "cp") || !strcmp(p, "mv") || !strcmp(p, "install") || !strcmp(p, "ln") ||
                !strcmp(p, "rsync")) && cmd->argc >= 3) {
        const lh_word *sw = &cmd->argv[cmd->argc - 2];
        if (lh_sem_is_stdin_path(sw->s) || (sw->flags & LH_W_PROCSUBST)) {   /* install /dev/stdin F <<EOF */
            size_t len = 0;
            const char *text = (sw->flags & LH_W_PROCSUBST) ? lh_feed_subst_text(c, k, cmd->argc - 2, &len)
                                                            : lh_stdin_text(c, k, &len);
            remember(w, absPath(c, k, &cmd->argv[cmd->argc - 1]), text, len, k);
            return;
        }
        wfile *src = find(w, absPath(c, k, sw), k + 1);
        if (src) remember(w, absPath(c, k, &cmd->argv[cmd->argc - 1]), src->content, src->len, k);
    } else if (isCopier(cmd)) {
        noteCopies(w, k);
    } else if (!strcmp(p, "curl") || !strcmp(p, "wget")) {
        if (!strcmp(p, "curl")) curlConfig(w, k);
        for (int i = 1; i + 1 < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if ((!strcmp(p, "curl") && (!strcmp(a, "-o") || !strcmp(a, "--output"))) ||
                (!strcmp(p, "wget") && (!strcmp(a, "-O") || !strcmp(a, "--output-document"))))
                remember(w, absPath(c, k, &cmd->argv[i + 1]), NULL, 0, k);
        }
    } else if (!strcmp(p, "npm") && cmd->argc >= 4 && !strcmp(cmd->argv[1].s, "pkg") &&
               !strcmp(cmd->argv[2].s, "set")) {
        /* npm pkg set scripts.NAME=VALUE: kept as a package.json fragment */
        wfile *old = packageJson(c, w, k);
        if (!old || !old->content) return;   /* unknown stays unknown */
        for (int i = 3; i < cmd->argc && old->content; i++) {
            const char *a = cmd->argv[i].s;
            const char *eq = strchr(a, '=');
            if (strncmp(a, "scripts.", 8) || !eq) continue;
            if (cmd->argv[i].flags & LH_W_DYNAMIC) { old->content = NULL; break; }
            const char *piece = lh_arena_printf(c->arena, "\"%.*s\": \"%s\"", (int)(eq - a - 8), a + 8,
                                                jsonEscape(c, eq + 1));
            if (!piece) { c->oom = 1; return; }
            append(w, old, piece, strlen(piece), k);
        }
    } else if (!strcmp(p, "sed")) {
        /* sed -i 's/A/B/' package.json: the replacements B are what is added */
        int inplace = 0;
        for (int i = 1; i < cmd->argc; i++)
            if (!strncmp(cmd->argv[i].s, "-i", 2) || !strcmp(cmd->argv[i].s, "--in-place")) inplace = 1;
        const char *last = cmd->argv[cmd->argc - 1].s;
        if (!inplace || strcmp(baseOf(last), "package.json")) return;
        const char *path = absPath(c, k, &cmd->argv[cmd->argc - 1]);
        remember(w, path, "", 0, k);
        wfile *f = find(w, path, k + 1);
        for (int i = 1; f && f->content && i < cmd->argc - 1; i++) {
            const char *e = cmd->argv[i].s;
            if (e[0] != 's' || !e[1]) continue;
            char d = e[1];
            const char *a = strchr(e + 2, d);
            while (a && a[-1] == '\\') a = strchr(a + 1, d);
            if (!a) continue;
            const char *b = a + 1, *bend = b;
            while (*bend && !(*bend == d && bend[-1] != '\\')) bend++;
            char *rep = lh_arena_alloc(c->arena, (size_t)(bend - b) + 1);
            if (!rep) { c->oom = 1; return; }
            size_t o = 0;
            for (const char *q = b; q < bend; q++) {
                if (*q == '\\' && q + 1 < bend && q[1] == d) continue;
                rep[o++] = *q;
            }
            rep[o] = 0;
            append(w, f, rep, o, k);
        }
    }
}

/* Single-quote text as one shell word into a new string: PROG FLAG 'text'. */
static const char *codeCommand(lh_ctx *c, const char *prog, const char *flag, const char *t, size_t n) {
    size_t cap = strlen(prog) + strlen(flag) + n * 4 + 8;
    char *out = lh_arena_alloc(c->arena, cap);
    if (!out) { c->oom = 1; return NULL; }
    size_t o = (size_t)snprintf(out, cap, "%s %s '", prog, flag);
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '\'') { memcpy(out + o, "'\\''", 4); o += 4; }
        else out[o++] = t[i];
    }
    out[o++] = '\'';
    out[o] = 0;
    return out;
}

static const char *inlineFlag(lh_lang l) {
    switch (l) {
    case LH_LANG_PYTHON: return "-c";
    case LH_LANG_PHP: return "-r";
    default: return "-e";
    }
}

/* The language of a file run directly, from its name or its #! line. */
static lh_lang langOfFile(const wfile *f) {
    const char *b = baseOf(f->path);
    const char *dot = strrchr(b, '.');
    if (dot) {
        if (!strcmp(dot, ".py")) return LH_LANG_PYTHON;
        if (!strcmp(dot, ".js") || !strcmp(dot, ".mjs") || !strcmp(dot, ".cjs")) return LH_LANG_JS;
        if (!strcmp(dot, ".pl")) return LH_LANG_PERL;
        if (!strcmp(dot, ".rb")) return LH_LANG_RUBY;
        if (!strcmp(dot, ".php")) return LH_LANG_PHP;
        if (!strcmp(dot, ".lua")) return LH_LANG_LUA;
    }
    if (f->content && f->len > 2 && f->content[0] == '#' && f->content[1] == '!') {
        const char *e = memchr(f->content, '\n', f->len);
        size_t n = e ? (size_t)(e - f->content) : f->len;
        static const struct { const char *name; lh_lang l; } shebang[] = {
            {"python", LH_LANG_PYTHON}, {"node", LH_LANG_JS}, {"perl", LH_LANG_PERL},
            {"ruby", LH_LANG_RUBY}, {"php", LH_LANG_PHP}, {"lua", LH_LANG_LUA}};
        for (size_t i = 0; i < sizeof(shebang) / sizeof(shebang[0]); i++)
            if (memmem(f->content, n, shebang[i].name, strlen(shebang[i].name))) return shebang[i].l;
    }
    return LH_LANG_NONE;
}

static const char *langProg(lh_lang l) {
    switch (l) {
    case LH_LANG_PYTHON: return "python3";
    case LH_LANG_JS: return "node";
    case LH_LANG_PERL: return "perl";
    case LH_LANG_RUBY: return "ruby";
    case LH_LANG_PHP: return "php";
    case LH_LANG_LUA: return "lua";
    default: return NULL;
    }
}

/* Command k runs file f: give it f's content as a child script. */
static void runs(wstate *w, int k, const wfile *f, lh_lang lang, const char *prog) {
    lh_ctx *c = w->c;
    if (!f->content) {
        lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), f->path);
        return;
    }
    const char *text = f->content;
    size_t len = f->len;
    if (lang != LH_LANG_NONE) {
        if (!prog) prog = langProg(lang);
        text = codeCommand(c, prog, inlineFlag(lang), f->content, f->len);
        if (!text) return;
        len = strlen(text);
    }
    uint32_t keep = at(c, k)->flags & LH_C_REPLACED;
    lh_unwrap_child(c, w->lim, k, text, len);
    if (!keep) at(c, k)->flags &= ~LH_C_REPLACED;
}

/* Command k runs commands (shell text) taken out of file f by its kind: each unit (a
 * recipe line, a script value) is its own child script. */
static void runsCommands(wstate *w, int k, const wfile *f, const char *text, size_t len) {
    if (!f->content) { lh_emit(w->c, k, LH_RULE(WRITE_RUN_UNKNOWN), f->path); return; }
    if (!text || !len) return;
    uint32_t keep = at(w->c, k)->flags & LH_C_REPLACED;
    for (const char *u = text, *end = text + len; u < end;) {
        const char *ue = memchr(u, LH_CONTENT_UNIT[0], (size_t)(end - u));
        if (!ue) ue = end;
        if (ue > u) lh_unwrap_child(w->c, w->lim, k, u, (size_t)(ue - u));
        u = ue + 1;
    }
    if (!keep) at(w->c, k)->flags &= ~LH_C_REPLACED;
}

/* A written file in the directory command k runs in, by name. */
static wfile *inDir(wstate *w, int k, const char *name) {
    lh_word word = {name, strlen(name), 0};
    return find(w, absPath(w->c, k, &word), k);
}

/* Append the single-quoted word t to o (cap bytes) at *n. */
static void quoteTo(char *o, size_t cap, size_t *n, const char *t) {
    if (*n + 3 >= cap) return;
    o[(*n)++] = ' ';
    o[(*n)++] = '\'';
    for (; *t && *n + 6 < cap; t++) {
        if (*t == '\'') { memcpy(o + *n, "'\\''", 4); *n += 4; }
        else o[(*n)++] = *t;
    }
    o[(*n)++] = '\'';
    o[*n] = 0;
}

/* psql -f F / --file=F / < F, mysql|mariadb … < F, sqlite3 DB < F / ".read F": the SQL
 * written to F is run as `psql … -c 'SQL'` (mysql -e, sqlite3 DB 'SQL'), the form the
 * database analyzer reads. Returns 1 when command k is such a run of a written file. */
static int sqlRun(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    const char *p = cmd->prog;
    int psql = !strcmp(p, "psql"), my = !strcmp(p, "mysql") || !strcmp(p, "mariadb");
    int lite = !strcmp(p, "sqlite3");
    if (!psql && !my && !lite) return 0;
    wfile *f = NULL;
    int skip = -1, nskip = 0;
    for (int i = 1; i < cmd->argc && !f; i++) {
        const char *a = cmd->argv[i].s;
        lh_word fw = cmd->argv[i];
        if (psql && (!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < cmd->argc) {
            fw = cmd->argv[i + 1];
            nskip = 2;
        } else if (psql && !strncmp(a, "--file=", 7)) {
            fw.s = a + 7; nskip = 1;
        } else if (psql && !strncmp(a, "-f", 2) && a[2]) {
            fw.s = a + 2; nskip = 1;
        } else if (lite && !strncmp(a, ".read ", 6)) {
            fw.s = a + 6; nskip = 1;
        } else {
            continue;
        }
        fw.len = (uint32_t)strlen(fw.s);
        f = find(w, absPath(c, k, &fw), k);
        if (f) skip = i;
    }
    for (int r = 0; r < cmd->nredirs && !f; r++)
        if (cmd->redirs[r].op == LH_R_IN && cmd->redirs[r].fd <= 0)
            f = find(w, absPath(c, k, &cmd->redirs[r].target), k);
    if (!f) return 0;
    if (!f->content) { lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), f->path); return 1; }
    size_t cap = 64 + f->len * 4;
    for (int i = 0; i < cmd->argc; i++) cap += cmd->argv[i].len * 4 + 4;
    char *text = lh_arena_alloc(c->arena, cap);
    if (!text) { c->oom = 1; return 1; }
    size_t n = 0;
    text[0] = 0;
    for (int i = 0; i < cmd->argc; i++)
        if (i < skip || i >= skip + nskip || skip < 0) quoteTo(text, cap, &n, cmd->argv[i].s);
    if (psql || my) {
        memcpy(text + n, psql ? " -c" : " -e", 4);
        n += 3;
    }
    char *sql = lh_arena_strndup(c->arena, f->content, f->len);
    if (!sql) { c->oom = 1; return 1; }
    quoteTo(text, cap, &n, sql);
    uint32_t keep = cmd->flags & LH_C_REPLACED;
    lh_unwrap_child(c, w->lim, k, text + 1, n - 1);
    if (!keep) at(c, k)->flags &= ~LH_C_REPLACED;
    return 1;
}

/* Command k runs the script word names from a directory cloned earlier in the call
 * (git clone URL DIR && sh DIR/install.sh): its content is unknown. */
static int clonedRun(wstate *w, int k, const lh_word *word) {
    if (!w->ncloned) return 0;
    const char *path = absPath(w->c, k, word);
    for (int i = 0; path && i < w->ncloned; i++) {
        size_t n = strlen(w->cloned[i]);
        if (!strncmp(path, w->cloned[i], n) && path[n] == '/') {
            lh_emit(w->c, k, LH_RULE(WRITE_RUN_UNKNOWN), path);
            return 1;
        }
    }
    return 0;
}

/* xargs -a F / --arg-file[=]F with F written before with known text: the same xargs
 * fed F's text as a here-doc (unwrap.c reads xargs fed a literal here-doc). */
static int xargsFile(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    int at_i = -1, nw = 0;
    lh_word fw;
    for (int i = 1; i < cmd->argc && at_i < 0; i++) {
        const char *a = cmd->argv[i].s;
        if ((!strcmp(a, "-a") || !strcmp(a, "--arg-file")) && i + 1 < cmd->argc) { fw = cmd->argv[i + 1]; at_i = i; nw = 2; }
        else if (!strncmp(a, "--arg-file=", 11)) { fw = wordFrom(&cmd->argv[i], 11); at_i = i; nw = 1; }
        else if (a[0] != '-') break;   /* the command xargs runs */
    }
    if (at_i < 0) return 0;
    wfile *f = find(w, absPath(c, k, &fw), k);
    if (!f || !f->content) return 0;
    size_t cap = 64 + f->len;
    for (int i = 0; i < cmd->argc; i++) cap += cmd->argv[i].len * 4 + 3;
    char *text = lh_arena_alloc(c->arena, cap);
    if (!text) { c->oom = 1; return 1; }
    size_t n = 0;
    text[0] = 0;
    for (int i = 0; i < cmd->argc; i++)
        if (i < at_i || i >= at_i + nw) quoteTo(text, cap, &n, cmd->argv[i].s);
    int m = snprintf(text + n, cap - n, " <<'__LH_XARGS__'\n%.*s\n__LH_XARGS__\n", (int)f->len, f->content);
    if (m < 0 || (size_t)m >= cap - n) return 1;
    n += (size_t)m;
    uint32_t keep = cmd->flags & LH_C_REPLACED;
    lh_unwrap_child(c, w->lim, k, text + 1, n - 1);
    if (!keep) at(c, k)->flags &= ~LH_C_REPLACED;
    return 1;
}

/* The operand of a shell: the script it runs (options, and -o/-O values, skipped), or
 * -1 when it reads stdin or runs -c text. */
static int shellOperand(const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return i + 1 < cmd->argc ? i + 1 : -1;
        if (!strcmp(a, "-o") || !strcmp(a, "-O") || !strcmp(a, "+O") || !strcmp(a, "+o")) { i++; continue; }
        if (a[0] == '-' || a[0] == '+') {
            if (a[1] != '-' && strchr(a + 1, 'c')) return -1;   /* -c TEXT */
            continue;
        }
        return i;
    }
    return -1;
}

/* The script operand of an interpreter past options with a value (python -W X, -X X;
 * -I X; perl -M X; node -r X), or with preload set the first preloaded file (node
 * -r/--require/--import X, ruby -r X); -1 for -c/-e/-m code or none. */
static int interpOperand(const lh_cmd *cmd, int preload) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return !preload && i + 1 < cmd->argc ? i + 1 : -1;
        if (a[0] != '-' || !a[1]) return preload ? -1 : i;
        if (!strcmp(a, "-c") || !strcmp(a, "-e") || !strcmp(a, "-m") || !strcmp(a, "--eval") ||
            (!strcmp(a, "-E") && !strncmp(cmd->prog, "perl", 4)) ||
            !strcmp(a, "-p") || (!strcmp(a, "-r") && !strncmp(cmd->prog, "php", 3)))
            return -1;
        if ((!strcmp(a, "-r") || !strcmp(a, "--require") || !strcmp(a, "--import") || !strcmp(a, "--loader")) &&
            i + 1 < cmd->argc) {
            if (preload) return i + 1;   /* node -r ./x.js app.js, ruby -r ./x.rb: it runs first */
            i++;
            continue;
        }
        if (!strcmp(a, "-W") || !strcmp(a, "-X") || !strcmp(a, "-I") || !strcmp(a, "-M"))
            i++;
    }
    return -1;
}

/* A written file under the directory word names (find's start, for {}), or NULL. */
static wfile *underDir(wstate *w, int k, const lh_word *word) {
    const char *dir = absPath(w->c, k, word);
    size_t dl = dir ? strlen(dir) : 0;
    for (int i = 0; dir && i < w->nfiles; i++)
        if (w->files[i].at < k && !strncmp(w->files[i].path, dir, dl) && w->files[i].path[dl] == '/')
            return &w->files[i];
    return NULL;
}

/* The written file a glob word (sh *.sh, ./x*.sh) matches, or NULL. */
static wfile *findGlob(wstate *w, int k, const lh_word *word) {
    lh_word plain = *word;
    plain.flags &= ~(uint32_t)LH_W_GLOB;
    if (plain.flags & (LH_W_DYNAMIC | LH_W_PROCSUBST)) return NULL;
    const char *pat = absPath(w->c, k, &plain);
    for (int i = w->nfiles - 1; pat && i >= 0; i--)
        if (w->files[i].at < k && !fnmatch(pat, w->files[i].path, FNM_PATHNAME)) return &w->files[i];
    return NULL;
}

/* A written file run by its bare name through a PATH the call set (PATH=DIR:$PATH x,
 * or an earlier PATH=… / export PATH=…): DIR/x, DIR literal, relative, or $PWD/…. */
static wfile *onPath(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    const char *val = NULL;
    for (int a = 0; a < cmd->nassigns && !val; a++)
        if (!strncmp(cmd->assigns[a].s, "PATH=", 5)) val = cmd->assigns[a].s + 5;
    if (!val) val = w->path;
    if (!val) return NULL;
    for (const char *e = val; *e;) {
        const char *end = strchr(e, ':');
        size_t n = end ? (size_t)(end - e) : strlen(e);
        const char *dir = NULL;
        if (n >= 4 && !strncmp(e, "$PWD", 4)) dir = lh_arena_printf(c->arena, ".%.*s", (int)(n - 4), e + 4);
        else if (n >= 6 && !strncmp(e, "${PWD}", 6)) dir = lh_arena_printf(c->arena, ".%.*s", (int)(n - 6), e + 6);
        else if (n && !memchr(e, '$', n)) dir = lh_arena_printf(c->arena, "%.*s", (int)n, e);
        if (dir) {
            const char *cand = lh_arena_printf(c->arena, "%s/%s", dir, cmd->argv[0].s);
            if (!cand) { c->oom = 1; return NULL; }
            lh_word cw = {cand, (uint32_t)strlen(cand), 0};
            wfile *f = find(w, absPath(c, k, &cw), k);
            if (f) return f;
        }
        e = end ? end + 1 : e + n;
    }
    return NULL;
}

/* The written file `cat F` prints into command k's stdin through a pipe, or NULL. */
static wfile *pipedFile(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    if (!(cmd->flags & LH_C_PIPE_IN) || cmd->pipe_pos < 1) return NULL;
    for (int j = k - 1; j >= 0; j--) {
        lh_cmd *prev = at(c, j);
        if (prev->pipeline != cmd->pipeline || prev->parent != cmd->parent || prev->pipe_pos != cmd->pipe_pos - 1)
            continue;
        int op = lh_first_operand(prev, 0);
        if (prev->argc == 0 || strcmp(prev->prog, "cat") || op < 0 || op != prev->argc - 1) return NULL;
        return find(w, absPath(c, j, &prev->argv[op]), k);
    }
    return NULL;
}

static void checkRun(wstate *w, int k) {
    lh_ctx *c = w->c;
    lh_cmd *cmd = at(c, k);
    if (cmd->argc == 0) return;
    const char *p = cmd->prog;
    if (sqlRun(w, k)) return;
    if (!strcmp(p, "xargs") && xargsFile(w, k)) return;
    /* ./f or /path/f */
    if (strchr(cmd->argv[0].s, '/')) {
        wfile *f = find(w, absPath(c, k, &cmd->argv[0]), k);
        if (!f && (cmd->argv[0].flags & LH_W_GLOB)) f = findGlob(w, k, &cmd->argv[0]);
        if (f) { runs(w, k, f, langOfFile(f), NULL); return; }
        if (clonedRun(w, k, &cmd->argv[0])) return;
        if (w->overflow) { lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), "more files written than followed"); return; }
    } else if (cmd->origin == LH_ORIGIN_FIND_EXEC && cmd->argv[0].s[0] == '.' && !cmd->argv[0].s[1]) {
        /* find . … -exec {} \;: {} stands for files under the start, the written ones too */
        wfile *f = underDir(w, k, &cmd->argv[0]);
        if (f) { runs(w, k, f, langOfFile(f), NULL); return; }
    } else {
        wfile *f = onPath(w, k);   /* PATH=.:$PATH x, PATH=$PWD/bin:$PATH ls */
        if (f) { runs(w, k, f, langOfFile(f), NULL); return; }
    }
    if (lh_is_shell(p) || !strcmp(p, ".") || !strcmp(p, "source")) {
        int op = lh_is_shell(p) ? shellOperand(cmd) : lh_first_operand(cmd, 0);
        if (op > 0 && (cmd->argv[op].flags & LH_W_GLOB)) {   /* sh *.sh, sh ./x*.sh */
            wfile *g = findGlob(w, k, &cmd->argv[op]);
            if (g) runs(w, k, g, LH_LANG_NONE, NULL);
            return;
        }
        if (op > 0 && cmd->origin == LH_ORIGIN_FIND_EXEC) {
            /* find DIR … -exec sh {}: {} stands for files under DIR, the written ones too */
            wfile *f = underDir(w, k, &cmd->argv[op]);
            if (f) { runs(w, k, f, LH_LANG_NONE, NULL); return; }
        }
        if ((op > 0 && ((cmd->argv[op].flags & LH_W_DYNAMIC) || strstr(cmd->argv[op].s, "{}"))) ||
            (op < 0 && (cmd->flags & LH_C_STDIN_ARGS) && lh_is_shell(p) && !lh_has_opt(cmd, 'c', NULL))) {
            /* sh $(ls x.sh), sh $f, find … -exec sh {} \;, … | xargs sh */
            lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), "a script named at run time, after this call wrote files");
            return;
        }
        for (int r = 0; r < cmd->nredirs && op < 0 && lh_is_shell(p); r++) {   /* sh < FILE */
            if (cmd->redirs[r].op == LH_R_IN && cmd->redirs[r].fd <= 0) {
                wfile *f = find(w, absPath(c, k, &cmd->redirs[r].target), k);
                if (f) { runs(w, k, f, LH_LANG_NONE, NULL); return; }
            }
            const char *t = cmd->redirs[r].target.s;   /* sh <&3 after exec 3<<EOF */
            if (cmd->redirs[r].op == LH_R_DUPIN && cmd->redirs[r].fd <= 0 && t[0] >= '3' && t[0] <= '9' && !t[1]) {
                wfile *f = find(w, lh_arena_printf(c->arena, "/dev/fd/%c", t[0]), k);
                if (f) { runs(w, k, f, LH_LANG_NONE, NULL); return; }
            }
        }
        if (op < 0) {
            wfile *f = pipedFile(w, k);   /* cat F | sh */
            if (f && lh_is_shell(p)) runs(w, k, f, LH_LANG_NONE, NULL);
            return;
        }
        wfile *f = find(w, absPath(c, k, &cmd->argv[op]), k);
        if (f) runs(w, k, f, LH_LANG_NONE, NULL);
        else if (!clonedRun(w, k, &cmd->argv[op]) && w->overflow)   /* the file may be one not kept */
            lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), "more files written than followed");
        return;
    }
    lh_lang lang = lh_code_lang(p);
    if (lang == LH_LANG_PYTHON)   /* python runs a written sitecustomize.py / usercustomize.py first */
        for (int i = 0; i < w->nfiles; i++)
            if (w->files[i].at < k && (!strcmp(baseOf(w->files[i].path), "sitecustomize.py") ||
                                       !strcmp(baseOf(w->files[i].path), "usercustomize.py")))
                runs(w, k, &w->files[i], LH_LANG_PYTHON, "python3");
    if (lang != LH_LANG_NONE) {
        /* python -m pytest: the conftest.py written before */
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-m") && !strcmp(cmd->argv[i + 1].s, "pytest")) goto pytest;
        int pre = interpOperand(cmd, 1);
        wfile *pf = pre > 0 ? find(w, absPath(c, k, &cmd->argv[pre]), k) : NULL;
        if (pf) runs(w, k, pf, lang, p);
        int op = interpOperand(cmd, 0);
        if (op < 0) return;
        wfile *f = find(w, absPath(c, k, &cmd->argv[op]), k);
        if (f) runs(w, k, f, lang, p);
        return;
    }
    if (!strcmp(p, "pytest") || !strcmp(p, "py.test")) goto pytest;
    if (!strcmp(p, "just")) {   /* a written justfile: its indented recipe lines */
        wfile *f = inDir(w, k, "justfile");
        if (!f) f = inDir(w, k, "Justfile");
        if (!f) f = inDir(w, k, ".justfile");
        if (!f) return;
        if (!f->content) { lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), f->path); return; }
        uint32_t keep = cmd->flags & LH_C_REPLACED;
        for (const char *l = f->content, *end = f->content + f->len; l < end;) {
            const char *e = memchr(l, '\n', (size_t)(end - l));
            if (!e) e = end;
            if (*l == ' ' || *l == '\t') {
                while (l < e && (*l == ' ' || *l == '\t' || *l == '@' || *l == '-')) l++;
                if (l < e) lh_unwrap_child(c, w->lim, k, l, (size_t)(e - l));
            }
            l = e + 1;
        }
        if (!keep) at(c, k)->flags &= ~LH_C_REPLACED;
        return;
    }
    if (!strcmp(p, "make") || !strcmp(p, "gmake")) {
        wfile *f = NULL;
        for (int i = 1; i < cmd->argc && !f; i++) {
            const char *a = cmd->argv[i].s;   /* -f F, --file F, --makefile F, -fF, --file=F */
            lh_word fw = i + 1 < cmd->argc ? cmd->argv[i + 1] : cmd->argv[i];
            if (strcmp(a, "-f") && strcmp(a, "--file") && strcmp(a, "--makefile")) {
                if (!strncmp(a, "--file=", 7) || !strncmp(a, "--makefile=", 11)) fw.s = strchr(a, '=') + 1;
                else if (a[0] == '-' && a[1] == 'f' && a[2]) fw.s = a + 2;
                else continue;
                fw.len = (uint32_t)strlen(fw.s);
            } else if (i + 1 >= cmd->argc) {
                continue;
            }
            f = find(w, absPath(c, k, &fw), k);
        }
        const char *dir = NULL;   /* make -C DIR: the makefile in DIR */
        for (int i = 1; i + 1 < cmd->argc && !dir; i++)
            if (!strcmp(cmd->argv[i].s, "-C") || !strcmp(cmd->argv[i].s, "--directory")) dir = cmd->argv[i + 1].s;
        static const char *const names[] = {"GNUmakefile", "makefile", "Makefile"};
        for (int i = 0; i < 3 && !f; i++)
            f = inDir(w, k, dir ? lh_arena_printf(c->arena, "%s/%s", dir, names[i]) : names[i]);
        if (!f) return;
        size_t n = 0;
        const char *t = f->content ? lh_content_commands(c, "Makefile", LH_TOOL_WRITE, f->content, f->len, &n) : NULL;
        runsCommands(w, k, f, t, n);
        return;
    }
    if (!strcmp(p, "npm") || !strcmp(p, "yarn") || !strcmp(p, "pnpm")) {
        wfile *f = inDir(w, k, "package.json");
        if (!f || cmd->argc < 1) return;
        const char *sub = cmd->argc > 1 ? cmd->argv[1].s : "install";   /* bare yarn installs */
        const char *script = NULL;
        if (!strcmp(sub, "run") || !strcmp(sub, "run-script")) script = cmd->argc > 2 ? cmd->argv[2].s : NULL;
        else if (!strcmp(sub, "test") || !strcmp(sub, "t") || !strcmp(sub, "start")) script = !strcmp(sub, "t") ? "test" : sub;
        else if (strcmp(sub, "install") && strcmp(sub, "i") && strcmp(sub, "ci") && strcmp(sub, "add")) {
            if (strcmp(p, "npm")) script = sub;   /* yarn NAME runs a script */
            else return;
        }
        if (!f->content) { lh_emit(c, k, LH_RULE(WRITE_RUN_UNKNOWN), f->path); return; }
        size_t n = 0;
        if (script) {
            /* npm runs preNAME and postNAME around NAME */
            const char *names[3] = {lh_arena_printf(c->arena, "pre%s", script), script,
                                    lh_arena_printf(c->arena, "post%s", script)};
            for (int i = 0; i < 3; i++) {
                if (!names[i]) { c->oom = 1; return; }
                const char *t = lh_content_json_value(c, f->content, f->len, names[i], &n);
                if (t) runsCommands(w, k, f, t, n);
            }
            return;
        }
        const char *t = lh_content_commands(c, "package.json", LH_TOOL_WRITE, f->content, f->len, &n);
        runsCommands(w, k, f, t, n);
        return;
    }
    if (!strcmp(p, "git")) {
        for (int i = 0; i < w->nfiles; i++)
            if (w->files[i].at < k && strstr(w->files[i].path, "/.git/hooks/")) runs(w, k, &w->files[i], LH_LANG_NONE, NULL);
    }
    return;
pytest:
    for (int i = 0; i < w->nfiles; i++)
        if (w->files[i].at < k && !strcmp(baseOf(w->files[i].path), "conftest.py"))
            runs(w, k, &w->files[i], LH_LANG_PYTHON, "python3");
}

void lh_writerun(lh_ctx *c, const lh_shell_limits *lim) {
    lh_script *s = c->script;
    wstate w;
    memset(&w, 0, sizeof(w));
    w.c = c;
    w.lim = lim;
    int n = s->ncmds;   /* the children added here are not walked again */
    /* each redirection is classified as a file written or read (budget: analyze.h) */
    for (int k = 0; k < n && !c->oom && lh_step(c, 1u + LH_STEP_REDIR / 4u * (uint32_t)s->cmds[k].nredirs); k++) {
        if (w.nfiles || w.ncloned || w.overflow) checkRun(&w, k);
        noteWrites(&w, k);
    }
}
