/* outcome.c — see outcome.h. */
#include "util/outcome.h"

lh_outcome lh_outcome_of(int status, int peerGone) {
    if (status == 0) return peerGone ? LH_OUTCOME_CLIENT_GONE : LH_OUTCOME_SERVER_FAULT;
    if (status >= 100 && status < 400) return LH_OUTCOME_OK;
    if (status == 429) return LH_OUTCOME_THROTTLED;
    if (status >= 400 && status < 500) return LH_OUTCOME_CLIENT_ERROR;
    return LH_OUTCOME_SERVER_FAULT;   /* 5xx, and anything out of range */
}

const char *lh_outcome_name(lh_outcome o) {
    static const char *names[LH_OUTCOME_COUNT] = {"ok", "server_fault", "client_error", "throttled", "client_gone"};
    return o < LH_OUTCOME_COUNT ? names[o] : "server_fault";
}

int lh_outcome_counts_for_sla(lh_outcome o) { return o == LH_OUTCOME_OK || o == LH_OUTCOME_SERVER_FAULT; }
