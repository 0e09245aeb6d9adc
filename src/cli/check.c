/* check.c — `lighthouse check`: decide one call (or a batch) from the command line.
 *
 *   lighthouse check [--cwd DIR] [--tool NAME] [--policy FILE] [--json] [--explain] -- COMMAND...
 *   lighthouse check [--json] [--explain] < request.json     (native or hook payload)
 *   lighthouse check --batch [--policy FILE]                  (JSON lines in and out)
 *
 * Exit: 0 allow, 1 deny or escalate, 2 bad usage or input. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/paths.h"
#include "engine/shell.h"
#include "hook/setup.h"
#include "util/io.h"

typedef struct check_opts {
    const char *cwd, *tool, *policy;
    int json, explain, batch;
    int argc;          /* command words after -- */
    char **argv;
} check_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: lighthouse check [--cwd DIR] [--tool NAME] [--policy FILE] [--json] [--explain] -- COMMAND...\n"
            "       lighthouse check [--json] [--explain] < request.json\n"
            "       lighthouse check --batch [--policy FILE] < requests.jsonl\n"
            "\n"
            "Decides whether an agent's tool call should run. COMMAND is a shell command for\n"
            "the Bash tool (the default), or the file path for Write, Edit, Read….\n"
            "Exit status: 0 allow, 1 deny or escalate, 2 bad usage or input.\n");
}

static uint64_t nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parseArgs(int argc, char **argv, check_opts *o) {
    memset(o, 0, sizeof(*o));
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--explain")) o->explain = 1;
        else if (!strcmp(a, "--batch")) o->batch = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--cwd") || !strcmp(a, "--tool") || !strcmp(a, "--policy")) {
            if (i + 1 >= argc) { fprintf(stderr, "lighthouse check: %s needs a value\n", a); return -1; }
            const char *v = argv[++i];
            if (!strcmp(a, "--cwd")) o->cwd = v;
            else if (!strcmp(a, "--tool")) o->tool = v;
            else o->policy = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "lighthouse check: unknown option '%s'\n", a);
            return -1;
        } else {
            break;   /* the command starts (no -- given) */
        }
    }
    o->argc = argc - i;
    o->argv = argv + i;
    if (o->batch && o->argc) { fprintf(stderr, "lighthouse check: --batch reads requests from stdin; give no command\n"); return -1; }
    if (o->cwd && o->cwd[0] != '/') { fprintf(stderr, "lighthouse check: --cwd must be an absolute path\n"); return -1; }
    return 0;
}

/* Join the command words with spaces, as the shell would have received them. */
static char *joinArgs(lh_arena *a, int argc, char **argv, size_t *len) {
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = lh_arena_alloc(a, n + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        memcpy(s + o, argv[i], l);
        o += l;
        if (i + 1 < argc) s[o++] = ' ';
    }
    s[o] = 0;
    *len = o;
    return s;
}

/* ------------------------------------------------------------------------------ */
/* Explain                                                                         */
/* ------------------------------------------------------------------------------ */

static int looksLikePath(const lh_word *w) {
    const char *s = w->s;
    if (strpbrk(s, " \n\t")) return 0;   /* a script, not a path */
    return s[0] == '/' || s[0] == '~' || s[0] == '.' || strchr(s, '/') || (w->flags & LH_W_VAR);
}

