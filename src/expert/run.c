/* run.c — the LLM expert's loop (see llm.h, docs/expert-llm.md):
 *
 *   register ──► long-poll GET /v1/escalations?state=pending&wait=W[&limit=1&claim=S] ──► for each new one:
 *      render the prompt ─► ask the model (retrying 429 while the deadline allows, 5xx a
 *      bounded number of times) ─► strict verdict? in time? ─► POST .../verdict
 *                                                    └─ otherwise: no verdict (logged, counted)
 *   re-register every heartbeat interval (the long-poll is a heartbeat too); leave at exit.
 *
 * One escalation at a time, on one thread; while it waits for the model, a second thread
 * (beatLoop) keeps the heartbeat, so a model slower than three heartbeat intervals does
 * not make the bridge count the expert as gone.
 *
 * With --claim S (the default) the poll claims what it is handed for S seconds and asks for
 * one escalation at a time (limit=1: what it claims but has not started would wait on it
 * while the pool's other experts idle). The bridge hands an escalation only to as many
 * experts as its quorum needs, and not again to its holder while the claim holds; so one
 * handed again (its claim lapsed, after no verdict or a slow model) is asked about again.
 * Without claims (--claim 0) every expert is handed every escalation it may decide: one it
 * gave no verdict stays pending, the bridge lists it again, and it is remembered (until its
 * deadline) and not asked about twice. */
#include "expert/llm.h"
#include "util/growbuf.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BRIDGE_BODY_MAX (8u << 20)
#define SEEN_MAX 256
#define MAX_ATTEMPTS 10

static long long wallNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long monoMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(const lh_expert_llm_opts *o) { return o->stop && *o->stop; }

/* Sleep ms, waking early when asked to stop. */
static void nap(const lh_expert_llm_opts *o, long ms) {
    long long end = monoMs() + ms;
    for (long long now = monoMs(); now < end && !stopping(o); now = monoMs()) {
        long left = (long)(end - now);
        poll(NULL, 0, left < 100 ? (int)left : 100);
    }
}

/* One log line on stderr, written whole (the heartbeat thread logs too). */
static void say(const char *fmt, ...) {
    char line[1024];
    int k = snprintf(line, sizeof(line), "lighthouse expert llm: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof(line) - (size_t)k - 1, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    line[n] = '\n';
    fwrite(line, 1, n + 1, stderr);
}

/* ------------------------------------------------------------------ the bridge */

typedef struct bridge {
    const lh_expert_llm_opts *o;
    CURL *h;               /* keep-alive to the bridge */
    char auth[4200];
    long status;
    char *body;
    size_t len, cap;
    int too_big;
    int leaving;           /* the last call (leave) is made even when stopping */
} bridge;

static size_t onBody(char *p, size_t size, size_t nmemb, void *ud) {
    bridge *b = ud;
    size_t n = size * nmemb;
    if (lh_growbuf_append(&b->body, &b->len, &b->cap, BRIDGE_BODY_MAX, p, n)) { b->too_big = 1; return 0; }
    return n;
}

static int onProgress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    const bridge *br = ud;
    return stopping(br->o) && !br->leaving ? 1 : 0;
}

/* method path (body JSON or NULL) within timeout_ms: 0 with b->status and b->body (the
 * reply, or "" none), or -1 when the bridge could not be reached (why in err). */
static int bridgeDo(bridge *b, const char *method, const char *path, const char *body, long timeout_ms,
                    char *err, size_t errlen) {
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", b->o->bridge_url, path);
    b->len = 0;
    b->too_big = 0;
    b->status = 0;
    if (b->body) b->body[0] = 0;
    struct curl_slist *hs = curl_slist_append(NULL, b->auth);
    if (body) hs = curl_slist_append(hs, "Content-Type: application/json");
    CURL *h = b->h;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, b);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hs);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s %s: %s", method, path,
                 b->too_big ? "reply larger than 8 MiB" : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &b->status);
    if (!b->body) { b->body = strdup(""); b->cap = b->body ? 1 : 0; }
    return b->body ? 0 : -1;
}

