/* an_options.c — reading a command's options and words (analyze.h, an_common.h): options
 * present, option values, the first operand, case-blind comparisons. Split from analyze.c. */
#include <string.h>

#include "engine/an_common.h"

int lh_has_opt(const lh_cmd *cmd, char ch, const char *long_name) {
    size_t ll = long_name ? strlen(long_name) : 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || a[1] == 0) continue;
        if (a[1] == '-') {
            if (a[2] == 0) break;
            if (ll && !strncmp(a, long_name, ll) && (a[ll] == 0 || a[ll] == '=')) return 1;
            continue;
        }
        if (ch && strchr(a + 1, ch)) return 1;
    }
    return 0;
}

int lh_first_operand(const lh_cmd *cmd, int from) {
    for (int i = from + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return i + 1 < cmd->argc ? i + 1 : -1;
        if (a[0] != '-' || a[1] == 0) return i;
    }
    return -1;
}

static int inLongList(const char *a, const char *const *list) {
    if (!list) return 0;
    for (; *list; list++)
        if (!strcmp(a, *list)) return 1;
    return 0;
}

int an_operands(const lh_cmd *cmd, int from, const char *short_arg,
                const char *const *long_arg, int *idx, int max) {
    int n = 0, dashdash = 0;
    for (int i = from; i < cmd->argc && n < max; i++) {
        const char *a = cmd->argv[i].s;
        if (dashdash || a[0] != '-' || a[1] == 0) { idx[n++] = i; continue; }
        if (!strcmp(a, "--")) { dashdash = 1; continue; }
        if (a[1] == '-') {
            if (!strchr(a, '=') && inLongList(a, long_arg)) i++;
            continue;
        }
        for (const char *o = a + 1; *o; o++)
            if (short_arg && strchr(short_arg, *o)) {
                if (o[1] == 0) i++;
                break;
            }
    }
    return n;
}

const char *an_opt_value(const lh_cmd *cmd, char ch, const char *long_name) {
    size_t ll = long_name ? strlen(long_name) : 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || a[1] == 0) continue;
        if (a[1] == '-') {
            if (a[2] == 0) return NULL;
            if (ll && !strncmp(a, long_name, ll)) {
                if (a[ll] == '=') return a + ll + 1;
                if (a[ll] == 0) return i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL;
            }
            continue;
        }
        if (!ch) continue;
        const char *o = strchr(a + 1, ch);
        if (!o) continue;
        if (o[1]) return o + 1;
        return i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL;
    }
    return NULL;
}

int an_has_word(const lh_cmd *cmd, int from, const char *w) {
    for (int i = from; i < cmd->argc; i++)
        if (!strcmp(cmd->argv[i].s, w)) return 1;
    return 0;
}

static char lowerc(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

int an_ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (lowerc(*a) != lowerc(*b)) return 0;
    return *a == *b;
}

int an_istarts(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++)
        if (!*s || lowerc(*s) != lowerc(*prefix)) return 0;
    return 1;
}

const char *an_istr(const char *hay, const char *needle) {
    if (!*needle) return hay;
    for (; *hay; hay++)
        if (lowerc(*hay) == lowerc(*needle) && an_istarts(hay, needle)) return hay;
    return NULL;
}
