#!/bin/bash
# A reimage survives its link going down: rack-agent in a node namespace
# writes a disk over a veth "USB link" limited to 10 MB/s; mid-stream the
# link is set down for 5 s. The job still ends done and the disk holds
# exactly the image.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }

ns_add rack
ns_add n1
veth_link rack usb1 n1 || { fail "veth"; finish; }
RACKD_NS=rack rackd_start --links 'usb*'
tc -n "$NS-rack" qdisc add dev usb1 root tbf rate 80mbit burst 64kb latency 100ms

# 48 MiB that does not compress: the stream takes several seconds.
head -c 48M /dev/urandom >"$TMP/image.img"
"$RACKCTL" image import "$TMP/image.img" --name flaky:1 --level 1 \
	--store "$STATE/store" >/dev/null || { fail "import"; finish; }
kill -HUP "$RACKD_PID"
wait_image flaky 1
got=$(dhcp n1)
board=$(api GET /api/v1/nodes/usb1 | jq -r .link.board_addr)
check_eq "${got%% *}" "$(api GET /api/v1/nodes/usb1 | jq -r .link.node_addr)" "n1 has its address"

api POST /api/v1/nodes/usb1/reimage -d '{"image":"flaky:1"}' >"$TMP/job.json"
check_status 202 "reimage queued"
job=$(jq -r .id "$TMP/job.json")
token=$(sqlite3 "$STATE/rackd.db" "select token from jobs where id=$job")
truncate -s 64M "$TMP/disk.img"
in_ns n1 "$BUILD_DIR/rack-agent" --url "http://$board:$PORT" --job "$job" \
	--token "$token" --disk "dev:$TMP/disk.img" --no-reboot >"$TMP/agent.log" 2>&1 &
agent=$!
on_exit "kill -9 $agent"

for ((i = 0; i < 100; i++)); do
	[ "$(api GET "/api/v1/jobs/$job" | jq -r .state)" = streaming ] && break
	sleep 0.1
done
sleep 1
before=$(api GET "/api/v1/jobs/$job" | jq .bytes_fetched)
ip -n "$NS-rack" link set usb1 down
ok "link down mid-stream ($before bytes fetched so far)"
sleep 5
ip -n "$NS-rack" link set usb1 up
ok "link up again"

rc=0
for ((i = 0; i < 180; i++)); do
	kill -0 "$agent" 2>/dev/null || break
	sleep 1
done
wait "$agent" || rc=$?
check_eq "$rc" 0 "the agent finished"
check_eq "$(api GET "/api/v1/jobs/$job" | jq -r .state)" done "the job is done"
cmp -s -n "$(stat -c %s "$TMP/image.img")" "$TMP/image.img" "$TMP/disk.img" &&
	ok "the disk holds exactly the image" || fail "the disk differs from the image"
[ "$before" -lt $((48 << 20)) ] && ok "the link went down before the stream ended" ||
	fail "the stream had ended before the link went down"
api GET "/api/v1/jobs/$job" | jq -r '.events[] | "    \(.at) \(.state) \(.message)"'
grep -iE "retry|resum|error" "$TMP/agent.log" | head -5
finish
