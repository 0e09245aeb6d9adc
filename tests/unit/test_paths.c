/* test_paths.c — normalising and classifying path words (src/engine/paths.c). */
#include "testutil.h"

#include <stdio.h>

#include "engine/paths.h"

static lh_arena *A;

#define CWD  "/home/alex/work/api"
#define HOME "/home/alex"

static lh_path cls_in(const char *cwd, const char *home, const char *word) {
    lh_path p;
    int proj = lh_path_cwd_is_project(cwd, home);
    lh_path_classify_in(A, cwd, home, proj, word, strlen(word), &p);
    return p;
}

static lh_path cls(const char *word) { return cls_in(CWD, HOME, word); }

#define CLASS(word, c) do { \
        lh_path p_ = cls(word); \
        if (p_.cls != (c)) fail_msg("%s: got %s (%s), want %s", word, lh_path_class_name(p_.cls), \
                                    p_.norm, lh_path_class_name(c)); \
    } while (0)

#define NORM(word, want) do { \
        lh_path p_ = cls(word); \
        if (strcmp(p_.norm, want)) fail_msg("%s: norm %s, want %s", word, p_.norm, want); \
    } while (0)

static int setup(void **st) { (void)st; A = lh_arena_new(1 << 16); return A ? 0 : -1; }
static int teardown(void **st) { (void)st; lh_arena_free(A); return 0; }
static int reset(void **st) { (void)st; lh_arena_reset(A); return 0; }

static void test_normalize(void **st) {
    (void)st;
    char a[] = "/a//b/./c/../d/";
    size_t n = lh_path_normalize(a, strlen(a));
    assert_int_equal(n, 6);
    assert_string_equal(a, "/a/b/d");
    char b[] = "/../../x";
    lh_path_normalize(b, strlen(b));
    assert_string_equal(b, "/x");
    char c[] = "/..";
    lh_path_normalize(c, strlen(c));
    assert_string_equal(c, "/");
    char d[] = "////";
    lh_path_normalize(d, strlen(d));
    assert_string_equal(d, "/");
    char e[] = "/usr/bin/.";
    lh_path_normalize(e, strlen(e));
    assert_string_equal(e, "/usr/bin");
}

static void test_project_and_parents(void **st) {
    (void)st;
    CLASS("build", LH_PATH_PROJECT);
    CLASS("./node_modules", LH_PATH_PROJECT);
    CLASS(CWD "/dist", LH_PATH_PROJECT);
    NORM("src/../dist//x/", CWD "/dist/x");
    lh_path p = cls(".");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    assert_true(p.flags & LH_PF_IS_CWD);
    p = cls("*");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    assert_true(p.flags & LH_PF_IS_CWD);
    assert_true(p.flags & LH_PF_GLOB);
    p = cls("*.log");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    assert_false(p.flags & LH_PF_IS_CWD);
    p = cls("./.*");
    assert_true(p.flags & LH_PF_IS_CWD);
    /* the parent and siblings of the project are outside it */
    CLASS("..", LH_PATH_HOME);
    CLASS("../other-api", LH_PATH_HOME);
    CLASS("../../..", LH_PATH_SYSTEM);        /* /home */
    CLASS("../../../..", LH_PATH_ROOT);
    CLASS("../../../../../../etc", LH_PATH_SYSTEM);
    p = cls("../..");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_IS_HOME);
}

static void test_home(void **st) {
    (void)st;
    lh_path p = cls("~");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_IS_HOME);
    assert_string_equal(p.norm, HOME);
    p = cls("~/");
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls("$HOME");
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls("${HOME}/");
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls("~/*");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls("~/Downloads");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_false(p.flags & LH_PF_IS_HOME);
    NORM("$HOME/x/../y", HOME "/y");
    NORM("/home/$USER/notes", HOME "/notes");
    CLASS("~bob/x", LH_PATH_OTHER);
    CLASS("~root", LH_PATH_SYSTEM);
    CLASS("/home/bob", LH_PATH_OTHER);
    CLASS("/home", LH_PATH_SYSTEM);
    p = cls("~/.bashrc");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_SHELL_STARTUP);
    p = cls("$HOME/.zshrc");
    assert_true(p.flags & LH_PF_SHELL_STARTUP);
}

