/* client.c — see client.h. */
#include "hook/client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long nowMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct target {
    int unix_sock;
    char host[256];
    char port[8];
    char path[512];     /* the unix socket path, or the URL prefix */
} target;

static int parseUrl(const char *url, target *t, char *err, size_t errlen) {
    memset(t, 0, sizeof(*t));
    if (!strncmp(url, "unix:", 5)) {
        const char *p = url + 5;
        if (!strncmp(p, "//", 2)) p += 2;
        if (p[0] != '/' || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(err, errlen, "LIGHTHOUSE_URL %s: want unix:/absolute/path.sock", url);
            return -1;
        }
        t->unix_sock = 1;
        snprintf(t->path, sizeof(t->path), "%s", p);
        return 0;
    }
    if (strncmp(url, "http://", 7)) {
        snprintf(err, errlen, "LIGHTHOUSE_URL %s: want http://HOST:PORT or unix:/path (no TLS in the hook)", url);
        return -1;
    }
    const char *h = url + 7, *end = h + strcspn(h, "/");
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) { snprintf(err, errlen, "LIGHTHOUSE_URL %s: unclosed [", url); return -1; }
        if ((size_t)(rb - h - 1) >= sizeof(t->host)) goto bad;
        memcpy(t->host, h + 1, (size_t)(rb - h - 1));
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        size_t hl = (size_t)((colon ? colon : end) - h);
        if (hl == 0 || hl >= sizeof(t->host)) goto bad;
        memcpy(t->host, h, hl);
    }
    if (colon) {
        size_t pl = (size_t)(end - colon - 1);
        if (pl == 0 || pl >= sizeof(t->port)) goto bad;
        memcpy(t->port, colon + 1, pl);
    } else {
        strcpy(t->port, "80");
    }
    snprintf(t->path, sizeof(t->path), "%s", end);
    size_t n = strlen(t->path);
    if (n && t->path[n - 1] == '/') t->path[n - 1] = 0;
    return 0;
bad:
    snprintf(err, errlen, "LIGHTHOUSE_URL %s: want http://HOST:PORT", url);
    return -1;
}

/* Connect without blocking past deadline. */
static int connectTo(const struct sockaddr *sa, socklen_t sl, int family, long long deadline, char *err, size_t errlen) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return -1; }
    if (connect(fd, sa, sl) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) {
            snprintf(err, errlen, "connect: %s", strerror(errno));
            close(fd);
            return -1;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        long long left = deadline - nowMs();
        int rc = left > 0 ? poll(&p, 1, (int)left) : 0;
        int soerr = 0;
        socklen_t el = sizeof(soerr);
        if (rc <= 0) { snprintf(err, errlen, "connect: timed out"); close(fd); return -1; }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
        if (soerr) { snprintf(err, errlen, "connect: %s", strerror(soerr)); close(fd); return -1; }
    }
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static int openConn(const target *t, long long deadline, char *err, size_t errlen) {
    if (t->unix_sock) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t pl = strlen(t->path);
        if (pl >= sizeof(sa.sun_path)) { snprintf(err, errlen, "unix socket path too long"); return -1; }
        memcpy(sa.sun_path, t->path, pl + 1);
        return connectTo((struct sockaddr *)&sa, sizeof(sa), AF_UNIX, deadline, err, errlen);
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(t->host, t->port, &hints, &res);
    if (g) { snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(g)); return -1; }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next)
        fd = connectTo(a->ai_addr, a->ai_addrlen, a->ai_family, deadline, err, errlen);
    freeaddrinfo(res);
    return fd;
}

static int sendAll(int fd, const char *p, size_t n, long long deadline, char *err, size_t errlen) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { p += w; n -= (size_t)w; continue; }
        if (w < 0 && errno != EAGAIN && errno != EINTR) { snprintf(err, errlen, "send: %s", strerror(errno)); return -1; }
        struct pollfd pf = {fd, POLLOUT, 0};
        long long left = deadline - nowMs();
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0) { snprintf(err, errlen, "send: timed out"); return -1; }
    }
    return 0;
}

/* A signature header's value v: 64 lowercase hex digits into out[65], else untouched. */
static void hexHeader(const char *v, char out[65]) {
    v += strspn(v, " \t");
    if (strspn(v, "0123456789abcdef") == 64) { memcpy(out, v, 64); out[64] = 0; }
}

