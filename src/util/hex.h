/* hex.h — bytes to lower-case hex digits and back. */
#ifndef LH_UTIL_HEX_H
#define LH_UTIL_HEX_H

#include <stddef.h>

/* out[0, 2n] = k[0, n) in lower-case hex, NUL-terminated (out holds 2n + 1 bytes). */
void lh_hex_encode(const unsigned char *k, size_t n, char *out);
/* s must be exactly 2n hex digits (either case, nothing else: no sign, no space); k[0, n)
 * gets their bytes. 0, or -1 (k is then partly written). */
int lh_hex_decode(const char *s, unsigned char *k, size_t n);

#endif
