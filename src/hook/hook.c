/* hook.c — the Claude Code hook (../shared/reference/hooks.md), shared by
 * `lighthouse hook` and the slim `lighthouse-hook` program.
 *
 *   pre-tool-use   payload on stdin → {"hookSpecificOutput": {…permissionDecision…}} for a
 *                  deny or an ask; nothing for an allow (the user's permission settings
 *                  apply) unless hook_allow: approve / LIGHTHOUSE_HOOK_ALLOW=approve
 *   post-tool-use  payload on stdin → exit 0; with LIGHTHOUSE_URL, what the call changed in
 *                  the project goes to the bridge's shadows (shadow_report.c)
 *   install        merge our hook entries into a Claude Code settings file
 *
 * Fail closed: bad input or an internal error exits 2 with the reason on stderr, which
 * Claude Code shows the model and which blocks the call. LIGHTHOUSE_FAIL_OPEN=1 turns
 * that into exit 0 with no output (the call goes through the normal permission flow).
 *
 * With LIGHTHOUSE_URL set, pre-tool-use asks the bridge (POST /v1/hooks/claude-code with
 * LIGHTHOUSE_TOKEN) over the plain-socket client in client.c, so the decision is recorded
 * in the audit log. When the bridge cannot be reached or fails, the hook decides
 * locally and says so in the reason, unless LIGHTHOUSE_REQUIRE_BRIDGE=1: then it fails
 * closed (exit 2, or exit 0 with LIGHTHOUSE_FAIL_OPEN=1). A 401 or 403 is a
 * configuration error (a bad or wrong token): the hook blocks with the fix. A 200 is
 * obeyed only with the bridge's X-Lighthouse-Signature over this call's nonce (util/
 * replysig.h), or with LIGHTHOUSE_REPLY_KEY / LIGHTHOUSE_REPLY_KEY_FILE only with its
 * X-Lighthouse-Reply-Signature made with that key: anything else at LIGHTHOUSE_URL counts
 * as an unreachable bridge.
 *
 * With no LIGHTHOUSE_URL the decision is made here, with the same engine the bridge
 * uses. Start-up cost matters (this runs once per tool call): no cache, the built-in
 * policy unless LIGHTHOUSE_POLICY names a file, and only the engine's libraries. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook/hook.h"
#include "hook/client.h"
#include "hook/setup.h"
#include "util/check.h"
#include "hook/shadow_report.h"
#include "util/io.h"
#include "util/replysig.h"

static int failOpen(void) {
    const char *v = getenv("LIGHTHOUSE_FAIL_OPEN");
    return v && !strcmp(v, "1");
}

/* Bad input or an internal error: exit 2 (blocks) unless the operator chose fail-open. */
static int hookError(const char *fmt, const char *detail) {
    if (failOpen()) {
        fprintf(stderr, "lighthouse-hook: ");
        fprintf(stderr, fmt, detail);
        fprintf(stderr, " (LIGHTHOUSE_FAIL_OPEN=1: not blocking)\n");
        return 0;
    }
    fprintf(stderr, "Lighthouse blocked this call because it could not check it: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n");
    return 2;
}

/* Does the hook answer an allow with an explicit "allow" (hook_allow: approve)? By
 * default it says nothing (exit 0, no output), so the user's own permission settings
 * apply: Lighthouse blocks and asks, it does not approve on the user's behalf.
 * LIGHTHOUSE_HOOK_ALLOW wins over hook_allow in the file named by LIGHTHOUSE_CONFIG (the
 * bridge's config file; a flat YAML mapping, so one top-level line is enough to read).
 * Returns 1 approve, 0 default, -1 with err on a bad value. */
