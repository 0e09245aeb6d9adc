/* fuzz_hook.c — libFuzzer target: arbitrary bytes as a Claude Code hook payload on the
 * hook's stdin, through lh_hook_main("pre-tool-use") (src/hook/hook.c) as lighthouse-hook
 * runs it, with no bridge (LIGHTHOUSE_URL unset: decided locally with the default policy).
 * Checks the hook's contract: exit 0 or 2 (2 only for input it could not check), and on
 * stdout either nothing or one JSON object whose permissionDecision is allow, deny or ask.
 * During the call stdin and stdout are memory files and stderr (the hook's messages) is
 * /dev/null unless LH_FUZZ_VERBOSE is set; all three are put back after it. */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cli.h"

static int g_in = -1, g_out = -1, g_null = -1;

static void setup(void) {
    static const char *const unset[] = {"LIGHTHOUSE_URL", "LIGHTHOUSE_POLICY", "LIGHTHOUSE_CONFIG",
        "LIGHTHOUSE_HOOK_ALLOW", "LIGHTHOUSE_FAIL_OPEN", "LIGHTHOUSE_REQUIRE_BRIDGE", "LIGHTHOUSE_TOKEN"};
    for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++) unsetenv(unset[i]);
    g_in = memfd_create("hook-stdin", 0);
    g_out = memfd_create("hook-stdout", 0);
    if (g_in < 0 || g_out < 0) abort();
    g_null = getenv("LH_FUZZ_VERBOSE") ? dup(2) : open("/dev/null", O_WRONLY);
    if (g_null < 0) abort();
}

/* Point fds 0, 1, 2 at from[0..3), keeping what was there in saved[0..3). */
static void swapFds(const int from[3], int saved[3]) {
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 3; i++) {
        if (saved && (saved[i] = dup(i)) < 0) abort();
        if (dup2(from[i], i) < 0) abort();
        if (!saved) close(from[i]);
    }
}

static void checkOutput(int rc) {
    if (rc != 0 && rc != 2) abort();
    off_t n = lseek(g_out, 0, SEEK_CUR);
    if (n == 0) return;
    if (rc != 0) abort();   /* an error prints no decision */
    char *buf = malloc((size_t)n + 1);
    if (!buf || pread(g_out, buf, (size_t)n, 0) != n) abort();
    json_error_t je;
    json_t *j = json_loadb(buf, (size_t)n, 0, &je);
    free(buf);
    json_t *o = json_object_get(j, "hookSpecificOutput");
    const char *p = json_string_value(json_object_get(o, "permissionDecision"));
    const char *ev = json_string_value(json_object_get(o, "hookEventName"));
    if (!p || !ev || strcmp(ev, "PreToolUse")) abort();
    if (strcmp(p, "allow") && strcmp(p, "deny") && strcmp(p, "ask")) abort();
    if (!json_is_string(json_object_get(o, "permissionDecisionReason"))) abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_in < 0) setup();
    if (ftruncate(g_in, 0) || ftruncate(g_out, 0)) abort();
    if (pwrite(g_in, data, size, 0) != (ssize_t)size) abort();
    if (lseek(g_in, 0, SEEK_SET) < 0 || lseek(g_out, 0, SEEK_SET) < 0) abort();
    int saved[3];
    const int to[3] = {g_in, g_out, g_null};
    swapFds(to, saved);
    char *argv[] = {"lighthouse-hook", "pre-tool-use", NULL};
    int rc = lh_hook_main(2, argv);
    fflush(stdout);
    swapFds(saved, NULL);
    checkOutput(rc);
    return 0;
}
