/* shadow_path.h — the names of project shadows (docs/shadows.md), checked the same way by
 * the hook (which file is in the project), the bridge (what it accepts and serves) and the
 * mount (what a name in the mounted tree may be).
 *
 * A shadow path is relative to the project root: components separated by single '/',
 * none empty, "." or "..", each at most LH_SHADOW_NAME_MAX bytes of valid UTF-8 with no
 * control character (NUL, newline...), the whole at most LH_SHADOW_PATH_MAX bytes. So
 * no name can escape the project, on the bridge or under the mount point. Also base64
 * (RFC 4648, with padding) for the content the hook sends. Pure functions: no I/O. */
#ifndef LH_SHADOW_PATH_H
#define LH_SHADOW_PATH_H

#include <stddef.h>

#define LH_SHADOW_PATH_MAX 1024
#define LH_SHADOW_NAME_MAX 255

/* 0 when p[0..len) is a valid shadow path, else -1 with why in err. */
int lh_shadow_path_check(const char *p, size_t len, char *err, size_t errlen);

/* The shadow path of the absolute file path abs in the project rooted at root (both
 * normalised lexically first: "//", "." and ".." resolved, no symlinks followed) into
 * out[cap]. 0, or -1 with why in err: not absolute, outside the root, the root itself,
 * or not a valid shadow path. */
int lh_shadow_path_rel(const char *root, const char *abs, char *out, size_t cap, char *err, size_t errlen);

/* Base64 of in[0..n) into out (cap >= 4 * ((n + 2) / 3) + 1, NUL-terminated); its length. */
size_t lh_base64_encode(const void *in, size_t n, char *out);
/* Decode in[0..n) (whitespace not allowed, padding required) into out (cap >= 3 * n / 4);
 * the decoded length, or -1 when in is not base64. */
long lh_base64_decode(const char *in, size_t n, unsigned char *out);

#endif
