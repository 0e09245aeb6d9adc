/* setup.c — see setup.h. */
#include "hook/setup.h"

#include <stdlib.h>

#include "engine/policy.h"
#include "util/io.h"

lh_engine *lh_setup_engine(const char *path, size_t cache_entries, FILE *diag) {
    if (!path || !*path) {
        const char *env = getenv("LIGHTHOUSE_POLICY");
        if (env && *env) path = env;
    }
    lh_policy *pol = NULL;
    if (path) {
        char err[512];
        size_t len;
        char *text = lh_read_file(path, LH_POLICY_MAX_BYTES, &len, err, sizeof(err));
        if (!text) { fprintf(diag, "lighthouse: policy: %s\n", err); return NULL; }
        lh_policy_diag diags[32];
        int nd = 0;
        pol = lh_policy_parse(text, len, path, diags, 32, &nd);
        free(text);
        if (!pol) {
            for (int i = 0; i < nd; i++)
                fprintf(diag, "%s:%d:%d: %s\n", path, diags[i].line, diags[i].column, diags[i].message);
            if (nd == 0) fprintf(diag, "%s: the policy could not be loaded\n", path);
            return NULL;
        }
    }
    char err[256];
    lh_engine *e = lh_engine_new(pol, cache_entries, err, sizeof(err));
    if (!e) fprintf(diag, "lighthouse: %s\n", err);
    return e;
}

const char *lh_setup_home(void) {
    const char *h = getenv("HOME");
    return h && h[0] == '/' ? h : NULL;
}
