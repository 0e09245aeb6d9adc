/* content_tools.c — more files whose content a tool runs by itself (advcontent): the
 * command keys of CI and task-runner YAML, Justfile recipes, //go:generate, tox and
 * pylint and cargo and pyproject commands, Jenkinsfile sh steps, CMake COMMANDs,
 * direnv's source_url, .gitmodules update commands, build.rs commands; and tool configs
 * that name a program the tool runs (content.tool-program). Each reader adds shell units
 * (ending in LH_CONTENT_UNIT) to the caller's text; an_content.c judges them. */
#include "engine/content_int.h"

#include <ctype.h>

/* ---- YAML command keys (advcontent) ----------------------------------------------------
 * CI and task runners' files: the values of their command keys as shell units, in every
 * YAML form those take: `key: cmd` (the key also quoted, a trailing # comment dropped),
 * `key: |` / `key: >` blocks, lists of items (each item plain, quoted or a block), flow
 * lists `key: ["a", "b"]` and flow maps `- {name: x, key: cmd}`. */

/* Past a node's anchor (&name) and tag (!!str, !tag) at v. */
static const char *yamlProps(const char *v, const char *e) {
    while (v < e && (*v == '&' || *v == '!')) {
        while (v < e && *v != ' ') v++;
        while (v < e && *v == ' ') v++;
    }
    return v;
}

/* A scalar value v..e: quotes taken off, an unquoted trailing comment dropped. */
static void yamlScalar(text *sh, const char *v, const char *e) {
    while (e > v && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t')) e--;
    v = yamlProps(v, e);
    if (v < e && (*v == '"' || *v == '\'')) {
        const char *q = memchr(v + 1, *v, (size_t)(e - v - 1));
        if (q) { addWithoutExprs(sh, v + 1, q); adds(sh, LH_CONTENT_UNIT); return; }
    }
    for (const char *h = v; h + 1 < e; h++)
        if (h[0] == ' ' && h[1] == '#') { e = h; break; }
    addWithoutExprs(sh, v, e);
    adds(sh, LH_CONTENT_UNIT);
}

/* A quoted scalar at v ("…" or '…'), which may run over several lines (folded to
 * spaces; a double-quoted line ending in \ joins the next), with the escapes of a
 * double-quoted one decoded (\x72, \u0072, \n, \t, \\, \"): added as one unit.
 * Returns past the closing quote, or NULL when it is not closed (advcontent3). */
static const char *yamlQuoted(text *sh, const char *v, const char *end) {
    char q = *v;
    text d = {sh->c, NULL, 0, 0};
    adds(&d, "");
    const char *p = v + 1;
    end = end - p > 16384 ? p + 16384 : end;   /* a longer one is left to yamlScalar: linear work */
    for (; p < end && !sh->c->oom; p++) {
        char ch = *p;
        if (ch == q) {
            if (q == '\'' && p + 1 < end && p[1] == '\'') { add(&d, "'", 1); p++; continue; }
            addWithoutExprs(sh, d.s, d.s + d.n);
            adds(sh, LH_CONTENT_UNIT);
            return p + 1;
        }
        if (ch == '\n') {   /* a line break folds to a space; the next line's indentation goes */
            while (d.n && (d.s[d.n - 1] == ' ' || d.s[d.n - 1] == '\t' || d.s[d.n - 1] == '\r')) d.s[--d.n] = 0;
            while (p + 1 < end && (p[1] == ' ' || p[1] == '\t')) p++;
            add(&d, " ", 1);
            continue;
        }
        if (ch == '\\' && q == '"' && p + 1 < end) {
            char e = *++p, out = e;
            unsigned val = 0;
            int digits = e == 'x' ? 2 : e == 'u' ? 4 : 0, ok = 1;
            if (e == '\n') {   /* an escaped line break: joined without a space */
                while (p + 1 < end && (p[1] == ' ' || p[1] == '\t')) p++;
                continue;
            }
            for (int i = 1; i <= digits; i++) {
                char h = p + i < end ? p[i] : 0;
                val = val * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10 : (ok = 0));
            }
            if (digits && ok) { out = val > 0 && val < 0x80 ? (char)val : '?'; p += digits; }
            else if (e == 'n') out = '\n';
            else if (e == 't') out = '\t';
            add(&d, &out, 1);
            continue;
        }
        add(&d, &ch, 1);
    }
    return NULL;
}

