/* mount_client.h — what `lighthouse mount` (mount.c) knows of the bridge: its shadow API
 * over HTTP (libcurl), with the caches that make reads cheap (docs/shadows.md).
 *
 *   blobs   by SHA-256, forever (a blob's content never changes; each is checked against
 *           its hash before it is cached), up to LH_MC_BLOB_CACHE bytes in all
 *   trees   by point ("" the head, "seq:N", "time:ISO"): the head's for LH_MC_TREE_TTL_MS,
 *           a tree at a seq the bridge had already passed forever (it cannot change)
 *   events  a growing buffer of JSON lines fed by polling GET /v1/events (streams/events)
 *
 * Every function may be called from any FUSE thread. Errors are negative errno values:
 * -EIO when the bridge cannot be reached or fails (so a read fails while it is away and
 * works again when it is back: every call asks anew), -EACCES when it refuses the token,
 * -ENOENT when the thing does not exist. */
#ifndef LH_MOUNT_CLIENT_H
#define LH_MOUNT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define LH_MC_BLOB_CACHE (256u << 20)
#define LH_MC_TREE_TTL_MS 1000
#define LH_MC_EVENTS_MAX (8u << 20)

typedef struct lh_mc lh_mc;

typedef struct lh_mc_file {
    char *path;
    char hash[65];
    int64_t size, seq, time_ns;
} lh_mc_file;

/* A tree: sorted by path; shared and reference counted (lh_mc_tree_release). */
typedef struct lh_mc_tree {
    int refs;              /* under the client's mutex */
    int64_t at_seq;
    uint64_t fetched_ms;
    int forever;
    char spec[96];
    lh_mc_file *files;
    size_t n;
} lh_mc_tree;

/* A client of the bridge at url with token; name identifies this mount to the bridge
 * (X-Lighthouse-Mount). NULL when out of memory. */
lh_mc *lh_mc_new(const char *url, const char *token, const char *name);
void lh_mc_free(lh_mc *m);

/* GET path (with its query, already escaped): 0 with *status and *body (malloc'd,
 * NUL-terminated), or -EIO when the bridge could not be reached (why in err). */
int lh_mc_get(lh_mc *m, const char *path, int *status, char **body, size_t *len, char *err, size_t errlen);

/* The tree at spec ("" the head, "seq:N", "time:ISO"): 0 with *out (release it), or a
 * negative errno. */
int lh_mc_tree_get(lh_mc *m, const char *spec, lh_mc_tree **out);
void lh_mc_tree_release(lh_mc *m, lh_mc_tree *t);

/* The bytes of blob hash (verified, cached forever): 0 with *data and *len, borrowed from
 * the cache until lh_mc_free; or a negative errno. */
int lh_mc_blob(lh_mc *m, const char *hash, const char **data, size_t *len);

/* The seqs of the shadow changes (history/): 0 with *seqs (malloc'd) and *n, or -errno. */
int lh_mc_changes(lh_mc *m, int64_t **seqs, size_t *n);

/* streams/events: start the poller (events after the last `backlog` ones), its size so
 * far, and a read of it. */
int lh_mc_events_start(lh_mc *m, int backlog);
void lh_mc_events_stop(lh_mc *m);
uint64_t lh_mc_events_size(lh_mc *m);
size_t lh_mc_events_read(lh_mc *m, char *buf, size_t size, uint64_t off);

/* Count a READ of a tree file (debug/status.json's file_reads: a read the kernel's page
 * cache served is not counted). */
void lh_mc_note_file_read(lh_mc *m);
/* Count a LOOKUP or GETATTR of a name in a tree (tree_attrs: one the kernel's caches
 * answered is not counted). */
void lh_mc_note_tree_attr(lh_mc *m);

/* debug/status.json: the client's state as JSON text (malloc'd). */
char *lh_mc_status(lh_mc *m);

#endif
