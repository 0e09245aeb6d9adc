/* test_store_cut.c — the signed checkpoints outside the store (src/store/witness.c): written
 * at open, on the schedule and at close; verify compares the head with them and counts the
 * events only the store vouches for; a cut tail is refused at open unless accepted; forged
 * lines are ignored; checkpoints follow key rotation; with verify_chain a chain broken in
 * its middle is refused at open unless accepted; a torn last line (a power cut during a
 * checkpoint's write) is skipped with a note and cut away by the next writer. Order of events only: the schedule is
 * observed by waiting for the checkpoint to appear, never by a wall-clock bound. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

#define K1 "0123456789abcdef0123456789abcdef-key-one"
#define K2 "fedcba9876543210fedcba9876543210-key-two"

static char tmpRoot[256];
static int dirSeq;

static void newDir(char *out, size_t cap) { snprintf(out, cap, "%s/d%d", tmpRoot, ++dirSeq); }

static lh_store *openOpts(const char *dir, unsigned flags, int interval_ms, int accept, char *err) {
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .secret = K1 "," K2, .flags = flags,
                          .checkpoint_interval_ms = interval_ms, .accept_cut = accept};
    return lh_store_open(&o, err, 512);
}

static void appendN(lh_store *st, int n) {
    char err[512];
    for (int i = 0; i < n; i++) {
        lh_event e = {.type = "decision.made", .agent = "a", .aggregate = "s", .data = "{\"n\":1}"};
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) fail_msg("append: %s", err);
    }
}

static lh_store_verify_result verifyAt(const char *dir) {
    char err[512];
    lh_store *st = openOpts(dir, LH_STORE_READONLY, 0, 0, err);
    if (!st) fail_msg("open read-only: %s", err);
    lh_store_verify_result r;
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), 0);
    lh_store_close(st);
    return r;
}

/* The seq of the last line of the checkpoint file (-1: none). */
static long long lastCheckpoint(const char *dir, char *kind, size_t cap) {
    char p[400], line[600];
    snprintf(p, sizeof(p), "%s.checkpoints", dir);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    long long seq = -1;
    while (fgets(line, sizeof(line), f)) {
        long long s;
        if (sscanf(line, "lhcp1 seq=%lld ", &s) == 1) seq = s;
        const char *k = strstr(line, "kind=");
        if (k && kind) snprintf(kind, cap, "%.*s", (int)strcspn(k + 5, " "), k + 5);
    }
    fclose(f);
    return seq;
}

static void sqlExec(const char *dir, const char *sql) {
    char p[400];
    snprintf(p, sizeof(p), "%s/events.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("sql: %s", msg ? msg : "?");
    sqlite3_close(db);
}

static void test_written_at_open_and_close(void **state) {
    (void)state;
    char dir[300], err[512];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 3600 * 1000, 0, err); /* the schedule never fires here */
    if (!st) fail_msg("open: %s", err);
    assert_int_equal(lastCheckpoint(dir, NULL, 0), 0); /* the new store's head, at open */
    appendN(st, 10);
    lh_store_verify_result r;
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), 0);
    assert_true(r.ok);
    assert_true(r.checkpoint_found);
    assert_int_equal(r.checkpoint_seq, 0);
    assert_int_equal(r.unwitnessed, 10); /* only the store vouches for these yet */
    lh_store_close(st);
    assert_int_equal(lastCheckpoint(dir, NULL, 0), 10); /* written at close */
    r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 10);
    assert_int_equal(r.unwitnessed, 0);
    assert_int_equal(r.checkpoint_bad, 0);
    assert_non_null(strstr(r.checkpoint_path, ".checkpoints"));
}

static void test_schedule(void **state) {
    (void)state;
    char dir[300], err[512];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 20, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 7);
    /* the background writer catches up with the head by itself (wait for it, up to 60 s) */
    long long seq = -1;
    for (int i = 0; i < 6000 && (seq = lastCheckpoint(dir, NULL, 0)) != 7; i++) usleep(10000);
    assert_int_equal(seq, 7);
    lh_store_close(st);
}

static void test_cut_refused_then_accepted(void **state) {
    (void)state;
    char dir[300], err[512], kind[16] = "";
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 10);
    lh_store_close(st);
    sqlExec(dir, "DELETE FROM events WHERE seq > 7; UPDATE chain_head SET seq = 7, "
                 "time_ns = (SELECT time_ns FROM events WHERE seq = 7), mac = (SELECT mac FROM events WHERE seq = 7);");
    lh_store_verify_result r = verifyAt(dir);
    assert_false(r.ok);
    assert_int_equal(r.first_bad_seq, 8);
    assert_non_null(strstr(r.reason, "events 8..10 are missing"));
    unsetenv("LIGHTHOUSE_ACCEPT_CUT_LOG");
    assert_null(openOpts(dir, 0, 0, 0, err));
    assert_non_null(strstr(err, "refusing a cut log: events 8..10 are missing"));
    assert_non_null(strstr(err, "LIGHTHOUSE_ACCEPT_CUT_LOG=1"));
    assert_int_equal(lastCheckpoint(dir, NULL, 0), 10); /* a refused open writes nothing */
    st = openOpts(dir, 0, 0, 1, err);
    if (!st) fail_msg("accepted open: %s", err);
    assert_int_equal(lastCheckpoint(dir, kind, sizeof(kind)), 7);
    assert_string_equal(kind, "cut");
    appendN(st, 2);
    lh_store_close(st);
    r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_cuts, 1);
    assert_int_equal(r.checkpoint_seq, 9);
}

