#!/bin/bash
# tests/integration/pull_subscribe.sh — racks that pull new versions by
# themselves (image_subscribe): rackctl publish writes the origin's
# manifests/NAME/index.json, nginx serves the origin on loopback, and a
# rack subscribed to app:* with image_subscribe_interval = 10 has app:1
# soon after it is published, without any POST, then follows to app:2; a
# rack whose image_subscribe_window excludes now pulls nothing; a rack
# with pull_rate = 200K takes at least about size/rate for a 1.5 MiB image.
# Loopback only; nginx and the racks are this test's, killed on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"
command -v nginx >/dev/null || { echo "nginx is needed (make deps)"; exit 1; }

central app:1 app:2 other:1
ORIGIN=$TMP/origin
publish() {	# REF: rackctl publish to $ORIGIN; sets RC
	timeout -k 5 "$RUN_MAX" "$RACKCTL" publish "$1" "$ORIGIN" --store "$C" --json \
		>"$TMP/publish.json" 2>"$TMP/publish.err"
	RC=$?
}

P1=$(free_port)
D=$TMP/nginx
mkdir -p "$D/logs" "$D/tmp" "$ORIGIN"
cat >"$D/nginx.conf" <<EOF
user root;
master_process off;
daemon off;
pid $D/nginx.pid;
error_log $D/logs/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $D/tmp/body;
	proxy_temp_path $D/tmp/proxy;
	fastcgi_temp_path $D/tmp/fastcgi;
	uwsgi_temp_path $D/tmp/uwsgi;
	scgi_temp_path $D/tmp/scgi;
	server {
		listen 127.0.0.1:$P1;
		root $ORIGIN;
	}
}
EOF
nginx -p "$D" -c "$D/nginx.conf" 2>>"$D/logs/start.log" &
on_exit "kill -9 $!"
wait_http "http://127.0.0.1:$P1/" || { echo "nginx did not start"; cat "$D/logs/"*; exit 1; }
SRC=http://127.0.0.1:$P1

# A window of one hour that starts two hours from now: never now.
H=$((10#$(date +%H)))
NOWIN=$(printf '%02d:00-%02d:00' $(((H + 2) % 24)) $(((H + 3) % 24)))
start_rack 1 --image-sources "$SRC" --image-subscribe 'app:*' --image-subscribe-interval 10
start_rack 2 --image-sources "$SRC" --image-subscribe app --image-subscribe-interval 10 \
	--image-subscribe-window "$NOWIN"
start_rack 3 --image-sources "$SRC" --image-subscribe other:1 --image-subscribe-interval 10 \
	--pull-rate 200K

has() {	# I NAME VERSION: rack I lists NAME:VERSION
	on "$1" GET "/api/v1/images/$2"
	[ "$STATUS" = 200 ] && jq -e --arg v "$3" '.versions | map(.version) | index($v) != null' \
		<<<"$BODY" >/dev/null
}
wait_has() {	# I NAME VERSION SECONDS
	local k
	for ((k = 0; k < $4 * 4; k++)); do
		has "$1" "$2" "$3" && return 0
		sleep 0.25
	done
	return 1
}

# ---- the index -----------------------------------------------------------------------------
publish app:1
check_eq "$RC" 0 "rackctl publish app:1"
check_eq "$(jq -c . "$ORIGIN/manifests/app/index.json")" '{"name":"app","versions":["1"]}' \
	"publish wrote manifests/app/index.json naming app:1"
[ -z "$(ls -A "$ORIGIN/.tmp")" ] && ok "no temporary file left on the origin" || fail "origin .tmp"

# ---- subscribed: pulled without a POST -------------------------------------------------------
T0=$(date +%s)
wait_has 1 app 1 30 && ok "rack 1 has app:1 $(($(date +%s) - T0)) s after it was published, no POST" ||
	fail "rack 1 did not pull app:1 by itself: $(tail -n 5 "$TMP/rack1.log")"
on 1 GET /api/v1/pulls
check_jq 'length == 1 and .[0].image == "app:1" and .[0].state == "done"' \
	"GET /api/v1/pulls: the subscription's pull of app:1"

publish app:2
check_eq "$(jq -c .versions "$ORIGIN/manifests/app/index.json")" '["1","2"]' "the index names 1 and 2"
wait_has 1 app 2 30 && ok "rack 1 follows to app:2" || fail "rack 1 did not pull app:2"
on 1 GET /api/v1/pulls
check_jq '[.[] | .image] | sort == ["app:1", "app:2"]' "one pull each, app:1 was not pulled again"

# ---- a window that excludes now ------------------------------------------------------------
# Rack 2 has read the index several times by now (every 10 s since v1).
has 2 app 1 && fail "rack 2 pulled app:1 outside its window $NOWIN" ||
	ok "rack 2 pulled nothing outside its window $NOWIN"
on 2 GET /api/v1/pulls
check_jq 'length == 0' "rack 2 started no pull"

# ---- pull_rate -------------------------------------------------------------------------------
BYTES=$(total_bytes "$MO")
publish other:1
check_eq "$RC" 0 "rackctl publish other:1"
wait_has 3 other 1 60 && ok "rack 3 pulled other:1 by itself" || fail "rack 3 did not pull other:1"
on 3 GET /api/v1/pulls
SECS=$(jq '.[0].seconds' <<<"$BODY")
LOW=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / (200 * 1024) / 2 }')
awk -v s="$SECS" -v l="$LOW" 'BEGIN { exit !(s >= l) }' &&
	ok "pull_rate 200K: $BYTES bytes in $SECS s (at least $LOW s)" ||
	fail "pull_rate 200K: $BYTES bytes in $SECS s, less than $LOW s"

# ---- a bad option ----------------------------------------------------------------------------
for bad in "--image-subscribe-window=25:00-01:00" "--image-subscribe=a*:1" "--pull-rate=fast" \
	"--image-subscribe-interval=5"; do
	"$RACKD" -n "$bad" >/dev/null 2>"$TMP/bad.err" && fail "rackd took $bad" ||
		ok "rackd refuses $bad: $(head -n 1 "$TMP/bad.err")"
done
check_eq "$(find "${STATES[2]}/store/chunks" -type f 2>/dev/null | wc -l)" 0 "rack 2 stored no chunk"
check_racks_end 1 3
finish
