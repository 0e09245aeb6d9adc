/* an_cmdtext.c — command text handed to PowerShell, to history, to tox (evasion round 3).
 *
 * - pwsh / powershell -Command TEXT (any prefix: -c, -co, -command …): the text is read
 *   as a child script, PowerShell's Remove-Item family (Remove-Item, ri, del, erase, rd)
 *   with a -Recurse prefix judged as `rm -r`; iex / Invoke-Expression of a download
 *   (iwr, irm, Invoke-WebRequest, DownloadString …) is net.pipe-to-shell;
 *   -EncodedCommand (any prefix from -e) runs base64 text: exec.decoded-script.
 * - fc -s / fc -e - re-run a history line: the text of the latest `history -s TEXT` of
 *   the call is a child; with none, the line is unknown (shell.dynamic-command).
 * - tox -x / --override KEY=VALUE where KEY sets commands (commands, commands_pre,
 *   commands_post): VALUE is a child script.
 * - just -f /dev/stdin (--justfile): the here-doc's indented recipe lines are children;
 *   task -t /dev/stdin (--taskfile, go-task): the Taskfile's commands, as a written one's.
 * - one-off runs of a package named by a URL or a repository: pipx run --spec, uvx /
 *   uv tool run --from/--with, npx / npm exec / pnpm dlx / bunx: pkg.untrusted-source.
 * - an_cmdtext_runs_stdin(), for analyze.c's pipe following: a shell -c whose own script
 *   runs the stdin it was given, tee feeding a shell in >(…), deno/bun run -, rc, gdb -x
 *   /dev/stdin, vim -s /dev/stdin, just -f /dev/stdin, task -t /dev/stdin. */
#include <string.h>

#include "engine/an_common.h"
#include "engine/unwrap.h"

/* Is a (after its dash) a case-insensitive prefix of name of at least min letters? */
static int psPrefix(const char *a, const char *name, size_t min) {
    if (a[0] != '-' && a[0] != '/') return 0;   /* -Command, /Command */
    a++;
    size_t n = strlen(a);
    if (n < min || n > strlen(name)) return 0;
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = name[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (x != y) return 0;
    }
    return 1;
}

/* Words argv[from..] joined with spaces, in the arena (PowerShell joins them so). */
static const char *joined(an_state *s, const lh_cmd *cmd, int from, size_t *len) {
    size_t n = 1;
    for (int i = from; i < cmd->argc; i++) n += cmd->argv[i].len + 1;
    char *t = lh_arena_alloc(s->c->arena, n);
    if (!t) { s->c->oom = 1; return NULL; }
    size_t o = 0;
    for (int i = from; i < cmd->argc; i++) {
        if (o) t[o++] = ' ';
        memcpy(t + o, cmd->argv[i].s, cmd->argv[i].len);
        o += cmd->argv[i].len;
    }
    t[o] = 0;
    *len = o;
    return t;
}

/* PowerShell's call operator `& CMD` (at the start of a statement) read as CMD. */
static const char *callOperator(an_state *s, const char *t, size_t len) {
    char *o = lh_arena_strndup(s->c->arena, t, len);
    if (!o) { s->c->oom = 1; return NULL; }
    int start = 1;
    for (size_t i = 0; i < len; i++) {
        if (o[i] == '&' && start && i + 1 < len && (o[i + 1] == ' ' || o[i + 1] == '\'' || o[i + 1] == '"')) o[i] = ' ';
        if (o[i] == ';' || o[i] == '|' || o[i] == '{' || o[i] == '(' || o[i] == '\n') start = 1;
        else if (o[i] != ' ' && o[i] != '\t') start = 0;
    }
    return o;
}

/* iwr URL -OutFile x.ps1; ./x.ps1: a script downloaded and named again later in the
 * same text is run (net.download-exec). Only script and program names count. */
