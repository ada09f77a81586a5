#!/bin/bash
# tests/integration/publish_s3.sh — rackctl publish to s3://BUCKET/PREFIX
# and racks pulling from that S3 origin. The store is this test's peer,
# tests/integration/s3_peer.py: objects as files, path-style, and every
# signed request's AWS Signature v4 recomputed with botocore's signer
# (Debian's python3-botocore) and refused on any mismatch. First the check
# is shown to bite: a wrong secret and an unknown key id get 403 and
# rackctl says so in words, an unsigned PUT is refused, nothing is
# written. Then: credentials from the environment or a 0600 file, the
# chunks and the manifest under the prefix, a rerun PUTs no chunk, the
# name's index.json written after the manifest from a listing paged one
# key at a time (continuation tokens), a second version added to it, a
# version published once; a rack subscribed to the name pulls both
# versions by itself from the bucket's plain HTTP GETs (public read), as
# image_sources are read, and a rack asked to pull does too. Loopback
# only; the peer and the racks are this test's, killed on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"
PY=/usr/bin/python3	# Debian's, with python3-botocore
"$PY" -c 'import botocore.auth' 2>/dev/null || { echo "python3-botocore is needed (make deps)"; exit 1; }

central app:1 app:2
N1=$(jq '[.chunks[].hash] | unique | length' "$M1")
KEY=AKIDRACKDTEST0001 SECRET=kS3cr3t/rackd+test0123456789abcdefghijk
SP=$(free_port)
EP=http://127.0.0.1:$SP
ROOT=$TMP/s3 LOG=$TMP/s3.log
"$PY" "$TOP/tests/integration/s3_peer.py" "$SP" "$ROOT" "$LOG" --key "$KEY" --secret "$SECRET" \
	--bucket images --public-read --max-keys 1 2>"$TMP/peer.err" &
on_exit "kill $!"
wait_http "$EP/" || { echo "the S3 peer did not start"; cat "$TMP/peer.err"; exit 1; }
: >"$LOG"
B=$ROOT/images/site
objects() { find "$ROOT" -type f 2>/dev/null | wc -l; }
pub() {	# SECRET REF [args]: publish REF to s3://images/site with key $KEY; sets RC
	local s=$1 ref=$2
	shift 2
	AWS_ACCESS_KEY_ID=${PUB_KEY:-$KEY} AWS_SECRET_ACCESS_KEY=$s timeout -k 5 "$RUN_MAX" "$RACKCTL" \
		publish "$ref" s3://images/site --store "$C" --endpoint "$EP" --json "$@" \
		>"$TMP/p.json" 2>"$TMP/err"
	RC=$?
}
logq() { jq -scr "$1" "$LOG"; }

# ---- the check bites: wrong secret, unknown key, no signature -------------------------------------
pub wrong app:1
check_eq "$RC" 1 "a wrong secret: publish fails"
jq -r .error "$TMP/p.json" | grep -q "HTTP 403: SignatureDoesNotMatch: .*check AWS_SECRET_ACCESS_KEY" &&
	ok "it says why: $(jq -r .error "$TMP/p.json" | cut -c 1-60)... SignatureDoesNotMatch" ||
	fail "error: $(cat "$TMP/p.json" "$TMP/err")"
check_eq "$(logq '[.[] | select(.status == 403 and .code == "SignatureDoesNotMatch")] | length > 0')" \
	true "the peer recomputed the signature and refused it"
PUB_KEY=AKIDNOSUCHKEY pub "$SECRET" app:1
check_eq "$RC" 1 "an unknown key id: publish fails"
jq -r .error "$TMP/p.json" | grep -q "InvalidAccessKeyId.*check AWS_ACCESS_KEY_ID" &&
	ok "it says the key id is unknown" || fail "error: $(cat "$TMP/p.json")"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$EP/images/site/x")" 403 \
	"an unsigned PUT is refused"
check_eq "$(objects)" 0 "nothing was written"

# ---- from the environment ---------------------------------------------------------------------------
: >"$LOG"
pub "$SECRET" app:1 --region us-east-1
check_eq "$RC" 0 "publish to S3, signed with the key from the environment"
check_eq "$(jq .written "$TMP/p.json")" "$N1" "every chunk was PUT"
check_eq "$(logq '[.[] | select(.auth != "sigv4" or (.status != 200 and .status != 404))] | length')" 0 \
	"every request was signed and its signature verified ($(wc -l <"$LOG") requests)"
n=0
for h in $(jq -r '.chunks[].hash' "$M1" | sort -u); do
	cmp -s "$B/chunks/$h" "$(chunk_file "$h")" && n=$((n + 1))
done
check_eq "$n" "$N1" "each chunk under site/chunks/, the store's bytes"
cmp -s "$B/manifests/app/1.json" "$C/manifests/app/1.json" && ok "the manifest under site/manifests/app/1.json" ||
	fail "the manifest in the bucket"
