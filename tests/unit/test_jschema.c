/* test_jschema.c — the MCP elicitation schema subset (src/util/jschema.c): schemas inside
 * and outside the subset, content against them with the field named, and hostile input
 * (deep nesting, huge enums, wrong types, 1.5 for an integer, NaN-like strings). */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>

#include "util/jschema.h"

static json_t *parse(const char *s) {
    json_error_t je;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!j) fail_msg("test JSON does not parse: %s: %s", je.text, s);
    return j;
}

/* lh_jschema_check of text: 0 or -1; err filled. */
static int check(const char *text, char *err, size_t errlen) {
    json_t *s = parse(text);
    err[0] = 0;
    int rc = lh_jschema_check(s, err, errlen);
    json_decref(s);
    return rc;
}

static void assertRefused(const char *schema, const char *mention) {
    char err[512];
    if (check(schema, err, sizeof(err)) == 0) fail_msg("accepted a schema outside the subset: %s", schema);
    if (mention && !strstr(err, mention)) fail_msg("the refusal \"%s\" does not mention \"%s\" (%s)", err, mention, schema);
}

static void assertAccepted(const char *schema) {
    char err[512];
    if (check(schema, err, sizeof(err))) fail_msg("refused a schema inside the subset: %s: %s", err, schema);
}

static const char *SCHEMA =
    "{\"type\":\"object\",\"title\":\"db\",\"properties\":{"
    "\"port\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535},"
    "\"ratio\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1.5},"
    "\"name\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":5},"
    "\"mail\":{\"type\":\"string\",\"format\":\"email\"},"
    "\"home\":{\"type\":\"string\",\"format\":\"uri\"},"
    "\"day\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"env\":{\"type\":\"string\",\"enum\":[\"dev\",\"prod\"],\"enumNames\":[\"Development\",\"Production\"]},"
    "\"ok\":{\"type\":\"boolean\",\"default\":false}},"
    "\"required\":[\"port\"]}";

/* Validate content against SCHEMA: 0 or -1; field and err filled. */
static int validate(const char *content, char *field, char *err) {
    json_t *s = parse(SCHEMA), *c = parse(content);
    char cerr[256];
    assert_int_equal(lh_jschema_check(s, cerr, sizeof(cerr)), 0);
    int rc = lh_jschema_validate(s, c, field, LH_JSCHEMA_MAX_NAME + 1, err, 512);
    json_decref(s);
    json_decref(c);
    return rc;
}

static void assertValid(const char *content) {
    char field[LH_JSCHEMA_MAX_NAME + 1], err[512];
    if (validate(content, field, err)) fail_msg("refused valid content %s: %s", content, err);
}

static void assertInvalid(const char *content, const char *wantField) {
    char field[LH_JSCHEMA_MAX_NAME + 1], err[512];
    if (!validate(content, field, err)) fail_msg("accepted invalid content %s", content);
    if (strcmp(field, wantField)) fail_msg("content %s: field \"%s\", want \"%s\" (%s)", content, field, wantField, err);
    if (wantField[0] && strncmp(err, wantField, strlen(wantField)))
        fail_msg("the message \"%s\" does not start with the field %s", err, wantField);
}

/* ---------------------------------------------------------------- schemas */

static void subset_accepted(void **state) {
    (void)state;
    assertAccepted(SCHEMA);
    assertAccepted("{\"type\":\"object\",\"properties\":{}}");
    assertAccepted("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
                   "\"properties\":{\"a\":{\"type\":\"number\",\"description\":\"d\",\"default\":2.5}}}");
}

