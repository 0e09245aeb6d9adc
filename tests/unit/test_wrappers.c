/* test_wrappers.c — the wrapper option table (src/engine/wrappers.c): every wrapper with
 * every option form finds the command word (tests/corpus/runners.jsonl checks the
 * decisions end to end). */
#include "testutil.h"

#include <stdio.h>

#include "engine/runners.h"
#include "engine/wrappers.h"

/* Split text on spaces into words (test data only, never run). Returns the count. */
static int splitWords(char *buf, lh_word *w, int cap) {
    int n = 0;
    for (char *t = strtok(buf, " "); t && n < cap; t = strtok(NULL, " ")) {
        w[n].s = t;
        w[n].len = (uint32_t)strlen(t);
        w[n].flags = 0;
        n++;
    }
    return n;
}

/* The index lh_wrapper_skip gives for line, whose argv[0] names the wrapper. */
static int skipIndex(const char *line) {
    char buf[512];
    lh_word w[32];
    snprintf(buf, sizeof(buf), "%s", line);
    int n = splitWords(buf, w, 32);
    const lh_wrapper *wr = lh_wrapper_find(w[0].s);
    if (!wr) fail_msg("%s: not a wrapper", w[0].s);
    return lh_wrapper_skip(wr, w, n, 1);
}

/* Index of the word "CMD" in line, or -1. */
static int cmdIndex(const char *line) {
    char buf[512];
    lh_word w[32];
    snprintf(buf, sizeof(buf), "%s", line);
    int n = splitWords(buf, w, 32);
    for (int i = 0; i < n; i++)
        if (!strcmp(w[i].s, "CMD")) return i;
    return -1;
}

#define FINDS(line) do { \
        int got_ = skipIndex(line), want_ = cmdIndex(line); \
        if (got_ != want_) fail_msg("%s: command at %d, want %d", line, got_, want_); \
    } while (0)

#define RUNS_NOTHING(line) do { \
        int got_ = skipIndex(line); \
        if (got_ != -1) fail_msg("%s: command at %d, want none (-1)", line, got_); \
    } while (0)

/* One row per wrapper: a flag letter without a value (or 0), a short option with a value
 * (or 0), a long option with a value (or NULL), the plain words it needs before the
 * command ("" for none). */
typedef struct {
    const char *name;
    char flag;
    char shortv;
    const char *longv;
    const char *pos;
} form_row;

static const form_row kRows[] = {
    {"sudo", 'E', 'u', "--user", ""},          {"doas", 'n', 'u', NULL, ""},
    {"pkexec", 0, 0, "--user", ""},            {"runuser", 'l', 'u', "--user", ""},
    {"chroot", 0, 0, "--userspec", "/mnt "},   {"env", 'i', 'u', "--unset", ""},
    {"nice", 0, 'n', "--adjustment", ""},      {"ionice", 't', 'c', "--class", ""},
    {"timeout", 'v', 's', "--signal", "5 "},   {"time", 'p', 'f', "--format", ""},
    {"stdbuf", 0, 'o', "--output", ""},        {"command", 'p', 0, NULL, ""},
    {"exec", 'c', 'a', NULL, ""},              {"taskset", 'a', 0, NULL, "0x3 "},
    {"chrt", 'f', 'T', "--sched-runtime", "1 "}, {"flock", 'x', 'w', "--timeout", "/tmp/l "},
    {"numactl", 0, 'N', "--membind", ""},      {"cgexec", 0, 'g', NULL, ""},
    {"nohup", 0, 0, NULL, ""},                 {"setsid", 'f', 0, NULL, ""},
    {"unshare", 'r', 'S', "--propagation", ""}, {"nsenter", 'm', 't', "--target", ""},
    {"systemd-run", 'q', 'p', "--property", ""}, {"sem", 0, 'j', "--id", ""},
    {"strace", 'f', 'e', "--output", ""},      {"ltrace", 'S', 'e', "--output", ""},
    {"caffeinate", 'i', 't', NULL, ""},        {"proxychains", 'q', 'f', NULL, ""},
    {"torsocks", 'i', 'u', NULL, ""},
    {"run0", 0, 'u', "--user", ""},           {"npx", 'y', 'p', "--package", ""},
    {"bunx", 0, 'p', "--package", ""},
};