check_eq "$(jq -c . "$B/manifests/app/index.json")" '{"name":"app","versions":["1"]}' \
	"site/manifests/app/index.json names app:1"
check_eq "$(logq 'map(select(.method == "PUT")) | .[-2:] | map(.path | sub(".*/"; "")) | join(" ")')" \
	"1.json index.json" "the manifest is PUT after every chunk, the index after the manifest"
check_eq "$(logq 'map(select(.method == "GET" and .path == "/images")) | length')" 1 \
	"the index from a listing of the name's manifests (ListObjectsV2)"

# ---- a 0600 file; a rerun PUTs no chunk ---------------------------------------------------------------
printf '# rackctl publish\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY" "$SECRET" >"$TMP/creds"
chmod 600 "$TMP/creds"
: >"$LOG"
RACKCTL_S3_ENDPOINT=$EP env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$RACKCTL" publish app:1 \
	s3://images/site --store "$C" --credentials "$TMP/creds" --json >"$TMP/p.json" 2>"$TMP/err"
check_eq "$?" 0 "publish again with a credentials file and RACKCTL_S3_ENDPOINT"
check_eq "$(jq -r '[.written, .skipped, .present] | @csv' "$TMP/p.json")" "0,$N1,true" \
	"the rerun HEADs each chunk and writes none"
check_eq "$(logq '[.[] | select(.method == "PUT") | .path | sub(".*/"; "")] | join(" ")')" "index.json" \
	"its only PUT is the index"
grep -q -- "$SECRET" "$TMP/err" "$TMP/p.json" "$LOG" && fail "the secret was printed" ||
	ok "the secret is never printed"

# ---- a second version: the index gains it, paging through three keys ------------------------------------
: >"$LOG"
pub "$SECRET" app:2
check_eq "$RC" 0 "publish app:2"
check_eq "$(jq -c . "$B/manifests/app/index.json")" '{"name":"app","versions":["1","2"]}' \
	"the index names 1 and 2"
check_eq "$(logq '[.[] | select(.path == "/images") | .query | test("continuation-token=")]')" \
	"[false,true,true]" \
	"listed in three pages of one key (1.json, 2.json, index.json), the next two by their token"
check_eq "$(jq .bytes_written "$TMP/p.json")" "$(delta_bytes "$M1" "$M2")" "app:2 wrote only its new chunks"

# ---- a version is published once --------------------------------------------------------------------------
cp "$B/manifests/app/1.json" "$TMP/keep.json"
echo '{}' >"$B/manifests/app/1.json"
pub "$SECRET" app:1
check_eq "$RC" 1 "S3: another manifest under the version is refused"
jq -r .error "$TMP/p.json" | grep -q "published once" && ok "it says why" || fail "error: $(cat "$TMP/p.json")"
check_eq "$(cat "$B/manifests/app/1.json")" "{}" "the bucket's manifest is left alone"
cp "$TMP/keep.json" "$B/manifests/app/1.json"

# ---- racks pull from the bucket: subscribed, and asked --------------------------------------------------
SRC=$EP/images/site
: >"$LOG"
start_rack 1 --image-sources "$SRC" --image-subscribe app --image-subscribe-interval 10
start_rack 2 --image-sources "$SRC"
on 2 POST /api/v1/images/pull -d '{"image": "app:1"}'
check_status 202 "rack 2: POST /api/v1/images/pull app:1"
has() {	# I VERSION: rack I lists app:VERSION
	on "$1" GET /api/v1/images/app
	[ "$STATUS" = 200 ] && jq -e --arg v "$2" '.versions | map(.version) | index($v) != null' \
		<<<"$BODY" >/dev/null
}
for ((k = 0; k < 160; k++)); do
	has 1 1 && has 1 2 && has 2 1 && break
	sleep 0.25
done
has 1 1 && has 1 2 && ok "rack 1 pulled app:1 and app:2 by itself (the S3 origin's index.json)" ||
	fail "rack 1 did not pull both: $(tail -n 5 "$TMP/rack1.log")"
has 2 1 && ok "rack 2 pulled app:1 from the bucket" || fail "rack 2: $(tail -n 5 "$TMP/rack2.log")"
on 1 GET /api/v1/pulls
check_jq '[.[] | select(.state == "done") | .image] | sort == ["app:1", "app:2"]' "rack 1's two pulls are done"
check_eq "$(logq '[.[] | select(.auth == "anonymous" and .method == "GET" and .status == 200)
	| select(.path | test("/manifests/app/index.json$"))] | length > 0')" true \
	"the racks read the index by plain GET"
check_eq "$(logq '[.[] | select(.method != "GET" and .method != "HEAD")] | length')" 0 \
	"the racks only read"
check_racks_end 1 2
finish
