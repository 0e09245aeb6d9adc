/* content_files3.c — more files whose content a tool runs by itself, added by the
 * content-side attack round 3 (advcontent3): Gradle and Kotlin build scripts, Maven and
 * Ant XML, Meson, R start-up files, vim and gdb start-up files, Procfiles, editor launch
 * configurations and terminal profiles, composer and devbox hooks, TOML run keys, Nix
 * shell hooks, Bazel genrules, sbt and mix build files, `configure`, code files of more
 * tools (SCons, waf, conan, irb, pry, fastlane, Makefile.PL …), a docker:// action's args
 * and pytest's addopts. Each reader adds shell units (ending in LH_CONTENT_UNIT) to the
 * caller's text; an_content.c judges them. */
#include "engine/content_int.h"

#include <ctype.h>
#include <stdio.h>

static int idChar(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

/* Every search that starts at a match looks at most this far ahead (or back), so a file
 * of a million matches costs linear time, not quadratic. */
#define SCAN_WINDOW 16384
static const char *win(const char *p, const char *end) { return end - p > SCAN_WINDOW ? p + SCAN_WINDOW : end; }

/* A home-directory expression of a build language at p: its length, or 0. Quotes are
 * matched either way ('HOME' or "HOME"). */
static size_t homeExpr(const char *p, const char *end) {
    static const char *const homes[] = {"System.getProperty('user.home')", "System.getenv('HOME')",
                                        "${user.home}", "${env.HOME}", "Sys.getenv('HOME')", "path.expand('~')",
                                        "std::env::var('HOME').unwrap()", "env::var('HOME').unwrap()",
                                        "Deno.env.get('HOME')", "os.homedir()", "System.user_home()",
                                        "System.get_env('HOME')", "os.getenv('HOME')", NULL};
    for (int i = 0; homes[i]; i++) {
        size_t n = strlen(homes[i]), k = 0;
        if ((size_t)(end - p) < n) continue;
        for (; k < n; k++) {
            char a = homes[i][k], b = p[k];
            if (a == '\'' ? (b != '\'' && b != '"') : a != b) break;
        }
        if (k == n) return n;
    }
    return 0;
}

/* A string literal at p ('…', "…", r"…", """…""", Kotlin/Groovy/R/Elixir): sets *s..*e
 * to its text and returns the position past it, or NULL when p is no literal. */
static const char *strAt(const char *p, const char *end, const char **s, const char **e) {
    if (p < end && *p == 'r' && p + 1 < end && p[1] == '"') p++;
    if (p >= end || (*p != '"' && *p != '\'')) return NULL;
    char q = *p;
    int triple = end - p >= 3 && p[1] == q && p[2] == q;
    const char *b = p + (triple ? 3 : 1);
    end = win(b, end);
    for (const char *x = b; x < end; x++) {
        if (*x == '\\') { x++; continue; }
        if (*x == q && (!triple || (end - x >= 3 && x[1] == q && x[2] == q))) {
            *s = b;
            *e = x;
            return x + (triple ? 3 : 1);
        }
    }
    return NULL;
}

static const char *blanks(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* A build file's own NAME = 'literal' (also def/val/var, a home expression, and
 * meson's find_program('prog')): a name in an argument list is its value. */
#define MAX_VARS 16
typedef struct vars {
    int n;
    struct { const char *name, *val; size_t nn, vn; } v[MAX_VARS];
} vars;

static void collectVars(const char *s, size_t len, vars *vs) {
    const char *end = s + len;
    vs->n = 0;
    for (const char *p = s; p < end && vs->n < MAX_VARS;) {
        const char *e = lineEnd(p, end), *k = blanks(p, e);
        static const char *const kw[] = {"def ", "val ", "var ", "const ", "let ", NULL};
        for (int i = 0; kw[i]; i++)
            if ((size_t)(e - k) > strlen(kw[i]) && !strncmp(k, kw[i], strlen(kw[i]))) k = blanks(k + strlen(kw[i]), e);
        const char *ne = k;
        while (ne < e && idChar(*ne)) ne++;
        const char *v = ne;
        while (v < e && *v == ' ') v++;
        if (ne > k && v + 1 < e && *v == '=' && v[1] != '=') {
            v = blanks(v + 1, e);
            if ((size_t)(e - v) > 13 && !strncmp(v, "find_program(", 13)) v += 13;
            const char *a, *b;
            if (strAt(v, e, &a, &b)) {
                vs->v[vs->n].name = k; vs->v[vs->n].nn = (size_t)(ne - k);
                vs->v[vs->n].val = a; vs->v[vs->n].vn = (size_t)(b - a);
                vs->n++;
            } else if (homeExpr(v, e) != 0) {
                vs->v[vs->n].name = k; vs->v[vs->n].nn = (size_t)(ne - k);
                vs->v[vs->n].val = "~"; vs->v[vs->n].vn = 1;
                vs->n++;
            }
        }
        p = e < end ? e + 1 : end;
    }
}

/* The words of a call's argument list at p: string literals (each a word) and home
 * expressions (~), past openers `(` `[` `c(` `listOf(`, separators and named-argument
 * labels (`args =`, `args:`); it stops at anything else. One literal alone is a command
 * line (system("cmd"), Runtime.exec("cmd")); several are a command's words. Adds the
 * unit when it found a word; returns how many. */
/* A literal's text with Gradle's project directories made plain (`$buildDir/x` is
 * build/x, `${projectDir}` is .); other interpolations stay (run-time values). */
static void addLiteral(text *t, const char *p, const char *e) {
    static const char *const dirs[][2] = {{"${project.buildDir}", "build"}, {"$project.buildDir", "build"},
                                          {"${buildDir}", "build"}, {"$buildDir", "build"},
                                          {"${rootProject.projectDir}", "."}, {"${projectDir}", "."},
                                          {"$projectDir", "."}, {"${rootDir}", "."}, {"$rootDir", "."}};
    while (p < e) {
        const char *d = memchr(p, '$', (size_t)(e - p));
        if (!d) { add(t, p, (size_t)(e - p)); return; }
        add(t, p, (size_t)(d - p));
        size_t i = 0, n = 0;
        for (; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
            n = strlen(dirs[i][0]);
            if ((size_t)(e - d) >= n && !memcmp(d, dirs[i][0], n) && (d + n == e || !idChar(d[n]))) break;
        }
        if (i < sizeof(dirs) / sizeof(dirs[0])) { adds(t, dirs[i][1]); p = d + n; }
        else { add(t, d, 1); p = d + 1; }
    }
}

static int wordListV(text *sh, const char *pre, const char *p, const char *end, const vars *vs);
static int wordList(text *sh, const char *pre, const char *p, const char *end) { return wordListV(sh, pre, p, end, NULL); }
static int wordListV(text *sh, const char *pre, const char *p, const char *end, const vars *vs) {
    text w = {sh->c, NULL, 0, 0};
    adds(&w, "");
    const char *one = NULL, *onee = NULL;
    int n = 0;
    for (int guard = 0; p < end && guard < 64; guard++) {
        p = blanks(p, end);
        if (p >= end) break;
        const char *s, *e, *q;
        size_t h;
        if (*p == '(' || *p == '[' || *p == ',' || *p == '&' || *p == '=' || *p == ']') { p++; continue; }
        if ((q = strAt(p, end, &s, &e)) != NULL) {
            text lit = {sh->c, NULL, 0, 0};
            addLiteral(&lit, s, e);
            if (n++) adds(&w, " ");
            addQuoted(&w, lit.s ? lit.s : "", lit.n);
            one = lit.s ? lit.s : "";
            onee = one + lit.n;
            p = q;
            continue;
        }
        if ((h = homeExpr(p, end)) != 0) {
            if (n++) adds(&w, " ");
            adds(&w, "~");
            one = NULL;
            p += h;
            continue;
        }
        if (idChar(*p)) {   /* c( listOf( arrayOf( an opener; NAME = / NAME: a label */
            const char *x = p;
            while (x < end && (idChar(*x) || *x == '.')) x++;
            const char *y = blanks(x, end);
            if (y < end && *y == '(' ) { p = y + 1; continue; }
            if (y < end && *y == ':' && (y + 1 >= end || y[1] != ':')) { p = y + 1; continue; }
            if (y < end && *y == '=' && (y + 1 >= end || y[1] != '=')) { p = y + 1; continue; }
            int found = 0;
            for (int i = 0; vs && i < vs->n && !found; i++)
                if (vs->v[i].nn == (size_t)(x - p) && !memcmp(vs->v[i].name, p, vs->v[i].nn)) {
                    if (n++) adds(&w, " ");
                    if (vs->v[i].vn == 1 && vs->v[i].val[0] == '~') adds(&w, "~");
                    else addQuoted(&w, vs->v[i].val, vs->v[i].vn);
                    one = NULL;
                    found = 1;
                }
            if (found) { p = x; continue; }
        }
        break;
    }
    if (!n) return 0;
    if (pre) adds(sh, pre);
    if (n == 1 && one) add(sh, one, (size_t)(onee - one));
    else add(sh, w.s, w.n);
    adds(sh, "\n" LH_CONTENT_UNIT);
    return n;
}

/* Each marker (a call or key that runs a command) with its argument list, at a word
 * boundary (not inside a name or right after a quote). pre is put before the words. */
static void markersV(text *sh, const char *s, size_t len, const char *const *marks, const char *pre, const vars *vs);
static void markers(text *sh, const char *s, size_t len, const char *const *marks, const char *pre) {
    markersV(sh, s, len, marks, pre, NULL);
}
static void markersV(text *sh, const char *s, size_t len, const char *const *marks, const char *pre, const vars *vs) {
    const char *end = s + len;
    for (int i = 0; marks[i]; i++) {
        size_t mn = strlen(marks[i]);
        for (const char *p = s; (p = memmem(p, (size_t)(end - p), marks[i], mn)) != NULL; p += mn) {
            if (p > s && (idChar(p[-1]) || p[-1] == '\'' || p[-1] == '"' || (p[-1] == '.' && idChar(marks[i][0]))))
                continue;
            if (idChar(marks[i][mn - 1]) && p + mn < end && idChar(p[mn])) continue;
            wordListV(sh, pre, p + mn, end, vs);
        }
    }
}

/* A literal or a list right before `.execute()` (Groovy) or `.!` (sbt): "cmd".execute(),
 * ['sh', '-c', 'x'].execute(). */
static void backCalls(text *sh, const char *s, size_t len, const char *call) {
    const char *end = s + len;
    size_t cn = strlen(call);
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), call, cn)) != NULL; p += cn) {
        if (p == s) continue;
        const char *lo = p - s > SCAN_WINDOW ? p - SCAN_WINDOW : s;   /* the window back */
        char last = p[-1];
        const char *b = p - 1;
        if ((last == '\'' || last == '"') && p - s >= 6 && p[-2] == last && p[-3] == last) {   /* """…""" */
            const char *t = p - 3;
            while (t - lo >= 3 && !(t[-1] == last && t[-2] == last && t[-3] == last)) t--;
            if (t - lo >= 3) { add(sh, t, (size_t)(p - 3 - t)); adds(sh, "\n" LH_CONTENT_UNIT); }
        } else if (last == '\'' || last == '"') {
            while (b > lo && b[-1] != last) b--;
            if (b > lo) { add(sh, b, (size_t)(p - 1 - b)); adds(sh, "\n" LH_CONTENT_UNIT); }
        } else if (last == ']') {
            while (b > lo && *b != '[') b--;
            if (*b == '[') wordList(sh, NULL, b, p);
        }
    }
}

