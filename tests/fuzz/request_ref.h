/* request_ref.h — the jansson-based request parser that src/engine/request.c replaced,
 * kept verbatim as refParse, and diffRequest, which says where two parsed requests differ.
 * Shared by tests/unit/test_request_json.c and the differential fuzz harness
 * tests/fuzz/fuzz_reqdiff.c. Static functions: include it in one file of a program. */
#ifndef LH_REQUEST_REF_H
#define LH_REQUEST_REF_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"


#define JSON_MAX_DEPTH 32

static const char *refDupStr(lh_arena *a, json_t *v) {
    if (!json_is_string(v)) return NULL;
    return lh_arena_strndup(a, json_string_value(v), json_string_length(v));
}

static int refDepthOf(json_t *v, int d) {
    if (d > JSON_MAX_DEPTH) return d;
    int m = d;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) { int e = refDepthOf(x, d + 1); if (e > m) m = e; if (m > JSON_MAX_DEPTH) return m; }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) { int e = refDepthOf(x, d + 1); if (e > m) m = e; if (m > JSON_MAX_DEPTH) return m; }
    }
    return m;
}

/* A string field that must be present. */
static int refNeed(lh_arena *a, json_t *obj, const char *key, const char **out, size_t max,
                const char *tool, char *err, size_t errlen) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s input needs a string \"%s\"", tool, key);
        return -1;
    }
    if (json_string_length(v) > max) {
        snprintf(err, errlen, "\"%s\" is longer than %zu bytes", key, max);
        return -1;
    }
    *out = refDupStr(a, v);
    return *out ? 0 : -1;
}

static int refParse(lh_arena *a, const char *json, size_t len, lh_request *out,
                          char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (len == 0) { snprintf(err, errlen, "empty request: expected a JSON object"); return -1; }
    if (len > LH_MAX_REQUEST_BYTES) {
        snprintf(err, errlen, "request is %zu bytes; the limit is %u", len, LH_MAX_REQUEST_BYTES);
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(root)) { snprintf(err, errlen, "request must be a JSON object"); goto done; }
    if (refDepthOf(root, 0) > JSON_MAX_DEPTH) {
        snprintf(err, errlen, "request JSON is nested deeper than %d", JSON_MAX_DEPTH);
        goto done;
    }
    /* Native: tool/input/agent/session; hook payload: tool_name/tool_input/session_id */
    json_t *tool = json_object_get(root, "tool");
    json_t *input = json_object_get(root, "input");
    if (!tool) {
        tool = json_object_get(root, "tool_name");
        input = json_object_get(root, "tool_input");
        out->session = refDupStr(a, json_object_get(root, "session_id"));
        out->agent = refDupStr(a, json_object_get(root, "agent_id"));
        out->event = refDupStr(a, json_object_get(root, "hook_event_name"));
        out->permission_mode = refDupStr(a, json_object_get(root, "permission_mode"));
    } else {
        out->session = refDupStr(a, json_object_get(root, "session"));
        out->agent = refDupStr(a, json_object_get(root, "agent"));
        out->role = refDupStr(a, json_object_get(root, "role"));
    }
    if (!json_is_string(tool) || json_string_length(tool) == 0 || json_string_length(tool) > 256) {
        snprintf(err, errlen, "request needs a \"tool\" (or \"tool_name\") string of 1 to 256 bytes");
        goto done;
    }
    if (input && !json_is_object(input)) { snprintf(err, errlen, "\"input\"/\"tool_input\" must be an object"); goto done; }
    if (!input) input = json_object();
    else json_incref(input);
    out->tool_name = refDupStr(a, tool);
    out->tool = lh_tool_from_name(out->tool_name);
    out->home = refDupStr(a, json_object_get(root, "home"));
    json_t *cwd = json_object_get(root, "cwd");
    if (cwd && !json_is_string(cwd)) { snprintf(err, errlen, "\"cwd\" must be a string"); goto done_in; }
    if (cwd) {
        const char *s = json_string_value(cwd);
        if (s[0] != '/' || json_string_length(cwd) > LH_MAX_PATH_BYTES) {
            snprintf(err, errlen, "\"cwd\" must be an absolute path of at most %u bytes", LH_MAX_PATH_BYTES);
            goto done_in;
        }
        out->cwd = refDupStr(a, cwd);
    }
    switch (out->tool) {
    case LH_TOOL_BASH: {
        if (refNeed(a, input, "command", &out->command, LH_MAX_REQUEST_BYTES, "Bash", err, errlen)) goto done_in;
        out->command_len = json_string_length(json_object_get(input, "command"));
        break;
    }
    case LH_TOOL_WRITE: case LH_TOOL_EDIT: case LH_TOOL_MULTIEDIT: case LH_TOOL_READ:
        if (refNeed(a, input, "file_path", &out->file_path, LH_MAX_PATH_BYTES, out->tool_name, err, errlen)) goto done_in;
        out->content = refDupStr(a, json_object_get(input, out->tool == LH_TOOL_WRITE ? "content" : "new_string"));
        if (out->tool == LH_TOOL_MULTIEDIT && json_is_array(json_object_get(input, "edits"))) {
            char *d = json_dumps(json_object_get(input, "edits"), JSON_COMPACT | JSON_ENCODE_ANY);
            if (d) { out->edits_json = lh_arena_strdup(a, d); free(d); }
        }
        break;
    case LH_TOOL_NOTEBOOKEDIT:
        if (json_object_get(input, "notebook_path")) {
            if (refNeed(a, input, "notebook_path", &out->file_path, LH_MAX_PATH_BYTES, "NotebookEdit", err, errlen)) goto done_in;
        } else if (refNeed(a, input, "file_path", &out->file_path, LH_MAX_PATH_BYTES, "NotebookEdit", err, errlen)) goto done_in;
        out->content = refDupStr(a, json_object_get(input, "new_source"));
        break;
    case LH_TOOL_GLOB: case LH_TOOL_GREP: case LH_TOOL_LS: {
        json_t *p = json_object_get(input, "path");
        if (p && !json_is_string(p)) { snprintf(err, errlen, "\"path\" must be a string"); goto done_in; }
        if (p && json_string_length(p) > LH_MAX_PATH_BYTES) { snprintf(err, errlen, "\"path\" is too long"); goto done_in; }
        out->path = refDupStr(a, p);
        break;
    }
    case LH_TOOL_WEBFETCH:
        out->url = refDupStr(a, json_object_get(input, "url"));
        break;
    case LH_TOOL_MCP: {
        static const char *const keys[] = {"path", "file_path", "filename", "directory", "source",
                                           "destination", "target", "uri", "paths", "sql", "query"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            json_t *v = json_object_get(input, keys[k]);
            if (k >= 9 && json_is_string(v) && json_string_length(v) > LH_MAX_PATH_BYTES) out->mcp_more = 1;
            if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > LH_MAX_PATH_BYTES) continue;
            out->mcp_keys[out->nmcp_args] = keys[k];
            out->mcp_args[out->nmcp_args++] = refDupStr(a, v);
        }
        json_t *arr = json_object_get(input, "paths");
        if (json_is_array(arr)) {
            int seen = 0;
            for (size_t k = 0; k < json_array_size(arr); k++) {
                json_t *v = json_array_get(arr, k);
                if (!json_is_string(v)) continue;
                if (seen++ == LH_MCP_MAX_ARGS) { out->mcp_more = 1; break; }
                if (json_string_length(v) == 0 || json_string_length(v) > LH_MAX_PATH_BYTES) continue;
                if (out->nmcp_args == LH_MCP_MAX_ARGS) { out->mcp_more = 1; break; }
                out->mcp_keys[out->nmcp_args] = "paths";
                out->mcp_args[out->nmcp_args++] = refDupStr(a, v);
            }
        }
        out->url = refDupStr(a, json_object_get(input, "url"));
        json_t *cv = json_object_get(input, "command");
        if (json_is_string(cv) && json_string_length(cv) > 0 && json_string_length(cv) <= LH_MAX_REQUEST_BYTES) {
            out->command = refDupStr(a, cv);
            out->command_len = json_string_length(cv);
        }
        break;
    }
    default:
        break;
    }
    rc = 0;