static int hookApproves(char *err, size_t errlen) {
    const char *v = getenv("LIGHTHOUSE_HOOK_ALLOW"), *src = "LIGHTHOUSE_HOOK_ALLOW";
    char val[32] = "", ferr[256];
    if (!v || !*v) {
        const char *cfg = getenv("LIGHTHOUSE_CONFIG");
        if (!cfg || !*cfg) return 0;
        size_t len;
        char *text = lh_read_file(cfg, 256u << 10, &len, ferr, sizeof(ferr));
        if (!text) { snprintf(err, errlen, "LIGHTHOUSE_CONFIG: %s", ferr); return -1; }
        for (char *line = text, *next; line; line = next) {
            next = strchr(line, '\n');
            if (next) next++;
            if (strncmp(line, "hook_allow:", 11)) continue;
            const char *p = line + 11;
            p += strspn(p, " \t\"'");
            size_t n = strcspn(p, " \t\"'#\r\n");
            if (n >= sizeof(val)) n = sizeof(val) - 1;
            memcpy(val, p, n);
            val[n] = 0;
        }
        free(text);
        if (!val[0]) return 0;
        v = val;
        src = cfg;
    }
    if (!strcmp(v, "approve")) return 1;
    if (!strcmp(v, "default")) return 0;
    snprintf(err, errlen, "%s: hook_allow must be approve or default (got \"%.32s\")", src, v);
    return -1;
}

/* Print the PreToolUse JSON for decision d (lh_decision_to_hook_json); note (may be NULL)
 * is appended to the reason. An allow prints nothing unless approve. -1 if it could not be
 * rendered (never with LH_HOOK_OUTPUT_MAX; the caller then fails closed). */
static int printPreToolUse(const lh_decision *d, const char *note, int approve) {
    static char out[LH_HOOK_OUTPUT_MAX];
    int n = lh_decision_to_hook_json(d, note, approve, out, sizeof(out), NULL);
    if (n > 0) printf("%s\n", out);
    return n < 0 ? -1 : 0;
}

static int envMs(const char *name, int def) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 1 || n > 600000 ? def : (int)n;
}

/* LIGHTHOUSE_ESCALATION_WAIT: seconds the bridge may hold the call for an expert verdict
 * (?wait=, docs/configuration.md); 0 (the default) to 600. A bad value is 0, said once. */
static int escalationWait(void) {
    const char *v = getenv("LIGHTHOUSE_ESCALATION_WAIT");
    if (!v || !*v) return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0 || n > 600) {
        fprintf(stderr, "lighthouse-hook: LIGHTHOUSE_ESCALATION_WAIT=%s is not 0 to 600 seconds; not waiting\n", v);
        return 0;
    }
    return (int)n;
}

/* A fresh nonce for X-Lighthouse-Nonce: 16 random bytes in hex. -1 without randomness. */
static int makeNonce(char out[33]) {
    unsigned char r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) return -1;
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

/* The reply key the operator gave the hook (LIGHTHOUSE_REPLY_KEY, or the file named by
 * LIGHTHOUSE_REPLY_KEY_FILE). 1 with key set; 0 when none is given; -1 with why in err
 * when one is given but cannot be read, is not 64 hex digits, or is a file that is not
 * the user's (or root's) or that group or others may read or write. */
