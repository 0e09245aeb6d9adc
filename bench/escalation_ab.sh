#!/usr/bin/env bash
# escalation_ab.sh — issue 13: is the fast path slowed by escalation traffic? One bridge
# (escalations routed to experts: the default policy with settings.escalation), and
# `lighthouse load` run against it in rounds of three runs, in an order that turns from
# round to round (A B C, B C A, C A B, A C B, ...) so the machine's noise and drift fall
# on each kind alike:
#   A  the fleet alone: escalations are answered `escalate` at once, nobody waits;
#   B  the same fleet with simulated experts (--expert-token): escalations wait for their
#      verdicts (the scenario table's think times, scaled by BENCH_AB_SPEED, and its 90%
#      availability; docs/load.md). Each expert works its escalations concurrently;
#   C  the fleet alone again: the control. C/A is what this machine's own spread gives
#      between two runs of the same thing, so a B/A is read against it.
# Each agent has a token of its own (--data: minted by the run, revoked after it): with a
# few shared tokens, agents of one name asking the same question join one escalation, and
# when its expert is unavailable all of them wait out --expert-wait (a quarter of B's
# escalations answered `escalate` instead of the 10% the availability gives).
# The fast path is the allow and deny replies experts did not decide. Three figures of it
# per run, each compared B/A and C/A within a round:
#   client  its p99 as the agents saw it (`lighthouse load`'s fast_path, from the scheduled
#           time): it includes the generator's own scheduling on the same 2 CPUs;
#   server  its p99 in the bridge, arrival to reply (lighthouse_bridge_fast_path_duration_
#           seconds in /metrics, deltas over the run, interpolated in 20%-wide buckets);
#   cpu     the fast path's own CPU per decision: the bridge's request handlers' thread
#           CPU summed over a fast-path request's calls, sampled one request in 64
#           (lighthouse_bridge_fast_path_cpu_seconds: parse, auth, engine, event, reply;
#           not libmicrohttpd's socket I/O nor the store's commit). Escalation work is
#           apart by construction: it is other requests. Beside it, the whole bridge's
#           CPU per decision: utime+stime of the bridge process from /proc/PID/stat over
#           the run, less the escalation work it can name (the handlers' CPU on the
#           experts' routes and on making escalations, lighthouse_bridge_escalation_cpu_
#           seconds_total, and the lh-escalations timer thread's from /proc/PID/task),
#           over the decisions answered 200. What that leaves in B of escalation work is
#           libmicrohttpd's and the kernel's handling of the experts' requests and the
#           store's commits of their events: an upper bound, not the fast path's cost.
# The bridge runs on CPU 0 and `lighthouse load` (the agents and the simulated experts) on
# the others (taskset; BENCH_AB_PIN=0 to share them all): the experts are other machines in
# a real fleet, and on two shared CPUs their threads' own work in B took CPU time from the
# bridge's fast path, which the server p99 then counted as the bridge's (docs/load.md).
# BENCH_AB_EXPERT_LISTEN=1 sends the experts' requests to an experts' listener instead.
# The end prints the median of the per-round ratios B/A and C/A and their range, the pooled
# quantiles of each kind, a rank test of B's runs against the alone runs (A and C), and the
# verdict on the server p99: the pooled p99 of B over the alone runs', with its 90% interval
# from a bootstrap over rounds; UNCHANGED when the interval lies within 0.80-1.25 (the
# usual equivalence margins), SLOWER when it lies above 1 and reaches past 1.25, UNDECIDED
# otherwise (more rounds). Never fails on time.
# Environment: BENCH_DURATION (s per run, default 20), BENCH_AB_PAIRS (rounds, default 5),
# BENCH_AB_AGENTS (default 1000), BENCH_AB_RATE (req/s, default 500), BENCH_AB_EXPERTS
# (default 16), BENCH_AB_SPEED (think time factor, default 0.1), BENCH_AB_STORE (tmpfs, the
# default: the store in /dev/shm, so the disk's fsync, which other work on a shared machine
# makes erratic, is out of the figures; not durable, a comparison only; or disk),
# BENCH_AB_PIN (1, the default: the bridge on CPU 0, the load on the others; 0: no pinning),
# BENCH_AB_EXPERT_LISTEN (0, the default: the experts share the bridge's one address and
# its workers, as a bridge started with the defaults has them; 1: the bridge has an
# experts' listener, serve --expert-listen, whose threads run at nice 19, and B's
# simulated experts talk to it through load --expert-target).
set -u
source "$(dirname "$0")/bench_lib.bash"
DUR=${BENCH_DURATION:-20}
PAIRS=${BENCH_AB_PAIRS:-5}
EXPERTS=${BENCH_AB_EXPERTS:-16}
SPEED=${BENCH_AB_SPEED:-0.1}
AGENTS=${BENCH_AB_AGENTS:-1000}
RATE=${BENCH_AB_RATE:-500}
STORE=${BENCH_AB_STORE:-tmpfs}
PIN=${BENCH_AB_PIN:-1}
XLISTEN=${BENCH_AB_EXPERT_LISTEN:-0}
export BENCH_DIR; BENCH_DIR=$(cd "$(dirname "$0")" && pwd)   # ab_stats.py
bench_setup escalation_ab jq python3 curl
NCPU=$(nproc)
LOADPIN=()
if [ "$PIN" = 1 ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then LOADPIN=(taskset -c "1-$((NCPU - 1))"); else PIN=0; fi

python3 - "$ROOT/policies/default.yaml" "$T/policy.yaml" <<'P'
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(s.replace("settings:\n", "settings:\n  escalation: {deadline: 20s}\n", 1))
P
DATA="$T/data"
if [ "$STORE" = tmpfs ]; then
  DATA=$(mktemp -d -p /dev/shm lh-escab.XXXXXX)/data; BDIRS="$BDIRS ${DATA%/data}"
fi
export LIGHTHOUSE_POLICY="$T/policy.yaml"
[ "$XLISTEN" = 1 ] && export LIGHTHOUSE_EXPERT_LISTEN=127.0.0.1:0
bench_start_bridge esc-ab "$DATA"
unset LIGHTHOUSE_POLICY LIGHTHOUSE_EXPERT_LISTEN
XTARGET=()
if [ "$XLISTEN" = 1 ]; then
  XURL=$(grep -o "experts' listener .*http://[0-9.:]*" "$T/esc-ab.out" | grep -o 'http://[0-9.:]*')
  [ -n "$XURL" ] || { echo "the bridge names no experts' listener"; exit 1; }
  XTARGET=(--expert-target "$XURL")
fi
# every thread of the bridge (those it starts later inherit it)
[ "$PIN" = 1 ] && { taskset -a -pc 0 "$BPID" >/dev/null || PIN=0; }
XT=""
for i in $(seq "$EXPERTS"); do XT="$XT,$("$LH" token create --agent "sim-expert-$i" --role expert --data "$DATA" 2>/dev/null)"; done
XT=${XT#,}
echo "bridge $URL (pid $BPID, store on $STORE); $AGENTS agents at $RATE req/s for ${DUR}s per run, $PAIRS rounds of A B C; $EXPERTS simulated experts in B (think time x$SPEED); $NCPU CPUs$([ "$PIN" = 1 ] && echo ": the bridge on CPU 0, the load on 1-$((NCPU - 1))"); the experts $([ "$XLISTEN" = 1 ] && echo "on the bridge's experts' listener $XURL (nice 19)" || echo "on its main address")"

# The bridge's side of a run: /metrics and its CPU (process, and the escalations' timer
# thread), before or after.
snap() { # FILE
  curl -s "$URL/metrics" >"$1.metrics"
  { cat "/proc/$BPID/stat"; for t in /proc/"$BPID"/task/*; do
      [ "$(cat "$t/comm" 2>/dev/null)" = lh-escalations ] && echo "timer $(cat "$t/stat")"; done; } >"$1.proc" 2>/dev/null
}

run() { # NAME [flags...]
  local name=$1 rep="$T/$1.json"; shift
  snap "$T/$name.0"
  "${LOADPIN[@]}" "$LH" load --data "$DATA" --target "$URL" --no-history --quiet --seed 1 --duration "$DUR" --agents "$AGENTS" \
    --rate "$RATE" --peak 1 --burst-probability 0 --network-errors 0 --report "$rep" "$@" >/dev/null 2>"$T/load.err"
  snap "$T/$name.1"
  [ -s "$rep" ] || { echo "  (lighthouse load failed: $(tail -1 "$T/load.err"))"; return 1; }
  python3 - "$T" "$name" "$(getconf CLK_TCK)" <<'P'
import json, math, os, re, sys
sys.path.insert(0, os.environ["BENCH_DIR"])
from ab_stats import quantile_ms
T, name, tck = sys.argv[1], sys.argv[2], float(sys.argv[3])
rep = json.load(open(f"{T}/{name}.json"))
def prom(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or " " not in line: continue
        k, v = line.rsplit(" ", 1)
        out[k] = float(v)
    return out
def cpu(path):   # process utime+stime, the timer thread's, in s
    proc = timer = 0.0
    for line in open(path):
        f = line[line.rindex(")") + 2:].split()
        t = (int(f[11]) + int(f[12])) / tck
        if line.startswith("timer "): timer = t
        else: proc = t
    return proc, timer
m0, m1 = prom(f"{T}/{name}.0.metrics"), prom(f"{T}/{name}.1.metrics")
d = lambda k: m1.get(k, 0) - m0.get(k, 0)
# the fast path's server-side histogram: cumulative buckets by le
pre = 'lighthouse_bridge_fast_path_duration_seconds_bucket{le="'
les = sorted((float(k[len(pre):-2]) if k[len(pre):-2] != "+Inf" else math.inf, k) for k in m1 if k.startswith(pre))
cum = [(le, d(k)) for le, k in les]
q = lambda p: quantile_ms(cum, p)
(p0, t0), (p1, t1) = cpu(f"{T}/{name}.0.proc"), cpu(f"{T}/{name}.1.proc")
esc = d("lighthouse_bridge_escalation_cpu_seconds_total") + (t1 - t0)
dec = d('lighthouse_bridge_requests_total{route="/v1/validate",code="200"}')
fp = rep["fast_path"]
row = {"name": name, "n": fp["count"], "p50": fp["p50_ms"], "p99": fp["p99_ms"], "sp50": q(.5), "sp99": q(.99),
       "sn": cum[-1][1] if cum else 0, "cpu_s": p1 - p0, "esc_s": esc, "decisions": dec,
       "cpu_us": (p1 - p0 - esc) / dec * 1e6 if dec else None,
       "hcpu_us": d("lighthouse_bridge_fast_path_cpu_seconds_sum") / d("lighthouse_bridge_fast_path_cpu_seconds_count") * 1e6
                  if d("lighthouse_bridge_fast_path_cpu_seconds_count") > 0 else None,
       "hcpu_n": d("lighthouse_bridge_fast_path_cpu_seconds_count"),
       "escalate": rep["escalations"]["count"], "expert": (rep["tiers"].get("expert") or {}).get("count", 0),
       "gen": rep["generator"]["cpu_percent_of_one_core"], "lag": rep["generator"]["schedule_lag_p99_ms"],
       "failed": rep["summary"]["requests_failed"],
       "buckets": [[le if le != math.inf else "inf", c] for le, c in cum]}
json.dump(row, open(f"{T}/{name}.row", "w"))
f = lambda v: "n/a" if v is None else f"{v:.3g}"
print(f"  {name}: fast path {row['n']} replies; client p50 {f(row['p50'])} p99 {f(row['p99'])} ms; "
      f"server p50 {f(row['sp50'])} p99 {f(row['sp99'])} ms ({int(row['sn'])}); bridge CPU {row['cpu_s']:.2f} s "
      f"({row['esc_s']:.2f} s escalation work), {f(row['cpu_us'])} us per decision, handlers {f(row['hcpu_us'])} us "
      f"per fast-path decision ({int(row['hcpu_n'])} sampled); {row['escalate']} escalate, "
      f"{row['expert']} by experts, {row['failed']} failed; generator {row['gen']:.0f}% of a core, lag p99 {f(row['lag'])} ms")
P
}

# A warm-up run first, not counted: the first run after the bridge starts pays for its
# caches, allocator arenas and connections (its p99 was 16 ms where the next runs' were 1
# to 2 ms, and it alone moved the pooled A p99 from 1.8 to 7.2 ms).
WARM=$((DUR < 10 ? DUR : 10))
"${LOADPIN[@]}" "$LH" load --data "$DATA" --target "$URL" --no-history --quiet --seed 2 --duration "$WARM" --agents "$AGENTS" \
  --rate "$RATE" --peak 1 --burst-probability 0 --network-errors 0 >/dev/null 2>"$T/load.err"
echo "warm-up run of ${WARM}s done, not counted (lighthouse load exit $?)"

# Each round runs A, B and C (a second A: the control) in an order that turns from round
# to round, so drift within a round falls on each kind alike.
ORDERS=("A B C" "B C A" "C A B" "A C B" "C B A" "B A C")
for p in $(seq "$PAIRS"); do
  echo "round $p:"
  for k in ${ORDERS[$(((p - 1) % 6))]}; do
    if [ "$k" = B ]; then run "B$p" --expert-token "$XT" --expert-wait 5 --expert-speed "$SPEED" "${XTARGET[@]}" || continue 2
    else run "$k$p" || continue 2; fi
  done
  python3 - "$T" "$p" <<'P'
import json, sys
T, p = sys.argv[1], sys.argv[2]
a, b, c = (json.load(open(f"{T}/{k}{p}.row")) for k in "ABC")
r = lambda x, k: (x[k] / a[k]) if a.get(k) and x.get(k) is not None else None
keys = ("p99", "sp99", "cpu_us", "hcpu_us", "p50", "sp50")
json.dump({"B": {k: r(b, k) for k in keys}, "C": {k: r(c, k) for k in keys}}, open(f"{T}/round{p}.ratio", "w"))
f = lambda v: "n/a" if v is None else f"{v:.2f}"
for x, label in ((b, "B/A"), (c, "C/A (control)")):
    print(f"  {label}: client p99 {f(r(x, 'p99'))}, server p99 {f(r(x, 'sp99'))}, CPU per decision {f(r(x, 'cpu_us'))}, "
          f"handlers' CPU per fast-path decision {f(r(x, 'hcpu_us'))} (p50: client {f(r(x, 'p50'))}, server {f(r(x, 'sp50'))})")
P
done

echo "took ${SECONDS}s"
python3 - "$T" "$PAIRS" <<'P'
import glob, json, os, statistics, sys
sys.path.insert(0, os.environ["BENCH_DIR"])
from ab_stats import pool, pooled_ratio_ci, quantile_ms, rank_greater, verdict_word
T, n = sys.argv[1], int(sys.argv[2])
rs = [json.load(open(f)) for f in sorted(glob.glob(f"{T}/round*.ratio"))]
rows = {k: [json.load(open(f)) for f in sorted(glob.glob(f"{T}/{k}[0-9]*.row"))] for k in "ABC"}
# Pooled: every run of a kind's fast-path histogram summed, and its quantiles: the p99 of
# ~46,000 replies per kind at the defaults, where one run's rests on ~90.
def pooled(kinds):
    cum = pool(dict(r.get("buckets", [])) for k in kinds for r in rows[k])
    return tuple(quantile_ms(cum, p) for p in (.5, .99, .999)) + ((cum[-1][1] if cum else 0),)
def summ(kind, k):
    v = sorted(x[kind][k] for x in rs if x[kind].get(k) is not None)
    return (statistics.median(v), v[0], v[-1], len(v)) if v else None
fmt = lambda s: "n/a" if not s else f"{s[0]:.2f} ({s[1]:.2f}-{s[2]:.2f})"
print(f"summary over {len(rs)} of {n} rounds, median (range) of the ratios to the round's A; B has experts, "
      f"C is the control (the fleet alone again):")
for k, label in (("p99", "client p99 (agents' view)"), ("sp99", "server p99 (the bridge's)"),
                 ("cpu_us", "bridge CPU per decision, escalation handlers' CPU taken out"),
                 ("hcpu_us", "handlers' CPU per fast-path decision (sampled)"), ("p50", "client p50"),
                 ("sp50", "server p50")):
    print(f"  {label}: B/A {fmt(summ('B', k))}; C/A {fmt(summ('C', k))}")
pa, pb, pc, pal = pooled("A"), pooled("B"), pooled("C"), pooled("AC")
if pa[1] and pb[1] and pc[1]:
    print(f"  pooled server latency, A {int(pa[3])} / B {int(pb[3])} / C {int(pc[3])} replies: p50 {pa[0]:.3f} / "
          f"{pb[0]:.3f} / {pc[0]:.3f} ms, p99 {pa[1]:.3f} / {pb[1]:.3f} / {pc[1]:.3f} ms (B/A {pb[1] / pa[1]:.2f}, "
          f"C/A {pc[1] / pa[1]:.2f}), p99.9 {pa[2]:.3f} / {pb[2]:.3f} / {pc[2]:.3f} ms; B against A and C pooled: "
          f"p99 {pb[1]:.3f} / {pal[1]:.3f} ms ({pb[1] / pal[1]:.2f})")
# Beside the verdict: are B's runs slower than the fleet-alone runs (A and C)? A one-sided
# rank test (Mann-Whitney, exact: every way of choosing which runs are B's) on each run's
# server p99 and on its handlers' CPU per fast-path decision. With 5 rounds the 5 B runs against
# 10 alone runs; all 5 B above all 10 has p = 1/3003. A run's p99 rests on ~90 replies, so
# the rank test asks whether B's runs are above the alone runs more often than chance.
def ranktest(k):
    alone = [r[k] for r in rows["A"] + rows["C"] if r.get(k) is not None]
    b = [r[k] for r in rows["B"] if r.get(k) is not None]
    if len(b) < 3 or len(alone) < 3: return None
    return rank_greater(b, alone), statistics.median(b) / statistics.median(alone), len(b), len(alone)
for k, label in (("sp99", "server p99"), ("hcpu_us", "handlers' CPU per fast-path decision")):
    t = ranktest(k)
    if t: print(f"  {label}: B's {t[2]} runs against {t[3]} alone: median B / median alone {t[1]:.2f}, "
                f"one-sided rank test p = {t[0]:.3f}")
# The verdict: the pooled p99 of B over that of the alone runs (A and C), with its 90%
# interval from a bootstrap over rounds (ab_stats.pooled_ratio_ci). UNCHANGED when the
# interval lies within 0.80-1.25 (the equivalence margins of two one-sided tests at 5%
# each); SLOWER when it lies above 1 and reaches past 1.25; UNDECIDED otherwise.
rounds = sorted({int(os.path.basename(f)[1:-4]) for f in glob.glob(f"{T}/B[0-9]*.row")})
byname = {os.path.basename(f)[:-4]: json.load(open(f)) for f in glob.glob(f"{T}/[ABC][0-9]*.row")}
hist = lambda name: {le: c for le, c in byname[name].get("buckets", [])}
full = [p for p in rounds if all(f"{k}{p}" in byname for k in "ABC")]
ci = pooled_ratio_ci([[hist(f"B{p}")] for p in full], [[hist(f"A{p}"), hist(f"C{p}")] for p in full], .99) \
     if len(full) >= 3 else None
verdict = "none: the interval needs at least 3 rounds"
if ci:
    r, lo, hi = ci
    word = verdict_word(lo, hi)
    word += " (the interval is too wide to tell: more rounds)" if word == "UNDECIDED" else ""
    verdict = (f"the fast path is {word} with escalation traffic: in the bridge, B's pooled p99 over the alone "
               f"runs' is {r:.2f} (90% interval {lo:.2f}-{hi:.2f}, a bootstrap over {len(full)} rounds). "
               f"Unchanged: the interval within 0.80-1.25; slower: above 1 and past 1.25")
print("verdict: " + verdict)
P
