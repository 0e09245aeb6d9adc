/* replysig.h — the bridge's proof to the hook that a reply is its own (docs/api.md,
 * "Reply signatures"; docs/architecture.md, "Why the hook checks the bridge").
 *
 * The hook sends a fresh random nonce in X-Lighthouse-Nonce with its bearer token; the
 * bridge answers the hook route with
 *     X-Lighthouse-Signature: hex(HMAC-SHA256(K, nonce ‖ body))
 *     K = HMAC-SHA256(token, "lighthouse.reply.v1")
 * so only a party that knows the token can sign, and a recorded reply does not fit the
 * next call's nonce. Hand-written over lh_sha256 (util/sha256.h), so the slim hook needs
 * no libcrypto. */
#ifndef LH_UTIL_REPLYSIG_H
#define LH_UTIL_REPLYSIG_H

#include <stddef.h>

#define LH_REPLY_NONCE_MAX 64        /* longest nonce the bridge signs for */
#define LH_REPLY_SIG_HEADER "X-Lighthouse-Signature"
#define LH_REPLY_NONCE_HEADER "X-Lighthouse-Nonce"

/* HMAC-SHA256 of m1 ‖ m2 under key k (any length). -1 when out of memory (messages over
 * a few KiB are copied into one heap buffer). */
int lh_hmac_sha256(const void *k, size_t klen, const void *m1, size_t l1, const void *m2, size_t l2,
                   unsigned char out[32]);
/* The reply key K of a token. */
void lh_reply_key(const char *token, size_t tlen, unsigned char key[32]);
/* hex[0..64] = the signature of body under key for nonce, NUL-terminated. -1 when out of
 * memory. */
int lh_reply_sig(const unsigned char key[32], const char *nonce, size_t nlen, const char *body, size_t blen,
                 char hex[65]);
/* 1 when the two NUL-terminated strings are equal, in time independent of where they
 * differ. */
int lh_reply_sig_equal(const char *a, const char *b);

#endif
