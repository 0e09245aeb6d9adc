/* fuzz_loadruns.c — libFuzzer target: arbitrary bytes as the body of POST /v1/load/runs,
 * through the route's steps without sockets (src/bridge/loadruns.c, postRun): the size
 * bound, UTF-8, lh_json_depth, jansson with duplicate keys refused, the schema
 * (lh_load_summary_check), then the event data as the route appends it. Checks: what the
 * schema accepts the store accepts too (lh_store_canonical_json: a summary is never a
 * 503), its canonical form passes the schema again (what GET /v1/load/runs hands back is a
 * summary), and it gives one trend row per pattern with the pattern's figures. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge_int.h"
#include "load/load.h"
#include "store/store.h"
#include "store/store_int.h"
#include "util/utf8.h"

#define JSON_DEPTH 32   /* the bridge's default json_depth */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *body = (const char *)data;
    if (size == 0 || size > LH_LOAD_SUMMARY_MAX_BYTES || !lh_utf8_valid(body, size) ||
        lh_json_depth(body, size, JSON_DEPTH) > JSON_DEPTH)
        return 0;
    json_t *s = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
    char err[256];
    if (!s || lh_load_summary_check(s, err, sizeof(err))) {
        if (s && !err[0]) abort();   /* a refusal always says why */
        json_decref(s);
        return 0;
    }
    char *ev = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    if (!ev) abort();
    char *canon = NULL, cerr[256];
    if (lh_store_canonical_json(ev, strlen(ev), LH_STORE_MAX_JSON_DEPTH_DEFAULT, &canon, cerr, sizeof(cerr)) != 0) {
        fprintf(stderr, "a summary the schema accepts, refused by the store: %s\n%s\n", cerr, ev);
        abort();
    }
    json_t *back = json_loads(canon, 0, NULL);
    if (!back || lh_load_summary_check(back, err, sizeof(err))) {
        fprintf(stderr, "the stored form of a summary fails the schema: %s\n%s\n", back ? err : "not JSON", canon);
        abort();
    }
    json_t *rows = json_array();
    lh_load_summary_rows(rows, back, 1, 0);
    const json_t *pats = json_object_get(back, "patterns");
    if (json_array_size(rows) != json_array_size(pats)) abort();
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *r = json_array_get(rows, i), *p = json_array_get(pats, i);
        if (!json_equal(json_object_get(r, "pattern"), json_object_get(p, "pattern")) ||
            !json_equal(json_object_get(r, "p99_ms"), json_object_get(p, "p99_ms")) ||
            !json_equal(json_object_get(r, "requests"), json_object_get(p, "requests")))
            abort();
    }
    json_decref(rows);
    json_decref(back);
    free(canon);
    free(ev);
    json_decref(s);
    return 0;
}
