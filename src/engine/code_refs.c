/* code_refs.c — inline code that reaches a command-running function without calling it
 * by name: through a dispatcher given the name as a string or symbol (getattr(os,
 * 'system'), Kernel.send(:system, …), call_user_func('passthru', …), method(:exec)),
 * a string called as a function (('sys'.'tem')(…), _G['os']['execute'](…)), or the
 * function passed or stored as a value (map(os.system, …), [os.system][0](…),
 * os.system.__call__(…)). What it runs is not read from the call, so the caller
 * escalates it (code.opaque). Read on the canonical code (code_lex.c), where
 * concatenated literals are already folded. */
#include "engine/code_refs.h"

#include <string.h>

/* Functions that run a command line or a program, by bare name. */
static const char *const kRunners[] = {
    "system", "popen", "exec", "execSync", "spawnSync", "spawn", "passthru", "shell_exec",
    "proc_open", "execute", "getoutput", "check_output", "check_call", "Popen", "execv",
    "execvp", "execl", "execlp", "pcntl_exec", "readpipe", "fork", NULL,
};

/* Calls that call a function named by their argument. */
static const char *const kDispatchers[] = {
    "getattr(", "methodcaller(", "send(", "public_send(", "__send__(", "method(",
    "call_user_func(", "call_user_func_array(", "array_map(", "array_walk(", "usort(",
    "uasort(", "uksort(", "ReflectionFunction(", "forward_static_call(",
    "register_shutdown_function(", "rawget(", "instance_method(", NULL,
};

static int idChar(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* The runner whose name is exactly s[0..n), or NULL. */
static const char *runnerNamed(const char *s, size_t n) {
    for (int i = 0; kRunners[i]; i++)
        if (strlen(kRunners[i]) == n && !memcmp(kRunners[i], s, n)) return kRunners[i];
    return NULL;
}

/* A quoted name ('system', "system") or a Ruby symbol (:system) at p: the runner it
 * names, with *after set past it; NULL otherwise. */
static const char *namedAt(const char *p, const char *end, const char **after) {
    if (p >= end) return NULL;
    if (*p == ':' && p + 1 < end && idChar(p[1])) {
        const char *q = p + 1;
        while (q < end && idChar(*q)) q++;
        *after = q;
        return runnerNamed(p + 1, (size_t)(q - p - 1));
    }
    if (*p != '\'' && *p != '"') return NULL;
    const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
    if (!q || q - p - 1 > 32) return NULL;
    *after = q + 1;
    return runnerNamed(p + 1, (size_t)(q - p - 1));
}

static const char *skipBlank(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* (advcontent3) A literal deserialised by a loader that runs code (pickle's REDUCE,
 * yaml's !!python/object/apply): "pickle.loads" when code does so; a Perl reference to
 * a runner (\&CORE::system, \&system): the runner. */
static const char *hiddenRunner(const char *code, const char *end) {
    static const char *const loads[] = {"pickle.loads(", "dill.loads(", "marshal.loads(", "cloudpickle.loads(",
                                        "yaml.unsafe_load(", "yaml.load(", "jsonpickle.decode(", NULL};
    int pyTag = memmem(code, (size_t)(end - code), "!!python/", 9) != NULL;   /* once: linear */
    for (int i = 0; loads[i]; i++) {
        size_t n = strlen(loads[i]);
        for (const char *p = code; (p = memmem(p, (size_t)(end - p), loads[i], n)) != NULL; p += n) {
            const char *q = skipBlank(p + n, end);
            static const char *const dec[] = {"bytes.fromhex(", "base64.", "b64decode(", "codecs.decode(",
                                              "binascii.", "zlib.decompress(", "bytes(", "bytearray(", NULL};
            int decoded = 0;
            for (int d = 0; dec[d]; d++)
                if ((size_t)(end - q) > strlen(dec[d]) && !memcmp(q, dec[d], strlen(dec[d]))) decoded = 1;
            if (decoded) return "pickle.loads";   /* a decoded payload */
            if (q < end && (*q == 'b' || *q == 'r' || *q == 'B')) q++;
            if (q >= end || (*q != '\'' && *q != '"')) continue;
            if (loads[i][0] == 'y' && !pyTag) continue;
            return "pickle.loads";
        }
    }
    for (const char *p = code; (p = memmem(p, (size_t)(end - p), "\\&", 2)) != NULL; p += 2) {
        const char *q = p + 2, *r;
        while ((r = (size_t)(end - q) > 6 && !memcmp(q, "CORE::", 6) ? q + 6 :
                    (size_t)(end - q) > 8 && !memcmp(q, "GLOBAL::", 8) ? q + 8 : NULL) != NULL) q = r;
        const char *e = q;
        while (e < end && idChar(*e)) e++;
        const char *run = runnerNamed(q, (size_t)(e - q));
        if (run) return run;
    }
    return NULL;
}

const char *lh_code_indirect_runner(const char *code, size_t len) {
    const char *end = code + len;
    const char *hidden = hiddenRunner(code, end);
    if (hidden) return hidden;
    /* a dispatcher whose arguments (the first few) name a runner */
    for (int i = 0; kDispatchers[i]; i++) {
        size_t dn = strlen(kDispatchers[i]);
        for (const char *p = code; (p = memmem(p, (size_t)(end - p), kDispatchers[i], dn)) != NULL; p += dn) {
            if (p > code && idChar(p[-1])) continue;
            const char *q = p + dn, *lim = end - q > 96 ? q + 96 : end;
            for (; q < lim && *q != ')'; q++) {
                const char *after;
                const char *r = (*q == '\'' || *q == '"' || *q == ':') ? namedAt(q, lim, &after) : NULL;
                if (r) return r;
            }
        }
    }
    for (const char *p = code; p < end; p++) {
        /* a name called as a function: ('system')(…), ['execute'](…) */
        if (*p == '\'' || *p == '"') {
            const char *after;
            const char *r = namedAt(p, end, &after);
            if (r) {
                const char *q = skipBlank(after, end);
                if (q < end && (*q == ')' || *q == ']')) {
                    q = skipBlank(q + 1, end);
                    if (q < end && *q == '(') return r;
                }
                p = after - 1;
            } else {
                const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));   /* past the string */
                if (q) p = q;
            }
            continue;
        }
        /* a member runner used as a value: map(os.system, …), os.system.__call__ */
        if (*p == '.' && p + 1 < end && idChar(p[1]) && p > code && idChar(p[-1])) {
            const char *q = p + 1;
            while (q < end && idChar(*q)) q++;
            const char *r = runnerNamed(p + 1, (size_t)(q - p - 1));
            if (r && strcmp(r, "exec") && strcmp(r, "spawn") && strcmp(r, "fork") && strcmp(r, "Popen")) {
                const char *n = skipBlank(q, end);
                if (n < end && (*n == ',' || *n == ']' || *n == '.' || *n == ')' || *n == '}')) return r;
            }
            p = q - 1;
        }
    }
    return NULL;
}