/* Indentation in YAML: spaces, and tabs too (invalid YAML, which some tools still read;
 * advcontent3). */
static size_t yamlIndent(const char *p, const char *e) {
    size_t n = 0;
    while (p + n < e && (p[n] == ' ' || p[n] == '\t')) n++;
    return n;
}

/* The lines after the one ending at e that are indented more than ind (a block scalar
 * or a nested list), as one unit; folded (>) lines are joined with spaces. Returns the
 * first line past the block. */
static const char *yamlBlock(text *sh, const char *e, const char *end, size_t ind, int fold) {
    const char *q = e < end ? e + 1 : end;
    while (q < end) {
        const char *qe = lineEnd(q, end);
        size_t qi = yamlIndent(q, qe);
        if (q + qi < qe && qi <= ind) break;
        add(sh, q + qi, (size_t)(qe - q - qi));
        adds(sh, fold ? " " : "\n");
        q = qe < end ? qe + 1 : end;
    }
    adds(sh, "\n" LH_CONTENT_UNIT);
    return q;
}

/* Is the key at k (plain or quoted) one of keys? *v is set past its ':' and blanks. */
static int yamlKey(const char *k, const char *e, const char *const *keys, const char **v) {
    int quoted = k < e && (*k == '"' || *k == '\'');
    const char *ks = k + quoted;
    for (int i = 0; keys[i]; i++) {
        size_t n = strlen(keys[i]);
        if ((size_t)(e - ks) < n + 1 + (size_t)quoted || strncmp(ks, keys[i], n)) continue;
        const char *c = ks + n;
        if (quoted) { if (*c != *k) continue; c++; }
        if (*c != ':') continue;
        c++;
        if (c < e && *c != ' ' && *c != '\t' && *c != '\r') continue;
        while (c < e && (*c == ' ' || *c == '\t')) c++;
        *v = c;
        return 1;
    }
    return 0;
}

/* A flow list ["a", 'b', c] or the pairs of a flow map {k: v, …} at v..e. */
static void yamlFlow(text *sh, const char *v, const char *e, const char *const *keys, int map) {
    for (const char *p = v + 1; p < e;) {
        while (p < e && (*p == ' ' || *p == ',')) p++;
        const char *q = p;
        if (q < e && (*q == '"' || *q == '\'')) {
            const char *r = memchr(q + 1, *q, (size_t)(e - q - 1));
            q = r ? r + 1 : e;
        }
        while (q < e && *q != ',' && *q != ']' && *q != '}') q++;
        const char *val;
        if (!map) { if (q > p) yamlScalar(sh, p, q); }
        else if (yamlKey(p, q, keys, &val)) yamlScalar(sh, val, q);
        if (q >= e || *q == ']' || *q == '}') break;
        p = q + 1;
    }
}

/* The keys of a command given as a map (CircleCI's run: {command: …}). */
static const char *const yamlInner[] = {"command", "cmd", "run", "script", NULL};

/* A flow list of flow maps, steps: [{run: a}, {run: b}]: each map's pairs. */
static void yamlFlowMaps(text *sh, const char *v, const char *e, const char *const *keys) {
    for (const char *p = v; (p = memchr(p, '{', (size_t)(e - p))) != NULL;) {
        const char *q = memchr(p, '}', (size_t)(e - p));
        if (!q) break;
        yamlFlow(sh, p, q + 1, keys, 1);
        p = q + 1;
    }
}

