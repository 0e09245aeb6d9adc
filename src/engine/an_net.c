/* an_net.c — the network and code-execution family.
 *
 * - Remote code into an interpreter: what curl/wget/nc/ssh fetch reaching a shell or
 *   interpreter (through a pipe, sh <(…), bash -c "$(…)", eval, source), or a script
 *   downloaded and run in the same command.
 * - Decoded code: base64 -d, xxd -r, hex escapes, generated code fed to a shell.
 * - Secrets: reading credentials (escalate) and sending them anywhere non-local
 *   (deny): curl -d @.env, scp ~/.ssh/id_rsa host:, cat key | nc, $(cat key) in a URL.
 * - Reverse shells; HTTP mutations of remote APIs; ssh, scp, rsync to remote hosts;
 *   tunnels. */
#include <assert.h>
#include <string.h>

#include "engine/an_common.h"

/* ------------------------------------------------------------------------------ */
/* Helpers                                                                         */
/* ------------------------------------------------------------------------------ */

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

static const char *baseName(const char *s) {
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

/* At least two \xNN, \NNN or \uNNNN escapes: a payload spelled in hex or octal. */
static int hasEscapePayload(const char *s) {
    int n = 0;
    for (const char *p = s; *p; p++) {
        if (p[0] != '\\') continue;
        if ((p[1] == 'x' || p[1] == 'u') && p[2]) n++;
        else if (p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7') n++;
        if (n >= 2) return 1;
    }
    return 0;
}

int an_is_decoder(const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "base64") || !strcmp(p, "base32") || !strcmp(p, "basenc"))
        return lh_has_opt(cmd, 'd', "--decode") || lh_has_opt(cmd, 'D', NULL);
    if (!strcmp(p, "xxd")) return lh_has_opt(cmd, 'r', "--revert");
    if (!strcmp(p, "uudecode") || !strcmp(p, "gunzip") || !strcmp(p, "zcat") || !strcmp(p, "rev"))
        return 1;
    if (!strcmp(p, "gzip") || !strcmp(p, "bzip2") || !strcmp(p, "xz") || !strcmp(p, "zstd"))
        return lh_has_opt(cmd, 'd', "--decompress");
    if (!strcmp(p, "openssl"))
        return (an_has_word(cmd, 1, "enc") || an_has_word(cmd, 1, "base64")) && an_has_word(cmd, 1, "-d");
    if (!strcmp(p, "tr"))
        return cmd->argc >= 3 && (strstr(cmd->argv[cmd->argc - 1].s, "N-ZA-M") ||
                                  strstr(cmd->argv[cmd->argc - 1].s, "n-za-m"));
    if (!strcmp(p, "echo") || !strcmp(p, "printf"))
        for (int i = 1; i < cmd->argc; i++)
            if (hasEscapePayload(cmd->argv[i].s)) return 1;
    return 0;
}

static int isEnviron(const char *norm) {
    size_t n = strlen(norm);
    return !strncmp(norm, "/proc/", 6) && n > 8 && !strcmp(norm + n - 8, "/environ");
}

/* Classify a word read as a file; report it when it is credentials. */
static void checkReadPath(an_state *s, int idx, const char *w) {
    if (!*w || !strcmp(w, "-")) return;
    lh_path p;
    lh_path_class cls = an_path(s, idx, w, &p);
    if (cls == LH_PATH_SECRET || isEnviron(p.norm)) an_net_secret_used(s, idx, p.norm);
}

/* ------------------------------------------------------------------------------ */
/* Remote code                                                                     */
/* ------------------------------------------------------------------------------ */

/* A remote-code finding when the output of command idx is run as code. */
static int checkRemoteExec(an_state *s, int idx, const char *what) {
    int j = an_flows_to_exec(s, idx);
    if (j < 0) return 0;
    lh_emit(s->c, idx, LH_RULE(NET_PIPE_SHELL), what);
    return 1;
}

/* curl -o F / wget -O F … followed by sh F, ./F, source F, python F: a download run
 * in the same command. */
