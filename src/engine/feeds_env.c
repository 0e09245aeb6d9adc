/* feeds_env.c — start-up and loader variables, and install roots; see feeds.h. Split
 * from feeds.c, whose helpers it uses through lh_feed_child/quote/subst_code. */
#include "engine/feeds.h"

#include <ctype.h>
#include <string.h>

#include "engine/paths.h"
#include "engine/unwrap.h"

static lh_cmd *cmdAt(lh_ctx *c, int k) { return &c->script->cmds[k]; }

static char *quoted(lh_ctx *c, const char *s) { return lh_feed_quote(c, s); }

static void child(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text, size_t len,
                  lh_origin origin) {
    (void)origin;
    if (text && len) lh_feed_child(c, lim, k, argi, text, len);
}

static void childStr(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text) {
    if (text) lh_feed_child(c, lim, k, argi, text, strlen(text));
}

/* ------------------------------------------------------------------------------ */
/* Start-up and loader variables                                                   */
/* ------------------------------------------------------------------------------ */

/* A library path the loader is told to preload: fine when it is looked up in the system
 * directories (a bare name) or lies in one. */
void lh_feed_check_preload(lh_ctx *c, int k, const char *v) {
    while (*v) {
        size_t n = strcspn(v, ": ");
        if (n && memchr(v, '/', n)) {
            lh_path p;
            lh_path_classify(c, v, n, &p);
            if (p.cls != LH_PATH_SYSTEM) {
                char *s = lh_arena_strndup(c->arena, v, n);
                lh_emit(c, k, LH_RULE(EXEC_PRELOAD), s);
                return;
            }
        }
        v += n;
        while (*v == ':' || *v == ' ') v++;
    }
}

/* NODE_OPTIONS: --require/-r FILE, --import FILE and loaders run before the program. */
static void nodeOptions(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *v) {
    static const char *const opts[] = {"--require", "-r", "--import", "--loader",
                                       "--experimental-loader", NULL};
    while (*v) {
        while (*v == ' ') v++;
        size_t n = strcspn(v, " ");
        const char *val = NULL;
        size_t vn = 0;
        for (int i = 0; opts[i]; i++) {
            size_t on = strlen(opts[i]);
            if (n > on && !strncmp(v, opts[i], on) && v[on] == '=') { val = v + on + 1; vn = n - on - 1; }
            else if (n == on && !strncmp(v, opts[i], on)) {
                const char *w = v + n;
                while (*w == ' ') w++;
                val = w;
                vn = strcspn(w, " ");
                n = (size_t)(w - v) + vn;
            }
            if (val) break;
        }
        if (val && vn) {
            char *file = lh_arena_strndup(c->arena, val, vn);
            if (!file) { c->oom = 1; return; }
            char *t;
            if (!strncmp(file, "data:", 5) && strchr(file, ',')) t = quoted(c, strchr(file, ',') + 1), t = t ? lh_arena_printf(c->arena, "node -e %s", t) : NULL;
            else t = quoted(c, file), t = t ? lh_arena_printf(c->arena, "node %s", t) : NULL;
            if (!t) { c->oom = 1; return; }
            childStr(c, lim, k, argi, t);
        }
        v += n;
    }
}

/* PERL5OPT -MMOD / -mMOD: `use MOD` runs first, and code may follow a `;`. */
static void perlOpt(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *v) {
    for (const char *p = v; *p; p++) {
        if (p[0] != '-' || (p != v && p[-1] != ' ') || (p[1] != 'M' && p[1] != 'm') || !p[2]) continue;
        char *use = lh_arena_printf(c->arena, "use %s;", p + 2);
        char *q = use ? quoted(c, use) : NULL;
        char *t = q ? lh_arena_printf(c->arena, "perl -e %s", q) : NULL;
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, argi, t);
        /* and the module's file (Foo::Bar → Foo/Bar.pm), judged when the call wrote it */
        size_t mn = strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:");
        char *mod = mn ? lh_arena_strndup(c->arena, p + 2, mn) : NULL;
        if (mod && !isdigit((unsigned char)mod[0])) {
            char *f = lh_arena_alloc(c->arena, mn + 4);
            if (!f) { c->oom = 1; return; }
            size_t o = 0;
            for (const char *m = mod; *m; m++) {
                if (m[0] == ':' && m[1] == ':') { f[o++] = '/'; m++; }
                else f[o++] = *m;
            }
            memcpy(f + o, ".pm", 4);
            char *fq = quoted(c, f);
            if (fq) childStr(c, lim, k, argi, lh_arena_printf(c->arena, "perl %s", fq));
        }
        return;   /* the rest of the value is this module's code */
    }
}

