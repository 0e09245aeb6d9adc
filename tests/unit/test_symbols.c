/* test_symbols.c — the symbol finder of annotation anchors (util/symbols.h): per language,
 * the symbols and their line ranges, each with a case meant to trip a scanner (braces in
 * strings and comments, decorators, arrow functions, Go receivers, shell's two forms). */
#include "testutil.h"

#include <stdio.h>

#include "util/symbols.h"

#define MAXS 64

/* "kind name start-end; ..." for the symbols of src. */
static const char *found(lh_src_lang lang, const char *src) {
    static char out[4096];
    lh_symbol v[MAXS];
    int n = lh_symbols_find(lang, src, strlen(src), v, MAXS);
    size_t o = 0;
    out[0] = 0;
    if (n < 0) return "error";
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s %s %d-%d", i ? "; " : "", lh_sym_kind_name(v[i].kind),
                              v[i].name, v[i].start, v[i].end);
    return out;
}

static void test_lang_by_name(void **state) {
    (void)state;
    assert_int_equal(lh_symbols_lang("src/a.c"), LH_SRC_C);
    assert_int_equal(lh_symbols_lang("x/y.h"), LH_SRC_C);
    assert_int_equal(lh_symbols_lang("m.py"), LH_SRC_PYTHON);
    assert_int_equal(lh_symbols_lang("web/app.tsx"), LH_SRC_JS);
    assert_int_equal(lh_symbols_lang("main.go"), LH_SRC_GO);
    assert_int_equal(lh_symbols_lang("scripts/run.sh"), LH_SRC_SHELL);
    assert_int_equal(lh_symbols_lang("README.md"), LH_SRC_NONE);
    assert_int_equal(lh_symbols_lang("a.c/Makefile"), LH_SRC_NONE);
}

static void test_c(void **state) {
    (void)state;
    const char *src =
        "#include <stdio.h>\n"                           /* 1 */
        "#define OPEN {  /* a brace in a macro */ \\\n"  /* 2 */
        "   x\n"                                         /* 3 */
        "struct point { int x, y; };\n"                  /* 4 */
        "static const char *braces = \"{{ }\";\n"        /* 5 */
        "/* int fake(void) { */\n"                       /* 6 */
        "static int\n"                                   /* 7 */
        "add(int a, int b)\n"                            /* 8 */
        "{\n"                                            /* 9 */
        "    if (a) { return '}'; }\n"                   /* 10 */
        "    return a + b; // }\n"                       /* 11 */
        "}\n"                                            /* 12 */
        "int (*fp)(int);\n"                              /* 13 */
        "struct point *origin(void) {\n"                 /* 14 */
        "    static struct point p = {0, 0};\n"          /* 15 */
        "    return &p;\n"                               /* 16 */
        "}\n";                                           /* 17 */
    assert_string_equal(found(LH_SRC_C, src), "class point 4-4; function add 7-12; function origin 14-17");
}

static void test_python(void **state) {
    (void)state;
    const char *src =
        "import os\n"                                    /* 1 */
        "\n"                                             /* 2 */
        "@decorator(arg='x')\n"                          /* 3 */
        "@other\n"                                       /* 4 */
        "def first(a,\n"                                 /* 5 */
        "          b):\n"                                /* 6 */
        "    s = '''\n"                                  /* 7 */
        "def not_a_function():\n"                        /* 8 */
        "'''\n"                                          /* 9 */
        "    return s  # trailing\n"                     /* 10 */
        "    # a comment at the end\n"                   /* 11 */
        "\n"                                             /* 12 */
        "class Shape(Base):\n"                           /* 13 */
        "    \"\"\"Doc.\"\"\"\n"                         /* 14 */
        "    @property\n"                                /* 15 */
        "    def area(self):\n"                          /* 16 */
        "        def inner():\n"                         /* 17 */
        "            pass\n"                             /* 18 */
        "        return 1\n"                             /* 19 */
        "\n"                                             /* 20 */
        "    async def load(self):\n"                    /* 21 */
        "        x = [\n"                                /* 22 */
        "1, 2]\n"                                        /* 23 */
        "x = 1\n";                                       /* 24 */
    assert_string_equal(found(LH_SRC_PYTHON, src),
                        "function first 3-10; class Shape 13-23; method Shape.area 15-19; method Shape.load 21-23");
}

static void test_js_ts(void **state) {
    (void)state;
    const char *src =
        "// function commented() {}\n"                    /* 1 */
        "const re = /[{]/g;\n"                            /* 2 */
        "const tpl = `${a} { not a block`;\n"             /* 3 */
        "export async function load(url: string): Promise<void> {\n"   /* 4 */
        "  const s = \"}\";\n"                            /* 5 */
        "}\n"                                             /* 6 */
        "const add = (a, b) => {\n"                       /* 7 */
        "  return a + b;\n"                               /* 8 */
        "};\n"                                            /* 9 */
        "const sq = x => x * x;\n"                        /* 10 */
        "class Widget extends Base {\n"                   /* 11 */
        "  static count = 0;\n"                           /* 12 */
        "  constructor(el) {\n"                           /* 13 */
        "    super(el);\n"                                /* 14 */
        "  }\n"                                           /* 15 */
        "  async render() {\n"                            /* 16 */
        "    if (x) { y(); }\n"                           /* 17 */
        "  }\n"                                           /* 18 */
        "  onClick = (e) => {\n"                          /* 19 */
        "  };\n"                                          /* 20 */
        "}\n"                                             /* 21 */
        "if (ready) {\n"                                  /* 22 */
        "  init();\n"                                     /* 23 */
        "}\n"                                             /* 24 */
        "main()\n"                                        /* 25 */
        "function last() { return 1 }\n";                 /* 26 */
    assert_string_equal(found(LH_SRC_JS, src),
                        "function load 4-6; function add 7-9; function sq 10-10; class Widget 11-21; "
                        "method Widget.constructor 13-15; method Widget.render 16-18; method Widget.onClick 19-20; "
                        "function last 26-26");
}

