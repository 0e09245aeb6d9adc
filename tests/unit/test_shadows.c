/* test_shadows.c — the pieces of project shadows that need no bridge: the blob directory
 * (store/blobs.h), shadow path checks and base64 (util/shadow_path.h), unified diffs
 * (util/udiff.h). The routes and the mount: tests/integration/shadows.sh and mount.sh. */
#include "testutil.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/blobs.h"
#include "util/shadow_path.h"
#include "util/udiff.h"

static char dir[256];

static int mkTmp(void **state) {
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/lh_test_shadows.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int rmTmp(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);   /* a directory this test made by mkdtemp */
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- blobs ----------------------------------------------------------------------- */

static void test_blob_roundtrip_and_dedup(void **state) {
    (void)state;
    char err[256], hex[65], hex2[65], path[512], sub[300];
    snprintf(sub, sizeof(sub), "%s/blobs", dir);
    lh_blobs *bs = lh_blobs_open(sub, err, sizeof(err));
    assert_non_null(bs);
    int created = -1;
    assert_int_equal(lh_blobs_put(bs, "hello\n", 6, hex, &created, err, sizeof(err)), 0);
    assert_int_equal(created, 1);
    /* sha256("hello\n") */
    assert_string_equal(hex, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    lh_blobs_path(bs, hex, path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(lh_blobs_put(bs, "hello\n", 6, hex2, &created, err, sizeof(err)), 0);
    assert_int_equal(created, 0);   /* deduplicated */
    assert_string_equal(hex, hex2);
    char *data;
    size_t len;
    assert_int_equal(lh_blobs_get(bs, hex, 1 << 20, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(data, "hello\n", 6);
    free(data);
    /* the empty file is a blob too */
    assert_int_equal(lh_blobs_put(bs, "", 0, hex2, &created, err, sizeof(err)), 0);
    assert_int_equal(lh_blobs_get(bs, hex2, 10, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 0);
    free(data);
    lh_blobs_close(bs);
}

static void test_blob_corrupt_is_refused_then_repaired(void **state) {
    (void)state;
    char err[256], hex[65], path[512], sub[300];
    snprintf(sub, sizeof(sub), "%s/blobs", dir);
    lh_blobs *bs = lh_blobs_open(sub, err, sizeof(err));
    assert_non_null(bs);
    assert_int_equal(lh_blobs_put(bs, "abc", 3, hex, NULL, err, sizeof(err)), 0);
    lh_blobs_path(bs, hex, path, sizeof(path));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("abd", f);   /* same length, one byte changed */
    fclose(f);
    char *data = (char *)1;
    size_t len = 9;
    assert_int_equal(lh_blobs_get(bs, hex, 1 << 20, &data, &len, err, sizeof(err)), LH_BLOBS_CORRUPT);
    assert_null(data);
    assert_int_equal(len, 0);
    /* larger than the caller's bound: refused as corrupt (never read whole) */
    assert_int_equal(lh_blobs_get(bs, hex, 2, &data, &len, err, sizeof(err)), LH_BLOBS_CORRUPT);
    int created = 0;
    assert_int_equal(lh_blobs_put(bs, "abc", 3, hex, &created, err, sizeof(err)), 0);
    assert_int_equal(created, 1);   /* a corrupt blob is rewritten by the next put of its content */
    assert_int_equal(lh_blobs_get(bs, hex, 1 << 20, &data, &len, err, sizeof(err)), 0);
    assert_memory_equal(data, "abc", 3);
    free(data);
    lh_blobs_close(bs);
}

static void test_blob_names(void **state) {
    (void)state;
    char err[256], sub[300];
    snprintf(sub, sizeof(sub), "%s/blobs", dir);
    lh_blobs *bs = lh_blobs_open(sub, err, sizeof(err));
    char *data;
    size_t len;
    assert_int_equal(lh_blobs_get(bs, "0000000000000000000000000000000000000000000000000000000000000000", 10, &data,
                                  &len, err, sizeof(err)), LH_BLOBS_NOTFOUND);
    assert_int_equal(lh_blobs_get(bs, "../../etc/passwd", 10, &data, &len, err, sizeof(err)), -1);
    assert_false(lh_blobs_valid_name("ABCDEF0000000000000000000000000000000000000000000000000000000000"));
    assert_false(lh_blobs_valid_name("00"));
    assert_true(lh_blobs_valid_name("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    lh_blobs_close(bs);
}

/* ---- paths ----------------------------------------------------------------------- */

static int pathOk(const char *p, size_t n) {
    char err[128];
    return lh_shadow_path_check(p, n, err, sizeof(err)) == 0;
}
#define OK(s) pathOk(s, sizeof(s) - 1)

static void test_path_check(void **state) {
    (void)state;
    assert_true(OK("src/main.c"));
    assert_true(OK("a"));
    assert_true(OK("dir/ünïcödé.txt"));
    assert_true(OK("..a/b.."));   /* names that merely start or end with dots */
    assert_false(OK(""));
    assert_false(OK("/etc/passwd"));
    assert_false(OK("../x"));
    assert_false(OK("a/../b"));
    assert_false(OK("a/./b"));
    assert_false(OK("a//b"));
    assert_false(OK("a/"));
    assert_false(OK("a\nb"));
    assert_false(OK("a\x7f"));
    assert_false(pathOk("a\0b", 3));
    assert_false(OK("bad\xff"));
    assert_false(OK("\xc0\xaf"));   /* overlong '/' */
    char longName[300];
    memset(longName, 'x', 256);
    longName[256] = 0;
    assert_false(pathOk(longName, 256));
    assert_true(pathOk(longName, 255));
    char longPath[1100];
    for (int i = 0; i < 1100; i++) longPath[i] = i % 10 == 9 ? '/' : 'x';
    assert_false(pathOk(longPath, 1029));   /* over LH_SHADOW_PATH_MAX */
}

static void test_path_rel(void **state) {
    (void)state;
    char out[1100], err[128];
    assert_int_equal(lh_shadow_path_rel("/p", "/p/src/a.c", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "src/a.c");
    assert_int_equal(lh_shadow_path_rel("/p/", "/p//src/./x/../a.c", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "src/a.c");
    assert_int_equal(lh_shadow_path_rel("/p", "/p/../etc/passwd", out, sizeof(out), err, sizeof(err)), -1);
    assert_int_equal(lh_shadow_path_rel("/p", "/pp/a", out, sizeof(out), err, sizeof(err)), -1);   /* a prefix, not a parent */
    assert_int_equal(lh_shadow_path_rel("/p", "/p", out, sizeof(out), err, sizeof(err)), -1);
    assert_int_equal(lh_shadow_path_rel("/p", "src/a.c", out, sizeof(out), err, sizeof(err)), -1);
    assert_int_equal(lh_shadow_path_rel("/", "/etc/x", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "etc/x");
    assert_int_equal(lh_shadow_path_rel("/p", "/p/a\nb", out, sizeof(out), err, sizeof(err)), -1);
}

static void test_base64(void **state) {
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char enc[32];
        unsigned char dec[32];
        lh_base64_encode(in[i], strlen(in[i]), enc);
        assert_string_equal(enc, want[i]);
        long n = lh_base64_decode(enc, strlen(enc), dec);
        assert_int_equal(n, (long)strlen(in[i]));
        assert_memory_equal(dec, in[i], (size_t)n);
    }
    unsigned char dec[16];
    assert_int_equal(lh_base64_decode("Zm9", 3, dec), -1);
    assert_int_equal(lh_base64_decode("Zm9*", 4, dec), -1);
    assert_int_equal(lh_base64_decode("Z===", 4, dec), -1);
    assert_int_equal(lh_base64_decode("Zg==Zg==", 8, dec), -1);   /* padding only at the end */
}

/* ---- diff ------------------------------------------------------------------------ */

static char *diff(const char *a, const char *b) {
    char *out;
    size_t n;
    assert_int_equal(lh_udiff(a, strlen(a), b, strlen(b), "a/f", "b/f", &out, &n), 0);
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_udiff(void **state) {
    (void)state;
    char *d = diff("a\nb\nc\n", "a\nb\nc\n");
    assert_string_equal(d, "");
    free(d);
    d = diff("a\nb\nc\n", "a\nB\nc\n");
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    free(d);
    d = diff("", "x\n");
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n");
    free(d);
    d = diff("x\n", "x");
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-x\n+x\n\\ No newline at end of file\n");
    free(d);
    /* two changes far apart: two hunks with three lines of context each (as diff -u) */
    d = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n");
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n@@ -9,4 +10,3 @@\n 9\n 10\n 11\n-12\n");
    free(d);
}

static void test_udiff_matches_diff_u(void **state) {
    (void)state;
    /* the same hunk diff -u prints for this pair (checked against GNU diff) */
    char *d = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nc\nd\nX\ne\nf\ng\nh\n");
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -1,7 +1,8 @@\n a\n-b\n c\n d\n+X\n e\n f\n g\n+h\n");
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blob_roundtrip_and_dedup, mkTmp, rmTmp),
        cmocka_unit_test_setup_teardown(test_blob_corrupt_is_refused_then_repaired, mkTmp, rmTmp),
        cmocka_unit_test_setup_teardown(test_blob_names, mkTmp, rmTmp),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_path_rel),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_udiff),
        cmocka_unit_test(test_udiff_matches_diff_u),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
