/* powercut.c — an LD_PRELOAD layer that simulates a power cut, in the manner of SQLite's
 * crash tests (test6.c): what a process wrote since its last fsync is not on the disk yet.
 *
 * For files under POWERCUT_DIR the layer keeps a shadow copy of the *synced* contents (in
 * POWERCUT_SHADOW): write/pwrite/ftruncate go to the real file as usual (the process sees
 * them) and are also logged as pending; fsync/fdatasync apply the file's pending operations
 * to its shadow. A file created since its directory was last fsynced has no durable
 * directory entry yet: an fsync of a directory (POWERCUT_DIR or one below it) makes the
 * entries of the files directly in it durable, as on a real file system. At the POWERCUT_AFTER-th write to a tracked file (before it is done)
 * the power goes: every thread is stopped at the layer's lock, each tracked file is replaced
 * by the state a power loss leaves, and the process kills itself with SIGKILL.
 *
 *   POWERCUT_DIR     the directory whose files are tracked (required; else the layer is inert)
 *   POWERCUT_SHADOW  a directory for the shadow copies (required with POWERCUT_DIR)
 *   POWERCUT_AFTER   cut at this tracked write (1-based); 0 or unset: never cut
 *   POWERCUT_MODE    drop: every unsynced write is lost (the default);
 *                    tear: each 512-byte sector of an unsynced write, each unsynced
 *                    truncation and each unsynced new file survives with probability 1/2
 *   POWERCUT_SEED    the random seed for tear
 *   POWERCUT_NOSYNC  1: fsync and fdatasync return 0 but sync nothing (a store that does not
 *                    fsync, e.g. SQLite's synchronous=OFF); the power-loss test must fail
 *   POWERCUT_STATS   a file that receives "writes N" when the process exits normally
 *
 * The real fsync is never called: durability is simulated, so the test is fast on any disk.
 * "-shm" files (SQLite's WAL index, rebuilt on recovery) are not tracked; they are deleted
 * at the cut. unlink and rename of tracked files are taken as durable at once (the store
 * does neither during appends; the key file is written before any cut run).
 * Test code only: built as build/tests/powercut.so, never linked into Lighthouse. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FILES 32
#define MAX_FDS   4096
#define SECTOR    512

typedef struct op {
    struct op *next;
    int trunc;          /* 1: ftruncate to off; 0: write len bytes of data at off */
    off_t off;
    size_t len;
    unsigned char data[];
} op;

typedef struct pfile {
    char path[PATH_MAX];
    char shadow[PATH_MAX];
    int used;
    int entry_durable;  /* the directory entry survives a cut */
    size_t parentlen;   /* path[0..parentlen) is the directory that holds the entry */
    op *head, *tail;    /* unsynced operations, oldest first */
} pfile;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pfile files[MAX_FILES];
static signed char fdfile[MAX_FDS]; /* -1 untracked, -2 a directory, else files[] index + 0 */
#define MAX_DIRS 16
static struct { int fd; char path[PATH_MAX]; } dirs[MAX_DIRS]; /* open directory fds (fd -1: free) */
static char dir[PATH_MAX], shadowDir[PATH_MAX];
static size_t dirlen;
static int active, nosync, tear;
static long cutAfter, writes;
static unsigned long long rng;
static char statsPath[PATH_MAX];

static int (*r_open)(const char *, int, ...);
static int (*r_openat)(int, const char *, int, ...);
static ssize_t (*r_write)(int, const void *, size_t);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*r_pread)(int, void *, size_t, off_t);
static int (*r_ftruncate)(int, off_t);
static int (*r_close)(int);
static int (*r_unlink)(const char *);
static int (*r_rename)(const char *, const char *);

static unsigned rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static void die(const char *msg) {
    if (r_write) r_write(2, msg, strlen(msg));
    _exit(99);
}

