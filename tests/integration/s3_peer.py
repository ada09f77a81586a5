#!/usr/bin/python3
# tests/integration/s3_peer.py — an S3-compatible object store for the S3
# publish test (tests/integration/publish_s3.sh), on loopback: path-style
# buckets (/BUCKET/KEY) whose objects are files under ROOT/BUCKET/, with
# what rackctl publish and a rack's pull use of S3: PUT, GET and HEAD of an
# object and ListObjectsV2 (GET /BUCKET?list-type=2&prefix=...&
# continuation-token=..., MAX_KEYS a page, to make clients page through).
# Multipart uploads (?uploads, ?uploadId) are answered 501 NotImplemented:
# rackctl publish does not use them (a chunk, a manifest and an index are
# each one PUT).
#
# Every request with an Authorization header is checked as S3 checks AWS
# Signature v4: the access key must be KEY (403 InvalidAccessKeyId), the
# credential scope DATE/REGION/s3/aws4_request with DATE the x-amz-date's
# day (403 AuthorizationHeaderMalformed), x-amz-date within 15 minutes of
# now (403 RequestTimeTooSkewed), host, x-amz-date and x-amz-content-sha256
# among the signed headers, x-amz-content-sha256 the SHA-256 of the body
# received (400 XAmzContentSHA256Mismatch), and the signature recomputed by
# botocore's S3 signer (botocore.auth.S3SigV4Auth: canonical request,
# string to sign, signing key from SECRET) from the request as received,
# compared in constant time (403 SignatureDoesNotMatch). A request without
# Authorization is refused (403 AccessDenied) unless it is a GET or HEAD
# of an object and the bucket is --public-read, as a bucket whose policy
# lets anyone read (what racks pulling over plain HTTP need).
#
# Each request is written to LOG as one JSON line {"method", "path",
# "query", "status", "code", "auth": "sigv4" | "anonymous", "bytes"}.
#
# s3_peer.py PORT ROOT LOG --key KEY --secret SECRET [--region R]
#     [--bucket B]... [--public-read] [--max-keys N]
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("root")
ap.add_argument("log")
ap.add_argument("--key", required=True)
ap.add_argument("--secret", required=True)
ap.add_argument("--region", default="us-east-1")
ap.add_argument("--bucket", action="append", default=[])
ap.add_argument("--public-read", action="store_true")
ap.add_argument("--max-keys", type=int, default=1000)
args = ap.parse_args()

for b in args.bucket:
    os.makedirs(os.path.join(args.root, b), exist_ok=True)
log_lock = threading.Lock()
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/"
                     r"aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")
SKEW = datetime.timedelta(minutes=15)
OBJ_RE = re.compile(r"^[A-Za-z0-9._/=+-]{1,1024}$")