static void checkDownloadExec(an_state *s, int idx, const char *file) {
    if (!file || !*file || !strcmp(file, "-")) return;
    const char *fb = baseName(file);
    if (!*fb) return;
    const lh_script *sc = s->c->script;
    for (int j = idx + 1; j < AN_HI(idx, sc->ncmds); j++) {
        const lh_cmd *o = &sc->cmds[j];
        if (o->argc == 0) continue;
        const char *p = o->prog;
        int runs = 0;
        if (an_is_shell(p) || an_is_interp(p) || !strcmp(p, "source") || !strcmp(p, ".")) {
            int k = lh_first_operand(o, 0);
            if (k > 0 && !strcmp(baseName(o->argv[k].s), fb)) runs = 1;
        } else if (strchr(o->argv[0].s, '/') && !strcmp(baseName(o->argv[0].s), fb)) {
            runs = 1;
        }
        if (runs) {
            lh_emit(s->c, idx, LH_RULE(NET_DOWNLOAD_EXEC), file);
            return;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* HTTP clients                                                                    */
/* ------------------------------------------------------------------------------ */

static const char *const kCurlLong[] = {
    "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--form",
    "--form-string", "--header", "--output", "--request", "--user", "--proxy", "--max-time",
    "--connect-timeout", "--retry", "--retry-delay", "--retry-max-time", "--cacert", "--capath",
    "--cert", "--key", "--resolve", "--url", "--json", "--upload-file", "--cookie",
    "--cookie-jar", "--referer", "--user-agent", "--write-out", "--config", "--output-dir",
    "--limit-rate", "--range", "--interface", "--dns-servers", "--socks5", "--socks5-hostname",
    "--noproxy", "--oauth2-bearer", "--variable", "--aws-sigv4", "--trace", "--trace-ascii",
    "--stderr", "--unix-socket", "--proxy-user", "--connect-to", "--cert-type", "--key-type",
    "--pass", "--ciphers", "--dump-header", "--expect100-timeout", "--keepalive-time",
    "--max-filesize", "--max-redirs", "--speed-limit", "--speed-time", "--time-cond",
    "--local-port", "--netrc-file", "--quote", "--mail-from", "--mail-rcpt", "--proto",
    "--url-query", "--create-file-mode", "--happy-eyeballs-timeout-ms", "--ftp-port", NULL,
};
#define CURL_SHORT_ARG "AbcCdDeEFHKmoPQrtTuUwxXyYz"

/* A file a curl data option uploads ("@f", "name@f", "name=@f", "name=<f"), or NULL. */
static const char *uploadedFile(const char *opt, const char *v) {
    if (!v) return NULL;
    if (!strcmp(opt, "T") || !strcmp(opt, "--upload-file")) return v;
    if (!strcmp(opt, "--data-raw")) return NULL;
    if (!strcmp(opt, "F") || !strcmp(opt, "--form")) {
        const char *eq = strchr(v, '=');
        if (eq && (eq[1] == '@' || eq[1] == '<')) {
            const char *f = eq + 2;
            size_t n = strcspn(f, ";");
            return f[n] ? NULL : f;   /* "f;type=…": keep it simple */
        }
        return NULL;
    }
    if (v[0] == '@') return v + 1;
    if (!strcmp(opt, "--data-urlencode")) {
        const char *at = strchr(v, '@');
        if (at && !strchr(v, '=')) return at + 1;
    }
    return NULL;
}

typedef struct http_req {
    const char *method;      /* explicit method, or NULL */
    int has_data;            /* a body is sent */
    int get;                 /* -G: data goes in the query */
    int head;
    const char *url;         /* first URL */
    int remote;              /* some URL is not local */
    const char *outfile;     /* -o / -O target */
    int method_put_delete;   /* an explicit method other than GET/POST */
} http_req;

static int anyArgHas(const lh_cmd *cmd, const char *needle) {
    for (int i = 1; i < cmd->argc; i++)
        if (strstr(cmd->argv[i].s, needle)) return 1;
    return 0;
}

static void noteUrl(an_state *s, int idx, http_req *h, const char *u) {
    char host[256];
    an_url_check(s->c, idx, an_expand(s, idx, u));
    if (!h->url) h->url = u;
    if (!an_is_loopback_host(an_url_host(u, host, sizeof(host)))) h->remote = 1;
}

/* curl --resolve HOST:PORT:ADDR[,ADDR…] and --connect-to HOST:PORT:HOST2:PORT2 send the
 * request to ADDR / HOST2 whatever the URL says: judge those destinations. */
static void curlPinned(an_state *s, int idx, const char *opt, const char *val) {
    const char *p = val[0] == '+' ? val + 1 : val;
    for (int k = 0; k < 2 && p; k++) {        /* skip HOST: and PORT: */
        if (*p == '[') p = strchr(p, ']');
        p = p ? strchr(p, ':') : NULL;
        if (p) p++;
    }
    if (!p || !*p) return;
    char buf[256];
    size_t n = strlen(p);
    if (n >= sizeof(buf)) return;
    memcpy(buf, p, n + 1);
    if (!strcmp(opt, "--connect-to")) {
        char *end = buf[0] == '[' ? strchr(buf, ']') : buf;
        end = end ? strchr(end, ':') : NULL;
        if (end) *end = 0;
        an_url_check(s->c, idx, buf);
        return;
    }
    for (char *a = buf; a && *a;) {           /* ADDR,ADDR… */
        char *comma = strchr(a, ',');
        if (comma) *comma = 0;
        an_url_check(s->c, idx, a);
        a = comma ? comma + 1 : NULL;
    }
}

/* curl: walk options and operands once. */
static void parseCurl(an_state *s, int idx, const lh_cmd *cmd, http_req *h) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        const char *opt = NULL, *val = NULL;
        char sopt[2] = {0, 0};
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *eq = strchr(a, '=');
            if (eq) {
                size_t n = (size_t)(eq - a);
                for (int k = 0; kCurlLong[k]; k++)
                    if (strlen(kCurlLong[k]) == n && !strncmp(a, kCurlLong[k], n)) { opt = kCurlLong[k]; val = eq + 1; }
                if (!opt) continue;
            } else {
                if (!inList(a, kCurlLong)) {
                    if (!strcmp(a, "--get")) h->get = 1;
                    if (!strcmp(a, "--head")) h->head = 1;
                    if (!strcmp(a, "--remote-name") || !strcmp(a, "--remote-name-all")) h->outfile = "";
                    continue;
                }
                opt = a;
                val = i + 1 < cmd->argc ? cmd->argv[++i].s : NULL;
            }
        } else if (a[0] == '-' && a[1] && a[1] != '-') {
            for (const char *o = a + 1; *o; o++) {
                if (*o == 'G') h->get = 1;
                if (*o == 'I') h->head = 1;
                if (*o == 'O') h->outfile = "";
                if (strchr(CURL_SHORT_ARG, *o)) {
                    sopt[0] = *o;
                    opt = sopt;
                    val = o[1] ? o + 1 : (i + 1 < cmd->argc ? cmd->argv[++i].s : NULL);
                    break;
                }
            }
            if (!opt) continue;
        } else {
            noteUrl(s, idx, h, a);
            continue;
        }
        if (!val) continue;
        if (!strcmp(opt, "--resolve") || !strcmp(opt, "--connect-to")) curlPinned(s, idx, opt, val);
        if (!strcmp(opt, "--unix-socket") || !strcmp(opt, "--abstract-unix-socket"))
            an_url_socket_check(s->c, idx, an_expand(s, idx, val));
        if (!strcmp(opt, "X") || !strcmp(opt, "--request")) h->method = val;
        else if (!strcmp(opt, "--url")) noteUrl(s, idx, h, val);
        else if (!strcmp(opt, "o") || !strcmp(opt, "--output")) h->outfile = val;
        else if (!strcmp(opt, "d") || !strncmp(opt, "--data", 6) || !strcmp(opt, "--json") ||
                 !strcmp(opt, "F") || !strcmp(opt, "--form") || !strcmp(opt, "--form-string") ||
                 !strcmp(opt, "T") || !strcmp(opt, "--upload-file")) {
            h->has_data = 1;
            if ((!strcmp(opt, "T") || !strcmp(opt, "--upload-file")) && !h->method) h->method = "PUT";
            const char *f = uploadedFile(opt, val);
            if (f && strcmp(f, "-")) {
                lh_path p;
                lh_path_class cls = an_path(s, idx, f, &p);
                if (cls == LH_PATH_SECRET || isEnviron(p.norm)) an_net_secret_used(s, idx, p.norm);
            }
        }
    }
}