__attribute__((constructor)) static void init(void) {
    r_open = dlsym(RTLD_NEXT, "open");
    r_openat = dlsym(RTLD_NEXT, "openat");
    r_write = dlsym(RTLD_NEXT, "write");
    r_pwrite = dlsym(RTLD_NEXT, "pwrite");
    r_pread = dlsym(RTLD_NEXT, "pread");
    r_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    r_close = dlsym(RTLD_NEXT, "close");
    r_unlink = dlsym(RTLD_NEXT, "unlink");
    r_rename = dlsym(RTLD_NEXT, "rename");
    memset(fdfile, -1, sizeof(fdfile));
    for (int i = 0; i < MAX_DIRS; i++) dirs[i].fd = -1;
    const char *d = getenv("POWERCUT_DIR"), *s = getenv("POWERCUT_SHADOW");
    if (!d || !*d) return;
    if (!s || !*s || !realpath(d, dir) || !realpath(s, shadowDir)) die("powercut: POWERCUT_DIR and POWERCUT_SHADOW must exist\n");
    dirlen = strlen(dir);
    const char *a = getenv("POWERCUT_AFTER"), *m = getenv("POWERCUT_MODE"), *n = getenv("POWERCUT_NOSYNC");
    const char *sd = getenv("POWERCUT_SEED"), *st = getenv("POWERCUT_STATS");
    cutAfter = a ? atol(a) : 0;
    tear = m && !strcmp(m, "tear");
    nosync = n && !strcmp(n, "1");
    rng = (sd ? strtoull(sd, NULL, 10) : 1) * 2654435761ULL + 88172645463325252ULL;
    if (st) snprintf(statsPath, sizeof(statsPath), "%s", st);
    active = 1;
}

__attribute__((destructor)) static void fini(void) {
    if (!active || !statsPath[0]) return;
    FILE *f = fopen(statsPath, "w");
    if (f) { fprintf(f, "writes %ld\n", writes); fclose(f); }
}

/* The absolute path of name (relative to dirfd), without resolving the last component. */
static int absPath(int dirfd, const char *name, char *out) {
    char base[PATH_MAX];
    if (name[0] == '/') snprintf(base, sizeof(base), "%s", name);
    else {
        char cwd[PATH_MAX];
        if (dirfd == AT_FDCWD) { if (!getcwd(cwd, sizeof(cwd))) return -1; }
        else {
            char link[64];
            snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
            ssize_t k = readlink(link, cwd, sizeof(cwd) - 1);
            if (k < 0) return -1;
            cwd[k] = 0;
        }
        if (snprintf(base, sizeof(base), "%s/%s", cwd, name) >= (int)sizeof(base)) return -1;
    }
    /* resolve the directory part */
    char *slash = strrchr(base, '/');
    char parent[PATH_MAX];
    if (slash == base) snprintf(parent, sizeof(parent), "/");
    else { *slash = 0; if (!realpath(base, parent)) return -1; *slash = '/'; }
    if (!strcmp(slash + 1, "") || !strcmp(slash + 1, ".")) return snprintf(out, PATH_MAX, "%s", parent) >= PATH_MAX ? -1 : 0;
    return snprintf(out, PATH_MAX, "%s/%s", parent, slash + 1) >= PATH_MAX ? -1 : 0;
}

static int endsWith(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void copyFile(const char *from, const char *to) {
    int in = r_open(from, O_RDONLY), out = r_open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0) die("powercut: cannot write a copy\n");
    if (in >= 0) {
        unsigned char buf[65536];
        ssize_t k;
        off_t off = 0;
        while ((k = r_pread(in, buf, sizeof(buf), off)) > 0) {
            if (r_pwrite(out, buf, (size_t)k, off) != k) die("powercut: short copy\n");
            off += k;
        }
        r_close(in);
    }
    r_close(out);
}

static int fileFor(const char *path, int created) {
    for (int i = 0; i < MAX_FILES; i++)
        if (files[i].used && !strcmp(files[i].path, path)) return i;
    for (int i = 0; i < MAX_FILES; i++) {
        if (files[i].used) continue;
        pfile *f = &files[i];
        memset(f, 0, sizeof(*f));
        f->used = 1;
        snprintf(f->path, sizeof(f->path), "%s", path);
        const char *slash = strrchr(f->path, '/');
        f->parentlen = slash ? (size_t)(slash - f->path) : 0;
        snprintf(f->shadow, sizeof(f->shadow), "%s/f%d", shadowDir, i);
        /* a file that existed before the process opened it is taken as durable */
        f->entry_durable = !created;
        if (created) { int fd = r_open(f->shadow, O_WRONLY | O_CREAT | O_TRUNC, 0600); if (fd >= 0) r_close(fd); }
        else copyFile(path, f->shadow);
        return i;
    }
    die("powercut: too many tracked files\n");
    return -1;
}

static void addOp(int fi, int trunc, off_t off, const void *data, size_t len) {
    op *o = malloc(sizeof(op) + (trunc ? 0 : len));
    if (!o) die("powercut: out of memory\n");
    o->next = NULL; o->trunc = trunc; o->off = off; o->len = trunc ? 0 : len;
    if (!trunc) memcpy(o->data, data, len);
    pfile *f = &files[fi];
    if (f->tail) f->tail->next = o; else f->head = o;
    f->tail = o;
}

/* Apply f's pending operations to its shadow: all of them (a sync) or, at a cut, a random
 * subset at sector granularity (tear) or none (drop). */