static void test_every_form(void **st) {
    (void)st;
    char line[512];
    for (size_t r = 0; r < sizeof(kRows) / sizeof(kRows[0]); r++) {
        const form_row *w = &kRows[r];
        snprintf(line, sizeof(line), "%s %sCMD a b", w->name, w->pos);
        FINDS(line);
        snprintf(line, sizeof(line), "%s -- %sCMD -x", w->name, w->pos);
        FINDS(line);
        if (w->flag) {
            snprintf(line, sizeof(line), "%s -%c %sCMD -%c", w->name, w->flag, w->pos, w->flag);
            FINDS(line);
        }
        if (w->shortv) {
            snprintf(line, sizeof(line), "%s -%c v1 %sCMD", w->name, w->shortv, w->pos);
            FINDS(line);                                   /* -u root */
            snprintf(line, sizeof(line), "%s -%cv1 %sCMD", w->name, w->shortv, w->pos);
            FINDS(line);                                   /* -uroot */
            snprintf(line, sizeof(line), "%s -%c v1 -- %sCMD", w->name, w->shortv, w->pos);
            FINDS(line);                                   /* -u root -- */
            if (w->flag) {
                snprintf(line, sizeof(line), "%s -%c%c v1 %sCMD", w->name, w->flag, w->shortv, w->pos);
                FINDS(line);                               /* -nu root: cluster */
                snprintf(line, sizeof(line), "%s -%c%cv1 %sCMD", w->name, w->flag, w->shortv, w->pos);
                FINDS(line);                               /* -nuroot */
            }
        }
        if (w->longv) {
            snprintf(line, sizeof(line), "%s %s v1 %sCMD", w->name, w->longv, w->pos);
            FINDS(line);                                   /* --user root */
            snprintf(line, sizeof(line), "%s %s=v1 %sCMD", w->name, w->longv, w->pos);
            FINDS(line);                                   /* --user=root */
            snprintf(line, sizeof(line), "%s %s=v1 -- %sCMD", w->name, w->longv, w->pos);
            FINDS(line);
        }
        if (w->shortv && w->longv) {
            snprintf(line, sizeof(line), "%s -%c v1 %s v2 %sCMD x", w->name, w->shortv, w->longv, w->pos);
            FINDS(line);
        }
    }
}

static void test_special_forms(void **st) {
    (void)st;
    FINDS("env FOO=1 -u PATH BAR=2 CMD x");        /* assignments around options */
    FINDS("env -P /usr/bin CMD");
    FINDS("env -C /tmp CMD");
    FINDS("env --chdir=/ CMD");
    FINDS("sudo -u root -g wheel CMD");
    FINDS("sudo -ugroot CMD");
    FINDS("sudo --user=root --preserve-env CMD");
    FINDS("sudo -R /mnt CMD");
    FINDS("nice -5 CMD");                           /* -NUM is not a value option */
    FINDS("timeout --kill-after=3 --signal TERM 60 CMD");
    FINDS("timeout -k 3 -s KILL 60 CMD");
    FINDS("stdbuf -oL -e 0 CMD");
    FINDS("ionice -c 3 -n 7 CMD");
    FINDS("taskset -c 0 CMD");
    FINDS("chrt -f 1 CMD");
    FINDS("chrt --fifo 1 CMD");
    FINDS("time -p CMD");
    FINDS("exec -a name CMD");
    FINDS("unshare -m -p -f --mount-proc CMD");
    FINDS("unshare --mount --propagation private CMD");
    FINDS("unshare --map-user=1000 -U CMD");
    FINDS("nsenter -t 1 -m -u -i -n -p CMD");
    FINDS("nsenter --target 1 --mount -- CMD");
    FINDS("systemd-run --user -p MemoryMax=1G CMD");
    FINDS("systemd-run --unit=x --on-calendar=daily CMD");
    FINDS("systemd-run --on-calendar daily --unit x --wait CMD");
    FINDS("machinectl shell root@ CMD -x");
    FINDS("machinectl -M host shell root@box CMD");
    FINDS("flock --timeout 5 -x /tmp/l CMD");
    FINDS("sem --id x --fg CMD");
    FINDS("pkexec --user root CMD");
    FINDS("doas -u root -n CMD");
    FINDS("setsid -f -w CMD");
    FINDS("uv run --with requests -p 3.12 CMD x");
    FINDS("uv --directory x run CMD");
    FINDS("poetry run CMD");
    FINDS("poetry -C sub run CMD");
    FINDS("bundle exec CMD");
    FINDS("pipenv run CMD");
    FINDS("conda run -n base CMD");
    FINDS("mise exec -- CMD");
    FINDS("mise x -C dir -- CMD");
    FINDS("direnv exec . CMD");
    FINDS("aws-vault exec prod -- CMD");
    FINDS("aws-vault exec --duration 1h prod -- CMD");
    FINDS("op run --env-file .env -- CMD");
    FINDS("doppler run -p proj -c dev -- CMD");
    FINDS("gosu root CMD");
    FINDS("su-exec app CMD");
    FINDS("xvfb-run -a -s '-screen' CMD");
    FINDS("fakeroot -- CMD");
    FINDS("setpriv --reuid 1000 --regid=1000 CMD");
    FINDS("tini -p SIGTERM -- CMD");
    FINDS("dumb-init -r 15:2 CMD");
    FINDS("ssh-agent -t 60 CMD");
    FINDS("pnpm exec CMD");
    FINDS("yarn exec CMD");
    FINDS("rbenv exec CMD");
    FINDS("hatch run CMD");
    FINDS("npm exec -- CMD");
    FINDS("npm x -w pkg -- CMD");
    FINDS("pnpm dlx CMD");
    FINDS("yarn dlx -p pkg CMD");
    FINDS("pnpx CMD");
    FINDS("bun x CMD");
    FINDS("npx --yes -- CMD");
    /* -c's value is a shell string (runners.c reads it): no command word follows */
    assert_int_equal(skipIndex("npx -c CMD"), 3);
    assert_int_equal(skipIndex("npm exec --call=CMD"), 3);
    RUNS_NOTHING("bun install");
    RUNS_NOTHING("npm install");
    RUNS_NOTHING("uv pip install x");
    RUNS_NOTHING("poetry install");
    RUNS_NOTHING("bundle install");
    RUNS_NOTHING("ssh-agent -k");
    RUNS_NOTHING("setpriv --dump");
    RUNS_NOTHING("command -v CMD");
    RUNS_NOTHING("command -pV CMD");
    RUNS_NOTHING("ionice -p 42");
    RUNS_NOTHING("taskset -p 0x3 42");
    RUNS_NOTHING("chrt -p 42");
    RUNS_NOTHING("pkexec --version");
    RUNS_NOTHING("machinectl list");
    RUNS_NOTHING("systemd-run --version");
    /* no command word at all: the index is argc */
    assert_int_equal(skipIndex("nice -n 5"), 3);
    assert_int_equal(skipIndex("sudo -u root"), 3);
}