/* An Exec task's `executable 'prog'` (or `executable = "prog"`) with the `args …` after
 * it in the same block. */
static void gradleExecutable(text *sh, const char *s, size_t len, const vars *vs) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "executable", 10)) != NULL; p += 10) {
        if ((p > s && idChar(p[-1])) || (p + 10 < end && idChar(p[10]))) continue;
        const char *wend = win(p, end), *blk = memchr(p, '}', (size_t)(wend - p));
        if (!blk) blk = wend;
        text w = {sh->c, NULL, 0, 0};
        adds(&w, "");
        if (!wordListV(&w, NULL, p + 10, blk, vs)) continue;
        w.n -= strlen("\n" LH_CONTENT_UNIT);   /* the program, its unit reopened */
        w.s[w.n] = 0;
        add(sh, w.s, w.n);
        for (const char *a = p + 10; (a = memmem(a, (size_t)(blk - a), "args", 4)) != NULL; a += 4) {
            if ((a > s && idChar(a[-1])) || (a + 4 < blk && idChar(a[4]))) continue;
            text x = {sh->c, NULL, 0, 0};
            adds(&x, "");
            if (wordListV(&x, NULL, a + 4, blk, vs)) {
                x.n -= strlen("\n" LH_CONTENT_UNIT);
                adds(sh, " ");
                add(sh, x.s, x.n);
            }
            break;
        }
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
}

