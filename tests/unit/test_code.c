/* test_code.c — the per-language tokenizers of src/engine/code_lex.c: the canonical form
 * of inline code and the writes and evaluations found in it. The code strings are data:
 * they are only read by the tokenizer, never run. */
#include "testutil.h"

#include <stdio.h>

#include "engine/code_lex.h"

static lh_arena *A;

static int setup(void **st) { (void)st; A = lh_arena_new(1 << 16); return 0; }
static int teardown(void **st) { (void)st; lh_arena_free(A); return 0; }

static const char *canon(lh_lang lang, const char *code) {
    size_t n;
    const char *out = lh_code_canon(A, lang, code, strlen(code), &n);
    assert_non_null(out);
    assert_int_equal(n, strlen(out));
    return out;
}

/* The canonical form contains want. */
static void hasCanon(lh_lang lang, const char *code, const char *want) {
    const char *out = canon(lang, code);
    if (!strstr(out, want)) fail_msg("canon(%s) = %s; want it to contain %s", code, out, want);
}

static void test_lang_of_program(void **st) {
    (void)st;
    assert_int_equal(lh_code_lang("python3"), LH_LANG_PYTHON);
    assert_int_equal(lh_code_lang("python3.12"), LH_LANG_PYTHON);
    assert_int_equal(lh_code_lang("node"), LH_LANG_JS);
    assert_int_equal(lh_code_lang("perl"), LH_LANG_PERL);
    assert_int_equal(lh_code_lang("ruby"), LH_LANG_RUBY);
    assert_int_equal(lh_code_lang("php"), LH_LANG_PHP);
    assert_int_equal(lh_code_lang("luajit"), LH_LANG_LUA);
    assert_int_equal(lh_code_lang("tclsh"), LH_LANG_NONE);
}

static void test_python_aliases(void **st) {
    (void)st;
    const char *out0;
    hasCanon(LH_LANG_PYTHON, "import shutil as s; s.rmtree('/x')", "shutil.rmtree('/x')");
    hasCanon(LH_LANG_PYTHON, "import os; import shutil as s; s.rmtree('/x')", "shutil.rmtree('/x')");
    hasCanon(LH_LANG_PYTHON, "from os import system as x; x('ls')", "os.system('ls')");
    hasCanon(LH_LANG_PYTHON, "from subprocess import (run as r, call)\nr('ls')", "subprocess.run('ls')");
    hasCanon(LH_LANG_PYTHON, "import os\nf = os.system\nf('ls')", "os.system('ls')");
    hasCanon(LH_LANG_PYTHON, "s = __import__('subprocess'); s.call('ls')", "subprocess.call('ls')");
    hasCanon(LH_LANG_PYTHON, "import os, subprocess as sp; sp.call('ls')", "subprocess.call('ls')");
    /* a module whose name ends in "as" binds no alias to the next line's first name */
    out0 = canon(LH_LANG_PYTHON, "import pandas\nx = 1\nx.y");
    assert_null(strstr(out0, "pand.y"));
    assert_non_null(strstr(out0, "\nx.y"));
    /* an alias is not applied after a dot: obj.s is another name */
    const char *out = canon(LH_LANG_PYTHON, "import shutil as s; obj.s.rmtree('/x')");
    assert_non_null(strstr(out, "obj.s.rmtree"));
    /* a comparison is not an assignment */
    out = canon(LH_LANG_PYTHON, "import os\nif f == os.system: f('ls')");
    assert_null(strstr(out, "os.system('ls')"));
}

static void test_python_access_by_string(void **st) {
    (void)st;
    hasCanon(LH_LANG_PYTHON, "getattr(os, 'system')('ls')", "os.system('ls')");
    hasCanon(LH_LANG_PYTHON, "__import__('os').system('ls')", "os.system('ls')");
    hasCanon(LH_LANG_PYTHON, "importlib.import_module('os').popen('ls')", "os.popen('ls')");
    hasCanon(LH_LANG_PYTHON, "vars(os)['system']('ls')", "os.system('ls')");
    hasCanon(LH_LANG_PYTHON, "os.__dict__['system']('ls')", "os.system('ls')");
    hasCanon(LH_LANG_PYTHON, "globals()['rmtree']('/x')", "rmtree('/x')");
    /* environment lookups keep their index form (unwrap.c reads os.environ['HOME']) */
    hasCanon(LH_LANG_PYTHON, "os.environ['HOME']", "os.environ['HOME']");
    /* strings are copied untouched, even when they look like code */
    hasCanon(LH_LANG_PYTHON, "print(\"import shutil as s; getattr(os, 'system')\")",
             "\"import shutil as s; getattr(os, 'system')\"");
    /* Python's exec is kept apart from shell exec calls */
    hasCanon(LH_LANG_PYTHON, "exec('print(1)')", "py_exec('print(1)')");
}

