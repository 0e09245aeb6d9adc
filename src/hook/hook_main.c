/* hook_main.c — the slim `lighthouse-hook` program: the same code as `lighthouse hook`,
 * linked against only the engine's libraries so it starts in about a millisecond. */
#include "hook/hook.h"

int main(int argc, char **argv) { return lh_hook_main(argc, argv); }
