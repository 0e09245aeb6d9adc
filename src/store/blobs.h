/* blobs.h — a content-addressed blob directory beside the event store: the file contents
 * of project shadows (docs/shadows.md). The audit chain records each shadow.* event with
 * its blob's SHA-256; the blob itself lives here, once per distinct content.
 *
 * Layout: DIR/ab/abcdef…(64 hex digits), mode 0600, written to a temporary file, fsynced,
 * renamed into place and the directory fsynced, so a blob named in an event is durable
 * before the event is appended (the caller puts the blob first).
 *
 * Reads verify: a blob whose bytes do not hash to its name is refused (LH_BLOBS_CORRUPT),
 * never served. A put of content whose blob exists but is corrupt rewrites it.
 *
 * With the PostgreSQL store the blobs live in its database instead (lh_blobs_open_pg,
 * blobs_pg.c: the table shadow_blobs), so every replica sharing the store reads every
 * blob; the contracts below are the same, durability being the commit's.
 *
 * Threads: an lh_blobs may be used by any number of threads (each put writes its own
 * temporary file; rename is atomic). Errors: -1 (I/O, with err), or the codes below. */
#ifndef LH_BLOBS_H
#define LH_BLOBS_H

#include <stddef.h>

#define LH_BLOBS_NOTFOUND (-2)
#define LH_BLOBS_CORRUPT  (-3)

typedef struct lh_blobs lh_blobs;

/* Open (creating, 0700) the blob directory dir. NULL with err on failure. */
lh_blobs *lh_blobs_open(const char *dir, char *err, size_t errlen);
void lh_blobs_close(lh_blobs *bs);

/* Open the blobs of the PostgreSQL store at conninfo (creating its table). NULL with err. */
lh_blobs *lh_blobs_open_pg(const char *conninfo, char *err, size_t errlen);

/* Store data[0..len): hex[65] gets its SHA-256 (lower-case hex); *created (may be NULL)
 * is 1 when a new blob was written, 0 when an intact one was already there. 0, or -1
 * with err; the blob is durable on 0. */
int lh_blobs_put(lh_blobs *bs, const void *data, size_t len, char hex[65], int *created, char *err, size_t errlen);

/* Read and verify the blob named hex (64 lower-case hex digits) of at most max bytes:
 * *data is malloc'd (caller frees; NUL-terminated past *len). 0; LH_BLOBS_NOTFOUND;
 * LH_BLOBS_CORRUPT (its bytes do not match its name, or it is larger than max); -1 with
 * err on a bad name or an I/O error. */
int lh_blobs_get(lh_blobs *bs, const char *hex, size_t max, char **data, size_t *len, char *err, size_t errlen);

/* 1 when hex is 64 lower-case hex digits. */
int lh_blobs_valid_name(const char *hex);

/* The path of blob hex into out[cap] (for tests and operators). */
void lh_blobs_path(const lh_blobs *bs, const char *hex, char *out, size_t cap);

#endif
