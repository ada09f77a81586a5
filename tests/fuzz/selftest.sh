#!/bin/sh
# tests/fuzz/selftest.sh BUILD: shows that the fuzz harness can fail.
# BUILD/selftest/bin/fuzz_images_manifest is the manifest driver built with
# FUZZ_SELFTEST (its check breaks on inputs starting with "selftest");
# run.sh must report it failed, exit non-zero and keep that input, and the
# real driver (BUILD/bin) must pass the very input it kept.
set -u
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
st=$build/selftest
fails=0
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }

seeds=$(mktemp -d "${TMPDIR:-/tmp}/rackd-fuzz-selftest.XXXXXX") || exit 1
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/images_manifest"
{ printf 'selftest'; cat "$top/tests/fuzz/corpus/images_manifest/valid"; } \
    >"$seeds/images_manifest/selftest"
rm -rf "$st/crashes" "$st/corpus" "$st/logs"

echo "fuzz harness self-test: a driver built to fail on one input"
out=$(FUZZ_TIME=5 FUZZ_CORPUS=$seeds sh "$top/tests/fuzz/run.sh" "$st" \
    fuzz_images_manifest 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
[ "$rc" -ne 0 ] && echo "ok - run.sh exits $rc when a driver fails" ||
    fail "run.sh exits 0 although the driver's check broke"
echo "$out" | grep -q '^FAIL fuzz_images_manifest' &&
    echo "ok - the failed driver is named" || fail "no FAIL line"
echo "$out" | grep -q 'broken promise' &&
    echo "ok - the broken check is quoted" || fail "no reason quoted"
kept=$(find "$st/crashes/fuzz_images_manifest" -type f -name 'crash-*' | head -n 1)
if [ -n "$kept" ] && [ "$(head -c 8 "$kept")" = selftest ]; then
	echo "ok - the crashing input is kept: $kept"
	if "$build/bin/fuzz_images_manifest" "$kept" >/dev/null 2>&1; then
		echo "ok - the real driver passes that input"
	else
		fail "the real driver fails on $kept too"
	fi
else
	fail "no kept input starting with 'selftest' in $st/crashes"
fi
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "fuzz harness: a failing driver fails make fuzz"