void lh_ct_yaml_commands(const char *s, size_t len, const char *const *keys, text *sh) {
    const char *end = s + len;
    size_t listind = 0;
    int inlist = 0;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        size_t ind = yamlIndent(p, e);
        const char *k = p + ind, *v;
        int item = k + 1 < e && k[0] == '-' && (k[1] == ' ' || k + 1 == e);
        if (k < e && inlist && (ind < listind || (ind == listind && !item))) inlist = 0;
        if (item && inlist && ind >= listind) {
            const char *x = k + 1;
            while (x < e && *x == ' ') x++;
            if (x < e && (*x == '|' || *x == '>')) { p = yamlBlock(sh, e, end, ind, *x == '>'); continue; }
            const char *qe;
            if (x < e && (*x == '"' || *x == '\'') && (qe = yamlQuoted(sh, x, end)) != NULL) {
                p = lineEnd(qe, end);
                p = p < end ? p + 1 : end;
                continue;
            }
            if (x < e && *x != '{' && !yamlKey(x, e, keys, &v)) { yamlScalar(sh, x, e); p = e < end ? e + 1 : end; continue; }
        }
        if (item) { k += 1; while (k < e && *k == ' ') k++; }
        const char *fl = k < e ? memchr(k, '[', (size_t)(e - k)) : NULL;
        if (k < e && *k == '{') {
            yamlFlow(sh, k, e, keys, 1);
        } else if (fl && fl + 1 < e && (fl[1] == '{' || (fl[1] == ' ' && fl + 2 < e && fl[2] == '{'))) {
            yamlFlowMaps(sh, fl, e, keys);   /* steps: [{run: a}, {run: b}] */
        } else if (inlist && !item && ind > listind && !memchr(k, ':', (size_t)(e - k))) {
            yamlScalar(sh, k, e);   /* a plain scalar on the lines under its key */
        } else if (yamlKey(k, e, keys, &v)) {
            size_t keyind = (size_t)(k - p);
            v = yamlProps(v, e);
            if (v >= e || *v == '\r' || *v == '#') { inlist = 1; listind = ind; }
            else if (*v == '{') yamlFlow(sh, v, e, yamlInner, 1);
            else if (*v == '[' && memchr(v, '{', (size_t)(e - v))) yamlFlowMaps(sh, v, e, keys);
            else if (*v == '|' || *v == '>') { p = yamlBlock(sh, e, end, keyind, *v == '>'); continue; }
            else if (*v == '[') yamlFlow(sh, v, e, keys, 0);
            else if (*v == '"' || *v == '\'') {
                const char *qe = yamlQuoted(sh, v, end);
                if (!qe) yamlScalar(sh, v, e);
                else if (qe > e) { p = lineEnd(qe, end); p = p < end ? p + 1 : end; continue; }
            }
            else yamlScalar(sh, v, e);
        }
        p = e < end ? e + 1 : end;
    }
}

/* ---- more files tools run by themselves (advcontent) ----------------------------------- */

/* Add p..e with each open..close expression ({{ name }}, {posargs}) made a plain word,
 * except those in subst (pairs of expression, replacement: {homedir} is ~). */
static void addSubst(text *t, const char *p, const char *e, const char *open, const char *close,
                     const char *const *subst) {
    size_t on = strlen(open), cn = strlen(close);
    while (p < e) {
        const char *x = memmem(p, (size_t)(e - p), open, on);
        if (!x) { add(t, p, (size_t)(e - p)); break; }
        add(t, p, (size_t)(x - p));
        const char *y = memmem(x + on, (size_t)(e - x - on), close, cn);
        if (!y) { add(t, x, (size_t)(e - x)); break; }
        const char *rep = "EXPR";
        for (int i = 0; subst && subst[i]; i += 2)
            if ((size_t)(y + cn - x) == strlen(subst[i]) && !memcmp(x, subst[i], strlen(subst[i]))) rep = subst[i + 1];
        adds(t, rep);
        p = y + cn;
    }
}

