/* review.c — `lighthouse review`: a person reviews pending escalations from a terminal
 * (docs/review.md).
 *
 *   review list [--json] [--wait S]      the pending escalations this token may decide
 *   review show ID [--json]              one escalation with its whole context
 *   review allow|deny ID --reason TEXT   a verdict
 *   review                               on a terminal: one escalation after another,
 *                                        a(llow) / d(eny) / s(kip) / q(uit)
 *
 * It is a client of the bridge's API (contract: GET /v1/escalations, GET and POST
 * /v1/escalations/{id}[/verdict]) at LIGHTHOUSE_URL with LIGHTHOUSE_TOKEN (expert or
 * admin), over libcurl like `lighthouse mount`. Plain line I/O, so it works over ssh.
 * Every string from the bridge is printed with its control characters escaped: a command
 * under review must not be able to move the cursor or retitle the reviewer's terminal.
 *
 * Exit codes (DESIGN.md): 0 done; 1 the bridge refused (401, 403, 404, 409, 5xx) or could
 * not be reached; 2 bad usage or a request the bridge called bad (400). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *usageText =
    "usage: lighthouse review list [--json] [--wait SECONDS]   the pending escalations you may decide\n"
    "       lighthouse review show ID [--json]                 one escalation and its context\n"
    "       lighthouse review allow ID --reason TEXT [--json]  approve it\n"
    "       lighthouse review deny ID --reason TEXT [--json]   deny it\n"
    "       lighthouse review                                  on a terminal: review one after another\n"
    "Before any of them, --capabilities LIST (comma-separated, e.g. security,database) registers\n"
    "you as an expert with those capabilities (POST /v1/experts/register); an expert sees and\n"
    "decides only the escalations whose capabilities it has. The interactive mode keeps the\n"
    "registration alive.\n"
    "The bridge is LIGHTHOUSE_URL (default http://127.0.0.1:8765, or unix:/path) and the token\n"
    "LIGHTHOUSE_TOKEN (an expert or admin token). Exit 0 done, 1 the bridge refused or is\n"
    "unreachable, 2 bad usage. See docs/review.md.\n";

#define MAX_REPLY (16u << 20)
#define REASON_MAX 2000

/* ------------------------------------------------------------------------------ */
/* HTTP                                                                             */
/* ------------------------------------------------------------------------------ */

typedef struct client {
    char base[1024];       /* http://host:port[/prefix], no trailing slash */
    char unix_path[512];   /* set for unix:/path */
    char auth[4200];
} client;

typedef struct reply {
    long status;
    char *body;            /* malloc'd, NUL-terminated */
    size_t len;
    int over;
} reply;

static size_t onData(char *p, size_t size, size_t n, void *ud) {
    reply *r = ud;
    size_t k = size * n;
    if (r->len + k + 1 > MAX_REPLY) { r->over = 1; return 0; }
    char *q = realloc(r->body, r->len + k + 1);
    if (!q) return 0;
    memcpy(q + r->len, p, k);
    r->body = q;
    r->len += k;
    r->body[r->len] = 0;
    return k;
}

static int clientInit(client *c, char *err, size_t errlen) {
    memset(c, 0, sizeof(*c));
    const char *url = getenv("LIGHTHOUSE_URL"), *tok = getenv("LIGHTHOUSE_TOKEN");
    if (!url || !*url) url = "http://127.0.0.1:8765";
    if (!tok || !*tok) {
        snprintf(err, errlen, "set LIGHTHOUSE_TOKEN to an expert or admin token (lighthouse token create --role expert)");
        return -1;
    }
    if (strlen(tok) > 4000 || strpbrk(tok, "\r\n")) { snprintf(err, errlen, "LIGHTHOUSE_TOKEN is not a token"); return -1; }
    if (!strncmp(url, "unix:", 5)) {
        if (strlen(url + 5) >= sizeof(c->unix_path)) { snprintf(err, errlen, "LIGHTHOUSE_URL is too long"); return -1; }
        snprintf(c->unix_path, sizeof(c->unix_path), "%s", url + 5);
        snprintf(c->base, sizeof(c->base), "http://localhost");
    } else if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        if (strlen(url) >= sizeof(c->base)) { snprintf(err, errlen, "LIGHTHOUSE_URL is too long"); return -1; }
        snprintf(c->base, sizeof(c->base), "%s", url);
        size_t n = strlen(c->base);
        while (n && c->base[n - 1] == '/') c->base[--n] = 0;
    } else {
        snprintf(err, errlen, "LIGHTHOUSE_URL must be http://HOST:PORT or unix:/path, not \"%.100s\"", url);
        return -1;
    }
    snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", tok);
    return 0;
}

