#!/bin/bash
# tests/integration/push_sign.sh — signed images pushed to real rackd on
# loopback: rackctl keygen (never replacing a key, mode 0600), rackd -n
# with key files and base64 keys; a rack with trusted_keys refuses
# unsigned, untrusted and altered manifests (403) and takes a signed one,
# shown signed; trusted_keys set later (SIGHUP) on a rack holding an
# unsigned image: not installed (403 for a new reimage, a queued job
# fails). Loopback only.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central sig:1 sig:2
start_rack 1 --slots usb1

# ---- signatures ------------------------------------------------------------------------
"$RACKCTL" keygen --out "$TMP/key" >/dev/null && ok "rackctl keygen" || fail "rackctl keygen"
"$RACKCTL" keygen --out "$TMP/key2" >/dev/null
"$RACKCTL" keygen --out "$TMP/key" >/dev/null 2>&1 && fail "keygen replaced a key" || ok "keygen never replaces a key"
check_eq "$(stat -c %a "$TMP/key")" 600 "the secret key is mode 0600"
"$RACKD" --trusted-keys "$TMP/key.pub,$(cat "$TMP/key2.pub")" -n >/dev/null &&
	ok "rackd -n takes a key file and a base64 key" || fail "rackd -n refused good keys"
"$RACKD" --trusted-keys "$TMP/nope.pub" -n >/dev/null 2>&1 && fail "rackd -n took a missing key file" ||
	ok "rackd -n refuses a missing key file"
start_rack 4 --trusted-keys "$TMP/key.pub"
export RACKD_TOKEN=${TOKENS[4]}
push sig:1 "$(url 4)"
check_eq "$RC" 1 "an unsigned image to a rack with trusted keys: refused"
grep -q "not signed" <(pj '.racks[0].error') && ok "the refusal says it is not signed" ||
	fail "the refusal: $(pj '.racks[0].error')"
"$RACKCTL" image sign sig:1 --key "$TMP/key2" --store "$C" >/dev/null || fail "rackctl image sign"
push sig:1 "$(url 4)"
check_eq "$RC" 1 "signed by an untrusted key: refused"
grep -q "not trusted" <(pj '.racks[0].error') && ok "the refusal names the untrusted key" ||
	fail "the refusal: $(pj '.racks[0].error')"
"$RACKCTL" image sign sig:1 --key "$TMP/key" --store "$C" >/dev/null || fail "rackctl image sign"
"$RACKCTL" image show sig:1 --store "$C" --json >"$TMP/sig1.json"
sed 's/"created": "[^"]*"/"created": "2001-01-01T00:00:00Z"/' "$TMP/sig1.json" >"$TMP/altered.json"
on 4 POST /api/v1/images/sig/versions/1 --data-binary "@$TMP/altered.json"
check_status 403 "an altered signed manifest"
check_jq '.error | test("does not match")' "the refusal says the signature does not match"
push sig:1 "$(url 4)"
check_eq "$RC" 0 "a signed image to a rack with trusted keys: taken"
on 4 GET /api/v1/images/sig
check_jq '.versions[0].signed == true' "the API shows it signed"
RACKD_TOKEN=${TOKENS[1]} push sig:1 "$(url 1)"
check_eq "$RC" 0 "a rack without trusted keys takes a signed image too"
unset RACKD_TOKEN

# ---- trusted_keys set on a rack that already holds unsigned images --------------------------
# Rack 6 takes sig:2 (unsigned) and sig:1 (signed); a job on sig:2 is queued.
# trusted_keys is then set (SIGHUP): sig:2 is no longer installed — a new
# reimage is refused (403), and the queued job fails when its agent calls in.
echo "# rack 6 of the push test" >"$TMP/rack6.conf"
start_rack 6 --config "$TMP/rack6.conf" --slots usb1,usb2
RACKD_TOKEN=${TOKENS[6]} push sig:2 "$(url 6)"
check_eq "$RC" 0 "rack 6 without trusted keys takes the unsigned sig:2"
RACKD_TOKEN=${TOKENS[6]} push sig:1 "$(url 6)"
on 6 POST /api/v1/nodes/usb2/reimage -d '{"image": "sig:2"}'
check_status 202 "rack 6: a job on the unsigned sig:2"
JOB6=$(jq -r .id <<<"$BODY")
echo "trusted_keys = $TMP/key.pub" >>"$TMP/rack6.conf"
kill -HUP "${PIDS[6]}"
for ((i = 0; i < 100; i++)); do
	grep -q "reload: trusted_keys changed" "$TMP/rack6.log" && break
	sleep 0.1
done
on 6 POST /api/v1/nodes/usb1/reimage -d '{"image": "sig:2"}'
check_status 403 "trusted_keys set since: a reimage with the unsigned sig:2 is refused"
check_jq '.error | test("not signed by a trusted key")' "the refusal says why"
on 6 POST /api/v1/nodes/usb1/reimage -d '{"image": "sig:1"}'
check_status 202 "a reimage with the signed sig:1 is taken"
TOK6=$(sqlite3 -cmd '.timeout 2000' "${STATES[6]}/rackd.db" "select token from jobs where id=$JOB6")
out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOK6" "$(url 6)/api/v1/agent/jobs/$JOB6")
check_eq "${out##*$'\n'}" 403 "the job queued before: its agent is refused the manifest"
on 6 GET "/api/v1/jobs/$JOB6"
check_jq '.state == "failed" and (.reason | test("trusted"))' "the job queued before has failed, saying why"


check_racks_end 1 4 6
finish
