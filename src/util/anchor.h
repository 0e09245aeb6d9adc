/* anchor.h — re-resolving an annotation's anchor in a new version of its file
 * (bridge/annotations.h, docs/shadows.md "Annotations").
 *
 * Lines are compared by a hash of their text with the blanks at both ends cut (so a
 * re-indented line still matches). The anchor keeps its lines' hashes and those of up
 * to LH_ANCHOR_CONTEXT lines before and after. Resolution, in order:
 *   1. a symbol anchor: the new version's symbol of the same name and kind; `exact` when
 *      it is at the same lines with the same hashes, else `moved`;
 *   2. the same lines, same hashes: `exact`;
 *   3. by context: each anchored line votes for the offsets where its hash occurs in the
 *      new version (lines whose hash occurs more than LH_ANCHOR_MAX_OCC times, such as
 *      a lone "}", and blank lines do not vote); the offset with most votes wins (then
 *      the most context lines matching around it, then the nearest to the old place).
 *      Found when at least half of the voting lines agree: `moved`, and for a symbol
 *      anchor the range of the symbol of the same kind that holds the match (its new
 *      name, if it was renamed);
 *   4. else `lost`.
 * Time: O(n log n) in the new version's lines plus O(LH_ANCHOR_MAX_OCC) per anchored line. */
#ifndef LH_ANCHOR_H
#define LH_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/symbols.h"

#define LH_ANCHOR_CONTEXT 3
#define LH_ANCHOR_MAX_OCC 8

typedef enum { LH_ANCHOR_LOST, LH_ANCHOR_MOVED, LH_ANCHOR_EXACT } lh_anchor_conf;
typedef enum { LH_FOUND_NONE, LH_FOUND_SYMBOL, LH_FOUND_CONTEXT, LH_FOUND_LINES } lh_anchor_by;

typedef struct lh_anchor {
    const char *symbol;        /* NULL: a lines anchor */
    lh_sym_kind kind;
    int start, end;            /* 1-based, inclusive, as made */
    const uint32_t *body;      /* end - start + 1 hashes */
    const uint32_t *before;    /* the nbefore lines just before start, in order */
    int nbefore;
    const uint32_t *after;     /* the nafter lines just after end */
    int nafter;
} lh_anchor;

typedef struct lh_anchor_result {
    lh_anchor_conf confidence;
    lh_anchor_by by;
    int start, end;            /* 0 when lost */
    char symbol[LH_SYMBOL_NAME_MAX + 1];   /* the symbol found there ("" if none) */
} lh_anchor_result;

/* The hash of one line's text (blanks at both ends cut). */
uint32_t lh_anchor_line_hash(const char *s, size_t n);
/* The hashes of text's lines into *out (malloc'd; caller frees; NULL when there are no
 * lines) and their count; a last line without a newline counts. 0, or -1 out of memory. */
int lh_anchor_lines(const char *text, size_t len, uint32_t **out, int *n);
/* Resolve a in a version whose line hashes are lines[0..n) and symbols syms[0..nsyms).
 * 0, or -1 out of memory. */
int lh_anchor_resolve(const lh_anchor *a, const uint32_t *lines, int n, const lh_symbol *syms, int nsyms,
                      lh_anchor_result *res);

#endif
