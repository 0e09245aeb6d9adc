/* sha256.h — SHA-256 (FIPS 180-4), hand-written.
 *
 * The policy revision hash and the HMACs of the hook's reply signature and the bridge's
 * tokens are computed with it. It lives here, not in libcrypto, because the slim hook
 * links no crypto library (DESIGN.md, "start-up cost"). */
#ifndef LH_SHA256_H
#define LH_SHA256_H

#include <stddef.h>

/* SHA-256 of len bytes of data into out (32 bytes). */
void lh_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
