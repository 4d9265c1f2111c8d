#!/usr/bin/env bash
# A real S3-compatible server for tests and benches: moto's server (PyPI
# `moto[server]`) on loopback, with signature checking on. moto checks SigV4
# only for keys it issued, so the first four calls (unsigned) make an IAM user,
# its access key and an allow-all policy; every later call must be signed with
# that key, and a wrong signature is refused as AWS would.
#
#   scripts/s3server.sh start DIR [ADDRESS]   start; writes DIR/env (S3_ENDPOINT, AWS_*)
#   scripts/s3server.sh stop DIR
# S3_BUCKET=NAME also creates that bucket.
set -euo pipefail

command=${1:?start or stop}
dir=${2:?directory}
address=${3:-127.0.0.1}

case "$command" in
start)
  mkdir -p "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  INITIAL_NO_AUTH_ACTION_COUNT=4 nohup python3 "$(dirname "$0")/s3server.py" -H "$address" -p "$port" >"$dir/moto.log" 2>&1 &
  echo $! >"$dir/pid"
  endpoint="http://$address:$port"
  for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
  python3 - "$endpoint" "$dir/env" "${S3_BUCKET:-}" <<'PY'
import json, sys, boto3
endpoint, env_path, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="kiln")
key = iam.create_access_key(UserName="kiln")["AccessKey"]
policy = iam.create_policy(PolicyName="kiln-all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
iam.attach_user_policy(UserName="kiln", PolicyArn=policy["Policy"]["Arn"])
if bucket:
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"]).create_bucket(Bucket=bucket)
with open(env_path, "w") as f:
    f.write(f"S3_ENDPOINT={endpoint}\nAWS_ACCESS_KEY_ID={key['AccessKeyId']}\n"
            f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\nAWS_REGION=us-east-1\n")
PY
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -f "$dir/pid"
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR [ADDRESS]" >&2
  exit 2
  ;;
esac
