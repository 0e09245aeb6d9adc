/* client.h — a minimal HTTP/1.1 client over a plain socket, for the hook.
 *
 * lighthouse-hook runs once per tool call, so it must start fast and link nothing heavy:
 * libcurl alone would pull in TLS and a dozen other libraries (DESIGN.md, "start-up
 * cost"). It needs one request shape only (POST a JSON body, read one reply), so this is
 * a few hundred lines: TCP or a Unix socket, a connect timeout, an overall deadline,
 * Content-Length or read-to-close replies. No TLS: the bridge is on loopback or a
 * trusted network (docs/configuration.md). */
#ifndef LH_HOOK_CLIENT_H
#define LH_HOOK_CLIENT_H

#include <stddef.h>

#define LH_HTTP_MAX_REPLY (1u << 20)

typedef struct lh_http_response {
    int status;
    char *body;     /* malloc'd, NUL-terminated; caller frees */
    size_t len;
    char sig[65];   /* its X-Lighthouse-Signature (64 hex digits), or "" */
    char rsig[65];  /* its X-Lighthouse-Reply-Signature (64 hex digits), or "" */
} lh_http_response;

/* POST body to base_url + path. base_url is "http://HOST[:PORT][/PREFIX]" or
 * "unix:/path/to.sock". token (may be NULL) is sent as a bearer token, nonce (may be NULL)
 * as X-Lighthouse-Nonce (util/replysig.h). Returns 0 when a
 * reply was read (any status), -1 with a message in err when the bridge could not be
 * reached or answered garbage within the timeouts. */
int lh_http_post(const char *base_url, const char *path, const char *token, const char *nonce, const char *ctype,
                 const char *body, size_t len, int connect_ms, int total_ms, lh_http_response *out,
                 char *err, size_t errlen);

#endif
