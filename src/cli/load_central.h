/* load_central.h — `lighthouse load`'s side of the central performance history
 * (load_central.c): post a run's summary to the bridge, read the runs back, and print the
 * trend of p50, p99, throughput and verdict per pattern. docs/load.md, "Central history". */
#ifndef LH_CLI_LOAD_CENTRAL_H
#define LH_CLI_LOAD_CENTRAL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* The bridge's base URL ("http://HOST:PORT") of a --target URL (any path dropped) into
 * base[cap]. -1 with err when it is not http://HOST:PORT[/...]. */
int lh_load_central_base(const char *target, char *base, size_t cap, char *err, size_t errlen);
/* POST the summary to base/v1/load/runs with an admin token: 0 with the event's seq, or
 * -1 with the bridge's reason (or why it could not be reached) in err. */
int lh_load_central_post(const char *base, const char *token, const json_t *summary, int64_t *seq, char *err,
                         size_t errlen);
/* The last `limit` runs recorded on the bridge (of one pattern; NULL: all), oldest first,
 * as trend rows (load/load.h, lh_load_summary_rows); NULL with err. Reads every page of
 * GET /v1/load/runs with an expert or admin token. New reference. */
json_t *lh_load_central_rows(const char *base, const char *token, const char *pattern, int limit, char *err,
                             size_t errlen);
/* The trend: one line per row, the change of p99 and throughput against the pattern's run
 * before, and a closing line per pattern. */
void lh_load_trend_print(FILE *out, const json_t *rows, const char *source);

#endif