static void psDownloadRun(an_state *s, int idx, const char *text) {
    const char *o = an_istr(text, "-outfile");
    if (!o) return;
    o += 8;
    while (*o == ' ' || *o == '\'' || *o == '"') o++;
    size_t n = strcspn(o, " ;'\"|\n");
    const char *b = o;
    for (size_t i = 0; i < n; i++)
        if (o[i] == '/' || o[i] == '\\') b = o + i + 1;
    size_t bl = (size_t)(o + n - b);
    static const char *const ext[] = {".ps1", ".sh", ".bat", ".cmd", ".exe", ".py", NULL};
    int runnable = 0;
    for (int i = 0; ext[i]; i++) {
        size_t el = strlen(ext[i]);
        if (bl > el && !strncmp(b + bl - el, ext[i], el)) runnable = 1;
    }
    if (!runnable || bl >= 256) return;
    char name[256];
    memcpy(name, b, bl);
    name[bl] = 0;
    if (strstr(o + n, name)) lh_emit(s->c, idx, LH_RULE(NET_DOWNLOAD_EXEC), name);
}

static void pwsh(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (psPrefix(a, "encodedcommand", 1) || psPrefix(a, "ec", 2)) {
            lh_emit(s->c, idx, LH_RULE(EXEC_DECODED), a);
            return;
        }
        if ((psPrefix(a, "executionpolicy", 2) || psPrefix(a, "windowstyle", 1) || psPrefix(a, "workingdirectory", 2) ||
             psPrefix(a, "configurationname", 3) || psPrefix(a, "outputformat", 1) || psPrefix(a, "inputformat", 2) ||
             psPrefix(a, "version", 1) || psPrefix(a, "psconsolefile", 3) || psPrefix(a, "settingsfile", 2) ||
             psPrefix(a, "custompipename", 2)) && i + 1 < cmd->argc) {
            i++;   /* an option with a value: -ExecutionPolicy Bypass */
            continue;
        }
        int stdin_file = psPrefix(a, "file", 1) && i + 1 < cmd->argc && !strcmp(cmd->argv[i + 1].s, "-");
        if (psPrefix(a, "file", 1) && !stdin_file) return;   /* a script of the project */
        /* powershell.exe (5.1) reads its first plain word as -Command; pwsh as -File */
        int positional = a[0] != '-' && a[0] != '/' && strncmp(cmd->prog, "pwsh", 4);
        if (positional) i--;
        else if ((!psPrefix(a, "command", 1) && !stdin_file) || i + 1 >= cmd->argc) {
            if (a[0] != '-' && a[0] != '/') return;   /* pwsh FILE: a script of the project */
            continue;
        }
        size_t len = 0;
        const char *text = !strcmp(cmd->argv[i + 1].s, "-") ? lh_stdin_text(s->c, idx, &len)   /* -Command - */
                                                           : joined(s, cmd, i + 1, &len);
        if (!text) return;
        text = callOperator(s, text, len);
        if (!text) return;
        int evals = an_istr(text, "iex") || an_istr(text, "invoke-expression");
        int fetch = an_istr(text, "iwr") || an_istr(text, "irm") || an_istr(text, "invoke-webrequest") ||
                    an_istr(text, "invoke-restmethod") || an_istr(text, "downloadstring") ||
                    an_istr(text, "webclient") || an_istr(text, "curl") || an_istr(text, "wget");
        if (evals && fetch) lh_emit(s->c, idx, LH_RULE(NET_PIPE_SHELL), "Invoke-Expression of a download");
        else if (fetch) psDownloadRun(s, idx, text);
        an_parse_child(s, idx, text, len, LH_ORIGIN_SHELL_C);
        return;
    }
}

/* Remove-Item and its aliases with -Recurse: a recursive, forced delete of each path;
 * with no path, the paths Get-ChildItem (gci, ls, dir) pipes in. */