static int replyKey(unsigned char key[32], char *err, size_t errlen) {
    const char *v = getenv("LIGHTHOUSE_REPLY_KEY"), *path = getenv("LIGHTHOUSE_REPLY_KEY_FILE");
    if (v && *v) {
        if (lh_reply_key_parse(v, key) == 0) return 1;
        snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY is not a reply key (64 hex digits, as `lighthouse token create` "
                 "prints); no reply can be trusted");
        return -1;
    }
    if (!path || !*path) return 0;
    char buf[130] = {0};
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY_FILE %s: %s; no reply can be trusted", path, strerror(errno));
        return -1;
    }
    /* As ssh with a private key: a key others can read or change is no proof of the bridge
     * (another user could sign an impostor's replies, or swap the key), so it is refused. */
    struct stat st;
    int bad = fstat(fileno(f), &st) != 0 ? -1 : !S_ISREG(st.st_mode) ? 1
              : (st.st_uid != geteuid() && st.st_uid != 0) ? 2 : (st.st_mode & 077) ? 3 : 0;
    if (bad) {
        if (bad < 0) snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY_FILE %s: %s; no reply can be trusted", path,
                              strerror(errno));
        else if (bad == 1) snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY_FILE %s is not a regular file; no reply can "
                                    "be trusted", path);
        else if (bad == 2) snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY_FILE %s is owned by uid %u, not by you; no "
                                    "reply can be trusted", path, (unsigned)st.st_uid);
        else snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY_FILE %s is open to other users (mode %04o): run chmod 600 "
                      "%s; no reply can be trusted", path, (unsigned)(st.st_mode & 07777), path);
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    if (n < sizeof(buf) - 1 && lh_reply_key_parse(buf, key) == 0) return 1;
    snprintf(err, errlen, "LIGHTHOUSE_REPLY_KEY_FILE %s: not a reply key (64 hex digits); no reply can be trusted",
             path);
    return -1;
}

/* Is rep the bridge's own answer to this call? With a reply key (replyKey) only a party
 * that holds the bridge's token key can sign nonce ‖ body with it: a process that took
 * the bridge's port cannot, even though it reads the token from our request. Without
 * one, the key of token (util/replysig.h) stops a process without the token, and a
 * replayed reply fits another nonce. 1 yes; 0 with why in err. */
static int signedByBridge(const char *url, const char *token, const char *nonce, const lh_http_response *rep,
                          char *err, size_t errlen) {
    if (!token || !*token) {
        snprintf(err, errlen, "a 200 reply from %s without LIGHTHOUSE_TOKEN cannot be the bridge's (its hook route "
                 "needs a token); not trusted", url);
        return 0;
    }
    unsigned char key[32];
    char want[65];
    int rk = replyKey(key, err, errlen);
    if (rk < 0) return 0;
    if (!rk) lh_reply_key(token, strlen(token), key);
    if (lh_reply_sig(key, nonce, strlen(nonce), rep->body, rep->len, want)) {
        snprintf(err, errlen, "out of memory checking the reply's signature");
        return 0;
    }
    const char *got = rk ? rep->rsig : rep->sig;
    if (got[0] && lh_reply_sig_equal(got, want)) return 1;
    snprintf(err, errlen, "the reply from %s is %s %s for this call and %s: "
             "not the bridge (another process on its address?), or a bridge older than the hook; not trusted",
             url, got[0] ? "signed wrongly: a bad" : "unsigned: no", rk ? LH_REPLY_KEYSIG_HEADER : LH_REPLY_SIG_HEADER,
             rk ? "the reply key" : "LIGHTHOUSE_TOKEN");
    return 0;
}

/* Ask the bridge. Returns 0 when its answer was printed (an allow only if approve; the
 * bridge's {} is its "no opinion" and prints nothing); 1 when the bridge refused our
 * credentials (401, 403): a configuration error, err says what to fix; otherwise -1 with
 * why in err. The payload gets our "home" (the bridge cannot know it) when it has none. */
