/* an_content.c — the content of file tools, judged where it will run.
 *
 * For Write (content), Edit (new_string) and NotebookEdit (new_source), the text that
 * will run is taken out by the target's kind and given to the shell pipeline as a script
 * (c->script), so analyze.c judges it like a Bash call:
 * - CI workflows (.github/workflows/NAME.yml): the `run:` steps; a `pull_request_target`
 *   workflow that checks out the pull request's code escalates (ci.pull-request-target);
 *   a step that prints or sends a secret is denied (ci.secret-exposed);
 * - editor tasks that run on folder open (.vscode/tasks.json with runOn folderOpen):
 *   their commands, and the auto-run itself escalates (editor.autorun-task);
 * - package.json: the lifecycle scripts npm runs by itself (preinstall, postinstall…);
 * - Makefiles (Makefile, makefile, GNUmakefile, *.mk): recipe lines, with the file's
 *   own variables substituted;
 * - notebooks (NotebookEdit, *.ipynb; a whole .ipynb's JSON is read cell by cell, each
 *   code cell's source a string or a list of lines): `!cmd` lines and %%bash cells as shell, the rest
 *   as Python (`python3 -c '…'`, read by code_lex.c through the unwrapper);
 * - dev containers' create/start commands, .envrc (direnv), .husky hooks, the
 *   script items of .gitlab-ci.yml, and the hooks' entries of .pre-commit-config.yaml;
 * - Python start-up code: a .pth file's import lines, sitecustomize.py, usercustomize.py
 *   (as `python3 -c '…'`).
 * - code files a tool runs by itself (conftest.py, setup.py, JS configs, Rakefile …) as
 *   that language's inline code, their commands marked LH_C_FILE_CODE;
 * - more CI, task-runner and build files: content_tools.c and content_files3.c.
 * Git hooks, shell start-up files and the agent's own settings are judged by their path
 * (an_fs.c) whatever they hold. */
#include "engine/analyze.h"
#include "engine/content_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "engine/unwrap.h"

typedef enum { TGT_NONE, TGT_WORKFLOW, TGT_TASKS, TGT_PACKAGE, TGT_MAKE, TGT_NOTEBOOK, TGT_DEVCONTAINER,
               TGT_SCRIPT, TGT_GITLAB, TGT_PRECOMMIT, TGT_PYSTART, TGT_PYCODE, TGT_JSCODE, TGT_RBCODE,
               TGT_CIYAML, TGT_CARGO, TGT_GO, TGT_JUST, TGT_TOX, TGT_PYLINT, TGT_PYPROJECT, TGT_JENKINS,
               TGT_CMAKE, TGT_RUST, TGT_GITMODULES } target;

/* The first byte of a unit that is the code of a file a tool runs by itself: its
 * commands get LH_C_FILE_CODE. */
#define FILE_CODE_MARK LH_FILE_CODE_MARK

/* Does base name a JavaScript config file that its tool loads (runs) by itself:
 * NAME.config.js, .eslintrc.cjs, gulpfile.mjs …? */
static int jsConfig(const char *base) {
    static const char *const ext[] = {".js", ".cjs", ".mjs", ".ts", ".cts", ".mts", NULL};
    const char *dot = strrchr(base, '.');
    int known = 0;
    for (int i = 0; dot && ext[i]; i++)
        if (!strcmp(dot, ext[i])) known = 1;
    if (!known) return 0;
    size_t stem = (size_t)(dot - base);
    if (stem > 7 && !strncmp(dot - 7, ".config", 7)) return 1;           /* jest.config.js */
    static const char *const names[] = {"gulpfile", "Gulpfile", "Gruntfile", "gruntfile", ".eslintrc", ".mocharc",
                                        ".prettierrc", ".babelrc", ".stylelintrc", ".lintstagedrc", ".releaserc",
                                        "Jakefile", "jakefile", NULL};
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == stem && !strncmp(base, names[i], stem)) return 1;
    return 0;
}

