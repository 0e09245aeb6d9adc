/* metrics.c — see metrics.h. Prometheus text format 0.0.4. */
#include "bridge/metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"

#define RLX memory_order_relaxed

/* Bucket upper bounds in nanoseconds: 25 µs … 5 s. */
const uint64_t lh_hist_bounds_ns[LH_HIST_BUCKETS] = {
    25000, 50000, 100000, 250000, 500000, 1000000, 2000000, 5000000, 10000000,
    25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 5000000000ull};
static const char *bucketLe[LH_HIST_BUCKETS] = {
    "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.002", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "0.5", "1", "5"};

const uint32_t lh_fine_bounds_us[LH_FINE_BUCKETS] = {
    50, 60, 72, 86, 104, 124, 149, 179, 215, 258, 310, 372, 446, 535, 642, 770, 924, 1109, 1331, 1597,
    1917, 2300, 2760, 3312, 3975, 4770, 5724, 6869, 8242, 9891, 11869, 14243, 17091, 20509, 24611, 29533,
    35440, 42528, 51034, 61240, 73489, 88186, 105824, 126988, 152386, 182863, 219436, 263323, 315987,
    379185, 455022, 546026, 655232, 786278, 943533, 1132240, 1358688, 1630426, 1956511, 2347813};

const int lh_metrics_codes[LH_NCODES] = {200, 201, 202, 308, 400, 401, 403, 404, 405, 406, 409, 413, 415, 429, 431, 500, 503, 0};

/* Unsized, so a name lost in a merge (a missing comma joins two strings) fails the build. */
static const char *routeNames[] = {
    "/v1/validate", "/v1/hooks/claude-code", "/v1/data/lighthouse/decision", "/v1/events",
    "/v1/events/stream", "/v1/policy", "/v1/policy/history", "/v1/policy/rollback",
    "/v1/status", "/health", "/ready", "/metrics", "/v1/sla", "/v1/tokens", "/v1/tokens/revoke",
    "/v1/shadows", "/v1/shadows/tree", "/v1/shadows/file", "/v1/shadows/history", "/v1/shadows/diff",
    "/v1/experts/register", "/v1/experts/leave", "/v1/experts", "/v1/escalations", "/v1/escalations/stream",
    "/v1/escalations/{id}", "/v1/escalations/{id}/verdict",
    "/ui/", "/v1/policy/revisions/{rev}", "/v1/elicitations", "/v1/elicitations/{id}",
    "/v1/annotations", "/v1/annotations/{id}", "/mcp",
    "/v1/load/runs",
    "other"};
_Static_assert(sizeof(routeNames) / sizeof(routeNames[0]) == LH_ROUTE_COUNT, "one name per lh_route");

static const char *errNames[LH_ERR_COUNT] = {
    "bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed",
    "payload_too_large", "unsupported_media_type", "rate_limited", "store_unavailable", "internal"};

const char *lh_route_name(lh_route r) { return r < LH_ROUTE_COUNT ? routeNames[r] : "other"; }

void lh_hist_observe(lh_hist *h, uint64_t ns) {
    int i = 0;
    while (i < LH_HIST_BUCKETS && ns > lh_hist_bounds_ns[i]) i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, RLX);
    atomic_fetch_add_explicit(&h->sum_ns, ns, RLX);
    atomic_fetch_add_explicit(&h->count, 1, RLX);
}

void lh_metrics_fast_path(lh_metrics *m, uint64_t ns) {
    int lo = 0, hi = LH_FINE_BUCKETS;   /* the first bound >= ns, or +Inf */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ns > (uint64_t)lh_fine_bounds_us[mid] * 1000u) lo = mid + 1; else hi = mid;
    }
    atomic_fetch_add_explicit(&m->fast_path.bucket[lo], 1, RLX);
    atomic_fetch_add_explicit(&m->fast_path.sum_ns, ns, RLX);
}

void lh_metrics_escalation_cpu(lh_metrics *m, uint64_t ns) {
    atomic_fetch_add_explicit(&m->escalation_cpu_ns, ns, RLX);
}

