/* an_mcp.c — MCP tools (mcp__SERVER__TOOL) judged by their arguments.
 *
 * The request parser keeps the string arguments an MCP tool may take as paths (path,
 * file_path, filename, directory, source, destination, target, uri with file://, the
 * elements of a "paths" list) and a "url". When more paths came than the request holds
 * (LH_MCP_MAX_ARGS), the call is escalated (mcp.unchecked-paths). They go through the same path classes as the built-in tools:
 *
 * - a tool whose name says it deletes (delete, remove, rm, unlink, destroy, purge, wipe,
 *   drop, truncate) is judged as a forced deletion of each path (rm -f);
 * - a tool whose name says it writes (write, edit, create, move, rename, copy, save,
 *   upload, append, put, patch, replace, insert, update, set, mkdir, touch, chmod, chown)
 *   as the Write tool on each path;
 * - any other tool (read, get, list, search, view, stat, open, or a name that says
 *   neither) as the Read tool: reading credentials is escalated;
 * - a "url" or a non-file "uri" goes through the destination check of an_url.c.
 *
 * A move's "source" is judged as a recursive deletion. A "sql" argument (or "query" of a
 * query/sql/execute tool) goes through the SQL analyzer (an_db_sql_text).
 *
 * A "command" string was parsed as Bash by engine.c and judged by the Bash analyzers
 * (analyze.c); a tool named for running commands (run, exec, shell…) is then judged whole.
 * A read, a write or move that names paths, or a judged query sets c->mcp_judged: with
 * nothing found it is allowed. Any other call (deletes, kill/terminate…, unknown verbs)
 * is the policy's business (escalate.mcp-destructive, settings.unknown_tool). A
 * "directory" with a "filename" is one path. */
#include <assert.h>
#include <string.h>

#include "engine/an_common.h"

enum { VERB_OTHER, VERB_READ, VERB_WRITE, VERB_DELETE, VERB_MOVE };

static int isWordIn(const char *w, size_t n, const char *const *list) {
    for (; *list; list++)
        if (strlen(*list) == n && !memcmp(*list, w, n)) return 1;
    return 0;
}

/* The strongest verb among the words of the tool's name ("delete_pod", "writeFile"):
 * delete > act (kill, terminate: never judged here) > move > write > read > other. *sql
 * is set when a word says the tool runs a query ("query", "sql", "execute"). */
static int toolVerb(const char *tool, int *sql, int *shell) {
    static const char *const del[] = {"delete", "remove", "rm", "unlink", "destroy", "purge",
                                      "wipe", "drop", "truncate", "erase", "rmdir", NULL};
    static const char *const act[] = {"kill", "terminate", "force", "reset", "shutdown", "stop",
                                      "reboot", "revoke", "disable", "evict", "deprovision", NULL};
    static const char *const mv[] = {"move", "mv", "rename", NULL};
    static const char *const wr[] = {"write", "edit", "create", "copy",
                                     "cp", "save", "upload", "append", "put", "patch", "replace",
                                     "insert", "update", "set", "mkdir", "touch", "chmod", "chown",
                                     "overwrite", "modify", "apply", NULL};
    static const char *const rd[] = {"read", "get", "list", "ls", "search", "find", "query",
                                     "describe", "view", "stat", "show", "count", "inspect",
                                     "info", "status", "tree", "lookup", "explain", "head",
                                     "tail", "diff", "log", "logs", "cat", "grep", "glob",
                                     "fetch", "select", "browse", "preview", NULL};
    static const char *const q[] = {"query", "sql", "execute", "exec", NULL};
    static const char *const sh[] = {"run", "exec", "execute", "shell", "command", "bash", "terminal", NULL};
    int verb = VERB_OTHER, acts = 0;
    char w[32];
    size_t n = 0;
    for (const char *p = tool;; p++) {
        char ch = *p;
        int upper = ch >= 'A' && ch <= 'Z';
        int alnum = upper || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum || (upper && n > 0)) {   /* a word ends: '_', '-', '.', camelCase, NUL */
            if (n > 0 && n < sizeof(w)) {
                if (isWordIn(w, n, del)) return VERB_DELETE;
                if (isWordIn(w, n, act)) acts = 1;
                if (isWordIn(w, n, q)) *sql = 1;
                if (isWordIn(w, n, sh)) *shell = 1;
                if (isWordIn(w, n, mv)) verb = VERB_MOVE;
                else if (isWordIn(w, n, wr) && verb != VERB_MOVE) verb = VERB_WRITE;
                else if (isWordIn(w, n, rd) && verb == VERB_OTHER) verb = VERB_READ;
            }
            n = 0;
        }
        if (!ch) break;
        if (alnum) {
            if (n < sizeof(w)) w[n] = upper ? (char)(ch - 'A' + 'a') : ch;
            n++;
        }
    }
    return acts ? VERB_OTHER : verb;
}

