/* test_budget.c — a guard must never hang: pathological commands (deep nesting, huge
 * brace ranges, long pipelines and && chains, aliases and functions calling each other,
 * every wrapper in every option form nested deeply) each end with a decision that is
 * not allow where the command is dangerous, and within the step budget (issue 11,
 * part 12). Work is measured in steps (lh_decision.steps), never in wall-clock time.
 *
 * The commands here are data built in memory and handed to the engine; nothing runs. */
#include "testutil.h"
#include "testreq.h"

#include <stdarg.h>
#include <stdio.h>

#include "engine/analyze.h"
#include "engine/engine.h"
#include "engine/shell.h"

static lh_arena *A;
static lh_engine *E;
static char *BUF;
#define BUF_CAP (200 * 1024)

static int setup(void **st) {
    (void)st;
    char err[256];
    A = lh_arena_new(1 << 16);
    E = lh_engine_new(NULL, 1024, err, sizeof(err));
    BUF = malloc(BUF_CAP);
    return E && BUF ? 0 : -1;
}
static int teardown(void **st) { (void)st; lh_engine_free(E); lh_arena_free(A); free(BUF); return 0; }
static int reset(void **st) { (void)st; lh_arena_reset(A); BUF[0] = 0; return 0; }

/* Append to BUF (bounded). */
static void put(const char *fmt, ...) {
    size_t n = strlen(BUF);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(BUF + n, BUF_CAP - n, fmt, ap);
    va_end(ap);
}

/* The most steps any decision may report: the budget, plus the parser's words and
 * commands counted once at the end, plus the one step that found the budget spent. */
static uint32_t maxSteps(void) {
    lh_shell_limits l;
    lh_shell_default_limits(&l);
    return LH_STEP_BUDGET + (uint32_t)l.max_words + (uint32_t)l.max_cmds + 1;
}

static lh_decision decideText(const char *cmd) {
    lh_request r = lh_test_bash(cmd);
    lh_decision d;
    assert_int_equal(lh_engine_decide(E, &r, A, &d, LH_DECIDE_NOCACHE), 0);
    assert_true(d.steps <= maxSteps());
    return d;
}

/* ---- the step count is real --------------------------------------------------------- */

static void test_steps_are_counted(void **st) {
    lh_decision small = decideText("ls -la");
    assert_true(small.steps > 0);
    assert_true(small.steps < 100);
    assert_int_equal(small.action, LH_ALLOW);
    strcpy(BUF, "ls");
    for (int i = 0; i < 500; i++) put(" && ls");
    lh_decision big = decideText(BUF);
    assert_true(big.steps > 10 * small.steps);   /* more work, more steps */
    assert_int_equal(big.action, LH_ALLOW);
}

/* ---- every wrapper, every option form, nested ------------------------------------- */

static const char *const kWrappers[] = {
    "env -", "env -i", "env -u X", "env --unset=X", "env -i -", "env - -u X", "env -0",
    "env --", "env A=1", "env - A=1 B=2", "env -C /tmp", "sudo", "sudo -u x", "sudo -E",
    "sudo -u x -g y --", "doas", "nice", "nice -n 5", "nice -5", "nice --adjustment=3",
    "timeout 5", "timeout -s KILL 5", "timeout --kill-after=1 5", "nohup", "time",
    "stdbuf -oL", "command", "builtin", "exec", "setsid", "ionice -c 3", "chrt -b 0",
    "taskset 1", "strace -f", "busybox", "env -S", "env -iS", "env --split-string", "xargs", "xargs -0", "xargs -I{}",
    "xargs -n1 -P4", "sudo -uroot", "timeout -sKILL 5", "nice -n5", NULL,
};

static void test_env_dash_ends(void **st) {
    /* `env - CMD` looped forever before issue 11 */
    lh_decision d = decideText("env - rm -rf /");
    assert_int_equal(d.action, LH_DENY);
    d = decideText("env - ls");
    assert_int_equal(d.action, LH_ALLOW);
    d = decideText("env -");
    assert_int_not_equal(d.action, LH_DENY);
    d = decideText("env - - - - -");
    assert_int_not_equal(d.action, LH_DENY);
}

static void test_each_wrapper_form(void **st) {
    for (int i = 0; kWrappers[i]; i++) {
        reset(NULL);
        snprintf(BUF, BUF_CAP, "%s rm -rf /", kWrappers[i]);
        lh_decision d = decideText(BUF);
        if (d.action == LH_ALLOW) fail_msg("%s: allowed", BUF);
        reset(NULL);
        snprintf(BUF, BUF_CAP, "%s -", kWrappers[i]);   /* a bare dash after the wrapper */
        decideText(BUF);
    }
}

