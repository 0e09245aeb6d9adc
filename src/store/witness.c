/* witness.c — signed checkpoints of the chain head, kept outside the store.
 *
 * The chain head row lives in the same file as the events, so someone who can write
 * events.db can delete the last events and point chain_head at the new last one: the
 * chain still verifies. A checkpoint witnesses (seq, time, mac) of the head in an
 * append-only file the store's file does not control (default: <data>.checkpoints, next
 * to the data directory), one line each, HMAC-signed with the key in force, fsynced:
 *
 *   lhcp1 seq=S time_ns=T mac=HEX64 key=FP wall_ns=W kind=head|cut sig=HEX64
 *
 * sig = HMAC-SHA256(key, "lighthouse.checkpoint.v1\n" ‖ the line up to " sig="). A writable
 * store writes one every interval when the head moved, and one at close. At open it
 * refuses a head behind (or different from) the latest checkpoint, unless
 * LIGHTHOUSE_ACCEPT_CUT_LOG=1, which records a "cut" line at the new head; verify checks
 * the same and reports how many events only the store vouches for. A power cut during a
 * write can leave a torn last line (no newline): readers skip it with a note, and the next
 * writer cuts it away (under the file's flock, fsynced) before appending, so its line is not
 * glued to the fragment. A line that does not check anywhere else is counted as bad.
 * docs/store.md. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CP_LINE_MAX 512
#define CP_DOMAIN "lighthouse.checkpoint.v1\n"

static void toHex(const unsigned char *b, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = 0;
}

static int fromHex(const char *s, unsigned char *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = s[2 * i + j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    return s[2 * n] == 0 || s[2 * n] == ' ' || s[2 * n] == '\n' ? 0 : -1;
}

static int sign(const lh_key *k, const char *body, size_t len, unsigned char out[LH_STORE_MAC_LEN]) {
    unsigned char msg[CP_LINE_MAX + sizeof(CP_DOMAIN)];
    size_t dl = sizeof(CP_DOMAIN) - 1;
    if (len > CP_LINE_MAX) return -1;
    memcpy(msg, CP_DOMAIN, dl);
    memcpy(msg + dl, body, len);
    unsigned int ol = 0;
    if (!HMAC(EVP_sha256(), k->bytes, (int)k->len, msg, dl + len, out, &ol) || ol != LH_STORE_MAC_LEN) return -1;
    return 0;
}

/* ============================== The path ============================== */

int lh_witness_path(lh_store *st, const lh_store_options *o, char *err, size_t errlen) {
    st->cp_path[0] = 0;
    const char *p = o->checkpoints;
    if (!p) p = getenv("LIGHTHOUSE_CHECKPOINTS");
    if (p && !strcmp(p, "off")) return 0;
    if (p && *p) {
        if (snprintf(st->cp_path, sizeof(st->cp_path), "%s", p) >= (int)sizeof(st->cp_path))
            return lh_store_err(err, errlen, "checkpoint path too long");
        return 0;
    }
    if (!st->data_dir[0]) return 0; /* PostgreSQL without --data: set LIGHTHOUSE_CHECKPOINTS */
    char dir[PATH_MAX];
    if (!realpath(st->data_dir, dir)) snprintf(dir, sizeof(dir), "%s", st->data_dir);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') dir[--n] = 0;
    if (!strcmp(dir, "/")) return 0;
    if (snprintf(st->cp_path, sizeof(st->cp_path), "%s.checkpoints", dir) >= (int)sizeof(st->cp_path))
        return lh_store_err(err, errlen, "checkpoint path too long");
    return 0;
}

/* ============================== Reading ============================== */

