/* policy.c — `lighthouse policy`: check a policy bundle before it is used.
 *
 *   lighthouse policy lint FILE              errors as FILE:LINE:COLUMN: message
 *   lighthouse policy test FILE CASES.yaml   run every case through the real engine
 *
 * Exit: 0 ok; 1 a case did not get its expected decision; 2 bad usage or bad input
 * (a policy or cases file with errors). docs/policy.md describes both file formats. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "engine/policy.h"
#include "util/io.h"

#define MAX_DIAGS        100
#define MAX_CASES_BYTES  (16u << 20)
#define MAX_CASES        100000
#define MAX_INPUT_DEPTH  16
#define DEFAULT_CWD      "/home/dev/project"
#define DEFAULT_HOME     "/home/dev"

static void usage(FILE *f) {
    fprintf(f,
            "usage: lighthouse policy lint FILE\n"
            "       lighthouse policy test [-v] FILE CASES.yaml\n"
            "\n"
            "lint  checks a policy bundle; errors are printed as FILE:LINE:COLUMN: message.\n"
            "test  runs every case of CASES.yaml through the engine with the policy FILE and\n"
            "      reports each case whose decision (or deciding rule) differs from expect.\n"
            "Exit status: 0 ok, 1 a case failed, 2 bad usage or a file with errors.\n"
            "See docs/policy.md for both formats.\n");
}

/* ------------------------------------------------------------------------------ */
/* Loading a policy                                                                */
/* ------------------------------------------------------------------------------ */

static void printDiag(const char *file, int line, int col, const char *msg) {
    if (line > 0) fprintf(stderr, "%s:%d:%d: %s\n", file, line, col, msg);
    else fprintf(stderr, "%s: %s\n", file, msg);
}

/* Parse FILE; print its errors. NULL on any error. */
static lh_policy *loadPolicy(const char *file) {
    char err[256];
    size_t len = 0;
    char *text = lh_read_file(file, LH_POLICY_MAX_BYTES, &len, err, sizeof(err));
    if (!text) { fprintf(stderr, "%s: %s\n", file, err); return NULL; }
    lh_policy_diag diags[MAX_DIAGS];
    int nd = 0;
    lh_policy *p = lh_policy_parse(text, len, file, diags, MAX_DIAGS, &nd);
    free(text);
    if (p) return p;
    for (int i = 0; i < nd; i++) printDiag(file, diags[i].line, diags[i].column, diags[i].message);
    if (nd == 0) fprintf(stderr, "%s: the policy has errors\n", file);
    fprintf(stderr, "%s: %d error%s; the policy does not load\n", file, nd, nd == 1 ? "" : "s");
    return NULL;
}

static int cmdLint(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: lighthouse policy lint FILE\n");
        return 2;
    }
    lh_policy *p = loadPolicy(argv[1]);
    if (!p) return 2;
    printf("ok: %d rule%s, revision %s\n", lh_policy_nrules(p), lh_policy_nrules(p) == 1 ? "" : "s",
           lh_policy_revision(p));
    lh_policy_free(p);
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Cases                                                                           */
/* ------------------------------------------------------------------------------ */

typedef struct tcase {
    const char *name;
    int line;
    const char *tool, *cwd, *home, *agent, *role, *rule;
    lh_action expect;
    json_t *input;        /* the tool input as JSON (owned) */
} tcase;

typedef struct cfile {
    const char *file;
    yaml_document_t doc;
    int errors;
    tcase *cases;
    int ncases;
} cfile;