static void test_js(void **st) {
    (void)st;
    hasCanon(LH_LANG_JS, "const {execSync: e} = require('child_process'); e('ls')", "execSync('ls')");
    hasCanon(LH_LANG_JS, "const cp = require('node:child_process'); cp.exec('ls')", " exec('ls')");
    hasCanon(LH_LANG_JS, "require('child_process')['exec']('ls')", "exec('ls')");
    hasCanon(LH_LANG_JS, "import { execSync as run } from 'child_process'; run('ls')", "execSync('ls')");
    /* an object literal is not a destructuring */
    const char *out = canon(LH_LANG_JS, "f({recursive: r}); r('x')");
    assert_null(strstr(out, "recursive('x')"));
    /* comments are not code */
    out = canon(LH_LANG_JS, "// const {execSync: e} = x\ne('ls')");
    assert_null(strstr(out, "execSync('ls')"));
}

static void test_perl_ruby_php_lua(void **st) {
    (void)st;
    hasCanon(LH_LANG_PERL, "system \"ls -l\"", "system(\"ls -l\"");
    hasCanon(LH_LANG_PERL, "exec \"git\", \"status\"", "exec([\"git\", \"status\"])");
    hasCanon(LH_LANG_RUBY, "system 'ls'", "system('ls'");
    hasCanon(LH_LANG_RUBY, "Kernel.system('ls', '-l')", "system(['ls', '-l'])");
    hasCanon(LH_LANG_RUBY, "send(:system, 'ls')", "system( 'ls')");
    hasCanon(LH_LANG_PHP, "$f = \"system\"; $f(\"ls\");", "system(\"ls\")");
    hasCanon(LH_LANG_PHP, "call_user_func('system', 'ls');", "system( 'ls')");
    hasCanon(LH_LANG_LUA, "os.execute('ls')", "os.system('ls')");
    hasCanon(LH_LANG_LUA, "local x = io.popen; x('ls')", "os.popen('ls')");
    /* Lua comments */
    const char *out = canon(LH_LANG_LUA, "-- os.execute('ls')\nprint(1)");
    assert_null(strstr(out, "os.system"));
}

typedef struct effect_case {
    lh_lang lang;
    const char *code;
    int kind;              /* -1: no effect expected */
    const char *text;      /* expected text (substring), or NULL */
} effect_case;

