/* test_request_json.c — the hand-written request parser (src/engine/request.c) against
 * the jansson-based parser it replaced, kept here verbatim as refParse: on a table of
 * hand-written cases and on generated inputs (realistic payloads, randomly mutated, and
 * random JSON documents), both must accept and refuse the same inputs, fill every field
 * of lh_request alike, and give the same message for every refusal that is not a syntax
 * error. Set LH_TEST_SEED to replay a run; LH_TEST_ROUNDS to change the count. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "engine/engine.h"

#include "../fuzz/request_ref.h"

/* ---- comparing the two ------------------------------------------------------------------ */

static lh_arena *A1, *A2;
static unsigned long long g_accepted, g_refused_syntax, g_refused_other;

static int setup(void **st) {
    (void)st;
    A1 = lh_arena_new(1 << 16);
    A2 = lh_arena_new(1 << 16);
    return A1 && A2 ? 0 : -1;
}
static int teardown(void **st) { (void)st; lh_arena_free(A1); lh_arena_free(A2); return 0; }

/* Print bytes as a C string literal, for a failure message. */
static void dump(const char *s, size_t n) {
    fputc('"', stdout);
    for (size_t i = 0; i < n && i < 2000; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c >= 0x20 && c < 0x7f) fputc(c, stdout);
        else printf("\\x%02x\"\"", c);
    }
    printf("\"%s (%zu bytes)\n", n > 2000 ? "..." : "", n);
}


static const char kSyntax[] = "invalid JSON at line ";

/* Parse with both; 0 when they agree, else print why and return -1. expect: 'A' must be
 * accepted, 'R' refused, '?' either. */
static int agree(const char *in, size_t n, char expect) {
    lh_arena_reset(A1);
    lh_arena_reset(A2);
    lh_request r1, r2;
    char e1[512] = "", e2[512] = "";
    int rc1 = refParse(A1, in, n, &r1, e1, sizeof(e1));
    int rc2 = lh_request_parse_json(A2, in, n, &r2, e2, sizeof(e2));
    const char *why = NULL;
    if (rc1 != rc2) why = "accept/refuse";
    else if (diffRequest(&r1, &r2)) why = diffRequest(&r1, &r2);
    else if (rc1 != 0) {
        int syn1 = !strncmp(e1, kSyntax, sizeof(kSyntax) - 1), syn2 = !strncmp(e2, kSyntax, sizeof(kSyntax) - 1);
        if (syn1 != syn2 || (!syn1 && strcmp(e1, e2))) why = "error message";
        int line, col;
        char what[256];
        if (syn2 && sscanf(e2 + sizeof(kSyntax) - 1, "%d column %d: %255[^\n]", &line, &col, what) != 3)
            why = "syntax message shape";
        if (!why) { if (syn1) g_refused_syntax++; else g_refused_other++; }
    } else g_accepted++;
    if (!why && expect == 'A' && rc1 != 0) why = "expected it accepted";
    if (!why && expect == 'R' && rc1 == 0) why = "expected it refused";
    if (!why) return 0;
    printf("parsers differ (%s) on ", why);
    dump(in, n);
    printf("  jansson: rc %d, %s\n  new:     rc %d, %s\n", rc1, rc1 ? e1 : "ok", rc2, rc2 ? e2 : "ok");
    return -1;
}

/* ---- hand-written cases ------------------------------------------------------------------ */

typedef struct tcase { const char *s; size_t n; char expect; } tcase;
#define C(lit, e) {lit, sizeof(lit) - 1, e}

