/* analyze.c — the analysis tier: run the built-in analyzers over one request.
 *
 * For a shell command, every simple command of the parsed script (nested ones
 * included) is looked up by program name in a sorted table and handed to its
 * family's handler (an_fs.c, an_disk.c, an_git.c, an_sys.c, an_net.c, an_db.c,
 * an_infra.c). Every command then goes to an_data_dispatch() (an_data.c, an_packs.c),
 * which adds its own handlers by name and checks bind addresses on any program.
 * Commands whose program has no handler cost three binary searches and a look at
 * their redirections. File tools are judged by the class of their path.
 *
 * lh_emit()/lh_emit_full() live in engine.c (the engine owns the findings array);
 * this file holds the helpers the analyzers share (option readers: an_options.c). */
#include <string.h>

#include "engine/an_common.h"
#include "engine/unwrap.h"

/* ------------------------------------------------------------------------------ */
/* Program classes                                                                 */
/* ------------------------------------------------------------------------------ */

int an_is_shell(const char *prog) { return lh_is_shell(prog); }
int an_is_interp(const char *prog) { return lh_is_interpreter(prog); }

int an_reads_code_from_stdin(const lh_cmd *cmd) {
    int shell = an_is_shell(cmd->prog);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-") || !strcmp(a, "/dev/stdin") || !strcmp(a, "/proc/self/fd/0") || !strcmp(a, "/dev/fd/0")) return 1;
        if (shell && !strcmp(a, "-s")) return 1;
        if (!strcmp(a, "--")) continue;
        if (a[0] == '-' || a[0] == '+') {
            /* options with a value: -o opt (shells), -m mod / -W x (python), -I dir */
            if (!strcmp(a, "-o") || !strcmp(a, "-O") || !strcmp(a, "-W") || !strcmp(a, "-X") ||
                !strcmp(a, "-I") || !strcmp(a, "-r") || !strcmp(a, "--require"))
                i++;
            if (shell && strcmp(a, "-c")) continue;   /* sh -e, bash -E: errexit, errtrace */
            if (!strcmp(a, "-m") || !strcmp(a, "-c") || !strcmp(a, "-e") || !strcmp(a, "-E") ||
                !strcmp(a, "--eval") || !strncmp(a, "--eval=", 7) || !strcmp(a, "-p") ||
                !strcmp(a, "--print") || !strcmp(a, "-pe") || !strcmp(a, "-ne") ||
                !strcmp(a, "-lne") || !strcmp(a, "-le")) {
                /* inline code: it runs stdin only when it says so */
                const char *code = i + 1 < cmd->argc ? cmd->argv[i + 1].s : "";
                if (!strcmp(a, "-m")) return 0;
                if (!strcmp(code, "-")) return 1;   /* pwsh -c -: the command is read from stdin */
                return lh_code_runs_stdin(code, strlen(code));   /* unwrap_code.c */
            }
            continue;
        }
        return 0;   /* a script file operand */
    }
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* URLs and hosts                                                                  */
/* ------------------------------------------------------------------------------ */

const char *an_url_host(const char *url, char *buf, size_t cap) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end = p;
    while (*end && *end != '/' && *end != '?' && *end != '#') end++;
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@') at = q;
    if (at) p = at + 1;
    const char *hend = p;
    if (*p == '[') {
        while (hend < end && *hend != ']') hend++;
        if (hend < end) hend++;
    } else {
        while (hend < end && *hend != ':') hend++;
    }
    size_t n = (size_t)(hend - p);
    if (n >= cap) n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

int an_is_loopback_host(const char *h) {
    if (!*h) return 1;   /* ":3000/x" (httpie) and the like */
    if (an_ieq(h, "localhost") || !strcmp(h, "0.0.0.0") || !strcmp(h, "::1") ||
        !strcmp(h, "[::1]") || an_ieq(h, "host.docker.internal") || !strncmp(h, "127.", 4))
        return 1;
    size_t n = strlen(h);
    return n > 10 && an_ieq(h + n - 10, ".localhost");
}

/* ------------------------------------------------------------------------------ */
/* Script variables                                                                */
/* ------------------------------------------------------------------------------ */

static int isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

static void addVar(an_state *s, int idx, const char *w) {
    if (!isNameStart(w[0])) return;
    size_t n = 1;
    while (isNameChar(w[n])) n++;
    if (w[n] == '=') an_var_add(s, idx, w, n, w + n + 1);
    else if (w[n] == '+' && w[n + 1] == '=') an_var_add(s, idx, w, n, an_var_unknown);   /* NAME+=… */
}

/* Remember NAME=value assignments that stand alone (or follow export, declare,
 * local, readonly, typeset), so "D=/; rm -rf $D" reads as "rm -rf /". */
static void collectVars(an_state *s) {
    const lh_script *sc = s->c->script;
    for (int i = 0; i < sc->ncmds; i++) {   /* past AN_MAX_VARS names are marked dropped */
        const lh_cmd *cmd = &sc->cmds[i];
        if (cmd->flags & LH_C_FOR_LIST) {
            an_loop_collect(s, i, cmd);   /* the body is judged once per item (judgeScript) */
            continue;
        }
        if (cmd->argc == 0) {
            for (int k = 0; k < cmd->nassigns; k++) addVar(s, i, cmd->assigns[k].s);
            continue;
        }
        /* "TMPDIR=~ rm -rf $TMPDIR": the command's own words still see the old value,
         * which the call chose to shadow; neither is trusted (a temp dir, say). */
        for (int k = 0; k < cmd->nassigns && s->nvars < AN_MAX_VARS; k++) {
            addVar(s, i, cmd->assigns[k].s);
            if (s->nvars && s->vars[s->nvars - 1].cmd == i &&
                s->vars[s->nvars - 1].name == cmd->assigns[k].s)
                s->vars[s->nvars - 1].val = "${LH_SHADOWED_VAR}";
        }
        an_loop_setters(s, i, cmd);
        const char *p = cmd->prog;
        if (!p || !strchr("edlrt", p[0])) continue;
        if (!strcmp(p, "export") || !strcmp(p, "declare") || !strcmp(p, "local") ||
            !strcmp(p, "readonly") || !strcmp(p, "typeset"))
            for (int k = 1; k < cmd->argc; k++) addVar(s, i, cmd->argv[k].s);
    }
}

/* The value of NAME as last set before command idx, or NULL (also when it is set at
 * run time or was not recorded). A `for` variable takes the item of pass s->pass
 * (an_loop_item). *literal is set when the value is a literal loop item rather than an
 * assignment's run-time value. */
static const char *lookupVar(const an_state *s, int idx, const char *name, size_t n, int *literal) {
    if (s->dropped && an_var_dropped(s, name, n)) return NULL;
    const char *val = NULL;
    for (int k = 0; k < s->nvars; k++) {
        const an_var *v = &s->vars[k];
        if (v->nlen != n || memcmp(v->name, name, n)) continue;
        if (v->item && (v->item < 0 ? -v->item : v->item) != an_loop_item(s, v->loop)) continue;
        if (v->cmd < idx || !val) { val = v->val; *literal = v->item > 0; }
    }
    return val == an_var_unknown ? NULL : val;
}

/* Where ${NAME…} ends when q (just after NAME) is `}` or a guard or default whose value
 * the known NAME makes moot: ${NAME:?msg}, ${NAME?}, ${NAME:-x}, ${NAME-x}, ${NAME:=x}.
 * Returns the `}` or NULL; *guard is set for the forms other than plain `}`. */
