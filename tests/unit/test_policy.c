/* test_policy.c — the policy module: parsing and lint diagnostics, matching on hand-built
 * commands, analyzer settings and overrides, and whole decisions through the engine. */
#include "testutil.h"

#include <stdio.h>

#include "engine/analyze.h"
#include "engine/policy.h"
#include "engine/rules.h"
#include "util/replysig.h"
#include "util/sha256.h"

/* ------------------------------------------------------------------------------ */
/* Helpers                                                                         */
/* ------------------------------------------------------------------------------ */

static lh_policy_diag g_diags[32];
static int g_ndiags;

static lh_policy *parse(const char *yaml) {
    g_ndiags = 0;
    return lh_policy_parse(yaml, strlen(yaml), "t.yaml", g_diags, 32, &g_ndiags);
}

static lh_policy *parseOk(const char *yaml) {
    lh_policy *p = parse(yaml);
    if (!p) {
        for (int i = 0; i < g_ndiags; i++)
            print_error("t.yaml:%d:%d: %s\n", g_diags[i].line, g_diags[i].column, g_diags[i].message);
        fail_msg("policy did not parse");
    }
    return p;
}

/* The policy must fail with a diagnostic at line:col (col 0: any) containing text. */
static void expectError(const char *yaml, int line, int col, const char *text) {
    lh_policy *p = parse(yaml);
    if (p) { lh_policy_free(p); fail_msg("policy parsed but should fail with '%s'", text); }
    for (int i = 0; i < g_ndiags; i++)
        if (strstr(g_diags[i].message, text) && g_diags[i].line == line &&
            (col == 0 || g_diags[i].column == col))
            return;
    for (int i = 0; i < g_ndiags; i++)
        print_error("got %d:%d: %s\n", g_diags[i].line, g_diags[i].column, g_diags[i].message);
    fail_msg("no diagnostic '%s' at %d:%d", text, line, col);
}

/* A request context with a hand-built script (no parser involved). */
typedef struct fx {
    lh_arena *a;
    lh_request req;
    lh_script script;
    lh_ctx c;
} fx;

static void fxInit(fx *f, lh_tool tool, const char *tool_name) {
    memset(f, 0, sizeof(*f));
    f->a = lh_arena_new(16384);
    f->req.tool = tool;
    f->req.tool_name = tool_name;
    f->req.cwd = "/home/dev/project";
    f->req.home = "/home/dev";
    f->c.arena = f->a;
    f->c.req = &f->req;
    f->c.cwd = f->req.cwd;
    f->c.cwd_len = strlen(f->c.cwd);
    f->c.home = f->req.home;
    f->c.home_len = strlen(f->c.home);
    f->c.cwd_is_project = 1;
    if (tool == LH_TOOL_BASH) f->c.script = &f->script;
}

static void fxFree(fx *f) { lh_arena_free(f->a); }

/* Append a command made of the given words (NULL-terminated); returns its index. */
static int addCmd(fx *f, uint32_t flags, ...) {
    lh_script *s = &f->script;
    if (s->ncmds == s->capcmds) {
        int cap = s->capcmds ? s->capcmds * 2 : 8;
        lh_cmd *n = lh_arena_calloc(f->a, sizeof(lh_cmd) * (size_t)cap);
        if (s->ncmds) memcpy(n, s->cmds, sizeof(lh_cmd) * (size_t)s->ncmds);
        s->cmds = n;
        s->capcmds = cap;
    }
    lh_cmd *c = &s->cmds[s->ncmds];
    memset(c, 0, sizeof(*c));
    c->argv = lh_arena_calloc(f->a, sizeof(lh_word) * 64);
    va_list ap;
    va_start(ap, flags);
    for (const char *w; (w = va_arg(ap, const char *));) {
        lh_word *x = &c->argv[c->argc++];
        x->s = w;
        x->len = (uint32_t)strlen(w);
        if (w[0] == '$') x->flags = LH_W_DYNAMIC | LH_W_VAR;
    }
    va_end(ap);
    c->flags = flags;
    c->parent = -1;
    c->parent_arg = -1;
    c->func = -1;
    const char *slash = c->argc ? strrchr(c->argv[0].s, '/') : NULL;
    c->prog = c->argc ? (slash ? slash + 1 : c->argv[0].s) : "";
    return s->ncmds++;
}

static void addRedir(fx *f, int cmd, lh_redir_op op, const char *target) {
    lh_cmd *c = &f->script.cmds[cmd];
    lh_redir *r = lh_arena_calloc(f->a, sizeof(lh_redir) * (size_t)(c->nredirs + 1));
    if (c->nredirs) memcpy(r, c->redirs, sizeof(lh_redir) * (size_t)c->nredirs);
    r[c->nredirs].fd = -1;
    r[c->nredirs].op = op;
    r[c->nredirs].target.s = target;
    r[c->nredirs].target.len = (uint32_t)strlen(target);
    c->redirs = r;
    c->nredirs++;
}

/* The first finding of rule id (not cancelled unless any is set), or NULL. */
static const lh_finding *findingOf(const fx *f, const char *id) {
    for (int i = 0; i < f->c.nfindings; i++)
        if (!strcmp(f->c.findings[i].rule, id)) return &f->c.findings[i];
    return NULL;
}

static int countOf(const fx *f, const char *id) {
    int n = 0;
    for (int i = 0; i < f->c.nfindings; i++)
        if (!strcmp(f->c.findings[i].rule, id)) n++;
    return n;
}

/* Run the policy over one Bash command built from words. Returns the finding count. */
#define BASH(f, P, ...) do { fxInit((f), LH_TOOL_BASH, "Bash"); addCmd((f), 0, __VA_ARGS__, NULL); \
                             lh_policy_match((P), &(f)->c); } while (0)

/* ------------------------------------------------------------------------------ */
/* SHA-256 and revisions                                                           */
/* ------------------------------------------------------------------------------ */

static void hex(const unsigned char *h, char *out) {
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", h[i]);
}

