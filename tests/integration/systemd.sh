#!/usr/bin/env bash
# systemd.sh — deploy/systemd/lighthouse.service: `systemd-analyze verify` passes (in a
# scratch root that holds the system's unit files, the unit and the programs its Exec lines
# name: build/lighthouse as /usr/bin/lighthouse), and `systemd-analyze security --offline`
# rates it OK or better (exposure at most 3.9 of 10; the score is printed). Broken copies
# must fail: an unknown directive or a bad value (verify), the hardening taken out
# (security). Skips, with the reason, where systemd-analyze is missing or too old for
# --offline (systemd 252). Does not start the unit: the machine's PID 1 need not be
# systemd. Prints TAP.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/tap.bash"
B=${LH_BUILD:-$ROOT/build}
UNIT="$ROOT/deploy/systemd/lighthouse.service"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze is not installed (Debian's systemd package)"
ver=$(systemd-analyze --version | awk 'NR==1{print $2}')
[ "${ver:-0}" -ge 252 ] 2>/dev/null || skip_all "systemd $ver: security --offline needs 252 or later"
SYSUNITS=/usr/lib/systemd/system
[ -d "$SYSUNITS" ] || SYSUNITS=/lib/systemd/system
[ -f "$SYSUNITS/sysinit.target" ] || skip_all "no system unit files (sysinit.target) to verify against"
echo "# systemd $ver"

# verify_unit FILE: in a fresh scratch root; sets vout, returns the exit status.
verify_unit() {
  local r
  r=$(mktemp -d "$T/root.XXXX")
  mkdir -p "$r/usr/bin" "$r/bin" "$r/etc/systemd/system" "$r/usr/lib/systemd"
  cp -a "$SYSUNITS" "$r/usr/lib/systemd/system"
  cp "$B/lighthouse" "$r/usr/bin/lighthouse"
  cp "$(type -P kill)" "$r/bin/kill"
  cp "$1" "$r/etc/systemd/system/lighthouse.service"
  vout=$(systemd-analyze verify --root="$r" lighthouse.service 2>&1)
  local rc=$?
  # an unknown key or a value it cannot parse is only a warning for systemd: count it too
  if [ $rc -eq 0 ] && grep -qiE 'lighthouse.service:[0-9]+: (Unknown|Failed to parse|Invalid)|Unknown key' <<<"$vout"; then rc=1; fi
  return $rc
}
# exposure FILE → the overall exposure score ("" when none)
exposure() {
  systemd-analyze security --offline=true "$1" 2>&1 |
    awk '/Overall exposure level/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) print $i}'
}
rating() { systemd-analyze security --offline=true "$1" 2>&1 | awk '/Overall exposure level/ {print $(NF-1)}'; }

verify_unit "$UNIT"; rc=$?
check "systemd-analyze verify passes" '[ $rc = 0 ]'
[ $rc = 0 ] || sed 's/^/#   /' <<<"$vout"
score=$(exposure "$UNIT"); rate=$(rating "$UNIT")
echo "# systemd-analyze security: exposure $score, $rate"
check "systemd-analyze security rates it OK or better (exposure ${score:-none} < 4.0, \"${rate:-none}\")" \
  '[ -n "$score" ] && awk -v s="$score" "BEGIN{exit !(s < 4.0)}" && case "$rate" in OK|SAFE|PERFECT) true;; *) false;; esac'
missing=
for d in DynamicUser=yes ProtectSystem=strict StateDirectory=lighthouse NoNewPrivileges=yes CapabilityBoundingSet= \
         PrivateDevices=yes SystemCallFilter=@system-service RestrictAddressFamilies= UMask=0077; do
  grep -q "^$d" "$UNIT" || missing="$missing $d"
done
check "the unit sets DynamicUser, ProtectSystem=strict, StateDirectory and the rest${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
check "the unit starts the bridge with its state directory as data" \
  'grep -q "^ExecStart=/usr/bin/lighthouse serve .*--data /var/lib/lighthouse/" "$UNIT"'

# ---- broken copies ----
python3 - "$UNIT" "$T" <<'PY'
import sys
unit, t = sys.argv[1], sys.argv[2]
s = open(unit).read()
muts = {
    "typo": s.replace("ProtectSystem=strict", "ProtectSytem=strict"),
    "badvalue": s.replace("ProtectSystem=strict", "ProtectSystem=sometimes"),
    "noexec": s.replace("ExecStart=/usr/bin/lighthouse", "ExecStart=/usr/bin/lighthouse-missing"),
    "soft": "\n".join(l for l in s.splitlines()
                      if not l.startswith(("Protect", "Private", "SystemCall", "Restrict", "Capability",
                                           "NoNewPriv", "MemoryDeny", "LockPers", "DynamicUser",
                                           "DevicePolicy", "UMask", "ProcSubset"))) + "\n",
}
for name, text in muts.items():
    assert text != s, name
    open(f"{t}/{name}.service", "w").write(text)
PY
for m in typo badvalue noexec; do
  verify_unit "$T/$m.service"; rc=$?
  check "broken ($m): systemd-analyze verify fails" '[ $rc != 0 ]'
  [ $rc != 0 ] && echo "#   $(grep -m1 -i 'lighthouse' <<<"$vout")"
done
cp "$T/soft.service" "$T/lighthouse.service"
s2=$(exposure "$T/lighthouse.service")
check "broken (hardening taken out): exposure ${s2:-none} is not OK" \
  '[ -n "$s2" ] && awk -v s="$s2" "BEGIN{exit !(s >= 4.0)}"'

done_testing