static const char *bracedEnd(const char *q, int *guard) {
    *guard = *q != '}';
    if (*q == '}') return q;
    if (*q == ':') q++;
    if (*q != '?' && *q != '-' && *q != '=') return NULL;
    for (q++; *q && *q != '}'; q++)
        if (*q == '$' || *q == '`' || *q == '{') return NULL;
    return *q == '}' ? q : NULL;
}

/* $1…$9, $@, $* at p (just after '$') while a function body is judged for a call:
 * the argument's word, or NULL when p is not a positional parameter. *skip is the
 * length of the reference after the '$'. */
static const lh_word *positional(const an_state *s, const char *p, size_t *skip) {
    static const lh_word empty = {"", 0, 0};
    if (!s->frame) return NULL;
    int br = p[0] == '{';
    char ch = p[br];
    if (!((ch >= '1' && ch <= '9') || ch == '@' || ch == '*') || (br && p[2] != '}')) return NULL;
    *skip = br ? 3 : 1;
    const lh_cmd *f = s->frame;
    int i = (ch == '@' || ch == '*') ? s->frame_arg : ch - '0';
    return i < f->argc ? &f->argv[i] : &empty;
}

const char *an_expand(an_state *s, int idx, const char *text) {
    if ((!s->nvars && !s->frame) || !strchr(text, '$')) return text;
    char buf[LH_MAX_PATH_BYTES];
    size_t o = 0;
    int changed = 0, literal = 0, any_runtime = 0;
    for (int round = 0; round < 3; round++) {
        o = 0;
        changed = 0;
        for (const char *p = text; *p && o < sizeof(buf) - 1;) {
            size_t skip = 0;
            const lh_word *pw = p[0] == '$' ? positional(s, p + 1, &skip) : NULL;
            if (pw) {
                /* a parameter in the argument ("$d") is judged by the next round */
                if (pw->flags & (LH_W_SUBST | LH_W_ARITH | LH_W_PROCSUBST)) any_runtime = 1;
                if (o + pw->len >= sizeof(buf)) break;
                memcpy(buf + o, pw->s, pw->len);
                o += pw->len;
                p += 1 + skip;
                changed = 1;
                continue;
            }
            if (p[0] == '$') {
                const char *name = p + 1;
                int braced = name[0] == '{';
                if (braced) name++;
                size_t n = 0;
                while (isNameChar(name[n])) n++;
                int guard = 0;
                const char *end = braced ? bracedEnd(name + n, &guard) : name + n;
                if (n && isNameStart(name[0]) && end) {
                    const char *v = lookupVar(s, idx, name, n, &literal);
                    if (v && (*v || !guard)) {   /* an empty value: the guard or default acts */
                        if (!literal) any_runtime = 1;
                        size_t vl = strlen(v);
                        if (o + vl >= sizeof(buf)) break;
                        memcpy(buf + o, v, vl); /* NOLINT(bugprone-not-null-terminated-result): buf is counted (o), copied with strndup */
                        o += vl;
                        p = end + (braced ? 1 : 0);
                        changed = 1;
                        continue;
                    }
                }
            }
            buf[o++] = *p++;
        }
        if (!changed) break;
        char *t = lh_arena_strndup(s->c->arena, buf, o);
        if (!t) { s->c->oom = 1; return text; }
        lh_step_bytes(s->c, o);   /* a word expanded to o bytes: each use reads them again */
        text = t;
        if (any_runtime) s->var_used = 1;
        if (!strchr(text, '$')) break;
    }
    return text;
}

/* The directory command idx runs in after a cd earlier in the script (set by the
 * unwrapper; commands added by an analyzer take their parent's), or NULL for the
 * request's cwd. "?" means unknown. */
static const char *cwdOf(const an_state *s, int idx) {
    const lh_script *sc = s->c->script;
    for (int hop = 0; hop < 16 && idx >= 0 && idx < sc->ncmds; hop++) {
        const lh_cmd *c = &sc->cmds[idx];
        if (c->cwd) return c->cwd;
        idx = c->parent;
    }
    return NULL;
}

/* "$PWD/x", "$(pwd)/x" …: the rest after a reference to the cwd, or NULL. */
static const char *afterPwd(const char *t) {
    static const char *const forms[] = {"${PWD}", "$PWD", "$(pwd)", "`pwd`", NULL};
    for (int k = 0; forms[k]; k++) {
        size_t l = strlen(forms[k]);
        if (!strncmp(t, forms[k], l) && (t[l] == 0 || t[l] == '/')) return t + l;
    }
    return NULL;
}

static lh_path_class throughLink(an_state *s, const char *text, lh_path *out);

lh_path_class an_path(an_state *s, int idx, const char *text, lh_path *out) {
    const char *t = an_expand(s, idx, text);
    const char *cw = cwdOf(s, idx);
    if (cw) {
        const char *rest = afterPwd(t);
        if (rest || (t[0] != '/' && t[0] != '~' && t[0] != '$' && t[0] != '`')) {
            /* relative to the directory cd moved to; unknown when cd's target was */
            const char *dir = strcmp(cw, "?") ? cw : "${LH_UNKNOWN_CWD}";
            const char *j = lh_arena_printf(s->c->arena, "%s/%s", dir, rest ? rest : t);
            if (!j) { s->c->oom = 1; out->norm = ""; out->flags = 0; out->cls = LH_PATH_UNKNOWN; return out->cls; }
            t = j;
        }
    }
    size_t tn = strlen(t);
    lh_step_bytes(s->c, tn);   /* expanded, joined and classified: work by its length */
    lh_path_class cls = lh_path_classify(s->c, t, tn, out);
    return s->nlinks ? throughLink(s, text, out) : cls;
}

/* ------------------------------------------------------------------------------ */
/* Symbolic links the script makes                                                 */
/* ------------------------------------------------------------------------------ */

/* `ln -s ~ h; rm -rf h/` deletes what is in the home directory: a path under a link the
 * script made (h/…, or h/ with its slash: the link itself is h alone) is classified as
 * the same path under the link's target. One level: the target was resolved when the
 * link was recorded. */
static lh_path_class throughLink(an_state *s, const char *text, lh_path *out) {
    size_t tl = strlen(text);
    int slash = tl > 0 && text[tl - 1] == '/';
    int n0 = s->nlinks < AN_MAX_LINKS ? s->nlinks : AN_MAX_LINKS;
    for (int k = n0 - 1; k >= 0; k--) {   /* the latest link of a name wins */
        const an_link *l = &s->links[k];
        size_t n = strlen(l->name);
        if (strncmp(out->norm, l->name, n)) continue;
        const char *rest = out->norm + n;
        if (*rest != '/' && !(*rest == 0 && slash)) continue;
        char *t = lh_arena_printf(s->c->arena, "%s%s", l->target, *rest ? rest : "/");
        if (!t) { s->c->oom = 1; return out->cls; }
        return lh_path_classify(s->c, t, strlen(t), out);
    }
    return out->cls;
}