static void test_wrappers_nested_deeply(void **st) {
    int n = 0;
    while (kWrappers[n]) n++;
    for (int round = 0; round < 200; round++) put("%s ", kWrappers[round % n]);
    put("rm -rf /");
    lh_decision d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
    reset(NULL);
    for (int round = 0; round < 60; round++) put("xargs -I{} env -S 'nice -n 5 ");
    put("rm -rf /");
    d = decideText(BUF);   /* unterminated quote: a parse error, never an allow */
    assert_int_not_equal(d.action, LH_ALLOW);
    reset(NULL);
    for (int round = 0; round < 60; round++) put("xargs -I{} env - timeout 5 sudo -u x ");
    put("rm -rf /");
    d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
}

/* ---- expansion ------------------------------------------------------------------------ */

static void test_huge_brace_ranges(void **st) {
    lh_decision d = decideText("touch f{1..99999999999}");
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "engine.budget");
    reset(NULL);
    for (int i = 0; i < 40; i++) put("{a,b}");   /* 2^40 words */
    d = decideText(BUF);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "engine.budget");
    reset(NULL);
    strcpy(BUF, "for x in ");
    for (int i = 0; i < 30; i++) put("{1..9}");
    put("; do rm -rf $x; done");
    d = decideText(BUF);
    assert_int_equal(d.action, LH_ESCALATE);
    /* a small range is judged word by word */
    d = decideText("rm -rf /{etc,usr}");
    assert_int_equal(d.action, LH_DENY);
    d = decideText("mkdir -p out/{1..20}");
    assert_int_equal(d.action, LH_ALLOW);
}

/* ---- structure ------------------------------------------------------------------------ */

static void test_deep_nesting(void **st) {
    for (int i = 0; i < 5000; i++) put("(");
    put("rm -rf /");
    for (int i = 0; i < 5000; i++) put(")");
    lh_decision d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
    reset(NULL);
    for (int i = 0; i < 3000; i++) put("$((");
    for (int i = 0; i < 3000; i++) put("))");
    d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
    reset(NULL);
    for (int i = 0; i < 2000; i++) put("$(");
    put("rm -rf /");
    for (int i = 0; i < 2000; i++) put(")");
    d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
}

static void test_long_pipelines_and_chains(void **st) {
    strcpy(BUF, "cat a");
    for (int i = 0; i < 200; i++) put(" | cat");
    lh_decision d = decideText(BUF);
    assert_int_equal(d.action, LH_ALLOW);
    reset(NULL);
    strcpy(BUF, "cat a");
    for (int i = 0; i < 3000; i++) put(" | cat");
    d = decideText(BUF);   /* past the parser's pipeline bound: shell.too-complex */
    assert_int_equal(d.action, LH_DENY);
    reset(NULL);
    strcpy(BUF, "true");
    for (int i = 0; i < 3000; i++) put(" && true");
    put(" && rm -rf /");
    d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
}

static void test_aliases_calling_each_other(void **st) {
    strcpy(BUF, "alias");
    for (int i = 0; i < 32; i++) put(" a%d=a%d", i, (i + 1) % 32);   /* a cycle */
    put("; a0");
    decideText(BUF);
    reset(NULL);
    strcpy(BUF, "alias");
    for (int i = 0; i < 31; i++) put(" a%d=a%d", i, i + 1);
    put(" a31='rm -rf /'; a0");
    lh_decision d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
}

static void test_functions_calling_each_other(void **st) {
    /* a chain of functions, then many calls of a big body with many arguments: the
     * work grows as calls x arguments x body, and the budget stops it */
    for (int i = 0; i < 50; i++) put("f%d() { f%d \"$@\"; }\n", i, i + 1);
    put("f50() { rm -rf \"$1\"; }\n");
    put("f0 /\n");
    lh_decision d = decideText(BUF);
    assert_int_not_equal(d.action, LH_ALLOW);
    reset(NULL);
    put("big() {");
    for (int i = 0; i < 1000; i++) put(" ls \"$1\";");
    put(" }\n");
    for (int i = 0; i < 900; i++) put("big a b c d e f g h i j k l m n o p q\n");
    d = decideText(BUF);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "engine.budget");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_steps_are_counted, reset),
        cmocka_unit_test_setup(test_env_dash_ends, reset),
        cmocka_unit_test_setup(test_each_wrapper_form, reset),
        cmocka_unit_test_setup(test_wrappers_nested_deeply, reset),
        cmocka_unit_test_setup(test_huge_brace_ranges, reset),
        cmocka_unit_test_setup(test_deep_nesting, reset),
        cmocka_unit_test_setup(test_long_pipelines_and_chains, reset),
        cmocka_unit_test_setup(test_aliases_calling_each_other, reset),
        cmocka_unit_test_setup(test_functions_calling_each_other, reset),
    };
    return cmocka_run_group_tests_name("budget", tests, setup, teardown);
}