static void outside_subset_refused(void **state) {
    (void)state;
    assertRefused("[]", "object");
    assertRefused("{\"type\":\"array\",\"properties\":{}}", "type");
    assertRefused("{\"type\":\"object\"}", "properties");
    assertRefused("{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}", "additionalProperties");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"properties\":{}}}}", "properties.a.type");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"items\":{}}}}", "properties.a");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"^x\"}}}", "pattern");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minLength\":1}}}", "minLength");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"format\":\"ipv4\"}}}", "format");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{}}}", "properties.a.type");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":[\"string\",\"null\"]}}}", "properties.a.type");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"b\"]}", "required[0]");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\",\"a\"]}", "twice");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":\"a\"}", "required");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}}}", "lower bound");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\",\"minimum\":5,\"maximum\":2}}}", "lower bound");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":-1}}}", "minLength");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":1.5}}}", "minLength");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\",\"minimum\":\"0\"}}}", "minimum");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\",\"default\":\"yes\"}}}", "default");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"default\":1.5}}}", "default");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"enum\":[]}}}", "enum");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"enum\":[1,2]}}}", "enum[0]");
    assertRefused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"enum\":[\"x\"],\"enumNames\":[\"X\",\"Y\"]}}}", "enumNames");
    assertRefused("{\"type\":\"object\",\"properties\":{\"bad name\":{\"type\":\"string\"}}}", "name");
}

/* A schema nested thousands of levels deep is refused at the first level (no recursion). */
static void deep_nesting_refused(void **state) {
    (void)state;
    enum { DEPTH = 1000 };   /* two levels each: jansson parses up to 2048 */
    size_t cap = DEPTH * 40 + 256, o = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    o += (size_t)snprintf(s + o, cap - o, "{\"type\":\"object\",\"properties\":");
    for (int i = 0; i < DEPTH; i++) o += (size_t)snprintf(s + o, cap - o, "{\"a\":{\"type\":\"object\",\"properties\":");
    o += (size_t)snprintf(s + o, cap - o, "{}");
    for (int i = 0; i < DEPTH; i++) o += (size_t)snprintf(s + o, cap - o, "}}");
    snprintf(s + o, cap - o, "}");
    assertRefused(s, "properties.a.type");
    free(s);
}

static void huge_schemas_refused(void **state) {
    (void)state;
    /* 257 enum values, then 65 properties, then a 2 KiB title. */
    size_t cap = 1 << 16, o = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    o += (size_t)snprintf(s + o, cap - o, "{\"type\":\"object\",\"properties\":{\"e\":{\"type\":\"string\",\"enum\":[");
    for (int i = 0; i <= LH_JSCHEMA_MAX_ENUM; i++) o += (size_t)snprintf(s + o, cap - o, "%s\"v%d\"", i ? "," : "", i);
    snprintf(s + o, cap - o, "]}}}");
    assertRefused(s, "enum");
    o = (size_t)snprintf(s, cap, "{\"type\":\"object\",\"properties\":{");
    for (int i = 0; i <= LH_JSCHEMA_MAX_PROPS; i++) o += (size_t)snprintf(s + o, cap - o, "%s\"p%d\":{\"type\":\"boolean\"}", i ? "," : "", i);
    snprintf(s + o, cap - o, "}}");
    assertRefused(s, "at most 64");
    o = (size_t)snprintf(s, cap, "{\"type\":\"object\",\"title\":\"");
    for (int i = 0; i < 2048; i++) s[o++] = 't';
    snprintf(s + o, cap - o, "\",\"properties\":{}}");
    assertRefused(s, "title");
    free(s);
}

/* ---------------------------------------------------------------- content */

static void valid_content(void **state) {
    (void)state;
    assertValid("{\"port\":5432}");
    assertValid("{\"port\":5432.0}");   /* an integral real is an integer */
    assertValid("{\"port\":1,\"ratio\":1.5,\"name\":\"ab\",\"mail\":\"a@b.example\",\"home\":\"https://x.example/p\","
                "\"day\":\"2024-02-29\",\"at\":\"2026-12-07T05:41:03.25+01:00\",\"env\":\"prod\",\"ok\":true}");
    assertValid("{\"port\":65535,\"name\":\"\\u00e9t\\u00e9s\"}");   /* 5 characters, 8 bytes */
    assertValid("{\"port\":2,\"at\":\"2026-12-07T05:41:03Z\"}");
}

