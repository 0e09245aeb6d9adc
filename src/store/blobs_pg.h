/* blobs_pg.h — the PostgreSQL side of store/blobs.h (blobs_pg.c): the blobs of project
 * shadows in a table of the shared store, so every replica reads what any one stored.
 * Used through lh_blobs (lh_blobs_open_pg); the contracts are those of lh_blobs_put and
 * lh_blobs_get, with hex already computed by the caller. */
#ifndef LH_BLOBS_PG_H
#define LH_BLOBS_PG_H

#include <stddef.h>

typedef struct lh_blobs_pg lh_blobs_pg;

/* Connect to conninfo and create the table when it is missing. NULL with err. */
lh_blobs_pg *lh_blobs_pg_open(const char *conninfo, char *err, size_t errlen);
void lh_blobs_pg_close(lh_blobs_pg *p);

/* Store data[0..len) under hex (its SHA-256): *created 1 when a row was inserted or a
 * corrupt one rewritten, 0 when an intact one was there. 0 (durable), or -1 with err. */
int lh_blobs_pg_put(lh_blobs_pg *p, const char hex[65], const void *data, size_t len, int *created, char *err,
                    size_t errlen);

/* Fetch and verify the row hex: 0 with *data (malloc'd, NUL past *len), LH_BLOBS_NOTFOUND,
 * LH_BLOBS_CORRUPT (bytes do not match hex, or more than max of them), -1 with err. */
int lh_blobs_pg_get(lh_blobs_pg *p, const char hex[65], size_t max, char **data, size_t *len, char *err,
                    size_t errlen);

#endif
