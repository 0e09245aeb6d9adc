/* llm.h — `lighthouse expert llm`: an expert agent backed by a language model
 * (docs/expert-llm.md). It registers with the bridge as an expert, long-polls
 * GET /v1/escalations, renders the operator's prompt for each escalation, asks the model
 * (an OpenAI-compatible chat completions API or the Anthropic Messages API, whole or
 * streamed) for a strict JSON verdict, and posts it. Any answer that is malformed, a
 * refusal, an error or too late for the escalation's deadline is no verdict: nothing is
 * posted, the reason is logged and counted.
 *
 * The pieces, one file each:
 *   verdict.c   the strict verdict parser            lh_llm_verdict_parse
 *   sse.c       the SSE reader and delta assembler   lh_llm_stream_*
 *   provider.c  request bodies and whole replies     lh_llm_request_body, lh_llm_reply_parse
 *   prompt.c    the prompt template                  lh_llm_prompt_*
 *   call.c      one model call over HTTP (libcurl)   lh_llm_call
 *   run.c       the expert's loop against the bridge lh_expert_llm_run
 * Only run.c does I/O beyond its HTTP calls; the parsers are pure and bounded. */
#ifndef LH_EXPERT_LLM_H
#define LH_EXPERT_LLM_H

#include <signal.h>
#include <stddef.h>

#include <jansson.h>

#define LH_LLM_REASON_MAX 2000          /* bytes of a verdict's reason (the bridge's bound) */
#define LH_LLM_ANSWER_MAX (16u << 10)   /* bytes of the model's answer text */
#define LH_LLM_BODY_MAX (1u << 20)      /* bytes of a model reply body (whole or streamed) */
#define LH_LLM_PROMPT_MAX (256u << 10)  /* bytes of a rendered prompt */
#define LH_LLM_TEMPLATE_MAX (64u << 10) /* bytes of the prompt file */

typedef enum { LH_LLM_OPENAI = 0, LH_LLM_ANTHROPIC = 1 } lh_llm_provider;

/* ------------------------------------------------------------------ verdict.c */

typedef struct lh_llm_verdict {
    int allow;                             /* 1 allow, 0 deny */
    char reason[LH_LLM_REASON_MAX + 1];
} lh_llm_verdict;

/* Parse the model's answer text[0..len) as exactly {"decision": "allow"|"deny",
 * "reason": "..."}: one JSON object (whitespace around it allowed, nothing else), those
 * two keys and no other, no duplicate, decision exactly "allow" or "deny", reason a
 * string of 1..LH_LLM_REASON_MAX bytes that is not only whitespace. 0 with *out, or -1
 * with what was wrong in err. */
int lh_llm_verdict_parse(const char *text, size_t len, lh_llm_verdict *out, char *err, size_t errlen);

/* ------------------------------------------------------------------ replies */

/* What a model said, whole or assembled from a stream. */
typedef struct lh_llm_reply {
    char *text;            /* the answer's text (malloc'd, NUL-terminated; may be NULL) */
    size_t len;
    int refused;           /* OpenAI `refusal`, finish_reason content_filter, Anthropic stop_reason refusal */
    int truncated;         /* finish_reason length / stop_reason max_tokens */
    int done;              /* the stream ended properly ([DONE], message_stop); whole replies: 1 */
    char finish[32];       /* finish_reason or stop_reason as the model gave it ("" none) */
    char err[256];         /* an error the API reported in the body, or a malformed body */
} lh_llm_reply;

void lh_llm_reply_free(lh_llm_reply *r);

/* ------------------------------------------------------------------ sse.c */

/* An SSE reader fed the body as it arrives, in pieces of any size. It assembles the text
 * deltas of either API into reply.text (at most LH_LLM_ANSWER_MAX bytes) and notes the
 * refusal, the finish reason and an error event. A line longer than LH_LLM_ANSWER_MAX,
 * an event whose data is not JSON or more text than the bound make it fail. */
typedef struct lh_llm_stream {
    lh_llm_provider provider;
    lh_llm_reply reply;
    size_t text_cap;       /* reply.text's allocation */
    int failed;            /* reply.err says why; later input is ignored */
    int cr;                /* the last byte fed was a CR (a CRLF may be split) */
    char *line;            /* the line being read */
    size_t line_len, line_cap;
    char *data;            /* the data lines of the event being read, joined by \n */
    size_t data_len, data_cap;
    int has_data;
    char event[64];
    size_t total;          /* bytes fed */
} lh_llm_stream;

void lh_llm_stream_init(lh_llm_stream *s, lh_llm_provider provider);
/* Feed n bytes: 0, or -1 once the stream failed (s->reply.err). */
int lh_llm_stream_feed(lh_llm_stream *s, const char *buf, size_t n);
/* The body ended: dispatch an event left without its blank line. 0 or -1 as above. */
int lh_llm_stream_end(lh_llm_stream *s);
/* Frees the buffers, not the reply (the caller takes s->reply and frees it). */
void lh_llm_stream_free(lh_llm_stream *s);

/* ------------------------------------------------------------------ provider.c */

