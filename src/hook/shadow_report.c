/* shadow_report.c — the hook's side of project shadows (see shadow_report.h). */
#include "hook/shadow_report.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/paths.h"
#include "engine/shell.h"
#include "hook/client.h"
#include "hook/setup.h"
#include "util/arena.h"
#include "util/io.h"
#include "util/shadow_path.h"

#define MAX_PATHS 64   /* rm/mv operands reported from one Bash call */

static size_t maxFile(void) {
    const char *v = getenv("LIGHTHOUSE_SHADOW_MAX_FILE");
    char *end;
    unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
    return n && !*end ? (size_t)n : 512u << 10;
}

static int envMs(const char *name, int dflt) {
    const char *v = getenv(name);
    char *end = NULL;
    long n = v && *v ? strtol(v, &end, 10) : 0;
    return n > 0 && n <= 3600000 && end && !*end ? (int)n : dflt;   /* not a number, or out of range: the default */
}

/* POST one change (j, stolen). 1 recorded, -1 not (why on diag). */
static int send(const char *url, const char *token, json_t *j, const char *what, FILE *diag) {
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!body) { fprintf(diag, "lighthouse-hook: shadow of %s not sent: out of memory\n", what); return -1; }
    lh_http_response rep;
    char err[512];
    int rc = lh_http_post(url, "/v1/shadows", token, NULL, "application/json", body, strlen(body),
                          envMs("LIGHTHOUSE_CONNECT_TIMEOUT_MS", 200), envMs("LIGHTHOUSE_TIMEOUT_MS", 5000), &rep, err,
                          sizeof(err));
    free(body);
    if (rc) { fprintf(diag, "lighthouse-hook: shadow of %s not sent: %s\n", what, err); return -1; }
    int okay = rep.status == 200;
    if (!okay) {
        json_t *e = json_loadb(rep.body, rep.len, 0, NULL);
        const char *msg = json_string_value(json_object_get(json_object_get(e, "error"), "message"));
        fprintf(diag, "lighthouse-hook: shadow of %s refused by the bridge (%d): %s\n", what, rep.status,
                msg ? msg : "no error message");
        json_decref(e);
    }
    free(rep.body);
    return okay ? 1 : -1;
}

/* The content of a regular file as base64 (malloc'd), or NULL with why in err. */
static char *fileBase64(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (lstat(path, &st)) { snprintf(err, errlen, "cannot stat it: %s", strerror(errno)); return NULL; }
    if (!S_ISREG(st.st_mode)) { snprintf(err, errlen, "not a regular file"); return NULL; }
    size_t max = maxFile(), len;
    if ((unsigned long long)st.st_size > max) {
        snprintf(err, errlen, "%lld bytes, over the shadow limit of %zu (LIGHTHOUSE_SHADOW_MAX_FILE)", (long long)st.st_size, max);
        return NULL;
    }
    char *data = lh_read_file(path, max, &len, err, errlen);
    if (!data) return NULL;
    char *b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (b64) lh_base64_encode(data, len, b64);
    else snprintf(err, errlen, "out of memory");
    free(data);
    return b64;
}

/* 1 when the engine classes abs as a secret (.env, *.pem, keys…): its content is never
 * copied to the bridge, where every expert could read it. */
static int isSecret(const char *project, const char *abs) {
    lh_arena *a = lh_arena_new(4096);
    if (!a) return 1;
    lh_path p;
    lh_path_class c = lh_path_classify_in(a, project, lh_setup_home(), 1, abs, strlen(abs), &p);
    lh_arena_free(a);
    return c == LH_PATH_SECRET;
}

/* An update (or, with from, a rename) of the file at abs. */
static int sendFile(const char *url, const char *token, const char *project, const char *tool, const char *from,
                    const char *abs, int contentRequired, FILE *diag) {
    char err[256];
    if (isSecret(project, abs)) {
        fprintf(diag, "lighthouse-hook: shadow of %s not sent: a secret file (.env, keys…) is never shadowed\n", abs);
        return 0;
    }
    char *b64 = fileBase64(abs, err, sizeof(err));
    if (!b64 && contentRequired) {
        fprintf(diag, "lighthouse-hook: shadow of %s not sent: %s\n", abs, err);
        return -1;
    }
    json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "op", from ? "rename" : "update", "project", project, from ? "to" : "path",
                          abs, "tool", tool);
    if (from) json_object_set_new(j, "from", json_string(from));
    if (b64) json_object_set_new(j, "content_b64", json_string(b64));
    free(b64);
    return send(url, token, j, abs, diag);
}

static int exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

/* An operand as an absolute path (against cwd) into out; -1 when it is not a literal
 * word (an expansion, a glob, ~) or does not fit. */