static void judgePath(lh_ctx *c, int verb, const char *p, int source) {
    if (!p || !*p) return;
    if (verb == VERB_READ || verb == VERB_OTHER) {
        lh_path path;
        lh_path_classify(c, p, strlen(p), &path);
        size_t n = strlen(path.norm);
        int environ = !strncmp(path.norm, "/proc/", 6) && n > 8 && !strcmp(path.norm + n - 8, "/environ");
        if (path.cls == LH_PATH_SECRET || environ) lh_emit(c, -1, LH_RULE(SECRET_READ), path.norm);
        return;
    }
    an_state s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    if (verb == VERB_DELETE) an_fs_delete_target(&s, -1, p, 0, 1, 0);
    else if (verb == VERB_MOVE && source) an_fs_delete_target(&s, -1, p, 1, 1, 0);
    else an_fs_write_target(&s, -1, p, AN_W_WRITE);
}

void an_mcp(lh_ctx *c) {
    const lh_request *r = c->req;
    const char *tool = r->tool_name ? r->tool_name : "";
    const char *sep = strstr(tool + (strncmp(tool, "mcp__", 5) ? 0 : 5), "__");
    int sql = 0, shell = 0;
    int verb = toolVerb(sep ? sep + 2 : tool, &sql, &shell);
    int paths = 0, judged_sql = 0;
    const char *dir = NULL, *file = NULL;
    for (int i = 0; i < r->nmcp_args; i++) {
        const char *k = r->mcp_keys[i], *v = r->mcp_args[i];
        if (!strcmp(k, "directory")) dir = v;
        if (!strcmp(k, "filename")) file = v;
    }
    for (int i = 0; i < r->nmcp_args; i++) {
        const char *k = r->mcp_keys[i], *v = r->mcp_args[i];
        assert(k && v); /* the request parser stores both or fails the request */
        if (!strcmp(k, "sql") || !strcmp(k, "query")) {
            /* SQL only where the tool says it runs one: a search tool's query is text */
            if (sql || !strcmp(k, "sql")) { an_db_sql_text(c, v); judged_sql = 1; }
            continue;
        }
        paths++;
        if (!strcmp(k, "uri")) {
            if (!strncmp(v, "file://", 7)) judgePath(c, verb, v + 7, 0);
            else if (strstr(v, "://")) an_url_check(c, -1, v);
            continue;
        }
        if (dir && file && file[0] != '/' && (!strcmp(k, "directory") || !strcmp(k, "filename"))) {
            if (!strcmp(k, "filename")) continue;
            const char *joined = lh_arena_printf(c->arena, "%s/%s", dir, file);
            if (!joined) { c->oom = 1; return; }
            judgePath(c, verb, joined, 0);
            continue;
        }
        judgePath(c, verb, v, !strcmp(k, "source"));
    }
    if (r->url) an_url_check(c, -1, r->url);
    if (r->mcp_more) lh_emit(c, -1, LH_RULE(MCP_UNCHECKED), NULL);
    /* Judged whole: a read (its paths went through the path classes), a query whose SQL
     * was judged, a write or move of the paths it names. Anything else (deletes, kill,
     * terminate, a write with no path, a verb that is not clearly a read) is left to the
     * policy and settings.unknown_tool. */
    /* a shell tool's "command" went through the Bash analyzers (engine.c parsed it) */
    int shell_judged = shell && c->script && !c->script->error && verb != VERB_DELETE;
    c->mcp_judged = shell_judged || verb == VERB_READ || ((verb == VERB_WRITE || verb == VERB_MOVE) && paths > 0) ||
                    (sql && judged_sql && verb != VERB_DELETE);
}
