/* cutfs.c — a FUSE pass-through file system that simulates a power cut for a whole process
 * tree (PostgreSQL: many processes write, and the checkpointer fsyncs pages that other
 * processes wrote, so a per-process LD_PRELOAD layer such as powercut.c cannot follow it).
 *
 *   cutfs BACKING MOUNTPOINT      (runs in the foreground until unmounted)
 *
 * Every operation goes through to BACKING at once (the processes see their writes), and
 * cutfs keeps an undo record of what is not durable yet:
 *   - a write or truncation: the bytes (and size) it replaced, per file (by inode). fsync
 *     or fdatasync of the file drops its records: its contents are durable.
 *   - a name change (create, mkdir, symlink, unlink, rename): a journal entry, durable once
 *     the directory that holds the new entry is fsynced (fsyncdir). An unlinked file, or
 *     the file a rename replaced, is kept as a hard link in CUTFS_STASH until then, so the
 *     cut can bring it back.
 * Everything in BACKING at mount time is durable. At the cut (SIGUSR1, or the
 * CUTFS_AFTER-th write) the power goes: that write and every later operation fail with
 * EIO and change nothing. When the file system is unmounted (after the test has SIGKILLed
 * the processes that used it), BACKING is left as the power loss would leave it:
 *   drop  every non-durable write, truncation and name change is undone;
 *   tear  each 512-byte sector of a non-durable write stays or is undone at random (a
 *         sector past the old end of the file reads zeros when undone; sizes stay), each
 *         truncation at random, and a random prefix of the name-change journal stays;
 *   keep  nothing is undone (a clean unmount: CUTFS_MODE unset).
 * An rmdir, chmod, chown and utimens are taken as durable at once; so is a rename's
 * removal of the old name when the two names are in different directories (the journal
 * entry waits only for the new name's directory).
 *
 *   CUTFS_MODE   keep (default), drop or tear
 *   CUTFS_STASH  a directory on BACKING's file system for the stashed names (required)
 *   CUTFS_SEED   the random seed for tear
 *   CUTFS_AFTER  cut at this write (1-based); 0 or unset: only on SIGUSR1
 *   CUTFS_NOSYNC 1: fsync and fsyncdir succeed and make nothing durable (the test must fail)
 *   CUTFS_STATS  a file that receives counts when cutfs exits ("writes N", "fsyncs N", ...)
 *
 * Test code only (tests/integration/store_powerloss_pg.sh): built as build/tests/cutfs,
 * never linked into Lighthouse. Mount it as root with allow_other so that the postgres
 * user can use it; files are created with the caller's uid and gid. */
#define FUSE_USE_VERSION 35
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#define SECTOR 512
#define MAX_FD 65536

typedef struct undo {
    struct undo *prev;   /* the older record */
    int trunc;           /* 1: a truncation from oldsize to newsize; 0: a write */
    off_t off, oldsize, newsize;
    size_t len, oldlen;  /* write: its length, and how much of it replaced old bytes */
    unsigned char old[]; /* write: oldlen replaced bytes; shrinking truncation: the cut tail */
} undo;

typedef struct node {    /* a file with non-durable contents */
    struct node *next;
    ino_t ino;
    char *path;          /* where it is now: relative to BACKING, or absolute in the stash */
    undo *u;             /* newest first */
} node;

enum { NS_CREATE, NS_MKDIR, NS_UNLINK, NS_RENAME };
typedef struct nsop {    /* a non-durable name change */
    struct nsop *next, *prev;
    int kind;
    char *dir;           /* the directory whose fsync makes it durable */
    char *a, *b;         /* create/mkdir/unlink: a; rename: a -> b */
    char *stash;         /* unlink: the file; rename: the file b was before, or NULL */
} nsop;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int bfd = -1;                 /* BACKING */
static char stashDir[PATH_MAX], statsPath[PATH_MAX];
static int mode;                     /* 0 keep, 1 drop, 2 tear */
static int nosync;
static volatile sig_atomic_t cutNow;
static long cutAfter, writes, fsyncs, fsyncdirs, stashes, cutAt = -1;
static node *nodes;
static nsop *nsHead, *nsTail;
static ino_t fdIno[MAX_FD];
static unsigned long long rng;

