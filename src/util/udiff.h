/* udiff.h — a unified diff of two texts (GET /v1/shadows/diff), the format of `diff -u`
 * with three lines of context.
 *
 * Lines are compared whole. The common head and tail are cut first; what is left is
 * aligned by a longest-common-subsequence table when it has at most LH_UDIFF_MAX_CELLS
 * cells, else shown as removed then added (still a correct diff, only a larger one), so
 * time and memory stay bounded whatever the input. A last line without a newline is
 * marked "\ No newline at end of file", as diff does. */
#ifndef LH_UDIFF_H
#define LH_UDIFF_H

#include <stddef.h>

#define LH_UDIFF_MAX_CELLS (4u << 20)

/* The diff of a[0..alen) and b[0..blen), headed "--- aname" and "+++ bname", into *out
 * (malloc'd, NUL-terminated, *outlen bytes; caller frees); "" when the texts are equal.
 * 0, or -1 when out of memory. */
int lh_udiff(const char *a, size_t alen, const char *b, size_t blen, const char *aname, const char *bname,
             char **out, size_t *outlen);

#endif
