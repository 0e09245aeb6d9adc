/* test_worstcase.c — every decision ends within a small, bounded cost: each hot spot found
 * by bench/bench_worst.c (an input within the request's limits that took far more work
 * than its size) is decided here next to an ordinary input of the same size, and the
 * two are compared by thread CPU time (best of three, the same run, never a wall-clock
 * bound), by the bytes the decision allocated, or by the steps it was charged.
 *
 * The commands are data built in memory and handed to the engine; nothing runs. */
#include "testutil.h"
#include "testreq.h"

#include <time.h>

#include "engine/analyze.h"
#include "engine/engine.h"
#include "engine/policy.h"
#include "util/arena.h"

static lh_arena *A;
static lh_engine *E;
static char *BUF, *TWIN;
#define BUF_CAP (300 * 1024)

static int setup(void **st) {
    (void)st;
    char err[256];
    A = lh_arena_new(1 << 16);
    E = lh_engine_new(NULL, 1024, err, sizeof(err));
    BUF = malloc(BUF_CAP);
    TWIN = malloc(BUF_CAP);
    return E && BUF && TWIN ? 0 : -1;
}
static int teardown(void **st) {
    (void)st;
    lh_engine_free(E);
    lh_arena_free(A);
    free(BUF);
    free(TWIN);
    return 0;
}

/* b = pre, then rep n times, then post (bounded by BUF_CAP). */
static char *build(char *b, const char *pre, const char *rep, int n, const char *post) {
    size_t o = 0, pl = strlen(pre), rl = strlen(rep), ql = strlen(post);
    assert_true(pl + (size_t)n * rl + ql < BUF_CAP);
    memcpy(b, pre, pl);
    o = pl;
    for (int i = 0; i < n; i++, o += rl) memcpy(b + o, rep, rl);
    memcpy(b + o, post, ql + 1);
    return b;
}

static double threadCpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct cost {
    double cpu;        /* seconds of thread CPU, the least of three runs */
    size_t bytes;      /* arena bytes the decision allocated */
    lh_decision d;
} cost;

static cost costOf(const char *cmd) {
    lh_request r = lh_test_bash(cmd);
    cost c = {1e9, 0, {0}};
    for (int k = 0; k < 3; k++) {
        lh_arena_reset(A);
        double t0 = threadCpu();
        assert_int_equal(lh_engine_decide(E, &r, A, &c.d, LH_DECIDE_NOCACHE), 0);
        double dt = threadCpu() - t0;
        if (dt < c.cpu) c.cpu = dt;
        c.bytes = lh_arena_used(A);
    }
    return c;
}

/* The adversarial input costs at most `ratio` times its same-size twin in CPU. */
static cost assertLikeTwin(const char *what, const char *bad, const char *twin, double ratio) {
    cost b = costOf(bad), t = costOf(twin);
    print_message("%s: %.2f ms (%u steps, %s %s) vs its twin %.2f ms (%u steps): x%.1f\n", what,
                  b.cpu * 1e3, b.d.steps, lh_action_name(b.d.action), b.d.rule, t.cpu * 1e3, t.d.steps,
                  b.cpu / t.cpu);
    if (b.cpu > ratio * t.cpu) fail_msg("%s costs %.1f times its twin (bound %.0f)", what, b.cpu / t.cpu, ratio);
    return b;
}

/* ---- brace groups: one pass over the word ----------------------------------------- */

static void test_unclosed_braces_are_linear(void **st) {
    /* a '{' with no '}' made findGroup scan to the word's end from each '{': 1.4 G
     * instructions for 60 words of 1,300 "{a," */
    char word[3 * 1300 + 2];
    build(word, " ", "{a,", 1300, "");
    build(BUF, "rm -rf", word, 60, "");
    build(word, " ", "xa,", 1300, "");
    build(TWIN, "rm -rf", word, 60, "");
    cost c = assertLikeTwin("unclosed braces", BUF, TWIN, 10);
    assert_int_not_equal(c.d.action, LH_ALLOW);   /* nested past 64: not judged, escalated */
    /* a brace group still expands, nested or after an unclosed one */
    assert_int_equal(costOf("rm -rf /{etc,usr}").d.action, LH_DENY);
    assert_int_equal(costOf("rm -rf x{ /{etc,{usr,var}}").d.action, LH_DENY);
    assert_int_equal(costOf("mkdir -p {a,b}/{c,d}").d.action, LH_ALLOW);
}

/* ---- path classification: one pass over the path ---------------------------------- */

static void test_path_braces_are_linear(void **st) {
    /* findGlob scanned to the next '}' from each '{' of a path: 1.3 G instructions for
     * 60 quoted words of 2,000 "a{" */
    char word[2 * 2000 + 4];
    build(word, " '", "a{", 2000, "'");
    build(BUF, "cat", word, 60, "");
    build(word, " '", "ab", 2000, "'");
    build(TWIN, "cat", word, 60, "");
    assertLikeTwin("braces in paths", BUF, TWIN, 4);
    assert_int_equal(costOf("rm -rf /{etc,usr}").d.action, LH_DENY);
    assert_int_equal(costOf("rm -rf '/x{a'/..{,}").d.action, LH_DENY);   /* /.. globbed */
    assert_int_equal(costOf("rm -rf 'a{b'").d.action, LH_ALLOW);
}

