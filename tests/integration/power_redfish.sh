#!/bin/bash
# The redfish power method against a test BMC (redfish_bmc.py: HTTPS,
# Basic auth, a ComputerSystem that checks each request against the
# Redfish schema) in a namespace of its own, called directly through
# build/tests/power_run: status, on, off, cycle, boot_net and boot_disk
# change the simulated system as asked; the certificate is verified with
# ca_file, refused with a wrong CA, accepted with the right pin and
# refused with a wrong one; a wrong password, a BMC that offers other
# ResetTypes and one that accepts TCP but never answers give clear errors.
source "$(dirname "$0")/../lib.sh"

RUN=$BUILD_DIR/tests/power_run
BMC_PY=$TOP/tests/integration/redfish_bmc.py
[ -x "$RUN" ] || { echo "no $RUN (make all)"; exit 1; }
ADDR=10.213.77.5
ns_add bmc
ip -n "$NS-bmc" addr add "$ADDR/32" dev lo || { echo "no address"; exit 1; }

# Certificates: a CA, the BMC's certificate for $ADDR signed by it, and
# another CA and key that have nothing to do with the BMC.
cd "$TMP" || exit 1
ossl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $1 failed"; exit 1; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
	-subj /CN=test-bmc-ca
ossl req -newkey rsa:2048 -nodes -keyout bmc.key -out bmc.csr \
	-subj /CN=$ADDR
printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\n' "$ADDR" >ext.cnf
ossl x509 -req -in bmc.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out bmc.pem -days 2 -extfile ext.cnf
ossl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem \
	-days 2 -subj /CN=other-ca
pin_of() {	# KEY: sha256//BASE64 of its public key
	echo "sha256//$(openssl pkey -in "$1" -pubout -outform der 2>/dev/null |
		openssl dgst -sha256 -binary | base64)"
}
PIN=$(pin_of bmc.key)
WRONG_PIN=$(pin_of other.key)

start_bmc() {	# PORT NAME [options]: a BMC on $ADDR:PORT
	local port=$1 name=$2 i
	shift 2
	in_ns bmc python3 "$BMC_PY" "$ADDR" "$port" bmc.pem bmc.key \
		"$name.log" "$name.json" "$@" >"$name.out" 2>&1 &
	on_exit "kill $!"
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$name.out" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "BMC $name did not start"; cat "$name.out"; exit 1
}
start_bmc 443 bmc
start_bmc 8443 other --resets On,GracefulShutdown,PowerCycle \
	--boots None,Pxe,Cd --no-odata-etag
# A BMC that accepts TCP (the kernel's backlog) and never says a word.
: >silent.out
in_ns bmc python3 -c '
import socket, sys, time
s = socket.socket(); s.bind((sys.argv[1], 9443)); s.listen(8)
print("ready", flush=True); time.sleep(120)' "$ADDR" >silent.out 2>&1 &
on_exit "kill $!"
wait_for 50 grep -q ready silent.out || { echo "silent BMC"; exit 1; }

settings() {	# FILE JSON
	echo "$2" >"$1"
}
GOOD='"url": "https://'$ADDR'", "user": "admin", "password": "s3cret-pw"'
settings ca.json "{\"method\": \"redfish\", $GOOD, \"ca_file\": \"$TMP/ca.pem\"}"

run() {	# SETTINGS OP: power_run's line in OUT, its exit status in RC
	OUT=$(in_ns bmc "$RUN" redfish "$1" "$2" 2>&1)
	RC=$?
}
expect() {	# WHAT WANT_RC PATTERN
	if [ "$RC" = "$2" ] && [[ $OUT == $3 ]]; then
		ok "$1: $OUT"
	else
		fail "$1: rc $RC, '$OUT', want rc $2 and '$3'"
	fi
}
sim() { jq -r "$1" "$TMP/$2.json"; }	# FILTER [BMC]: the simulated system

run ca.json status
expect "status (ca_file verifies)" 0 "ok state=off"
run ca.json on
expect "on" 0 ok
check_eq "$(sim .PowerState bmc)" On "the system is on"
run ca.json status
expect "status after on" 0 "ok state=on"
run ca.json cycle
expect "cycle" 0 ok
check_eq "$(sim '.resets[-1]' bmc)" ForceRestart "cycle is ForceRestart"
check_eq "$(sim .cycles bmc)" 1 "one restart"
run ca.json off
expect "off" 0 ok
check_eq "$(sim .PowerState bmc)" Off "the system is off"
check_eq "$(sim '.resets | join(",")' bmc)" On,ForceRestart,ForceOff \
	"the resets asked"
run ca.json off
expect "off when off" 0 ok
check_eq "$(sim '.resets | length' bmc)" 3 "no reset when already off"
run ca.json boot_net
expect "boot_net" 0 ok
check_eq "$(sim '.Boot.BootSourceOverrideTarget + "/" +
	.Boot.BootSourceOverrideEnabled' bmc)" Pxe/Once "next boot Pxe, once"
run ca.json boot_disk
expect "boot_disk" 0 ok
check_eq "$(sim '.Boot.BootSourceOverrideTarget + "/" +
	.Boot.BootSourceOverrideEnabled' bmc)" Hdd/Continuous "boot Hdd from now on"
