#!/bin/sh
# Runs every test: the unit test binaries given as arguments, then each
# tests/integration/*.sh. Prints one line per test and, last, the summary
# "N passed, M failed". Exit status 1 if anything failed.
# TESTS="pattern..." runs only the tests whose name contains one of the
# patterns; a pattern ending in / ends the name (integration/diskless/ is
# not diskless_qemu). TEST_WRAP="command" runs each test through it
# (make asan: tests/sanitize.sh); RACKD_BUILD names the build under test
# (its test-logs/ gets the logs).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
logdir="$top/${RACKD_BUILD:-build}/test-logs"
mkdir -p "$logdir"
pass=0
fail=0
failed=""

run() {	# name command...
	name=$1
	shift
	if [ -n "${TESTS:-}" ]; then
		want=0
		for pat in $TESTS; do
			case "$name/" in *"$pat"*) want=1 ;; esac
		done
		[ "$want" -eq 1 ] || return 0
	fi
	start=$(date +%s)
	mkdir -p "$(dirname "$logdir/$name.log")"
	if ${TEST_WRAP:-} "$@" >"$logdir/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s); last lines of $logdir/$name.log:"
		tail -n 30 "$logdir/$name.log" | sed 's/^/    /'
	fi
}

for bin in "$@"; do
	run "unit/$(basename "$bin")" "$bin"
done
for t in "$top"/tests/integration/*.sh; do
	[ -e "$t" ] || continue
	run "integration/$(basename "$t" .sh)" bash "$t"
done

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