/* RUBYOPT -rFILE: the file is required first. */
static void rubyOpt(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *v) {
    for (const char *p = v; *p; p++) {
        if (p[0] != '-' || (p != v && p[-1] != ' ') || p[1] != 'r' || !p[2]) continue;
        char *f = lh_arena_strndup(c->arena, p + 2, strcspn(p + 2, " "));
        char *q = f ? quoted(c, f) : NULL;
        char *t = q ? lh_arena_printf(c->arena, "ruby %s", q) : NULL;
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, argi, t);
    }
}

/* git configuration given in the environment: GIT_CONFIG_PARAMETERS ('key'='value' …)
 * and GIT_CONFIG_KEY_n with GIT_CONFIG_VALUE_n, read as `git -c key=value` would be. */
static void gitEnvConfig(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const lh_word *as, int n,
                         const char *w) {
    if (!strncmp(w, "GIT_CONFIG_PARAMETERS=", 22)) {
        /* 'a.b'='v' 'c.d'='w': the quotes make it shell words already */
        char *t = lh_arena_printf(c->arena, "git -c %s version", w + 22);
        if (!t) { c->oom = 1; return; }
        /* 'k'='v' → one word k=v once re-parsed */
        childStr(c, lim, k, argi, t);
        return;
    }
    if (strncmp(w, "GIT_CONFIG_KEY_", 15)) return;
    const char *idx = w + 15;
    size_t il = strcspn(idx, "=");
    const char *key = idx + il + (idx[il] == '=');
    for (int j = 0; j < n; j++) {
        const char *v = as[j].s;
        if (strncmp(v, "GIT_CONFIG_VALUE_", 17) || strncmp(v + 17, idx, il) || v[17 + il] != '=') continue;
        char *kv = lh_arena_printf(c->arena, "%s=%s", key, v + 18 + il);
        char *q = kv ? quoted(c, kv) : NULL;
        char *t = q ? lh_arena_printf(c->arena, "git -c %s version", q) : NULL;
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, argi, t);
    }
}