static void test_sha256_vectors(void **state) {
    (void)state;
    unsigned char h[32];
    char x[65];
    lh_sha256("", 0, h); hex(h, x);
    assert_string_equal(x, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lh_sha256("abc", 3, h); hex(h, x);
    assert_string_equal(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two blocks */
    lh_sha256(m, strlen(m), h); hex(h, x);
    assert_string_equal(x, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *big = malloc(1000000);
    memset(big, 'a', 1000000);
    lh_sha256(big, 1000000, h); hex(h, x);
    free(big);
    assert_string_equal(x, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The reply signature the hook checks (util/replysig.c): RFC 4231-style HMAC answers from
 * python3's hmac module, a long key and a message past the stack buffer, and the
 * key derivation and signature of docs/api.md. */
static void test_reply_hmac(void **state) {
    (void)state;
    unsigned char h[32];
    char x[65];
    const char *fox = "The quick brown fox jumps over the lazy dog";
    assert_int_equal(lh_hmac_sha256("key", 3, fox, 20, fox + 20, strlen(fox) - 20, h), 0);
    hex(h, x);
    assert_string_equal(x, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    char k[100], *m = malloc(5000);
    memset(k, 'k', sizeof(k));
    memset(m, 'x', 5000);
    assert_int_equal(lh_hmac_sha256(k, sizeof(k), m, 5000, NULL, 0, h), 0);
    free(m);
    hex(h, x);
    assert_string_equal(x, "af7676f4fcf0db5c31144ed5da73e6264f32bcab72d092fbdd2dacef15545047");
    unsigned char key[32];
    lh_reply_key("lh1.tok", 7, key);
    assert_int_equal(lh_reply_sig(key, "n0nce", 5, "{}\n", 3, x), 0);
    assert_string_equal(x, "ad66e65627655fb05b4b24952be33a59156ec64c3ad3c4df0d1a9a90ea4b8f1b");
    assert_true(lh_reply_sig_equal(x, "ad66e65627655fb05b4b24952be33a59156ec64c3ad3c4df0d1a9a90ea4b8f1b"));
    assert_false(lh_reply_sig_equal(x, "ad66e65627655fb05b4b24952be33a59156ec64c3ad3c4df0d1a9a90ea4b8f1c"));
    assert_false(lh_reply_sig_equal(x, ""));
    /* the reply key: python3 hmac.new(bytes(range(32)), b"reply:0123456789abcdef", "sha256") */
    unsigned char tk[32], rk[32], back[32];
    for (int i = 0; i < 32; i++) tk[i] = (unsigned char)i;
    lh_reply_key_of(tk, "0123456789abcdef", rk);
    lh_reply_key_hex(rk, x);
    assert_string_equal(x, "daf8b77725dd878dc63b4db777a7b188bd2fbbcd23514365f3bb5887088cdde7");
    assert_int_equal(lh_reply_key_parse(x, back), 0);
    assert_memory_equal(back, rk, 32);
    assert_int_equal(lh_reply_key_parse("DAF8B77725DD878DC63B4DB777A7B188BD2FBBCD23514365F3BB5887088CDDE7\n", back), 0);
    assert_memory_equal(back, rk, 32);
    assert_int_equal(lh_reply_key_parse("daf8b777", back), -1);                 /* short */
    assert_int_equal(lh_reply_key_parse("", back), -1);
    assert_int_equal(lh_reply_key_parse("daf8b77725dd878dc63b4db777a7b188bd2fbbcd23514365f3bb5887088cddeZ", back), -1);
    assert_int_equal(lh_reply_key_parse("daf8b77725dd878dc63b4db777a7b188bd2fbbcd23514365f3bb5887088cdde7x", back), -1);
}

static void test_revision(void **state) {
    (void)state;
    lh_policy *p = parseOk("rules: []\n");
    /* sha256("rules: []\n") starts with these 16 hex digits */
    unsigned char h[32];
    char x[65], want[40];
    lh_sha256("rules: []\n", 10, h); hex(h, x);
    snprintf(want, sizeof(want), "sha256:%.16s", x);
    assert_string_equal(lh_policy_revision(p), want);
    assert_int_equal(lh_policy_nrules(p), 0);
    lh_policy_free(p);
    p = parseOk("revision: prod-2024-07\nrules: []\n");
    assert_string_equal(lh_policy_revision(p), "prod-2024-07");
    lh_policy_free(p);
    /* a change of one byte changes the revision */
    lh_policy *a = parseOk("rules: []\n# a\n"), *b = parseOk("rules: []\n# b\n");
    assert_string_not_equal(lh_policy_revision(a), lh_policy_revision(b));
    lh_policy_free(a);
    lh_policy_free(b);
}

/* ------------------------------------------------------------------------------ */
/* Globs                                                                           */
/* ------------------------------------------------------------------------------ */

static void test_glob(void **state) {
    (void)state;
    assert_true(lh_policy_glob_match("mcp__*", "mcp__github__get_issue", 0));
    assert_true(lh_policy_glob_match("mcp__*__get_*", "mcp__github__get_issue", 0));
    assert_false(lh_policy_glob_match("mcp__*__get_*", "mcp__github__create_issue", 0));
    assert_true(lh_policy_glob_match("rm.*", "rm.root", 0));
    assert_false(lh_policy_glob_match("rm.*", "git.rm", 0));
    assert_true(lh_policy_glob_match("a?c", "abc", 0));
    assert_true(lh_policy_glob_match("[a-c]x", "bx", 0));
    assert_false(lh_policy_glob_match("[!a-c]x", "bx", 0));
    assert_true(lh_policy_glob_match("\\*", "*", 0));
    assert_false(lh_policy_glob_match("\\*", "a", 0));
    assert_true(lh_policy_glob_match("*", "", 0));
    assert_true(lh_policy_glob_match("*a*b*c", "xxaxxbxxbc", 0));
    /* path mode: * stays in one segment, ** crosses, a trailing / ** covers the dir */
    assert_true(lh_policy_glob_match("/var/*/cache", "/var/www/cache", 1));
    assert_false(lh_policy_glob_match("/var/*/cache", "/var/www/app/cache", 1));
    assert_true(lh_policy_glob_match("/var/**/cache", "/var/www/app/cache", 1));
    assert_true(lh_policy_glob_match("/var/**/cache", "/var/cache", 1));
    assert_false(lh_policy_glob_match("/var/**/cache", "/var/xcache", 1));
    assert_true(lh_policy_glob_match("/var/www/app/cache/**", "/var/www/app/cache", 1));
    assert_true(lh_policy_glob_match("/var/www/app/cache/**", "/var/www/app/cache/a/b", 1));
    assert_false(lh_policy_glob_match("/var/www/app/cache/**", "/var/www/app/cache2", 1));
    assert_false(lh_policy_glob_match("/var/www/app/cache/**", "/var/www/app", 1));
    assert_true(lh_policy_glob_match("**/.env", "/home/dev/project/.env", 1));
    assert_true(lh_policy_glob_match("**/.env", "/.env", 1));
    assert_false(lh_policy_glob_match("**/.env", "/home/dev/x.env", 1));
    assert_true(lh_policy_glob_match("/a/**/b*/c", "/a/x/y/bee/c", 1));
    assert_false(lh_policy_glob_match("/a/*.log", "/a/b/c.log", 1));
    assert_true(lh_policy_glob_match("/a/*.log", "/a/c.log", 1));
    /* a hostile pattern finishes quickly (no exponential backtracking) */
    char s[4001];
    memset(s, 'a', 4000);
    s[4000] = 0;
    assert_false(lh_policy_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", s, 0));
}

/* ------------------------------------------------------------------------------ */
/* Parsing and lint                                                                */
/* ------------------------------------------------------------------------------ */

static void test_default_policy_loads(void **state) {
    (void)state;
    lh_policy *p = lh_policy_default();
    assert_non_null(p);
    assert_true(lh_policy_nrules(p) > 0);
    assert_true(!strncmp(lh_policy_revision(p), "sha256:", 7) || strlen(lh_policy_revision(p)) > 0);
    assert_int_equal(lh_policy_unknown_tool_action(p, "frobnicate"), LH_ESCALATE);
    lh_policy_free(p);
}

static void test_full_rule_parses(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "version: 1\n"
        "settings:\n"
        "  unknown_tool: deny\n"
        "rules:\n"
        "  - id: all-keys\n"
        "    action: escalate\n"
        "    risk: critical\n"
        "    reason: every key at once\n"
        "    instead: do less\n"
        "    match:\n"
        "      tool: Bash\n"
        "      program: [git, hub]\n"
        "      subcommand: push\n"
        "      flags: [-f, --force, --mirror=yes]\n"
        "      args: ['origin', 'main']\n"
        "      any_arg: '+*'\n"
        "      path_class: [project, temp]\n"
        "      path: ['~/x/**', 'build/**', '/srv/**']\n"
        "      agent: 'builder-*'\n"
        "      role: builder\n"
        "      sudo: false\n"
        "      regex: '^git\\s'\n"
        "  - id: allow-ok\n"
        "    action: allow\n"
        "    match: {tool: Read}\n"
        "    overrides: [code.*, shell.dynamic-command]\n"
        "analyzers:\n"
        "  code.opaque: {enabled: false}\n"
        "  'code.*': {action: escalate, risk: high, reason: r, instead: i}\n"
        "  shell.dynamic-command:\n"
        "    except:\n"
        "      - {path: '/var/www/app/cache/**'}\n"
        "      - {agent: 'ops-*', program: make, role: admin, tool: Bash, path_class: temp}\n");
    assert_int_equal(lh_policy_nrules(p), 2);
    assert_int_equal(lh_policy_unknown_tool_action(p, "x"), LH_DENY);
    lh_policy_free(p);
}

static void test_yaml_syntax_error_has_position(void **state) {
    (void)state;
    expectError("rules:\n  - id: x\n    action: [allow\n", 4, 1, "YAML syntax error");
    expectError("rules: []\nfoo: 'unterminated\n", 3, 1, "YAML syntax error");
}

static void test_unknown_keys(void **state) {
    (void)state;
    expectError("rules: []\nrulez: []\n", 2, 1, "unknown key 'rulez'");
    expectError("rules:\n  - id: a\n    action: allow\n    colour: red\n    match: {tool: Read}\n",
                4, 5, "unknown key 'colour' in a rule");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {tool: Read, programme: rm}\n",
                4, 25, "unknown key 'programme' in match");
    expectError("settings: {unknown: deny}\nrules: []\n", 1, 12, "unknown key 'unknown' in settings");
    expectError("rules: []\nanalyzers:\n  code.opaque: {enable: false}\n", 3, 17,
                "unknown key 'enable'");
}

static void test_wrong_types_and_enums(void **state) {
    (void)state;
    expectError("rules: {}\n", 1, 8, "rules must be a list");
    expectError("rules:\n  - id: a\n    action: forbid\n    reason: x\n    match: {tool: Read}\n",
                3, 13, "action must be allow, deny or escalate");
    expectError("rules:\n  - id: a\n    action: deny\n    risk: extreme\n    reason: x\n    match: {tool: Read}\n",
                4, 11, "risk must be low");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {sudo: maybe}\n", 4, 19,
                "sudo must be true or false");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {path_class: cellar}\n", 4, 25,
                "unknown path class 'cellar'");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {program: {a: b}}\n", 4, 22,
                "program must be a string or a list");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {flags: [rf]}\n", 4, 21,
                "flag 'rf' must look like");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {program: /bin/rm}\n", 4, 22,
                "must be a basename");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {path: '/a/../b'}\n", 4, 19,
                "must not contain '..'");
    expectError("rules:\n  - 42\n", 2, 5, "a rule must be a map");
    expectError("version: 2\nrules: []\n", 1, 10, "version must be 1");
    expectError("revision: 'a b'\nrules: []\n", 1, 11, "revision may hold no spaces");
    expectError("rules:\n  - id: a\n    action: allow\n    match: {}\n", 4, 12,
                "match needs at least one key");
}