/* wget: --method, --post-data/--post-file/--body-*, -O. */
static void parseWget(an_state *s, int idx, const lh_cmd *cmd, http_req *h) {
    static const char *const lo[] = {"--output-document", "--output-file", "--directory-prefix",
                                     "--user", "--password", "--header", "--user-agent",
                                     "--post-data", "--post-file", "--body-data", "--body-file",
                                     "--method", "--input-file", "--tries", "--timeout", NULL};
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        const char *val = NULL, *opt = a;
        char name[64];
        if (a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a, '=');
            if (eq) {
                size_t n = (size_t)(eq - a);
                if (n >= sizeof(name)) continue;
                memcpy(name, a, n);
                name[n] = 0;
                opt = name;
                val = eq + 1;
            } else if (inList(a, lo)) {
                val = i + 1 < cmd->argc ? cmd->argv[++i].s : NULL;
            } else continue;
        } else if (a[0] == '-' && a[1]) {
            const char *o = strchr(a + 1, 'O');
            if (o) h->outfile = o[1] ? o + 1 : (i + 1 < cmd->argc ? cmd->argv[++i].s : NULL);
            else if (a[1] == 'P') {   /* -P DIR: saved into DIR (~/.config/autostart …) */
                const char *d = a[2] ? a + 2 : (i + 1 < cmd->argc ? cmd->argv[++i].s : NULL);
                if (d) an_fs_write_target(s, idx, d, AN_W_WRITE);
            }
            continue;
        } else {
            noteUrl(s, idx, h, a);
            continue;
        }
        if (!val) continue;
        if (!strcmp(opt, "--method")) h->method = val;
        else if (!strcmp(opt, "--output-document")) h->outfile = val;
        else if (!strcmp(opt, "--directory-prefix")) an_fs_write_target(s, idx, val, AN_W_WRITE);
        else if (!strcmp(opt, "--post-data") || !strcmp(opt, "--body-data")) h->has_data = 1;
        else if (!strcmp(opt, "--post-file") || !strcmp(opt, "--body-file")) {
            h->has_data = 1;
            checkReadPath(s, idx, val);
        }
    }
    if (!h->outfile && h->url) {
        /* wget saves to the URL's last path part in the cwd */
        const char *u = strstr(h->url, "://");
        u = u ? u + 3 : h->url;
        const char *slash = strrchr(u, '/');
        if (slash && slash[1]) h->outfile = lh_arena_strndup(s->c->arena, slash + 1, strcspn(slash + 1, "?#"));
    }
}

static int isMethodWord(const char *a) {
    static const char *const m[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL};
    for (int k = 0; m[k]; k++)
        if (an_ieq(a, m[k])) return 1;
    return 0;
}

/* httpie/xh: [METHOD] URL [items]; data items make it a POST. */
static void parseHttpie(an_state *s, int idx, const lh_cmd *cmd, http_req *h) {
    static const char *const lo[] = {"--auth", "--session", "--output", "--verify", "--cert",
                                     "--cert-key", "--proxy", "--timeout", "--pretty", "--style",
                                     "--print", "--auth-type", "--default-scheme", NULL};
    int ops[32];
    int n = an_operands(cmd, 1, "aopAs", lo, ops, 32);
    int k = 0;
    if (k < n && isMethodWord(cmd->argv[ops[k]].s)) h->method = cmd->argv[ops[k++]].s;
    if (k < n) noteUrl(s, idx, h, cmd->argv[ops[k++]].s);
    for (; k < n; k++) {
        const char *it = cmd->argv[ops[k]].s;
        const char *at = strchr(it, '@');
        const char *eq = strchr(it, '=');
        const char *colon = strchr(it, ':');
        if (eq && eq[1] == '=') continue;                 /* name==value: query */
        if (colon && (!eq || colon < eq) && colon[1] != '=') continue;   /* Header:value */
        if (eq || at) h->has_data = 1;
        if (at && (at == it || at[-1] == '=' || !eq)) checkReadPath(s, idx, at + 1);
    }
    const char *o = an_opt_value(cmd, 'o', "--output");
    if (o) h->outfile = o;
}

void an_net_fetch(an_state *s, int idx, const lh_cmd *cmd) {
    http_req h = {0};
    const char *p = cmd->prog;
    if (!strcmp(p, "curl") || !strcmp(p, "curlie")) parseCurl(s, idx, cmd, &h);
    else if (!strcmp(p, "wget")) parseWget(s, idx, cmd, &h);
    else if (!strcmp(p, "http") || !strcmp(p, "https") || !strcmp(p, "xh") || !strcmp(p, "xhs"))
        parseHttpie(s, idx, cmd, &h);
    else {
        int k = lh_first_operand(cmd, 0);
        if (k > 0) noteUrl(s, idx, &h, cmd->argv[k].s);
    }
    const char *what = h.url ? h.url : p;
    h.method_put_delete = h.method && !an_ieq(h.method, "GET") && !an_ieq(h.method, "POST");
    if (checkRemoteExec(s, idx, what)) return;
    if (h.url && !strncmp(h.url, "file://", 7)) checkReadPath(s, idx, h.url + 7);
    if (!h.outfile) {
        /* curl URL > install.sh */
        const lh_cmd *orig = an_at(s, idx);
        for (int r = 0; r < orig->nredirs; r++)
            if ((orig->redirs[r].op == LH_R_OUT || orig->redirs[r].op == LH_R_CLOBBER) &&
                orig->redirs[r].fd <= 1 && orig->redirs[r].target.s)
                checkDownloadExec(s, idx, orig->redirs[r].target.s);
    }
    if (h.outfile && *h.outfile && strcmp(h.outfile, "-")) {
        an_fs_write_target(s, idx, h.outfile, AN_W_WRITE);
        checkDownloadExec(s, idx, h.outfile);
    } else if (h.outfile && !*h.outfile && h.url) {
        const char *slash = strrchr(h.url, '/');
        if (slash && slash[1]) checkDownloadExec(s, idx, slash + 1);
    }
    if (!h.remote || h.head) return;
    /* POST as a read: GraphQL queries (not mutations), search endpoints */
    if (h.url && (strstr(h.url, "/_search") || strstr(h.url, "/_msearch") || strstr(h.url, "/_count"))) return;
    if (h.url && strstr(h.url, "graphql") && !h.method_put_delete && !anyArgHas(cmd, "mutation")) return;
    const char *m = h.method;
    if (!m && h.has_data && !h.get) m = "POST";
    if (m && (an_ieq(m, "POST") || an_ieq(m, "PUT") || an_ieq(m, "PATCH") || an_ieq(m, "DELETE"))) {
        const char *subj = lh_arena_printf(s->c->arena, "%s %s", m, what);
        lh_emit(s->c, idx, LH_RULE(HTTP_MUTATION), subj ? subj : what);
    }
}

