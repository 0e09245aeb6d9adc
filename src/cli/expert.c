/* expert.c — `lighthouse expert llm`: the command line of the LLM expert (src/expert/,
 * docs/expert-llm.md). It reads the options, the prompt file and the API key, and runs
 * the expert until SIGTERM or SIGINT (or one escalation with --once). */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "expert/llm.h"
#include "util/io.h"

static volatile sig_atomic_t stopFlag;

static void onSignal(int sig) {
    (void)sig;
    stopFlag = 1;
}

static const char USAGE[] =
    "usage: lighthouse expert llm --provider openai|anthropic --endpoint URL --model NAME\n"
    "         [--capabilities security,database] [--prompt FILE] [--timeout S] [--stream]\n"
    "         [--api-key-file FILE] [--once] [--margin S] [--max-tokens N]\n"
    "         [--response-format json_schema|json_object|none] [--poll-wait S] [--retries N] [--url URL]\n"
    "         [--claim S]\n"
    "  An expert backed by a language model (docs/expert-llm.md). The bridge is LIGHTHOUSE_URL\n"
    "  (or --url) and the expert's token LIGHTHOUSE_TOKEN; the model's API key is read from\n"
    "  --api-key-file or LIGHTHOUSE_LLM_API_KEY. One JSON line per escalation on stdout.\n"
    "  --claim S: claim each escalation it is handed for S seconds (0 to 3600; default --timeout\n"
    "  plus 30), so a pool of experts asks its models once per expert the quorum needs; 0: off,\n"
    "  every expert is handed every escalation it may decide.\n";

static int usageError(const char *fmt, const char *arg) {
    fprintf(stderr, "lighthouse expert llm: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", USAGE);
    return 2;
}

/* Seconds (a decimal number, > 0 and at most max) as milliseconds, or -1. */
static long secondsMs(const char *s, double max) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > max) return -1;
    return (long)(v * 1000.0 + 0.5);
}

/* "a,b" → a JSON array of the names (each [a-z0-9_.-], 1..64 bytes), or NULL. */
static json_t *capabilityList(const char *s) {
    json_t *a = json_array();
    while (a && *s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n > 64) { json_decref(a); return NULL; }
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
                json_decref(a);
                return NULL;
            }
        }
        json_array_append_new(a, json_stringn(s, n));
        s += n + (s[n] == ',');
    }
    return a;
}

/* The API key from a file (its first line) or the environment; NULL when none. */
static int readKey(const char *file, char **key) {
    *key = NULL;
    if (file) {
        char err[256];
        size_t len;
        char *k = lh_read_file(file, 8192, &len, err, sizeof(err));
        if (!k) { fprintf(stderr, "lighthouse expert llm: --api-key-file: %s\n", err); return -1; }
        k[strcspn(k, "\r\n")] = 0;
        if (!k[0]) { free(k); fprintf(stderr, "lighthouse expert llm: --api-key-file %s is empty\n", file); return -1; }
        *key = k;
        return 0;
    }
    const char *e = getenv("LIGHTHOUSE_LLM_API_KEY");
    if (e && *e) *key = strdup(e);
    return 0;
}

