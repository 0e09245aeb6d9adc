/* unwrap_code.c — inline interpreter code (python -c, perl -e, ruby -e, node -e, php -r,
 * lua -e …): shell-outs become child commands, recursive deletes, fork loops, sends of
 * secrets and code that cannot be read are found here; see unwrap.h. Split from unwrap.c,
 * which calls lh_unwrap_inline_code and lh_unwrap_scan_code for each interpreter command. */
#include "engine/unwrap.h"
#include "engine/code_refs.h"
#include "engine/semantics.h"

#include "engine/code_lex.h"
#include "engine/feeds.h"

#include <string.h>

static lh_cmd *cmdAt(lh_ctx *c, int k) { return &c->script->cmds[k]; }

/* ------------------------------------------------------------------------------ */
/* Inline interpreter code                                                         */
/* ------------------------------------------------------------------------------ */

/* The code given with -c/-e/-r/--eval (or a here-doc/here-string when no script
 * file is named); NULL if none. */
const char *lh_unwrap_inline_code(lh_ctx *c, int k, size_t *len) {
    lh_cmd *cmd = cmdAt(c, k);
    int operand = 0;
    lh_lang lang = lh_code_lang(cmd->prog);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        /* (advcontent) options whose meaning differs by language: python -E is a flag,
         * node -r and php -d take a value */
        if (lang == LH_LANG_PYTHON && !strcmp(a, "-E")) continue;
        /* (advcontent3) deno eval [options] CODE */
        if (lang == LH_LANG_JS && i == 1 && !strcmp(a, "eval")) {
            for (int j = 2; j < cmd->argc; j++)
                if (cmd->argv[j].s[0] != '-') { *len = cmd->argv[j].len; return cmd->argv[j].s; }
            return NULL;
        }
        if (((lang == LH_LANG_JS && !strcmp(a, "-r")) || (lang == LH_LANG_PHP && !strcmp(a, "-d"))) && i + 1 < cmd->argc) {
            i++;
            continue;
        }
        if (!strcmp(a, "-c") || !strcmp(a, "-e") || !strcmp(a, "-E") || !strcmp(a, "-r") ||
            !strcmp(a, "--eval") || !strcmp(a, "-p") || !strcmp(a, "--print") ||
            !strcmp(a, "-pe") || !strcmp(a, "-ne") || !strcmp(a, "-lne") || !strcmp(a, "-le")) {
            if (i + 1 < cmd->argc) { *len = cmd->argv[i + 1].len; return cmd->argv[i + 1].s; }
            return NULL;
        }
        if (!strncmp(a, "--eval=", 7)) { *len = strlen(a + 7); return a + 7; }
        if (!strcmp(a, "-m")) return NULL;      /* python -m module */
        /* (advcontent) options that take a value (python -X utf8, -W ignore), and short
         * flags joined with the code option (python -Ic, -Sc, perl -we) */
        if ((!strcmp(a, "-X") || !strcmp(a, "-W") || !strcmp(a, "-Q")) && i + 1 < cmd->argc) { i++; continue; }
        size_t al = strlen(a);
        if (al > 2 && al < 8 && a[0] == '-' && a[1] != '-' && strchr("ceEr", a[al - 1])) {
            int flags = 1;
            for (size_t j = 1; j + 1 < al; j++)
                if (!((a[j] >= 'a' && a[j] <= 'z') || (a[j] >= 'A' && a[j] <= 'Z'))) flags = 0;
            if (flags) {
                if (i + 1 < cmd->argc) { *len = cmd->argv[i + 1].len; return cmd->argv[i + 1].s; }
                return NULL;
            }
        }
        /* `-` and /dev/stdin (python3 /dev/stdin <<<…) read the script on stdin */
        if (a[0] != '-' || !strcmp(a, "-")) { operand = 1; if (strcmp(a, "-") && !lh_sem_is_stdin_path(a)) break; }
    }
    if (operand && strcmp(cmd->argv[cmd->argc - 1].s, "-")) {
        int dash = 0;
        for (int i = 1; i < cmd->argc; i++) if (!strcmp(cmd->argv[i].s, "-") || lh_sem_is_stdin_path(cmd->argv[i].s)) dash = 1;
        if (!dash) return NULL;
    }
    for (int r = 0; r < cmd->nredirs; r++)
        if (cmd->redirs[r].op == LH_R_HEREDOC || cmd->redirs[r].op == LH_R_HERESTR) {
            *len = cmd->redirs[r].target.len;
            return cmd->redirs[r].target.s;
        }
    return lh_stdin_text(c, k, len);   /* echo CODE | python3 -, printf … | node /dev/stdin */
}

/* The name that ends just before at (blanks, one '(' and one quote skipped back), its
 * last '.'-part: "runpy.run_path('" before "/dev/stdin" gives "run_path". */
static int loaderBefore(const char *code, const char *at) {
    static const char *const kLoaders[] = {"run_path", "dofile", "loadfile", "require", "load",
                                           "do", "import", "execfile", "runfile", "include",
                                           "require_once", "include_once", NULL};
    const char *p = at;
    if (p > code && (p[-1] == '\'' || p[-1] == '"' || p[-1] == '`')) p--;
    while (p > code && (p[-1] == ' ' || p[-1] == '(')) p--;
    const char *e = p;
    while (p > code && ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z') ||
                        (p[-1] >= '0' && p[-1] <= '9') || p[-1] == '_'))
        p--;
    for (int i = 0; kLoaders[i]; i++)
        if ((size_t)(e - p) == strlen(kLoaders[i]) && !strncmp(p, kLoaders[i], (size_t)(e - p))) return 1;
    return 0;
}