/* ------------------------------------------------------------------------------ */
/* Shells and interpreters                                                         */
/* ------------------------------------------------------------------------------ */

/* Inline code that opens a socket and hands it a shell. */
static int codeIsReverseShell(const char *code) {
    int sock = strstr(code, "socket") || strstr(code, "Socket") || strstr(code, "fsockopen") ||
               strstr(code, "net.connect") || strstr(code, "createConnection") ||
               strstr(code, "/dev/tcp/");
    if (!sock) return 0;
    return strstr(code, "/bin/sh") || strstr(code, "/bin/bash") || strstr(code, "pty.spawn") ||
           strstr(code, "dup2") || strstr(code, "\"sh\"") || strstr(code, "'sh'") ||
           strstr(code, "cmd.exe") || strstr(code, "exec(\"sh") || strstr(code, "sh -i");
}

static const char *inlineCodeOf(const lh_cmd *cmd) {
    for (int i = 1; i + 1 < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-c") || !strcmp(a, "-e") || !strcmp(a, "-E") || !strcmp(a, "-r") ||
            !strcmp(a, "--eval") || !strcmp(a, "-pe") || !strcmp(a, "-ne") || !strcmp(a, "-pie"))
            return cmd->argv[i + 1].s;
    }
    return NULL;
}

/* perl -i / -pi -e CODE FILES: the files are rewritten. */
static void checkPerlInPlace(an_state *s, int idx, const lh_cmd *cmd) {
    int inplace = 0, after_code = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        assert(a); /* lh_word.s is never NULL (shell.h) */
        if (a[0] == '-' && a[1] && a[1] != '-') {
            if (strchr(a, 'i')) inplace = 1;
            if (strchr(a, 'e') || strchr(a, 'E')) { i++; after_code = 1; }
            continue;
        }
        if (!after_code) { after_code = 1; continue; }   /* the script file */
        if (inplace) an_fs_write_target(s, idx, a, AN_W_WRITE);
    }
}

/* "cat <<EOF | sh": the here-doc given to cat is the shell's script. */
static void parseCatHeredoc(an_state *s, int idx, const lh_cmd *cmd) {
    const lh_cmd *orig = an_at(s, idx);
    if ((orig->flags & LH_C_REPLACED) || !(orig->flags & LH_C_PIPE_IN) || !an_reads_code_from_stdin(cmd)) return;
    const lh_script *sc = s->c->script;
    for (int j = idx - 1; j >= AN_LO(idx); j--) {
        const lh_cmd *up = &sc->cmds[j];
        if (up->pipeline != orig->pipeline || up->pipe_pos != orig->pipe_pos - 1 || up->parent != orig->parent)
            continue;
        if (strcmp(up->prog, "cat") || lh_first_operand(up, 0) > 0) return;
        for (int r = 0; r < up->nredirs; r++)
            if (up->redirs[r].op == LH_R_HEREDOC || up->redirs[r].op == LH_R_HERESTR) {
                an_parse_child(s, idx, up->redirs[r].target.s, up->redirs[r].target.len, LH_ORIGIN_HEREDOC);
                return;
            }
        return;
    }
}

/* python -m twine upload …: judge the module like the program of the same name. */
static void dispatchModule(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i + 1 < cmd->argc; i++) {
        if (strcmp(cmd->argv[i].s, "-m")) continue;
        lh_cmd view = *cmd;
        view.argv = cmd->argv + i + 1;
        view.argc = cmd->argc - i - 1;
        view.prog = view.argv[0].s;
        an_dispatch(s, idx, &view);
        return;
    }
}

/* sh -c SCRIPT in a command an analyzer added (docker compose exec, sudo -s <<<):
 * the unwrapper never saw it, so parse the script here. */
static void parseShellC(an_state *s, int idx, const lh_cmd *cmd) {
    if (an_at(s, idx)->flags & LH_C_REPLACED) return;
    for (int i = 1; i + 1 < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || a[1] == '-') return;
        if (strchr(a, 'c')) {
            an_parse_child(s, idx, cmd->argv[i + 1].s, cmd->argv[i + 1].len, LH_ORIGIN_SHELL_C);
            return;
        }
    }
}