static target targetOf(const char *path, lh_tool tool) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (tool == LH_TOOL_NOTEBOOKEDIT || endsWith(path, ".ipynb")) return TGT_NOTEBOOK;
    if ((strstr(path, ".github/workflows/") == path || strstr(path, "/.github/workflows/")) &&
        (endsWith(path, ".yml") || endsWith(path, ".yaml")))
        return TGT_WORKFLOW;
    if (endsWith(path, "/.vscode/tasks.json") || !strcmp(path, ".vscode/tasks.json")) return TGT_TASKS;
    if (!strcmp(base, "package.json")) return TGT_PACKAGE;
    if (!strcmp(base, ".devcontainer.json") || (!strcmp(base, "devcontainer.json") &&
        (strstr(path, "/.devcontainer/") || !strncmp(path, ".devcontainer/", 14))))
        return TGT_DEVCONTAINER;
    /* run as shell by themselves: direnv on cd, husky hooks on commit */
    if (!strcmp(base, ".envrc") || strstr(path, "/.husky/") || !strncmp(path, ".husky/", 7)) return TGT_SCRIPT;
    if (!strcmp(base, ".gitlab-ci.yml")) return TGT_GITLAB;
    /* other CI services, composite actions, task runners and hook managers */
    if ((strstr(path, ".circleci/") && (endsWith(base, ".yml") || endsWith(base, ".yaml"))) ||
        !strcmp(base, "action.yml") || !strcmp(base, "action.yaml") || !strcmp(base, ".travis.yml") ||
        !strcmp(base, "bitbucket-pipelines.yml") || !strcmp(base, "azure-pipelines.yml") ||
        !strcmp(base, ".drone.yml") || !strcmp(base, ".gitpod.yml") || !strcmp(base, "lefthook.yml") ||
        !strcmp(base, ".lefthook.yml") || !strcmp(base, "Taskfile.yml") || !strcmp(base, "Taskfile.yaml") ||
        !strcmp(base, "taskfile.yml") || !strcmp(base, ".woodpecker.yml") || !strcmp(base, "cloudbuild.yaml") ||
        !strcmp(base, "appveyor.yml") || !strcmp(base, "buildspec.yml"))
        return TGT_CIYAML;
    if (strstr(path, "/.githooks/") || !strncmp(path, ".githooks/", 10)) return TGT_SCRIPT;
    if (!strcmp(base, ".pre-commit-config.yaml") || !strcmp(base, ".pre-commit-config.yml")) return TGT_PRECOMMIT;
    /* Python runs these at every start: a .pth file's `import` lines, sitecustomize and
     * usercustomize modules */
    if (endsWith(base, ".pth") || !strcmp(base, "sitecustomize.py") || !strcmp(base, "usercustomize.py"))
        return TGT_PYSTART;
    if (!strcmp(base, "Makefile") || !strcmp(base, "makefile") || !strcmp(base, "GNUmakefile") ||
        endsWith(base, ".mk") || !strncmp(base, "Makefile.", 9) || !strncmp(base, "makefile.", 9))
        return TGT_MAKE;
    /* code a tool runs by itself: pytest its conftest.py, pip install . the setup.py,
     * nox, fabric, doit their task files; jest, vite, eslint … their config; rake,
     * bundler, vagrant, guard their Ruby files */
    if (!strcmp(base, "conftest.py") || !strcmp(base, "setup.py") || !strcmp(base, "noxfile.py") ||
        !strcmp(base, "fabfile.py") || !strcmp(base, "dodo.py"))
        return TGT_PYCODE;
    if (jsConfig(base)) return TGT_JSCODE;
    if (!strcmp(base, "Justfile") || !strcmp(base, "justfile") || !strcmp(base, ".justfile")) return TGT_JUST;
    if (endsWith(base, ".go")) return TGT_GO;
    if (!strcmp(base, "tox.ini")) return TGT_TOX;
    if (!strcmp(base, ".pylintrc") || !strcmp(base, "pylintrc") || !strcmp(base, "setup.cfg")) return TGT_PYLINT;
    if (strstr(path, ".cargo/") && (!strcmp(base, "config.toml") || !strcmp(base, "config"))) return TGT_CARGO;
    if (!strcmp(base, "pyproject.toml")) return TGT_PYPROJECT;
    if (!strcmp(base, "Jenkinsfile")) return TGT_JENKINS;
    if (!strcmp(base, "build.rs")) return TGT_RUST;   /* cargo build runs it */
    if (!strcmp(base, ".gitmodules")) return TGT_GITMODULES;
    if (strstr(path, "/sitecustomize/__init__.py") || strstr(path, "/usercustomize/__init__.py")) return TGT_PYSTART;
    if (!strcmp(base, "CMakeLists.txt") || endsWith(base, ".cmake")) return TGT_CMAKE;
    if (!strcmp(base, "Rakefile") || !strcmp(base, "rakefile") || !strcmp(base, "Gemfile") ||
        !strcmp(base, "Guardfile") || !strcmp(base, "Vagrantfile") || endsWith(base, ".gemspec") ||
        endsWith(base, ".rake"))
        return TGT_RBCODE;
    return TGT_NONE;
}

/* Does a step's shell line print or send a secret? 2: it prints it (plainly, or encoded
 * past the log mask) or sends it in data; 1: it sends it in a header (often the API the
 * token is for, but not always); 0: neither (`echo "$TOKEN" | docker login
 * --password-stdin`, a token written to .npmrc). */
static int exposesSecret(const char *p, const char *e) {
    if (!has(p, e, "secrets.") || has(p, e, "::add-mask::")) return 0;
    static const char *const enc[] = {"base64", "xxd", "rev", "od -", "openssl enc", NULL};
    for (int i = 0; enc[i]; i++)
        if (has(p, e, enc[i])) return 2;
    static const char *const net[] = {"curl", "wget", "nc ", "ncat", "Invoke-WebRequest", NULL};
    for (int i = 0; net[i]; i++)
        if (has(p, e, net[i]))
            return has(p, e, "-H ") || has(p, e, "--header") || has(p, e, "Authorization") ? 1 : 2;
    if ((has(p, e, "echo") || has(p, e, "printf")) && !memchr(p, '|', (size_t)(e - p)) &&
        !memchr(p, '>', (size_t)(e - p)))
        return 2;
    return 0;
}

static void secretStep(lh_ctx *c, const char *p, const char *e) {
    int how = exposesSecret(p, e);
    if (how == 2) lh_emit(c, -1, LH_RULE(CI_SECRET), "a run step");
    else if (how == 1)
        lh_emit_full(c, -1, LH_RULE(CI_SECRET)->id, LH_ESCALATE, LH_RISK_MEDIUM, LH_TIER_ANALYSIS,
                     "a CI step sends a secret in a request header", LH_RULE(CI_SECRET)->instead, "a run step");
}

/* ---- targets --------------------------------------------------------------------------- */