static int askBridge(const char *url, const char *in, size_t len, int approve, char *err, size_t errlen) {
    json_error_t je;
    json_t *j = json_loadb(in, len, 0, &je);
    char *body = NULL;
    if (j && json_is_object(j) && !json_object_get(j, "home") && lh_setup_home())
        json_object_set_new(j, "home", json_string(lh_setup_home()));
    if (j) body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    lh_http_response rep;
    const char *token = getenv("LIGHTHOUSE_TOKEN");
    char nonce[33];
    if (makeNonce(nonce)) {
        free(body);
        snprintf(err, errlen, "no randomness for the request nonce: %s", strerror(errno));
        return -1;
    }
    /* Waiting for experts: the bridge holds the reply up to wait seconds (then it answers
     * ask, naming the escalation), so the socket's deadline grows by as much. */
    int wait = escalationWait();
    char path[64];
    snprintf(path, sizeof(path), wait ? "/v1/hooks/claude-code?wait=%d" : "/v1/hooks/claude-code", wait);
    int rc = lh_http_post(url, path, token, nonce, "application/json", body ? body : in, body ? strlen(body) : len,
                          envMs("LIGHTHOUSE_CONNECT_TIMEOUT_MS", 200),
                          envMs("LIGHTHOUSE_TIMEOUT_MS", 5000) + wait * 1000, &rep, err, errlen);
    free(body);
    if (rc) return -1;
    if (rep.status == 200 && !signedByBridge(url, token, nonce, &rep, err, errlen)) {
        free(rep.body);
        return -1;
    }
    json_t *out = rep.status == 200 ? json_loadb(rep.body, rep.len, 0, NULL) : NULL;
    const char *pd = json_string_value(
        json_object_get(json_object_get(out, "hookSpecificOutput"), "permissionDecision"));
    int valid = pd && (!strcmp(pd, "allow") || !strcmp(pd, "deny") || !strcmp(pd, "ask"));
    int silent = (valid && !strcmp(pd, "allow") && !approve) || (json_is_object(out) && json_object_size(out) == 0);
    json_decref(out);
    if (rep.status == 200 && !valid && !silent) {
        /* Not the bridge's hook output (a wrong URL, a proxy page): never pass it on. */
        snprintf(err, errlen, "the reply from %s is not PreToolUse hook output", url);
        free(rep.body);
        return -1;
    }
    if (rep.status != 200) {
        /* The bridge's error message says what is wrong (a bad token, a rate limit...). */
        json_t *e = json_loadb(rep.body, rep.len, 0, NULL);
        const char *msg = json_string_value(json_object_get(json_object_get(e, "error"), "message"));
        int auth = rep.status == 401 || rep.status == 403;
        snprintf(err, errlen, "the bridge answered %d%s%s%s", rep.status, msg ? ": " : "", msg ? msg : "",
                 rep.status == 401 ? ". Fix: set LIGHTHOUSE_TOKEN to a valid token of this bridge "
                                     "(lighthouse token create --agent NAME --role builder --data DIR)"
                 : rep.status == 403 ? ". Fix: LIGHTHOUSE_TOKEN must be a builder token "
                                       "(lighthouse token create --agent NAME --role builder)" : "");
        json_decref(e);
        free(rep.body);
        return auth ? 1 : -1;
    }
    if (!silent) {
        fwrite(rep.body, 1, rep.len, stdout);
        if (rep.body[rep.len - 1] != '\n') putchar('\n');
    }
    free(rep.body);
    return 0;
}

static int requireBridge(void) {
    const char *v = getenv("LIGHTHOUSE_REQUIRE_BRIDGE");
    return v && !strcmp(v, "1");
}

static int preToolUse(void) {
    char err[512];
    size_t len;
    int too_big;
    char *in = lh_read_fd(0, LH_MAX_REQUEST_BYTES, &len, &too_big, err, sizeof(err));
    if (!in) return hookError("%s", err);
    char note[700];
    note[0] = 0;
    int approve = hookApproves(err, sizeof(err));
    if (approve < 0) { free(in); return hookError("%s", err); }
    const char *url = getenv("LIGHTHOUSE_URL");
    if (url && *url) {
        char berr[768];
        int brc = askBridge(url, in, len, approve, berr, sizeof(berr));
        if (brc == 0) {
            free(in);
            return fflush(stdout) == 0 ? 0 : hookError("%s", "could not write the decision");
        }
        if (brc == 1) {   /* a bad or wrong token: a configuration error, never a local decision */
            free(in);
            return hookError("%s", berr);
        }
        if (requireBridge()) {
            free(in);
            return hookError("the bridge could not decide (LIGHTHOUSE_REQUIRE_BRIDGE=1): %s", berr);
        }
        snprintf(note, sizeof(note), " (bridge at %.200s not used: %.400s; decided locally)", url, berr);
        fprintf(stderr, "lighthouse-hook:%s\n", note);   /* an allow prints no reason to carry it */
    }
    lh_arena *a = lh_arena_new(1 << 16);
    if (!a) { free(in); return hookError("%s", "out of memory"); }
    lh_request r;
    int rc;
    if (lh_request_parse_json(a, in, len, &r, err, sizeof(err)) != 0) {
        rc = hookError("bad hook input: %s", err);
    } else {
        if (!r.cwd) r.cwd = "/";
        if (!r.home) r.home = lh_setup_home();
        lh_engine *e = lh_setup_engine(NULL, 0, stderr);
        if (!e) {
            rc = hookError("%s", "the policy could not be loaded (see above)");
        } else {
            lh_decision d;
            lh_engine_decide(e, &r, a, &d, 0);
            if (printPreToolUse(&d, note[0] ? note : NULL, approve)) rc = hookError("%s", "could not render the decision");
            else rc = fflush(stdout) == 0 ? 0 : hookError("%s", "could not write the decision");
            lh_engine_free(e);
        }
    }
    lh_arena_free(a);
    free(in);
    return rc;
}