void an_net_interp(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int shell = an_is_shell(p);
    if (shell && an_syntax_only(cmd)) return;   /* bash -n FILE: parses, runs nothing */
    if (shell) {
        parseCatHeredoc(s, idx, cmd);
        parseShellC(s, idx, cmd);
    } else {
        dispatchModule(s, idx, cmd);
    }
    const char *code = inlineCodeOf(cmd);
    if (code && !shell && codeIsReverseShell(code)) {
        lh_emit(s->c, idx, LH_RULE(NET_REVERSE_SHELL), p);
        return;
    }
    /* a shell whose output goes to nc/socat/telnet: the remote end drives it */
    if (shell || code) {
        int lb = 0;
        int j = an_flows_to_sender(s, idx, &lb);
        if (j >= 0) {
            const char *dp = an_at(s, j)->prog;
            if (!strcmp(dp, "nc") || !strcmp(dp, "ncat") || !strcmp(dp, "netcat") ||
                !strcmp(dp, "socat") || !strcmp(dp, "telnet")) {
                lh_emit(s->c, idx, LH_RULE(NET_REVERSE_SHELL), dp);
                return;
            }
        }
    }
    /* tr -d '#' <<< 'im#port os…' | python3 - (or runpy of /dev/stdin): the code is text
     * made at run time from a literal, as `tr … | sh` (feeds.c) */
    const char *by = NULL;
    if (!shell && (an_at(s, idx)->flags & LH_C_PIPE_IN) && an_reads_code_from_stdin(cmd) &&
        (by = lh_feed_transformed_by(s->c, idx))) {
        lh_emit(s->c, idx, LH_RULE(EXEC_DECODED), by);
        return;
    }
    /* generated code fed to a shell: python -c "print(…)" | sh */
    if (!shell && code && an_flows_to_exec(s, idx) >= 0) {
        lh_emit(s->c, idx, LH_RULE(EXEC_DECODED), p);
        return;
    }
    if (!strncmp(p, "perl", 4)) checkPerlInPlace(s, idx, cmd);
    if (!code) {
        int k = lh_first_operand(cmd, 0);
        if (k > 0 && an_is_deploy_name(cmd->argv[k].s) && !an_is_interp(cmd->argv[k].s))
            lh_emit(s->c, idx, LH_RULE(DEPLOY_RUN), cmd->argv[k].s);
    }
    if (!shell) {
        an_db_framework(s, idx, cmd);   /* python manage.py flush, php artisan migrate:fresh */
        return;
    }
    /* sudo bash with nothing to run: an interactive root shell */
    const lh_cmd *orig = an_at(s, idx);
    if ((orig->flags & LH_C_SUDO) && !(orig->flags & (LH_C_REPLACED | LH_C_PIPE_IN)) &&
        lh_first_operand(cmd, 0) < 0 && !code && orig->nredirs == 0)
        lh_emit(s->c, idx, LH_RULE(PRIV_ROOT_SHELL), p);
}

/* ------------------------------------------------------------------------------ */
/* Readers and decoders                                                            */
/* ------------------------------------------------------------------------------ */

/* A variable name that holds a credential (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN…). */
static int secretVarName(const char *n, size_t len) {
    char buf[64];
    if (len == 0 || len >= sizeof(buf)) return 0;
    for (size_t i = 0; i < len; i++) buf[i] = (n[i] >= 'a' && n[i] <= 'z') ? (char)(n[i] - 32) : n[i];
    buf[len] = 0;
    return strstr(buf, "SECRET") || strstr(buf, "TOKEN") || strstr(buf, "PASSWORD") || strstr(buf, "PASSWD") ||
           strstr(buf, "CREDENTIAL") || strstr(buf, "PRIVATE_KEY") || strstr(buf, "API_KEY") ||
           strstr(buf, "ACCESS_KEY") || (len > 4 && !strcmp(buf + len - 4, "_KEY")) ||
           (len > 5 && !strcmp(buf + len - 5, "_PASS"));
}

/* The first $NAME / ${NAME} in w that names a credential, or NULL. */
static const char *secretVarIn(an_state *s, const char *w) {
    for (const char *p = strchr(w, '$'); p; p = strchr(p + 1, '$')) {
        const char *n = p + 1 + (p[1] == '{');
        size_t l = 0;
        while ((n[l] >= 'A' && n[l] <= 'Z') || (n[l] >= 'a' && n[l] <= 'z') || (n[l] >= '0' && n[l] <= '9') || n[l] == '_') l++;
        if (secretVarName(n, l)) return lh_arena_strndup(s->c->arena, p, l + (size_t)(n - p));
    }
    return NULL;
}

/* Printing a secret variable shows it in the transcript; piping it into another
 * program (docker login --password-stdin) uses it without showing it. */
static void checkSecretPrint(an_state *s, int idx, const char *subject) {
    const lh_cmd *orig = an_at(s, idx);
    int lb = 0;
    if (an_flows_to_sender(s, idx, &lb) >= 0 && !lb) { lh_emit(s->c, idx, LH_RULE(EXFIL), subject); return; }
    if (orig->flags & LH_C_PIPE_OUT) return;
    if (orig->origin == LH_ORIGIN_CMDSUBST || orig->origin == LH_ORIGIN_PROCSUBST_IN) return;
    for (int r = 0; r < orig->nredirs; r++)
        if (lh_redir_writes_file(&orig->redirs[r])) return;
    lh_emit(s->c, idx, LH_RULE(SECRET_READ), subject);
}

void an_net_decoder(an_state *s, int idx, const lh_cmd *cmd) {
    if (an_is_decoder(cmd) && an_flows_to_exec(s, idx) >= 0) {
        lh_emit(s->c, idx, LH_RULE(EXEC_DECODED), cmd->prog);
        return;
    }
    const char *p = cmd->prog;
    if (!strcmp(p, "echo") || !strcmp(p, "printf")) {
        for (int i = 1; i < cmd->argc; i++) {
            if (!(cmd->argv[i].flags & LH_W_VAR)) continue;
            const char *v = secretVarIn(s, cmd->argv[i].s);
            if (v) { checkSecretPrint(s, idx, v); return; }
        }
        return;
    }
    int ops[32];
    int n = an_operands(cmd, 1, "w", (const char *const[]){"--wrap", NULL}, ops, 32);
    for (int k = 0; k < n; k++) checkReadPath(s, idx, cmd->argv[ops[k]].s);
}

