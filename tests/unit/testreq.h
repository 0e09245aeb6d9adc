/* testreq.h — requests for the engine's unit tests. */
#ifndef LH_TESTREQ_H
#define LH_TESTREQ_H

#include <string.h>

#include "engine/engine.h"

/* A Bash request for cmd, run in /home/dev/project with HOME /home/dev (the corpus's
 * defaults), with no agent. */
static inline lh_request lh_test_bash(const char *cmd) {
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool = LH_TOOL_BASH;
    r.tool_name = "Bash";
    r.command = cmd;
    r.command_len = strlen(cmd);
    r.cwd = "/home/dev/project";
    r.home = "/home/dev";
    return r;
}

#endif
