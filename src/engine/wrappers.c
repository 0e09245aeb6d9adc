/* wrappers.c — the wrapper option table and its one option reader; see wrappers.h. */
#include "engine/wrappers.h"

#include <string.h>

/* ------------------------------------------------------------------------------ */
/* The table                                                                       */
/* ------------------------------------------------------------------------------ */

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Sorted by name (strcmp order): lh_wrapper_find() searches it by bisection, and
 * test_wrappers.c finds every entry. */
static const lh_wrapper kWrappers[] = {
    {"abduco", "e", NULL, 1, 0, NULL, NULL, NULL},   /* -n|-c|-A SESSION CMD */
    {"asdf", "", NULL, 0, LH_WR_SUBCMD, "exec", NULL, NULL},
    {"aws-vault", "dt", L("--duration", "--region", "--mfa-token", "--prompt"), 1, LH_WR_SUBCMD,
     "exec", NULL, NULL},
    {"builtin", "", NULL, 0, 0, NULL, NULL, NULL},
    {"bun", "", NULL, 0, LH_WR_SUBCMD, "x", NULL, NULL},
    {"bundle", "", L("--gemfile"), 0, LH_WR_SUBCMD, "exec", NULL, NULL},
    {"bunx", "p", L("--package"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"busybox", "", NULL, 0, 0, NULL, NULL, NULL},
    {"caffeinate", "tw", NULL, 0, 0, NULL, NULL, NULL},
    {"catchsegv", "", NULL, 0, 0, NULL, NULL, NULL},
    {"cgexec", "g", NULL, 0, 0, NULL, NULL, NULL},
    {"chpst", "uUbeL/nlm", NULL, 0, 0, NULL, NULL, NULL},
    {"chronic", "", NULL, 0, 0, NULL, NULL, NULL},
    {"chroot", "", L("--userspec", "--groups"), 1, LH_WR_PRIV, NULL, NULL, L("--version", "--help")},
    {"chrt", "TPD", L("--sched-runtime", "--sched-period", "--sched-deadline"), 1, 0, NULL, "p",
     L("--pid")},
    {"command", "", NULL, 0, 0, NULL, "vV", NULL},
    {"conda", "np", L("--name", "--prefix", "--cwd"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"coproc", "", NULL, 0, 0, NULL, NULL, NULL},
    {"cpulimit", "lpe", L("--limit", "--pid", "--exe"), 0, 0, NULL, "pe", L("--pid", "--exe")},
    {"daemonize", "ceoplEu", NULL, 0, 0, NULL, NULL, NULL},
    {"dbus-launch", "", L("--config-file", "--autolaunch"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"dbus-run-session", "", L("--config-file", "--dbus-daemon"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"direnv", "", NULL, 1, LH_WR_SUBCMD, "exec", NULL, NULL},
    {"distrobox", "n", L("--name", "--additional-flags"), 0, LH_WR_SUBCMD, "enter", NULL, NULL},
    {"doas", "uC", NULL, 0, LH_WR_PRIV, NULL, NULL, NULL},
    {"doppler", "pc", L("--project", "--config", "--token", "--scope", "--mount"), 0, LH_WR_SUBCMD,
     "run", NULL, NULL},
    {"dotenv", "evcp", NULL, 0, 0, NULL, NULL, NULL},
    {"dtach", "er", NULL, 1, 0, NULL, NULL, NULL},   /* -n|-c|-A SOCKET CMD: the letter is a mode */
    {"dumb-init", "r", L("--rewrite"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"eatmydata", "", NULL, 0, 0, NULL, NULL, NULL},
    {"env", "uCP", L("--unset", "--chdir", "--split-string"), 0, LH_WR_ASSIGN, NULL, NULL,
     L("--version", "--help")},
    {"exec", "a", NULL, 0, 0, NULL, NULL, NULL},
    {"fakechroot", "lsdbe", L("--lib", "--use-system-libs", "--environment", "--config-dir", "--bindir"), 0,
     0, NULL, NULL, L("--version", "--help")},
    {"fakeroot", "lsi", L("--lib", "--faked"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"faketime", "f", NULL, 1, 0, NULL, NULL, L("--version", "--help")},
    {"firejail", "", NULL, 0, 0, NULL, NULL, L("--version", "--help", "--list", "--tree")},
    {"flatpak-spawn", "", NULL, 0, 0, NULL, NULL, L("--version", "--help")},
    {"flock", "wE", L("--timeout", "--conflict-exit-code"), 1, 0, NULL, NULL, NULL},
    {"gosu", "", NULL, 1, 0, NULL, NULL, L("--version", "--help")},  /* steps down from root */
    {"hatch", "e", L("--env"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"ionice", "cnpPu", L("--class", "--classdata", "--pid", "--pgid", "--uid"), 0, 0, NULL, "pPu",
     L("--pid", "--pgid", "--uid")},
    {"ld-linux-aarch64.so.1", "", L("--preload", "--library-path", "--audit", "--argv0", "--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"), 0, 0, NULL, NULL, L("--list", "--verify", "--help", "--version", "--list-diagnostics", "--list-tunables")},
    {"ld-linux-x86-64.so.2", "", L("--preload", "--library-path", "--audit", "--argv0", "--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"), 0, 0, NULL, NULL, L("--list", "--verify", "--help", "--version", "--list-diagnostics", "--list-tunables")},
    {"ld-linux.so.2", "", L("--preload", "--library-path", "--audit", "--argv0", "--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"), 0, 0, NULL, NULL, L("--list", "--verify", "--help", "--version", "--list-diagnostics", "--list-tunables")},
    {"ld-musl-x86_64.so.1", "", L("--preload", "--library-path", "--audit", "--argv0", "--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"), 0, 0, NULL, NULL, L("--list", "--verify", "--help", "--version", "--list-diagnostics", "--list-tunables")},
    {"ld.so", "", L("--preload", "--library-path", "--audit", "--argv0", "--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"), 0, 0, NULL, NULL, L("--list", "--verify", "--help", "--version", "--list-diagnostics", "--list-tunables")},
    {"ltrace", "aAeFlnopsuwxD", L("--output", "--align", "--config", "--indent", "--library"), 0, 0,
     NULL, NULL, L("--version", "--help")},
    {"machinectl", "MHE", L("--machine", "--host", "--setenv", "--uid"), 1, LH_WR_SUBCMD, "shell",
     NULL, NULL},
    {"mamba", "np", L("--name", "--prefix", "--cwd"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"micromamba", "np", L("--name", "--prefix", "--cwd"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"mise", "Cj", L("--cd", "--jobs"), 0, LH_WR_SUBCMD, "exec|x", NULL, NULL},
    {"nice", "n", L("--adjustment"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"nocorrect", "", NULL, 0, 0, NULL, NULL, NULL},
    {"nodenv", "", NULL, 0, LH_WR_SUBCMD, "exec", NULL, NULL},
    {"noglob", "", NULL, 0, 0, NULL, NULL, NULL},
    {"nohup", "", NULL, 0, 0, NULL, NULL, NULL},
    /* npm exec -c CMD, npx -c CMD: a shell string (runners.c), so -c takes a value here */
    {"npm", "wc", L("--workspace", "--package", "--prefix", "--call"), 0, LH_WR_SUBCMD, "exec|x", NULL, NULL},
    {"npx", "pcw", L("--package", "--call", "--workspace", "--prefix", "--registry", "--cache",
                     "--userconfig"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"nsenter", "tSG", L("--target", "--setuid", "--setgid"), 0, 0, NULL, NULL,
     L("--version", "--help")},
    {"numactl", "NmCpiP", L("--cpunodebind", "--membind", "--physcpubind", "--preferred",
                            "--interleave"), 0, 0, NULL, NULL, NULL},
    {"op", "", L("--env-file", "--account"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"pdm", "p", L("--project", "--venv"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"pipenv", "", NULL, 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"pkexec", "", L("--user"), 0, LH_WR_PRIV, NULL, NULL, L("--version", "--help")},
    {"pnpm", "C", L("--dir", "--filter", "--package"), 0, LH_WR_SUBCMD, "exec|dlx", NULL, NULL},
    {"pnpx", "", L("--package"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"poetry", "CP", L("--directory", "--project"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"prlimit", "p", L("--pid"), 0, 0, NULL, "p", L("--pid", "--version", "--help")},
    {"proot", "rbmwqkvi", L("--rootfs", "--bind", "--mount", "--cwd", "--qemu", "--kernel-release", "--verbose"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"proxychains", "f", NULL, 0, 0, NULL, NULL, NULL},
    {"proxychains4", "f", NULL, 0, 0, NULL, NULL, NULL},
    {"pyenv", "", NULL, 0, LH_WR_SUBCMD, "exec", NULL, NULL},
    {"rbenv", "", NULL, 0, LH_WR_SUBCMD, "exec", NULL, NULL},
    {"rlwrap", "bCDefFgHlMOpPqsStwz", NULL, 0, 0, NULL, NULL, L("--version", "--help")},
    {"run0", "ugD", L("--user", "--group", "--chdir", "--unit", "--property", "--description",
                      "--slice", "--nice", "--setenv", "--background", "--machine"),
     0, LH_WR_PRIV, NULL, NULL, L("--version", "--help")},
    {"runuser", "ugGw", L("--user", "--group", "--supp-group", "--whitelist-environment"), 0,
     LH_WR_PRIV, NULL, NULL, NULL},
    {"rye", "", L("--pyproject"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"s6-setuidgid", "", NULL, 1, 0, NULL, NULL, NULL},
    {"sem", "j", L("--jobs", "--id", "--semaphore-timeout", "--st", "--semaphorename",
                   "--timeout"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"setpriv", "", L("--reuid", "--regid", "--groups", "--inh-caps", "--ambient-caps",
                      "--bounding-set", "--securebits", "--pdeathsig", "--selinux-label",
                      "--apparmor-profile", "--landlock-access", "--landlock-rule",
                      "--seccomp-filter"), 0, 0, NULL, NULL, L("--dump", "--version", "--help")},
    {"setsid", "", NULL, 0, 0, NULL, NULL, NULL},
    {"setuidgid", "", NULL, 1, 0, NULL, NULL, NULL},
    {"ssh-agent", "aEPt", NULL, 0, 0, NULL, "k", NULL},
    {"sshpass", "pfdP", NULL, 0, 0, NULL, NULL, L("--help")},
    {"stdbuf", "ioe", L("--input", "--output", "--error"), 0, 0, NULL, NULL, L("--version", "--help")},
    {"strace", "eopsSEuIabXPOU", L("--output", "--attach", "--user", "--string-limit", "--summary-sort-by",
                                "--env", "--columns", "--detach-on", "--trace-path", "--const-print-style",
                                "--trace", "--signal", "--status", "--inject", "--fault", "--abbrev",
                                "--summary-columns", "--verbose", "--raw", "--read", "--write"),
     0, 0, NULL, NULL, L("--version", "--help")},
    {"su-exec", "", NULL, 1, 0, NULL, NULL, NULL},
    {"sudo", "ugpChDrtUTcR",
     L("--user", "--group", "--prompt", "--close-from", "--host", "--chdir", "--role", "--type",
       "--other-user", "--command-timeout", "--chroot"),
     0, LH_WR_PRIV, NULL, NULL, NULL},
    {"systemd-run", "upEMH",
     L("--unit", "--property", "--description", "--slice", "--uid", "--gid", "--nice",
       "--working-directory", "--setenv", "--machine", "--host", "--on-active", "--on-boot",
       "--on-startup", "--on-unit-active", "--on-unit-inactive", "--on-calendar",
       "--timer-property", "--path-property", "--socket-property", "--service-type"),
     0, 0, NULL, NULL, L("--version", "--help")},
    {"taskset", "", NULL, 1, 0, NULL, "p", L("--pid")},
    {"time", "fo", L("--format", "--output"), 0, 0, NULL, NULL, NULL},
    {"timeout", "sk", L("--signal", "--kill-after"), 1, 0, NULL, NULL, L("--version", "--help")},
    {"tini", "pe", NULL, 0, 0, NULL, NULL, NULL},
    {"toolbox", "cdr", L("--container", "--distro", "--release"), 0, LH_WR_SUBCMD, "run", NULL, NULL},
    {"torsocks", "uaP", NULL, 0, 0, NULL, NULL, NULL},
    {"toybox", "", NULL, 0, 0, NULL, NULL, NULL},
    {"trickle", "udwtln", NULL, 0, 0, NULL, NULL, NULL},
    {"tsocks", "", NULL, 0, 0, NULL, NULL, NULL},
    {"unbuffer", "", NULL, 0, 0, NULL, NULL, NULL},
    {"unshare", "SGRw", L("--propagation", "--setgroups", "--map-user", "--map-group",
                          "--map-users", "--map-groups", "--setuid", "--setgid", "--root", "--wd"),
     0, 0, NULL, NULL, L("--version", "--help")},
    {"uv", "p", L("--with", "--with-editable", "--with-requirements", "--python", "--package",
                  "--extra", "--group", "--only-group", "--no-group", "--env-file", "--directory",
                  "--project", "--index", "--default-index", "--index-url", "--extra-index-url",
                  "--find-links", "--config-file", "--cache-dir", "--color"), 0, LH_WR_SUBCMD,
     "run", NULL, NULL},
    {"valgrind", "", NULL, 0, 0, NULL, NULL, L("--version", "--help")},
    {"xvfb-run", "efnpsw", L("--error-file", "--auth-file", "--server-num", "--xauth-protocol",
                             "--server-args", "--wait"), 0, 0, NULL, NULL, L("--help")},
    {"yarn", "p", L("--cwd", "--package"), 0, LH_WR_SUBCMD, "exec|dlx", NULL, NULL},
};

#undef L

const lh_wrapper *lh_wrapper_find(const char *prog) {
    size_t lo = 0, hi = sizeof(kWrappers) / sizeof(kWrappers[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(prog, kWrappers[mid].name);
        if (r == 0) return &kWrappers[mid];
        if (r < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

size_t lh_wrapper_count(void) { return sizeof(kWrappers) / sizeof(kWrappers[0]); }

const lh_wrapper *lh_wrapper_at(size_t i) {
    return i < lh_wrapper_count() ? &kWrappers[i] : NULL;
}

/* ------------------------------------------------------------------------------ */
/* The option reader                                                               */
/* ------------------------------------------------------------------------------ */

static int inList(const char *s, const char *const *list) {
    if (!list) return 0;
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

/* "--user=root" matches "--user" */
static int longName(const char *a, const char *name) {
    size_t n = strlen(name);
    return !strncmp(a, name, n) && (a[n] == 0 || a[n] == '=');
}

typedef struct {
    const char *short_val;
    const char *const *long_val;
    const char *none;
    const char *const *long_none;
    char want;              /* option whose value is wanted, or 0 */
    const char *want_long;  /* or NULL */
    const char *value;      /* out */
    int runs_nothing;       /* out */
} optRead;

/* Read options from argv[i]; returns the index of the first operand (after "--"). */
static int readOptions(const lh_word *argv, int argc, int i, optRead *r) {
    while (i < argc) {
        const char *a = argv[i].s;
        if (!strcmp(a, "--")) return i + 1;
        if (a[0] != '-' || a[1] == 0) return i;
        if (a[1] == '-') {
            char name[64];
            size_t n = strcspn(a, "=");
            if (n >= sizeof(name)) n = sizeof(name) - 1;
            memcpy(name, a, n);
            name[n] = 0;
            if (inList(name, r->long_none)) r->runs_nothing = 1;
            int takes = !a[n] && inList(name, r->long_val);
            const char *v = a[n] == '=' ? a + n + 1 : (takes && i + 1 < argc ? argv[i + 1].s : NULL);
            if (r->want_long && longName(a, r->want_long) && !r->value) r->value = v;
            i += 1 + takes;
            continue;
        }
        /* a cluster of short options: the first that takes a value consumes the rest of
         * the cluster, or the next word when it ends the cluster */
        int next = 0;
        for (const char *o = a + 1; *o; o++) {
            if (r->none && strchr(r->none, *o)) r->runs_nothing = 1;
            if (r->short_val && strchr(r->short_val, *o)) {
                const char *v = o[1] ? o + 1 : (i + 1 < argc ? argv[i + 1].s : NULL);
                if (r->want == *o && !r->value) r->value = v;
                next = o[1] == 0;
                break;
            }
        }
        i += 1 + next;
    }
    return i < argc ? i : argc;
}

int lh_skip_options(const lh_word *argv, int argc, int from, const char *short_val,
                    const char *const *long_val) {
    optRead r = {short_val, long_val, NULL, NULL, 0, NULL, NULL, 0};
    return readOptions(argv, argc, from, &r);
}

const char *lh_option_value(const lh_word *argv, int argc, int from, const char *short_val,
                            const char *const *long_val, char opt, const char *lopt) {
    optRead r = {short_val, long_val, NULL, NULL, opt, lopt, NULL, 0};
    readOptions(argv, argc, from, &r);
    return r.value;
}

static int isAssignWord(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_') s++;
    if (s[0] == '%' && s[1] == '%') s += 2;   /* BASH_FUNC_name%%=() {…}: an exported function */
    return *s == '=';
}

/* word is one of the '|'-separated names in subs ("exec|x") */
static int isSubcommand(const char *word, const char *subs) {
    size_t n = strlen(word);
    for (const char *p = subs; *p;) {
        size_t m = strcspn(p, "|");
        if (m == n && !strncmp(p, word, n)) return 1;
        p += m + (p[m] == '|');
    }
    return 0;
}

int lh_wrapper_skip(const lh_wrapper *w, const lh_word *argv, int argc, int from) {
    int i = from;
    if (w->flags & LH_WR_SUBCMD) {
        optRead pre = {w->short_val, w->long_val, NULL, NULL, 0, NULL, NULL, 0};
        i = readOptions(argv, argc, i, &pre);
        if (i >= argc || !isSubcommand(argv[i].s, w->sub)) return -1;
        i++;
    }
    optRead r = {w->short_val, w->long_val, w->none, w->long_none, 0, NULL, NULL, 0};
    for (;;) {
        int dashdash = i < argc && !strcmp(argv[i].s, "--");
        i = readOptions(argv, argc, i, &r);
        /* env mixes NAME=VALUE words, options and a lone `-` (as -i): FOO=1 - -u X BAR=2 cmd */
        if (dashdash || !(w->flags & LH_WR_ASSIGN) || i >= argc) break;
        if (!strcmp(argv[i].s, "-")) { i++; continue; }
        if (!isAssignWord(argv[i].s)) break;
        while (i < argc && isAssignWord(argv[i].s)) i++;
    }
    if (r.runs_nothing) return -1;
    i += w->positional;
    if (w->positional && i < argc && !strcmp(argv[i].s, "--")) i++;   /* aws-vault exec P -- */
    return i < argc ? i : argc;
}
