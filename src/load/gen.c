/* gen.c — the open-loop generator: a fleet of agents on one epoll loop.
 *
 * Arrivals are a Poisson process at the pattern's rate for the current moment (base rate
 * × the load curve × bursts); each arrival is queued with its SCHEDULED time and goes to
 * the next agent that is ready (connected, idle, done thinking). Latency is measured from
 * the scheduled time to the last byte of the reply, so time spent waiting for an agent or
 * a connection (because the bridge is slow to answer) is charged to the bridge: no
 * coordinated omission. Each agent is one keep-alive HTTP/1.1 connection for the length
 * of its session (exponential, mean session_mean_s); then it leaves and a new agent
 * connects. There is no thread per agent: one loop, non-blocking sockets, a binary heap
 * of agents by the time they are ready. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load/load.h"
#include "load/load_int.h"

#define IN_CAP 8192
#define PENDING_CAP (1u << 21)

enum { A_OFF, A_CONNECTING, A_READY, A_BUSY };

typedef struct agent {
    int fd, state, heapPos, token, retire;
    uint32_t session;
    uint32_t interest;              /* the epoll events asked for fd (a MOD only when they change) */
    double sessionEnd, readyAt, connectAt;
    /* the request in flight */
    double sched, sentAt;
    int cls, retry, resetFault;
    char *out;
    size_t outLen, outOff, outCap;
    char in[IN_CAP];
    size_t inLen;
} agent;

typedef struct pend { double sched; int retry; } pend;

typedef struct gen {
    const lh_load_options *o;
    lh_load_result *r;
    lh_load_rng rng;                /* per-request choices: class, command, faults, think */
    lh_load_rng sched, bursts;      /* the arrival times and the bursts alone, so a seed repeats them */
    int ep;
    agent *a;
    int na, active, target;
    int *heap, nheap;               /* agents by readyAt (READY ones) */
    pend *pq;                       /* ring of arrivals waiting for an agent */
    uint32_t ph, pt;
    double *rq; int nrq, caprq;     /* retry times (min-heap) */
    struct sockaddr_in sa;
    double t0, tEnd;
    int burst;
    double burstEnd, nextBurstCheck;
    char body[16384];
    lh_load_hist lag;               /* scheduled → sent, the generator's own delay */
    double thinkSum;
    uint64_t thinkN;
    double curve, curveAt;          /* cached load curve and when (-1: none) */
} gen;

/* ---- clocks and randomness ------------------------------------------------------ */