static void addLink(an_state *s, int idx, const char *name, const char *target, int from_cwd) {
    if (!*name || !*target) return;
    if (s->nlinks == AN_MAX_LINKS) {   /* a link past the bound would not be followed */
        lh_emit_full(s->c, idx, LH_RULE(ENGINE_BUDGET)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                     "the script makes more symbolic links than the engine follows (32)",
                     LH_RULE(ENGINE_BUDGET)->instead, name);
        s->nlinks++;
        return;
    }
    if (s->nlinks > AN_MAX_LINKS) return;
    lh_path pn, pt;
    an_path(s, idx, name, &pn);
    const char *t = target;
    const char *slash = strrchr(name, '/');
    /* a relative target is relative to the link's directory (ln -r: to the cwd) */
    if (!from_cwd && slash && target[0] != '/' && target[0] != '~' && target[0] != '$') {
        t = lh_arena_printf(s->c->arena, "%.*s/%s", (int)(slash - name), name, target);
        if (!t) { s->c->oom = 1; return; }
    }
    an_path(s, idx, t, &pt);
    /* a target known only at run time ($X) stays unknown through the link */
    if (pn.norm[0] != '/' || !pt.norm[0] || !strcmp(pn.norm, "/")) return;
    s->links[s->nlinks++] = (an_link){pn.norm, pt.norm};
}

/* Record the links of `ln -s` (--symbolic) command idx: ln -s T NAME; ln -s T (NAME is
 * T's last part); ln -s T… DIR and ln -s -t DIR T… (DIR/<last part of each T>). */
static void collectLink(an_state *s, int idx, const lh_cmd *cmd) {
    if (!lh_has_opt(cmd, 's', "--symbolic")) return;
    static const char *const lo[] = {"--target-directory", "--suffix", NULL};
    int ops[32];
    int n = an_operands(cmd, 1, "tS", lo, ops, 32);
    if (n < 1) return;
    int rel = lh_has_opt(cmd, 'r', "--relative");
    const char *dir = an_opt_value(cmd, 't', "--target-directory");
    const char *last = cmd->argv[ops[n - 1]].s;
    size_t ll = strlen(last);
    if (!dir && n == 2 && !(ll && last[ll - 1] == '/')) {
        addLink(s, idx, last, cmd->argv[ops[0]].s, rel);
        return;
    }
    if (!dir && n >= 2) { dir = last; n--; }
    for (int k = 0; k < n && s->nlinks <= AN_MAX_LINKS; k++) {
        const char *t = cmd->argv[ops[k]].s;
        lh_path pt;
        an_path(s, idx, t, &pt);
        const char *base = strrchr(pt.norm, '/');
        if (!base || !base[1]) continue;
        const char *name = dir ? lh_arena_printf(s->c->arena, "%s/%s", dir, base + 1) : base + 1;
        if (!name) { s->c->oom = 1; return; }
        /* the target's last part was resolved; keep the target as the script wrote it */
        addLink(s, idx, name, t, rel || dir == NULL);
    }
}

static void collectLinks(an_state *s) {
    const lh_script *sc = s->c->script;
    for (int i = 0; i < sc->ncmds && s->nlinks <= AN_MAX_LINKS; i++)
        if (sc->cmds[i].argc > 0 && !strcmp(sc->cmds[i].prog, "ln")) collectLink(s, i, &sc->cmds[i]);
}

/* ------------------------------------------------------------------------------ */
/* Data flow between commands                                                      */
/* ------------------------------------------------------------------------------ */

/* Programs that pass data through to their output (so "echo $(curl …) | sh" still
 * runs what curl fetched). */
static int passesThrough(const char *p) {
    static const char *const list[] = {"echo", "printf", "cat", "tee", "tr", "sed", "awk",
                                       "head", "tail", "rev", "base64", "base32", "xxd",
                                       "gunzip", "zcat", "gzip", "bzip2", "xz", "openssl",
                                       "grep", "cut", "sort", "uniq", "tac", "strings", NULL};
    for (int i = 0; list[i]; i++)
        if (!strcmp(p, list[i])) return 1;
    return 0;
}

/* Is arg k of the shell/interpreter cmd its script (the -c text or the script file)? */
static int isCodeArg(const lh_cmd *cmd, int k) {
    const char *p = cmd->prog;
    if (!strcmp(p, "eval") || !strcmp(p, "source") || !strcmp(p, ".") || k == 0) return 1;
    if (!an_is_shell(p) && !an_is_interp(p)) return 0;
    for (int i = 1; i < cmd->argc && i <= k; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-c") || !strcmp(a, "-e") || !strcmp(a, "-E") || !strcmp(a, "-r") ||
            !strcmp(a, "--eval") || !strcmp(a, "-p")) {
            if (i + 1 == k) return 1;
            i++;
            continue;
        }
        if (a[0] == '-' && strchr(a, 'c') && an_is_shell(p) && a[1] != '-' && i + 1 == k) return 1;
        if (a[0] == '-' || a[0] == '+') continue;
        return i == k;   /* the first operand is the script */
    }
    return 0;
}

/* Follow where the output of command idx goes, calling want() on each command that
 * receives it; returns the first index for which want() says yes, or -1. */
typedef int (*an_sink_fn)(an_state *s, int dst, int src_arg);

static int followOutput(an_state *s, int idx, an_sink_fn want) {
    const lh_script *sc = s->c->script;
    int cur = idx;
    for (int hop = 0; hop < 8 && cur >= 0; hop++) {
        const lh_cmd *cmd = &sc->cmds[cur];
        if (cmd->flags & LH_C_PIPE_OUT) {
            for (int j = cur + 1; j < AN_HI(cur, sc->ncmds); j++) {
                const lh_cmd *o = &sc->cmds[j];
                if (o->pipeline != cmd->pipeline || o->pipe_pos <= cmd->pipe_pos) continue;
                if (o->parent != cmd->parent && o->origin != LH_ORIGIN_XARGS) continue;
                if (want(s, j, -1)) return j;
            }
        }
        if ((cmd->origin == LH_ORIGIN_CMDSUBST || cmd->origin == LH_ORIGIN_PROCSUBST_IN) &&
            cmd->parent >= 0) {
            int par = cmd->parent;
            if (want(s, par, cmd->parent_arg)) return par;
            if (!passesThrough(sc->cmds[par].prog)) return -1;
            cur = par;
            continue;
        }
        return -1;
    }
    return -1;
}

static int wantExec(an_state *s, int dst, int src_arg) {
    const lh_cmd *d = an_at(s, dst);
    if (src_arg == 0) return 1;                         /* $(curl …) as the command */
    if (src_arg > 0) return isCodeArg(d, src_arg);
    /* through a pipe: the program must take its code from stdin */
    if (d->argc == 0) return 0;
    const char *p = d->prog;
    if (!strcmp(p, "source") || !strcmp(p, ".")) return d->argc < 2 || an_has_word(d, 1, "/dev/stdin") || an_has_word(d, 1, "-") || lh_feed_runs_stdin(d);
    if (!strcmp(p, "sudo") || !strcmp(p, "su")) return 1;   /* sudo -s / su reading stdin */
    /* … | tee >(sh), deno run -, gdb -x /dev/stdin … (an_cmdtext.c) */
    if (!an_is_shell(p) && !an_is_interp(p)) return lh_feed_runs_stdin(d) || an_cmdtext_runs_stdin(s, dst);
    return an_reads_code_from_stdin(d) || an_cmdtext_runs_stdin(s, dst);
}

int an_flows_to_exec(an_state *s, int idx) { return followOutput(s, idx, wantExec); }