/* Justfile: the indented lines of each recipe ({{ … }} made plain words). */
void lh_ct_justfile(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        if (k > p && k < e && *k != '#') {
            while (k < e && (*k == '@' || *k == '-')) k++;
            addSubst(sh, k, e, "{{", "}}", NULL);
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

/* Go files: each //go:generate line is a command `go generate` runs. */
void lh_ct_go_generate(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        if ((size_t)(e - p) > 14 && !strncmp(p, "//go:generate ", 14)) {
            add(sh, p + 14, (size_t)(e - p - 14));
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

/* A TOML or INI value at v..e: a quoted string, an array of strings (a command's words
 * when words, else each a command), or the bare text. */
static void iniValue(text *sh, const char *v, const char *e, int words, const char *py) {
    while (e > v && (e[-1] == ' ' || e[-1] == '\r')) e--;
    if (v < e && *v == '[') {
        int n = 0;
        for (const char *p = v + 1; p < e;) {
            while (p < e && (*p == ' ' || *p == ',')) p++;
            if (p >= e || (*p != '"' && *p != '\'')) break;
            const char *q = memchr(p + 1, *p, (size_t)(e - p - 1));
            if (!q) break;
            if (words) { if (n++) adds(sh, " "); addQuoted(sh, p + 1, (size_t)(q - p - 1)); }
            else { add(sh, p + 1, (size_t)(q - p - 1)); adds(sh, "\n" LH_CONTENT_UNIT); }
            p = q + 1;
        }
        if (words && n) adds(sh, "\n" LH_CONTENT_UNIT);
        return;
    }
    if (v < e && *v == '{') {   /* poe's inline table: { shell = "…" } or { cmd = "…" } */
        const char *c2 = memmem(v, (size_t)(e - v), "shell", 5);
        if (!c2) c2 = memmem(v, (size_t)(e - v), "cmd", 3);
        const char *q = c2 ? memchr(c2, '=', (size_t)(e - c2)) : NULL;
        if (!q) return;
        for (q++; q < e && *q == ' '; q++) {}
        const char *qe = q < e && (*q == '"' || *q == '\'') ? memchr(q + 1, *q, (size_t)(e - q - 1)) : NULL;
        if (qe) iniValue(sh, q, qe + 1, 0, py);
        return;
    }
    if (e - v >= 2 && (*v == '"' || *v == '\'') && e[-1] == *v) { v++; e--; }
    if (v >= e) return;
    if (py) { adds(sh, py); addQuoted(sh, v, (size_t)(e - v)); }
    else {
        static const char *const tox[] = {"{homedir}", "~", "{toxinidir}", ".", "{envtmpdir}", "/tmp/tox", NULL};
        addSubst(sh, v, e, "{", "}", tox);
    }
    adds(sh, "\n" LH_CONTENT_UNIT);
}


/* INI and TOML files whose values run: tox's commands (with their indented
 * continuation lines), pylint's init-hook (Python), cargo's runner, and the task tables
 * of poe, pdm, hatch and taskipy in pyproject.toml. */
void lh_ct_ini_commands(const char *s, size_t len, ini_kind kind, text *sh) {
    const char *end = s + len;
    char section[96] = "";
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        if (k < e && *k == '[') {
            const char *q = memchr(k, ']', (size_t)(e - k));
            size_t n = q ? (size_t)(q - k - 1) : 0;
            if (n >= sizeof(section)) n = sizeof(section) - 1;
            memcpy(section, k + 1, n);
            section[n] = 0;
            p = e < end ? e + 1 : end;
            continue;
        }
        const char *ke = k;
        while (ke < e && *ke != '=' && *ke != ' ' && *ke != ':') ke++;
        const char *v = ke;
        while (v < e && *v == ' ') v++;
        if (v >= e || *v != '=' || k == ke || *k == '#' || *k == ';') { p = e < end ? e + 1 : end; continue; }
        for (v++; v < e && *v == ' '; v++) {}
        size_t kn = (size_t)(ke - k);
        int cmd = 0;
        const char *py = NULL;
        if (kind == INI_TOX)
            cmd = !strncmp(section, "testenv", 7) && ((kn == 8 && !strncmp(k, "commands", 8)) ||
                                                       (kn == 12 && !strncmp(k, "commands_pre", 12)) ||
                                                       (kn == 13 && !strncmp(k, "commands_post", 13)));
        if ((kind == INI_TOX || kind == INI_PYLINT) && kn == 9 && !strncmp(k, "init-hook", 9)) { cmd = 1; py = "python3 -c "; }
        if (kind == INI_CARGO) cmd = kn == 6 && !strncmp(k, "runner", 6);
        if (kind == INI_PYPROJECT) {
            int tasks = !strcmp(section, "tool.poe.tasks") || !strcmp(section, "tool.pdm.scripts") ||
                        !strcmp(section, "tool.taskipy.tasks") ||
                        (!strncmp(section, "tool.hatch.envs.", 16) && endsWith(section, ".scripts"));
            int sub = (!strncmp(section, "tool.poe.tasks.", 15) || !strncmp(section, "tool.pdm.scripts.", 17)) &&
                      ((kn == 3 && !strncmp(k, "cmd", 3)) || (kn == 5 && !strncmp(k, "shell", 5)));
            cmd = tasks || sub;
        }
        if (cmd) {
            if (v < e) iniValue(sh, v, e, kind == INI_CARGO, py);
            /* indented continuation lines (tox) */
            const char *q = e < end ? e + 1 : end;
            while (kind == INI_TOX && q < end) {
                const char *qe = lineEnd(q, end);
                if (q >= qe || (*q != ' ' && *q != '\t')) break;
                const char *qk = q;
                while (qk < qe && (*qk == ' ' || *qk == '\t')) qk++;
                if (qk < qe) iniValue(sh, qk, qe, 0, py);
                q = qe < end ? qe + 1 : end;
                e = qe;
            }
        }
        p = e < end ? e + 1 : end;
    }
}

/* A quoted Groovy or CMake string at p: its text added (triple quotes too); the
 * position past it, or NULL. */
static const char *addGroovyString(text *sh, const char *p, const char *end) {
    char q = *p;
    int triple = end - p >= 3 && p[1] == q && p[2] == q;
    const char *b = p + (triple ? 3 : 1);
    for (const char *x = b; x < end; x++) {
        if (*x == '\\') { x++; continue; }
        if (*x == q && (!triple || (end - x >= 3 && x[1] == q && x[2] == q))) {
            add(sh, b, (size_t)(x - b));
            adds(sh, "\n" LH_CONTENT_UNIT);
            return x + (triple ? 3 : 1);
        }
    }
    return NULL;
}

/* Jenkinsfile: sh 'cmd', sh "cmd", sh """…""", sh(script: '…'). */
void lh_ct_jenkinsfile(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "sh", 2)) != NULL;) {
        const char *q = p + 2;
        int word = (p == s || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z')));
        p = q;
        if (!word) continue;
        while (q < end && (*q == ' ' || *q == '(')) q++;
        if ((size_t)(end - q) > 7 && !strncmp(q, "script:", 7)) for (q += 7; q < end && *q == ' '; q++) {}
        if (q < end && (*q == '\'' || *q == '"')) {
            const char *after = addGroovyString(sh, q, end);
            if (after) p = after;
        }
    }
}

/* CMakeLists.txt and *.cmake: each COMMAND … of execute_process (run by cmake while it
 * configures) and of the custom commands and targets (run by the build), up to the
 * next keyword or ')'. */
void lh_ct_cmake(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "COMMAND", 7)) != NULL;) {
        const char *q = p + 7;
        p = q;
        if (q >= end || (*q != ' ' && *q != '\n' && *q != '\t')) continue;
        int n = 0;
        for (;;) {
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
            if (q >= end || *q == ')') break;
            const char *w = q;
            if (*q == '"') {
                const char *c2 = memchr(q + 1, '"', (size_t)(end - q - 1));
                if (!c2) break;
                if (n++) adds(sh, " ");
                addQuoted(sh, q + 1, (size_t)(c2 - q - 1));
                q = c2 + 1;
                continue;
            }
            while (q < end && *q != ' ' && *q != '\t' && *q != '\n' && *q != ')') q++;
            int keyword = 1;
            for (const char *x = w; x < q; x++)
                if (!((*x >= 'A' && *x <= 'Z') || *x == '_')) keyword = 0;
            if (keyword && q - w > 2) break;   /* WORKING_DIRECTORY, OUTPUT_VARIABLE, COMMAND … */
            if (n++) adds(sh, " ");
            addQuoted(sh, w, (size_t)(q - w));
        }
        if (n) adds(sh, "\n" LH_CONTENT_UNIT);
    }
}

