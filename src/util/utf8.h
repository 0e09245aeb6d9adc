/* utf8.h — strict UTF-8 validation (no overlongs, no surrogates, max U+10FFFF). */
#ifndef LH_UTF8_H
#define LH_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int lh_utf8_valid(const char *s, size_t len);

#endif