static int senderProg(const char *p) {
    static const char *const list[] = {"curl", "wget", "nc", "ncat", "netcat", "socat", "telnet",
                                       "ssh", "scp", "sftp", "rsync", "ftp", "tftp", "lftp",
                                       "http", "https", "xh", "xhs", "dig", "nslookup", "host",
                                       "ping", "openssl", "mail", "mailx", "sendmail", "mutt",
                                       "aws", "gsutil", "rclone", "gh", "s3cmd", "smbclient",
                                       "curlie", "httpie", "drill", NULL};
    for (int i = 0; list[i]; i++)
        if (!strcmp(p, list[i])) return 1;
    return 0;
}

/* Are all URL/host words of a sender local? */
static int senderIsLoopback(const lh_cmd *cmd) {
    int any = 0;
    char host[256];
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-') continue;
        int url = strstr(a, "://") != NULL;
        if (!url && !strcmp(cmd->prog, "curl")) continue;
        if (!url && strcmp(cmd->prog, "nc") && strcmp(cmd->prog, "ncat") && strcmp(cmd->prog, "netcat") &&
            strcmp(cmd->prog, "telnet"))
            continue;
        if (!url && (a[0] >= '0' && a[0] <= '9') && !strchr(a, '.')) continue;   /* a port */
        any = 1;
        if (!an_is_loopback_host(an_url_host(a, host, sizeof(host)))) return 0;
    }
    return any;
}

static int wantSender(an_state *s, int dst, int src_arg) {
    const lh_cmd *d = an_at(s, dst);
    if (d->argc == 0) return 0;
    if (!senderProg(d->prog)) return 0;
    if (!strcmp(d->prog, "openssl") && !an_has_word(d, 1, "s_client")) return 0;
    if (!strcmp(d->prog, "aws") && !an_has_word(d, 1, "s3")) return 0;
    if (!strcmp(d->prog, "gh") && !an_has_word(d, 1, "gist") && !an_has_word(d, 1, "api")) return 0;
    return 1;
}

int an_flows_to_sender(an_state *s, int idx, int *loopback) {
    int j = followOutput(s, idx, wantSender);
    if (j >= 0 && loopback) *loopback = senderIsLoopback(an_at(s, j));
    return j;
}

/* ------------------------------------------------------------------------------ */
/* Dispatch                                                                        */
/* ------------------------------------------------------------------------------ */

typedef struct an_entry {
    const char *name;
    an_fn fn;
    unsigned char neutral;   /* sudo adds nothing: the handler judges paths/verbs (not so for
                                signalling processes or driving containers and clusters) */
} an_entry;

/* Sorted by name (strcmp order): looked up by binary search. A unit test checks the
 * order. */
