/* mount.c — `lighthouse mount DIR`: the project shadows as a read-only FUSE file system
 * (libfuse3), a client of the bridge's shadow API (mount_client.c; docs/shadows.md):
 *
 *   current/            the project at the head
 *   history/<seq>/      the project as of audit event <seq> (one entry per shadow change)
 *   at/<ISO time>/      the project at a UTC time, e.g. at/2026-12-07T05:41:03Z/
 *   streams/events      the audit events as JSON lines; a growing file that tail -f follows
 *   debug/status.json   the mount's state (bridge reachable, caches, last error)
 *   annotations/<path>.json, escalations/<id>.json   JSON documents (mount_docs.h)
 *
 * Read-only: mounted "ro" (the kernel answers EROFS to every write) and every writing
 * operation answers EROFS too. Names are checked like shadow paths (util/shadow_path.h):
 * a component that is not UTF-8, holds a control character or is longer than 255 bytes
 * is refused (EINVAL / ENAMETOOLONG); ".." never reaches us (the kernel resolves it
 * inside the mount). The token must be an expert's or an admin's: a builder token is
 * refused at start. SIGTERM, SIGINT and SIGHUP unmount cleanly (libfuse's handlers).
 *
 * The low-level libfuse API, for per-name kernel timeouts: a name in a tree that cannot
 * change (history/<seq>/) is kept by the kernel for a day, every other for a second. Each
 * path gets one inode for the life of the mount (inodeOf), and the operations work on
 * paths (resolve, statPath, listDir, readPath). No open reaches us (llOpen). */
#define FUSE_USE_VERSION 35
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/mount_client.h"
#include "cli/mount_docs.h"
#include "util/shadow_path.h"

static lh_mc *mc;   /* the one client of this process (FUSE's callbacks take no context) */
static time_t mountTime;

/* ------------------------------------------------------------------------------ */
/* Paths                                                                            */
/* ------------------------------------------------------------------------------ */

typedef enum { N_NONE, N_DIR, N_FILE, N_EVENTS, N_STATUS } nodeKind;

/* What a FUSE path names: a fixed node, or a place inside a tree (spec, sub). */
typedef struct where {
    int inTree;            /* sub is a path inside the tree at spec */
    char spec[96];         /* "" head, "seq:N", "time:ISO" */
    const char *sub;       /* "" for the tree's root */
    nodeKind fixed;        /* when !inTree */
    int listing;           /* when !inTree: 1 /, 2 /history, 3 /at, 4 /streams, 5 /debug */
    int doc;               /* 1 + lh_md_kind: under annotations/ or escalations/ (sub is the rest) */
} where;

/* Check every component of path: -EINVAL (not UTF-8, a control character), -ENAMETOOLONG. */
static int checkNames(const char *path) {
    size_t len = strlen(path);
    if (len > LH_SHADOW_PATH_MAX + 128) return -ENAMETOOLONG;
    const char *s = path;
    while (*s) {
        while (*s == '/') s++;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > LH_SHADOW_NAME_MAX) return -ENAMETOOLONG;
        if (n) {
            char err[128];
            if (lh_shadow_path_check(s, n, err, sizeof(err))) return -EINVAL;
        }
        s += n;
    }
    return 0;
}

