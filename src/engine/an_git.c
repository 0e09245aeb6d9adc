/* an_git.c — git: what loses history or uncommitted work, and config that runs code.
 *
 * Global options before the subcommand (-C dir, -c key=value, --git-dir=…) are
 * skipped, and -c values are checked like `git config`. Reads and ordinary writes
 * (status, log, diff, add, commit, plain push, fetch, pull, rebase) are allowed. */
#include <stdio.h>
#include <string.h>

#include "engine/an_common.h"

/* Is k a config key whose value git runs as a command? value may be NULL. Returns
 * 2 (deny), 1 (escalate) or 0. */
static int execKey(const char *k, const char *value) {
    static const char *const exact[] = {"core.fsmonitor", "core.sshcommand", "core.gitproxy",
                                        "core.askpass", "diff.external", "uploadpack.packobjectshook",
                                        "gpg.program", "core.hookspath", NULL};
    /* core.pager, core.editor, sequence.editor…: their values are read as shell commands
     * (runners.c, gitShellValues), so `-c sequence.editor=true` stays allowed */
    char low[128];
    size_t n = strlen(k);
    if (n >= sizeof(low)) return 1;
    for (size_t i = 0; i <= n; i++) low[i] = (k[i] >= 'A' && k[i] <= 'Z') ? (char)(k[i] + 32) : k[i];
    for (int i = 0; exact[i]; i++) {
        if (strcmp(low, exact[i])) continue;
        if (!strcmp(low, "core.sshcommand") && value && !strncmp(value, "ssh", 3) &&
            !strpbrk(value, ";|&`$"))
            return 0;                      /* ssh -i key -o … is how keys are chosen */
        if (!strcmp(low, "core.hookspath") && value && value[0] != '/' && value[0] != '~' &&
            value[0] != '$' && !strstr(value, ".."))
            return 0;                      /* hooks shipped in the project */
        return 2;
    }
    size_t l = strlen(low);
    if (!strncmp(low, "alias.", 6)) return value && value[0] == '!' ? 2 : 0;
    if (!strcmp(low, "credential.helper")) return value && value[0] == '!' ? 2 : 0;
    if (!strncmp(low, "filter.", 7) && (strstr(low, ".clean") || strstr(low, ".smudge") || strstr(low, ".process")))
        return 2;
    if ((!strncmp(low, "diff.", 5) && (strstr(low, ".textconv") || strstr(low, ".command"))) ||
        (!strncmp(low, "merge.", 6) && strstr(low, ".driver")) ||
        (!strncmp(low, "remote.", 7) && (strstr(low, ".uploadpack") || strstr(low, ".receivepack"))) ||
        (!strncmp(low, "gpg.", 4) && l > 8 && !strcmp(low + l - 8, ".program")))
        return 2;
    return 0;
}

static void judgeConfig(an_state *s, int idx, const char *key, const char *value) {
    int r = execKey(key, value);
    if (r == 2) lh_emit(s->c, idx, LH_RULE(GIT_CONFIG_EXEC), key);
    else if (r == 1)
        lh_emit_full(s->c, idx, LH_RULE(GIT_CONFIG_EXEC)->id, LH_ESCALATE, LH_RISK_MEDIUM, LH_TIER_ANALYSIS,
                     LH_RULE(GIT_CONFIG_EXEC)->reason, LH_RULE(GIT_CONFIG_EXEC)->instead, key);
}

