/* io.c — see io.h. */
#include "util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *lh_read_fd(int fd, size_t max, size_t *len, int *too_big, char *err, size_t errlen) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (too_big) *too_big = 0;
    if (!buf) { snprintf(err, errlen, "out of memory"); return NULL; }
    for (;;) {
        if (n == cap) {
            if (cap > max) break;
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) { free(buf); snprintf(err, errlen, "out of memory"); return NULL; }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errlen, "read failed: %s", strerror(errno));
            free(buf);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max) break;
    }
    if (n > max) {
        if (too_big) *too_big = 1;
        snprintf(err, errlen, "input is larger than the limit of %zu bytes", max);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

char *lh_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char e2[200];
    char *b = lh_read_fd(fd, max, len, NULL, e2, sizeof(e2));
    close(fd);
    if (!b) snprintf(err, errlen, "%s: %s", path, e2);
    return b;
}
