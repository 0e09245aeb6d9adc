/* html.c — placeholder, replaced below */
#include "load/load.h"
int lh_load_html(const char *path, const json_t *report, const lh_load_result *r, char *err, size_t errlen) {
    (void)path; (void)report; (void)r; snprintf(err, errlen, "not yet"); return -1;
}