/* git config [scope] [--add|--replace-all] KEY [VALUE]; git config set KEY VALUE. */
static void gitConfig(an_state *s, int idx, const lh_cmd *cmd, int sub) {
    int global = 0, read = 0;
    int ops[4], n = 0;
    for (int i = sub + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--global") || !strcmp(a, "--system")) { global = 1; continue; }
        if (!strcmp(a, "--get") || !strcmp(a, "--get-all") || !strcmp(a, "--list") || !strcmp(a, "-l") ||
            !strcmp(a, "--get-regexp") || !strcmp(a, "--show-origin") || !strcmp(a, "--unset") ||
            !strcmp(a, "--unset-all") || !strcmp(a, "get") || !strcmp(a, "list"))
            read = 1;
        if (!strcmp(a, "--file") || !strcmp(a, "-f") || !strcmp(a, "--type") || !strcmp(a, "--default")) { i++; continue; }
        if (a[0] == '-') continue;
        if (!strcmp(a, "set") && n == 0) continue;
        if (n < 4) ops[n++] = i;
    }
    if (read || n == 0) return;
    const char *key = cmd->argv[ops[0]].s;
    const char *val = n > 1 ? cmd->argv[ops[1]].s : NULL;
    int before = s->c->nfindings;
    judgeConfig(s, idx, key, val);
    if (global && n > 1 && s->c->nfindings == before && !an_istarts(key, "alias."))
        lh_emit(s->c, idx, LH_RULE(FS_WRITE_OUTSIDE), "~/.gitconfig");
}

/* Does a cluster of short options (-qf) hold ch? Letters in valopts take a value
 * (the rest of the word, or the next word), which ends the cluster: "-cfix" is -c fix. */
static int hasShort(const lh_cmd *cmd, int from, char ch, const char *valopts) {
    for (int i = from; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return 0;
        if (a[0] != '-' || a[1] == '-' || !a[1]) continue;
        for (const char *o = a + 1; *o; o++) {
            if (*o == ch) return 1;
            if (strchr(valopts, *o)) {
                if (!o[1]) i++;
                break;
            }
        }
    }
    return 0;
}

/* A pathspec that names more than files: the whole tree, a glob, the top. */
static int broadPathspec(const char *a) {
    size_t n = strlen(a);
    return !strcmp(a, ".") || !strcmp(a, "..") || !strncmp(a, ":/", 2) || !strcmp(a, ":") ||
           strpbrk(a, "*?[") != NULL || (n > 0 && a[n - 1] == '/');   /* a directory */
}

/* checkout/restore: the pathspecs discard changes when they are broad or come from a
 * file; named files ("git checkout -- src/app.py") are what the user asked for. The
 * first operand of checkout without "--" is the branch or tree. */
static int pathspecsDiscard(const lh_cmd *cmd, int sub, int first_is_tree, const char *valopts) {
    int n = 0, dashdash = 0;
    for (int i = sub + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) { dashdash = 1; continue; }
        if (!strncmp(a, "--pathspec-from-file", 20)) return 1;
        if (!dashdash && a[0] == '-') {
            if (a[1] != '-' && strpbrk(a + 1, valopts) && !a[strcspn(a + 1, valopts) + 2]) i++;
            else if (!strcmp(a, "--source") || !strcmp(a, "--conflict")) i++;
            continue;
        }
        if (!dashdash && first_is_tree && n++ == 0 && !broadPathspec(a)) continue;
        if (broadPathspec(a)) return 1;
    }
    return 0;
}

static int checkoutDiscards(const lh_cmd *cmd, int sub) {
    for (int i = sub + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) break;
        if (!strcmp(a, "-b") || !strcmp(a, "-B") || !strcmp(a, "--orphan")) return 0;
        if (!strcmp(a, "--ours") || !strcmp(a, "--theirs") || !strcmp(a, "-p") || !strcmp(a, "--patch"))
            return 0;
    }
    if (an_has_word(cmd, sub + 1, "--force") || hasShort(cmd, sub + 1, 'f', "bB")) return 1;
    return pathspecsDiscard(cmd, sub, 1, "bB");
}

/* A branch that the project protects: main, master, release/… */
static int protectedRef(const char *r) {
    if (!strncmp(r, "refs/heads/", 11)) r += 11;
    return !strcmp(r, "main") || !strcmp(r, "master") || !strncmp(r, "release/", 8);
}