/* ---- XML: Maven's exec-maven-plugin and antrun, Ant's build.xml ------------------------- */

/* Add XML text p..e with entities decoded and ${user.home} as ~ (other ${NAME}: NAME). */
static void addXml(text *t, const char *p, const char *e) {
    static const char *const ent[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                                         {"&apos;", "'"}, {"${user.home}", "~"}, {"${env.HOME}", "~"}};
    while (p < e) {
        int hit = 0;
        for (size_t i = 0; i < sizeof(ent) / sizeof(ent[0]) && !hit; i++) {
            size_t n = strlen(ent[i][0]);
            if ((size_t)(e - p) >= n && !memcmp(p, ent[i][0], n)) { adds(t, ent[i][1]); p += n; hit = 1; }
        }
        const char *cb = !hit && e - p > 2 && p[0] == '$' && p[1] == '{' ? memchr(p, '}', (size_t)(e - p)) : NULL;
        if (cb) { add(t, p + 2, (size_t)(cb - p - 2)); p = cb + 1; hit = 1; }   /* ${project.x}: a word */
        if (!hit) { add(t, p, 1); p++; }
    }
}

/* The text of <tag>…</tag> at or after p (before lim), or NULL; *te is its end. */
static const char *xmlText(const char *p, const char *lim, const char *tag, const char **te) {
    char open[40], close[40];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = memmem(p, (size_t)(lim - p), open, strlen(open));
    if (!a) return NULL;
    a += strlen(open);
    const char *b = memmem(a, (size_t)(win(a, lim) - a), close, strlen(close));
    if (!b) return NULL;
    *te = b;
    return a;
}

/* The value of attribute name="…" inside the tag p..e, or NULL. */
static const char *xmlAttr(const char *p, const char *e, const char *name, const char **ve) {
    size_t n = strlen(name);
    for (const char *x = p; (x = memmem(x, (size_t)(e - x), name, n)) != NULL; x += n) {
        if (x > p && idChar(x[-1])) continue;
        const char *v = x + n;
        if (v + 1 < e && *v == '=' && (v[1] == '"' || v[1] == '\'')) {
            const char *q = memchr(v + 2, v[1], (size_t)(e - v - 2));
            if (q) { *ve = q; return v + 2; }
        }
    }
    return NULL;
}

static void xmlFile(text *sh, const char *s, size_t len) {
    const char *end = s + len, *te, *ae;
    /* exec-maven-plugin: <executable> with <argument>s or <commandlineArgs> */
    for (const char *p = s; (p = xmlText(p, end, "executable", &te)) != NULL; p = te) {
        const char *stop = memmem(te, (size_t)(win(te, end) - te), "</configuration>", 16), *xe = te;
        if (!stop) stop = win(te, end);
        p = blanks(p, te);
        while (xe > p && (xe[-1] == ' ' || xe[-1] == '\n' || xe[-1] == '\t' || xe[-1] == '\r')) xe--;
        addXml(sh, p, xe);
        const char *a;
        if ((a = xmlText(te, stop, "commandlineArgs", &ae)) != NULL) { adds(sh, " "); addXml(sh, a, ae); }
        for (const char *q = te; (a = xmlText(q, stop, "argument", &ae)) != NULL; q = ae) {
            text w = {sh->c, NULL, 0, 0};
            adds(&w, "");
            addXml(&w, a, ae);
            adds(sh, " ");
            addQuoted(sh, w.s, w.n);
        }
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
    /* Ant (also inside antrun): <exec executable="…"> <arg value="…"/> <arg line="…"/>; <delete dir|file="…"/> */
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "<exec", 5)) != NULL; p += 5) {
        const char *tagEnd = memchr(p, '>', (size_t)(win(p, end) - p));
        if (!tagEnd) continue;
        const char *v = xmlAttr(p, tagEnd, "executable", &ae);
        if (!v) continue;
        addXml(sh, v, ae);
        const char *stop = memmem(tagEnd, (size_t)(win(tagEnd, end) - tagEnd), "</exec>", 7);
        if (!stop || tagEnd[-1] == '/') stop = tagEnd;
        for (const char *q = tagEnd; (q = memmem(q, (size_t)(stop - q), "<arg", 4)) != NULL; q += 4) {
            if (q + 4 >= stop || (q[4] != ' ' && q[4] != '\n' && q[4] != '\t' && q[4] != '\r')) continue;
            const char *ge = memchr(q, '>', (size_t)(stop - q));
            if (!ge) break;
            const char *lv = xmlAttr(q, ge, "line", &ae);
            if (lv) { adds(sh, " "); addXml(sh, lv, ae); continue; }
            lv = xmlAttr(q, ge, "value", &ae);
            if (!lv) continue;
            text w = {sh->c, NULL, 0, 0};
            adds(&w, "");
            addXml(&w, lv, ae);
            adds(sh, " ");
            addQuoted(sh, w.s, w.n);
        }
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "<delete ", 8)) != NULL; p += 8) {
        const char *ge = memchr(p, '>', (size_t)(win(p, end) - p));
        if (!ge) continue;
        const char *v = xmlAttr(p, ge, "dir", &ae);
        if (!v) v = xmlAttr(p, ge, "file", &ae);
        if (!v) continue;
        adds(sh, "rm -rf ");
        text w = {sh->c, NULL, 0, 0};
        adds(&w, "");
        addXml(&w, v, ae);
        if (w.n && w.s[0] == '~') { add(sh, w.s, w.n); }   /* ~ must stay unquoted */
        else addQuoted(sh, w.s, w.n);
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
}