static unsigned rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) { fprintf(stderr, "cutfs: out of memory\n"); abort(); }
    return p;
}
static char *xstrdup(const char *s) { char *p = xmalloc(strlen(s) + 1); strcpy(p, s); return p; }

/* "/a/b" -> "a/b"; "/" -> "." (paths relative to BACKING, for the *at calls) */
static const char *rel(const char *path) { return path[1] ? path + 1 : "."; }

static char *parentOf(const char *r) {
    char *p = xstrdup(r), *s = strrchr(p, '/');
    if (s) *s = 0; else strcpy(p, ".");
    return p;
}

/* The power is off: every operation fails and changes nothing. Called with mu held. */
static int off(void) {
    if (cutNow && cutAt < 0) cutAt = writes;
    return cutNow != 0;
}

static node *nodeOf(ino_t ino, const char *path) {
    for (node *n = nodes; n; n = n->next) if (n->ino == ino) return n;
    if (!path) return NULL;
    node *n = xmalloc(sizeof(*n));
    n->ino = ino; n->path = xstrdup(path); n->u = NULL; n->next = nodes;
    nodes = n;
    return n;
}

static void freeUndo(node *n) {
    for (undo *u = n->u, *p; u; u = p) { p = u->prev; free(u); }
    n->u = NULL;
}

static void dropNode(ino_t ino) {
    for (node **pp = &nodes; *pp; pp = &(*pp)->next)
        if ((*pp)->ino == ino) {
            node *n = *pp;
            *pp = n->next;
            freeUndo(n); free(n->path); free(n);
            return;
        }
}

/* A file (or directory) moved from a to b: the nodes at a, or under it, follow. */
static void moveNodes(const char *a, const char *b) {
    size_t la = strlen(a);
    for (node *n = nodes; n; n = n->next) {
        if (strncmp(n->path, a, la) || (n->path[la] && n->path[la] != '/')) continue;
        char *p = xmalloc(strlen(b) + strlen(n->path + la) + 1);
        strcpy(p, b); strcat(p, n->path + la);
        free(n->path); n->path = p;
    }
}

static void addNs(int kind, const char *dir, const char *a, const char *b, const char *stash) {
    nsop *o = xmalloc(sizeof(*o));
    o->kind = kind; o->dir = xstrdup(dir); o->a = xstrdup(a);
    o->b = b ? xstrdup(b) : NULL; o->stash = stash ? xstrdup(stash) : NULL;
    o->next = NULL; o->prev = nsTail;
    if (nsTail) nsTail->next = o; else nsHead = o;
    nsTail = o;
}

static void freeNs(nsop *o) {
    if (o->prev) o->prev->next = o->next; else nsHead = o->next;
    if (o->next) o->next->prev = o->prev; else nsTail = o->prev;
    free(o->dir); free(o->a); free(o->b); free(o->stash); free(o);
}

/* Keep the file at r (relative) as a hard link in the stash; its node follows. The new
 * absolute path, or NULL when r is not a regular file (or a symlink). */