/* Was remote added by "git remote add NAME …" earlier in this script? */
static int remoteAddedBefore(an_state *s, int idx, const char *remote) {
    const lh_script *sc = s->c->script;
    if (!sc || idx < 0) return 0;
    for (int j = AN_LO(idx); j < idx; j++) {
        const lh_cmd *o = &sc->cmds[j];
        if (strcmp(o->prog, "git")) continue;
        for (int k = 1; k + 2 < o->argc; k++)
            if (!strcmp(o->argv[k].s, "remote") && !strcmp(o->argv[k + 1].s, "add")) {
                for (int m = k + 2; m < o->argc; m++) {
                    if (o->argv[m].s[0] == '-') continue;
                    if (!strcmp(o->argv[m].s, remote)) return 1;
                    break;
                }
            }
    }
    return 0;
}

/* git reset MODE COMMIT: a commit other than HEAD moves the branch. */
static int resetMovesBranch(const lh_cmd *cmd, int sub) {
    for (int i = sub + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return 0;
        if (a[0] == '-') continue;
        return strcmp(a, "HEAD") && strcmp(a, "@");
    }
    return 0;
}

static void gitPush(an_state *s, int idx, const lh_cmd *cmd, int sub) {
    static const char *const valued[] = {"--repo", "--receive-pack", "--exec", "--push-option", "-o", NULL};
    int force = 0, lease = 0, del = 0, all = 0, prot = 0, named = 0;
    const char *remote = NULL, *refspec = NULL;
    for (int i = sub + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        int v = 0;
        for (int k = 0; valued[k]; k++)
            if (!strcmp(a, valued[k])) v = 1;
        if (v) { i++; continue; }
        if (!strcmp(a, "--dry-run")) return;   /* prints what it would send, sends nothing */
        if (!strcmp(a, "--force") || !strcmp(a, "--mirror")) force = 1;
        else if (!strncmp(a, "--force-with-lease", 18) || !strcmp(a, "--force-if-includes")) lease = 1;
        else if (!strcmp(a, "--delete") || !strcmp(a, "--prune")) del = 1;
        else if (!strcmp(a, "--all") || !strcmp(a, "--branches")) all = 1;
        else if (a[0] == '-' && a[1] != '-') {
            if (strchr(a, 'n')) return;   /* -n: --dry-run */
            if (strchr(a, 'f')) force = 1;
            if (strchr(a, 'd')) del = 1;
        } else if (a[0] == '-') continue;
        else if (!remote) remote = a;
        else {
            if (!refspec) refspec = a;
            const char *r = a[0] == '+' ? a + 1 : a;
            const char *colon = strchr(r, ':');
            const char *dst = colon ? colon + 1 : r;
            if (a[0] == '+') force = 1;
            if (colon && colon == r && r[1]) del = 1;
            if (protectedRef(dst)) prot = 1;
            else if (strcmp(dst, "HEAD") && strcmp(dst, "@")) named = 1;
        }
    }
    const char *subj = lh_arena_printf(s->c->arena, "git push%s%s%s%s", remote ? " " : "", remote ? remote : "",
                                       refspec ? " " : "", refspec ? refspec : "");
    if (!subj) { s->c->oom = 1; return; }
    if (force) lh_emit(s->c, idx, LH_RULE(GIT_PUSH_FORCE), subj);
    else if (lease && (prot || !named)) lh_emit(s->c, idx, LH_RULE(GIT_FORCE_LEASE), subj);
    if (del) lh_emit(s->c, idx, LH_RULE(GIT_PUSH_DELETE), subj);
    if (prot && !force) lh_emit(s->c, idx, LH_RULE(GIT_PUSH_PROTECTED), subj);
    if (all && remote && remoteAddedBefore(s, idx, remote)) lh_emit(s->c, idx, LH_RULE(GIT_PUSH_NEW_REMOTE), subj);
}

/* "git stash apply [E] && git stash drop [E]": the entry was applied before it goes
 * (the && stops the drop when the apply fails). Read from the request's text, since
 * the parse keeps no connectors. */
static int dropAfterApply(an_state *s, const lh_cmd *cmd, int sub) {
    const lh_request *r = s->c->req;
    if (!r->command || cmd->depth != 0) return 0;
    const char *entry = NULL;
    for (int i = sub + 2; i < cmd->argc; i++)
        if (cmd->argv[i].s[0] != '-') { entry = cmd->argv[i].s; break; }
    char want[160];
    int w = snprintf(want, sizeof(want), "git stash apply%s%s && git stash drop%s%s",
                     entry ? " " : "", entry ? entry : "", entry ? " " : "", entry ? entry : "");
    if (w <= 0 || (size_t)w >= sizeof(want)) return 0;
    return an_istr(r->command, want) != NULL;
}

