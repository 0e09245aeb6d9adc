/* mcp.c — `lighthouse mcp`: the MCP server on stdio (docs/mcp.md). Newline-delimited JSON-RPC
 * on stdin, replies on stdout (nothing else is ever written there), logs on stderr. Each
 * message is answered in turn by the MCP core (src/mcp/), whose tools call the bridge at
 * LIGHTHOUSE_URL with LIGHTHOUSE_TOKEN: the agent's own token, so the bridge applies its
 * roles, rate limits and audit as for any other call of that agent. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mcp/mcp.h"

static int usage(FILE *f, int rc) {
    fprintf(f, "usage: lighthouse mcp [--url URL] [--token TOKEN]\n"
               "  The MCP server on stdio (newline-delimited JSON-RPC). Its tools call the bridge at --url\n"
               "  (default $LIGHTHOUSE_URL) with --token (default $LIGHTHOUSE_TOKEN). See docs/mcp.md.\n");
    return rc;
}

/* Read one line of at most cap-1 bytes into buf (without its newline). Returns its length;
 * -1 at the end of input; -2 when the line was longer (it is read to its end and dropped). */
static long readLine(FILE *in, char *buf, size_t cap) {
    size_t n = 0;
    int c, over = 0;
    while ((c = getc_unlocked(in)) != EOF && c != '\n') {
        if (n + 1 < cap) buf[n++] = (char)c;
        else over = 1;
    }
    if (c == EOF && n == 0 && !over) return -1;
    buf[n] = 0;
    return over ? -2 : (long)n;
}

static int writeLine(const char *s, size_t n) {
    if (fwrite(s, 1, n, stdout) != n || fputc('\n', stdout) == EOF || fflush(stdout)) return -1;
    return 0;
}

static int blank(const char *s) { return s[strspn(s, " \t\r")] == 0; }

int lh_cli_mcp(int argc, char **argv) {
    const char *url = getenv("LIGHTHOUSE_URL"), *token = getenv("LIGHTHOUSE_TOKEN");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout, 0);
        if (!strcmp(argv[i], "--url") && i + 1 < argc) url = argv[++i];
        else if (!strcmp(argv[i], "--token") && i + 1 < argc) token = argv[++i];
        else { fprintf(stderr, "lighthouse mcp: unknown argument %s\n", argv[i]); return usage(stderr, 2); }
    }
    if (!url || !*url) {
        fprintf(stderr, "lighthouse mcp: set LIGHTHOUSE_URL (or --url) to the bridge, e.g. http://127.0.0.1:8765\n");
        return 2;
    }
    static lh_mcp_client cl;
    if (strlen(url) >= sizeof(cl.url) || (token && strlen(token) >= sizeof(cl.token))) {
        fprintf(stderr, "lighthouse mcp: the URL or the token is too long\n");
        return 2;
    }
    if (token && token[strcspn(token, "\r\n")]) {
        fprintf(stderr, "lighthouse mcp: the token holds a line break\n");
        return 2;
    }
    snprintf(cl.url, sizeof(cl.url), "%s", url);
    snprintf(cl.token, sizeof(cl.token), "%s", token ? token : "");
    if (!cl.token[0]) fprintf(stderr, "lighthouse mcp: no LIGHTHOUSE_TOKEN: the bridge will refuse the tools (401)\n");
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "lighthouse mcp: curl_global_init failed\n");
        return 1;
    }
    char cwd[4096];
    lh_mcp_env env = {.call = lh_mcp_client_call, .ctx = &cl, .default_cwd = getcwd(cwd, sizeof(cwd)) ? cwd : NULL};
    lh_mcp_session s;
    memset(&s, 0, sizeof(s));
    size_t cap = LH_MCP_MAX_MESSAGE + 1;
    char *line = malloc(cap);
    if (!line) { fprintf(stderr, "lighthouse mcp: out of memory\n"); return 1; }
    fprintf(stderr, "lighthouse mcp: serving MCP on stdio; tools call %s\n", cl.url);
    int rc = 0;
    for (;;) {
        long n = readLine(stdin, line, cap);
        if (n == -1) break;
        char *out = NULL;
        size_t outlen = 0;
        if (n == -2) {
            char msg[96];
            snprintf(msg, sizeof(msg), "Parse error: a message is at most %u bytes", LH_MCP_MAX_MESSAGE);
            out = lh_mcp_error_reply(LH_RPC_PARSE_ERROR, msg, &outlen);
        } else {
            if (blank(line)) continue;
            lh_mcp_info info;
            json_t *m = lh_mcp_parse(line, (size_t)n, &info, &out, &outlen);
            if (m) out = lh_mcp_answer(m, &s, &env, &outlen);
        }
        if (out && writeLine(out, outlen)) { free(out); rc = 1; break; }
        free(out);
    }
    free(line);
    curl_global_cleanup();
    return rc;
}
