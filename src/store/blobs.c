/* blobs.c — the content-addressed blob directory of project shadows (see blobs.h). */
#include "store/blobs.h"
#include "store/blobs_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>

#define DIR_MAX 3072   /* leaves room for "/ab/<64 hex>" and temporary names in a PATH_MAX buffer */

struct lh_blobs {
    lh_blobs_pg *pg;                /* the PostgreSQL table instead of dir (blobs_pg.c) */
    char dir[DIR_MAX];
    _Atomic unsigned long tmpseq;   /* names of temporary files, unique in this process */
};

static void hexOf(const unsigned char *d, char out[65]) {
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) { out[2 * i] = h[d[i] >> 4]; out[2 * i + 1] = h[d[i] & 15]; }
    out[64] = 0;
}

static void sha256hex(const void *data, size_t len, char out[65]) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    hexOf(d, out);
}

int lh_blobs_valid_name(const char *hex) {
    if (!hex) return 0;
    for (int i = 0; i < 64; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) return 0;
    return hex[64] == 0;
}

/* fsync a directory, so an entry created or renamed in it survives a power cut. */
static int syncDir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

lh_blobs *lh_blobs_open(const char *dir, char *err, size_t errlen) {
    if (strlen(dir) >= DIR_MAX) { snprintf(err, errlen, "blob directory path too long"); return NULL; }
    if (mkdir(dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the blob directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) { snprintf(err, errlen, "%s is not a directory", dir); return NULL; }
    lh_blobs *bs = calloc(1, sizeof(*bs));
    if (!bs) { snprintf(err, errlen, "out of memory"); return NULL; }
    snprintf(bs->dir, sizeof(bs->dir), "%s", dir);
    return bs;
}

lh_blobs *lh_blobs_open_pg(const char *conninfo, char *err, size_t errlen) {
    lh_blobs *bs = calloc(1, sizeof(*bs));
    if (!bs) { snprintf(err, errlen, "out of memory"); return NULL; }
    bs->pg = lh_blobs_pg_open(conninfo, err, errlen);
    if (!bs->pg) { free(bs); return NULL; }
    return bs;
}

void lh_blobs_close(lh_blobs *bs) {
    if (bs) lh_blobs_pg_close(bs->pg);
    free(bs);
}

void lh_blobs_path(const lh_blobs *bs, const char *hex, char *out, size_t cap) {
    if (bs->pg) snprintf(out, cap, "postgresql:shadow_blobs/%s", hex);
    else snprintf(out, cap, "%s/%.2s/%s", bs->dir, hex, hex);
}

/* Read a whole file of at most max bytes. 0; LH_BLOBS_NOTFOUND; LH_BLOBS_CORRUPT when it
 * is larger than max; -1 on an I/O error. */
static int readAll(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return LH_BLOBS_NOTFOUND;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st)) { snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno)); close(fd); return -1; }
    if ((unsigned long long)st.st_size > max) { close(fd); return LH_BLOBS_CORRUPT; }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) { close(fd); snprintf(err, errlen, "out of memory"); return -1; }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno)); free(buf); close(fd); return -1; }
        if (k == 0) break;
        got += (size_t)k;
    }
    close(fd);
    buf[got] = 0;
    *data = buf;
    *len = got;
    return 0;
}

int lh_blobs_get(lh_blobs *bs, const char *hex, size_t max, char **data, size_t *len, char *err, size_t errlen) {
    *data = NULL;
    *len = 0;
    if (!lh_blobs_valid_name(hex)) { snprintf(err, errlen, "not a blob name (64 hex digits)"); return -1; }
    if (bs->pg) return lh_blobs_pg_get(bs->pg, hex, max, data, len, err, errlen);
    char path[PATH_MAX];
    lh_blobs_path(bs, hex, path, sizeof(path));
    char *buf;
    size_t n;
    int rc = readAll(path, max, &buf, &n, err, errlen);
    if (rc) return rc;
    char got[65];
    sha256hex(buf, n, got);
    if (strcmp(got, hex)) { free(buf); return LH_BLOBS_CORRUPT; }
    *data = buf;
    *len = n;
    return 0;
}

/* Write data to a new temporary file in dir, fsync it and rename it to path. */
static int writeDurable(lh_blobs *bs, const char *dir, const char *path, const void *data, size_t len,
                        char *err, size_t errlen) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/.tmp.%d.%lu", dir, (int)getpid(), atomic_fetch_add(&bs->tmpseq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) { snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno)); return -1; }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) goto ioerr;
        p += k;
        left -= (size_t)k;
    }
    /* Durability: the blob's bytes reach the disk before its name exists, and its name
     * before lh_blobs_put returns, so an event that names it (appended after) never
     * points at a blob a power cut lost. */
    if (fsync(fd)) goto ioerr;
    if (close(fd)) { fd = -1; goto ioerr; }
    fd = -1;
    if (rename(tmp, path)) goto ioerr;
    if (syncDir(dir)) { snprintf(err, errlen, "cannot fsync %s: %s", dir, strerror(errno)); return -1; }
    return 0;
ioerr:
    snprintf(err, errlen, "cannot write blob %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    unlink(tmp);
    return -1;
}

int lh_blobs_put(lh_blobs *bs, const void *data, size_t len, char hex[65], int *created, char *err, size_t errlen) {
    sha256hex(data, len, hex);
    if (created) *created = 0;
    if (bs->pg) return lh_blobs_pg_put(bs->pg, hex, data, len, created, err, errlen);
    char dir[DIR_MAX + 8], path[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/%.2s", bs->dir, hex);
    lh_blobs_path(bs, hex, path, sizeof(path));
    /* Deduplicated: an intact blob is kept as it is. A corrupt one is replaced. */
    char *old;
    size_t oldlen;
    char gerr[256];
    int rc = lh_blobs_get(bs, hex, len, &old, &oldlen, gerr, sizeof(gerr));
    if (rc == 0) { free(old); return 0; }
    if (mkdir(dir, 0700) == 0) {
        if (syncDir(bs->dir)) { snprintf(err, errlen, "cannot fsync %s: %s", bs->dir, strerror(errno)); return -1; }
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (writeDurable(bs, dir, path, data, len, err, errlen)) return -1;
    if (created) *created = 1;
    return 0;
}
