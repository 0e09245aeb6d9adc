/* paths.c — normalising and classifying path words without touching the filesystem.
 *
 * A path word is first expanded (~, $HOME, ${HOME}, $PWD, $(pwd), $TMPDIR, $(mktemp)),
 * made absolute against the cwd and normalised (., .., //). What cannot be resolved
 * ($x, $(cmd)) is cut off and treated like a glob, so "/tmp/$x" is "something under
 * /tmp" and "$x" alone is unknown. A glob is classified by the directory it starts
 * in; a glob that can match every entry of a directory ("*", ".*", "$x") carries the
 * directory's IS_HOME/IS_CWD facts, because deleting it empties that directory.
 *
 * When home is unknown it is inferred from a cwd under /home/X, /Users/X or /root;
 * failing that, "~" paths keep their shape ("~/.ssh/id_rsa") and are classified by
 * what follows the "~". See paths.h for the classes. */
#include "engine/paths.h"

#include <string.h>

#include "engine/analyze.h"
#include "engine/engine.h"

#define PATH_CAP LH_MAX_PATH_BYTES

/* ------------------------------------------------------------------------------ */
/* Small string helpers                                                            */
/* ------------------------------------------------------------------------------ */

typedef struct pbuf {
    char s[PATH_CAP + 1];
    size_t n;
    int over;              /* the text did not fit */
} pbuf;

