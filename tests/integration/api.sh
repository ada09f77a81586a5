#!/bin/bash
# tests/integration/api.sh — a real rackd on loopback with a temporary state
# dir, driven by curl: every route of the route table, every error status,
# auth, nodes, images, jobs and their event logs, the agent's endpoints with
# the job's own token, Server-Sent Events, /metrics, chunks (ETag, caching,
# 304, ranges, 416) and the dashboard's files (no path escapes the webui dir).
# Restart, reload and rackd -n are in lifecycle.sh; 200 clients in
# concurrency.sh. Traffic goes to 127.0.0.1 only.
#
# 500 is not provoked here: it needs a failing database or disk under a
# running rackd, which a black-box test cannot arrange reliably.
# 503 (more than EVENTS_CLIENTS_MAX event streams) is in concurrency.sh.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

H=$TMP/headers
B=$TMP/body

# check_error STATUS WHAT: the status, and a JSON body {"error": "..."}.
check_error() {
	check_status "$1" "$2"
	if ! printf '%s' "$BODY" | jq -e '.error | type == "string" and length > 0' >/dev/null 2>&1; then
		fail "$2: not a JSON error body: ${BODY:0:200}"
	fi
}
# check_jq FILTER WHAT: the last body satisfies the jq filter.
check_jq() {
	if printf '%s' "$BODY" | jq -e "$1" >/dev/null 2>&1; then ok "$2"
	else fail "$2: $1 is false for ${BODY:0:300}"; fi
}
# raw METHOD PATH [curl args]: no token; headers to $H, body to $B.
raw() {
	local m=$1 p=$2
	shift 2
	rm -f "$H" "$B"
	STATUS=$(curl -s -X "$m" -D "$H" -o "$B" -w '%{http_code}' --max-time 10 "$@" "$URL$p")
	touch "$H" "$B"	# curl writes no file for an empty body
	BODY=$(head -c 4096 "$B" | tr -d '\0')
}
hdr() { grep -i "^$1:" "$H" | tail -n 1 | cut -d' ' -f2- | tr -d '\r'; }
metric() {	# the value of one /metrics line, given its name and labels
	curl -s --max-time 5 "$URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
wait_for() {	# TRIES CMD...: run CMD every 0.1 s until it succeeds
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
job_token() {	# the agent token of job $1 (handed out by the boot script)
	sqlite3 -cmd '.timeout 5000' "$STATE/rackd.db" "SELECT token FROM jobs WHERE id = $1"
}

# ---- a dashboard directory with traps in it ----------------------------
WEBUI=$TMP/webui
mkdir -p "$WEBUI/sub"
cp -r "$TOP/webui/." "$WEBUI/"
echo '<p>sub page</p>' >"$WEBUI/sub/page.html"
echo 'outside secret' >"$TMP/secret.txt"
echo 'hidden' >"$WEBUI/.hidden"
ln -s /etc/passwd "$WEBUI/passwd.html"
ln -s "$TMP/secret.txt" "$WEBUI/secret.txt"
ln -s /etc "$WEBUI/etc"
ln -s ../secret.txt "$WEBUI/sub/up.txt"

rackd_start --slots usb1,usb2,usb3 --max-body 4K --webui-dir "$WEBUI"

# ---- images: two versions through rackctl, indexed on SIGHUP -----------
{ head -c 262144 /dev/urandom; head -c 65536 /dev/zero; head -c 100000 /dev/urandom; } >"$TMP/disk1.img"
{ head -c 200000 /dev/urandom; } >"$TMP/disk2.img"
for v in 1 2; do
	"$RACKCTL" image import "$TMP/disk$v.img" --name "test:$v" --store "$STATE/store" \
		--chunk-size 64K -q >/dev/null || fail "rackctl image import test:$v"
done
kill -HUP "$RACKD_PID"
images_in() { api GET /api/v1/images/test >/dev/null; [ "$STATUS" = 200 ] &&
	[ "$(printf '%s' "$BODY" | jq '.versions | length')" = 2 ]; }
wait_for 50 images_in && ok "SIGHUP indexes the imported images" || fail "images not indexed: $BODY"
MANIFEST=$STATE/store/manifests/test/1.json
HASH=$(jq -r '.chunks[0].hash' "$MANIFEST")
CHUNK=$STATE/store/chunks/${HASH:0:2}/$HASH
SIZE=$(stat -c %s "$CHUNK")

# ---- health, auth --------------------------------------------------------
raw GET /healthz
check_status 200 "GET /healthz"
check_eq "$BODY" ok "/healthz says ok"
raw HEAD /healthz -I
check_status 200 "HEAD /healthz"
raw GET /api/v1/nodes
check_error 401 "read without a token"
raw GET /api/v1/nodes -H "Authorization: Bearer not-the-token"
check_error 401 "read with a wrong token"
raw GET /api/v1/nodes -H "Authorization: Basic $(printf 'x:%s' "$TOKEN" | base64 -w0)"
check_error 401 "Basic auth is not a token"
raw GET /api/v1/nodes -H "Authorization: Bearer ${TOKEN:0:20}"
check_error 401 "a prefix of the token"
raw PATCH /api/v1/nodes/usb1 -d '{"label":"x"}'
check_error 401 "unauthenticated write"
raw POST /api/v1/nodes/usb1/reimage -d '{"image":"test:1"}' -H "Authorization: Bearer nope"
check_error 401 "write with a wrong token"
raw GET "/chunks/$HASH"
check_status 200 "chunks need no token"

# ---- nodes ---------------------------------------------------------------
api GET /api/v1/nodes >/dev/null
check_status 200 "GET /api/v1/nodes"
check_jq '[.[].slot] == ["usb1","usb2","usb3"]' "slots from --slots, in order"
check_jq '.[0].state == "idle" and .[0].boot_mode == "local"' "a new node is idle, local boot"
api HEAD /api/v1/nodes -I >/dev/null
check_status 200 "HEAD /api/v1/nodes"
api GET /api/v1/nodes/usb2 >/dev/null
check_status 200 "GET /api/v1/nodes/usb2"
check_jq '.slot == "usb2" and .label == null and .image == null' "node fields"
api GET /api/v1/nodes/usb9 >/dev/null
check_error 404 "unknown node"
api GET "/api/v1/nodes/bad%20slot" >/dev/null
check_error 400 "not a slot name"

api PATCH /api/v1/nodes/usb1 -d '{"label":"U12"}' >/dev/null
check_status 200 "PATCH label"
check_jq '.label == "U12" and .slot == "usb1"' "label set"
api PATCH /api/v1/nodes/usb1 -d '{"image":"test:1","boot_mode":"diskless"}' >/dev/null
check_error 409 "a disk image cannot run diskless"
api PATCH /api/v1/nodes/usb1 -d '{"image":"test:1","boot_mode":"local"}' >/dev/null
check_status 200 "PATCH image and boot_mode"
check_jq '.image == "test:1" and .boot_mode == "local" and .label == "U12"' "image and boot mode set, label kept"
api GET /api/v1/nodes/usb1 >/dev/null
check_jq '.image == "test:1" and .boot_mode == "local"' "PATCH is stored"
api PATCH /api/v1/nodes/usb1 -d '{"image":null,"boot_mode":"local","label":""}' >/dev/null
check_status 200 "PATCH image null"
check_jq '.image == null and .boot_mode == "local" and .label == null' "image and label cleared"
api PATCH /api/v1/nodes/usb1 -d '{"image":"nope:1"}' >/dev/null
check_error 404 "PATCH unknown image"
api PATCH /api/v1/nodes/usb9 -d '{"label":"x"}' >/dev/null
check_error 404 "PATCH unknown node"
for body in '' 'not json' '[1]' '"x"' '{}' '{"colour":"red"}' '{"boot_mode":"pxe"}' \
	'{"label":5}' '{"label":"a\u0007b"}' "{\"label\":\"$(printf 'x%.0s' {1..65})\"}" \
	'{"image":"bad name"}' '{"label":"a","label":"b"}'; do
	api PATCH /api/v1/nodes/usb1 -d "$body" >/dev/null
	check_error 400 "PATCH body ${body:0:30}"
done
api GET /api/v1/nodes/usb1 >/dev/null
check_jq '.label == null and .boot_mode == "local"' "bad PATCHes changed nothing"

# ---- images --------------------------------------------------------------
api GET /api/v1/images >/dev/null
check_status 200 "GET /api/v1/images"
check_jq 'length == 1 and .[0].name == "test" and (.[0].versions | length) == 2' "image list"
api GET /api/v1/images/test >/dev/null
check_status 200 "GET /api/v1/images/test"
N1=$(jq '.chunks | length' "$MANIFEST")
check_jq "[.versions[] | select(.version == \"1\")][0] | .size == 427680 and .chunk_count == $N1 and .kind == \"disk\"" \
	"version 1: size and chunk count"
api GET /api/v1/images/nope >/dev/null
check_error 404 "unknown image"
api GET "/api/v1/images/bad%20name" >/dev/null
check_error 400 "not an image name"

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

# ---- chunks ----------------------------------------------------------------
raw GET "/chunks/$HASH"
check_status 200 "GET chunk"
cmp -s "$B" "$CHUNK" && ok "chunk body is the stored file" || fail "chunk body differs"
check_eq "$(hdr ETag)" "\"$HASH\"" "ETag is the hash"
case "$(hdr Cache-Control)" in *immutable*max-age=* | *max-age=*immutable*) ok "immutable caching" ;;
*) fail "Cache-Control: $(hdr Cache-Control)" ;; esac
check_eq "$(hdr Accept-Ranges)" bytes "Accept-Ranges"
raw HEAD "/chunks/$HASH" -I
check_status 200 "HEAD chunk"
check_eq "$(hdr Content-Length)" "$SIZE" "HEAD Content-Length"
check_eq "$(hdr ETag)" "\"$HASH\"" "HEAD ETag"
# HEAD over a raw socket: nothing may follow the head
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'HEAD /chunks/%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$HASH" >&3
timeout 5 cat <&3 >"$TMP/head.raw"
exec 3<&-
check_eq "$(sed '1,/^\r$/d' "$TMP/head.raw" | wc -c)" 0 "HEAD has no body"
raw GET "/chunks/$HASH" -H "If-None-Match: \"$HASH\""
check_status 304 "If-None-Match"
check_eq "$(stat -c %s "$B")" 0 "304 has no body"
raw GET "/chunks/$HASH" -H "If-None-Match: \"$(printf 'f%.0s' {1..64})\""
check_status 200 "If-None-Match another hash"
raw GET "/chunks/$HASH" -H "Range: bytes=0-99"
check_status 206 "Range bytes=0-99"
check_eq "$(hdr Content-Range)" "bytes 0-99/$SIZE" "Content-Range 0-99"
head -c 100 "$CHUNK" | cmp -s - "$B" && ok "bytes 0-99 are right" || fail "bytes 0-99 differ"
raw GET "/chunks/$HASH" -H "Range: bytes=-100"
check_status 206 "Range bytes=-100"
check_eq "$(hdr Content-Range)" "bytes $((SIZE - 100))-$((SIZE - 1))/$SIZE" "Content-Range -100"
tail -c 100 "$CHUNK" | cmp -s - "$B" && ok "last 100 bytes are right" || fail "last 100 bytes differ"
raw GET "/chunks/$HASH" -H "Range: bytes=5-"
check_status 206 "Range bytes=5-"
check_eq "$(hdr Content-Range)" "bytes 5-$((SIZE - 1))/$SIZE" "Content-Range 5-"
tail -c +6 "$CHUNK" | cmp -s - "$B" && ok "bytes 5- are right" || fail "bytes 5- differ"
raw GET "/chunks/$HASH" -H "Range: bytes=$SIZE-"
check_error 416 "unsatisfiable range"
check_eq "$(hdr Content-Range)" "bytes */$SIZE" "416 Content-Range"
raw GET "/chunks/$(printf '0%.0s' {1..64})"
check_error 404 "unknown chunk"
for h in xyz "${HASH^^}" "${HASH:0:63}" "${HASH}0" "..%2fapi.token"; do
	raw GET "/chunks/$h"
	check_error 404 "malformed hash ${h:0:16}"
