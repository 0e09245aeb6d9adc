/* names.c — names of the engine's enums, as they appear in JSON and on screen. */
#include <string.h>

#include "engine/engine.h"

const char *lh_action_name(lh_action a) {
    switch (a) {
    case LH_ALLOW: return "allow";
    case LH_ESCALATE: return "escalate";
    case LH_DENY: return "deny";
    }
    return "deny";
}

const char *lh_risk_name(lh_risk r) {
    static const char *const n[] = {"low", "medium", "high", "critical"};
    return (unsigned)r < 4 ? n[r] : "critical";
}

const char *lh_tier_name(lh_tier t) {
    static const char *const n[] = {"cache", "policy", "analysis", "expert"};
    return (unsigned)t < 4 ? n[t] : "analysis";
}

static const char *const kTools[] = {
    "Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "Read", "Glob", "Grep", "LS",
    "WebFetch", "WebSearch",
};

const char *lh_tool_name(lh_tool t) {
    if ((unsigned)t < sizeof(kTools) / sizeof(kTools[0])) return kTools[t];
    return t == LH_TOOL_MCP ? "mcp" : "unknown";
}

lh_tool lh_tool_from_name(const char *name) {
    if (!name) return LH_TOOL_UNKNOWN;
    for (unsigned i = 0; i < sizeof(kTools) / sizeof(kTools[0]); i++)
        if (!strcmp(name, kTools[i])) return (lh_tool)i;
    if (!strncmp(name, "mcp__", 5)) return LH_TOOL_MCP;
    return LH_TOOL_UNKNOWN;
}

int lh_action_parse(const char *s, lh_action *out) {
    if (!strcmp(s, "allow")) *out = LH_ALLOW;
    else if (!strcmp(s, "escalate")) *out = LH_ESCALATE;
    else if (!strcmp(s, "deny")) *out = LH_DENY;
    else return -1;
    return 0;
}

int lh_risk_parse(const char *s, lh_risk *out) {
    static const char *const n[] = {"low", "medium", "high", "critical"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, n[i])) { *out = (lh_risk)i; return 0; }
    return -1;
}
