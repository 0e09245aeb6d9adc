/* wrappers.h — the option table of every program that runs another program.
 *
 * A wrapper (sudo, env, nice, timeout, unshare, systemd-run …) hides the command it runs
 * behind its own options, and options that take a value hide it further: in
 * `sudo -u root -g wheel rm -rf /` the words "root" and "wheel" are values, not the
 * command. One table says, for each wrapper, which short and long options take a value
 * and how many plain words come before the command (timeout's DURATION, chroot's
 * NEWROOT); lh_wrapper_skip() reads every option form against it:
 *   -u root  -uroot  -nu root (a cluster: the first value option takes the rest or the
 *   next word)  --user root  --user=root  --  and NAME=VALUE words for env.
 * The table is static and read-only; nothing here allocates. */
#ifndef LH_WRAPPERS_H
#define LH_WRAPPERS_H

#include "engine/shell.h"

/* Wrapper flags */
#define LH_WR_PRIV    0x01u  /* the command runs with other privileges (sudo, pkexec …) */
#define LH_WR_ASSIGN  0x02u  /* NAME=VALUE words before the command are skipped (env) */
#define LH_WR_SUBCMD  0x04u  /* the first operand must be the subcommand `sub` (machinectl
                                shell, uv run, bundle exec; "exec|x" lists alternatives) */

typedef struct lh_wrapper {
    const char *name;              /* program name */
    const char *short_val;         /* short option letters that take a value */
    const char *const *long_val;   /* long options ("--user") that take a value; NULL ends */
    int positional;                /* plain words after the options before the command */
    unsigned flags;                /* LH_WR_* */
    const char *sub;               /* LH_WR_SUBCMD: the subcommand word(s), '|'-separated */
    const char *none;              /* short options that mean it runs nothing (command -v,
                                      taskset -p); NULL for none */
    const char *const *long_none;  /* long options that mean it runs nothing (--version) */
} lh_wrapper;

/* The wrapper named prog, or NULL. */
const lh_wrapper *lh_wrapper_find(const char *prog);
/* The table itself, for tests: lh_wrapper_count() entries, lh_wrapper_at(i). */
size_t lh_wrapper_count(void);
const lh_wrapper *lh_wrapper_at(size_t i);

/* Skip the wrapper's options in argv[from…argc): returns the index of the first word of
 * the command it runs, argc when it names none, or -1 when the options say it runs
 * nothing (command -v, ionice -p, taskset -p, pkexec --version). */
int lh_wrapper_skip(const lh_wrapper *w, const lh_word *argv, int argc, int from);

/* The same option reading for a program that is not a wrapper (xargs, ssh, tmux
 * subcommands …): skips options from argv[from]; short_val/long_val as above (long_val
 * may be NULL). Returns the index of the first operand, or argc. */
int lh_skip_options(const lh_word *argv, int argc, int from, const char *short_val,
                    const char *const *long_val);

/* The value of option `opt` (short letter or 0) / `lopt` (long, or NULL) in
 * argv[from…argc) read with the same table, or NULL. Stops at the first operand. */
const char *lh_option_value(const lh_word *argv, int argc, int from, const char *short_val,
                            const char *const *long_val, char opt, const char *lopt);

#endif