static void bufPut(pbuf *b, const char *s, size_t n) {
    if (b->n + n > PATH_CAP) { b->over = 1; n = PATH_CAP - b->n; }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void bufPutc(pbuf *b, char c) { bufPut(b, &c, 1); }

static int isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

/* s[0..n) equals the NUL-terminated lit. */
static int eqLit(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    return n == l && !memcmp(s, lit, l);
}

/* s[0..n) is pre or lies under it (pre has no trailing slash; "/" is everything). */
static int isUnder(const char *s, size_t n, const char *pre, size_t pn) {
    if (pn == 1 && pre[0] == '/') return n >= 1 && s[0] == '/';
    if (n < pn || memcmp(s, pre, pn)) return 0;
    return n == pn || s[pn] == '/';
}

static int isUnderLit(const char *s, size_t n, const char *lit) { return isUnder(s, n, lit, strlen(lit)); }

/* Text after the last '/'. */
static const char *baseOf(const char *s, size_t n, size_t *bn) {
    size_t i = n;
    while (i > 0 && s[i - 1] != '/') i--;
    *bn = n - i;
    return s + i;
}

static int endsWith(const char *s, size_t n, const char *suf) {
    size_t l = strlen(suf);
    return n >= l && !memcmp(s + n - l, suf, l);
}

static int startsWith(const char *s, size_t n, const char *pre) {
    size_t l = strlen(pre);
    return n >= l && !memcmp(s, pre, l);
}

/* ------------------------------------------------------------------------------ */
/* Normalisation                                                                   */
/* ------------------------------------------------------------------------------ */

/* Fold //, /./ and /../ of an absolute path in place; ".." never climbs above "/".
 * The result is never longer than the input; it is NUL-terminated when shorter (pass
 * a NUL-terminated buffer to always get a C string). Returns the new length. */
size_t lh_path_normalize(char *path, size_t len) {
    if (len == 0) return 0;
    size_t o = 1, i = 0;
    path[0] = '/';
    while (i < len) {
        while (i < len && path[i] == '/') i++;
        size_t st = i;
        while (i < len && path[i] != '/') i++;
        size_t n = i - st;
        if (n == 0) break;
        if (n == 1 && path[st] == '.') continue;
        if (n == 2 && path[st] == '.' && path[st + 1] == '.') {
            while (o > 1 && path[o - 1] != '/') o--;
            if (o > 1) o--;
            continue;
        }
        if (o > 1) path[o++] = '/';
        memmove(path + o, path + st, n);
        o += n;
    }
    if (o < len) path[o] = 0;
    return o;
}

/* ------------------------------------------------------------------------------ */
/* Context                                                                         */
/* ------------------------------------------------------------------------------ */

typedef struct pctx {
    const char *cwd;
    size_t cn;
    const char *home;      /* "~" when unknown */
    size_t hn;
    int home_known;
    int proj;              /* the cwd may count as a project */
} pctx;

/* A home dir guessed from a cwd under /home/X, /Users/X or /root; 0 if none. */
static size_t inferHome(const char *cwd, size_t cn) {
    static const char *const roots[] = {"/home/", "/Users/"};
    for (size_t r = 0; r < 2; r++) {
        size_t rl = strlen(roots[r]);
        if (cn > rl && !memcmp(cwd, roots[r], rl)) {
            size_t e = rl;
            while (e < cn && cwd[e] != '/') e++;
            return e;
        }
    }
    if (isUnderLit(cwd, cn, "/root")) return 5;
    return 0;
}

static void initCtx(pctx *p, const char *cwd, const char *home) {
    p->cwd = (cwd && cwd[0] == '/') ? cwd : "/";
    p->cn = strlen(p->cwd);
    while (p->cn > 1 && p->cwd[p->cn - 1] == '/') p->cn--;
    if (home && home[0] == '/') {
        p->home = home;
        p->hn = strlen(home);
        while (p->hn > 1 && home[p->hn - 1] == '/') p->hn--;
        p->home_known = 1;
    } else if ((p->hn = inferHome(p->cwd, p->cn)) != 0) {
        p->home = p->cwd;
        p->home_known = 1;
    } else {
        p->home = "~";
        p->hn = 1;
        p->home_known = 0;
    }
}

/* ------------------------------------------------------------------------------ */
/* Expansion                                                                       */
/* ------------------------------------------------------------------------------ */

/* Append the value of a well-known variable; 0 when it is not one we can know. */
static int putVar(const pctx *p, pbuf *b, const char *name, size_t nl, int at_start) {
    if (eqLit(name, nl, "HOME")) {
        if (!p->home_known && !at_start) return 0;
        bufPut(b, p->home, p->hn);
        return 1;
    }
    if (eqLit(name, nl, "PWD")) { bufPut(b, p->cwd, p->cn); return 1; }
    if (eqLit(name, nl, "TMPDIR") || eqLit(name, nl, "TMP") || eqLit(name, nl, "TEMP") ||
        eqLit(name, nl, "RUNNER_TEMP")) {
        bufPut(b, "/tmp", 4);
        return 1;
    }
    if (!p->home_known) return 0;
    if (eqLit(name, nl, "USER") || eqLit(name, nl, "LOGNAME")) {
        size_t bn;
        const char *base = baseOf(p->home, p->hn, &bn);
        bufPut(b, base, bn);
        return 1;
    }
    static const struct { const char *var, *sub; } xdg[] = {
        {"XDG_CACHE_HOME", "/.cache"}, {"XDG_CONFIG_HOME", "/.config"},
        {"XDG_DATA_HOME", "/.local/share"}, {"XDG_STATE_HOME", "/.local/state"},
    };
    for (size_t k = 0; k < sizeof(xdg) / sizeof(xdg[0]); k++)
        if (eqLit(name, nl, xdg[k].var)) {
            bufPut(b, p->home, p->hn);
            bufPut(b, xdg[k].sub, strlen(xdg[k].sub));
            return 1;
        }
    return 0;
}

/* At w[i] == '$' or '`': expand a form we understand into b and return the number of
 * bytes consumed, or 0 when the value is only known at run time. */
static size_t expandOne(const pctx *p, pbuf *b, const char *w, size_t len, size_t i) {
    const char *s = w + i;
    size_t rem = len - i;
    int at_start = b->n == 0;
    if (s[0] == '`') {
        const char *end = memchr(s + 1, '`', rem - 1);
        if (!end) return 0;
        size_t inner = (size_t)(end - s - 1);
        if (eqLit(s + 1, inner, "pwd")) { bufPut(b, p->cwd, p->cn); return inner + 2; }
        if (startsWith(s + 1, inner, "mktemp")) { bufPut(b, "/tmp/tmp.mktemp", 15); return inner + 2; }
        return 0;
    }
    if (rem < 2) return 0;
    if (s[1] == '(') {
        if (rem >= 3 && s[2] == '(') return 0;           /* $(( … )) */
        int d = 0;
        size_t e = 1;
        for (; e < rem; e++) {
            if (s[e] == '(') d++;
            else if (s[e] == ')' && --d == 0) break;
        }
        if (e >= rem) return 0;
        const char *in = s + 2;
        size_t inner = e - 2;
        if (eqLit(in, inner, "pwd") || eqLit(in, inner, "pwd -P") || eqLit(in, inner, "pwd -L")) {
            bufPut(b, p->cwd, p->cn);
            return e + 1;
        }
        if (startsWith(in, inner, "mktemp")) { bufPut(b, "/tmp/tmp.mktemp", 15); return e + 1; }
        return 0;
    }
    if (s[1] == '{') {
        size_t k = 2;
        while (k < rem && isNameChar(s[k])) k++;
        if (k == 2 || k >= rem) return 0;
        size_t close = k;
        /* ${NAME}, ${NAME:?msg}, ${NAME?msg}: the value itself */
        if (s[k] == ':' && k + 1 < rem && s[k + 1] == '?') close = k + 1;
        if (s[close] == '?') while (close < rem && s[close] != '}') close++;
        if (close >= rem || s[close] != '}') return 0;
        if (!putVar(p, b, s + 2, k - 2, at_start)) return 0;
        return close + 1;
    }
    if (isNameStart(s[1])) {
        size_t k = 1;
        while (k < rem && isNameChar(s[k])) k++;
        if (!putVar(p, b, s + 1, k - 1, at_start)) return 0;
        return k;
    }
    return 0;
}

/* Expand word into b. Returns 1 when everything was resolved, 0 when an expansion
 * was cut off (b then holds the static prefix). */
static int expandWord(const pctx *p, const char *w, size_t len, pbuf *b) {
    size_t i = 0;
    if (len > 0 && w[0] == '~') {
        size_t e = 1;
        while (e < len && w[e] != '/') e++;
        if (e == 1) bufPut(b, p->home, p->hn);
        else if (eqLit(w + 1, e - 1, "root")) bufPut(b, "/root", 5);
        else {
            size_t bn;
            const char *base = baseOf(p->home, p->hn, &bn);
            if (p->home_known && bn == e - 1 && !memcmp(base, w + 1, bn)) bufPut(b, p->home, p->hn);
            else { bufPut(b, "/home/", 6); bufPut(b, w + 1, e - 1); }
        }
        i = e;
    }
    while (i < len) {
        char ch = w[i];
        if (ch == '$' || ch == '`') {
            size_t used = expandOne(p, b, w, len, i);
            if (!used) return 0;
            i += used;
            continue;
        }
        size_t j = i + 1;   /* the literal run up to the next expansion, in one copy */
        while (j < len && w[j] != '$' && w[j] != '`') j++;
        bufPut(b, w + i, j - i);
        i = j;
    }
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Pattern tables                                                                  */
/* ------------------------------------------------------------------------------ */

/* A path literal with its length. */
typedef struct plit {
    const char *s;
    size_t n;
} plit;
#define L(x) {x, sizeof(x) - 1}

/* Relative to a home dir: credentials. A trailing '/' in the table is implied (the
 * entry matches itself and what is under it). */
static const plit kHomeSecrets[] = {
    L("/.ssh"), L("/.aws"), L("/.gnupg"), L("/.config/gcloud"), L("/.azure"), L("/.password-store"),
    L("/.local/share/keyrings"), L("/.config/gh/hosts.yml"), L("/.kube/config"), L("/.docker/config.json"),
    L("/.netrc"), L("/.git-credentials"), L("/.pgpass"), L("/.npmrc"), L("/.pypirc"), L("/.vault-token"),
    L("/.my.cnf"), L("/.mylogin.cnf"), L("/.cargo/credentials"), L("/.cargo/credentials.toml"),
    L("/.terraform.d/credentials.tfrc.json"), L("/.gem/credentials"), L("/.boto"), L("/.s3cfg"),
    L("/.config/rclone/rclone.conf"), L("/.config/hub"), L("/.dockercfg"), L("/.oci/config"),
    L("/.config/doctl/config.yaml"), L("/.fly/config.yml"), L("/.netlify/config.json"),
};

/* Relative to a home dir: read by every new shell. */
static const plit kHomeStartup[] = {
    L("/.bashrc"), L("/.bash_profile"), L("/.bash_login"), L("/.bash_logout"), L("/.bash_aliases"),
    L("/.profile"), L("/.zshrc"), L("/.zshenv"), L("/.zprofile"), L("/.zlogin"), L("/.zlogout"), L("/.kshrc"),
    L("/.mkshrc"), L("/.cshrc"), L("/.tcshrc"), L("/.login"), L("/.logout"), L("/.config/fish/config.fish"),
    L("/.config/fish/conf.d"), L("/.xprofile"), L("/.xinitrc"), L("/.xsessionrc"), L("/.pam_environment"),
    L("/.config/environment.d"), L("/.oh-my-zsh/custom"),
};

static const plit kSysSecrets[] = {
    L("/etc/shadow"), L("/etc/shadow-"), L("/etc/gshadow"), L("/etc/gshadow-"), L("/etc/ssl/private"),
    L("/etc/pki/tls/private"), L("/etc/security/opasswd"), L("/var/run/secrets"), L("/run/secrets"),
    L("/etc/kubernetes/admin.conf"), L("/etc/rancher/k3s/k3s.yaml"), L("/etc/krb5.keytab"),
    L("/var/lib/kubelet/pki"),
};

static const plit kSysStartup[] = {
    L("/etc/profile"), L("/etc/profile.d"), L("/etc/bash.bashrc"), L("/etc/bashrc"), L("/etc/zsh"),
    L("/etc/zshrc"), L("/etc/zshenv"), L("/etc/zprofile"), L("/etc/zlogin"), L("/etc/environment"),
    L("/etc/csh.cshrc"), L("/etc/csh.login"),
};

static const plit kAuthDb[] = {
    L("/etc/sudoers"), L("/etc/sudoers.d"), L("/etc/passwd"), L("/etc/passwd-"), L("/etc/shadow"),
    L("/etc/shadow-"), L("/etc/group"), L("/etc/group-"), L("/etc/gshadow"), L("/etc/gshadow-"),
    L("/etc/doas.conf"), L("/etc/security/opasswd"),
};

static const plit kCron[] = {
    L("/etc/crontab"), L("/etc/cron.d"), L("/etc/cron.daily"), L("/etc/cron.hourly"), L("/etc/cron.weekly"),
    L("/etc/cron.monthly"), L("/etc/cron.allow"), L("/etc/cron.deny"), L("/etc/anacrontab"),
    L("/var/spool/cron"), L("/var/spool/anacron"), L("/var/spool/cron/crontabs"), L("/usr/lib/cron/tabs"),
    L("/private/var/at/tabs"),
};

static const plit kTemp[] = {
    L("/tmp"), L("/var/tmp"), L("/dev/shm"), L("/private/tmp"), L("/private/var/tmp"), L("/var/folders"),
    L("/private/var/folders"),
};

static const plit kSystem[] = {
    L("/etc"), L("/usr"), L("/bin"), L("/sbin"), L("/lib"), L("/lib32"), L("/lib64"), L("/libx32"), L("/boot"),
    L("/var"), L("/root"), L("/snap"), L("/run"), L("/lost+found"), L("/efi"), L("/nix"), L("/System"), L("/Library"),
    L("/Applications"), L("/private"), L("/cores"),
};

static const plit kDevData[] = {
    L("/dev/null"), L("/dev/zero"), L("/dev/full"), L("/dev/random"), L("/dev/urandom"), L("/dev/stdin"),
    L("/dev/stdout"), L("/dev/stderr"), L("/dev/tty"), L("/dev/ptmx"), L("/dev/fd"), L("/dev/pts"),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* s[0..n) is one of the table's paths or under it. Lengths are precomputed and the
 * second byte is compared first: this runs for every path word. */
static int underAny(const char *s, size_t n, const plit *list, size_t cnt) {
    if (n < 2) return 0;
    for (size_t k = 0; k < cnt; k++) {
        const plit *e = &list[k];
        if (n < e->n || s[1] != e->s[1]) continue;
        if (!memcmp(s, e->s, e->n) && (n == e->n || s[e->n] == '/')) return 1;
    }
    return 0;
}

/* A file name that holds credentials wherever it is: .env, .env.local, *.pem, id_rsa…
 * Works on glob components too (".env*", "*.pem"). */
static int isSecretName(const char *b, size_t bn) {
    if (bn >= 4 && !memcmp(b, ".env", 4)) {
        if (bn == 4) return 1;
        if (b[4] != '.' && b[4] != '*') return 0;
        /* .env.example, .env.local.sample, .env.template: documentation, no secrets */
        static const char *const harmless[] = {"example", "sample", "template", "dist",
                                               "defaults", "tmpl", "tpl", "schema"};
        const char *part = b + 5;
        const char *end = b + bn;
        while (part < end) {
            const char *dot = memchr(part, '.', (size_t)(end - part));
            size_t pl = (size_t)((dot ? dot : end) - part);
            for (size_t k = 0; k < NELEM(harmless); k++)
                if (eqLit(part, pl, harmless[k])) return 0;
            part = dot ? dot + 1 : end;
        }
        return 1;
    }
    if (endsWith(b, bn, ".pub")) return 0;
    static const char *const keys[] = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"};
    for (size_t k = 0; k < NELEM(keys); k++)
        if (startsWith(b, bn, keys[k])) return 1;
    static const char *const exts[] = {".pem", ".key", ".p12", ".pfx", ".ppk", ".jks",
                                       ".keystore", ".kdbx"};
    for (size_t k = 0; k < NELEM(exts); k++)
        if (endsWith(b, bn, exts[k])) return 1;
    return eqLit(b, bn, ".htpasswd") || eqLit(b, bn, ".pgpass") || eqLit(b, bn, ".netrc") ||
           eqLit(b, bn, ".git-credentials");
}

/* A key-shaped test fixture: a file under a tests/, test/, spec/, testdata/, fixtures/,
 * __fixtures__/ or __tests__/ dir of the project (rel: the path below the project).
 * Test suites ship fake keys and certificates; .env files stay secrets anywhere. */
static int isTestFixture(const char *rel, size_t rn, const char *b, size_t bn) {
    if (bn >= 4 && !memcmp(b, ".env", 4)) return 0;
    static const char *const dirs[] = {"tests", "test", "spec", "testdata", "fixtures",
                                       "__fixtures__", "__tests__"};
    size_t i = 0;
    while (i < rn) {
        while (i < rn && rel[i] == '/') i++;
        size_t j = i;
        while (j < rn && rel[j] != '/') j++;
        if (j >= rn) return 0;                 /* the file name itself */
        for (size_t k = 0; k < NELEM(dirs); k++)
            if (eqLit(rel + i, j - i, dirs[k])) return 1;
        i = j;
    }
    return 0;
}

/* Facts about rest, a path relative to some home dir ("" or "/…"). Returns 1 when it
 * holds credentials. */
static int homeRelFacts(const char *rest, size_t rn, unsigned *flags) {
    if (underAny(rest, rn, kHomeStartup, NELEM(kHomeStartup))) *flags |= LH_PF_SHELL_STARTUP;
    if (eqLit(rest, rn, "/.kube")) return 1;
    if (!underAny(rest, rn, kHomeSecrets, NELEM(kHomeSecrets))) return 0;
    if (isUnderLit(rest, rn, "/.ssh") && rn > 5) {
        size_t bn;
        const char *b = baseOf(rest, rn, &bn);
        if (startsWith(b, bn, "authorized_keys")) { *flags |= LH_PF_AUTH_KEYS; return 1; }
        if (endsWith(b, bn, ".pub") || startsWith(b, bn, "known_hosts")) return 0;
    }
    return 1;
}

/* The part of s after a home dir it lies in (the agent's, /root, /home/X or /Users/X);
 * NULL if none. */
static const char *homeRest(const pctx *p, const char *s, size_t n, size_t *rn) {
    if (isUnder(s, n, p->home, p->hn)) { *rn = n - p->hn; return s + p->hn; }
    if (isUnderLit(s, n, "/root")) { *rn = n - 5; return s + 5; }
    static const char *const roots[] = {"/home/", "/Users/"};
    for (size_t r = 0; r < 2; r++) {
        size_t rl = strlen(roots[r]);
        if (n > rl && !memcmp(s, roots[r], rl)) {
            size_t e = rl;
            while (e < n && s[e] != '/') e++;
            *rn = n - e;
            return s + e;
        }
    }
    return NULL;
}

/* Flags that do not depend on the class: git dir and hooks. */
static unsigned gitFlags(const char *s, size_t n) {
    for (size_t i = 0; i + 5 <= n; i++) {
        if (memcmp(s + i, "/.git", 5)) continue;
        size_t e = i + 5;
        if (e != n && s[e] != '/') continue;
        unsigned f = LH_PF_GIT_DIR;
        if (e + 6 <= n && !memcmp(s + e, "/hooks", 6) && (e + 6 == n || s[e + 6] == '/'))
            f |= LH_PF_GIT_HOOKS;
        return f;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Classification                                                                  */
/* ------------------------------------------------------------------------------ */

/* Classify a concrete normalised path (absolute, or "~…" when home is unknown). */
static lh_path_class classifyConcrete(const pctx *p, const char *s, size_t n, unsigned *flags) {
    *flags |= gitFlags(s, n);
    if (s[0] == '~') {
        if (homeRelFacts(s + 1, n - 1, flags)) return LH_PATH_SECRET;
        size_t bn;
        const char *b = baseOf(s, n, &bn);
        if (n > 1 && isSecretName(b, bn)) return LH_PATH_SECRET;
        if (n == 1) *flags |= LH_PF_IS_HOME;
        return LH_PATH_HOME;
    }
    if (n == 1) return LH_PATH_ROOT;
    if (isUnderLit(s, n, "/dev")) {
        if (underAny(s, n, kDevData, NELEM(kDevData))) { *flags |= LH_PF_DEV_NULL; return LH_PATH_VIRTUAL; }
        if (isUnderLit(s, n, "/dev/tcp") || isUnderLit(s, n, "/dev/udp")) {
            *flags |= LH_PF_NET_DEV;
            return LH_PATH_VIRTUAL;
        }
        if (isUnderLit(s, n, "/dev/shm")) return LH_PATH_TEMP;
        return LH_PATH_DEVICE;
    }
    if (isUnderLit(s, n, "/proc") || isUnderLit(s, n, "/sys")) return LH_PATH_VIRTUAL;

    int in_project = p->proj && isUnder(s, n, p->cwd, p->cn);
    if (in_project) *flags |= LH_PF_IN_PROJECT;
    /* applications live in /opt, /srv and /var/www: outside the project, not the OS */
    int sys = underAny(s, n, kSystem, NELEM(kSystem)) && !isUnderLit(s, n, "/var/www");
    if (sys) {
        if (underAny(s, n, kAuthDb, NELEM(kAuthDb))) *flags |= LH_PF_AUTH_DB;
        if (underAny(s, n, kCron, NELEM(kCron))) *flags |= LH_PF_CRON;
        if (underAny(s, n, kSysStartup, NELEM(kSysStartup))) *flags |= LH_PF_SHELL_STARTUP;
    }

    /* credentials, wherever they are */
    int secret = sys && underAny(s, n, kSysSecrets, NELEM(kSysSecrets));
    if (!secret && sys && startsWith(s, n, "/etc/ssh/ssh_host_") && !endsWith(s, n, ".pub")) secret = 1;
    size_t rn;
    const char *rest = homeRest(p, s, n, &rn);
    if (rest && homeRelFacts(rest, rn, flags)) secret = 1;
    size_t bn;
    const char *b = baseOf(s, n, &bn);
    if (!secret && isSecretName(b, bn) &&
        !(in_project && isTestFixture(s + p->cn, n - p->cn, b, bn)))
        secret = 1;
    if (secret) return LH_PATH_SECRET;

    if (underAny(s, n, kTemp, NELEM(kTemp))) return LH_PATH_TEMP;
    if (in_project) {
        if (n == p->cn) *flags |= LH_PF_IS_CWD;
        return LH_PATH_PROJECT;
    }
    if (isUnder(s, n, p->home, p->hn)) {
        if (n == p->hn) *flags |= LH_PF_IS_HOME;
        return LH_PATH_HOME;
    }
    if (sys || eqLit(s, n, "/home") || eqLit(s, n, "/Users") || eqLit(s, n, "/opt") ||
        eqLit(s, n, "/var/www"))
        return LH_PATH_SYSTEM;
    return LH_PATH_OTHER;
}

/* Index of the first glob character ('*', '?', '[', or a '{' that opens a brace
 * expansion: a ',' or ".." before the next '}'), or n. One pass from the end, keeping
 * the nearest separator and '}' to the right: a scan to the '}' from each '{' took
 * time quadratic in a path of many '{'. */
static size_t findGlob(const char *s, size_t n) {
    size_t first = n, sep = n, close = n;
    for (size_t i = n; i-- > 0;) {
        char c = s[i];
        if (c == '*' || c == '?' || c == '[') first = i;
        else if (c == '{') { if (sep < close) first = i; }
        else if (c == '}') close = i;
        else if (c == ',' || (c == '.' && i + 1 < n && s[i + 1] == '.')) sep = i;
    }
    return first;
}

/* A glob component that matches every entry of its directory ("*", ".*", "{*,.*}"). */
static int matchesAll(const char *c, size_t n) {
    int star = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (ch == '*') star = 1;
        else if (!strchr(".?[]!^{},", ch)) return 0;
    }
    return star;
}

/* Classify a normalised path that holds a glob starting at g. */
static lh_path_class classifyGlob(const pctx *p, const char *s, size_t n, size_t g,
                                  unsigned *flags) {
    size_t slash = g;
    while (slash > 0 && s[slash - 1] != '/') slash--;
    /* s[0..slash) is the directory with its trailing '/'; the component follows */
    size_t ce = slash;
    while (ce < n && s[ce] != '/') ce++;
    const char *comp = s + slash;
    size_t cl = ce - slash;
    int all = matchesAll(comp, cl) && ce == n;
    size_t dn = slash > 1 ? slash - 1 : slash;   /* keep "/" for the root */
    *flags |= LH_PF_GLOB;
    if (dn == 0) return LH_PATH_UNKNOWN;         /* "~" shapes have no '/' dir: unreachable */
    if (dn == 1 && s[0] == '/') return LH_PATH_ROOT;
    unsigned df = 0;
    lh_path_class cls = classifyConcrete(p, s, dn, &df);
    if (!all) df &= ~(LH_PF_IS_HOME | LH_PF_IS_CWD);
    *flags |= df;
    if (cls != LH_PATH_SECRET && cls != LH_PATH_DEVICE && isSecretName(comp, cl)) cls = LH_PATH_SECRET;
    if (ce < n && cls != LH_PATH_SECRET) {
        /* a glob in the middle ("~/a?b/id_rsa"): the last name may be credentials */
        size_t bn;
        const char *b = baseOf(s, n, &bn);
        if (isSecretName(b, bn)) cls = LH_PATH_SECRET;
    }
    return cls;
}

lh_path_class lh_path_classify_in(lh_arena *a, const char *cwd, const char *home,
                                  int cwd_is_project, const char *word, size_t len,
                                  lh_path *out) {
    out->norm = "";
    out->flags = 0;
    out->cls = LH_PATH_UNKNOWN;
    if (!word || len == 0 || len > PATH_CAP) return out->cls;
    pctx p;
    initCtx(&p, cwd, home);
    p.proj = cwd_is_project;

    pbuf ex;
    ex.n = 0;
    ex.over = 0;
    ex.s[0] = 0;
    int resolved = expandWord(&p, word, len, &ex);
    if (!resolved) {
        out->flags |= LH_PF_DYNAMIC;
        if (ex.n == 0) {
            out->norm = lh_arena_strndup(a, word, len);
            if (!out->norm) out->norm = "";
            return out->cls;
        }
        bufPutc(&ex, '*');
    }
    if (ex.over) return out->cls;

    /* absolute text, then normalised */
    pbuf ab;
    ab.n = 0;
    ab.over = 0;
    ab.s[0] = 0;
    if (ex.s[0] == '~') {
        bufPut(&ab, "~", 1);
        size_t start = ab.n;
        bufPut(&ab, "/", 1);
        bufPut(&ab, ex.s + 1, ex.n - 1);
        if (ab.over) return out->cls;
        size_t nn = lh_path_normalize(ab.s + start, ab.n - start);
        ab.n = start + (nn == 1 ? 0 : nn);
    } else {
        if (ex.s[0] != '/') {
            bufPut(&ab, p.cwd, p.cn);
            bufPutc(&ab, '/');
        }
        bufPut(&ab, ex.s, ex.n);
        if (ab.over) return out->cls;
        ab.n = lh_path_normalize(ab.s, ab.n);
    }
    ab.s[ab.n] = 0;

    size_t g = findGlob(ab.s, ab.n);
    unsigned flags = out->flags;
    lh_path_class cls = g < ab.n ? classifyGlob(&p, ab.s, ab.n, g, &flags)
                                 : classifyConcrete(&p, ab.s, ab.n, &flags);
    char *norm = lh_arena_strndup(a, ab.s, ab.n);
    if (!norm) return out->cls;   /* out of memory: unknown, and the engine denies the whole
                                     decision (lh_arena_failures; test_oom) */
    out->norm = norm;
    out->cls = cls;
    out->flags = flags;
    return cls;
}

lh_path_class lh_path_classify(const struct lh_ctx *c, const char *word, size_t len,
                               lh_path *out) {
    return lh_path_classify_in(c->arena, c->cwd, c->home, c->cwd_is_project, word, len, out);
}

/* ------------------------------------------------------------------------------ */
/* Project directories                                                             */
/* ------------------------------------------------------------------------------ */

/* A cwd counts as a project unless it is "/", the home dir or above it, or a system
 * place where nobody keeps a project (/etc, /usr/bin, /var/lib …). Project trees
 * under /var/www/X, /opt/X, /srv/X, /usr/src/X are fine. */
int lh_path_cwd_is_project(const char *cwd, const char *home) {
    if (!cwd || cwd[0] != '/') return 0;
    size_t n = strlen(cwd);
    while (n > 1 && cwd[n - 1] == '/') n--;
    if (n == 1) return 0;
    size_t hn = 0;
    if (home && home[0] == '/') {
        hn = strlen(home);
        while (hn > 1 && home[hn - 1] == '/') hn--;
        if (isUnder(home, hn, cwd, n)) return 0;     /* home itself or above it */
    }
    size_t ih = inferHome(cwd, n);
    if (ih && ih == n) return 0;
    static const plit never[] = {
        L("/etc"), L("/bin"), L("/sbin"), L("/lib"), L("/lib32"), L("/lib64"), L("/libx32"), L("/boot"), L("/dev"),
        L("/proc"), L("/sys"), L("/run"), L("/snap"), L("/nix"), L("/System"), L("/Library"), L("/efi"),
        L("/var/lib"), L("/var/log"), L("/var/cache"), L("/var/spool"), L("/var/run"), L("/var/mail"),
        L("/var/backups"), L("/var/db"), L("/lost+found"),
    };
    if (underAny(cwd, n, never, NELEM(never))) return 0;
    static const plit tops[] = {L("/home"), L("/Users"), L("/var"), L("/opt"), L("/srv"), L("/mnt"),
                                       L("/media"), L("/tmp"), L("/var/tmp"), L("/Volumes"), L("/private"),
                                       L("/usr"), L("/usr/local"), L("/usr/src"), L("/usr/local/src"),
                                       L("/root"), L("/var/www"), L("/workspace"), L("/workspaces")};
    for (size_t k = 0; k < NELEM(tops); k++)
        if (n == tops[k].n && !memcmp(cwd, tops[k].s, n)) return 0;
    if (isUnderLit(cwd, n, "/usr"))
        return isUnderLit(cwd, n, "/usr/src") || isUnderLit(cwd, n, "/usr/local/src");
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Names                                                                           */
/* ------------------------------------------------------------------------------ */

static const char *const kClassNames[LH_PATH__COUNT] = {
    "project", "temp", "home", "secret", "system", "device", "virtual", "root", "other",
    "unknown",
};

const char *lh_path_class_name(lh_path_class c) {
    return (c >= 0 && c < LH_PATH__COUNT) ? kClassNames[c] : "unknown";
}

int lh_path_class_parse(const char *s, lh_path_class *out) {
    for (int k = 0; k < LH_PATH__COUNT; k++)
        if (s && !strcmp(s, kClassNames[k])) { *out = (lh_path_class)k; return 0; }
    return -1;
}