typedef enum { LH_LLM_FORMAT_SCHEMA = 0, LH_LLM_FORMAT_OBJECT, LH_LLM_FORMAT_NONE } lh_llm_format;

/* The request body (malloc'd JSON text) that asks model for prompt: for OpenAI
 * {"model", "messages": [{"role": "user"}], "max_tokens", "response_format", "stream"},
 * for Anthropic {"model", "max_tokens", "messages", "stream"}. NULL when out of memory. */
char *lh_llm_request_body(lh_llm_provider p, const char *model, const char *prompt, int max_tokens,
                          int stream, lh_llm_format format);
/* Read a whole (not streamed) reply body into *out (text, refused, truncated, finish;
 * err when the body is not the API's reply or reports an error). 0, or -1 with out->err. */
int lh_llm_reply_parse(lh_llm_provider p, const char *body, size_t len, lh_llm_reply *out);
/* The URL to POST to: endpoint with /v1/chat/completions or /v1/messages appended
 * (only the part it does not already end with). 0, or -1 when it does not fit. */
int lh_llm_url(lh_llm_provider p, const char *endpoint, char *out, size_t outlen);

/* ------------------------------------------------------------------ prompt.c */

/* Check a template: every {{name}} must be a known placeholder (docs/expert-llm.md).
 * 0, or -1 naming the first unknown one (and its line) in err. */
int lh_llm_prompt_check(const char *tmpl, char *err, size_t errlen);
/* Render tmpl for the escalation esc (the bridge's ESC object); now_ns is the wall clock
 * (for {{deadline_s}}). Each placeholder becomes its value as JSON text. A malloc'd
 * string of at most LH_LLM_PROMPT_MAX bytes, or NULL with err. */
char *lh_llm_prompt_render(const char *tmpl, const json_t *esc, long long now_ns, char *err, size_t errlen);
/* The built-in template (prompts/expert-llm.md, compiled in). */
extern const char lh_expert_llm_prompt[];

/* ------------------------------------------------------------------ call.c */

typedef struct lh_llm_config {
    lh_llm_provider provider;
    char url[1024];        /* from lh_llm_url */
    char model[256];
    char *api_key;         /* NULL: none sent. Never logged */
    int stream;
    int max_tokens;
    lh_llm_format format;
    const volatile sig_atomic_t *stop;   /* non-zero: abort transfers (may be NULL) */
} lh_llm_config;

typedef enum {
    LH_LLM_OK = 0,         /* HTTP 200 and a reply read (it may still be a refusal or malformed) */
    LH_LLM_HTTP,           /* another HTTP status: status, retry_after_ms (429 / 503), err */
    LH_LLM_TRANSPORT,      /* no reply: connection, timeout, body too large, stopped */
} lh_llm_outcome;

typedef struct lh_llm_result {
    lh_llm_outcome outcome;
    long status;
    long retry_after_ms;   /* -1 none; from Retry-After (seconds or an HTTP date) */
    int timed_out;
    int too_big;           /* the body passed LH_LLM_BODY_MAX (not worth asking again) */
    lh_llm_reply reply;
    char err[256];
} lh_llm_result;

/* One POST of body to the model, for at most timeout_ms. The result's reply is the caller's
 * (lh_llm_reply_free). Returns out->outcome. */
lh_llm_outcome lh_llm_call(const lh_llm_config *c, const char *body, long timeout_ms, lh_llm_result *out);

/* ------------------------------------------------------------------ run.c */

#define LH_EXPERT_LLM_CLAIM_MAX_S 3600   /* the bridge's longest lease (?claim=) */
#define LH_EXPERT_LLM_CLAIM_EXTRA_S 30   /* --claim's default: --timeout plus this */

typedef struct lh_expert_llm_opts {
    lh_llm_config llm;
    char bridge_url[1024];
    char *token;               /* the expert's token (LIGHTHOUSE_TOKEN) */
    json_t *capabilities;      /* an array of strings */
    char *prompt;              /* the template (checked) */
    long timeout_ms;           /* the most one model call may take (--timeout) */
    long margin_ms;            /* an answer later than deadline - margin is no verdict (--margin) */
    int retries_5xx;           /* bounded retries after a 5xx */
    int once;                  /* stop after one escalation */
    int poll_wait_s;           /* the long-poll's wait */
    int claim_s;               /* the lease of what a poll hands it (?claim=, --claim); 0: plain polls */
    const volatile sig_atomic_t *stop;
} lh_expert_llm_opts;

/* Counters, printed when it stops. */
typedef struct lh_expert_llm_stats {
    long handled, verdicts, no_verdict;
    long malformed, refused, late, errors, rate_limited, rejected;
} lh_expert_llm_stats;

/* Run the expert until *stop (or after one escalation with once). One JSON line per
 * escalation handled on stdout; logs on stderr. 0 when it stopped as asked, 1 when with
 * --once the escalation got no verdict, 2 when the bridge refuses the token or the
 * options are wrong, 3 when the bridge could not be reached for long. */
int lh_expert_llm_run(const lh_expert_llm_opts *o, lh_expert_llm_stats *st);

#endif