double lh_load_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void lh_load_rng_seed(lh_load_rng *g, uint64_t seed) {
    for (int i = 0; i < 4; i++) g->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
double lh_load_rng_u01(lh_load_rng *g) {
    uint64_t *s = g->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return (double)(res >> 11) * 0x1.0p-53;
}

double lh_load_rng_exp(lh_load_rng *g, double mean) {
    double u = lh_load_rng_u01(g);
    return -mean * log1p(-u);
}

/* ---- the ready heap ------------------------------------------------------------- */

static void heapSwap(gen *g, int i, int j) {
    int x = g->heap[i];
    g->heap[i] = g->heap[j];
    g->heap[j] = x;
    g->a[g->heap[i]].heapPos = i;
    g->a[g->heap[j]].heapPos = j;
}

static void heapPush(gen *g, int id) {
    int i = g->nheap++;
    g->heap[i] = id;
    g->a[id].heapPos = i;
    while (i > 0 && g->a[g->heap[(i - 1) / 2]].readyAt > g->a[g->heap[i]].readyAt) {
        heapSwap(g, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heapRemoveAt(gen *g, int i) {
    g->a[g->heap[i]].heapPos = -1;
    g->nheap--;
    if (i == g->nheap) return;
    g->heap[i] = g->heap[g->nheap];
    g->a[g->heap[i]].heapPos = i;
    for (;;) {   /* sift down then up */
        int l = 2 * i + 1, s = i;
        if (l < g->nheap && g->a[g->heap[l]].readyAt < g->a[g->heap[s]].readyAt) s = l;
        if (l + 1 < g->nheap && g->a[g->heap[l + 1]].readyAt < g->a[g->heap[s]].readyAt) s = l + 1;
        if (s == i) break;
        heapSwap(g, i, s);
        i = s;
    }
    while (i > 0 && g->a[g->heap[(i - 1) / 2]].readyAt > g->a[g->heap[i]].readyAt) {
        heapSwap(g, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void retryPush(gen *g, double t) {
    if (g->nrq == g->caprq) {
        int nc = g->caprq ? g->caprq * 2 : 1024;
        double *n = realloc(g->rq, (size_t)nc * sizeof(double));
        if (!n) { g->r->abandoned++; return; }
        g->rq = n;
        g->caprq = nc;
    }
    int i = g->nrq++;
    g->rq[i] = t;
    while (i > 0 && g->rq[(i - 1) / 2] > g->rq[i]) {
        double x = g->rq[i]; g->rq[i] = g->rq[(i - 1) / 2]; g->rq[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
}

static double retryPop(gen *g) {
    double top = g->rq[0];
    g->rq[0] = g->rq[--g->nrq];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, s = i;
        if (l < g->nrq && g->rq[l] < g->rq[s]) s = l;
        if (l + 1 < g->nrq && g->rq[l + 1] < g->rq[s]) s = l + 1;
        if (s == i) break;
        double x = g->rq[i]; g->rq[i] = g->rq[s]; g->rq[s] = x;
        i = s;
    }
    return top;
}

/* ---- the timeline ----------------------------------------------------------------- */

static lh_load_slot *slotAt(gen *g, double now) {
    int i = (int)((now - g->t0) / g->r->slot_s);
    if (i < 0) i = 0;
    if (i >= g->r->nslots) i = g->r->nslots - 1;
    return &g->r->slots[i];
}

/* ---- connections -------------------------------------------------------------- */

/* Ask epoll for these events on a's socket. Most replies leave the interest as it was
 * (EPOLLIN), and the system call it saves is one of the few the generator makes per request. */
static void setInterest(gen *g, agent *a, uint32_t events) {
    if (a->interest == events) return;
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(a - g->a)};
    epoll_ctl(g->ep, EPOLL_CTL_MOD, a->fd, &ev);
    a->interest = events;
}

static void closeAgent(gen *g, agent *a, int reset) {
    if (a->fd >= 0) {
        if (reset) {
            struct linger l = {1, 0};
            setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        }
        epoll_ctl(g->ep, EPOLL_CTL_DEL, a->fd, NULL);
        close(a->fd);
        a->fd = -1;
    }
    if (a->heapPos >= 0) heapRemoveAt(g, a->heapPos);
    a->inLen = 0;
}

/* Start a new session on agent a: a non-blocking connect. */
static int connectAgent(gen *g, agent *a, double now) {
    a->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0) { g->r->conn_errors++; a->state = A_OFF; return -1; }
    int one = 1;
    setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(a->fd, (struct sockaddr *)&g->sa, sizeof(g->sa));
    if (rc && errno != EINPROGRESS) {
        close(a->fd);
        a->fd = -1;
        g->r->connect_failures++;
        a->state = A_CONNECTING;
        a->connectAt = now + 0.5;   /* try again in half a second */
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(a - g->a)};
    epoll_ctl(g->ep, EPOLL_CTL_ADD, a->fd, &ev);
    a->interest = EPOLLIN | EPOLLOUT;
    a->state = A_CONNECTING;
    a->connectAt = 0;
    a->session++;
    a->sessionEnd = now + lh_load_rng_exp(&g->rng, g->o->pat.session_mean_s);
    g->r->connections_opened++;
    g->r->sessions_started++;
    return 0;
}

static void setReady(gen *g, agent *a, double now, double think) {
    a->state = A_READY;
    a->readyAt = now + think;
    heapPush(g, (int)(a - g->a));
    setInterest(g, a, EPOLLIN);
}

/* ---- the rate ------------------------------------------------------------------- */

/* The load curve, recomputed at most every 10 ms (a day's curve costs ~400 sin() calls,
 * too many to pay per request at 10,000 req/s; it moves slowly). */
static double curveAt(gen *g, double now) {
    if (g->curveAt >= 0 && fabs(now - g->curveAt) < 0.01) return g->curve;
    double hour = fmod(g->r->start_epoch / 3600.0, 24.0);
    g->curve = lh_load_pattern_curve(&g->o->pat, now - g->t0, g->o->duration_s, hour);
    g->curveAt = now;
    return g->curve;
}

static double rateAt(gen *g, double now) {
    const lh_load_pattern *p = &g->o->pat;
    double r = p->base_rate * (1 + (p->peak_multiplier - 1) * curveAt(g, now));
    return g->burst ? r * p->burst_multiplier : r;
}

static int agentsAt(gen *g, double now) {
    const lh_load_pattern *p = &g->o->pat;
    return p->agents_base + (int)lround((p->agents_peak - p->agents_base) * curveAt(g, now));
}

/* Think time 2 s × U(0.5, 1.5) as workloads.md says, scaled down when the rate asks more
 * of each agent than that allows: with N agents at R req/s an agent must be ready every
 * N/R s, and we keep agents at most half busy thinking so the rate, not the model, sets
 * the arrivals. The report gives the effective mean. */
static double thinkTime(gen *g, double now) {
    double mean = g->o->pat.think_time_s, cap = 0.5 * (double)g->active / rateAt(g, now);
    if (cap < mean) mean = cap;
    g->thinkSum += mean;   /* averaged at the end */
    g->thinkN++;
    return mean * (0.5 + lh_load_rng_u01(&g->rng));
}

/* ---- requests --------------------------------------------------------------------- */

static int buildRequest(gen *g, agent *a, int cls, int cmd) {
    const lh_load_options *o = g->o;
    int id = (int)(a - g->a);
    int bl = snprintf(g->body, sizeof(g->body),
                      "{\"agent\":\"load-%d\",\"session\":\"load-%d-%u\",\"tool\":\"Bash\",\"input\":{\"command\":%s},"
                      "\"cwd\":\"/home/dev/app\"}", id, id, a->session, o->corpus->cmd[cmd].json);
    if (bl < 0 || (size_t)bl >= sizeof(g->body)) return -1;
    const char *tok = o->ntokens ? o->tokens[a->token] : NULL;
    size_t need = (size_t)bl + 512 + (tok ? strlen(tok) : 0);
    if (need > a->outCap) {
        char *n = realloc(a->out, need);
        if (!n) return -1;
        a->out = n;
        a->outCap = need;
    }
    int n = snprintf(a->out, a->outCap, "POST %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%sContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s", o->path, o->host, o->port, tok ? "Authorization: Bearer " : "",
                     tok ? tok : "", tok ? "\r\n" : "", bl, g->body);
    if (n < 0 || (size_t)n >= a->outCap) return -1;
    a->outLen = (size_t)n;
    a->outOff = 0;
    a->cls = cls;
    return 0;
}

static void failRequest(gen *g, agent *a, double now, int timeout) {
    g->r->failed++;
    g->r->status[0]++;
    if (timeout) g->r->timeouts++;
    else g->r->conn_errors++;
    slotAt(g, now)->failed++;
    slotAt(g, now)->no_reply++;
    (void)a;
}

/* After a failure of the connection: a new session on a new connection. */
static void reconnect(gen *g, agent *a, double now, int reset) {
    closeAgent(g, a, reset);
    a->state = A_OFF;
    if (!a->retire) connectAgent(g, a, now);
    else g->active--;
}

static int flushOut(agent *a) {
    while (a->outOff < a->outLen) {
        ssize_t w = send(a->fd, a->out + a->outOff, a->outLen - a->outOff, MSG_NOSIGNAL);
        if (w > 0) a->outOff += (size_t)w;
        else if (w < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        else return -1;
    }
    return 0;
}

/* An injected fault: the connection drops before the request, or resets in the middle of
 * it. The request may be retried after an exponential delay. */
static void injectFault(gen *g, agent *a, double now) {
    const lh_load_pattern *p = &g->o->pat;
    lh_load_result *r = g->r;
    r->faults++;
    if (lh_load_rng_u01(&g->rng) < p->reset_fraction) {
        r->resets++;
        slotAt(g, now)->gone++;
        /* the headers and half of the body, then RST */
        size_t half = a->outLen - strlen(g->body) / 2;
        ssize_t w = send(a->fd, a->out, half, MSG_NOSIGNAL);
        (void)w;
        reconnect(g, a, now, 1);
    } else {
        r->dropped++;
        reconnect(g, a, now, 1);
    }
    if (lh_load_rng_u01(&g->rng) < p->retry_fraction) retryPush(g, now + lh_load_rng_exp(&g->rng, p->retry_delay_mean_s));
    else r->abandoned++;
}

/* Give the arrival at the head of the queue to agent a. */
static void dispatch(gen *g, agent *a, double now) {
    pend pd = g->pq[g->ph++ % PENDING_CAP];
    const lh_load_pattern *p = &g->o->pat;
    double u = lh_load_rng_u01(&g->rng);
    int cls = u < p->mix[0] ? LH_LOAD_SAFE : u < p->mix[0] + p->mix[1] ? LH_LOAD_RISKY : LH_LOAD_COMPLEX;
    const lh_load_corpus *c = g->o->corpus;
    int cmd = c->idx[cls][(int)(lh_load_rng_u01(&g->rng) * c->by_class[cls])];
    if (pd.retry) g->r->retries++;
    if (buildRequest(g, a, cls, cmd)) { failRequest(g, a, now, 0); g->r->not_sent++; setReady(g, a, now, 0); return; }
    a->sched = pd.sched;
    a->retry = pd.retry;
    if (p->network_error_rate > 0 && lh_load_rng_u01(&g->rng) < p->network_error_rate) {
        injectFault(g, a, now);
        return;
    }
    g->r->scenario[c->cmd[cmd].scenario >= 0 ? c->cmd[cmd].scenario : 0] += c->cmd[cmd].scenario >= 0;
    g->r->by_class[cls]++;
    a->state = A_BUSY;
    a->sentAt = now;
    a->inLen = 0;
    g->r->sent++;
    slotAt(g, now)->sent++;
    lh_load_hist_add(&g->lag, (uint64_t)((now - pd.sched) * 1e9));
    if (flushOut(a)) { failRequest(g, a, now, 0); reconnect(g, a, now, 0); return; }
    if (a->outOff < a->outLen) setInterest(g, a, EPOLLIN | EPOLLOUT);
}

static int tierOf(const char *body, size_t len) {
    const char *t = memmem(body, len, "\"tier\":\"", 8);
    if (!t) return LH_LOAD_TIERS - 1;
    t += 8;
    static const char *const tiers[] = {"cache\"", "policy\"", "analysis\"", "expert\""};
    for (int i = 0; i < 4; i++)
        if (!strncmp(t, tiers[i], strlen(tiers[i]))) return i;
    return LH_LOAD_TIERS - 1;
}

/* 1 when a whole reply is in (consumed), 0 when more is needed, -1 when malformed. */
static int parseReply(gen *g, agent *a, double now, int *closeAfter) {
    char *eoh = memmem(a->in, a->inLen, "\r\n\r\n", 4);
    if (!eoh) return a->inLen >= IN_CAP ? -1 : 0;
    size_t hlen = (size_t)(eoh + 4 - a->in);
    if (a->inLen < 12 || strncmp(a->in, "HTTP/1.", 7)) return -1;
    int status = atoi(a->in + 9); /* NOLINT(cert-err34-c): no digits read 0, a failed request */
    long clen = -1;
    *closeAfter = 0;
    for (char *p = a->in; p < eoh; ) {
        char *nl = memmem(p, (size_t)(eoh - p), "\r\n", 2);
        if (!nl) nl = eoh;
        if (!strncasecmp(p, "Content-Length:", 15)) clen = strtol(p + 15, NULL, 10);
        else if (!strncasecmp(p, "Connection:", 11) && strcasestr(p + 11, "close") && strcasestr(p + 11, "close") < nl)
            *closeAfter = 1;
        p = nl + 2;
    }
    if (clen < 0 || (size_t)clen > IN_CAP - hlen) return -1;
    if (a->inLen < hlen + (size_t)clen) return 0;
    const char *body = a->in + hlen;
    lh_load_result *r = g->r;
    uint64_t ns = (uint64_t)((now - a->sched) * 1e9);
    lh_load_slot *sl = slotAt(g, now);
    r->status[status / 100 >= 1 && status / 100 <= 5 ? status / 100 : 0]++;
    if (status >= 200 && status < 300) {
        int tier = tierOf(body, (size_t)clen);
        r->ok++;
        sl->ok++;
        if (a->retry) r->retries_ok++;
        lh_load_hist_add(&r->all, ns);
        lh_load_hist_add(&r->tier[tier], ns);
        lh_load_hist_add(&sl->h, ns);
        if (ns < 100000000ull) r->sla_ok++;
        const char *d = memmem(body, (size_t)clen, "\"decision\":\"", 12);
        if (d) {
            d += 12;
            int k = !strncmp(d, "allow", 5) ? 0 : !strncmp(d, "deny", 4) ? 1 : !strncmp(d, "escalate", 8) ? 2 : -1;
            if (k >= 0) r->decisions[k]++;
            if (k == 2) lh_load_hist_add(&r->escalated, ns);
            if ((k == 0 || k == 1) && tier != 3) {
                lh_load_hist_add(&r->fast, ns);
                lh_load_hist_add(&r->fast_sent, (uint64_t)((now - a->sentAt) * 1e9));
            }
        }
        const char *l = memmem(body, (size_t)clen, "\"latency_us\":", 13);
        if (l) { r->engine_us_sum[tier] += strtod(l + 13, NULL); r->engine_n[tier]++; }
    } else {
        r->failed++;
        sl->failed++;
        if (status == 429) { r->throttled++; sl->throttled++; }
        else if (status >= 500) sl->server_fault++;
        else sl->client_error++;
    }
    r->last_reply_mono = now;
    memmove(a->in, a->in + hlen + (size_t)clen, a->inLen - hlen - (size_t)clen);
    a->inLen -= hlen + (size_t)clen;
    return 1;
}

/* ---- events ------------------------------------------------------------------------ */

static void onEvent(gen *g, agent *a, uint32_t ev, double now) {
    if (a->state == A_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr || (ev & (EPOLLERR | EPOLLHUP))) {
            g->r->connect_failures++;
            closeAgent(g, a, 0);
            a->state = A_CONNECTING;
            a->connectAt = now + 0.5;
            return;
        }
        if (ev & EPOLLOUT) setReady(g, a, now, 0);
        return;
    }
    if (a->state == A_BUSY && (ev & EPOLLOUT) && a->outOff < a->outLen) {
        if (flushOut(a)) { failRequest(g, a, now, 0); reconnect(g, a, now, 0); return; }
        if (a->outOff == a->outLen) setInterest(g, a, EPOLLIN);
    }
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    ssize_t n = recv(a->fd, a->in + a->inLen, IN_CAP - a->inLen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {   /* the bridge closed the connection */
        if (a->state == A_BUSY) failRequest(g, a, now, 0);
        reconnect(g, a, now, 0);
        return;
    }
    a->inLen += (size_t)n;
    if (a->state != A_BUSY) { reconnect(g, a, now, 0); return; }   /* bytes nobody asked for */
    int closeAfter = 0, rc = parseReply(g, a, now, &closeAfter);
    if (rc < 0) { failRequest(g, a, now, 0); reconnect(g, a, now, 0); return; }
    if (rc == 0) return;
    if (closeAfter) { reconnect(g, a, now, 0); return; }
    setReady(g, a, now, thinkTime(g, now));
}

/* ---- the loop --------------------------------------------------------------------- */

static void adjustFleet(gen *g, double now) {
    g->target = agentsAt(g, now);
    if (g->target > g->na) g->target = g->na;
    for (int i = 0; i < g->na && g->active < g->target; i++) {
        agent *a = &g->a[i];
        if (a->state != A_OFF || a->fd >= 0) continue;
        a->retire = 0;
        g->active++;
        connectAgent(g, a, now);
    }
    if (g->active > g->r->agents_peak) g->r->agents_peak = g->active;
}

static void pushArrival(gen *g, double sched, int retry) {
    if (g->pt - g->ph >= PENDING_CAP) { g->r->not_sent++; g->r->failed++; return; }
    g->pq[g->pt++ % PENDING_CAP] = (pend){sched, retry};
    g->r->scheduled += !retry;
}

/* Take the next ready agent, retiring or renewing agents on the way. NULL if none. */
static agent *nextAgent(gen *g, double now) {
    while (g->nheap) {
        agent *a = &g->a[g->heap[0]];
        if (a->readyAt > now) return NULL;
        if (g->active > g->target) {   /* the fleet shrinks */
            closeAgent(g, a, 0);
            a->state = A_OFF;
            g->active--;
            continue;
        }
        if (now > a->sessionEnd) {     /* the session is over: a new agent takes the slot */
            closeAgent(g, a, 0);
            connectAgent(g, a, now);
            continue;
        }
        heapRemoveAt(g, 0);
        return a;
    }
    return NULL;
}

static int runLoop(gen *g, char *err, size_t errlen) {
    const lh_load_options *o = g->o;
    lh_load_result *r = g->r;
    double now;
    double nextArrival = g->t0, nextTick = g->t0, deadline = g->tEnd + o->drain_s;
    struct epoll_event evs[512];
    for (;;) {
        now = lh_load_now();
        int scheduling = now < g->tEnd;
        if (now >= nextTick) {   /* 10 times a second: bursts, the fleet, reconnects, timeouts */
            nextTick += 0.1;
            if (now >= g->nextBurstCheck && scheduling) {
                g->nextBurstCheck += 1.0;
                if (g->burst && now >= g->burstEnd) g->burst = 0;
                if (!g->burst && lh_load_rng_u01(&g->bursts) < o->pat.burst_probability) {
                    g->burst = 1;
                    g->burstEnd = now + o->pat.burst_duration_s;
                    r->bursts++;
                }
            }
            if (scheduling) adjustFleet(g, now);
            lh_load_slot *sl = slotAt(g, now);
            if ((uint32_t)g->active > sl->agents) sl->agents = (uint32_t)g->active;
            for (int i = 0; i < g->na; i++) {
                agent *a = &g->a[i];
                if (a->state == A_CONNECTING && a->fd < 0 && a->connectAt && now >= a->connectAt) connectAgent(g, a, now);
                else if (a->state == A_BUSY && now - a->sentAt > o->timeout_s) {
                    failRequest(g, a, now, 1);
                    reconnect(g, a, now, 0);
                }
            }
            /* arrivals that waited longer than the timeout for an agent failed */
            while (g->ph != g->pt && now - g->pq[g->ph % PENDING_CAP].sched > o->timeout_s) {
                g->ph++;
                r->failed++;
                r->timeouts++;
                r->not_sent++;
                slotAt(g, now)->failed++;
                slotAt(g, now)->no_reply++;
            }
        }
        while (scheduling && nextArrival <= now) {
            pushArrival(g, nextArrival, 0);
            nextArrival += lh_load_rng_exp(&g->sched, 1.0 / rateAt(g, nextArrival));
        }
        while (g->nrq && g->rq[0] <= now) {
            double t = retryPop(g);
            if (t < g->tEnd) pushArrival(g, t, 1);
            else r->abandoned++;
        }
        while (g->ph != g->pt) {
            agent *a = nextAgent(g, now);
            if (!a) break;
            dispatch(g, a, now);
        }
        int busy = 0;
        for (int i = 0; i < g->na && !busy && !scheduling; i++) busy = g->a[i].state == A_BUSY;
        if (!scheduling && ((!busy && g->ph == g->pt) || now >= deadline)) break;
        /* sleep until the next arrival, retry, ready agent or tick */
        double wake = nextTick;
        if (scheduling && nextArrival < wake) wake = nextArrival;
        if (g->nrq && g->rq[0] < wake) wake = g->rq[0];
        if (g->ph != g->pt && g->nheap && g->a[g->heap[0]].readyAt < wake) wake = g->a[g->heap[0]].readyAt;
        double dt = wake - lh_load_now();
        if (dt < 0) dt = 0;
        struct timespec ts = {(time_t)dt, (long)((dt - floor(dt)) * 1e9)};
        int n = epoll_pwait2(g->ep, evs, 512, &ts, NULL);
        if (n < 0 && errno != EINTR) { snprintf(err, errlen, "epoll: %s", strerror(errno)); return -1; }
        now = lh_load_now();
        for (int k = 0; k < n; k++) onEvent(g, &g->a[evs[k].data.u32], evs[k].events, now);
    }
    /* whatever is still in flight or queued has failed */
    for (int i = 0; i < g->na; i++)
        if (g->a[i].state == A_BUSY) { failRequest(g, &g->a[i], now, 1); }
    while (g->ph != g->pt) { g->ph++; r->failed++; r->timeouts++; r->not_sent++; }
    return 0;
}

/* Connect the agents of the start (agents at t = 0) before the clock starts. */
static int preconnect(gen *g, char *err, size_t errlen) {
    double now = lh_load_now(), until = now + 30;
    g->t0 = now;   /* for curveAt */
    g->target = agentsAt(g, now);
    struct epoll_event evs[512];
    int want = g->target < g->na ? g->target : g->na;
    int started = 0;
    while (lh_load_now() < until) {
        now = lh_load_now();
        int connecting = 0;
        for (int i = 0; i < started; i++) connecting += g->a[i].state == A_CONNECTING;
        while (started < want && connecting < 256) {   /* at most 256 handshakes at once */
            g->active++;
            connectAgent(g, &g->a[started++], now);
            connecting++;
        }
        int ready = 0, failedConn = 0;
        for (int i = 0; i < started; i++) {
            ready += g->a[i].state == A_READY;
            failedConn += g->a[i].state == A_CONNECTING && g->a[i].fd < 0;
        }
        if (failedConn) {
            snprintf(err, errlen, "cannot connect to %s:%d (%d of %d agents refused)", g->o->host, g->o->port, failedConn, started);
            return -1;
        }
        if (ready == want) return 0;
        int n = epoll_wait(g->ep, evs, 512, 50);
        for (int k = 0; k < n; k++) onEvent(g, &g->a[evs[k].data.u32], evs[k].events, lh_load_now());
    }
    snprintf(err, errlen, "could not connect %d agents to %s:%d within 30 s", want, g->o->host, g->o->port);
    return -1;
}

int lh_load_generate(const lh_load_options *o, lh_load_result *r, char *err, size_t errlen) {
    gen g;
    memset(&g, 0, sizeof(g));
    g.o = o;
    g.r = r;
    g.curveAt = -1;
    lh_load_rng_seed(&g.rng, o->seed);
    lh_load_rng_seed(&g.sched, o->seed ^ 0x5ced5ced5ced5cedull);
    lh_load_rng_seed(&g.bursts, o->seed ^ 0xb0b5b0b5b0b5b0b5ull);
    g.na = o->pat.agents_peak;
    g.a = calloc((size_t)g.na, sizeof(agent));
    g.heap = calloc((size_t)g.na, sizeof(int));
    g.pq = malloc(PENDING_CAP * sizeof(pend));
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    /* Arrivals are timed from their schedule, so a late wake-up counts as latency: the
     * kernel's default timer slack would add up to 50 us to every sleep. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    int rc = -1;
    if (!g.a || !g.heap || !g.pq || g.ep < 0 || lh_load_hist_init(&g.lag, 8)) {
        snprintf(err, errlen, "out of memory for %d agents", g.na);
        goto out;
    }
    for (int i = 0; i < g.na; i++) {
        g.a[i].fd = -1;
        g.a[i].heapPos = -1;
        g.a[i].token = o->ntokens ? i % o->ntokens : 0;
    }
    g.sa.sin_family = AF_INET;
    g.sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &g.sa.sin_addr) != 1) { snprintf(err, errlen, "bad address %s", o->host); goto out; }
    if (preconnect(&g, r->fatal, sizeof(r->fatal))) { rc = 0; goto out; }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_THREAD, &ru0);
    g.t0 = lh_load_now();
    g.curveAt = -1;
    r->t0_mono = g.t0;
    g.tEnd = g.t0 + o->duration_s;
    g.nextBurstCheck = g.t0;
    r->start_epoch = (double)time(NULL);
    rc = runLoop(&g, err, errlen);
    r->wall_s = lh_load_now() - g.t0;
    r->last_reply_s = r->last_reply_mono > 0 ? r->last_reply_mono - g.t0 : 0;
    getrusage(RUSAGE_THREAD, &ru1);
    r->gen_cpu_s = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                   (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    r->think_effective_mean_s = g.thinkN ? g.thinkSum / (double)g.thinkN : o->pat.think_time_s;
    r->sched_lag_p99_ns = (double)lh_load_hist_quantile(&g.lag, .99);
    r->sched_lag_max_ns = (double)g.lag.max_ns;
out:
    if (g.a)
        for (int i = 0; i < g.na; i++) {
            if (g.a[i].fd >= 0) close(g.a[i].fd);
            free(g.a[i].out);
        }
    free(g.a);
    free(g.heap);
    free(g.pq);
    free(g.rq);
    lh_load_hist_free(&g.lag);
    if (g.ep >= 0) close(g.ep);
    return rc;
}