static void cerr(cfile *cf, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cerr(cfile *cf, const yaml_node_t *n, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printDiag(cf->file, n ? (int)n->start_mark.line + 1 : 0, n ? (int)n->start_mark.column + 1 : 0, msg);
    cf->errors++;
}

static const char *scalar(cfile *cf, const yaml_node_t *n, const char *what) {
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0) {
        cerr(cf, n, "%s must be a non-empty string", what);
        return NULL;
    }
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
        cerr(cf, n, "%s contains a NUL byte", what);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

/* A YAML node as JSON: plain true/false/null and integers keep their type. */
static json_t *toJson(cfile *cf, yaml_node_t *n, int depth) {
    if (!n) return NULL;
    if (depth > MAX_INPUT_DEPTH) { cerr(cf, n, "input is nested deeper than %d", MAX_INPUT_DEPTH); return NULL; }
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        size_t len = n->data.scalar.length;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            if (!strcmp(s, "true")) return json_true();
            if (!strcmp(s, "false")) return json_false();
            if (!strcmp(s, "null") || !strcmp(s, "~")) return json_null();
            char *end;
            long long v = strtoll(s, &end, 10);
            if (*s && !*end && len < 19) return json_integer(v);
        }
        return json_stringn(s, len);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            json_t *v = toJson(cf, yaml_document_get_node(&cf->doc, *it), depth + 1);
            if (!v) { json_decref(a); return NULL; }
            json_array_append_new(a, v);
        }
        return a;
    }
    json_t *o = json_object();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&cf->doc, p->key);
        const char *ks = scalar(cf, k, "an input key");
        json_t *v = ks ? toJson(cf, yaml_document_get_node(&cf->doc, p->value), depth + 1) : NULL;
        if (!v) { json_decref(o); return NULL; }
        json_object_set_new(o, ks, v);
    }
    return o;
}

static const char *const caseKeys[] = {"name", "tool", "command", "file_path", "path", "url",
                                       "input", "cwd", "home", "agent", "role", "expect",
                                       "rule", NULL};

static int caseKey(const char *k) {
    for (int i = 0; caseKeys[i]; i++)
        if (!strcmp(k, caseKeys[i])) return i;
    return -1;
}

static void parseCase(cfile *cf, yaml_node_t *n, tcase *c) {
    if (n->type != YAML_MAPPING_NODE) { cerr(cf, n, "a case must be a map (name, command, expect…)"); return; }
    c->line = (int)n->start_mark.line + 1;
    c->tool = "Bash";
    c->cwd = DEFAULT_CWD;
    c->home = DEFAULT_HOME;
    const char *command = NULL, *file_path = NULL, *path = NULL, *url = NULL;
    int has_expect = 0, bad = 0;
    yaml_node_t *input = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&cf->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&cf->doc, p->value);
        const char *ks = scalar(cf, k, "a case key");
        if (!ks) { bad = 1; continue; }
        const char *s = NULL;
        int ki = caseKey(ks);
        if (ki < 0) {
            cerr(cf, k, "unknown key '%.60s' in a case (expected name, tool, command, file_path, "
                        "path, url, input, cwd, home, agent, role, expect, rule)", ks);
            bad = 1;
            continue;
        }
        if (ki != 6 && !(s = scalar(cf, v, ks))) { bad = 1; continue; }
        switch (ki) {
        case 0: c->name = s; break;
        case 1: c->tool = s; break;
        case 2: command = s; break;
        case 3: file_path = s; break;
        case 4: path = s; break;
        case 5: url = s; break;
        case 6:
            if (v->type != YAML_MAPPING_NODE) { cerr(cf, v, "input must be a map (the tool's input)"); bad = 1; }
            else input = v;
            break;
        case 7: c->cwd = s; break;
        case 8: c->home = s; break;
        case 9: c->agent = s; break;
        case 10: c->role = s; break;
        case 11:
            if (lh_action_parse(s, &c->expect) < 0) { cerr(cf, v, "expect must be allow, deny or escalate"); bad = 1; }
            has_expect = 1;
            break;
        case 12: c->rule = s; break;
        default: break;
        }
    }
    if (!c->name) { cerr(cf, n, "the case needs a name"); return; }
    if (!has_expect) { cerr(cf, n, "case '%s' needs expect: allow, deny or escalate", c->name); return; }
    if (c->cwd[0] != '/') { cerr(cf, n, "case '%s': cwd must be an absolute path", c->name); return; }
    if (bad) return;
    c->input = input ? toJson(cf, input, 0) : json_object();
    if (!c->input) return;
    if (command) json_object_set_new(c->input, "command", json_string(command));
    if (file_path) json_object_set_new(c->input, "file_path", json_string(file_path));
    if (path) json_object_set_new(c->input, "path", json_string(path));
    if (url) json_object_set_new(c->input, "url", json_string(url));
    if (!strcmp(c->tool, "Bash") && !json_is_string(json_object_get(c->input, "command")))
        cerr(cf, n, "case '%s' runs Bash and needs a command", c->name);
}

