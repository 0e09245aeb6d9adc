/* jschema.c — the MCP elicitation schema subset: check a schema, validate content (see
 * jschema.h). No recursion: the subset is flat, so a nested object is refused before
 * anything looks inside it, however deep it goes. */
#include "util/jschema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------ */
/* Small helpers                                                                    */
/* ------------------------------------------------------------------------------ */

static int inList(const char *k, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(k, *list)) return 1;
    return 0;
}

/* Characters (code points) of a UTF-8 string: jansson's strings are valid UTF-8. */
static size_t codePoints(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

static const char *typeName(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* A short, printable rendering of v for messages (strings quoted and cut). */
static void shortValue(const json_t *v, char *out, size_t cap) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v), o = 0;
        if (cap < 8) { if (cap) out[0] = 0; return; }
        out[o++] = '"';
        for (size_t i = 0; i < n && o + 5 < cap; i++) out[o++] = (unsigned char)s[i] < 0x20 || s[i] == '"' ? '?' : s[i];
        if (n > 0 && o + 5 >= cap) { out[o++] = '.'; out[o++] = '.'; out[o++] = '.'; }
        out[o++] = '"';
        out[o] = 0;
    } else if (json_is_integer(v)) {
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, cap, "%.17g", json_real_value(v));
    } else {
        snprintf(out, cap, "%s", typeName(v));
    }
}

/* ------------------------------------------------------------------------------ */
/* Formats                                                                          */
/* ------------------------------------------------------------------------------ */

static int digits(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static int num(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* YYYY-MM-DD, a real calendar day. */
static int isDate(const char *s, size_t len) {
    if (len != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2)) return 0;
    int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* RFC 3339 date-time: DATE "T" hh:mm:ss[.frac] ("Z" | ±hh:mm). */
static int isDateTime(const char *s, size_t len) {
    if (len < 20 || !isDate(s, 10) || (s[10] != 'T' && s[10] != 't')) return 0;
    const char *t = s + 11;
    if (!digits(t, 2) || t[2] != ':' || !digits(t + 3, 2) || t[5] != ':' || !digits(t + 6, 2)) return 0;
    if (num(t, 2) > 23 || num(t + 3, 2) > 59 || num(t + 6, 2) > 60) return 0;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        i++;
        size_t f = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        if (i == f) return 0;
    }
    if (i == len - 1 && (s[i] == 'Z' || s[i] == 'z')) return 1;
    if (i + 6 != len || (s[i] != '+' && s[i] != '-')) return 0;
    const char *z = s + i + 1;
    return digits(z, 2) && z[2] == ':' && digits(z + 3, 2) && num(z, 2) <= 23 && num(z + 3, 2) <= 59;
}

static int hasSpaceOrControl(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) return 1;
    return 0;
}

/* local@domain: one '@', both sides non-empty, a dotted domain, no spaces. */
static int isEmail(const char *s, size_t len) {
    const char *at = memchr(s, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at - s) - 1) || hasSpaceOrControl(s, len)) return 0;
    size_t local = (size_t)(at - s), dom = len - local - 1;
    const char *d = at + 1;
    if (!local || local > 64 || dom < 3 || dom > 255 || d[0] == '.' || d[dom - 1] == '.') return 0;
    return memchr(d, '.', dom) != NULL && !strstr(d, "..");
}

/* scheme ":" rest (RFC 3986: an absolute URI), no spaces. */
static int isUri(const char *s, size_t len) {
    if (!len || hasSpaceOrControl(s, len)) return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    size_t i = 1;
    while (i < len && (strchr("+-.", s[i]) || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                       (s[i] >= '0' && s[i] <= '9')))
        i++;
    return i < len - 1 && s[i] == ':';
}

static const char *const formats[] = {"email", "uri", "date", "date-time", NULL};