static int operand(const lh_word *w, const char *cwd, char *out, size_t cap) {
    if (w->flags & (LH_W_DYNAMIC | LH_W_GLOB | LH_W_TILDE | LH_W_BRACE | LH_W_SUBST | LH_W_PROCSUBST)) return -1;
    if (!w->len) return -1;
    int n = w->s[0] == '/' ? snprintf(out, cap, "%s", w->s) : snprintf(out, cap, "%s/%s", cwd, w->s);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The operands of rm or mv (words after the options; "--" ends them) into ops. */
static int operands(const lh_cmd *c, const char *cwd, char ops[][PATH_MAX], int max, int *literal) {
    int n = 0, opts = 1;
    *literal = 1;
    for (int i = 1; i < c->argc; i++) {
        const lh_word *w = &c->argv[i];
        if (opts && !strcmp(w->s, "--")) { opts = 0; continue; }
        if (opts && w->s[0] == '-' && w->s[1]) {
            if (!strcmp(c->prog, "mv") && (!strcmp(w->s, "-t") || !strncmp(w->s, "--target-directory", 18) ||
                                           !strcmp(w->s, "-S") || !strcmp(w->s, "--suffix")))
                *literal = 0;   /* a target named before the sources: not followed here */
            continue;
        }
        if (n == max || operand(w, cwd, ops[n], PATH_MAX)) { *literal = 0; continue; }
        n++;
    }
    return n;
}

/* Deletes and renames by the script's top-level rm and mv. */
static int reportBash(const char *url, const char *token, const char *project, const char *command, FILE *diag) {
    lh_arena *a = lh_arena_new(1 << 16);
    if (!a) return -1;
    lh_shell_limits lim;
    lh_shell_default_limits(&lim);
    lh_script sc;
    memset(&sc, 0, sizeof(sc));
    int sent = 0, failed = 0;
    if (lh_shell_parse(a, command, strlen(command), &lim, &sc, -1, -1, LH_ORIGIN_TOP, 0) != LH_SH_OK) goto out;
    for (int i = 0; i < sc.ncmds; i++) {   /* a cd or pushd makes the later operands' directory unknown */
        const char *p = sc.cmds[i].prog;
        if (!strcmp(p, "cd") || !strcmp(p, "pushd") || !strcmp(p, "popd")) goto out;
    }
    static char ops[MAX_PATHS][PATH_MAX];
    char rel[LH_SHADOW_PATH_MAX + 1], err[200];
    for (int i = 0; i < sc.ncmds; i++) {
        const lh_cmd *c = &sc.cmds[i];
        if (c->origin != LH_ORIGIN_TOP || c->depth || (c->flags & LH_C_DYNAMIC_CMD)) continue;
        int isRm = !strcmp(c->prog, "rm"), isMv = !strcmp(c->prog, "mv"), literal;
        if (!isRm && !isMv) continue;
        int n = operands(c, project, ops, MAX_PATHS, &literal);
        if (isRm) {
            for (int k = 0; k < n; k++) {
                if (exists(ops[k]) || lh_shadow_path_rel(project, ops[k], rel, sizeof(rel), err, sizeof(err))) continue;
                json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "op", "delete", "project", project, "path", ops[k], "tool", "Bash");
                int r = send(url, token, j, ops[k], diag);
                if (r > 0) sent++;
                else if (r < 0) failed++;
            }
        } else if (literal && n == 2) {
            char dst[PATH_MAX + 2];
            struct stat st;
            snprintf(dst, sizeof(dst), "%s", ops[1]);
            if (stat(ops[1], &st) == 0 && S_ISDIR(st.st_mode) && !exists(ops[0])) {
                const char *base = strrchr(ops[0], '/');
                char cand[2 * PATH_MAX + 2];
                snprintf(cand, sizeof(cand), "%s/%s", ops[1], base ? base + 1 : ops[0]);
                size_t cl = strlen(cand);
                if (exists(cand) && cl < sizeof(dst)) memcpy(dst, cand, cl + 1);
            }
            if (exists(ops[0]) || !exists(dst)) continue;   /* it did not happen as parsed */
            if (lh_shadow_path_rel(project, ops[0], rel, sizeof(rel), err, sizeof(err)) ||
                lh_shadow_path_rel(project, dst, rel, sizeof(rel), err, sizeof(err)))
                continue;   /* into or out of the project: not a rename inside it */
            int r = sendFile(url, token, project, "Bash", ops[0], dst, 0, diag);
            if (r > 0) sent++;
            else if (r < 0) failed++;
        }
    }
out:
    lh_arena_free(a);
    return failed ? -1 : sent;
}

int lh_shadow_report(const char *url, const char *token, json_t *j, FILE *diag) {
    const char *tool = json_string_value(json_object_get(j, "tool_name"));
    const char *cwd = json_string_value(json_object_get(j, "cwd"));
    json_t *in = json_object_get(j, "tool_input");
    if (!tool || !cwd || cwd[0] != '/' || !json_is_object(in)) return 0;
    if (!strcmp(tool, "Bash")) {
        const char *cmd = json_string_value(json_object_get(in, "command"));
        return cmd ? reportBash(url, token, cwd, cmd, diag) : 0;
    }
    if (strcmp(tool, "Write") && strcmp(tool, "Edit") && strcmp(tool, "MultiEdit") && strcmp(tool, "NotebookEdit"))
        return 0;
    const char *path = json_string_value(json_object_get(in, !strcmp(tool, "NotebookEdit") ? "notebook_path" : "file_path"));
    if (!path) return 0;
    char rel[LH_SHADOW_PATH_MAX + 1], err[200];
    if (lh_shadow_path_rel(cwd, path, rel, sizeof(rel), err, sizeof(err))) {
        fprintf(diag, "lighthouse-hook: shadow of %s not sent: %s\n", path, err);
        return 0;
    }
    return sendFile(url, token, cwd, tool, NULL, path, 1, diag);
}
