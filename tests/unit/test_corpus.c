/* test_corpus.c — every labelled tool call in tests/corpus/ (the .jsonl files) gets its expected
 * decision from the real engine with the default policy. One TAP line per call.
 *
 * A line is a native request plus "id", "class" and "expect" (or, in hook payload form,
 * {"id", "class", "expect", "home", "payload": {…Claude Code hook payload…}}). */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "engine/engine.h"
#include "engine/rules.h"
#include "engine/packs.h"

/* Rules no corpus line can reach: the engine's own failure path. Each needs a reason. */
static const char *const kUnreachable[] = {
    "engine.error",   /* internal error or arena exhaustion: not a property of a request */
    "shell.bad-bytes", /* NUL or invalid UTF-8: JSON (jansson) rejects both before the
                          engine sees them; test_engine.c covers the rule */
    NULL,
};

/* Count a decision against the rule table (rules.def) by its rule id. */
static void countRule(int *hits, const char *rule) {
    if (!rule) return;
    for (int k = 0; k < LH_RULE__COUNT; k++)
        if (!strcmp(lh_rules[k].id, rule)) { hits[k]++; return; }
}

/* Every rule in rules.def must decide at least one corpus call: a rule that decides
 * none could be deleted with every test still passing. Returns the failures. */
static int checkCoverage(const int *hits) {
    int bad = 0;
    for (int k = 0; k < LH_RULE__COUNT; k++) {
        int skip = 0;
        for (int u = 0; kUnreachable[u]; u++) skip |= !strcmp(kUnreachable[u], lh_rules[k].id);
        /* a pack off by default decides nothing here; test_policy switches it on */
        int pk = lh_pack_of_rule(lh_rules[k].id);
        if (pk >= 0 && !lh_packs[pk].on_by_default) skip = 1;
        if (hits[k] || skip) continue;
        printf("not ok - rule %s decides no corpus case (add one to tests/corpus/)\n", lh_rules[k].id);
        bad++;
    }
    if (!bad) printf("ok - every rule in rules.def decides a corpus case\n");
    return bad;
}

static int cmpStr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What is wrong with a decision's reason, or NULL (issue 12 part 8): empty, blank at
 * either end, two spaces, a dangling ':' or a subject that is only the subcommand of the
 * program the rule is named after ("force push rewrites …: push" for `git push -f`). */
static const char *reasonProblem(const char *reason, const char *rule, const char *command) {
    if (!reason || !*reason) return "empty reason";
    size_t n = strlen(reason);
    if (!lh_utf8_valid(reason, n)) return "not valid UTF-8";
    if (reason[0] == ' ' || reason[n - 1] == ' ' || reason[n - 1] == '\t' || reason[n - 1] == '\n')
        return "blank at an end";
    if (strstr(reason, "  ")) return "two spaces";
    if (reason[n - 1] == ':') return "dangling ':'";
    const char *colon = NULL;
    for (const char *q = strstr(reason, ": "); q; q = strstr(q + 1, ": ")) colon = q;
    if (!colon || !command || !rule) return NULL;
    const char *subj = colon + 2;
    for (const char *q = subj; *q; q++)   /* a subcommand is a plain word: push, apply */
        if (!((*q >= 'a' && *q <= 'z') || *q == '-')) return NULL;
    const char *dot = strchr(rule, '.');
    if (!dot || dot == rule) return NULL;
    char pat[256];
    int w = snprintf(pat, sizeof(pat), "%.*s %s", (int)(dot - rule), rule, subj);
    if (w <= 0 || (size_t)w >= sizeof(pat)) return NULL;
    for (const char *q = strstr(command, pat); q; q = strstr(q + 1, pat)) {
        char after = q[strlen(pat)];
        if ((q == command || q[-1] == ' ' || q[-1] == ';' || q[-1] == '&' || q[-1] == '(' || q[-1] == '\'' || q[-1] == '"') &&
            (after == 0 || after == ' ' || after == ';' || after == '\'' || after == '"'))
            return "the subject is only a subcommand";
    }
    return NULL;
}