static int formatOk(const char *fmt, const char *s, size_t len) {
    if (!strcmp(fmt, "email")) return isEmail(s, len);
    if (!strcmp(fmt, "uri")) return isUri(s, len);
    if (!strcmp(fmt, "date")) return isDate(s, len);
    if (!strcmp(fmt, "date-time")) return isDateTime(s, len);
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* One value against one property                                                   */
/* ------------------------------------------------------------------------------ */

/* Is v a whole number (an integer, or a real with no fraction within ±2^53)? */
static int isWhole(const json_t *v) {
    if (json_is_integer(v)) return 1;
    if (!json_is_real(v)) return 0;
    double d = json_real_value(v);
    return isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740992.0;
}

/* -1 when v < bound (sign -1: v > bound), compared exactly when both are integers. */
static int beyond(const json_t *v, const json_t *bound, int sign) {
    if (json_is_integer(v) && json_is_integer(bound)) {
        json_int_t a = json_integer_value(v), b = json_integer_value(bound);
        return sign > 0 ? a < b : a > b;
    }
    double a = json_number_value(v), b = json_number_value(bound);
    return sign > 0 ? a < b : a > b;
}

/* Check value v of property name (schema prop, already checked). 0 or -1 with err. */
static int validateValue(const char *name, const json_t *prop, const json_t *v, char *err, size_t errlen) {
    const char *type = json_string_value(json_object_get(prop, "type"));
    char shown[96];
    shortValue(v, shown, sizeof(shown));
    if (!strcmp(type, "boolean")) {
        if (json_is_boolean(v)) return 0;
        snprintf(err, errlen, "%s: must be a boolean, got %s", name, shown);
        return -1;
    }
    if (!strcmp(type, "number") || !strcmp(type, "integer")) {
        int integer = !strcmp(type, "integer");
        if (!json_is_number(v) || (integer && !isWhole(v))) {
            snprintf(err, errlen, "%s: must be %s, got %s", name, integer ? "an integer" : "a number", shown);
            return -1;
        }
        const json_t *lo = json_object_get(prop, "minimum"), *hi = json_object_get(prop, "maximum");
        char bs[64];
        if (lo && beyond(v, lo, 1)) {
            shortValue(lo, bs, sizeof(bs));
            snprintf(err, errlen, "%s: must be at least %s, got %s", name, bs, shown);
            return -1;
        }
        if (hi && beyond(v, hi, -1)) {
            shortValue(hi, bs, sizeof(bs));
            snprintf(err, errlen, "%s: must be at most %s, got %s", name, bs, shown);
            return -1;
        }
        return 0;
    }
    /* string */
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s: must be a string, got %s", name, typeName(v));
        return -1;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), chars = codePoints(s, len);
    const json_t *en = json_object_get(prop, "enum");
    if (en) {
        size_t i;
        json_t *e;
        json_array_foreach(en, i, e) {
            if (json_string_length(e) == len && !memcmp(json_string_value(e), s, len)) return 0;
        }
        snprintf(err, errlen, "%s: %s is not one of the %zu allowed values", name, shown, json_array_size(en));
        return -1;
    }
    const json_t *mn = json_object_get(prop, "minLength"), *mx = json_object_get(prop, "maxLength");
    if (mn && (json_int_t)chars < json_integer_value(mn)) {
        snprintf(err, errlen, "%s: must be at least %" JSON_INTEGER_FORMAT " characters, got %zu", name,
                 json_integer_value(mn), chars);
        return -1;
    }
    if (mx && (json_int_t)chars > json_integer_value(mx)) {
        snprintf(err, errlen, "%s: must be at most %" JSON_INTEGER_FORMAT " characters, got %zu", name,
                 json_integer_value(mx), chars);
        return -1;
    }
    const char *fmt = json_string_value(json_object_get(prop, "format"));
    if (fmt && !formatOk(fmt, s, len)) {
        snprintf(err, errlen, "%s: %s is not a valid %s", name, shown, fmt);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* The schema                                                                       */
/* ------------------------------------------------------------------------------ */

static int textOk(const json_t *v) { return json_is_string(v) && json_string_length(v) <= LH_JSCHEMA_MAX_TEXT; }

/* Check one property's schema. 0 or -1 with err (prefixed "properties.NAME"). */
static int checkProp(const char *name, const json_t *p, char *err, size_t errlen) {
    static const char *const strKeys[] = {"type", "title", "description", "minLength", "maxLength", "enum",
                                          "enumNames", "format", "default", NULL};
    static const char *const numKeys[] = {"type", "title", "description", "minimum", "maximum", "default", NULL};
    static const char *const boolKeys[] = {"type", "title", "description", "default", NULL};
    if (!json_is_object(p)) {
        snprintf(err, errlen, "properties.%s: must be an object, got %s", name, typeName(p));
        return -1;
    }
    const json_t *tj = json_object_get(p, "type");
    const char *type = json_string_value(tj);
    if (!type) {
        snprintf(err, errlen, "properties.%s.type: required, one of string, number, integer, boolean", name);
        return -1;
    }
    const char *const *allowed = !strcmp(type, "string") ? strKeys
                               : !strcmp(type, "number") || !strcmp(type, "integer") ? numKeys
                               : !strcmp(type, "boolean") ? boolKeys : NULL;
    if (!allowed) {
        char shown[96];
        shortValue(tj, shown, sizeof(shown));
        snprintf(err, errlen, "properties.%s.type: %s is not one of string, number, integer, boolean "
                 "(elicitation schemas are flat)", name, shown);
        return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)p, k, v) {
        if (!inList(k, allowed)) {
            snprintf(err, errlen, "properties.%s: \"%.60s\" is not allowed for type %s", name, k, type);
            return -1;
        }
        if ((!strcmp(k, "title") || !strcmp(k, "description")) && !textOk(v)) {
            snprintf(err, errlen, "properties.%s.%s: must be a string of at most %d bytes", name, k, LH_JSCHEMA_MAX_TEXT);
            return -1;
        }
        if ((!strcmp(k, "minLength") || !strcmp(k, "maxLength")) &&
            (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 24))) {
            snprintf(err, errlen, "properties.%s.%s: must be a whole number from 0 to %d", name, k, 1 << 24);
            return -1;
        }
        if ((!strcmp(k, "minimum") || !strcmp(k, "maximum")) &&
            (!json_is_number(v) || !isfinite(json_number_value(v)))) {
            snprintf(err, errlen, "properties.%s.%s: must be a number", name, k);
            return -1;
        }
        if (!strcmp(k, "format") && (!json_is_string(v) || !inList(json_string_value(v), formats))) {
            snprintf(err, errlen, "properties.%s.format: must be one of email, uri, date, date-time", name);
            return -1;
        }
        if (!strcmp(k, "enum") || !strcmp(k, "enumNames")) {
            size_t n = json_is_array(v) ? json_array_size(v) : 0;
            if (!n || n > LH_JSCHEMA_MAX_ENUM) {
                snprintf(err, errlen, "properties.%s.%s: must be an array of 1 to %d strings", name, k, LH_JSCHEMA_MAX_ENUM);
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                if (!textOk(json_array_get(v, i))) {
                    snprintf(err, errlen, "properties.%s.%s[%zu]: must be a string of at most %d bytes", name, k, i,
                             LH_JSCHEMA_MAX_TEXT);
                    return -1;
                }
        }
    }
    const json_t *en = json_object_get(p, "enum"), *names = json_object_get(p, "enumNames");
    if (names && (!en || json_array_size(names) != json_array_size(en))) {
        snprintf(err, errlen, "properties.%s.enumNames: needs an enum of the same length", name);
        return -1;
    }
    if (en && (json_object_get(p, "format") || json_object_get(p, "minLength") || json_object_get(p, "maxLength"))) {
        snprintf(err, errlen, "properties.%s: an enum takes no format, minLength or maxLength", name);
        return -1;
    }
    const json_t *mn = json_object_get(p, "minLength"), *mx = json_object_get(p, "maxLength");
    const json_t *lo = json_object_get(p, "minimum"), *hi = json_object_get(p, "maximum");
    if ((mn && mx && json_integer_value(mn) > json_integer_value(mx)) ||
        (lo && hi && json_number_value(lo) > json_number_value(hi))) {
        snprintf(err, errlen, "properties.%s: the lower bound is above the upper bound", name);
        return -1;
    }
    const json_t *dv = json_object_get(p, "default");
    if (dv) {
        if (json_is_string(dv) && json_string_length(dv) > LH_JSCHEMA_MAX_TEXT) {
            snprintf(err, errlen, "properties.%s.default: longer than %d bytes", name, LH_JSCHEMA_MAX_TEXT);
            return -1;
        }
        char why[256];
        if (validateValue(name, p, dv, why, sizeof(why))) {
            snprintf(err, errlen, "properties.%s.default: does not fit its own schema (%s)", name, why);
            return -1;
        }
    }
    return 0;
}

int lh_jschema_check(const json_t *schema, char *err, size_t errlen) {
    static const char *const topKeys[] = {"type", "properties", "required", "title", "description", "$schema", NULL};
    if (!json_is_object(schema)) {
        snprintf(err, errlen, "the schema must be an object, got %s", schema ? typeName(schema) : "nothing");
        return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)schema, k, v) {
        if (!inList(k, topKeys)) {
            snprintf(err, errlen, "\"%.60s\" is not allowed at the top of an elicitation schema "
                     "(type, properties, required, title, description)", k);
            return -1;
        }
        if ((!strcmp(k, "title") || !strcmp(k, "description") || !strcmp(k, "$schema")) && !textOk(v)) {
            snprintf(err, errlen, "%s: must be a string of at most %d bytes", k, LH_JSCHEMA_MAX_TEXT);
            return -1;
        }
    }
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (!type || strcmp(type, "object")) {
        snprintf(err, errlen, "type: must be \"object\"");
        return -1;
    }
    const json_t *props = json_object_get(schema, "properties");
    if (!json_is_object(props)) {
        snprintf(err, errlen, "properties: required, an object of property schemas");
        return -1;
    }
    if (json_object_size(props) > LH_JSCHEMA_MAX_PROPS) {
        snprintf(err, errlen, "properties: at most %d, got %zu", LH_JSCHEMA_MAX_PROPS, json_object_size(props));
        return -1;
    }
    json_object_foreach((json_t *)props, k, v) {
        size_t kl = strlen(k);
        if (!kl || kl > LH_JSCHEMA_MAX_NAME || hasSpaceOrControl(k, kl)) {
            snprintf(err, errlen, "properties: a name must be 1 to %d bytes without spaces or control characters",
                     LH_JSCHEMA_MAX_NAME);
            return -1;
        }
        if (checkProp(k, v, err, errlen)) return -1;
    }
    const json_t *req = json_object_get(schema, "required");
    if (req) {
        if (!json_is_array(req) || json_array_size(req) > LH_JSCHEMA_MAX_PROPS) {
            snprintf(err, errlen, "required: must be an array of property names");
            return -1;
        }
        for (size_t i = 0; i < json_array_size(req); i++) {
            const char *name = json_string_value(json_array_get(req, i));
            if (!name || !json_object_get(props, name)) {
                snprintf(err, errlen, "required[%zu]: must name a property of the schema", i);
                return -1;
            }
            for (size_t j = 0; j < i; j++)
                if (!strcmp(name, json_string_value(json_array_get(req, j)))) {
                    snprintf(err, errlen, "required[%zu]: \"%.60s\" is listed twice", i, name);
                    return -1;
                }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Content                                                                          */
/* ------------------------------------------------------------------------------ */

int lh_jschema_validate(const json_t *schema, const json_t *content, char *field, size_t fieldlen, char *err,
                        size_t errlen) {
    if (fieldlen) field[0] = 0;
    if (!json_is_object(content)) {
        snprintf(err, errlen, "content: must be an object, got %s", content ? typeName(content) : "nothing");
        return -1;
    }
    const json_t *props = json_object_get(schema, "properties"), *req = json_object_get(schema, "required");
    for (size_t i = 0; i < json_array_size(req); i++) {
        const char *name = json_string_value(json_array_get(req, i));
        if (!json_object_get(content, name)) {
            snprintf(field, fieldlen, "%s", name);
            snprintf(err, errlen, "%s: required, missing", name);
            return -1;
        }
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)content, k, v) {
        const json_t *p = json_object_get(props, k);
        if (!p) {
            snprintf(field, fieldlen, "%s", k);
            snprintf(err, errlen, "%.128s: not a property of the schema", k);
            return -1;
        }
        if (validateValue(k, p, v, err, errlen)) {
            snprintf(field, fieldlen, "%s", k);
            return -1;
        }
    }
    return 0;
}