/* Parse the cases file; print its errors. Returns 0 when it is usable. */
static int loadCases(cfile *cf) {
    char err[256];
    size_t len = 0;
    char *text = lh_read_file(cf->file, MAX_CASES_BYTES, &len, err, sizeof(err));
    if (!text) { fprintf(stderr, "%s: %s\n", cf->file, err); return -1; }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) { free(text); fprintf(stderr, "out of memory\n"); return -1; }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&parser, &cf->doc);
    if (!ok) {
        fprintf(stderr, "%s:%d:%d: YAML syntax error: %s%s%s\n", cf->file,
                (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
                parser.problem ? parser.problem : "unknown", parser.context ? " " : "",
                parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(text);
        return -1;
    }
    yaml_parser_delete(&parser);
    free(text);
    yaml_node_t *root = yaml_document_get_root_node(&cf->doc);
    yaml_node_t *list = NULL;
    if (!root || root->type != YAML_MAPPING_NODE) {
        cerr(cf, root, "the cases file must be a map with a cases: list");
        return -1;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&cf->doc, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, "cases"))
            list = yaml_document_get_node(&cf->doc, p->value);
        else
            cerr(cf, k, "unknown top-level key (expected cases)");
    }
    if (!list || list->type != YAML_SEQUENCE_NODE) {
        cerr(cf, list ? list : root, "cases must be a list of cases");
        return -1;
    }
    long n = list->data.sequence.items.top - list->data.sequence.items.start;
    if (n > MAX_CASES) { cerr(cf, list, "more than %d cases", MAX_CASES); return -1; }
    cf->cases = calloc((size_t)(n ? n : 1), sizeof(tcase));
    if (!cf->cases) { fprintf(stderr, "out of memory\n"); return -1; }
    for (long i = 0; i < n; i++) {
        tcase *c = &cf->cases[cf->ncases++];
        parseCase(cf, yaml_document_get_node(&cf->doc, list->data.sequence.items.start[i]), c);
        for (int j = 0; c->name && j < cf->ncases - 1; j++)
            if (cf->cases[j].name && !strcmp(cf->cases[j].name, c->name)) {
                fprintf(stderr, "%s:%d:1: duplicate case name '%s' (first at line %d)\n", cf->file,
                        c->line, c->name, cf->cases[j].line);
                cf->errors++;
                break;
            }
    }
    return cf->errors ? -1 : 0;
}

static void freeCases(cfile *cf) {
    for (int i = 0; i < cf->ncases; i++) json_decref(cf->cases[i].input);
    free(cf->cases);
    yaml_document_delete(&cf->doc);
}

/* ------------------------------------------------------------------------------ */
/* Running the cases                                                               */
/* ------------------------------------------------------------------------------ */

/* The case as a native request, parsed the way the bridge and the hook parse one. */
static int buildRequest(const tcase *c, lh_arena *a, lh_request *req, char *err, size_t errlen) {
    json_t *o = json_object();
    json_object_set_new(o, "tool", json_string(c->tool));
    json_object_set(o, "input", c->input);
    json_object_set_new(o, "cwd", json_string(c->cwd));
    json_object_set_new(o, "home", json_string(c->home));
    if (c->agent) json_object_set_new(o, "agent", json_string(c->agent));
    if (c->role) json_object_set_new(o, "role", json_string(c->role));
    json_object_set_new(o, "session", json_string("policy-test"));
    char *js = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!js) { snprintf(err, errlen, "out of memory"); return -1; }
    int rc = lh_request_parse_json(a, js, strlen(js), req, err, errlen);
    free(js);
    return rc;
}