static int runLlm(int argc, char **argv) {
    lh_expert_llm_opts o;
    memset(&o, 0, sizeof(o));
    o.timeout_ms = 60000;
    o.margin_ms = 1000;
    o.retries_5xx = 3;
    o.poll_wait_s = 30;
    o.claim_s = -1;   /* the default follows --timeout (below) */
    o.llm.max_tokens = 512;
    o.llm.format = LH_LLM_FORMAT_SCHEMA;
    const char *provider = NULL, *endpoint = NULL, *model = NULL, *caps = "", *promptFile = NULL,
               *keyFile = NULL, *url = getenv("LIGHTHOUSE_URL");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--stream")) { o.llm.stream = 1; takes = 0; }
        else if (!strcmp(a, "--once")) { o.once = 1; takes = 0; }
        else if (!v) return usageError("%s needs a value", a);
        else if (!strcmp(a, "--provider")) provider = v;
        else if (!strcmp(a, "--endpoint")) endpoint = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--capabilities")) caps = v;
        else if (!strcmp(a, "--prompt")) promptFile = v;
        else if (!strcmp(a, "--api-key-file")) keyFile = v;
        else if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--timeout")) { if ((o.timeout_ms = secondsMs(v, 600)) < 0) return usageError("--timeout %s: seconds, more than 0 and at most 600", v); }
        else if (!strcmp(a, "--margin")) { if ((o.margin_ms = secondsMs(v, 60)) < 0) return usageError("--margin %s: seconds, more than 0 and at most 60", v); }
        else if (!strcmp(a, "--poll-wait")) { long ms = secondsMs(v, 60); if (ms < 1000) return usageError("--poll-wait %s: whole seconds, 1 to 60", v); o.poll_wait_s = (int)(ms / 1000); }
        else if (!strcmp(a, "--max-tokens")) { long ms = secondsMs(v, 100000); if (ms < 1000) return usageError("--max-tokens %s: a number from 1 to 100000", v); o.llm.max_tokens = (int)(ms / 1000); }
        else if (!strcmp(a, "--claim")) { char *end; long c = strtol(v, &end, 10); if (*end || end == v || c < 0 || c > LH_EXPERT_LLM_CLAIM_MAX_S) return usageError("--claim %s: whole seconds, 0 (off) to 3600", v); o.claim_s = (int)c; }
        else if (!strcmp(a, "--retries")) { char *end; long r = strtol(v, &end, 10); if (*end || end == v || r < 0 || r > 10) return usageError("--retries %s: 0 to 10", v); o.retries_5xx = (int)r; }
        else if (!strcmp(a, "--response-format")) {
            if (!strcmp(v, "json_schema")) o.llm.format = LH_LLM_FORMAT_SCHEMA;
            else if (!strcmp(v, "json_object")) o.llm.format = LH_LLM_FORMAT_OBJECT;
            else if (!strcmp(v, "none")) o.llm.format = LH_LLM_FORMAT_NONE;
            else return usageError("--response-format %s: json_schema, json_object or none", v);
        } else return usageError("unknown option %s", a);
        i += takes;
    }
    /* A claim must outlast the work on one escalation, or a second expert is handed it
     * while the first still asks: one model request (--timeout), with room for a retry's
     * backoff and for posting the verdict. */
    if (o.claim_s < 0) {
        long c = (o.timeout_ms + 999) / 1000 + LH_EXPERT_LLM_CLAIM_EXTRA_S;
        o.claim_s = c > LH_EXPERT_LLM_CLAIM_MAX_S ? LH_EXPERT_LLM_CLAIM_MAX_S : (int)c;
    }
    if (!provider || !endpoint || !model) return usageError("%s", "--provider, --endpoint and --model are required");
    if (!strcmp(provider, "openai")) o.llm.provider = LH_LLM_OPENAI;
    else if (!strcmp(provider, "anthropic")) o.llm.provider = LH_LLM_ANTHROPIC;
    else return usageError("--provider %s: openai or anthropic", provider);
    if (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8))
        return usageError("--endpoint %s: an http:// or https:// URL", endpoint);
    if (lh_llm_url(o.llm.provider, endpoint, o.llm.url, sizeof(o.llm.url))) return usageError("--endpoint %s: too long", endpoint);
    if (strlen(model) >= sizeof(o.llm.model)) return usageError("--model %s: too long", model);
    snprintf(o.llm.model, sizeof(o.llm.model), "%s", model);
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return usageError("%s", "the bridge: set LIGHTHOUSE_URL (or --url) to its http:// or https:// URL");
    snprintf(o.bridge_url, sizeof(o.bridge_url), "%s", url);
    for (size_t l = strlen(o.bridge_url); l && o.bridge_url[l - 1] == '/';) o.bridge_url[--l] = 0;
    const char *tok = getenv("LIGHTHOUSE_TOKEN");
    if (!tok || !*tok || strlen(tok) > 4000) return usageError("%s", "set LIGHTHOUSE_TOKEN to a token of role expert");
    o.token = (char *)tok;
    if (!(o.capabilities = capabilityList(caps)))
        return usageError("--capabilities %s: names of a-z 0-9 _ . - separated by commas", caps);

    char err[256];
    int rc = 2;
    if (promptFile) {
        size_t len;
        o.prompt = lh_read_file(promptFile, LH_LLM_TEMPLATE_MAX, &len, err, sizeof(err));
        if (!o.prompt) { fprintf(stderr, "lighthouse expert llm: --prompt: %s\n", err); goto out; }
        if (strlen(o.prompt) != len) { fprintf(stderr, "lighthouse expert llm: --prompt %s holds a NUL byte\n", promptFile); goto out; }
    } else {
        o.prompt = strdup(lh_expert_llm_prompt);
    }
    if (!o.prompt) goto out;
    if (lh_llm_prompt_check(o.prompt, err, sizeof(err))) {
        fprintf(stderr, "lighthouse expert llm: --prompt %s: %s\n", promptFile ? promptFile : "(built in)", err);
        goto out;
    }
    if (readKey(keyFile, &o.llm.api_key)) goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onSignal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    o.stop = &stopFlag;
    o.llm.stop = &stopFlag;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { fprintf(stderr, "lighthouse expert llm: curl_global_init failed\n"); goto out; }
    lh_expert_llm_stats st;
    rc = lh_expert_llm_run(&o, &st);
    curl_global_cleanup();
out:
    if (o.llm.api_key) { memset(o.llm.api_key, 0, strlen(o.llm.api_key)); free(o.llm.api_key); }
    free(o.prompt);
    json_decref(o.capabilities);
    return rc;
}

int lh_cli_expert(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { fputs(USAGE, stdout); return 0; }
    if (argc >= 2 && !strcmp(argv[1], "llm")) return runLlm(argc - 1, argv + 1);
    fputs(USAGE, stderr);
    return 2;
}
