/* shell.h — a POSIX (and common bash) shell parser that lists the simple commands a
 * script would run.
 *
 * The result is flat: every simple command of the script, including those inside
 * $(…), `…`, <(…), >(…), function bodies, compound commands and here-docs fed to a
 * shell, is one lh_cmd in lh_script.cmds, in source order. Each command says where it
 * came from (origin, parent, parent_arg) and which pipeline it belongs to, so analyzers
 * can reason about "curl … | sh" or "sh <(curl …)" without walking a tree.
 *
 * Words keep expansions as their source text ("$HOME/x", "$(pwd)") after quote
 * removal, with flags saying what kind of run-time value they hold.
 *
 * Every input is bounded (lh_shell_limits). Past a bound, or on a syntax error, the
 * script carries an error and the caller must not allow the call.
 *
 * Memory: everything lives in the arena passed to lh_shell_parse(). */
#ifndef LH_SHELL_H
#define LH_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

/* ---- words -------------------------------------------------------------------- */

#define LH_W_QUOTED    0x01u /* some part was quoted ('…', "…", $'…' or \x) */
#define LH_W_DYNAMIC   0x02u /* holds an expansion: $x, ${…}, $(…), `…`, $((…)) */
#define LH_W_SUBST     0x04u /* holds a command substitution $(…) or `…` */
#define LH_W_PROCSUBST 0x08u /* holds a process substitution <(…) or >(…) */
#define LH_W_GLOB      0x10u /* holds an unquoted *, ? or [ */
#define LH_W_TILDE     0x20u /* starts with an unquoted ~ (text keeps the ~) */
#define LH_W_VAR       0x40u /* holds a parameter expansion $x or ${…} */
#define LH_W_ARITH     0x80u /* holds $((…)) */
#define LH_W_BRACE     0x100u /* may hold an unquoted {a,b} or {1..3} brace expansion */

typedef struct lh_word {
    const char *s;   /* NUL-terminated text after quote removal */
    uint32_t len;
    uint32_t flags;  /* LH_W_* */
} lh_word;

/* ---- redirections --------------------------------------------------------------- */

typedef enum {
    LH_R_IN,         /* <     */
    LH_R_OUT,        /* >     */
    LH_R_APPEND,     /* >>    */
    LH_R_CLOBBER,    /* >|    */
    LH_R_RDWR,       /* <>    */
    LH_R_DUPIN,      /* <&    */
    LH_R_DUPOUT,     /* >&    (with a non-numeric target, like &>) */
    LH_R_OUTERR,     /* &>    */
    LH_R_APPENDERR,  /* &>>   */
    LH_R_HEREDOC,    /* << and <<- : target is the body */
    LH_R_HERESTR,    /* <<<   : target is the word */
} lh_redir_op;

typedef struct lh_redir {
    int fd;              /* the fd redirected; -1 when implied (0 for <, 1 for >) */
    lh_redir_op op;
    lh_word target;      /* file word, fd word ("2", "-"), here-doc body or here-string */
    int heredoc_quoted;  /* here-doc delimiter was quoted: the body is literal */
} lh_redir;

/* True when the redirection writes to a file named by target (>, >>, >|, <>, &>, &>>,
 * and >& with a non-numeric target). */
int lh_redir_writes_file(const lh_redir *r);

/* ---- commands ------------------------------------------------------------------- */

typedef enum {
    LH_ORIGIN_TOP = 0,       /* the script itself */
    LH_ORIGIN_CMDSUBST,      /* inside $(…) or `…` */
    LH_ORIGIN_PROCSUBST_IN,  /* inside <(…): its output is read by the parent */
    LH_ORIGIN_PROCSUBST_OUT, /* inside >(…): it reads what the parent writes */
    LH_ORIGIN_HEREDOC,       /* a here-doc or here-string fed to a shell (bash <<EOF) */
    LH_ORIGIN_SHELL_C,       /* sh -c / bash -c … argument (added by unwrap) */
    LH_ORIGIN_EVAL,          /* eval's arguments (added by unwrap) */
    LH_ORIGIN_XARGS,         /* the command xargs / parallel runs (added by unwrap) */
    LH_ORIGIN_FIND_EXEC,     /* find -exec/-execdir/-ok (added by unwrap) */
    LH_ORIGIN_INLINE,        /* a shell-out found in python -c / perl -e … (added by unwrap) */
    LH_ORIGIN_WRAPPED,       /* what remains after a wrapper such as sudo (added by unwrap) */
} lh_origin;

#define LH_C_BACKGROUND  0x0001u /* ends with & */
#define LH_C_NEGATED     0x0002u /* ! pipeline */
#define LH_C_PIPE_IN     0x0004u /* stdin comes from the previous pipeline stage */
#define LH_C_PIPE_OUT    0x0008u /* stdout goes to the next pipeline stage */
#define LH_C_PIPE_ERR    0x0010u /* |& : stderr too */
#define LH_C_SUDO        0x0020u /* ran under sudo/doas (set by unwrap, inherited) */
#define LH_C_DYNAMIC_CMD 0x0040u /* the command word is known only at run time */
#define LH_C_IN_FUNC     0x0080u /* part of a function body */
#define LH_C_UNWRAPPED   0x0100u /* a wrapper was stripped from this command */
#define LH_C_REPLACED    0x0200u /* runs a nested script (sh -c, eval, xargs, find -exec):
                                    its children say what runs; analyzers still see its
                                    own options (find -delete) */