static void invalid_content(void **state) {
    (void)state;
    assertInvalid("[]", "");
    assertInvalid("{}", "port");
    assertInvalid("{\"port\":1.5}", "port");
    assertInvalid("{\"port\":\"5432\"}", "port");
    assertInvalid("{\"port\":0}", "port");
    assertInvalid("{\"port\":65536}", "port");
    assertInvalid("{\"port\":1e300}", "port");
    assertInvalid("{\"port\":null}", "port");
    assertInvalid("{\"port\":true}", "port");
    assertInvalid("{\"port\":1,\"ratio\":\"NaN\"}", "ratio");
    assertInvalid("{\"port\":1,\"ratio\":\"Infinity\"}", "ratio");
    assertInvalid("{\"port\":1,\"ratio\":\"-0\"}", "ratio");
    assertInvalid("{\"port\":1,\"ratio\":1.5000001}", "ratio");
    assertInvalid("{\"port\":1,\"name\":\"a\"}", "name");
    assertInvalid("{\"port\":1,\"name\":\"abcdef\"}", "name");
    assertInvalid("{\"port\":1,\"name\":5}", "name");
    assertInvalid("{\"port\":1,\"mail\":\"no-at.example\"}", "mail");
    assertInvalid("{\"port\":1,\"mail\":\"a@b@c.example\"}", "mail");
    assertInvalid("{\"port\":1,\"mail\":\"a b@c.example\"}", "mail");
    assertInvalid("{\"port\":1,\"home\":\"not a uri\"}", "home");
    assertInvalid("{\"port\":1,\"home\":\"/relative/path\"}", "home");
    assertInvalid("{\"port\":1,\"day\":\"2023-02-29\"}", "day");
    assertInvalid("{\"port\":1,\"day\":\"2024-13-01\"}", "day");
    assertInvalid("{\"port\":1,\"day\":\"24-01-01\"}", "day");
    assertInvalid("{\"port\":1,\"at\":\"2026-12-07 05:41:03Z\"}", "at");
    assertInvalid("{\"port\":1,\"at\":\"2026-12-07T25:41:03Z\"}", "at");
    assertInvalid("{\"port\":1,\"at\":\"2026-12-07T05:41:03\"}", "at");
    assertInvalid("{\"port\":1,\"env\":\"staging\"}", "env");
    assertInvalid("{\"port\":1,\"env\":\"Production\"}", "env");   /* a label is not a value */
    assertInvalid("{\"port\":1,\"ok\":\"true\"}", "ok");
    assertInvalid("{\"port\":1,\"ok\":1}", "ok");
    assertInvalid("{\"port\":1,\"extra\":1}", "extra");
    assertInvalid("{\"port\":1,\"name\":{\"a\":{\"b\":[1,2,[3]]}}}", "name");
}

/* Bounds compared exactly for big integers (a double would round them together). */
static void big_integers_exact(void **state) {
    (void)state;
    json_t *s = parse("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"maximum\":9007199254740993}}}");
    char err[512], field[LH_JSCHEMA_MAX_NAME + 1];
    assert_int_equal(lh_jschema_check(s, err, sizeof(err)), 0);
    json_t *ok = parse("{\"n\":9007199254740993}"), *bad = parse("{\"n\":9007199254740994}");
    assert_int_equal(lh_jschema_validate(s, ok, field, sizeof(field), err, sizeof(err)), 0);
    assert_int_equal(lh_jschema_validate(s, bad, field, sizeof(field), err, sizeof(err)), -1);
    assert_string_equal(field, "n");
    json_decref(ok);
    json_decref(bad);
    json_decref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subset_accepted),
        cmocka_unit_test(outside_subset_refused),
        cmocka_unit_test(deep_nesting_refused),
        cmocka_unit_test(huge_schemas_refused),
        cmocka_unit_test(valid_content),
        cmocka_unit_test(invalid_content),
        cmocka_unit_test(big_integers_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