/* direnv's source_url URL HASH downloads a script and sources it: a download run. */
void lh_ct_envrc_source_url(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        if ((size_t)(e - k) > 11 && !strncmp(k, "source_url ", 11)) {
            const char *u = k + 11, *ue = u;
            while (ue < e && *ue != ' ') ue++;
            adds(sh, "curl -fsSL ");
            addQuoted(sh, u, (size_t)(ue - u));
            adds(sh, " | sh\n" LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

/* .gitmodules: `update = !cmd` runs cmd at every `git submodule update`. */
void lh_ct_gitmodules(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        if ((size_t)(e - k) > 6 && !strncmp(k, "update", 6)) {
            const char *v = k + 6;
            while (v < e && (*v == ' ' || *v == '=')) v++;
            if (v < e && *v == '!') { add(sh, v + 1, (size_t)(e - v - 1)); adds(sh, "\n" LH_CONTENT_UNIT); }
        }
        p = e < end ? e + 1 : end;
    }
}

/* A Rust string literal at p ("…", raw r"…" and r#"…"#): its text added quoted; past
 * it, or NULL. */
static const char *rustString(text *sh, const char *p, const char *end) {
    if (p < end && *p == 'r') {   /* raw: no escapes, ended by the quote and as many #s */
        const char *q = p + 1;
        size_t hashes = 0;
        while (q < end && *q == '#') { q++; hashes++; }
        if (q >= end || *q != '"' || hashes > 8) return NULL;
        for (const char *x = q + 1; x < end; x++) {
            if (*x != '"' || (size_t)(end - x - 1) < hashes) continue;
            size_t h = 0;
            while (h < hashes && x[1 + h] == '#') h++;
            if (h == hashes) { addQuoted(sh, q + 1, (size_t)(x - q - 1)); return x + 1 + hashes; }
        }
        return NULL;
    }
    if (p >= end || *p != '"') return NULL;
    for (const char *x = p + 1; x < end; x++) {
        if (*x == '\\') { x++; continue; }
        if (*x == '"') { addQuoted(sh, p + 1, (size_t)(x - p - 1)); return x + 1; }
    }
    return NULL;
}

/* The .arg("…") and .args([…]) calls at q (literals only); returns past the last one
 * read, or NULL when an argument is not a literal. */
static const char *rustArgs(text *sh, const char *q, const char *end) {
    for (;;) {
        while (q < end && (*q == ')' || *q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')) q++;
        if ((size_t)(end - q) > 5 && !strncmp(q, ".arg(", 5)) {
            adds(sh, " ");
            const char *r = rustString(sh, q + 5, end);
            if (!r) return NULL;
            q = r;
        } else if ((size_t)(end - q) > 6 && !strncmp(q, ".args(", 6)) {
            const char *r = q + 6;
            while (r < end && (*r == '&' || *r == '[' || *r == ' ' || *r == 'v' || *r == 'e' || *r == 'c' || *r == '!')) r++;
            while (r < end && (*r == '"' || *r == 'r')) {
                adds(sh, " ");
                r = rustString(sh, r, end);
                if (!r) return NULL;
                while (r < end && (*r == ',' || *r == ' ' || *r == '\n')) r++;
            }
            if (r >= end || *r != ']') return NULL;
            q = r + 1;
        } else {
            return q;
        }
    }
}

/* One Command::new("prog") (or an alias's NAME::new) at p, its chained calls, and,
 * when it is bound (`let mut c = Command::new(…);`), the c.arg(…) statements after. */
static void rustCommand(text *sh, const char *s, const char *p, size_t mark, const char *end) {
    const char *q = rustString(sh, p + mark, end);
    if (!q) return;
    q = rustArgs(sh, q, end);
    if (q && q < end && *q == ';') {
        const char *b = p;   /* `let [mut] NAME = ` right before */
        while (b > s && b[-1] == ' ') b--;
        if (b > s && b[-1] == '=') {
            b--;
            while (b > s && b[-1] == ' ') b--;
            const char *ne = b;
            while (b > s && (isalnum((unsigned char)b[-1]) || b[-1] == '_')) b--;
            char name[40];
            size_t n = (size_t)(ne - b);
            if (n && n + 6 < sizeof(name)) {
                memcpy(name, b, n);
                memcpy(name + n, ".arg", 5);
                const char *lim = end - q > 16384 ? q + 16384 : end;   /* a window: linear in the file */
                for (const char *x = q; (x = memmem(x, (size_t)(lim - x), name, n + 4)) != NULL;) {
                    if (x > s && (isalnum((unsigned char)x[-1]) || x[-1] == '_')) { x += n; continue; }
                    const char *r = rustArgs(sh, x + n, lim);
                    if (!r || r == x + n) break;
                    x = r;
                }
            }
        }
    }
    adds(sh, "\n" LH_CONTENT_UNIT);
}

/* build.rs: Command::new("prog") with its literal .arg("…") and .args([…]) calls (also
 * through `use std::process::Command as C;`, and on a bound command's later
 * statements), and remove_dir_all("path") (read as rm -rf). Arguments that are not
 * literals end the command (a program's own variables). */
void lh_ct_rust(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "Command::new(", 13)) != NULL; p += 13)
        rustCommand(sh, s, p, 13, end);
    int aliases = 0;   /* at most 4, each a scan of the file */
    for (const char *a = s; aliases < 4 && (a = memmem(a, (size_t)(end - a), "Command as ", 11)) != NULL;) {
        a += 11;
        const char *ae = a;
        while (ae < end && (isalnum((unsigned char)*ae) || *ae == '_')) ae++;
        char mark[48];
        size_t n = (size_t)(ae - a);
        if (!n || n + 7 > sizeof(mark)) continue;
        aliases++;
        memcpy(mark, a, n);
        memcpy(mark + n, "::new(", 7);
        for (const char *p = ae; (p = memmem(p, (size_t)(end - p), mark, n + 6)) != NULL; p += n + 6)
            if (p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == ':')) rustCommand(sh, s, p, n + 6, end);
    }
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "remove_dir_all(", 15)) != NULL;) {
        p += 15;
        adds(sh, "rm -rf ");
        if (!rustString(sh, p, end)) adds(sh, "\"$LH_RUST_PATH\"");
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
}