void lh_metrics_fast_path_cpu(lh_metrics *m, uint64_t ns) {
    atomic_fetch_add_explicit(&m->fast_cpu_ns, ns, RLX);
    atomic_fetch_add_explicit(&m->fast_cpu_n, 1, RLX);
}

void lh_metrics_request(lh_metrics *m, lh_route r, int status, int peerGone, uint64_t ns) {
    lh_outcome o = lh_outcome_of(status, peerGone);
    atomic_fetch_add_explicit(&m->outcomes[r][o], 1, RLX);
    if (o == LH_OUTCOME_CLIENT_GONE) return;   /* no status, and no reply to time */
    if (status == 0) status = 500;             /* no reply, through the bridge's fault */
    int c = LH_NCODES - 1;   /* "other" */
    for (int i = 0; i < LH_NCODES - 1; i++)
        if (lh_metrics_codes[i] == status) { c = i; break; }
    atomic_fetch_add_explicit(&m->requests[r][c], 1, RLX);
    lh_hist_observe(&m->request_duration[r], ns);
    if (r <= LH_ROUTE_OPA && status >= 200 && status < 300) lh_hist_observe(&m->decision_ok, ns);
    if (r <= LH_ROUTE_OPA && lh_outcome_counts_for_sla(o)) lh_hist_observe(&m->decision_sla, ns);
}

static pthread_mutex_t agentMu = PTHREAD_MUTEX_INITIALIZER;   /* taking a new slot */