static void test_required_fields(void **state) {
    (void)state;
    expectError("rules:\n  - action: allow\n    match: {tool: Read}\n", 2, 5, "needs an id");
    expectError("rules:\n  - id: a\n    match: {tool: Read}\n", 2, 5, "needs an action");
    expectError("rules:\n  - id: a\n    action: deny\n    match: {tool: Read}\n", 2, 5,
                "needs a reason");
    expectError("rules:\n  - id: a\n    action: allow\n", 2, 5, "needs a match");
    expectError("settings: {}\n", 1, 1, "needs a rules: list");
    expectError("", 1, 1, "the policy is empty");
    expectError("# only a comment\n", 1, 1, "the policy is empty");
}

static void test_duplicates(void **state) {
    (void)state;
    expectError("rules:\n  - {id: a, action: allow, match: {tool: Read}}\n"
                "  - {id: a, action: allow, match: {tool: LS}}\n",
                3, 5, "duplicate rule id 'a' (first at line 2)");
    expectError("rules:\n  - {id: a, action: allow, action: deny, match: {tool: Read}}\n", 2, 28,
                "duplicate key 'action'");
    expectError("rules: []\nrules: []\n", 2, 1, "duplicate key 'rules'");
    expectError("rules: []\nanalyzers:\n  code.opaque: {enabled: false}\n  code.opaque: {risk: low}\n",
                4, 3, "duplicate key 'code.opaque'");
}

static void test_regex_errors(void **state) {
    (void)state;
    /* "a(b" fails at offset 3; the quoted scalar starts at column 20, its text at 21 */
    expectError("rules:\n  - id: a\n    action: allow\n    match: {regex: 'a(b'}\n", 4, 24,
                "regex error at offset 3");
    lh_policy *p = parseOk("rules:\n  - {id: a, action: allow, match: {regex: '^ls( |$)'}}\n");
    lh_policy_free(p);
}

static void test_analyzer_ids_checked(void **state) {
    (void)state;
    expectError("rules: []\nanalyzers:\n  nosuch.rule: {enabled: false}\n", 3, 3,
                "unknown analyzer id 'nosuch.rule'");
    expectError("rules: []\nanalyzers:\n  'zzz.*': {enabled: false}\n", 3, 3,
                "pattern 'zzz.*' matches no analyzer id");
    expectError("rules:\n  - {id: a, action: allow, match: {tool: Read}, overrides: [nosuch.rule]}\n",
                2, 61, "unknown analyzer id 'nosuch.rule'");
    expectError("rules:\n  - {id: a, action: deny, reason: r, match: {tool: Read}, overrides: [code.opaque]}\n",
                2, 70, "overrides is only for allow rules");
    /* the fail-closed ids cannot be switched off */
    expectError("rules: []\nanalyzers:\n  shell.parse-error: {enabled: false}\n", 3, 32,
                "cannot be disabled");
    expectError("rules: []\nanalyzers:\n  engine.error: {action: allow}\n", 3, 26,
                "cannot be set to allow");
    expectError("rules:\n  - {id: a, action: allow, match: {tool: Bash}, overrides: [shell.too-complex]}\n",
                2, 61, "cannot be overridden");
    expectError("rules: []\nanalyzers:\n  tool.unknown: {action: deny}\n", 3, 3, "settings: unknown_tool");
    /* a rule may not take an analyzer's id */
    expectError("rules:\n  - {id: code.opaque, action: allow, match: {tool: Read}}\n", 2, 10,
                "is a built-in analyzer id");
}