/* Config keys that make a tool run a program the file names: npm's script-shell (every
 * npm run), node-options with a preloaded module, yarn's own path, cargo's rustc and its
 * wrapper (content.tool-program). A key is matched at a line's start, before = or :. */
void lh_ct_tool_program(lh_ctx *c, const char *path, const char *s, size_t len) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    static const char *const npm[] = {"script-shell", "shell", "git", "onload-script", "node-options", NULL};
    static const char *const yarn[] = {"yarnPath", "yarn-path", NULL};
    static const char *const cargo[] = {"rustc-wrapper", "rustc", "RUSTC_WRAPPER", "RUSTC", "rustc-workspace-wrapper", NULL};
    const char *const *keys = !strcmp(base, ".npmrc") ? npm :
                              !strcmp(base, ".yarnrc.yml") || !strcmp(base, ".yarnrc") ? yarn :
                              strstr(path, ".cargo/") && (!strcmp(base, "config.toml") || !strcmp(base, "config")) ? cargo : NULL;
    if (!keys) return;
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        for (int i = 0; keys[i]; i++) {
            size_t n = strlen(keys[i]);
            const char *q = k + n;
            if ((size_t)(e - k) <= n || strncmp(k, keys[i], n)) continue;
            while (q < e && *q == ' ') q++;
            if (q >= e || (*q != '=' && *q != ':' && *q != '"')) continue;
            /* node-options only with a module it loads first */
            if (!strcmp(keys[i], "node-options") && !has(q, e, "--require") && !has(q, e, "-r ") &&
                !has(q, e, "--import") && !has(q, e, "--loader") && !has(q, e, "--experimental-loader"))
                continue;
            lh_emit(c, -1, LH_RULE(TOOL_PROGRAM), keys[i]);
            return;
        }
        p = e < end ? e + 1 : end;
    }
}