static int isDigits(const char *s, size_t n) {
    if (!n || n > 18) return 0;
    for (size_t i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Resolve path into w. 0, or a negative errno. */
static int resolve(const char *path, where *w) {
    memset(w, 0, sizeof(*w));
    int rc = checkNames(path);
    if (rc) return rc;
    if (!strcmp(path, "/")) { w->fixed = N_DIR; w->listing = 1; return 0; }
    const char *p = path + 1;
    size_t n = strcspn(p, "/");
    const char *rest = p[n] ? p + n + 1 : NULL;
#define TOP(name) (n == strlen(name) && !strncmp(p, name, n))
    if (TOP("current")) { w->inTree = 1; w->sub = rest ? rest : ""; return 0; }
    if (TOP("annotations") || TOP("escalations")) {
        w->doc = 1 + (TOP("annotations") ? LH_MD_ANNOTATIONS : LH_MD_ESCALATIONS);
        w->sub = rest ? rest : "";
        return 0;
    }
    if (TOP("streams")) {
        if (!rest) { w->fixed = N_DIR; w->listing = 4; return 0; }
        if (!strcmp(rest, "events")) { w->fixed = N_EVENTS; return 0; }
        return -ENOENT;
    }
    if (TOP("debug")) {
        if (!rest) { w->fixed = N_DIR; w->listing = 5; return 0; }
        if (!strcmp(rest, "status.json")) { w->fixed = N_STATUS; return 0; }
        return -ENOENT;
    }
    if (TOP("history") || TOP("at")) {
        int hist = TOP("history");
        if (!rest) { w->fixed = N_DIR; w->listing = hist ? 2 : 3; return 0; }
        size_t k = strcspn(rest, "/");
        if (k >= 64) return -ENOENT;
        char name[64];
        memcpy(name, rest, k);
        name[k] = 0;
        if (hist && !isDigits(name, k)) return -ENOENT;
        if (!hist && (k < 20 || name[4] != '-' || name[10] != 'T')) return -ENOENT;   /* the bridge checks the rest */
        snprintf(w->spec, sizeof(w->spec), "%s:%s", hist ? "seq" : "time", name);
        w->inTree = 1;
        w->sub = rest[k] ? rest + k + 1 : "";
        return 0;
    }
#undef TOP
    return -ENOENT;
}

/* In tree t: 1 a file (its index in *idx), 2 a directory, 0 nothing. */
static int lookupTree(const lh_mc_tree *t, const char *sub, size_t *idx) {
    if (!*sub) return 2;
    size_t sl = strlen(sub);
    for (size_t i = 0; i < t->n; i++) {
        const char *p = t->files[i].path;
        if (!strcmp(p, sub)) { *idx = i; return 1; }
        if (!strncmp(p, sub, sl) && p[sl] == '/') return 2;
    }
    return 0;
}

/* No OPEN reaches us (opOpen answers ENOSYS once; the kernel then opens every file by
 * itself, keeps its pages, and sends a READ only for pages it has not got). So a READ must
 * give the bytes of the version whose size and mtime the kernel holds: those of our last
 * GETATTR of that name. For a name whose content may change (current/, a document, the
 * status), that version is remembered here; a new version brings a new mtime, and the
 * kernel drops the pages it holds when a GETATTR shows it (FUSE_CAP_AUTO_INVAL_DATA).
 *
 * Two direct-mapped tables by a hash of the name; a collision only loses the memory of a
 * version, and that READ serves the newest one instead. */
static uint64_t nameHash(const char *name) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h | 1;   /* 0 is an empty slot */
}

#define SEEN_SLOTS 4096
static struct { uint64_t name; char attr[65]; } seen[SEEN_SLOTS];   /* a blob, by tree name */
static pthread_mutex_t seenMu = PTHREAD_MUTEX_INITIALIZER;          /* guards seen and snaps */

static void seenAttr(const char *name, const char *hash) {
    uint64_t h = nameHash(name);
    pthread_mutex_lock(&seenMu);
    seen[h % SEEN_SLOTS].name = h;
    memcpy(seen[h % SEEN_SLOTS].attr, hash, 65);
    pthread_mutex_unlock(&seenMu);
}

/* The blob whose attributes we last gave for name into hash[65]: 1, or 0 when unknown. */
static int seenGet(const char *name, char *hash) {
    uint64_t h = nameHash(name);
    pthread_mutex_lock(&seenMu);
    int got = seen[h % SEEN_SLOTS].name == h;
    if (got) memcpy(hash, seen[h % SEEN_SLOTS].attr, 65);
    pthread_mutex_unlock(&seenMu);
    return got;
}

/* Documents and the status: the text of the last GETATTR, and the mtime it was given (the
 * time the text was first seen, so a change of text is a change of mtime). */
#define SNAP_SLOTS 256
static struct { uint64_t name; char *text; size_t len; struct timespec mtime; } snaps[SNAP_SLOTS];

/* Remember text as name's version; *mtime gets its time. The text is copied. */
static void snapPut(const char *name, const char *text, size_t len, struct timespec *mtime) {
    uint64_t h = nameHash(name);
    size_t i = h % SNAP_SLOTS;
    pthread_mutex_lock(&seenMu);
    if (snaps[i].name != h || snaps[i].len != len || memcmp(snaps[i].text, text, len)) {
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, text, len);
            copy[len] = 0;
            free(snaps[i].text);
            snaps[i].name = h;
            snaps[i].text = copy;
            snaps[i].len = len;
            clock_gettime(CLOCK_REALTIME, &snaps[i].mtime);
        }
    }
    if (snaps[i].name == h) *mtime = snaps[i].mtime;
    else clock_gettime(CLOCK_REALTIME, mtime);
    pthread_mutex_unlock(&seenMu);
}

/* Copy bytes [off, off + size) of name's remembered text into buf: the count, or -1 when
 * none is remembered. */
