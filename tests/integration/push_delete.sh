#!/bin/bash
# tests/integration/push_delete.sh — deleting images on a real rackd on
# loopback: refused while a job uses the image; v1 deleted while v2 shares
# chunks with it: v1's own chunks collected, v2 intact and reimaged by
# rack-agent onto a file, byte for byte; the removal on /api/v1/events;
# chunks a pending push needs are kept; a pending push deleted.
# Loopback only.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central app:1 app:2 other:1
start_rack 1 --slots usb1
curl -sN -H "Authorization: Bearer ${TOKENS[1]}" --max-time 300 "$(url 1)/api/v1/events" >"$TMP/events1" &
EVPID=$!
on_exit "kill $EVPID"
given_push 1 app:1
given_push 1 app:2
NDIST=$(jq '.chunks | unique_by(.hash) | length' "$M1")

# ---- delete -------------------------------------------------------------------------------
on 1 POST /api/v1/nodes/usb1/reimage -d '{"image": "app:2"}'
check_status 202 "a reimage job on app:2"
JOB=$(printf '%s' "$BODY" | jq -r .id)
on 1 DELETE /api/v1/images/app/versions/2
check_status 409 "delete refused while a job uses the image"
check_jq '.error | test("job")' "the refusal names the job"

v1only=$(jq -n --slurpfile a "$M1" --slurpfile b "$M2" \
	'($b[0].chunks | map({key: .hash, value: 1}) | from_entries) as $v2
	 | [$a[0].chunks | unique_by(.hash) | .[] | select($v2[.hash] == null) | .hash]')
n1=$(jq length <<<"$v1only")
on 1 DELETE /api/v1/images/app/versions/1
check_status 200 "delete app:1 (v2 shares most of its chunks)"
check_jq ".chunks_freed == $n1" "the $n1 chunks only app:1 used are collected"
gone=0
for h in $(jq -r '.[]' <<<"$v1only"); do has_chunk 1 "$h" && gone=$((gone + 1)); done
check_eq "$gone" 0 "app:1's own chunks left the store"
missing=0
while read -r h s; do has_chunk 1 "$h" || missing=$((missing + 1)); done < <(chunks_of "$M2")
check_eq "$missing" 0 "every chunk of app:2 is still there"
on 1 GET /api/v1/images/app
check_jq '.versions | map(.version) == ["2"]' "app lists only version 2"
on 1 DELETE /api/v1/images/app/versions/1
check_status 404 "delete app:1 again"
sleep 0.3
grep -q '"removed":true' "$TMP/events1" && ok "the removal is on /api/v1/events" || fail "no removal event"

# app:2 still reimages: rack-agent writes it to a file, verified byte for byte
TOK=$(sqlite3 "${STATES[1]}/rackd.db" "select token from jobs where id=$JOB")
DISK=$TMP/disk.img
head -c $(($(stat -c %s "$TMP/v2.img") + 65536)) /dev/urandom >"$DISK"
timeout -k 5 120 "$AGENT" --no-reboot --cmdline /dev/null --disk "dev:$DISK" --url "$(url 1)" \
	--job "$JOB" --token "$TOK" >"$TMP/agent.log" 2>&1
check_eq "$?" 0 "rack-agent reimaged app:2 after app:1 was deleted"
on 1 GET "/api/v1/jobs/$JOB"
check_jq '.state == "done"' "the job is done"
cmp -s -n "$(stat -c %s "$TMP/v2.img")" "$TMP/v2.img" "$DISK" && ok "the disk holds app:2 exactly" ||
	fail "the disk differs from app:2"

# a pending push keeps the chunks it needs
on 1 POST /api/v1/images/app/versions/1 --data-binary "@$M1"
check_jq "(.missing | length) == $n1" "app:1 posted again: only its own chunks are missing"
on 1 DELETE /api/v1/images/app/versions/2
check_status 200 "delete app:2 while app:1 is pending"
kept=0
while read -r h s; do has_chunk 1 "$h" && kept=$((kept + 1)); done < <(chunks_of "$M1")
check_eq "$kept" "$((NDIST - n1))" "the chunks pending app:1 shares with app:2 are kept"
RACKD_TOKEN=${TOKENS[1]} push app:1 "$(url 1)"
check_eq "$RC" 0 "app:1 pushed again"
check_eq "$(pj '.racks[0].chunks_sent')" "$n1" "only its $n1 own chunks went"
on 1 POST /api/v1/images/other/versions/1 --data-binary "@$MO"
on 1 DELETE /api/v1/images/other/versions/1
check_status 200 "delete a pending push"
check_jq '.pending == true and .image == false' "it was pending, not an image"


check_racks_end 1
finish