static int agentSlot(lh_metrics *m, const char *agent) {
    int n = atomic_load_explicit(&m->agent_n, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (!strcmp(m->agent_name[i], agent)) return i;
    if (n == LH_METRICS_AGENTS || strlen(agent) >= LH_METRICS_AGENT_NAME) return -1;
    pthread_mutex_lock(&agentMu);
    int k = atomic_load_explicit(&m->agent_n, memory_order_acquire), slot = -1;
    for (int i = n; i < k && slot < 0; i++)
        if (!strcmp(m->agent_name[i], agent)) slot = i;
    if (slot < 0 && k < LH_METRICS_AGENTS) {
        snprintf(m->agent_name[k], LH_METRICS_AGENT_NAME, "%s", agent);
        atomic_store_explicit(&m->agent_n, k + 1, memory_order_release);
        slot = k;
    }
    pthread_mutex_unlock(&agentMu);
    return slot;
}

void lh_metrics_agent_request(lh_metrics *m, lh_route r, const char *agent, int status, int peerGone, uint64_t ns) {
    lh_outcome o = lh_outcome_of(status, peerGone);
    if (r > LH_ROUTE_OPA || !lh_outcome_counts_for_sla(o) || !agent || !*agent) return;
    int i = agentSlot(m, agent);
    if (i < 0) return;   /* pooled as "other" */
    lh_agent_counters *a = &m->agent[i];
    int b = 0;
    while (b < LH_HIST_BUCKETS && ns > lh_hist_bounds_ns[b]) b++;
    atomic_fetch_add_explicit(&a->dur[b], 1, RLX);
    atomic_fetch_add_explicit(&a->dur_sum_ns, ns, RLX);
    if (status >= 200 && status < 300) atomic_fetch_add_explicit(&a->ok_dur[b], 1, RLX);
    if (o == LH_OUTCOME_OK) {
        atomic_fetch_add_explicit(&a->ok, 1, RLX);
    } else {
        atomic_fetch_add_explicit(&a->unavailable, 1, RLX);
        if (status == 503) atomic_fetch_add_explicit(&a->store_faults, 1, RLX);
    }
    atomic_fetch_add_explicit(&a->requests, 1, RLX);
}

void lh_metrics_error(lh_metrics *m, lh_err_kind k) {
    atomic_fetch_add_explicit(&m->errors[k], 1, RLX);
}

void lh_metrics_decision(lh_metrics *m, int action, int tier, int risk, int escalated, uint64_t ns) {
    lh_hist_observe(&m->validation, ns);
    atomic_fetch_add_explicit(&m->decisions[action][tier][risk], 1, RLX);
    if (escalated) atomic_fetch_add_explicit(&m->escalations, 1, RLX);
}

void lh_metrics_store_result(lh_metrics *m, int ok, uint64_t n, uint64_t ns) {
    if (ns) lh_hist_observe(&m->commit, ns);
    if (ok) atomic_fetch_add_explicit(&m->store_appends, n, RLX);
    else atomic_fetch_add_explicit(&m->store_failures, 1, RLX);
}

void lh_metrics_rollback(lh_metrics *m, int trigger, int result, uint64_t ns) {
    atomic_fetch_add(&m->rollbacks[trigger][result], 1);
    if (result == LH_ROLLBACK_SUCCEEDED) atomic_fetch_add(&m->rollback_ns_sum, ns);
}

void lh_metrics_cache_retired(lh_metrics *m, uint64_t hits, uint64_t lookups) {
    atomic_fetch_add(&m->cache_hits_base, hits);
    atomic_fetch_add(&m->cache_lookups_base, lookups);
}

static int isDecisionRoute(int r) { return r == LH_ROUTE_VALIDATE || r == LH_ROUTE_HOOK || r == LH_ROUTE_OPA; }

int lh_metrics_sla_read(const lh_metrics *m, lh_metrics_sla_counts *s, lh_metrics_sla_counts *agents) {
    memset(s, 0, sizeof(*s));
    for (int r = 0; r < LH_ROUTE_COUNT; r++) {
        if (!isDecisionRoute(r)) continue;
        /* Only the outcomes the bridge answers for: client errors (bad input, no or a bad
         * token, a wrong method), throttled callers and clients that went away say nothing
         * about the bridge's or the policy's health (docs/sla.md, "Outcomes"). */
        uint64_t ok = atomic_load_explicit(&m->outcomes[r][LH_OUTCOME_OK], RLX);
        uint64_t fault = atomic_load_explicit(&m->outcomes[r][LH_OUTCOME_SERVER_FAULT], RLX);
        s->requests += ok + fault;
        s->ok += ok;
        s->unavailable += fault;
        /* 503 is the store (or a bridge that is stopping): no policy revision causes it. */
        for (int c = 0; c < LH_NCODES; c++)
            if (lh_metrics_codes[c] == 503) s->store_faults += atomic_load_explicit(&m->requests[r][c], RLX);
    }
    for (int i = 0; i <= LH_HIST_BUCKETS; i++) s->dur[i] = atomic_load_explicit(&m->decision_sla.bucket[i], RLX);
    s->dur_sum_ns = atomic_load_explicit(&m->decision_sla.sum_ns, RLX);
    for (int i = 0; i <= LH_HIST_BUCKETS; i++) s->ok_dur[i] = atomic_load_explicit(&m->decision_ok.bucket[i], RLX);
    /* The agents' slots: only those published (their names are complete). */
    int na = atomic_load_explicit(&((lh_metrics *)m)->agent_n, memory_order_acquire);
    if (na > LH_METRICS_AGENTS) na = LH_METRICS_AGENTS;
    memset(agents, 0, sizeof(*agents) * LH_METRICS_AGENTS);
    for (int i = 0; i < na; i++) {
        const lh_agent_counters *c = &m->agent[i];
        lh_metrics_sla_counts *g = &agents[i];
        g->requests = atomic_load_explicit(&c->requests, RLX);
        g->ok = atomic_load_explicit(&c->ok, RLX);
        g->unavailable = atomic_load_explicit(&c->unavailable, RLX);
        g->store_faults = atomic_load_explicit(&c->store_faults, RLX);
        g->dur_sum_ns = atomic_load_explicit(&c->dur_sum_ns, RLX);
        for (int k = 0; k <= LH_HIST_BUCKETS; k++) {
            g->dur[k] = atomic_load_explicit(&c->dur[k], RLX);
            g->ok_dur[k] = atomic_load_explicit(&c->ok_dur[k], RLX);
        }
    }
    return na;
}

const char (*lh_metrics_agent_names(const lh_metrics *m))[LH_METRICS_AGENT_NAME] {
    return (const char (*)[LH_METRICS_AGENT_NAME])m->agent_name;
}

/* ---- rendering -------------------------------------------------------------- */

typedef struct sbuf { char *p; size_t len, cap; int bad; } sbuf;

__attribute__((format(printf, 2, 3))) static void emit(sbuf *s, const char *fmt, ...) {
    if (s->bad) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0) { s->bad = 1; return; }
        if ((size_t)n < s->cap - s->len) { s->len += (size_t)n; return; }
        size_t nc = s->cap * 2 + (size_t)n;
        char *np = realloc(s->p, nc);
        if (!np) { s->bad = 1; return; }
        s->p = np;
        s->cap = nc;
    }
}

