/* sse.c — a Server-Sent Events reader for streamed model replies, and the assembler of
 * their text deltas (see llm.h). It is fed the body in pieces of any size (a piece may end
 * inside a line, or between the CR and LF of a CRLF), follows the SSE rules for lines,
 * fields, comments and events, and knows the two APIs' events:
 *   OpenAI     data: {"choices": [{"delta": {"content"|"refusal": ...}, "finish_reason"}]}
 *              ... data: [DONE]
 *   Anthropic  message_start, content_block_start / _delta (text_delta) / _stop,
 *              message_delta {"delta": {"stop_reason"}}, message_stop, ping, error
 * Every buffer is bounded: a line, the text, and the whole body. */
#include "expert/llm.h"
#include "util/growbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (64u << 10)

void lh_llm_stream_init(lh_llm_stream *s, lh_llm_provider provider) {
    memset(s, 0, sizeof(*s));
    s->provider = provider;
}

void lh_llm_stream_free(lh_llm_stream *s) {
    free(s->line);
    free(s->data);
    s->line = s->data = NULL;
    s->line_len = s->line_cap = s->data_len = s->data_cap = 0;
}

static int fail(lh_llm_stream *s, const char *why) {
    if (!s->failed) snprintf(s->reply.err, sizeof(s->reply.err), "%s", why);
    s->failed = 1;
    return -1;
}

static int appendText(lh_llm_stream *s, const char *p, size_t n) {
    if (s->reply.len + n > LH_LLM_ANSWER_MAX) return fail(s, "the streamed answer is longer than 16 KiB");
    if (lh_growbuf_append(&s->reply.text, &s->reply.len, &s->text_cap, LH_LLM_ANSWER_MAX, p, n))
        return fail(s, "out of memory");
    return 0;
}

static void setFinish(lh_llm_stream *s, const char *why) {
    snprintf(s->reply.finish, sizeof(s->reply.finish), "%s", why);
    if (!strcmp(why, "length") || !strcmp(why, "max_tokens")) s->reply.truncated = 1;
    if (!strcmp(why, "content_filter") || !strcmp(why, "refusal")) s->reply.refused = 1;
}

static void noteRefusal(lh_llm_stream *s, const char *text) {
    s->reply.refused = 1;
    size_t have = strlen(s->reply.err);
    if (have == 0) have = (size_t)snprintf(s->reply.err, sizeof(s->reply.err), "refusal: ");
    if (have < sizeof(s->reply.err) - 1)
        snprintf(s->reply.err + have, sizeof(s->reply.err) - have, "%s", text);
}

static int apiError(lh_llm_stream *s, json_t *e) {
    const char *m = json_string_value(json_object_get(e, "message"));
    char why[200];
    snprintf(why, sizeof(why), "the API reported an error: %.150s", m ? m : "(no message)");
    return fail(s, why);
}

static int openaiEvent(lh_llm_stream *s, json_t *v) {
    json_t *e = json_object_get(v, "error");
    if (e) return apiError(s, e);
    json_t *choices = json_object_get(v, "choices");
    if (choices && !json_is_array(choices)) return fail(s, "a chunk's \"choices\" is not an array");
    size_t i;
    json_t *ch;
    json_array_foreach(choices, i, ch) {
        json_t *idx = json_object_get(ch, "index");
        if (idx && json_integer_value(idx) != 0) continue;   /* only the first choice */
        json_t *d = json_object_get(ch, "delta");
        json_t *c = json_object_get(d, "content");
        if (json_is_string(c) && appendText(s, json_string_value(c), json_string_length(c))) return -1;
        json_t *r = json_object_get(d, "refusal");
        if (json_is_string(r)) noteRefusal(s, json_string_value(r));
        json_t *f = json_object_get(ch, "finish_reason");
        if (json_is_string(f)) setFinish(s, json_string_value(f));
    }
    return 0;
}