static int snapRead(const char *name, char *buf, size_t size, off_t off) {
    uint64_t h = nameHash(name);
    size_t i = h % SNAP_SLOTS;
    int n = -1;
    pthread_mutex_lock(&seenMu);
    if (snaps[i].name == h) {
        size_t o = (size_t)off < snaps[i].len ? (size_t)off : snaps[i].len;
        size_t k = snaps[i].len - o < size ? snaps[i].len - o : size;
        memcpy(buf, snaps[i].text + o, k);
        n = (int)k;
    }
    pthread_mutex_unlock(&seenMu);
    return n;
}

static void snapClear(void) {
    for (size_t i = 0; i < SNAP_SLOTS; i++) { free(snaps[i].text); snaps[i].text = NULL; snaps[i].name = 0; }
}

static void dirStat(struct stat *st) {
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    st->st_mtime = mountTime;
}

/* ------------------------------------------------------------------------------ */
/* Operations                                                                       */
/* ------------------------------------------------------------------------------ */

/* The attributes of path into st; *forever 1 when neither the name nor what it shows can
 * change (a tree at a seq the bridge had reached: history/<seq>/). 0 or a negative errno. */
static int statPath(const char *path, struct stat *st, int *forever) {
    *forever = 0;
    memset(st, 0, sizeof(*st));
    st->st_uid = getuid();
    st->st_gid = getgid();
    where w;
    int rc = resolve(path, &w);
    if (rc) return rc;
    if (w.doc) {
        lh_md_set *s;
        if ((rc = lh_md_get(mc, (lh_md_kind)(w.doc - 1), &s))) return rc;
        size_t i = 0;
        int k = lh_md_lookup(s, w.sub, &i);
        if (k == 2) dirStat(st);
        else if (k == 1) {
            st->st_mode = S_IFREG | 0444;
            st->st_nlink = 1;
            st->st_size = (off_t)s->docs[i].len;
            snapPut(path, s->docs[i].text, s->docs[i].len, &st->st_mtim);
        }
        lh_md_release(s);
        return k ? 0 : -ENOENT;
    }
    if (!w.inTree) {
        if (w.fixed == N_DIR) { dirStat(st); return 0; }
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        if (w.fixed == N_EVENTS) {   /* append-only: a READ at any offset is the same bytes */
            st->st_size = (off_t)lh_mc_events_size(mc);
            st->st_mtime = time(NULL);
        } else {
            char *s = lh_mc_status(mc);
            st->st_size = s ? (off_t)strlen(s) : 0;
            snapPut(path, s ? s : "", s ? strlen(s) : 0, &st->st_mtim);
            free(s);
        }
        return 0;
    }
    lh_mc_note_tree_attr(mc);
    lh_mc_tree *t;
    if ((rc = lh_mc_tree_get(mc, w.spec, &t))) return rc == -EINVAL ? -ENOENT : rc;
    size_t i = 0;
    int k = lookupTree(t, w.sub, &i);
    *forever = t->forever;
    if (k == 2) dirStat(st);
    else if (k == 1) {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)t->files[i].size;
        st->st_mtim.tv_sec = (time_t)(t->files[i].time_ns / 1000000000);
        st->st_mtim.tv_nsec = (long)(t->files[i].time_ns % 1000000000);
        if (!t->forever) seenAttr(path, t->files[i].hash);
    }
    lh_mc_tree_release(mc, t);
    return k ? 0 : -ENOENT;
}

typedef void (*fillFn)(void *buf, const char *name);