/* Parse and check one line. 0 good, 1 signed by a key not held, 2 bad signature, -1 not a checkpoint. */
static int parseLine(lh_store *st, const char *line, lh_checkpoint *cp) {
    memset(cp, 0, sizeof(*cp));
    long long seq, tns, wns;
    char mac[65], fp[LH_STORE_FP_LEN + 1], kind[8], sig[65];
    int used = 0;
    /* NOLINTNEXTLINE(cert-err34-c): every field is counted; the line's MAC is checked next */
    if (sscanf(line, "lhcp1 seq=%lld time_ns=%lld mac=%64[0-9a-f] key=%16[0-9a-f] wall_ns=%lld kind=%7[a-z] %n",
               &seq, &tns, mac, fp, &wns, kind, &used) != 6 || used == 0)
        return -1;
    if (strncmp(line + used, "sig=", 4) || sscanf(line + used + 4, "%64[0-9a-f]", sig) != 1 || strlen(sig) != 64 ||
        strlen(mac) != 64 || seq < 0)
        return -1;
    cp->seq = seq;
    cp->time_ns = tns;
    cp->wall_ns = wns;
    cp->cut = !strcmp(kind, "cut");
    snprintf(cp->key_fp, sizeof(cp->key_fp), "%s", fp);
    if (fromHex(mac, cp->mac, LH_STORE_MAC_LEN) < 0) return -1;
    unsigned char want[LH_STORE_MAC_LEN], got[LH_STORE_MAC_LEN];
    if (fromHex(sig, got, LH_STORE_MAC_LEN) < 0) return -1;
    const lh_key *k = lh_keyring_find(&st->keys, fp);
    if (!k) return 1;
    size_t body = (size_t)used - 1; /* up to the space before "sig=" */
    if (sign(k, line, body, want) < 0) return 2;
    return CRYPTO_memcmp(want, got, LH_STORE_MAC_LEN) ? 2 : 0;
}

/* Read one line into buf (cap > 1; NUL-terminated, its first cap-1 bytes kept). Returns the
 * line's whole length in bytes, newline included (0 at the end of the file); *nl says
 * whether it ended in a newline: a line without one is the file's last. */
static size_t readLine(FILE *f, char *buf, size_t cap, int *nl) {
    size_t n = 0;
    int c;
    *nl = 0;
    while ((c = getc_unlocked(f)) != EOF) { /* f is this scan's own */
        if (n < cap - 1) buf[n] = (char)c;
        n++;
        if (c == '\n') { *nl = 1; break; }
    }
    buf[n < cap - 1 ? n : cap - 1] = 0;
    return n;
}

