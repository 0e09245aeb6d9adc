/* test_store_race.c — several writers on one SQLite store at once: a store opened, verified
 * or created while another process (or another handle, with its own connections, as
 * another process has) commits and writes checkpoints. None of these may look like damage
 * ("the chain's tail does not match its recorded head", "event after the recorded chain
 * head", "refusing a cut log") or fail the open ("cannot create …/secret: File exists").
 * Where a hook can put the other writer's commit exactly between two reads, the test is
 * deterministic; the multi-process tests count rounds and require that the other writer
 * really committed during them, never a duration. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h" /* lh_store_test_after_head */

static char tmpRoot[256];
static int dirSeq;

static void newDir(char *out, size_t cap) { snprintf(out, cap, "%s/d%d", tmpRoot, ++dirSeq); }

static lh_store *openOpts(const char *dir, int verify, int cp_ms, char *err) {
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .verify_chain = verify,
                          .checkpoint_interval_ms = cp_ms};
    return lh_store_open(&o, err, 512);
}

static void append1(lh_store *st, const char *agent) {
    lh_event e = {.type = "decision.made", .agent = agent, .aggregate = "s", .data = "{\"k\":1}"};
    char err[512];
    if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) fail_msg("append: %s", err);
}

static int64_t headSeq(lh_store *st) {
    lh_store_stats s;
    char err[512];
    if (lh_store_stats_get(st, &s, err, sizeof(err)) < 0) fail_msg("stats: %s", err);
    return s.head_seq;
}

/* ---------------------------------------------------------------- a commit between two reads */

/* The hook runs right after the opening (or verifying) store read the chain head, before it
 * reads the tail, walks the chain or reads the checkpoint file. It commits one event through
 * another handle and closes that handle, which writes a checkpoint at the new head, then
 * opens it again for the next call. Read outside one snapshot, the tail ran past the head
 * (open refused the store as damaged); read before the checkpoint file, the checkpoint was
 * ahead of the head (a false "cut"). */
static lh_store *other;
static char otherDir[300];
static int hookCalls, inHook;

static void commitAndCheckpoint(lh_store *st) {
    (void)st;
    if (inHook) return; /* the reopen below runs the hook too */
    inHook = 1;
    char err[512];
    append1(other, "between");
    lh_store_close(other); /* its checkpoint at close witnesses the new head */
    other = openOpts(otherDir, 0, 0, err);
    if (!other) fail_msg("reopen the other writer: %s", err);
    hookCalls++;
    inHook = 0;
}

static void test_open_and_verify_with_commits_between_reads(void **state) {
    (void)state;
    char err[512];
    newDir(otherDir, sizeof(otherDir));
    other = openOpts(otherDir, 0, 0, err);
    if (!other) fail_msg("open: %s", err);
    for (int i = 0; i < 5; i++) append1(other, "a");
    hookCalls = 0;
    lh_store_test_after_head = commitAndCheckpoint;
    lh_store *st = openOpts(otherDir, 1, 0, err);
    if (!st) {
        lh_store_test_after_head = NULL;
        fail_msg("open with another writer's commit between its reads reported: %s", err);
    }
    int atOpen = hookCalls;
    lh_store_verify_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    int rc = lh_store_verify(st, r, err, sizeof(err));
    lh_store_test_after_head = NULL;
    assert_int_equal(rc, 0);
    if (!r->ok) fail_msg("verify with a commit between its reads: at %lld: %s", (long long)r->first_bad_seq, r->reason);
    /* the open's tail check, its checkpoint check and its whole-chain walk, then the verify:
     * each saw one commit land after its head */
    assert_int_equal(atOpen, 3);
    assert_int_equal(hookCalls, atOpen + 1);
    assert_int_equal(r->head_seq + 1, headSeq(st));  /* the verify's own commit came after its snapshot */
    assert_int_equal(r->checked, r->head_seq);
    free(r);
    lh_store_close(st);
    lh_store_close(other);
    other = NULL;
}

/* ---------------------------------------------------------------- other processes */

/* A child process appends without pause from 4 threads (so its writer thread takes the
 * next group as soon as one commits) and checkpoints every millisecond, until told to stop
 * through a pipe. */
typedef struct childWriter {
    lh_store *w;
    atomic_int stop, failed;
} childWriter;

static void *childAppender(void *arg) {
    childWriter *c = arg;
    char err[512];
    while (!atomic_load(&c->stop)) {
        lh_event e = {.type = "decision.made", .agent = "w", .aggregate = "s", .data = "{}"};
        if (lh_store_append(c->w, &e, 1, NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "# writer: %s\n", err);
            atomic_store(&c->failed, 1);
            break;
        }
    }
    return NULL;
}