static void test_bounds(void **state) {
    (void)state;
    /* nesting */
    char deep[400];
    size_t o = (size_t)snprintf(deep, sizeof(deep), "rules: []\nx: ");
    for (int i = 0; i < 40; i++) deep[o++] = '[';
    for (int i = 0; i < 40; i++) deep[o++] = ']';
    deep[o++] = '\n';
    deep[o] = 0;
    expectError(deep, 2, 0, "nesting deeper than");
    /* aliases (billion laughs) */
    expectError("a: &x [1, 2]\nb: *x\nrules: []\n", 2, 4, "aliases");
    /* a long string */
    char *big = malloc(4000);
    o = (size_t)snprintf(big, 4000, "rules:\n  - {id: a, action: deny, match: {tool: Read}, reason: '");
    memset(big + o, 'x', 2000);
    strcpy(big + o + 2000, "'}\n");
    expectError(big, 2, 0, "reason is longer than 1024 bytes");
    free(big);
    /* too many rules */
    size_t cap = (LH_POLICY_MAX_RULES + 2) * 60;
    char *many = malloc(cap);
    o = (size_t)snprintf(many, cap, "rules:\n");
    for (int i = 0; i <= LH_POLICY_MAX_RULES; i++)
        o += (size_t)snprintf(many + o, cap - o, "  - {id: r%d, action: allow, match: {tool: Read}}\n", i);
    expectError(many, 2, 0, "too many rules");
    free(many);
    /* too big */
    lh_policy_diag d[4];
    int nd = 0;
    assert_null(lh_policy_parse("rules: []", LH_POLICY_MAX_BYTES + 1, "big", d, 4, &nd));
    assert_int_equal(nd, 1);
    assert_non_null(strstr(d[0].message, "at most"));
    /* NUL bytes and invalid UTF-8 */
    assert_null(lh_policy_parse("rules: []\n\0x: 1\n", 15, "nul", d, 4, &nd));
    assert_null(lh_policy_parse("rules: []\nx: \xff\xfe\n", 16, "utf8", d, 4, &nd));
    /* two documents */
    expectError("rules: []\n---\nrules: []\n", 2, 1, "one YAML document");
}

static void test_many_errors_reported(void **state) {
    (void)state;
    lh_policy *p = parse("rules:\n  - {id: a, action: nope, match: {tool: Read}}\n"
                         "  - {id: b, action: allow, match: {path_class: x}}\n"
                         "  - {id: c, action: deny, match: {tool: Read}}\n");
    assert_null(p);
    assert_int_equal(g_ndiags, 3);
    assert_int_equal(g_diags[0].line, 2);
    assert_int_equal(g_diags[1].line, 3);
    assert_int_equal(g_diags[2].line, 4);
}

/* ------------------------------------------------------------------------------ */
/* Matching Bash commands                                                          */
/* ------------------------------------------------------------------------------ */

static void test_program_and_subcommand(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - {id: push, action: escalate, reason: pushes, match: {program: git, subcommand: push}}\n"
        "  - {id: anyrm, action: deny, reason: rm, match: {program: ['rm', 'unlink']}}\n"
        "  - {id: py, action: escalate, reason: py, match: {program: 'python*'}}\n");
    fx f;
    BASH(&f, p, "git", "push", "origin", "main");
    assert_non_null(findingOf(&f, "push"));
    assert_int_equal(f.c.nfindings, 1);
    assert_int_equal(f.c.findings[0].cmd, 0);
    assert_int_equal(f.c.findings[0].tier, LH_TIER_POLICY);
    assert_int_equal(f.c.findings[0].action, LH_ESCALATE);
    assert_int_equal(f.c.findings[0].risk, LH_RISK_MEDIUM);   /* default for escalate */
    assert_string_equal(lh_policy_rule_id(f.c.findings[0].policy_rule), "push");
    assert_int_equal(lh_policy_rule_line(f.c.findings[0].policy_rule), 2);
    fxFree(&f);
    BASH(&f, p, "git", "-C", "/srv/repo", "push");
    assert_non_null(findingOf(&f, "push"));
    fxFree(&f);
    BASH(&f, p, "git", "--no-pager", "log", "push");
    assert_null(findingOf(&f, "push"));
    fxFree(&f);
    BASH(&f, p, "/bin/rm", "x");
    assert_non_null(findingOf(&f, "anyrm"));
    fxFree(&f);
    BASH(&f, p, "python3.11", "-c", "print(1)");
    assert_non_null(findingOf(&f, "py"));
    fxFree(&f);
    BASH(&f, p, "echo", "rm", "git", "push");
    assert_int_equal(f.c.nfindings, 0);
    fxFree(&f);

    /* one finding per matching command, with its index */
    fxInit(&f, LH_TOOL_BASH, "Bash");
    addCmd(&f, 0, "ls", NULL);
    addCmd(&f, 0, "rm", "a", NULL);
    addCmd(&f, 0, "git", "push", NULL);
    addCmd(&f, 0, "rm", "b", NULL);
    lh_policy_match(p, &f.c);
    assert_int_equal(f.c.nfindings, 3);
    assert_string_equal(f.c.findings[0].rule, "anyrm");
    assert_int_equal(f.c.findings[0].cmd, 1);
    assert_string_equal(f.c.findings[1].rule, "push");
    assert_int_equal(f.c.findings[1].cmd, 2);
    assert_int_equal(f.c.findings[2].cmd, 3);
    fxFree(&f);

    /* a command with no words and a command known only at run time never match a program */
    fxInit(&f, LH_TOOL_BASH, "Bash");
    int c0 = addCmd(&f, 0, NULL);
    addRedir(&f, c0, LH_R_OUT, "rm");
    addCmd(&f, LH_C_DYNAMIC_CMD, "$x", "push", NULL);
    lh_policy_match(p, &f.c);
    assert_int_equal(f.c.nfindings, 0);
    fxFree(&f);
    lh_policy_free(p);
}

