/* fuzz_elicit.c — libFuzzer target: the elicitation core (src/bridge/elicitations.c) and
 * its schema subset (src/util/jschema.c) without HTTP. The input is two bodies separated
 * by the first NUL byte: a POST /v1/elicitations body and a response body. Checks: the
 * create answers 201 or a 4xx with a code and a message; a created elicitation's schema
 * passes lh_jschema_check; the response answers 200, 400, 403 or 409 (413 past the
 * content bound); it is accepted exactly when lh_jschema_validate accepts its content;
 * a refused answer leaves it pending and records nothing; the same calls answer the same
 * twice (a second module). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/elicitations.h"
#include "util/jschema.h"

static int nrec;

static int countAppend(void *ctx, const char *type, const char *agent, const char *aggregate, const char *data,
                       char *err, size_t errlen) {
    (void)ctx; (void)type; (void)agent; (void)aggregate; (void)err; (void)errlen;
    if (!data || !*data) abort();
    nrec++;
    return 0;
}

static const lh_elicit_caller ASKER = {"asker", 0}, ADDRESSEE = {"builder-2", 0};

/* One round: create from a, answer with r as the addressee. Returns the two statuses. */
static void round1(const char *a, size_t alen, const char *r, size_t rlen, int *st1, int *st2, char *state, size_t cap) {
    lh_elicit_limits lim = {.rate = 0, .burst = 1, .max_pending_to = 10, .max_pending = 10, .max_message = 4096,
                            .max_schema = 16384, .max_waiters = 1};
    lh_elicits *e = lh_elicits_new(&lim, countAppend, NULL);
    if (!e) abort();
    int64_t now = 1800000000000000000LL;
    lh_elicit_result res;
    nrec = 0;
    lh_elicits_create(e, &ASKER, a, alen, now, &res);
    *st1 = res.status;
    *st2 = 0;
    state[0] = 0;
    if (res.status != 201) {
        if (res.status < 400 || res.status > 499 || !res.code[0] || !res.msg[0] || res.body || nrec) abort();
        lh_elicits_free(e);
        return;
    }
    if (nrec != 1) abort();
    char id[32], err[512], field[LH_JSCHEMA_MAX_NAME + 1];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(res.body, "id")));
    json_t *schema = json_incref(json_object_get(res.body, "schema"));
    json_decref(res.body);
    if (lh_jschema_check(schema, err, sizeof(err))) abort();
    lh_elicits_respond(e, &ADDRESSEE, id, r, rlen, now + 1, &res);
    *st2 = res.status;
    if (res.status != 200 && res.status != 400 && res.status != 403 && res.status != 409 && res.status != 413) abort();
    json_t *rj = json_loadb(r, rlen, JSON_REJECT_DUPLICATES, NULL);
    const char *action = json_string_value(json_object_get(rj, "action"));
    if (res.status == 200) {
        const char *st = json_string_value(json_object_get(res.body, "state"));
        snprintf(state, cap, "%s", st ? st : "?");
        if (nrec != 2) abort();
        if (!strcmp(state, "accepted") &&
            lh_jschema_validate(schema, json_object_get(rj, "content"), field, sizeof(field), err, sizeof(err)))
            abort();   /* accepted what the validator refuses */
        json_decref(res.body);
    } else {
        if (nrec != 1 || res.body) abort();   /* a refused answer records nothing */
        if (res.status == 400 && !strcmp(res.code, "schema_mismatch") && action && !strcmp(action, "accept") &&
            !lh_jschema_validate(schema, json_object_get(rj, "content"), field, sizeof(field), err, sizeof(err)))
            abort();   /* refused what the validator accepts */
        if (lh_elicits_pending(e) != 1) abort();
    }
    json_decref(rj);
    json_decref(schema);
    lh_elicits_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    const char *nul = memchr(p, 0, size);
    size_t alen = nul ? (size_t)(nul - p) : size;
    const char *r = nul ? nul + 1 : "{\"action\":\"accept\",\"content\":{}}";
    size_t rlen = nul ? size - alen - 1 : strlen(r);
    int a1, a2, b1, b2;
    char s1[32], s2[32];
    round1(p, alen, r, rlen, &a1, &a2, s1, sizeof(s1));
    round1(p, alen, r, rlen, &b1, &b2, s2, sizeof(s2));
    if (a1 != b1 || a2 != b2 || strcmp(s1, s2)) abort();
    return 0;
}
