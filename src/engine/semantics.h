/* semantics.h — shell semantics modelled on top of the parse (semantics.c): brace
 * expansion, aliases, renamed programs, trap / PROMPT_COMMAND handlers, at / batch /
 * `source /dev/stdin` scripts. Called by lh_unwrap() for each command in order. Internal to src/engine/. */
#ifndef LH_SEMANTICS_H
#define LH_SEMANTICS_H

#include "engine/analyze.h"
#include "engine/unwrap.h"

#define LH_SEM_MAX_BRACE 256   /* words one command may brace-expand to */
#define LH_SEM_MAX_WORD  1024  /* bytes of one expanded word */
#define LH_SEM_MAX_NAMES 32    /* aliases, and renamed programs, remembered per call */

typedef struct lh_sem_name {
    const char *name;     /* alias name, or the new name of a program */
    size_t nlen;
    const char *value;    /* alias text, or the program's name ("rm") */
} lh_sem_name;

/* What earlier commands of the call defined. Zero the counts before the first command. */
typedef struct lh_sem {
    lh_sem_name aliases[LH_SEM_MAX_NAMES];
    int naliases;
    lh_sem_name renames[LH_SEM_MAX_NAMES];
    int nrenames;
} lh_sem;

/* Before wrappers are stripped from command k: brace-expand its words, expand an alias
 * (as a child script; returns 1: nothing more to do for k), give a renamed program its
 * identity. A brace expansion past LH_SEM_MAX_BRACE marks the context over budget. */
int lh_sem_before(lh_ctx *c, const lh_shell_limits *lim, lh_sem *st, int k);

/* After wrappers are stripped: remember alias and rename definitions, and parse the
 * code of trap, PROMPT_COMMAND, at and batch as children of k. */
void lh_sem_after(lh_ctx *c, const lh_shell_limits *lim, lh_sem *st, int k);

/* For an env option word: the split string it carries ("" when it is the next word: -S,
 * --split-string), the attached text (-S'…', -iS'…', --split-string=…), or NULL. */
const char *lh_sem_env_split_text(const char *a);

/* True for /dev/stdin, /dev/fd/0 and /proc/self/fd/0: a script operand that is stdin. */
int lh_sem_is_stdin_path(const char *a);

#endif
