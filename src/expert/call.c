/* call.c — one request to the model over HTTP with libcurl (see llm.h). A streamed reply
 * (Content-Type text/event-stream) is fed to the SSE assembler as it arrives; any other
 * body is kept (at most LH_LLM_BODY_MAX bytes) and read whole. The call is bounded in
 * time (the caller's timeout, which run.c derives from the escalation's deadline) and in
 * size, follows no redirect, speaks only http and https, and never logs the API key. */
#include "expert/llm.h"
#include "util/growbuf.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct xfer {
    const lh_llm_config *c;
    lh_llm_result *out;
    long code;             /* the status of the response being read */
    int sse;               /* this response is an event stream (decided at its headers) */
    int sse_started;
    lh_llm_stream stream;
    char *body;            /* a body that is not a stream */
    size_t len, cap;
    int too_big;
} xfer;

static size_t onHeader(char *p, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) {   /* a new response (after a 100): forget the last */
        x->out->retry_after_ms = -1;
        x->sse = 0;
        const char *sp = memchr(p, ' ', n);
        x->code = sp ? strtol(sp + 1, NULL, 10) : 0;
        return n;
    }
    char h[512];
    size_t k = n < sizeof(h) - 1 ? n : sizeof(h) - 1;
    memcpy(h, p, k);
    h[k] = 0;
    h[strcspn(h, "\r\n")] = 0;
    if (!strncasecmp(h, "Retry-After:", 12)) {
        const char *v = h + 12;
        while (*v == ' ' || *v == '\t') v++;
        char *end;
        long s = strtol(v, &end, 10);
        if (end != v && *end == 0 && s >= 0) x->out->retry_after_ms = s > 86400 ? 86400000L : s * 1000;
        else {
            time_t t = curl_getdate(v, NULL);
            if (t > 0) {
                long d = (long)(t - time(NULL));
                x->out->retry_after_ms = d <= 0 ? 0 : d > 86400 ? 86400000L : d * 1000;
            }
        }
    } else if (!strncasecmp(h, "Content-Type:", 13)) {
        const char *v = h + 13;
        while (*v == ' ' || *v == '\t') v++;
        x->sse = !strncasecmp(v, "text/event-stream", 17);
    }
    return n;
}

static size_t onBody(char *p, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->sse && x->code == 200) {
        x->sse_started = 1;
        if (lh_llm_stream_feed(&x->stream, p, n)) return 0;   /* failed: stop reading */
        return n;
    }
    if (lh_growbuf_append(&x->body, &x->len, &x->cap, LH_LLM_BODY_MAX, p, n)) { x->too_big = 1; return 0; }
    return n;
}

static int onProgress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    const xfer *x = ud;
    return x->c->stop && *x->c->stop ? 1 : 0;
}

/* The message of an error body, for the log: the API's error.message, else its start. */
static void errorOf(const xfer *x, char *out, size_t outlen) {
    json_t *v = x->body ? json_loadb(x->body, x->len, 0, NULL) : NULL;
    json_t *e = json_object_get(v, "error");
    const char *m = json_string_value(json_object_get(e, "message"));
    if (!m) m = json_string_value(e);
    snprintf(out, outlen, "HTTP %ld: %.150s", x->out->status, m ? m : x->body ? x->body : "(no body)");
    for (char *q = out; *q; q++) if (*q == '\n' || *q == '\r') *q = ' ';
    json_decref(v);
}

lh_llm_outcome lh_llm_call(const lh_llm_config *c, const char *body, long timeout_ms, lh_llm_result *out) {
    memset(out, 0, sizeof(*out));
    out->retry_after_ms = -1;
    xfer x = {.c = c, .out = out};
    lh_llm_stream_init(&x.stream, c->provider);
    CURL *h = curl_easy_init();
    struct curl_slist *hs = NULL;
    char auth[4200] = "";
    if (!h) {
        snprintf(out->err, sizeof(out->err), "out of memory");
        out->outcome = LH_LLM_TRANSPORT;
        return out->outcome;
    }
    hs = curl_slist_append(hs, "Content-Type: application/json");
    if (c->stream) hs = curl_slist_append(hs, "Accept: text/event-stream");
    if (c->provider == LH_LLM_ANTHROPIC) {
        hs = curl_slist_append(hs, "anthropic-version: 2023-06-01");
        if (c->api_key) snprintf(auth, sizeof(auth), "x-api-key: %s", c->api_key);
    } else if (c->api_key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->api_key);
    }
    if (auth[0]) hs = curl_slist_append(hs, auth);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms > 0 && timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    memset(auth, 0, sizeof(auth));
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);

    if (x.sse_started && x.stream.failed) {
        /* the stream said something we refuse (an error event, bad data, too much text) */
        out->outcome = LH_LLM_OK;
        out->reply = x.stream.reply;
        memset(&x.stream.reply, 0, sizeof(x.stream.reply));
    } else if (rc != CURLE_OK) {
        out->outcome = LH_LLM_TRANSPORT;
        out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        out->too_big = x.too_big;
        if (x.too_big) snprintf(out->err, sizeof(out->err), "the reply is larger than 1 MiB");
        else if (rc == CURLE_ABORTED_BY_CALLBACK) snprintf(out->err, sizeof(out->err), "stopped");
        else snprintf(out->err, sizeof(out->err), "%s", curl_easy_strerror(rc));
    } else if (out->status != 200) {
        out->outcome = LH_LLM_HTTP;
        errorOf(&x, out->err, sizeof(out->err));
    } else if (x.sse_started || x.sse) {
        out->outcome = LH_LLM_OK;
        lh_llm_stream_end(&x.stream);
        out->reply = x.stream.reply;
        memset(&x.stream.reply, 0, sizeof(x.stream.reply));
    } else {
        out->outcome = LH_LLM_OK;
        lh_llm_reply_parse(c->provider, x.body ? x.body : "", x.len, &out->reply);
    }
    lh_llm_reply_free(&x.stream.reply);
    lh_llm_stream_free(&x.stream);
    free(x.body);
    return out->outcome;
}