/* One NAME=VALUE of command k (argi: its word, or -1 for a prefix assignment). */
static void feedAssign(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const lh_word *as,
                       int n, const lh_word *w) {
    const char *s = w->s;
    if (!strchr("BEGHLNPRZ", s[0])) return;   /* the hot path: most names are none below */
    if (!strncmp(s, "LESS=", 5)) {   /* less reads options from LESS: +cmd runs at start */
        for (const char *q = strchr(s + 5, '+'); q; q = strchr(q + 1, '+')) {
            const char *bang = strchr(q, '!');
            if (bang) { childStr(c, lim, k, argi, bang + 1); break; }
        }
        return;
    }
    if (!strncmp(s, "ZDOTDIR=", 8) || !strncmp(s, "HOME=", 5)) {
        /* a shell started with this directory as its home reads its start-up files there */
        const lh_cmd *cmd = cmdAt(c, k);
        const char *d = strchr(s, '=') + 1;
        if (!*d || (w->flags & LH_W_DYNAMIC) || cmd->argc == 0 || !lh_is_shell(cmd->prog)) return;
        static const char *const files[] = {".zshenv", ".zshrc", ".bashrc", ".bash_profile", ".profile", NULL};
        for (int i = 0; files[i]; i++) {
            char *path = lh_arena_printf(c->arena, "%s/%s", d, files[i]);
            char *q = path ? quoted(c, path) : NULL;
            if (q) childStr(c, lim, k, argi, lh_arena_printf(c->arena, ". %s", q));
        }
        return;
    }
    if (!strncmp(s, "BASH_ENV=", 9) || !strncmp(s, "ENV=", 4)) {
        const char *v = strchr(s, '=') + 1;
        if (w->flags & LH_W_PROCSUBST) {
            size_t len = 0;
            const char *t = lh_feed_subst_code(c, k, argi, &len);
            if (t) child(c, lim, k, argi, t, len, LH_ORIGIN_EVAL);
            return;
        }
        if ((w->flags & LH_W_DYNAMIC) && *v) {
            /* BASH_ENV=$PWD/e.sh: `. "$PWD/e.sh"`, the expansion kept, so a file the call
             * wrote and names at run time is code.written-then-run as `. $PWD/e.sh` is */
            size_t vl = strlen(v), o = 3;
            char *d = lh_arena_alloc(c->arena, 2 * vl + 6);
            if (!d) { c->oom = 1; return; }
            memcpy(d, ". \"", 3);
            for (size_t i = 0; i < vl; i++) {
                if (v[i] == '"' || v[i] == '\\') d[o++] = '\\';
                d[o++] = v[i];
            }
            d[o++] = '"';
            d[o] = 0;
            childStr(c, lim, k, argi, d);
            return;
        }
        char *q = *v ? quoted(c, v) : NULL;
        if (q) childStr(c, lim, k, argi, lh_arena_printf(c->arena, ". %s", q));
        return;
    }
    if (!strncmp(s, "BASH_FUNC_", 10)) {
        const char *eq = strchr(s, '=');
        const char *body = eq ? strstr(eq, "()") : NULL;
        if (body) childStr(c, lim, k, argi, body + 2);
        return;
    }
    if (!strncmp(s, "LD_PRELOAD=", 11) || !strncmp(s, "LD_AUDIT=", 9)) {
        lh_feed_check_preload(c, k, strchr(s, '=') + 1);
        return;
    }
    if (!strncmp(s, "NODE_OPTIONS=", 13)) { nodeOptions(c, lim, k, argi, s + 13); return; }
    if (!strncmp(s, "PERL5OPT=", 9)) { perlOpt(c, lim, k, argi, s + 9); return; }
    if (!strncmp(s, "RUBYOPT=", 8)) { rubyOpt(c, lim, k, argi, s + 8); return; }
    if (!strncmp(s, "PYTHONSTARTUP=", 14) && s[14]) {
        char *q = quoted(c, s + 14);
        if (q) childStr(c, lim, k, argi, lh_arena_printf(c->arena, "python3 %s", q));
        return;
    }
    if (!strncmp(s, "PSQL_PAGER=", 11) || !strncmp(s, "GIT_PROXY_COMMAND=", 18)) {
        childStr(c, lim, k, argi, strchr(s, '=') + 1);
        return;
    }
    if (!strncmp(s, "GIT_CONFIG_", 11)) gitEnvConfig(c, lim, k, argi, as, n, s);
}

void lh_feed_assigns(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    const lh_word *as = cmd->assigns;
    int n = cmd->nassigns;
    for (int i = 0; i < n; i++) feedAssign(c, lim, k, -1, as, n, &as[i]);
    cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    if (cmd->argc < 2 || (strcmp(p, "export") && strcmp(p, "declare") && strcmp(p, "typeset") &&
                          strcmp(p, "readonly") && strcmp(p, "local")))
        return;
    const lh_word *argv = cmd->argv;
    int argc = cmd->argc;
    for (int i = 1; i < argc; i++)
        if (strchr(argv[i].s, '=')) feedAssign(c, lim, k, i, argv, argc, &argv[i]);
}

/* ------------------------------------------------------------------------------ */
/* Install roots                                                                   */
/* ------------------------------------------------------------------------------ */

static void checkRoot(lh_ctx *c, int k, const char *dir) {
    if (!dir || !*dir) return;
    lh_path p;
    lh_path_classify(c, dir, strlen(dir), &p);
    if (p.cls == LH_PATH_ROOT || p.cls == LH_PATH_SYSTEM || (p.cls != LH_PATH_UNKNOWN && !strcmp(p.norm, "/")))
        lh_emit(c, k, LH_RULE(PKG_INSTALL_ROOT), dir);
}

/* The value of any of the long options (--x=V, --x V) or the short letter (-tV, -t V). */
static const char *installDir(const lh_cmd *cmd, int from, const char *const *longs, const char *shorts) {
    for (int i = from; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        for (int j = 0; longs[j]; j++) {
            size_t n = strlen(longs[j]);
            if (strncmp(a, longs[j], n)) continue;
            if (a[n] == '=') return a + n + 1;
            if (!a[n] && i + 1 < cmd->argc) return cmd->argv[i + 1].s;
        }
        if (shorts && a[0] == '-' && a[1] && a[1] != '-' && strchr(shorts, a[1])) {
            if (a[2]) return a + 2;
            if (i + 1 < cmd->argc) return cmd->argv[i + 1].s;
        }
    }
    return NULL;
}