static void test_home_unknown(void **st) {
    (void)st;
    /* no home given and none to infer from the cwd: "~" keeps its shape */
    lh_path p = cls_in("/srv/app", NULL, "~");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls_in("/srv/app", NULL, "~/.ssh/id_rsa");
    assert_int_equal(p.cls, LH_PATH_SECRET);
    assert_string_equal(p.norm, "~/.ssh/id_rsa");
    p = cls_in("/srv/app", NULL, "$HOME/.aws/credentials");
    assert_int_equal(p.cls, LH_PATH_SECRET);
    p = cls_in("/srv/app", NULL, "~/.bashrc");
    assert_true(p.flags & LH_PF_SHELL_STARTUP);
    p = cls_in("/srv/app", NULL, "~/x/../..");
    assert_int_equal(p.cls, LH_PATH_HOME);
    /* inferred from a cwd under /home/X */
    p = cls_in("/home/dev/code/gw", NULL, "~");
    assert_string_equal(p.norm, "/home/dev");
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls_in("/Users/priya/code/app", NULL, "/Users/priya/Library/Caches");
    assert_int_equal(p.cls, LH_PATH_HOME);
}

static void test_temp(void **st) {
    (void)st;
    CLASS("/tmp", LH_PATH_TEMP);
    CLASS("/tmp/build-1", LH_PATH_TEMP);
    CLASS("/tmp/*", LH_PATH_TEMP);
    CLASS("/var/tmp/x", LH_PATH_TEMP);
    CLASS("/dev/shm/x", LH_PATH_TEMP);
    CLASS("$TMPDIR/x", LH_PATH_TEMP);
    CLASS("${TMPDIR}/x", LH_PATH_TEMP);
    CLASS("$(mktemp -d)", LH_PATH_TEMP);
    CLASS("/private/tmp/x", LH_PATH_TEMP);
    CLASS("/var/folders/ab/T/x", LH_PATH_TEMP);
    /* a project inside /tmp is temp */
    lh_path p = cls_in("/tmp/work", HOME, "build");
    assert_int_equal(p.cls, LH_PATH_TEMP);
}

static void test_secrets(void **st) {
    (void)st;
    CLASS("~/.ssh/id_rsa", LH_PATH_SECRET);
    CLASS("~/.ssh", LH_PATH_SECRET);
    CLASS("~/.ssh/*", LH_PATH_SECRET);
    CLASS("~/.ssh/id_*", LH_PATH_SECRET);
    CLASS("~/.aws/credentials", LH_PATH_SECRET);
    CLASS("$HOME/.aws/config", LH_PATH_SECRET);
    CLASS("~/.gnupg/private-keys-v1.d", LH_PATH_SECRET);
    CLASS("~/.kube/config", LH_PATH_SECRET);
    CLASS("~/.docker/config.json", LH_PATH_SECRET);
    CLASS("~/.netrc", LH_PATH_SECRET);
    CLASS("~/.git-credentials", LH_PATH_SECRET);
    CLASS("~/.config/gcloud/application_default_credentials.json", LH_PATH_SECRET);
    CLASS("~/.pgpass", LH_PATH_SECRET);
    CLASS(".env", LH_PATH_SECRET);
    CLASS(".env.local", LH_PATH_SECRET);
    CLASS(".env.production", LH_PATH_SECRET);
    CLASS("config/.env", LH_PATH_SECRET);
    CLASS(".env*", LH_PATH_SECRET);
    CLASS("certs/server.key", LH_PATH_SECRET);
    CLASS("certs/tls.pem", LH_PATH_SECRET);
    CLASS("deploy/id_ed25519", LH_PATH_SECRET);
    CLASS("/etc/shadow", LH_PATH_SECRET);
    CLASS("/etc/gshadow", LH_PATH_SECRET);
    CLASS("/etc/ssl/private/site.key", LH_PATH_SECRET);
    CLASS("/etc/ssl/private", LH_PATH_SECRET);
    CLASS("/home/bob/.ssh/id_rsa", LH_PATH_SECRET);
    CLASS("/root/.aws/credentials", LH_PATH_SECRET);
    /* look-alikes that are not credentials */
    CLASS(".env.example", LH_PATH_PROJECT);
    CLASS(".env.sample", LH_PATH_PROJECT);
    CLASS(".env.template", LH_PATH_PROJECT);
    CLASS(".env.local.example", LH_PATH_PROJECT);
    CLASS(".env.production.sample", LH_PATH_PROJECT);
    CLASS(".env.local", LH_PATH_SECRET);
    CLASS(".envrc.d", LH_PATH_PROJECT);
    CLASS("~/.ssh/id_ed25519.pub", LH_PATH_HOME);
    CLASS("~/.ssh/known_hosts", LH_PATH_HOME);
    CLASS("/etc/passwd", LH_PATH_SYSTEM);
    CLASS("/etc/hosts", LH_PATH_SYSTEM);
    lh_path p = cls(".env");
    assert_true(p.flags & LH_PF_IN_PROJECT);
    p = cls("~/.ssh/authorized_keys");
    assert_int_equal(p.cls, LH_PATH_SECRET);
    assert_true(p.flags & LH_PF_AUTH_KEYS);
    p = cls("/etc/shadow");
    assert_true(p.flags & LH_PF_AUTH_DB);
}

