/* cli.h — the subcommands of the `lighthouse` program (src/main.c dispatches).
 * Each returns the process exit code: 0 ok, 1 a failed check, 2 bad usage or input. */
#ifndef LH_CLI_H
#define LH_CLI_H

#include "hook/hook.h"   /* lh_hook_main: `lighthouse hook` (the hook does not include cli.h) */

int lh_cli_check(int argc, char **argv);   /* src/cli/check.c */
int lh_cli_policy(int argc, char **argv);  /* src/cli/policy.c */
int lh_cli_events(int argc, char **argv);  /* src/cli/events.c */
int lh_cli_serve(int argc, char **argv);   /* src/cli/serve.c */
int lh_cli_token(int argc, char **argv);   /* src/cli/token.c */
int lh_cli_load(int argc, char **argv);    /* src/cli/load.c */
int lh_cli_mount(int argc, char **argv);   /* src/cli/mount.c */
int lh_cli_review(int argc, char **argv);  /* src/cli/review.c */
int lh_cli_expert(int argc, char **argv);  /* src/cli/expert.c */
int lh_cli_mcp(int argc, char **argv);     /* src/cli/mcp.c */

#endif
