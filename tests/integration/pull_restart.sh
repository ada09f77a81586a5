#!/bin/bash
# tests/integration/pull_restart.sh — pulls are kept in rackd's database
# across restarts. A pull slowed by pull_rate: rackd killed (-9) in the
# middle comes back with the pull under its id, resumed, fetching only what
# it still lacked, and it ends done; its record survives another restart.
# rackd stopped (SIGTERM) mid-pull keeps the pull's row in its running state
# (not failed); started again without image_sources, the pull fails with a
# clear error instead of staying "fetching" for ever. "pull" events go out
# on /api/v1/events as a pull runs. nginx serves the origin on loopback;
# nginx and the racks are this test's, killed on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"
source "$TOP/tests/lib_nginx.sh"
command -v nginx >/dev/null || { echo "nginx is needed (make deps)"; exit 1; }

central other:1 sig:1
ORIGIN=$TMP/origin
mkdir -p "$ORIGIN"
for ref in other:1 sig:1; do
	timeout -k 5 "$RUN_MAX" "$RACKCTL" publish "$ref" "$ORIGIN" --store "$C" >/dev/null \
		2>"$TMP/publish.err" || { echo "setup: publish $ref: $(cat "$TMP/publish.err")"; exit 1; }
done
"$RACKCTL" image show other:1 --store "$C" --json >"$MO"
NCHUNKS=$(jq '.chunks | unique_by(.hash) | length' "$MO")

P1=$(free_port)
LOG=$TMP/nginx-origin/logs/access.log
nginx_conf origin "server {
		listen 127.0.0.1:$P1;
		access_log $LOG sent;
		root $ORIGIN;
	}"
nginx_start origin "$P1"
SRC=http://127.0.0.1:$P1
RATE=(--image-sources "$SRC" --pull-rate 128K)

