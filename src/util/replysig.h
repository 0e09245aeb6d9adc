/* replysig.h — the bridge's proof to the hook that a reply is its own (docs/api.md,
 * "Reply signatures"; docs/architecture.md, "Why the hook checks the bridge").
 *
 * The hook sends a fresh random nonce in X-Lighthouse-Nonce with its bearer token; the
 * bridge answers the hook route with
 *     X-Lighthouse-Signature: hex(HMAC-SHA256(K, nonce ‖ body))
 *     K = HMAC-SHA256(token, "lighthouse.reply.v1")
 * so only a party that knows the token can sign, and a recorded reply does not fit the
 * next call's nonce. The token travels in every request, so a process that took the
 * bridge's port reads it and can sign too; hence the reply key, which the hook never
 * sends: the bridge also answers
 *     X-Lighthouse-Reply-Signature: hex(HMAC-SHA256(R, nonce ‖ body))
 *     R = HMAC-SHA256(the bridge's token key, "reply:" ‖ token id)
 * and a hook given R (LIGHTHOUSE_REPLY_KEY) obeys only that header. Hand-written over lh_sha256 (util/sha256.h), so the slim hook needs
 * no libcrypto. */
#ifndef LH_UTIL_REPLYSIG_H
#define LH_UTIL_REPLYSIG_H

#include <stddef.h>

#define LH_REPLY_NONCE_MAX 64        /* longest nonce the bridge signs for */
#define LH_REPLY_SIG_HEADER "X-Lighthouse-Signature"
#define LH_REPLY_NONCE_HEADER "X-Lighthouse-Nonce"
#define LH_REPLY_KEYSIG_HEADER "X-Lighthouse-Reply-Signature"

/* HMAC-SHA256 of m1 ‖ m2 under key k (any length). -1 when out of memory (messages over
 * a few KiB are copied into one heap buffer). */
int lh_hmac_sha256(const void *k, size_t klen, const void *m1, size_t l1, const void *m2, size_t l2,
                   unsigned char out[32]);
/* The reply key K of a token. */
void lh_reply_key(const char *token, size_t tlen, unsigned char key[32]);
/* The reply key R of the token with id tid, from the bridge's 32-byte token key. */
void lh_reply_key_of(const unsigned char tokkey[32], const char *tid, unsigned char key[32]);
/* hex[0..64] = key in hex, NUL-terminated. */
void lh_reply_key_hex(const unsigned char key[32], char hex[65]);
/* Parse a reply key: 64 hex digits, then at most trailing white space (a key file's
 * newline). 0 ok, -1 malformed. */
int lh_reply_key_parse(const char *text, unsigned char key[32]);
/* hex[0..64] = the signature of body under key for nonce, NUL-terminated. -1 when out of
 * memory. */
int lh_reply_sig(const unsigned char key[32], const char *nonce, size_t nlen, const char *body, size_t blen,
                 char hex[65]);
/* 1 when the two NUL-terminated strings are equal, in time independent of where they
 * differ. */
int lh_reply_sig_equal(const char *a, const char *b);

#endif
