/* replysig.c — see replysig.h. */
#include "util/replysig.h"

#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"

int lh_hmac_sha256(const void *k, size_t klen, const void *m1, size_t l1, const void *m2, size_t l2,
                   unsigned char out[32]) {
    unsigned char kb[64] = {0}, inner[32];
    if (klen > 64) lh_sha256(k, klen, kb);
    else if (klen) memcpy(kb, k, klen);
    unsigned char stack[4096], *buf = stack;
    size_t need = 64 + l1 + l2;
    if (need < 64 + 32) need = 64 + 32;
    if (need > sizeof(stack) && !(buf = malloc(need))) return -1;
    for (int i = 0; i < 64; i++) buf[i] = kb[i] ^ 0x36;
    if (l1) memcpy(buf + 64, m1, l1);
    if (l2) memcpy(buf + 64 + l1, m2, l2);
    lh_sha256(buf, 64 + l1 + l2, inner);
    for (int i = 0; i < 64; i++) buf[i] = kb[i] ^ 0x5c;
    memcpy(buf + 64, inner, 32);
    lh_sha256(buf, 64 + 32, out);
    if (buf != stack) free(buf);
    return 0;
}

void lh_reply_key(const char *token, size_t tlen, unsigned char key[32]) {
    static const char label[] = "lighthouse.reply.v1";
    lh_hmac_sha256(token, tlen, label, sizeof(label) - 1, NULL, 0, key);   /* 83 bytes: no heap */
}

void lh_reply_key_of(const unsigned char tokkey[32], const char *tid, unsigned char key[32]) {
    static const char label[] = "reply:";
    size_t n = strlen(tid);
    if (n > 256) n = 256;   /* a token id is 16 hex digits: 64 + 6 + 256 bytes stay off the heap */
    lh_hmac_sha256(tokkey, 32, label, sizeof(label) - 1, tid, n, key);
}

void lh_reply_key_hex(const unsigned char key[32], char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[key[i] >> 4];
        hex[2 * i + 1] = digits[key[i] & 15];
    }
    hex[64] = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int lh_reply_key_parse(const char *text, unsigned char key[32]) {
    for (int i = 0; i < 32; i++) {
        int hi = hexval(text[2 * i]), lo = hi < 0 ? -1 : hexval(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    for (const char *p = text + 64; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return -1;
    return 0;
}

int lh_reply_sig(const unsigned char key[32], const char *nonce, size_t nlen, const char *body, size_t blen,
                 char hex[65]) {
    unsigned char mac[32];
    if (lh_hmac_sha256(key, 32, nonce, nlen, body, blen, mac)) return -1;
    lh_reply_key_hex(mac, hex);
    return 0;
}

int lh_reply_sig_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}