static int hasWordFrom(const lh_cmd *cmd, int from, const char *w) { return an_has_word(cmd, from, w); }

/* git add .env: a credentials file staged for commit leaves with the next push
 * (denied when this script pushes, escalated otherwise). Only files named on the
 * command line: "git add ." relies on .gitignore. */
static void gitAddSecrets(an_state *s, int idx, const lh_cmd *cmd, int sub) {
    for (int i = sub + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-') continue;
        lh_path p;
        if (an_path(s, idx, a, &p) != LH_PATH_SECRET) continue;
        const lh_script *sc = s->c->script;
        int pushes = 0;
        for (int j = idx + 1; j < AN_HI(idx, sc->ncmds) && !pushes; j++)
            pushes = !strcmp(sc->cmds[j].prog, "git") && an_has_word(&sc->cmds[j], 1, "push");
        const lh_rule_info *r = LH_RULE(EXFIL);
        if (pushes) lh_emit(s->c, idx, r, p.norm);
        else
            lh_emit_full(s->c, idx, r->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                         "stages a credentials file for commit; the next push sends it to the remote",
                         "keep credentials out of git (add them to .gitignore)", p.norm);
        return;
    }
}

/* The index of the subcommand after git's global options; -c values are judged. */
static int findSub(an_state *s, int idx, const lh_cmd *cmd) {
    int i = 1;
    while (i < cmd->argc) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-C") || !strcmp(a, "--git-dir") || !strcmp(a, "--work-tree") ||
            !strcmp(a, "--namespace") || !strcmp(a, "--exec-path") || !strcmp(a, "--super-prefix") ||
            !strcmp(a, "--config-env")) {
            i += 2;
            continue;
        }
        if (!strcmp(a, "-c") && i + 1 < cmd->argc) {
            const char *kv = cmd->argv[i + 1].s;
            const char *eq = strchr(kv, '=');
            size_t kn = eq ? (size_t)(eq - kv) : strlen(kv);
            char *key = lh_arena_strndup(s->c->arena, kv, kn);   /* it may become a subject */
            if (!key) { s->c->oom = 1; return -1; }
            judgeConfig(s, idx, key, eq ? eq + 1 : "");
            i += 2;
            continue;
        }
        if (a[0] == '-') { i++; continue; }
        return i;
    }
    return -1;
}

