/* sessions.c — active sessions (sessions.h). Each slot holds the minute (since start, + 1)
 * a session hashing to it was last seen; a decision writes its slot only when the minute
 * changed, so the slots stay in the cache of every core. */
#include "bridge/sessions.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct lh_sessions {
    uint64_t start_ns;
    _Atomic uint32_t sessions[LH_SESSION_SLOTS];  /* last-seen minute of a session hash */
};

lh_sessions *lh_sessions_new(uint64_t start_ns) {
    lh_sessions *s = calloc(1, sizeof(*s));
    if (s) s->start_ns = start_ns;
    return s;
}

void lh_sessions_free(lh_sessions *s) { free(s); }

static uint32_t minuteNow(const lh_sessions *s) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return (uint32_t)((now - s->start_ns) / 60000000000ull) + 1;
}

void lh_sessions_note(lh_sessions *s, const char *session) {
    if (!session || !*session) return;
    uint64_t h = 1469598103934665603ull;
    for (const char *p = session; *p; p++) { h ^= (unsigned char)*p; h *= 1099511628211ull; }
    uint32_t minute = minuteNow(s);
    _Atomic uint32_t *slot = &s->sessions[h % LH_SESSION_SLOTS];
    if (atomic_load_explicit(slot, memory_order_relaxed) != minute)
        atomic_store_explicit(slot, minute, memory_order_relaxed);
}

uint64_t lh_sessions_active(const lh_sessions *s) {
    uint32_t minute = minuteNow(s);
    uint64_t n = 0;
    for (int i = 0; i < LH_SESSION_SLOTS; i++) {
        uint32_t v = atomic_load_explicit(&((lh_sessions *)s)->sessions[i], memory_order_relaxed);
        if (v && minute - v < 15) n++;
    }
    return n;
}
