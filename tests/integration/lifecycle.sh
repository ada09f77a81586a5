#!/bin/bash
# tests/integration/lifecycle.sh — rackd as a process: `rackd -n` checks
# the configuration, a bad config file is refused with FILE:LINE, SIGHUP
# reloads the config file (a new slot, api_open_reads) and survives a broken
# one, SIGTERM stops cleanly, a restart on the same state dir keeps queued and
# running jobs (with a "rackd restarted" event) and fails a job whose image
# left the store, and two rackd never share one state dir; rackd runs as
# its user with a root helper (or as root alone with user = root).
# Loopback only.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

CONF=$TMP/rackd.conf
# run_rackd OUT ARGS...: a short-lived rackd (bounded); status in $RC
run_rackd() {
	local out=$1
	shift
	timeout 10 "$RACKD" "$@" >"$out" 2>&1
	RC=$?
}

# ---- rackd -n, bad config files, the command line ------------------------
cd "$TMP" || exit 1
run_rackd "$TMP/n.out"  -n
check_eq "$RC" 0 "rackd -n with the built-in defaults"
check_eq "$(cat "$TMP/n.out")" "configuration OK" "rackd -n prints configuration OK"
[ ! -e "$TMP/var" ] && ok "rackd -n creates no state dir" || fail "rackd -n made ./var"

cat >"$CONF" <<EOF
# rackd test configuration
[rackd]
slots = usb1
api_open_reads = no
boot_timeout = 1h
EOF
run_rackd "$TMP/n.out" -n -c "$CONF"
check_eq "$RC:$(cat "$TMP/n.out")" "0:configuration OK" "rackd -n -c good.conf"

printf 'slots = usb1\n\nmax_body = lots\n' >"$TMP/bad.conf"
run_rackd "$TMP/n.out" -n -c "$TMP/bad.conf"
[ "$RC" -ne 0 ] && ok "rackd -n -c bad.conf exits non-zero ($RC)" || fail "rackd -n accepted a bad file"
grep -q "$TMP/bad.conf:3: max_body" "$TMP/n.out" && ok "bad value: FILE:LINE: what" || fail "bad value message: $(cat "$TMP/n.out")"
grep -q "configuration OK" "$TMP/n.out" && fail "bad file said configuration OK" || ok "no OK for a bad file"

# bad_conf NAME TEXT WANT WHAT: rackd -n refuses the file TEXT (printf
# escapes) with an error that starts "FILE:WANT" (a check).
bad_conf() {
	printf '%b' "$2" >"$TMP/$1.conf"
	run_rackd "$TMP/n.out" -n -c "$TMP/$1.conf"
	[ "$RC" -ne 0 ] && grep -q "$TMP/$1.conf:$3" "$TMP/n.out" && ok "$4" ||
		fail "$4: rc $RC: $(cat "$TMP/n.out")"
}
bad_conf bad2 '[rackd]\nlisten = 127.0.0.1:99999\n' '2: listen' "bad listen port: FILE:LINE"
bad_conf bad3 'verbose = yes\nwhat is this\n' '2: ' "syntax error: FILE:LINE"
bad_conf bad4 '[other]\nslots = a\n' '2: unknown section' "unknown section: FILE:LINE"
bad_conf bad5 '[rackd]\napi_token = short\n' '2: api_token' "a too short api_token: FILE:LINE"
run_rackd "$TMP/n.out" -n -c "$TMP/missing.conf"
[ "$RC" -ne 0 ] && grep -q "missing.conf" "$TMP/n.out" && ok "missing config file" || fail "missing file: rc $RC"

# without -n a bad file stops rackd before it starts anything
run_rackd "$TMP/n.out" -d -c "$TMP/bad.conf" --state-dir "$TMP/never" --listen "127.0.0.1:$(free_port)"
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q "bad.conf:3:" "$TMP/n.out" && ok "rackd refuses to start on a bad file" ||
	fail "start with a bad file: rc $RC: $(cat "$TMP/n.out")"
[ ! -e "$TMP/never" ] && ok "no state dir made for a bad config" || fail "state dir made for a bad config"
run_rackd "$TMP/n.out" --bogus
[ "$RC" -ne 0 ] && grep -q "unknown option" "$TMP/n.out" && ok "unknown command line option" || fail "--bogus: rc $RC"
run_rackd "$TMP/n.out" -n --listen nowhere
[ "$RC" -ne 0 ] && grep -q -- "--listen" "$TMP/n.out" && ok "bad --listen" || fail "bad --listen: rc $RC"
run_rackd "$TMP/n.out" --help
[ "$RC" -eq 0 ] && grep -q -- "--state-dir" "$TMP/n.out" && grep -q -- "--listen" "$TMP/n.out" && ok "--help" ||
	fail "--help: rc $RC"
cd "$TOP" || exit 1

# ---- SIGHUP: a new slot and api_open_reads from the file -------------------
rackd_start -c "$CONF" --max-body 4K
raw GET /api/v1/nodes
check_eq "$STATUS" 401 "reads need a token (api_open_reads = no)"
api GET /api/v1/nodes >/dev/null
check_jq '[.[].slot] == ["usb1"]' "slots from the config file"