/* Each name in directory path, through fill. 0 or a negative errno. */
static int listDir(const char *path, void *buf, fillFn fill) {
    where w;
    int rc = resolve(path, &w);
    if (rc) return rc;
    fill(buf, ".");
    fill(buf, "..");
    if (w.doc) {
        lh_md_set *s;
        if ((rc = lh_md_get(mc, (lh_md_kind)(w.doc - 1), &s))) return rc;
        size_t idx, sl = strlen(w.sub);
        int k = lh_md_lookup(s, w.sub, &idx);
        char last[LH_SHADOW_NAME_MAX + 1] = "";
        for (size_t i = 0; k == 2 && i < s->n; i++) {   /* sorted: a directory's documents are adjacent */
            const char *p = s->docs[i].name;
            if (sl && (strncmp(p, w.sub, sl) || p[sl] != '/')) continue;
            const char *name = sl ? p + sl + 1 : p;
            size_t nl = strcspn(name, "/");
            if (nl > LH_SHADOW_NAME_MAX || (strlen(last) == nl && !strncmp(last, name, nl))) continue;
            memcpy(last, name, nl);
            last[nl] = 0;
            fill(buf, last);
        }
        lh_md_release(s);
        return k == 2 ? 0 : k ? -ENOTDIR : -ENOENT;
    }
    if (!w.inTree) {
        switch (w.listing) {
        case 1: fill(buf, "current"); fill(buf, "history"); fill(buf, "at");
                fill(buf, "streams"); fill(buf, "debug"); fill(buf, "annotations");
                fill(buf, "escalations"); return 0;
        case 2: {
            int64_t *seqs;
            size_t n;
            if ((rc = lh_mc_changes(mc, &seqs, &n))) return rc;
            for (size_t i = 0; i < n; i++) {
                char name[24];
                snprintf(name, sizeof(name), "%lld", (long long)seqs[i]);
                fill(buf, name);
            }
            free(seqs);
            return 0;
        }
        case 3: return 0;   /* any at/<ISO time>/ resolves; none is listed */
        case 4: fill(buf, "events"); return 0;
        case 5: fill(buf, "status.json"); return 0;
        default: return -ENOTDIR;
        }
    }
    lh_mc_tree *t;
    if ((rc = lh_mc_tree_get(mc, w.spec, &t))) return rc == -EINVAL ? -ENOENT : rc;
    size_t idx;
    int k = lookupTree(t, w.sub, &idx);
    if (k != 2) { lh_mc_tree_release(mc, t); return k ? -ENOTDIR : -ENOENT; }
    size_t sl = strlen(w.sub);
    char last[LH_SHADOW_NAME_MAX + 1] = "";
    for (size_t i = 0; i < t->n; i++) {   /* sorted: a directory's files are adjacent */
        const char *p = t->files[i].path;
        if (sl && (strncmp(p, w.sub, sl) || p[sl] != '/')) continue;
        const char *name = sl ? p + sl + 1 : p;
        size_t nl = strcspn(name, "/");
        if (nl > LH_SHADOW_NAME_MAX) continue;
        if (strlen(last) == nl && !strncmp(last, name, nl)) continue;
        memcpy(last, name, nl);
        last[nl] = 0;
        fill(buf, last);
    }
    lh_mc_tree_release(mc, t);
    return 0;
}

static int copyOut(const char *data, size_t len, char *buf, size_t size, off_t off) {
    if ((size_t)off >= len) return 0;
    size_t n = len - (size_t)off < size ? len - (size_t)off : size;
    memcpy(buf, data + off, n);
    return (int)n;
}

/* A READ of a document or of the status: the text its last GETATTR gave. */
static int readText(const where *w, const char *path, char *buf, size_t size, off_t off) {
    int n = snapRead(path, buf, size, off);
    if (n >= 0) return n;
    if (!w->doc) {   /* no GETATTR remembered (a collision): the status now */
        char *s = lh_mc_status(mc);
        if (!s) return -ENOMEM;
        n = copyOut(s, strlen(s), buf, size, off);
        free(s);
        return n;
    }
    lh_md_set *set;
    int rc = lh_md_get(mc, (lh_md_kind)(w->doc - 1), &set);
    if (rc) return rc;
    size_t i = 0;
    int k = lh_md_lookup(set, w->sub, &i);
    n = k == 1 ? copyOut(set->docs[i].text, set->docs[i].len, buf, size, off) : k ? -EISDIR : -ENOENT;
    lh_md_release(set);
    return n;
}

/* A READ of a file in a tree: the blob whose attributes the kernel holds for this name
 * (seenAttr), or, for a tree that cannot change or a name not remembered, the tree's. */
static int readTree(const where *w, const char *path, char *buf, size_t size, off_t off) {
    lh_mc_tree *t;
    int rc = lh_mc_tree_get(mc, w->spec, &t);
    if (rc) return rc == -EINVAL ? -ENOENT : rc;
    char hash[65] = "";
    size_t idx;
    int k = lookupTree(t, w->sub, &idx);
    if (t->forever || !seenGet(path, hash)) {
        if (k == 1) memcpy(hash, t->files[idx].hash, 65);
    }
    lh_mc_tree_release(mc, t);
    if (!hash[0]) return k ? -EISDIR : -ENOENT;
    const char *data;
    size_t len;
    if ((rc = lh_mc_blob(mc, hash, &data, &len))) return rc;
    lh_mc_note_file_read(mc);
    return copyOut(data, len, buf, size, off);
}

