/* hook.h — the hook's entry point: `lighthouse hook ...` (src/main.c) and the small
 * `lighthouse-hook` binary (hook_main.c) both call it. Returns the process exit code
 * (docs/hook.md: 0 the call's verdict was printed, 2 blocks the call). */
#ifndef LH_HOOK_H
#define LH_HOOK_H

int lh_hook_main(int argc, char **argv);

#endif