cat >"$CONF" <<EOF
[rackd]
slots = usb1, usb2
api_open_reads = yes
boot_timeout = 1h
EOF
kill -HUP "$RACKD_PID"
has_usb2() { api GET /api/v1/nodes/usb2 >/dev/null; [ "$STATUS" = 200 ]; }
wait_for 50 has_usb2 && ok "SIGHUP: the new slot appears" || fail "SIGHUP: no usb2"
raw GET /api/v1/nodes
check_eq "$STATUS" 200 "SIGHUP: reads open without a token"
check_jq '[.[].slot] == ["usb1","usb2"]' "open read lists both slots"
raw GET /api/v1/jobs
check_eq "$STATUS" 200 "open read of jobs"
raw PATCH /api/v1/nodes/usb2 -d '{"label":"U2"}'
check_eq "$STATUS" 401 "api_open_reads does not open writes"
raw POST /api/v1/nodes/usb2/reimage -d '{"image":"x"}'
check_eq "$STATUS" 401 "nor reimage"
api PATCH /api/v1/nodes/usb2 -d '{"label":"U2"}' >/dev/null
check_eq "$STATUS" 200 "writes with the token"

# a broken file on SIGHUP: logged, the running configuration kept
printf '[rackd]\nslots = usb1, bad/slot\napi_open_reads = no\n' >"$CONF"
kill -HUP "$RACKD_PID"
reload_failed() { grep -q "reload failed" "$RACKD_LOG"; }
wait_for 50 reload_failed && ok "a broken file is refused on SIGHUP" || fail "no 'reload failed' in the log"
raw GET /api/v1/nodes
check_eq "$STATUS" 200 "the running configuration is kept"
kill -0 "$RACKD_PID" && ok "rackd survives a broken reload" || fail "rackd died on a broken reload"

# a change that needs a restart is said so, and the rest still applies
cat >"$CONF" <<EOF
[rackd]
slots = usb1, usb2, usb3
api_open_reads = no
boot_timeout = 1h
max_connections = 99
EOF
kill -HUP "$RACKD_PID"
closed() { raw GET /api/v1/nodes; [ "$STATUS" = 401 ]; }
wait_for 50 closed && ok "api_open_reads = no again closes reads" || fail "reads still open: $STATUS"
grep -q "max_connections changed; it takes effect at the next start" "$RACKD_LOG" &&
	ok "a start-only option is reported" || fail "no note about max_connections"

# api_token in the file replaces api.token on SIGHUP; without it, back again
NEWTOK=0123456789abcdef0123456789abcdef
echo "api_token = $NEWTOK" >>"$CONF"
kill -HUP "$RACKD_PID"
tok_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $1" \
	"$URL/api/v1/nodes")" = 200 ]; }
wait_for 50 tok_ok "$NEWTOK" && ok "SIGHUP: the configured api_token works" || fail "configured api_token refused"
tok_ok "$TOKEN" && fail "the old token still works" || ok "the old token is refused"
sed -i '/^api_token/d' "$CONF"
kill -HUP "$RACKD_PID"
wait_for 50 tok_ok "$TOKEN" && ok "SIGHUP: back to STATE_DIR/api.token" || fail "api.token not used again"
tok_ok "$NEWTOK" && fail "the removed api_token still works" || ok "the removed api_token is refused"

# ---- jobs across a restart -------------------------------------------------
head -c 300000 /dev/urandom >"$TMP/a.img"
head -c 200000 /dev/urandom >"$TMP/b.img"
"$RACKCTL" image import "$TMP/a.img" --name test:1 --store "$STATE/store" --chunk-size 64K -q >/dev/null &&
"$RACKCTL" image import "$TMP/b.img" --name test:2 --store "$STATE/store" --chunk-size 64K -q >/dev/null ||
	fail "rackctl image import"
kill -HUP "$RACKD_PID"
two() { api GET /api/v1/images/test >/dev/null; [ "$(printf '%s' "$BODY" | jq '.versions | length' 2>/dev/null)" = 2 ]; }
wait_for 50 two && ok "images indexed" || fail "images not indexed: $BODY"

api POST /api/v1/nodes/usb1/reimage -d '{"image":"test:1"}' >/dev/null
check_eq "$STATUS" 202 "queue a job on usb1"
J1=$(printf '%s' "$BODY" | jq .id)
api POST /api/v1/nodes/usb2/reimage -d '{"image":"test:1"}' >/dev/null
J2=$(printf '%s' "$BODY" | jq .id)
T2=$(job_token "$J2")
raw POST "/api/v1/agent/jobs/$J2/report" -H "Authorization: Bearer $T2" \
	-d '{"state":"streaming","bytes_done":65536,"bytes_fetched":65536,"rate":10}'
check_eq "$STATUS" 200 "usb2's job is streaming"
api POST /api/v1/nodes/usb3/reimage -d '{"image":"test:2"}' >/dev/null
J3=$(printf '%s' "$BODY" | jq .id)
OLD_TOKEN=$TOKEN

