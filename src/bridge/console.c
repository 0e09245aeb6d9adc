/* console.c — the review console's routes (see console.h): its static files under /ui/
 * and the text of one policy revision.
 *
 * The files are compiled in (build/gen/ui_files.c), so a request never touches the disk
 * and a path can only name one of them: "/ui/../x" is just a name that is not in the
 * table. Every reply carries a Content-Security-Policy that lets the page load only its
 * own scripts and styles and talk only to its own origin, so even a value that escaped
 * the page's text-only rendering could not load or send anything elsewhere. */
#include "bridge/console.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------ */
/* /ui/                                                                             */
/* ------------------------------------------------------------------------------ */

#define UI_CSP                                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "        \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const lh_ui_file *findFile(const char *name) {
    if (!*name) name = "index.html";
    for (size_t i = 0; i < lh_ui_nfiles; i++)
        if (!strcmp(lh_ui_files[i].path, name)) return &lh_ui_files[i];
    return NULL;
}

static void secureHeaders(struct MHD_Response *resp) {
    MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
}

enum MHD_Result lh_route_ui(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *url, const char *method) {
    r->route = LH_ROUTE_UI;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return lh_http_error(b, c, r, 405, "method_not_allowed", "%s needs GET", url);
    if (!strcmp(url, "/ui")) {  /* the page's relative links need the slash */
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/ui/");
        enum MHD_Result rc = MHD_queue_response(c, 308, resp);
        MHD_destroy_response(resp);
        r->status = 308;
        return rc;
    }
    const lh_ui_file *f = findFile(url + 4);   /* after "/ui/" */
    if (!f) return lh_http_error(b, c, r, 404, "not_found", "no file %s in the console", url);
    struct MHD_Response *resp = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->ctype);
    /* index.html names the scripts: never cached, so a new bridge's page is the one shown.
     * The rest is revalidated each time too (no ETag: they are small and local). */
    MHD_add_response_header(resp, "Cache-Control", !strcmp(f->path, "index.html") ? "no-store" : "no-cache");
    secureHeaders(resp);
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* GET /v1/policy/revisions/{rev}                                                   */
/* ------------------------------------------------------------------------------ */

/* Scans the newest policy.* events (as the rollback does, revisions.c) for the revision's
 * YAML; every activation and rollback records it. */
enum MHD_Result lh_route_policy_revision(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *rev) {
    if (!*rev || strlen(rev) > 150 || strchr(rev, '/'))
        return lh_http_error(b, c, r, 400, "bad_request", "name one revision: /v1/policy/revisions/REVISION");
    lh_store_filter f = {.type = "policy.*", .descending = 1, .limit = 1000};
    lh_event_list l = {0};
    char err[256];
    if (lh_store_query(b->store, &f, &l, err, sizeof(err))) {
        lh_event_list_free(&l);
        return lh_http_error(b, c, r, 503, "store_unavailable", "cannot read the policy history: %s", err);
    }
    json_t *out = NULL;
    for (size_t i = 0; i < l.n && !out; i++) {
        json_t *d = json_loads(l.events[i].data, 0, NULL);
        const char *rv = json_string_value(json_object_get(d, "revision"));
        json_t *pol = json_object_get(d, "policy");
        if (rv && json_is_string(pol) && !strcmp(rv, rev))
            out = json_pack("{s:s,s:O,s:I,s:s,s:I,s:s}", "revision", rv, "policy", pol, "seq",
                            (json_int_t)l.events[i].seq, "type", l.events[i].type, "time_ns",
                            (json_int_t)l.events[i].time_ns, "agent", l.events[i].agent);
        json_decref(d);
    }
    lh_event_list_free(&l);
    if (!out) return lh_http_error(b, c, r, 404, "not_found", "no recorded policy revision %s", rev);
    return lh_bridge_reply_json(c, r, 200, out);
}