pull_field() {	# ID JQ: a field of the pull on rack 1
	on 1 GET "/api/v1/pulls/$1"
	jq -r "$2" <<<"$BODY"
}
wait_pull() {	# ID JQ-CONDITION SECONDS
	local k
	for ((k = 0; k < $3 * 5; k++)); do
		on 1 GET "/api/v1/pulls/$1"
		[ "$STATUS" = 200 ] && jq -e "$2" <<<"$BODY" >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
rack_gone() {	# wait for rack 1's process to end (10 s at most)
	local k
	for ((k = 0; k < 100; k++)); do
		kill -0 "${PIDS[1]}" 2>/dev/null || { wait "${PIDS[1]}" 2>/dev/null; return 0; }
		sleep 0.1
	done
	return 1
}
db_state() { sqlite3 -cmd '.timeout 5000' "${STATES[1]}/rackd.db" \
	"SELECT state FROM pulls WHERE id = $1"; }
chunk_gets() { grep -c '^/chunks/.* 200 ' "$LOG" || true; }

# ---- killed mid-pull: resumed under its id ---------------------------------------------------
start_rack 1 "${RATE[@]}"
timeout 30 curl -sN -H "Authorization: Bearer ${TOKENS[1]}" "$(url 1)/api/v1/events" \
	>"$TMP/events.txt" 2>/dev/null &
EV=$!
on_exit "kill $EV"
sleep 0.5
on 1 POST /api/v1/images/pull -d '{"image": "other:1"}'
check_status 202 "POST /api/v1/images/pull other:1"
ID=$(jq -r .id <<<"$BODY")
wait_pull "$ID" '.state == "fetching" and .chunks_done >= 4' 30 &&
	ok "pull $ID is fetching: $(pull_field "$ID" .chunks_done) of $NCHUNKS chunks in" ||
	fail "pull $ID did not get going: $BODY"
sleep 1.2	# past PULL_SAVE_MS: its row has progress
kill "$EV" 2>/dev/null
grep -q '^event: pull$' "$TMP/events.txt" &&
	ok "/api/v1/events carries \"pull\" events ($(grep -c '^event: pull$' "$TMP/events.txt"))" ||
	fail "no pull event on /api/v1/events"
grep '^data:' "$TMP/events.txt" | sed 's/^data: //' |
	jq -se "map(select(.id == $ID and .state == \"fetching\" and .chunks_done > 0)) | length > 0" \
	>/dev/null && ok "a pull event shows its progress" || fail "no pull event with progress"

kill -9 "${PIDS[1]}"
rack_gone || fail "rack 1 did not die"
check_eq "$(db_state "$ID")" fetching "killed, the pull's row says fetching"
DONE_BEFORE=$(sqlite3 "${STATES[1]}/rackd.db" "SELECT chunks_done FROM pulls WHERE id = $ID")
GETS_BEFORE=$(chunk_gets)
start_rack 1 "${RATE[@]}"
on 1 GET "/api/v1/pulls/$ID"
check_status 200 "after the restart, GET /api/v1/pulls/$ID"
check_jq '.resumed == 1 and .image == "other:1" and (.state | IN("queued", "manifest", "fetching", "committing", "done"))' \
	"the pull is resumed under its id"
grep -q "pull other:1 (pull $ID) resumed after a restart" "$TMP/rack1.log" &&
	ok "rackd logs the resumption" || fail "no resumption in the log"
wait_pull "$ID" '.state == "done"' 60 && ok "the resumed pull ends done" ||
	fail "the resumed pull did not end: $BODY"
check_jq ".chunks_done == .missing and .missing == $NCHUNKS and .bytes_done == .bytes_total" \
	"its counts go on from before the restart ($DONE_BEFORE chunks then)"
on 1 GET /api/v1/images/other
check_jq '.versions | map(.version) | index("1") != null' "rack 1 has other:1"
check_store 1 "rack 1"
GETS_AFTER=$(($(chunk_gets) - GETS_BEFORE))
[ "$GETS_AFTER" -lt "$NCHUNKS" ] && [ "$GETS_AFTER" -gt 0 ] &&
	ok "the resumed pull fetched $GETS_AFTER of $NCHUNKS chunks (the rest were in)" ||
	fail "the resumed pull fetched $GETS_AFTER of $NCHUNKS chunks"
[ "$(chunk_gets)" -le $((NCHUNKS + 4)) ] &&
	ok "in all $(chunk_gets) chunk GETs for $NCHUNKS chunks (at most 4 cut in flight)" ||
	fail "$(chunk_gets) chunk GETs for $NCHUNKS chunks"

# ---- finished pulls are remembered -----------------------------------------------------------
rackd_pid=${PIDS[1]}
kill -TERM "$rackd_pid"
rack_gone || fail "rack 1 did not stop"
start_rack 1 "${RATE[@]}"
on 1 GET /api/v1/pulls
check_jq "length == 1 and .[0].id == $ID and .[0].state == \"done\" and .[0].resumed == 1
	and .[0].chunks_done == $NCHUNKS and (.[0].created | test(\"^20[0-9-]+T\"))" \
	"after a clean restart, GET /api/v1/pulls lists the done pull with its counts"

# ---- stopped mid-pull, no source at the next start: failed, clearly --------------------------
on 1 POST /api/v1/images/pull -d '{"image": "sig:1"}'
check_status 202 "POST /api/v1/images/pull sig:1"
ID2=$(jq -r .id <<<"$BODY")
[ "$ID2" -gt "$ID" ] && ok "a new pull gets a new id ($ID2)" || fail "pull id $ID2 after $ID"
wait_pull "$ID2" '.state == "fetching" and .chunks_done >= 2' 30 || fail "pull $ID2 did not get going"
kill -TERM "${PIDS[1]}"
rack_gone || fail "rack 1 did not stop"
check_eq "$(db_state "$ID2")" fetching "stopped, the pull's row keeps its running state, not failed"
start_rack 1
on 1 GET "/api/v1/pulls/$ID2"
check_jq '.state == "failed" and (.error | test("restarted during the pull.*no image_sources"))' \
	"without image_sources the cut pull fails at start: $(jq -r .error <<<"$BODY")"
check_eq "$(db_state "$ID2")" failed "and its row says so"
on 1 GET /api/v1/images/sig
check_status 404 "sig:1 is not on the rack"
check_racks_end 1
finish
