/* fuzz_llm.c — libFuzzer target: what a model API sends back to `lighthouse expert llm`
 * (src/expert/). The first byte picks the surface, the rest is the input:
 *   0-1  a streamed body (OpenAI, Anthropic) to the SSE assembler, fed whole and again in
 *        pieces whose sizes come from the input: both feedings must give the same reply
 *        (text, refusal, cut, end, failure), since a body's meaning cannot depend on how
 *        the network split it; then the text to the verdict parser
 *   2-3  a whole reply body (OpenAI, Anthropic) to lh_llm_reply_parse, then the verdict
 *   4    the bytes as the model's answer to lh_llm_verdict_parse
 * A verdict accepted must be allow or deny with a reason of 1..LH_LLM_REASON_MAX bytes;
 * a refusal leaves no reason behind; text stays within LH_LLM_ANSWER_MAX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expert/llm.h"

static void checkVerdict(const char *text, size_t len) {
    lh_llm_verdict v;
    char err[256];
    int rc = lh_llm_verdict_parse(text, len, &v, err, sizeof(err));
    size_t rl = strlen(v.reason);
    if (rc == 0 && (rl == 0 || rl > LH_LLM_REASON_MAX || (v.allow != 0 && v.allow != 1))) abort();
    if (rc != 0 && (rl != 0 || v.allow != 0 || !err[0])) abort();
}

static lh_llm_reply feed(lh_llm_provider p, const uint8_t *d, size_t n, const uint8_t *cuts, size_t ncuts,
                         int *failed) {
    lh_llm_stream s;
    lh_llm_stream_init(&s, p);
    size_t i = 0, k = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        size_t step = ncuts ? (size_t)cuts[k++ % ncuts] % 17 + 1 : n;
        if (step > n - i) step = n - i;
        rc = lh_llm_stream_feed(&s, (const char *)d + i, step);
        i += step;
    }
    if (rc == 0) lh_llm_stream_end(&s);
    *failed = s.failed;
    lh_llm_reply r = s.reply;
    lh_llm_stream_free(&s);
    if (r.len > LH_LLM_ANSWER_MAX || (r.text && strlen(r.text) > r.len)) abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int which = data[0] % 5;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    if (which <= 1 && n <= LH_LLM_BODY_MAX) {
        lh_llm_provider p = which == 0 ? LH_LLM_OPENAI : LH_LLM_ANTHROPIC;
        int f1, f2;
        lh_llm_reply a = feed(p, d, n, NULL, 0, &f1);
        lh_llm_reply b = feed(p, d, n, d, n < 64 ? n : 64, &f2);
        if (f1 != f2 || a.len != b.len || (a.len && memcmp(a.text, b.text, a.len)) || a.refused != b.refused ||
            a.truncated != b.truncated || a.done != b.done || strcmp(a.finish, b.finish) || strcmp(a.err, b.err))
            abort();
        if (a.text) checkVerdict(a.text, a.len);
        lh_llm_reply_free(&a);
        lh_llm_reply_free(&b);
    } else if (which <= 3) {
        lh_llm_reply r;
        lh_llm_reply_parse(which == 2 ? LH_LLM_OPENAI : LH_LLM_ANTHROPIC, (const char *)d, n, &r);
        if (r.len > LH_LLM_ANSWER_MAX) abort();
        if (r.text) checkVerdict(r.text, r.len);
        lh_llm_reply_free(&r);
    } else {
        checkVerdict((const char *)d, n);
    }
    return 0;
}
