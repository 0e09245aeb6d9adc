/* curlcfg.c — the options a curl config file gives (curl -K FILE, --config FILE).
 *
 * A config file is a list of long options, one a line: `upload-file = "~/.ssh/id_rsa"`,
 * `data "@.env"`, `--url: http://…`, `-d @f`. When the call gives the file's text — a
 * here-doc or here-string on `curl -K -`, a `<(echo …)`, a file written earlier in the
 * call (writerun.c) — it becomes a child command `curl OPTIONS… OTHER-ARGS…`, so the
 * network analyzer judges the upload as if it were on the command line. */
#include <string.h>

#include "engine/an_common.h"
#include "engine/unwrap.h"

#define CC_MAX_TEXT (16u << 10)

/* Append the option of one config line (line[0..n)) to out (room checked by caller). */
static size_t optionOf(char *out, const char *line, size_t n) {
    size_t i = 0, o = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i >= n || line[i] == '#') return 0;
    size_t ks = i;
    while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '=' && line[i] != ':') i++;
    size_t kl = i - ks;
    if (!kl) return 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '=' || line[i] == ':')) i++;
    out[o++] = ' ';
    if (line[ks] != '-') {   /* `data` is --data, `d` is -d */
        out[o++] = '-';
        if (kl > 1) out[o++] = '-';
    }
    memcpy(out + o, line + ks, kl);
    o += kl;
    if (i >= n) return o;
    /* the value: "quoted with \\ escapes" or the rest of the line */
    char val[CC_MAX_TEXT];
    size_t v = 0;
    if (line[i] == '"') {
        for (i++; i < n && line[i] != '"' && v + 1 < sizeof(val); i++) {
            if (line[i] == '\\' && i + 1 < n) {
                i++;
                val[v++] = line[i] == 'n' ? '\n' : line[i] == 't' ? '\t' : line[i];
            } else {
                val[v++] = line[i];
            }
        }
    } else {
        size_t e = n;
        while (e > i && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r')) e--;
        v = e - i < sizeof(val) - 1 ? e - i : sizeof(val) - 1;
        memcpy(val, line + i, v);
    }
    val[v] = 0;
    out[o++] = ' ';
    o += lh_unwrap_quote_into(out + o, val);
    return o;
}

void lh_curl_config(lh_ctx *c, const lh_shell_limits *lim, int k, int from, int to, const char *cfg, size_t len) {
    if (!cfg || len > CC_MAX_TEXT) return;
    const lh_cmd *cmd = &c->script->cmds[k];
    size_t cap = 8 + len * 6;
    for (int i = 1; i < cmd->argc; i++) cap += cmd->argv[i].len * 4 + 3;
    char *text = lh_arena_alloc(c->arena, cap);
    if (!text) { c->oom = 1; return; }
    memcpy(text, "curl", 4);
    size_t o = 4;
    for (const char *l = cfg, *end = cfg + len; l < end;) {
        const char *e = memchr(l, '\n', (size_t)(end - l));
        if (!e) e = end;
        o += optionOf(text + o, l, (size_t)(e - l));
        l = e + 1;
    }
    for (int i = 1; i < cmd->argc; i++) {
        if (i >= from && i < to) continue;   /* -K FILE */
        text[o++] = ' ';
        o += lh_unwrap_quote_into(text + o, cmd->argv[i].s);
    }
    text[o] = 0;
    uint32_t keep = cmd->flags & LH_C_REPLACED;
    lh_unwrap_child(c, lim, k, text, o);
    if (!keep) c->script->cmds[k].flags &= ~LH_C_REPLACED;
}