/* ---- line readers ----------------------------------------------------------------------- */

/* Procfile: `name: command` per line. */
static void procfile(text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *b = blanks(p, e), *k = b;
        while (k < e && (idChar(*k) || *k == '-' || *k == '.')) k++;
        if (k > b && k < e && *k == ':') { add(sh, k + 1, (size_t)(e - k - 1)); adds(sh, "\n" LH_CONTENT_UNIT); }
        p = e < end ? e + 1 : end;
    }
}

static int startsWord(const char *p, const char *e, const char *w) {
    size_t n = strlen(w);
    return (size_t)(e - p) >= n && !strncmp(p, w, n) && (p + n == e || !idChar(p[n]));
}

/* One vim Ex command line: `:`, `silent(!)`, `autocmd EVENT PATTERN` and `exe "…"`
 * taken off (depth-bounded); a `!cmd` is a shell command. */
static void vimLine(text *sh, const char *p, const char *e, int depth) {
    for (int guard = 0; guard < 8; guard++) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == ':')) p++;
        if (startsWord(p, e, "silent")) { p += 6; if (p < e && *p == '!') p++; continue; }
        if (startsWord(p, e, "autocmd") || startsWord(p, e, "au")) {
            for (int f = 0; f < 3 && p < e; f++) {   /* the command, the event, the pattern */
                while (p < e && *p != ' ' && *p != '\t') p++;
                while (p < e && (*p == ' ' || *p == '\t')) p++;
            }
            continue;
        }
        if ((startsWord(p, e, "exe") || startsWord(p, e, "execute")) && depth < 3) {
            while (p < e && idChar(*p)) p++;
            p = blanks(p, e);
            const char *s, *x;
            if (strAt(p, e, &s, &x)) vimLine(sh, s, x, depth + 1);
            return;
        }
        if (startsWord(p, e, "r") || startsWord(p, e, "read") || startsWord(p, e, "w") || startsWord(p, e, "write")) {
            while (p < e && idChar(*p)) p++;   /* :r !cmd, :w !cmd */
            continue;
        }
        static const char *const langs[][2] = {{"lua", "lua -e "}, {"luado", "lua -e "}, {"py3", "python3 -c "},
                                               {"python3", "python3 -c "}, {"py", "python3 -c "},
                                               {"python", "python3 -c "}, {"pyx", "python3 -c "},
                                               {"perl", "perl -e "}, {"ruby", "ruby -e "}};
        for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
            if (startsWord(p, e, langs[i][0])) {   /* :lua CODE, :py3 CODE */
                const char *code = blanks(p + strlen(langs[i][0]), e);
                if (code < e && *code != '<') {
                    adds(sh, langs[i][1]);
                    addQuoted(sh, code, (size_t)(e - code));
                    adds(sh, "\n" LH_CONTENT_UNIT);
                }
                return;
            }
        break;
    }
    while (p < e && strchr("%.,$'<>0123456789", *p)) p++;   /* a range: :%!cmd */
    if (p < e && *p == '!') { add(sh, p + 1, (size_t)(e - p - 1)); adds(sh, "\n" LH_CONTENT_UNIT); }
}

static void vimrc(text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        vimLine(sh, p, e, 0);
        p = e < end ? e + 1 : end;
    }
    static const char *const calls[] = {"system(", "systemlist(", "jobstart(", "termopen(", NULL};
    markers(sh, s, len, calls, NULL);
}

