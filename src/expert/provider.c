/* provider.c — what the two model APIs are sent and what their whole replies mean (see
 * llm.h): OpenAI-compatible chat completions (OpenAI, llama.cpp server, Ollama, vLLM) and
 * the Anthropic Messages API. Streamed replies are read by sse.c. */
#include "expert/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The JSON schema of a verdict, as OpenAI's structured outputs take it (strict mode knows
 * no maxLength: the length is checked by lh_llm_verdict_parse). */
static json_t *verdictFormat(lh_llm_format f) {
    if (f == LH_LLM_FORMAT_OBJECT) return json_pack("{s:s}", "type", "json_object");
    return json_pack("{s:s, s:{s:s, s:b, s:{s:s, s:{s:{s:s, s:[s,s]}, s:{s:s}}, s:[s,s], s:b}}}",
                     "type", "json_schema", "json_schema", "name", "verdict", "strict", 1, "schema",
                     "type", "object", "properties", "decision", "type", "string", "enum", "allow",
                     "deny", "reason", "type", "string", "required", "decision", "reason",
                     "additionalProperties", 0);
}

char *lh_llm_request_body(lh_llm_provider p, const char *model, const char *prompt, int max_tokens,
                          int stream, lh_llm_format format) {
    json_t *b = json_pack("{s:s, s:[{s:s, s:s}], s:i, s:i, s:b}", "model", model, "messages", "role",
                          "user", "content", prompt, "max_tokens", max_tokens, "temperature", 0,
                          "stream", stream);
    if (!b) return NULL;
    if (p == LH_LLM_OPENAI && format != LH_LLM_FORMAT_NONE) {
        json_t *rf = verdictFormat(format);
        if (!rf || json_object_set_new(b, "response_format", rf)) { json_decref(b); return NULL; }
    }
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

static int replyErr(lh_llm_reply *r, const char *what) {
    snprintf(r->err, sizeof(r->err), "%s", what);
    return -1;
}

static int setText(lh_llm_reply *r, const char *s, size_t n) {
    if (n > LH_LLM_ANSWER_MAX) return replyErr(r, "the answer is longer than 16 KiB");
    char *t = malloc(n + 1);
    if (!t) return replyErr(r, "out of memory");
    memcpy(t, s, n);
    t[n] = 0;
    free(r->text);
    r->text = t;
    r->len = n;
    return 0;
}

static void setFinish(lh_llm_reply *r, const char *why) {
    snprintf(r->finish, sizeof(r->finish), "%s", why);
    if (!strcmp(why, "length") || !strcmp(why, "max_tokens")) r->truncated = 1;
    if (!strcmp(why, "content_filter") || !strcmp(why, "refusal")) r->refused = 1;
}

static int apiError(lh_llm_reply *r, json_t *e) {
    const char *m = json_string_value(json_object_get(e, "message"));
    snprintf(r->err, sizeof(r->err), "the API reported an error: %.150s", m ? m : "(no message)");
    return -1;
}

static int openaiReply(json_t *v, lh_llm_reply *r) {
    json_t *e = json_object_get(v, "error");
    if (e) return apiError(r, e);
    json_t *c0 = json_array_get(json_object_get(v, "choices"), 0);
    json_t *m = json_object_get(c0, "message");
    if (!json_is_object(m)) return replyErr(r, "the reply has no choices[0].message");
    json_t *f = json_object_get(c0, "finish_reason");
    if (json_is_string(f)) setFinish(r, json_string_value(f));
    json_t *ref = json_object_get(m, "refusal");
    if (json_is_string(ref)) {
        r->refused = 1;
        snprintf(r->err, sizeof(r->err), "refusal: %.200s", json_string_value(ref));
    }
    json_t *content = json_object_get(m, "content");
    if (json_is_string(content)) return setText(r, json_string_value(content), json_string_length(content));
    if (!content || json_is_null(content)) return 0;   /* a refusal, or nothing */
    return replyErr(r, "choices[0].message.content is not a string");
}

static int anthropicReply(json_t *v, lh_llm_reply *r) {
    const char *type = json_string_value(json_object_get(v, "type"));
    if (type && !strcmp(type, "error")) return apiError(r, json_object_get(v, "error"));
    json_t *content = json_object_get(v, "content");
    if (!json_is_array(content)) return replyErr(r, "the reply has no content array");
    json_t *sr = json_object_get(v, "stop_reason");
    if (json_is_string(sr)) setFinish(r, json_string_value(sr));
    size_t i;
    json_t *b;
    json_array_foreach(content, i, b) {
        const char *bt = json_string_value(json_object_get(b, "type"));
        json_t *t = json_object_get(b, "text");
        if (!bt || strcmp(bt, "text") || !json_is_string(t)) continue;
        size_t n = json_string_length(t);
        if (r->len + n > LH_LLM_ANSWER_MAX) return replyErr(r, "the answer is longer than 16 KiB");
        char *q = realloc(r->text, r->len + n + 1);
        if (!q) return replyErr(r, "out of memory");
        memcpy(q + r->len, json_string_value(t), n);
        r->text = q;
        r->len += n;
        q[r->len] = 0;
    }
    return 0;
}

int lh_llm_reply_parse(lh_llm_provider p, const char *body, size_t len, lh_llm_reply *out) {
    memset(out, 0, sizeof(*out));
    out->done = 1;
    if (len > LH_LLM_BODY_MAX) return replyErr(out, "the reply is larger than 1 MiB");
    json_error_t je;
    json_t *v = json_loadb(body, len, 0, &je);
    if (!json_is_object(v)) {
        json_decref(v);
        return replyErr(out, "the reply is not a JSON object");
    }
    int rc = p == LH_LLM_OPENAI ? openaiReply(v, out) : anthropicReply(v, out);
    json_decref(v);
    return rc;
}

int lh_llm_url(lh_llm_provider p, const char *endpoint, char *out, size_t outlen) {
    const char *path = p == LH_LLM_OPENAI ? "/v1/chat/completions" : "/v1/messages";
    size_t el = strlen(endpoint);
    while (el && endpoint[el - 1] == '/') el--;
    /* keep the longest tail of path that the endpoint already ends with: "", "/v1" or all */
    size_t pl = strlen(path), keep = 0;
    for (size_t k = pl; k > 0; k--) {
        if (k != pl && path[k] != '/') continue;
        if (el >= k && !memcmp(endpoint + el - k, path, k)) { keep = k; break; }
    }
    int n = snprintf(out, outlen, "%.*s%s", (int)el, endpoint, path + keep);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