static const tcase kCases[] = {
    /* every tool, both payload shapes */
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls -la\"},\"cwd\":\"/srv/app\",\"agent\":\"b-1\",\"session\":\"s\",\"role\":\"builder\",\"home\":\"/home/b\"}", 'A'),
    C("{\"session_id\":\"abc\",\"transcript_path\":\"/t\",\"cwd\":\"/p\",\"permission_mode\":\"default\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Write\",\"tool_input\":{\"file_path\":\"/p/a.txt\",\"content\":\"x\\ny\"},\"tool_use_id\":\"t1\",\"agent_id\":\"sub-1\"}", 'A'),
    C("{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"git status\",\"description\":\"d\"},\"session_id\":\"s\"}", 'A'),
    C("{\"tool\":\"Edit\",\"input\":{\"file_path\":\"/a\",\"old_string\":\"x\",\"new_string\":\"y\"}}", 'A'),
    C("{\"tool\":\"MultiEdit\",\"input\":{\"file_path\":\"/a\",\"edits\":[{\"old_string\":\"x\",\"new_string\":\"y\"}]}}", 'A'),
    C("{\"tool\":\"MultiEdit\",\"input\":{\"file_path\":\"/a\",\"edits\":[[1,[2]],{\"new_string\":\"a\\u0041\"}, []]}}", 'A'),
    C("{\"tool\":\"MultiEdit\",\"input\":{\"file_path\":\"/a\",\"edits\":[]}}", 'A'),
    C("{\"tool\":\"MultiEdit\",\"input\":{\"file_path\":\"/a\",\"edits\":{\"new_string\":\"y\"}}}", 'A'),
    C("{\"tool_name\":\"MultiEdit\",\"tool_input\":{\"file_path\":\"/a\",\"edits\":[{\"new_string\":\"y\"}]},\"input\":{\"edits\":[1]}}", 'A'),
    C("{\"tool\":\"NotebookEdit\",\"input\":{\"notebook_path\":\"/n.ipynb\",\"new_source\":\"!ls\"}}", 'A'),
    C("{\"tool\":\"Write\",\"input\":{\"file_path\":\"/a\",\"content\":5}}", 'A'),
    C("{\"tool\":\"Read\",\"input\":{\"file_path\":\"/etc/passwd\",\"limit\":10}}", 'A'),
    C("{\"tool\":\"NotebookEdit\",\"input\":{\"notebook_path\":\"/n.ipynb\"}}", 'A'),
    C("{\"tool\":\"NotebookEdit\",\"input\":{\"file_path\":\"/n.ipynb\"}}", 'A'),
    C("{\"tool\":\"NotebookEdit\",\"input\":{\"notebook_path\":null,\"file_path\":\"/n.ipynb\"}}", 'R'),
    C("{\"tool\":\"NotebookEdit\",\"input\":{}}", 'R'),
    C("{\"tool\":\"Glob\",\"input\":{\"pattern\":\"**/*.c\",\"path\":\"/src\"}}", 'A'),
    C("{\"tool\":\"Grep\",\"input\":{\"pattern\":\"x\"}}", 'A'),
    C("{\"tool\":\"LS\",\"input\":{\"path\":5}}", 'R'),
    C("{\"tool\":\"WebFetch\",\"input\":{\"url\":\"https://example.com\",\"prompt\":\"p\"}}", 'A'),
    C("{\"tool\":\"WebFetch\",\"input\":{\"url\":7}}", 'A'),
    C("{\"tool\":\"WebSearch\",\"input\":{\"query\":\"q\"}}", 'A'),
    C("{\"tool\":\"mcp__github__create_issue\",\"input\":{\"title\":\"t\"}}", 'A'),
    C("{\"tool\":\"Frobnicate\"}", 'A'),
    C("{\"tool\":\"Bash\"}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":null}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":[]}", 'R'),
    C("{\"tool\":null,\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"ls\"}}", 'R'),
    C("{\"tool_name\":\"Bash\",\"input\":{\"command\":\"ls\"}}", 'R'),
    C("{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"ls\"},\"input\":5}", 'A'),
    C("{\"tool\":\"\",\"input\":{}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"rel\"}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"\"}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":null}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"\\/x\"}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"\\u002fx\"}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"session\":5,\"agent\":[],\"role\":{}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\",\"input\":{\"command\":\"rm -rf /\"}}}", 'A'),
    C("{\"x\":{\"tool\":\"Bash\"},\"tool\":\"Read\",\"input\":{\"file_path\":\"/a\",\"x\":{\"file_path\":\"/b\"}}}", 'A'),
    /* escapes, keys after decoding */
    C("{\"to\\u006fl\":\"Bash\",\"in\\u0070ut\":{\"c\\u006fmmand\":\"echo \\\"hi\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"to\\u006fl\":\"Read\",\"input\":{}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\u00e9\\u4e2d\\ud83d\\ude00 caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\uD83D\\uDE00\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\ud83d\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\ud83dx\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\ud83d\\u0041\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\ud83d\\n\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\ude00\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\ud83d\\ud83d\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\u12\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\u12G4\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\x41\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\\'\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"a\\u0000b\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"x\\u0000\":1}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"a\\u0001b\\u001f\\u007f\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"a\tb\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"a\nb\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"a\x00" "b\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"a\x7f" "b\"}}", 'A'),
    /* invalid UTF-8, overlong, raw surrogates, past U+10FFFF */
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls \xff\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\x80\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xc0\xaf\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xc1\xbf\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xe0\x80\xaf\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xe0\xa0\x80\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xf0\x80\x80\xaf\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xed\xa0\x80\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xed\x9f\xbf\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xf4\x8f\xbf\xbf\"}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xf4\x90\x80\x80\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xf5\x80\x80\x80\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xc3\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"\xe4\xb8\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"}}\xc3", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"}} \xc3\xa9", 'R'),
    C("{\"t\xc3\xb6ol\":\"Bash\",\"tool\":\"Read\",\"input\":{\"file_path\":\"/a\"}}", 'A'),
    /* duplicates, top-level and nested, raw and escaped */
    C("{\"tool\":\"Bash\",\"tool\":\"Write\",\"input\":{\"command\":\"ls\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\",\"command\":\"rm\"}}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"x\":[{\"a\":1,\"b\":{\"c\":1,\"c\":2}}]}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"x\":[{\"a\":1},{\"a\":1}]}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"x\":{\"a\":{\"a\":{\"a\":1}}}}", 'A'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"\\u00e9\":1,\"\xc3\xa9\":2}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"a\\/b\":1,\"a/b\":2}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"\":1,\"\":2}", 'R'),
    C("{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"ab\":1,\"a\":2,\"b\":3,\"ba\":4}", 'A'),
    C("[{\"a\":1,\"a\":2}]", 'R'),
    /* top level and framing */
    C("", 'R'), C(" ", 'R'), C(" \n\t\r ", 'R'), C("null", 'R'), C("1", 'R'), C("\"x\"", 'R'), C("true", 'R'),
    C("[]", 'R'), C("[1,2]", 'R'), C("{}", 'R'), C(" \n{\"tool\":\"Grep\"}\r\n\t ", 'A'),
    C("\xef\xbb\xbf{\"tool\":\"Grep\"}", 'R'),
    C("{\"tool\":\"Grep\"}x", 'R'), C("{\"tool\":\"Grep\"}{}", 'R'), C("{\"tool\":\"Grep\"},", 'R'),
    C("{\"tool\":\"Grep\"}\x00", 'R'), C("{\"tool\":\"Grep\"} \f", 'R'),
    C("{\"tool\":\"Grep\",}", 'R'), C("{,\"tool\":\"Grep\"}", 'R'), C("{\"tool\" \"Grep\"}", 'R'),
    C("{\"tool\":\"Grep\" \"x\":1}", 'R'), C("{'tool':'Grep'}", 'R'), C("{tool:\"Grep\"}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":[1,]}", 'R'), C("{\"tool\":\"Grep\",\"x\":[,1]}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":[1 2]}", 'R'), C("{\"tool\":\"Grep\",\"x\":}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":tru}", 'R'), C("{\"tool\":\"Grep\",\"x\":truex}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":True}", 'R'), C("{\"tool\":\"Grep\",\"x\":nul}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":[true,false,null]}", 'A'), C("{\"tool\":\"Grep\",\"x\":NaN}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":Infinity}", 'R'), C("{\"tool\":\"Grep\"", 'R'), C("{\"tool\":\"Grep", 'R'),
    C("{\"tool\":\"Grep\",\"x\":[}", 'R'), C("{\"tool\":\"Grep\",\"x\":{]}", 'R'),
    /* numbers of every shape */
    C("{\"tool\":\"Grep\",\"x\":[0,-0,1,-1,0.5,-0.5,1e5,1E5,1e+5,1e-5,-0.0e-0,123.456e78]}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":-0}", 'A'), C("{\"tool\":\"Grep\",\"x\":01}", 'R'), C("{\"tool\":\"Grep\",\"x\":-01}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":00}", 'R'), C("{\"tool\":\"Grep\",\"x\":+1}", 'R'), C("{\"tool\":\"Grep\",\"x\":-}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":1.}", 'R'), C("{\"tool\":\"Grep\",\"x\":.5}", 'R'), C("{\"tool\":\"Grep\",\"x\":1e}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":1e+}", 'R'), C("{\"tool\":\"Grep\",\"x\":1.e5}", 'R'), C("{\"tool\":\"Grep\",\"x\":0x10}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":1e400}", 'R'), C("{\"tool\":\"Grep\",\"x\":-1e400}", 'R'), C("{\"tool\":\"Grep\",\"x\":1e-400}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":0e99999999999999999999}", 'A'), C("{\"tool\":\"Grep\",\"x\":0.0000e400}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":1e99999999999999999999}", 'R'), C("{\"tool\":\"Grep\",\"x\":1e-99999999999999999999}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":1.7976931348623157e308}", 'A'), C("{\"tool\":\"Grep\",\"x\":1.7976931348623158e308}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":1.7976931348623159e308}", 'R'), C("{\"tool\":\"Grep\",\"x\":-1.7976931348623159e308}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792.0}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.999e0}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":0.0179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792e311}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":10e307}", 'A'), C("{\"tool\":\"Grep\",\"x\":100e307}", 'R'), C("{\"tool\":\"Grep\",\"x\":0.1e309}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":9223372036854775807}", 'A'), C("{\"tool\":\"Grep\",\"x\":9223372036854775808}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":-9223372036854775808}", 'A'), C("{\"tool\":\"Grep\",\"x\":-9223372036854775809}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":99999999999999999999}", 'R'), C("{\"tool\":\"Grep\",\"x\":99999999999999999999.0}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":1000000000000000000}", 'A'), C("{\"tool\":\"Grep\",\"x\":10000000000000000000}", 'R'),
    /* jansson drops one NUL byte after a number or keyword (see request.c) */
    C("{\"tool\":\"Grep\",\"x\":1\x00}", 'A'), C("{\"tool\":\"Grep\",\"x\":[null\x00,1.5e3\x00,-0\x00]}", 'A'),
    C("{\"tool\":\"Grep\",\"x\":true\x00\x00}", 'R'), C("{\"tool\":\"Grep\",\"x\":\"s\"\x00}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":{}\x00}", 'R'), C("{\"tool\":\"Grep\",\"x\":1 \x00}", 'R'), C("{\"tool\":\"Grep\",\"x\":tr\x00ue}", 'R'),
    C("{\"tool\":\"Grep\",\"x\":1x}", 'R'), C("{\"tool\":\"Grep\",\"x\":1true}", 'R'), C("{\"tool\":\"Grep\",\"x\":[1-1]}", 'R'),
};

