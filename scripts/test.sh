#!/usr/bin/env bash
# `make test`: a throwaway PostgreSQL on a private socket and an S3 server on
# loopback, the whole suite, then both are removed. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
# Full-size media as phones and apps make them, for the conformance matrix (made once, kept until the script changes).
python3 scripts/corpus.py

dir=$(mktemp -d /tmp/kiln-test.XXXXXX)
chmod 755 "$dir"
cleanup() {
  scripts/s3server.sh stop "$dir/s3"
  scripts/postgres.sh stop "$dir/data"
  rm -rf "$dir"
}
trap cleanup EXIT
scripts/postgres.sh start "$dir/data" "$dir/sock" --throwaway
export KILN_TEST_DATABASE_URL=$(scripts/postgres.sh url "$dir/sock" kiln)
# An S3-compatible server (moto, signatures checked) for the S3 store's tests.
scripts/s3server.sh start "$dir/s3"
export KILN_TEST_S3_ENDPOINT=$(sed -n 's/^S3_ENDPOINT=//p' "$dir/s3/env")
export KILN_TEST_S3_ACCESS_KEY_ID=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$dir/s3/env")
export KILN_TEST_S3_SECRET_ACCESS_KEY=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$dir/s3/env")
# At most 12 tests at a time. Unbounded, all ~330 start at once on a 2-core machine,
# and the Kilns they run in-process (sharing the process's two cooperative threads)
# answered some requests after their clients' 20-30 s timeouts: clean-clone runs
# failed so in CrashSafetyTests, JobEventsTests and APITests. With 12, a full run
# passed locally in 433 s, against 468 s unbounded.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-12}
swift test --skip-build "$@"
# The web console in a real browser (Chromium, headless), against a kiln serve.
if [ $# -eq 0 ]; then scripts/console-test.sh; fi
