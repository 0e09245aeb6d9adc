/* sessions.h — active sessions, counted for /v1/status and /metrics without a lock.
 *
 * Owns: the slot array (a session hash → the minute it was last seen, relaxed atomics).
 * Two sessions that share a slot count once; the figure is an estimate. */
#ifndef LH_BRIDGE_SESSIONS_H
#define LH_BRIDGE_SESSIONS_H

#include <stdint.h>

#define LH_SESSION_SLOTS 4096

typedef struct lh_sessions lh_sessions;

/* start_ns: the monotonic (CLOCK_MONOTONIC) time minutes are counted from. NULL when out
 * of memory. */
lh_sessions *lh_sessions_new(uint64_t start_ns);
void lh_sessions_free(lh_sessions *s);
/* A request of session (NULL or "": none, and no clock is read) now. */
void lh_sessions_note(lh_sessions *s, const char *session);
/* Sessions seen in the last 15 minutes. */
uint64_t lh_sessions_active(const lh_sessions *s);

#endif
