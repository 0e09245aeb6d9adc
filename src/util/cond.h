/* cond.h — condition variables for timed waits. */
#ifndef LH_UTIL_COND_H
#define LH_UTIL_COND_H

#include <pthread.h>
#include <time.h>

/* Timed waits run on CLOCK_MONOTONIC: a condition variable made here, with deadlines read
 * from CLOCK_MONOTONIC. On CLOCK_REALTIME (the default) a wall clock stepped back by an hour
 * stretched a 20 ms or 1 s wait by that hour (docs/store.md, "Chaos"). */
static inline void lh_cond_init_monotonic(pthread_cond_t *cv) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

#endif