/* The bridge's error code and message of the last reply, for the log. */
static const char *bridgeError(const bridge *b, char *out, size_t outlen) {
    json_t *v = json_loadb(b->body ? b->body : "", b->len, 0, NULL);
    json_t *e = json_object_get(v, "error");
    snprintf(out, outlen, "HTTP %ld %s: %.200s", b->status,
             json_string_value(json_object_get(e, "code")) ? json_string_value(json_object_get(e, "code")) : "",
             json_string_value(json_object_get(e, "message")) ? json_string_value(json_object_get(e, "message")) : "");
    json_decref(v);
    return out;
}

/* POST /v1/experts/register: 0 with *interval_s, 2 refused (token, role, options), -1 unreachable. */
static int registerExpert(bridge *b, int *interval_s) {
    json_t *req = json_pack("{s:O}", "capabilities", b->o->capabilities);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    char err[512];
    int rc = body ? bridgeDo(b, "POST", "/v1/experts/register", body, 15000, err, sizeof(err)) : -1;
    free(body);
    if (rc) { say("cannot register: %s", body ? err : "out of memory"); return -1; }
    if (b->status != 200) {
        say("the bridge refused the registration: %s", bridgeError(b, err, sizeof(err)));
        return b->status >= 500 || b->status == 429 ? -1 : 2;
    }
    json_t *v = json_loadb(b->body, b->len, 0, NULL);
    json_t *iv = json_object_get(v, "heartbeat_interval_s");
    *interval_s = json_is_integer(iv) && json_integer_value(iv) > 0 && json_integer_value(iv) < 3600
                      ? (int)json_integer_value(iv) : 15;
    json_decref(v);
    return 0;
}

/* ------------------------------------------------------------------ one escalation */

typedef enum { NV_NONE = 0, NV_MALFORMED, NV_REFUSED, NV_LATE, NV_ERROR, NV_RATE_LIMITED, NV_REJECTED } nv_why;
static const char *const NV_NAMES[] = {"", "malformed", "refusal", "late", "error", "rate_limited", "rejected"};

typedef struct outcome {
    nv_why why;
    char detail[512];
    lh_llm_verdict v;
    int attempts;
    long model_ms;
} outcome;

