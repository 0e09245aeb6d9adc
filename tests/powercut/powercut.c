/* powercut.c — an LD_PRELOAD layer that simulates a power cut, in the manner of SQLite's
 * crash tests (test6.c): what a process wrote since its last fsync is not on the disk yet.
 *
 * For files under POWERCUT_DIR the layer keeps a shadow copy of the *synced* contents (in
 * POWERCUT_SHADOW): write/pwrite/ftruncate go to the real file as usual (the process sees
 * them) and are also logged as pending; fsync/fdatasync apply the file's pending operations
 * to its shadow. An fsync of a directory (POWERCUT_DIR or one below it) makes durable the
 * entries of the files directly in it, as on a real file system. A file created since its
 * directory was last fsynced has no durable directory entry yet, and a rename is not durable before the directory's next fsync: until
 * then the power loss may leave the old name and, at the new name, the file that was
 * renamed over (the rename is lost), or the new name with only the renamed file's synced
 * contents (it survived: a rename without an fsync of the file before it can leave an
 * empty file). At the POWERCUT_AFTER-th write to a tracked file (before it is done)
 * the power goes: every thread is stopped at the layer's lock, each tracked file is replaced
 * by the state a power loss leaves, and the process kills itself with SIGKILL. With
 * POWERCUT_AT_EXIT=1 the power also goes as the process exits normally (after its last
 * write, rename and fsync; its exit status is kept): what it left unsynced is lost.
 *
 *   POWERCUT_DIR     the directory whose files are tracked (required; else the layer is inert)
 *   POWERCUT_SHADOW  a directory for the shadow copies (required with POWERCUT_DIR)
 *   POWERCUT_AFTER   cut at this tracked write (1-based); 0 or unset: never cut
 *   POWERCUT_MODE    drop: every unsynced write and rename is lost (the default);
 *                    tear: each 512-byte sector of an unsynced write, each unsynced
 *                    truncation, each unsynced new file and each unsynced rename survives
 *                    with probability 1/2
 *   POWERCUT_AT_EXIT 1: cut the power when the process exits normally, too
 *   POWERCUT_TORN    N > 0: the write at which the power goes reaches the disk in part, its
 *                    first N bytes (a torn write: e.g. a line without its newline); in every
 *                    mode, after the file's other unsynced writes are dropped or torn
 *   POWERCUT_SEED    the random seed for tear
 *   POWERCUT_NOSYNC  1: fsync and fdatasync return 0 but sync nothing (a store that does not
 *                    fsync, e.g. SQLite's synchronous=OFF); the power-loss test must fail
 *   POWERCUT_STATS   a file that receives "writes N" when the process exits normally
 *
 * The real fsync is never called: durability is simulated, so the test is fast on any disk.
 * "-shm" files (SQLite's WAL index, rebuilt on recovery) are not tracked; they are deleted
 * at the cut. unlink of a tracked file is taken as durable at once (the store does not
 * unlink during appends; the key file is written before any cut run).
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
    char path[PATH_MAX];   /* its name now ("" for a ghost) */
    char dpath[PATH_MAX];  /* its durable directory entry: the name a cut leaves it at, unless
                              a rename to path survives; "" for none (created since the last
                              fsync of the directory) */
    char shadow[PATH_MAX];
    int used;
    int ghost;          /* renamed over: no name now, but its durable entry dpath stays until
                           the directory is fsynced */
    op *head, *tail;    /* unsynced operations, oldest first */
} pfile;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pfile files[MAX_FILES];
static signed char fdfile[MAX_FDS]; /* -1 untracked, -2 a directory, else files[] index + 0 */
#define MAX_DIRS 16
static struct { int fd; char path[PATH_MAX]; } dirs[MAX_DIRS]; /* open directory fds (fd -1: free) */
static char dir[PATH_MAX], shadowDir[PATH_MAX];
static size_t dirlen;
static int active, nosync, tear, atExit;
static long cutAfter, writes, tornBytes;
/* The write at which the power goes, when POWERCUT_TORN lands a part of it (fi -1: none). */
static struct { int fi; off_t off; const void *buf; size_t len; } inflight = {-1, 0, NULL, 0};
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
    const char *sd = getenv("POWERCUT_SEED"), *st = getenv("POWERCUT_STATS"), *ae = getenv("POWERCUT_AT_EXIT");
    cutAfter = a ? atol(a) : 0;
    const char *tb = getenv("POWERCUT_TORN");
    tornBytes = tb ? atol(tb) : 0;
    tear = m && !strcmp(m, "tear");
    nosync = n && !strcmp(n, "1");
    atExit = ae && !strcmp(ae, "1");
    rng = (sd ? strtoull(sd, NULL, 10) : 1) * 2654435761ULL + 88172645463325252ULL;
    if (st) snprintf(statsPath, sizeof(statsPath), "%s", st);
    active = 1;
}