static char *stash(const char *r) {
    struct stat sb;
    if (fstatat(bfd, r, &sb, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(sb.st_mode)) return NULL;
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/s%d-%ld", stashDir, (int)getpid(), ++stashes);
    if (linkat(bfd, r, AT_FDCWD, p, 0) < 0) { fprintf(stderr, "cutfs: cannot stash %s: %m\n", r); return NULL; }
    for (node *n = nodes; n; n = n->next) if (n->ino == sb.st_ino) { free(n->path); n->path = xstrdup(p); }
    return xstrdup(p);
}

/* ---- the operations ---------------------------------------------------------------- */

static void *opInit(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    (void)conn;
    cfg->use_ino = 1;
    cfg->hard_remove = 1;   /* no .fuse_hidden files: an unlinked open file is used by fd */
    return NULL;
}

static int opGetattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    if (cutNow) return -EIO;
    int r = fi ? fstat((int)fi->fh, st) : fstatat(bfd, rel(path), st, AT_SYMLINK_NOFOLLOW);
    return r < 0 ? -errno : 0;
}

static int opReadlink(const char *path, char *buf, size_t size) {
    if (cutNow) return -EIO;
    ssize_t k = readlinkat(bfd, rel(path), buf, size - 1);
    if (k < 0) return -errno;
    buf[k] = 0;
    return 0;
}

static int opReaddir(const char *path, void *buf, fuse_fill_dir_t fill, off_t o, struct fuse_file_info *fi,
                     enum fuse_readdir_flags fl) {
    (void)o; (void)fi; (void)fl;
    if (cutNow) return -EIO;
    int fd = openat(bfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) { int e = errno; close(fd); return -e; }
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type)};
        if (fill(buf, e->d_name, &st, 0, 0)) break;
    }
    closedir(d);
    return 0;
}