/* method path (with its query) and an optional JSON body: 0 with *out (free out->body), or
 * -1 with why in err when the bridge could not be reached. timeout_s bounds the whole call. */
static int httpCall(const client *c, const char *method, const char *path, const char *body, long timeout_s,
                    reply *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    CURL *h = curl_easy_init();
    if (!h) { snprintf(err, errlen, "out of memory"); return -1; }
    char url[2300];
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    struct curl_slist *hd = curl_slist_append(NULL, c->auth);
    hd = curl_slist_append(hd, "Accept: application/json");
    if (body) hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (c->unix_path[0]) curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach the bridge at %.200s: %s", c->base, out->over ? "reply too large" : curl_easy_strerror(rc));
        free(out->body);
        out->body = NULL;
        return -1;
    }
    if (!out->body) out->body = calloc(1, 1);
    return 0;
}

/* The exit code for a failed reply, after saying why on stderr. */
static int refused(const reply *r) {
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    fprintf(stderr, "lighthouse review: the bridge answered %ld %s: %s\n", r->status, code ? code : "",
            msg ? msg : "(no message)");
    if (r->status == 401) fprintf(stderr, "  check LIGHTHOUSE_TOKEN: an expert or admin token that is not expired or revoked\n");
    json_decref(j);
    return r->status == 400 ? 2 : 1;
}

