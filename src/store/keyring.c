/* keyring.c — the MAC keys: from options, LIGHTHOUSE_SECRET, or the 0600 file <data>/secret.
 *
 * There is never a built-in key. A new store with no key configured gets a file with 32
 * random bytes (hex) on its first start. Keys are found by fingerprint, so the chain can
 * say which key is in force (see key rotation in docs/store.md). */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define SECRET_FILE_MAX (64 * 1024)

void lh_store_key_fingerprint(const unsigned char *key, size_t len, char out[LH_STORE_FP_LEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdl = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    memset(md, 0, sizeof(md));
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
        EVP_DigestUpdate(c, "lighthouse.key.v1", 17);
        EVP_DigestUpdate(c, key, len);
        EVP_DigestFinal_ex(c, md, &mdl);
    }
    EVP_MD_CTX_free(c);
    for (int i = 0; i < LH_STORE_FP_LEN / 2; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[LH_STORE_FP_LEN] = 0;
}

const lh_key *lh_keyring_find(const lh_keyring *kr, const char *fp) {
    for (size_t i = 0; i < kr->n; i++)
        if (!strcmp(kr->k[i].fp, fp)) return &kr->k[i];
    return NULL;
}

static int addKey(lh_keyring *kr, const char *s, size_t len, const char *source, char *err, size_t errlen) {
    if (len < LH_STORE_KEY_MIN)
        return lh_store_err(err, errlen, "a key in %s is %zu bytes; keys must be at least %d bytes "
                            "(e.g. `openssl rand -hex 32`)", source, len, LH_STORE_KEY_MIN);
    char fp[LH_STORE_FP_LEN + 1];
    lh_store_key_fingerprint((const unsigned char *)s, len, fp);
    if (lh_keyring_find(kr, fp)) return 0;
    if (kr->n == LH_KEYRING_MAX) return lh_store_err(err, errlen, "more than %d keys in %s", LH_KEYRING_MAX, source);
    lh_key *k = &kr->k[kr->n];
    k->bytes = malloc(len);
    if (!k->bytes) return lh_store_err(err, errlen, "out of memory");
    memcpy(k->bytes, s, len);
    k->len = len;
    memcpy(k->fp, fp, sizeof(fp));
    kr->n++;
    return 0;
}

int lh_keyring_parse(lh_keyring *kr, const char *text, size_t len, const char *source, char *err, size_t errlen) {
    snprintf(kr->source, sizeof(kr->source), "%s", source);
    size_t i = 0;
    while (i < len) {
        while (i < len && (text[i] == ',' || text[i] == '\n' || text[i] == '\r' || text[i] == ' ' || text[i] == '\t')) i++;
        size_t j = i;
        while (j < len && text[j] != ',' && text[j] != '\n' && text[j] != '\r') j++;
        size_t e = j;
        while (e > i && (text[e - 1] == ' ' || text[e - 1] == '\t')) e--;
        if (e > i && addKey(kr, text + i, e - i, source, err, errlen) < 0) return -1;
        i = j;
    }
    return 0;
}

static void hexKey(char out[65]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char b[32];
    if (RAND_bytes(b, sizeof(b)) != 1) { out[0] = 0; return; }
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[64] = 0;
    OPENSSL_cleanse(b, sizeof(b));
}

/* Make the new file's name durable too: fsync its directory. */
static void syncDir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) { fsync(fd); close(fd); }
}

static int readSecretFile(lh_keyring *kr, char *err, size_t errlen);

/* Give the finished file tmp the name path unless path exists (then -1 with EEXIST):
 * renameat2 with RENAME_NOREPLACE, or link where the file system has no such rename. Some
 * file systems (FUSE ones such as tests/powercut/cutfs, vfat) have no hard links. */
static int publishNew(const char *tmp, const char *path) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
    return link(tmp, path);
}

/* A new store's key file. Several processes may open a new store at once (two writers
 * started together), so the file must appear whole or not at all: the key is written to a
 * file of this process's own, fsynced, and renamed (or linked) to <data>/secret without
 * replacing it, which fails when another process's file got the name first; then that
 * one's key is read. (Created in place
 * with O_EXCL, the loser failed with "File exists", or read the winner's file before its
 * key was written and found no key.) */
