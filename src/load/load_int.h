/* load_int.h — shared inside src/load/ only. */
#ifndef LH_LOAD_INT_H
#define LH_LOAD_INT_H

#include "load/load.h"

typedef struct lh_load_rng { uint64_t s[4]; } lh_load_rng;
void lh_load_rng_seed(lh_load_rng *g, uint64_t seed);
double lh_load_rng_u01(lh_load_rng *g);
double lh_load_rng_exp(lh_load_rng *g, double mean);
double lh_load_now(void);   /* CLOCK_MONOTONIC seconds */

/* gen.c: the loop itself; a failure to start (no connection) goes in r->fatal. */
int lh_load_generate(const lh_load_options *o, lh_load_result *r, char *err, size_t errlen);

#endif
