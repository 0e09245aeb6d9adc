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

int lh_reply_sig(const unsigned char key[32], const char *nonce, size_t nlen, const char *body, size_t blen,
                 char hex[65]) {
    unsigned char mac[32];
    if (lh_hmac_sha256(key, 32, nonce, nlen, body, blen, mac)) return -1;
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 15];
    }
    hex[64] = 0;
    return 0;
}

int lh_reply_sig_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}