static void test_table(void **st) {
    int bad = 0;
    for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++)
        if (agree(kCases[i].s, kCases[i].n, kCases[i].expect)) bad++;
    assert_int_equal(bad, 0);
}

/* Nesting: n containers, the innermost holding inner ("" for empty). Returns its length. */
static size_t nest(char *buf, int n, const char *open, const char *inner) {
    size_t o = (size_t)sprintf(buf, "{\"tool\":\"Grep\",\"x\":");
    for (int i = 0; i < n; i++) o += (size_t)sprintf(buf + o, "%s", open);
    o += (size_t)sprintf(buf + o, "%s", inner);
    for (int i = n - 1; i >= 0; i--) buf[o++] = open[0] == '[' ? ']' : '}';
    buf[o++] = '}';
    buf[o] = 0;
    return o;
}

/* Depth as the old depthOf counted it: the top object is level 0, and a value at level 33
 * (scalar, or an empty container) is refused. Past jansson's 2048 levels it is malformed. */
static void test_depth(void **st) {
    static char buf[3 * 2100 + 256];
    int bad = 0;
    const struct { int n; const char *open, *inner; char expect; } cases[] = {
        {31, "[", "1", 'A'}, {32, "[", "", 'A'}, {32, "[", "1", 'R'}, {33, "[", "", 'R'},
        {31, "{\"a\":", "1", 'A'}, {31, "{\"a\":", "{}", 'A'}, {32, "{\"a\":", "{}", 'R'}, {32, "{\"a\":", "1", 'R'},
        {31, "[", "{}", 'A'}, {31, "[", "[]", 'A'}, {31, "[", "[1]", 'R'},
        {2046, "[", "", 'R'}, {2047, "[", "", 'R'}, {2047, "[", "1", 'R'}, {2048, "[", "", 'R'}, {2100, "[", "1", 'R'},
        {40, "[", "1", 'R'}, {40, "[", "1,", 'R'}, {40, "{\"a\":", "{\"b\":1,\"b\":2}", 'R'},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = nest(buf, cases[i].n, cases[i].open, cases[i].inner);
        if (agree(buf, n, cases[i].expect)) bad++;
    }
    /* the top value an array, nested past 32 and past 2048 */
    for (int k = 30; k < 2060; k += (k < 40 ? 1 : k < 2040 ? 500 : 1)) {
        size_t o = 0;
        for (int i = 0; i < k; i++) buf[o++] = '[';
        for (int i = 0; i < k; i++) buf[o++] = ']';
        if (agree(buf, o, 'R')) bad++;
    }
    /* the messages themselves */
    lh_request r;
    char err[256];
    size_t n = nest(buf, 32, "[", "1");
    assert_int_equal(lh_request_parse_json(A2, buf, n, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "request JSON is nested deeper than 32");
    n = nest(buf, 32, "[", "");
    assert_int_equal(lh_request_parse_json(A2, buf, n, &r, err, sizeof(err)), 0);
    assert_int_equal(bad, 0);
}

/* ---- generated inputs ------------------------------------------------------------------- */

static uint64_t g_rng;
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static const char *const kSeeds[] = {
    "{\"tool\":\"Bash\",\"input\":{\"command\":\"git log --oneline -n 20 | head\"},\"cwd\":\"/home/dev/project\",\"agent\":\"builder-1\",\"session\":\"s-42\",\"role\":\"builder\",\"home\":\"/home/dev\"}",
    "{\"session_id\":\"7f3c9a2e-1b4d-4c8e-9f0a-2d6b8e1c3a5f\",\"transcript_path\":\"/home/dev/.claude/projects/p/7f3c.jsonl\",\"cwd\":\"/home/dev/project\",\"permission_mode\":\"default\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"npm run build 2>&1 | tail -20\",\"description\":\"Build the project\",\"timeout\":120000},\"tool_use_id\":\"toolu_01ABC\"}",
    "{\"session_id\":\"s\",\"cwd\":\"/p\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Write\",\"tool_input\":{\"file_path\":\"/p/src/a.py\",\"content\":\"import os\\n\\ndef main():\\n    print(\\\"h\\u00e9llo\\\")\\n\\tos.exit(0)\\n\"},\"agent_id\":\"sub-1\"}",
    "{\"tool_name\":\"Edit\",\"tool_input\":{\"file_path\":\"/p/README.md\",\"old_string\":\"caf\xc3\xa9\",\"new_string\":\"\\ud83d\\ude00 \xe4\xb8\xad\",\"replace_all\":false},\"session_id\":\"s\",\"permission_mode\":\"acceptEdits\"}",
    "{\"tool\":\"MultiEdit\",\"input\":{\"file_path\":\"/a/b\",\"edits\":[{\"old_string\":\"x\",\"new_string\":\"y\"},{\"old_string\":\"1\",\"new_string\":\"2\",\"replace_all\":true}]},\"cwd\":\"/a\"}",
    "{\"tool\":\"NotebookEdit\",\"input\":{\"notebook_path\":\"/n/a.ipynb\",\"cell_id\":\"c1\",\"new_source\":\"print(1)\",\"edit_mode\":\"replace\"}}",
    "{\"tool\":\"Glob\",\"input\":{\"pattern\":\"**/*.ts\",\"path\":\"/home/dev/project/src\"},\"cwd\":\"/home/dev/project\"}",
    "{\"tool_name\":\"Grep\",\"tool_input\":{\"pattern\":\"TODO|FIXME\",\"path\":\"/p\",\"output_mode\":\"content\",\"-n\":true,\"head_limit\":50},\"session_id\":\"s\"}",
    "{\"tool\":\"LS\",\"input\":{\"path\":\"/etc\",\"ignore\":[\"*.bak\",\"*~\"]}}",
    "{\"tool\":\"WebFetch\",\"input\":{\"url\":\"https://docs.example.com/a?b=c&d=e\",\"prompt\":\"Summarise\"},\"agent\":\"expert\"}",
    "{\"tool\":\"Read\",\"input\":{\"file_path\":\"/etc/hosts\",\"offset\":10,\"limit\":-0,\"ratio\":1.5e3},\"home\":\"/root\"}",
    "{\"tool\":\"mcp__github__create_issue\",\"input\":{\"title\":\"Bug\",\"labels\":[\"a\",\"b\"],\"body\":null,\"n\":{\"x\":[[],{}]}}}",
    "{\"tool\":\"Bash\",\"input\":{\"command\":\"echo \\\"rm -rf /\\\" \\\\ \\/ \\b\\f\\r\\t done\"},\"to\\u006fl_name\":\"Read\"}",
};

static const char *const kSnippets[] = {
    "{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "\t", "\r", "0", "-", ".", "e", "E", "+", "1",
    "\\u", "\\u0000", "\\u00e9", "\\ud83d", "\\ude00", "\\ud83d\\ude00", "\\uD800\\uDC00", "\\n", "\\\"", "\\/",
    "\xc3\xa9", "\xc3", "\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xff",
    "\"tool\":\"Bash\",", "\"tool_name\":\"Write\",", "\"input\":{},", "\"tool_input\":{\"command\":\"x\"},",
    "\"cwd\":\"/x\",", "\"cwd\":5,", "\"command\":\"ls\",", "\"command\":null,", "\"file_path\":\"/f\",",
    "\"notebook_path\":1,", "\"path\":\"/p\",", "\"path\":[],", "\"url\":\"u\",", "\"a\":1,", "\"a\":2,",
    "true", "false", "null", "1e400", "-0", "99999999999999999999", "9223372036854775808", "1.5", "[[[[", "]]]]",
    "{\"a\":{\"a\":", "}}", "\"\\u0074ool\":\"Grep\",", "\"session\":\"s\",", "\"agent_id\":\"a\",", "\x00",
};

static const char *const kKeys[] = {
    "tool", "input", "tool_name", "tool_input", "session_id", "agent_id", "hook_event_name", "permission_mode",
    "session", "agent", "role", "home", "cwd", "command", "file_path", "notebook_path", "path", "url",
    "filename", "target", "uri", "paths", "sql", "query", "a", "b", "content", "", "\\u0074ool", "c\\u006fmmand", "pa\\u0074h", "to\\u006f", "\\u00e9", "\xc3\xa9",
};
static const char *const kStrings[] = {
    "Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "Read", "Glob", "Grep", "LS", "WebFetch", "WebSearch",
    "mcp__x__y", "", "/abs/path", "rel/path", "\\/abs", "\\u002fabs", "ls -la", "echo \\\"x\\\"\\n", "caf\xc3\xa9",
    "\\ud83d\\ude00", "B\\u0061sh", "PreToolUse", "default", "https://x.y/z",
};
static const char *const kNumbers[] = {
    "0", "-0", "1", "-1", "0.5", "1e5", "-1.5E-5", "1e400", "-1e400", "1e-400", "99999999999999999999",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "0e1000", "123456789.123456789e300",
};

typedef struct gbuf { char *b; size_t n, cap; } gbuf;
static void put(gbuf *g, const char *s, size_t n) {
    if (g->n + n + 1 > g->cap) {
        while (g->n + n + 1 > g->cap) g->cap = g->cap ? g->cap * 2 : 4096;
        g->b = realloc(g->b, g->cap);
        assert_non_null(g->b);
    }
    memcpy(g->b + g->n, s, n);
    g->n += n;
}
static void puts_(gbuf *g, const char *s) { put(g, s, strlen(s)); }

/* A random JSON value at level lvl: mostly well-formed, with the request's member names. */
static void genValue(gbuf *g, int lvl, int budget);
static void genObject(gbuf *g, int lvl, int budget) {
    puts_(g, "{");
    int n = rn(6);
    for (int i = 0; i < n; i++) {
        if (i) puts_(g, ",");
        puts_(g, "\"");
        puts_(g, kKeys[rn(sizeof(kKeys) / sizeof(kKeys[0]))]);
        puts_(g, "\":");
        genValue(g, lvl + 1, budget / 2);
    }
    puts_(g, "}");
}
static void genValue(gbuf *g, int lvl, int budget) {
    unsigned k = rn(budget > 0 ? 10 : 6);
    if (lvl > 36 && k >= 6) k = 0;
    switch (k) {
    case 0: case 1: case 2:
        puts_(g, "\"");
        puts_(g, kStrings[rn(sizeof(kStrings) / sizeof(kStrings[0]))]);
        puts_(g, "\"");
        break;
    case 3: puts_(g, kNumbers[rn(sizeof(kNumbers) / sizeof(kNumbers[0]))]); break;
    case 4: puts_(g, rn(2) ? "null" : "true"); break;
    case 5: puts_(g, rn(2) ? "{}" : "[]"); break;
    case 6: case 7: genObject(g, lvl, budget); break;
    default: {
        puts_(g, "[");
        int n = rn(4);
        for (int i = 0; i < n; i++) { if (i) puts_(g, ","); genValue(g, lvl + 1, budget / 2); }
        puts_(g, "]");
    }
    }
}

/* A request-shaped document: top object with tool/input members, random extras, and
 * sometimes a deep chain to cross the 32-level bound. */
static void genDocument(gbuf *g) {
    puts_(g, "{");
    int shape = rn(2);
    char mem[128];
    snprintf(mem, sizeof(mem), "\"%s\":\"%s\"", shape ? "tool" : "tool_name", kStrings[rn(12)]);
    puts_(g, mem);
    puts_(g, shape ? ",\"input\":" : ",\"tool_input\":");
    if (rn(8)) {
        puts_(g, "{");
        int n = 1 + rn(4);
        for (int i = 0; i < n; i++) {
            if (i) puts_(g, ",");
            puts_(g, "\"");
            puts_(g, kKeys[13 + rn(9)]);
            puts_(g, "\":");
            genValue(g, 2, 4);
        }
        puts_(g, "}");
    } else genValue(g, 1, 4);
    int extra = rn(5);
    for (int i = 0; i < extra; i++) {
        puts_(g, ",\"");
        puts_(g, kKeys[rn(sizeof(kKeys) / sizeof(kKeys[0]))]);
        puts_(g, "\":");
        genValue(g, 1, 8);
    }
    if (rn(10) == 0) {
        int d = 28 + rn(10);
        puts_(g, ",\"deep\":");
        for (int i = 0; i < d; i++) puts_(g, rn(2) ? "[" : "{\"k\":");
        genValue(g, d + 1, 0);
        /* close in reverse: rebuild from the opening run */
        size_t end = g->n;
        size_t o = end;
        int closed = 0;
        while (closed < d) {
            o--;
            if (g->b[o] == '[') { puts_(g, "]"); closed++; }
            else if (g->b[o] == '{' && g->b[o + 1] == '"' && o + 5 <= end && !memcmp(g->b + o, "{\"k\":", 5)) { puts_(g, "}"); closed++; }
        }
    }
    puts_(g, "}");
}

/* One random edit of g. */
static void mutate(gbuf *g) {
    if (g->n == 0) { puts_(g, "{"); return; }
    size_t at = rn((unsigned)g->n + 1);
    switch (rn(8)) {
    case 0: if (at < g->n) g->b[at] = (char)rn(256); break;                       /* byte flip */
    case 1: if (at < g->n) g->b[at] ^= (char)(1u << rn(8)); break;                /* bit flip */
    case 2: g->n = at; break;                                                      /* truncate */
    case 3: case 4: {                                                              /* insert */
        const char *s = kSnippets[rn(sizeof(kSnippets) / sizeof(kSnippets[0]))];
        size_t k = strcmp(s, "\x00") ? strlen(s) : 1;
        char tail[1 << 16];
        size_t tn = g->n - at < sizeof(tail) ? g->n - at : sizeof(tail);
        memcpy(tail, g->b + at, tn);
        g->n = at;
        put(g, s, k);
        put(g, tail, tn);
        break;
    }
    case 5: {                                                                      /* delete a range */
        size_t k = 1 + rn(8);
        if (at + k > g->n) k = g->n - at;
        memmove(g->b + at, g->b + at + k, g->n - at - k);
        g->n -= k;
        break;
    }
    case 6: {                                                                      /* escape a letter */
        if (at < g->n && g->b[at] >= 'a' && g->b[at] <= 'z') {
            char esc[8], tail[1 << 16];
            snprintf(esc, sizeof(esc), rn(2) ? "\\u%04x" : "\\u%04X", (unsigned char)g->b[at]);
            size_t tn = g->n - at - 1 < sizeof(tail) ? g->n - at - 1 : sizeof(tail);
            memcpy(tail, g->b + at + 1, tn);
            g->n = at;
            put(g, esc, 6);
            put(g, tail, tn);
        }
        break;
    }
    default: {                                                                     /* duplicate a slice */
        size_t k = 1 + rn(24);
        if (at + k > g->n) k = g->n - at;
        char slice[32], tail[1 << 16];
        memcpy(slice, g->b + at, k);
        size_t tn = g->n - at < sizeof(tail) ? g->n - at : sizeof(tail);
        memcpy(tail, g->b + at, tn);
        g->n = at;
        put(g, slice, k);
        put(g, tail, tn);
    }
    }
}

static void test_generated(void **st) {
    const char *seedEnv = getenv("LH_TEST_SEED"), *roundsEnv = getenv("LH_TEST_ROUNDS");
    uint64_t seed = seedEnv ? strtoull(seedEnv, NULL, 0) : 0x5eed2026c0ffeeull;
    long rounds = roundsEnv ? atol(roundsEnv) : 250000;
    printf("generated inputs: seed 0x%llx (LH_TEST_SEED), %ld rounds\n", (unsigned long long)seed, rounds);
    g_rng = seed ? seed : 1;
    g_accepted = g_refused_syntax = g_refused_other = 0;
    gbuf g = {0};
    int bad = 0;
    for (long r = 0; r < rounds && bad < 5; r++) {
        g.n = 0;
        if (r % 2) puts_(&g, kSeeds[rn(sizeof(kSeeds) / sizeof(kSeeds[0]))]);
        else genDocument(&g);
        int m = (r % 2) ? 1 + rn(4) : rn(2) ? 0 : 1 + rn(2);
        for (int i = 0; i < m; i++) mutate(&g);
        if (agree(g.b, g.n, '?')) { printf("  (round %ld)\n", r); bad++; }
    }
    printf("generated inputs: %llu accepted, %llu refused as malformed, %llu refused by the request rules\n",
           g_accepted, g_refused_syntax, g_refused_other);
    free(g.b);
    assert_int_equal(bad, 0);
    /* the run must have exercised all three outcomes in earnest */
    assert_true(g_accepted > (unsigned long long)rounds / 20);
    assert_true(g_refused_syntax > (unsigned long long)rounds / 10);
    assert_true(g_refused_other > (unsigned long long)rounds / 50);
}

/* ---- bounds --------------------------------------------------------------------------- */

static double nowSec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Key i of a big object: three characters of [0-9a-zA-Z] (238,328 distinct), so 100,000
 * members fit the 1 MiB request bound. */
static void keyName(int i, char k[4]) {
    static const char al[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    k[0] = al[i % 62]; k[1] = al[(i / 62) % 62]; k[2] = al[(i / 3844) % 62]; k[3] = 0;
}

/* An object of n distinct keys (and a duplicate of key n/2 at the end when dup; a third of
 * the keys have their first character escaped when escaped). */
static size_t manyKeys(char *buf, int n, int dup, int escaped) {
    size_t o = (size_t)sprintf(buf, "{\"tool\":\"Grep\",\"x\":{");
    char k[4];
    for (int i = 0; i < n; i++) {
        keyName(i, k);
        if (escaped && i % 3 == 0) o += (size_t)sprintf(buf + o, "\"\\u%04x%s\":1,", (unsigned char)k[0], k + 1);
        else o += (size_t)sprintf(buf + o, "\"%s\":1,", k);
    }
    keyName(n / 2 - (n / 2) % 3, k);
    o += (size_t)sprintf(buf + o, "\"%s\":0}}", dup ? k : "end!");
    assert_true(o <= LH_MAX_REQUEST_BYTES);
    return o;
}

static double bestParse(const char *buf, size_t n, int want) {
    double best = 1e9;
    for (int k = 0; k < 5; k++) {
        lh_arena_reset(A2);
        lh_request r;
        char err[256];
        double t0 = nowSec();
        int rc = lh_request_parse_json(A2, buf, n, &r, err, sizeof(err));
        double dt = nowSec() - t0;
        assert_int_equal(rc, want);
        if (dt < best) best = dt;
    }
    return best;
}

/* Duplicate detection is O(n log n): 100,000 keys cost about 15x of 10,000 where a pairwise
 * check would cost 100x. Wall-clock ratios are at the mercy of a loaded machine, so the
 * assertion is on this thread's CPU time: pairwise checking of 100,000 keys is 5e9 key
 * comparisons, seconds of CPU; sorted, it is tens of milliseconds (a few hundred under
 * the sanitizers). */
static void test_many_keys(void **st) {
    char *buf = malloc(4u << 20);
    assert_non_null(buf);
    size_t n1 = manyKeys(buf, 10000, 0, 0);
    double t1 = bestParse(buf, n1, 0);
    assert_int_equal(agree(buf, n1, 'A'), 0);
    size_t n2 = manyKeys(buf, 100000, 0, 0);
    double t2 = bestParse(buf, n2, 0);
    assert_int_equal(agree(buf, n2, 'A'), 0);
    printf("object of 10,000 keys: %.2f ms of CPU; of 100,000 keys: %.2f ms (%.1fx)\n", t1 * 1e3, t2 * 1e3, t2 / t1);
    assert_true(t2 < 1.5);
    n2 = manyKeys(buf, 100000, 1, 1);
    double t3 = bestParse(buf, n2, -1);
    assert_int_equal(agree(buf, n2, 'R'), 0);
    n2 = manyKeys(buf, 100000, 0, 1);
    assert_int_equal(agree(buf, n2, 'A'), 0);
    printf("100,000 keys, a third escaped, one duplicate: %.2f ms\n", t3 * 1e3);
    assert_true(t3 < 1.5);
    free(buf);
}

/* The size bound comes first, and a long command keeps its decoded length. */
static void test_size_and_lengths(void **st) {
    size_t big = LH_MAX_REQUEST_BYTES + 1;
    char *buf = malloc(big + 64);
    assert_non_null(buf);
    memset(buf, ' ', big);
    assert_int_equal(agree(buf, big, 'R'), 0);
    size_t o = (size_t)sprintf(buf, "{\"tool\":\"Bash\",\"input\":{\"command\":\"");
    while (o < LH_MAX_REQUEST_BYTES - 64) { memcpy(buf + o, "\\u00e9\\n\xc3\xa9" "ab", 12); o += 12; }
    o += (size_t)sprintf(buf + o, "\"}}");
    assert_int_equal(agree(buf, o, 'A'), 0);
    o = (size_t)sprintf(buf, "{\"tool\":\"Read\",\"input\":{\"file_path\":\"/");
    for (int i = 0; i < 4095; i++) buf[o++] = 'a';
    o += (size_t)sprintf(buf + o, "\"}}");
    assert_int_equal(agree(buf, o, 'A'), 0);
    o = (size_t)sprintf(buf, "{\"tool\":\"Read\",\"input\":{\"file_path\":\"/");
    for (int i = 0; i < 4096; i++) buf[o++] = 'a';
    o += (size_t)sprintf(buf + o, "\"}}");
    assert_int_equal(agree(buf, o, 'R'), 0);
    o = (size_t)sprintf(buf, "{\"tool\":\"");
    for (int i = 0; i < 257; i++) buf[o++] = 'T';
    o += (size_t)sprintf(buf + o, "\"}");
    assert_int_equal(agree(buf, o, 'R'), 0);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_size_and_lengths),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_generated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