static void test_effects(void **st) {
    (void)st;
    static const effect_case cases[] = {
        {LH_LANG_PYTHON, "open('/x/y', 'w').write('')", LH_CODE_WRITE, ": > '/x/y'"},
        {LH_LANG_PYTHON, "open('/x/y', mode='a')", LH_CODE_WRITE, ": > '/x/y'"},
        {LH_LANG_PYTHON, "open('/x/y').read()", -1, NULL},
        {LH_LANG_PYTHON, "open('~/.bashrc', 'a')", LH_CODE_WRITE, ": > ~/'.bashrc'"},
        {LH_LANG_PYTHON, "Path('/x/it\\'s').write_text('')", LH_CODE_WRITE, "'/x/it'\\''s'"},
        {LH_LANG_PYTHON, "open(p, 'w')", -1, NULL},
        {LH_LANG_PYTHON, "py_exec('print(1)')", LH_CODE_EVAL, "print(1)"},
        {LH_LANG_PYTHON, "py_exec(base64.b64decode(x))", LH_CODE_EVAL_OPAQUE, "base64.b64decode(x)"},
        {LH_LANG_PYTHON, "eval(f'{x}')", LH_CODE_EVAL_OPAQUE, NULL},
        {LH_LANG_PYTHON, "ast.literal_eval(x)", -1, NULL},
        {LH_LANG_PYTHON, "re.compile(x)", -1, NULL},
        {LH_LANG_JS, "fs.writeFileSync('/x', '')", LH_CODE_WRITE, ": > '/x'"},
        {LH_LANG_JS, "new Function(a)()", LH_CODE_EVAL_OPAQUE, "a"},
        {LH_LANG_JS, "eval('1+2')", LH_CODE_EVAL, "1+2"},
        {LH_LANG_JS, "eval(`${x}`)", LH_CODE_EVAL_OPAQUE, NULL},
        {LH_LANG_PERL, "open(my $f, '>', '/x')", LH_CODE_WRITE, ": > '/x'"},
        {LH_LANG_PERL, "open(my $f, '<', '/x')", -1, NULL},
        {LH_LANG_PERL, "open F, '>>/x'", LH_CODE_WRITE, ": > '/x'"},
        {LH_LANG_PERL, "eval { 1 }", -1, NULL},
        {LH_LANG_PERL, "eval $code", LH_CODE_EVAL_OPAQUE, "$code"},
        {LH_LANG_PERL, "eval \"print 1\"", LH_CODE_EVAL, "print 1"},
        {LH_LANG_PERL, "eval \"print $x\"", LH_CODE_EVAL_OPAQUE, NULL},
        {LH_LANG_RUBY, "File.write('/x', '')", LH_CODE_WRITE, ": > '/x'"},
        {LH_LANG_RUBY, "File.open('/x', 'r')", -1, NULL},
        {LH_LANG_RUBY, "x.instance_eval { 1 }", -1, NULL},
        {LH_LANG_PHP, "file_put_contents('/x', 'y');", LH_CODE_WRITE, ": > '/x'"},
        {LH_LANG_PHP, "fopen('/x', 'r');", -1, NULL},
        {LH_LANG_PHP, "eval($_GET['c']);", LH_CODE_EVAL_OPAQUE, "$_GET"},
        {LH_LANG_LUA, "io.open('/x', 'w')", LH_CODE_WRITE, ": > '/x'"},
        {LH_LANG_LUA, "loadstring(s)()", LH_CODE_EVAL_OPAQUE, "s"},
        {LH_LANG_PYTHON, "getattr(os, 'sys' + 'tem')", LH_CODE_EVAL_OPAQUE, "getattr"},
        {LH_LANG_PYTHON, "getattr(os, 'sep')", -1, NULL},
        {LH_LANG_PYTHON, "getattr(obj, name)", -1, NULL},
        {LH_LANG_PYTHON, "__import__(m)", LH_CODE_EVAL_OPAQUE, "__import__"},
        {LH_LANG_PYTHON, "__import__('json')", -1, NULL},
        {LH_LANG_JS, "[].constructor.constructor(s)()", LH_CODE_EVAL_OPAQUE, "s"},
        {LH_LANG_JS, "x.constructor(1)", -1, NULL},
        {LH_LANG_PHP, "$f('id');", LH_CODE_EVAL_OPAQUE, "$f"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const effect_case *c = &cases[i];
        lh_code_effect fx[4];
        int n = lh_code_effects(A, c->lang, c->code, strlen(c->code), fx, 4);
        if (c->kind < 0) {
            if (n != 0) fail_msg("%s: want no effect, got %d (%s)", c->code, n, fx[0].text);
            continue;
        }
        if (n != 1) fail_msg("%s: want one effect, got %d", c->code, n);
        if ((int)fx[0].kind != c->kind) fail_msg("%s: kind %d, want %d", c->code, fx[0].kind, c->kind);
        if (c->text && !strstr(fx[0].text, c->text))
            fail_msg("%s: text %s, want %s", c->code, fx[0].text, c->text);
    }
}

static void test_bounded(void **st) {
    (void)st;
    /* unterminated strings and comments end at the end of the code */
    canon(LH_LANG_PYTHON, "x = '");
    canon(LH_LANG_JS, "/* a");
    canon(LH_LANG_PYTHON, "from");
    canon(LH_LANG_JS, "{ a: ");
    canon(LH_LANG_RUBY, "system");
    lh_code_effect fx[2];
    assert_true(lh_code_effects(A, LH_LANG_PYTHON, "eval(", 5, fx, 2) >= 0);
    /* more aliases than the table holds are ignored, not overflowed */
    char big[4096];
    size_t o = 0;
    for (int i = 0; i < 60; i++) o += (size_t)snprintf(big + o, sizeof(big) - o, "import os as a%d\n", i);
    canon(LH_LANG_PYTHON, big);
    /* an alias that refers to itself grows by one name a statement: it is dropped when
     * long, and aliases stop applying when the code has grown four times over (the
     * output is at most five times the input, plus a constant) */
    o = 0;
    for (int i = 0; i < 200; i++) o += (size_t)snprintf(big + o, sizeof(big) - o, "i = i.n\n");
    const char *out = canon(LH_LANG_PYTHON, big);
    if (strlen(out) > 5 * o + 4096) fail_msg("canon grew %zu -> %zu", o, strlen(out));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lang_of_program),
        cmocka_unit_test(test_python_aliases),
        cmocka_unit_test(test_python_access_by_string),
        cmocka_unit_test(test_js),
        cmocka_unit_test(test_perl_ruby_php_lua),
        cmocka_unit_test(test_effects),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