/* A workflow step with `shell: python` (or python3): its `run:` is Python, read as
 * `python3 -c`. A step is a list item and the lines indented under it. */
void lh_ct_workflow_python(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        size_t ind = indentOf(p, e);
        const char *k = p + ind;
        if (!(k + 1 < e && k[0] == '-' && k[1] == ' ')) { p = e < end ? e + 1 : end; continue; }
        /* the step: this line and those indented more than its dash */
        const char *stepEnd = e < end ? e + 1 : end;
        while (stepEnd < end) {
            const char *qe = lineEnd(stepEnd, end);
            size_t qi = indentOf(stepEnd, qe);
            if (stepEnd + qi < qe && qi <= ind) break;
            stepEnd = qe < end ? qe + 1 : end;
        }
        int python = 0;
        const char *run = NULL, *runLine = NULL;
        size_t runCol = 0;
        for (const char *q = p; q < stepEnd;) {
            const char *qe = lineEnd(q, stepEnd), *a = q + indentOf(q, qe);
            if (q == p) a = k + 2 + indentOf(k + 2, qe);
            if ((size_t)(qe - a) >= 13 && !strncmp(a, "shell: python", 13)) python = 1;
            if (!run && (size_t)(qe - a) >= 4 && !strncmp(a, "run:", 4)) { run = a + 4; runLine = qe; runCol = (size_t)(a - q); }
            q = qe < stepEnd ? qe + 1 : stepEnd;
        }
        if (python && run) {
            text py = {sh->c, NULL, 0, 0};
            adds(&py, "");
            while (run < runLine && *run == ' ') run++;
            if (run < runLine && (*run == '|' || *run == '>')) {
                for (const char *q = runLine < stepEnd ? runLine + 1 : stepEnd; q < stepEnd;) {
                    const char *qe = lineEnd(q, stepEnd);
                    size_t qi = indentOf(q, qe);
                    if (q + qi < qe && qi <= runCol) break;   /* the block: deeper than the key */
                    add(&py, q + qi, (size_t)(qe - q - qi));
                    adds(&py, "\n");
                    q = qe < stepEnd ? qe + 1 : stepEnd;
                }
            } else {
                add(&py, run, (size_t)(runLine - run));
            }
            if (py.n) { adds(sh, "python3 -c "); addQuoted(sh, py.s, py.n); adds(sh, "\n" LH_CONTENT_UNIT); }
        }
        p = e < end ? e + 1 : end;
    }
}