done_in:
    json_decref(input);
done:
    json_decref(root);
    return rc;
}

static int sameStr(const char *x, const char *y) {
    if (!x || !y) return x == y;
    return strcmp(x, y) == 0;
}

/* Why r1 and r2 differ, or NULL. Strings compare byte for byte: neither can hold a NUL. */
static const char *diffRequest(const lh_request *r1, const lh_request *r2) {
    if (r1->tool != r2->tool) return "tool";
    if (!sameStr(r1->tool_name, r2->tool_name)) return "tool_name";
    if (!sameStr(r1->command, r2->command)) return "command";
    if (r1->command_len != r2->command_len) return "command_len";
    if (r1->command && strlen(r1->command) != r1->command_len) return "command_len vs strlen";
    if (!sameStr(r1->file_path, r2->file_path)) return "file_path";
    if (!sameStr(r1->path, r2->path)) return "path";
    if (!sameStr(r1->url, r2->url)) return "url";
    if (r1->nmcp_args != r2->nmcp_args) return "nmcp_args";
    if (r1->mcp_more != r2->mcp_more) return "mcp_more";
    for (int i = 0; i < r1->nmcp_args; i++)
        if (!sameStr(r1->mcp_keys[i], r2->mcp_keys[i]) || !sameStr(r1->mcp_args[i], r2->mcp_args[i])) return "mcp_args";
    if (!sameStr(r1->cwd, r2->cwd)) return "cwd";
    if (!sameStr(r1->home, r2->home)) return "home";
    if (!sameStr(r1->agent, r2->agent)) return "agent";
    if (!sameStr(r1->role, r2->role)) return "role";
    if (!sameStr(r1->session, r2->session)) return "session";
    if (!sameStr(r1->event, r2->event)) return "event";
    if (!sameStr(r1->permission_mode, r2->permission_mode)) return "permission_mode";
    if (!sameStr(r1->content, r2->content)) return "content";
    if (!r1->edits_json != !r2->edits_json) return "edits_json";
    if (r1->edits_json) {
        /* the new parser keeps the array's text; the reference re-encodes it */
        json_t *j1 = json_loads(r1->edits_json, JSON_DECODE_ANY, NULL);
        json_t *j2 = json_loads(r2->edits_json, JSON_DECODE_ANY, NULL);
        int same = j1 && j2 && json_equal(j1, j2);
        json_decref(j1);
        json_decref(j2);
        if (!same) return "edits_json";
    }
    return NULL;
}

#endif
