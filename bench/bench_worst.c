/* bench_worst.c — the engine's worst case: adversarial requests within the request's
 * limits (found by searching every dimension: long and many paths, braces, cd chains,
 * expansions, loops, functions, redirections, wrappers, inline code of each language,
 * here-docs, Write content), each decided uncached, with the thread CPU time of its
 * decision (the least of a few runs), its steps and its decision. The last lines give
 * the worst figure and, beside it, an ordinary decision measured the same way.
 * Prints figures; never passes or fails on time (docs/architecture.md, "The step
 * budget"; tests/unit/test_worstcase.c holds the checks).
 *
 * For instruction counts of one input: valgrind --tool=callgrind
 * --toggle-collect=lh_engine_decide build/bench/bench_worst NAME.
 *
 * The commands are data built in memory and handed to the engine; nothing runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "util/arena.h"

#define CAP (1u << 20)

typedef struct gen {
    const char *name;
    const char *tool;      /* "Bash" or "Write" */
    const char *path;      /* Write: the file */
    const char *pre, *rep, *post;
    int n;                 /* rep n times */
} gen;

/* Each: pre + rep x n + post, within the parser's 256 KiB and the request's 1 MiB. */
static const gen kGens[] = {
    {"ordinary: ls -la", "Bash", NULL, "ls -la", "", "", 0},
    {"ordinary: git log", "Bash", NULL, "git log --oneline -n 20", "", "", 0},
    {"script: 4,090 mkdir/cp lines", "Bash", NULL, "mkdir -p build", "\nmkdir -p build/d1\ncp src/f.c build/d1/", "", 2045},
    {"braces: 60 words of unclosed {a,", "Bash", NULL, "rm -rf", " {a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,{a,", "", 900},
    {"braces: 400 x rm x{1..256}", "Bash", NULL, "true", "; rm -f x{1..256}", "", 400},
    {"paths: quoted a{ x 2,000, 60 words", "Bash", NULL, "cat", " 'a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{a{'", "", 1200},
    {"paths: 60 words of 4 KB a/..", "Bash", NULL, "rm -rf", " a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/../a/..", "", 60},
    {"cd: 4,000 x cd a &&", "Bash", NULL, "", "cd a && ", "ls", 4000},
    {"redirections: 15,000 on one command", "Bash", NULL, "echo x", " >f", "", 15000},
    {"variables: P=rm; 4,000 x $P -f x", "Bash", NULL, "P=rm", "; $P -f x", "", 4000},
    {"functions: 200 x $1$1… per call", "Bash", NULL, "f() { cat $1$1$1$1$1$1$1$1 $1$1$1$1$1$1$1$1 $1$1$1$1$1$1$1$1 $1$1$1$1$1$1$1$1; }", "\nf b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/../b/..", "", 400},
    {"loops: 16 items x 1,300 commands", "Bash", NULL, "for x in a b c d e f g h i j k l m n o p; do true", "; cat $x/a $x/b $x/c", "; done", 1300},
    {"inline perl: 12,000 x system(\"ls\")", "Bash", NULL, "perl -e '", "system(\"ls\");", "'", 12000},
    {"inline lua: 12,000 x os.execute", "Bash", NULL, "lua -e '", "os.execute(\"ls\") ", "'", 12000},
    {"inline python: 6,000 x subprocess.run([…])", "Bash", NULL, "python3 -c '", "subprocess.run([\"ls\", \"-la\"]);", "'", 6000},
    {"inline node: 40,000 x `${", "Bash", NULL, "node -e '", "`${", "'", 40000},
    {"here-doc python: 9,000 lines", "Bash", NULL, "python3 <<'EOF'\n", "import os\nos.system('ls')\n", "EOF", 4500},
    {"Write: Makefile of 20,000 recipe lines", "Write", "/home/dev/project/Makefile", "all:\n", "\trm -f a/b; ls -la\n", "", 20000},
    {"Write: notebook of 8,000 cells", "Write", "/home/dev/project/a.ipynb", "{\"cells\": [", "{\"cell_type\": \"code\", \"source\": [\"!ls -la\\n\", \"import os\\n\"]}, ", "{\"cell_type\": \"code\", \"source\": []}]}", 8000},
};

static double cpuNow(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Build the text of g into buf (NUL-terminated); its length, or 0 when it would not fit. */
static size_t buildText(const gen *g, char *buf) {
    size_t o = 0, pl = strlen(g->pre), rl = strlen(g->rep), ql = strlen(g->post);
    if (pl + (size_t)g->n * rl + ql >= CAP) return 0;
    memcpy(buf, g->pre, pl);
    o = pl;
    for (int i = 0; i < g->n; i++, o += rl) memcpy(buf + o, g->rep, rl);
    memcpy(buf + o, g->post, ql + 1);
    return o + ql;
}

/* The least thread CPU time of runs uncached decisions of r, in microseconds. */
static double decideTime(lh_engine *e, lh_arena *a, const lh_request *r, int runs, lh_decision *d) {
    double best = 1e30;
    for (int k = 0; k < runs; k++) {
        lh_arena_reset(a);
        double t0 = cpuNow();
        lh_engine_decide(e, r, a, d, LH_DECIDE_NOCACHE);
        double dt = cpuNow() - t0;
        if (dt < best) best = dt;
    }
    return best * 1e6;
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;   /* one input by a prefix of its name */
    char err[256];
    lh_engine *e = lh_engine_new(NULL, 1024, err, sizeof(err));
    if (!e) { fprintf(stderr, "bench_worst: %s\n", err); return 1; }
    lh_arena *a = lh_arena_new(1 << 16);
    char *buf = malloc(CAP);
    if (!a || !buf) { fprintf(stderr, "bench_worst: out of memory\n"); return 1; }
    double worst = 0, ordinary = 0;
    const char *worstName = "";
    size_t n = sizeof(kGens) / sizeof(kGens[0]);
    printf("%-44s %10s %8s %9s  %s\n", "input", "us", "steps", "bytes", "decision");
    for (size_t i = 0; i < n; i++) {
        const gen *g = &kGens[i];
        if (only && strncmp(g->name, only, strlen(only))) continue;
        size_t len = buildText(g, buf);
        if (!len) { fprintf(stderr, "bench_worst: %s does not fit\n", g->name); return 1; }
        lh_request r;
        memset(&r, 0, sizeof(r));
        r.cwd = "/home/dev/project";
        r.home = "/home/dev";
        r.tool_name = g->tool;
        if (!strcmp(g->tool, "Write")) {
            r.tool = LH_TOOL_WRITE;
            r.file_path = g->path;
            r.content = buf;
        } else {
            r.tool = LH_TOOL_BASH;
            r.command = buf;
            r.command_len = len;
        }
        lh_decision d;
        int ordinaryInput = !strncmp(g->name, "ordinary", 8);
        double us = decideTime(e, a, &r, ordinaryInput ? 2000 : 3, &d);
        printf("%-44s %10.1f %8u %9zu  %s %s\n", g->name, us, d.steps, len, lh_action_name(d.action), d.rule);
        if (ordinaryInput) { if (us > ordinary) ordinary = us; }
        else if (us > worst) { worst = us; worstName = g->name; }
    }
    if (!only) {
        printf("worst case: %.1f us of CPU per decision (%s)\n", worst, worstName);
        printf("ordinary decision: %.1f us (worst / ordinary: %.0f)\n", ordinary, ordinary > 0 ? worst / ordinary : 0);
    }
    free(buf);
    lh_arena_free(a);
    lh_engine_free(e);
    return 0;
}
