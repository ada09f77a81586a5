#!/bin/bash
# tests/integration/api_chunks.sh — what a real rackd on loopback serves
# without a token: chunks (ETag, immutable caching, HEAD without a body,
# 304, ranges, 416, malformed hashes), the dashboard's files (no path
# escapes the webui dir: .., encodings, symlinks, hidden files, the state
# dir), and the bytes streamed as /metrics counts them. Loopback only.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

# ---- a dashboard directory with traps in it ----------------------------
WEBUI=$TMP/webui
mkdir -p "$WEBUI/sub"
cp -r "$TOP/webui/." "$WEBUI/"
echo '<p>sub page</p>' >"$WEBUI/sub/page.html"
echo 'outside secret' >"$TMP/secret.txt"
echo 'hidden' >"$WEBUI/.hidden"
ln -s /etc/passwd "$WEBUI/passwd.html"
ln -s "$TMP/secret.txt" "$WEBUI/secret.txt"
ln -s /etc "$WEBUI/etc"
ln -s ../secret.txt "$WEBUI/sub/up.txt"

rackd_start --slots usb1 --webui-dir "$WEBUI"

# ---- images: two versions through rackctl, indexed on SIGHUP -----------
test_images

# ---- chunks ----------------------------------------------------------------
raw GET "/chunks/$HASH"
check_status 200 "GET chunk"
cmp -s "$B" "$CHUNK" && ok "chunk body is the stored file" || fail "chunk body differs"
check_eq "$(hdr ETag)" "\"$HASH\"" "ETag is the hash"
case "$(hdr Cache-Control)" in *immutable*max-age=* | *max-age=*immutable*) ok "immutable caching" ;;
*) fail "Cache-Control: $(hdr Cache-Control)" ;; esac
check_eq "$(hdr Accept-Ranges)" bytes "Accept-Ranges"
raw HEAD "/chunks/$HASH" -I
check_status 200 "HEAD chunk"
check_eq "$(hdr Content-Length)" "$SIZE" "HEAD Content-Length"
check_eq "$(hdr ETag)" "\"$HASH\"" "HEAD ETag"
# HEAD over a raw socket: nothing may follow the head
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'HEAD /chunks/%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$HASH" >&3
timeout 5 cat <&3 >"$TMP/head.raw"
exec 3<&-
check_eq "$(sed '1,/^\r$/d' "$TMP/head.raw" | wc -c)" 0 "HEAD has no body"
raw GET "/chunks/$HASH" -H "If-None-Match: \"$HASH\""
check_status 304 "If-None-Match"
check_eq "$(stat -c %s "$B")" 0 "304 has no body"
raw GET "/chunks/$HASH" -H "If-None-Match: \"$(printf 'f%.0s' {1..64})\""
check_status 200 "If-None-Match another hash"
raw GET "/chunks/$HASH" -H "Range: bytes=0-99"
check_status 206 "Range bytes=0-99"
check_eq "$(hdr Content-Range)" "bytes 0-99/$SIZE" "Content-Range 0-99"
head -c 100 "$CHUNK" | cmp -s - "$B" && ok "bytes 0-99 are right" || fail "bytes 0-99 differ"
raw GET "/chunks/$HASH" -H "Range: bytes=-100"
check_status 206 "Range bytes=-100"
check_eq "$(hdr Content-Range)" "bytes $((SIZE - 100))-$((SIZE - 1))/$SIZE" "Content-Range -100"
tail -c 100 "$CHUNK" | cmp -s - "$B" && ok "last 100 bytes are right" || fail "last 100 bytes differ"
raw GET "/chunks/$HASH" -H "Range: bytes=5-"
check_status 206 "Range bytes=5-"
check_eq "$(hdr Content-Range)" "bytes 5-$((SIZE - 1))/$SIZE" "Content-Range 5-"
tail -c +6 "$CHUNK" | cmp -s - "$B" && ok "bytes 5- are right" || fail "bytes 5- differ"
raw GET "/chunks/$HASH" -H "Range: bytes=$SIZE-"
check_error 416 "unsatisfiable range"
check_eq "$(hdr Content-Range)" "bytes */$SIZE" "416 Content-Range"
raw GET "/chunks/$(printf '0%.0s' {1..64})"
check_error 404 "unknown chunk"
for h in xyz "${HASH^^}" "${HASH:0:63}" "${HASH}0" "..%2fapi.token"; do
	raw GET "/chunks/$h"
	check_error 404 "malformed hash ${h:0:16}"
done

# ---- the dashboard's files, and no way out of them -------------------------
raw GET /
check_status 200 "GET /"
case "$(hdr Content-Type)" in text/html*) ok "/ is HTML" ;; *) fail "/ Content-Type $(hdr Content-Type)" ;; esac
cmp -s "$B" "$WEBUI/index.html" && ok "/ is index.html" || fail "/ is not index.html"
raw GET /sub/page.html
check_status 200 "a file in a subdirectory"
raw GET /nope.html
check_error 404 "missing static file"
for p in /../etc/passwd /%2e%2e/etc/passwd /%2e%2e%2fetc%2fpasswd /sub/../../secret.txt \
	/passwd.html /etc/passwd /secret.txt /sub/up.txt /.hidden //etc/passwd \
	/chunks/../api.token /api/../api.token /rackd.db /api.token; do
	raw GET "$p" --path-as-is
	if [ "$STATUS" = 404 ] && ! grep -q -e 'root:' -e 'outside secret' -e "$TOKEN" "$B"; then
		ok "no escape: $p"
	else
		fail "escape: $p gave $STATUS: $(head -c 100 "$B")"
	fi
done


# ---- metrics ---------------------------------------------------------------
s0=$(metric rackd_streamed_bytes_total)
curl -s -o /dev/null --max-time 5 "$URL/chunks/$HASH"
s1() { [ "$(metric rackd_streamed_bytes_total)" = "$((s0 + SIZE))" ]; }
wait_for 20 s1 && ok "metrics: bytes streamed grows by the chunk" || fail "metrics: streamed $s0 -> $(metric rackd_streamed_bytes_total), chunk $SIZE"
curl -s -o /dev/null -I --max-time 5 "$URL/chunks/$HASH"
curl -s -o /dev/null --max-time 5 -H 'Range: bytes=0-99' "$URL/chunks/$HASH"
s2() { [ "$(metric rackd_streamed_bytes_total)" = "$((s0 + SIZE + 100))" ]; }
wait_for 20 s2 && ok "metrics: HEAD streams nothing, a range its length" || fail "metrics: streamed $(metric rackd_streamed_bytes_total), want $((s0 + SIZE + 100))"
finish