static void explainHuman(const lh_request *r, const lh_decision *d, lh_arena *a) {
    const char *home = r->home;
    const char *cwd = r->cwd ? r->cwd : "/";
    int proj = lh_path_cwd_is_project(cwd, home);
    printf("request:  tool %s, cwd %s%s\n", r->tool_name, cwd, proj ? " (project)" : " (not a project dir)");
    if (r->command) printf("command:  %s\n", r->command);
    if (r->file_path) {
        lh_path p;
        lh_path_classify_in(a, cwd, home, proj, r->file_path, strlen(r->file_path), &p);
        printf("path:     %s -> %s\n", p.norm ? p.norm : r->file_path, lh_path_class_name(p.cls));
    }
    if (d->parse_error) printf("parse:    error: %s\n", d->parse_error);
    const lh_script *s = d->script;
    if (s) {
        printf("parse:    %d command%s\n", s->ncmds, s->ncmds == 1 ? "" : "s");
        for (int i = 0; i < s->ncmds; i++) {
            const lh_cmd *c = &s->cmds[i];
            printf("  [%d]%*s", i, c->depth * 2 + 1, "");
            if (c->argc == 0) printf("(no program)");
            for (int j = 0; j < c->argc; j++) printf(j ? " %s" : "%s", c->argv[j].s);
            printf("   <%s", lh_origin_name(c->origin));
            if (c->parent >= 0) printf(" of [%d]", c->parent);
            if (c->pipe_len > 1) printf(", stage %d/%d", c->pipe_pos + 1, c->pipe_len);
            if (c->wrappers) printf(", unwrapped: %s", c->wrappers);
            if (c->flags & LH_C_SUDO) printf(", as root");
            if (c->flags & LH_C_BACKGROUND) printf(", background");
            if (c->flags & LH_C_DYNAMIC_CMD) printf(", dynamic program");
            if (c->flags & LH_C_STDIN_ARGS) printf(", args from stdin");
            printf(">\n");
            for (int j = 0; j < c->nassigns; j++) printf("        assign %s\n", c->assigns[j].s);
            for (int j = 0; j < c->nredirs; j++) {
                const lh_redir *rd = &c->redirs[j];
                if (rd->op == LH_R_HEREDOC) {
                    printf("        here-doc (%s, %u bytes)\n", rd->heredoc_quoted ? "literal" : "expanded", rd->target.len);
                    continue;
                }
                lh_path p;
                const char *cls = "";
                if (lh_redir_writes_file(rd) || rd->op == LH_R_IN) {
                    lh_path_classify_in(a, cwd, home, proj, rd->target.s, rd->target.len, &p);
                    cls = lh_path_class_name(p.cls);
                }
                printf("        redirect fd %d %s %s%s%s\n", rd->fd, lh_redir_writes_file(rd) ? "writes" : "reads",
                       rd->target.s, *cls ? " -> " : "", cls);
            }
            for (int j = 1; j < c->argc; j++) {
                if (!looksLikePath(&c->argv[j])) continue;
                lh_path p;
                lh_path_classify_in(a, cwd, home, proj, c->argv[j].s, c->argv[j].len, &p);
                printf("        path %s -> %s\n", p.norm ? p.norm : c->argv[j].s, lh_path_class_name(p.cls));
            }
        }
    }
    printf("findings: %d\n", d->nfindings);
    for (int i = 0; i < d->nfindings; i++) {
        const lh_finding *f = &d->findings[i];
        printf("  %-8s %-8s %-8s %s", lh_tier_name(f->tier), lh_action_name(f->action),
               lh_risk_name(f->risk), f->rule);
        if (f->cmd >= 0) printf(" on [%d]", f->cmd);
        if (f->subject) printf(" (%s)", f->subject);
        if (f->overridden_by) printf("  -- overridden by %s", f->overridden_by);
        printf("\n");
    }
}

static json_t *explainJson(const lh_decision *d) {
    json_t *ex = json_object();
    json_t *cmds = json_array();
    const lh_script *s = d->script;
    for (int i = 0; s && i < s->ncmds; i++) {
        const lh_cmd *c = &s->cmds[i];
        json_t *argv = json_array();
        for (int j = 0; j < c->argc; j++) json_array_append_new(argv, json_string(c->argv[j].s));
        json_t *jc = json_pack("{s:o, s:s, s:s, s:i, s:i, s:i, s:b, s:b}", "argv", argv,
                               "program", c->prog, "origin", lh_origin_name(c->origin),
                               "parent", c->parent, "depth", c->depth, "pipe_pos", c->pipe_pos,
                               "sudo", (c->flags & LH_C_SUDO) != 0,
                               "dynamic", (c->flags & LH_C_DYNAMIC_CMD) != 0);
        if (c->wrappers) json_object_set_new(jc, "wrappers", json_string(c->wrappers));
        json_array_append_new(cmds, jc);
    }
    json_object_set_new(ex, "commands", cmds);
    if (d->parse_error) json_object_set_new(ex, "parse_error", json_string(d->parse_error));
    json_t *fs = json_array();
    for (int i = 0; i < d->nfindings; i++) {
        const lh_finding *f = &d->findings[i];
        json_t *jf = json_pack("{s:s, s:s, s:s, s:s, s:i}", "rule", f->rule, "decision",
                               lh_action_name(f->action), "risk", lh_risk_name(f->risk), "tier",
                               lh_tier_name(f->tier), "cmd", f->cmd);
        if (f->reason) json_object_set_new(jf, "reason", json_string(f->reason));
        if (f->subject) json_object_set_new(jf, "subject", json_string(f->subject));
        if (f->overridden_by) json_object_set_new(jf, "overridden_by", json_string(f->overridden_by));
        json_array_append_new(fs, jf);
    }
    json_object_set_new(ex, "findings", fs);
    return ex;
}

/* ------------------------------------------------------------------------------ */
/* Output                                                                          */
/* ------------------------------------------------------------------------------ */

static void printDecision(const lh_request *r, const lh_decision *d, const check_opts *o,
                          lh_arena *a) {
    char buf[16384];
    if (o->json) {
        if (lh_decision_to_json(d, NULL, buf, sizeof(buf)) < 0) {
            printf("{\"decision\":\"%s\",\"rule\":\"%s\"}\n", lh_action_name(d->action), d->rule);
            return;
        }
        if (!o->explain) { puts(buf); return; }
        json_t *j = json_loads(buf, 0, NULL);
        if (j) {
            json_object_set_new(j, "explain", explainJson(d));
            char *s = json_dumps(j, JSON_COMPACT);
            if (s) puts(s);
            free(s);
            json_decref(j);
        }
        return;
    }
    if (o->explain) explainHuman(r, d, a);
    printf("%s: %s\n", lh_action_name(d->action), d->reason);
    printf("  rule %s, risk %s, tier %s, %lu us\n", d->rule, lh_risk_name(d->risk),
           lh_tier_name(d->tier), (unsigned long)d->latency_us);
    if (d->instead) printf("  instead: %s\n", d->instead);
}