static void test_option_value(void **st) {
    (void)st;
    char buf[256];
    lh_word w[16];
    static const char *const lo[] = {"--user", NULL};
    snprintf(buf, sizeof(buf), "runuser -l -u app -- CMD");
    int n = splitWords(buf, w, 16);
    const char *v = lh_option_value(w, n, 1, "ug", lo, 'u', "--user");
    assert_non_null(v);
    assert_string_equal(v, "app");
    snprintf(buf, sizeof(buf), "runuser --user=web CMD");
    n = splitWords(buf, w, 16);
    v = lh_option_value(w, n, 1, "ug", lo, 'u', "--user");
    assert_non_null(v);
    assert_string_equal(v, "web");
    snprintf(buf, sizeof(buf), "runuser -l app -c CMD");
    n = splitWords(buf, w, 16);
    assert_null(lh_option_value(w, n, 1, "ug", lo, 'u', "--user"));
    assert_null(lh_wrapper_find("rm"));
    assert_null(lh_wrapper_find("su"));
}

/* Both tables are searched by bisection: every entry must be found by its name. */
static void test_tables_sorted(void **st) {
    (void)st;
    for (size_t i = 0; i < lh_wrapper_count(); i++) {
        const lh_wrapper *w = lh_wrapper_at(i);
        if (lh_wrapper_find(w->name) != w) fail_msg("wrapper %s not found: table out of order", w->name);
    }
    static const char *const runners[] = {"ansible", "at", "awk", "batch", "busybox-awk", "cargo",
                                          "clush", "gawk", "gcloud", "gsed", "incus", "lxc", "mawk",
                                          "nawk", "nerdctl", "nix", "nix-shell", "parallel-ssh",
                                          "pdsh", "pssh", "runuser", "salt", "salt-call", "salt-ssh",
                                          "screen", "script", "sed", "sg", "su", "tmux", "vagrant",
                                          NULL};
    for (int i = 0; runners[i]; i++)
        if (!lh_runner_is(runners[i])) fail_msg("runner %s not found: table out of order", runners[i]);
    assert_false(lh_runner_is("ls"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form),
        cmocka_unit_test(test_special_forms),
        cmocka_unit_test(test_option_value),
        cmocka_unit_test(test_tables_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