/* A READ of path: the count of bytes put in buf, or a negative errno. */
static int readPath(const char *path, char *buf, size_t size, off_t off) {
    if (off < 0 || size > INT_MAX) return -EINVAL;
    where w;
    int rc = resolve(path, &w);
    if (rc) return rc;
    if (w.inTree) return readTree(&w, path, buf, size, off);
    if (w.doc) return readText(&w, path, buf, size, off);
    if (w.fixed == N_EVENTS) return (int)lh_mc_events_read(mc, buf, size, (uint64_t)off);
    if (w.fixed == N_STATUS) return readText(&w, path, buf, size, off);
    return -EISDIR;
}

/* ------------------------------------------------------------------------------ */
/* Inodes                                                                           */
/* ------------------------------------------------------------------------------ */

/* The low-level API names files by inode: one per path ever looked up, never forgotten
 * (FORGET is ignored), so an inode's path is fixed for the life of the mount. Bounded by
 * INODES_MAX; past it a new name gets ENOMEM. */
#define INODES_MAX (1u << 20)
#define PATH_CAP (LH_SHADOW_PATH_MAX + 256)

static struct {
    pthread_mutex_t mu;    /* guards everything here */
    char **paths;          /* paths[ino - 1]; inode 1 is "/" */
    size_t n, cap;
    uint64_t *slots;       /* open addressing by nameHash: 0 empty, else an inode */
    size_t nslots;
} inodes = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int inodeGrowSlots(void) {
    size_t ns = inodes.nslots ? inodes.nslots * 2 : 1024;
    uint64_t *t = calloc(ns, sizeof(*t));
    if (!t) return -1;
    for (size_t i = 0; i < inodes.nslots; i++) {
        uint64_t ino = inodes.slots[i];
        if (!ino) continue;
        size_t j = nameHash(inodes.paths[ino - 1]) % ns;
        while (t[j]) j = (j + 1) % ns;
        t[j] = ino;
    }
    free(inodes.slots);
    inodes.slots = t;
    inodes.nslots = ns;
    return 0;
}

/* The inode of path, made on first use: 0 when out of memory or past INODES_MAX. */
static fuse_ino_t inodeOf(const char *path) {
    pthread_mutex_lock(&inodes.mu);
    fuse_ino_t ino = 0;
    if ((inodes.n + 1) * 2 > inodes.nslots && inodeGrowSlots()) goto out;
    size_t j = nameHash(path) % inodes.nslots;
    for (; inodes.slots[j]; j = (j + 1) % inodes.nslots)
        if (!strcmp(inodes.paths[inodes.slots[j] - 1], path)) { ino = inodes.slots[j]; goto out; }
    if (inodes.n >= INODES_MAX) goto out;
    if (inodes.n == inodes.cap) {
        size_t c = inodes.cap ? inodes.cap * 2 : 1024;
        char **p = realloc(inodes.paths, c * sizeof(*p));
        if (!p) goto out;
        inodes.paths = p;
        inodes.cap = c;
    }
    char *copy = strdup(path);
    if (!copy) goto out;
    inodes.paths[inodes.n++] = copy;
    ino = inodes.n;
    inodes.slots[j] = ino;
out:
    pthread_mutex_unlock(&inodes.mu);
    return ino;
}

/* The path of ino into out[PATH_CAP]: 0, or -ENOENT for an inode we never gave. */
static int pathOf(fuse_ino_t ino, char *out) {
    pthread_mutex_lock(&inodes.mu);
    int rc = ino >= 1 && ino <= inodes.n ? 0 : -ENOENT;
    if (!rc) snprintf(out, PATH_CAP, "%s", inodes.paths[ino - 1]);
    pthread_mutex_unlock(&inodes.mu);
    return rc;
}

static void inodesFree(void) {
    for (size_t i = 0; i < inodes.n; i++) free(inodes.paths[i]);
    free(inodes.paths);
    free(inodes.slots);
    inodes.paths = NULL;
    inodes.slots = NULL;
    inodes.n = inodes.cap = inodes.nslots = 0;
}

/* ------------------------------------------------------------------------------ */
/* Operations (the low-level API: per-name timeouts)                                */
/* ------------------------------------------------------------------------------ */

/* The kernel keeps a name and its attributes this long: a day when they cannot change
 * (history/<seq>/), else one second (current/ is as fresh as the head's tree, whose TTL
 * is a second too; streams/events grows by then, and tail -f polls each second). */
#define TIMEOUT_FOREVER 86400.0
#define TIMEOUT_CHANGING 1.0

