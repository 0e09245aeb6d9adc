/* shadow_path.c — shadow path checks and base64 (see shadow_path.h). */
#include "util/shadow_path.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

int lh_shadow_path_check(const char *p, size_t len, char *err, size_t errlen) {
    if (len == 0) { snprintf(err, errlen, "the path is empty"); return -1; }
    if (len > LH_SHADOW_PATH_MAX) { snprintf(err, errlen, "the path is longer than %d bytes", LH_SHADOW_PATH_MAX); return -1; }
    if (!lh_utf8_valid(p, len)) { snprintf(err, errlen, "the path is not valid UTF-8 (or holds a NUL byte)"); return -1; }
    if (p[0] == '/') { snprintf(err, errlen, "the path must be relative to the project root"); return -1; }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && (unsigned char)p[i] < 0x20) { snprintf(err, errlen, "the path holds a control character"); return -1; }
        if (i < len && (unsigned char)p[i] == 0x7f) { snprintf(err, errlen, "the path holds a control character"); return -1; }
        if (i < len && p[i] != '/') continue;
        size_t n = i - start;
        if (n == 0) { snprintf(err, errlen, "the path has an empty component"); return -1; }
        if ((n == 1 && p[start] == '.') || (n == 2 && p[start] == '.' && p[start + 1] == '.')) {
            snprintf(err, errlen, "the path has a '.' or '..' component");
            return -1;
        }
        if (n > LH_SHADOW_NAME_MAX) { snprintf(err, errlen, "a name in the path is longer than %d bytes", LH_SHADOW_NAME_MAX); return -1; }
        start = i + 1;
    }
    return 0;
}

/* Lexical normalisation of an absolute path into out[cap] ("/" for the root). -1 when
 * it is not absolute or does not fit. */
static int normalise(const char *in, char *out, size_t cap) {
    if (in[0] != '/' || cap < 2) return -1;
    size_t o = 0;
    const char *s = in;
    while (*s) {
        while (*s == '/') s++;
        const char *e = s;
        while (*e && *e != '/') e++;
        size_t n = (size_t)(e - s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* nothing */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;   /* the '/' before the removed name */
        } else {
            if (o + 1 + n + 1 > cap) return -1;
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0) out[o++] = '/';
    out[o] = 0;
    return 0;
}

int lh_shadow_path_rel(const char *root, const char *abs, char *out, size_t cap, char *err, size_t errlen) {
    char r[4096], a[4096];
    if (!root || normalise(root, r, sizeof(r))) { snprintf(err, errlen, "the project root is not an absolute path"); return -1; }
    if (!abs || normalise(abs, a, sizeof(a))) { snprintf(err, errlen, "the file path is not an absolute path"); return -1; }
    size_t rl = strlen(r);
    const char *rest;
    if (rl == 1) rest = a + 1;   /* root "/" */
    else if (!strncmp(a, r, rl) && a[rl] == '/') rest = a + rl + 1;
    else { snprintf(err, errlen, "the file is outside the project"); return -1; }
    size_t n = strlen(rest);
    if (n == 0) { snprintf(err, errlen, "the path is the project root itself"); return -1; }
    if (n + 1 > cap) { snprintf(err, errlen, "the path is too long"); return -1; }
    if (lh_shadow_path_check(rest, n, err, errlen)) return -1;
    memcpy(out, rest, n + 1);
    return 0;
}

/* ---- base64 ---------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t lh_base64_encode(const void *in, size_t n, char *out) {
    const unsigned char *p = in;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64[v >> 18 & 63]; out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];  out[o++] = b64[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18 & 63]; out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long lh_base64_decode(const char *in, size_t n, unsigned char *out) {
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (last && k >= 2 && in[i + k] == '=' && (k == 3 || in[i + 3] == '=')) { v[k] = 0; pad++; continue; }
            v[k] = b64val(in[i + k]);
            if (v[k] < 0) return -1;
        }
        unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[o++] = (unsigned char)(x >> 16);
        if (pad < 2) out[o++] = (unsigned char)(x >> 8);
        if (pad < 1) out[o++] = (unsigned char)x;
    }
    return (long)o;
}
