#!/bin/bash
# The relay power method against a board that answers like a 16c0:05df
# USBRelay board (build/tests/relay_board, which logs each report with
# its time), called directly through build/tests/power_run: on is a press
# of press_ms on the right channel, off a long press, cycle a long press,
# 2 s and a press, each switch read back; a relay that does not move, a
# wrong channel, no status, and the board unplugged (before and during a
# press) give clear errors.
#
# The board is a real hidraw device made with the kernel's uhid when
# /dev/uhid exists. A kernel without CONFIG_UHID (and without modules to
# load it) cannot make one: then hidraw_shim.so (LD_PRELOAD) stands in
# for the kernel's hidraw, passing the same feature reports between
# hidapi and the board over a socket.
source "$(dirname "$0")/../lib.sh"

RUN=$BUILD_DIR/tests/power_run
BOARD=$BUILD_DIR/tests/relay_board
SHIM=$BUILD_DIR/tests/hidraw_shim.so
# Under make asan power_run carries AddressSanitizer, whose runtime must
# be the first library loaded: it goes before the shim.
ASAN_LIB=$(ldd "$RUN" 2>/dev/null | awk '/libasan/ { print $3; exit }')
PRELOAD="${ASAN_LIB:+$ASAN_LIB }$SHIM"
for f in "$RUN" "$BOARD" "$SHIM"; do
	[ -e "$f" ] || { echo "no $f (make all)"; exit 1; }
done
SERIAL=RT$(printf '%03d' $(($$ % 1000)))
LOG=$TMP/board.log
SOCK=$TMP/board.sock
BOARD_PID=

[ -e /dev/uhid ] || modprobe uhid 2>/dev/null
if [ -e /dev/uhid ]; then
	MODE=uhid
else
	MODE=shim
	DEV=/dev/hidraw-rackd-test-$$	# never made: the shim answers it
fi
echo "# board: $MODE"

board_start() {	# [--stuck]
	local i f
	: >"$TMP/board.out"
	if [ "$MODE" = uhid ]; then
		"$BOARD" "$@" "$SERIAL" 2 "$LOG" >"$TMP/board.out" 2>&1 &
	else
		"$BOARD" "$@" --socket "$SOCK" "$SERIAL" 2 "$LOG" \
			>"$TMP/board.out" 2>&1 &
	fi
	BOARD_PID=$!
	on_exit "kill $BOARD_PID"
	wait_for 50 grep -q ready "$TMP/board.out" ||
		{ echo "board did not start"; cat "$TMP/board.out"; exit 1; }
	if [ "$MODE" = uhid ]; then
		DEV=
		for ((i = 0; i < 50 && -z $DEV; i++)); do
			for f in /sys/class/hidraw/hidraw*/device/uevent; do
				grep -q "^HID_UNIQ=$SERIAL$" "$f" 2>/dev/null &&
					DEV=/dev/$(basename "$(dirname "$(dirname "$f")")")
			done
			[ -n "$DEV" ] && [ -e "$DEV" ] || { DEV=; sleep 0.1; }
		done
		[ -n "$DEV" ] || { echo "no hidraw device for the board"; exit 1; }
	fi
}
board_stop() { kill "$BOARD_PID" 2>/dev/null; wait "$BOARD_PID" 2>/dev/null; }