static void test_flags(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - {id: rf, action: deny, reason: rf, match: {program: rm, flags: -rf}}\n"
        "  - {id: force, action: deny, reason: f, match: {program: git, flags: [--force]}}\n"
        "  - {id: exact, action: deny, reason: e, match: {program: x, flags: [--mode=fast]}}\n"
        "  - {id: del, action: escalate, reason: d, match: {program: find, flags: -delete}}\n");
    fx f;
    BASH(&f, p, "rm", "-rf", "x"); assert_non_null(findingOf(&f, "rf")); fxFree(&f);
    BASH(&f, p, "rm", "-fr", "x"); assert_non_null(findingOf(&f, "rf")); fxFree(&f);
    BASH(&f, p, "rm", "-r", "-f", "x"); assert_non_null(findingOf(&f, "rf")); fxFree(&f);
    BASH(&f, p, "rm", "-Rfv", "x"); assert_null(findingOf(&f, "rf")); fxFree(&f);   /* R is not r */
    BASH(&f, p, "rm", "-r", "x"); assert_null(findingOf(&f, "rf")); fxFree(&f);
    BASH(&f, p, "rm", "--", "-rf"); assert_null(findingOf(&f, "rf")); fxFree(&f);  /* an operand */
    BASH(&f, p, "git", "push", "--force"); assert_non_null(findingOf(&f, "force")); fxFree(&f);
    BASH(&f, p, "git", "push", "--force=yes"); assert_non_null(findingOf(&f, "force")); fxFree(&f);
    BASH(&f, p, "git", "push", "--force-with-lease"); assert_null(findingOf(&f, "force")); fxFree(&f);
    BASH(&f, p, "x", "--mode=fast"); assert_non_null(findingOf(&f, "exact")); fxFree(&f);
    BASH(&f, p, "x", "--mode=slow"); assert_null(findingOf(&f, "exact")); fxFree(&f);
    BASH(&f, p, "find", ".", "-delete"); assert_non_null(findingOf(&f, "del")); fxFree(&f);
    lh_policy_free(p);
}

static void test_args(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - {id: clean, action: allow, match: {program: rm, args: [build, dist, '*.o']}}\n"
        "  - {id: plus, action: deny, reason: p, match: {program: git, subcommand: push, any_arg: '+*'}}\n"
        "  - {id: dyn, action: deny, reason: d, match: {program: cat, args: '*'}}\n");
    fx f;
    BASH(&f, p, "rm", "-rf", "build", "dist", "a.o"); assert_non_null(findingOf(&f, "clean")); fxFree(&f);
    BASH(&f, p, "rm", "-rf", "build", "src"); assert_null(findingOf(&f, "clean")); fxFree(&f);
    BASH(&f, p, "rm", "-rf"); assert_null(findingOf(&f, "clean")); fxFree(&f);   /* needs an operand */
    BASH(&f, p, "rm", "$X"); assert_null(findingOf(&f, "clean")); fxFree(&f);    /* allow: not run-time values */
    BASH(&f, p, "git", "push", "origin", "+main"); assert_non_null(findingOf(&f, "plus")); fxFree(&f);
    BASH(&f, p, "git", "push", "origin", "main"); assert_null(findingOf(&f, "plus")); fxFree(&f);
    BASH(&f, p, "cat", "$X"); assert_non_null(findingOf(&f, "dyn")); fxFree(&f);  /* deny: still matches */
    lh_policy_free(p);
}

static void test_path_keys(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - {id: secret, action: deny, reason: s, match: {path_class: secret}}\n"
        "  - {id: tmp-only, action: allow, match: {program: rm, path_class: temp}}\n"
        "  - {id: cache, action: allow, match: {program: rm, path: '/var/www/app/cache/**'}}\n"
        "  - {id: mine, action: escalate, reason: m, match: {program: touch, path: '~/notes/*'}}\n"
        "  - {id: rel, action: escalate, reason: r, match: {program: touch, path: 'build/**'}}\n");
    fx f;
    BASH(&f, p, "cat", "-n", "~/.ssh/id_rsa");
    const lh_finding *s = findingOf(&f, "secret");
    assert_non_null(s);
    assert_string_equal(s->subject, "/home/dev/.ssh/id_rsa");
    fxFree(&f);
    /* deny/escalate: any path; allow: every path */
    BASH(&f, p, "rm", "-rf", "/tmp/a", "/tmp/b"); assert_non_null(findingOf(&f, "tmp-only")); fxFree(&f);
    BASH(&f, p, "rm", "-rf", "/tmp/a", "/etc"); assert_null(findingOf(&f, "tmp-only")); fxFree(&f);
    BASH(&f, p, "rm", "-rf", "/var/www/app/cache"); assert_non_null(findingOf(&f, "cache")); fxFree(&f);
    BASH(&f, p, "rm", "-rf", "/var/www/app/cache/x/y"); assert_non_null(findingOf(&f, "cache")); fxFree(&f);
    BASH(&f, p, "rm", "-rf", "/var/www/app"); assert_null(findingOf(&f, "cache")); fxFree(&f);
    BASH(&f, p, "touch", "~/notes/a"); assert_non_null(findingOf(&f, "mine")); fxFree(&f);
    BASH(&f, p, "touch", "/home/dev/notes/a"); assert_non_null(findingOf(&f, "mine")); fxFree(&f);
    BASH(&f, p, "touch", "~/notes/a/b"); assert_null(findingOf(&f, "mine")); fxFree(&f);
    BASH(&f, p, "touch", "build/x/y"); assert_non_null(findingOf(&f, "rel")); fxFree(&f);
    BASH(&f, p, "touch", "/home/dev/project/build/z"); assert_non_null(findingOf(&f, "rel")); fxFree(&f);
    BASH(&f, p, "touch", "/home/dev/other/build/z"); assert_null(findingOf(&f, "rel")); fxFree(&f);
    /* a redirection target is a path too, even with no command word */
    fxInit(&f, LH_TOOL_BASH, "Bash");
    int c0 = addCmd(&f, 0, NULL);
    addRedir(&f, c0, LH_R_OUT, "/home/dev/project/.env");
    lh_policy_match(p, &f.c);
    assert_non_null(findingOf(&f, "secret"));
    fxFree(&f);
    /* far more operands than the cache holds: the last one still counts */
    fxInit(&f, LH_TOOL_BASH, "Bash");
    c0 = addCmd(&f, 0, "cat", NULL);
    lh_cmd *cmd = &f.script.cmds[c0];
    lh_word *many = lh_arena_calloc(f.a, sizeof(lh_word) * 5001);
    many[0] = cmd->argv[0];
    cmd->argv = many;
    for (int i = 0; i < 5000; i++) {
        cmd->argv[cmd->argc].s = i == 4999 ? "~/.aws/.env" : "file";
        cmd->argv[cmd->argc].len = (uint32_t)strlen(cmd->argv[cmd->argc].s);
        cmd->argc++;
    }
    lh_policy_match(p, &f.c);
    assert_non_null(findingOf(&f, "secret"));
    fxFree(&f);
    lh_policy_free(p);
}

/* Rules with only `path` take a fast path that skips classification for plain words;
 * it must agree with the classified form on every word. */
