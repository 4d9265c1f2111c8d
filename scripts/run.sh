#!/usr/bin/env bash
# `make run`: build, then serve. Without DATABASE_URL a private PostgreSQL
# under .kiln/pg is started (created on first run, kept between runs) and
# stopped again when Kiln exits (Ctrl-C included).
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product kiln
bin=$(swift build -c release --show-bin-path)/kiln
mkdir -p .kiln

if [ -z "${DATABASE_URL:-}" ]; then
  data="$PWD/.kiln/pg"
  # The socket in a directory of its own under .kiln (mode 700, see postgres.sh), unless
  # the path is too long for a socket (107 bytes): then a private one in /tmp, per user.
  sock="$PWD/.kiln/pg-socket"
  if [ $(( ${#sock} + 15 )) -gt 107 ]; then
    sock="/tmp/kiln-$(id -u)-$(echo "$PWD" | md5sum | cut -c1-10)"
  fi
  scripts/postgres.sh start "$data" "$sock"
  trap 'scripts/postgres.sh stop "$data"; echo "PostgreSQL stopped."' EXIT
  export DATABASE_URL=$(scripts/postgres.sh url "$sock" kiln "$data.password")
  echo "Private PostgreSQL running in .kiln/pg"
fi

"$bin" migrate
# Not exec: the trap above must run after Kiln exits. Kiln gets the terminal's
# SIGINT itself and shuts down gracefully.
set +e
"$bin" serve &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' INT TERM
wait $pid
wait $pid 2>/dev/null
exit 0