static int postToolUse(void) {
    char err[512];
    size_t len;
    char *in = lh_read_fd(0, 16u << 20, &len, NULL, err, sizeof(err));
    if (!in) return hookError("%s", err);
    json_error_t je;
    json_t *j = json_loadb(in, len, 0, &je);
    free(in);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return hookError("bad hook input: %s", j ? "expected a JSON object" : je.text);
    }
    /* The tool has run: report what it changed (shadow_report.c). A failure is told on
     * stderr and never blocks (there is nothing left to block). */
    const char *url = getenv("LIGHTHOUSE_URL");
    if (url && *url) lh_shadow_report(url, getenv("LIGHTHOUSE_TOKEN"), j, stderr);
    json_decref(j);
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* install                                                                         */
/* ------------------------------------------------------------------------------ */

/* The absolute path of lighthouse-hook: beside this executable if it is there. */
static void hookCommand(char *out, size_t cap) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(out, cap, "%s/lighthouse-hook", self);
            if (access(out, X_OK) == 0) return;
        }
    }
    snprintf(out, cap, "lighthouse-hook");
}

static int isOurs(json_t *entry) {
    json_t *hooks = json_object_get(entry, "hooks");
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h) {
        const char *cmd = json_string_value(json_object_get(h, "command"));
        if (cmd && (strstr(cmd, "lighthouse-hook") || strstr(cmd, "lighthouse hook"))) return 1;
    }
    return 0;
}

/* Add (or refresh) our entry under hooks.<event>, keeping everything else. */
static int mergeEvent(json_t *hooks, const char *event, const char *matcher, const char *command,
                      int timeout) {
    json_t *list = json_object_get(hooks, event);
    if (!list) {
        list = json_array();
        json_object_set_new(hooks, event, list);
    }
    if (!json_is_array(list)) return -1;
    json_t *mine = json_pack("{s:s, s:[{s:s, s:s, s:i}]}", "matcher", matcher, "hooks", "type",
                             "command", "command", command, "timeout", timeout);
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry) {
        if (json_is_object(entry) && isOurs(entry)) {
            json_array_set_new(list, i, mine);   /* refresh in place: nothing twice */
            return 0;
        }
    }
    json_array_append_new(list, mine);
    return 0;
}

/* Create the directories above path (mode 0700), like mkdir -p of its dirname. */
static int makeParents(const char *path, char *err, size_t errlen) {
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) { snprintf(err, errlen, "path too long"); return -1; }
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(dir, 0700) && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %.400s: %s", dir, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