static int has(const char *code, size_t len, const char *needle) {
    return memmem(code, len, needle, strlen(needle)) != NULL;
}

int lh_code_runs_stdin(const char *code, size_t len) {
    /* exec(sys.stdin.read()), eval(STDIN.read), eval <>, exec(open('/dev/fd/0').read()) */
    int runs = has(code, len, "exec(") || has(code, len, "eval(") || has(code, len, "eval ") ||
               has(code, len, "exec ");
    if (runs && (has(code, len, "stdin") || has(code, len, "STDIN") || has(code, len, "<>") ||
                 has(code, len, "/fd/0")))
        return 1;
    /* Lua: dofile() and loadfile() with no file read stdin; load(io.read(…)) */
    if (has(code, len, "dofile()") || has(code, len, "loadfile()") || has(code, len, "load(io.") ||
        has(code, len, "loadstring(io."))
        return 1;
    /* a loader given a stdin path: runpy.run_path('/dev/stdin'), dofile('/dev/stdin'),
     * do "/dev/stdin", load '/dev/stdin', require('/dev/fd/0') */
    static const char *const kPaths[] = {"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", NULL};
    for (int i = 0; kPaths[i]; i++) {
        size_t pl = strlen(kPaths[i]);
        for (const char *q = code, *end = code + len; q < end;) {
            const char *at = memmem(q, (size_t)(end - q), kPaths[i], pl);
            if (!at) break;
            if (loaderBefore(code, at)) return 1;
            q = at + pl;
        }
    }
    return 0;
}

/* Read a string literal at s ('…', "…", `…`, r"…", b'…', f"…", """…"""); returns
 * the decoded text (simple escapes) or NULL. *end is set past it; *fstring when it
 * interpolates ({…} in an f-string, ${…} in a JS template, #{…} in Ruby, "$x" in
 * perl/php double quotes). */
static char *readLiteral(lh_ctx *c, const char *s, const char *lim, const char **end,
                         int *interp) {
    *interp = 0;
    int fstr = 0;
    while (s < lim && (*s == 'r' || *s == 'b' || *s == 'u' || *s == 'f' || *s == 'R' || *s == 'F')) {
        if (*s == 'f' || *s == 'F') fstr = 1;
        s++;
    }
    if (s >= lim || (*s != '"' && *s != '\'' && *s != '`')) return NULL;
    char q = *s;
    int triple = (lim - s >= 3 && s[1] == q && s[2] == q);
    s += triple ? 3 : 1;
    /* find the closing quote first and allocate the literal's own size: code with
     * many literals would otherwise take the rest of the code once per literal */
    const char *close = s;
    while (close < lim && !(triple ? (lim - close >= 3 && close[0] == q && close[1] == q && close[2] == q)
                                   : *close == q))
        close += (*close == '\\' && close + 1 < lim) ? 2 : 1;
    if (close >= lim) return NULL;
    char *out = lh_arena_alloc(c->arena, (size_t)(close - s) + 1);
    if (!out) { c->oom = 1; return NULL; }
    size_t o = 0;
    while (s < close) {
        if (*s == '\\' && s + 1 < close) {
            char e = s[1];
            int hex = e == 'x' ? 2 : e == 'u' ? 4 : 0;   /* \x72, \u0072: ASCII decoded */
            if (e >= '0' && e <= '7' && s + 3 < lim && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
                unsigned ov = (unsigned)(e - '0') * 64 + (unsigned)(s[2] - '0') * 8 + (unsigned)(s[3] - '0');
                if (ov > 0 && ov < 0x80) { out[o++] = (char)ov; s += 4; continue; }   /* \162: octal */
            }
            unsigned v = 0;
            for (int i = 0; i < hex && s + 2 + i < lim; i++) {
                char h = s[2 + i];
                int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (d < 0) { hex = 0; break; }
                v = v * 16 + (unsigned)d;
            }
            if (hex && s + 2 + hex <= lim && v > 0 && v < 0x80) { out[o++] = (char)v; s += 2 + hex; continue; }
            out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            s += 2;
            continue;
        }
        out[o++] = *s++;
    }
    *end = close + (triple ? 3 : 1);
    out[o] = 0;
    if (fstr && strchr(out, '{')) *interp = 1;
    if (q == '`' && strstr(out, "${")) *interp = 1;
    if (q == '"' && (strstr(out, "#{") || strchr(out, '$'))) *interp = 1;
    return out;
}

/* out (cap bytes, o used) with room for need more bytes and a NUL, grown in the arena
 * (doubling); NULL when out of memory. */
static char *roomFor(lh_ctx *c, char *out, size_t *cap, size_t o, size_t need) {
    if (o + need + 1 <= *cap) return out;
    size_t ncap = *cap * 2 > o + need + 1 ? *cap * 2 : o + need + 1;
    char *n = lh_arena_grow(c->arena, out, *cap, ncap);
    if (!n) { c->oom = 1; return NULL; }
    *cap = ncap;
    return n;
}

