/* shadow_report.h — `lighthouse hook post-tool-use` reports what a finished tool call
 * changed in the project to the bridge's POST /v1/shadows (docs/shadows.md):
 *
 *   Write, Edit, MultiEdit, NotebookEdit  the file's new content, read from disk
 *   Bash   `rm` and `mv` of the script's top-level commands with literal operands,
 *          parsed by the engine's shell parser and confirmed on disk (a removed path
 *          is gone; a moved one is gone and its target exists), as a delete or a rename
 *
 * The project is the payload's cwd; a file outside it is not sent (the bridge refuses
 * such paths too). Nothing here decides anything: the tool has already run. */
#ifndef LH_HOOK_SHADOW_REPORT_H
#define LH_HOOK_SHADOW_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Send the changes of the PostToolUse payload j to the bridge at url with token. Returns
 * the number of changes the bridge recorded, or -1 when one could not be sent or was
 * refused; the reasons (one line each) go to diag. */
int lh_shadow_report(const char *url, const char *token, json_t *j, FILE *diag);

#endif