static void head(sbuf *s, const char *name, const char *type, const char *help) {
    emit(s, "# HELP lighthouse_bridge_%s %s\n# TYPE lighthouse_bridge_%s %s\n", name, help, name, type);
}

static void hist(sbuf *s, const char *name, const char *labels, const lh_hist *h) {
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i <= LH_HIST_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], RLX);
        emit(s, "lighthouse_bridge_%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, labels, sep,
             i < LH_HIST_BUCKETS ? bucketLe[i] : "+Inf", cum);
    }
    /* count is the +Inf bucket, so the exposition stays self-consistent while requests race. */
    emit(s, "lighthouse_bridge_%s_sum%s%s%s %.9f\n", name, labels[0] ? "{" : "", labels,
         labels[0] ? "}" : "", (double)atomic_load_explicit(&h->sum_ns, RLX) / 1e9);
    emit(s, "lighthouse_bridge_%s_count%s%s%s %" PRIu64 "\n", name, labels[0] ? "{" : "", labels,
         labels[0] ? "}" : "", cum);
}

static void escapeLabel(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (; in && *in && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"') { out[o++] = '\\'; out[o++] = *in; }
        else if (*in == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
        else out[o++] = *in;
    }
    out[o] = 0;
}

/* process_* from /proc/self. */
static void processSeries(sbuf *s, double start) {
    long page = sysconf(_SC_PAGESIZE), tick = sysconf(_SC_CLK_TCK);
    unsigned long long vsz = 0, rss = 0, ut = 0, st = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { if (fscanf(f, "%llu %llu", &vsz, &rss) != 2) rss = 0; fclose(f); } /* NOLINT(cert-err34-c): the kernel's format, counted */
    f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        char *p = strrchr(buf, ')');
        /* after ") " fields start at 3 (state); utime is 14, stime 15 */
        /* NOLINTNEXTLINE(cert-err34-c): the kernel's format, fields counted */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
            ut = st = 0;
    }
    long fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) { while (readdir(d)) fds++; closedir(d); fds -= 3; if (fds < 0) fds = 0; }
    unsigned long long limit = 0;
    f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (f) { if (fscanf(f, "%llu", &limit) != 1) limit = 0; fclose(f); } /* NOLINT(cert-err34-c): "max" reads 0, no limit */
    if (!limit) limit = (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)page;
    emit(s, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
            "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n", start);
    emit(s, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
         rss * (unsigned long long)page);
    emit(s, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n",
         vsz * (unsigned long long)page);
    emit(s, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
         (double)(ut + st) / (double)(tick > 0 ? tick : 100));
    emit(s, "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", fds);
    head(s, "memory_usage_bytes", "gauge", "Resident memory of the bridge in bytes.");
    emit(s, "lighthouse_bridge_memory_usage_bytes %llu\n", rss * (unsigned long long)page);
    head(s, "memory_limit_bytes", "gauge", "Memory limit (cgroup memory.max, else physical memory) in bytes.");
    emit(s, "lighthouse_bridge_memory_limit_bytes %llu\n", limit);
}