static void test_system_device_virtual_root(void **st) {
    (void)st;
    CLASS("/", LH_PATH_ROOT);
    CLASS("/*", LH_PATH_ROOT);
    CLASS("/.", LH_PATH_ROOT);
    CLASS("//", LH_PATH_ROOT);
    CLASS("/e*", LH_PATH_ROOT);
    CLASS("/{etc,usr}", LH_PATH_ROOT);
    CLASS("/etc", LH_PATH_SYSTEM);
    CLASS("/etc/*", LH_PATH_SYSTEM);
    CLASS("/usr/local/bin/tool", LH_PATH_SYSTEM);
    CLASS("/var/lib/postgresql", LH_PATH_SYSTEM);
    CLASS("/boot", LH_PATH_SYSTEM);
    CLASS("/opt/app/config.yml", LH_PATH_OTHER);
    CLASS("/opt", LH_PATH_SYSTEM);
    CLASS("/var/www/html/index.php", LH_PATH_OTHER);
    CLASS("/root", LH_PATH_SYSTEM);
    CLASS("/bin/../etc/./passwd", LH_PATH_SYSTEM);
    CLASS("/dev/sda", LH_PATH_DEVICE);
    CLASS("/dev/nvme0n1p1", LH_PATH_DEVICE);
    CLASS("/dev/mapper/root", LH_PATH_DEVICE);
    CLASS("/dev", LH_PATH_DEVICE);
    CLASS("/proc/cpuinfo", LH_PATH_VIRTUAL);
    CLASS("/sys/class/net", LH_PATH_VIRTUAL);
    CLASS("/srv/data", LH_PATH_OTHER);
    CLASS("/mnt/backup", LH_PATH_OTHER);
    static const char *const sinks[] = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty",
                                        "/dev/fd/3", "/dev/zero", "/dev/urandom"};
    for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++) {
        lh_path p = cls(sinks[i]);
        if (p.cls == LH_PATH_DEVICE || !(p.flags & LH_PF_DEV_NULL))
            fail_msg("%s should be a data sink, not a device", sinks[i]);
    }
    lh_path p = cls("/dev/tcp/10.0.0.1/4444");
    assert_true(p.flags & LH_PF_NET_DEV);
    assert_int_not_equal(p.cls, LH_PATH_DEVICE);
    p = cls("/etc/sudoers.d/agent");
    assert_true(p.flags & LH_PF_AUTH_DB);
    p = cls("/etc/cron.d/job");
    assert_true(p.flags & LH_PF_CRON);
    p = cls("/var/spool/cron/crontabs/root");
    assert_true(p.flags & LH_PF_CRON);
    p = cls("/etc/profile.d/x.sh");
    assert_true(p.flags & LH_PF_SHELL_STARTUP);
}

static void test_git_flags(void **st) {
    (void)st;
    lh_path p = cls(".git/hooks/pre-commit");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    assert_true(p.flags & LH_PF_GIT_HOOKS);
    assert_true(p.flags & LH_PF_GIT_DIR);
    p = cls(".git");
    assert_true(p.flags & LH_PF_GIT_DIR);
    assert_false(p.flags & LH_PF_GIT_HOOKS);
    p = cls(".github/workflows/ci.yml");
    assert_false(p.flags & LH_PF_GIT_DIR);
    p = cls(".gitignore");
    assert_false(p.flags & LH_PF_GIT_DIR);
}