/* GET/POST and parse: 0 with *out (a new reference), else the exit code. */
static int callJson(const client *c, const char *method, const char *path, const char *body, long timeout_s,
                    json_t **out) {
    reply r;
    char err[512];
    *out = NULL;
    if (httpCall(c, method, path, body, timeout_s, &r, err, sizeof(err))) {
        fprintf(stderr, "lighthouse review: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (r.status < 200 || r.status > 299) rc = refused(&r);
    else if (!(*out = json_loads(r.body, 0, NULL))) {
        fprintf(stderr, "lighthouse review: the bridge's reply is not JSON (HTTP %ld)\n", r.status);
        rc = 1;
    }
    free(r.body);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Printing for people                                                              */
/* ------------------------------------------------------------------------------ */

/* s with control characters (C0, DEL, C1 in UTF-8) shown as \xHH, at most max bytes
 * (then "…"): what the bridge sends is the agents' text, never terminal commands. */
static void putSafe(FILE *f, const char *s, size_t max) {
    if (!s) return;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (n >= max) { fputs("…", f); return; }
        if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { fprintf(f, "\\u%04x", p[1]); p++; }
        else fputc(*p, f);
    }
}

static const char *str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long long quorumOf(json_t *e) {
    json_int_t q = json_integer_value(json_object_get(e, "quorum"));
    return q > 0 ? (long long)q : 1;
}

static void printLeft(FILE *f, json_t *e) {
    int64_t d = (int64_t)json_integer_value(json_object_get(e, "deadline_ns"));
    if (!d) return;
    int64_t s = (d - nowNs()) / 1000000000;
    if (s >= 0) fprintf(f, "%llds left", (long long)s);
    else fprintf(f, "deadline passed %llds ago", (long long)-s);
}

static const char *commandOf(json_t *e) {
    const char *s = json_string_value(json_object_get(json_object_get(e, "context"), "command"));
    if (s) return s;
    json_t *in = json_object_get(json_object_get(e, "request"), "input");
    for (const char *k = "command\0file_path\0notebook_path\0path\0url\0"; *k; k += strlen(k) + 1)
        if ((s = json_string_value(json_object_get(in, k)))) return s;
    return "";
}

/* Three lines: id risk rule agent verdicts/quorum time-left; the command; the reason and
 * what it needs. */
static void printLine(FILE *f, json_t *e) {
    putSafe(f, str(e, "id"), 64);
    fprintf(f, "  ");
    putSafe(f, str(e, "risk"), 16);
    fprintf(f, "  ");
    putSafe(f, str(e, "rule"), 80);
    fprintf(f, "  ");
    putSafe(f, str(e, "agent"), 64);
    fprintf(f, "  %zu/%lld  ", json_array_size(json_object_get(e, "verdicts")),
            quorumOf(e));
    printLeft(f, e);
    fprintf(f, "\n    ");
    putSafe(f, commandOf(e), 160);
    fprintf(f, "\n    ");
    putSafe(f, str(e, "reason"), 160);
    fprintf(f, " (needs ");
    json_t *caps = json_object_get(e, "capabilities"), *x;
    size_t i;
    if (!json_array_size(caps)) fprintf(f, "no capability");
    json_array_foreach(caps, i, x) { if (i) fputc(',', f); putSafe(f, json_string_value(x), 60); }
    size_t nr = json_array_size(json_object_get(json_object_get(e, "context"), "recent"));
    if (nr) fprintf(f, "; %zu recent decisions of the agent in show", nr);
    fprintf(f, ")\n");
}

static void printList(FILE *f, const char *title, json_t *arr, const char *const *keys) {
    if (!json_array_size(arr)) return;
    fprintf(f, "%s:\n", title);
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (i >= 50) { fprintf(f, "  … %zu more\n", json_array_size(arr) - i); break; }
        fprintf(f, "  ");
        for (const char *const *k = keys; *k; k++) {
            json_t *v = json_object_get(x, *k);
            if (!v) continue;
            if (k != keys) fputc(' ', f);
            if (json_is_integer(v)) fprintf(f, "%s%lld", !strcmp(*k, "seq") ? "#" : "", (long long)json_integer_value(v));
            else if (json_is_string(v)) putSafe(f, json_string_value(v), 300);
            else if (json_is_array(v)) {   /* a command's args */
                size_t j;
                json_t *a;
                json_array_foreach(v, j, a) { if (j) fputc(' ', f); putSafe(f, json_string_value(a), 200); }
            }
        }
        fputc('\n', f);
    }
}

static void printFull(FILE *f, json_t *e) {
    json_t *ctx = json_object_get(e, "context"), *req = json_object_get(e, "request");
    fprintf(f, "escalation ");
    putSafe(f, str(e, "id"), 64);
    fprintf(f, "  (%s", str(e, "state")[0] ? str(e, "state") : "?");
    if (!strcmp(str(e, "state"), "pending")) { fprintf(f, ", "); printLeft(f, e); }
    fprintf(f, ")\n  agent    ");
    putSafe(f, str(e, "agent"), 200);
    if (str(e, "session")[0]) { fprintf(f, " (session "); putSafe(f, str(e, "session"), 200); fputc(')', f); }
    fprintf(f, "\n  tool     ");
    putSafe(f, str(e, "tool")[0] ? str(e, "tool") : str(req, "tool"), 200);
    fprintf(f, "\n  cwd      ");
    putSafe(f, str(req, "cwd"), 1000);
    fprintf(f, "\n  command  ");
    putSafe(f, commandOf(e), 4000);
    fprintf(f, "\n  rule     ");
    putSafe(f, str(e, "rule"), 200);
    fprintf(f, " (risk ");
    putSafe(f, str(e, "risk"), 20);
    fprintf(f, ")\n  reason   ");
    putSafe(f, str(e, "reason"), 2000);
    fprintf(f, "\n  needs    ");
    json_t *caps = json_object_get(e, "capabilities");
    size_t i;
    json_t *x;
    if (!json_array_size(caps)) fprintf(f, "no capability");
    json_array_foreach(caps, i, x) { if (i) fprintf(f, ", "); putSafe(f, json_string_value(x), 100); }
    fprintf(f, "; quorum %lld; on timeout ", quorumOf(e));
    putSafe(f, str(e, "on_timeout")[0] ? str(e, "on_timeout") : "deny", 20);
    fputc('\n', f);
    static const char *const cmdKeys[] = {"program", "args", NULL};
    static const char *const pathKeys[] = {"class", "path", NULL};
    static const char *const findKeys[] = {"decision", "risk", "rule", "reason", NULL};
    static const char *const recentKeys[] = {"seq", "decision", "rule", "summary", NULL};
    static const char *const verdictKeys[] = {"expert", "decision", "reason", NULL};
    printList(f, "commands", json_object_get(ctx, "commands"), cmdKeys);
    printList(f, "paths", json_object_get(ctx, "paths"), pathKeys);
    printList(f, "findings", json_object_get(ctx, "findings"), findKeys);
    printList(f, "verdicts so far", json_object_get(e, "verdicts"), verdictKeys);
    if (!json_array_size(json_object_get(e, "verdicts"))) fprintf(f, "verdicts so far: none\n");
    printList(f, "the agent's recent decisions", json_object_get(ctx, "recent"), recentKeys);
    if (json_object_get(e, "decision")) {
        fprintf(f, "decided: ");
        putSafe(f, str(e, "decision"), 20);
        fprintf(f, " by ");
        putSafe(f, str(e, "decided_by"), 20);
        fprintf(f, ": ");
        putSafe(f, str(e, "final_reason"), 2000);
        fputc('\n', f);
    }
}

static void printJson(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) { puts(s); free(s); }
}

