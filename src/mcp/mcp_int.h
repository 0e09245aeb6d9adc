/* mcp_int.h — what mcp.c and mcp_tools.c share: the tool table. */
#ifndef LH_MCP_INT_H
#define LH_MCP_INT_H

#include "mcp/mcp.h"

typedef struct lh_mcp_tool lh_mcp_tool;

/* The tool named name, or NULL. */
const lh_mcp_tool *lh_mcp_tool_find(const char *name);
/* tools/list's array: name, title, description, inputSchema of each (new reference). */
json_t *lh_mcp_tools_list(void);
/* Run tool t with args (an object, borrowed): a CallToolResult (new reference; NULL only
 * out of memory). An argument the schema refuses, or an API error, is a result with
 * isError true that says what to fix. */
json_t *lh_mcp_tool_run(const lh_mcp_tool *t, json_t *args, const lh_mcp_env *env);

#endif