static void psRemove(an_state *s, int idx, const lh_cmd *cmd) {
    int rec = 0, any = 0;
    for (int i = 1; i < cmd->argc; i++)
        if (psPrefix(cmd->argv[i].s, "recurse", 1)) rec = 1;
    if (!rec) return;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-') {
            if (psPrefix(a, "include", 2) || psPrefix(a, "exclude", 1) || psPrefix(a, "filter", 2)) i++;
            continue;
        }
        an_fs_delete_target(s, idx, a, 1, 1, 0);
        any = 1;
    }
    const lh_cmd *o = an_at(s, idx);
    if (any || !(o->flags & LH_C_PIPE_IN)) return;
    const lh_script *sc = s->c->script;
    for (int j = idx - 1; j >= 0; j--) {
        const lh_cmd *up = &sc->cmds[j];
        if (up->pipeline != o->pipeline || up->parent != o->parent || up->pipe_pos != o->pipe_pos - 1) continue;
        if (up->argc == 0 || !(an_ieq(up->prog, "Get-ChildItem") || an_ieq(up->prog, "gci") ||
                               !strcmp(up->prog, "ls") || an_ieq(up->prog, "dir"))) {
            lh_emit(s->c, idx, LH_RULE(RM_DYNAMIC), "paths piped in");
            return;
        }
        int found = 0;
        for (int i = 1; i < up->argc; i++)
            if (up->argv[i].s[0] != '-') { an_fs_delete_target(s, idx, up->argv[i].s, 1, 1, 0); found = 1; }
        if (!found) an_fs_delete_target(s, idx, ".", 1, 1, 0);
        return;
    }
}

/* Start-Process PROG -ArgumentList A,B: PROG run with those words. */
static void psStart(an_state *s, int idx, const lh_cmd *cmd) {
    const char *prog = NULL, *args = "";
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if ((psPrefix(a, "filepath", 1) || psPrefix(a, "argumentlist", 1) || psPrefix(a, "args", 2)) && i + 1 < cmd->argc) {
            if (psPrefix(a, "filepath", 1)) prog = cmd->argv[++i].s;
            else args = cmd->argv[++i].s;
        } else if (a[0] == '-') {
            continue;
        } else if (!prog) {
            prog = a;
        } else {
            args = a;
        }
    }
    if (!prog) return;
    size_t cap = strlen(prog) * 4 + strlen(args) * 4 + 16;
    char *t = lh_arena_alloc(s->c->arena, cap);
    if (!t) { s->c->oom = 1; return; }
    size_t o = lh_unwrap_quote_into(t, prog);
    for (const char *a = args; *a;) {   /* the list is comma separated */
        const char *e = strchr(a, ',');
        size_t n = e ? (size_t)(e - a) : strlen(a);
        char *one = lh_arena_strndup(s->c->arena, a, n);
        if (!one) { s->c->oom = 1; return; }
        t[o++] = ' ';
        o += lh_unwrap_quote_into(t + o, one);
        a = e ? e + 1 : a + n;
    }
    t[o] = 0;
    an_parse_child(s, idx, t, o, LH_ORIGIN_SHELL_C);
}

/* rpm --eval / -E TEXT: each %(CMD) in it is run by a shell. */
static void rpmEval(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i + 1 < cmd->argc; i++) {
        if (strcmp(cmd->argv[i].s, "--eval") && strcmp(cmd->argv[i].s, "-E")) continue;
        const char *t = cmd->argv[i + 1].s;
        for (const char *m = strstr(t, "%("); m; m = strstr(m + 2, "%(")) {
            int depth = 1;
            const char *e = m + 2;
            for (; *e && depth; e++) depth += *e == '(' ? 1 : *e == ')' ? -1 : 0;
            if (depth == 0) an_parse_child(s, idx, m + 2, (size_t)(e - 1 - (m + 2)), LH_ORIGIN_SHELL_C);
        }
    }
}

/* fc -s / fc -e -: the latest `history -s TEXT` before it, or an unknown line. */
static void fc(an_state *s, int idx, const lh_cmd *cmd) {
    int rerun = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-s") || (!strcmp(a, "-e") && i + 1 < cmd->argc && !strcmp(cmd->argv[i + 1].s, "-")))
            rerun = 1;
        if (!strcmp(a, "-l")) return;   /* lists */
    }
    if (!rerun) return;
    const lh_script *sc = s->c->script;
    for (int j = idx - 1; j >= 0; j--) {
        const lh_cmd *h = &sc->cmds[j];
        if (h->argc < 3 || strcmp(h->prog, "history") || strcmp(h->argv[1].s, "-s")) continue;
        size_t len = 0;
        const char *text = joined(s, h, 2, &len);
        if (text) an_parse_child(s, idx, text, len, LH_ORIGIN_SHELL_C);
        return;
    }
    lh_emit(s->c, idx, LH_RULE(DYNAMIC_CMD), "fc re-runs a history line");
}

