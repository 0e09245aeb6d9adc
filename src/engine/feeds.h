/* feeds.h — code that reaches a program by a side door (internal to src/engine).
 *
 * Round two of "judgement under attack" (issue 11), the shell side. Each entry reads
 * text the call gives literally and that a program will run, and hands it to the
 * analyzers as a child script of the command:
 * - what a command prints into a shell: printf FORMAT ARGS filled as printf fills it,
 *   filters that pass their input on (cat -, cat /dev/stdin, tee, head, tail), a process
 *   substitution read as a script (bash <(…), source <(…), bash < <(…), make -f <(…))
 *   and a shell inside >(…) reading what its parent prints;
 * - make reading its makefile on stdin (-f -, -f /dev/stdin) or from --eval/-E;
 * - commands given as options: less +!CMD, man -P/--pager CMD, fc -e CMD, git
 *   --upload-pack/-u/--receive-pack/--exec CMD, git grep -O CMD, gdb --args, cmake -E
 *   (rm, remove_directory, env, chdir, time), nodemon --exec, watchexec, concurrently,
 *   socat SYSTEM:/EXEC:, sg GROUP CMD; parallel with no command runs its input lines;
 * - start-up and loader variables: BASH_ENV and ENV (sourced first), BASH_FUNC_NAME%%
 *   (an exported function), PERL5OPT -M, NODE_OPTIONS --require/--import, PYTHONSTARTUP,
 *   RUBYOPT -r, GIT_CONFIG_PARAMETERS and GIT_CONFIG_KEY_n/VALUE_n, PSQL_PAGER,
 *   GIT_PROXY_COMMAND: the code they load becomes a child (`. FILE`, `node FILE`, …), so
 *   a file written in the same call is judged by its content (writerun.c); LD_PRELOAD and
 *   LD_AUDIT naming a library outside the system directories escalate (exec.preload);
 * - package installs whose root is / or a system directory (pip --target/--prefix/--root,
 *   npm --prefix, cargo install --root, gem --install-dir/--bindir): pkg.install-system-root.
 * Everything is allocated in the request's arena and bounded by the step budget. */
#ifndef LH_FEEDS_H
#define LH_FEEDS_H

#include "engine/analyze.h"

/* Read command k's side doors (called by unwrap.c for every command, after its
 * wrappers are stripped). Returns 1 when k is fully handled (nothing else to expand). */
int lh_feed_expand(lh_ctx *c, const lh_shell_limits *lim, int k);

/* Command k's stdin when it is not a here-doc or a pipe from echo/printf/cat: `< <(…)`,
 * a shell in >(…) reading its parent's output, a pipe from printf, tee, head, cat -.
 * NULL when unknown. */
const char *lh_feed_stdin(lh_ctx *c, int k, size_t *len);

/* Called for command k before its wrappers are stripped (the dynamic loader's
 * --preload/--audit). */
void lh_feed_prestrip(lh_ctx *c, int k);

/* True when cmd runs the code it reads on stdin although it is not a shell (parallel
 * with no command, make -f -). */
int lh_feed_runs_stdin(const lh_cmd *cmd);
/* The program (sed, tr, grep, cut, jq -n) in the pipe stage before command k that makes
 * the text k reads from a literal, or NULL: what k runs is text made at run time. */
const char *lh_feed_transformed_by(lh_ctx *c, int k);

/* ---- internal: shared by feeds.c and feeds_env.c -------------------------------- */

/* Parse text as a child script of command k (origin eval). */
void lh_feed_child(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text, size_t len);
/* s single-quoted as one shell word, in the arena (NULL: out of memory). */
char *lh_feed_quote(lh_ctx *c, const char *s);
/* The text of the process substitution in word argi of k, read as code (a download in it
 * is net.pipe-to-shell). */
const char *lh_feed_subst_code(lh_ctx *c, int k, int argi, size_t *len);
/* What command k prints when the call gives it: printf FORMAT ARGS filled, echo, yes,
 * filters passing their input on (writerun.c's files written by printf). */
const char *lh_feed_printed(lh_ctx *c, int k, size_t *len);
/* What the process substitution <(…) in word argi of command k prints, or NULL. */
const char *lh_feed_subst_text(lh_ctx *c, int k, int argi, size_t *len);
/* feeds_env.c: the start-up and loader variables of command k (prefix, env, export). */
void lh_feed_assigns(lh_ctx *c, const lh_shell_limits *lim, int k);
/* feeds_env.c: a package install of command k whose root is / or a system directory. */
void lh_feed_install(lh_ctx *c, int k);
/* feeds_env.c: exec.preload for a library list outside the system directories. */
void lh_feed_check_preload(lh_ctx *c, int k, const char *v);

#endif
