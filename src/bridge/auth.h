/* auth.h — bearer tokens for the bridge.
 *
 * A token is "lh1.<payload>.<mac>": payload is base64url of compact JSON
 * {"tid","agent","role","iat","exp"}, mac is base64url of HMAC-SHA256(key, "lh1.<payload>").
 * The key is 32 random bytes kept hex-encoded in <data>/token.key (0600), generated on
 * first use; there is no default key. Revocation is an event (token.revoked); the bridge
 * keeps the revoked ids in an immutable set that it replaces when one is added. */
#ifndef LH_BRIDGE_AUTH_H
#define LH_BRIDGE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define LH_AUTH_KEY_LEN   32
#define LH_AUTH_TID_LEN   16      /* hex chars of a token id */
#define LH_AUTH_NAME_MAX  128     /* agent name bytes */
#define LH_AUTH_TOKEN_MAX 1024    /* bytes in a token */

typedef enum { LH_ROLE_BUILDER = 1, LH_ROLE_EXPERT = 2, LH_ROLE_ADMIN = 4 } lh_role;

typedef struct lh_token_claims {
    char tid[LH_AUTH_TID_LEN + 1];
    char agent[LH_AUTH_NAME_MAX + 1];
    lh_role role;
    int64_t iat, exp;             /* unix seconds */
} lh_token_claims;

typedef enum {
    LH_AUTH_OK = 0, LH_AUTH_MISSING, LH_AUTH_MALFORMED, LH_AUTH_FORGED, LH_AUTH_EXPIRED,
    LH_AUTH_REVOKED
} lh_auth_result;

const char *lh_role_name(lh_role r);
int lh_role_parse(const char *s, lh_role *out);   /* 0 ok, -1 unknown */
const char *lh_auth_result_text(lh_auth_result r);

/* Load <dir>/token.key, creating it (0600, fsynced) when create is set and it is absent.
 * Refuses a key file that group or others can read. */
int lh_auth_load_key(const char *dir, int create, unsigned char key[LH_AUTH_KEY_LEN],
                     char *err, size_t errlen);

/* HMAC-SHA256 of msg[0..n) (n <= LH_AUTH_TOKEN_MAX) with a 32-byte key. */
void lh_auth_hmac(const unsigned char key[LH_AUTH_KEY_LEN], const char *msg, size_t n,
                  unsigned char out[32]);

/* Mint a token for claims (tid is generated when empty). Writes the NUL-terminated token
 * to out[cap]. */
int lh_auth_mint(const unsigned char key[LH_AUTH_KEY_LEN], lh_token_claims *claims,
                 char *out, size_t cap, char *err, size_t errlen);

/* Check a token's form, MAC (constant time) and expiry at now (unix seconds). Revocation
 * is checked by the caller (lh_revoked_has). */
lh_auth_result lh_auth_verify(const unsigned char key[LH_AUTH_KEY_LEN], const char *token,
                              size_t len, int64_t now, lh_token_claims *out);

/* The set of revoked token ids. Readers take no lock: lh_revoked_has reads an immutable
 * snapshot; lh_revoked_add (rare) builds a new one under a mutex and keeps the old one
 * alive until lh_revoked_free, so a reader never sees freed memory. */
typedef struct lh_revoked lh_revoked;
lh_revoked *lh_revoked_new(void);
void lh_revoked_free(lh_revoked *r);
int lh_revoked_add(lh_revoked *r, const char *tid);
int lh_revoked_has(const lh_revoked *r, const char *tid);
size_t lh_revoked_count(const lh_revoked *r);

#endif
