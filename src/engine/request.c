/* request.c — JSON requests (native and Claude Code hook payloads) into lh_request. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

#define JSON_MAX_DEPTH 32

static const char *dupStr(lh_arena *a, json_t *v) {
    if (!json_is_string(v)) return NULL;
    return lh_arena_strndup(a, json_string_value(v), json_string_length(v));
}

static int depthOf(json_t *v, int d) {
    if (d > JSON_MAX_DEPTH) return d;
    int m = d;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) { int e = depthOf(x, d + 1); if (e > m) m = e; if (m > JSON_MAX_DEPTH) return m; }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) { int e = depthOf(x, d + 1); if (e > m) m = e; if (m > JSON_MAX_DEPTH) return m; }
    }
    return m;
}

/* A string field that must be present. */
static int need(lh_arena *a, json_t *obj, const char *key, const char **out, size_t max,
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
    *out = dupStr(a, v);
    return *out ? 0 : -1;
}

int lh_request_parse_json(lh_arena *a, const char *json, size_t len, lh_request *out,
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
    if (depthOf(root, 0) > JSON_MAX_DEPTH) {
        snprintf(err, errlen, "request JSON is nested deeper than %d", JSON_MAX_DEPTH);
        goto done;
    }
    /* Native: tool/input/agent/session; hook payload: tool_name/tool_input/session_id */
    json_t *tool = json_object_get(root, "tool");
    json_t *input = json_object_get(root, "input");
    if (!tool) {
        tool = json_object_get(root, "tool_name");
        input = json_object_get(root, "tool_input");
        out->session = dupStr(a, json_object_get(root, "session_id"));
        out->agent = dupStr(a, json_object_get(root, "agent_id"));
        out->event = dupStr(a, json_object_get(root, "hook_event_name"));
        out->permission_mode = dupStr(a, json_object_get(root, "permission_mode"));
    } else {
        out->session = dupStr(a, json_object_get(root, "session"));
        out->agent = dupStr(a, json_object_get(root, "agent"));
        out->role = dupStr(a, json_object_get(root, "role"));
    }
    if (!json_is_string(tool) || json_string_length(tool) == 0 || json_string_length(tool) > 256) {
        snprintf(err, errlen, "request needs a \"tool\" (or \"tool_name\") string of 1 to 256 bytes");
        goto done;
    }
    if (input && !json_is_object(input)) { snprintf(err, errlen, "\"input\"/\"tool_input\" must be an object"); goto done; }
    if (!input) input = json_object();
    else json_incref(input);
    out->tool_name = dupStr(a, tool);
    out->tool = lh_tool_from_name(out->tool_name);
    out->home = dupStr(a, json_object_get(root, "home"));
    json_t *cwd = json_object_get(root, "cwd");
    if (cwd && !json_is_string(cwd)) { snprintf(err, errlen, "\"cwd\" must be a string"); goto done_in; }
    if (cwd) {
        const char *s = json_string_value(cwd);
        if (s[0] != '/' || json_string_length(cwd) > LH_MAX_PATH_BYTES) {
            snprintf(err, errlen, "\"cwd\" must be an absolute path of at most %u bytes", LH_MAX_PATH_BYTES);
            goto done_in;
        }
        out->cwd = dupStr(a, cwd);
    }
    switch (out->tool) {
    case LH_TOOL_BASH: {
        if (need(a, input, "command", &out->command, LH_MAX_REQUEST_BYTES, "Bash", err, errlen)) goto done_in;
        out->command_len = json_string_length(json_object_get(input, "command"));
        break;
    }
    case LH_TOOL_WRITE: case LH_TOOL_EDIT: case LH_TOOL_MULTIEDIT: case LH_TOOL_READ:
        if (need(a, input, "file_path", &out->file_path, LH_MAX_PATH_BYTES, out->tool_name, err, errlen)) goto done_in;
        break;
    case LH_TOOL_NOTEBOOKEDIT:
        if (json_object_get(input, "notebook_path")) {
            if (need(a, input, "notebook_path", &out->file_path, LH_MAX_PATH_BYTES, "NotebookEdit", err, errlen)) goto done_in;
        } else if (need(a, input, "file_path", &out->file_path, LH_MAX_PATH_BYTES, "NotebookEdit", err, errlen)) goto done_in;
        break;
    case LH_TOOL_GLOB: case LH_TOOL_GREP: case LH_TOOL_LS: {
        json_t *p = json_object_get(input, "path");
        if (p && !json_is_string(p)) { snprintf(err, errlen, "\"path\" must be a string"); goto done_in; }
        if (p && json_string_length(p) > LH_MAX_PATH_BYTES) { snprintf(err, errlen, "\"path\" is too long"); goto done_in; }
        out->path = dupStr(a, p);
        break;
    }
    case LH_TOOL_WEBFETCH:
        out->url = dupStr(a, json_object_get(input, "url"));
        break;
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
