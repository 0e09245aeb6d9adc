/* report.c — the JSON report of a run: the summary scripts rely on, the 27 integration
 * metrics of workloads.md (null with a reason where a metric cannot be measured), the
 * objectives and the verdict. Every objective is computed from the measurements. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "load/load.h"
#include "version.h"

static const char *const tierNames[LH_LOAD_TIERS] = {"cache", "policy", "analysis", "expert", "unknown"};
const char *lh_load_tier_name(int t) { return t >= 0 && t < LH_LOAD_TIERS ? tierNames[t] : "unknown"; }

static double ms(uint64_t ns) { return (double)ns / 1e6; }
static json_t *msOrNull(const lh_load_hist *h, double q) { return h->count ? json_real(ms(lh_load_hist_quantile(h, q))) : json_null(); }

static json_t *latencyJson(const lh_load_hist *h) {
    return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "count", (json_int_t)h->count,
                     "avg_ms", h->count ? json_real(lh_load_hist_mean(h) / 1e6) : json_null(),
                     "p50_ms", msOrNull(h, .5), "p90_ms", msOrNull(h, .9), "p95_ms", msOrNull(h, .95),
                     "p99_ms", msOrNull(h, .99), "p999_ms", msOrNull(h, .999),
                     "max_ms", h->count ? json_real(ms(h->max_ns)) : json_null(), "min_ms",
                     h->count ? json_real(ms(h->min_ns)) : json_null());
}

static json_t *machineJson(void) {
    struct utsname u;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    uname(&u);
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) { snprintf(model, sizeof(model), "%s", c + 2); model[strcspn(model, "\n")] = 0; }
                break;
            }
        fclose(f);
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:f}", "hostname", host, "kernel", u.release, "arch", u.machine,
                     "cpu_model", model, "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN), "memory_bytes",
                     (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE));
}

/* Resource figures from the bridge's samples: before the load (t < 0) is the baseline. */
typedef struct resfig { int have; double memBase, memPeak, memLast, cpuBase, cpuPeak, cpuAvg, fdsPeak; } resfig;

static resfig resources(const lh_load_result *r) {
    resfig f = {0};
    int nb = 0, nl = 0;
    for (int i = 0; i < r->nres; i++) {
        const lh_load_res *x = &r->res[i];
        if (x->t <= 0) {
            f.memBase = x->rss_bytes;
            f.cpuBase = x->cpu_percent;
            nb++;
            continue;
        }
        if (!nl || x->rss_bytes > f.memPeak) f.memPeak = x->rss_bytes;
        if (!nl || x->cpu_percent > f.cpuPeak) f.cpuPeak = x->cpu_percent;
        if (x->fds > f.fdsPeak) f.fdsPeak = x->fds;
        f.cpuAvg += x->cpu_percent;
        f.memLast = x->rss_bytes;
        nl++;
    }
    if (nl) f.cpuAvg /= nl;
    f.have = nb > 0 && nl > 0;
    return f;
}

typedef struct objs { json_t *list, *failed; } objs;

/* status: 1 met, 0 failed, -1 no data (not a failure, and never counted as met) */
static void objective(objs *o, const char *name, const char *rule, json_t *value, int status) {
    json_array_append_new(o->list, json_pack("{s:s,s:s,s:o,s:s}", "name", name, "rule", rule, "value", value,
                                             "status", status > 0 ? "met" : status == 0 ? "failed" : "no data"));
    if (status == 0) json_array_append_new(o->failed, json_string(name));
}

static void setNull(json_t *metrics, json_t *reasons, const char *key, const char *why) {
    json_object_set_new(metrics, key, json_null());
    json_object_set_new(reasons, key, json_string(why));
}

