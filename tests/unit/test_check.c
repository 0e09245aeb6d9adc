/* test_check.c — util/check.h: a false LH_ASSERT aborts with where and what; the walking
 * checks (LH_DEBUG_ASSERT) run only in the sanitizer build, and there they catch a
 * script whose command has a kind out of range. Each failure runs in a child process. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/shell.h"
#include "util/check.h"

/* Run fn in a child with stderr into a pipe; returns its wait status, stderr in buf. */
static int inChild(void (*fn)(void), char *buf, size_t cap) {
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        dup2(pfd[1], 2);
        fn();
        _exit(0);
    }
    close(pfd[1]);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(pfd[0], buf + n, cap - 1 - n)) > 0) n += (size_t)k;
    buf[n] = 0;
    close(pfd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static int two(void) { return 2; }

static void falseAssert(void) { LH_ASSERT(two() + two() == 5); }
static void trueAssert(void) { LH_ASSERT(two() + two() == 4); }

static void test_assert_aborts_with_place(void **st) {
    (void)st;
    char err[512];
    int status = inChild(falseAssert, err, sizeof(err));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "test_check.c:"));
    assert_non_null(strstr(err, "falseAssert: assertion failed: two() + two() == 5"));
    status = inChild(trueAssert, err, sizeof(err));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(err, "");
}

/* What the hook sets: its own exit in place of abort(). */
static void exitSeven(void) { _exit(7); }
static void falseAssertWithExit(void) {
    lh_assert_set_exit(exitSeven);
    LH_ASSERT(two() == 3);
}

static void test_assert_exit_replaces_abort(void **st) {
    (void)st;
    char err[512];
    int status = inChild(falseAssertWithExit, err, sizeof(err));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 7);
    assert_non_null(strstr(err, "assertion failed: two() == 3"));
}

static void test_debug_assert_only_in_debug(void **st) {
    (void)st;
    int k = 0;
    LH_DEBUG_ASSERT(++k == 1);
#ifdef LH_DEBUG
    assert_int_equal(k, 1);
#else
    assert_int_equal(k, 0);   /* not evaluated */
#endif
}

/* A command whose kind (origin) is out of range, and one whose parent comes after it. */
static void badKind(void) {
    lh_cmd c[1];
    memset(c, 0, sizeof(c));
    c[0].prog = "";
    c[0].parent = -1;
    c[0].parent_arg = -1;
    c[0].func = -1;
    c[0].pipe_len = 1;
    c[0].origin = (lh_origin)99;
    lh_script s = {.cmds = c, .ncmds = 1, .capcmds = 1};
    lh_script_assert(&s);
}

static void parentAfter(void) {
    lh_cmd c[2];
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 2; i++) {
        c[i].prog = "";
        c[i].parent_arg = -1;
        c[i].func = -1;
        c[i].pipe_len = 1;
    }
    c[0].origin = LH_ORIGIN_CMDSUBST;
    c[0].parent = 1;   /* the enclosing command must come first */
    c[1].parent = -1;
    lh_script s = {.cmds = c, .ncmds = 2, .capcmds = 2};
    lh_script_assert(&s);
}

static void test_script_kinds_checked(void **st) {
    (void)st;
    char err[512];
    int a = inChild(badKind, err, sizeof(err));
#ifdef LH_DEBUG
    assert_true(WIFSIGNALED(a) && WTERMSIG(a) == SIGABRT);
    assert_non_null(strstr(err, "c->origin <= LH_ORIGIN_WRAPPED"));
    int b = inChild(parentAfter, err, sizeof(err));
    assert_true(WIFSIGNALED(b) && WTERMSIG(b) == SIGABRT);
    assert_non_null(strstr(err, "c->parent < k"));
#else
    assert_true(WIFEXITED(a) && WEXITSTATUS(a) == 0);   /* compiled out */
    (void)parentAfter;
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assert_aborts_with_place),
        cmocka_unit_test(test_assert_exit_replaces_abort),
        cmocka_unit_test(test_debug_assert_only_in_debug),
        cmocka_unit_test(test_script_kinds_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