class S3Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_sigv4(method, host, raw_path, query, headers, body):
    """Raise S3Error unless the request carries a good Signature v4."""
    m = AUTH_RE.match(headers.get("Authorization", ""))
    if not m:
        raise S3Error(400, "AuthorizationHeaderMalformed",
                      "The authorization header is malformed.")
    key, day, region, service, signed, sig = m.groups()
    if key != args.key:
        raise S3Error(403, "InvalidAccessKeyId",
                      "The AWS Access Key Id you provided does not exist in our records.")
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
    if region != args.region or service != "s3" or day != amz_date[:8]:
        raise S3Error(403, "AuthorizationHeaderMalformed",
                      f"The authorization header is malformed; the scope {day}/{region}/{service} "
                      f"is wrong; expecting {amz_date[:8]}/{args.region}/s3")
    if abs(datetime.datetime.utcnow() - when) > SKEW:
        raise S3Error(403, "RequestTimeTooSkewed",
                      "The difference between the request time and the current time is too large.")
    names = signed.split(";")
    for need in ("host", "x-amz-date", "x-amz-content-sha256"):
        if need not in names:
            raise S3Error(403, "AccessDenied", f"{need} must be signed")
    claimed = headers.get("x-amz-content-sha256", "")
    if claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
        raise S3Error(400, "XAmzContentSHA256Mismatch",
                      "The provided 'x-amz-content-sha256' header does not match what was computed.")
    # The request as received, its signed headers only, through botocore's
    # signer: the query decoded into params (botocore encodes and sorts
    # them as S3 does), the path as sent (S3 does not normalise it).
    signed_headers = {}
    for n in names:
        v = headers.get_all(n)
        if v is None:
            raise S3Error(403, "AccessDenied", f"signed header {n} is missing")
        signed_headers[n] = ",".join(v)
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    req = AWSRequest(method=method, url=f"http://{host}{raw_path}", headers=signed_headers,
                     params=params, data=body)
    req.context["timestamp"] = amz_date
    signer = S3SigV4Auth(Credentials(args.key, args.secret,
                                     headers.get("x-amz-security-token")), "s3", args.region)
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    if signer.signed_headers(signer.headers_to_sign(req)) != signed:
        raise S3Error(403, "SignatureDoesNotMatch", "SignedHeaders are not in canonical order.")
    if not hmac.compare_digest(want, sig):
        raise S3Error(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your key and signing method.")


def write_atomic(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{threading.get_ident()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def list_xml(bucket, query):
    q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if q.get("list-type") != "2":
        raise S3Error(501, "NotImplemented", "Only ListObjectsV2 (list-type=2) is implemented.")
    prefix = q.get("prefix", "")
    max_keys = min(int(q.get("max-keys", "1000")), args.max_keys)
    after = ""
    if "continuation-token" in q:
        try:
            after = base64.b64decode(q["continuation-token"], validate=True).decode()
        except ValueError:
            raise S3Error(400, "InvalidArgument", "The continuation token provided is incorrect")
        if not after.startswith("after:"):
            raise S3Error(400, "InvalidArgument", "The continuation token provided is incorrect")
        after = after[6:]
    base = os.path.join(args.root, bucket)
    keys = []
    for d, _, files in os.walk(base):
        for f in files:
            if ".tmp-" in f:
                continue
            k = os.path.relpath(os.path.join(d, f), base)
            if k.startswith(prefix) and k > after:
                keys.append(k)
    keys.sort()
    page, more = keys[:max_keys], len(keys) > max_keys
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
           f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
           f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
           f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>"]
    for k in page:
        st = os.stat(os.path.join(base, k))
        mod = datetime.datetime.utcfromtimestamp(st.st_mtime).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        out.append(f"<Contents><Key>{escape(k)}</Key><LastModified>{mod}</LastModified>"
                   f"<Size>{st.st_size}</Size><StorageClass>STANDARD</StorageClass></Contents>")
    if more:
        tok = base64.b64encode(("after:" + page[-1]).encode()).decode()
        out.append(f"<NextContinuationToken>{escape(tok)}</NextContinuationToken>")
    out.append("</ListBucketResult>")
    return "\n".join(out).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "s3-peer"

    def log_message(self, fmt, *a):
        pass

    def note(self, status, code, auth, n):
        path, _, query = self.path.partition("?")
        with log_lock, open(args.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": path, "query": query,
                                "status": status, "code": code, "auth": auth,
                                "bytes": n}) + "\n")

    def reply(self, status, body=b"", ctype="application/xml", length=None, code=""):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_one(self):
        raw_path, _, query = self.path.partition("?")
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding"):
            raise S3Error(501, "NotImplemented", "Transfer-Encoding is not implemented.")
        body = self.rfile.read(n) if n > 0 else b""
        auth = "sigv4" if "Authorization" in self.headers else "anonymous"
        self.auth = auth
        parts = urllib.parse.unquote(raw_path).lstrip("/").split("/", 1)
        bucket, key = parts[0], parts[1] if len(parts) > 1 else ""
        if auth == "sigv4":
            check_sigv4(self.command, self.headers.get("Host", ""), raw_path, query,
                        self.headers, body)
        elif not (args.public_read and self.command in ("GET", "HEAD") and key):
            raise S3Error(403, "AccessDenied", "Access Denied")
        if bucket not in args.bucket:
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        if "uploads" in q or "uploadId" in q:
            raise S3Error(501, "NotImplemented", "Multipart uploads are not implemented here.")
        if not key:
            if self.command != "GET":
                raise S3Error(405, "MethodNotAllowed", "The method is not allowed on a bucket here.")
            return self.reply(200, list_xml(bucket, query)), "", len(body)
        if not OBJ_RE.match(key) or ".." in key.split("/") or ".tmp-" in key or key.endswith("/"):
            raise S3Error(400, "InvalidArgument", "This peer takes simple keys only.")
        path = os.path.join(args.root, bucket, key)
        if self.command == "PUT":
            write_atomic(path, body)
            etag = hashlib.md5(body).hexdigest()
            self.send_response(200)
            self.send_header("ETag", f'"{etag}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None, "", len(body)
        if self.command in ("GET", "HEAD"):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
            self.reply(200, data, ctype="application/octet-stream")
            return None, "", len(data)
        raise S3Error(405, "MethodNotAllowed", "The method is not allowed here.")

    def run(self):
        self.auth = "anonymous"
        try:
            _, code, n = self.handle_one()
            self.note(200, code, self.auth, n)
        except S3Error as e:
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{e.code}</Code>'
                   f"<Message>{escape(e.message)}</Message></Error>").encode()
            self.reply(e.status, xml)
            self.note(e.status, e.code, self.auth, 0)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = run


srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
srv.daemon_threads = True
print(f"s3 peer on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
srv.serve_forever()