/* Programs that print files: which operands are files. */
void an_net_reader(an_state *s, int idx, const lh_cmd *cmd) {
    if (an_is_decoder(cmd) && an_flows_to_exec(s, idx) >= 0) {
        lh_emit(s->c, idx, LH_RULE(EXEC_DECODED), cmd->prog);
        return;
    }
    const char *p = cmd->prog;
    const char *sa = "";
    int skip_first = 0;
    if (!strcmp(p, "grep") || !strcmp(p, "egrep") || !strcmp(p, "fgrep") || !strcmp(p, "rg") ||
        !strcmp(p, "ag") || !strcmp(p, "ack")) {
        sa = "efmABCdDgt";
        skip_first = !lh_has_opt(cmd, 'e', "--regexp") && !lh_has_opt(cmd, 'f', "--file");
        /* a count, file names or an exit status print no line of the file */
        if (lh_has_opt(cmd, 'c', "--count") || lh_has_opt(cmd, 'l', "--files-with-matches") ||
            lh_has_opt(cmd, 'L', "--files-without-match") || lh_has_opt(cmd, 'q', "--quiet") ||
            lh_has_opt(cmd, 0, "--silent"))
            return;
    } else if (!strcmp(p, "awk") || !strcmp(p, "gawk") || !strcmp(p, "mawk")) {
        sa = "Ffv";
        skip_first = !lh_has_opt(cmd, 'f', NULL);
    } else if (!strcmp(p, "jq") || !strcmp(p, "yq")) {
        sa = "f";
        skip_first = 1;
    } else if (!strcmp(p, "head") || !strcmp(p, "tail")) {
        sa = "ncs";
    } else if (!strcmp(p, "cut")) {
        sa = "dfcb";
    } else if (!strcmp(p, "sort")) {
        sa = "ktoST";
        const char *o = an_opt_value(cmd, 'o', "--output");
        if (o) an_fs_write_target(s, idx, o, AN_W_WRITE);
    } else if (!strcmp(p, "gpg")) {
        if (an_has_word(cmd, 1, "--export-secret-keys") || an_has_word(cmd, 1, "--export-secret-subkeys"))
            an_net_secret_used(s, idx, "gpg secret keys");
        else if ((lh_has_opt(cmd, 'd', "--decrypt") && !lh_has_opt(cmd, 'o', "--output")) ||
                 an_has_word(cmd, 1, "--decrypt"))
            an_net_secret_used(s, idx, "gpg --decrypt");
        return;
    } else if (!strcmp(p, "sops")) {
        /* sops -d prints the secrets; sops -d -i / --output writes them to a file */
        if ((lh_has_opt(cmd, 'd', "--decrypt") || an_has_word(cmd, 1, "decrypt")) &&
            !lh_has_opt(cmd, 'i', "--in-place") && !an_opt_value(cmd, 0, "--output"))
            an_net_secret_used(s, idx, "sops --decrypt");
        return;
    } else if (!strcmp(p, "ansible-vault")) {
        if (an_has_word(cmd, 1, "view") || (an_has_word(cmd, 1, "decrypt") && an_has_word(cmd, 1, "--output=-")))
            an_net_secret_used(s, idx, "ansible-vault view");
        return;
    } else if (!strcmp(p, "openssl")) {
        const char *in = an_opt_value(cmd, 0, "-in");
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-in")) in = cmd->argv[i + 1].s;
        if (in && !an_has_word(cmd, 1, "-pubout") && !an_has_word(cmd, 1, "x509")) checkReadPath(s, idx, in);
        return;
    } else if (!strcmp(p, "zip")) {
        skip_first = 1;
        sa = "bnPtx";
    } else if (!strcmp(p, "od") || !strcmp(p, "hexdump") || !strcmp(p, "hd") || !strcmp(p, "xxd")) {
        sa = "AjNtwsnlcgo";
    }
    int ops[32];
    int n = an_operands(cmd, 1, sa, NULL, ops, 32);
    for (int k = skip_first ? 1 : 0; k < n; k++) checkReadPath(s, idx, cmd->argv[ops[k]].s);
}

/* `< file` on any command reads it. */
void an_net_redir_inputs(an_state *s, int idx, const lh_cmd *cmd) {
    for (int r = 0; r < cmd->nredirs; r++) {
        const lh_redir *rd = &cmd->redirs[r];
        if (rd->op != LH_R_IN || !rd->target.s || !*rd->target.s) continue;
        const char *p = cmd->prog;
        if (!strcmp(p, "source") || !strcmp(p, ".") || !strcmp(p, "read")) continue;
        /* cat < /dev/tcp/HOST/PORT | sh: what the socket sends is run */
        if ((!strncmp(rd->target.s, "/dev/tcp/", 9) || !strncmp(rd->target.s, "/dev/udp/", 9)) &&
            checkRemoteExec(s, idx, rd->target.s))
            return;
        checkReadPath(s, idx, rd->target.s);
    }
}

/* env / printenv with no command prints every variable, tokens included. */
void an_net_envdump(an_state *s, int idx, const lh_cmd *cmd) {
    int lb = 0;
    if (an_flows_to_sender(s, idx, &lb) >= 0 && !lb) { lh_emit(s->c, idx, LH_RULE(EXFIL), "environment variables"); return; }
    int ops[8];
    int n = an_operands(cmd, 1, "", NULL, ops, 8);
    for (int k = 0; k < n; k++) {
        const char *v = cmd->argv[ops[k]].s;
        if (secretVarName(v, strlen(v))) { checkSecretPrint(s, idx, v); return; }
    }
    /* env | grep -i token */
    const lh_script *sc = s->c->script;
    const lh_cmd *orig = an_at(s, idx);
    if (n == 0 && (orig->flags & LH_C_PIPE_OUT))
        for (int j = idx + 1; j < AN_HI(idx, sc->ncmds); j++) {
            const lh_cmd *g = &sc->cmds[j];
            if (g->pipeline != orig->pipeline || g->pipe_pos != orig->pipe_pos + 1 || g->parent != orig->parent) continue;
            if (strcmp(g->prog, "grep") && strcmp(g->prog, "rg") && strcmp(g->prog, "egrep")) break;
            for (int i = 1; i < g->argc; i++) {
                const char *a = g->argv[i].s;
                if (a[0] != '-' && (an_istr(a, "secret") || an_istr(a, "token") || an_istr(a, "pass") ||
                                    an_istr(a, "key") || an_istr(a, "aws") || an_istr(a, "cred"))) {
                    lh_emit(s->c, idx, LH_RULE(SECRET_READ), "environment variables");
                    return;
                }
            }
            break;
        }
}