/* verify_chain (what the bridge opens with): an event changed in the middle of the chain,
 * which the tail check cannot see, is refused at open unless accepted. */
static void test_broken_chain_refused_with_verify_chain(void **state) {
    (void)state;
    char dir[300], err[512];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 10);
    lh_store_close(st);
    sqlExec(dir, "UPDATE events SET data = '{\"n\":2}' WHERE seq = 4;");
    st = openOpts(dir, 0, 0, 0, err); /* without verify_chain only the tail is checked */
    if (!st) fail_msg("open without verify_chain: %s", err);
    lh_store_close(st);
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .secret = K1 "," K2, .verify_chain = 1};
    unsetenv("LIGHTHOUSE_ACCEPT_BROKEN_CHAIN");
    assert_null(lh_store_open(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "refusing a chain that does not verify: at seq 4"));
    assert_non_null(strstr(err, "(3 events before it verified)"));
    assert_non_null(strstr(err, "LIGHTHOUSE_ACCEPT_BROKEN_CHAIN=1"));
    o.accept_broken = 1;
    st = lh_store_open(&o, err, sizeof(err));
    if (!st) fail_msg("accepted open: %s", err);
    lh_store_close(st);
    o.accept_broken = 0;
    setenv("LIGHTHOUSE_ACCEPT_BROKEN_CHAIN", "1", 1);
    st = lh_store_open(&o, err, sizeof(err));
    unsetenv("LIGHTHOUSE_ACCEPT_BROKEN_CHAIN");
    if (!st) fail_msg("open accepted by the environment: %s", err);
    lh_store_close(st);
    /* an intact chain opens with verify_chain */
    newDir(dir, sizeof(dir));
    o.data_dir = dir;
    st = lh_store_open(&o, err, sizeof(err));
    if (!st) fail_msg("new store with verify_chain: %s", err);
    appendN(st, 3);
    lh_store_close(st);
    st = lh_store_open(&o, err, sizeof(err));
    if (!st) fail_msg("intact store with verify_chain: %s", err);
    lh_store_close(st);
}

static void test_forged_line_ignored(void **state) {
    (void)state;
    char dir[300], err[512], p[400];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 3);
    lh_store_close(st);
    snprintf(p, sizeof(p), "%s.checkpoints", dir);
    FILE *f = fopen(p, "a");
    assert_non_null(f);
    /* a well-formed line for seq 99 naming a key the store holds, with a signature that
     * does not check, and junk */
    char fp1[LH_STORE_FP_LEN + 1];
    lh_store_key_fingerprint((const unsigned char *)K1, strlen(K1), fp1);
    fprintf(f, "lhcp1 seq=99 time_ns=1 mac=%064d key=%s wall_ns=1 kind=head sig=%064d\nnot a checkpoint\n", 0, fp1, 0);
    fclose(f);
    lh_store_verify_result r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 3);
    assert_int_equal(r.checkpoint_bad, 2);
    st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open after forged lines: %s", err);
    lh_store_close(st);
}

static void test_rotation_and_other_key(void **state) {
    (void)state;
    char dir[300], err[512], fp2[LH_STORE_FP_LEN + 1];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 2);
    lh_store_stats stats;
    assert_int_equal(lh_store_stats_get(st, &stats, err, sizeof(err)), 0);
    const char *other = K1; /* rotate to the key not in force */
    lh_store_key_fingerprint((const unsigned char *)K1, strlen(K1), fp2);
    if (!strcmp(fp2, stats.key_fp)) other = K2;
    lh_store_key_fingerprint((const unsigned char *)other, strlen(other), fp2);
    int64_t seq = 0;
    assert_int_equal(lh_store_rotate_key(st, fp2, &seq, err, sizeof(err)), 0);
    appendN(st, 2);
    lh_store_close(st);
    lh_store_verify_result r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 5); /* signed with the key in force after the rotation */
    assert_int_equal(r.checkpoint_bad, 0);
    /* the data directory replaced by a new store with another key: the checkpoints it cannot
     * check witnessed seq 5, and the new store's head is 0 */
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir,
                          .secret = "a-completely-different-key-of-32-bytes-or-more"};
    assert_null(lh_store_open(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "refusing a cut log"));
    assert_non_null(strstr(err, "does not hold"));
}

/* The whole checkpoint file (NUL-terminated; cap bytes at most). */
static size_t readCheckpoints(const char *dir, char *buf, size_t cap) {
    char p[400];
    snprintf(p, sizeof(p), "%s.checkpoints", dir);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
    return n;
}

