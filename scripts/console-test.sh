#!/usr/bin/env bash
# The console's browser test (Tests/Browser/console_test.py) against a real
# `kiln serve` on loopback, on the database `make test` started
# (KILN_TEST_DATABASE_URL, a fresh schema). Screenshots go to .kiln/console-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${KILN_TEST_DATABASE_URL:?run through make test}"

work=$(mktemp -d /tmp/kiln-console.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="key-console-$RANDOM$RANDOM"
DATABASE_URL=$KILN_TEST_DATABASE_URL KILN_DATABASE_SCHEMA="console_$RANDOM$RANDOM" KILN_DATA_DIR="$work" \
  KILN_API_KEYS="console:$key" KILN_PORT=$port KILN_PUBLIC_URL="http://127.0.0.1:$port" LOG_LEVEL=warning \
  .build/debug/kiln serve >"$work/kiln.log" 2>&1 &
kiln=$!
cleanup() {
  kill "$kiln" 2>/dev/null || true
  wait "$kiln" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 150); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null && break
  sleep 0.2
done
mkdir -p .kiln/console-test
if ! python3 Tests/Browser/console_test.py --url "http://127.0.0.1:$port/" --key "$key" --out .kiln/console-test; then
  echo "--- kiln serve's log"; tail -50 "$work/kiln.log"
  exit 1
fi
