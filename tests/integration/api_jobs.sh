#!/bin/bash
# tests/integration/api_jobs.sh — jobs on a real rackd on loopback, driven
# by curl: reimage and its errors, the job list and its filters, a job's
# event log, Server-Sent Events (node and job events, ids, Last-Event-ID,
# streams freed when their clients leave), cancel, the agent's endpoints
# with the job's own token (the whole flow queued to done, reports out of
# order refused), the job counts of /metrics, and an erase cancelled
# midway (rackd's note of what the disk holds, the agent's notes taken
# for a bounded grace after the cancel). Loopback only.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

rackd_start --slots usb1,usb2,usb3

# ---- images: two versions through rackctl, indexed on SIGHUP -----------
test_images
N1=$(jq '.chunks | length' "$MANIFEST")

# ---- reimage and jobs ----------------------------------------------------
api POST /api/v1/nodes/usb1/reimage -d '{"image":"test:1"}' >/dev/null
check_status 202 "POST reimage"
check_jq '.state == "queued" and .image == "test:1" and .slot == "usb1" and (.id | type) == "number"' "the job"
J1=$(printf '%s' "$BODY" | jq .id)
check_jq '.token == null' "the job's token is not in the API"
api POST /api/v1/nodes/usb1/reimage -d '{"image":"test:2"}' >/dev/null
check_error 409 "second reimage of a busy node"
api POST /api/v1/nodes/usb9/reimage -d '{"image":"test:1"}' >/dev/null
check_error 404 "reimage unknown node"
api POST /api/v1/nodes/usb3/reimage -d '{"image":"nope"}' >/dev/null
check_error 404 "reimage unknown image"
api POST /api/v1/nodes/usb3/reimage -d '{"image":"test:9"}' >/dev/null
check_error 404 "reimage unknown version"
for body in '{}' '{"image":5}' '{"image":"test:1","x":1}' '{"image":"bad name"}' 'nope'; do
	api POST /api/v1/nodes/usb3/reimage -d "$body" >/dev/null
	check_error 400 "reimage body $body"
done
api POST /api/v1/nodes/usb2/reimage -d '{"image":"test"}' >/dev/null
check_status 202 "reimage without a version"
check_jq '.image == "test:2"' "no version: the newest"
J2=$(printf '%s' "$BODY" | jq .id)
api GET /api/v1/nodes/usb1 >/dev/null
check_jq ".state == \"queued\" and .job.id == $J1" "the node shows its job"

api GET "/api/v1/jobs?node=usb1" >/dev/null
check_status 200 "GET /api/v1/jobs?node="
check_jq "length == 1 and .[0].id == $J1" "jobs of usb1"
api GET "/api/v1/jobs?state=queued" >/dev/null
check_jq "length == 2 and all(.[]; .state == \"queued\")" "queued jobs"
api GET "/api/v1/jobs?node=usb2&state=queued" >/dev/null
check_jq "length == 1 and .[0].id == $J2" "node and state"
api GET "/api/v1/jobs?state=done" >/dev/null
check_jq 'length == 0' "no done jobs yet"
api GET "/api/v1/jobs?limit=1" >/dev/null
check_jq "length == 1 and .[0].id == $J2" "limit, newest first"
for q in state=bogus node=bad%20x limit=0 limit=501 limit=x; do
	api GET "/api/v1/jobs?$q" >/dev/null
	check_error 400 "jobs list $q"
done
api GET "/api/v1/jobs/$J1" >/dev/null
check_status 200 "GET /api/v1/jobs/{id}"
check_jq '(.events | length) == 1 and .events[0].state == "queued" and (.events[0].at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' \
	"job with its event log"
api GET /api/v1/jobs/99999 >/dev/null
check_error 404 "unknown job"
api GET /api/v1/job-states >/dev/null
check_status 200 "GET /api/v1/job-states"
check_jq '[.[].name] == ["queued","booting","streaming","verifying","done","failed"] and
	([.[] | select(.terminal)] | map(.name)) == ["done","failed"] and
	all(.[]; .text | type == "string" and length > 0)' "the job states in order, with their words"
raw GET /api/v1/job-states
check_status 401 "job states without a token"
for id in abc 0 -1 1x; do
	api GET "/api/v1/jobs/$id" >/dev/null
	check_error 400 "job id $id"
done

