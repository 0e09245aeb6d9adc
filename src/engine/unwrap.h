/* unwrap.h — from "what the shell runs" to "what really runs".
 *
 * After parsing, lh_unwrap() walks every command of the script:
 * - it strips wrappers in place (sudo, doas, env, nice, ionice, nohup, timeout, time,
 *   stdbuf, command, builtin, exec, chroot, setsid, …): argv then starts at the real
 *   program, LH_C_SUDO marks privilege, cmd->wrappers says what was stripped;
 * - it appends the commands of nested scripts as children: sh|bash|… -c, eval, xargs,
 *   parallel, find -exec/-execdir/-ok, su -c, watch, ssh/kubectl/docker exec remote
 *   commands, here-docs and echo|printf fed to a shell (LH_C_REPLACED on the parent);
 * - it reads the inline code of python -c, perl -e, ruby -e, node -e and php -r for
 *   shell-outs (parsed as children) and recursive deletes (code.recursive-delete), and
 *   escalates code it cannot read (code.opaque).
 * - runners.c reads what at, tmux, screen, awk, sed and fleet runners run;
 *   wrappers.c holds the wrapper option table.
 * Children are unwrapped in turn; depth is bounded by the shell limits. */
#ifndef LH_UNWRAP_H
#define LH_UNWRAP_H

#include "engine/analyze.h"

void lh_unwrap(lh_ctx *c, const lh_shell_limits *lim);

/* Parse text as a nested script whose commands are children of command k (argv index
 * argi, -1 when not tied to a word); marks k LH_C_REPLACED. For semantics.c. */
void lh_unwrap_parse_child(lh_ctx *c, const lh_shell_limits *lim, int k, int argi,
                           const char *text, size_t len, lh_origin origin);

/* Parse text as a child script of command k (marks k LH_C_REPLACED). The child is
 * unwrapped when lh_unwrap walks it. */
void lh_unwrap_child(lh_ctx *c, const lh_shell_limits *lim, int k, const char *text, size_t len);

/* Files written and then run in the same script: the runs get the written content as
 * children, or escalate when it cannot be known (writerun.c; called by lh_unwrap). */
void lh_writerun(lh_ctx *c, const lh_shell_limits *lim);

/* links.c: after `ln -s TARGET LINK`, the later commands' words that name LINK name
 * TARGET (called by lh_unwrap before lh_writerun). */
void lh_links(lh_ctx *c);
/* links.c: t as an absolute, normalised path seen from command k (its cwd, or the call's;
 * `~` from its home), in c's arena; NULL when it cannot be known, or out of memory (then
 * c->oom is set). Used by links.c and writerun.c. */
char *lh_abs_path(lh_ctx *c, int k, const char *t);

/* curlcfg.c: curl command k reads the config text cfg (-K/--config, words [from, to) of
 * its argv): a child `curl OPTIONS… OTHER-ARGS…` is judged in its place. */
void lh_curl_config(lh_ctx *c, const lh_shell_limits *lim, int k, int from, int to, const char *cfg, size_t len);

/* litvar.c: resolve variables command k uses that the call set to a literal; keep the
 * NAME=VAL words of a wrapper such as env (argv[1..upto)) as cmd's assignments. */
void lh_litvar_resolve(lh_ctx *c, int k);
void lh_litvar_keep_assigns(lh_ctx *c, lh_cmd *cmd, int upto);

/* The text command k reads on stdin when it is known statically: its here-doc or
 * here-string, or what `cat <<EOF |`, `echo … |` or `printf … |` in the stage before it
 * prints. NULL when unknown. The text may live in the arena. */
const char *lh_stdin_text(lh_ctx *c, int k, size_t *len);

/* Single-quote s for re-parsing as one word into out (room for 4 bytes per byte of s
 * plus 2); returns the bytes written, not NUL-ended. */
size_t lh_unwrap_quote_into(char *out, const char *s);

/* unwrap_code.c: the inline code of interpreter command k (-c/-e/-r/--eval, or its
 * here-doc or here-string when no script is named), or NULL; and the reading of it:
 * shell-outs become children of k, recursive deletes and unreadable calls are findings. */
const char *lh_unwrap_inline_code(lh_ctx *c, int k, size_t *len);
void lh_unwrap_scan_code(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code, size_t len);
/* True when inline code runs what it reads on stdin as code: exec/eval of stdin, a loader
 * given a stdin path (runpy.run_path('/dev/stdin'), dofile, do, load, require), Lua's
 * dofile() and load(io.read(…)). */
int lh_code_runs_stdin(const char *code, size_t len);

/* True for sh, bash, zsh, dash, ksh, ash, mksh, busybox sh… */
int lh_is_shell(const char *prog);
/* True for python*, perl, ruby, node, php… (code interpreters). */
int lh_is_interpreter(const char *prog);

#endif