static void test_fast_path_norm_agrees(void **state) {
    (void)state;
    static const char *const pats[] = {"/srv/**", "build/**", "~/notes/*", "**/.env", "/tmp/*.log",
                                       "/home/dev/project/*", "/var/www/app/cache/**"};
    static const char *const words[] = {"/srv/a/b", "build/x", "a", "/var/www/app/cache/x",
                                        "/tmp/*.log", "./build/x", "../project/build/y", "~/notes/a",
                                        "/srv//a", "/srv/a/", "$HOME/notes/a", "/home/dev/project/.env",
                                        ".env", "/srv/./a", "/var/www/app/cache", "/"};
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        char y[512];
        snprintf(y, sizeof(y),
                 "rules:\n"
                 "  - {id: fast, action: deny, reason: f, match: {program: x, path: '%s'}}\n"
                 "  - {id: slow, action: deny, reason: s, match: {program: x, path: '%s', path_class: "
                 "[project, temp, home, secret, system, device, virtual, root, other, unknown]}}\n",
                 pats[i], pats[i]);
        lh_policy *p = parseOk(y);
        for (size_t j = 0; j < sizeof(words) / sizeof(words[0]); j++) {
            fx f;
            BASH(&f, p, "x", words[j]);
            int fast = findingOf(&f, "fast") != NULL, slow = findingOf(&f, "slow") != NULL;
            if (fast != slow) fail_msg("'%s' on '%s': fast %d, classified %d", pats[i], words[j], fast, slow);
            fxFree(&f);
        }
        lh_policy_free(p);
    }
}

static void test_who_sudo_regex(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - {id: ops, action: allow, match: {program: systemctl, agent: 'ops-*', role: [admin, expert]}}\n"
        "  - {id: sudo, action: escalate, reason: s, match: {program: apt, sudo: true}}\n"
        "  - {id: nosudo, action: allow, match: {program: apt, sudo: false}}\n"
        "  - {id: curl-ip, action: deny, reason: raw IP, match: {program: curl, regex: 'https?://\\d+\\.\\d+'}}\n"
        "  - {id: txt, action: escalate, reason: t, match: {regex: 'DROP\\s+TABLE'}}\n");
    fx f;
    fxInit(&f, LH_TOOL_BASH, "Bash");
    f.req.agent = "ops-7";
    f.req.role = "admin";
    addCmd(&f, 0, "systemctl", "restart", "nginx", NULL);
    lh_policy_match(p, &f.c);
    assert_non_null(findingOf(&f, "ops"));
    fxFree(&f);
    fxInit(&f, LH_TOOL_BASH, "Bash");
    f.req.agent = "ops-7";
    f.req.role = "builder";
    addCmd(&f, 0, "systemctl", "restart", "nginx", NULL);
    lh_policy_match(p, &f.c);
    assert_null(findingOf(&f, "ops"));
    fxFree(&f);
    BASH(&f, p, "systemctl", "restart", "nginx"); assert_null(findingOf(&f, "ops")); fxFree(&f); /* no agent */

    fxInit(&f, LH_TOOL_BASH, "Bash");
    addCmd(&f, LH_C_SUDO, "apt", "install", "x", NULL);
    addCmd(&f, 0, "apt", "list", NULL);
    lh_policy_match(p, &f.c);
    assert_int_equal(findingOf(&f, "sudo")->cmd, 0);
    assert_int_equal(findingOf(&f, "nosudo")->cmd, 1);
    assert_int_equal(countOf(&f, "sudo"), 1);
    fxFree(&f);

    fxInit(&f, LH_TOOL_BASH, "Bash");
    f.req.command = "curl http://10.0.0.1/x; echo 'DROP  TABLE users'";
    f.req.command_len = strlen(f.req.command);
    addCmd(&f, 0, "curl", "http://10.0.0.1/x", NULL);
    addCmd(&f, 0, "echo", "DROP  TABLE users", NULL);
    lh_policy_match(p, &f.c);
    assert_int_equal(findingOf(&f, "curl-ip")->cmd, 0);
    /* a rule with only request-level keys matches the request once (cmd -1) */
    assert_int_equal(countOf(&f, "txt"), 1);
    assert_int_equal(findingOf(&f, "txt")->cmd, -1);
    fxFree(&f);
    lh_policy_free(p);
}

/* ------------------------------------------------------------------------------ */
/* Matching other tools                                                            */
/* ------------------------------------------------------------------------------ */

static void test_tools(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - {id: ro, action: allow, match: {tool: [Read, Glob, Grep, LS]}}\n"
        "  - {id: mcp-ro, action: allow, match: {tool: ['mcp__*__get_*', 'mcp__*__list_*']}}\n"
        "  - {id: no-etc, action: deny, reason: e, match: {tool: [Write, Edit], path_class: system}}\n"
        "  - {id: envs, action: escalate, reason: env, match: {path: '**/.env'}}\n"
        "  - {id: rmrule, action: deny, reason: r, match: {program: rm}}\n");
    fx f;
    fxInit(&f, LH_TOOL_READ, "Read");
    f.req.file_path = "/home/dev/project/src/a.c";
    lh_policy_match(p, &f.c);
    assert_int_equal(f.c.nfindings, 1);
    assert_string_equal(f.c.findings[0].rule, "ro");
    assert_int_equal(f.c.findings[0].cmd, -1);
    fxFree(&f);

    fxInit(&f, LH_TOOL_MCP, "mcp__github__get_issue");
    lh_policy_match(p, &f.c);
    assert_non_null(findingOf(&f, "mcp-ro"));
    fxFree(&f);
    fxInit(&f, LH_TOOL_MCP, "mcp__github__delete_repo");
    lh_policy_match(p, &f.c);
    assert_int_equal(f.c.nfindings, 0);
    fxFree(&f);

    fxInit(&f, LH_TOOL_WRITE, "Write");
    f.req.file_path = "/etc/hosts";
    lh_policy_match(p, &f.c);
    assert_non_null(findingOf(&f, "no-etc"));
    assert_string_equal(findingOf(&f, "no-etc")->subject, "/etc/hosts");
    fxFree(&f);
    fxInit(&f, LH_TOOL_READ, "Read");
    f.req.file_path = "/etc/hosts";
    lh_policy_match(p, &f.c);
    assert_null(findingOf(&f, "no-etc"));
    fxFree(&f);
    /* a rule without tool or command keys covers file tools and Bash alike */
    fxInit(&f, LH_TOOL_EDIT, "Edit");
    f.req.file_path = "/home/dev/project/.env";
    lh_policy_match(p, &f.c);
    assert_non_null(findingOf(&f, "envs"));
    assert_null(findingOf(&f, "rmrule"));
    fxFree(&f);
    BASH(&f, p, "cp", "/home/dev/project/.env", "/tmp/x");
    assert_non_null(findingOf(&f, "envs"));
    assert_null(findingOf(&f, "ro"));
    fxFree(&f);
    lh_policy_free(p);
}

/* ------------------------------------------------------------------------------ */
/* Adjusting analyzer findings                                                     */
/* ------------------------------------------------------------------------------ */