/* .gdbinit / .lldbinit: `shell CMD`, `!CMD`, `platform shell CMD`; `python CODE`. */
static void gdbinit(text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        if (startsWord(k, e, "platform")) { k += 8; while (k < e && *k == ' ') k++; }
        if (startsWord(k, e, "shell")) { add(sh, k + 5, (size_t)(e - k - 5)); adds(sh, "\n" LH_CONTENT_UNIT); }
        else if (k < e && *k == '!') { add(sh, k + 1, (size_t)(e - k - 1)); adds(sh, "\n" LH_CONTENT_UNIT); }
        else if (startsWord(k, e, "python") && blanks(k + 6, e) == e) {   /* python … end */
            const char *b = e < end ? e + 1 : end, *q = b;
            while (q < end) {
                const char *qe = lineEnd(q, end), *t = blanks(q, qe);
                if (startsWord(t, qe, "end") && blanks(t + 3, qe) == qe) break;
                q = qe < end ? qe + 1 : end;
            }
            adds(sh, "python3 -c ");
            addQuoted(sh, b, (size_t)(q - b));
            adds(sh, "\n" LH_CONTENT_UNIT);
            e = lineEnd(q, end);
        }
        else if (startsWord(k, e, "python") && k + 6 < e) {
            adds(sh, "python3 -c ");
            addQuoted(sh, k + 7, (size_t)(e - k - 7));
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

/* TOML (and .replit) keys whose value is a command: `key = "…"`, `'…'`, `"""…"""`, or an
 * array of commands. */
static void tomlKeys(text *sh, const char *s, size_t len, const char *const *keys) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t')) k++;
        for (int i = 0; keys[i]; i++) {
            size_t n = strlen(keys[i]);
            const char *v = k + n;
            if ((size_t)(e - k) <= n || strncmp(k, keys[i], n)) continue;
            while (v < e && *v == ' ') v++;
            if (v >= e || *v != '=') continue;
            v = blanks(v + 1, end);
            const char *a, *b, *q;
            if (v < end && *v == '[') {
                for (q = v + 1; q < end && *q != ']';) {
                    q = blanks(q, end);
                    if (q < end && *q == ',') { q++; continue; }
                    const char *r = strAt(q, end, &a, &b);
                    if (!r) break;
                    add(sh, a, (size_t)(b - a));
                    adds(sh, "\n" LH_CONTENT_UNIT);
                    q = r;
                }
            } else if ((q = strAt(v, end, &a, &b)) != NULL) {
                add(sh, a, (size_t)(b - a));
                adds(sh, "\n" LH_CONTENT_UNIT);
                if (q > e) e = lineEnd(q, end);   /* a multi-line string */
            }
            break;
        }
        p = e < end ? e + 1 : end;
    }
}

/* Nix: shellHook = ''…''; or "…"; */
static void nixHooks(text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "shellHook", 9)) != NULL; p += 9) {
        const char *v = blanks(p + 9, end);
        if (v >= end || *v != '=') continue;
        v = blanks(v + 1, end);
        const char *a, *b;
        if (end - v >= 2 && v[0] == '\'' && v[1] == '\'') {
            a = v + 2;
            b = memmem(a, (size_t)(win(a, end) - a), "''", 2);
            if (!b) b = win(a, end);
        } else if (!strAt(v, end, &a, &b)) {
            continue;
        }
        add(sh, a, (size_t)(b - a));
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
}

/* JSON keys whose value is a command or an array of commands (composer's event
 * scripts, devbox's init_hook). */
static void jsonCmds(text *sh, const char *s, size_t len, const char *const *keys) {
    const char *end = s + len;
    for (int i = 0; keys[i]; i++) {
        char key[64];
        snprintf(key, sizeof(key), "\"%s\"", keys[i]);
        size_t kn = strlen(key);
        for (const char *p = s; (p = memmem(p, (size_t)(end - p), key, kn)) != NULL; p += kn) {
            const char *v = blanks(p + kn, end), *a, *b, *q;
            if (v >= end || *v != ':') continue;
            v = blanks(v + 1, end);
            int list = v < end && *v == '[';
            for (q = list ? v + 1 : v; q < end;) {
                q = blanks(q, end);
                if (list && q < end && *q == ',') { q++; continue; }
                if (q >= end || *q != '"') break;
                const char *r = strAt(q, end, &a, &b);
                if (!r) break;
                text d;
                lh_ct_json_string(sh->c, q, end, &d);
                add(sh, d.s ? d.s : "", d.n);
                adds(sh, "\n" LH_CONTENT_UNIT);
                q = r;
                if (!list) break;
            }
        }
    }
}

/* ---- pytest's addopts, a docker:// action's args ------------------------------------------ */

/* addopts: --basetemp=DIR (pytest empties it before the run) is `rm -rf DIR`; -p MOD
 * loads MOD as a plugin (content.tool-program) unless it is `no:NAME`. */
static void addopts(lh_ctx *c, text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "addopts", 7)) != NULL; p += 7) {
        const char *e = lineEnd(p, end);
        for (int cont = 0; cont < 64 && e + 1 < end && (e[1] == ' ' || e[1] == '\t'); cont++)
            e = lineEnd(e + 1, end);   /* continuation lines */
        for (const char *q = p + 7; q < e;) {
#define OPT_SEP(ch) ((ch) == ' ' || (ch) == '\n' || (ch) == '\t' || (ch) == '\r' || (ch) == '=' || (ch) == '"' || \
                    (ch) == '\'' || (ch) == '[' || (ch) == ']' || (ch) == ',')
            while (q < e && OPT_SEP(*q)) q++;
            const char *w = q;
            while (q < e && !OPT_SEP(*q)) q++;
            size_t n = (size_t)(q - w);
            const char *v = q, *ve;   /* the option's value: joined (=, -pX) or the next word */
            if (n > 2 && w[0] == '-' && w[1] == 'p') v = w + 2;
            else if (n > 11 && !strncmp(w, "--basetemp=", 11)) v = w + 11;
            else { while (v < e && OPT_SEP(*v)) v++; }
            for (ve = v; ve < e && !OPT_SEP(*ve);) ve++;
            if ((n == 10 && !strncmp(w, "--basetemp", 10)) || (n > 11 && !strncmp(w, "--basetemp=", 11))) {
                adds(sh, "rm -rf ");
                add(sh, v, (size_t)(ve - v));
                adds(sh, "\n" LH_CONTENT_UNIT);
            } else if (n >= 2 && w[0] == '-' && w[1] == 'p' && (n == 2 || w[2] != '-') && ve > v &&
                       strncmp(v, "no:", 3)) {
                lh_emit(c, -1, LH_RULE(TOOL_PROGRAM), "addopts -p");
            }
#undef OPT_SEP
        p = e > p + 7 ? e - 7 : p;   /* past the lines read (the loop adds 7) */
        }
    }
}

/* A workflow step `uses: docker://IMAGE` runs the image with `with: args:` (after an
 * `entrypoint:`, else the image's own program, named after the image). */
