/* mount_docs.h — the JSON documents of `lighthouse mount` (mount.c; docs/shadows.md):
 *
 *   annotations/<path>.json   each annotated file's annotations, resolved at the head
 *                             (GET /v1/annotations), one file per shadowed path, in the
 *                             project's directories
 *   escalations/<id>.json     each escalation (GET /v1/escalations?state=all)
 *
 * A set is one GET, kept for LH_MD_TTL_MS and shared (reference counted) by the FUSE
 * threads that read it; the next use after that asks again. A bridge without the
 * escalation routes (404) gives an empty escalations/. Errors are negative errno values,
 * as in mount_client.h. */
#ifndef LH_MOUNT_DOCS_H
#define LH_MOUNT_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "cli/mount_client.h"

#define LH_MD_TTL_MS 1000

typedef enum { LH_MD_ANNOTATIONS, LH_MD_ESCALATIONS, LH_MD_KINDS } lh_md_kind;

typedef struct lh_md_doc {
    char *name;            /* "src/calc.c.json", "esc-….json" */
    char *text;            /* pretty JSON and a newline */
    size_t len;
} lh_md_doc;

typedef struct lh_md_set {
    int refs;              /* under the module's mutex */
    uint64_t fetched_ms;
    lh_md_doc *docs;       /* sorted by name */
    size_t n;
} lh_md_set;

/* The set of kind k (fetched, or cached for LH_MD_TTL_MS): 0 with *out (release it), or a
 * negative errno. */
int lh_md_get(lh_mc *m, lh_md_kind k, lh_md_set **out);
void lh_md_release(lh_md_set *s);
/* Drop the cached sets (at unmount). */
void lh_md_clear(void);

/* In set s, what sub names: 1 a document (its index in *idx), 2 a directory ("" is the
 * root), 0 nothing. */
int lh_md_lookup(const lh_md_set *s, const char *sub, size_t *idx);

#endif
