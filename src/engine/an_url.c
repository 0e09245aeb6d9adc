/* an_url.c — where a network call goes.
 *
 * curl, wget, httpie, nc and the WebFetch tool name a destination. A destination that
 * is a cloud metadata endpoint (169.254.169.254, fd00:ec2::254, metadata.google.internal,
 * 100.100.100.200), a link-local address, a private range (10/8, 172.16/12, 192.168/16,
 * fc00::/7) or an internal-looking name (*.internal, *.local, *.corp, intranet) reaches
 * inside the operator's network: the call is escalated. Loopback (dev servers) stays
 * allowed, and so do the hosts the policy lists in settings.allowed_hosts.
 *
 * IPv4 literals are read the way the C library's inet_aton reads them, so the decimal,
 * hex and octal spellings (2852039166, 0xA9FEA9FE, 0251.0376.0251.0376, 169.254.43518)
 * are the same address. Names of wildcard-DNS services that resolve to the address
 * they embed (10.0.0.1.nip.io) are read as that address. The ECS task endpoints
 * (169.254.170.2, 169.254.170.23) are metadata; Kubernetes service names (*.svc,
 * *.svc.cluster.local, kubernetes.default) are internal. A host followed by a shell
 * variable ("http://169.254.170.2$URI") is that host.
 *
 * The Docker Engine API on this machine (loopback in any spelling, 127.1 or 2130706433,
 * on port 2375/2376, or curl --unix-socket …/docker.sock) is net.docker-api: it runs any
 * container as root. */
#include <arpa/inet.h>
#include <string.h>

#include "engine/an_common.h"
#include "engine/policy.h"

enum { DEST_OTHER, DEST_METADATA, DEST_LINKLOCAL, DEST_PRIVATE, DEST_NAME };

/* One part of an inet_aton address: decimal, 0x hex or 0 octal. -1 when it is not. */
static int parsePart(const char *s, size_t n, unsigned long long *out) {
    if (n == 0 || n > 34) return -1;
    unsigned base = 10;
    size_t i = 0;
    if (n > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
        if (n == 2) { *out = 0; return 0; }   /* "0x" is 0 for inet_aton */
    } else if (n > 1 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    unsigned long long v = 0;
    for (; i < n; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
        else return -1;
        if (d >= base) return -1;
        v = v * base + d;
        if (v > 0xffffffffull) return -1;
    }
    *out = v;
    return 0;
}

/* An IPv4 literal in any inet_aton form (1 to 4 parts). 0 and *ip set, or -1. */
static int parseIPv4(const char *s, size_t n, uint32_t *ip) {
    unsigned long long part[4];
    int np = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        if (np == 4 || parsePart(s + start, i - start, &part[np]) < 0) return -1;
        np++;
        start = i + 1;
    }
    uint32_t v = 0;
    for (int k = 0; k < np - 1; k++) {
        if (part[k] > 255) return -1;
        v |= (uint32_t)part[k] << (24 - 8 * k);
    }
    unsigned long long last = part[np - 1];
    unsigned long long room = np == 1 ? 0xffffffffull : (1ull << (8 * (5 - np))) - 1;
    if (last > room) return -1;
    *ip = v | (uint32_t)last;
    return 0;
}

static int classV4(uint32_t ip) {
    if (ip == 0xA9FEA9FEu || ip == 0x646464C8u) return DEST_METADATA;  /* 169.254.169.254, 100.100.100.200 */
    if (ip == 0xA9FEAA02u || ip == 0xA9FEAA17u) return DEST_METADATA;  /* ECS task, EKS pod identity */
    if ((ip >> 16) == 0xA9FEu) return DEST_LINKLOCAL;                    /* 169.254/16 */
    if ((ip >> 24) == 10 || (ip >> 20) == 0xAC1u || (ip >> 16) == 0xC0A8u) return DEST_PRIVATE;
    return DEST_OTHER;
}

static int classV6(const char *s) {
    unsigned char a[16];
    if (inet_pton(AF_INET6, s, a) != 1) return -1;
    static const unsigned char ec2[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
    if (!memcmp(a, ec2, 16)) return DEST_METADATA;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(a, mapped, 12))
        return classV4((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15]);
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return DEST_LINKLOCAL;     /* fe80::/10 */
    if ((a[0] & 0xfe) == 0xfc) return DEST_PRIVATE;                        /* fc00::/7 */
    return DEST_OTHER;
}

static int endsWith(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && !memcmp(s + n - k, suf, k);
}

/* The address a wildcard-DNS name embeds ("app.10.0.0.1.nip.io", "10-0-0-1.sslip.io"). */
static int wildcardDNS(const char *h, size_t n, uint32_t *ip) {
    static const char *const svc[] = {".nip.io", ".sslip.io", ".xip.io", NULL};
    for (int k = 0; svc[k]; k++) {
        if (!endsWith(h, n, svc[k])) continue;
        size_t m = n - strlen(svc[k]);
        /* the last four dot-separated labels of the rest */
        size_t start = m;
        int dots = 0;
        while (start > 0) {
            if (h[start - 1] == '.' && ++dots == 4) break;
            start--;
        }
        if (parseIPv4(h + start, m - start, ip) == 0 && dots >= 3) return 1;
        /* dashed form in the last label */
        size_t l = m;
        while (l > 0 && h[l - 1] != '.') l--;
        char buf[64];
        if (m - l >= sizeof(buf)) return 0;
        size_t o = 0;
        const char *lab = h + l;
        size_t ln = m - l;
        /* "name-10-0-0-1": take what follows the fourth dash from the end */
        int dashes = 0;
        size_t from = ln;
        while (from > 0) {
            if (lab[from - 1] == '-' && ++dashes == 4) break;
            from--;
        }
        for (size_t j = from; j < ln; j++) buf[o++] = lab[j] == '-' ? '.' : lab[j];
        return dashes >= 3 && parseIPv4(buf, o, ip) == 0;
    }
    return 0;
}