/* tox -x KEY=VALUE / --override[=]KEY=VALUE setting a commands key. */
static void tox(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s, *kv = NULL;
        if ((!strcmp(a, "-x") || !strcmp(a, "--override")) && i + 1 < cmd->argc) kv = cmd->argv[++i].s;
        else if (!strncmp(a, "--override=", 11)) kv = a + 11;
        else if (!strncmp(a, "-x", 2) && a[2]) kv = a + 2;
        if (!kv) continue;
        const char *eq = strchr(kv, '=');
        if (!eq) continue;
        const char *key = eq;
        while (key > kv && key[-1] != '.' && key[-1] != ':') key--;
        if (strncmp(key, "commands", 8)) continue;
        const char *v = eq + 1;
        if (*v == '+') v++;   /* KEY+=VALUE appends */
        an_parse_child(s, idx, v, strlen(v), LH_ORIGIN_SHELL_C);
    }
}

/* A one-off run of a package from a URL or a repository (pipx run --spec git+…, uvx
 * --from git+…, npx github:u/r, npm exec URL): pkg.untrusted-source, as pip install of it. */
static void pkgRun(an_state *s, int idx, const lh_cmd *cmd, int from) {
    for (int i = from; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s, *v = NULL;
        if ((!strcmp(a, "--spec") || !strcmp(a, "--from") || !strcmp(a, "--with") || !strcmp(a, "--package") ||
             !strcmp(a, "-p")) && i + 1 < cmd->argc)
            v = cmd->argv[++i].s;
        else if (!strncmp(a, "--spec=", 7) || !strncmp(a, "--from=", 7) || !strncmp(a, "--with=", 7))
            v = a + 7;
        else if (!strncmp(a, "--package=", 10))
            v = a + 10;
        else if (!strcmp(a, "--"))
            continue;
        else if (a[0] != '-')
            v = a;   /* the first operand is the package; the rest are its arguments */
        if (v && an_pkg_url_spec(v)) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), v); return; }
        if (v == a) return;
    }
}

/* just --justfile F / -f F with F the here-doc (/dev/stdin): each recipe line runs. */
static void justStdin(an_state *s, int idx, const lh_cmd *cmd) {
    const char *f = an_opt_value(cmd, 'f', "--justfile");
    if (!f || (strcmp(f, "-") && strcmp(f, "/dev/stdin") && strcmp(f, "/dev/fd/0"))) return;
    size_t len = 0;
    const char *t = lh_stdin_text(s->c, idx, &len);
    for (const char *l = t, *end = t ? t + len : NULL; l && l < end;) {
        const char *e = memchr(l, '\n', (size_t)(end - l));
        if (!e) e = end;
        if (*l == ' ' || *l == '\t') {   /* an indented recipe line; @ and - only change echo and errors */
            while (l < e && (*l == ' ' || *l == '\t' || *l == '@' || *l == '-')) l++;
            if (l < e) an_parse_child(s, idx, l, (size_t)(e - l), LH_ORIGIN_SHELL_C);
        }
        l = e + 1;
    }
}

/* The runner file option of just (-f/--justfile) or task (-t/--taskfile) names stdin. */
static int runnerFileIsStdin(const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (p[0] != 't' && p[0] != 'g' && p[0] != 'j') return 0;
    int task = !strcmp(p, "task") || !strcmp(p, "go-task");
    if (!task && strcmp(p, "just")) return 0;
    const char *f = task ? an_opt_value(cmd, 't', "--taskfile") : an_opt_value(cmd, 'f', "--justfile");
    return f && (!strcmp(f, "-") || !strcmp(f, "/dev/stdin") || !strcmp(f, "/dev/fd/0"));
}

/* task -t /dev/stdin (--taskfile, go-task): the Taskfile given on stdin (here-doc, echo,
 * printf) is read as Taskfile.yml written with Write is: each command is a child. */
