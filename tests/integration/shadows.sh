#!/usr/bin/env bash
# shadows.sh — project shadows end to end (docs/shadows.md): the real hook program
# reports Write/Edit and Bash rm/mv after the fact, the real bridge stores blobs and
# shadow.* events, and the API serves the tree, files, history and diffs at any point.
# Limits, paths outside the project, hostile names, roles, a corrupted blob, and
# `events verify` over it all. With PostgreSQL: two replicas on one store, a blob stored
# through one read through the other (the API and a mount), a corrupted row refused.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

export LIGHTHOUSE_SHADOW_MAX_FILE=4096 LIGHTHOUSE_SHADOW_MAX_PROJECT=12000
start_bridge sh || { fail "bridge starts"; done_testing; exit 1; }
BT=$(token builder-1 builder)
ET=$(token expert-1 expert)
P="$T/project"
mkdir -p "$P/src"

# payload TOOL FILE|COMMAND → the PostToolUse payload in $T/payload.json (jq, no shell)
payload() {
  if [ "$1" = Bash ]; then
    jq -n --arg cwd "$P" --arg c "$2" '{hook_event_name:"PostToolUse",session_id:"s1",cwd:$cwd,tool_name:"Bash",tool_input:{command:$c},tool_response:{}}'
  else
    jq -n --arg cwd "$P" --arg t "$1" --arg f "$2" '{hook_event_name:"PostToolUse",session_id:"s1",cwd:$cwd,tool_name:$t,tool_input:{file_path:$f},tool_response:{}}'
  fi > "$T/payload.json"
}
hook_post() { LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$HOOK" post-tool-use < "$T/payload.json" 2>"$T/hook.err"; }
tree() { req GET "/v1/shadows/tree${1:-}" "$ET"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# 1. A Write, then an Edit, reported by the hook.
printf 'int main(void) {\n    return 0;\n}\n' > "$P/src/main.c"
payload Write "$P/src/main.c"
hook_post; rc=$?
check "post-tool-use after a Write exits 0" "[ $rc = 0 ]"
tree
check "the tree holds src/main.c with the SHA-256 of its content" \
  "[ \"\$(jq -r '.files[] | select(.path == \"src/main.c\") | .hash' <<<\"\$body\")\" = $(sha "$P/src/main.c") ]"
V1=$(jq -r '.at_seq' <<<"$body")
cp "$P/src/main.c" "$T/v1.c"
printf 'int main(void) {\n    puts("hi");\n    return 0;\n}\n' > "$P/src/main.c"
payload Edit "$P/src/main.c"
hook_post
req GET "/v1/shadows/file?path=src/main.c" "$ET"
check "file at the head is the edited content, byte for byte" "cmp -s \"$T/body\" \"$P/src/main.c\""
curl -s -o "$T/old" -H "Authorization: Bearer $ET" "$URL/v1/shadows/file?path=src/main.c&at=$V1"
check "file at the first seq is the first version, byte for byte" "cmp -s \"$T/old\" \"$T/v1.c\""
req GET "/v1/shadows/history?path=src/main.c" "$ET"
check "history lists both changes, with the tools" \
  "[ \"\$(jq -c '[.changes[] | .tool]' <<<\"\$body\")\" = '[\"Write\",\"Edit\"]' ]"
req GET "/v1/shadows/diff?path=src/main.c&from=$V1" "$ET"
check "diff from the first seq to the head is unified, with the added line" \
  "grep -q '^@@ -1,3 +1,4 @@' <<<\"\$body\" && grep -qF '+    puts(\"hi\");' <<<\"\$body\""

# Time travel by an ISO time: before anything, nothing; now, the head.
req GET "/v1/shadows/tree?at=2001-01-01T00:00:00Z" "$ET"
check "tree at a time before the first change is empty" "[ \"\$(jq '.files | length' <<<\"\$body\")\" = 0 ]"
req GET "/v1/shadows/tree?at=$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)" "$ET"
check "tree at a time after the last change has the file" "[ \"\$(jq '.files | length' <<<\"\$body\")\" = 1 ]"

req GET "/v1/shadows/tree?at=999999" "$ET"
check "a tree past the last change is as of the last change (at_seq), not final" \
  "[ \"\$(jq .at_seq <<<\"\$body\")\" = \"\$(curl -s -H 'Authorization: Bearer $ET' '$URL/v1/shadows/tree' | jq .at_seq)\" ]"
req GET "/v1/shadows/tree?at=$V1" "$ET"
check "a tree at an earlier seq is as of that seq" "[ \"\$(jq .at_seq <<<\"\$body\")\" = $V1 ]"

# 2. Deduplicated blobs.
cp "$T/v1.c" "$P/src/copy.c"
payload Write "$P/src/copy.c"
hook_post
check "a second file with known content adds no blob" "[ \$(find \"$DATA/blobs\" -type f ! -name '.tmp*' | wc -l) = 2 ]"

# 3. Bash: mv and rm, parsed and confirmed on disk.
mv "$P/src/copy.c" "$P/src/moved.c"
payload Bash "mv src/copy.c src/moved.c"
hook_post
tree
check "a Bash mv renames the shadow" \
  "[ \"\$(jq -c '[.files[].path]' <<<\"\$body\")\" = '[\"src/main.c\",\"src/moved.c\"]' ]"
rm "$P/src/moved.c"
payload Bash "rm -f src/moved.c"
hook_post
tree
check "a Bash rm deletes the shadow" "[ \"\$(jq -c '[.files[].path]' <<<\"\$body\")\" = '[\"src/main.c\"]' ]"
# A directory: its files move with an mv of it, and go with an rm -r of it.
mkdir -p "$P/lib/sub"
printf 'x\n' > "$P/lib/a.h"; printf 'y\n' > "$P/lib/sub/b.h"
for f in lib/a.h lib/sub/b.h; do payload Write "$P/$f"; hook_post; done
mv "$P/lib" "$P/inc"
payload Bash "mv lib inc"
hook_post
tree
check "a Bash mv of a directory moves the shadows of every file in it" \
  "[ \"\$(jq -c '[.files[].path]' <<<\"\$body\")\" = '[\"inc/a.h\",\"inc/sub/b.h\",\"src/main.c\"]' ]"
req GET "/v1/shadows/file?path=inc/sub/b.h" "$ET"
check "a moved file keeps its content" "[ \"\$body\" = y ]"
rm -r "$P/inc"
payload Bash "rm -r inc"
hook_post
tree
check "a Bash rm -r of a directory deletes the shadows of every file in it" \
  "[ \"\$(jq -c '[.files[].path]' <<<\"\$body\")\" = '[\"src/main.c\"]' ]"
req GET "/v1/shadows/history?path=inc/sub/b.h" "$ET"
check "the history of a file names its move and its directory's delete" \
  "[ \"\$(jq -c '[.changes[].op]' <<<\"\$body\")\" = '[\"renamed\",\"deleted\"]' ]"
post_json /v1/shadows "$BT" "{\"op\":\"delete\",\"project\":\"$P\",\"path\":\"nothing/here\"}"
check "a delete of what has no shadow is 404 not_shadowed" "[ $code = 404 ] && is_error not_shadowed"

payload Bash "rm -f src/main.c"
n0=$(jq '.changes | length' <<<"$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/history")")
hook_post
n1=$(jq '.changes | length' <<<"$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/history")")
check "an rm whose file is still there (it failed) records nothing" "[ $n0 = $n1 ]"

# 4. Secrets, paths outside the project, hostile names, limits.
printf 'API_KEY=not-a-real-key\n' > "$P/.env"
payload Write "$P/.env"
: > "$T/hook.err"
hook_post
tree
check "a secret file (.env) is never shadowed, and the hook says why" \
  "! jq -e '.files[] | select(.path == \".env\")' <<<\"\$body\" >/dev/null && grep -q 'secret' \"$T/hook.err\""

payload Write /etc/hostname
hook_post
n2=$(jq '.changes | length' <<<"$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/history")")
check "the hook sends nothing for a file outside the project" "[ $n1 = $n2 ]"
post_json /v1/shadows "$BT" "{\"op\":\"update\",\"project\":\"$P\",\"path\":\"/etc/hostname\",\"content_b64\":\"eA==\"}"
check "the bridge refuses a path outside the project (400 path_refused)" "[ $code = 400 ] && is_error path_refused"
post_json /v1/shadows "$BT" "{\"op\":\"update\",\"project\":\"$P\",\"path\":\"src/../../x\",\"content_b64\":\"eA==\"}"
check "the bridge refuses a relative path with .. (400)" "[ $code = 400 ] && is_error path_refused"
for q in 'path=a%00b' 'path=..%2Fx' 'path=%ff' "path=$(printf 'x%.0s' $(seq 300))" 'path=a%0Ab'; do
  req GET "/v1/shadows/file?$q" "$ET"
  check "hostile name ${q:0:20}… refused with a JSON 400" "[ $code = 400 ] && is_error bad_request"
done
for b in '{"op":"update"' '[1,2]' '{"op":"update","project":"rel","path":"a","content_b64":"eA=="}' \
         '{"op":"chmod","project":"/p","path":"a"}' '{"op":"update","project":"/p","path":"a","content_b64":"e$A="}' \
         '{"op":"update","project":"/p","path":"a"}' '{"op":"update","project":"/p","path":"a","content_b64":"eA==","tool":"W r"}' \
         '{"op":"rename","project":"/p","to":"a"}' '{"op":"update","op":"delete","project":"/p","path":"a"}'; do
  post_json /v1/shadows "$BT" "$b"
  check "a malformed upload is a JSON 400: ${b:0:48}" "[ $code = 400 ] && jq -e '.error.code | type == \"string\"' <<<\"\$body\" >/dev/null"
done
head -c 5000 /dev/zero > "$P/big.bin"
payload Write "$P/big.bin"
hook_post
check "a file over the shadow size limit is not sent, and the hook says why" "grep -q 'over the shadow limit' \"$T/hook.err\""
big=$(head -c 5000 /dev/zero | base64 -w0)
post_json /v1/shadows "$BT" "{\"op\":\"update\",\"project\":\"$P\",\"path\":\"big.bin\",\"content_b64\":\"$big\"}"
check "the bridge refuses a file over the size limit (413 file_too_large)" "[ $code = 413 ] && is_error file_too_large"
for i in 1 2 3; do head -c 4000 /dev/urandom > "$P/f$i.bin"; payload Write "$P/f$i.bin"; hook_post; done
check "the project size limit refuses the third 4000-byte file" "grep -q 'project_too_large\|over the limit' \"$T/hook.err\""

# 5. Roles.
req GET /v1/shadows/tree "$BT"
check "a builder token may not read shadows (403)" "[ $code = 403 ]"
post_json /v1/shadows "$ET" "{\"op\":\"delete\",\"project\":\"$P\",\"path\":\"src/main.c\"}"
check "an expert token may not write shadows (403)" "[ $code = 403 ]"

# 6. A corrupted blob is refused on read, recorded and counted.
h=$(jq -r '.files[] | select(.path == "src/main.c") | .hash' <<<"$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/tree")")
blob="$DATA/blobs/${h:0:2}/$h"
chmod u+w "$blob"; printf 'tampered\n' > "$blob"
req GET "/v1/shadows/file?path=src/main.c" "$ET"
check "a blob whose hash does not match is refused (503 blob_corrupt, JSON)" "[ $code = 503 ] && is_error blob_corrupt"
req GET "/v1/shadows/diff?path=src/main.c&from=$V1" "$ET"
check "the diff refuses it too" "[ $code = 503 ] && is_error blob_corrupt"
check "lighthouse_bridge_shadow_blob_corrupt_total counts the refusals" "[ \"\$(metric_now lighthouse_bridge_shadow_blob_corrupt_total)\" = 2 ]"
req GET "/v1/events?type=shadow.corrupted" "$ET"
check "a shadow.corrupted event names the blob (once)" \
  "[ \"\$(jq -c '[.events[].data.hash]' <<<\"\$body\")\" = '[\"$h\"]' ]"

# 7. The audit chain covers every change.
"$LH" events verify --data "$DATA" >"$T/verify.out" 2>&1; rc=$?
check "events verify passes over the shadow events" "[ $rc = 0 ]"
req GET "/v1/events?type=shadow.*&limit=1000" "$ET"
check "shadow.updated, shadow.renamed and shadow.deleted are all in the log" \
  "[ \"\$(jq -c '[.events[].type] | unique' <<<\"\$body\")\" = '[\"shadow.corrupted\",\"shadow.deleted\",\"shadow.renamed\",\"shadow.updated\"]' ]"

# 8. The PostgreSQL store: the blobs are in its table shadow_blobs, so a second replica on
# the same store sees the shadow events (its index catches up from the store) and reads
# the blobs the first one stored; a corrupted row is refused by both; the next upload of
# the same content rewrites it.
if [ -z "${LH_TEST_PG:-}" ]; then
  skip "postgres: shadows on the shared store" "LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"
else
  db="lh_shadows_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    PG="$LH_TEST_PG dbname=$db"
    start_bridge pga --store postgres --pg "$PG" || fail "postgres: bridge starts"
    DATAA=$DATA PIDA=$PID
    BT=$("$LH" token create --agent pg-builder --role builder --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    ET=$("$LH" token create --agent pg-expert --role expert --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    printf 'pg\n' > "$P/src/pg.c"
    payload Write "$P/src/pg.c"
    hook_post
    req GET "/v1/shadows/file?path=src/pg.c" "$ET"
    check "postgres: a hook-reported file reads back" "[ $code = 200 ] && [ \"\$body\" = pg ]"
    mkdir -p "$T/pgb" && cp -p "$DATAA/secret" "$T/pgb/secret"   # replicas share the chain's key, not a data dir
    start_bridge pgb --store postgres --pg "$PG" || fail "postgres: a second replica starts"
    ET2=$("$LH" token create --agent pg-expert2 --role expert --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    req GET "/v1/shadows/tree" "$ET2"
    check "postgres: the second replica's tree has the first one's file" \
      "[ \"\$(jq -c '[.files[].path]' <<<\"\$body\")\" = '[\"src/pg.c\"]' ]"
    req GET "/v1/shadows/file?path=src/pg.c" "$ET2"
    check "postgres: the second replica reads the blob the first one stored" "[ $code = 200 ] && [ \"\$body\" = pg ]"
    check "postgres: the blob is in the database, not in a data directory" \
      "[ \$(find \"$DATAA/blobs\" \"$DATA/blobs\" -type f 2>/dev/null | wc -l) = 0 ] &&
       [ \"\$(psql \"$PG\" -qtAc 'SELECT count(*) FROM shadow_blobs')\" = 1 ]"
    h=$(jq -r '.files[0].hash' <<<"$(curl -s -H "Authorization: Bearer $ET2" "$URL/v1/shadows/tree")")
    psql "$PG" -qc "UPDATE shadow_blobs SET data = convert_to('tampered', 'UTF8') WHERE hash = '$h'" >/dev/null
    req GET "/v1/shadows/file?path=src/pg.c" "$ET2"
    check "postgres: a corrupted blob row is refused (503 blob_corrupt)" "[ $code = 503 ] && is_error blob_corrupt"
    URLB=$URL URL=$(grep -o 'http://[0-9.:]*' "$T/pga.out" | head -1)
    req GET "/v1/shadows/file?path=src/pg.c" "$ET"
    check "postgres: the first replica refuses it too" "[ $code = 503 ] && is_error blob_corrupt"
    URL=$URLB
    BT2=$("$LH" token create --agent pg-builder2 --role builder --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    post_json /v1/shadows "$BT2" "{\"op\":\"update\",\"project\":\"$P\",\"path\":\"src/pg.c\",\"content_b64\":\"$(printf 'pg\n' | base64)\",\"tool\":\"Write\"}"
    req GET "/v1/shadows/file?path=src/pg.c" "$ET2"
    check "postgres: uploading the same content again (through the second replica) rewrites the row" \
      "[ $code = 200 ] && [ \"\$body\" = pg ]"
    if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null 2>&1; then
      # the mount, through the second replica, reads the blob too
      M="$T/pgmnt"; mkdir -p "$M"
      LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET2" "$LH" mount "$M" 2>"$T/pgmnt.err" & MPID=$!
      wait_for "grep -qF ' $M fuse' /proc/mounts"
      check "postgres: the mount through the second replica reads the file" "[ \"\$(cat \"$M/current/src/pg.c\" 2>&1)\" = pg ]"
      kill -TERM "$MPID"; wait "$MPID"
      grep -qF " $M fuse" /proc/mounts && fusermount3 -u "$M"
    else
      skip "postgres: the mount through the second replica" "no /dev/fuse or fusermount3"
    fi
    "$LH" events verify --store postgres --pg "$PG" --data "$DATAA" >"$T/verify.out" 2>&1; rc=$?
    check "postgres: events verify passes" "[ $rc = 0 ]"
    term_wait "$PID"; term_wait "$PIDA"   # before the database is dropped (the sanitizer check still runs at the end)
    psql "$LH_TEST_PG" -qc "DROP DATABASE $db" >/dev/null 2>&1
  else
    fail "postgres: cannot create a test database"
  fi
fi
done_testing