static void applyOps(pfile *f, int all) {
    int sfd = r_open(f->shadow, O_WRONLY);
    if (sfd < 0) die("powercut: cannot open a shadow\n");
    for (op *o = f->head, *next; o; o = next) {
        next = o->next;
        if (o->trunc) { if (all || (tear && rnd() % 2)) r_ftruncate(sfd, o->off); }
        else {
            size_t done = 0;
            while (done < o->len) {
                off_t at = o->off + (off_t)done;
                size_t n = SECTOR - (size_t)(at % SECTOR);
                if (n > o->len - done) n = o->len - done;
                if (all || (tear && rnd() % 2)) {
                    if (r_pwrite(sfd, o->data + done, n, at) != (ssize_t)n) die("powercut: shadow write failed\n");
                }
                done += n;
            }
        }
        free(o);
    }
    f->head = f->tail = NULL;
    r_close(sfd);
}

/* The power goes. Called with mu held; never returns and never releases mu, so every
 * other thread stops at its next tracked operation. */
static void powerCut(void) {
    for (int i = 0; i < MAX_FILES; i++) {
        pfile *f = &files[i];
        if (!f->used) continue;
        int keep = f->entry_durable || (tear && rnd() % 2);
        applyOps(f, 0);
        if (keep) copyFile(f->shadow, f->path);
        else r_unlink(f->path);
        r_unlink(f->shadow);
    }
    for (int i = 0; i < MAX_FILES; i++) {
        if (!files[i].used) continue;
        char shm[PATH_MAX + 8];
        snprintf(shm, sizeof(shm), "%s-shm", files[i].path);
        r_unlink(shm);
    }
    const char *msg = "powercut: power cut\n";
    r_write(2, msg, strlen(msg));
    kill(getpid(), SIGKILL);
    for (;;) pause();
}

static int tracked(const char *abs) {
    return active && !strncmp(abs, dir, dirlen) && (abs[dirlen] == '/' || abs[dirlen] == 0);
}

static void noteOpen(int fd, int dirfd, const char *name, int flags, int existed) {
    if (!active || fd < 0 || fd >= MAX_FDS) return;
    char abs[PATH_MAX];
    if (absPath(dirfd, name, abs) < 0 || !tracked(abs)) return;
    pthread_mutex_lock(&mu);
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        for (int i = 0; i < MAX_DIRS; i++)
            if (dirs[i].fd == -1) {
                dirs[i].fd = fd;
                snprintf(dirs[i].path, sizeof(dirs[i].path), "%s", abs);
                fdfile[fd] = -2;
                break;
            }
    } else if (!endsWith(abs, "-shm")) {
        if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
            int fi = fileFor(abs, !existed);
            fdfile[fd] = (signed char)fi;
            if ((flags & O_TRUNC) && existed) addOp(fi, 1, 0, NULL, 0);
        }
    }
    pthread_mutex_unlock(&mu);
}

static int existsAt(int dirfd, const char *name) {
    struct stat sb;
    return fstatat(dirfd, name, &sb, 0) == 0;
}

int open(const char *name, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    int existed = active ? existsAt(AT_FDCWD, name) : 1;
    int fd = r_open(name, flags, mode);
    noteOpen(fd, AT_FDCWD, name, flags, existed);
    return fd;
}
int open64(const char *name, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *name, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    int existed = active ? existsAt(dirfd, name) : 1;
    int fd = r_openat(dirfd, name, flags, mode);
    noteOpen(fd, dirfd, name, flags, existed);
    return fd;
}
int openat64(int dirfd, const char *name, int flags, ...) __attribute__((alias("openat")));

static int fileOf(int fd) { return fd >= 0 && fd < MAX_FDS ? fdfile[fd] : -1; }

/* Count a tracked write; at the chosen one the power goes before it is done. */
static void countWrite(void) {
    writes++;
    if (cutAfter > 0 && writes >= cutAfter) powerCut();
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    if (!active || fileOf(fd) < 0) return r_pwrite(fd, buf, n, off);
    pthread_mutex_lock(&mu);
    int fi = fileOf(fd);
    if (fi >= 0) countWrite();
    ssize_t k = r_pwrite(fd, buf, n, off);
    if (fi >= 0 && k > 0) addOp(fi, 0, off, buf, (size_t)k);
    pthread_mutex_unlock(&mu);
    return k;
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) __attribute__((alias("pwrite")));