# ---- events (SSE) --------------------------------------------------------
SSE=$TMP/sse.out
curl -s -N --max-time 8 -H "Authorization: Bearer $TOKEN" "$URL/api/v1/events" >"$SSE" 2>/dev/null &
SSE_PID=$!
on_exit "kill $SSE_PID"
wait_for 50 grep -q '^retry:' "$SSE" && ok "event stream opened" || fail "no retry: line on the event stream"
api PATCH /api/v1/nodes/usb3 -d '{"label":"sse-label"}' >/dev/null
sse_has() { grep -q '^event: node$' "$SSE" && grep -q '"sse-label"' "$SSE"; }
wait_for 50 sse_has && ok "SSE: node event for a PATCH" || fail "SSE: no node event: $(head -c 500 "$SSE")"
api POST /api/v1/jobs/"$J2"/cancel >/dev/null
sse_job() { grep -q '^event: job$' "$SSE" && grep '^data:' "$SSE" | grep -q "\"id\":$J2,"; }
wait_for 50 sse_job && ok "SSE: job event for a cancel" || fail "SSE: no job event: $(head -c 800 "$SSE")"
grep -q '^id: [0-9]' "$SSE" && ok "SSE events carry ids" || fail "SSE: no id: lines"
kill "$SSE_PID" 2>/dev/null
LAST=$(grep '^id: ' "$SSE" | head -n 1 | cut -d' ' -f2)
curl -s -N --max-time 2 -H "Authorization: Bearer $TOKEN" -H "Last-Event-ID: $((LAST - 1))" \
	"$URL/api/v1/events" >"$SSE.2" 2>/dev/null
grep -q "^id: $LAST\$" "$SSE.2" && ok "Last-Event-ID replays what was missed" || fail "Last-Event-ID: $(head -c 300 "$SSE.2")"
raw GET /api/v1/events --max-time 2
check_error 401 "events need a token"
# Streams whose clients left are freed (at the latest with the next event).
# A suspended stream notices its client left only when it writes again: an
# event or two (or the heartbeat, every 15 s) later.
no_clients() { [ "$(metric rackd_event_clients)" = 0 ]; }
for i in 1 2 3 4 5; do
	api PATCH /api/v1/nodes/usb3 -d "{\"label\":\"after-sse-$i\"}" >/dev/null
	wait_for 5 no_clients && break
done
no_clients && ok "closed event streams are freed ($i events)" || fail "event clients left: $(metric rackd_event_clients)"

# ---- cancel ----------------------------------------------------------------
api GET "/api/v1/jobs/$J2" >/dev/null
check_jq '.state == "failed" and .reason == "cancelled by operator" and .events[-1].state == "failed"' "cancelled job"
api POST /api/v1/jobs/"$J2"/cancel >/dev/null
check_error 409 "cancel a finished job"
api POST /api/v1/jobs/99999/cancel >/dev/null
check_error 404 "cancel an unknown job"
api POST /api/v1/jobs/abc/cancel >/dev/null
check_error 400 "cancel a bad id"
raw POST "/api/v1/jobs/$J1/cancel"
check_error 401 "cancel without a token"

