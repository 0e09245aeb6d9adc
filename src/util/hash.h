/* hash.h — a fast seeded 64-bit hash for cache keys (not cryptographic).
 * Written here because the slim hook must not link a hashing library, and the cache
 * compares whole keys on a hit, so the hash only spreads keys; the seed keeps
 * crafted inputs from piling into one bucket. */
#ifndef LH_HASH_H
#define LH_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t lh_hash_mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t lh_hash_read64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Hash len bytes of data with seed; continue a running hash by passing it as seed. */
static inline uint64_t lh_hash(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
    uint64_t h = seed ^ k0 ^ (uint64_t)len;
    while (len >= 16) {
        h = lh_hash_mix(lh_hash_read64(p) ^ k1, lh_hash_read64(p + 8) ^ h);
        p += 16;
        len -= 16;
    }
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        a = lh_hash_read64(p);
        memcpy(&b, p + 8, len - 8);
    } else {
        memcpy(&a, p, len);
    }
    return lh_hash_mix(lh_hash_mix(a ^ k1, b ^ h), k0 ^ (uint64_t)len);
}

#endif