static void llLookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    char path[PATH_CAP];
    int rc = pathOf(parent, path);
    if (rc) { fuse_reply_err(req, -rc); return; }
    size_t pl = strlen(path), nl = strlen(name);
    if (nl > LH_SHADOW_NAME_MAX) { fuse_reply_err(req, ENAMETOOLONG); return; }
    if (pl + nl + 2 > PATH_CAP) { fuse_reply_err(req, ENAMETOOLONG); return; }
    snprintf(path + pl, PATH_CAP - pl, "%s%s", pl > 1 ? "/" : "", name);
    struct fuse_entry_param e;
    memset(&e, 0, sizeof(e));
    int forever;
    if ((rc = statPath(path, &e.attr, &forever))) { fuse_reply_err(req, -rc); return; }
    if (!(e.ino = inodeOf(path))) { fuse_reply_err(req, ENOMEM); return; }
    e.attr.st_ino = e.ino;
    e.attr_timeout = e.entry_timeout = forever ? TIMEOUT_FOREVER : TIMEOUT_CHANGING;
    fuse_reply_entry(req, &e);
}

static void llGetattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    char path[PATH_CAP];
    struct stat st;
    int forever, rc = pathOf(ino, path);
    if (!rc) rc = statPath(path, &st, &forever);
    if (rc) { fuse_reply_err(req, -rc); return; }
    st.st_ino = ino;
    fuse_reply_attr(req, &st, forever ? TIMEOUT_FOREVER : TIMEOUT_CHANGING);
}

/* A directory listing being built for one READDIR. */
typedef struct dirBuf {
    fuse_req_t req;
    const char *path;      /* the directory's */
    fuse_ino_t ino;
    char *p;
    size_t n, cap;
    int failed;
} dirBuf;

static void dirAdd(void *ud, const char *name) {
    dirBuf *d = ud;
    struct stat st;
    memset(&st, 0, sizeof(st));
    /* Each entry with its inode (readdir skips an entry whose d_ino is 0). */
    if (!strcmp(name, ".")) st.st_ino = d->ino;
    else if (!strcmp(name, "..")) st.st_ino = 1;
    else {
        char child[PATH_CAP];
        size_t pl = strlen(d->path), nl = strlen(name);
        if (pl + nl + 2 > PATH_CAP) return;
        memcpy(child, d->path, pl);
        if (pl > 1) child[pl++] = '/';
        memcpy(child + pl, name, nl + 1);
        if (!(st.st_ino = inodeOf(child))) { d->failed = 1; return; }
    }
    size_t need = fuse_add_direntry(d->req, NULL, 0, name, NULL, 0);
    if (d->n + need > d->cap) {
        size_t c = d->cap ? d->cap * 2 : 4096;
        while (c < d->n + need) c *= 2;
        char *q = realloc(d->p, c);
        if (!q) { d->failed = 1; return; }
        d->p = q;
        d->cap = c;
    }
    fuse_add_direntry(d->req, d->p + d->n, need, name, &st, (off_t)(d->n + need));
    d->n += need;
}

/* Each READDIR lists the whole directory anew and answers the part at off. */
static void llReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)fi;
    char path[PATH_CAP];
    int rc = pathOf(ino, path);
    dirBuf d = {.req = req, .path = path, .ino = ino};
    if (!rc) rc = listDir(path, &d, dirAdd);
    if (!rc && d.failed) rc = -ENOMEM;
    if (rc) fuse_reply_err(req, -rc);
    else if (off < 0 || (size_t)off >= d.n) fuse_reply_buf(req, NULL, 0);
    else fuse_reply_buf(req, d.p + off, d.n - (size_t)off < size ? d.n - (size_t)off : size);
    free(d.p);
}

/* Every open is the kernel's own: the first one answers ENOSYS, and from then on the
 * kernel sends no OPEN, FLUSH or RELEASE, and keeps every file's pages (FOPEN_KEEP_CACHE)
 * until a GETATTR shows a new size or mtime. A cached read then never leaves the kernel.
 * A write open never gets here: the mount is "ro" and the kernel answers EROFS. */
static void llOpen(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino;
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT | O_APPEND))) fuse_reply_err(req, EROFS);
    else fuse_reply_err(req, ENOSYS);
}

static void llRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)fi;
    char path[PATH_CAP];
    int rc = pathOf(ino, path);
    if (rc) { fuse_reply_err(req, -rc); return; }
    if (size > (1u << 20)) size = 1u << 20;
    char *buf = malloc(size ? size : 1);
    if (!buf) { fuse_reply_err(req, ENOMEM); return; }
    int n = readPath(path, buf, size, off);
    if (n < 0) fuse_reply_err(req, -n);
    else fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void llStatfs(fuse_req_t req, fuse_ino_t ino) {
    (void)ino;
    struct statvfs s;
    memset(&s, 0, sizeof(s));
    s.f_bsize = 4096;
    s.f_namemax = LH_SHADOW_NAME_MAX;
    s.f_flag = ST_RDONLY;
    fuse_reply_statfs(req, &s);
}

