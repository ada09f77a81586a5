#!/bin/bash
# tests/integration/publish_resume.sh — rackctl publish to a directory
# origin killed in the middle (SIGKILL after a number of chunks,
# RACKCTL_PUBLISH_KILL_AFTER) and run again: the rerun writes only what
# is missing and leaves the chunks already there untouched; the manifest
# never exists before all its chunks (watched while a publish runs); a
# chunk of the right size but wrong content is skipped by the size check
# and rewritten with --verify; an image version is published once.
# No network at all.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central big:1 app:1
ORIGIN=$TMP/origin
NB=$(jq '[.chunks[].hash] | unique | length' "$MB")

# ---- killed after 100 chunks -------------------------------------------------------------------
RACKCTL_PUBLISH_KILL_AFTER=100 timeout -k 5 "$RUN_MAX" "$RACKCTL" publish big:1 "$ORIGIN" --store "$C" -q \
	>/dev/null 2>"$TMP/err"
check_eq "$?" 137 "publish killed (SIGKILL) after 100 chunks"
check_eq "$(ls "$ORIGIN/chunks" | wc -l)" 100 "100 chunks are on the origin"
[ ! -e "$ORIGIN/manifests/big/1.json" ] && ok "no manifest: the half-published image is not visible" ||
	fail "a manifest after a killed publish"
