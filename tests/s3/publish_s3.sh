#!/bin/bash
# tests/integration/publish_s3.sh — rackctl publish to s3://BUCKET/PREFIX
# against moto's S3 server on loopback with its access checks on (every
# request after the setup's first five must carry a good AWS Signature
# v4 of a key it made): the chunks and the manifest land under the
# prefix, a rerun HEADs each chunk and PUTs nothing, a wrong secret is
# refused and writes nothing, credentials from the environment or a 0600
# file. Loopback only; moto is this test's process, killed on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"
python3 -c 'import moto.server, boto3' 2>/dev/null ||
	{ echo "moto (its server) and boto3 are needed for python3"; exit 1; }

central app:1
N1=$(jq '[.chunks[].hash] | unique | length' "$M1")
MP=$(free_port)
EP=http://127.0.0.1:$MP
INITIAL_NO_AUTH_ACTION_COUNT=5 python3 -m moto.server -H 127.0.0.1 -p "$MP" >"$TMP/moto.log" 2>&1 &
on_exit "kill -9 $!"
wait_http "$EP/" || { echo "moto did not start"; cat "$TMP/moto.log"; exit 1; }
# The five requests moto takes unsigned: wait_http's one, then a user, its
# key, its rights, the bucket.
read -r KEY SECRET < <(python3 - "$EP" <<'EOF'
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="publisher")
k = iam.create_access_key(UserName="publisher")["AccessKey"]
iam.put_user_policy(UserName="publisher", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
boto3.client("s3", **kw).create_bucket(Bucket="images")
print(k["AccessKeyId"], k["SecretAccessKey"])
EOF
)
[ -n "${SECRET:-}" ] || { echo "setup: no S3 key"; cat "$TMP/moto.log"; exit 1; }
present() {	# how many of app:1's chunks and manifest are in the bucket (HEAD each)
	python3 - "$EP" "$KEY" "$SECRET" "$M1" <<'EOF'
import boto3, botocore, json, sys
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
m = json.load(open(sys.argv[4]))
keys = ["site/chunks/" + h for h in sorted({ch["hash"] for ch in m["chunks"]})]
n = 0
for k in keys + ["site/manifests/app/1.json"]:
    try:
        c.head_object(Bucket="images", Key=k)
        n += 1
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] not in ("404", "NoSuchKey"):
            raise
print(n)
EOF
}
s3get() {	# KEY: an object's bytes on stdout
	python3 - "$EP" "$KEY" "$SECRET" "$1" <<'EOF'
import boto3, sys
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
sys.stdout.buffer.write(c.get_object(Bucket="images", Key=sys.argv[4])["Body"].read())
EOF
}

# ---- a wrong secret --------------------------------------------------------------------------
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=wrong "$RACKCTL" publish app:1 s3://images/site --store "$C" \
	--endpoint "$EP" --json >"$TMP/p.json" 2>"$TMP/err"
check_eq "$?" 1 "a wrong secret: publish fails"
jq -r .error "$TMP/p.json" | grep -q "403" && ok "it says the store refused (403)" ||
	fail "error: $(cat "$TMP/p.json" "$TMP/err")"
check_eq "$(present)" 0 "nothing was written"

# ---- from the environment -----------------------------------------------------------------------
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET "$RACKCTL" publish app:1 s3://images/site/ --store "$C" \
	--endpoint "$EP" --region us-east-1 --json >"$TMP/p.json" 2>"$TMP/err"
check_eq "$?" 0 "publish to S3, signed with the key from the environment"
check_eq "$(jq .written "$TMP/p.json")" "$N1" "every chunk was PUT"
check_eq "$(present)" "$((N1 + 1))" "the bucket holds each chunk under site/chunks/, and the manifest"
s3get site/manifests/app/1.json >"$TMP/m.json"
cmp -s "$TMP/m.json" "$C/manifests/app/1.json" && ok "the manifest under site/manifests/app/1.json" ||
	fail "the manifest in the bucket"
H=$(jq -r '.chunks[0].hash' "$M1")
s3get "site/chunks/$H" | cmp -s - "$(chunk_file "$H")" && ok "a chunk's bytes are the store's" ||
	fail "chunk bytes"

# ---- a 0600 file; a rerun PUTs nothing --------------------------------------------------------------
printf '# rackctl publish\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY" "$SECRET" >"$TMP/creds"
chmod 600 "$TMP/creds"
RACKCTL_S3_ENDPOINT=$EP env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$RACKCTL" publish app:1 \
	s3://images/site --store "$C" --credentials "$TMP/creds" --json >"$TMP/p.json" 2>"$TMP/err"
check_eq "$?" 0 "publish again with a credentials file and RACKCTL_S3_ENDPOINT"
check_eq "$(jq -r '[.written, .skipped, .present] | @csv' "$TMP/p.json")" "0,$N1,true" \
	"the rerun HEADs each chunk and writes nothing"
PUTS=$(grep -c '"PUT /images/site/' "$TMP/moto.log")
check_eq "$PUTS" "$((N1 + 1))" "PUTs: none refused, then each chunk and the manifest once"
grep -q "$SECRET" "$TMP/err" "$TMP/p.json" && fail "the secret was printed" || ok "the secret is never printed"

# ---- a version is published once ------------------------------------------------------------------
python3 - "$EP" "$KEY" "$SECRET" <<'EOF'
import boto3, sys
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
             aws_secret_access_key=sys.argv[3]).put_object(Bucket="images", Key="site/manifests/app/1.json", Body=b"{}")
EOF
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET "$RACKCTL" publish app:1 s3://images/site --store "$C" \
	--endpoint "$EP" >/dev/null 2>"$TMP/err"
check_eq "$?" 1 "S3: another manifest under the version is refused"
grep -q "published once" "$TMP/err" && ok "it says why" || fail "error: $(cat "$TMP/err")"
check_eq "$(s3get site/manifests/app/1.json)" "{}" "the bucket's manifest is left alone"
finish
