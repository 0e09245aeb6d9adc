/* utf8.h — strict UTF-8 validation (no overlongs, no surrogates, max U+10FFFF). */
#ifndef LH_UTF8_H
#define LH_UTF8_H

#include <stddef.h>

/* The length of the longest valid prefix of s[0..len): len when all of it is valid
 * UTF-8 without NUL bytes, else the offset of the first bad byte. */
size_t lh_utf8_prefix(const char *s, size_t len);
/* 1 when s[0..len) is valid UTF-8 without NUL bytes, else 0. */
static inline int lh_utf8_valid(const char *s, size_t len) { return lh_utf8_prefix(s, len) == len; }

#endif
