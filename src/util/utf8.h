/* utf8.h — strict UTF-8 validation (no overlongs, no surrogates, max U+10FFFF). */
#ifndef LH_UTF8_H
#define LH_UTF8_H

#include <stddef.h>

/* The length of the longest valid prefix of s[0..len): len when all of it is valid
 * UTF-8 without NUL bytes, else the offset of the first bad byte. */
size_t lh_utf8_prefix(const char *s, size_t len);
/* 1 when s[0..len) is valid UTF-8 without NUL bytes, else 0. */
static inline int lh_utf8_valid(const char *s, size_t len) { return lh_utf8_prefix(s, len) == len; }
/* n cut to at most max bytes of s, at a character's start (not inside a UTF-8 sequence). */
static inline size_t lh_utf8_cut(const char *s, size_t n, size_t max) {
    if (n <= max) return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}
/* A malloc'd copy of s cut to at most max bytes (lh_utf8_cut); NULL when out of memory. */
char *lh_utf8_dup_cut(const char *s, size_t max);

#endif
