/* verdict.c — the strict parser of a model's verdict (see llm.h). A model's answer is
 * untrusted text: anything but exactly the object asked for is refused, so that a
 * half-formed, chatty or injected answer never becomes a vote. */
#include "expert/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static int bad(char *err, size_t errlen, const char *what) {
    snprintf(err, errlen, "%s", what);
    return -1;
}

/* 1 when s holds something other than whitespace. */
static int hasText(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 1;
    return 0;
}

int lh_llm_verdict_parse(const char *text, size_t len, lh_llm_verdict *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (!text || len == 0) return bad(err, errlen, "empty answer");
    if (len > LH_LLM_ANSWER_MAX) return bad(err, errlen, "answer longer than 16 KiB");
    if (!lh_utf8_valid(text, len)) return bad(err, errlen, "answer is not UTF-8 text");
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        snprintf(err, errlen, "answer is not one JSON object: %s", je.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(v)) { bad(err, errlen, "answer is JSON but not an object"); goto done; }
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        if (strcmp(key, "decision") && strcmp(key, "reason")) {
            snprintf(err, errlen, "unexpected key \"%.64s\" (only decision and reason)", key);
            goto done;
        }
    }
    json_t *d = json_object_get(v, "decision"), *r = json_object_get(v, "reason");
    if (!d) { bad(err, errlen, "no \"decision\""); goto done; }
    if (!r) { bad(err, errlen, "no \"reason\""); goto done; }
    if (!json_is_string(d)) { bad(err, errlen, "\"decision\" is not a string"); goto done; }
    if (!json_is_string(r)) { bad(err, errlen, "\"reason\" is not a string"); goto done; }
    const char *ds = json_string_value(d);
    if (!strcmp(ds, "allow")) out->allow = 1;
    else if (!strcmp(ds, "deny")) out->allow = 0;
    else { snprintf(err, errlen, "\"decision\" is \"%.32s\", not \"allow\" or \"deny\"", ds); goto done; }
    size_t rl = json_string_length(r);
    const char *rs = json_string_value(r);
    if (rl > LH_LLM_REASON_MAX) {
        snprintf(err, errlen, "\"reason\" is %zu bytes, more than %d", rl, LH_LLM_REASON_MAX);
        goto done;
    }
    if (strlen(rs) != rl) { bad(err, errlen, "\"reason\" holds a NUL"); goto done; }
    if (!hasText(rs)) { bad(err, errlen, "\"reason\" is empty"); goto done; }
    memcpy(out->reason, rs, rl + 1);
    rc = 0;
done:
    json_decref(v);
    if (rc) memset(out, 0, sizeof(*out));
    return rc;
}

void lh_llm_reply_free(lh_llm_reply *r) {
    if (!r) return;
    free(r->text);
    r->text = NULL;
    r->len = 0;
}