static int hasWord(const lh_cmd *cmd, const char *w) {
    for (int i = 1; i < cmd->argc; i++)
        if (!strcmp(cmd->argv[i].s, w)) return i;
    return 0;
}

/* PIP_TARGET=/ pip install …, npm_config_prefix=/ npm i -g …: the same roots from the
 * environment. */
static void checkInstallEnv(lh_ctx *c, int k) {
    static const char *const names[] = {"PIP_TARGET=", "PIP_PREFIX=", "PIP_ROOT=", "npm_config_prefix=",
                                        "NPM_CONFIG_PREFIX=", "CARGO_INSTALL_ROOT=", "GEM_HOME=",
                                        "GEM_INSTALL_DIR=", NULL};
    const lh_cmd *cmd = cmdAt(c, k);
    for (int a = 0; a < cmd->nassigns; a++)
        for (int i = 0; names[i]; i++)
            if (!strncmp(cmd->assigns[a].s, names[i], strlen(names[i])))
                checkRoot(c, k, cmd->assigns[a].s + strlen(names[i]));
}

void lh_feed_install(lh_ctx *c, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    /* the hot path: an install names its subcommand within its first words */
    int near = 0;
    for (int i = 1; i < cmd->argc && i < 5 && !near; i++) {
        const char *a = cmd->argv[i].s;
        near = (a[0] == 'i' && (!strcmp(a, "install") || !strcmp(a, "i"))) || !strcmp(a, "add") || !strcmp(a, "ci");
    }
    if (!near) return;
    int inst = hasWord(cmd, "install");
    if (cmd->nassigns && (inst || hasWord(cmd, "i") || hasWord(cmd, "add"))) checkInstallEnv(c, k);
    if (!strncmp(p, "pip", 3) || ((!strncmp(p, "python", 6) || !strcmp(p, "uv")) && hasWord(cmd, "pip"))) {
        if (!inst) return;
        for (int t = 0; t < 3; t++) {
            static const char *const l0[] = {"--target", NULL}, *const l1[] = {"--prefix", NULL},
                                     *const l2[] = {"--root", NULL};
            const char *const *l = t == 0 ? l0 : t == 1 ? l1 : l2;
            checkRoot(c, k, installDir(cmd, inst + 1, l, t == 0 ? "t" : NULL));
        }
        return;
    }
    if (!strcmp(p, "npm") || !strcmp(p, "pnpm") || !strcmp(p, "yarn")) {
        static const char *const l[] = {"--prefix", "--global-dir", NULL};
        if (inst || hasWord(cmd, "i") || hasWord(cmd, "add") || hasWord(cmd, "ci"))
            checkRoot(c, k, installDir(cmd, 1, l, NULL));
        return;
    }
    if (!strcmp(p, "cargo") && inst) {
        static const char *const l[] = {"--root", NULL};
        checkRoot(c, k, installDir(cmd, inst + 1, l, NULL));
        return;
    }
    if (!strcmp(p, "gem") && inst) {
        static const char *const l[] = {"--install-dir", "--bindir", NULL};
        checkRoot(c, k, installDir(cmd, inst + 1, l, "in"));
    }
}

/* Before command k's wrappers are stripped: the dynamic loader run as a program
 * (`/lib64/ld-linux-x86-64.so.2 --preload LIB PROG`) preloads like LD_PRELOAD. */
void lh_feed_prestrip(lh_ctx *c, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    if (cmd->argc < 3 || strncmp(cmd->prog, "ld", 2) || !strstr(cmd->prog, ".so")) return;
    for (int i = 1; i + 1 < cmd->argc && cmd->argv[i].s[0] == '-'; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--preload") || !strcmp(a, "--audit")) lh_feed_check_preload(c, k, cmd->argv[++i].s);
        else if (!strcmp(a, "--library-path") || !strcmp(a, "--argv0") || !strcmp(a, "--inhibit-rpath")) i++;
    }
}