int lh_witness_scan(lh_store *st, lh_cp_scan *s, char *err, size_t errlen) {
    memset(s, 0, sizeof(*s));
    if (!st->cp_path[0]) return 0;
    FILE *f = fopen(st->cp_path, "re");
    if (!f) {
        if (errno == ENOENT) return 0;
        return lh_store_err(err, errlen, "cannot read the checkpoint file %s: %s", st->cp_path, strerror(errno));
    }
    char line[CP_LINE_MAX + 2];
    size_t total;
    int nl;
    while ((total = readLine(f, line, sizeof(line), &nl)) > 0) {
        if (!nl) { /* the last line, without its newline: a write cut by a crash, not a line */
            s->torn = (int64_t)total;
            break;
        }
        if (total >= sizeof(line) || memchr(line, 0, total)) { s->bad++; continue; } /* over-long, or NULs */
        s->lines++;
        lh_checkpoint cp;
        int rc = parseLine(st, line, &cp);
        if (rc == -1 || rc == 2) { s->bad++; continue; }
        if (rc == 1) {
            if (!s->unknown_found || cp.seq > s->unknown.seq) s->unknown = cp;
            s->unknown_found = 1;
            continue;
        }
        if (cp.cut) { /* an accepted cut: what was witnessed before it no longer binds */
            s->cuts++;
            s->best = cp;
            s->found = 1;
            s->unknown_found = 0;
            continue;
        }
        if (!s->found || cp.seq >= s->best.seq) s->best = cp;
        s->found = 1;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return lh_store_err(err, errlen, "cannot read the checkpoint file %s", st->cp_path);
    return 0;
}

/* The event at seq (0: not found). */
static int eventAt(lh_store *st, int64_t seq, lh_event_list *l, char *err, size_t errlen) {
    lh_store_filter f = {.after_seq = seq - 1, .before_seq = seq + 1, .limit = 1};
    return st->ops->query(st, &f, l, err, errlen);
}

static void fmtWall(int64_t ns, char *out, size_t cap) {
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(out, cap, "%lld ns", (long long)ns);
}

int lh_witness_check(lh_store *st, const lh_chain_head *h, const lh_cp_scan *s, lh_cp_verdict *v, char *err,
                     size_t errlen) {
    memset(v, 0, sizeof(*v));
    int64_t head = h ? h->seq : 0;
    char when[40];
    if (s->unknown_found && s->unknown.seq > head) {
        fmtWall(s->unknown.wall_ns, when, sizeof(when));
        v->cut = 1;
        v->first_missing = head + 1;
        v->witnessed_seq = s->unknown.seq;
        snprintf(v->reason, sizeof(v->reason), "the checkpoint file %.200s witnessed seq %lld at %s, signed with key %s "
                 "that this store does not hold; the store's head is seq %lld", st->cp_path,
                 (long long)s->unknown.seq, when, s->unknown.key_fp, (long long)head);
        return 0;
    }
    if (!s->found) return 0;
    const lh_checkpoint *cp = &s->best;
    fmtWall(cp->wall_ns, when, sizeof(when));
    v->witnessed_seq = cp->seq;
    if (cp->seq > head) {
        v->cut = 1;
        v->first_missing = head + 1;
        snprintf(v->reason, sizeof(v->reason), "events %lld..%lld are missing: the checkpoint of %s in %.200s witnessed "
                 "the chain head at seq %lld, the store's head is seq %lld (the log's tail was cut)",
                 (long long)head + 1, (long long)cp->seq, when, st->cp_path, (long long)cp->seq, (long long)head);
        return 0;
    }
    if (cp->seq > 0) {
        lh_event_list l;
        if (eventAt(st, cp->seq, &l, err, errlen) < 0) { lh_event_list_free(&l); return -1; }
        int same = l.n == 1 && l.events[0].seq == cp->seq && !memcmp(l.events[0].mac, cp->mac, LH_STORE_MAC_LEN);
        lh_event_list_free(&l);
        if (!same) {
            v->cut = 1;
            v->first_missing = cp->seq;
            snprintf(v->reason, sizeof(v->reason), "seq %lld differs from the checkpoint of %s in %.200s: the tail from "
                     "there was cut and written again", (long long)cp->seq, when, st->cp_path);
            return 0;
        }
    }
    v->unwitnessed = head - cp->seq;
    return 0;
}

/* ============================== Writing ============================== */

/* Cut away a torn last line: the bytes after the file's last newline are a checkpoint whose
 * write a crash interrupted; its fsync never returned, so nothing was promised on it, and a
 * line appended after it would be glued to it and lost too. The truncation is fsynced before
 * the next line is written, so a second crash leaves the file with or without the fragment,
 * never the new line after it. The caller holds the file's lock. Returns the bytes cut; 0
 * when the file ends in a newline, is empty, or cannot be read (a write-only fd); -1 when the
 * tail is torn and cannot be truncated (an append-only file); -2 when the fsync failed. */
static int64_t dropTornTail(int fd) {
    struct stat sb;
    char buf[512];
    if (fstat(fd, &sb) < 0) return 0;
    off_t end = sb.st_size, pos = end;
    while (pos > 0) {
        size_t k = pos >= (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
        if (pread(fd, buf, k, pos - (off_t)k) != (ssize_t)k) return 0;
        size_t i = k;
        while (i > 0 && buf[i - 1] != '\n') i--;
        pos -= (off_t)(k - i);
        if (i > 0) break;
    }
    if (pos == end) return 0;
    if (ftruncate(fd, pos) < 0) return -1;
    if (fsync(fd) < 0) return -2;
    return (int64_t)(end - pos);
}

static int writeCheckpoint(lh_store *st, const lh_chain_head *h, int cut, char *err, size_t errlen) {
    const lh_key *k = lh_keyring_find(&st->keys, h->key_fp);
    if (!k) return lh_store_err(err, errlen, "no key %s to sign a checkpoint with", h->key_fp);
    char mac[65], sig[65], line[CP_LINE_MAX + 1]; /* + 1: a newline before it (dropTornTail) */
    toHex(h->mac, LH_STORE_MAC_LEN, mac);
    int n = snprintf(line, sizeof(line), "lhcp1 seq=%lld time_ns=%lld mac=%s key=%s wall_ns=%lld kind=%s",
                     (long long)h->seq, (long long)h->time_ns, mac, h->key_fp, (long long)lh_wall_ns(),
                     cut ? "cut" : "head");
    unsigned char s[LH_STORE_MAC_LEN];
    if (n < 0 || n >= (int)sizeof(line) - 80 || sign(k, line, (size_t)n, s) < 0)
        return lh_store_err(err, errlen, "cannot sign a checkpoint");
    toHex(s, LH_STORE_MAC_LEN, sig);
    n += snprintf(line + n, sizeof(line) - (size_t)n, " sig=%s\n", sig);
    int created = access(st->cp_path, F_OK) != 0;
    /* Read-write to see a torn tail; write-only when the file's mode allows only that. */
    int fd = open(st->cp_path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EACCES) fd = open(st->cp_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return lh_store_err(err, errlen, "cannot open the checkpoint file %s: %s", st->cp_path, strerror(errno));
    /* Writers of this file take its lock, so the tail one of them cuts is not a line another
     * just appended (the lock goes with the process: a crash never leaves it held). */
    int locked = flock(fd, LOCK_EX) == 0;
    int64_t torn = locked ? dropTornTail(fd) : 0;
    if (torn == -2) {
        int saved = errno;
        close(fd);
        return lh_store_err(err, errlen, "cannot sync the checkpoint file %s: %s", st->cp_path, strerror(saved));
    }
    if (torn > 0)
        fprintf(stderr, "lighthouse store: the checkpoint file %s ended in a torn line (%lld bytes without a newline: "
                "a write cut by a crash); cut it away\n", st->cp_path, (long long)torn);
    if (torn == -1) { /* not cut (an append-only file): start this line on a line of its own */
        memmove(line + 1, line, (size_t)n + 1);
        line[0] = '\n';
        n++;
        fprintf(stderr, "lighthouse store: the checkpoint file %s ends in a torn line that cannot be cut away (%s); "
                "it stays as a line that does not check\n", st->cp_path, strerror(errno));
    }
    int ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0; /* one write: lines of several writers never mix */
    int saved = errno;
    close(fd);
    if (!ok) return lh_store_err(err, errlen, "cannot write the checkpoint file %s: %s", st->cp_path, strerror(saved));
    if (created) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", st->cp_path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        int dfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { fsync(dfd); close(dfd); }
    }
    st->cp_last_seq = h->seq;
    return 0;
}

/* Write a checkpoint when the head moved since the last one. */
static int checkpointNow(lh_store *st, int force, char *err, size_t errlen) {
    lh_chain_head h;
    int exists = 0;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    if (!exists || (!force && h.seq == st->cp_last_seq)) return 0;
    return writeCheckpoint(st, &h, 0, err, errlen);
}

static void *witnessMain(void *arg) {
    lh_store *st = arg;
    pthread_mutex_lock(&st->cp_mu);
    while (!st->cp_stop) {
        struct timespec ts = lh_deadline_ms(st->cp_interval_ms);
        pthread_cond_timedwait(&st->cp_cv, &st->cp_mu, &ts);
        if (st->cp_stop) break;
        pthread_mutex_unlock(&st->cp_mu);
        char err[256];
        if (checkpointNow(st, 0, err, sizeof(err)) < 0 && !st->cp_warned) {
            st->cp_warned = 1; /* the next attempt retries; say it once */
            fprintf(stderr, "lighthouse store: %s\n", err);
        }
        pthread_mutex_lock(&st->cp_mu);
    }
    pthread_mutex_unlock(&st->cp_mu);
    return NULL;
}

int lh_witness_open(lh_store *st, const lh_store_options *o, char *err, size_t errlen) {
    if (!st->cp_path[0] || (st->flags & LH_STORE_READONLY)) return 0;
    /* The file first, then the head: every checkpoint in the file witnesses a head that was
     * committed before it was written, so a head read after the file is at or past each of
     * them. Read in the other order, another writer's commit and checkpoint in between put a
     * checkpoint ahead of the head read, and the open refused the store as cut. */
    lh_cp_scan s;
    if (lh_witness_scan(st, &s, err, errlen) < 0) return -1;
    lh_chain_head h;
    int exists = 0;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    if (lh_store_test_after_head) lh_store_test_after_head(st);
    lh_cp_verdict v;
    if (lh_witness_check(st, exists ? &h : NULL, &s, &v, err, errlen) < 0) return -1;
    const char *acc = getenv("LIGHTHOUSE_ACCEPT_CUT_LOG");
    if (v.cut) {
        if (!(o->accept_cut || (acc && !strcmp(acc, "1"))))
            return lh_store_err(err, errlen, "refusing a cut log: %s; run `lighthouse events verify`, and set "
                                "LIGHTHOUSE_ACCEPT_CUT_LOG=1 to start on this store anyway", v.reason);
        fprintf(stderr, "lighthouse store: accepting a cut log (LIGHTHOUSE_ACCEPT_CUT_LOG): %s\n", v.reason);
        if (writeCheckpoint(st, &h, 1, err, errlen) < 0) return -1;
    } else {
        st->cp_last_seq = s.found ? s.best.seq : -1;
        if (exists && checkpointNow(st, 0, err, errlen) < 0) return -1;
    }
    st->cp_interval_ms = o->checkpoint_interval_ms > 0 ? o->checkpoint_interval_ms : 1000;
    const char *iv = getenv("LIGHTHOUSE_CHECKPOINT_INTERVAL_MS");
    if (!o->checkpoint_interval_ms && iv) {
        /* Whole milliseconds > 0, else the default (atoi read "10x" as 10: cert-err34-c). */
        char *end;
        errno = 0;
        long ms = strtol(iv, &end, 10);
        if (!errno && end != iv && !*end && ms > 0 && ms <= 86400000) st->cp_interval_ms = (int)ms;
    }
    pthread_mutex_init(&st->cp_mu, NULL);
    lh_cond_init_monotonic(&st->cp_cv);
    if (pthread_create(&st->cp_thread, NULL, witnessMain, st) != 0) {
        pthread_cond_destroy(&st->cp_cv);
        pthread_mutex_destroy(&st->cp_mu);
        return lh_store_err(err, errlen, "cannot start the checkpoint thread");
    }
    st->cp_started = 1;
    return 0;
}

void lh_witness_close(lh_store *st) {
    if (!st->cp_started) return;
    pthread_mutex_lock(&st->cp_mu);
    st->cp_stop = 1;
    pthread_cond_signal(&st->cp_cv);
    pthread_mutex_unlock(&st->cp_mu);
    pthread_join(st->cp_thread, NULL);
    pthread_cond_destroy(&st->cp_cv);
    pthread_mutex_destroy(&st->cp_mu);
    st->cp_started = 0;
    char err[256];
    if (checkpointNow(st, 0, err, sizeof(err)) < 0) fprintf(stderr, "lighthouse store: at close: %s\n", err);
}
