/* runners.h — programs that run a command string or a file (internal to src/engine).
 *
 * lh_runner_expand() is called by unwrap.c for each command: when the command is a
 * runner it reads the command it runs and appends it as a child script, to be judged
 * as if it had been typed:
 * - at, batch: the script on stdin (here-doc, here-string, echo … | at now);
 * - tmux (new-session, new-window, split-window, respawn-*, run-shell, display-popup,
 *   if-shell, pipe-pane, send-keys … Enter, tmux -c), screen (CMD, -X stuff, -X exec);
 * - su and runuser without -u (-c CMD, clusters such as -lc; su with no -c reads a
 *   root script on stdin), script -c CMD (-qc);
 * - awk system("…"), print | "cmd", "cmd" | getline, print > "file"; sed's e command,
 *   s///e and w: a command computed from the data is code.opaque (escalate);
 * - fleet runners: ansible -m shell|command|raw -a CMD, salt … cmd.run CMD, pssh,
 *   parallel-ssh, pdsh, clush: the inner command, plus ssh.remote for the fan-out.
 * - git submodule foreach CMD, rebase --exec|-x CMD, difftool --extcmd|-x CMD, bisect run
 *   CMD…; npx -c CMD, npm exec -c CMD, pnpm exec|dlx -c CMD…; vim/nvim -c|--cmd|+ with
 *   an Ex `:!CMD`.
 * Returns 1 when k was a runner (handled), 0 otherwise. */
#ifndef LH_RUNNERS_H
#define LH_RUNNERS_H

#include "engine/analyze.h"

int lh_runner_expand(lh_ctx *c, const lh_shell_limits *lim, int k);
/* True when prog is one of the runners above (for tests). */
int lh_runner_is(const char *prog);

/* From unwrap.c (lh_unwrap_parse_child is declared in unwrap.h): parse words [from, to)
 * of command k joined with spaces as a child script of k. */
void lh_unwrap_join_child(lh_ctx *c, const lh_shell_limits *lim, int k, int from, int to,
                          lh_origin origin);
/* From unwrap.c: a child of k that runs words [from, argc) as argv, without a shell. */
void lh_unwrap_argv_child(lh_ctx *c, const lh_shell_limits *lim, int k, int from);

#endif