static void test_dynamic(void **st) {
    (void)st;
    lh_path p = cls("$DIR");
    assert_int_equal(p.cls, LH_PATH_UNKNOWN);
    assert_true(p.flags & LH_PF_DYNAMIC);
    p = cls("${BUILD_DIR}/");
    assert_int_equal(p.cls, LH_PATH_UNKNOWN);
    p = cls("$(cat list)");
    assert_int_equal(p.cls, LH_PATH_UNKNOWN);
    /* a run-time value under a known directory is classified by that directory */
    p = cls("/tmp/$x");
    assert_int_equal(p.cls, LH_PATH_TEMP);
    assert_true(p.flags & LH_PF_DYNAMIC);
    p = cls("/$x");
    assert_int_equal(p.cls, LH_PATH_ROOT);
    p = cls("~/$x");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls("./build-$x");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    assert_false(p.flags & LH_PF_IS_CWD);
    p = cls("$PWD/dist");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    p = cls("$(pwd)");
    assert_true(p.flags & LH_PF_IS_CWD);
    p = cls("`pwd`/x");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    p = cls("${HOME:?}/.ssh");
    assert_int_equal(p.cls, LH_PATH_SECRET);
    p = cls("${HOME:-/tmp}");
    assert_int_equal(p.cls, LH_PATH_UNKNOWN);
}

static void test_cwd_is_project(void **st) {
    (void)st;
    assert_false(lh_path_cwd_is_project("/", HOME));
    assert_false(lh_path_cwd_is_project(HOME, HOME));
    assert_false(lh_path_cwd_is_project(HOME "/", HOME));
    assert_false(lh_path_cwd_is_project("/home", HOME));
    assert_false(lh_path_cwd_is_project("/home/alex", NULL));
    assert_false(lh_path_cwd_is_project("/etc", HOME));
    assert_false(lh_path_cwd_is_project("/etc/nginx", HOME));
    assert_false(lh_path_cwd_is_project("/usr/bin", HOME));
    assert_false(lh_path_cwd_is_project("/var/lib/docker", HOME));
    assert_false(lh_path_cwd_is_project("/opt", HOME));
    assert_true(lh_path_cwd_is_project(CWD, HOME));
    assert_true(lh_path_cwd_is_project("/srv/builds/web", "/home/builder"));
    assert_true(lh_path_cwd_is_project("/var/www/app", HOME));
    assert_true(lh_path_cwd_is_project("/opt/app", HOME));
    assert_true(lh_path_cwd_is_project("/usr/src/app", NULL));
    assert_true(lh_path_cwd_is_project("/app", NULL));
    /* with cwd "/" or home, nothing is "the project" */
    lh_path p = cls_in("/", HOME, "*");
    assert_int_equal(p.cls, LH_PATH_ROOT);
    p = cls_in(HOME, HOME, ".");
    assert_int_equal(p.cls, LH_PATH_HOME);
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls_in(HOME, HOME, "*");
    assert_true(p.flags & LH_PF_IS_HOME);
    p = cls_in("/etc", HOME, "nginx");
    assert_int_equal(p.cls, LH_PATH_SYSTEM);
    /* a project in /var/www stays a project */
    p = cls_in("/var/www/app", HOME, "cache");
    assert_int_equal(p.cls, LH_PATH_PROJECT);
    assert_string_equal(p.norm, "/var/www/app/cache");
}

static void test_bounds(void **st) {
    (void)st;
    lh_path p = cls("");
    assert_int_equal(p.cls, LH_PATH_UNKNOWN);
    char *big = malloc(10000);
    memset(big, 'a', 9999);
    big[0] = '/';
    big[9999] = 0;
    p = cls(big);
    assert_int_equal(p.cls, LH_PATH_UNKNOWN);
    free(big);
    /* many .. never climb above / */
    char dots[3000] = "/tmp";
    for (int i = 0; i < 900; i++) strcat(dots, "/..");
    p = cls(dots);
    assert_int_equal(p.cls, LH_PATH_ROOT);
}

static void test_names(void **st) {
    (void)st;
    for (int k = 0; k < LH_PATH__COUNT; k++) {
        lh_path_class c;
        assert_int_equal(lh_path_class_parse(lh_path_class_name((lh_path_class)k), &c), 0);
        assert_int_equal(c, k);
    }
    lh_path_class c;
    assert_int_equal(lh_path_class_parse("nope", &c), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_normalize, reset),
        cmocka_unit_test_setup(test_project_and_parents, reset),
        cmocka_unit_test_setup(test_home, reset),
        cmocka_unit_test_setup(test_home_unknown, reset),
        cmocka_unit_test_setup(test_temp, reset),
        cmocka_unit_test_setup(test_secrets, reset),
        cmocka_unit_test_setup(test_system_device_virtual_root, reset),
        cmocka_unit_test_setup(test_git_flags, reset),
        cmocka_unit_test_setup(test_dynamic, reset),
        cmocka_unit_test_setup(test_cwd_is_project, reset),
        cmocka_unit_test_setup(test_bounds, reset),
        cmocka_unit_test_setup(test_names, reset),
    };
    return cmocka_run_group_tests_name("paths", tests, setup, teardown);
}
