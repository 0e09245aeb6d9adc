/* fuzz_shell.c — libFuzzer target: arbitrary bytes through the shell parser alone
 * (lh_shell_parse, src/engine/shell.c), with the default limits and with tight ones.
 * Checks what the parser promises: an error code it names, an error message exactly when
 * it failed, commands within max_cmds, argv words with their lengths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/shell.h"

static lh_arena *A;

static void parseWith(const uint8_t *data, size_t size, const lh_shell_limits *lim) {
    lh_arena_reset(A);
    lh_script s;
    memset(&s, 0, sizeof(s));
    lh_shell_error e = lh_shell_parse(A, (const char *)data, size, lim, &s, -1, -1, LH_ORIGIN_TOP, 0);
    if (e != s.error) abort();
    if (!lh_shell_error_name(e)) abort();
    if ((e == LH_SH_OK) != (s.errmsg == NULL)) abort();
    if (e != LH_SH_OK && e != LH_SH_NOMEM && s.errpos > size) abort();
    if (s.ncmds < 0 || s.ncmds > lim->max_cmds) abort();
    for (int i = 0; i < s.ncmds; i++) {
        const lh_cmd *c = &s.cmds[i];
        if (c->argc < 0 || !c->prog) abort();
        if (c->parent >= i) abort();   /* a command's parent comes before it */
        if (!lh_origin_name(c->origin)) abort();
        for (int j = 0; j < c->argc; j++)
            if (!c->argv[j].s || strlen(c->argv[j].s) != c->argv[j].len) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!A && !(A = lh_arena_new(1 << 16))) abort();
    lh_shell_limits lim;
    lh_shell_default_limits(&lim);
    parseWith(data, size, &lim);
    /* Tight limits reach every "too deep / too many" exit with short inputs. */
    lim.max_depth = 4;
    lim.max_words = 24;
    lim.max_cmds = 8;
    lim.max_script_depth = 2;
    lim.max_input = 512;
    parseWith(data, size, &lim);
    return 0;
}
