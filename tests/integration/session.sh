#!/bin/bash
# tests/integration/session.sh — the dashboard's sign-in on a real rackd on
# loopback, driven by curl: the generated password file, a wrong password,
# the session cookie's attributes, reads and writes with the cookie, the
# CSRF check (none, wrong, another session's), Bearer tokens unchanged,
# sign-out (needs the CSRF token; the cookie is dead after, its event
# streams end, others' go on), expiry (the session's row made old: its
# event stream ends at the next heartbeat), the bound on live sessions,
# the failed sign-in limit (429 with Retry-After, even for the right
# password), bad bodies, and a password changed by SIGHUP signing every
# session out.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
for c in curl jq sqlite3; do
	command -v "$c" >/dev/null || { echo "$c is needed"; exit 1; }
done

CONF=$TMP/rackd.conf
: >"$CONF"
rackd_start -c "$CONF" --slots usb1,usb2
# web METHOD PATH JAR [curl args]: as a browser would, with a cookie jar
# (read and written); headers to $H, status to $STATUS, body to $BODY.
web() {
	local m=$1 p=$2 jar=$3
	shift 3
	local out
	out=$(curl -s -X "$m" -b "$jar" -c "$jar" -D "$H" -w '\n%{http_code}' \
		--max-time 10 "$@" "$URL$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
# no_session JAR CSRF WHO: the cookie in JAR reads nothing, writes nothing
# even with its CSRF token, and GET /api/v1/session says signed out.
no_session() {
	web GET /api/v1/nodes "$1"
	check_status 401 "$3 reads nothing"
	web PATCH /api/v1/nodes/usb1 "$1" -d '{"label":"x"}' -H "X-CSRF-Token: $2"
	check_status 401 "$3 writes nothing"
	web GET /api/v1/session "$1"
	check_jq '.signed_in == false' "$3 is not signed in"
}
signin() {	# JAR PASSWORD: sets CSRF
	web POST /api/v1/session "$1" -d "$(jq -cn --arg p "$2" '{password: $p}')"
	CSRF=$(printf '%s' "$BODY" | jq -r '.csrf // empty' 2>/dev/null)
}

# ---- the password ----------------------------------------------------
PWFILE=$STATE/dashboard.password
[ -f "$PWFILE" ] && ok "dashboard.password made at first start" || fail "no $PWFILE"
check_eq "$(stat -c %a "$PWFILE")" 600 "dashboard.password has mode 0600"
PW=$(cat "$PWFILE")
[ "${#PW}" -ge 16 ] && ok "the generated password is long enough" || fail "password '$PW' too short"

J=$TMP/jar1
signin "$J" "not the password"
check_status 401 "a wrong password is refused"
check_eq "$(hdr Set-Cookie)" "" "no cookie for a wrong password"
signin "$J" "${PW:0:10}"
check_status 401 "a prefix of the password is refused"

web GET /api/v1/session "$J"
check_status 200 "GET /api/v1/session before signing in"
check_jq '.signed_in == false and (has("csrf") | not)' "not signed in, no CSRF token"

# ---- sign in -----------------------------------------------------------
signin "$J" "$PW"
check_status 200 "the right password signs in"
COOKIE_HDR=$(hdr Set-Cookie)
case "$COOKIE_HDR" in rackd_session=*) ok "Set-Cookie rackd_session" ;; *) fail "Set-Cookie: '$COOKIE_HDR'" ;; esac
for attr in HttpOnly SameSite=Strict Path=/ Max-Age=43200; do
	case "$COOKIE_HDR" in *"; $attr"*) ok "cookie has $attr" ;; *) fail "cookie lacks $attr: $COOKIE_HDR" ;; esac
done
case "$COOKIE_HDR" in *Secure*) fail "Secure on a plain HTTP cookie" ;; *) ok "no Secure (no TLS)" ;; esac
check_jq '.signed_in == true and (.csrf | test("^[0-9a-f]{64}$")) and (.expires | type == "string")' "the answer has the CSRF token and the expiry"
COOKIE=$(printf '%s' "$COOKIE_HDR" | sed 's/^rackd_session=\([^;]*\).*/\1/')
check_eq "$(sql "SELECT count(*) FROM sessions WHERE id = '$COOKIE'")" 0 "the cookie value is not stored"
check_eq "$(sql "SELECT count(*) FROM sessions")" 1 "one session row (its hash)"