ssize_t write(int fd, const void *buf, size_t n) {
    if (!active || fileOf(fd) < 0) return r_write(fd, buf, n);
    pthread_mutex_lock(&mu);
    int fi = fileOf(fd);
    off_t off = 0;
    if (fi >= 0) {
        countWrite();
        off = (fcntl(fd, F_GETFL) & O_APPEND) ? lseek(fd, 0, SEEK_END) : lseek(fd, 0, SEEK_CUR);
    }
    ssize_t k = r_write(fd, buf, n);
    if (fi >= 0 && k > 0) addOp(fi, 0, off, buf, (size_t)k);
    pthread_mutex_unlock(&mu);
    return k;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    ssize_t total = 0;
    for (int i = 0; i < cnt; i++) {
        ssize_t k = write(fd, iov[i].iov_base, iov[i].iov_len);
        if (k < 0) return total ? total : -1;
        total += k;
        if ((size_t)k < iov[i].iov_len) break;
    }
    return total;
}

int ftruncate(int fd, off_t len) {
    if (!active || fileOf(fd) < 0) return r_ftruncate(fd, len);
    pthread_mutex_lock(&mu);
    int fi = fileOf(fd);
    int rc = r_ftruncate(fd, len);
    if (fi >= 0 && rc == 0) addOp(fi, 1, len, NULL, 0);
    pthread_mutex_unlock(&mu);
    return rc;
}
int ftruncate64(int fd, off_t len) __attribute__((alias("ftruncate")));

static int doSync(int fd, const char *realName) {
    if (!active || fileOf(fd) == -1) {
        int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, realName);
        return real(fd);
    }
    if (nosync) return 0;
    pthread_mutex_lock(&mu);
    int fi = fileOf(fd);
    if (fi == -2) {   /* a directory: the entries directly in it are durable now */
        for (int d = 0; d < MAX_DIRS; d++) {
            if (dirs[d].fd != fd) continue;
            size_t n = strlen(dirs[d].path);
            for (int i = 0; i < MAX_FILES; i++)
                if (files[i].used && files[i].parentlen == n && !strncmp(files[i].path, dirs[d].path, n))
                    files[i].entry_durable = 1;
        }
    } else if (fi >= 0) applyOps(&files[fi], 1);
    pthread_mutex_unlock(&mu);
    return 0;
}
int fsync(int fd) { return doSync(fd, "fsync"); }
int fdatasync(int fd) { return doSync(fd, "fdatasync"); }

int close(int fd) {
    if (active && fd >= 0 && fd < MAX_FDS && fdfile[fd] != -1) {
        pthread_mutex_lock(&mu);
        if (fdfile[fd] == -2)
            for (int d = 0; d < MAX_DIRS; d++) if (dirs[d].fd == fd) dirs[d].fd = -1;
        fdfile[fd] = -1;
        pthread_mutex_unlock(&mu);
    }
    return r_close(fd);
}

/* unlink and rename are taken as durable at once: the file's record is dropped (unlink) or
 * moved to the new name (rename). */
int unlink(const char *name) {
    char abs[PATH_MAX];
    if (active && absPath(AT_FDCWD, name, abs) == 0 && tracked(abs)) {
        pthread_mutex_lock(&mu);
        for (int i = 0; i < MAX_FILES; i++)
            if (files[i].used && !strcmp(files[i].path, abs)) {
                for (op *o = files[i].head, *n; o; o = n) { n = o->next; free(o); }
                r_unlink(files[i].shadow);
                for (int k = 0; k < MAX_FDS; k++) if (fdfile[k] == i) fdfile[k] = -1;
                files[i].used = 0;
            }
        int rc = r_unlink(name);
        pthread_mutex_unlock(&mu);
        return rc;
    }
    return r_unlink(name);
}

int rename(const char *from, const char *to) {
    char a[PATH_MAX], b[PATH_MAX];
    if (active && absPath(AT_FDCWD, from, a) == 0 && absPath(AT_FDCWD, to, b) == 0 && tracked(b)) {
        pthread_mutex_lock(&mu);
        int rc = r_rename(from, to);
        if (rc == 0) {
            for (int i = 0; i < MAX_FILES; i++)
                if (files[i].used && !strcmp(files[i].path, b)) {
                    for (op *o = files[i].head, *n; o; o = n) { n = o->next; free(o); }
                    r_unlink(files[i].shadow);
                    files[i].used = 0;
                }
            for (int i = 0; i < MAX_FILES; i++)
                if (files[i].used && !strcmp(files[i].path, a)) {
                    /* the renamed file's shadow is its whole current content */
                    applyOps(&files[i], 1);
                    snprintf(files[i].path, sizeof(files[i].path), "%s", b);
                    files[i].entry_durable = 1;
                }
        }
        pthread_mutex_unlock(&mu);
        return rc;
    }
    return r_rename(from, to);
}