/* ------------------------------------------------------------------------------ */
/* Commands                                                                         */
/* ------------------------------------------------------------------------------ */

/* An escalation id is "esc-" and hex; anything else is refused before it reaches a URL. */
static int idOk(const char *id) {
    size_t n = strlen(id);
    if (n < 5 || n > 64 || strncmp(id, "esc-", 4)) return 0;
    for (size_t i = 4; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", id[i])) return 0;
    return 1;
}

static int pending(const client *c, int wait, json_t **out) {
    char path[96] = "/v1/escalations?state=pending";
    if (wait > 0) snprintf(path, sizeof(path), "/v1/escalations?state=pending&wait=%d", wait);
    return callJson(c, "GET", path, NULL, wait + 30, out);
}

static int cmdList(const client *c, int json, int wait) {
    json_t *j;
    int rc = pending(c, wait, &j);
    if (rc) return rc;
    json_t *arr = json_object_get(j, "escalations");
    if (json) printJson(j);
    else if (!json_array_size(arr)) printf("no pending escalations\n");
    else {
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) printLine(stdout, e);
    }
    json_decref(j);
    return 0;
}

static int getOne(const client *c, const char *id, json_t **out) {
    char path[128];
    snprintf(path, sizeof(path), "/v1/escalations/%s", id);
    return callJson(c, "GET", path, NULL, 30, out);
}

static int cmdShow(const client *c, const char *id, int json) {
    json_t *e;
    int rc = getOne(c, id, &e);
    if (rc) return rc;
    if (json) printJson(e);
    else printFull(stdout, e);
    json_decref(e);
    return 0;
}

/* Post a verdict: 0 with *out (the escalation after it), else the exit code. */
static int verdict(const client *c, const char *id, const char *decision, const char *reason, json_t **out) {
    char path[128];
    snprintf(path, sizeof(path), "/v1/escalations/%s/verdict", id);
    json_t *b = json_pack("{s:s,s:s}", "decision", decision, "reason", reason);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body) { fprintf(stderr, "lighthouse review: the reason must be UTF-8 text\n"); return 2; }
    int rc = callJson(c, "POST", path, body, 30, out);
    free(body);
    return rc;
}

