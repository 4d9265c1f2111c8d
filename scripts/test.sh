#!/usr/bin/env bash
# `make test`: a throwaway PostgreSQL on a private socket, the whole suite,
# then the cluster is removed. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests

dir=$(mktemp -d /tmp/kiln-test.XXXXXX)
chmod 755 "$dir"
cleanup() {
  scripts/postgres.sh stop "$dir/data"
  rm -rf "$dir"
}
trap cleanup EXIT
scripts/postgres.sh start "$dir/data" "$dir/sock" --throwaway
export KILN_TEST_DATABASE_URL=$(scripts/postgres.sh url "$dir/sock" kiln)
swift test --skip-build "$@"