int main(void) {
    const char *root = getenv("LH_ROOT");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/corpus", root && *root ? root : ".");
    DIR *d = opendir(dir);
    if (!d) { printf("not ok - cannot open %s\n", dir); return 1; }
    char *files[256];
    int nfiles = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nfiles < 256) {
        size_t l = strlen(de->d_name);
        if (l > 6 && !strcmp(de->d_name + l - 6, ".jsonl")) files[nfiles++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(files, (size_t)nfiles, sizeof(char *), cmpStr);

    char err[512];
    lh_engine *e = lh_engine_new(NULL, 0, err, sizeof(err));
    if (!e) { printf("not ok - engine: %s\n", err); return 1; }
    lh_arena *a = lh_arena_new(1 << 16);
    int n = 0, bad = 0, counts[3][3] = {{0}};
    int hits[LH_RULE__COUNT] = {0};
    for (int f = 0; f < nfiles; f++) {
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
        FILE *fp = fopen(path, "r");
        if (!fp) { printf("not ok - cannot open %s\n", path); bad++; continue; }
        char *line = NULL;
        size_t cap = 0;
        int lineno = 0;
        while (getline(&line, &cap, fp) > 0) {
            lineno++;
            if (line[0] == '\n' || line[0] == '#') continue;
            json_error_t je;
            json_t *j = json_loads(line, 0, &je);
            const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
            const char *expect = j ? json_string_value(json_object_get(j, "expect")) : NULL;
            lh_action want;
            if (!j || !id || !expect || lh_action_parse(expect, &want)) {
                printf("not ok - %s:%d: bad corpus line (%s)\n", files[f], lineno, j ? "needs id and expect" : je.text);
                bad++;
                json_decref(j);
                continue;
            }
            json_t *req = json_object_get(j, "payload");
            if (req) {
                req = json_deep_copy(req);
                json_t *home = json_object_get(j, "home");
                if (home) json_object_set(req, "home", home);
            } else {
                req = json_incref(j);
            }
            char *text = json_dumps(req, JSON_COMPACT);
            json_decref(req);
            lh_arena_reset(a);
            lh_request r;
            n++;
            if (lh_request_parse_json(a, text, strlen(text), &r, err, sizeof(err)) != 0) {
                printf("not ok - %s %s: request rejected: %s\n", files[f], id, err);
                bad++;
            } else {
                if (!r.cwd) r.cwd = "/";
                lh_decision dec;
                lh_engine_decide(e, &r, a, &dec, LH_DECIDE_NOCACHE);
                counts[want][dec.action]++;
                if (dec.action == want) countRule(hits, dec.rule);
                const char *rp = reasonProblem(dec.reason, dec.rule, r.command);
                if (rp) {
                    printf("not ok - %s %s: reason of %s: %s: \"%s\"\n", files[f], id, dec.rule, rp, dec.reason);
                    bad++;
                } else if (dec.action == want) {
                    printf("ok - %s %s\n", files[f], id);
                } else {
                    const char *what = r.command ? r.command : r.file_path ? r.file_path : r.tool_name;
                    printf("not ok - %s %s: expected %s, got %s by %s (%s) for: %.200s\n", files[f], id,
                           expect, lh_action_name(dec.action), dec.rule, dec.reason, what);
                    bad++;
                }
            }
            free(text);
            json_decref(j);
        }
        free(line);
        fclose(fp);
        free(files[f]);
    }
    printf("# %d calls; expected allow/escalate/deny (rows) vs got (columns):\n", n);
    for (int i = 0; i < 3; i++)
        printf("#   %-8s %5d %5d %5d\n", lh_action_name((lh_action)i), counts[i][0], counts[i][1], counts[i][2]);
    bad += checkCoverage(hits);
    if (n < 400) { printf("not ok - the corpus has %d calls; it must have at least 400\n", n); bad++; }
    lh_arena_free(a);
    lh_engine_free(e);
    return bad ? 1 : 0;
}