settings() {	# FILE CHANNEL [more JSON]
	echo "{\"method\": \"relay\", \"device\": \"$DEV\", \"channel\": $2,
	    \"press_ms\": \"300\", \"long_press_ms\": 1500 ${3:-}}" >"$TMP/$1"
}
run() {	# SETTINGS OP: the line in OUT, exit status in RC, time in MS
	local start=$(date +%s%N)
	: >"$LOG"
	OUT=$(HIDRAW_SHIM_PATH=$DEV HIDRAW_SHIM_SOCKET=$SOCK \
		LD_PRELOAD=$([ "$MODE" = shim ] && echo "$PRELOAD") \
		"$RUN" relay "$TMP/$1" "$2" 2>&1)
	RC=$?
	MS=$((($(date +%s%N) - start) / 1000000))
}
expect() {	# WHAT WANT_RC PATTERN
	if [ "$RC" = "$2" ] && [[ $OUT == $3 ]]; then
		ok "$1: $OUT"
	else
		fail "$1: rc $RC, '$OUT', want rc $2 and '$3'"
	fi
}
# presses CH: the presses of channel CH in the log, "ON_MS" each, and the
# pauses between them as "/GAP_MS", e.g. "1500 /2001 300".
presses() {
	awk -v ch="ch=$1" '
		$2 == "set" && $4 == ch && $3 == "cmd=0xff" { on = $1; if (off) printf "/%d ", $1 - off }
		$2 == "set" && $4 == ch && $3 == "cmd=0xfd" && on { printf "%d ", $1 - on; off = $1; on = 0 }
		END { print "" }' "$LOG" | sed 's/ $//'
}
# near GOT WANT: each number of GOT within 250 ms above WANT's.
near() {
	local -a g=($1) w=($2)
	local i x y
	[ ${#g[@]} -eq ${#w[@]} ] || return 1
	for ((i = 0; i < ${#w[@]}; i++)); do
		x=${g[$i]#/} y=${w[$i]#/}
		[ "${g[$i]%%[0-9]*}" = "${w[$i]%%[0-9]*}" ] || return 1
		[ "$x" -ge "$y" ] && [ "$x" -le $((y + 250)) ] || return 1
	done
}
check_presses() {	# WHAT CH WANT
	local got
	got=$(presses "$2")
	near "$got" "$3" && ok "$1: presses $got (ms)" ||
		fail "$1: presses '$got', want '$3' (ms)"
}
readbacks() { grep -c ' get ' "$LOG"; }

board_start
settings ch2.json 2
run ch2.json on
expect "on" 0 ok
check_presses "on is a press" 2 "300"
check_eq "$(presses 1)" "" "channel 1 untouched"
check_eq "$(readbacks)" 3 "state read before and after each switch"
check_eq "$(grep -c 'set' "$LOG")" 2 "two switches"
run ch2.json off
expect "off" 0 ok
check_presses "off is a long press" 2 "1500"
run ch2.json cycle
expect "cycle" 0 ok
check_presses "cycle is a long press, 2 s, a press" 2 "1500 /2000 300"
[ "$MS" -lt 15000 ] && ok "cycle took $MS ms (< 15 s)" || fail "cycle took $MS ms"
check_eq "$(tail -n 1 "$LOG" | grep -o 'state=.*')" state=0x00 "all relays open at the end"
settings ch1.json 1 ', "press_ms": 100, "long_press_ms": "1000"'
run ch1.json on
expect "on, channel 1, numbers and strings" 0 ok
check_presses "a press of 100 ms on channel 1" 1 "100"
check_eq "$(presses 2)" "" "channel 2 untouched"

run ch2.json status
expect "no status" 1 "error: the relay method cannot status"
run ch2.json boot_net
expect "no boot device" 1 "error: the relay method cannot boot_net"
settings ch9.json 9
run ch9.json on
expect "channel 9 refused by check" 1 "error: relay: channel must be a number from 1 to 8"
check_eq "$(grep -c set "$LOG")" 0 "nothing sent for channel 9"
settings long.json 2 ', "long_press_ms": 13000'
run long.json off
expect "a long press over the bound" 1 "error: relay: long_press_ms + 3000 ms + press_ms must stay under 15000 ms*"
settings sn.json 2
sed -i "s|\"$DEV\"|\"serial:NONE1\"|" "$TMP/sn.json"
run sn.json on
expect "no board of that serial" 1 "error: relay serial:NONE1: no board with that serial*"

# A board whose relays never move: the read back says so, and the relay
# is still told to open.
board_stop
board_start --stuck
run ch2.json on
expect "a relay that does not switch" 1 "error: relay $DEV: channel 2 did not switch on (state 0x00)"
check_eq "$(grep -c 'cmd=0xfd ch=2' "$LOG")" 1 "told to open all the same"

# Unplugged: before the press, and during a long press.
board_stop
run ch2.json on
expect "board unplugged" 1 "error: relay $DEV: cannot open the board (No such file or directory; unplugged*"
board_start
( sleep 0.5; kill "$BOARD_PID" ) &
run ch2.json off
wait
expect "unplugged during a long press" 1 "error: relay $DEV: cannot switch channel 2 off (*board unplugged?)"
[ "$MS" -ge 1500 ] && [ "$MS" -lt 3000 ] && ok "gave up after $MS ms" ||
	fail "gave up after $MS ms"
finish