done

# ---- the dashboard's files, and no way out of them -------------------------
raw GET /
check_status 200 "GET /"
case "$(hdr Content-Type)" in text/html*) ok "/ is HTML" ;; *) fail "/ Content-Type $(hdr Content-Type)" ;; esac
cmp -s "$B" "$WEBUI/index.html" && ok "/ is index.html" || fail "/ is not index.html"
raw GET /sub/page.html
check_status 200 "a file in a subdirectory"
raw GET /nope.html
check_error 404 "missing static file"
for p in /../etc/passwd /%2e%2e/etc/passwd /%2e%2e%2fetc%2fpasswd /sub/../../secret.txt \
	/passwd.html /etc/passwd /secret.txt /sub/up.txt /.hidden //etc/passwd \
	/chunks/../api.token /api/../api.token /rackd.db /api.token; do
	raw GET "$p" --path-as-is
	if [ "$STATUS" = 404 ] && ! grep -q -e 'root:' -e 'outside secret' -e "$TOKEN" "$B"; then
		ok "no escape: $p"
	else
		fail "escape: $p gave $STATUS: $(head -c 100 "$B")"
	fi
done

# ---- methods, limits, error statuses --------------------------------------
api GET /api/v1/nope >/dev/null
check_error 404 "unknown API path"
raw DELETE /api/v1/nodes
check_error 405 "DELETE /api/v1/nodes"
check_eq "$(hdr Allow)" "GET, HEAD" "405 Allow header"
api PUT /api/v1/nodes/usb1 -d '{}' >/dev/null
check_error 405 "PUT a node"
raw POST /healthz
check_error 405 "POST /healthz"
raw POST /chunks/"$HASH"
check_error 405 "POST a chunk"
head -c 5000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
api PATCH /api/v1/nodes/usb1 --data-binary @"$TMP/big.json" >/dev/null
check_error 413 "body over --max-body 4K"
api PATCH /api/v1/nodes/usb1 -H "Transfer-Encoding: chunked" --data-binary @"$TMP/big.json" >/dev/null
check_error 413 "chunked body over the limit"
api GET /api/v1/nodes --data-binary 'x' -X GET >/dev/null
check_error 413 "a body where none belongs"
{ printf '{"label":"ok"}'; head -c 3000 /dev/zero | tr '\0' ' '; } >"$TMP/fits.json"
api PATCH /api/v1/nodes/usb1 --data-binary @"$TMP/fits.json" >/dev/null
check_status 200 "a body under the limit"
HDRS=()
for i in $(seq 1 80); do HDRS+=(-H "X-Filler-$i: $i"); done
raw GET /healthz "${HDRS[@]}"
check_error 431 "too many header fields"
raw GET /healthz -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
check_error 431 "request head over max_header_bytes (16K)"
raw GET "/api/v1/nodes/$(head -c 3000 /dev/zero | tr '\0' a)"
check_error 414 "URL too long"