static int createSecretFile(lh_keyring *kr, char *err, size_t errlen) {
    char key[65], tmp[PATH_MAX + 32];
    hexKey(key);
    if (!key[0]) return lh_store_err(err, errlen, "no randomness for a new key (RAND_bytes failed)");
    if (snprintf(tmp, sizeof(tmp), "%s.new.%ld.%.8s", kr->path, (long)getpid(), key + 56) >= (int)sizeof(tmp))
        return lh_store_err(err, errlen, "data directory path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return lh_store_err(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    key[64] = '\n';
    ssize_t w = write(fd, key, 65);
    int ok = w == 65 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (ok && publishNew(tmp, kr->path) < 0) {
        ok = 0;
        saved = errno;
    }
    unlink(tmp);   /* after a link; gone after a rename */
    if (!ok && saved == EEXIST) { /* another process made the key first: use it */
        OPENSSL_cleanse(key, sizeof(key));
        return readSecretFile(kr, err, errlen);
    }
    if (!ok) {
        OPENSSL_cleanse(key, sizeof(key));
        return lh_store_err(err, errlen, "cannot write %s: %s", kr->path, strerror(saved));
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", kr->path);
    char *slash = strrchr(dir, '/');
    if (slash) { *slash = 0; syncDir(dir[0] ? dir : "/"); }
    int rc = addKey(kr, key, 64, kr->source, err, errlen);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

static int readSecretFile(lh_keyring *kr, char *err, size_t errlen) {
    int fd = open(kr->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return lh_store_err(err, errlen, "cannot open %s: %s", kr->path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return lh_store_err(err, errlen, "%s is not a regular file", kr->path);
    }
    if (sb.st_mode & 077) {
        close(fd);
        return lh_store_err(err, errlen, "%s is readable by others (mode %03o); run `chmod 600 %s`",
                            kr->path, (unsigned)(sb.st_mode & 0777), kr->path);
    }
    if (sb.st_uid != geteuid()) {
        close(fd);
        return lh_store_err(err, errlen, "%s belongs to another user (uid %u)", kr->path, (unsigned)sb.st_uid);
    }
    if (sb.st_size > SECRET_FILE_MAX) {
        close(fd);
        return lh_store_err(err, errlen, "%s is larger than %d bytes", kr->path, SECRET_FILE_MAX);
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    if (!buf) { close(fd); return lh_store_err(err, errlen, "out of memory"); }
    ssize_t r = read(fd, buf, (size_t)sb.st_size);
    close(fd);
    if (r != sb.st_size) {
        free(buf);
        return lh_store_err(err, errlen, "cannot read %s", kr->path);
    }
    int rc = lh_keyring_parse(kr, buf, (size_t)r, kr->source, err, errlen);
    OPENSSL_cleanse(buf, (size_t)r);
    free(buf);
    return rc;
}

int lh_keyring_load(lh_keyring *kr, const char *opts_secret, const char *data_dir, int may_create,
                    char *err, size_t errlen) {
    if (opts_secret) return lh_keyring_parse(kr, opts_secret, strlen(opts_secret), "the given secret", err, errlen);
    const char *env = getenv("LIGHTHOUSE_SECRET");
    if (env && *env) return lh_keyring_parse(kr, env, strlen(env), "LIGHTHOUSE_SECRET", err, errlen);
    if (!data_dir || !*data_dir) return 0;
    if (snprintf(kr->path, sizeof(kr->path), "%s/secret", data_dir) >= (int)sizeof(kr->path))
        return lh_store_err(err, errlen, "data directory path too long");
    snprintf(kr->source, sizeof(kr->source), "the secret file");
    kr->from_file = 1;
    if (access(kr->path, F_OK) == 0) return readSecretFile(kr, err, errlen);
    if (errno != ENOENT) return lh_store_err(err, errlen, "cannot access %s: %s", kr->path, strerror(errno));
    if (!may_create) { kr->from_file = 0; return 0; }
    return createSecretFile(kr, err, errlen);
}

int lh_keyring_add_file_key(lh_keyring *kr, char *fp_out, char *err, size_t errlen) {
    if (!kr->from_file)
        return lh_store_err(err, errlen, "keys come from %s; add the new key there (comma-separated) and "
                            "rotate to its fingerprint", kr->source[0] ? kr->source : "nowhere");
    char key[66];
    hexKey(key);
    if (!key[0]) return lh_store_err(err, errlen, "no randomness for a new key");
    int fd = open(kr->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return lh_store_err(err, errlen, "cannot open %s: %s", kr->path, strerror(errno));
    key[64] = '\n';
    int ok = write(fd, key, 65) == 65 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) return lh_store_err(err, errlen, "cannot write %s: %s", kr->path, strerror(saved));
    if (addKey(kr, key, 64, kr->source, err, errlen) < 0) return -1;
    lh_store_key_fingerprint((const unsigned char *)key, 64, fp_out);
    OPENSSL_cleanse(key, sizeof(key));
    return 0;
}

void lh_keyring_free(lh_keyring *kr) {
    for (size_t i = 0; i < kr->n; i++) {
        OPENSSL_cleanse(kr->k[i].bytes, kr->k[i].len);
        free(kr->k[i].bytes);
    }
    kr->n = 0;
}
