/* replay_main.c — a main for the fuzz harnesses without libFuzzer: each argument is a file
 * or a directory of files, and each file is handed once to LLVMFuzzerTestOneInput. Linked
 * with gcc like the unit tests (also under the sanitizer build), so `make test` and
 * `make check` replay every seed and every past crash (tests/integration/fuzz_replay.sh).
 * A harness reports a finding by crashing or aborting, as under libFuzzer; this program
 * prints "ok N files" and exits 0 when none did. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_BYTES (1u << 20)

static int g_files;

static int runFile(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return -1; }
    uint8_t *buf = malloc(REPLAY_MAX_BYTES);
    if (!buf) { fclose(f); return -1; }
    size_t n = fread(buf, 1, REPLAY_MAX_BYTES, f);
    fclose(f);
    /* A copy of exactly n bytes, so reading past the input is caught as under libFuzzer. */
    uint8_t *in = malloc(n ? n : 1);
    if (!in) { free(buf); return -1; }
    memcpy(in, buf, n);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    g_files++;
    return 0;
}

static int cmpName(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int runPath(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "replay: no such file %s\n", path); return -1; }
    if (!S_ISDIR(st.st_mode)) return runFile(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;   /* ., .., and .gitkeep */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof(*names), cmpName);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", path, names[i]);
        if (runPath(p) != 0) rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (runPath(argv[i]) != 0) rc = 1;
    printf("ok %d files\n", g_files);
    return rc;
}
