/* symbols.h — a lightweight symbol finder for annotation anchors (docs/shadows.md,
 * "Annotations"): the top-level functions, classes and types of a source file, and the
 * methods of its classes, each with its line range.
 *
 *   C            functions (a name, its parameters, then a body), struct/union/enum types
 *   Python       def / async def / class at the top level, and defs directly in a class
 *                (methods); the range starts at the first decorator and ends at the last
 *                line of the indented block
 *   JS / TS      function NAME, class / interface NAME and their methods, and
 *                const|let|var NAME = (...) => / function (...)
 *   Go           func NAME, func (r *T) NAME (a method named "T.NAME"), type NAME
 *                struct|interface
 *   shell        NAME() { ... } and function NAME { ... }
 *
 * A method's name is "Class.method". It is a scanner, not a parser: comments, strings
 * (Python's triple-quoted, JS templates, Go raw strings, shell quotes and here-documents)
 * are skipped so that the braces in them do not count; a construct it does not know is
 * passed over. Bounded: inputs over LH_SYMBOLS_MAX_BYTES are refused, it runs in one
 * pass (linear time) with no recursion, nesting is tracked to LH_SYMBOLS_MAX_DEPTH levels
 * (deeper braces are only counted) and at most `max` symbols are returned. */
#ifndef LH_SYMBOLS_H
#define LH_SYMBOLS_H

#include <stddef.h>

#define LH_SYMBOLS_MAX_BYTES (1u << 20)
#define LH_SYMBOLS_MAX_DEPTH 256
#define LH_SYMBOL_NAME_MAX 127

typedef enum { LH_SRC_NONE, LH_SRC_C, LH_SRC_PYTHON, LH_SRC_JS, LH_SRC_GO, LH_SRC_SHELL } lh_src_lang;

typedef enum { LH_SYM_FUNCTION, LH_SYM_CLASS, LH_SYM_METHOD } lh_sym_kind;

typedef struct lh_symbol {
    lh_sym_kind kind;
    char name[LH_SYMBOL_NAME_MAX + 1];
    int start, end;        /* 1-based, inclusive */
} lh_symbol;

/* The language of a file by its name (extension; *.h is C): LH_SRC_NONE when unknown. */
lh_src_lang lh_symbols_lang(const char *path);
const char *lh_sym_kind_name(lh_sym_kind k);

/* The symbols of src[0..len) in lang, in the order they start, into out[0..max).
 * Returns how many, or -1 when len is over LH_SYMBOLS_MAX_BYTES or lang is NONE. */
int lh_symbols_find(lh_src_lang lang, const char *src, size_t len, lh_symbol *out, int max);

#endif
