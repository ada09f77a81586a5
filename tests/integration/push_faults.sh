#!/bin/bash
# tests/integration/push_faults.sh — a push interrupted, on real rackd on
# loopback:
#   - kill -9 of rackctl mid-push, rerun: done, and not one byte of a chunk
#     the rack already had is sent again;
#   - kill -9 of one rackd mid-upload: that rack fails, the others finish;
#     restarted, the rerun completes; no partial chunk is ever visible (every
#     file under store/chunks decompresses and hashes to its name);
#   - SIGTERM to a rackd mid-upload (chunks on its work threads): it stops
#     at once with status 0; restarted, the rerun completes;
#   - a pending push left unfinished expires after push_expiry: its own
#     chunks are collected, those an image shares are kept.
# Traffic goes to 127.0.0.1 only; everything is removed on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central app:1 app:2 big:1
start_rack 1 --slots usb1
start_rack 2
start_rack 3
racks_file 1 2 3

# ---- kill -9 rackctl mid-push, rerun ---------------------------------------------------
base=$(stored_count 1)
RACKD_TOKEN=${TOKENS[1]} "$RACKCTL" push big:1 "$(url 1)" --store "$C" --streams 1 -q >/dev/null 2>&1 &
RPID=$!
on_exit "kill -9 $RPID"
wait_stored 1 $((base + 100))
if kill -9 "$RPID" 2>/dev/null; then ok "rackctl killed mid-push"; else fail "rackctl ended before it could be killed"; fi
wait "$RPID" 2>/dev/null
check_store 1 "rack 1 after rackctl was killed"
ls "${STATES[1]}"/store/chunks/*/ | grep -E '^[0-9a-f]{64}$' | sort >"$TMP/had"
want=0
while read -r h s; do
	grep -qx "$h" "$TMP/had" || want=$((want + s))
done < <(chunks_of "$MB")
present_before=$(rack_metric 1 'rackd_push_chunks_total{result="present"}')
RACKD_TOKEN=${TOKENS[1]} push big:1 "$(url 1)"
check_eq "$RC" 0 "rerun after kill -9: exit status"
check_eq "$(pj '.racks[0].result')" ok "rerun after kill -9: done"
check_eq "$(pj '.racks[0].bytes_sent')" "$want" "rerun sent only what the rack lacked ($want bytes)"
check_eq "$(rack_metric 1 'rackd_push_chunks_total{result="present"}')" "$present_before" \
	"rerun: not one chunk the rack had was sent again"

# ---- kill -9 one rackd mid-upload, restart, rerun ----------------------------------------
base=$(stored_count 2)
timeout -k 5 "$RUN_MAX" "$RACKCTL" push big:1 --racks <(sed -n '2,3p' "$RACKS") --store "$C" \
	--streams 2 --retries 2 --json >"$TMP/push.json" 2>"$TMP/push.err" &
RPID=$!
wait_stored 2 $((base + 100))
kill -9 "${PIDS[2]}"
wait "$RPID"
RC=$?
check_eq "$RC" 1 "rack 2 killed mid-upload: rackctl exits 1"
check_eq "$(pj '[.racks[].result] | join(",")')" failed,ok "rack 2 failed, rack 3 finished"
check_store 2 "rack 2 killed mid-upload: no partial chunk visible"
start_rack 2
[ -z "$(ls "${STATES[2]}/store/tmp")" ] && ok "rack 2 restarted: its dead upload's temporary file is gone" ||
	fail "temporary files after restart: $(ls "${STATES[2]}/store/tmp")"
push big:1 --racks "$RACKS"
check_eq "$RC" 0 "rerun after the rackd restart: exit status"
check_eq "$(pj '[.racks[].result] | join(",")')" present,ok,present "rerun: rack 2 completes, the others had it"
on 2 GET /api/v1/images/big
check_jq '.versions[0].chunk_count == 640' "rack 2 lists big:1"
check_store 2 "rack 2 after the rerun"

# ---- SIGTERM mid-upload: a clean stop ------------------------------------------------------
# Chunks being verified on the work threads get their answers before the
# HTTP server stops; rackd stops at once, with status 0, and no partial chunk.
on 3 DELETE /api/v1/images/big/versions/1
check_eq "$STATUS" 200 "rack 3: big:1 deleted (to push it again)"
base=$(stored_count 3)
timeout -k 5 "$RUN_MAX" "$RACKCTL" push big:1 --racks <(sed -n '3p' "$RACKS") --store "$C" \
	--streams 8 --retries 0 --json >"$TMP/push.json" 2>"$TMP/push.err" &
RPID=$!
wait_stored 3 $((base + 100))
kill -TERM "${PIDS[3]}"
for ((i = 0; i < 100; i++)); do
	kill -0 "${PIDS[3]}" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "${PIDS[3]}" 2>/dev/null; then
	fail "rack 3 still running 10 s after SIGTERM mid-upload"
	kill -9 "${PIDS[3]}"
fi
wait "${PIDS[3]}"
check_eq "$?" 0 "rack 3 stopped by SIGTERM mid-upload: exit status"
wait "$RPID"
check_eq "$(pj '.racks[0].result')" failed "rackctl: rack 3 failed"
grep -qiE 'panic|suspended' "$TMP/rack3.log" && fail "rack 3's log: $(grep -iE 'panic|suspended' "$TMP/rack3.log")" ||
	ok "rack 3's log: a plain stop"
check_store 3 "rack 3 stopped mid-upload: no partial chunk visible"
start_rack 3
push big:1 --racks "$RACKS"
check_eq "$(pj '[.racks[].result] | join(",")')" present,present,ok "rerun: rack 3 completes"

# ---- a pending push nobody finishes expires -------------------------------------------------
# Rack 5 holds app:1; app:2's manifest is posted and one of its own chunks
# sent, then nothing: after push_expiry the push is gone with that chunk,
# and app:1's chunks (shared with app:2) stay.
start_rack 5 --push-expiry 3s
RACKD_TOKEN=${TOKENS[5]} push app:1 "$(url 5)"
check_eq "$RC" 0 "rack 5 holds app:1"
n_app1=$(find "${STATES[5]}/store/chunks" -type f | wc -l)
on 5 POST /api/v1/images/app/versions/2 --data-binary "@$M2"
check_status 200 "rack 5: app:2's manifest posted"
HN=$(jq -r '.missing[0]' <<<"$BODY")
on 5 PUT "/api/v1/chunks/$HN" --data-binary "@$(chunk_file "$HN")"
check_status 201 "rack 5: one of app:2's own chunks stored"
on 5 GET /api/v1/pushes
check_jq 'length == 1 and .[0].active != null' "rack 5 lists the pending push with its last activity"
for ((i = 0; i < 100; i++)); do
	on 5 GET /api/v1/pushes
	[ "$(jq length <<<"$BODY")" = 0 ] && break
	sleep 0.1
done
check_jq 'length == 0' "the unfinished push of app:2 expired"
has_chunk 5 "$HN" && fail "the expired push's own chunk is still stored" || ok "the expired push's own chunk was collected"
check_eq "$(find "${STATES[5]}/store/chunks" -type f | wc -l)" "$n_app1" "app:1's chunks are all kept"
grep -q "push app:2 expired" "$TMP/rack5.log" && ok "the expiry is logged" || fail "no log line for the expiry"
on 5 POST /api/v1/images/app/versions/2/commit
check_status 404 "commit of the expired push: 404 (post the manifest again)"
RACKD_TOKEN=${TOKENS[5]} push app:2 "$(url 5)"
check_eq "$(pj '.racks[0].result')" ok "a new push of app:2 completes"
check_store 5 "rack 5 at the end"


check_racks_end 1 2 3
finish
