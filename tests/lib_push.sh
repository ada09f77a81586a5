# tests/lib_push.sh — what the push stories (tests/integration/push*.sh)
# share, sourced after tests/lib.sh: a central host's store ($C) with
# deterministic images, several rackd on loopback (rack I at $(url I)),
# requests to them, rackctl push with --json, and checks of a rack's store.
for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in jq zstd b2sum python3 sqlite3 cmp timeout script; do
	command -v "$c" >/dev/null || { echo "$c is needed (make deps)"; exit 1; }
done

C=$TMP/central			# the central host's store
RUN_MAX=120			# seconds, any one rackctl run

PORTS=() STATES=() PIDS=() TOKENS=()
# start_rack I [rackd options]: rackd number I (its port kept across restarts).
start_rack() {
	local i=$1
	shift
	[ -n "${PORTS[$i]:-}" ] || PORTS[$i]=$(free_port)
	STATES[$i]=$TMP/rack$i
	"$RACKD" -d --state-dir "${STATES[$i]}" --listen "127.0.0.1:${PORTS[$i]}" \
		--manage-links=no "$@" >>"$TMP/rack$i.log" 2>&1 &
	PIDS[$i]=$!
	on_exit "kill -9 ${PIDS[$i]}"
	wait_http "http://127.0.0.1:${PORTS[$i]}/healthz" ||
		{ echo "rack $i did not start"; tail -n 20 "$TMP/rack$i.log"; exit 1; }
	TOKENS[$i]=$(cat "${STATES[$i]}/api.token")
}
url() { echo "http://127.0.0.1:${PORTS[$1]}"; }
# on I METHOD PATH [curl args]: a request to rack I with its token.
on() {
	local i=$1 m=$2 p=$3 out
	shift 3
	out=$(curl -s -X "$m" -H "Authorization: Bearer ${TOKENS[$i]}" -w '\n%{http_code}' \
		--max-time 20 "$@" "$(url "$i")$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
# anon I METHOD PATH [curl args]: no token.
anon() {
	local i=$1 m=$2 p=$3 out
	shift 3
	out=$(curl -s -X "$m" -w '\n%{http_code}' --max-time 20 "$@" "$(url "$i")$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
rack_metric() {	# I NAME: a /metrics value of rack I (0 if absent)
	local v
	v=$(metric "$2" "$(url "$1")")
	echo "${v:-0}"
}
stored_count() { rack_metric "$1" 'rackd_push_chunks_total{result="stored"}'; }
wait_stored() {	# I N: until rack I has stored N chunks (15 s at most)
	local k
	for ((k = 0; k < 300; k++)); do
		[ "$(stored_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# push RACK_ARGS...: rackctl push with --json into $TMP/push.json; sets RC.
push() {
	timeout -k 5 "$RUN_MAX" "$RACKCTL" push --store "$C" --json "$@" >"$TMP/push.json" 2>"$TMP/push.err"
	RC=$?
	[ "$RC" -ne 124 ] && [ "$RC" -ne 137 ] || fail "rackctl push ran longer than $RUN_MAX s"
}
pj() { jq -r "$1" "$TMP/push.json" 2>/dev/null; }
# check_store I WHAT: every chunk file decompresses and hashes to its name.
check_store() {
	local f h n=0 bad=0
	for f in "${STATES[$1]}"/store/chunks/*/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		h=$(zstd -dcq -- "$f" 2>/dev/null | b2sum -l 256 | cut -d' ' -f1)
		if [ "$h" != "$(basename "$f")" ]; then
			bad=$((bad + 1))
			echo "  not what its name says: $f"
		fi
	done
	if [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]; then ok "$2: all $n chunk files match their names"
	else fail "$2: $bad of $n chunk files do not match their names"; fi
}
has_chunk() { [ -f "${STATES[$1]}/store/chunks/${2:0:2}/$2" ]; }
chunk_file() { echo "$C/chunks/${1:0:2}/$1"; }
# distinct chunks of a manifest with their stored size: "HASH SIZE" lines
chunks_of() { jq -r '.chunks | unique_by(.hash) | .[] | "\(.hash) \(.stored)"' "$1"; }
# stored bytes of the distinct chunks of $2 that are not in $1
delta_bytes() {
	jq -n --slurpfile a "$1" --slurpfile b "$2" '
	    ($a[0].chunks | map({key: .hash, value: 1}) | from_entries) as $old
	    | [$b[0].chunks | unique_by(.hash) | .[] | select($old[.hash] == null) | .stored] | add // 0'
}
total_bytes() { jq '[.chunks | unique_by(.hash) | .[].stored] | add' "$1"; }

# make_image KIND FILE: deterministic images of 64 KiB slots.
#   v1:  96 slots: random, text (compressible), zero (holes), a repeated slot
#   v2:  v1 with slots 5, 17, 33 new, hole 10 now data, slot 60 now zero,
#        another unaligned tail: five new chunks
#   v3:  v1 with 8 bytes edited in slots 1, 2 (random) and 90 (log lines):
#        three new chunks
#   big: 640 random slots (40 MiB), for the interruption tests
#   small: 24 random slots, for the API and signature tests
make_image() {
	python3 - "$1" "$2" <<'EOF'
import random, sys
kind, path = sys.argv[1], sys.argv[2]
S = 65536
SEEDS = {"small1": 1, "small2": 2, "small3": 3}
def slot(i, v):
    if kind == "big":
        return random.Random(50000 + i).randbytes(S)
    if kind in SEEDS:
        return random.Random(SEEDS[kind] * 100000 + i).randbytes(S)
    if v == 2 and i in (5, 10, 17, 33):
        return random.Random(20000 + i).randbytes(S)
    if i in (10, 11, 40) or (v == 2 and i == 60):
        return bytes(S)
    if i in (70, 71):
        return random.Random(7070).randbytes(S)   # the same chunk twice
    if i == 90:                                   # log lines: compressible
        r = random.Random(9090)
        words = ["".join(r.choices("etaoinshrdlu", k=r.randint(2, 8))) for _ in range(300)]
        text = "".join("node%02d rackd[%d]: %s\n" % (r.randint(1, 40), r.randint(1, 9999),
                       " ".join(r.choices(words, k=r.randint(3, 12)))) for _ in range(3000))
        return text.encode()[:S]
    if i % 4 == 0:
        line = ("rackd push test slot %d " % i).encode()
        return (line * (S // len(line) + 1))[:S]
    return random.Random(1000 + i).randbytes(S)
n = 640 if kind == "big" else 24 if kind in SEEDS else 96
v = 2 if kind == "v2" else 1
with open(path, "wb") as f:
    for i in range(n):
        b = slot(i, v)
        if kind == "v3" and i in (1, 2, 90):      # 8 bytes edited in place
            b = b[:S // 2] + b"v3v3v3v3" + b[S // 2 + 8:]
        f.write(b)
    if kind in ("v1", "v2", "v3"):
        f.write(random.Random(9 + v).randbytes(12345))  # an unaligned tail
EOF
}
import_image() {	# FILE NAME:VERSION
	"$RACKCTL" image import "$1" --name "$2" --store "$C" --chunk-size 64K --level 3 -q >/dev/null ||
		{ echo "import of $2 failed"; exit 1; }
	"$RACKCTL" image show "$2" --store "$C" --json >"$TMP/m.$2.json"
}


# central NAME:VERSION...: made (see make_image) and imported into $C:
# app:1, app:2, app:3 (v1, v2, v3), big:1, other:1, sig:1, sig:2 (small1,
# small2, small3). Their manifests: $M1 $M2 $M3 $MB $MO, $TMP/m.REF.json.
central() {
	local ref kind
	for ref in "$@"; do
		case $ref in
		app:1) kind=v1 ;; app:2) kind=v2 ;; app:3) kind=v3 ;;
		big:1) kind=big ;; other:1) kind=small1 ;;
		sig:1) kind=small2 ;; sig:2) kind=small3 ;;
		*) echo "central: no image $ref"; exit 1 ;;
		esac
		make_image "$kind" "$TMP/$kind.img"
		import_image "$TMP/$kind.img" "$ref"
	done
}
M1=$TMP/m.app:1.json M2=$TMP/m.app:2.json M3=$TMP/m.app:3.json MB=$TMP/m.big:1.json MO=$TMP/m.other:1.json

# racks_file I...: $RACKS, a racks file naming racks I... with their
# tokens, a comment and a blank line.
RACKS=$TMP/racks
racks_file() {
	local i
	for i in "$@"; do echo "$(url "$i") ${TOKENS[$i]}"; done >"$RACKS"
	echo "# a comment, and a blank line" >>"$RACKS"
	echo >>"$RACKS"
}

# given_push I NAME:VERSION [args]: rack I holds the image (what a story
# starts from, not one of its checks: the story stops if it fails).
given_push() {
	local i=$1
	shift
	RACKD_TOKEN=${TOKENS[$i]} push "$@" "$(url "$i")"
	[ "$RC" -eq 0 ] || { echo "setup: push $* to rack $i failed: $(cat "$TMP/push.err")"; exit 1; }
}

# agent_report I ID TOKEN JSON: job ID reports JSON to rack I, as its
# agent would, and waits a little for the events it makes.
agent_report() {
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $3" -d "$4" \
		"$(url "$1")/api/v1/agent/jobs/$2/report"
	sleep 0.3
}

# check_racks_end I...: every chunk file of racks I... is what its name
# says, and no temporary file is left.
check_racks_end() {
	local i
	for i in "$@"; do
		check_store "$i" "rack $i at the end"
		[ -z "$(ls "${STATES[$i]}/store/tmp")" ] || fail "rack $i: temporary files left"
	done
}
