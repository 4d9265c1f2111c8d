#!/usr/bin/env bash
# `make soak`: a release `kiln serve` on a throwaway PostgreSQL, driven hard on
# every database-backed route (scripts/soak.py); fails when the server's RSS
# grows by more than 30 MB in any phase. Extra arguments go to soak.py
# (e.g. `make soak SOAK_ARGS="--reads 200000 --jobs 1000"`).
set -euo pipefail
cd "$(dirname "$0")/.."

# KILN_BIN runs another build (an older commit's, to compare) against the same load.
if [ -z "${KILN_BIN:-}" ]; then
  swift build -c release --product kiln
  KILN_BIN=$(swift build -c release --show-bin-path)/kiln
fi
bin=$KILN_BIN

dir=$(mktemp -d /tmp/kiln-soak.XXXXXX)
chmod 755 "$dir"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  scripts/postgres.sh stop "$dir/data"
  rm -rf "$dir"
}
trap cleanup EXIT
scripts/postgres.sh start "$dir/data" "$dir/sock" --throwaway

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="soak-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DATABASE_URL=$(scripts/postgres.sh url "$dir/sock" kiln)
# No rate limit: the soak drives one key far beyond the default 500 requests a second.
export KILN_RATE_LIMIT=0
export KILN_API_KEYS="soak:$key" KILN_PORT=$port KILN_DATA_DIR="$dir/kiln" LOG_LEVEL=${LOG_LEVEL:-warning}
"$bin" serve > "$dir/kiln.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "kiln did not become healthy:"; cat "$dir/kiln.log"; exit 1; }

python3 scripts/soak.py --base "http://127.0.0.1:$port" --key "$key" --pid "$pid" --fixtures Fixtures ${SOAK_ARGS:-} "$@"