static pid_t startWriter(const char *dir, int stop[2]) {
    assert_int_equal(pipe(stop), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(stop[1]);
        char err[512];
        childWriter c = {0};
        c.w = openOpts(dir, 0, 1, err);
        if (!c.w) { fprintf(stderr, "# writer: %s\n", err); _exit(2); }
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
            if (pthread_create(&th[i], NULL, childAppender, &c) != 0) _exit(4);
        char b;
        while (read(stop[0], &b, 1) < 0) {} /* EOF: the parent closed its end */
        atomic_store(&c.stop, 1);
        for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
        lh_store_close(c.w);
        _exit(atomic_load(&c.failed) ? 3 : 0);
    }
    close(stop[0]);
    return pid;
}

static void stopWriter(pid_t pid, int stop[2]) {
    close(stop[1]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

/* The other writer's events in the store (its agent is "w"). */
static int64_t writerEvents(lh_store *st) {
    lh_store_filter f = {.agent = "w"};
    int64_t n = 0;
    char err[512];
    if (lh_store_count(st, &f, &n, err, sizeof(err)) < 0) fail_msg("count: %s", err);
    return n;
}

/* Rounds run until the other writer has committed between MOVES of them (a count of
 * events, not a time); CAP rounds at most, so a writer that stopped fails the test rather
 * than hanging it. */
enum { MOVES = 30, CAP = 20000 };

/* Opens (the bridge's whole-chain verify in every other one) while another process appends
 * and writes checkpoints; each opener appends too, so the two processes' commits
 * interleave. No open may fail. */
static void test_open_while_another_process_writes(void **state) {
    (void)state;
    char dir[300], err[512];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    append1(st, "a");
    lh_store_close(st);
    int stop[2];
    pid_t pid = startWriter(dir, stop);
    int rounds = 0, failures = 0, moved = 0;
    int64_t last = -1;
    char first[512] = "";
    for (; rounds < CAP && moved < MOVES; rounds++) {
        lh_store *o1 = openOpts(dir, rounds & 1, 0, err);
        if (!o1) {
            if (!failures++) snprintf(first, sizeof(first), "%s", err);
            continue;
        }
        int64_t w = writerEvents(o1);
        if (last >= 0 && w > last) moved++;
        last = w;
        append1(o1, "opener");
        lh_store_close(o1);
    }
    stopWriter(pid, stop);
    printf("# %d opens while another process appended: %d false failures, the other process committed between "
           "%d of them%s%s\n", rounds, failures, moved, failures ? "; first: " : "", first);
    assert_int_equal(failures, 0);
    assert_int_equal(moved, MOVES);
}

/* Verifies (read-only, as `lighthouse events verify` while the bridge runs) while another
 * process appends and checkpoints every millisecond: every walk must pass. */
static void test_verify_while_another_process_writes(void **state) {
    (void)state;
    char dir[300], err[512];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    for (int i = 0; i < 50; i++) append1(st, "a");
    lh_store_close(st);
    int stop[2];
    pid_t pid = startWriter(dir, stop);
    lh_store_options ro = {.backend = LH_STORE_SQLITE, .data_dir = dir, .flags = LH_STORE_READONLY};
    lh_store *v = lh_store_open(&ro, err, sizeof(err));
    if (!v) fail_msg("open read-only: %s", err);
    lh_store_verify_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    int rounds = 0, failures = 0, moved = 0;
    int64_t last = -1;
    char first[600] = "";
    for (; rounds < CAP && moved < MOVES; rounds++) {
        if (lh_store_verify(v, r, err, sizeof(err)) < 0) fail_msg("verify: %s", err);
        if (!r->ok && !failures++)
            snprintf(first, sizeof(first), "at %lld: %s", (long long)r->first_bad_seq, r->reason);
        if (last >= 0 && r->head_seq > last) moved++;
        last = r->head_seq;
    }
    stopWriter(pid, stop);
    printf("# %d verifies while another process appended: %d false failures, the head moved between %d of them%s%s\n",
           rounds, failures, moved, failures ? "; first: " : "", first);
    free(r);
    lh_store_close(v);
    assert_int_equal(failures, 0);
    assert_int_equal(moved, MOVES);
}

/* Appends of this process while another process commits back to back: SQLite's write lock
 * is free only between the other's COMMIT and its next BEGIN, so a writer that polled for it
 * every 100 ms (SQLite's busy_timeout) waited seconds per append and failed with "database
 * is locked" after the busy timeout. Each of these appends must succeed. */
static void test_append_while_another_process_writes(void **state) {
    (void)state;
    char dir[300], err[512];
    newDir(dir, sizeof(dir));
    lh_store *st = openOpts(dir, 0, 0, err);
    if (!st) fail_msg("open: %s", err);
    append1(st, "a");
    int stop[2];
    pid_t pid = startWriter(dir, stop);
    /* the other process is committing: wait (by count) until it has */
    int64_t w0 = 0;
    for (int i = 0; i < CAP && (w0 = writerEvents(st)) < 20; i++) usleep(1000);
    assert_true(w0 >= 20);
    int failures = 0;
    char first[512] = "";
    for (int i = 0; i < 40; i++) {
        lh_event e = {.type = "decision.made", .agent = "me", .aggregate = "s", .data = "{}"};
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0 && !failures++)
            snprintf(first, sizeof(first), "%s", err);
    }
    int64_t w1 = writerEvents(st);
    stopWriter(pid, stop);
    printf("# 40 appends while another process appended %lld: %d failed%s%s\n", (long long)(w1 - w0), failures,
           failures ? "; first: " : "", first);
    lh_store_close(st);
    assert_int_equal(failures, 0);
    assert_true(w1 > w0); /* the other process really committed meanwhile */
}

/* ---------------------------------------------------------------- a new store, many processes */

/* Several processes open one new data directory at the same moment (as the two writers of
 * store_crash.sh's first round do): each must open it, with the one key that was made. The
 * processes wait on a pipe and are released together; each appends one event and reports
 * its key's fingerprint. */
static void test_new_store_opened_by_many_at_once(void **state) {
    (void)state;
    enum { PROCS = 6, ROUNDS = 15 };
    int failures = 0;
    char first[600] = "";
    for (int round = 0; round < ROUNDS; round++) {
        char dir[300];
        newDir(dir, sizeof(dir));
        int go[2], res[2];
        assert_int_equal(pipe(go), 0);
        assert_int_equal(pipe(res), 0);
        pid_t pids[PROCS];
        for (int p = 0; p < PROCS; p++) {
            pids[p] = fork();
            assert_true(pids[p] >= 0);
            if (pids[p] == 0) {
                close(go[1]);
                close(res[0]);
                char c, err[512], line[700];
                if (read(go[0], &c, 1) < 0) _exit(4);
                lh_store *st = openOpts(dir, 0, 0, err);
                lh_store_stats s;
                if (st && lh_store_stats_get(st, &s, err, sizeof(err)) == 0) {
                    lh_event e = {.type = "decision.made", .agent = "p", .aggregate = "s", .data = "{}"};
                    if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) == 0)
                        snprintf(line, sizeof(line), "ok %s\n", s.key_fp);
                    else
                        snprintf(line, sizeof(line), "fail append: %.600s\n", err);
                } else {
                    snprintf(line, sizeof(line), "fail open: %.600s\n", err);
                }
                lh_store_close(st);
                if (write(res[1], line, strlen(line)) < 0) _exit(5); /* < PIPE_BUF: one piece */
                _exit(0);
            }
        }
        close(go[0]);
        close(res[1]);
        close(go[1]); /* release them all */
        char buf[PROCS * 700 + 1];
        size_t n = 0;
        ssize_t k;
        while (n < sizeof(buf) - 1 && (k = read(res[0], buf + n, sizeof(buf) - 1 - n)) > 0) n += (size_t)k;
        buf[n] = 0;
        close(res[0]);
        for (int p = 0; p < PROCS; p++) waitpid(pids[p], NULL, 0);
        char fp[LH_STORE_FP_LEN + 1] = "";
        int oks = 0, lines = 0;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
            lines++;
            if (!strncmp(line, "ok ", 3)) {
                if (!fp[0]) snprintf(fp, sizeof(fp), "%s", line + 3);
                else assert_string_equal(fp, line + 3); /* one key for everyone */
                oks++;
            } else if (!failures++) {
                snprintf(first, sizeof(first), "round %d: %.500s", round, line);
            }
        }
        if (lines < PROCS && !failures++) /* a process that wrote no line crashed */
            snprintf(first, sizeof(first), "round %d: %d of %d processes reported", round, lines, PROCS);
        char err[512];
        lh_store *st = openOpts(dir, 1, 0, err);
        if (!st) fail_msg("round %d: reopen: %s", round, err);
        assert_int_equal(headSeq(st), oks);
        lh_store_close(st);
    }
    printf("# %d rounds of %d processes opening a new store at once: %d failures%s%s\n", ROUNDS, PROCS, failures,
           failures ? "; first: " : "", first);
    assert_int_equal(failures, 0);
}

static int setup(void **state) {
    (void)state;
    return lh_test_store_dir(tmpRoot, sizeof(tmpRoot), "lh-store-race");
}

static int teardown(void **state) {
    (void)state;
    return lh_test_rmtree(tmpRoot);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_verify_with_commits_between_reads),
        cmocka_unit_test(test_open_while_another_process_writes),
        cmocka_unit_test(test_verify_while_another_process_writes),
        cmocka_unit_test(test_new_store_opened_by_many_at_once),
        cmocka_unit_test(test_append_while_another_process_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
