/* shell_dump.c — print what the engine's shell parser extracts, for the differential
 * test against an independent parser (tests/diff/compare.js, docs/architecture.md,
 * "Differential test of the shell parser").
 *
 * Input: one JSON string per line (the script text; JSON so scripts can hold newlines).
 * Output: one JSON line per input line, in order:
 *   {"err":true}                        the parser rejected the script
 *   {"cmds":[["echo","a"],["pwd"]]}     the argv of every simple command that has one,
 *                                       nested ones included, sorted
 * A word holding an expansion the parser cannot resolve (parameter, command, arithmetic
 * or process substitution) is printed as the marker "\u0001" (both dumps share it).
 * Words are bytes: each byte >= 0x80 is printed as the Latin-1 character \u00XX.
 * Commands are sorted because the two parsers list nested commands in different orders
 * (the engine in source order, the other parser a command's redirections last).
 *
 * The scripts are data: nothing here runs them. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/shell.h"
#include "util/arena.h"

static int cmpStr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A string as JSON, one \u00XX per byte >= 0x80 (bytes read as Latin-1, which the
 * other side does too, so invalid UTF-8 such as $'\xff' compares byte for byte). */
static void putJsonBytes(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* One command's argv as a compact JSON array, in a malloc'd string. */
static char *argvJson(const lh_cmd *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    fputc('[', f);
    for (int j = 0; j < c->argc; j++) {
        const lh_word *w = &c->argv[j];
        if (j) fputc(',', f);
        if (w->flags & (LH_W_DYNAMIC | LH_W_SUBST | LH_W_PROCSUBST)) fputs("\"\\u0001\"", f);
        else putJsonBytes(f, w->s, w->len);
    }
    fputc(']', f);
    fclose(f);
    return buf;
}

static void dumpOne(lh_arena *a, const char *text, size_t len) {
    lh_script sc;
    memset(&sc, 0, sizeof(sc));
    lh_shell_parse(a, text, len, NULL, &sc, -1, -1, LH_ORIGIN_TOP, 0);
    if (sc.error != LH_SH_OK) { fputs("{\"err\":true}\n", stdout); return; }
    char **rows = calloc((size_t)sc.ncmds + 1, sizeof(char *));
    int n = 0;
    for (int k = 0; k < sc.ncmds; k++) {
        const lh_cmd *c = &sc.cmds[k];
        /* [[ … ]] is a command here and a test clause there: not compared. */
        if (c->argc == 0 || (c->argv[0].flags == 0 && !strcmp(c->argv[0].s, "[[")))
            continue;
        rows[n++] = argvJson(c);
    }
    qsort(rows, (size_t)n, sizeof(char *), cmpStr);
    fputs("{\"cmds\":[", stdout);
    for (int k = 0; k < n; k++) {
        if (k) fputc(',', stdout);
        fputs(rows[k], stdout);
        free(rows[k]);
    }
    fputs("]}\n", stdout);
    free(rows);
}

int main(void) {
    lh_arena *a = lh_arena_new(1 << 16);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        json_error_t err;
        json_t *j = json_loadb(line, (size_t)got, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (!j || !json_is_string(j)) {
            fprintf(stderr, "shell_dump: line %ld is not a JSON string\n", lineno);
            return 2;
        }
        dumpOne(a, json_string_value(j), json_string_length(j));
        json_decref(j);
        lh_arena_reset(a);
    }
    free(line);
    lh_arena_free(a);
    return 0;
}
