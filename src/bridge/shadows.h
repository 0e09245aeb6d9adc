/* shadows.h — project shadows in the bridge (docs/shadows.md): the project's files as the
 * hooks saw them, at any seq or time.
 *
 *   POST /v1/shadows                 (builder, admin) a file's new content, a delete or a
 *                                    rename, reported by `lighthouse hook post-tool-use`
 *   GET  /v1/shadows/tree?at=        (expert, admin) every file at a seq or an ISO time
 *   GET  /v1/shadows/file?path=&at=  one file's bytes (or ?hash= one blob)
 *   GET  /v1/shadows/history?path=   the changes of one file (or of all, paged)
 *   GET  /v1/shadows/diff?path=&from=&to=   a unified diff between two points
 *
 * Contents are blobs in <data>/blobs, or with the PostgreSQL store in its shadow_blobs table
 * shared by all replicas (store/blobs.h), deduplicated by SHA-256; each change
 * is an audit event (shadow.updated, shadow.deleted, shadow.renamed) in the chain, so
 * `events verify` covers the record of every change, and every blob read is checked
 * against the hash its event names (a mismatch: 503 blob_corrupt, a shadow.corrupted event
 * and lighthouse_bridge_shadow_blob_corrupt_total).
 *
 * State: one lh_shadows per bridge, owned by this module: an index of the shadow.* events
 * (rebuilt from the store at the first use, then caught up from the store before each use,
 * so events another replica appended are seen too) and the blobs. Guarded by its
 * own mutex, which uploads hold across blob write and append: uploads are serialised
 * (they are rare beside decisions), so the project size limit holds exactly. */
#ifndef LH_BRIDGE_SHADOWS_H
#define LH_BRIDGE_SHADOWS_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/bridge_int.h"

typedef struct lh_shadows lh_shadows;

/* Open the blobs (<data>/blobs, or the PostgreSQL store's table). Limits from LIGHTHOUSE_SHADOW_MAX_FILE (bytes,
 * default 512 KiB) and LIGHTHOUSE_SHADOW_MAX_PROJECT (bytes, default 256 MiB). NULL with
 * err on failure. */
lh_shadows *lh_shadows_new(lh_bridge *b, char *err, size_t errlen);
void lh_shadows_free(lh_shadows *s);

/* Route handlers (server.c dispatches to them; auth and method are already checked). */
enum MHD_Result lh_route_shadows_post(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_shadows_tree(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_shadows_file(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_shadows_history(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_shadows_diff(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

/* For annotations.c: the content of path at seq at (INT64_MAX: the head) into *data
 * (malloc'd; caller frees), checked against its hash like every read, with the seq of the
 * change that made it (*seq) and the seq the tree is as of (*at_seq; either may be NULL).
 * 0; 1 when path has no shadow there; -1 with *status (404 blob_missing, 503) and code/err. */
int lh_shadows_read(lh_shadows *s, const char *path, int64_t at, char **data, size_t *len, int64_t *seq,
                    int64_t *at_seq, int *status, char code[32], char *err, size_t errlen);
/* A point argument (a seq or an ISO time) of request c, as GET /v1/shadows/tree takes it:
 * *seq INT64_MAX when absent. 0; -1 with err (a 400); -2 (a 503: the store). */
int lh_shadows_point_arg(lh_shadows *s, struct MHD_Connection *c, const char *name, int64_t *seq, char *err,
                         size_t errlen);

/* The shadow metrics' exposition text (malloc'd; caller frees), for /metrics. */
char *lh_shadows_metrics(lh_shadows *s);

#endif