static void test_adjust_settings(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules: []\n"
        "analyzers:\n"
        "  code.opaque: {enabled: false}\n"
        "  code.recursive-delete:\n"
        "    action: escalate\n"
        "    risk: medium\n"
        "    except:\n"
        "      - path: '/var/www/app/cache/**'\n"
        "      - {agent: 'ops-*', program: rm}\n"
        "  shell.parse-error: {action: deny}\n");
    fx f;
    fxInit(&f, LH_TOOL_BASH, "Bash");
    addCmd(&f, 0, "python3", "-c", "x", NULL);
    addCmd(&f, 0, "rm", "-rf", "/var/www/app/cache", NULL);
    lh_emit(&f.c, 0, LH_RULE(CODE_OPAQUE), NULL);
    lh_emit(&f.c, 0, LH_RULE(CODE_DELETE), "/srv/data");
    lh_emit(&f.c, 1, LH_RULE(CODE_DELETE), "/var/www/app/cache/tmp");
    lh_emit(&f.c, 1, LH_RULE(CODE_DELETE), NULL);         /* no subject: the command's paths */
    lh_emit(&f.c, -1, LH_RULE(PARSE_ERROR), NULL);
    lh_policy_adjust(p, &f.c);
    lh_finding *x = f.c.findings;
    assert_string_equal(x[0].overridden_by, "disabled:code.opaque");
    assert_null(x[1].overridden_by);
    assert_int_equal(x[1].action, LH_ESCALATE);
    assert_int_equal(x[1].risk, LH_RISK_MEDIUM);
    assert_string_equal(x[2].overridden_by, "exception:code.recursive-delete");
    assert_string_equal(x[3].overridden_by, "exception:code.recursive-delete");
    assert_null(x[4].overridden_by);
    assert_int_equal(x[4].action, LH_DENY);
    fxFree(&f);

    /* the agent exception needs both keys */
    fxInit(&f, LH_TOOL_BASH, "Bash");
    f.req.agent = "ops-1";
    addCmd(&f, 0, "rm", "-rf", "/srv/x", NULL);
    addCmd(&f, 0, "perl", "-e", "x", NULL);
    lh_emit(&f.c, 0, LH_RULE(CODE_DELETE), "/srv/x");
    lh_emit(&f.c, 1, LH_RULE(CODE_DELETE), "/srv/x");
    lh_policy_adjust(p, &f.c);
    assert_non_null(f.c.findings[0].overridden_by);
    assert_null(f.c.findings[1].overridden_by);
    fxFree(&f);
    lh_policy_free(p);
}

static void test_overrides(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "rules:\n"
        "  - id: py-ok\n"
        "    action: allow\n"
        "    reason: our build scripts\n"
        "    match: {program: python3, args: ['scripts/*.py']}\n"
        "    overrides: ['code.*']\n"
        "  - id: ops\n"
        "    action: allow\n"
        "    match: {agent: ops-bot}\n"
        "    overrides: [shell.dynamic-command]\n");
    fx f;
    fxInit(&f, LH_TOOL_BASH, "Bash");
    addCmd(&f, 0, "python3", "scripts/gen.py", NULL);
    addCmd(&f, 0, "python3", "-c", "x", NULL);
    lh_policy_match(p, &f.c);
    assert_int_equal(f.c.nfindings, 1);
    lh_emit(&f.c, 0, LH_RULE(CODE_OPAQUE), NULL);          /* same command: overridden */
    lh_emit(&f.c, 0, LH_RULE(DYNAMIC_CMD), NULL);          /* not named: stays */
    lh_emit(&f.c, 1, LH_RULE(CODE_OPAQUE), NULL);          /* other command: stays */
    lh_emit(&f.c, 0, LH_RULE(PARSE_ERROR), NULL);          /* protected: stays */
    lh_policy_adjust(p, &f.c);
    assert_string_equal(f.c.findings[1].overridden_by, "policy:py-ok");
    assert_null(f.c.findings[2].overridden_by);
    assert_null(f.c.findings[3].overridden_by);
    assert_null(f.c.findings[4].overridden_by);
    fxFree(&f);

    /* a rule that matched the whole request covers every command */
    fxInit(&f, LH_TOOL_BASH, "Bash");
    f.req.agent = "ops-bot";
    addCmd(&f, LH_C_DYNAMIC_CMD, "$x", NULL);
    addCmd(&f, LH_C_DYNAMIC_CMD, "$y", NULL);
    lh_policy_match(p, &f.c);
    lh_emit(&f.c, 0, LH_RULE(DYNAMIC_CMD), "$x");
    lh_emit(&f.c, 1, LH_RULE(DYNAMIC_CMD), "$y");
    lh_emit(&f.c, 1, LH_RULE(CODE_OPAQUE), NULL);
    lh_policy_adjust(p, &f.c);
    assert_string_equal(findingOf(&f, "shell.dynamic-command")->overridden_by, "policy:ops");
    assert_string_equal(f.c.findings[2].overridden_by, "policy:ops");
    assert_null(findingOf(&f, "code.opaque")->overridden_by);
    fxFree(&f);
    lh_policy_free(p);
}

/* ------------------------------------------------------------------------------ */
/* Whole decisions through the engine                                              */
/* ------------------------------------------------------------------------------ */

static lh_decision decideWith(lh_engine *e, lh_arena *a, const char *tool, const char *cmd_or_path,
                              const char *agent) {
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool_name = tool;
    r.tool = lh_tool_from_name(tool);
    if (r.tool == LH_TOOL_BASH) { r.command = cmd_or_path; r.command_len = strlen(cmd_or_path); }
    else r.file_path = cmd_or_path;
    r.cwd = "/home/dev/project";
    r.home = "/home/dev";
    r.agent = agent;
    lh_decision d;
    lh_engine_decide(e, &r, a, &d, LH_DECIDE_NOCACHE);
    return d;
}

/* settings.allowed_hosts: the listed internal hosts are no longer escalated by
 * net.internal-host / net.cloud-metadata; others still are. */
static void test_allowed_hosts(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "settings:\n"
        "  allowed_hosts: ['*.corp.example.internal', 'Wiki.Internal', '10.0.3.17']\n"
        "rules: []\n");
    char err[128];
    lh_engine *e = lh_engine_new(p, 0, err, sizeof(err));
    assert_non_null(e);
    lh_arena *a = lh_arena_new(65536);
    lh_decision d = decideWith(e, a, "Bash", "curl https://ci.corp.example.internal/api", NULL);
    assert_int_equal(d.action, LH_ALLOW);
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "curl http://10.0.3.17:8500/v1/kv/", NULL);
    assert_int_equal(d.action, LH_ALLOW);
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "curl http://10.0.3.18:8500/v1/kv/", NULL);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "net.internal-host");
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "curl http://169.254.169.254/latest/meta-data/", NULL);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "net.cloud-metadata");
    lh_arena_reset(a);
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool_name = "WebFetch";
    r.tool = LH_TOOL_WEBFETCH;
    r.url = "http://WIKI.internal./Runbooks";
    r.cwd = "/home/dev/project";
    lh_engine_decide(e, &r, a, &d, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ALLOW);
    lh_arena_reset(a);
    r.url = "http://jira.internal/browse/X-1";
    lh_engine_decide(e, &r, a, &d, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ESCALATE);
    lh_arena_free(a);
    lh_engine_free(e);
    /* the default policy lists none */
    e = lh_engine_new(NULL, 0, err, sizeof(err));
    assert_non_null(e);
    a = lh_arena_new(65536);
    d = decideWith(e, a, "Bash", "curl https://ci.corp.example.internal/api", NULL);
    assert_int_equal(d.action, LH_ESCALATE);
    lh_arena_free(a);
    lh_engine_free(e);
    expectError("settings: {allowed_hosts: wiki.internal}\nrules: []\n", 1, 27, "allowed_hosts must be a list");
}