static void dockerActions(text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "docker://", 9)) != NULL; p += 9) {
        const char *img = p + 9, *ie = img;
        while (ie < end && *ie != ' ' && *ie != '\n' && *ie != '\r' && *ie != '"' && *ie != '\'' && *ie != ':') ie++;
        const char *base = ie;
        while (base > img && base[-1] != '/') base--;
        const char *ls = p;
        while (ls > s && ls[-1] != '\n') ls--;
        size_t ind = indentOf(ls, p);
        const char *ent = NULL, *ente = NULL, *args = NULL, *argse = NULL;
        const char *dend = win(p, end);
        for (const char *q = lineEnd(p, dend); q < dend;) {
            q++;
            const char *qe = lineEnd(q, dend);
            size_t qi = indentOf(q, qe);
            if (q + qi < qe && qi <= ind && q[qi] == '-') break;
            if (q + qi < qe && qi < ind) break;
            const char *k = q + qi;
            if (startsWord(k, qe, "entrypoint") && k[10] == ':') { ent = blanks(k + 11, qe); ente = qe; }
            if (startsWord(k, qe, "args") && k[4] == ':') { args = blanks(k + 5, qe); argse = qe; }
            q = qe;
        }
        if (!args) continue;
        const char *a, *b;
        if (ent && strAt(ent, ente, &a, &b)) { ent = a; ente = b; }
        if (strAt(args, argse, &a, &b)) { args = a; argse = b; }
        if (ent) add(sh, ent, (size_t)(ente - ent));
        else add(sh, base, (size_t)(ie - base));
        adds(sh, " ");
        add(sh, args, (size_t)(argse - args));
        adds(sh, "\n" LH_CONTENT_UNIT);
        if (!ent) {   /* an image with no entrypoint runs its args as the command */
            add(sh, args, (size_t)(argse - args));
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
    }
}

/* A workflow step's `shell: CMD {0}` (a custom shell runs the step's script file as
 * CMD's argument): CMD with {0} as a file name. */
static void customShells(text *sh, const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p;
        while (k < e && (*k == ' ' || *k == '\t' || *k == '-')) k++;
        if (startsWord(k, e, "shell") && k + 5 < e && k[5] == ':') {
            const char *v = blanks(k + 6, e), *a, *b, *x;
            if (strAt(v, e, &a, &b)) { v = a; e = b; }
            if ((x = memmem(v, (size_t)(e - v), "{0}", 3)) != NULL) {
                add(sh, v, (size_t)(x - v));
                adds(sh, "step.sh");
                add(sh, x + 3, (size_t)(e - x - 3));
                adds(sh, "\n" LH_CONTENT_UNIT);
            }
            e = lineEnd(p, end);
        }
        p = e < end ? e + 1 : end;
    }
}

/* The string values (or arrays of strings) of the object under "key" (lint-staged's
 * glob: command map), each a command. */
static void jsonObjectCmds(text *sh, const char *s, size_t len, const char *key) {
    const char *end = s + len;
    size_t kn = strlen(key);
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), key, kn)) != NULL; p += kn) {
        const char *v = blanks(p + kn, end);
        if (v >= end || *v != ':') continue;
        v = blanks(v + 1, end);
        if (v >= end || *v != '{') continue;
        int depth = 0, isKey = 1;
        const char *q = v;
        for (const char *lim = win(v, end); q < lim; q++) {
            if (*q == '{' || *q == '[') { depth++; continue; }
            if (*q == '}' || *q == ']') { if (--depth <= 0) break; continue; }
            if (*q == ',') { if (depth == 1) isKey = 1; continue; }
            if (*q == ':') { isKey = 0; continue; }
            if (*q != '"') continue;
            text d;
            const char *r = lh_ct_json_string(sh->c, q, end, &d);
            if (!r) break;
            if (!isKey && d.s) { add(sh, d.s, d.n); adds(sh, "\n" LH_CONTENT_UNIT); }
            q = r - 1;
        }
        if (q > p + kn) p = q - kn;   /* on past the object read (the loop adds kn) */
    }
}

/* ---- by file name ------------------------------------------------------------------------ */

static void fileCode3(text *sh, const char *interp, const char *s, size_t len) {
    if (!len) return;
    adds(sh, LH_FILE_CODE_MARK);
    adds(sh, interp);
    addQuoted(sh, s, len);
    adds(sh, "\n" LH_CONTENT_UNIT);
}

typedef enum { K_NONE, K_PYTEST, K_PACKAGE, K_GRADLE, K_XML, K_MESON, K_CONFIGURE_AC, K_BAZELRC, K_CONFIGURE,
               K_PROCFILE, K_R, K_RENV, K_VIM, K_LUA, K_GDB, K_RUBY, K_PYTHON, K_PERL, K_LAUNCH, K_VSSETTINGS,
               K_COMPOSER, K_DEVBOX, K_TOML, K_NIX, K_BAZEL, K_TILT, K_SNAKE, K_SBT, K_MIX, K_YAMLCMD,
               K_LINTSTAGED, K_IPY } kind3;

/* The files of this reader by base name (a first-byte test before each strcmp keeps the
 * lookup cheap for the files that are none of them: most writes). */