static void workflow(lh_ctx *c, const char *s, size_t len, text *sh) {
    const char *end = s + len;
    if (memmem(s, len, "pull_request_target", 19)) {
        static const char *const head[] = {"pull_request.head.sha", "pull_request.head.ref", "github.head_ref",
                                           "refs/pull/", "pull_request.head.repo", NULL};
        for (int i = 0; head[i]; i++)
            if (memmem(s, len, head[i], strlen(head[i]))) {
                lh_emit(c, -1, LH_RULE(CI_PWN), head[i]);
                break;
            }
    }
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        size_t ind = indentOf(p, e);
        const char *k = p + ind;
        if (k + 2 <= e && k[0] == '-' && k[1] == ' ') { k += 2; while (k < e && *k == ' ') k++; }
        if ((size_t)(e - k) >= 4 && !strncmp(k, "run:", 4)) {
            const char *v = k + 4;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            if (v < e && (*v == '|' || *v == '>')) {
                /* a block: the lines indented more than the key */
                size_t keyind = (size_t)(k - p);
                const char *q = e < end ? e + 1 : end;
                while (q < end) {
                    const char *qe = lineEnd(q, end);
                    size_t qi = indentOf(q, qe);
                    if (q + qi < qe && qi <= keyind) break;
                    secretStep(c, q, qe);
                    addWithoutExprs(sh, q + qi, qe);
                    q = qe < end ? qe + 1 : end;
                }
                adds(sh, LH_CONTENT_UNIT);
                p = q;
                continue;
            }
            const char *ve = e;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\r')) ve--;
            if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) { v++; ve--; }
            secretStep(c, v, ve);
            addWithoutExprs(sh, v, ve);
            adds(sh, LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

/* Read a JSON string at p (the opening quote); decoded into *out. Returns the position
 * past it, or NULL. Unicode escapes of ASCII are decoded ("post\u0069nstall" is
 * postinstall); others become '?'. */
static const char *jsonString(lh_ctx *c, const char *p, const char *end, text *out) {
    if (p >= end || *p != '"') return NULL;
    out->c = c;
    out->s = NULL;
    out->n = out->cap = 0;
    adds(out, "");
    for (p++; p < end; p++) {
        if (*p == '"') return p + 1;
        if (*p == '\\' && p + 1 < end) {
            char e = *++p;
            char ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'u' ? '?' : e;
            if (e == 'u' && end - p > 4) {
                unsigned v = 0;
                int ok = 1;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10 : (ok = 0));
                }
                if (ok && v > 0 && v < 0x80) ch = (char)v;
                p += 4;
            }
            add(out, &ch, 1);
            continue;
        }
        add(out, p, 1);
    }
    return NULL;
}

/* Is key one of keys? An entry "pre*" or "post*" matches every key with that prefix
 * (npm runs prebuild and postbuild around build by itself). */
static int wanted(const char *key, const char *const *keys) {
    for (int i = 0; keys[i]; i++) {
        size_t n = strlen(keys[i]);
        if (n && keys[i][n - 1] == '*' ? !strncmp(key, keys[i], n - 1) && key[n - 1] : !strcmp(key, keys[i]))
            return 1;
    }
    return 0;
}

/* A JSON array or object at p (its opening bracket) as commands: an array of strings is
 * one command of those words (shell-quoted); an object's string values are each a
 * command. With append, the words are added to the command before (the unit end is
 * taken back). Returns the position past it (nesting bounded by its brackets). */
static const char *jsonComposite(lh_ctx *c, const char *p, const char *end, int append, text *sh) {
    char open = *p, close = open == '[' ? ']' : '}';
    int words = 0;
    size_t u = strlen("\n" LH_CONTENT_UNIT);
    if (open == '[' && append && sh->n >= u && !memcmp(sh->s + sh->n - u, "\n" LH_CONTENT_UNIT, u)) {
        sh->n -= u;
        sh->s[sh->n] = 0;
        words = 1;
    }
    for (p++; p < end && !c->oom;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')) p++;
        if (p >= end) break;
        if (*p == close) { p++; break; }
        if (*p != '"') { p++; continue; }   /* numbers, nested values: skipped */
        text v;
        const char *after = jsonString(c, p, end, &v);
        if (!after) return end;
        p = after;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (open == '{') {
            if (p < end && *p == ':') {   /* a key; an array value is a command's words */
                for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'); p++) {}
                if (p < end && *p == '[') p = jsonComposite(c, p, end, 0, sh);
                continue;
            }
            add(sh, v.s, v.n);
            adds(sh, "\n" LH_CONTENT_UNIT);
        } else {
            if (words++) adds(sh, " ");
            addQuoted(sh, v.s, v.n);
        }
    }
    if (open == '[' && words) adds(sh, "\n" LH_CONTENT_UNIT);
    return p;
}

/* Every "key": "value" pair of a JSON text (or fragment) whose key is in keys, as shell
 * lines. */
static void jsonValues(lh_ctx *c, const char *s, size_t len, const char *const *keys, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end && !c->oom;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) break;
        text key;
        const char *after = jsonString(c, q, end, &key);
        if (!after) break;
        p = after;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p >= end || *p != ':') continue;
        p++;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p < end && (*p == '[' || *p == '{') && key.s && wanted(key.s, keys)) {
            /* ["rm", "-rf", "x"]: one command, its words; {"a": "cmd", …}: each a command;
             * "args": [...] after a "command" adds to that command (tasks.json) */
            p = jsonComposite(c, p, end, !strcmp(key.s, "args") || endsWith(key.s, "Args"), sh);
            continue;
        }
        if (p >= end || *p != '"') continue;
        text val;
        const char *vend = jsonString(c, p, end, &val);
        if (!vend) break;
        p = vend;
        if (key.s && wanted(key.s, keys)) {
            add(sh, val.s, val.n);
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
    }
}

void lh_ct_json_values(lh_ctx *c, const char *s, size_t len, const char *const *keys, text *sh) {
    jsonValues(c, s, len, keys, sh);
}
const char *lh_ct_json_string(lh_ctx *c, const char *p, const char *end, text *out) { return jsonString(c, p, end, out); }

/* .gitlab-ci.yml: the items of script:, before_script: and after_script: lists, and a
 * one-line `script: cmd`. */
static void gitlab(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    size_t keyind = 0;
    int in = 0;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        size_t ind = indentOf(p, e);
        const char *k = p + ind;
        if (k < e) {
            if (in && ind <= keyind && *k != '-') in = 0;
            if (in && ind < keyind) in = 0;
            if ((size_t)(e - k) >= 7 && (!strncmp(k, "script:", 7) || !strncmp(k, "before_script:", 14) ||
                                         !strncmp(k, "after_script:", 13))) {
                const char *v = memchr(k, ':', (size_t)(e - k)) + 1;
                while (v < e && *v == ' ') v++;
                if (v < e && *v != '|' && *v != '>') { addWithoutExprs(sh, v, e); adds(sh, LH_CONTENT_UNIT); }
                else { in = 1; keyind = ind; }
            } else if (in && *k == '-') {
                const char *v = k + 1;
                while (v < e && *v == ' ') v++;
                if (e - v >= 2 && (*v == '"' || *v == '\'') && e[-1] == *v) addWithoutExprs(sh, v + 1, e - 1);
                else addWithoutExprs(sh, v, e);
                adds(sh, LH_CONTENT_UNIT);
            }
        }
        p = e < end ? e + 1 : end;
    }
}

