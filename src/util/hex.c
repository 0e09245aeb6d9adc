/* hex.c — bytes to lower-case hex digits and back (hex.h). */
#include "util/hex.h"

#include <string.h>

void lh_hex_encode(const unsigned char *k, size_t n, char *out) {
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) { out[2 * i] = h[k[i] >> 4]; out[2 * i + 1] = h[k[i] & 15]; }
    out[2 * n] = 0;
}

static int digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 2n hex digits into n bytes (sscanf's %2x also took signs and spaces). */
int lh_hex_decode(const char *s, unsigned char *k, size_t n) {
    if (!s || strlen(s) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = digit(s[2 * i]), lo = digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        k[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