web GET /api/v1/session "$J"
check_jq ".signed_in == true and .csrf == \"$CSRF\"" "GET /api/v1/session tells the CSRF token"

# ---- reads and writes with the cookie -----------------------------------
web GET /api/v1/nodes "$J"
check_status 200 "a read with the session cookie"
web GET /api/v1/nodes/usb1/links "$J"
check_status 200 "the link history with the session cookie"
check_jq 'type == "array"' "the link history is an array"
curl -s -b "$J" -o "$TMP/ev" -D "$H" --max-time 1 "$URL/api/v1/events"
check_eq "$(head -n1 "$H" | cut -d' ' -f2)" 200 "the event stream with the session cookie"

web PATCH /api/v1/nodes/usb1 "$J" -d '{"label":"U1"}'
check_status 403 "a write with the cookie but no CSRF token"
check_jq '.error | test("X-CSRF-Token")' "the 403 names the header"
last=${CSRF:63:1}
web PATCH /api/v1/nodes/usb1 "$J" -d '{"label":"U1"}' -H "X-CSRF-Token: ${CSRF:0:63}$([ "$last" = 0 ] && echo 1 || echo 0)"
check_status 403 "a write with a wrong CSRF token"
web PATCH /api/v1/nodes/usb1 "$J" -d '{"label":"U1"}' -H "X-CSRF-Token: "
check_status 403 "a write with an empty CSRF token"
web PATCH /api/v1/nodes/usb1 "$J" -d '{"label":"U1"}' -H "X-CSRF-Token: $CSRF"
check_status 200 "a write with the cookie and its CSRF token"
check_jq '.label == "U1"' "the write took"

# A second session: its CSRF token does not serve the first.
J2=$TMP/jar2
signin "$J2" "$PW"
CSRF2=$CSRF
check_status 200 "a second sign-in"
web PATCH /api/v1/nodes/usb1 "$J2" -d '{"label":"U2"}' -H "X-CSRF-Token: $(jq -r '.csrf' <<<"$(curl -s -b "$J" "$URL/api/v1/session")")"
check_status 403 "another session's CSRF token is refused"

# Bearer tokens work as before, with no CSRF token.
api PATCH /api/v1/nodes/usb2 -d '{"label":"B2"}' >/dev/null
check_status 200 "a Bearer write needs no CSRF token"
api GET /api/v1/nodes >/dev/null
check_status 200 "a Bearer read"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" \
	-b "$J" -X PATCH -d '{"label":"x"}' "$URL/api/v1/nodes/usb1")
check_eq "$STATUS" 401 "a wrong Bearer token is refused even with a cookie"

# A made-up cookie is no session.
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --cookie "rackd_session=$(printf '%064d' 0)" \
	"$URL/api/v1/nodes")
check_eq "$STATUS" 401 "a made-up cookie is refused"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --cookie "rackd_session=../../x" \
	"$URL/api/v1/nodes")
check_eq "$STATUS" 401 "a malformed cookie is refused"

# ---- sign out ----------------------------------------------------------
# Event streams open with this session, another session and a token.
curl -s -N -b "$J" --max-time 30 "$URL/api/v1/events" >"$TMP/ev1" 2>/dev/null &
EV1=$!
curl -s -N -b "$J2" --max-time 30 "$URL/api/v1/events" >"$TMP/ev2" 2>/dev/null &
EV2=$!
curl -s -N -H "Authorization: Bearer $TOKEN" -b "$J" --max-time 30 "$URL/api/v1/events" >"$TMP/ev3" 2>/dev/null &
EV3=$!
on_exit "kill $EV1 $EV2 $EV3"
sleep 0.5
web DELETE /api/v1/session "$J"
check_status 403 "sign-out without the CSRF token"
web GET /api/v1/nodes "$J"
check_status 200 "still signed in after a refused sign-out"
cp "$J" "$TMP/jar1.old"
web DELETE /api/v1/session "$J" -H "X-CSRF-Token: $(jq -r '.csrf' <<<"$(curl -s -b "$J" "$URL/api/v1/session")")"
check_status 200 "sign-out"
case "$(hdr Set-Cookie)" in rackd_session=\;*Max-Age=0*) ok "sign-out clears the cookie" ;; *) fail "sign-out Set-Cookie: $(hdr Set-Cookie)" ;; esac
for ((i = 0; i < 50; i++)); do kill -0 "$EV1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EV1" 2>/dev/null && fail "the signed-out session's event stream goes on" ||
	ok "sign-out ends the session's event stream"