#define LH_C_STDIN_ARGS  0x0400u /* more arguments arrive at run time (xargs, parallel) */
#define LH_C_FOR_LIST    0x0800u /* `for NAME in WORDS`: no program; assigns holds one
                                    NAME=WORD per item of the list, in order */
#define LH_C_FILE_CODE   0x1000u /* the code of a file a tool runs by itself (conftest.py,
                                    jest.config.js), set by an_content.c: its computed
                                    arguments are a program's variables, not escalated */

typedef struct lh_cmd {
    lh_word *argv;       /* argv after quote removal (and after unwrapping) */
    int argc;
    const char *prog;    /* basename of argv[0] with any leading \ removed; "" if none */
    lh_word *assigns;    /* NAME=value words before the command word */
    int nassigns;
    lh_redir *redirs;
    int nredirs;
    uint32_t flags;      /* LH_C_* */
    int pipeline;        /* id of the pipeline, unique within the script */
    int pipe_pos;        /* 0-based stage in the pipeline */
    int pipe_len;        /* stages in the pipeline */
    int parent;          /* index of the enclosing command, -1 at top level */
    int parent_arg;      /* argv index in the parent holding this (-1: a redir or
                            assignment, or not tied to one word) */
    lh_origin origin;
    int depth;           /* nesting depth: 0 at top level */
    int func;            /* index into lh_script.funcs of the enclosing function, or -1 */
    const char *wrappers;/* wrappers stripped, space separated ("sudo timeout"), or NULL */
    const char *cwd;     /* the directory it runs in after an earlier `cd` in the same
                            script (set by unwrap); NULL: the request's cwd; "?": unknown */
    int body_end;        /* LH_C_FOR_LIST: the loop body is cmds[k+1 .. body_end) as
                            parsed (children unwrap adds later hang below them) */
} lh_cmd;

typedef struct lh_func {
    const char *name;
    int first_cmd;       /* commands of its body: cmds[first_cmd .. first_cmd+ncmds) */
    int ncmds;
    int recursive_bg;    /* the body calls the function itself in a pipeline or with & */
} lh_func;

/* ---- limits and errors ---------------------------------------------------------- */

typedef struct lh_shell_limits {
    size_t max_input;    /* bytes of script text (default 256 KiB) */
    int max_depth;       /* nesting of (…), {…}, $(…), compound commands (default 64) */
    int max_words;       /* words in the whole script, nested included (default 20000) */
    int max_cmds;        /* simple commands in the whole script (default 4096) */
    int max_script_depth;/* recursion into nested scripts such as sh -c (default 8) */
} lh_shell_limits;

typedef enum {
    LH_SH_OK = 0,
    LH_SH_SYNTAX,        /* unterminated quote, missing done/fi, unexpected token… */
    LH_SH_TOO_LONG,
    LH_SH_TOO_DEEP,
    LH_SH_TOO_MANY,      /* words or commands */
    LH_SH_BAD_BYTES,     /* NUL bytes */
    LH_SH_NOMEM,
} lh_shell_error;

typedef struct lh_script {
    lh_cmd *cmds;
    int ncmds;
    int capcmds;
    lh_func *funcs;
    int nfuncs;
    int npipelines;
    int nwords;
    lh_shell_error error;
    const char *errmsg;  /* what went wrong, for a person; NULL when ok */
    size_t errpos;       /* byte offset of the error in the top-level text */
} lh_script;

/* Fill *l with the defaults above. */
void lh_shell_default_limits(lh_shell_limits *l);

/* Parse text (len bytes, need not be NUL-terminated) and append its simple commands to
 * *out. Start with a zeroed lh_script. parent/parent_arg/origin/depth describe where
 * the text came from (LH_ORIGIN_TOP, -1, -1, 0 for a top-level command). Returns
 * LH_SH_OK or the error also stored in out->error (the first error wins). */
lh_shell_error lh_shell_parse(lh_arena *a, const char *text, size_t len,
                              const lh_shell_limits *lim, lh_script *out,
                              int parent, int parent_arg, lh_origin origin, int depth);

/* Assert what shell.h says of every command of s (util/check.h, LH_DEBUG_ASSERT: only in
 * the sanitizer build, since it walks): its kind (origin) in range, and the fields that
 * kind uses; a script with an error is not checked (it may end half-built). Called after
 * the top-level parse and again after unwrapping. */
#ifdef LH_DEBUG
void lh_script_assert(const lh_script *s);
#else
static inline void lh_script_assert(const lh_script *s) { (void)s; }
#endif

/* Append a command to the script and return its index, or -1 past max_cmds / on OOM. */
int lh_script_add_cmd(lh_arena *a, lh_script *s, const lh_shell_limits *lim);

const char *lh_shell_error_name(lh_shell_error e);
const char *lh_origin_name(lh_origin o);

#endif