static void printOutcome(FILE *f, json_t *e, const char *decision) {
    if (!strcmp(str(e, "state"), "pending"))
        fprintf(f, "%s recorded for %s: %zu of %lld verdicts; still pending\n", decision, str(e, "id"),
                json_array_size(json_object_get(e, "verdicts")),
                quorumOf(e));
    else {
        fprintf(f, "%s is decided: ", str(e, "id"));
        putSafe(f, str(e, "decision"), 20);
        fprintf(f, " (by ");
        putSafe(f, str(e, "decided_by"), 20);
        fprintf(f, ")\n");
    }
}

static int cmdVerdict(const client *c, const char *id, const char *decision, const char *reason, int json) {
    json_t *e;
    int rc = verdict(c, id, decision, reason, &e);
    if (rc) return rc;
    if (json) printJson(e);
    else printOutcome(stdout, e, decision);
    json_decref(e);
    return 0;
}

/* Register (or heartbeat) as an expert with the comma-separated capabilities. */
static int registerExpert(const client *c, const char *caps) {
    json_t *arr = json_array();
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", caps);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ') t[--n] = 0;
        if (n) json_array_append_new(arr, json_string(t));
    }
    json_t *b = json_pack("{s:o}", "capabilities", arr);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body) { fprintf(stderr, "lighthouse review: --capabilities must be UTF-8 text\n"); return 2; }
    json_t *out;
    int rc = callJson(c, "POST", "/v1/experts/register", body, 30, &out);
    free(body);
    json_decref(out);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Interactive                                                                      */
/* ------------------------------------------------------------------------------ */

#define SKIP_MAX 256

/* A line from stdin without its newline; 0 at end of input. */
static int readLine(char *buf, size_t n) {
    if (!fgets(buf, (int)n, stdin)) return 0;
    size_t k = strlen(buf);
    if (k && buf[k - 1] == '\n') buf[--k] = 0;
    else if (k == n - 1) { int ch; while ((ch = getchar()) != EOF && ch != '\n') {} }
    if (k && buf[k - 1] == '\r') buf[--k] = 0;
    return 1;
}

static int skipped(char skips[][72], int nskip, const char *id) {
    for (int i = 0; i < nskip; i++) if (!strcmp(skips[i], id)) return 1;
    return 0;
}

/* Waits up to ms for a line on stdin: 1 quit (q or end of input), 0 go on. */
static int quitWhileWaiting(int ms) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return 0;
    char line[64];
    if (!readLine(line, sizeof(line))) return 1;
    return line[0] == 'q';
}