static const an_entry kTable[] = {
    {"7z", an_fs_extract, 1},
    {"ack", an_net_reader, 1},
    {"adduser", an_sys_account, 1},
    {"ag", an_net_reader, 1},
    {"alembic", an_db_framework, 0},
    {"ansible", an_infra_ansible, 1},
    {"ansible-playbook", an_infra_ansible, 1},
    {"ansible-vault", an_net_reader, 1},
    {"apk", an_sys_pkg, 1},
    {"apt", an_sys_pkg, 1},
    {"apt-get", an_sys_pkg, 1},
    {"aptitude", an_sys_pkg, 1},
    {"aria2c", an_net_fetch, 0},
    {"ash", an_net_interp, 0},
    {"awk", an_net_reader, 1},
    {"aws", an_infra_aws, 1},
    {"az", an_infra_az, 1},
    {"badblocks", an_disk_wipe, 1},
    {"base32", an_net_decoder, 1},
    {"base64", an_net_decoder, 1},
    {"basenc", an_net_decoder, 1},
    {"bash", an_net_interp, 0},
    {"bat", an_net_reader, 1},
    {"batcat", an_net_reader, 1},
    {"blkdiscard", an_disk_wipe, 1},
    {"brew", an_sys_service, 1},
    {"bun", an_net_interp, 0},
    {"bundle", an_db_framework, 0},
    {"bunx", an_db_framework, 0},
    {"bzip2", an_net_reader, 1},
    {"cap", an_infra_deploy, 1},
    {"cargo", an_infra_publish, 0},
    {"cat", an_net_reader, 1},
    {"cdk", an_infra_iac, 1},
    {"cdktf", an_infra_iac, 1},
    {"cfdisk", an_disk_partition, 1},
    {"chage", an_sys_account, 1},
    {"chattr", an_sys_chmod, 1},
    {"chgrp", an_sys_chmod, 1},
    {"chmod", an_sys_chmod, 1},
    {"chown", an_sys_chmod, 1},
    {"chpasswd", an_sys_account, 1},
    {"chsh", an_sys_account, 1},
    {"clickhouse-client", an_db_sql, 1},
    {"cloudflared", an_net_tunnel, 1},
    {"cockroach", an_db_sql, 1},
    {"cp", an_fs_cp, 1},
    {"cqlsh", an_db_sql, 1},
    {"crontab", an_sys_crontab, 1},
    {"cryptsetup", an_disk_volume, 1},
    {"curl", an_net_fetch, 1},
    {"curlie", an_net_fetch, 1},
    {"cut", an_net_reader, 1},
    {"dash", an_net_interp, 0},
    {"date", an_sys_misc, 1},
    {"dd", an_disk_dd, 1},
    {"delgroup", an_sys_account, 1},
    {"deluser", an_sys_account, 1},
    {"deno", an_net_interp, 0},
    {"dep", an_infra_deploy, 1},
    {"diesel", an_db_framework, 0},
    {"django-admin", an_db_framework, 0},
    {"dmsetup", an_disk_volume, 1},
    {"dnf", an_sys_pkg, 1},
    {"docker", an_infra_docker, 0},
    {"docker-compose", an_infra_compose, 1},
    {"doctl", an_infra_cloudcli, 1},
    {"dotnet", an_infra_publish, 0},
    {"dpkg", an_sys_pkg, 1},
    {"dropdb", an_db_admin, 1},
    {"duckdb", an_db_sql, 1},
    {"e2fsck", an_disk_fsck, 1},
    {"echo", an_net_decoder, 1},
    {"egrep", an_net_reader, 1},
    {"eksctl", an_infra_cloudcli, 1},
    {"emacs", an_net_reader, 1},
    {"emerge", an_sys_pkg, 1},
    {"env", an_net_envdump, 1},
    {"fab", an_infra_deploy, 1},
    {"fallocate", an_disk_fallocate, 1},
    {"fdisk", an_disk_partition, 1},
    {"fetch", an_net_fetch, 0},
    {"fgrep", an_net_reader, 1},
    {"find", an_fs_find, 1},
    {"firebase", an_infra_cloudcli, 1},
    {"firewall-cmd", an_sys_firewall, 1},
    {"fish", an_net_interp, 0},
    {"flatpak", an_sys_pkg, 1},
    {"flit", an_infra_publish, 0},
    {"fly", an_infra_cloudcli, 1},
    {"flyctl", an_infra_cloudcli, 1},
    {"fsck", an_disk_fsck, 1},
    {"gawk", an_net_reader, 1},
    {"gcloud", an_infra_gcloud, 1},
    {"gdisk", an_disk_partition, 1},
    {"gem", an_infra_publish, 0},
    {"gh", an_infra_gh, 1},
    {"git", an_git, 1},
    {"glab", an_infra_gh, 1},
    {"gopass", an_net_secret_tool, 1},
    {"gpasswd", an_sys_account, 1},
    {"gpg", an_net_reader, 1},
    {"gradle", an_infra_publish, 0},
    {"gradlew", an_infra_publish, 0},
    {"grep", an_net_reader, 1},
    {"groupadd", an_sys_account, 1},
    {"groupdel", an_sys_account, 1},
    {"groupmod", an_sys_account, 1},
    {"grub-install", an_sys_misc, 1},
    {"gsed", an_fs_sed, 1},
    {"gsutil", an_infra_gcloud, 1},
    {"gunzip", an_net_decoder, 1},
    {"gzip", an_net_reader, 1},
    {"halt", an_sys_shutdown, 1},
    {"hatch", an_infra_publish, 0},
    {"hcloud", an_infra_cloudcli, 1},
    {"hd", an_net_reader, 1},
    {"hdparm", an_disk_wipe, 1},
    {"head", an_net_reader, 1},
    {"helm", an_infra_helm, 1},
    {"heroku", an_infra_cloudcli, 1},
    {"hexdump", an_net_reader, 1},
    {"hostnamectl", an_sys_misc, 1},
    {"http", an_net_fetch, 1},
    {"https", an_net_fetch, 1},
    {"huggingface-cli", an_infra_publish, 0},
    {"ifconfig", an_sys_misc, 1},
    {"init", an_sys_init, 1},
    {"insmod", an_sys_misc, 1},
    {"install", an_fs_install, 1},
    {"ip", an_sys_misc, 1},
    {"ip6tables", an_sys_firewall, 1},
    {"ip6tables-restore", an_sys_firewall, 1},
    {"iptables", an_sys_firewall, 1},
    {"iptables-restore", an_sys_firewall, 1},
    {"jq", an_net_reader, 1},
    {"k", an_infra_kubectl, 1},
    {"kamal", an_infra_deploy, 1},
    {"kexec", an_sys_shutdown, 1},
    {"keydb-cli", an_db_redis, 1},
    {"kill", an_sys_kill, 0},
    {"killall", an_sys_pkill, 0},
    {"killall5", an_sys_pkill, 1},
    {"knex", an_db_framework, 0},
    {"ksh", an_net_interp, 0},
    {"kubecolor", an_infra_kubectl, 1},
    {"kubectl", an_infra_kubectl, 0},
    {"launchctl", an_sys_service, 1},
    {"less", an_net_reader, 1},
    {"lftp", an_net_ssh, 1},
    {"ln", an_fs_ln, 1},
    {"lt", an_net_tunnel, 1},
    {"lua", an_net_interp, 0},
    {"lvreduce", an_disk_volume, 1},
    {"lvremove", an_disk_volume, 1},
    {"make", an_infra_deploy, 0},
    {"manage.py", an_db_framework, 0},
    {"mariadb", an_db_sql, 1},
    {"mawk", an_net_reader, 1},
    {"mdadm", an_disk_volume, 1},
    {"mina", an_infra_deploy, 1},
    {"mix", an_db_framework, 0},
    {"mkdir", an_fs_create, 1},
    {"mke2fs", an_disk_mkfs, 1},
    {"mkfs", an_disk_mkfs, 1},
    {"mksh", an_net_interp, 0},
    {"mkswap", an_disk_mkfs, 1},
    {"modprobe", an_sys_misc, 1},
    {"mongo", an_db_mongo, 1},
    {"mongosh", an_db_mongo, 1},
    {"more", an_net_reader, 1},
    {"mosh", an_net_ssh, 1},
    {"mount", an_sys_mount, 1},
    {"mv", an_fs_mv, 1},
    {"mvn", an_infra_publish, 0},
    {"mysql", an_db_sql, 1},
    {"mysqladmin", an_db_admin, 1},
    {"nano", an_net_reader, 1},
    {"nc", an_net_nc, 1},
    {"ncat", an_net_nc, 1},
    {"netcat", an_net_nc, 1},
    {"netlify", an_infra_cloudcli, 1},
    {"newusers", an_sys_account, 1},
    {"nft", an_sys_firewall, 1},
    {"ngrok", an_net_tunnel, 1},
    {"nl", an_net_reader, 1},
    {"node", an_net_interp, 0},
    {"nodejs", an_net_interp, 0},
    {"npm", an_infra_publish, 0},
    {"npx", an_db_framework, 0},
    {"nvim", an_net_reader, 1},
    {"nvme", an_disk_wipe, 1},
    {"oc", an_infra_kubectl, 1},
    {"od", an_net_reader, 1},
    {"op", an_net_secret_tool, 1},
    {"openssl", an_net_reader, 1},
    {"ovsx", an_infra_publish, 0},
    {"pacman", an_sys_pkg, 1},
    {"parted", an_disk_partition, 1},
    {"pass", an_net_secret_tool, 1},
    {"passwd", an_sys_account, 1},
    {"perl", an_net_interp, 0},
    {"pgcli", an_db_sql, 1},
    {"php", an_net_interp, 0},
    {"pip", an_sys_langpkg, 0},
    {"pipx", an_sys_langpkg, 0},
    {"pkill", an_sys_pkill, 0},
    {"pnpm", an_infra_publish, 0},
    {"pnpx", an_db_framework, 0},
    {"podman", an_infra_docker, 0},
    {"poetry", an_infra_publish, 0},
    {"port", an_sys_pkg, 1},
    {"poweroff", an_sys_shutdown, 1},
    {"printenv", an_net_envdump, 1},
    {"printf", an_net_decoder, 1},
    {"prisma", an_db_framework, 0},
    {"psql", an_db_sql, 1},
    {"pulumi", an_infra_iac, 1},
    {"pvremove", an_disk_volume, 1},
    {"python", an_net_interp, 0},
    {"rails", an_db_framework, 0},
    {"rake", an_db_framework, 0},
    {"rbash", an_net_interp, 0},
    {"rc-service", an_sys_service, 1},
    {"reboot", an_sys_shutdown, 1},
    {"redis-cli", an_db_redis, 1},
    {"rev", an_net_reader, 1},
    {"rg", an_net_reader, 1},
    {"rimraf", an_fs_rm, 1},
    {"rm", an_fs_rm, 1},
    {"rmdir", an_fs_rmdir, 1},
    {"rmmod", an_sys_misc, 1},
    {"rpm", an_sys_pkg, 1},
    {"rsync", an_net_scp, 1},
    {"ruby", an_net_interp, 0},
    {"scp", an_net_scp, 1},
    {"security", an_net_secret_tool, 1},
    {"sed", an_fs_sed, 1},
    {"sequelize", an_db_framework, 0},
    {"sequelize-cli", an_db_framework, 0},
    {"service", an_sys_service, 1},
    {"setenforce", an_sys_misc, 1},
    {"setfacl", an_sys_chmod, 1},
    {"sfdisk", an_disk_partition, 1},
    {"sftp", an_net_ssh, 1},
    {"sgdisk", an_disk_partition, 1},
    {"sh", an_net_interp, 0},
    {"shred", an_fs_shred, 1},
    {"shutdown", an_sys_shutdown, 1},
    {"skaffold", an_infra_deploy, 1},
    {"sls", an_infra_iac, 1},
    {"snap", an_sys_pkg, 1},
    {"socat", an_net_nc, 1},
    {"sops", an_net_reader, 1},
    {"sort", an_net_reader, 1},
    {"sponge", an_fs_tee, 1},   /* sponge [-a] FILE writes (appends) its stdin to FILE, as tee */
    {"sqlcmd", an_db_sql, 1},
    {"sqlite", an_db_sql, 1},
    {"sqlite3", an_db_sql, 1},
    {"sqlx", an_db_framework, 0},
    {"ssh", an_net_ssh, 1},
    {"ssh-copy-id", an_net_ssh, 1},
    {"strings", an_net_reader, 1},
    {"su", an_sys_su, 1},
    {"sudo", an_sys_sudo_rest, 1},
    {"sudoedit", an_sys_sudo_rest, 1},
    {"supabase", an_db_framework, 0},
    {"swapoff", an_sys_mount, 1},
    {"swapon", an_sys_mount, 1},
    {"sysctl", an_sys_sysctl, 1},
    {"systemctl", an_sys_systemctl, 1},
    {"tac", an_net_reader, 1},
    {"tail", an_net_reader, 1},
    {"tar", an_fs_extract, 1},
    {"tee", an_fs_tee, 1},
    {"telinit", an_sys_init, 1},
    {"telnet", an_net_nc, 1},
    {"terraform", an_infra_terraform, 1},
    {"terragrunt", an_infra_terraform, 1},
    {"timedatectl", an_sys_misc, 1},
    {"tofu", an_infra_terraform, 1},
    {"touch", an_fs_create, 1},
    {"tr", an_net_reader, 1},
    {"truncate", an_fs_truncate, 1},
    {"twine", an_infra_publish, 0},
    {"typeorm", an_db_framework, 0},
    {"ufw", an_sys_firewall, 1},
    {"umount", an_sys_mount, 1},
    {"unlink", an_fs_rm, 1},
    {"unzip", an_fs_extract, 1},
    {"update-alternatives", an_sys_misc, 1},
    {"update-grub", an_sys_misc, 1},
    {"useradd", an_sys_account, 1},
    {"userdel", an_sys_account, 1},
    {"usermod", an_sys_account, 1},
    {"uudecode", an_net_reader, 1},
    {"valkey-cli", an_db_redis, 1},
    {"vault", an_net_secret_tool, 1},
    {"vercel", an_infra_cloudcli, 1},
    {"vgremove", an_disk_volume, 1},
    {"vi", an_net_reader, 1},
    {"view", an_net_reader, 1},
    {"vigr", an_sys_account, 1},
    {"vim", an_net_reader, 1},
    {"vipw", an_sys_account, 1},
    {"visudo", an_sys_account, 1},
    {"vsce", an_infra_publish, 0},
    {"wget", an_net_fetch, 1},
    {"wget2", an_net_fetch, 1},
    {"wipefs", an_disk_wipe, 1},
    {"xfs_repair", an_disk_fsck, 1},
    {"xh", an_net_fetch, 1},
    {"xhs", an_net_fetch, 1},
    {"xxd", an_net_decoder, 1},
    {"xz", an_net_reader, 1},
    {"yarn", an_infra_publish, 0},
    {"yq", an_net_reader, 1},
    {"yum", an_sys_pkg, 1},
    {"zcat", an_net_decoder, 1},
    {"zfs", an_disk_volume, 1},
    {"zip", an_net_reader, 1},
    {"zpool", an_disk_volume, 1},
    {"zsh", an_net_interp, 0},
    {"zstd", an_net_reader, 1},
    {"zypper", an_sys_pkg, 1},
};

