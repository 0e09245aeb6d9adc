/* mcp.c — `lighthouse mcp`: the MCP server on stdio (docs/mcp.md). Newline-delimited JSON-RPC
 * on stdin, replies on stdout (nothing else is ever written there), logs on stderr. Each
 * message is answered in turn by the MCP core (src/mcp/), whose tools call the bridge at
 * LIGHTHOUSE_URL with LIGHTHOUSE_TOKEN: the agent's own token, so the bridge applies its
 * roles, rate limits and audit as for any other call of that agent.
 *
 * A tools/call runs on a thread of its own (at most MAX_CALLS at once), so a long-poll or an
 * escalation wait does not hold the messages after it (a ping, another tool): its reply is
 * written when it is ready, under outMu, each reply one whole line. Everything else, and a
 * batch, is answered in order on the main thread. At the end of input the running calls
 * finish before the process exits. */
#include <curl/curl.h>
#include <pthread.h>
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

#define MAX_CALLS 16

static pthread_mutex_t outMu = PTHREAD_MUTEX_INITIALIZER;   /* guards stdout, running, failed */
static pthread_cond_t outCv = PTHREAD_COND_INITIALIZER;     /* running fell */
static int running;       /* tool calls on their threads */
static int failed;        /* stdout could not be written */

/* Write one reply line; under outMu. */
static void writeLineLocked(const char *s, size_t n) {
    if (failed) return;
    if (fwrite(s, 1, n, stdout) != n || fputc('\n', stdout) == EOF || fflush(stdout)) failed = 1;
}

static void writeLine(const char *s, size_t n) {
    pthread_mutex_lock(&outMu);
    writeLineLocked(s, n);
    pthread_mutex_unlock(&outMu);
}

typedef struct callJob {
    json_t *msg;
    lh_mcp_session s;     /* a copy: a single tools/call changes no session state */
    const lh_mcp_env *env;
} callJob;

static void *runCall(void *arg) {
    callJob *j = arg;
    size_t n = 0;
    char *out = lh_mcp_answer(j->msg, &j->s, j->env, &n);
    pthread_mutex_lock(&outMu);
    if (out) writeLineLocked(out, n);
    running--;
    pthread_cond_broadcast(&outCv);
    pthread_mutex_unlock(&outMu);
    free(out);
    free(j);
    return NULL;
}

/* Answer msg (consumed) on a thread of its own; inline when no thread can start. */
static void startCall(json_t *msg, const lh_mcp_session *s, const lh_mcp_env *env) {
    callJob *j = malloc(sizeof(*j));
    pthread_mutex_lock(&outMu);
    while (running >= MAX_CALLS) pthread_cond_wait(&outCv, &outMu);
    running++;
    pthread_mutex_unlock(&outMu);
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (j) { j->msg = msg; j->s = *s; j->env = env; }
    if (!j || pthread_create(&t, &at, runCall, j)) {
        if (j) { runCall(j); }
        else {
            size_t n = 0;
            lh_mcp_session copy = *s;
            char *out = lh_mcp_answer(msg, &copy, env, &n);
            pthread_mutex_lock(&outMu);
            if (out) writeLineLocked(out, n);
            running--;
            pthread_mutex_unlock(&outMu);
            free(out);
        }
    }
    pthread_attr_destroy(&at);
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
            if (m && info.tool_calls && !info.batch && s.version[0]) { startCall(m, &s, &env); continue; }
            if (m) out = lh_mcp_answer(m, &s, &env, &outlen);
        }
        if (out) writeLine(out, outlen);
        free(out);
        pthread_mutex_lock(&outMu);
        int bad = failed;
        pthread_mutex_unlock(&outMu);
        if (bad) { rc = 1; break; }
    }
    pthread_mutex_lock(&outMu);   /* the calls still running write their replies first */
    while (running > 0) pthread_cond_wait(&outCv, &outMu);
    if (failed) rc = 1;
    pthread_mutex_unlock(&outMu);
    free(line);
    curl_global_cleanup();
    return rc;
}