static const struct { const char *name; kind3 kind; } kNames[] = {
    {"pytest.ini", K_PYTEST}, {".pytest.ini", K_PYTEST}, {"tox.ini", K_PYTEST}, {"setup.cfg", K_PYTEST},
    {"pyproject.toml", K_PYTEST}, {"package.json", K_PACKAGE}, {"pom.xml", K_XML}, {"build.xml", K_XML},
    {"meson.build", K_MESON}, {"configure.ac", K_CONFIGURE_AC}, {"configure.in", K_CONFIGURE_AC},
    {".bazelrc", K_BAZELRC}, {"configure", K_CONFIGURE}, {"Procfile", K_PROCFILE}, {".Rprofile", K_R},
    {"Rprofile.site", K_R}, {"activate.R", K_RENV}, {".exrc", K_VIM}, {".vimrc", K_VIM}, {".nvimrc", K_VIM},
    {".gvimrc", K_VIM}, {"_vimrc", K_VIM}, {"init.vim", K_VIM}, {".nvim.lua", K_LUA}, {".nvimrc.lua", K_LUA},
    {".gdbinit", K_GDB}, {".lldbinit", K_GDB}, {".irbrc", K_RUBY}, {".pryrc", K_RUBY}, {"Brewfile", K_RUBY},
    {"Podfile", K_RUBY}, {"Fastfile", K_RUBY}, {"Dangerfile", K_RUBY}, {"SConstruct", K_PYTHON},
    {"SConscript", K_PYTHON}, {"wscript", K_PYTHON}, {"conanfile.py", K_PYTHON}, {"hatch_build.py", K_PYTHON},
    {".pdbrc", K_PYTHON}, {".pythonrc", K_PYTHON}, {".pythonrc.py", K_PYTHON}, {"ipython_config.py", K_PYTHON},
    {"Makefile.PL", K_PERL}, {"Build.PL", K_PERL}, {"launch.json", K_LAUNCH}, {"settings.json", K_VSSETTINGS},
    {"composer.json", K_COMPOSER}, {"devbox.json", K_DEVBOX}, {"netlify.toml", K_TOML}, {".replit", K_TOML},
    {"mise.toml", K_TOML}, {".mise.toml", K_TOML}, {"mise.local.toml", K_TOML}, {"nixpacks.toml", K_TOML},
    {"fly.toml", K_TOML}, {"shell.nix", K_NIX}, {"flake.nix", K_NIX}, {"default.nix", K_NIX}, {"BUILD", K_BAZEL},
    {"BUILD.bazel", K_BAZEL}, {"Tiltfile", K_TILT}, {"Snakefile", K_SNAKE}, {"mix.exs", K_MIX},
    {"dvc.yaml", K_YAMLCMD}, {".readthedocs.yaml", K_YAMLCMD}, {".readthedocs.yml", K_YAMLCMD},
    {".lintstagedrc", K_LINTSTAGED}, {".lintstagedrc.json", K_LINTSTAGED},
};

static kind3 kindOf(const char *path, const char *base) {
    kind3 k = K_NONE;
    for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); i++)
        if (kNames[i].name[0] == base[0] && !strcmp(kNames[i].name, base)) { k = kNames[i].kind; break; }
    if (k == K_RENV && !endsWith(path, "renv/activate.R")) k = K_NONE;
    if (k == K_RENV) k = K_R;
    if ((k == K_LAUNCH || k == K_VSSETTINGS) && !endsWith(path, k == K_LAUNCH ? ".vscode/launch.json" : ".vscode/settings.json"))
        k = K_NONE;
    if (k != K_NONE) return k;
    const char *dot = strrchr(base, '.');
    if (!dot) return K_NONE;
    if (!strcmp(dot, ".gradle") || endsWith(base, ".gradle.kts")) return K_GRADLE;
    if (!strncmp(base, "Procfile.", 9)) return K_PROCFILE;
    if (!strcmp(dot, ".sbt")) return K_SBT;
    if (!strcmp(dot, ".bzl")) return K_BAZEL;
    if (!strcmp(dot, ".smk")) return K_SNAKE;
    if (!strcmp(dot, ".code-workspace")) return K_VSSETTINGS;
    if (!strcmp(dot, ".py") && strstr(path, ".ipython/") && strstr(path, "/startup/")) return K_IPY;
    return K_NONE;
}