json_t *lh_load_report(const lh_load_options *o, const lh_load_result *r, const lh_load_compare *cmp) {
    uint64_t total = r->ok + r->failed;
    /* achieved rate: answers over the run plus the drain that took the last answers in,
     * so a bridge that falls behind is not credited with the offered rate */
    double dur = r->last_reply_s > o->duration_s ? r->last_reply_s : o->duration_s;
    double rps = dur > 0 ? (double)r->ok / dur : 0;
    double sla = total ? 100.0 * (double)r->sla_ok / (double)total : NAN;
    double avail = total ? 100.0 * (double)r->ok / (double)total : NAN;
    double errRate = total ? 100.0 * (double)r->failed / (double)total : NAN;
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    resfig rf = resources(r);
    const lh_load_hist *h = &r->all;

    /* ---- the 27 metrics ---- */
    json_t *m = json_object(), *why = json_object();
    json_object_set_new(m, "total_requests", json_integer((json_int_t)total));
    json_object_set_new(m, "successful_requests", json_integer((json_int_t)r->ok));
    json_object_set_new(m, "failed_requests", json_integer((json_int_t)r->failed));
    json_object_set_new(m, "avg_response_time_ms", h->count ? json_real(lh_load_hist_mean(h) / 1e6) : json_null());
    json_object_set_new(m, "p50_response_time_ms", msOrNull(h, .5));
    json_object_set_new(m, "p95_response_time_ms", msOrNull(h, .95));
    json_object_set_new(m, "p99_response_time_ms", msOrNull(h, .99));
    json_object_set_new(m, "max_response_time_ms", h->count ? json_real(ms(h->max_ns)) : json_null());
    if (!h->count) {
        const char *w = "no request was answered";
        for (const char *const *k = (const char *const[]){"avg_response_time_ms", "p50_response_time_ms", "p95_response_time_ms",
                                                          "p99_response_time_ms", "max_response_time_ms", NULL}; *k; k++)
            json_object_set_new(why, *k, json_string(w));
    }
    json_object_set_new(m, "sla_compliant_requests", json_integer((json_int_t)r->sla_ok));
    if (total) json_object_set_new(m, "sla_compliance_rate", json_real(sla));
    else setNull(m, why, "sla_compliance_rate", "no request was sent");
    if (total) {
        json_object_set_new(m, "availability_percent", json_real(avail));
        json_object_set_new(m, "error_rate_percent", json_real(errRate));
    } else {
        setNull(m, why, "availability_percent", "no request was sent");
        setNull(m, why, "error_rate_percent", "no request was sent");
    }
    /* per component: the engine's own time per tier comes in each reply (latency_us) */
    for (int t = 1; t <= 2; t++) {
        char key[64];
        snprintf(key, sizeof(key), "%s_avg_ms", tierNames[t]);
        if (r->engine_n[t]) json_object_set_new(m, key, json_real(r->engine_us_sum[t] / (double)r->engine_n[t] / 1000.0));
        else setNull(m, why, key, t == 1 ? "no decision was settled by the policy tier in this run"
                                         : "no decision was settled by the analysis tier in this run");
    }
    /* experts: the replies they decided (tier expert), as the agents saw them */
    if (r->tier[3].count) json_object_set_new(m, "expert_avg_ms", json_real(lh_load_hist_mean(&r->tier[3]) / 1e6));
    else setNull(m, why, "expert_avg_ms", "no reply was decided by experts (simulated experts: --expert-token, docs/load.md)");
    setNull(m, why, "mount_avg_ms", "the bridge has no filesystem mount yet");
    double dn = r->m_store_commit_n[1] - r->m_store_commit_n[0];
    if (r->metrics_ok && dn > 0 && !isnan(dn))
        json_object_set_new(m, "event_store_avg_ms", json_real((r->m_store_commit_sum[1] - r->m_store_commit_sum[0]) / dn * 1000));
    else setNull(m, why, "event_store_avg_ms", r->metrics_ok ? "no append during the run" : "the bridge's /metrics could not be read");
    if (rf.have) {
        json_object_set_new(m, "memory_baseline_mb", json_real(rf.memBase / 1048576));
        json_object_set_new(m, "memory_peak_mb", json_real(rf.memPeak / 1048576));
        json_object_set_new(m, "memory_growth_mb", json_real((rf.memLast - rf.memBase) / 1048576));
        json_object_set_new(m, "cpu_baseline_percent", json_real(rf.cpuBase));
        json_object_set_new(m, "cpu_peak_percent", json_real(rf.cpuPeak));
    } else {
        const char *w = r->fatal[0] ? "the run did not start" : "the bridge process could not be sampled (no PID, no /metrics)";
        for (const char *const *k = (const char *const[]){"memory_baseline_mb", "memory_peak_mb", "memory_growth_mb",
                                                          "cpu_baseline_percent", "cpu_peak_percent", NULL}; *k; k++)
            setNull(m, why, *k, w);
    }
    json_object_set_new(m, "requests_per_second", json_real(rps));
    json_object_set_new(m, "peak_concurrent_agents", json_integer(r->agents_peak));
    json_t *cj = cmp ? lh_load_compare_json(cmp) : NULL;
    if (cj) {
        json_object_set_new(m, "baseline_comparison", json_incref(json_object_get(cj, "metrics")));
        json_object_set_new(m, "regression_detected", json_boolean(lh_load_compare_regressed(cmp)));
        json_object_set_new(m, "regression_thresholds_exceeded", json_incref(json_object_get(cj, "exceeded")));
    } else {
        setNull(m, why, "baseline_comparison", "no --baseline given");
        setNull(m, why, "regression_detected", "no --baseline given");
        setNull(m, why, "regression_thresholds_exceeded", "no --baseline given");
    }

    /* ---- objectives ---- */
    objs ob = {json_array(), json_array()};
    objective(&ob, "target_reachable", "the bridge answered GET /health and the agents connected",
              json_string(r->fatal[0] ? r->fatal : "yes"), !r->fatal[0]);
    objective(&ob, "requests_answered", "at least one request answered", json_integer((json_int_t)r->ok), r->ok > 0);
    objective(&ob, "sla_compliance_rate", ">= 99.0% of requests answered under 100 ms", total ? json_real(sla) : json_null(),
              total ? sla >= 99.0 : -1);
    objective(&ob, "p99_response_time_ms", "<= 100", msOrNull(h, .99), h->count ? ms(lh_load_hist_quantile(h, .99)) <= 100 : -1);
    objective(&ob, "avg_response_time_ms", "<= 50", h->count ? json_real(lh_load_hist_mean(h) / 1e6) : json_null(),
              h->count ? lh_load_hist_mean(h) / 1e6 <= 50 : -1);
    objective(&ob, "availability_percent", ">= 99.9", total ? json_real(avail) : json_null(), total ? avail >= 99.9 : -1);
    objective(&ob, "error_rate_percent", "<= 1.0", total ? json_real(errRate) : json_null(), total ? errRate <= 1.0 : -1);
    objective(&ob, "requests_per_second", ">= 10", json_real(rps), r->fatal[0] ? -1 : rps >= 10);
    double cpuUtil = rf.have ? rf.cpuPeak / ncpu : NAN;
    objective(&ob, "cpu_utilization_percent", "<= 85 (bridge peak CPU / CPUs)", rf.have ? json_real(cpuUtil) : json_null(),
              rf.have ? cpuUtil <= 85 : -1);
    double memUtil = rf.have && r->mem_limit_bytes > 0 ? 100 * rf.memPeak / r->mem_limit_bytes : NAN;
    objective(&ob, "memory_utilization_percent", "<= 90 (bridge peak RSS / memory limit)", isnan(memUtil) ? json_null() : json_real(memUtil),
              isnan(memUtil) ? -1 : memUtil <= 90);
    /* The generator's counts and the bridge's, class by class: a difference beyond the
     * requests in flight is a failed objective, never a silent GO (agree.c). */
    int agreeStatus;
    char agreeWhy[512];
    json_t *agreement = lh_load_agreement(r, &agreeStatus, agreeWhy, sizeof(agreeWhy));
    objective(&ob, "bridge_agreement", "per outcome class, the load's count = the bridge's /metrics delta, within the requests in flight",
              json_string(agreeWhy), r->fatal[0] ? -1 : agreeStatus);
    if (cmp)
        objective(&ob, "no_regression", "no statistically significant regression against the baseline",
                  json_boolean(!lh_load_compare_regressed(cmp)), !lh_load_compare_regressed(cmp));
    int go = json_array_size(ob.failed) == 0;

    /* ---- summary ---- */
    json_t *sum = json_pack("{s:I,s:I,s:f,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o}", "requests_total", (json_int_t)total,
                            "requests_failed", (json_int_t)r->failed, "rps", rps, "p50_ms", msOrNull(h, .5), "p95_ms",
                            msOrNull(h, .95), "p99_ms", msOrNull(h, .99), "p999_ms", msOrNull(h, .999), "max_ms",
                            h->count ? json_real(ms(h->max_ns)) : json_null(), "sla_compliance_percent",
                            total ? json_real(sla) : json_null(), "verdict", go ? "GO" : "NO-GO", "failed_objectives", ob.failed);
    if (r->fatal[0]) json_object_set_new(sum, "error", json_string(r->fatal));

    /* ---- details ---- */
    json_t *tiers = json_object();
    for (int t = 0; t < LH_LOAD_TIERS; t++) {
        if (!r->tier[t].count) continue;
        json_t *lj = latencyJson(&r->tier[t]);
        json_object_set_new(lj, "engine_avg_us", r->engine_n[t] ? json_real(r->engine_us_sum[t] / (double)r->engine_n[t]) : json_null());
        json_object_set_new(tiers, tierNames[t], lj);
    }
    json_t *scen = json_object();
    for (int s = 0; s < LH_LOAD_SCENARIOS; s++) json_object_set_new(scen, lh_load_scenario_name(s), json_integer((json_int_t)r->scenario[s]));
    double v200 = r->m_validate_200[1] - r->m_validate_200[0], dec = r->m_decisions[1] - r->m_decisions[0];
    json_t *bridgeCounts = r->metrics_ok
        ? json_pack("{s:f,s:f,s:I,s:b,s:s}", "validate_200_delta", v200, "decisions_delta", dec, "generator_ok",
                    (json_int_t)r->ok, "match", v200 == (double)r->ok,
                    "note", "deltas of the bridge's /metrics across the run; they match when nothing else used the bridge")
        : json_pack("{s:s}", "error", "the bridge's /metrics could not be read");
    json_t *series = json_array();
    for (int i = 0; i < r->nslots; i++) {
        const lh_load_slot *s = &r->slots[i];
        if (i * r->slot_s > r->wall_s + r->slot_s) break;
        json_array_append_new(series, json_pack("{s:f,s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:i,s:i,s:i,s:i,s:i}", "t", i * r->slot_s,
                                                "ok", (int)s->ok, "failed", (int)s->failed, "sent", (int)s->sent,
                                                "agents", (int)s->agents, "p50_ms", msOrNull(&s->h, .5), "p99_ms",
                                                msOrNull(&s->h, .99), "max_ms", s->h.count ? json_real(ms(s->h.max_ns)) : json_null(),
                                                "server_fault", (int)s->server_fault, "client_error", (int)s->client_error,
                                                "throttled", (int)s->throttled, "client_gone", (int)s->gone,
                                                "no_reply", (int)s->no_reply));
    }
    json_t *res = json_array();
    for (int i = 0; i < r->nres; i++)
        json_array_append_new(res, json_pack("{s:f,s:f,s:f,s:f}", "t", r->res[i].t, "cpu_percent", r->res[i].cpu_percent,
                                             "rss_bytes", r->res[i].rss_bytes, "fds", r->res[i].fds));
    double genCpu = r->wall_s > 0 ? 100 * r->gen_cpu_s / r->wall_s : 0;
    json_t *pj = lh_load_pattern_json(&o->pat);
    json_t *out = json_pack(
        "{s:s,s:s,s:s,s:o,s:I,s:{s:f,s:i,s:s,s:f,s:f,s:i},s:o,s:o,s:o,s:o,s:o,"
        "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
        "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:s},"
        "s:{s:I,s:I,s:I},s:{s:I,s:I,s:I},"
        "s:{s:I,s:o,s:o,s:s},s:o,"
        "s:{s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:i,s:f,s:s},"
        "s:{s:s,s:i,s:f,s:o},s:o,s:o}",
        "lighthouse_load_report", "1", "version", LH_VERSION, "target", "", "summary", sum, "seed", (json_int_t)o->seed,
        "parameters", "duration_s", o->duration_s, "agents_peak_configured", o->pat.agents_peak, "path", o->path,
        "timeout_s", o->timeout_s, "drain_s", o->drain_s, "tokens", o->ntokens, "pattern", pj, "machine", machineJson(),
        "metrics", m, "metrics_null_reasons", why, "objectives", ob.list,
        "counts", "scheduled", (json_int_t)r->scheduled, "sent", (json_int_t)r->sent, "ok", (json_int_t)r->ok, "failed",
        (json_int_t)r->failed, "not_sent", (json_int_t)r->not_sent, "timeouts", (json_int_t)r->timeouts, "connection_errors",
        (json_int_t)r->conn_errors, "connect_failures", (json_int_t)r->connect_failures, "http_4xx", (json_int_t)r->status[4],
        "http_5xx", (json_int_t)r->status[5],
        "faults", "injected", (json_int_t)r->faults, "dropped", (json_int_t)r->dropped, "reset_mid_request",
        (json_int_t)r->resets, "retried", (json_int_t)r->retries, "retries_ok", (json_int_t)r->retries_ok, "abandoned",
        (json_int_t)r->abandoned, "note", "injected faults are the generator's doing: they are not in requests_total or requests_failed",
        "by_class", "safe", (json_int_t)r->by_class[0], "risky", (json_int_t)r->by_class[1], "complex", (json_int_t)r->by_class[2],
        "decisions", "allow", (json_int_t)r->decisions[0], "deny", (json_int_t)r->decisions[1], "escalate", (json_int_t)r->decisions[2],
        "escalations", "count", (json_int_t)r->decisions[2], "latency", latencyJson(&r->escalated), "by_scenario", scen,
        "note", "escalations answered escalate, timed up to that answer; replies experts decided are the expert tier",
        "latency", latencyJson(h),
        "generator", "cpu_seconds", r->gen_cpu_s, "cpu_percent_of_one_core", genCpu, "wall_s", r->wall_s,
        "schedule_lag_p99_ms", r->sched_lag_p99_ns / 1e6, "schedule_lag_max_ms", r->sched_lag_max_ns / 1e6,
        "think_time_effective_mean_s", r->think_effective_mean_s, "connections_opened", r->connections_opened,
        "sessions_started", r->sessions_started, "bursts", r->bursts,
        "rate_limit_estimate_rps", genCpu > 0 ? rps * 100 / genCpu : 0,
        "rate_limit_note", "the loop is one thread: it saturates near 100% of one core; this extrapolates linearly",
        "server", "source", r->res_source, "pid", r->bridge_pid, "memory_limit_bytes", r->mem_limit_bytes, "samples", res,
        "tiers", tiers, "bridge_counters", bridgeCounts);
    char target[256];
    snprintf(target, sizeof(target), "http://%s:%d%s", o->host, o->port, o->path);
    json_object_set_new(out, "target", json_string(target));
    json_object_set_new(out, "agreement", agreement);
    json_object_set_new(json_object_get(out, "counts"), "throttled_429", json_integer((json_int_t)r->throttled));
    json_object_set_new(out, "timeline", series);
    /* The fast path apart from escalations (docs/load.md, "Simulated experts"). */
    json_t *fast = latencyJson(&r->fast);
    json_object_set_new(fast, "sent_p50_ms", msOrNull(&r->fast_sent, .5));
    json_object_set_new(fast, "sent_p99_ms", msOrNull(&r->fast_sent, .99));
    json_object_set_new(fast, "note", json_string("allow and deny replies not decided by experts; sent_*: from the send, "
                                                  "not the scheduled time"));
    json_object_set_new(out, "fast_path", fast);
    json_object_set_new(out, "timeline_slot_s", json_real(r->slot_s));
    if (cj) json_object_set_new(out, "baseline", cj);
    return out;
}