kill -0 "$EV2" 2>/dev/null && ok "another session's event stream goes on" ||
	fail "another session's event stream ended"
kill -0 "$EV3" 2>/dev/null && ok "a token's event stream goes on" ||
	fail "a token's event stream ended"
grep -q '^retry:' "$TMP/ev1" && ok "the ended stream had started" || fail "no stream at all: $(head -c 200 "$TMP/ev1")"
kill "$EV2" "$EV3" 2>/dev/null
no_session "$TMP/jar1.old" "$CSRF" "the old cookie after sign-out"
web DELETE /api/v1/session "$TMP/jar1.old"
check_status 200 "signing out twice is fine"
web GET /api/v1/nodes "$J2"
check_status 200 "the other session lives on"

# ---- expiry --------------------------------------------------------------
curl -s -N -b "$J2" --max-time 40 "$URL/api/v1/events" >/dev/null 2>&1 &
EV4=$!
on_exit "kill $EV4"
sleep 0.5
sql "UPDATE sessions SET expires = $(( $(date +%s) * 1000 - 1000 ))"
no_session "$J2" "$CSRF2" "an expired session"
# Its event stream ends at the next heartbeat (every 15 s).
for ((i = 0; i < 200; i++)); do kill -0 "$EV4" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EV4" 2>/dev/null && fail "the expired session's event stream goes on after 20 s" ||
	ok "the expired session's event stream ended (after $((i / 10)) s)"

# ---- bad bodies ------------------------------------------------------------
J3=$TMP/jar3
web POST /api/v1/session "$J3" -d 'not json'
check_status 400 "sign-in with a body that is not JSON"
web POST /api/v1/session "$J3" -d '{"password": 5}'
check_status 400 "sign-in with a password that is not a string"
web POST /api/v1/session "$J3" -d "{\"password\": \"$PW\", \"extra\": 1}"
check_status 400 "sign-in with an unknown field"
web POST /api/v1/session "$J3"
check_status 400 "sign-in with no body"
web PUT /api/v1/session "$J3"
check_status 405 "PUT /api/v1/session"

# ---- at most SESSIONS_MAX (64) live sessions -------------------------------
for ((i = 0; i < 70; i++)); do
	curl -s -o /dev/null -X POST -d "{\"password\":\"$PW\"}" "$URL/api/v1/session"
done
n=$(sql "SELECT count(*) FROM sessions")
[ "$n" -le 64 ] && [ "$n" -ge 60 ] && ok "live sessions bounded ($n)" || fail "$n sessions after 70 sign-ins"
signin "$J3" "$PW"
check_status 200 "signing in still works at the bound"
web GET /api/v1/nodes "$J3"
check_status 200 "the newest session works"

# ---- the failed sign-in limit -------------------------------------------------
for ((i = 0; i < 5; i++)); do signin "$TMP/jar4" "wrong $i"; done
check_status 401 "five wrong passwords: 401"
signin "$TMP/jar4" "wrong again"
check_status 429 "the sixth wrong password within a minute: 429"
ra=$(hdr Retry-After)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ] && ok "Retry-After $ra" || fail "Retry-After '$ra'"
signin "$TMP/jar4" "$PW"
check_status 429 "while blocked, even the right password is not tried"

# ---- a new password by SIGHUP signs everyone out --------------------------------
echo "dashboard_password = a new password for the rack" >"$CONF"
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -b "$J3" "$URL/api/v1/nodes")" = 401 ] && break
	sleep 0.1
done
web GET /api/v1/nodes "$J3"
check_status 401 "a changed password signs every session out"
echo "dashboard_password = short" >"$CONF"
out=$(timeout 10 "$RACKD" -d -c "$CONF" --state-dir "$TMP/state2" --listen "127.0.0.1:$(free_port)" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [[ $out == *dashboard_password*shorter* ]]; then
	ok "rackd refuses a too short dashboard_password"
else
	fail "rackd with dashboard_password = short: status $rc, $out"
fi
"$RACKD" -n --session-ttl 5s >/dev/null 2>&1 && fail "rackd -n takes session_ttl 5s" ||
	ok "rackd -n refuses a session_ttl under a minute"

finish
