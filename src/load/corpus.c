/* corpus.c — the commands the simulated agents send, read from a JSON-lines file.
 *
 * The corpus is data (data/load/commands.jsonl, 90+ commands labelled safe, risky or
 * complex), read at run time so it can be extended without a rebuild. Without --corpus it
 * is looked for in $LIGHTHOUSE_LOAD_CORPUS, next to the program (../data/load/ from
 * build/lighthouse, ../share/lighthouse/ once installed) and in ./data/load/. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "load/load.h"

#define MAX_COMMANDS 100000
#define MAX_LINE 8192

static const char *const scenarioNames[LH_LOAD_SCENARIOS] = {
    "production_deployment", "database_operation", "security_command", "network_change"};

const char *lh_load_scenario_name(int s) { return s >= 0 && s < LH_LOAD_SCENARIOS ? scenarioNames[s] : "none"; }

/* The escalation scenario of workloads.md a command would trigger, matched case-
 * insensitively on its words (the first that matches wins). */
static int scenarioOf(const char *cmd) {
    static const char *const trig[LH_LOAD_SCENARIOS][4] = {
        {"kubectl apply", "terraform apply", "ansible-playbook", NULL},
        {"drop ", "delete ", "alter ", "truncate "},
        {"sudo ", "chmod 777", "rm -rf", NULL},
        {"iptables", "ufw ", "firewall-cmd", NULL},
    };
    for (int s = 0; s < LH_LOAD_SCENARIOS; s++)
        for (int i = 0; i < 4 && trig[s][i]; i++)
            if (strcasestr(cmd, trig[s][i])) return s;
    return -1;
}

static int findCorpus(char *out, size_t cap) {
    const char *env = getenv("LIGHTHOUSE_LOAD_CORPUS");
    if (env && *env) { snprintf(out, cap, "%s", env); return 0; }
    char exe[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            const char *rel[] = {"/../data/load/commands.jsonl", "/../share/lighthouse/commands.jsonl"};
            for (int i = 0; i < 2; i++) {
                snprintf(out, cap, "%s%s", exe, rel[i]);
                if (!access(out, R_OK)) return 0;
            }
        }
    }
    snprintf(out, cap, "data/load/commands.jsonl");
    return access(out, R_OK) ? -1 : 0;
}

int lh_load_corpus_load(lh_load_corpus *c, const char *path, char *used, size_t usedlen, char *err, size_t errlen) {
    memset(c, 0, sizeof(*c));
    char where[PATH_MAX];
    if (path) snprintf(where, sizeof(where), "%s", path);
    else if (findCorpus(where, sizeof(where))) {
        snprintf(err, errlen, "no command corpus found: give --corpus FILE or set LIGHTHOUSE_LOAD_CORPUS "
                              "(the repository ships data/load/commands.jsonl)");
        return -1;
    }
    snprintf(used, usedlen, "%s", where);
    FILE *f = fopen(where, "r");
    if (!f) { snprintf(err, errlen, "%s: %s", where, strerror(errno)); return -1; }
    char *line = malloc(MAX_LINE + 2);
    int lineno = 0, cap = 0, rc = -1;
    if (!line) { fclose(f); snprintf(err, errlen, "out of memory"); return -1; }
    while (fgets(line, MAX_LINE + 2, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len > MAX_LINE) { snprintf(err, errlen, "%s:%d: line longer than %d bytes", where, lineno, MAX_LINE); goto out; }
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (!*s || *s == '#') continue;
        json_error_t je;
        json_t *j = json_loads(s, 0, &je);
        const char *cls = j ? json_string_value(json_object_get(j, "class")) : NULL;
        const char *cmd = j ? json_string_value(json_object_get(j, "command")) : NULL;
        int k = !cls ? -1 : !strcmp(cls, "safe") ? LH_LOAD_SAFE : !strcmp(cls, "risky") ? LH_LOAD_RISKY
                                                          : !strcmp(cls, "complex") ? LH_LOAD_COMPLEX : -1;
        if (!j || !cmd || !*cmd || k < 0) {
            snprintf(err, errlen, "%s:%d: each line is {\"class\": \"safe|risky|complex\", \"command\": \"...\"}", where, lineno);
            json_decref(j);
            goto out;
        }
        if (c->n >= MAX_COMMANDS) { json_decref(j); snprintf(err, errlen, "%s: more than %d commands", where, MAX_COMMANDS); goto out; }
        if (c->n == cap) {
            cap = cap ? cap * 2 : 128;
            lh_load_command *nc = realloc(c->cmd, (size_t)cap * sizeof(*nc));
            if (!nc) { json_decref(j); snprintf(err, errlen, "out of memory"); goto out; }
            c->cmd = nc;
        }
        lh_load_command *m = &c->cmd[c->n];
        m->cls = k;
        m->command = strdup(cmd);
        json_t *js = json_string(cmd);
        m->json = js ? json_dumps(js, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        json_decref(js);
        json_decref(j);
        if (!m->command || !m->json) { free(m->command); free(m->json); snprintf(err, errlen, "out of memory"); goto out; }
        m->scenario = scenarioOf(m->command);
        c->by_class[k]++;
        c->n++;
    }
    for (int k = 0; k < LH_LOAD_CLASSES; k++) {
        if (!c->by_class[k]) {
            snprintf(err, errlen, "%s: no %s commands (each class needs at least one)", where,
                     k == 0 ? "safe" : k == 1 ? "risky" : "complex");
            goto out;
        }
        c->idx[k] = malloc((size_t)c->by_class[k] * sizeof(int));
        if (!c->idx[k]) { snprintf(err, errlen, "out of memory"); goto out; }
        int j = 0;
        for (int i = 0; i < c->n; i++)
            if (c->cmd[i].cls == k) c->idx[k][j++] = i;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    if (rc) lh_load_corpus_free(c);
    return rc;
}

void lh_load_corpus_free(lh_load_corpus *c) {
    for (int i = 0; i < c->n; i++) { free(c->cmd[i].command); free(c->cmd[i].json); }
    free(c->cmd);
    for (int k = 0; k < LH_LOAD_CLASSES; k++) free(c->idx[k]);
    memset(c, 0, sizeof(*c));
}

int lh_load_scenario_of(const char *cmd) { return cmd ? scenarioOf(cmd) : -1; }