stat -c '%n %i %Y' "$ORIGIN"/chunks/* | sort >"$TMP/before"
sleep 1.1	# a rewrite would show in the mtime
timeout -k 5 "$RUN_MAX" "$RACKCTL" publish big:1 "$ORIGIN" --store "$C" --json >"$TMP/p.json" 2>"$TMP/err"
check_eq "$?" 0 "publish run again completes"
check_eq "$(jq -r '[.written, .skipped] | @csv' "$TMP/p.json")" "$((NB - 100)),100" \
	"the rerun writes only the $((NB - 100)) missing chunks, skips the 100"
stat -c '%n %i %Y' $(cut -d' ' -f1 "$TMP/before") | sort >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && ok "the 100 chunks already there were not rewritten" ||
	fail "chunks rewritten: $(diff "$TMP/before" "$TMP/after" | head -5)"
cmp -s "$ORIGIN/manifests/big/1.json" "$C/manifests/big/1.json" && ok "the manifest is there at the end" ||
	fail "manifest"
bad=0
for f in "$ORIGIN"/chunks/*; do
	h=$(zstd -dcq -- "$f" | b2sum -l 256 | cut -d' ' -f1)
	[ "$h" = "$(basename "$f")" ] || bad=$((bad + 1))
done
check_eq "$bad" 0 "every chunk on the origin hashes to its name"
check_eq "$(find "$ORIGIN" -path "$ORIGIN/.tmp" -prune -o -type f -print | wc -l)" "$((NB + 2))" \
	"nothing but the chunks, the manifest and the name's index.json"
check_eq "$(jq -c .versions "$ORIGIN/manifests/big/index.json")" '["1"]' "index.json names the version"
[ -z "$(ls -A "$ORIGIN/.tmp")" ] && ok "no temporary file left" || fail "temporary files left"

# ---- the manifest never before its chunks ---------------------------------------------------------
O2=$TMP/origin2
mkdir -p "$O2"
(
	for ((k = 0; k < 2000; k++)); do
		if [ -e "$O2/manifests/big/1.json" ]; then
			n=$(ls "$O2/chunks" | wc -l)
			echo "$n" >"$TMP/seen"
			exit 0
		fi
		sleep 0.01
	done
) &
WATCH=$!
timeout -k 5 "$RUN_MAX" "$RACKCTL" publish big:1 "$O2" --store "$C" -q >/dev/null 2>&1
wait "$WATCH"
check_eq "$(cat "$TMP/seen" 2>/dev/null)" "$NB" "when the manifest appeared, all $NB chunks were there"

# ---- the size check, and --verify -----------------------------------------------------------------
H=$(ls "$ORIGIN/chunks" | head -n 1)
SZ=$(stat -c %s "$ORIGIN/chunks/$H")
head -c "$SZ" /dev/urandom >"$ORIGIN/chunks/$H"
timeout -k 5 "$RUN_MAX" "$RACKCTL" publish big:1 "$ORIGIN" --store "$C" --json >"$TMP/p.json" 2>&1
check_eq "$(jq .written "$TMP/p.json")" 0 "without --verify a chunk of the right size is taken as it is"
timeout -k 5 "$RUN_MAX" "$RACKCTL" publish big:1 "$ORIGIN" --store "$C" --json --verify >"$TMP/p.json" 2>&1
check_eq "$(jq .written "$TMP/p.json")" 1 "--verify rewrites the chunk that does not hash to its name"
h=$(zstd -dcq -- "$ORIGIN/chunks/$H" | b2sum -l 256 | cut -d' ' -f1)
check_eq "$h" "$H" "the chunk is right again"
head -c 100 /dev/urandom >"$ORIGIN/chunks/$H"
timeout -k 5 "$RUN_MAX" "$RACKCTL" publish big:1 "$ORIGIN" --store "$C" --json >"$TMP/p.json" 2>&1
check_eq "$(jq .written "$TMP/p.json")" 1 "a chunk of another size is rewritten"

# ---- published once -----------------------------------------------------------------------------
"$RACKCTL" publish app:1 "$ORIGIN" --store "$C" -q >/dev/null 2>&1
check_eq "$?" 0 "publish app:1"
echo '{}' >"$ORIGIN/manifests/app/1.json"
"$RACKCTL" publish app:1 "$ORIGIN" --store "$C" >"$TMP/out" 2>"$TMP/err"
check_eq "$?" 1 "another manifest under the same version is refused"
grep -q "published once" "$TMP/err" && ok "it says why" || fail "error: $(cat "$TMP/err")"
check_eq "$(cat "$ORIGIN/manifests/app/1.json")" "{}" "the origin's manifest is left alone"

# ---- usage and the progress ------------------------------------------------------------------------
"$RACKCTL" publish app:1 --store "$C" >/dev/null 2>&1
check_eq "$?" 2 "publish without an origin: usage error"
"$RACKCTL" publish app:1 "ftp://x/y" --store "$C" >/dev/null 2>&1
check_eq "$?" 1 "an origin of another scheme is refused"
"$RACKCTL" publish --help | grep -q Usage && ok "publish --help" || fail "publish --help"
script -qec "$RACKCTL publish app:1 $TMP/origin3 --store $C" /dev/null >"$TMP/tty.out" 2>&1
grep -q '\[####################\] 100%' "$TMP/tty.out" && grep -q 'ORIGIN' "$TMP/tty.out" &&
	ok "a progress bar on a terminal, then the table" || fail "no bar: $(tail -c 300 "$TMP/tty.out")"
"$RACKCTL" publish app:1 "$TMP/origin4" --store "$C" 2>"$TMP/lines" >/dev/null
grep -q 'publish app:1: published' "$TMP/lines" && ok "plain lines when not a terminal" ||
	fail "lines: $(cat "$TMP/lines")"

# ---- S3: credentials -----------------------------------------------------------------------------
printf 'access_key_id = AKIDEXAMPLE\nsecret_access_key = x\n' >"$TMP/creds"
chmod 644 "$TMP/creds"
"$RACKCTL" publish app:1 s3://bucket/p --store "$C" --credentials "$TMP/creds" --endpoint http://127.0.0.1:9 \
	>/dev/null 2>"$TMP/err"
check_eq "$?" 1 "S3: a credentials file others can read is refused"
grep -q "chmod 600" "$TMP/err" && ok "it says how to fix it" || fail "error: $(cat "$TMP/err")"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$RACKCTL" publish app:1 s3://bucket/p --store "$C" \
	--endpoint http://127.0.0.1:9 >/dev/null 2>"$TMP/err"
grep -q "no credentials" "$TMP/err" && ok "S3 without credentials says so" || fail "error: $(cat "$TMP/err")"
finish