/* The settings file of install/uninstall: --settings PATH or ~/.claude/settings.json. */
static const char *settingsPath(int argc, char **argv, const char *verb, char *buf, size_t cap) {
    const char *settings = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--settings") && i + 1 < argc) settings = argv[++i];
        else {
            fprintf(stderr, "usage: lighthouse hook %s [--settings FILE]\n", verb);
            return NULL;
        }
    }
    if (settings) return settings;
    const char *home = getenv("HOME");
    if (!home) { fprintf(stderr, "lighthouse hook %s: HOME is not set; use --settings FILE\n", verb); return NULL; }
    snprintf(buf, cap, "%s/.claude/settings.json", home);
    return buf;
}

/* Replace the settings file with root (indented, keys in their order) and free root. -1
 * after saying why on stderr. */
static int writeSettings(json_t *root, const char *settings, const char *verb) {
    char err[PATH_MAX + 200];
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    int rc = text ? lh_replace_file(settings, text, strlen(text), err, sizeof(err)) : -1;
    if (rc) fprintf(stderr, "lighthouse hook %s: cannot write %s: %s\n", verb, settings, text ? err : "out of memory");
    free(text);
    return rc;
}

static int install(int argc, char **argv) {
    char defpath[PATH_MAX], err[512];
    const char *settings = settingsPath(argc, argv, "install", defpath, sizeof(defpath));
    if (!settings) return 2;
    if (makeParents(settings, err, sizeof(err))) { fprintf(stderr, "lighthouse hook install: %s\n", err); return 2; }
    json_t *root = NULL;
    size_t len;
    if (access(settings, F_OK) == 0) {
        char *text = lh_read_file(settings, 16u << 20, &len, err, sizeof(err));
        if (!text) { fprintf(stderr, "lighthouse hook install: %s\n", err); return 2; }
        json_error_t je;
        root = len ? json_loadb(text, len, 0, &je) : json_object();
        free(text);
        if (!root || !json_is_object(root)) {
            fprintf(stderr, "lighthouse hook install: %s is not a JSON object (%s); not changing it\n",
                    settings, root ? "wrong type" : je.text);
            json_decref(root);
            return 2;
        }
    } else {
        root = json_object();
    }
    json_t *hooks = json_object_get(root, "hooks");
    if (!hooks) { hooks = json_object(); json_object_set_new(root, "hooks", hooks); }
    if (!json_is_object(hooks)) {
        fprintf(stderr, "lighthouse hook install: \"hooks\" in %s is not an object; not changing it\n", settings);
        json_decref(root);
        return 2;
    }
    char cmd[PATH_MAX + 32], pre[PATH_MAX + 48], post[PATH_MAX + 48];
    hookCommand(cmd, sizeof(cmd));
    snprintf(pre, sizeof(pre), "%s pre-tool-use", cmd);
    snprintf(post, sizeof(post), "%s post-tool-use", cmd);
    if (mergeEvent(hooks, "PreToolUse", "Bash|Write|Edit|MultiEdit|NotebookEdit|Read", pre, 30) ||
        mergeEvent(hooks, "PostToolUse", "Write|Edit|MultiEdit|NotebookEdit|Bash", post, 30)) {
        fprintf(stderr, "lighthouse hook install: hooks.PreToolUse/PostToolUse in %s is not a list; not changing it\n", settings);
        json_decref(root);
        return 2;
    }
    /* Never a half-written file, and once we say "installed" it is (lh_replace_file:
     * fsync, rename, fsync of the directory; tests/integration/hook_powerloss.sh). */
    if (writeSettings(root, settings, "install")) return 2;
    printf("installed: %s now has a PreToolUse hook, \"%s\" before Bash, Write, Edit, MultiEdit,\n"
           "NotebookEdit and Read, and a PostToolUse hook, \"%s\" after Write, Edit, MultiEdit,\n"
           "NotebookEdit and Bash (project shadows, docs/shadows.md).\n"
           "Undo with: lighthouse hook uninstall%s%s\n",
           settings, pre, post, settings == defpath ? "" : " --settings ", settings == defpath ? "" : settings);
    return 0;
}