static void appendRaw(const char *dir, const char *bytes, size_t n) {
    char p[400];
    snprintf(p, sizeof(p), "%s.checkpoints", dir);
    FILE *f = fopen(p, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* A power cut during a checkpoint's write leaves a torn last line (part of a line, no
 * newline). Readers skip it with a note, not as a forged line; the next writer cuts it
 * away before appending, so its checkpoint is not glued to the fragment and lost. */
static void test_torn_last_line(void **state) {
    (void)state;
    char dir[300], err[512], buf[8192];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 3);
    lh_store_close(st);
    size_t n = readCheckpoints(dir, buf, sizeof(buf));
    assert_true(n > 100 && buf[n - 1] == '\n');
    /* the first 70 bytes of the last line again, as a write cut by the power */
    const char *last = buf + n - 1;
    while (last > buf && last[-1] != '\n') last--;
    appendRaw(dir, last, 70);
    lh_store_verify_result r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 3);
    assert_int_equal(r.checkpoint_bad, 0); /* not counted as a forged line */
    assert_int_equal(r.checkpoint_torn, 70);
    /* a writer opens, appends and closes: its checkpoint is a line of its own */
    st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open after a torn line: %s", err);
    appendN(st, 2);
    lh_store_close(st);
    r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 5);
    assert_int_equal(r.unwitnessed, 0);
    assert_int_equal(r.checkpoint_bad, 0);
    assert_int_equal(r.checkpoint_torn, 0);
    n = readCheckpoints(dir, buf, sizeof(buf));
    assert_true(buf[n - 1] == '\n');
    assert_int_equal(lastCheckpoint(dir, NULL, 0), 5);
    /* a torn tail of NUL bytes (a file system that extended the file, not its data) too */
    appendRaw(dir, "\0\0\0\0\0\0\0\0", 8);
    r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 5);
    assert_int_equal(r.checkpoint_bad, 0);
    assert_int_equal(r.checkpoint_torn, 8);
    st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open after a torn tail of NULs: %s", err);
    appendN(st, 1);
    lh_store_close(st);
    r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 6);
    assert_int_equal(r.checkpoint_torn, 0);
    assert_int_equal(r.checkpoint_bad, 0);
}

/* An append-only checkpoint file (chattr +a, as docs/store.md suggests) cannot be truncated:
 * the writer starts its line on a line of its own instead, so its checkpoint is still read
 * and the fragment stays as a line that does not check. Skipped where chattr +a is refused
 * (not root, or a file system without the flag). */
static void test_torn_last_line_append_only(void **state) {
    (void)state;
    char dir[300], err[512], buf[8192], cmd[600];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 3);
    lh_store_close(st);
    size_t n = readCheckpoints(dir, buf, sizeof(buf));
    const char *last = buf + n - 1;
    while (last > buf && last[-1] != '\n') last--;
    appendRaw(dir, last, 70);
    snprintf(cmd, sizeof(cmd), "chattr +a '%s.checkpoints' 2>/dev/null", dir);
    if (system(cmd) != 0) skip();
    st = openOpts(dir, 0, 0, 0, err);
    if (st) {
        appendN(st, 2);
        lh_store_close(st);
    }
    snprintf(cmd, sizeof(cmd), "chattr -a '%s.checkpoints'", dir);
    assert_int_equal(system(cmd), 0);
    if (!st) fail_msg("open an append-only checkpoint file with a torn line: %s", err);
    lh_store_verify_result r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 5);
    assert_int_equal(r.unwitnessed, 0);
    assert_int_equal(r.checkpoint_bad, 1); /* the fragment, now followed by a line */
    assert_int_equal(r.checkpoint_torn, 0);
}

/* A fragment that is not the last line was not left by a crash during the last write (a
 * crash tears only the line being written): it is still a line that does not check. */
static void test_torn_line_in_the_middle_is_bad(void **state) {
    (void)state;
    char dir[300], err[512], buf[8192];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 2);
    lh_store_close(st);
    size_t n = readCheckpoints(dir, buf, sizeof(buf));
    const char *last = buf + n - 1;
    while (last > buf && last[-1] != '\n') last--;
    appendRaw(dir, last, 70);
    appendRaw(dir, "\n", 1);
    st = openOpts(dir, 0, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    appendN(st, 1);
    lh_store_close(st);
    lh_store_verify_result r = verifyAt(dir);
    assert_true(r.ok);
    assert_int_equal(r.checkpoint_seq, 3);
    assert_int_equal(r.checkpoint_bad, 1);
    assert_int_equal(r.checkpoint_torn, 0);
}

static int setup(void **state) {
    (void)state;
    return lh_test_store_dir(tmpRoot, sizeof(tmpRoot), "lh-test-store-cut");
}

static int teardown(void **state) {
    (void)state;
    return lh_test_rmtree(tmpRoot);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_at_open_and_close),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_cut_refused_then_accepted),
        cmocka_unit_test(test_broken_chain_refused_with_verify_chain),
        cmocka_unit_test(test_forged_line_ignored),
        cmocka_unit_test(test_rotation_and_other_key),
        cmocka_unit_test(test_torn_last_line),
        cmocka_unit_test(test_torn_line_in_the_middle_is_bad),
        cmocka_unit_test(test_torn_last_line_append_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
