/* io.c — see io.h. */
#include "util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* The directory that holds path: its name up to the last '/' ("/" for a file in the root,
 * "." for a bare name). */
static void parentDir(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, cap, ".");
    else if (slash == path) snprintf(out, cap, "/");
    else snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

int lh_replace_file(const char *path, const char *data, size_t len, char *err, size_t errlen) {
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) { snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno)); return -1; }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    /* The contents reach the disk before the name does: a rename that a power cut keeps
     * without them leaves an empty or torn file (ext4 without auto_da_alloc, XFS). */
    int saved = done < len ? (errno ? errno : EIO) : fsync(fd) ? errno : 0;
    if (close(fd) && !saved) saved = errno;
    if (saved || rename(tmp, path)) {
        if (!saved) saved = errno;
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(saved));
        unlink(tmp);
        return -1;
    }
    /* The rename is in the directory, which is durable only once it is fsynced: before
     * that a power cut may bring the old file back after we reported the new one. */
    parentDir(path, dir, sizeof(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd)) {
        saved = errno;
        if (dfd >= 0) close(dfd);
        snprintf(err, errlen, "replaced %s, but could not sync its directory %s: %s", path, dir, strerror(saved));
        return -1;
    }
    close(dfd);
    return 0;
}
