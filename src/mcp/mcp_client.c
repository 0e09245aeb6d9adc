/* mcp_client.c — the MCP tools' way to the bridge's API: one libcurl easy transfer per call
 * (see mcp.h, lh_mcp_client_call). The hook's own client (src/hook/client.c) posts only,
 * and stays slim for the hook's start-up; `lighthouse` links libcurl anyway. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/mcp.h"
#include "util/growbuf.h"

#define CONNECT_TIMEOUT_MS 5000L
#define MARGIN_MS 30000L        /* past the long-poll's wait: the bridge's own work */

typedef struct sink {
    char *buf;
    size_t len, cap;
    int over;                   /* past LH_MCP_MAX_REPLY: the transfer is cut */
} sink;

static size_t onData(char *p, size_t size, size_t n, void *ud) {
    sink *s = ud;
    size_t k = size * n;
    if (lh_growbuf_append(&s->buf, &s->len, &s->cap, LH_MCP_MAX_REPLY, p, k)) { s->over = 1; return 0; }
    return k;
}

/* libcurl calls this at least once a second: a stop request ends the transfer. */
static int onProgress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    const _Atomic int *stop = ud;
    return stop && *stop ? 1 : 0;
}

int lh_mcp_client_call(void *ctx, const char *method, const char *path, const char *body, size_t len, int wait_s,
                       lh_mcp_reply *out, char *err, size_t errlen) {
    const lh_mcp_client *cl = ctx;
    memset(out, 0, sizeof(*out));
    char url[2200], auth[4200];
    int unixSock = !strncmp(cl->url, "unix:", 5);
    const char *sock = unixSock ? cl->url + 5 + (strncmp(cl->url + 5, "//", 2) ? 0 : 2) : NULL;
    const char *base = unixSock ? "http://localhost" : cl->url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') bl--;
    if (!unixSock && strncmp(cl->url, "http://", 7) && strncmp(cl->url, "https://", 8)) {
        snprintf(err, errlen, "LIGHTHOUSE_URL %s: want http://HOST:PORT or unix:/path.sock", cl->url);
        return -1;
    }
    snprintf(url, sizeof(url), "%.*s%s", (int)bl, base, path);
    CURL *h = curl_easy_init();
    if (!h) { snprintf(err, errlen, "curl_easy_init failed"); return -1; }
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/json");
    if (body) hdr = curl_slist_append(hdr, "Content-Type: application/json");
    if (cl->token[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cl->token);
        hdr = curl_slist_append(hdr, auth);
    }
    sink s = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (sock) curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lighthouse-mcp");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)wait_s * 1000L + MARGIN_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    if (cl->stop) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cl->stop);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        if (s.over) snprintf(err, errlen, "the reply is larger than %u bytes", LH_MCP_MAX_REPLY);
        else if (rc == CURLE_ABORTED_BY_CALLBACK) snprintf(err, errlen, "the bridge is stopping");
        else snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(rc));
        free(s.buf);
        return -1;
    }
    out->status = (int)status;
    out->body = s.buf ? s.buf : calloc(1, 1);
    out->len = s.len;
    return out->body ? 0 : -1;
}