static void cutState(void);

__attribute__((destructor)) static void fini(void) {
    if (!active) return;
    if (statsPath[0]) {
        FILE *f = fopen(statsPath, "w");
        if (f) { fprintf(f, "writes %ld\n", writes); fclose(f); }
    }
    if (atExit) {
        pthread_mutex_lock(&mu);
        cutState();
        active = 0;
        const char *msg = "powercut: power cut at exit\n";
        r_write(2, msg, strlen(msg));
        pthread_mutex_unlock(&mu);
    }
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
        snprintf(f->shadow, sizeof(f->shadow), "%s/f%d", shadowDir, i);
        /* a file that existed before the process opened it is taken as durable */
        if (!created) snprintf(f->dpath, sizeof(f->dpath), "%s", path);
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

/* Whether the entry path is directly in directory d (not in one below it). */
static int inDir(const char *path, const char *d) {
    size_t n = strlen(d);
    return n && !strncmp(path, d, n) && path[n] == '/' && !strchr(path + n + 1, '/');
}

static void dropFile(int i) {
    for (op *o = files[i].head, *n; o; o = n) { n = o->next; free(o); }
    files[i].head = files[i].tail = NULL;
    r_unlink(files[i].shadow);
    for (int k = 0; k < MAX_FDS; k++) if (fdfile[k] == i) fdfile[k] = -1;
    files[i].used = 0;
}

/* Leave the tracked files as a power loss would. Each file's unsynced name change (a new
 * file, a rename) survives or not; its contents are its synced ones (plus, in tear, a part
 * of the rest). A ghost's durable entry comes back unless a surviving file took its name. */
static void cutState(void) {
    static char final[MAX_FILES][PATH_MAX];
    for (int i = 0; i < MAX_FILES; i++) {
        pfile *f = &files[i];
        final[i][0] = 0;
        if (!f->used) continue;
        if (!f->ghost) {
            int keep = !strcmp(f->path, f->dpath) || (tear && rnd() % 2);
            snprintf(final[i], PATH_MAX, "%s", keep ? f->path : f->dpath);
            if (!keep) r_unlink(f->path);   /* kept: rewritten in place below (its mode stays) */
        } else {
            snprintf(final[i], PATH_MAX, "%s", f->dpath);
        }
        applyOps(f, 0);
        if (i == inflight.fi && final[i][0]) { /* the torn write: its first bytes landed */
            int sfd = r_open(f->shadow, O_WRONLY);
            if (sfd < 0 || r_pwrite(sfd, inflight.buf, inflight.len, inflight.off) != (ssize_t)inflight.len)
                die("powercut: cannot write the torn write to a shadow\n");
            r_close(sfd);
        }
    }
    for (int pass = 0; pass < 2; pass++)   /* ghosts first: a surviving rename overwrites */
        for (int i = 0; i < MAX_FILES; i++) {
            if (!files[i].used || files[i].ghost != !pass || !final[i][0]) continue;
            copyFile(files[i].shadow, final[i]);
        }
    for (int i = 0; i < MAX_FILES; i++) if (files[i].used) r_unlink(files[i].shadow);
    for (int i = 0; i < MAX_FILES; i++) {
        if (!files[i].used || files[i].ghost) continue;
        char shm[PATH_MAX + 8];
        snprintf(shm, sizeof(shm), "%s-shm", files[i].path);
        r_unlink(shm);
    }
}

/* The power goes. Called with mu held; never returns and never releases mu, so every
 * other thread stops at its next tracked operation. */
static void powerCut(void) {
    cutState();
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

/* Count a tracked write (of n bytes of buf at off to files[fi]); at the chosen one the
 * power goes before it is done, or with POWERCUT_TORN while its first bytes are done. */
static void countWrite(int fi, off_t off, const void *buf, size_t n) {
    writes++;
    if (cutAfter <= 0 || writes < cutAfter) return;
    if (tornBytes > 0 && n > 0) {
        inflight.fi = fi;
        inflight.off = off;
        inflight.buf = buf;
        inflight.len = (size_t)tornBytes < n ? (size_t)tornBytes : n;
    }
    powerCut();
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    if (!active || fileOf(fd) < 0) return r_pwrite(fd, buf, n, off);
    pthread_mutex_lock(&mu);
    int fi = fileOf(fd);
    if (fi >= 0) countWrite(fi, off, buf, n);
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
        off = (fcntl(fd, F_GETFL) & O_APPEND) ? lseek(fd, 0, SEEK_END) : lseek(fd, 0, SEEK_CUR);
        countWrite(fi, off, buf, n);
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
            for (int i = 0; i < MAX_FILES; i++) {
                if (!files[i].used || !inDir(files[i].ghost ? files[i].dpath : files[i].path, dirs[d].path)) continue;
                if (files[i].ghost) dropFile(i);
                else snprintf(files[i].dpath, sizeof(files[i].dpath), "%s", files[i].path);
            }
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

/* unlink is taken as durable at once: the file's record is dropped. */
int unlink(const char *name) {
    char abs[PATH_MAX];
    if (active && absPath(AT_FDCWD, name, abs) == 0 && tracked(abs)) {
        pthread_mutex_lock(&mu);
        for (int i = 0; i < MAX_FILES; i++)
            if (files[i].used && !files[i].ghost && !strcmp(files[i].path, abs)) dropFile(i);
        int rc = r_unlink(name);
        pthread_mutex_unlock(&mu);
        return rc;
    }
    return r_unlink(name);
}

static int recordOf(const char *abs) {
    for (int i = 0; i < MAX_FILES; i++)
        if (files[i].used && !files[i].ghost && !strcmp(files[i].path, abs)) return i;
    return -1;
}

/* A rename is durable only at the directory's next fsync (cutState). The file renamed
 * over becomes a ghost that keeps its durable entry; the renamed file keeps its unsynced
 * writes and its durable entry at the old name. A file not seen before is taken as
 * durable, as at open. */
int rename(const char *from, const char *to) {
    char a[PATH_MAX], b[PATH_MAX];
    if (active && absPath(AT_FDCWD, from, a) == 0 && absPath(AT_FDCWD, to, b) == 0 && tracked(b)) {
        pthread_mutex_lock(&mu);
        struct stat sb;
        if (recordOf(b) < 0 && stat(b, &sb) == 0 && S_ISREG(sb.st_mode)) fileFor(b, 0);
        if (tracked(a) && recordOf(a) < 0 && stat(a, &sb) == 0 && S_ISREG(sb.st_mode)) fileFor(a, 0);
        int rc = r_rename(from, to);
        if (rc == 0) {
            int g = recordOf(b), r = tracked(a) ? recordOf(a) : -1;
            if (g >= 0) {
                if (files[g].dpath[0]) { files[g].ghost = 1; files[g].path[0] = 0; }
                else dropFile(g);
            }
            if (r >= 0) snprintf(files[r].path, sizeof(files[r].path), "%s", b);
            else { r = fileFor(b, 0); files[r].dpath[0] = 0; }   /* moved in from outside */
        }
        pthread_mutex_unlock(&mu);
        return rc;
    }
    return r_rename(from, to);
}