/* Parse the reply in buf[0..n): status line, headers, then the body (by Content-Length
 * or up to the close). 1 = complete, 0 = need more, -1 = malformed. */
static int parseReply(char *buf, size_t n, int closed, lh_http_response *out) {
    char *eoh = memmem(buf, n, "\r\n\r\n", 4);
    if (!eoh) return closed ? -1 : 0;
    int major, minor, status;
    /* NOLINTNEXTLINE(cert-err34-c): fields counted and the status range-checked */
    if (sscanf(buf, "HTTP/%d.%d %d", &major, &minor, &status) != 3 || status < 100 || status > 599) return -1;
    long long clen = -1;
    for (char *line = strstr(buf, "\r\n") + 2; line < eoh; line = strstr(line, "\r\n") + 2) {
        if (!strncasecmp(line, "Content-Length:", 15)) clen = strtoll(line + 15, NULL, 10);
        if (!strncasecmp(line, "Transfer-Encoding:", 18)) return -1;   /* we ask for close-delimited or sized */
        if (!strncasecmp(line, "X-Lighthouse-Signature:", 23)) hexHeader(line + 23, out->sig);
        if (!strncasecmp(line, "X-Lighthouse-Reply-Signature:", 29)) hexHeader(line + 29, out->rsig);
    }
    size_t hl = (size_t)(eoh + 4 - buf);
    if (clen < 0) {
        if (!closed) return 0;
        clen = (long long)(n - hl);
    }
    if (clen > LH_HTTP_MAX_REPLY) return -1;
    if (n - hl < (size_t)clen) return closed ? -1 : 0;
    out->status = status;
    out->body = malloc((size_t)clen + 1);
    if (!out->body) return -1;
    memcpy(out->body, eoh + 4, (size_t)clen);
    out->body[clen] = 0;
    out->len = (size_t)clen;
    return 1;
}

int lh_http_post(const char *base_url, const char *path, const char *token, const char *nonce, const char *ctype,
                 const char *body, size_t len, int connect_ms, int total_ms, lh_http_response *out,
                 char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    target t;
    if (parseUrl(base_url, &t, err, errlen)) return -1;
    long long start = nowMs();
    long long deadline = start + total_ms;
    long long cdead = start + connect_ms < deadline ? start + connect_ms : deadline;
    int fd = openConn(&t, cdead, err, errlen);
    if (fd < 0) return -1;
    char head[2048];
    int hn = snprintf(head, sizeof(head),
                      "POST %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lighthouse-hook\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n%s%s%s%s%s%s\r\n",
                      t.unix_sock ? "" : t.path, path, t.unix_sock ? "localhost" : t.host, ctype, len,
                      token && *token ? "Authorization: Bearer " : "", token && *token ? token : "",
                      token && *token ? "\r\n" : "", nonce && *nonce ? "X-Lighthouse-Nonce: " : "",
                      nonce && *nonce ? nonce : "", nonce && *nonce ? "\r\n" : "");
    if (hn < 0 || (size_t)hn >= sizeof(head)) { snprintf(err, errlen, "request header too long"); close(fd); return -1; }
    if (sendAll(fd, head, (size_t)hn, deadline, err, errlen) || sendAll(fd, body, len, deadline, err, errlen)) {
        close(fd);
        return -1;
    }
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap + 1);
    int rc = -1;
    if (!buf) { snprintf(err, errlen, "out of memory"); close(fd); return -1; }
    for (;;) {
        if (n == cap) {
            if (cap >= LH_HTTP_MAX_REPLY + 16384) { snprintf(err, errlen, "reply too large"); break; }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { snprintf(err, errlen, "out of memory"); break; }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        int closed = 0;
        if (r > 0) n += (size_t)r;
        else if (r == 0) closed = 1;
        else if (errno != EAGAIN && errno != EINTR) { snprintf(err, errlen, "recv: %s", strerror(errno)); break; }
        buf[n] = 0;
        if (r != 0 || closed) {
            int p = parseReply(buf, n, closed, out);
            if (p == 1) { rc = 0; break; }
            if (p < 0) { snprintf(err, errlen, "malformed reply from the bridge"); break; }
            if (closed) break;
            if (r > 0) continue;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        long long left = deadline - nowMs();
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0) { snprintf(err, errlen, "no reply within %d ms", total_ms); break; }
    }
    free(buf);
    close(fd);
    return rc;
}