/* ------------------------------------------------------------------------------ */
/* Modes                                                                           */
/* ------------------------------------------------------------------------------ */

static int fillFromArgs(const check_opts *o, lh_arena *a, lh_request *r) {
    memset(r, 0, sizeof(*r));
    r->tool_name = o->tool ? o->tool : "Bash";
    r->tool = lh_tool_from_name(r->tool_name);
    size_t len;
    char *text = joinArgs(a, o->argc, o->argv, &len);
    if (!text) return -1;
    switch (r->tool) {
    case LH_TOOL_BASH: r->command = text; r->command_len = len; break;
    case LH_TOOL_GLOB: case LH_TOOL_GREP: case LH_TOOL_LS: r->path = text; break;
    case LH_TOOL_WEBFETCH: r->url = text; break;
    default: r->file_path = text; break;
    }
    return 0;
}

static void fillContext(const check_opts *o, lh_arena *a, lh_request *r) {
    if (o->cwd) r->cwd = o->cwd;
    if (!r->cwd) {
        char buf[4096];
        r->cwd = getcwd(buf, sizeof(buf)) ? lh_arena_strdup(a, buf) : "/";
    }
    if (!r->home) r->home = lh_setup_home();
}

static int decideOne(lh_engine *e, lh_request *r, const check_opts *o, lh_arena *a) {
    lh_decision d;
    uint64_t t0 = nowNs();
    lh_engine_decide(e, r, a, &d, o->explain ? LH_DECIDE_EXPLAIN : 0);
    d.latency_us = (nowNs() - t0) / 1000;
    printDecision(r, &d, o, a);
    return d.action == LH_ALLOW ? 0 : 1;
}

static int runBatch(lh_engine *e, const check_opts *o) {
    lh_arena *a = lh_arena_new(1 << 16);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int bad = 0;
    long lineno = 0;
    char buf[16384], err[512];
    while ((n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        lh_arena_reset(a);
        lh_request r;
        if (lh_request_parse_json(a, line, (size_t)n, &r, err, sizeof(err)) != 0) {
            char esc[1024];
            if (lh_json_escape(err, esc, sizeof(esc)) < 0) strcpy(esc, "bad request");
            printf("{\"error\":{\"code\":\"bad_request\",\"line\":%ld,\"message\":\"%s\"}}\n", lineno, esc);
            bad = 1;
            continue;
        }
        fillContext(o, a, &r);
        lh_decision d;
        uint64_t t0 = nowNs();
        lh_engine_decide(e, &r, a, &d, 0);
        d.latency_us = (nowNs() - t0) / 1000;
        if (lh_decision_to_json(&d, NULL, buf, sizeof(buf)) < 0)
            snprintf(buf, sizeof(buf), "{\"decision\":\"%s\",\"rule\":\"%s\"}", lh_action_name(d.action), d.rule);
        puts(buf);
    }
    free(line);
    lh_arena_free(a);
    return bad ? 2 : 0;
}

int lh_cli_check(int argc, char **argv) {
    check_opts o;
    if (parseArgs(argc, argv, &o) != 0) { usage(stderr); return 2; }
    lh_engine *e = lh_setup_engine(o.policy, o.batch ? 65536 : 0, stderr);
    if (!e) return 2;
    int rc;
    if (o.batch) {
        rc = runBatch(e, &o);
    } else {
        lh_arena *a = lh_arena_new(1 << 16);
        lh_request r;
        if (o.argc > 0) {
            rc = fillFromArgs(&o, a, &r);
        } else if (isatty(0)) {
            fprintf(stderr, "lighthouse check: give a command after --, or a JSON request on stdin\n");
            usage(stderr);
            rc = -1;
        } else {
            char err[512];
            size_t len;
            char *in = lh_read_fd(0, LH_MAX_REQUEST_BYTES, &len, NULL, err, sizeof(err));
            rc = -1;
            if (!in) fprintf(stderr, "lighthouse check: %s\n", err);
            else if (lh_request_parse_json(a, in, len, &r, err, sizeof(err)) != 0)
                fprintf(stderr, "lighthouse check: %s\n", err);
            else rc = 0;
            free(in);
        }
        if (rc == 0) {
            fillContext(&o, a, &r);
            rc = decideOne(e, &r, &o, a);
        } else {
            rc = 2;
        }
        lh_arena_free(a);
    }
    lh_engine_free(e);
    return rc;
}
