/* an_self.c — the guard protects itself.
 *
 * Lighthouse's own files are:
 * - its programs, `lighthouse` and `lighthouse-hook`, installed outside the project and
 *   temp dirs (a copy under the project, such as build/lighthouse, is a build output);
 * - the bridge's data dir (audit store, HMAC secret, token key): any path with a
 *   component `lighthouse-data` (the default `data`), and the dir that LIGHTHOUSE_DATA
 *   names; and the signed checkpoints of the store's head kept next to it
 *   (`<data>.checkpoints`, or the file LIGHTHOUSE_CHECKPOINTS names);
 * - the policy file the engine was loaded from, and the files LIGHTHOUSE_POLICY and
 *   LIGHTHOUSE_CONFIG name;
 * - the settings files that install the hook: `.claude/settings.json` and
 *   `.claude/settings.local.json` (any `.claude/settings*.json`), in the project or home.
 *
 * A write, deletion, move, truncation, owner or mode change of any of them is denied
 * (self.tamper), by any tool and through any wrapper, and so is killing or stopping the
 * bridge (self.stop: kill, pkill, killall, systemctl, service, docker/podman stop|kill|rm). Reading them is not judged here. The engine learns the configured
 * paths once, in lh_engine_new (engine.c); the analyzers only compare strings. Which paths
 * are Lighthouse's own (an_self_path, an_self_guard) is decided in an_shared.c, since every
 * family that writes or deletes asks; this file judges the commands. */
#include <string.h>

#include "engine/an_common.h"

/* Does the word name the bridge or the hook ("lighthouse", "lighthouse.service",
 * "$(pidof lighthouse)", "-f lighthouse-hook")? */
static int namesSelf(const char *w) {
    return an_istr(w, "lighthouse") != NULL;
}

static void judgeOperands(an_state *s, int idx, const lh_cmd *cmd, const char *short_arg) {
    int ops[32];
    int n = an_operands(cmd, 1, short_arg, NULL, ops, 32);
    for (int k = 0; k < n; k++) {
        lh_path p;
        an_path(s, idx, cmd->argv[ops[k]].s, &p);
        if (an_self_guard(s, idx, &p)) return;
    }
}

void an_self_command(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    switch (p[0]) {
    case 'c':
        if (!strcmp(p, "chmod") || !strcmp(p, "chown") || !strcmp(p, "chgrp") || !strcmp(p, "chattr")) {
            /* every word: a mode ("-x", "+i", "755") or owner never names one of
             * Lighthouse's files, and "-x" is a mode to chmod, not an option */
            for (int i = 1; i < cmd->argc; i++) {
                lh_path pp;
                an_path(s, idx, cmd->argv[i].s, &pp);
                if (an_self_guard(s, idx, &pp)) return;
            }
        }
        return;
    case 's':
        if (!strcmp(p, "shred")) judgeOperands(s, idx, cmd, "ns");
        else if (!strcmp(p, "setfacl")) judgeOperands(s, idx, cmd, "mMxX");
        else if (!strcmp(p, "systemctl")) {
            static const char *const stop[] = {"stop", "kill", "disable", "mask", "freeze", NULL};
            int verb = 0;
            for (int i = 1; i < cmd->argc; i++) {
                const char *a = cmd->argv[i].s;
                if (a[0] == '-') continue;
                if (!verb) {
                    for (int k = 0; stop[k]; k++)
                        if (!strcmp(a, stop[k])) verb = 1;
                    if (!verb) return;
                    continue;
                }
                if (namesSelf(a)) { lh_emit(s->c, idx, LH_RULE(SELF_STOP), a); return; }
            }
        } else if (!strcmp(p, "service")) {
            int ops[4];
            int n = an_operands(cmd, 1, "", NULL, ops, 4);
            if (n >= 2 && namesSelf(cmd->argv[ops[0]].s) &&
                (!strcmp(cmd->argv[ops[1]].s, "stop") || !strcmp(cmd->argv[ops[1]].s, "force-stop")))
                lh_emit(s->c, idx, LH_RULE(SELF_STOP), cmd->argv[ops[0]].s);
        }
        return;
    case 'd':
    case 'p':
        if (!strcmp(p, "docker") || !strcmp(p, "podman") || !strcmp(p, "docker-compose")) {
            /* docker [compose] stop|kill|rm|pause CONTAINER naming lighthouse */
            static const char *const stop[] = {"stop", "kill", "rm", "pause", "down", NULL};
            int verb = 0;
            for (int i = 1; i < cmd->argc; i++) {
                const char *a = cmd->argv[i].s;
                for (int k = 0; stop[k] && !verb; k++)
                    if (!strcmp(a, stop[k])) verb = 1;
                if (verb && a[0] != '-' && namesSelf(a)) { lh_emit(s->c, idx, LH_RULE(SELF_STOP), a); return; }
            }
            return;
        }
        if (p[0] == 'd') return;
        /* pkill PATTERN */
        if (!strcmp(p, "pkill")) {
            for (int i = 1; i < cmd->argc; i++)
                if (namesSelf(cmd->argv[i].s)) { lh_emit(s->c, idx, LH_RULE(SELF_STOP), cmd->argv[i].s); return; }
        }
        return;
    case 'k':
        if (!strcmp(p, "kill") || !strcmp(p, "killall")) {
            for (int i = 1; i < cmd->argc; i++)
                if (namesSelf(cmd->argv[i].s)) { lh_emit(s->c, idx, LH_RULE(SELF_STOP), cmd->argv[i].s); return; }
        }
        return;
    default:
        return;
    }
}
