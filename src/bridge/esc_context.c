/* esc_context.c — what an expert is shown of an escalation: its request and its context
 * (esc_context.h). */
#include "bridge/esc_context.h"

#include <stdlib.h>
#include <string.h>

#include "bridge/bridge_int.h"
#include "engine/paths.h"
#include "engine/shell.h"
#include "util/utf8.h"

#define CTX_MAX_ITEMS 32           /* commands, paths, findings in a context */

static int looksLikePath(const char *s) {
    return s[0] == '/' || s[0] == '~' || !strncmp(s, "./", 2) || !strncmp(s, "../", 3);
}

json_t *lh_esc_context(lh_bridge *b, const lh_request *r, const lh_decision *dx, lh_arena *a) {
    json_t *ctx = json_object();
    if (r->command) {
        char *cmd = lh_utf8_dup_cut(r->command, LH_ESC_CTX_TEXT_MAX);
        json_object_set_new(ctx, "command", json_string(cmd ? cmd : ""));
        free(cmd);
    }
    json_t *cmds = json_array(), *paths = json_array(), *finds = json_array();
    const char *cwd = r->cwd ? r->cwd : "/";
    int proj = lh_path_cwd_is_project(cwd, r->home);
    int np = 0;
    if (r->file_path || r->path) {
        const char *p = r->file_path ? r->file_path : r->path;
        lh_path pp;
        lh_path_classify_in(a, cwd, r->home, proj, p, strlen(p), &pp);
        json_array_append_new(paths, json_pack("{s:s,s:s}", "path", pp.norm ? pp.norm : p, "class",
                                               lh_path_class_name(pp.cls)));
        np++;
    }
    const lh_script *s = dx ? dx->script : NULL;
    for (int i = 0; s && i < s->ncmds && i < CTX_MAX_ITEMS; i++) {
        const lh_cmd *c = &s->cmds[i];
        json_t *args = json_array();
        for (int k = 1; k < c->argc && k <= CTX_MAX_ITEMS; k++) {
            char *w = lh_utf8_dup_cut(c->argv[k].s, 1024);
            json_array_append_new(args, json_string(w ? w : ""));
            if (w && np < CTX_MAX_ITEMS && looksLikePath(w)) {
                lh_path pp;
                lh_path_classify_in(a, cwd, r->home, proj, c->argv[k].s, c->argv[k].len, &pp);
                json_array_append_new(paths, json_pack("{s:s,s:s}", "path", pp.norm ? pp.norm : w, "class",
                                                       lh_path_class_name(pp.cls)));
                np++;
            }
            free(w);
        }
        json_array_append_new(cmds, json_pack("{s:s,s:o}", "program", c->prog ? c->prog : "", "args", args));
    }
    for (int i = 0; dx && i < dx->nfindings && i < CTX_MAX_ITEMS; i++) {
        const lh_finding *f = &dx->findings[i];
        if (f->overridden_by) continue;
        json_array_append_new(finds, json_pack("{s:s,s:s,s:s,s:s}", "rule", f->rule, "decision",
                                               lh_action_name(f->action), "risk", lh_risk_name(f->risk), "reason",
                                               f->reason ? f->reason : ""));
    }
    json_object_set_new(ctx, "commands", cmds);
    json_object_set_new(ctx, "paths", paths);
    json_object_set_new(ctx, "findings", finds);
    /* The agent's last decisions (a read of the store; only when an escalation is made). */
    json_t *recent = json_array();
    lh_store_filter f = {.type = "decision.made", .agent = r->agent, .descending = 1, .limit = 5};
    lh_event_list l = {0};
    char err[256];
    if (r->agent && lh_store_query(b->store, &f, &l, err, sizeof(err)) == 0) {
        for (size_t i = l.n; i-- > 0;) {
            json_t *d = json_loads(l.events[i].data, 0, NULL);
            json_t *dec = json_object_get(d, "decision");
            const char *sum = json_string_value(json_object_get(d, "command"));
            if (!sum) sum = json_string_value(json_object_get(d, "file_path"));
            if (!sum) sum = json_string_value(json_object_get(d, "tool"));
            char *cut = lh_utf8_dup_cut(sum ? sum : "", 200);
            json_array_append_new(recent, json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)l.events[i].seq,
                                                    "decision", json_string_value(json_object_get(dec, "decision"))
                                                                    ? json_string_value(json_object_get(dec, "decision")) : "",
                                                    "rule", json_string_value(json_object_get(dec, "rule"))
                                                                ? json_string_value(json_object_get(dec, "rule")) : "",
                                                    "summary", cut ? cut : ""));
            free(cut);
            json_decref(d);
        }
    }
    lh_event_list_free(&l);
    json_object_set_new(ctx, "recent", recent);
    return ctx;
}

json_t *lh_esc_request_json(const lh_request *r) {
    json_t *in = json_object();
    char *cmd = r->command ? lh_utf8_dup_cut(r->command, LH_ESC_CTX_TEXT_MAX) : NULL;
    if (cmd) json_object_set_new(in, "command", json_string(cmd));
    free(cmd);
    if (r->file_path) json_object_set_new(in, "file_path", json_string(r->file_path));
    if (r->path) json_object_set_new(in, "path", json_string(r->path));
    if (r->url) json_object_set_new(in, "url", json_string(r->url));
    return json_pack("{s:s,s:o,s:s}", "tool", r->tool_name ? r->tool_name : "", "input", in, "cwd",
                     r->cwd ? r->cwd : "/");
}