static int runCases(lh_engine *e, cfile *cf, int verbose) {
    lh_arena *a = lh_arena_new(64 * 1024);
    if (!a) { fprintf(stderr, "out of memory\n"); return 2; }
    int failed = 0, bad = 0;
    for (int i = 0; i < cf->ncases; i++) {
        const tcase *c = &cf->cases[i];
        lh_arena_reset(a);
        lh_request req;
        char err[256];
        if (buildRequest(c, a, &req, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s:%d:1: case '%s': bad request: %s\n", cf->file, c->line, c->name, err);
            bad++;
            continue;
        }
        lh_decision d;
        lh_engine_decide(e, &req, a, &d, LH_DECIDE_NOCACHE | LH_DECIDE_EXPLAIN);
        int ok = d.action == c->expect && (!c->rule || (d.rule && !strcmp(d.rule, c->rule)));
        if (ok) {
            if (verbose) printf("ok   %s: %s by %s\n", c->name, lh_action_name(d.action), d.rule);
            continue;
        }
        failed++;
        printf("FAIL %s (%s:%d): expected %s%s%s, got %s by rule %s (%s tier): %s\n", c->name,
               cf->file, c->line, lh_action_name(c->expect), c->rule ? " by rule " : "",
               c->rule ? c->rule : "", lh_action_name(d.action), d.rule ? d.rule : "?",
               lh_tier_name(d.tier), d.reason ? d.reason : "");
        if (d.nfindings) {
            printf("     findings:\n");
            for (int k = 0; k < d.nfindings; k++) {
                const lh_finding *f = &d.findings[k];
                printf("       %-8s %s (%s%s%s)%s%s\n", lh_action_name(f->action), f->rule,
                       lh_tier_name(f->tier), f->subject ? ", " : "", f->subject ? f->subject : "",
                       f->overridden_by ? " cancelled by " : "",
                       f->overridden_by ? f->overridden_by : "");
            }
        }
    }
    lh_arena_free(a);
    printf("%d case%s: %d passed, %d failed%s\n", cf->ncases, cf->ncases == 1 ? "" : "s",
           cf->ncases - failed - bad, failed, bad ? " (and some could not run)" : "");
    if (bad) return 2;
    return failed ? 1 : 0;
}

static int cmdTest(int argc, char **argv) {
    int verbose = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) verbose = 1;
        else { fprintf(stderr, "lighthouse policy test: unknown option '%s'\n", argv[i]); return 2; }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: lighthouse policy test [-v] FILE CASES.yaml\n");
        return 2;
    }
    lh_policy *p = loadPolicy(argv[i]);
    if (!p) return 2;
    cfile cf;
    memset(&cf, 0, sizeof(cf));
    cf.file = argv[i + 1];
    if (loadCases(&cf) < 0) {
        if (cf.errors)
            fprintf(stderr, "%s: %d error%s; no case was run\n", cf.file, cf.errors, cf.errors == 1 ? "" : "s");
        freeCases(&cf);
        lh_policy_free(p);
        return 2;
    }
    char err[256];
    lh_engine *e = lh_engine_new(p, 0, err, sizeof(err));   /* owns p from here */
    if (!e) { fprintf(stderr, "lighthouse policy test: %s\n", err); freeCases(&cf); return 2; }
    int rc = runCases(e, &cf, verbose);
    lh_engine_free(e);
    freeCases(&cf);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Dispatch                                                                        */
/* ------------------------------------------------------------------------------ */

int lh_cli_policy(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) { usage(stdout); return 0; }
    if (!strcmp(sub, "lint")) return cmdLint(argc - 1, argv + 1);
    if (!strcmp(sub, "test")) return cmdTest(argc - 1, argv + 1);
    if (!strcmp(sub, "push") || !strcmp(sub, "history") || !strcmp(sub, "rollback")) {
        fprintf(stderr, "lighthouse policy %s: needs the bridge, which this build does not have yet\n", sub);
        return 2;
    }
    fprintf(stderr, "lighthouse policy: unknown subcommand '%s'\n\n", sub);
    usage(stderr);
    return 2;
}