#define NTABLE ((int)(sizeof(kTable) / sizeof(kTable[0])))

static const an_entry *findEntry(const char *name) {
    int lo = 0, hi = NTABLE - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        /* the first byte settles most probes without a call */
        int c = (unsigned char)name[0] - (unsigned char)kTable[mid].name[0];
        if (c == 0) c = strcmp(name, kTable[mid].name);
        if (c == 0) return &kTable[mid];
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}

/* The table entry for prog: exact, else by family (python3.12 → python, pip3 → pip,
 * mkfs.ext4 → mkfs, fsck.xfs → fsck, perl5.36 → perl). */
static const an_entry *lookupProg(const char *prog) {
    const an_entry *e = findEntry(prog);
    if (e || !*prog) return e;
    char buf[32];
    size_t n = strlen(prog);
    if (n >= sizeof(buf)) return NULL;
    memcpy(buf, prog, n + 1);
    if (an_disk_family(buf)) return findEntry(an_disk_family(buf));   /* mkfs.ext4, dcfldd, … */
    if (!strncmp(buf, "fsck.", 5)) return findEntry("fsck");
    if (!strncmp(buf, "python", 6) || !strncmp(buf, "pypy", 4)) return findEntry("python");
    while (n > 0 && ((buf[n - 1] >= '0' && buf[n - 1] <= '9') || buf[n - 1] == '.')) buf[--n] = 0;
    if (n == strlen(prog) || n == 0) return NULL;
    return findEntry(buf);
}

/* Test hook: is the table sorted? (test_analyzers.c) */
int lh_analyze_table_sorted(void);
int lh_analyze_table_sorted(void) {
    for (int i = 1; i < NTABLE; i++)
        if (strcmp(kTable[i - 1].name, kTable[i].name) >= 0) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Command views                                                                   */
/* ------------------------------------------------------------------------------ */

static const char *baseName(const char *s) {
    const char *slash = strrchr(s, '/');
    const char *b = slash ? slash + 1 : s;
    while (*b == '\\') b++;
    return b;
}

/* "$(which rm)", "`command -v rm`" → "rm"; NULL otherwise. */
static const char *whichTarget(an_state *s, const char *w) {
    static const char *const forms[] = {"$(which ", "`which ", "$(command -v ", "`command -v ",
                                        "$(type -P ", "$(type -p ", NULL};
    for (int k = 0; forms[k]; k++) {
        size_t fl = strlen(forms[k]);
        if (strncmp(w, forms[k], fl)) continue;
        const char *a = w + fl;
        size_t n = 0;
        while (a[n] && a[n] != ')' && a[n] != '`' && a[n] != ' ') n++;
        if (!n || (a[n] != ')' && a[n] != '`') || a[n + 1]) return NULL;
        return lh_arena_strndup(s->c->arena, a, n);
    }
    return NULL;
}

/* Split text on blanks into words (a variable's value used as a command). */
static int splitWords(an_state *s, const char *text, lh_word *out, int max) {
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *st = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        char *w = lh_arena_strndup(s->c->arena, st, (size_t)(p - st));
        if (!w) { s->c->oom = 1; return n; }
        out[n].s = w;
        out[n].len = (uint32_t)(p - st);
        out[n].flags = 0;
        n++;
    }
    return n;
}

/* The command as the analyzers should see it: a dynamic command word the script
 * defined ("$RM -rf /" after RM="rm"), "$(which rm)", or "busybox rm". Returns cmd
 * itself when there is nothing to resolve; tmp holds the view otherwise. */