static const char *skipSpace(const char *s, const char *lim) {
    while (s < lim && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    return s;
}

static const char *deleteTarget(lh_ctx *c, const char *s, const char *lim);

/* Collect the string literals of a list literal [ … ] as one shell-quoted command (a
 * known home expression, os.path.expanduser('~') or Path.home(), is ~). */
static char *readListCommand(lh_ctx *c, const char *s, const char *lim, int *opaque) {
    if (s >= lim || *s != '[') return NULL;
    s++;
    size_t cap = 64, o = 0;
    char *out = lh_arena_alloc(c->arena, cap);
    if (!out) { c->oom = 1; return NULL; }
    for (;;) {
        s = skipSpace(s, lim);
        if (s >= lim) return NULL;
        if (*s == ']') break;
        const char *e;
        int interp;
        char *lit = readLiteral(c, s, lim, &e, &interp);
        if (!lit) {
            const char *t = deleteTarget(c, s, lim);
            if (!t || strcmp(t, "~")) { *opaque = 1; return NULL; }
            if (o) out[o++] = ' ';
            out[o++] = '~';
            int depth = 0;   /* past the expression: to the next top-level ',' or ']' */
            for (; s < lim && (depth || (*s != ',' && *s != ']')); s++) {
                if (*s == '(' || *s == '[' || *s == '{') depth++;
                else if ((*s == ')' || *s == ']' || *s == '}') && depth) depth--;
            }
            if (s < lim && *s == ',') s++;
            continue;
        }
        if (interp) *opaque = 1;
        if (!(out = roomFor(c, out, &cap, o, strlen(lit) * 4 + 3))) return NULL;
        if (o) out[o++] = ' ';
        o += lh_unwrap_quote_into(out + o, lit);
        s = skipSpace(e, lim);
        if (s < lim && *s == ',') s++;
    }
    out[o] = 0;
    return out;
}

/* The list under key in an options object at s ({args: [...]}, {cmd: [...]}, quoted
 * key too) read as readListCommand reads one; NULL when the object has none before its
 * first closing brace (advcontent3). */
static char *optionList(lh_ctx *c, const char *s, const char *lim, const char *key, int *opaque) {
    const char *close = memchr(s, '}', (size_t)(lim - s));
    size_t kn = strlen(key);
    if (!close) close = lim;
    for (const char *p = s; (p = memmem(p, (size_t)(close - p), key, kn)) != NULL; p += kn) {
        if (p > s && ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_')) continue;
        const char *q = p + kn;
        if (q < close && (*q == '"' || *q == '\'')) q++;
        q = skipSpace(q, close);
        if (q >= close || *q != ':') continue;
        q = skipSpace(q + 1, lim);
        if (q < lim && *q == '[') return readListCommand(c, q, lim, opaque);
    }
    return NULL;
}

/* The arguments after the first of a list-form call, system("rm", "-rf", $dir) in perl
 * or ruby: each literal (or a known home expression, as ~) shell-quoted after first; a
 * computed one becomes a variable the script never sets, so it is judged as a run-time
 * value (rm -rf "$X" escalates, ls "$X" does not). s is just past the first literal. */
static char *readArgTail(lh_ctx *c, const char *first, const char *s, const char *lim) {
    /* the buffer grows with what is written (a literal quoted takes at most 4 bytes
     * per byte, plus 3; a computed argument 18): sized by the whole rest of the code,
     * code with many calls took it once per call */
    size_t cap = strlen(first) * 4 + 3 + 64, o = 0;
    char *out = lh_arena_alloc(c->arena, cap);
    if (!out) { c->oom = 1; return NULL; }
    o += lh_unwrap_quote_into(out, first);
    for (s = skipSpace(s, lim); s < lim && *s == ',';) {
        s = skipSpace(s + 1, lim);
        const char *e;
        int interp;
        char *lit = readLiteral(c, s, lim, &e, &interp);
        if (lit && !interp) {
            if (!(out = roomFor(c, out, &cap, o, strlen(lit) * 4 + 3))) return NULL;
            out[o++] = ' ';
            o += lh_unwrap_quote_into(out + o, lit);
            s = skipSpace(e, lim);
            continue;
        }
        const char *t = deleteTarget(c, s, lim);   /* $ENV{HOME}, Dir.home … */
        const char *w = t && !strcmp(t, "~") ? " ~" : " \"${LH_CODE_ARG}\"";
        if (!(out = roomFor(c, out, &cap, o, strlen(w)))) return NULL;
        memcpy(out + o, w, strlen(w));
        o += strlen(w);
        int depth = 0;   /* past this argument: to the next top-level ',' or the ')' */
        for (; s < lim && (depth || (*s != ',' && *s != ')')); s++) {
            if (*s == '(' || *s == '[' || *s == '{') depth++;
            else if ((*s == ')' || *s == ']' || *s == '}') && depth) depth--;
        }
    }
    out[o] = 0;
    return out;
}

typedef enum { CALL_SHELL, CALL_ARGV, CALL_DELETE, CALL_UNLINK, CALL_EXECL, CALL_EXECV,
               CALL_PIPE_OPEN } call_kind;

typedef struct code_call {
    const char *name;
    call_kind kind;
} code_call;

/* Calls that run a shell command or delete a tree, in the interpreters we read. */
static const code_call kCalls[] = {
    /* shell strings */
    {"os.system(", CALL_SHELL}, {"os.popen(", CALL_SHELL}, {"subprocess.run(", CALL_ARGV},
    {"subprocess.call(", CALL_ARGV}, {"subprocess.Popen(", CALL_ARGV},
    {"subprocess.check_call(", CALL_ARGV}, {"subprocess.check_output(", CALL_ARGV},
    {"subprocess.getoutput(", CALL_SHELL}, {"subprocess.getstatusoutput(", CALL_SHELL},
    {"commands.getoutput(", CALL_SHELL}, {"pty.spawn(", CALL_ARGV},
    {"os.execvp(", CALL_EXECV}, {"os.execv(", CALL_EXECV}, {"os.spawnvp(", CALL_EXECV},
    {"system(", CALL_SHELL}, {"exec(", CALL_SHELL}, {"shell_exec(", CALL_SHELL},
    {"passthru(", CALL_SHELL}, {"popen(", CALL_SHELL}, {"proc_open(", CALL_SHELL},
    {"execSync(", CALL_SHELL}, {"spawnSync(", CALL_ARGV}, {"spawn(", CALL_ARGV},
    {"execFileSync(", CALL_ARGV}, {"execFile(", CALL_ARGV}, {"IO.popen(", CALL_SHELL},
    {"Open3.capture2(", CALL_SHELL}, {"Open3.capture3(", CALL_SHELL},
    {"%x{", CALL_SHELL}, {"%x(", CALL_SHELL}, {"qx{", CALL_SHELL}, {"qx(", CALL_SHELL},
    {"Deno.Command(", CALL_ARGV}, {"Bun.spawn(", CALL_ARGV}, {"Deno.run(", CALL_ARGV},
    {"IPC::Run::run(", CALL_ARGV}, {"IPC::Run::start(", CALL_ARGV},
    /* (advcontent) the exec and spawn families: a program's path, then its argv (whose
     * first item, argv[0], is only a name); the spawn calls' first argument is a mode */
    {"os.execl(", CALL_EXECL}, {"os.execlp(", CALL_EXECL}, {"os.execle(", CALL_EXECL},
    {"os.execlpe(", CALL_EXECL}, {"os.execve(", CALL_EXECV}, {"os.execvpe(", CALL_EXECV},
    {"os.spawnl(", CALL_EXECL}, {"os.spawnlp(", CALL_EXECL}, {"os.spawnle(", CALL_EXECL},
    {"os.spawnlpe(", CALL_EXECL}, {"os.spawnv(", CALL_EXECV}, {"os.spawnve(", CALL_EXECV},
    {"os.spawnvpe(", CALL_EXECV}, {"os.posix_spawn(", CALL_EXECV}, {"os.posix_spawnp(", CALL_EXECV},
    {"create_subprocess_shell(", CALL_SHELL}, {"create_subprocess_exec(", CALL_SHELL},
    {"pcntl_exec(", CALL_ARGV}, {"readpipe(", CALL_SHELL}, {"open3(", CALL_PIPE_OPEN},
    {"open2(", CALL_PIPE_OPEN}, {"sh(", CALL_SHELL}, {"open(", CALL_PIPE_OPEN},
    {"os.execute(", CALL_SHELL}, {"io.popen(", CALL_SHELL}, {"getoutput(", CALL_SHELL},
    {"%x[", CALL_SHELL}, {"%x|", CALL_SHELL}, {"qx/", CALL_SHELL}, {"qx'", CALL_SHELL},
    /* recursive deletes */
    {"shutil.rmtree(", CALL_DELETE}, {"rmtree(", CALL_DELETE}, {"remove_tree(", CALL_DELETE},
    {"rm_rf(", CALL_DELETE}, {"rm_r(", CALL_DELETE}, {"remove_dir(", CALL_DELETE},
    {"remove_entry_secure(", CALL_DELETE}, {"rmSync(", CALL_DELETE}, {"rmdirSync(", CALL_DELETE},
    {"fs.rm(", CALL_DELETE}, {"fs.rmdir(", CALL_DELETE}, {"fs.promises.rm(", CALL_DELETE},
    {"Deno.remove(", CALL_DELETE}, {"os.removedirs(", CALL_DELETE},
    /* single files */
    {"unlink(", CALL_UNLINK}, {"unlink ", CALL_UNLINK}, {"os.remove(", CALL_UNLINK}, {"unlinkSync(", CALL_UNLINK},
    {"File.delete(", CALL_UNLINK}, {"FileUtils.rm(", CALL_UNLINK}, {"truncate(", CALL_UNLINK},
};

/* Is the match at p the start of an identifier (not the tail of a longer name)? */
static int atNameStart(const char *code, const char *p, const char *name) {
    if (name[0] == '%' || name[0] == 'q') return p == code || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_');
    if (p == code) return 1;
    char b = p[-1];
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_') return 0;
    /* "exec(" after "child_process." or "os." is fine; after another identifier's dot
     * ("re.exec(") is not a shell call */
    if (b == '.' && !strcmp(name, "exec("))
        return (p - code >= 7 && !memcmp(p - 7, "Kernel.", 7)) || (p - code >= 8 && !memcmp(p - 8, "Process.", 8));
    if (b == '.' && (!strcmp(name, "open(") || !strcmp(name, "sh("))) return p - code >= 7 && !memcmp(p - 7, "Kernel.", 7);
    return 1;
}

/* The path a delete call targets: a literal, ~, expanduser("~…"), Path.home(),
 * os.environ['HOME'] …; NULL (opaque) otherwise. */
static const char *deleteTarget(lh_ctx *c, const char *s, const char *lim) {
    s = skipSpace(s, lim);
    const char *e;
    int interp;
    char *lit = readLiteral(c, s, lim, &e, &interp);
    if (lit) return interp ? NULL : lit;
    static const char *const homes[] = {"Path.home()", "str(Path.home())", "pathlib.Path.home()", "str(pathlib.Path.home())", "os.path.expanduser(\"~\")",
                                        "os.path.expanduser('~')", "os.homedir()",
                                        "os.environ['HOME']", "os.environ[\"HOME\"]",
                                        "process.env.HOME", "ENV['HOME']", "ENV[\"HOME\"]",
                                        "$ENV{HOME}", "Dir.home", "os.getenv('HOME')",
                                        "os.getenv(\"HOME\")", "getenv('HOME')", "Deno.env.get('HOME')",
                                        "Deno.env.get(\"HOME\")", NULL};
    for (int k = 0; homes[k]; k++)
        if ((size_t)(lim - s) >= strlen(homes[k]) && !strncmp(s, homes[k], strlen(homes[k]))) return "~";
    if (!strncmp(s, "os.path.expanduser(", 19) || !strncmp(s, "File.expand_path(", 17)) {
        const char *t = strchr(s, '(') + 1;
        lit = readLiteral(c, t, lim, &e, &interp);
        if (lit && !interp) return lit;
    }
    return NULL;
}

/* Code that forks in a loop: perl's `fork while fork`, python's `while True: os.fork()`,
 * ruby's `loop { fork }`. */
static int forksForever(const char *code, size_t len) {
    const char *f = memmem(code, len, "fork", 4);
    if (!f) return 0;
    static const char *const loops[] = {"while", "loop", "for(;;)", "for (;;)", "until", NULL};
    for (int i = 0; loops[i]; i++)
        if (memmem(code, len, loops[i], strlen(loops[i]))) return 1;
    return 0;
}

/* Calls that send data over the network from inline code. */
static int sendsToNetwork(const char *code, size_t len) {
    static const char *const net[] = {
        "requests.post", "requests.put", "requests.request", "urlopen(", "urllib.request",
        "http.client", "httpx.", "socket.", "aiohttp", "fetch(", "axios", "http.request(",
        "https.request(", "Net::HTTP", "LWP::", "HTTP::Tiny", "IO::Socket", "curl_exec",
        "file_get_contents(\"http", "smtplib", "ftplib", "paramiko", "TCPSocket", NULL,
    };
    for (int i = 0; net[i]; i++)
        if (memmem(code, len, net[i], strlen(net[i]))) return 1;
    return 0;
}

/* The first string literal in code that names a secret file, or NULL. */
static const char *secretLiteral(lh_ctx *c, const char *code, size_t len) {
    const char *end = code + len;
    for (const char *p = code; p < end; p++) {
        if (*p != '"' && *p != '\'') continue;
        const char *e;
        int interp;
        char *lit = readLiteral(c, p, end, &e, &interp);
        if (!lit) continue;
        p = e - 1;
        if (!*lit || strlen(lit) > 512 || strchr(lit, ' ')) continue;
        if (lit[0] != '/' && lit[0] != '~' && lit[0] != '.' && !strchr(lit, '/')) continue;
        if (!lh_step_bytes(c, strlen(lit))) return NULL;   /* a classification per literal */
        lh_path path;
        if (lh_path_classify(c, lit, strlen(lit), &path) == LH_PATH_SECRET) return path.norm ? path.norm : lit;
    }
    return NULL;
}

/* text with each interpolation ({x}, ${x}, #{x}) made the run-time value
 * "${LH_CODE_ARG}", so the command around it is judged with a value it cannot see. */
static char *interpAsVar(lh_ctx *c, const char *text) {
    size_t n = strlen(text), o = 0;
    char *out = lh_arena_alloc(c->arena, n * 18 + 1);
    if (!out) { c->oom = 1; return (char *)text; }
    for (const char *p = text; *p;) {
        const char *b = *p == '{' ? p : ((*p == '$' || *p == '#') && p[1] == '{') ? p + 1 : NULL;
        const char *e = b ? strchr(b, '}') : NULL;
        if (e) {
            memcpy(out + o, "\"${LH_CODE_ARG}\"", 17);
            o += 17;
            p = e + 1;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = 0;
    return out;
}

/* Does the argument at s (up to its call's ')' or 256 bytes) decode or build its text from
 * codes (base64, hex, rot13, chr, a reversed string …)? In file code such a command is
 * still opaque: that is how a payload is hidden, not how a program names its files. */
static int decodedArg(const char *s, const char *end) {
    static const char *const dec[] = {"b64decode", "fromhex", "decode(", "codecs.", "zlib", "marshal", "atob(",
                                      "Buffer.from(", "unpack(", "pack(", "chr(", "fromCharCode", "rot13",
                                      "[::-1]", "reverse", "unhexlify", "decompress", "base64", NULL};
    const char *lim = end - s > 256 ? s + 256 : end;
    int depth = 1;
    const char *e = s;
    for (; e < lim && depth; e++) {
        if (*e == '(') depth++;
        else if (*e == ')') depth--;
    }
    for (int i = 0; dec[i]; i++)
        if (memmem(s, (size_t)(e - s), dec[i], strlen(dec[i]))) return 1;
    return 0;
}

/* Is text a shell alone (sh, /bin/bash, ['sh'] as one quoted word), which reads its
 * script from stdin? */
static int bareShell(const char *text) {
    char word[32];
    size_t n = 0;
    for (const char *t = text; *t && n + 1 < sizeof(word); t++)
        if (*t != '\'' && *t != '"' && *t != ' ') word[n++] = *t;
        else if (*t == ' ' && n) return 0;
    word[n] = 0;
    const char *b = strrchr(word, '/');
    return n && lh_is_shell(b ? b + 1 : word);
}

/* Past one argument of a call at s: to the next top-level ',' (returned at it) or the
 * call's ')'. */
static const char *skipArg(const char *s, const char *lim) {
    int depth = 0;
    for (; s < lim && (depth || (*s != ',' && *s != ')')); s++) {
        if (*s == '(' || *s == '[' || *s == '{') depth++;
        else if ((*s == ')' || *s == ']' || *s == '}') && depth) depth--;
        else if (*s == '\'' || *s == '"') {
            const char *q = memchr(s + 1, *s, (size_t)(lim - s - 1));
            if (q) s = q;
        }
    }
    return s;
}

/* (advcontent) The exec and spawn families and piped opens. how 0: execl-like (path,
 * argv0, args…); 1: execv-like (path, [argv0, args…]); the spawn calls' mode argument
 * first is skipped. how 2: perl and ruby open(F, '|-', cmd), open(F, '| cmd'),
 * open(F, 'cmd |'), open('|cmd'), and IPC::Open2/3's open2(…, cmd): the command is
 * judged; a pipe into a bare shell writes a script computed by the code (opaque). An
 * open without a pipe is a file open: nothing. */
static void codeExecCall(lh_ctx *c, const lh_shell_limits *lim, int k, const char *name, int how,
                         const char *s, const char *end, int filecode) {
    const char *e;
    int interp = 0, opaque = 0;
    char *text = NULL;
    if (how == 2) {
        int open3 = name[0] == 'o' && name[1] == 'p' && name[4] != '(';
        char *last = NULL;
        int dash = 0;
        for (const char *q = skipSpace(s, end); q < end && *q != ')';) {
            char *lit = readLiteral(c, q, end, &e, &interp);
            if (lit && !interp) {
                size_t n = strlen(lit);
                const char *t = lit;
                while (*t == ' ') t++;
                if (dash && !text) text = lit;
                else if ((*t == '|' && !strcmp(t + 1, "-")) || (*t == '-' && !strcmp(t + 1, "|"))) dash = 1;
                else if (*t == '|' && !text) text = (char *)t + 1;
                else if (n && lit[n - 1] == '|' && !text) { lit[n - 1] = 0; text = lit; }
                last = lit;
                q = e;
            } else {
                q = skipArg(q, end);
            }
            q = skipSpace(q, end);
            if (q < end && *q == ',') q = skipSpace(q + 1, end);
            else break;
        }
        if (open3 && !text) text = last;
        if (!text) {
            if (open3 && !filecode) lh_emit(c, k, LH_RULE(CODE_OPAQUE), name);
            return;
        }
        while (*text == ' ') text++;
        if (lh_is_shell(text) || (!strncmp(text, "/bin/", 5) && lh_is_shell(text + 5))) {
            lh_emit(c, k, LH_RULE(CODE_OPAQUE), "a pipe into a shell");
            return;
        }
        lh_unwrap_parse_child(c, lim, k, -1, text, strlen(text), LH_ORIGIN_INLINE);
        return;
    }
    if (strstr(name, "spawn") && !strstr(name, "posix_spawn")) {   /* os.P_WAIT, … */
        s = skipArg(s, end);
        if (s < end && *s == ',') s = skipSpace(s + 1, end);
    }
    char *path = readLiteral(c, s, end, &e, &interp);
    if (!path || interp) {
        if (!filecode) lh_emit(c, k, LH_RULE(CODE_OPAQUE), name);
        return;
    }
    const char *rest = skipSpace(e, end);
    if (rest >= end || *rest != ',') { lh_unwrap_parse_child(c, lim, k, -1, path, strlen(path), LH_ORIGIN_INLINE); return; }
    rest = skipSpace(rest + 1, end);
    if (how == 1) {
        if (rest < end && (*rest == '[' || *rest == '(')) {
            const char *q = skipSpace(rest + 1, end);          /* past argv[0] */
            q = skipArg(q, end);
            if (q < end && *q == ',') {
                /* the list's tail read as a list: "[" + what follows argv[0] */
                size_t n = (size_t)(end - q);
                char *list = lh_arena_alloc(c->arena, n + 1);
                if (!list) { c->oom = 1; return; }
                memcpy(list, q, n);
                list[0] = '[';
                list[n] = 0;
                char *tail = readListCommand(c, list, list + n, &opaque);
                text = tail ? lh_arena_printf(c->arena, "%s %s", path, tail) : NULL;
            } else {
                text = path;
            }
        } else {
            opaque = 1;
        }
    } else {
        const char *q = skipArg(rest, end);                   /* past argv0 */
        text = q < end && *q == ',' ? readArgTail(c, path, q, end) : path;
    }
    if (!text || opaque) {
        if (!filecode) lh_emit(c, k, LH_RULE(CODE_OPAQUE), name);
        if (!text) return;
    }
    lh_unwrap_parse_child(c, lim, k, -1, text, strlen(text), LH_ORIGIN_INLINE);
}

/* Read inline code: shell-outs become child commands; recursive deletes outside the
 * project are findings; calls whose command cannot be read are escalated. */
static void scanCodeIn(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code,
                       size_t len, int depth);

void lh_unwrap_scan_code(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code, size_t len) {
    scanCodeIn(c, lim, k, code, len, 0);
    /* code that runs its stdin (runpy.run_path('/dev/stdin'), dofile('/dev/stdin'),
     * exec(sys.stdin.read())): a literal stdin is code of the same language too */
    size_t sl = 0;
    const char *st = lh_code_runs_stdin(code, len) ? lh_stdin_text(c, k, &sl) : NULL;
    if (st && st != code) scanCodeIn(c, lim, k, st, sl, 1);
}

/* Code evaluated by eval/exec/Function/load: a literal is read as code of the same
 * language (a few levels deep); a computed string is escalated, naming it. Writes that
 * replace a file are judged as a shell redirection to it. (code_lex.c) */
static void scanCodeEffects(lh_ctx *c, const lh_shell_limits *lim, int k, lh_lang lang,
                            const char *code, size_t len, int depth) {
    lh_code_effect fx[16];
    int n = lh_code_effects(c->arena, lang, code, len, fx, 16);
    if (n < 0) { c->oom = 1; return; }
    for (int i = 0; i < n; i++) {
        if (fx[i].kind == LH_CODE_WRITE) {
            lh_unwrap_parse_child(c, lim, k, -1, fx[i].text, strlen(fx[i].text), LH_ORIGIN_INLINE);
        } else if (fx[i].kind == LH_CODE_EVAL && depth < 3) {
            scanCodeIn(c, lim, k, fx[i].text, strlen(fx[i].text), depth + 1);
        } else if (fx[i].kind == LH_CODE_EVAL_REMOTE) {
            lh_emit(c, k, LH_RULE(NET_PIPE_SHELL), fx[i].text);   /* downloaded code, evaluated */
        } else {
            const char *what = fx[i].text;
            while (*what == ' ' || *what == '\t' || *what == '\n') what++;   /* no blank after the ':' */
            lh_emit_full(c, k, LH_RULE(CODE_OPAQUE)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                         "inline code evaluates a string computed at run time: what it runs cannot be seen",
                         "run the evaluated code directly so it can be checked", what);
        }
    }
}

static void scanCodeIn(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code,
                       size_t len, int depth) {
    if (!lh_step_bytes(c, len)) return;
    lh_lang lang = lh_code_lang(cmdAt(c, k)->prog);
    int filecode = (cmdAt(c, k)->flags & LH_C_FILE_CODE) != 0;   /* computed args: not opaque … */
    const char *canon = lh_code_canon(c->arena, lang, code, len, &len);
    if (!canon) { c->oom = 1; return; }
    code = canon;
    scanCodeEffects(c, lim, k, lang, code, len, depth);
    const char *end = code + len;
    for (size_t n = 0; n < sizeof(kCalls) / sizeof(kCalls[0]); n++) {
        const code_call *call = &kCalls[n];
        size_t nl = strlen(call->name);
        /* a call's name may stand apart from its '(' (os.system  ('…')): the name is
         * matched without it and blanks skipped */
        size_t ml = nl > 1 && call->name[nl - 1] == '(' && call->name[0] != '%' && call->name[0] != 'q' ? nl - 1 : nl;
        const char *p = code;
        while ((p = memmem(p, (size_t)(end - p), call->name, ml)) != NULL) {
            const char *at = p;
            p += ml;
            if (ml < nl) {
                const char *b = p;
                while (b < end && (*b == ' ' || *b == '\t')) b++;
                if (b >= end || *b != '(') continue;
                p = b + 1;
            }
            if (!atNameStart(code, at, call->name)) continue;
            const char *arg = skipSpace(p, end);
            if (call->kind == CALL_UNLINK) {
                /* unlink("/etc/passwd"), unlink glob("/etc/x*"): deny on system, device and
                 * secret files; escalate outside the project; opaque when computed */
                if (!strncmp(arg, "glob(", 5)) arg = skipSpace(arg + 5, end);
                const char *t = deleteTarget(c, arg, end);
                if (!t) { if (!filecode || decodedArg(arg, end)) lh_emit(c, k, LH_RULE(CODE_OPAQUE), "file delete of a computed path"); continue; }
                lh_path path;
                lh_path_class cls = lh_path_classify(c, t, strlen(t), &path);
                const char *subj = path.norm ? path.norm : t;
                if (cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE || cls == LH_PATH_SECRET ||
                    cls == LH_PATH_ROOT || cls == LH_PATH_VIRTUAL)
                    lh_emit_full(c, k, LH_RULE(CODE_DELETE)->id, LH_DENY, LH_RISK_CRITICAL, LH_TIER_ANALYSIS,
                                 "inline interpreter code deletes or truncates a system or secret file",
                                 LH_RULE(CODE_DELETE)->instead, subj);
                else if (cls != LH_PATH_PROJECT && cls != LH_PATH_TEMP)
                    lh_emit_full(c, k, LH_RULE(CODE_DELETE)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                                 "inline interpreter code deletes a file outside the project",
                                 LH_RULE(CODE_DELETE)->instead, subj);
                continue;
            }
            if (call->kind == CALL_DELETE) {
                const char *t = deleteTarget(c, arg, end);
                if (!t) { if (!filecode || decodedArg(arg, end)) lh_emit(c, k, LH_RULE(CODE_OPAQUE), "recursive delete of a computed path"); continue; }
                lh_path path;
                lh_path_classify(c, t, strlen(t), &path);
                if (path.cls != LH_PATH_PROJECT && path.cls != LH_PATH_TEMP)
                    lh_emit(c, k, LH_RULE(CODE_DELETE), path.norm ? path.norm : t);
                else if (path.flags & (LH_PF_IS_CWD))
                    lh_emit_full(c, k, LH_RULE(CODE_DELETE)->id, LH_ESCALATE, LH_RISK_HIGH,
                                 LH_TIER_ANALYSIS, "inline code deletes the whole project directory",
                                 "delete specific paths inside the project", path.norm);
                continue;
            }
            if (!strcmp(call->name, "sh(") && lang != LH_LANG_RUBY) continue;   /* rake's sh */
            if (arg < end && *arg == ')') continue;   /* child.spawn(): a method with no command (advcontent3) */
            if (call->kind == CALL_EXECL || call->kind == CALL_EXECV || call->kind == CALL_PIPE_OPEN) {
                codeExecCall(c, lim, k, call->name, call->kind == CALL_EXECV ? 1 : call->kind == CALL_EXECL ? 0 : 2,
                             arg, end, filecode);
                continue;
            }
            const char *e = arg;
            int interp = 0, opaque = 0;
            char *text = NULL;
            if (call->name[0] == '%' || call->name[0] == 'q') {
                /* %x{…} / qx{…} / %x[…] / qx/…/: up to the closing bracket */
                char open = call->name[nl - 1];
                char close = open == '{' ? '}' : open == '(' ? ')' : open == '[' ? ']' : open;
                const char *q = memchr(arg, close, (size_t)(end - arg));
                if (q) text = lh_arena_strndup(c->arena, arg, (size_t)(q - arg));
                if (text && (strstr(text, "#{") || strchr(text, '$'))) interp = 1;
            } else if (*arg == '[') {
                text = readListCommand(c, arg, end, &opaque);
            } else if (*arg == '{' && call->kind == CALL_ARGV && (text = optionList(c, arg, end, "cmd", &opaque)) != NULL) {
                /* Deno.run({cmd: ['rm', '-rf', x]}) (advcontent3) */
            } else {
                text = readLiteral(c, arg, end, &e, &interp);
                const char *after = text ? skipSpace(e, end) : end;
                if (text && !interp && strstr(call->name, "popen") && bareShell(text)) {
                    /* popen("sh", "w"): the code writes the shell's script */
                    lh_emit(c, k, LH_RULE(CODE_OPAQUE), "a shell reading a script the code writes");
                    continue;
                }
                if (text && call->kind == CALL_SHELL && lang != LH_LANG_PHP && !interp &&
                    after < end && *after == ',') {
                    /* system("rm", "-rf", $dir): a list, run without a shell (php's
                     * exec(cmd, $out) is a command and its output array) */
                    text = readArgTail(c, text, e, end);
                } else if (text && call->kind == CALL_ARGV) {
                    /* spawn("rm", ["-rf", "/"]); Deno.Command("rm", {args: ["-rf", x]}) */
                    if (after < end && *after == ',') {
                        after = skipSpace(after + 1, end);
                        char *rest = NULL;
                        if (after < end && *after == '[') rest = readListCommand(c, after, end, &opaque);
                        else if (after < end && *after == '{') rest = optionList(c, after, end, "args", &opaque);
                        if (rest) text = lh_arena_printf(c->arena, "%s %s", text, rest);
                    }
                }
            }
            if (text && !interp && !opaque && *arg != '[' && call->name[0] != '%' && call->name[0] != 'q') {
                /* a literal that is only the start of the argument ('rm -rf %s' % x,
                 * ' '.join(words), "rm -rf " .. home) is a computed command */
                const char *after = skipSpace(e, end);
                if (after < end && (*after == '.' || *after == '%' || *after == '+' || *after == '*' || *after == '[')) {
                    opaque = 1;
                    /* 'rm -rf ' + home: the rest is a run-time value, judged as one */
                    if (*after == '+' || (*after == '.' && (lang == LH_LANG_PHP || lang == LH_LANG_PERL || lang == LH_LANG_LUA)))
                        text = lh_arena_printf(c->arena, "%s\"${LH_CODE_ARG}\"", text);
                }
            }
            if (!text || interp || opaque) {
                if (!filecode || decodedArg(arg, end)) lh_emit(c, k, LH_RULE(CODE_OPAQUE), call->name);   /* … unless decoded */
                if (!text) continue;
                if (interp) text = interpAsVar(c, text);   /* f"rm -rf {home}": a run-time value */
            }
            if (bareShell(text)) {   /* a shell with no script: it reads one the code writes */
                lh_emit(c, k, LH_RULE(CODE_OPAQUE), "a shell reading a script the code writes");
                continue;
            }
            lh_unwrap_parse_child(c, lim, k, -1, text, strlen(text), LH_ORIGIN_INLINE);
        }
    }
    if (forksForever(code, len)) lh_emit(c, k, LH_RULE(FORK_BOMB), "inline code forks in a loop");
    const char *indirect = lh_code_indirect_runner(code, len);   /* getattr(os, 'system') … */
    if (indirect) lh_emit(c, k, LH_RULE(CODE_OPAQUE), indirect);
    const char *secret = secretLiteral(c, code, len);
    if (secret) lh_emit(c, k, sendsToNetwork(code, len) ? LH_RULE(EXFIL) : LH_RULE(SECRET_READ), secret);
    /* Backquotes run a shell in perl, ruby and php. */
    const char *prog = cmdAt(c, k)->prog;
    if (!strncmp(prog, "perl", 4) || !strcmp(prog, "ruby") || !strcmp(prog, "php")) {
        const char *p = code;
        while ((p = memchr(p, '`', (size_t)(end - p))) != NULL) {
            const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
            if (!q) break;
            lh_unwrap_parse_child(c, lim, k, -1, p + 1, (size_t)(q - p - 1), LH_ORIGIN_INLINE);
            p = q + 1;
        }
    }
}
