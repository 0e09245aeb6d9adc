/* growbuf.c — see growbuf.h. */
#include "util/growbuf.h"

#include <stdlib.h>
#include <string.h>

int lh_growbuf_append(char **buf, size_t *len, size_t *cap, size_t max, const void *p, size_t n) {
    if (n > max || *len > max - n) return -1;
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n + 1) c *= 2;
        char *q = realloc(*buf, c);
        if (!q) return -1;
        *buf = q;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}