static void noVerdict(outcome *r, nv_why why, const char *fmt, ...) {
    r->why = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

/* Milliseconds left before deadline_ns less the margin (may be negative). */
static long budgetMs(const lh_expert_llm_opts *o, long long deadline_ns) {
    long long left = (deadline_ns - wallNs()) / 1000000LL - o->margin_ms;
    return left > 0x7fffffffLL ? 0x7fffffff : (long)left;
}

/* Judge a reply the model gave (HTTP 200): a verdict in r->v, or the reason it is none. */
static void judgeReply(const lh_llm_reply *rep, outcome *r) {
    char err[256];
    if (rep->refused) {
        noVerdict(r, NV_REFUSED, "the model refused (%s)", rep->err[0] ? rep->err : rep->finish);
        return;
    }
    if (rep->err[0]) { noVerdict(r, NV_ERROR, "%s", rep->err); return; }
    if (!rep->done) { noVerdict(r, NV_MALFORMED, "the stream ended before its last event"); return; }
    if (rep->truncated) { noVerdict(r, NV_MALFORMED, "the answer was cut at max_tokens (%s)", rep->finish); return; }
    if (lh_llm_verdict_parse(rep->text, rep->len, &r->v, err, sizeof(err))) {
        noVerdict(r, NV_MALFORMED, "%s; answer began: %.120s", err, rep->text ? rep->text : "");
        for (char *q = r->detail; *q; q++) if (*q == '\n' || *q == '\r') *q = ' ';
    }
}

/* Ask the model about esc until an answer, a final failure or the deadline. */
static void askModel(const lh_expert_llm_opts *o, const char *body, long long deadline_ns, outcome *r) {
    int fails5 = 0;
    long long t0 = monoMs();
    for (r->attempts = 0; r->attempts < MAX_ATTEMPTS && !stopping(o);) {
        long budget = budgetMs(o, deadline_ns);
        if (budget <= 0) { noVerdict(r, NV_LATE, "the deadline passed before the model answered"); break; }
        lh_llm_result res;
        r->attempts++;
        int byDeadline = budget <= o->timeout_ms;   /* the deadline, not --timeout, bounds this request */
        lh_llm_call(&o->llm, body, byDeadline ? budget : o->timeout_ms, &res);
        r->model_ms = (long)(monoMs() - t0);
        if (res.outcome == LH_LLM_OK) {
            judgeReply(&res.reply, r);
            lh_llm_reply_free(&res.reply);
            if (r->why == NV_NONE && budgetMs(o, deadline_ns) <= 0)
                noVerdict(r, NV_LATE, "the answer came after the deadline less the margin");
            return;
        }
        lh_llm_reply_free(&res.reply);
        if (res.outcome == LH_LLM_TRANSPORT) {
            /* (curl may give up a few ms before the budget ends: byDeadline, not the clock, says why) */
            if (res.timed_out && (byDeadline || budgetMs(o, deadline_ns) <= 0)) {
                noVerdict(r, NV_LATE, "no answer before the deadline less the margin");
                return;
            }
            if (res.timed_out) { noVerdict(r, NV_ERROR, "no answer within --timeout"); return; }
            if (res.too_big) { noVerdict(r, NV_ERROR, "%s", res.err); return; }   /* it would be again */
            if (fails5++ >= o->retries_5xx) { noVerdict(r, NV_ERROR, "%s", res.err); return; }
            nap(o, 250L << (fails5 - 1));
            continue;
        }
        if (res.status == 429) {
            long wait = res.retry_after_ms >= 0 ? res.retry_after_ms : 1000;
            if (wait >= budgetMs(o, deadline_ns)) {
                noVerdict(r, NV_RATE_LIMITED, "rate limited (429, retry after %ld ms): the deadline does not allow the wait", wait);
                return;
            }
            say("rate limited (429): retrying after %ld ms", wait);
            nap(o, wait);
            continue;
        }
        if (res.status >= 500 && fails5++ < o->retries_5xx) {
            long wait = res.retry_after_ms >= 0 ? res.retry_after_ms : 250L << (fails5 - 1);
            if (wait >= budgetMs(o, deadline_ns)) { noVerdict(r, NV_ERROR, "%s (no time left to retry)", res.err); return; }
            say("%s: retry %d of %d after %ld ms", res.err, fails5, o->retries_5xx, wait);
            nap(o, wait);
            continue;
        }
        noVerdict(r, NV_ERROR, "%s", res.err);
        return;
    }
    if (r->why == NV_NONE) noVerdict(r, NV_ERROR, stopping(o) ? "stopped" : "no answer after %d attempts", r->attempts);
}

/* An escalation id is used in a path: only esc- and hex digits, as the bridge makes them. */
static int goodId(const char *id) {
    if (!id || strncmp(id, "esc-", 4) || strlen(id) > 64 || !id[4]) return 0;
    for (const char *p = id + 4; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

static void postVerdict(bridge *b, const char *id, outcome *r) {
    json_t *req = json_pack("{s:s, s:s}", "decision", r->v.allow ? "allow" : "deny", "reason", r->v.reason);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    char path[128], err[512];
    snprintf(path, sizeof(path), "/v1/escalations/%s/verdict", id);
    int rc = body ? bridgeDo(b, "POST", path, body, 15000, err, sizeof(err)) : -1;
    free(body);
    if (rc) noVerdict(r, NV_ERROR, "could not post the verdict: %s", body ? err : "out of memory");
    else if (b->status != 200) noVerdict(r, NV_REJECTED, "the bridge refused the verdict: %s", bridgeError(b, err, sizeof(err)));
}

static void report(const char *id, const outcome *r, lh_expert_llm_stats *st) {
    st->handled++;
    json_t *line;
    if (r->why == NV_NONE) {
        st->verdicts++;
        line = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "escalation", id, "outcome", "verdict", "decision",
                         r->v.allow ? "allow" : "deny", "reason", r->v.reason, "attempts", r->attempts,
                         "model_ms", (json_int_t)r->model_ms);
        say("%s: verdict %s: %.200s", id, r->v.allow ? "allow" : "deny", r->v.reason);
    } else {
        st->no_verdict++;
        long *counter[] = {NULL, &st->malformed, &st->refused, &st->late, &st->errors, &st->rate_limited, &st->rejected};
        (*counter[r->why])++;
        line = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "escalation", id, "outcome", "no_verdict", "why",
                         NV_NAMES[r->why], "detail", r->detail, "attempts", r->attempts, "model_ms",
                         (json_int_t)r->model_ms);
        say("%s: no verdict (%s): %s", id, NV_NAMES[r->why], r->detail);
    }
    char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (s) { printf("%s\n", s); fflush(stdout); }
    free(s);
    json_decref(line);
}

static void handle(bridge *b, const json_t *esc, lh_expert_llm_stats *st) {
    const lh_expert_llm_opts *o = b->o;
    const char *id = json_string_value(json_object_get(esc, "id"));
    json_t *dl = json_object_get(esc, "deadline_ns");
    outcome r;
    memset(&r, 0, sizeof(r));
    char err[256];
    if (!json_is_integer(dl)) {
        noVerdict(&r, NV_ERROR, "the escalation has no deadline_ns");
    } else if (budgetMs(o, json_integer_value(dl)) <= 0) {
        noVerdict(&r, NV_LATE, "the deadline less the margin had passed when it arrived");
    } else {
        char *prompt = lh_llm_prompt_render(o->prompt, esc, wallNs(), err, sizeof(err));
        char *body = prompt ? lh_llm_request_body(o->llm.provider, o->llm.model, prompt, o->llm.max_tokens,
                                                  o->llm.stream, o->llm.format) : NULL;
        if (!body) noVerdict(&r, NV_ERROR, "%s", prompt ? "out of memory" : err);
        else askModel(o, body, json_integer_value(dl), &r);
        free(prompt);
        free(body);
        if (r.why == NV_NONE) postVerdict(b, id, &r);
    }
    report(id, &r, st);
}

/* ------------------------------------------------------------------ the heartbeat */

/* The heartbeat thread's state. The main thread sets busy around a model's work and
 * last_ms at each register or poll (a poll is a heartbeat); the thread registers again
 * when busy and an interval has passed. Its bridge handle is its own. */
typedef struct beater {
    bridge b;
    _Atomic int busy, quit, interval_s;
    _Atomic long long last_ms;
    pthread_t th;
    int started;
} beater;

static void *beatLoop(void *arg) {
    beater *bt = arg;
    while (!atomic_load(&bt->quit) && !stopping(bt->b.o)) {
        poll(NULL, 0, 100);
        if (!atomic_load(&bt->busy) || monoMs() - atomic_load(&bt->last_ms) < atomic_load(&bt->interval_s) * 1000LL)
            continue;
        int iv = atomic_load(&bt->interval_s);
        registerExpert(&bt->b, &iv);   /* a failure is logged there; tried again an interval later */
        atomic_store(&bt->last_ms, monoMs());
    }
    return NULL;
}

static void beatStart(beater *bt, const lh_expert_llm_opts *o) {
    bt->b.o = o;
    snprintf(bt->b.auth, sizeof(bt->b.auth), "Authorization: Bearer %s", o->token);
    atomic_store(&bt->interval_s, 15);
    bt->b.h = curl_easy_init();
    if (bt->b.h && pthread_create(&bt->th, NULL, beatLoop, bt) == 0) bt->started = 1;
    else say("no heartbeat thread: a model slower than three heartbeat intervals lets the expert lapse");
}

static void beatStop(beater *bt) {
    atomic_store(&bt->quit, 1);
    if (bt->started) pthread_join(bt->th, NULL);
    curl_easy_cleanup(bt->b.h);
    free(bt->b.body);
}

/* ------------------------------------------------------------------ the loop */

typedef struct seen { char id[72]; long long deadline_ns; } seen;

static int wasSeen(const seen *s, int n, const char *id) {
    for (int i = 0; i < n; i++) if (!strcmp(s[i].id, id)) return 1;
    return 0;
}

/* Forget escalations whose deadline is long past; keep at most SEEN_MAX - 1. */
static int pruneSeen(seen *s, int n) {
    long long now = wallNs();
    int k = 0;
    for (int i = 0; i < n; i++)
        if (s[i].deadline_ns + 60000000000LL > now) s[k++] = s[i];
    if (k == SEEN_MAX) { memmove(s, s + 1, sizeof(*s) * (SEEN_MAX - 1)); k--; }
    return k;
}

int lh_expert_llm_run(const lh_expert_llm_opts *o, lh_expert_llm_stats *st) {
    memset(st, 0, sizeof(*st));
    bridge b = {.o = o};
    snprintf(b.auth, sizeof(b.auth), "Authorization: Bearer %s", o->token);
    b.h = curl_easy_init();
    seen *done = calloc(SEEN_MAX, sizeof(*done));
    if (!b.h || !done) { say("out of memory"); curl_easy_cleanup(b.h); free(done); return 2; }
    int nseen = 0, interval = 15, rc = 0, backoff = 0;
    long long registered = 0;
    char err[512], path[128];
    beater *bt = calloc(1, sizeof(*bt));
    if (!bt) { say("out of memory"); curl_easy_cleanup(b.h); free(done); return 2; }
    beatStart(bt, o);
    while (!stopping(o)) {
        if (!registered || monoMs() - registered >= interval * 1000LL) {
            int r = registerExpert(&b, &interval);
            if (r == 2) { rc = 2; break; }
            if (r) { nap(o, 1000L << (backoff < 5 ? backoff++ : backoff)); continue; }
            if (!registered) say("registered at %s (heartbeat every %d s)", o->bridge_url, interval);
            registered = monoMs();
            atomic_store(&bt->interval_s, interval);
            backoff = 0;
        }
        /* the poll is a heartbeat when it starts: it must end well within the three
         * intervals after which the bridge counts the expert as gone */
        int wait = o->poll_wait_s < 2 * interval ? o->poll_wait_s : 2 * interval;
        /* a claiming poll needs no ?after= cursor: it would hide an escalation whose claim lapsed */
        if (o->claim_s > 0)
            snprintf(path, sizeof(path), "/v1/escalations?state=pending&wait=%d&limit=1&claim=%d", wait, o->claim_s);
        else
            snprintf(path, sizeof(path), "/v1/escalations?state=pending&wait=%d&limit=16", wait);
        atomic_store(&bt->last_ms, monoMs());
        if (bridgeDo(&b, "GET", path, NULL, (wait + 15) * 1000L, err, sizeof(err))) {
            if (stopping(o)) break;
            say("%s", err);
            nap(o, 1000L << (backoff < 5 ? backoff++ : backoff));
            continue;
        }
        if (b.status == 401 || b.status == 403) { say("the bridge refused the token: %s", bridgeError(&b, err, sizeof(err))); rc = 2; break; }
        if (b.status != 200) { say("%s", bridgeError(&b, err, sizeof(err))); nap(o, 1000L << (backoff < 5 ? backoff++ : backoff)); continue; }
        backoff = 0;
        json_t *v = json_loadb(b.body, b.len, 0, NULL);
        json_t *list = json_object_get(v, "escalations");
        int fresh = 0;
        size_t i;
        json_t *esc;
        json_array_foreach(list, i, esc) {
            const char *id = json_string_value(json_object_get(esc, "id"));
            if (stopping(o)) break;
            if (!goodId(id)) continue;
            if (!o->claim_s) {   /* a claim handed is always new work (above) */
                if (wasSeen(done, nseen, id)) continue;
                nseen = pruneSeen(done, nseen);
                snprintf(done[nseen].id, sizeof(done[nseen].id), "%s", id);
                done[nseen++].deadline_ns = json_integer_value(json_object_get(esc, "deadline_ns"));
            }
            fresh = 1;
            atomic_store(&bt->busy, 1);
            handle(&b, esc, st);
            atomic_store(&bt->busy, 0);
            if (o->once) break;
        }
        json_decref(v);
        if (o->once && st->handled) { rc = st->verdicts ? 0 : 1; break; }
        /* only ones it already gave up on: the bridge would answer at once again */
        if (!fresh && json_array_size(list)) nap(o, 1000);
    }
    beatStop(bt);
    free(bt);
    b.leaving = 1;
    if (registered && rc != 2) {
        if (bridgeDo(&b, "POST", "/v1/experts/leave", "{}", 5000, err, sizeof(err))) say("could not leave: %s", err);
        else if (b.status != 200) say("the bridge refused the leave: %s", bridgeError(&b, err, sizeof(err)));
    }
    say("stopped: %ld escalations, %ld verdicts, %ld without (%ld malformed, %ld refused, %ld late, "
         "%ld errors, %ld rate limited, %ld refused by the bridge)", st->handled, st->verdicts, st->no_verdict,
         st->malformed, st->refused, st->late, st->errors, st->rate_limited, st->rejected);
    curl_easy_cleanup(b.h);
    free(b.body);
    free(done);
    return rc;
}