/* Pushes to protected branches escalate by default; the policy can allow them. */
static void test_push_protected_configurable(void **state) {
    (void)state;
    char err[128];
    lh_engine *e = lh_engine_new(NULL, 0, err, sizeof(err));
    assert_non_null(e);
    lh_arena *a = lh_arena_new(65536);
    lh_decision d = decideWith(e, a, "Bash", "git push origin main", NULL);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "git.push-protected");
    lh_engine_free(e);
    lh_arena_reset(a);
    lh_policy *p = parseOk("rules: []\nanalyzers:\n  git.push-protected: {action: allow}\n");
    e = lh_engine_new(p, 0, err, sizeof(err));
    assert_non_null(e);
    d = decideWith(e, a, "Bash", "git push origin main", NULL);
    assert_int_equal(d.action, LH_ALLOW);
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "git push --force origin main", NULL);   /* force stays denied */
    assert_int_equal(d.action, LH_DENY);
    lh_arena_free(a);
    lh_engine_free(e);
}

static void test_engine_end_to_end(void **state) {
    (void)state;
    lh_policy *p = parseOk(
        "revision: e2e-1\n"
        "rules:\n"
        "  - {id: no-terraform, action: deny, reason: not from agents, match: {program: terraform}}\n"
        "  - {id: gh-ok, action: allow, match: {tool: 'mcp__github__*'}}\n"
        "  - {id: ops-dyn, action: allow, match: {agent: ops-bot}, overrides: [shell.dynamic-command]}\n");
    char err[128];
    lh_engine *e = lh_engine_new(p, 0, err, sizeof(err));
    assert_non_null(e);
    lh_arena *a = lh_arena_new(65536);
    lh_decision d = decideWith(e, a, "Bash", "terraform plan && ls", NULL);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "no-terraform");
    assert_int_equal(d.tier, LH_TIER_POLICY);
    assert_string_equal(d.policy_revision, "e2e-1");
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "sudo -u x terraform plan", NULL);   /* after unwrapping */
    assert_int_equal(d.action, LH_DENY);
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "echo terraform", NULL);
    assert_int_equal(d.action, LH_ALLOW);
    lh_arena_reset(a);
    d = decideWith(e, a, "mcp__github__create_issue", "", NULL);
    assert_int_equal(d.action, LH_ALLOW);
    assert_string_equal(d.rule, "gh-ok");
    lh_arena_reset(a);
    d = decideWith(e, a, "mcp__slack__post", "", NULL);
    assert_int_equal(d.action, LH_ESCALATE);
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "$CMD --version", NULL);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "shell.dynamic-command");
    lh_arena_reset(a);
    d = decideWith(e, a, "Bash", "$CMD --version", "ops-bot");
    assert_int_equal(d.action, LH_ALLOW);
    assert_string_equal(d.rule, "ops-dyn");
    lh_arena_free(a);
    lh_engine_free(e);
}


/* Rule packs: a pack switched off no longer decides its case; one switched on does.
 * One case per pack (the same calls as tests/corpus/packs.jsonl). */
static void test_rule_packs(void **state) {
    (void)state;
    static const struct { const char *pack, *rule, *cmd; int on; lh_action act; } cases[] = {
        {"saas", "pack.saas.delete", "stripe customers delete cus_Q1w2e3r4", 1, LH_DENY},
        {"objstore", "pack.objstore.delete", "mc rm prod/uploads/logo.png", 1, LH_ESCALATE},
        {"backup", "pack.backup.delete", "borg delete /backup/repo::host-2026-12-01", 1, LH_DENY},
        {"brokers", "pack.brokers.delete", "rpk topic delete orders", 0, LH_DENY},
        {"secrets", "pack.secrets.delete", "doppler secrets delete STRIPE_KEY -y", 1, LH_DENY},
        {"disk", "pack.disk.delete", "btrfs sub del /snapshots/2026-12-01", 1, LH_DENY},
    };
    char err[128], yaml[256];
    lh_arena *a = lh_arena_new(65536);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int mode = 0; mode < 4; mode++) {   /* default, map on, map off, list of the others */
            if (mode == 0) snprintf(yaml, sizeof(yaml), "rules: []\n");
            else if (mode == 1) snprintf(yaml, sizeof(yaml), "rules: []\npacks: {%s: true}\n", cases[i].pack);
            else if (mode == 2) snprintf(yaml, sizeof(yaml), "rules: []\npacks: {%s: false}\n", cases[i].pack);
            else snprintf(yaml, sizeof(yaml), "rules: []\npacks: [%s]\n", strcmp(cases[i].pack, "saas") ? "saas" : "disk");
            int on = mode == 0 ? cases[i].on : mode == 1;
            lh_engine *e = lh_engine_new(parseOk(yaml), 0, err, sizeof(err));
            assert_non_null(e);
            lh_arena_reset(a);
            lh_decision d = decideWith(e, a, "Bash", cases[i].cmd, NULL);
            if (on) {
                assert_int_equal(d.action, cases[i].act);
                assert_string_equal(d.rule, cases[i].rule);
            } else {
                assert_int_equal(d.action, LH_ALLOW);
            }
            lh_engine_free(e);
        }
    }
    lh_arena_free(a);
    expectError("rules: []\npacks: {nosuch: true}\n", 2, 0, "unknown rule pack");
    expectError("rules: []\npacks: [saas, nosuch]\n", 2, 0, "unknown rule pack");
    expectError("rules: []\npacks: {saas: maybe}\n", 2, 0, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_reply_hmac),
        cmocka_unit_test(test_revision),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_default_policy_loads),
        cmocka_unit_test(test_full_rule_parses),
        cmocka_unit_test(test_yaml_syntax_error_has_position),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types_and_enums),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_regex_errors),
        cmocka_unit_test(test_analyzer_ids_checked),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_many_errors_reported),
        cmocka_unit_test(test_program_and_subcommand),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_path_keys),
        cmocka_unit_test(test_fast_path_norm_agrees),
        cmocka_unit_test(test_who_sudo_regex),
        cmocka_unit_test(test_tools),
        cmocka_unit_test(test_adjust_settings),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_engine_end_to_end),
        cmocka_unit_test(test_rule_packs),
        cmocka_unit_test(test_allowed_hosts),
        cmocka_unit_test(test_push_protected_configurable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