kill -TERM "$RACKD_PID"
wait_for 100 eval '! kill -0 "$RACKD_PID" 2>/dev/null' && ok "SIGTERM stops rackd" ||
	{ fail "rackd ignored SIGTERM for 10 s"; kill -9 "$RACKD_PID"; }
wait "$RACKD_PID"
check_eq "$?" 0 "rackd exits 0 on SIGTERM"
grep -q "stopped" "$RACKD_LOG" && ok "rackd logged its stop" || fail "no 'stopped' in the log"
# while rackd is down, test:2 leaves the store
rm -f "$STATE/store/manifests/test/2.json"

rackd_start -c "$CONF"
check_eq "$TOKEN" "$OLD_TOKEN" "the API token survives a restart"
api GET "/api/v1/jobs/$J1" >/dev/null
check_jq '.state == "queued"' "the queued job is still queued"
check_jq '.events[-1].message == "rackd restarted; the job goes on"' "with a 'rackd restarted' event"
api GET "/api/v1/jobs/$J2" >/dev/null
check_jq '.state == "streaming" and .bytes_done == 65536' "the streaming job goes on"
check_jq '.events[-1].message | test("rackd restarted")' "with its own restart event"
api GET "/api/v1/jobs/$J3" >/dev/null
check_jq '.state == "failed" and .reason == "image no longer on this rack"' "a job whose image left is failed with a reason"
api GET /api/v1/nodes/usb1 >/dev/null
check_jq ".state == \"queued\" and .job.id == $J1" "the node still shows its job"
api POST /api/v1/nodes/usb1/reimage -d '{"image":"test:1"}' >/dev/null
check_eq "$STATUS" 409 "still one active job per node after the restart"
T1=$(job_token "$J1")
raw POST "/api/v1/agent/jobs/$J1/report" -H "Authorization: Bearer $T1" -d '{"state":"streaming"}'
check_eq "$STATUS" 200 "the job's token still works after the restart"
api GET "/api/v1/jobs?state=queued" >/dev/null
check_jq 'length == 0' "no job left queued"

# two rackd never share a state dir
run_rackd "$TMP/two.out" -d --state-dir "$STATE" --listen "127.0.0.1:$(free_port)"
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q "in use by another rackd" "$TMP/two.out" &&
	ok "a second rackd on the same state dir is refused" || fail "second rackd: rc $RC: $(cat "$TMP/two.out")"
raw GET /healthz
check_eq "$STATUS" 200 "the first rackd is unharmed"
# nor one port
run_rackd "$TMP/port.out" -d --state-dir "$TMP/other" --listen "127.0.0.1:$PORT"
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q "cannot listen" "$TMP/port.out" &&
	ok "a busy port is a clean error" || fail "busy port: rc $RC: $(cat "$TMP/port.out")"

# privilege separation: rackd runs as its user, a helper keeps root
check_eq "$(ps -o user= -p "$RACKD_PID" | tr -d ' ')" rackd "rackd runs as user rackd"
helper=$(pgrep -P "$RACKD_PID" -x rackd-priv)
check_eq "$(ps -o user= -p "$helper" 2>/dev/null | tr -d ' ')" root "its helper (pid ${helper:-none}) keeps root"
check_eq "$(stat -c %U "$STATE" "$STATE/rackd.db" "$STATE/store" | sort -u)" rackd "the state dir is the user's"
grep -q "cannot set\|helper is gone\|refused" "$RACKD_LOG" && fail "the helper refused something: $(grep -m1 "refused" "$RACKD_LOG")" ||
	ok "nothing refused by the helper"
rackd_stop && ok "SIGTERM stops rackd again" || fail "rackd did not stop"
sleep 0.2
kill -0 "$helper" 2>/dev/null && fail "the helper outlived rackd" || ok "the helper went with rackd"
# A rackd whose helper dies stops (its supervisor starts it again).
STATE=$TMP/helperless PORT='' rackd_start
helper=$(pgrep -P "$RACKD_PID" -x rackd-priv)
kill -9 "$helper"
for ((i = 0; i < 50; i++)); do kill -0 "$RACKD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RACKD_PID" 2>/dev/null && fail "rackd runs on without its helper" || ok "rackd stops when its helper dies"
grep -q "helper (pid $helper) is gone" "$RACKD_LOG" && ok "and says why" || fail "no word of the helper in the log"
run_rackd "$TMP/nouser.out" -d --state-dir "$TMP/nouser" --listen "127.0.0.1:$(free_port)" --user nosuchuser-rackd
[ "$RC" -ne 0 ] && grep -q "no such user.*useradd" "$TMP/nouser.out" &&
	ok "a user that does not exist: a clear error" || fail "no such user: rc $RC: $(cat "$TMP/nouser.out")"
STATE=$TMP/asroot PORT='' rackd_start --user root
check_eq "$(ps -o user= -p "$RACKD_PID" | tr -d ' ')" root "with user = root, rackd stays root"
[ -z "$(pgrep -P "$RACKD_PID" -x rackd-priv)" ] && ok "and has no helper" || fail "a helper with user = root"
rackd_stop
finish
