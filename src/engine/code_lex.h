/* code_lex.h — inline interpreter code read by a small tokenizer per language.
 *
 * unwrap.c hands the code of `python -c`, `node -e`, `perl -e`, `ruby -e`, `php -r` and
 * `lua -e` here in two steps:
 * - lh_code_canon() rewrites the code into a canonical form in which the call scanner of
 *   unwrap.c finds the calls it knows: import and require aliases are resolved
 *   (`import shutil as s; s.rmtree` -> `shutil.rmtree`), attribute access by string is
 *   made plain (`getattr(os, 'system')`, `__import__('os')`, `x['exec']`, Ruby
 *   `send(:system, …)`, PHP `call_user_func('system', …)`, `$f = 'system'; $f(…)`),
 *   calls without parentheses get them (Perl and Ruby `system "…"`, list forms become
 *   `system(["rm", "-rf", "/"])`), and Lua's `os.execute`/`io.popen` are named like
 *   their Python peers. Strings are copied untouched.
 * - lh_code_effects() lists, in the canonical code, the writes that truncate or replace
 *   a file named by a literal (`open(p, 'w')`, `writeFileSync`, `File.write`, Perl
 *   `open(F, '>', p)`, `file_put_contents`, Lua `io.open(p, 'w')`) and the dynamic
 *   evaluations (`eval`, `exec`, `compile`, `Function`, Lua `load`): over a literal the
 *   literal is given back to be read as code of the same language, otherwise the
 *   expression is named so the caller escalates.
 * Both are bounded by the code's length and allocate only in the arena. */
#ifndef LH_CODE_LEX_H
#define LH_CODE_LEX_H

#include <stddef.h>

#include "util/arena.h"

typedef enum {
    LH_LANG_NONE = 0,
    LH_LANG_PYTHON,
    LH_LANG_JS,
    LH_LANG_PERL,
    LH_LANG_RUBY,
    LH_LANG_PHP,
    LH_LANG_LUA,
} lh_lang;

/* The language an interpreter program reads (python3, node, perl, ruby, php, lua…). */
lh_lang lh_code_lang(const char *prog);

/* The canonical form of code (see above). Returns code itself when the language is
 * unknown; NULL when out of memory. *outlen is set to the result's length. */
const char *lh_code_canon(lh_arena *a, lh_lang lang, const char *code, size_t len,
                          size_t *outlen);

typedef enum {
    LH_CODE_WRITE,      /* text: a shell command `: > 'path'` that writes the same path */
    LH_CODE_EVAL,       /* text: the literal code evaluated */
    LH_CODE_EVAL_OPAQUE, /* text: the expression evaluated, which cannot be read */
    LH_CODE_EVAL_REMOTE  /* text: as EVAL_OPAQUE, in code that downloads (fetch, urlopen…) */
} lh_code_effect_kind;

typedef struct lh_code_effect {
    lh_code_effect_kind kind;
    const char *text;
} lh_code_effect;

/* Fill out[0..max) with the effects found in canonical code; returns how many
 * (-1 when out of memory). */
int lh_code_effects(lh_arena *a, lh_lang lang, const char *code, size_t len,
                    lh_code_effect *out, int max);

#endif
