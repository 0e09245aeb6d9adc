/* main.c — the `lighthouse` program: a table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "version.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);  /* argv[0] is the subcommand name */
    const char *usage;
} subcommand;

static int runVersion(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("lighthouse %s\n", LH_VERSION);
    return 0;
}

static const subcommand commands[] = {
    {"serve", lh_cli_serve,
     "serve [--config FILE] [--listen HOST:PORT] [--data DIR] [--policy FILE] [--store sqlite|postgres] [--pg CONNINFO]"},
    {"check", lh_cli_check,
     "check [--cwd DIR] [--tool NAME] [--policy FILE] [--json] [--explain] -- COMMAND...\n"
     "  check --batch [--policy FILE]      JSON lines in, one decision per line out"},
    {"hook", lh_hook_main,
     "hook pre-tool-use | post-tool-use  the Claude Code hook protocol on stdin/stdout\n"
     "  hook install [--settings FILE]     merge the hooks into a Claude Code settings file\n"
     "  hook uninstall [--settings FILE]   remove exactly those"},
    {"token", lh_cli_token,
     "token create --agent NAME --role builder|expert|admin [--ttl DURATION] [--data DIR]\n"
     "  token revoke (--id TOKEN_ID | TOKEN) [--data DIR]"},
    {"policy", lh_cli_policy, "policy lint FILE | test FILE CASES.yaml"},
    {"events", lh_cli_events, "events query | tail | verify | stats | export  [--data DIR | --pg CONNINFO]"},
    {"load", lh_cli_load,
     "load [--pattern NAME | --pattern-file FILE] [--duration D] [--agents N] [--rate R] [--target URL]\n"
     "       [--data DIR | --token T] [--report FILE] [--html FILE] [--baseline FILE] [--save-baseline FILE] [--seed N]\n"
     "  load history [--data DIR | --history FILE]   the p99 and throughput trend of past runs"},
    {"mount", lh_cli_mount,
     "mount DIR [--url URL] [--token TOKEN]   the project shadows, read-only (FUSE; an expert token)"},
    {"review", lh_cli_review,
     "review list [--json] [--wait S] | show ID [--json] | allow|deny ID --reason TEXT   pending escalations\n"
     "  review                             on a terminal: review them one after another"},
    {"expert", lh_cli_expert,
     "expert llm --provider openai|anthropic --endpoint URL --model NAME [--capabilities A,B] [--prompt FILE]\n"
     "       [--timeout S] [--claim S] [--stream] [--api-key-file FILE] [--once]   an expert backed by an LLM (docs/expert-llm.md)"},
    {"mcp", lh_cli_mcp, "mcp [--url URL] [--token TOKEN]   the MCP server on stdio (docs/mcp.md)"},
    {"version", runVersion, "version"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: lighthouse COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fprintf(f, "\nSee README.md and docs/ for details.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) return runVersion(0, NULL);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        /* Every subcommand answers --help, wherever it stands before a "--" (so
         * `policy lint --help` does not read a file named --help): it gets its usage. */
        for (int k = 2; k < argc && strcmp(argv[k], "--"); k++)
            if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
                char *help[3] = {argv[1], "--help", NULL};
                return commands[i].run(2, help);
            }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "lighthouse: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