static int64_t monoS(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static int interactive(const client *c, const char *caps) {
    int64_t registered = monoS();
    static char skips[SKIP_MAX][72];
    int nskip = 0, waiting = 0, decidedN = 0;
    char line[REASON_MAX + 8];
    printf("lighthouse review: a(llow), d(eny), s(kip), q(uit)\n");
    for (;;) {
        json_t *j;
        int rc;
        if (caps && monoS() - registered >= 10) {   /* the bridge's heartbeat interval is 15 s */
            if ((rc = registerExpert(c, caps))) return rc;
            registered = monoS();
        }
        rc = pending(c, 0, &j);
        if (rc) return rc;
        json_t *arr = json_object_get(j, "escalations"), *e = NULL, *x;
        size_t i, left = 0;
        json_array_foreach(arr, i, x) {
            if (skipped(skips, nskip, str(x, "id"))) continue;
            if (!e) e = x;
            left++;
        }
        if (!e) {
            json_decref(j);
            if (!waiting) {
                printf("nothing to review%s; waiting for escalations (q and Enter quits)\n",
                       nskip ? " but what you skipped" : "");
                fflush(stdout);
                waiting = 1;
            }
            if (quitWhileWaiting(2000)) break;
            continue;
        }
        waiting = 0;
        printf("\n[%zu waiting]\n", left);
        printFull(stdout, e);
        char id[72];
        snprintf(id, sizeof(id), "%s", str(e, "id"));
        json_decref(j);
        printf("a(llow) / d(eny) / s(kip) / q(uit)? ");
        fflush(stdout);
        if (!readLine(line, sizeof(line)) || line[0] == 'q') break;
        if (line[0] == 's') {
            if (nskip < SKIP_MAX) snprintf(skips[nskip++], sizeof(skips[0]), "%s", id);
            continue;
        }
        if (line[0] != 'a' && line[0] != 'd') { printf("answer a, d, s or q\n"); continue; }
        const char *decision = line[0] == 'a' ? "allow" : "deny";
        char reason[REASON_MAX + 8];
        for (;;) {
            printf("reason for %s: ", decision);
            fflush(stdout);
            if (!readLine(reason, sizeof(reason))) return 0;
            if (reason[0]) break;
            printf("a reason is required: the builder and the audit log get it\n");
        }
        json_t *out;
        rc = verdict(c, id, decision, reason, &out);
        if (rc == 0) { printOutcome(stdout, out, decision); json_decref(out); decidedN++; }
        else printf("the verdict was not recorded (see above); next\n");
        fflush(stdout);
    }
    printf("%d verdict%s given\n", decidedN, decidedN == 1 ? "" : "s");
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* main                                                                             */
/* ------------------------------------------------------------------------------ */

static int usage(const char *why) {
    if (why) fprintf(stderr, "lighthouse review: %s\n", why);
    fputs(usageText, stderr);
    return 2;
}

int lh_cli_review(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { fputs(usageText, stdout); return 0; }
    const char *sub = NULL, *id = NULL, *reason = NULL, *caps = NULL;
    int json = 0, wait = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--capabilities") && i + 1 < argc) {
            caps = argv[++i];
            if (!*caps || strlen(caps) > 1000) return usage("--capabilities takes a comma-separated list");
        }
        else if (!strcmp(argv[i], "--reason") && i + 1 < argc) reason = argv[++i];
        else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
            char *end;
            long w = strtol(argv[++i], &end, 10);
            if (*end || w < 0 || w > 60) return usage("--wait takes whole seconds from 0 to 60");
            wait = (int)w;
        } else if (argv[i][0] == '-') return usage("unknown option (or an option without its value)");
        else if (!sub) sub = argv[i];
        else if (!id) id = argv[i];
        else return usage("one escalation id at a time");
    }
    client c;
    char err[512];
    if (!sub) {
        if (!isatty(0)) return usage("with no command, review runs interactively and needs a terminal on stdin");
    } else if (!strcmp(sub, "list")) {
        if (id || reason) return usage("list takes only --json and --wait");
    } else if (!strcmp(sub, "show") || !strcmp(sub, "allow") || !strcmp(sub, "deny")) {
        if (!id) return usage("name the escalation: its id, esc-<hex> (see lighthouse review list)");
        if (!idOk(id)) return usage("an escalation id is esc- and hex digits");
        if (strcmp(sub, "show") && (!reason || !*reason)) return usage("a verdict needs --reason TEXT: the builder and the audit log get it");
        if (!strcmp(sub, "show") && reason) return usage("show takes no --reason");
        if (reason && strlen(reason) > REASON_MAX) return usage("the reason is longer than 2000 bytes");
        if (wait) return usage("--wait goes with list");
    } else return usage("unknown review command");
    if (clientInit(&c, err, sizeof(err))) { fprintf(stderr, "lighthouse review: %s\n", err); return 2; }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = caps ? registerExpert(&c, caps) : 0;
    if (rc == 0) {
        if (!sub) rc = interactive(&c, caps);
        else if (!strcmp(sub, "list")) rc = cmdList(&c, json, wait);
        else if (!strcmp(sub, "show")) rc = cmdShow(&c, id, json);
        else rc = cmdVerdict(&c, id, sub, reason, json);
    }
    curl_global_cleanup();
    return rc;
}