# Each PATCH came with the system's ETag (the BMC answers 428/412 if not).
check_eq "$(jq -s '[.[] | select(.method == "PATCH" and .status == 204)] |
	length' bmc.log)" 2 "two PATCHes taken"
check_eq "$(jq -s '[.[] | select(.status >= 400)] | length' bmc.log)" 0 \
	"no request refused by the BMC's schema checks"
check_eq "$(jq -r -s '[.[] | select(.method == "POST") | .body] | .[0]' \
	bmc.log)" '{"ResetType": "On"}' "the Reset body"

# The system path given, the system CAs (which do not know the test CA).
settings sys.json "{\"method\": \"redfish\", $GOOD,
	\"ca_file\": \"$TMP/ca.pem\", \"system\": \"/redfish/v1/Systems/1\"}"
run sys.json status
expect "system given" 0 "ok state=off"
settings nosys.json "{\"method\": \"redfish\", $GOOD,
	\"ca_file\": \"$TMP/ca.pem\", \"system\": \"/redfish/v1/Systems/9\"}"
run nosys.json status
expect "a system that is not there" 1 "error: Redfish https://$ADDR: /redfish/v1/Systems/9 not found (404)*"
settings sysca.json "{\"method\": \"redfish\", $GOOD}"
run sysca.json status
expect "system CAs only" 1 "error: Redfish https://$ADDR: certificate not trusted*"
settings wrongca.json "{\"method\": \"redfish\", $GOOD, \"ca_file\": \"$TMP/other.pem\"}"
run wrongca.json on
expect "a wrong CA" 1 "error: Redfish https://$ADDR: certificate not trusted*"
settings pin.json "{\"method\": \"redfish\", $GOOD, \"pin\": \"$PIN\"}"
run pin.json status
expect "the right pin" 0 "ok state=off"
settings wrongpin.json "{\"method\": \"redfish\", $GOOD, \"pin\": \"$WRONG_PIN\"}"
run wrongpin.json status
expect "a wrong pin" 1 "error: Redfish https://$ADDR: certificate's public key does not match pin"
settings insecure.json "{\"method\": \"redfish\", $GOOD, \"insecure\": \"yes\"}"
run insecure.json status
expect "insecure" 0 "ok state=off"
settings badpw.json "{\"method\": \"redfish\", \"url\": \"https://$ADDR\",
	\"user\": \"admin\", \"password\": \"Wr0ngPass\", \"ca_file\": \"$TMP/ca.pem\"}"
run badpw.json on
expect "a wrong password" 1 "error: Redfish https://$ADDR: wrong user or password (401)"
[[ $OUT != *Wr0ngPass* ]] && ok "the password is not shown" ||
	fail "the password is shown: $OUT"
settings http.json "{\"method\": \"redfish\", \"url\": \"http://$ADDR\"}"
run http.json status
expect "plain http refused by check" 1 "error: redfish: url must be https://*"
settings unknown.json "{\"method\": \"redfish\", $GOOD, \"port\": 443}"
run unknown.json status
expect "an unknown key" 1 "error: redfish: unknown key port*"

# A BMC with other ResetTypes: off is GracefulShutdown, cycle PowerCycle;
# a disk boot without Hdd is the override disabled; its ETag comes in the
# ETag header only (its PATCH needs If-Match all the same).
OTHER='"url": "https://'$ADDR':8443", "user": "admin", "password": "s3cret-pw", "pin": "'$PIN'"'
settings o.json "{\"method\": \"redfish\", $OTHER}"
run o.json on
expect "on (other BMC)" 0 ok
run o.json cycle
expect "cycle (other BMC)" 0 ok
run o.json off
expect "off (other BMC)" 0 ok
check_eq "$(sim '.resets | join(",")' other)" On,PowerCycle,GracefulShutdown \
	"fallbacks: PowerCycle, GracefulShutdown"
run o.json boot_net
expect "boot_net (other BMC)" 0 ok
check_eq "$(sim .Boot.BootSourceOverrideTarget other)" Pxe "next boot Pxe"
run o.json boot_disk
expect "boot_disk without Hdd" 0 ok
check_eq "$(sim '.Boot.BootSourceOverrideTarget + "/" +
	.Boot.BootSourceOverrideEnabled' other)" None/Disabled "override disabled"
check_eq "$(jq -s '[.[] | select(.status >= 400)] | length' other.log)" 0 \
	"no request refused by the other BMC"

# A BMC that never answers: an error within the bound (15 s).
settings silent.json "{\"method\": \"redfish\", \"url\": \"https://$ADDR:9443\",
	\"insecure\": true}"
start=$(date +%s%N)
run silent.json status
ms=$((($(date +%s%N) - start) / 1000000))
expect "a BMC that never answers" 1 "error: Redfish https://$ADDR:9443: no answer in 15 s"
if [ "$ms" -ge 14000 ] && [ "$ms" -le 17000 ]; then
	ok "gave up after $ms ms"
else
	fail "gave up after $ms ms, want about 15000"
fi
# Nothing listens: refused at once.
settings closed.json "{\"method\": \"redfish\", \"url\": \"https://$ADDR:9999\",
	\"insecure\": true}"
run closed.json status
expect "nothing listening" 1 "error: Redfish https://$ADDR:9999: cannot connect*"
finish