static void test_expanded_words_are_charged(void **st) {
    /* $1$1$1… in a function body expands each call to a 4 KB word that every analyzer
     * classifies again: charged one step per word, 200 words x 100 calls took 0.94 G
     * instructions within 21 k steps; the expansion and the classification are now
     * charged by their length */
    char arg[4 * 250 + 1];
    build(arg, "", "b/..", 250, "");
    size_t o = (size_t)snprintf(BUF, BUF_CAP, "f() { cat");
    for (int i = 0; i < 200; i++) o += (size_t)snprintf(BUF + o, BUF_CAP - o, " $1$1$1$1$1$1$1$1");
    o += (size_t)snprintf(BUF + o, BUF_CAP - o, "; }\n");
    for (int i = 0; i < 100; i++) o += (size_t)snprintf(BUF + o, BUF_CAP - o, "f %s\n", arg);
    strcpy(TWIN, BUF);
    for (char *p = TWIN; (p = strstr(p, "$1")) != NULL; p += 2) p[0] = 'x';
    cost c = assertLikeTwin("expanded words", BUF, TWIN, 8);
    assert_true(c.d.steps > LH_STEP_BUDGET);
    assert_string_equal(c.d.rule, "engine.budget");
}

/* ---- words, redirections and brace words are charged by their cost ------------------ */

static void test_words_are_charged_by_cost(void **st) {
    /* a word judged cost one step and a redirection one, though a redirection is
     * classified by several analyzers (~10 k instructions): 15,000 of them on one
     * command took 167 M instructions within 60 k steps; a brace word cost one step
     * too, and 400 x `rm -f x{1..256}` spent the budget at 190 M instructions */
    build(BUF, "echo x", " >f", 100, "");
    cost redirs = costOf(BUF);
    assert_true(redirs.d.steps >= 100 * LH_STEP_REDIR);
    cost braces = costOf("rm -f x{1..256}");
    assert_true(braces.d.steps >= 2 * 256 * LH_STEP_WORD);   /* expanded, then judged */
    assert_int_equal(braces.d.action, LH_ALLOW);
    build(BUF, "echo x", " >f", 15000, "");
    cost many = costOf(BUF);
    assert_string_equal(many.d.rule, "engine.budget");
    build(BUF, "true", "; rm -f x{1..256}", 400, "");
    assert_string_equal(costOf(BUF).d.rule, "engine.budget");
    /* an ordinary long script is still judged */
    build(BUF, "mkdir -p build", "\nmkdir -p build/d1\ncp src/f.c build/d1/", 2045, "");
    cost script = costOf(BUF);
    assert_int_equal(script.d.action, LH_ALLOW);
    assert_true(script.d.steps < LH_STEP_BUDGET / 4 * 3);
}

/* ---- cd chains: a directory no longer than a path ---------------------------------- */

static void test_cd_chain_is_bounded(void **st) {
    /* each cd copied and folded a longer directory: 4,000 `cd a` took 1 G instructions */
    build(BUF, "", "cd a && ", 4000, "ls");
    build(TWIN, "", "ls a && ", 4000, "ls");
    assertLikeTwin("cd chain", BUF, TWIN, 12);
    assert_int_equal(costOf("cd a && cd b && rm -rf ../../..").d.action, LH_DENY);
    assert_int_equal(costOf("cd a && cd b && rm -rf ../x").d.action, LH_ALLOW);
}

/* ---- inline code: a literal takes its own size --------------------------------------- */

static void test_code_literals_take_their_size(void **st) {
    /* readLiteral allocated the rest of the code for every literal, readListCommand 4
     * and readArgTail 20 times it: 3 GB for 250 KB of python, or a failed allocation
     * (a deny as engine.error) */
    static const char *const kCodes[][3] = {
        {"perl -e '", "system(\"ls\");", "'"},
        {"python3 -c '", "subprocess.run([\"ls\", \"-la\"]);", "'"},
        {"perl -e '", "system(\"ls\", \"-la\", $d);", "'"},
        {"python3 -c '", "p=\"/tmp/x\";", "'"},
    };
    for (size_t i = 0; i < sizeof(kCodes) / sizeof(kCodes[0]); i++) {
        build(BUF, kCodes[i][0], kCodes[i][1], 1500, kCodes[i][2]);
        cost c = costOf(BUF);
        print_message("%s…: %zu bytes of arena for %zu bytes, %s %s\n", kCodes[i][0], c.bytes, strlen(BUF),
                      lh_action_name(c.d.action), c.d.rule);
        assert_true(c.bytes < 64 * strlen(BUF));
        assert_string_not_equal(c.d.rule, "engine.error");
    }
}