/* The class of a host name or literal (lower-cased, no brackets, no trailing dot). */
static int classHost(const char *h, size_t n) {
    char buf[256];
    if (n == 0 || n >= sizeof(buf)) return DEST_OTHER;
    memcpy(buf, h, n);
    buf[n] = 0;
    if (strchr(buf, ':')) {
        char *pct = strchr(buf, '%');   /* fe80::1%eth0 */
        if (pct) *pct = 0;
        int c6 = classV6(buf);
        return c6 < 0 ? DEST_OTHER : c6;
    }
    uint32_t ip;
    if (parseIPv4(buf, n, &ip) == 0) return classV4(ip);
    if (wildcardDNS(buf, n, &ip)) return classV4(ip);
    static const char *const meta[] = {"metadata.google.internal", "metadata.goog", "metadata",
                                       "instance-data", "instance-data.ec2.internal", NULL};
    for (int k = 0; meta[k]; k++)
        if (!strcmp(buf, meta[k])) return DEST_METADATA;
    /* Docker Desktop and Podman name the host machine and its cluster under .internal */
    if (endsWith(buf, n, ".docker.internal") || endsWith(buf, n, ".containers.internal"))
        return DEST_OTHER;
    static const char *const suf[] = {".internal", ".local", ".corp", ".intranet", ".svc", NULL};
    for (int k = 0; suf[k]; k++)
        if (endsWith(buf, n, suf[k])) return DEST_NAME;
    if (!strcmp(buf, "intranet") || !strcmp(buf, "kubernetes.default")) return DEST_NAME;
    return DEST_OTHER;
}

/* The port written after the host of url, or -1 ("http://h:2375/x" → 2375). */
static long urlPort(const char *url) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end = p;
    while (*end && *end != '/' && *end != '?' && *end != '#') end++;
    for (const char *q = p; q < end; q++)
        if (*q == '@') p = q + 1;
    if (*p == '[') {
        while (p < end && *p != ']') p++;
    }
    while (p < end && *p != ':') p++;
    if (p >= end) return -1;
    long v = 0;
    int digits = 0;
    for (p++; p < end && *p >= '0' && *p <= '9' && digits < 6; p++, digits++) v = v * 10 + (*p - '0');
    return digits ? v : -1;
}

/* Loopback in any spelling: localhost, ::1, 127.0.0.1, 127.1, 0x7f.1, 2130706433. */
static int loopbackHost(const char *host, size_t n) {
    if (an_is_loopback_host(host)) return 1;
    uint32_t ip;
    return parseIPv4(host, n, &ip) == 0 && (ip >> 24) == 127;
}

int an_url_check(lh_ctx *c, int idx, const char *url) {
    if (!url || !*url) return 0;
    char raw[256], host[256];
    an_url_host(url, raw, sizeof(raw));
    size_t n = 0;
    const char *h = raw;
    if (*h == '[') h++;
    /* the host ends where a shell variable or quote follows it ("…170.2$URI") */
    for (; h[n] && h[n] != ']' && h[n] != '$' && h[n] != '`' && h[n] != '"' && h[n] != '\'' &&
           n + 1 < sizeof(host); n++)
        host[n] = (h[n] >= 'A' && h[n] <= 'Z') ? (char)(h[n] - 'A' + 'a') : h[n];
    while (n > 0 && host[n - 1] == '.') n--;
    host[n] = 0;
    if (loopbackHost(host, n)) {
        long port = urlPort(url);
        if (n > 0 && (port == 2375 || port == 2376)) {
            lh_emit(c, idx, LH_RULE(NET_DOCKER_API), lh_arena_strndup(c->arena, host, n));
            return 1;
        }
        return 0;
    }
    int cls = classHost(host, n);
    if (cls == DEST_OTHER) return 0;
    if (lh_policy_host_allowed(c->policy, host)) return 0;
    const char *subj = lh_arena_strndup(c->arena, host, n);
    lh_emit(c, idx, cls == DEST_METADATA ? LH_RULE(NET_METADATA) : LH_RULE(NET_INTERNAL), subj ? subj : url);
    return 1;
}

/* curl --unix-socket PATH: the Docker (or Podman) engine's socket is its API. */
int an_url_socket_check(lh_ctx *c, int idx, const char *path) {
    if (!path) return 0;
    size_t n = strlen(path);
    if (endsWith(path, n, "/docker.sock") || endsWith(path, n, "/podman.sock") || !strcmp(path, "docker.sock")) {
        lh_emit(c, idx, LH_RULE(NET_DOCKER_API), path);
        return 1;
    }
    return 0;
}

void an_url_webfetch(lh_ctx *c) {
    an_url_check(c, -1, c->req->url);
}