static const lh_cmd *resolveView(an_state *s, int idx, const lh_cmd *cmd, lh_cmd *tmp) {
    if (cmd->argc == 0) return cmd;
    if ((cmd->flags & LH_C_DYNAMIC_CMD) && !(cmd->argv[0].flags & LH_W_PROCSUBST)) {
        const char *w = cmd->argv[0].s;
        const char *t = whichTarget(s, w);
        if (!t) {
            t = an_expand(s, idx, w);
            if (t == w || strchr(t, '$') || strchr(t, '`')) return cmd;
        }
        lh_word head[8];
        int nh = splitWords(s, t, head, 8);
        if (nh == 0) return cmd;
        lh_word *argv = lh_arena_alloc(s->c->arena, sizeof(lh_word) * (size_t)(nh + cmd->argc - 1));
        if (!argv) { s->c->oom = 1; return cmd; }
        memcpy(argv, head, sizeof(lh_word) * (size_t)nh);
        if (cmd->argc > 1) memcpy(argv + nh, cmd->argv + 1, sizeof(lh_word) * (size_t)(cmd->argc - 1));
        *tmp = *cmd;
        tmp->argv = argv;
        tmp->argc = nh + cmd->argc - 1;
        tmp->prog = baseName(argv[0].s);
        tmp->flags &= ~LH_C_DYNAMIC_CMD;
        return tmp;
    }
    if (!strcmp(cmd->prog, "busybox") && cmd->argc > 1) {
        *tmp = *cmd;
        tmp->argv = cmd->argv + 1;
        tmp->argc = cmd->argc - 1;
        tmp->prog = baseName(tmp->argv[0].s);
        return tmp;
    }
    return cmd;
}

/* ------------------------------------------------------------------------------ */
/* The walk                                                                        */
/* ------------------------------------------------------------------------------ */

static int findingsFor(const lh_ctx *c, int idx, int from) {
    int n = 0;
    for (int k = from; k < c->nfindings; k++)
        if (c->findings[k].cmd == idx) n++;
    return n;
}

void an_dispatch(an_state *s, int idx, const lh_cmd *view) {
    const an_entry *e = lookupProg(view->prog);
    if (e) e->fn(s, idx, view);
    an_data_dispatch(s, idx, view);
}

void an_parse_child(an_state *s, int idx, const char *text, size_t len, lh_origin origin) {
    lh_script *sc = s->c->script;
    lh_cmd *cmd = &sc->cmds[idx];
    lh_shell_limits lim;
    lh_shell_default_limits(&lim);
    if (cmd->depth + 1 > lim.max_script_depth) {
        lh_emit(s->c, idx, LH_RULE(TOO_COMPLEX), "nested scripts");
        return;
    }
    cmd->flags |= LH_C_REPLACED;
    uint32_t inherit = cmd->flags & LH_C_SUDO;
    int depth = cmd->depth + 1;
    int first = sc->ncmds;
    lh_shell_parse(s->c->arena, text, len, &lim, sc, idx, -1, origin, depth);
    if (sc->error == LH_SH_NOMEM) { s->c->oom = 1; return; }
    for (int j = first; j < sc->ncmds; j++) sc->cmds[j].flags |= inherit;
}

/* Findings for a command whose danger comes from a value set at run time ("D=/;
 * rm -rf $D", "$x -rf /") are escalated, not denied: the words alone do not say it. */
static void capToEscalate(lh_ctx *c, int idx, int from) {
    for (int k = from; k < c->nfindings; k++) {
        lh_finding *f = &c->findings[k];
        if (f->cmd == idx && f->action == LH_DENY && f->tier == LH_TIER_ANALYSIS) f->action = LH_ESCALATE;
    }
}

static void analyzeCommand(an_state *s, int idx) {
    lh_cmd tmp;
    const lh_cmd *orig = an_at(s, idx);
    /* A command costs steps per word and redirection: each is classified as a path and
     * read by several analyzers. A recursive function judged at each call would otherwise
     * spend the budget one command at a time, 0.5 s for 800 bytes (a fuzz_hook timeout). */
    if (!lh_step(s->c, LH_STEP_WORD * (uint32_t)orig->argc + LH_STEP_REDIR * (uint32_t)orig->nredirs)) return;
    const lh_cmd *cmd = resolveView(s, idx, orig, &tmp);
    int before = s->c->nfindings;
    int runtime = (cmd != orig && (orig->flags & LH_C_DYNAMIC_CMD)) || (cmd->flags & LH_C_DYNAMIC_CMD);
    s->var_used = 0;
    an_fs_redirs(s, idx, cmd);
    if (cmd->argc > 0) {
        an_net_redir_inputs(s, idx, cmd);
        const an_entry *e = lookupProg(cmd->prog);
        uint32_t flags = cmd->flags;
        int mid = s->c->nfindings;
        if (!(flags & LH_C_DYNAMIC_CMD)) an_data_dispatch(s, idx, cmd);
        if (!(flags & LH_C_DYNAMIC_CMD)) an_send_dispatch(s, idx, cmd);   /* an_send.c */
        an_self_command(s, idx, cmd);   /* chmod, shred, kill, systemctl… of Lighthouse itself */
        if (e) e->fn(s, idx, cmd);
        if (e) an_ctx_test_db(s, idx, cmd, mid);   /* a wipe of a test database is fine */
        else if (flags & LH_C_DYNAMIC_CMD) an_fs_dynamic(s, idx, cmd);
        else if (strstr(cmd->argv[0].s, "://")) an_url_check(s->c, idx, cmd->argv[0].s);  /* a URL is no program */
        else if (strchr(cmd->argv[0].s, '/') && an_is_deploy_name(cmd->argv[0].s))
            lh_emit(s->c, idx, LH_RULE(DEPLOY_RUN), cmd->argv[0].s);
        /* cmd may be stale now: a handler may have appended commands to the script */
        if ((flags & LH_C_SUDO) && (!e || !e->neutral) && !findingsFor(s->c, idx, mid))
            an_sys_generic_sudo(s, idx, an_at(s, idx));
        if (!(flags & LH_C_DYNAMIC_CMD))   /* an_cmdtext.c; it may append children last */
            an_cmdtext_dispatch(s, idx, cmd == orig ? an_at(s, idx) : cmd);
    }
    if (runtime || s->var_used) capToEscalate(s->c, idx, before);
}

#define AN_MAX_FUNCS 64      /* functions whose calls are judged with their arguments */
#define AN_MAX_CALL_DEPTH 4  /* calls followed from inside a function body */

/* The function (among the first AN_MAX_FUNCS) named by the command word of cmd, or -1. */
static int funcOf(const lh_script *sc, const lh_cmd *cmd) {
    if (cmd->argc == 0 || (cmd->argv[0].flags & (LH_W_QUOTED | LH_W_DYNAMIC))) return -1;
    int n = sc->nfuncs < AN_MAX_FUNCS ? sc->nfuncs : AN_MAX_FUNCS;
    for (int j = n - 1; j >= 0; j--)
        if (!strcmp(sc->funcs[j].name, cmd->argv[0].s)) return j;
    return -1;
}

/* Mark the functions the script calls at its top level (outside any function), with 1,
 * and those they call, with the call depth + 1: their bodies are judged once per call,
 * with the call's arguments (judgeCalls), instead of with unknown ones. */
static void markCalled(an_state *s, unsigned char *called) {
    const lh_script *sc = s->c->script;
    memset(called, 0, AN_MAX_FUNCS);
    if (!sc->nfuncs) return;
    for (int k = 0; k < sc->ncmds && lh_step(s->c, 1); k++) {
        int f = sc->cmds[k].func < 0 ? funcOf(sc, &sc->cmds[k]) : -1;
        if (f >= 0) called[f] = 1;
    }
    /* and the functions those call, as many levels down as judgeBody follows: a level
     * is marked only from functions marked on the level before */
    for (int level = 1; level <= AN_MAX_CALL_DEPTH; level++) {
        int more = 0;
        for (int k = 0; k < sc->ncmds && lh_step(s->c, 1); k++) {
            int in = sc->cmds[k].func;
            if (in < 0 || in >= AN_MAX_FUNCS || called[in] != level) continue;
            int f = funcOf(sc, &sc->cmds[k]);
            if (f >= 0 && !called[f]) called[f] = (unsigned char)(level + 1), more = 1;
        }
        if (!more) break;
    }
}

