#!/bin/bash
# tests/integration/api.sh — a real rackd on loopback with a temporary state
# dir, driven by curl: health, auth, nodes and images (reads, PATCH and its
# bad bodies), methods, limits and error statuses, /metrics' request
# counters, and SIGTERM. Jobs, events and the agent's endpoints are in
# api_jobs.sh; chunks and the dashboard's files in api_chunks.sh; restart,
# reload and rackd -n in lifecycle.sh; 200 clients in concurrency.sh.
# Traffic goes to 127.0.0.1 only.
#
# 500 is not provoked here: it needs a failing database or disk under a
# running rackd, which a black-box test cannot arrange reliably.
# 503 (more than EVENTS_CLIENTS_MAX event streams) is in concurrency.sh.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

rackd_start --slots usb1,usb2,usb3 --max-body 4K

# ---- images: two versions through rackctl, indexed on SIGHUP -----------
test_images

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

kill -0 "$RACKD_PID" 2>/dev/null && ok "rackd still running" || fail "rackd died"
rackd_stop && ok "SIGTERM stops rackd" || fail "rackd did not stop on SIGTERM"
finish

