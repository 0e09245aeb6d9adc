#!/usr/bin/env bash
# bridge_ownership.sh — the bridge's state is owned module by module (docs/architecture.md,
# "The bridge's modules, threads and locks"): every lock and atomic in src/bridge is
# operated on only by the module (a .c and its own .h) that declares it, and the #include
# graph between the bridge's modules has no circle. scripts/check_ownership.py does the
# work; the last check proves it fails on a violation, on a copy of src/ with one planted.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
source "$(dirname "$0")/tap.bash"
ROOT=${LH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CHECK="$ROOT/scripts/check_ownership.py"
command -v python3 >/dev/null || skip_all "python3 is not installed"

out=$(python3 "$CHECK" owner --src "$ROOT/src" 2>&1); rc=$?
check "every lock and atomic in src/bridge is touched only by its owning module" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || sed 's/^/# /' <<<"$out"

out=$(python3 "$CHECK" include --src "$ROOT/src" 2>&1); rc=$?
check "the #include graph between the modules of src/bridge has no circle" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || sed 's/^/# /' <<<"$out"

out=$(python3 "$CHECK" layers --src "$ROOT/src" 2>&1); rc=$?
check "the #include graph between the layers of src/ (engine, store, bridge, hook, cli, ...) has no circle" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || sed 's/^/# /' <<<"$out"

# The checks must fail on a violation: plant one of each in a copy.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cp -r "$ROOT/src" "$T/src"
# routes.c takes the revisions' lock (revisions.c owns it) and reads the appender's atomic
printf '\nstatic void planted(lh_bridge *b) { pthread_mutex_lock(&b->revisions->policy_mu); }\n' >>"$T/src/bridge/routes.c"
printf '\nstatic int planted2(lh_appender *ap) { return atomic_load(&ap->store_ok); }\n' >>"$T/src/bridge/server.c"
out=$(python3 "$CHECK" owner --src "$T/src" 2>&1); rc=$?
check "a lock taken outside its owning module fails the check, naming it" '[ $rc -ne 0 ] && grep -q "routes.c:[0-9]*: pthread_mutex_lock on policy_mu, which belongs to .*revisions.c" <<<"$out"'
check "an atomic read outside its owning module fails the check, naming it" 'grep -q "server.c:[0-9]*: atomic_load on store_ok, which belongs to .*appender.c" <<<"$out"'
# an atomic in a header with no .c of its own has no owner
printf '\nstruct planted { _Atomic int orphan; };\n' >>"$T/src/bridge/rollback.h"
out=$(python3 "$CHECK" owner --src "$T/src" 2>&1); rc=$?
check "an atomic declared in a header without a .c of its own fails the check" '[ $rc -ne 0 ] && grep -q "rollback.h: orphan" <<<"$out"'
# engines.h includes sse.h, while sse.h includes bridge_int.h, which includes engines.h
sed -i 's|#include "bridge/metrics.h"|#include "bridge/metrics.h"\n#include "bridge/sse.h"|' "$T/src/bridge/engines.h"
out=$(python3 "$CHECK" include --src "$T/src" 2>&1); rc=$?
check "an include circle between bridge modules fails the check, naming it" '[ $rc -ne 0 ] && grep -q "include circle among the modules.*bridge/engines.*bridge/sse" <<<"$out"'
# the hook includes the CLI's header while the CLI includes the hook's
sed -i 's|#include "hook/hook.h"|#include "hook/hook.h"\n#include "cli/cli.h"|' "$T/src/hook/hook_main.c"
out=$(python3 "$CHECK" layers --src "$T/src" 2>&1); rc=$?
check "an include circle between layers fails the check, naming it" '[ $rc -ne 0 ] && grep -q "include circle among the layers.*cli.*hook" <<<"$out"'
done_testing