char *lh_metrics_render(const lh_metrics *m, const lh_metrics_extra *x, size_t *len) {
    sbuf s = {malloc(16384), 0, 16384, 0};
    if (!s.p) return NULL;
    s.p[0] = 0;
    head(&s, "requests_total", "counter", "HTTP requests by route and status code.");
    for (int r = 0; r < LH_ROUTE_COUNT; r++)
        for (int c = 0; c < LH_NCODES; c++) {
            uint64_t v = atomic_load_explicit(&m->requests[r][c], RLX);
            if (!v && !(r == LH_ROUTE_VALIDATE && c == 0)) continue;
            if (lh_metrics_codes[c]) emit(&s, "lighthouse_bridge_requests_total{route=\"%s\",code=\"%d\"} %" PRIu64 "\n", routeNames[r], lh_metrics_codes[c], v);
            else emit(&s, "lighthouse_bridge_requests_total{route=\"%s\",code=\"other\"} %" PRIu64 "\n", routeNames[r], v);
        }
    head(&s, "outcomes_total", "counter", "Requests by route and outcome class (ok, server_fault, client_error, throttled, client_gone; docs/sla.md).");
    for (int r = 0; r < LH_ROUTE_COUNT; r++)
        for (int o = 0; o < LH_OUTCOME_COUNT; o++) {
            uint64_t v = atomic_load_explicit(&m->outcomes[r][o], RLX);
            if (!v && r > LH_ROUTE_OPA) continue;   /* the decision routes always show every class */
            emit(&s, "lighthouse_bridge_outcomes_total{route=\"%s\",class=\"%s\"} %" PRIu64 "\n", routeNames[r],
                 lh_outcome_name((lh_outcome)o), v);
        }
    head(&s, "request_duration_seconds", "histogram", "HTTP request duration in seconds, by route.");
    for (int r = 0; r < LH_ROUTE_COUNT; r++) {
        if (!atomic_load_explicit(&m->request_duration[r].count, RLX) && r != LH_ROUTE_VALIDATE) continue;
        char lab[128];
        snprintf(lab, sizeof(lab), "route=\"%s\"", routeNames[r]);
        hist(&s, "request_duration_seconds", lab, &m->request_duration[r]);
    }
    head(&s, "errors_total", "counter", "Requests answered with an error, by kind.");
    for (int k = 0; k < LH_ERR_COUNT; k++)
        emit(&s, "lighthouse_bridge_errors_total{kind=\"%s\"} %" PRIu64 "\n", errNames[k],
             atomic_load_explicit(&m->errors[k], RLX));
    head(&s, "speed_layer_validation_duration_seconds", "histogram", "Engine decision time in seconds.");
    hist(&s, "speed_layer_validation_duration_seconds", "", &m->validation);
    head(&s, "speed_layer_cache_hits_total", "counter", "Decision cache hits.");
    emit(&s, "lighthouse_bridge_speed_layer_cache_hits_total %" PRIu64 "\n",
         atomic_load_explicit(&m->cache_hits_base, RLX) + x->cache_hits);
    head(&s, "speed_layer_cache_requests_total", "counter", "Decision cache lookups.");
    emit(&s, "lighthouse_bridge_speed_layer_cache_requests_total %" PRIu64 "\n",
         atomic_load_explicit(&m->cache_lookups_base, RLX) + x->cache_lookups);
    head(&s, "decisions_total", "counter", "Decisions by outcome, tier and risk.");
    for (int a = 0; a < 3; a++)
        for (int t = 0; t < 4; t++)
            for (int k = 0; k < 4; k++) {
                uint64_t v = atomic_load_explicit(&m->decisions[a][t][k], RLX);
                if (!v) continue;
                emit(&s, "lighthouse_bridge_decisions_total{decision=\"%s\",tier=\"%s\",risk=\"%s\"} %" PRIu64 "\n",
                     lh_action_name((lh_action)a), lh_tier_name((lh_tier)t), lh_risk_name((lh_risk)k), v);
            }
    head(&s, "expert_escalations_total", "counter", "Decisions that escalated.");
    emit(&s, "lighthouse_bridge_expert_escalations_total %" PRIu64 "\n", atomic_load_explicit(&m->escalations, RLX));
    head(&s, "fast_path_duration_seconds", "histogram",
         "Decision requests answered allow or deny without experts and without a wait, from arrival to reply, in seconds.");
    uint64_t cum = 0;
    for (int i = 0; i <= LH_FINE_BUCKETS; i++) {
        cum += atomic_load_explicit(&m->fast_path.bucket[i], RLX);
        if (i < LH_FINE_BUCKETS)
            emit(&s, "lighthouse_bridge_fast_path_duration_seconds_bucket{le=\"%.9g\"} %" PRIu64 "\n",
                 lh_fine_bounds_us[i] / 1e6, cum);
        else
            emit(&s, "lighthouse_bridge_fast_path_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    }
    emit(&s, "lighthouse_bridge_fast_path_duration_seconds_sum %.9f\nlighthouse_bridge_fast_path_duration_seconds_count %" PRIu64 "\n",
         (double)atomic_load_explicit(&m->fast_path.sum_ns, RLX) / 1e9, cum);
    head(&s, "escalation_cpu_seconds_total", "counter",
         "CPU time of the request threads on escalation work (the experts' routes, making escalations), in seconds.");
    emit(&s, "lighthouse_bridge_escalation_cpu_seconds_total %.6f\n",
         (double)atomic_load_explicit(&m->escalation_cpu_ns, RLX) / 1e9);
    head(&s, "fast_path_cpu_seconds", "summary",
         "CPU time of the bridge's request handlers per fast-path decision, sampled one request in 64; sum / count is the mean.");
    emit(&s, "lighthouse_bridge_fast_path_cpu_seconds_sum %.9f\nlighthouse_bridge_fast_path_cpu_seconds_count %" PRIu64 "\n",
         (double)atomic_load_explicit(&m->fast_cpu_ns, RLX) / 1e9, atomic_load_explicit(&m->fast_cpu_n, RLX));
    head(&s, "event_store_appends_total", "counter", "Events appended to the store.");
    emit(&s, "lighthouse_bridge_event_store_appends_total %" PRIu64 "\n", atomic_load_explicit(&m->store_appends, RLX));
    head(&s, "event_store_failures_total", "counter", "Failed store appends.");
    emit(&s, "lighthouse_bridge_event_store_failures_total %" PRIu64 "\n", atomic_load_explicit(&m->store_failures, RLX));
    head(&s, "event_store_commit_duration_seconds", "histogram", "Time until an append was durable, in seconds.");
    hist(&s, "event_store_commit_duration_seconds", "", &m->commit);
    head(&s, "active_connections", "gauge", "Open HTTP connections.");
    emit(&s, "lighthouse_bridge_active_connections %u\n", x->active_connections);
    head(&s, "active_sessions", "gauge", "Distinct agent sessions seen in the last 15 minutes.");
    emit(&s, "lighthouse_bridge_active_sessions %" PRIu64 "\n", x->active_sessions);
    head(&s, "rollbacks_total", "counter", "Policy rollbacks by trigger (api, sla) and result (triggered, succeeded, failed).");
    static const char *trig[2] = {"api", "sla"}, *res[3] = {"triggered", "succeeded", "failed"};
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 3; k++)
            emit(&s, "lighthouse_bridge_rollbacks_total{trigger=\"%s\",result=\"%s\"} %" PRIu64 "\n", trig[t], res[k],
                 atomic_load_explicit(&m->rollbacks[t][k], RLX));
    uint64_t rbOk = atomic_load_explicit(&m->rollbacks[0][1], RLX) + atomic_load_explicit(&m->rollbacks[1][1], RLX);
    head(&s, "rollback_duration_seconds", "summary", "Time of the succeeded rollbacks, from the decision to the installed revision; sum / count is the mean.");
    emit(&s, "lighthouse_bridge_rollback_duration_seconds_sum %.9f\nlighthouse_bridge_rollback_duration_seconds_count %" PRIu64 "\n",
         (double)atomic_load_explicit(&m->rollback_ns_sum, RLX) / 1e9, rbOk);
    if (x->postgres >= 0) {
        head(&s, "postgres_connection_status", "gauge", "1 when the PostgreSQL store accepts appends.");
        emit(&s, "lighthouse_bridge_postgres_connection_status %d\n", x->postgres);
    }
    head(&s, "policy_revision_info", "gauge", "The active policy revision (value 1).");
    char rev[256];
    escapeLabel(x->policy_revision, rev, sizeof(rev));
    emit(&s, "lighthouse_bridge_policy_revision_info{revision=\"%s\"} 1\n", rev);
    processSeries(&s, x->start_time);
    if (x->more) emit(&s, "%s", x->more);
    if (s.bad) { free(s.p); return NULL; }
    *len = s.len;
    return s.p;
}