/* vault's flags are Go flags: -name or --name, and those that take a value hide the
 * subcommand (`vault -namespace ops kv destroy …`) unless written -name=value. */
static int vaultOperands(const lh_cmd *cmd, int *idx, int max) {
    static const char *const with_value[] = {
        "namespace", "ns", "address", "agent-address", "ca-cert", "ca-path", "client-cert",
        "client-key", "tls-server-name", "wrap-ttl", "mfa", "policy-override", "header",
        "format", "field", "mount", "output-policy", "log-level", NULL};
    int n = 0;
    for (int i = 1; i < cmd->argc && n < max; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || a[1] == 0) { idx[n++] = i; continue; }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        if (strchr(name, '=')) continue;
        for (int k = 0; with_value[k]; k++)
            if (!strcmp(name, with_value[k])) { i++; break; }
    }
    return n;
}

/* vault, op, pass, gopass, security: secret stores. */
void an_net_secret_tool(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int ops[8];
    int n = !strcmp(p, "vault") ? vaultOperands(cmd, ops, 8) : an_operands(cmd, 1, "", NULL, ops, 8);
    const char *v1 = n > 0 ? cmd->argv[ops[0]].s : "";
    const char *v2 = n > 1 ? cmd->argv[ops[1]].s : "";
    int reads = 0, changes = 0;
    if (!strcmp(p, "vault")) {
        reads = !strcmp(v1, "read") || (!strcmp(v1, "kv") && !strcmp(v2, "get"));
        changes = !strcmp(v1, "write") || !strcmp(v1, "delete") ||
                  (!strcmp(v1, "kv") && (!strcmp(v2, "put") || !strcmp(v2, "delete") || !strcmp(v2, "destroy") ||
                                         !strcmp(v2, "patch") ||
                                         (!strcmp(v2, "metadata") && n > 2 && strcmp(cmd->argv[ops[2]].s, "get")))) ||
                  (!strcmp(v1, "secrets") && (!strcmp(v2, "disable") || !strcmp(v2, "enable")));
    } else if (!strcmp(p, "op")) {
        reads = !strcmp(v1, "read") || !strcmp(v1, "inject") ||
                ((!strcmp(v1, "item") || !strcmp(v1, "document")) && !strcmp(v2, "get"));
        changes = (!strcmp(v1, "item") || !strcmp(v1, "document") || !strcmp(v1, "vault")) &&
                  (!strcmp(v2, "delete") || !strcmp(v2, "edit"));
    } else if (!strcmp(p, "pass") || !strcmp(p, "gopass")) {
        reads = n == 0 ? 0 : (!strcmp(v1, "show") || !strcmp(v1, "cat") ||
                              (strcmp(v1, "ls") && strcmp(v1, "list") && strcmp(v1, "find") &&
                               strcmp(v1, "insert") && strcmp(v1, "generate") && strcmp(v1, "rm") &&
                               strcmp(v1, "edit") && strcmp(v1, "init") && strcmp(v1, "git")));
        changes = !strcmp(v1, "rm") || !strcmp(v1, "insert") || !strcmp(v1, "generate") || !strcmp(v1, "edit");
    } else if (!strcmp(p, "security")) {
        reads = !strcmp(v1, "dump-keychain") ||
                ((!strncmp(v1, "find-", 5)) && (lh_has_opt(cmd, 'w', NULL) || lh_has_opt(cmd, 'g', NULL)));
        changes = !strncmp(v1, "delete-", 7);
    }
    if (reads) an_net_secret_used(s, idx, p);
    else if (changes) lh_emit(s->c, idx, LH_RULE(CLOUD_CHANGE), p);
}

/* ------------------------------------------------------------------------------ */
/* Raw sockets, ssh, copies, tunnels                                               */
/* ------------------------------------------------------------------------------ */

void an_net_nc(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "socat")) {
        int exec = 0, net = 0;
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (a[0] == '-' && a[1] != 0) continue;
            if (an_istarts(a, "EXEC:") || an_istarts(a, "SYSTEM:")) exec = 1;
            if (an_istarts(a, "TCP") || an_istarts(a, "UDP") || an_istarts(a, "SSL") ||
                an_istarts(a, "OPENSSL") || an_istarts(a, "SCTP") || an_istarts(a, "SOCKS"))
                net = 1;
            if (an_istarts(a, "FILE:") || an_istarts(a, "OPEN:") || an_istarts(a, "GOPEN:")) {
                const char *f = strchr(a, ':') + 1;
                size_t n = strcspn(f, ",");
                char *path = lh_arena_strndup(s->c->arena, f, n);
                if (path) {
                    lh_path pp;
                    if (an_path(s, idx, path, &pp) == LH_PATH_SECRET) {
                        for (int k = 1; k < cmd->argc; k++)
                            if (an_istarts(cmd->argv[k].s, "TCP")) { lh_emit(s->c, idx, LH_RULE(EXFIL), pp.norm); return; }
                    }
                }
            }
        }
        if (exec && net) { lh_emit(s->c, idx, LH_RULE(NET_REVERSE_SHELL), "socat EXEC over the network"); return; }
    } else {
        const char *e = an_opt_value(cmd, 'e', "--exec");
        if (!e) e = an_opt_value(cmd, 'c', "--sh-exec");
        if (!e) e = an_opt_value(cmd, 0, "--lua-exec");
        if (e) {   /* nc -e PROG: whoever connects drives PROG */
            lh_emit(s->c, idx, LH_RULE(NET_REVERSE_SHELL), e);
            return;
        }
        int ops[2];   /* nc [options] HOST PORT: the destination */
        if (an_operands(cmd, 1, "ceIiMOpPqsTVwxX", NULL, ops, 2) == 2 && !lh_has_opt(cmd, 'l', NULL))
            an_url_check(s->c, idx, an_expand(s, idx, cmd->argv[ops[0]].s));
    }
    checkRemoteExec(s, idx, p);
}

