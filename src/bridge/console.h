/* console.h — the review console's routes (docs/review.md):
 *   GET /ui/...                        its static files (ui/, embedded at build time by
 *                                      scripts/embed_ui.sh); open: the page is public, every
 *                                      piece of data comes from the API with the user's token
 *   GET /v1/policy/revisions/{rev}     the YAML text of one recorded policy revision
 *                                      (expert, admin), which the console diffs
 * server.c calls both from the header phase: neither has a body. */
#ifndef LH_BRIDGE_CONSOLE_H
#define LH_BRIDGE_CONSOLE_H

#include <stddef.h>

typedef struct lh_ui_file {
    const char *path;   /* under /ui/, e.g. "index.html", "js/app.js" */
    const char *ctype;
    const char *data;   /* static; NUL-terminated */
    size_t len;
} lh_ui_file;

/* build/gen/ui_files.c (scripts/embed_ui.sh). */
extern const lh_ui_file lh_ui_files[];
extern const size_t lh_ui_nfiles;

#ifndef LH_UI_FILES_ONLY
#include "bridge/bridge_int.h"

/* url starts with "/ui" (and is "/ui" or "/ui/..."). */
enum MHD_Result lh_route_ui(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *url, const char *method);
/* rev: what follows "/v1/policy/revisions/" (the caller has authorized the request). */
enum MHD_Result lh_route_policy_revision(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *rev);
#endif

#endif