static void llForget(fuse_req_t req, fuse_ino_t ino, uint64_t n) { (void)ino; (void)n; fuse_reply_none(req); }
static void llForgetMulti(fuse_req_t req, size_t n, struct fuse_forget_data *f) { (void)n; (void)f; fuse_reply_none(req); }

/* Every write answers EROFS (the kernel already does, for a "ro" mount). */
static void rofsSetattr(fuse_req_t req, fuse_ino_t i, struct stat *a, int s, struct fuse_file_info *fi) {
    (void)i; (void)a; (void)s; (void)fi;
    fuse_reply_err(req, EROFS);
}
static void rofsMknod(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t d) { (void)p; (void)n; (void)m; (void)d; fuse_reply_err(req, EROFS); }
static void rofsMkdir(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m) { (void)p; (void)n; (void)m; fuse_reply_err(req, EROFS); }
static void rofsName(fuse_req_t req, fuse_ino_t p, const char *n) { (void)p; (void)n; fuse_reply_err(req, EROFS); }
static void rofsSymlink(fuse_req_t req, const char *l, fuse_ino_t p, const char *n) { (void)l; (void)p; (void)n; fuse_reply_err(req, EROFS); }
static void rofsRename(fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn, unsigned f) {
    (void)p; (void)n; (void)np; (void)nn; (void)f;
    fuse_reply_err(req, EROFS);
}
static void rofsLink(fuse_req_t req, fuse_ino_t i, fuse_ino_t p, const char *n) { (void)i; (void)p; (void)n; fuse_reply_err(req, EROFS); }
static void rofsWrite(fuse_req_t req, fuse_ino_t i, const char *b, size_t n, off_t o, struct fuse_file_info *fi) {
    (void)i; (void)b; (void)n; (void)o; (void)fi;
    fuse_reply_err(req, EROFS);
}
static void rofsCreate(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, struct fuse_file_info *fi) {
    (void)p; (void)n; (void)m; (void)fi;
    fuse_reply_err(req, EROFS);
}
static void rofsSetxattr(fuse_req_t req, fuse_ino_t i, const char *n, const char *v, size_t s, int f) {
    (void)i; (void)n; (void)v; (void)s; (void)f;
    fuse_reply_err(req, EROFS);
}
static void rofsRemovexattr(fuse_req_t req, fuse_ino_t i, const char *n) { (void)i; (void)n; fuse_reply_err(req, EROFS); }

static void llInit(void *ud, struct fuse_conn_info *conn) {
    (void)ud;
    /* A GETATTR that shows a new size or mtime drops the pages the kernel holds (the
     * freshness of current/, the documents and the status rests on it; see llOpen). */
    if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
    lh_mc_events_start(mc, 100);
}

static void llDestroy(void *ud) { (void)ud; lh_mc_events_stop(mc); lh_md_clear(); snapClear(); }

static const struct fuse_lowlevel_ops ops = {
    .init = llInit, .destroy = llDestroy, .lookup = llLookup, .forget = llForget, .forget_multi = llForgetMulti,
    .getattr = llGetattr, .readdir = llReaddir, .open = llOpen, .read = llRead, .statfs = llStatfs,
    .setattr = rofsSetattr, .mknod = rofsMknod, .mkdir = rofsMkdir, .unlink = rofsName, .rmdir = rofsName,
    .symlink = rofsSymlink, .rename = rofsRename, .link = rofsLink, .write = rofsWrite, .create = rofsCreate,
    .setxattr = rofsSetxattr, .removexattr = rofsRemovexattr,
};

/* ------------------------------------------------------------------------------ */
/* lighthouse mount                                                                 */
/* ------------------------------------------------------------------------------ */

static const char *mountUsage =
    "usage: lighthouse mount DIR [--url URL] [--token TOKEN] [--debug]\n"
    "  The project shadows, read-only, under DIR: current/, history/<seq>/, at/<ISO time>/,\n"
    "  streams/events, debug/status.json, annotations/<path>.json, escalations/<id>.json. It runs in the foreground until SIGTERM or\n"
    "  SIGINT, then unmounts. URL and TOKEN default to LIGHTHOUSE_URL and LIGHTHOUSE_TOKEN;\n"
    "  the token must be an expert's or an admin's. See docs/shadows.md.\n";

/* Mount dir and serve until a signal (SIGTERM, SIGINT, SIGHUP) ends the loop, then
 * unmount. 0, or 1 when mounting failed. */