void an_git(an_state *s, int idx, const lh_cmd *cmd) {
    int sub = findSub(s, idx, cmd);
    if (sub < 0) return;
    const char *v = cmd->argv[sub].s;
    lh_ctx *c = s->c;
    /* options of the subcommand only */
    lh_cmd tail = *cmd;
    tail.argv = cmd->argv + sub;
    tail.argc = cmd->argc - sub;
    const lh_cmd *t = &tail;
    /* "git reset --hard --help" only prints the manual */
    if (an_has_word(cmd, sub + 1, "--help") || an_has_word(cmd, sub + 1, "-h")) return;
    if (!strcmp(v, "reset")) {
        if (lh_has_opt(t, 0, "--hard")) lh_emit(c, idx, LH_RULE(GIT_RESET_HARD), "git reset --hard");
        else if (lh_has_opt(t, 0, "--merge") && resetMovesBranch(cmd, sub))   /* plain --merge keeps local changes */
            lh_emit(c, idx, LH_RULE(GIT_RESET_HARD), "git reset --merge");
    } else if (!strcmp(v, "checkout")) {
        if (checkoutDiscards(cmd, sub)) lh_emit(c, idx, LH_RULE(GIT_DISCARD), "git checkout");
    } else if (!strcmp(v, "switch")) {
        if (lh_has_opt(t, 0, "--discard-changes") || lh_has_opt(t, 0, "--force") || hasShort(cmd, sub + 1, 'f', "cC"))
            lh_emit(c, idx, LH_RULE(GIT_DISCARD), "git switch --discard-changes");
    } else if (!strcmp(v, "restore")) {
        int staged = lh_has_opt(t, 0, "--staged") || hasShort(cmd, sub + 1, 'S', "s");
        int worktree = lh_has_opt(t, 0, "--worktree") || hasShort(cmd, sub + 1, 'W', "s");
        if ((!staged || worktree) && pathspecsDiscard(cmd, sub, 0, "s"))
            lh_emit(c, idx, LH_RULE(GIT_DISCARD), "git restore");
    } else if (!strcmp(v, "worktree")) {
        if (hasWordFrom(cmd, sub + 1, "remove") &&
            (an_has_word(cmd, sub + 1, "--force") || hasShort(cmd, sub + 1, 'f', "")))
            lh_emit(c, idx, LH_RULE(GIT_DISCARD), "git worktree remove --force");
    } else if (!strcmp(v, "clean")) {
        if (lh_has_opt(t, 0, "--dry-run") || hasShort(cmd, sub + 1, 'n', "e")) return;
        if (lh_has_opt(t, 0, "--force") || hasShort(cmd, sub + 1, 'f', "e"))
            lh_emit(c, idx, LH_RULE(GIT_CLEAN), "git clean -f");
    } else if (!strcmp(v, "push")) {
        gitPush(s, idx, cmd, sub);
    } else if (!strcmp(v, "branch")) {
        int del = hasShort(cmd, sub + 1, 'D', "") ||
                  ((lh_has_opt(t, 0, "--delete") || hasShort(cmd, sub + 1, 'd', "")) &&
                   (lh_has_opt(t, 0, "--force") || hasShort(cmd, sub + 1, 'f', "")));
        if (del) lh_emit(c, idx, LH_RULE(GIT_BRANCH_DELETE), "git branch -D");
    } else if (!strcmp(v, "stash")) {
        if ((hasWordFrom(cmd, sub + 1, "drop") && !dropAfterApply(s, cmd, sub)) || hasWordFrom(cmd, sub + 1, "clear"))
            lh_emit(c, idx, LH_RULE(GIT_STASH_DROP), "git stash drop");
    } else if (!strcmp(v, "filter-branch") || !strcmp(v, "filter-repo")) {
        lh_emit(c, idx, LH_RULE(GIT_REWRITE), !strcmp(v, "filter-branch") ? "git filter-branch" : "git filter-repo");
    } else if (!strcmp(v, "reflog")) {
        if (hasWordFrom(cmd, sub + 1, "expire") || hasWordFrom(cmd, sub + 1, "delete"))
            lh_emit(c, idx, LH_RULE(GIT_REFLOG), "git reflog expire");
    } else if (!strcmp(v, "gc")) {
        const char *pr = an_opt_value(t, 0, "--prune");
        if (pr && (!strcmp(pr, "now") || !strcmp(pr, "all"))) lh_emit(c, idx, LH_RULE(GIT_REFLOG), "git gc --prune=now");
    } else if (!strcmp(v, "prune")) {
        if (!lh_has_opt(t, 'n', "--dry-run")) lh_emit(c, idx, LH_RULE(GIT_REFLOG), "git prune");
    } else if (!strcmp(v, "update-ref")) {
        if (lh_has_opt(t, 'd', NULL)) lh_emit(c, idx, LH_RULE(GIT_BRANCH_DELETE), "git update-ref -d");
    } else if (!strcmp(v, "config")) {
        gitConfig(s, idx, cmd, sub);
    } else if (!strcmp(v, "add")) {
        gitAddSecrets(s, idx, cmd, sub);
    } else if (!strcmp(v, "rm")) {
        if (!lh_has_opt(t, 0, "--cached") && lh_has_opt(t, 'r', NULL) &&
            (hasWordFrom(cmd, sub + 1, ".") || hasWordFrom(cmd, sub + 1, "*")))
            lh_emit(c, idx, LH_RULE(RM_PROJECT_ROOT), "git rm -r .");
    }
}