/* Remove our entries (isOurs) from hooks.PreToolUse and hooks.PostToolUse, and a list or
 * a "hooks" object left empty by that: exactly what install added, nothing else. */
static int uninstall(int argc, char **argv) {
    char defpath[PATH_MAX], err[512];
    const char *settings = settingsPath(argc, argv, "uninstall", defpath, sizeof(defpath));
    if (!settings) return 2;
    if (access(settings, F_OK) != 0) { printf("nothing to uninstall: %s does not exist\n", settings); return 0; }
    size_t len;
    char *text = lh_read_file(settings, 16u << 20, &len, err, sizeof(err));
    if (!text) { fprintf(stderr, "lighthouse hook uninstall: %s\n", err); return 2; }
    json_error_t je;
    json_t *root = len ? json_loadb(text, len, 0, &je) : json_object();
    free(text);
    if (!root || !json_is_object(root)) {
        fprintf(stderr, "lighthouse hook uninstall: %s is not a JSON object (%s); not changing it\n",
                settings, root ? "wrong type" : je.text);
        json_decref(root);
        return 2;
    }
    json_t *hooks = json_object_get(root, "hooks");
    int removed = 0;
    const char *events[2] = {"PreToolUse", "PostToolUse"};
    for (int k = 0; k < 2 && json_is_object(hooks); k++) {
        json_t *list = json_object_get(hooks, events[k]);
        if (!json_is_array(list)) continue;
        for (size_t i = json_array_size(list); i-- > 0;) {
            json_t *entry = json_array_get(list, i);
            if (json_is_object(entry) && isOurs(entry)) { json_array_remove(list, i); removed++; }
        }
        if (removed && json_array_size(list) == 0) json_object_del(hooks, events[k]);
    }
    if (removed && json_is_object(hooks) && json_object_size(hooks) == 0) json_object_del(root, "hooks");
    if (!removed) {
        json_decref(root);
        printf("nothing to uninstall: %s has no Lighthouse hook\n", settings);
        return 0;
    }
    if (writeSettings(root, settings, "uninstall")) return 2;
    printf("uninstalled: removed %d Lighthouse hook entr%s (PreToolUse, PostToolUse) from %s\n", removed,
           removed == 1 ? "y" : "ies", settings);
    return 0;
}

static const char *hookUsage =
    "usage: lighthouse hook pre-tool-use     (a Claude Code PreToolUse payload on stdin)\n"
    "       lighthouse hook post-tool-use    (a PostToolUse payload on stdin)\n"
    "       lighthouse hook install [--settings FILE]    (adds a PreToolUse and a PostToolUse hook)\n"
    "       lighthouse hook uninstall [--settings FILE]  (removes exactly those)\n"
    "FILE defaults to ~/.claude/settings.json. An allowed call gets no output (the user's\n"
    "permission settings apply) unless LIGHTHOUSE_HOOK_ALLOW=approve or hook_allow: approve in\n"
    "$LIGHTHOUSE_CONFIG. See docs/configuration.md, \"The hook and the bridge\".\n";

/* A failed internal check (util/check.h) blocks the call like any internal error: a hook
 * killed by SIGABRT would be a non-blocking error to Claude Code, and the call would run. */
static void assertExit(void) { _exit(hookError("%s", "an internal check failed")); }

int lh_hook_main(int argc, char **argv) {
    lh_assert_set_exit(assertExit);
    if (argc < 2) { fputs(hookUsage, stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { fputs(hookUsage, stdout); return 0; }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(hookUsage, stdout); return 0; }
    if (!strcmp(argv[1], "pre-tool-use")) return preToolUse();
    if (!strcmp(argv[1], "post-tool-use")) return postToolUse();
    if (!strcmp(argv[1], "install")) return install(argc, argv);
    if (!strcmp(argv[1], "uninstall")) return uninstall(argc, argv);
    fprintf(stderr, "lighthouse-hook: unknown event '%s' (want pre-tool-use, post-tool-use, install or uninstall)\n", argv[1]);
    return 2;
}