static int serveMount(const char *dir, int debug) {
    /* No default_permissions: the kernel would ask for the attributes of every directory
     * on a path at each open to check its mode bits. Only the user who mounted can enter a
     * FUSE mount (no allow_other), and every write is refused anyway (ro, EROFS). */
    char *argv[] = {"lighthouse-mount", "-o", "ro,fsname=lighthouse,subtype=lighthouse",
                    debug ? "-d" : NULL, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(debug ? 4 : 3, argv);
    if (!inodeOf("/")) { fprintf(stderr, "lighthouse mount: out of memory\n"); return 1; }   /* inode 1 */
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
    if (!se) { fprintf(stderr, "lighthouse mount: fuse_session_new failed\n"); fuse_opt_free_args(&args); return 1; }
    int rc = 1;
    if (fuse_set_signal_handlers(se) != 0) goto out;
    if (fuse_session_mount(se, dir) != 0) {
        fprintf(stderr, "lighthouse mount: cannot mount %s (is /dev/fuse usable, fusermount3 installed?)\n", dir);
        fuse_remove_signal_handlers(se);
        goto out;
    }
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg) {
        fuse_loop_cfg_set_max_threads(cfg, 16);
        fuse_loop_cfg_set_clone_fd(cfg, 0);
    }
    int res = fuse_session_loop_mt(se, cfg);   /* 0, -errno, or the signal that ended it */
    fuse_loop_cfg_destroy(cfg);
    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
    if (res < 0) fprintf(stderr, "lighthouse mount: the FUSE loop failed: %s\n", strerror(-res));
    rc = res < 0 ? 1 : 0;
out:
    fuse_session_destroy(se);
    fuse_opt_free_args(&args);
    inodesFree();
    return rc;
}

/* Ask the bridge once before mounting: it must answer, and take this token. */
static int checkBridge(const char *url) {
    int st;
    char *body, err[300];
    size_t len;
    if (lh_mc_get(mc, "/v1/shadows/tree?at=0", &st, &body, &len, err, sizeof(err))) {
        fprintf(stderr, "lighthouse mount: cannot reach the bridge: %s\n", err);
        return 1;
    }
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    int rc = 0;
    if (st == 401 || st == 403) {
        fprintf(stderr, "lighthouse mount: the bridge at %s refused the token (%d: %s). The mount needs an expert or "
                "admin token: lighthouse token create --agent NAME --role expert\n", url, st, msg ? msg : "");
        rc = 2;
    } else if (st != 200) {
        fprintf(stderr, "lighthouse mount: the bridge at %s answered %d to /v1/shadows/tree: %s\n", url, st, msg ? msg : body);
        rc = 1;
    }
    json_decref(j);
    free(body);
    return rc;
}

int lh_cli_mount(int argc, char **argv) {
    const char *dir = NULL, *url = getenv("LIGHTHOUSE_URL"), *token = getenv("LIGHTHOUSE_TOKEN");
    int debug = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(mountUsage, stdout); return 0; }
        if (!strcmp(argv[i], "--url") && i + 1 < argc) url = argv[++i];
        else if (!strcmp(argv[i], "--token") && i + 1 < argc) token = argv[++i];
        else if (!strcmp(argv[i], "--debug")) debug = 1;
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else { fputs(mountUsage, stderr); return 2; }
    }
    if (!dir) { fputs(mountUsage, stderr); return 2; }
    if (!url || !*url) url = "http://127.0.0.1:8765";
    if (!token || !*token) { fprintf(stderr, "lighthouse mount: no token: set LIGHTHOUSE_TOKEN to an expert token (or --token)\n"); return 2; }
    if (strlen(token) > 4000 || strlen(url) > 1000) { fprintf(stderr, "lighthouse mount: the URL or token is too long\n"); return 2; }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) { fprintf(stderr, "lighthouse mount: %s is not a directory\n", dir); return 2; }
    char name[PATH_MAX + 300], host[256] = "";
    gethostname(host, sizeof(host) - 1);
    char real[PATH_MAX];
    snprintf(name, sizeof(name), "%s:%s", host, realpath(dir, real) ? real : dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);   /* before any thread */
    mc = lh_mc_new(url, token, name);
    if (!mc) { fprintf(stderr, "lighthouse mount: out of memory\n"); return 1; }
    mountTime = time(NULL);
    int rc = checkBridge(url);
    if (rc) { lh_mc_free(mc); curl_global_cleanup(); return rc; }
    rc = serveMount(dir, debug);
    lh_mc_free(mc);
    mc = NULL;
    curl_global_cleanup();
    return rc;
}