static int calledFunc(const lh_script *sc, const unsigned char *called, int i) {
    int f = sc->cmds[i].func;
    return f >= 0 && f < AN_MAX_FUNCS && called[f];
}

/* Judge the body of each called function for every top-level call: $1…$9 take the
 * call's words, and $@ / $* each argument in turn (at most AN_MAX_LOOP_ITEMS). */
static void judgeBody(an_state *s, const lh_cmd *call, int f, int depth, int n);

/* A call made inside a function body being judged: its words as the caller's
 * arguments make them ($1 of the outer call substituted), then judge its body. */
static void judgeInnerCall(an_state *s, int i, int f, int depth, int n) {
    const lh_cmd *inner = &s->c->script->cmds[i];
    lh_word *argv = lh_arena_alloc(s->c->arena, (size_t)inner->argc * sizeof(lh_word));
    if (!argv) { s->c->oom = 1; return; }
    for (int j = 0; j < inner->argc; j++) {
        const char *t = j ? an_expand(s, i, inner->argv[j].s) : inner->argv[j].s;
        argv[j].s = t;
        argv[j].len = (uint32_t)strlen(t);
        argv[j].flags = (strchr(t, '$') || strchr(t, '`')) ? (inner->argv[j].flags | LH_W_DYNAMIC) : 0;
    }
    lh_cmd call = *inner;
    call.argv = argv;
    judgeBody(s, &call, f, depth + 1, n);
}

/* Judge the body of function f for one call: $1…$9 take the call's words, and $@ / $*
 * each argument in turn (at most AN_MAX_LOOP_ITEMS). Calls inside are followed down to
 * AN_MAX_CALL_DEPTH. */
static void judgeBody(an_state *s, const lh_cmd *call, int f, int depth, int n) {
    lh_ctx *c = s->c;
    const lh_script *sc = c->script;
    const lh_func *fn = &sc->funcs[f];
    const lh_cmd *saved = s->frame;
    int saved_arg = s->frame_arg;
    int nargs = call->argc > 1 ? call->argc - 1 : 1;
    if (nargs > AN_MAX_LOOP_ITEMS) nargs = AN_MAX_LOOP_ITEMS;
    for (int a = 1; a <= nargs && !c->over_budget && !c->oom; a++) {
        for (int i = fn->first_cmd; i < fn->first_cmd + fn->ncmds && i < n && lh_step(c, 1); i++) {
            s->frame = call;
            s->frame_arg = a;
            int g = depth < AN_MAX_CALL_DEPTH && sc->cmds[i].func == f ? funcOf(sc, &sc->cmds[i]) : -1;
            if (g >= 0) judgeInnerCall(s, i, g, depth, n);
            s->frame = call;
            s->frame_arg = a;
            analyzeCommand(s, i);
        }
    }
    s->frame = saved;
    s->frame_arg = saved_arg;
}

/* Judge the body of each called function for every top-level call. */
static void judgeCalls(an_state *s) {
    lh_ctx *c = s->c;
    const lh_script *sc = c->script;
    if (!sc->nfuncs) return;
    int n = sc->ncmds;
    for (int k = 0; k < n && !c->oom && !c->over_budget; k++) {
        const lh_cmd *call = &sc->cmds[k];
        int f;
        if (call->func >= 0 || (f = funcOf(sc, call)) < 0) continue;
        judgeBody(s, call, f, 0, n);
    }
}

/* True when a word of cmd holds a parameter expansion, or a `$` that an_expand reads
 * as one (the words of a child built from its parent's: an alias's arguments), or its
 * arguments come from its stdin (xargs fed by echo "$d"). */
static int readsVar(const lh_cmd *cmd) {
    if (cmd->flags & LH_C_STDIN_ARGS) return 1;   /* xargs rm: echo "$d" | feeds it */
    for (int i = 0; i < cmd->argc; i++)
        if ((cmd->argv[i].flags & LH_W_VAR) || memchr(cmd->argv[i].s, '$', cmd->argv[i].len)) return 1;
    for (int i = 0; i < cmd->nredirs; i++)
        if (cmd->redirs[i].target.flags & LH_W_VAR) return 1;
    return 0;
}

/* Judge every command of the parsed script (c->script): each one not inside a function
 * body, then the bodies of the functions called, then the commands that read a loop
 * variable once per later item of its list. */
static void judgeScript(lh_ctx *c) {
    if (!c->script) return;
    an_state s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    collectVars(&s);
    collectLinks(&s);
    unsigned char called[AN_MAX_FUNCS];
    markCalled(&s, called);
    for (int i = 0; i < c->script->ncmds && !c->oom && lh_step(c, 1); i++)
        if (!calledFunc(c->script, called, i)) analyzeCommand(&s, i);
    judgeCalls(&s);
    /* Each later item of a `for` list: judge again the commands that read a variable. */
    int n = c->script->ncmds;
    for (s.pass = 1; s.pass < s.loop_items && !c->oom; s.pass++) {
        for (int i = 0; i < n && !c->oom && lh_step(c, 1); i++)
            if (readsVar(&c->script->cmds[i]) && !calledFunc(c->script, called, i)) analyzeCommand(&s, i);
        judgeCalls(&s);   /* a function called in the loop body sees the item too */
    }
}

/* Write, Edit, MultiEdit, NotebookEdit: judge the file by its class. */
static void analyzeFileWrite(lh_ctx *c) {
    const char *p = c->req->file_path;
    if (!p || !*p) return;
    an_state s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    an_fs_write_target(&s, -1, p, AN_W_WRITE);
}

/* Read (and Grep, whose matches print file contents) of credentials is escalated. */
static void analyzeRead(lh_ctx *c, const char *p) {
    if (!p || !*p) return;
    lh_path path;
    lh_path_classify(c, p, strlen(p), &path);
    size_t n = strlen(path.norm);
    int environ = !strncmp(path.norm, "/proc/", 6) && n > 8 && !strcmp(path.norm + n - 8, "/environ");
    if (path.cls == LH_PATH_SECRET || environ) lh_emit(c, -1, LH_RULE(SECRET_READ), path.norm);
}

void lh_analyze(lh_ctx *c) {
    switch (c->req->tool) {
    case LH_TOOL_BASH: judgeScript(c); break;
    case LH_TOOL_WRITE:
    case LH_TOOL_EDIT:
    case LH_TOOL_MULTIEDIT:
    case LH_TOOL_NOTEBOOKEDIT:
        analyzeFileWrite(c);
        lh_content_analyze(c);
        judgeScript(c);
        break;
    case LH_TOOL_READ: analyzeRead(c, c->req->file_path); break;
    case LH_TOOL_GREP: analyzeRead(c, c->req->path); break;
    case LH_TOOL_WEBFETCH: an_url_webfetch(c); break;
    case LH_TOOL_MCP: judgeScript(c); an_mcp(c); break;   /* a "command" string, its arguments */
    default: break;   /* Glob, LS, WebSearch: nothing to judge */
    }
}