static void test_go(void **state) {
    (void)state;
    const char *src =
        "package main\n"                                  /* 1 */
        "import (\"fmt\")\n"                              /* 2: not a candidate for what follows */
        "var raw = `func fake() {`\n"                     /* 3 */
        "type Server struct {\n"                          /* 4 */
        "\tname string\n"                                 /* 5 */
        "}\n"                                             /* 6 */
        "func (s *Server) Start(port int) error {\n"      /* 7 */
        "\tif port == 0 { return nil }\n"                 /* 8 */
        "\treturn nil\n"                                  /* 9 */
        "}\n"                                             /* 10 */
        "func New() interface{} {\n"                      /* 11 */
        "\treturn &Server{name: \"}\"}\n"                 /* 12 */
        "}\n"                                             /* 13 */
        "func main() {\n"                                 /* 14 */
        "\tfn := func() { '{' }\n"                        /* 15 */
        "}\n";                                            /* 16 */
    assert_string_equal(found(LH_SRC_GO, src),
                        "class Server 4-6; method Server.Start 7-10; function New 11-13; function main 14-16");
}

static void test_shell(void **state) {
    (void)state;
    const char *src =
        "#!/bin/sh\n"                                     /* 1 */
        "# fake() { not a function }\n"                   /* 2 */
        "greet() {\n"                                     /* 3 */
        "  echo \"}\" '{' ${HOME:-}\n"                    /* 4 */
        "}\n"                                             /* 5 */
        "function cleanup {\n"                            /* 6 */
        "  cat <<EOF\n"                                   /* 7 */
        "}\n"                                             /* 8 */
        "EOF\n"                                           /* 9 */
        "  if true; then { echo; }; fi\n"                 /* 10 */
        "}\n"                                             /* 11 */
        "function build() \n"                             /* 12 */
        "{\n"                                             /* 13 */
        "  echo { }\n"                                    /* 14 */
        "}\n"                                             /* 15 */
        "main () { greet; }\n"                            /* 16 */
        "check() { grep -q x <<<\"$body\"; }\n"             /* 17: a here-string, not a here-document */
        "last() {\n"                                      /* 18 */
        "  :\n"                                           /* 19 */
        "}\n";                                            /* 20 */
    assert_string_equal(found(LH_SRC_SHELL, src),
                        "function greet 3-5; function cleanup 6-11; function build 12-15; function main 16-16; "
                        "function check 17-17; function last 18-20");
}

static void test_bounds(void **state) {
    (void)state;
    lh_symbol v[2];
    /* over the size cap: refused */
    assert_int_equal(lh_symbols_find(LH_SRC_C, "", LH_SYMBOLS_MAX_BYTES + 1, v, 2), -1);
    assert_int_equal(lh_symbols_find(LH_SRC_NONE, "x", 1, v, 2), -1);
    /* at most max symbols */
    const char *three = "void a(void) {}\nvoid b(void) {}\nvoid c(void) {}\n";
    assert_int_equal(lh_symbols_find(LH_SRC_C, three, strlen(three), v, 2), 2);
    /* deep nesting beyond the tracked depth: counted, no crash, the outer function still ends */
    size_t n = 2 * (LH_SYMBOLS_MAX_DEPTH + 50) + 64;
    char *deep = malloc(n);
    assert_non_null(deep);
    size_t o = (size_t)snprintf(deep, n, "void f(void) {\n");
    for (int i = 0; i < LH_SYMBOLS_MAX_DEPTH + 20; i++) deep[o++] = '{';
    for (int i = 0; i < LH_SYMBOLS_MAX_DEPTH + 20; i++) deep[o++] = '}';
    o += (size_t)snprintf(deep + o, n - o, "\n}\n");
    lh_symbol w[4];
    assert_int_equal(lh_symbols_find(LH_SRC_C, deep, o, w, 4), 1);
    assert_int_equal(w[0].start, 1);
    assert_int_equal(w[0].end, 3);
    free(deep);
    /* unterminated things end at the end of the input */
    assert_string_equal(found(LH_SRC_JS, "function f() {\n  const s = `\n"), "function f 1-1");
    assert_string_equal(found(LH_SRC_PYTHON, "def f():\n    x = '''\n"), "function f 1-2");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lang_by_name), cmocka_unit_test(test_c),     cmocka_unit_test(test_python),
        cmocka_unit_test(test_js_ts),        cmocka_unit_test(test_go),    cmocka_unit_test(test_shell),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