static void chownToCaller(const char *r) {
    struct fuse_context *c = fuse_get_context();
    if (fchownat(bfd, r, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0)
        fprintf(stderr, "cutfs: chown %s: %m\n", r);
}

static int opMkdir(const char *path, mode_t m) {
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : mkdirat(bfd, rel(path), m) < 0 ? -errno : 0;
    if (!rc) {
        chownToCaller(rel(path));
        char *d = parentOf(rel(path));
        addNs(NS_MKDIR, d, rel(path), NULL, NULL);
        free(d);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opSymlink(const char *target, const char *path) {
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : symlinkat(target, bfd, rel(path)) < 0 ? -errno : 0;
    if (!rc) {
        chownToCaller(rel(path));
        char *d = parentOf(rel(path));
        addNs(NS_CREATE, d, rel(path), NULL, NULL);
        free(d);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opUnlink(const char *path) {
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : 0;
    if (!rc) {
        char *s = stash(rel(path));
        if (unlinkat(bfd, rel(path), 0) < 0) {
            rc = -errno;
            if (s) { unlink(s); free(s); s = NULL; }
        } else {
            char *d = parentOf(rel(path));
            if (s) addNs(NS_UNLINK, d, rel(path), NULL, s);
            free(d);
        }
        free(s);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opRmdir(const char *path) {
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : unlinkat(bfd, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0;
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opRename(const char *from, const char *to, unsigned int flags) {
    if (flags & ~(unsigned)RENAME_NOREPLACE) return -EINVAL;
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : 0;
    if (!rc) {
        const char *a = rel(from), *b = rel(to);
        struct stat sb;
        char *s = (flags & RENAME_NOREPLACE) ? NULL : stash(b);
        if (renameat2(bfd, a, bfd, b, flags) < 0) {
            rc = -errno;
            if (s) { /* the stashed node must point back at b */
                struct stat ss;
                if (stat(s, &ss) == 0) for (node *n = nodes; n; n = n->next) if (n->ino == ss.st_ino) {
                    free(n->path); n->path = xstrdup(b);
                }
                unlink(s);
            }
        } else {
            moveNodes(a, b);
            char *d = parentOf(b);
            addNs(NS_RENAME, d, a, b, s);
            free(d);
            (void)sb;
        }
        free(s);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opLink(const char *from, const char *to) {
    (void)from; (void)to;
    return -ENOTSUP;
}

static int opChmod(const char *path, mode_t m, struct fuse_file_info *fi) {
    if (cutNow) return -EIO;
    int r = fi ? fchmod((int)fi->fh, m) : fchmodat(bfd, rel(path), m, 0);
    return r < 0 ? -errno : 0;
}

static int opChown(const char *path, uid_t u, gid_t g, struct fuse_file_info *fi) {
    if (cutNow) return -EIO;
    int r = fi ? fchown((int)fi->fh, u, g) : fchownat(bfd, rel(path), u, g, AT_SYMLINK_NOFOLLOW);
    return r < 0 ? -errno : 0;
}

/* Record the truncation of fd (inode ino, path p) to size; then do it. */
static int truncFd(int fd, ino_t ino, const char *p, off_t size) {
    struct stat sb;
    if (fstat(fd, &sb) < 0) return -errno;
    size_t keep = sb.st_size > size ? (size_t)(sb.st_size - size) : 0;
    undo *u = xmalloc(sizeof(*u) + keep);
    u->trunc = 1; u->off = 0; u->oldsize = sb.st_size; u->newsize = size; u->len = 0; u->oldlen = keep;
    if (keep && pread(fd, u->old, keep, size) != (ssize_t)keep) { free(u); return -EIO; }
    if (ftruncate(fd, size) < 0) { int e = errno; free(u); return -e; }
    node *n = nodeOf(ino, p);
    if (!n) { free(u); return 0; }
    u->prev = n->u; n->u = u;
    return 0;
}

static int opTruncate(const char *path, off_t size, struct fuse_file_info *fi) {
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : 0;
    if (!rc) {
        int fd = fi ? (int)fi->fh : openat(bfd, rel(path), O_RDWR | O_CLOEXEC);
        struct stat sb;
        if (fd < 0) rc = -errno;
        else if (fstat(fd, &sb) < 0) rc = -errno;
        else rc = truncFd(fd, sb.st_ino, path ? rel(path) : NULL, size);
        if (!fi && fd >= 0) close(fd);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opUtimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    if (cutNow) return -EIO;
    int r = fi ? futimens((int)fi->fh, tv) : utimensat(bfd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
    return r < 0 ? -errno : 0;
}

/* Our fd for a caller's open: read-write even when the caller writes only (a write first
 * reads the bytes it replaces), and without O_APPEND (the kernel gives every write its
 * offset; pwrite on an O_APPEND fd would ignore it). */
static int backingFlags(int flags) {
    if ((flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
    return (flags & ~O_APPEND) | O_CLOEXEC;
}

static void remember(struct fuse_file_info *fi, int fd) {
    struct stat sb;
    if (fd < MAX_FD && fstat(fd, &sb) == 0) fdIno[fd] = sb.st_ino;
    fi->fh = (uint64_t)fd;
}

static int opOpen(const char *path, struct fuse_file_info *fi) {
    if (cutNow) return -EIO;
    int fd = openat(bfd, rel(path), backingFlags(fi->flags & ~(O_CREAT | O_EXCL | O_TRUNC)));
    if (fd < 0) return -errno;
    if (fd >= MAX_FD) { close(fd); return -EMFILE; }
    remember(fi, fd);
    if (!(fi->flags & O_TRUNC)) return 0;
    pthread_mutex_lock(&mu);   /* atomic_o_trunc: the truncation comes with the open */
    int rc = off() ? -EIO : truncFd(fd, fdIno[fd], rel(path), 0);
    pthread_mutex_unlock(&mu);
    if (rc) close(fd);
    return rc;
}

static int opCreate(const char *path, mode_t m, struct fuse_file_info *fi) {
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : 0;
    if (!rc) {
        struct stat sb;
        int existed = fstatat(bfd, rel(path), &sb, AT_SYMLINK_NOFOLLOW) == 0;
        int fd = openat(bfd, rel(path), backingFlags(fi->flags & ~O_TRUNC) | O_CREAT, m);
        if (fd < 0) rc = -errno;
        else if (fd >= MAX_FD) { close(fd); rc = -EMFILE; }
        else {
            remember(fi, fd);
            if (!existed) {
                chownToCaller(rel(path));
                char *d = parentOf(rel(path));
                addNs(NS_CREATE, d, rel(path), NULL, NULL);
                free(d);
            } else if (fi->flags & O_TRUNC) rc = truncFd(fd, fdIno[fd], rel(path), 0);
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opRead(const char *path, char *buf, size_t size, off_t o, struct fuse_file_info *fi) {
    (void)path;
    if (cutNow) return -EIO;
    ssize_t k = pread((int)fi->fh, buf, size, o);
    return k < 0 ? -errno : (int)k;
}

static int opWrite(const char *path, const char *buf, size_t size, off_t o, struct fuse_file_info *fi) {
    int fd = (int)fi->fh;
    pthread_mutex_lock(&mu);
    int rc;
    if (off()) rc = -EIO;
    else if (cutAfter > 0 && writes + 1 >= cutAfter) {
        writes++;
        cutNow = 1;
        off();
        rc = -EIO;
    } else {
        writes++;
        struct stat sb;
        if (fstat(fd, &sb) < 0) rc = -errno;
        else {
            size_t oldlen = sb.st_size > o ? (size_t)(sb.st_size - o) : 0;
            if (oldlen > size) oldlen = size;
            undo *u = xmalloc(sizeof(*u) + oldlen);
            u->trunc = 0; u->off = o; u->len = size; u->oldlen = oldlen; u->oldsize = sb.st_size;
            u->newsize = 0;
            if (oldlen && pread(fd, u->old, oldlen, o) != (ssize_t)oldlen) { free(u); rc = -EIO; }
            else {
                ssize_t k = pwrite(fd, buf, size, o);
                if (k < 0) { rc = -errno; free(u); }
                else {
                    rc = (int)k;
                    u->len = (size_t)k;
                    if (u->oldlen > u->len) u->oldlen = u->len;
                    node *n = nodeOf(sb.st_ino, path ? rel(path) : NULL);
                    if (n) { u->prev = n->u; n->u = u; } else free(u);
                }
            }
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opStatfs(const char *path, struct statvfs *st) {
    (void)path;
    return fstatvfs(bfd, st) < 0 ? -errno : 0;
}

static int opRelease(const char *path, struct fuse_file_info *fi) {
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int opFsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path; (void)datasync;
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : 0;
    if (!rc) {
        fsyncs++;
        int fd = (int)fi->fh;
        if (!nosync && fd < MAX_FD) {
            node *n = nodeOf(fdIno[fd], NULL);
            if (n) freeUndo(n);
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opOpendir(const char *path, struct fuse_file_info *fi) {
    if (cutNow) return -EIO;
    (void)path; fi->fh = 0;
    return 0;
}

/* The entries directly in path are durable: the journal's records for it go. */
static int opFsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)datasync; (void)fi;
    pthread_mutex_lock(&mu);
    int rc = off() ? -EIO : 0;
    if (!rc && path) {
        fsyncdirs++;
        const char *r = rel(path);
        for (nsop *o = nsHead, *next; o && !nosync; o = next) {
            next = o->next;
            if (strcmp(o->dir, r)) continue;
            if (o->stash) {
                struct stat ss;
                if (stat(o->stash, &ss) == 0) {
                    int mine = 1;   /* the stashed node goes, unless it is back in use */
                    for (node *n = nodes; n; n = n->next) if (n->ino == ss.st_ino && strcmp(n->path, o->stash)) mine = 0;
                    if (mine) dropNode(ss.st_ino);
                }
                unlink(o->stash);
            }
            freeNs(o);
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int opFallocate(const char *path, int m, off_t o, off_t len, struct fuse_file_info *fi) {
    (void)path; (void)m; (void)o; (void)len; (void)fi;
    return -EOPNOTSUPP;   /* posix_fallocate then writes zeros, which are tracked */
}

static const struct fuse_operations ops = {
    .init = opInit, .getattr = opGetattr, .readlink = opReadlink, .readdir = opReaddir,
    .mkdir = opMkdir, .symlink = opSymlink, .unlink = opUnlink, .rmdir = opRmdir,
    .rename = opRename, .link = opLink, .chmod = opChmod, .chown = opChown,
    .truncate = opTruncate, .utimens = opUtimens, .open = opOpen, .create = opCreate,
    .read = opRead, .write = opWrite, .statfs = opStatfs, .release = opRelease,
    .fsync = opFsync, .opendir = opOpendir, .fsyncdir = opFsyncdir, .fallocate = opFallocate,
};

/* ---- the cut --------------------------------------------------------------------- */

static int pathFd(const char *p) { return openat(bfd, p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW); }

static void undoContents(void) {
    static const unsigned char zeros[SECTOR];
    for (node *n = nodes; n; n = n->next) {
        if (!n->u) continue;
        int fd = pathFd(n->path);
        if (fd < 0) { fprintf(stderr, "cutfs: cannot undo %s: %m\n", n->path); continue; }
        for (undo *u = n->u; u; u = u->prev) {
            if (u->trunc) {
                if (mode == 2 && rnd() % 2) continue;
                if (ftruncate(fd, u->oldsize) < 0 ||
                    (u->oldlen && pwrite(fd, u->old, u->oldlen, u->newsize) != (ssize_t)u->oldlen))
                    fprintf(stderr, "cutfs: cannot undo a truncation of %s: %m\n", n->path);
                continue;
            }
            if (mode == 1) {
                if ((u->oldlen && pwrite(fd, u->old, u->oldlen, u->off) != (ssize_t)u->oldlen) ||
                    (u->off + (off_t)u->len > u->oldsize && ftruncate(fd, u->oldsize) < 0))
                    fprintf(stderr, "cutfs: cannot undo a write to %s: %m\n", n->path);
                continue;
            }
            for (size_t done = 0; done < u->len;) {   /* tear: sector by sector */
                off_t at = u->off + (off_t)done;
                size_t k = SECTOR - (size_t)(at % SECTOR);
                if (k > u->len - done) k = u->len - done;
                if (rnd() % 2) {
                    size_t fromOld = done < u->oldlen ? (u->oldlen - done < k ? u->oldlen - done : k) : 0;
                    if ((fromOld && pwrite(fd, u->old + done, fromOld, at) != (ssize_t)fromOld) ||
                        (k > fromOld && pwrite(fd, zeros, k - fromOld, at + (off_t)fromOld) != (ssize_t)(k - fromOld)))
                        fprintf(stderr, "cutfs: cannot tear a write to %s: %m\n", n->path);
                }
                done += k;
            }
        }
        close(fd);
    }
}

static int rmTree(int at, const char *name) {
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return unlinkat(at, name, 0);
    DIR *d = fdopendir(fd);
    if (!d) { close(fd); return -1; }
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (e->d_type == DT_DIR) rmTree(dirfd(d), e->d_name);
        else unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    return unlinkat(at, name, AT_REMOVEDIR);
}

/* Undo the journal from its newest entry; in tear mode a random prefix of it stays. */
static long undoNames(void) {
    long n = 0, keep = 0, undone = 0;
    for (nsop *o = nsHead; o; o = o->next) n++;
    if (mode == 2 && n) keep = (long)(rnd() % (unsigned)(n + 1));
    for (nsop *o = nsTail; o && n > keep; o = o->prev, n--) {
        undone++;
        switch (o->kind) {
        case NS_CREATE: unlinkat(bfd, o->a, 0); break;
        case NS_MKDIR: rmTree(bfd, o->a); break;
        case NS_UNLINK: renameat(AT_FDCWD, o->stash, bfd, o->a); break;
        case NS_RENAME:
            if (renameat(bfd, o->b, bfd, o->a) < 0) fprintf(stderr, "cutfs: cannot undo a rename to %s: %m\n", o->b);
            if (o->stash) renameat(AT_FDCWD, o->stash, bfd, o->b);
            break;
        }
    }
    return undone;
}

static void onCut(int sig) { (void)sig; cutNow = 1; }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: cutfs BACKING MOUNTPOINT (see tests/powercut/cutfs.c)\n"); return 2; }
    const char *m = getenv("CUTFS_MODE"), *s = getenv("CUTFS_STASH"), *a = getenv("CUTFS_AFTER");
    const char *sd = getenv("CUTFS_SEED"), *st = getenv("CUTFS_STATS"), *ns = getenv("CUTFS_NOSYNC");
    mode = !m || !strcmp(m, "keep") ? 0 : !strcmp(m, "drop") ? 1 : !strcmp(m, "tear") ? 2 : -1;
    if (mode < 0) { fprintf(stderr, "cutfs: CUTFS_MODE is keep, drop or tear\n"); return 2; }
    if (!s || !realpath(s, stashDir)) { fprintf(stderr, "cutfs: CUTFS_STASH must name a directory\n"); return 2; }
    cutAfter = a ? atol(a) : 0;
    nosync = ns && !strcmp(ns, "1");
    rng = (sd ? strtoull(sd, NULL, 10) : 1) * 2654435761ULL + 88172645463325252ULL;
    if (st) snprintf(statsPath, sizeof(statsPath), "%s", st);
    bfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0) { fprintf(stderr, "cutfs: %s: %m\n", argv[1]); return 2; }
    struct sigaction sa = {.sa_handler = onCut, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    char *fargv[] = {"cutfs", "-o", "allow_other,default_permissions,fsname=cutfs,subtype=cutfs", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
    struct fuse *f = fuse_new(&args, &ops, sizeof(ops), NULL);
    if (!f) { fprintf(stderr, "cutfs: fuse_new failed\n"); return 1; }
    if (fuse_mount(f, argv[2]) != 0) { fprintf(stderr, "cutfs: cannot mount %s\n", argv[2]); fuse_destroy(f); return 1; }
    struct fuse_session *se = fuse_get_session(f);
    fuse_set_signal_handlers(se);
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg) { fuse_loop_cfg_set_max_threads(cfg, 32); fuse_loop_cfg_set_clone_fd(cfg, 0); }
    if (fputs("mounted\n", stdout) >= 0) fflush(stdout);
    int res = fuse_loop_mt(f, cfg);
    fuse_loop_cfg_destroy(cfg);
    fuse_remove_signal_handlers(se);
    fuse_unmount(f);
    fuse_destroy(f);

    pthread_mutex_lock(&mu);
    if (cutNow && cutAt < 0) cutAt = writes;
    long pendingWrites = 0, pendingNames = 0, undone = 0;
    for (node *n = nodes; n; n = n->next) for (undo *u = n->u; u; u = u->prev) pendingWrites++;
    for (nsop *o = nsHead; o; o = o->next) pendingNames++;
    if (mode) {
        undoContents();
        undone = undoNames();
    }
    for (nsop *o = nsHead; o; o = o->next) if (o->stash) unlink(o->stash);   /* what stays is durable now */
    if (statsPath[0]) {
        FILE *sf = fopen(statsPath, "w");
        if (sf) {
            fprintf(sf, "writes %ld\nfsyncs %ld\nfsyncdirs %ld\ncut_at %ld\npending_writes %ld\npending_names %ld\n"
                    "names_undone %ld\nmode %s\n", writes, fsyncs, fsyncdirs, cutAt, pendingWrites, pendingNames,
                    undone, mode == 0 ? "keep" : mode == 1 ? "drop" : "tear");
            fclose(sf);
        }
    }
    pthread_mutex_unlock(&mu);
    return res < 0 ? 1 : 0;
}