int lh_ct3_commands(lh_ctx *c, const char *path, const char *s, size_t len, text *sh) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if ((endsWith(base, ".yml") || endsWith(base, ".yaml")) && strstr(path, ".github/workflows/")) {
        if (memmem(s, len, "docker://", 9)) dockerActions(sh, s, len);
        if (memmem(s, len, "{0}", 3)) customShells(sh, s, len);
        return 0;
    }
    kind3 k = kindOf(path, base);
    const char *end = s + len;
    switch (k) {
    case K_NONE: return 0;
    case K_PYTEST: addopts(c, sh, s, len); return 0;
    case K_PACKAGE: {   /* git hooks of husky 4 and simple-git-hooks; lint-staged */
        static const char *const hooks[] = {"pre-commit", "pre-push", "commit-msg", "prepare-commit-msg", "post-commit",
                                            "post-merge", "post-checkout", "post-rewrite", "pre-rebase", NULL};
        if (memmem(s, len, "husky", 5) || memmem(s, len, "simple-git-hooks", 16)) jsonCmds(sh, s, len, hooks);
        if (memmem(s, len, "lint-staged", 11)) jsonObjectCmds(sh, s, len, "\"lint-staged\"");
        return 0;
    }
    case K_GRADLE: {
        static const char *const m[] = {"commandLine", "Runtime.getRuntime().exec(", "ProcessBuilder(", NULL};
        static const char *const del[] = {"delete", NULL};
        vars vs;
        collectVars(s, len, &vs);
        markersV(sh, s, len, m, NULL, &vs);
        markersV(sh, s, len, del, "rm -rf ", &vs);
        backCalls(sh, s, len, ".execute(");
        gradleExecutable(sh, s, len, &vs);
        return 1;
    }
    case K_XML: xmlFile(sh, s, len); return 1;
    case K_MESON: {
        static const char *const m[] = {"run_command(", "command:", "command :", NULL};
        vars vs;
        collectVars(s, len, &vs);
        markersV(sh, s, len, m, NULL, &vs);
        return 1;
    }
    case K_CONFIGURE_AC: {
        /* its shell lines are copied into configure; m4_esyscmd runs at autoconf time */
        for (const char *p = s; p < end;) {
            const char *e = lineEnd(p, end);
            add(sh, p, (size_t)(e - p));
            adds(sh, "\n" LH_CONTENT_UNIT);
            p = e < end ? e + 1 : end;
        }
        static const char *const m4[] = {"esyscmd([", "esyscmd_s([", "syscmd([", NULL};
        for (int i = 0; m4[i]; i++)
            for (const char *p = s; (p = memmem(p, (size_t)(end - p), m4[i], strlen(m4[i]))) != NULL;) {
                p += strlen(m4[i]);
                const char *q = memmem(p, (size_t)(win(p, end) - p), "])", 2);
                if (!q) continue;
                add(sh, p, (size_t)(q - p));
                adds(sh, "\n" LH_CONTENT_UNIT);
            }
        return 1;
    }
    case K_BAZELRC:   /* --run_under=CMD runs each test or binary under CMD */
        for (const char *p = s; (p = memmem(p, (size_t)(end - p), "--run_under=", 12)) != NULL;) {
            p += 12;
            const char *e = p, *a, *b;
            if (strAt(p, end, &a, &b)) { p = a; e = b; }
            else while (e < end && *e != ' ' && *e != '\n') e++;
            add(sh, p, (size_t)(e - p));
            adds(sh, " bazel-bin/target\n" LH_CONTENT_UNIT);
        }
        return 1;
    case K_CONFIGURE: add(sh, s, len); adds(sh, "\n" LH_CONTENT_UNIT); return 1;
    case K_PROCFILE: procfile(sh, s, len); return 1;
    case K_R: case K_RENV: {
        static const char *const m[] = {"system(", "system2(", "shell(", NULL};
        static const char *const del[] = {"unlink(", NULL};
        markers(sh, s, len, m, NULL);
        markers(sh, s, len, del, "rm -rf ");
        return 1;
    }
    case K_VIM: vimrc(sh, s, len); return 1;
    case K_LUA: fileCode3(sh, "lua -e ", s, len); return 1;
    case K_GDB: gdbinit(sh, s, len); return 1;
    case K_RUBY: fileCode3(sh, "ruby -e ", s, len); return 1;
    case K_PYTHON: case K_IPY: fileCode3(sh, "python3 -c ", s, len); return 1;
    case K_PERL: fileCode3(sh, "perl -e ", s, len); return 1;
    case K_LAUNCH: {
        static const char *const keys[] = {"runtimeExecutable", "runtimeArgs", "program", "args", NULL};
        lh_ct_json_values(c, s, len, keys, sh);
        if (!memmem(s, len, "runtimeExecutable", 17)) {   /* node's runtime arguments */
            static const char *const rt[] = {"runtimeArgs", NULL};
            text w = {c, NULL, 0, 0};
            lh_ct_json_values(c, s, len, rt, &w);
            if (w.n) { adds(sh, "node "); add(sh, w.s, w.n); }
        }
        return 1;
    }
    case K_VSSETTINGS: {
        static const char *const keys[] = {"path", "args", NULL};
        static const char *const env[] = {"PROMPT_COMMAND", NULL};
        if (memmem(s, len, "terminal.integrated", 19)) lh_ct_json_values(c, s, len, keys, sh);
        if (memmem(s, len, "terminal.integrated.env", 23)) lh_ct_json_values(c, s, len, env, sh);
        for (const char *p = s; (p = memmem(p, (size_t)(end - p), "shellArgs", 9)) != NULL; p += 9) {
            const char *v = memchr(p, '[', (size_t)(end - p));
            if (v) wordList(sh, "sh ", v, end);
        }
        return 1;
    }
    case K_COMPOSER: {
        static const char *const keys[] = {"pre-install-cmd", "post-install-cmd", "pre-update-cmd", "post-update-cmd",
                                           "pre-autoload-dump", "post-autoload-dump", "post-root-package-install",
                                           "post-create-project-cmd", "pre-status-cmd", "post-status-cmd", NULL};
        jsonCmds(sh, s, len, keys);
        return 1;
    }
    case K_DEVBOX: {
        static const char *const keys[] = {"init_hook", NULL};
        jsonCmds(sh, s, len, keys);
        return 1;
    }
    case K_TOML: {
        static const char *const keys[] = {"command", "run", "onBoot", "enter", "leave", "cd", "cmds", "cmd",
                                           "release_command", NULL};
        tomlKeys(sh, s, len, keys);
        return 1;
    }
    case K_NIX: nixHooks(sh, s, len); return 1;
    case K_BAZEL: {
        static const char *const m[] = {"cmd =", "cmd=", "cmd_bash =", "cmd_bash=", NULL};
        markers(sh, s, len, m, NULL);
        return 1;
    }
    case K_TILT: {
        static const char *const m[] = {"local(", "local_resource(", NULL};
        markers(sh, s, len, m, NULL);
        return 1;
    }
    case K_SNAKE: {
        static const char *const m[] = {"shell:", "shell(", NULL};
        markers(sh, s, len, m, NULL);
        return 1;
    }
    case K_SBT: {
        static const char *const m[] = {"Process(", NULL};
        markers(sh, s, len, m, NULL);
        backCalls(sh, s, len, ".!");
        return 1;
    }
    case K_MIX: {
        static const char *const m[] = {"System.cmd(", "System.shell(", NULL};
        markers(sh, s, len, m, NULL);
        return 1;
    }
    case K_YAMLCMD: {
        static const char *const keys[] = {"cmd", "commands", NULL};
        lh_ct_yaml_commands(s, len, keys, sh);
        return 1;
    }
    case K_LINTSTAGED: {
        static const char *const keys[] = {"*", NULL};
        lh_ct_json_values(c, s, len, keys, sh);
        return 1;
    }
    }
    return 0;
}
