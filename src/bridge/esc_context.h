/* esc_context.h — what an expert is shown of an escalation (docs/api.md, the ESC object):
 * the request, and the context: the parsed commands (up to 32, with up to 32 arguments
 * each), the classes of the paths, the findings that were not cancelled, the agent's last
 * 5 decisions (a read of the store). Holds no state. */
#ifndef LH_BRIDGE_ESC_CONTEXT_H
#define LH_BRIDGE_ESC_CONTEXT_H

#include <jansson.h>

#include "bridge/bridge.h"
#include "engine/engine.h"

#define LH_ESC_CTX_TEXT_MAX (16u << 10)   /* bytes of the command kept */

/* {"command", "commands", "paths", "findings", "recent"} of request r and its decision dx
 * (dx->script: the parsed commands; NULL: none); a is scratch for path classes. */
json_t *lh_esc_context(lh_bridge *b, const lh_request *r, const lh_decision *dx, lh_arena *a);
/* {"tool", "input": {command, file_path, path, url}, "cwd"} of r. */
json_t *lh_esc_request_json(const lh_request *r);

#endif