static void taskStdin(an_state *s, int idx, const lh_cmd *cmd) {
    if (!runnerFileIsStdin(cmd)) return;
    size_t len = 0, n = 0;
    const char *text = lh_stdin_text(s->c, idx, &len);
    const char *t = text ? lh_content_commands(s->c, "Taskfile.yml", LH_TOOL_WRITE, text, len, &n) : NULL;
    for (const char *u = t, *end = t ? t + n : NULL; u && u < end;) {
        const char *ue = memchr(u, LH_CONTENT_UNIT[0], (size_t)(end - u));
        if (!ue) ue = end;
        if (ue > u) an_parse_child(s, idx, u, (size_t)(ue - u), LH_ORIGIN_SHELL_C);
        u = ue + 1;
    }
}

/* A PowerShell cmdlet name: Verb-Noun (case-insensitive). */
static int isCmdlet(const char *p, const char *name) { return strchr(p, '-') && an_ieq(p, name); }

/* A two-to-five-letter PowerShell alias, compared without case. */
static int isAlias(const char *p, const char *name) {
    size_t i = 0;
    for (; p[i] && name[i]; i++)
        if ((p[i] | 0x20) != name[i]) return 0;
    return !p[i] && !name[i];
}

void an_cmdtext_dispatch(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    /* npx -y github:u/r, npm exec URL: the runner was stripped as a wrapper (wrappers.c) */
    if (cmd->wrappers && cmd->argc > 0 && an_pkg_url_spec(cmd->argv[0].s)) {
        lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), cmd->argv[0].s);
        return;
    }
    switch (p[0]) {   /* the hot path: one switch on the first letter */
    case 'p':
        if (p[1] == 'w' || p[1] == 'o') {
            if (!strcmp(p, "pwsh") || !strcmp(p, "powershell") || !strcmp(p, "pwsh.exe") || !strcmp(p, "powershell.exe"))
                pwsh(s, idx, cmd);
        } else if (p[1] == 'i' && !strcmp(p, "pipx") && cmd->argc > 2 && !strcmp(cmd->argv[1].s, "run")) {
            pkgRun(s, idx, cmd, 2);
        } else if (p[1] == 'n' && !strcmp(p, "pnpm") && cmd->argc > 2 && !strcmp(cmd->argv[1].s, "dlx")) {
            pkgRun(s, idx, cmd, 2);
        }
        break;
    case 'R': case 'r': case 'd': case 'D': case 'e': case 'E':
        if (isCmdlet(p, "Remove-Item") || isAlias(p, "ri") || isAlias(p, "del") || isAlias(p, "erase") || isAlias(p, "rd"))
            psRemove(s, idx, cmd);
        else if (p[0] == 'r' && p[1] == 'p' && (!strcmp(p, "rpm") || !strcmp(p, "rpmbuild"))) rpmEval(s, idx, cmd);
        break;
    case 'S': case 's':
        if (isCmdlet(p, "Start-Process") || isAlias(p, "saps")) psStart(s, idx, cmd);
        else if (p[1] == 'o' && !strcmp(p, "sops") && cmd->argc > 3 &&
                 (!strcmp(cmd->argv[1].s, "exec-env") || !strcmp(cmd->argv[1].s, "exec-file")))
            an_parse_child(s, idx, cmd->argv[cmd->argc - 1].s, cmd->argv[cmd->argc - 1].len, LH_ORIGIN_SHELL_C);
        break;
    case 'F': case 'f': case 'C': case 'c': case 'I': case 'i':
        if (isCmdlet(p, "Format-Volume") || isCmdlet(p, "Initialize-Disk")) lh_emit(s->c, idx, LH_RULE(DISK_MKFS), p);
        else if (isCmdlet(p, "Clear-Disk")) lh_emit(s->c, idx, LH_RULE(DISK_WIPE), p);
        else if (p[0] == 'f' && p[1] == 'c' && !p[2]) fc(s, idx, cmd);
        break;
    case 't':
        if (p[1] == 'o' && !strcmp(p, "tox")) tox(s, idx, cmd);
        else if (p[1] == 'a' && !strcmp(p, "task")) taskStdin(s, idx, cmd);
        break;
    case 'g': if (p[1] == 'o' && !strcmp(p, "go-task")) taskStdin(s, idx, cmd); break;
    case 'j': if (p[1] == 'u' && !strcmp(p, "just")) justStdin(s, idx, cmd); break;
    case 'u':
        if (p[1] == 'v' && !strcmp(p, "uvx")) pkgRun(s, idx, cmd, 1);
        else if (p[1] == 'v' && !p[2] && cmd->argc > 3 && !strcmp(cmd->argv[1].s, "tool") && !strcmp(cmd->argv[2].s, "run"))
            pkgRun(s, idx, cmd, 3);
        break;
    case 'n':
        if (p[1] == 'p' && !strcmp(p, "npx")) pkgRun(s, idx, cmd, 1);
        else if (p[1] == 'p' && !strcmp(p, "npm") && cmd->argc > 2 && (!strcmp(cmd->argv[1].s, "exec") || !strcmp(cmd->argv[1].s, "x")))
            pkgRun(s, idx, cmd, 2);
        break;
    case 'b': if (p[1] == 'u' && !strcmp(p, "bunx")) pkgRun(s, idx, cmd, 1); break;
    default: break;
    }
}