# ---- the agent, with the job's own token -----------------------------------
api POST /api/v1/nodes/usb2/reimage -d '{"image":"test:2"}' >/dev/null
check_status 202 "reimage usb2 again after the cancel"
J3=$(printf '%s' "$BODY" | jq .id)
T1=$(job_token "$J1")
T3=$(job_token "$J3")
[ ${#T1} -ge 32 ] && [ "$T1" != "$T3" ] && ok "each job its own token" || fail "job tokens: '$T1' '$T3'"
raw GET "/api/v1/agent/jobs/$J1" -H "Authorization: Bearer $T1"
check_status 200 "agent GET job with its token"
check_jq ".id == $J1 and .chunks_url == \"/chunks/\" and (.manifest.chunks | length) == $N1 and .manifest.name == \"test\"" \
	"agent job with manifest"
raw GET "/api/v1/agent/jobs/$J1" -H "Authorization: Bearer $TOKEN"
check_error 401 "agent endpoint with the API token"
raw GET "/api/v1/agent/jobs/$J1" -H "Authorization: Bearer $T3"
check_error 401 "agent endpoint with another job's token"
raw GET "/api/v1/agent/jobs/$J1"
check_error 401 "agent endpoint without a token"
raw POST "/api/v1/agent/jobs/$J1/report" -H "Authorization: Bearer $T3" -d '{"state":"streaming"}'
check_error 401 "report with another job's token"
raw POST "/api/v1/agent/jobs/$J1/report" -H "Authorization: Bearer $TOKEN" -d '{"state":"streaming"}'
check_error 401 "report with the API token"
report() {	# JSON: report for job 1
	raw POST "/api/v1/agent/jobs/$J1/report" -H "Authorization: Bearer $T1" -d "$1"
}
for body in '{}' '{"state":"bogus"}' '{"state":"streaming","bytes_done":-1}' \
	'{"state":"streaming","rate":"fast"}' '{"state":"failed"}' 'nope'; do
	report "$body"
	check_error 400 "report body $body"
done
report '{"state":"streaming","bytes_done":0,"bytes_fetched":0,"rate":0}'
check_status 200 "report streaming from queued"
api GET "/api/v1/jobs/$J1" >/dev/null
check_jq '.state == "streaming" and ([.events[].state] == ["queued","booting","streaming"])' "queued -> booting -> streaming"
report '{"state":"streaming","bytes_done":65536,"bytes_fetched":65536,"rate":1000}'
check_status 200 "progress report"
api GET "/api/v1/jobs/$J1" >/dev/null
check_jq '.bytes_done == 65536 and .bytes_fetched == 65536 and .rate == 1000 and (.events | length) == 3' "progress stored, no new event"
report '{"state":"queued"}'
check_error 409 "report going back"
report '{"state":"done"}'
check_error 409 "report skipping verifying"
report '{"state":"verifying","bytes_done":427680,"bytes_fetched":362144}'
check_status 200 "report verifying"
report '{"state":"done","bytes_done":427680,"bytes_fetched":362144}'
check_status 200 "report done"
api GET "/api/v1/jobs/$J1" >/dev/null
check_jq '.state == "done" and ([.events[].state] == ["queued","booting","streaming","verifying","done"]) and .finished != null' \
	"the whole flow in the event log"
api GET /api/v1/nodes/usb1 >/dev/null
check_jq '.image == "test:1" and .last_result == "done" and .state == "idle"' "node's image set after done"
report '{"state":"streaming"}'
check_error 409 "a finished job's own token: the job has ended"


# ---- metrics ---------------------------------------------------------------
check_eq "$(metric 'rackd_jobs{state="done"}')" 1 "metrics: jobs done"
check_eq "$(metric 'rackd_jobs{state="failed"}')" 1 "metrics: jobs failed"
check_eq "$(metric 'rackd_jobs{state="queued"}')" 1 "metrics: jobs queued"
check_eq "$(metric 'rackd_jobs{state="streaming"}')" 0 "metrics: jobs streaming"

# ---- an erase cancelled midway: its events say what the disk holds ------
api POST /api/v1/nodes/usb1/erase -d '{"method":"auto"}' >/dev/null
check_status 202 "erase usb1 (auto)"
JE=$(printf '%s' "$BODY" | jq .id)
TE=$(job_token "$JE")
enote() {	# JSON: a note of the erase's agent
	raw POST "/api/v1/agent/jobs/$JE/event" -H "Authorization: Bearer $TE" -d "$1"
}
raw POST "/api/v1/agent/jobs/$JE/report" -H "Authorization: Bearer $TE" \
	-d '{"state":"streaming","bytes_done":1073741824,"bytes_total":4294967296}'
check_status 200 "erase: the agent reports a quarter done"
enote '{"message":"auto: NVMe not used: not an NVMe disk"}'
enote '{"message":"auto: discard (BLKDISCARD) of the whole disk: discard_max_bytes 1"}'
enote '{"message":"auto: the discard does not read back zeros (x): overwriting"}'
check_status 200 "erase: the agent's notes are taken"
api POST "/api/v1/jobs/$JE/cancel" -d '{}' >/dev/null
check_status 200 "erase: cancelled midway"
api GET "/api/v1/jobs/$JE" >/dev/null
check_jq '.state == "failed" and ([.events[].message] | index("cancelled during overwrite at 25% (1.0 GiB of 4.0 GiB): the disk is partly erased: zeros over its first 1.0 GiB (the last report), old data after that")) != null' \
	"erase: rackd's note names the method that ran and how far it got"
raw POST "/api/v1/agent/jobs/$JE/report" -H "Authorization: Bearer $TE" -d '{"state":"streaming"}'
check_error 409 "erase: the cancelled job's token reports nothing more"
enote '{"message":"the disk is partly erased: zeros over its first 1.1 GiB"}'
check_status 200 "erase: the agent's last word after the cancel is taken"
api GET "/api/v1/jobs/$JE" >/dev/null
check_jq '.state == "failed" and .events[-1].message == "the agent, after the cancel: the disk is partly erased: zeros over its first 1.1 GiB" and .events[-1].state == "failed"' \
	"erase: it is an event of the failed job, which stays failed"
raw POST "/api/v1/agent/jobs/$JE/event" -H "Authorization: Bearer $T1" -d '{"message":"x"}'
check_error 401 "erase: a note with another job's token is refused"
enote '{"message":"two"}'; enote '{"message":"three"}'
check_status 200 "erase: notes up to the grace's count"
enote '{"message":"four"}'
check_error 409 "erase: a note past the grace's count is refused"
raw GET "/api/v1/agent/jobs/$JE" -H "Authorization: Bearer $TE"
check_error 409 "erase: the job itself is not given to the token any more"
finish