# ---- metrics ---------------------------------------------------------------
raw GET /metrics
check_status 200 "GET /metrics"
grep -q '^# TYPE rackd_http_requests_total counter' "$B" && ok "metrics: requests counter" || fail "metrics: no request counter"
grep -q '^rackd_links_up ' "$B" && ok "metrics: links up" || fail "metrics: no links up"
h0=$(metric 'rackd_http_requests_total{route="healthz",status="200"}')
for i in 1 2 3; do curl -s -o /dev/null --max-time 5 "$URL/healthz"; done
h1() { [ "$(metric 'rackd_http_requests_total{route="healthz",status="200"}')" = "$((h0 + 3))" ]; }
wait_for 20 h1 && ok "metrics: requests by route and status" || fail "metrics: healthz count $h0 -> $(metric 'rackd_http_requests_total{route="healthz",status="200"}')"
[ "$(metric 'rackd_http_requests_total{route="node_patch",status="400"}')" -ge 12 ] 2>/dev/null &&
	ok "metrics: node_patch 400s counted" || fail "metrics: node_patch 400 count"
[ -n "$(metric 'rackd_http_requests_total{route="limits",status="431"}')" ] && ok "metrics: limits 431" || fail "metrics: no 431 row"
s0=$(metric rackd_streamed_bytes_total)
curl -s -o /dev/null --max-time 5 "$URL/chunks/$HASH"
s1() { [ "$(metric rackd_streamed_bytes_total)" = "$((s0 + SIZE))" ]; }
wait_for 20 s1 && ok "metrics: bytes streamed grows by the chunk" || fail "metrics: streamed $s0 -> $(metric rackd_streamed_bytes_total), chunk $SIZE"
curl -s -o /dev/null -I --max-time 5 "$URL/chunks/$HASH"
curl -s -o /dev/null --max-time 5 -H 'Range: bytes=0-99' "$URL/chunks/$HASH"
s2() { [ "$(metric rackd_streamed_bytes_total)" = "$((s0 + SIZE + 100))" ]; }
wait_for 20 s2 && ok "metrics: HEAD streams nothing, a range its length" || fail "metrics: streamed $(metric rackd_streamed_bytes_total), want $((s0 + SIZE + 100))"
check_eq "$(metric 'rackd_jobs{state="done"}')" 1 "metrics: jobs done"
check_eq "$(metric 'rackd_jobs{state="failed"}')" 1 "metrics: jobs failed"
check_eq "$(metric 'rackd_jobs{state="queued"}')" 1 "metrics: jobs queued"
check_eq "$(metric 'rackd_jobs{state="streaming"}')" 0 "metrics: jobs streaming"

kill -0 "$RACKD_PID" 2>/dev/null && ok "rackd still running" || fail "rackd died"
rackd_stop && ok "SIGTERM stops rackd" || fail "rackd did not stop on SIGTERM"
finish
