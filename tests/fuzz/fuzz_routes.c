/* fuzz_routes.c — libFuzzer target: arbitrary bytes as the body of a decision route, handed
 * to the route layer's code without sockets. lh_route_decide itself takes a libmicrohttpd
 * connection and a running bridge (thread state, appender, store), which cannot be built
 * without a listening daemon, so this harness runs the same steps on the body in the same
 * order with the route layer's own functions (src/bridge/routes.c): the body checks
 * (UTF-8, lh_json_depth), the OPA route's {"input": …} unwrapping, the request parser, the
 * decision, and lh_bridge_event_data, the decision.made event. The first byte picks the
 * route (validate, hook, OPA). Checks: the event data is the store's canonical form as it
 * stands (routes.c promises it, so the store never rewrites it), and the reply's decision
 * JSON renders. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge_int.h"
#include "store/store.h"
#include "store/store_int.h"
#include "util/utf8.h"

#define JSON_DEPTH 32   /* the bridge's default json_depth */

static lh_engine *E;
static lh_arena *A;
static char *g_buf;
static const size_t kBufCap = 256u << 10;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!E) {
        char err[256];
        E = lh_engine_new(NULL, 0, err, sizeof(err));
        A = lh_arena_new(1 << 16);
        g_buf = malloc(kBufCap);
        if (!E || !A || !g_buf) abort();
    }
    if (size < 1) return 0;
    lh_route route = data[0] % 3 == 0 ? LH_ROUTE_VALIDATE : data[0] % 3 == 1 ? LH_ROUTE_HOOK : LH_ROUTE_OPA;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    /* checkBody */
    if (len == 0 || !lh_utf8_valid(body, len) || lh_json_depth(body, len, JSON_DEPTH) > JSON_DEPTH) return 0;
    lh_arena_reset(A);
    char *opaText = NULL;
    if (route == LH_ROUTE_OPA) {
        json_error_t je;
        json_t *opa = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        json_t *input = json_object_get(opa, "input");
        if (!opa || !json_is_object(input)) { json_decref(opa); return 0; }
        opaText = json_dumps(input, JSON_COMPACT);
        json_decref(opa);
        if (!opaText) abort();
        body = opaText;
        len = strlen(opaText);
    }
    lh_request r;
    char err[512];
    int prc = lh_request_parse_json(A, body, len, &r, err, sizeof(err));
    if (prc) { free(opaText); return 0; }
    lh_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.route = route;
    rq.claims.role = LH_ROLE_BUILDER;
    r.agent = "fuzz-agent";
    r.role = lh_role_name(rq.claims.role);
    if (!r.cwd) r.cwd = "/";
    lh_decision d;
    lh_engine_decide(E, &r, A, &d, 0);
    if (lh_bridge_event_data(&rq, &r, &d, "0123456789abcdef0123456789abcdef", g_buf, kBufCap) == 0) {
        size_t n = strlen(rq.evdata);
        char *canon = NULL, cerr[256];
        if (lh_store_canonical_json(rq.evdata, n, LH_STORE_MAX_JSON_DEPTH_DEFAULT, &canon, cerr, sizeof(cerr)) != 0) {
            fprintf(stderr, "event data refused by the store: %s\n%s\n", cerr, rq.evdata);
            abort();
        }
        if (strcmp(canon, rq.evdata)) {
            fprintf(stderr, "event data is not canonical:\n  bridge: %s\n  store:  %s\n", rq.evdata, canon);
            abort();
        }
        if (!lh_store_is_canonical(rq.evdata, n, LH_STORE_MAX_JSON_DEPTH_DEFAULT)) {
            fprintf(stderr, "event data is canonical but not recognised as such (slow path):\n%s\n", rq.evdata);
            abort();
        }
        free(canon);
    } else if (strlen(r.command ? r.command : "") < 64u << 10) {
        abort();   /* only a huge decision may fail to render */
    }
    if (lh_decision_to_json(&d, "0123456789abcdef0123456789abcdef", g_buf, kBufCap) < 0) abort();
    free(rq.evdata);
    free(opaText);
    return 0;
}
