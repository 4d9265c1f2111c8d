#!/usr/bin/env bash
# `make leakcheck`: the bindings' workload (kiln-leakcheck: thumbnails, saves,
# probes, and their failure paths) under valgrind; fails on any definite leak.
# - The binary is stripped of debug info: valgrind 3.19 cannot read the DWARF 5
#   that Swift's toolchain emits, and gives up.
# - VIPS_NOVECTOR=1: liborc's JIT code uses instructions valgrind cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product kiln-leakcheck
binary=$(mktemp /tmp/kiln-leakcheck.XXXXXX)
trap 'rm -f "$binary"' EXIT
cp "$(swift build --show-bin-path)/kiln-leakcheck" "$binary"
strip --strip-debug "$binary"
chmod +x "$binary"
VIPS_NOVECTOR=1 valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --suppressions=scripts/valgrind.supp --error-exitcode=1 "$binary" Fixtures
echo "leakcheck: no definite leaks"