static int anthropicEvent(lh_llm_stream *s, json_t *v) {
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) type = s->event;
    if (!strcmp(type, "error")) return apiError(s, json_object_get(v, "error"));
    if (!strcmp(type, "content_block_start")) {
        json_t *b = json_object_get(v, "content_block");
        const char *bt = json_string_value(json_object_get(b, "type"));
        json_t *t = json_object_get(b, "text");
        if (bt && !strcmp(bt, "text") && json_is_string(t))
            return appendText(s, json_string_value(t), json_string_length(t));
    } else if (!strcmp(type, "content_block_delta")) {
        json_t *d = json_object_get(v, "delta");
        const char *dt = json_string_value(json_object_get(d, "type"));
        json_t *t = json_object_get(d, "text");
        if (dt && !strcmp(dt, "text_delta") && json_is_string(t))
            return appendText(s, json_string_value(t), json_string_length(t));
    } else if (!strcmp(type, "message_delta")) {
        json_t *sr = json_object_get(json_object_get(v, "delta"), "stop_reason");
        if (json_is_string(sr)) setFinish(s, json_string_value(sr));
    } else if (!strcmp(type, "message_stop")) {
        s->reply.done = 1;
    }
    return 0;   /* message_start, content_block_stop, ping, and events to come: nothing to do */
}

/* An event is complete (a blank line, or the end of the body). */
static int dispatch(lh_llm_stream *s) {
    int rc = 0;
    if (s->has_data && !s->reply.done) {
        if (s->provider == LH_LLM_OPENAI && !strcmp(s->data, "[DONE]")) {
            s->reply.done = 1;
        } else {
            json_error_t je;
            json_t *v = json_loadb(s->data, s->data_len, 0, &je);
            if (!json_is_object(v)) rc = fail(s, "an event's data is not a JSON object");
            else rc = s->provider == LH_LLM_OPENAI ? openaiEvent(s, v) : anthropicEvent(s, v);
            json_decref(v);
        }
    }
    s->has_data = 0;
    s->data_len = 0;
    if (s->data) s->data[0] = 0;
    s->event[0] = 0;
    return rc;
}

static int line(lh_llm_stream *s) {
    const char *l = s->line ? s->line : "";
    size_t n = s->line_len;
    s->line_len = 0;
    if (n == 0) return dispatch(s);
    if (l[0] == ':') return 0;   /* a comment (keep-alive) */
    const char *colon = memchr(l, ':', n);
    size_t fl = colon ? (size_t)(colon - l) : n;
    const char *val = colon ? colon + 1 : l + n;
    size_t vl = n - (size_t)(val - l);
    if (vl && *val == ' ') { val++; vl--; }
    if (fl == 4 && !memcmp(l, "data", 4)) {
        if (s->has_data && lh_growbuf_append(&s->data, &s->data_len, &s->data_cap, LH_LLM_BODY_MAX, "\n", 1))
            return fail(s, "an event's data is too large");
        if (lh_growbuf_append(&s->data, &s->data_len, &s->data_cap, LH_LLM_BODY_MAX, val, vl))
            return fail(s, "an event's data is too large");
        s->has_data = 1;
    } else if (fl == 5 && !memcmp(l, "event", 5)) {
        snprintf(s->event, sizeof(s->event), "%.*s", (int)(vl < 63 ? vl : 63), val);
    }
    return 0;   /* id:, retry: and unknown fields are ignored, as SSE says */
}

int lh_llm_stream_feed(lh_llm_stream *s, const char *buf, size_t n) {
    if (s->failed) return -1;
    if (s->total + n > LH_LLM_BODY_MAX) return fail(s, "the streamed body is larger than 1 MiB");
    s->total += n;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n' && s->cr) { s->cr = 0; continue; }   /* the LF of a CRLF */
        s->cr = c == '\r';
        if (c == '\r' || c == '\n') {
            if (line(s)) return -1;
            continue;
        }
        /* take the run of ordinary bytes at once */
        size_t j = i;
        while (j < n && buf[j] != '\r' && buf[j] != '\n') j++;
        if (lh_growbuf_append(&s->line, &s->line_len, &s->line_cap, LINE_MAX_BYTES, buf + i, j - i))
            return fail(s, "an SSE line is longer than 64 KiB");
        i = j - 1;
    }
    return 0;
}

int lh_llm_stream_end(lh_llm_stream *s) {
    if (s->failed) return -1;
    if (s->line_len && line(s)) return -1;
    return dispatch(s);
}