/* (advcontent) A hook's `args: [a, 'b c']` in the lines of its entry's mapping (col is the
 * entry key's column, e its line's end): pre-commit passes them after the entry (`entry: bash -c`
 * with `args: ['rm -rf ~']`). Each is added as a quoted word. */
static void hookArgs(size_t col, const char *e, const char *end, text *sh) {
    for (const char *q = e < end ? e + 1 : end; q < end;) {
        const char *qe = lineEnd(q, end);
        size_t qi = indentOf(q, qe);
        if (q + qi < qe && (qi != col || q[qi] == '-')) break;   /* another hook or key level */
        const char *a = q + qi;
        if ((size_t)(qe - a) > 6 && !strncmp(a, "args:", 5)) {
            const char *v = memchr(a, '[', (size_t)(qe - a));
            for (const char *x = v ? v + 1 : qe; x < qe && *x != ']';) {
                while (x < qe && (*x == ' ' || *x == ',')) x++;
                if (x >= qe || *x == ']') break;
                const char *w = x, *we;
                if (*x == '"' || *x == '\'') {
                    we = memchr(x + 1, *x, (size_t)(qe - x - 1));
                    if (!we) break;
                    w++;
                    x = we + 1;
                } else {
                    while (x < qe && *x != ',' && *x != ']') x++;
                    we = x;
                    while (we > w && we[-1] == ' ') we--;
                }
                adds(sh, " ");
                addQuoted(sh, w, (size_t)(we - w));
            }
        }
        q = qe < end ? qe + 1 : end;
    }
}

/* .pre-commit-config.yaml: each hook's `entry:` runs at every commit (a command line for
 * `language: system` and `script`; for the other languages a name, judged the same). */