/* Hosts where ssh only authenticates to a git forge. */
static int isForgeHost(const char *h) {
    static const char *const forges[] = {"github.com", "gitlab.com", "bitbucket.org", "ssh.dev.azure.com",
                                         "vs-ssh.visualstudio.com", "codeberg.org", "git.sr.ht",
                                         "source.developer.google.com", "ssh.github.com", NULL};
    return inList(h, forges);
}

void an_net_ssh(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "ssh")) {
        if (lh_has_opt(cmd, 'V', NULL) || lh_has_opt(cmd, 'G', NULL) || lh_has_opt(cmd, 'Q', NULL)) return;
        int ops[4];
        int n = an_operands(cmd, 1, "BbcDEeFIiJLlmOoPpQRSWw", NULL, ops, 4);
        if (n == 0) return;
        const char *target = cmd->argv[ops[0]].s;
        char host[256];
        const char *h = strchr(target, '@') ? strchr(target, '@') + 1 : target;
        if (!strncmp(target, "ssh://", 6)) h = an_url_host(target, host, sizeof(host));
        if (isForgeHost(h) && n == 1) return;
        if (checkRemoteExec(s, idx, target)) return;
        if (an_is_loopback_host(h) && n == 1) return;
        if (lh_has_opt(cmd, 'L', NULL) || lh_has_opt(cmd, 'R', NULL) || lh_has_opt(cmd, 'D', NULL) ||
            lh_has_opt(cmd, 'w', NULL)) {
            lh_emit(s->c, idx, LH_RULE(NET_TUNNEL), target);
            if (n == 1) return;
        }
        lh_emit(s->c, idx, LH_RULE(SSH_REMOTE), target);
        return;
    }
    int k = lh_first_operand(cmd, 0);
    if (k > 0) lh_emit(s->c, idx, LH_RULE(SSH_REMOTE), cmd->argv[k].s);
}

/* host:path, user@host:path, rsync://…, host::module — not ./a:b or /x:y. */
static int isRemoteSpec(const char *a) {
    if (strstr(a, "://")) return strncmp(a, "file://", 7) != 0;
    const char *colon = strchr(a, ':');
    if (!colon || colon == a) return 0;
    for (const char *q = a; q < colon; q++)
        if (*q == '/') return 0;
    return 1;
}

void an_net_scp(an_state *s, int idx, const lh_cmd *cmd) {
    int rsync = !strcmp(cmd->prog, "rsync");
    static const char *const rlo[] = {"--rsh", "--exclude", "--include", "--filter", "--files-from",
                                      "--exclude-from", "--include-from", "--chmod", "--chown",
                                      "--port", "--password-file", "--log-file", "--partial-dir",
                                      "--temp-dir", "--compare-dest", "--copy-dest", "--link-dest",
                                      "--backup-dir", "--suffix", "--max-size", "--min-size",
                                      "--timeout", "--bwlimit", "--info", "--debug", "--out-format",
                                      "--usermap", "--groupmap", "--remote-option", NULL};
    int ops[64];
    int n = rsync ? an_operands(cmd, 1, "eBfMT", rlo, ops, 64) : an_operands(cmd, 1, "cFiJlOoPS", NULL, ops, 64);
    if (n < 2) return;
    const char *dest = cmd->argv[ops[n - 1]].s;
    if (isRemoteSpec(dest)) {
        for (int k = 0; k < n - 1; k++) {
            const char *src = cmd->argv[ops[k]].s;
            if (isRemoteSpec(src)) continue;
            lh_path p;
            lh_path_class cls = an_path(s, idx, src, &p);
            if (cls == LH_PATH_SECRET || (p.flags & LH_PF_IS_HOME)) {
                lh_emit(s->c, idx, LH_RULE(EXFIL), p.norm);
                return;
            }
        }
        lh_emit(s->c, idx, LH_RULE(NET_REMOTE_COPY), dest);
        return;
    }
    /* to a local destination: a write there; rsync --delete also deletes there */
    for (int k = 0; k < n - 1; k++) {
        const char *src = cmd->argv[ops[k]].s;
        if (isRemoteSpec(src)) continue;
        lh_path p;
        if (an_path(s, idx, src, &p) == LH_PATH_SECRET && !(p.flags & LH_PF_IN_PROJECT))
            an_net_secret_used(s, idx, p.norm);
    }
    int del = 0;
    for (int i = 1; i < cmd->argc; i++)
        if (!strncmp(cmd->argv[i].s, "--delete", 8) || !strcmp(cmd->argv[i].s, "--remove-source-files")) del = 1;
    if (rsync && del) {
        lh_path p;
        lh_path_class cls = an_path(s, idx, dest, &p);
        if (cls == LH_PATH_ROOT || cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE ||
            cls == LH_PATH_SECRET || (p.flags & (LH_PF_IS_HOME | LH_PF_IS_CWD))) {
            an_fs_delete_target(s, idx, dest, 1, 1, 0);
            return;
        }
    }
    an_fs_write_target(s, idx, dest, AN_W_WRITE);
}

void an_net_tunnel(an_state *s, int idx, const lh_cmd *cmd) {
    int k = lh_first_operand(cmd, 0);
    const char *v = k > 0 ? cmd->argv[k].s : "";
    const char *p = cmd->prog;
    if (!strcmp(p, "ngrok") && strcmp(v, "http") && strcmp(v, "tcp") && strcmp(v, "tls") &&
        strcmp(v, "start") && strcmp(v, "tunnel"))
        return;
    if (!strcmp(p, "cloudflared") && (strcmp(v, "tunnel") || an_has_word(cmd, k + 1, "list") ||
                                      an_has_word(cmd, k + 1, "info")))
        return;
    lh_emit(s->c, idx, LH_RULE(NET_TUNNEL), p);
}