static void test_child_process_names_fold_in_one_pass(void **st) {
    /* lh_code_canon dropped each "child_process." with a memmove of the rest of the
     * code: 3,500 in 140 KB of node took 177 M instructions of memmove */
    build(BUF, "node -e \"", "child_process.a;", 15000, "\"");
    build(TWIN, "node -e \"", "child_xrocess.a;", 15000, "\"");
    assertLikeTwin("child_process names", BUF, TWIN, 2);
    assert_int_equal(costOf("node -e \"require('child_process').execSync('rm -rf /')\"").d.action, LH_DENY);
}

/* ---- file content: the readers of content_files3.c stay linear (advcontent3) ------- */

static cost costOfWrite(const char *path, const char *content) {
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool = LH_TOOL_WRITE;
    r.tool_name = "Write";
    r.file_path = path;
    r.content = content;
    r.cwd = "/home/dev/project";
    r.home = "/home/dev";
    cost c = {1e9, 0, {0}};
    for (int k = 0; k < 3; k++) {
        lh_arena_reset(A);
        double t0 = threadCpu();
        assert_int_equal(lh_engine_decide(E, &r, A, &c.d, LH_DECIDE_NOCACHE), 0);
        double dt = threadCpu() - t0;
        if (dt < c.cpu) c.cpu = dt;
    }
    return c;
}

static void test_content_readers_are_linear(void **st) {
    /* each match searched on to the end of the file (a lint-staged object, addopts
     * continuation lines, </exec>, </configuration>, a bound build.rs command's
     * statements, an Exec block's '}'): 13-60 s for 1 MiB of matches. Linear work grows
     * 4 times for 4 times the matches, quadratic 16 times: the bound is 8. */
    static const char *const kFiles[][3] = {
        {"/home/dev/project/package.json", "\"lint-staged\": {", ""},
        {"/home/dev/project/pytest.ini", " addopts\n", "addopts = -q\n"},
        {"/home/dev/project/pom.xml", "<exec executable=\"a\">", ""},
        {"/home/dev/project/pom.xml", "<executable>a</executable>", ""},
        {"/home/dev/project/build.rs", "let c = Command::new(\"a\");", ""},
        {"/home/dev/project/build.gradle", "executable 'a' ", ""},
    };
    for (size_t i = 0; i < sizeof(kFiles) / sizeof(kFiles[0]); i++) {
        int n = (int)(240000 / strlen(kFiles[i][1]));
        build(BUF, kFiles[i][2], kFiles[i][1], n, "");
        build(TWIN, kFiles[i][2], kFiles[i][1], n / 4, "");
        cost b = costOfWrite(kFiles[i][0], BUF), t = costOfWrite(kFiles[i][0], TWIN);
        print_message("%s x%d: %.2f ms, a quarter of it %.2f ms: x%.1f\n", kFiles[i][1], n, b.cpu * 1e3,
                      t.cpu * 1e3, b.cpu / t.cpu);
        if (b.cpu > 8 * t.cpu + 0.002) fail_msg("%s: 4 times the matches cost %.1f times (bound 8)", kFiles[i][1], b.cpu / t.cpu);
    }
}

/* ---- policy: a regex's result is kept for the whole decision ----------------------- */

static void test_policy_regexes_run_once(void **st) {
    /* regex results were kept for 64 rules only: past them a rule with a program and a
     * regex ran its regex over the whole command text again for every command */
    static char yaml[100 * 120 + 16];
    size_t o = (size_t)snprintf(yaml, sizeof(yaml), "rules:\n");
    for (int i = 0; i < 100; i++)
        o += (size_t)snprintf(yaml + o, sizeof(yaml) - o,
                              "  - id: rx-%d\n    action: deny\n    reason: r\n    match: {program: ls, regex: 'q%dz[0-9]+'}\n",
                              i, i);
    lh_policy *pol = lh_policy_parse(yaml, o, "many-regexes", NULL, 0, NULL);
    assert_non_null(pol);
    char err[256];
    lh_engine *saved = E;
    E = lh_engine_new(pol, 16, err, sizeof(err));
    assert_non_null(E);
    build(BUF, "ls", "; ls a", 4000, "");
    build(TWIN, "ls", "; wc a", 4000, "");   /* no rule for wc: no regex runs */
    cost c = assertLikeTwin("regex rules past 64", BUF, TWIN, 3);
    assert_int_equal(c.d.action, LH_ALLOW);
    assert_int_equal(costOf("ls q99z7").d.action, LH_DENY);    /* the 100th rule still matches */
    assert_int_equal(costOf("ls q99z").d.action, LH_ALLOW);
    lh_engine_free(E);
    E = saved;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unclosed_braces_are_linear),
        cmocka_unit_test(test_path_braces_are_linear),
        cmocka_unit_test(test_expanded_words_are_charged),
        cmocka_unit_test(test_words_are_charged_by_cost),
        cmocka_unit_test(test_cd_chain_is_bounded),
        cmocka_unit_test(test_code_literals_take_their_size),
        cmocka_unit_test(test_child_process_names_fold_in_one_pass),
        cmocka_unit_test(test_policy_regexes_run_once),
        cmocka_unit_test(test_content_readers_are_linear),
    };
    return cmocka_run_group_tests_name("worstcase", tests, setup, teardown);
}