static void precommit(const char *s, size_t len, text *sh) {
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        const char *k = p + indentOf(p, e);
        if (k < e && *k == '-') k += 1 + indentOf(k + 1, e);
        if ((size_t)(e - k) > 6 && !strncmp(k, "entry:", 6)) {
            const char *v = k + 6;
            while (v < e && *v == ' ') v++;
            if (e - v >= 2 && (*v == '"' || *v == '\'') && e[-1] == *v) add(sh, v + 1, (size_t)(e - 1 - v - 1));
            else add(sh, v, (size_t)(e - v));
            hookArgs((size_t)(k - p), e, end, sh);
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

/* A .pth file: its lines that start with `import` are run as Python at every start (the
 * others are paths); sitecustomize.py and usercustomize.py are run whole. */
static void pystart(const char *path, const char *s, size_t len, text *sh) {
    text py = {sh->c, NULL, 0, 0};
    adds(&py, "");
    if (endsWith(path, ".pth")) {
        const char *end = s + len;
        for (const char *p = s; p < end;) {
            const char *e = lineEnd(p, end);
            if ((size_t)(e - p) > 6 && (!strncmp(p, "import ", 7) || !strncmp(p, "import\t", 7))) {
                add(&py, p, (size_t)(e - p));
                adds(&py, "\n");
            }
            p = e < end ? e + 1 : end;
        }
    } else {
        add(&py, s, len);
    }
    if (!py.n) return;
    adds(sh, "python3 -c ");
    addQuoted(sh, py.s, py.n);
    adds(sh, "\n" LH_CONTENT_UNIT);
}

/* A whole file of code, run as inline code of its language (interp: "python3 -c "),
 * marked as file code. */
static void fileCode(const char *interp, const char *s, size_t len, text *sh) {
    if (!len) return;
    adds(sh, FILE_CODE_MARK);
    adds(sh, interp);
    addQuoted(sh, s, len);
    adds(sh, "\n" LH_CONTENT_UNIT);
}

static void tasks(lh_ctx *c, const char *s, size_t len, text *sh) {
    /* (advcontent3) every task's command is judged: a launch configuration's
     * preLaunchTask, or the user, runs it without reading the file again */
    if (memmem(s, len, "folderOpen", 10)) lh_emit(c, -1, LH_RULE(EDITOR_AUTORUN), "runOn: folderOpen");
    static const char *const keys[] = {"command", "args", NULL};
    jsonValues(c, s, len, keys, sh);
}

static void package(lh_ctx *c, const char *s, size_t len, text *sh) {
    static const char *const keys[] = {"preinstall", "install", "postinstall", "prepare", "preprepare",
                                       "postprepare", "prepublish", "prepublishOnly", "prepack",
                                       "postpack", "preuninstall", "uninstall", "postuninstall",
                                       /* (advcontent) npm runs pre<name> and post<name> around any
                                        * script by itself, and the agent runs test, start, build
                                        * and dev without reading them again */
                                       "pre*", "post*", "version", "publish", "dependencies", "shrinkwrap",
                                       "test", "start", "build", "dev", NULL};
    /* only the "scripts" object, when there is one ("prettier": "^3" is a dependency) */
    const char *end = s + len, *o = memmem(s, len, "\"scripts\"", 9);
    if (o) {
        o += 9;
        while (o < end && (*o == ' ' || *o == '\t' || *o == '\n' || *o == '\r' || *o == ':')) o++;
        if (o < end && *o == '{') {
            int depth = 0;
            const char *q = o;
            for (; q < end; q++) {
                if (*q == '"') {
                    for (q++; q < end && *q != '"'; q++)
                        if (*q == '\\') q++;
                } else if (*q == '{') depth++;
                else if (*q == '}' && --depth == 0) break;
            }
            s = o;
            len = (size_t)((q < end ? q + 1 : end) - o);
        }
    }
    jsonValues(c, s, len, keys, sh);
}

#define MAKE_VARS 32

typedef struct makevar { const char *name; size_t n; const char *val; size_t vn; } makevar;

/* The bracket closing the one at p ('(' or '{'), nesting counted; NULL if none before e. */
static const char *closeOf(const char *p, const char *e) {
    char open = *p, close = open == '(' ? ')' : '}';
    int depth = 0;
    for (; p < e; p++) {
        if (*p == open) depth++;
        else if (*p == close && --depth == 0) return p;
    }
    return NULL;
}

/* A recipe line with make's variables substituted. */
static void makeLine(text *sh, const char *p, const char *e, const makevar *vars, int nvars) {
    while (p < e && (*p == '@' || *p == '-' || *p == '+' || *p == ' ' || *p == '\t')) p++;
    while (p < e) {
        if (*p != '$' || p + 1 >= e) { add(sh, p, 1); p++; continue; }
        char n = p[1];
        if (n == '$') { adds(sh, "$"); p += 2; continue; }
        if (n == '@' || n == '<' || n == '^' || n == '*' || n == '?') { adds(sh, "target"); p += 2; continue; }
        if (n != '(' && n != '{') { add(sh, p, 1); p++; continue; }
        const char *q = closeOf(p + 1, e);
        if (!q) { add(sh, p, (size_t)(e - p)); break; }
        const char *name = p + 2;
        size_t nn = (size_t)(q - name);
        if (nn > 6 && !memcmp(name, "shell ", 6)) {   /* $(shell cmd): a command substitution */
            adds(sh, "$(");
            add(sh, name + 6, nn - 6);
            adds(sh, ")");
            p = q + 1;
            continue;
        }
        int done = 0;
        for (int i = nvars - 1; i >= 0 && !done; i--)
            if (vars[i].n == nn && !memcmp(vars[i].name, name, nn)) { add(sh, vars[i].val, vars[i].vn); done = 1; }
        if (!done) {
            if (nn == 4 && !memcmp(name, "MAKE", 4)) adds(sh, "make");
            else if (nn == 2 && !memcmp(name, "CC", 2)) adds(sh, "cc");
            else if (nn == 3 && !memcmp(name, "CXX", 3)) adds(sh, "c++");
            else if (nn == 2 && !memcmp(name, "RM", 2)) adds(sh, "rm -f");
            else if (memchr(name, ' ', nn)) add(sh, p, (size_t)(q + 1 - p));   /* $(shell …) */
            else { adds(sh, "${"); add(sh, name, nn); adds(sh, "}"); }
        }
        p = q + 1;
    }
    adds(sh, "\n" LH_CONTENT_UNIT);
}

/* A make variable definition at p..e (NAME = v, :=, ::=, ?=, +=, with override or export
 * before it), added to vars; 1 if it was one. */
/* Past a variable line's `override` and `export` words. */
static const char *skipMakeModifiers(const char *p, const char *e) {
    for (int again = 1; again;) {
        again = 0;
        if (e - p > 9 && !strncmp(p, "override ", 9)) { p += 9; again = 1; }
        if (e - p > 7 && !strncmp(p, "export ", 7)) { p += 7; again = 1; }
    }
    return p;
}

static int makeVar(const char *p, const char *e, makevar *vars, int *nvars) {
    p = skipMakeModifiers(p, e);
    const char *q = p;
    while (q < e && (*q == '_' || (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'))) q++;
    const char *nend = q;
    while (q < e && *q == ' ') q++;
    if (q < e && (*q == ':' || *q == '?' || *q == '+') && q + 1 < e && q[1] == '=') q++;
    else if (q + 1 < e && q[0] == ':' && q[1] == ':' && q + 2 < e && q[2] == '=') q += 2;
    if (nend == p || q >= e || *q != '=') return 0;
    if (*nvars < MAKE_VARS) {
        const char *v = q + 1;
        while (v < e && *v == ' ') v++;
        vars[*nvars] = (makevar){p, (size_t)(nend - p), v, (size_t)(e - v)};
        (*nvars)++;
    }
    return 1;
}

/* `NAME != CMD` (override/export allowed): make runs CMD in a shell while it reads the
 * file. Returns CMD's start, or NULL when the line is not such an assignment. */
static const char *makeShellAssign(const char *p, const char *e) {
    p = skipMakeModifiers(p, e);
    const char *q = p;
    while (q < e && (*q == '_' || (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'))) q++;
    if (q == p) return NULL;
    while (q < e && *q == ' ') q++;
    return q + 1 < e && q[0] == '!' && q[1] == '=' ? q + 2 : NULL;
}

/* Each $(shell CMD) of a line outside recipes: make runs CMD while it reads the file (its
 * output is text for make, never a command: CMD is the line, not $(CMD)). */
static void makeShellCalls(text *sh, const char *p, const char *e, const makevar *vars, int nvars) {
    for (const char *x = p; (x = memmem(x, (size_t)(e - x), "$(shell ", 8)) != NULL;) {
        const char *q = closeOf(x + 1, e);
        if (!q) break;
        makeLine(sh, x + 8, q, vars, nvars);
        x = q + 1;
    }
}

static void makefile(lh_ctx *c, const char *s, size_t len, text *sh) {
    const char *end = s + len;
    makevar vars[MAKE_VARS];
    int nvars = 0;
    char prefix = '\t';
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end);
        if (p < e && *p == prefix) {
            /* a recipe line, with its backslash-newline continuations */
            text line = {c, NULL, 0, 0};
            adds(&line, "");
            const char *x = p + 1;
            while (e < end && e > x && e[-1] == '\\') {
                add(&line, x, (size_t)(e - 1 - x));
                x = e + 1;
                e = lineEnd(x, end);
                if (x < e && *x == prefix) x++;
            }
            add(&line, x, (size_t)(e - x));
            if (c->oom) return;
            makeLine(sh, line.s, line.s + line.n, vars, nvars);
        } else if (e - p > 14 && !strncmp(p, ".RECIPEPREFIX", 13)) {
            const char *v = memchr(p, '=', (size_t)(e - p));
            if (v) {
                for (v++; v < e && *v == ' '; v++) {}
                if (v < e) prefix = *v;
            }
        } else if (e - p > 7 && !strncmp(p, "define ", 7)) {
            /* define NAME … endef: a variable of many lines */
            const char *n = p + 7, *ne = n;
            while (ne < e && *ne != ' ' && *ne != '\r' && *ne != '=' && *ne != ':') ne++;
            const char *body = e < end ? e + 1 : end, *q = body;
            while (q < end && strncmp(q, "endef", 5)) q = lineEnd(q, end) < end ? lineEnd(q, end) + 1 : end;
            if (nvars < MAKE_VARS && ne > n) {
                vars[nvars] = (makevar){n, (size_t)(ne - n), body, (size_t)((q > body ? q - 1 : body) - body)};
                nvars++;
            }
            e = lineEnd(q, end);
        } else {
            makeShellCalls(sh, p, e, vars, nvars);
            const char *run = makeShellAssign(p, e);
            if (run) makeLine(sh, run, e, vars, nvars);
            else if (!makeVar(p, e, vars, &nvars)) {
                /* target: prerequisites ; recipe */
                const char *colon = memchr(p, ':', (size_t)(e - p));
                const char *semi = colon ? memchr(colon, ';', (size_t)(e - colon)) : NULL;
                if (semi && (colon + 1 >= e || colon[1] != '=')) makeLine(sh, semi + 1, e, vars, nvars);
            }
        }
        p = e < end ? e + 1 : end;
    }
}

static void notebookCell(lh_ctx *c, const char *s, size_t len, text *sh) {
    const char *end = s + len;
    const char *p = s;
    while (p < end && (*p == ' ' || *p == '\n')) p++;
    static const char *const cells[] = {"%%bash", "%%sh", "%%script bash", "%%script sh", "%%!", NULL};
    /* (advcontent) cell magics that run other languages or write a file */
    static const char *const langs[][2] = {{"%%perl", "perl -e "}, {"%%ruby", "ruby -e "},
                                           {"%%python", "python3 -c "}, {"%%script python", "python3 -c "},
                                           {"%%script perl", "perl -e "}, {"%%script ruby", "ruby -e "},
                                           {"%%javascript", "node -e "}, {"%%js", "node -e "},
                                           {"%%script node", "node -e "}};
    for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
        if ((size_t)(end - p) >= strlen(langs[i][0]) && !strncmp(p, langs[i][0], strlen(langs[i][0]))) {
            const char *e = lineEnd(p, end);
            if (e >= end) return;
            adds(sh, langs[i][1]);
            addQuoted(sh, e + 1, (size_t)(end - e - 1));
            adds(sh, "\n" LH_CONTENT_UNIT);
            return;
        }
    if ((size_t)(end - p) > 12 && (!strncmp(p, "%%writefile ", 12) || !strncmp(p, "%%file ", 7))) {
        /* the cell's text is written to the path: judged as a shell write to it */
        const char *e = lineEnd(p, end), *f = p + (p[2] == 'w' ? 12 : 7);
        while (f < e && *f == ' ') f++;
        if (f < e && *f == '-') {               /* -a (append) */
            while (f < e && *f != ' ') f++;
            while (f < e && *f == ' ') f++;
        }
        const char *fe = e;
        while (fe > f && (fe[-1] == ' ' || fe[-1] == '\r')) fe--;
        if (fe > f) { adds(sh, ": > "); addQuoted(sh, f, (size_t)(fe - f)); adds(sh, "\n" LH_CONTENT_UNIT); }
        return;
    }
    for (int i = 0; cells[i]; i++)
        if ((size_t)(end - p) >= strlen(cells[i]) && !strncmp(p, cells[i], strlen(cells[i]))) {
            const char *e = lineEnd(p, end);
            if (e < end) add(sh, e + 1, (size_t)(end - e - 1));
            adds(sh, "\n" LH_CONTENT_UNIT);
            return;
        }
    text py = {c, NULL, 0, 0};
    adds(&py, "");
    for (p = s; p < end;) {
        const char *e = lineEnd(p, end);
        const char *q = p;
        while (q < e && (*q == ' ' || *q == '\t')) q++;
        /* IPython runs `!cmd`, `!!cmd`, `x = !cmd`, `%system cmd`, `%sx cmd` as shell */
        const char *bang = NULL;
        if (q < e && *q == '!') bang = q;
        else if (q < e && *q != '#') {
            const char *eq = memchr(q, '=', (size_t)(e - q));
            const char *r = eq ? eq + 1 : e;
            while (r < e && *r == ' ') r++;
            if (eq && r < e && *r == '!' && (eq + 1 >= e || eq[1] != '=') && eq > q && eq[-1] != '!' && eq[-1] != '<' &&
                eq[-1] != '>' && eq[-1] != '=')
                bang = r;
        }
        if (!bang && (size_t)(e - q) > 8 && !strncmp(q, "%system ", 8)) bang = q + 7;
        if (!bang && (size_t)(e - q) > 4 && !strncmp(q, "%sx ", 4)) bang = q + 3;
        if (bang) {
            while (bang < e && *bang == '!') bang++;
            add(sh, bang, (size_t)(e - bang));
            adds(sh, "\n" LH_CONTENT_UNIT);
        } else if (q < e && *q == '%') {
            /* line magics are not Python */
        } else {
            add(&py, p, (size_t)(e - p));
            adds(&py, "\n");
        }
        p = e < end ? e + 1 : end;
    }
    if (py.n) {
        adds(sh, "python3 -c ");
        addQuoted(sh, py.s, py.n);
        adds(sh, "\n" LH_CONTENT_UNIT);
    }
}

/* Decoded bytes of every string in j, keys included. */
static uint64_t jsonStrBytes(const json_t *j) {
    uint64_t n = 0;
    if (json_is_string(j)) return json_string_length(j);
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v) n += jsonStrBytes(v);
    } else if (json_is_object(j)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v) n += strlen(k) + jsonStrBytes(v);
    }
    return n;
}

/* Whether json_loadb's result nb is all of s, as far as our own JSON grammar can tell
 * (request.c). jansson out of memory does not always say so: json_loadb may fail on good
 * JSON with the error of a syntax error, or even succeed with a byte left out of a string
 * (its lexer ignores a buffer that failed to grow). Bad JSON, or JSON with duplicate keys
 * (which json_loadb accepts and our grammar does not), is taken as jansson read it. */
static int jsonComplete(lh_ctx *c, const char *s, size_t len, const json_t *nb) {
    uint64_t bytes = 0;
    if (!lh_json_well_formed(c->arena, s, len, &bytes)) return 1;
    return nb && jsonStrBytes(nb) == bytes;
}

/* A notebook's text: one cell's source (NotebookEdit's new_source), or the whole .ipynb
 * JSON, whose code cells hold their source as a string or a list of lines; each code
 * cell is read as its own cell. Text that is not notebook JSON is one cell. */
static void notebook(lh_ctx *c, const char *s, size_t len, text *sh) {
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    json_t *nb = p < end && *p == '{' ? json_loadb(s, len, 0, NULL) : NULL;
    if (p < end && *p == '{' && !jsonComplete(c, s, len, nb)) {
        /* out of memory inside jansson: not "not a notebook", its cells were not read */
        json_decref(nb);
        c->oom = 1;
        return;
    }
    json_t *cells = nb ? json_object_get(nb, "cells") : NULL;
    if (!json_is_array(cells)) {
        json_decref(nb);
        notebookCell(c, s, len, sh);
        return;
    }
    size_t i;
    json_t *cell;
    json_array_foreach(cells, i, cell) {
        const char *type = json_string_value(json_object_get(cell, "cell_type"));
        if (type && strcmp(type, "code")) continue;   /* markdown and raw cells do not run */
        json_t *src = json_object_get(cell, "source");
        text code = {c, NULL, 0, 0};
        adds(&code, "");
        if (json_is_string(src)) {
            add(&code, json_string_value(src), json_string_length(src));
        } else if (json_is_array(src)) {
            size_t j;
            json_t *line;
            json_array_foreach(src, j, line)
                if (json_is_string(line)) add(&code, json_string_value(line), json_string_length(line));
        }
        if (c->oom) break;
        if (code.n) notebookCell(c, code.s, code.n, sh);
    }
    json_decref(nb);
}

const char *lh_content_commands(lh_ctx *c, const char *path, lh_tool tool, const char *s,
                                size_t len, size_t *outlen) {
    *outlen = 0;
    lh_ct_tool_program(c, path, s, len);
    target t = targetOf(path, tool);
    text sh = {c, NULL, 0, 0};
    if (lh_ct3_commands(c, path, s, len, &sh) || t == TGT_NONE) {
        if (c->oom || !sh.n) return NULL;
        *outlen = sh.n;
        return sh.s;
    }
    if (!sh.s) adds(&sh, "");
    switch (t) {
    case TGT_WORKFLOW: {
        static const char *const keys[] = {"run", NULL};
        workflow(c, s, len, &sh);
        lh_ct_yaml_commands(s, len, keys, &sh);   /* flow maps, quoted keys, comments */
        if (memmem(s, len, "shell: python", 13)) lh_ct_workflow_python(s, len, &sh);
        if (memmem(s, len, "actions/github-script", 21)) {   /* its script: is JavaScript */
            static const char *const js[] = {"script", NULL};
            text code = {c, NULL, 0, 0};
            adds(&code, "");
            lh_ct_yaml_commands(s, len, js, &code);
            for (const char *u = code.s, *ce = code.s + code.n; u && u < ce;) {
                const char *ue = memchr(u, LH_CONTENT_UNIT[0], (size_t)(ce - u));
                if (!ue) ue = ce;
                if (ue > u) { adds(&sh, "node -e "); addQuoted(&sh, u, (size_t)(ue - u)); adds(&sh, "\n" LH_CONTENT_UNIT); }
                u = ue + 1;
            }
        }
        break;
    }
    case TGT_TASKS: tasks(c, s, len, &sh); break;
    case TGT_PACKAGE: package(c, s, len, &sh); break;
    case TGT_MAKE: makefile(c, s, len, &sh); break;
    case TGT_NOTEBOOK: notebook(c, s, len, &sh); break;
    case TGT_DEVCONTAINER: {
        static const char *const keys[] = {"initializeCommand", "onCreateCommand", "updateContentCommand",
                                           "postCreateCommand", "postStartCommand", "postAttachCommand", NULL};
        jsonValues(c, s, len, keys, &sh);
        break;
    }
    case TGT_SCRIPT:
        add(&sh, s, len);
        adds(&sh, "\n" LH_CONTENT_UNIT);
        lh_ct_envrc_source_url(s, len, &sh);
        break;
    case TGT_RUST: lh_ct_rust(s, len, &sh); break;
    case TGT_GITMODULES: lh_ct_gitmodules(s, len, &sh); break;
    case TGT_GITLAB: {
        static const char *const keys[] = {"script", "before_script", "after_script", NULL};
        gitlab(s, len, &sh);
        lh_ct_yaml_commands(s, len, keys, &sh);
        break;
    }
    case TGT_CIYAML: {
        static const char *const keys[] = {"run", "command", "commands", "cmds", "cmd", "script", "before_script",
                                           "after_script", "before_install", "install", "before_script",
                                           "init", "before", "bash", "pwsh", "entry", NULL};
        lh_ct_yaml_commands(s, len, keys, &sh);
        break;
    }
    case TGT_PRECOMMIT: {
        static const char *const keys[] = {"entry", NULL};
        precommit(s, len, &sh);
        lh_ct_yaml_commands(s, len, keys, &sh);   /* flow maps: - {id: x, entry: cmd} */
        break;
    }
    case TGT_PYSTART: pystart(path, s, len, &sh); break;
    case TGT_PYCODE: fileCode("python3 -c ", s, len, &sh); break;
    case TGT_JSCODE: fileCode("node -e ", s, len, &sh); break;
    case TGT_RBCODE: fileCode("ruby -e ", s, len, &sh); break;
    case TGT_JUST: lh_ct_justfile(s, len, &sh); break;
    case TGT_GO: lh_ct_go_generate(s, len, &sh); break;
    case TGT_TOX: lh_ct_ini_commands(s, len, INI_TOX, &sh); break;
    case TGT_PYLINT: lh_ct_ini_commands(s, len, INI_PYLINT, &sh); break;
    case TGT_CARGO: lh_ct_ini_commands(s, len, INI_CARGO, &sh); break;
    case TGT_PYPROJECT: lh_ct_ini_commands(s, len, INI_PYPROJECT, &sh); break;
    case TGT_JENKINS: lh_ct_jenkinsfile(s, len, &sh); break;
    case TGT_CMAKE: lh_ct_cmake(s, len, &sh); break;
    default: break;
    }
    if (c->oom || !sh.n) return NULL;
    *outlen = sh.n;
    return sh.s;
}

const char *lh_content_json_value(lh_ctx *c, const char *s, size_t len, const char *key,
                                  size_t *outlen) {
    const char *const keys[] = {key, NULL};
    text sh = {c, NULL, 0, 0};
    adds(&sh, "");
    jsonValues(c, s, len, keys, &sh);
    *outlen = sh.n;
    return c->oom || !sh.n ? NULL : sh.s;
}

/* (advcontent) An Edit of a file whose commands run by themselves can change a command's
 * text alone ("npm test" to "rm -rf ~" inside a run: step or a package.json script): the
 * new text carries no key, so the reader finds nothing. Then each of its lines is read as
 * a command, with a YAML item's "- ", a JSON value's quotes and trailing comma taken off
 * (a changed name or version is a word that runs nothing). Code files are read whole. */
static void editFragment(lh_ctx *c, const char *path, const char *s, size_t len, text *sh) {
    target t = targetOf(path, LH_TOOL_EDIT);
    if (t == TGT_NONE || t == TGT_NOTEBOOK || t == TGT_PYCODE || t == TGT_JSCODE || t == TGT_RBCODE ||
        t == TGT_PYSTART || t == TGT_SCRIPT)
        return;
    sh->c = c;
    sh->s = NULL;
    sh->n = sh->cap = 0;
    adds(sh, "");
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        const char *e = lineEnd(p, end), *k = p, *ke = e;
        while (k < ke && (*k == ' ' || *k == '\t')) k++;
        if (ke - k >= 2 && k[0] == '-' && k[1] == ' ') k += 2;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\r' || ke[-1] == ',')) ke--;
        if (ke - k >= 2 && (*k == '"' || *k == '\'') && ke[-1] == *k) { k++; ke--; }
        if (ke > k) {
            add(sh, k, (size_t)(ke - k));
            adds(sh, "\n" LH_CONTENT_UNIT);
        }
        p = e < end ? e + 1 : end;
    }
}

void lh_content_analyze(lh_ctx *c) {
    const lh_request *r = c->req;
    const char *content = r->content;
    size_t clen = content ? strlen(content) : 0;
    if (!content && r->edits_json) {  /* MultiEdit: every new_string, one after another */
        char *all = (char *)lh_content_json_value(c, r->edits_json, strlen(r->edits_json), "new_string", &clen);
        for (size_t i = 0; all && i < clen; i++)
            if (all[i] == LH_CONTENT_UNIT[0]) all[i] = '\n';
        content = all;
    }
    if (!content || !r->file_path || c->script) return;
    text sh = {c, NULL, 0, 0};
    sh.s = (char *)lh_content_commands(c, r->file_path, r->tool, content, clen, &sh.n);
    if (!c->oom && (!sh.s || !sh.n) && (r->tool == LH_TOOL_EDIT || r->tool == LH_TOOL_MULTIEDIT))
        editFragment(c, r->file_path, content, clen, &sh);
    if (c->oom || !sh.s || !sh.n) return;
    lh_shell_limits lim;
    lh_shell_default_limits(&lim);
    if (sh.n > lim.max_input) {
        lh_emit_full(c, -1, LH_RULE(TOO_COMPLEX)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                     "the file's commands exceed a safety bound (length, nesting or count)",
                     "split the file, or ask the user", "the file's commands are longer than the limit");
        return;
    }
    lh_script *script = lh_arena_calloc(c->arena, sizeof(*script));
    if (!script) { c->oom = 1; return; }
    c->script = script;
    /* each unit (a recipe line, a run step, a script value) is its own shell: a syntax
     * error in one, often make or YAML syntax, neither hides nor stops the others */
    for (const char *u = sh.s, *end = sh.s + sh.n; u < end;) {
        const char *ue = memchr(u, LH_CONTENT_UNIT[0], (size_t)(end - u));
        if (!ue) ue = end;
        int filecode = u < ue && *u == FILE_CODE_MARK[0], first = script->ncmds;
        if (filecode) u++;
        lh_shell_parse(c->arena, u, (size_t)(ue - u), &lim, script, -1, -1, LH_ORIGIN_TOP, 0);
        for (int k = first; filecode && k < script->ncmds; k++) script->cmds[k].flags |= LH_C_FILE_CODE;
        if (script->error == LH_SH_NOMEM) { c->oom = 1; return; }
        if (script->error == LH_SH_SYNTAX) { script->error = LH_SH_OK; script->errmsg = NULL; }
        if (script->error != LH_SH_OK) {
            lh_emit_full(c, -1, LH_RULE(TOO_COMPLEX)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                         "the file's commands exceed a safety bound (length, nesting or count)",
                         "split the file, or ask the user", script->errmsg);
            break;
        }
        u = ue + 1;
    }
    lh_unwrap(c, &lim);
}