int an_cmdtext_runs_stdin(an_state *s, int dst) {
    const lh_script *sc = s->c->script;
    const lh_cmd *d = &sc->cmds[dst];
    if (d->argc == 0) return 0;
    const char *p = d->prog;
    /* deno run -, bun run -; rc (Plan 9's shell) with no script; gdb -x /dev/stdin (its
     * `shell` command); vim -s /dev/stdin (typed keys, :! included) */
    if ((!strcmp(p, "deno") || !strcmp(p, "bun")) && an_has_word(d, 1, "run") && an_has_word(d, 1, "-")) return 1;
    if (!strcmp(p, "rc")) return lh_first_operand(d, 0) < 0;
    if (runnerFileIsStdin(d)) return 1;   /* just -f /dev/stdin, task -t /dev/stdin */
    if (!strcmp(p, "gdb") || !strcmp(p, "vim") || !strcmp(p, "vi") || !strcmp(p, "nvim")) {
        const char *x = an_opt_value(d, !strcmp(p, "gdb") ? 'x' : 's', !strcmp(p, "gdb") ? "--command" : NULL);
        return x && (!strcmp(x, "-") || !strcmp(x, "/dev/stdin"));
    }
    if (!strcmp(d->prog, "tee")) {   /* … | tee >(sh): the shell in >(…) reads what tee passes on */
        for (int j = dst + 1; j < AN_HI(dst, sc->ncmds); j++) {
            const lh_cmd *o = &sc->cmds[j];
            if (o->parent == dst && o->origin == LH_ORIGIN_PROCSUBST_OUT && o->argc > 0 && an_is_shell(o->prog) &&
                an_reads_code_from_stdin(o))
                return 1;
        }
        return 0;
    }
    int code = -1;
    for (int i = 1; i + 1 < d->argc && code < 0; i++)
        if (!strcmp(d->argv[i].s, "-c")) code = i + 1;
    if (code < 0) return 0;
    if (d->origin == LH_ORIGIN_XARGS && strstr(d->argv[code].s, "{}")) return 1;
    for (int j = dst + 1; j < AN_HI(dst, sc->ncmds); j++) {
        const lh_cmd *o = &sc->cmds[j];
        if (o->parent != dst || o->argc == 0) continue;
        if (o->flags & LH_C_PIPE_IN) {   /* sh -c 'cat | sh': cat passes the parent's stdin on */
            const lh_cmd *first = NULL;
            for (int q = dst + 1; q < j && !first; q++)
                if (sc->cmds[q].parent == dst && sc->cmds[q].pipeline == o->pipeline && sc->cmds[q].pipe_pos == 0)
                    first = &sc->cmds[q];
            if (!first || strcmp(first->prog, "cat") || lh_first_operand(first, 0) >= 0 || first->nredirs) continue;
        }
        if (o->redirs && o->nredirs) continue;   /* its stdin comes from elsewhere */
        if (an_is_shell(o->prog) && an_reads_code_from_stdin(o)) return 1;
        if ((!strcmp(o->prog, "source") || !strcmp(o->prog, ".")) &&
            (o->argc < 2 || !strcmp(o->argv[1].s, "/dev/stdin") || !strcmp(o->argv[1].s, "-")))
            return 1;
    }
    return 0;
}
