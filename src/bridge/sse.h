/* sse.h — the event streams (GET /v1/events/stream, Server-Sent Events).
 *
 * Owns: sse_mu (guards the list of open streams), nstreams (open streams, bounded by
 * max_streams), nhelpers (helper threads alive), closing (set once by the shutdown), and
 * each stream's own mu (its buffer and flags). No other file touches them. */
#ifndef LH_BRIDGE_SSE_H
#define LH_BRIDGE_SSE_H

#include "bridge/bridge_int.h"

typedef struct lh_streams lh_streams;

/* At most max streams at once. NULL when out of memory. */
lh_streams *lh_streams_new(int max);
/* Refuse new streams and wake every open one so it ends (MHD must not be stopped with
 * suspended connections). */
void lh_streams_shutdown(lh_streams *s);
/* Wait until every helper thread has ended (they use the store: before it closes). */
void lh_streams_wait_helpers(lh_streams *s);
/* After MHD is stopped and the helpers ended. NULL: no-op. */
void lh_streams_free(lh_streams *s);

enum MHD_Result lh_route_stream(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

/* A push stream: no store subscription; its owner publishes to every push stream of its
 * channel (LH_SSE_CH_*), as "event: TYPE\ndata: JSON\n\n". Counted in max_streams. */
enum { LH_SSE_CH_STORE = 0, LH_SSE_CH_ESCALATIONS = 1, LH_SSE_CH_COUNT = 8 };
enum MHD_Result lh_streams_open_push(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int channel);
void lh_streams_publish(lh_streams *s, int channel, const char *type, const char *json);
/* Streams open now (any channel): 0 lets a publisher skip rendering its event. */
int lh_streams_open_count(lh_streams *s);

#endif
