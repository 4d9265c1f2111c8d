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
cp "$(swift build --show-bin-path)/kiln-leakcheck" "$binary"
strip --strip-debug "$binary"
chmod +x "$binary"
# Streams that change picture size, pixel format or channel layout mid-way: any read
# beyond a frame's planes is a valgrind error, and errors fail the run.
changes=$(mktemp -d /tmp/kiln-leakcheck-streams.XXXXXX)
trap 'rm -f "$binary"; rm -rf "$changes"' EXIT
joined() {  # joined NAME SIZE1 FORMAT1 PROFILE1 SIZE2 FORMAT2 PROFILE2
  local name=$1; shift
  for part in 0 1; do
    ffmpeg -v error -f lavfi -i "testsrc2=size=$1:rate=10:duration=1" -pix_fmt "$2" -c:v libx264 -preset ultrafast -profile:v "$3" \
      -bsf:v h264_mp4toannexb -f h264 "$changes/$name.$part.h264"
    shift 3
  done
  cat "$changes/$name.0.h264" "$changes/$name.1.h264" > "$changes/$name.h264"
  ffmpeg -v error -r 10 -i "$changes/$name.h264" -c copy "$changes/$name.mp4"
}
joined size-change 320x240 yuv420p high 96x64 yuv420p high
joined format-change 160x120 yuv420p high 160x120 yuv444p high444
for layout in mono stereo; do
  ffmpeg -v error -f lavfi -i "sine=duration=1:sample_rate=44100,aformat=channel_layouts=$layout" -c:a aac -f adts "$changes/$layout.aac"
done
cat "$changes/mono.aac" "$changes/stereo.aac" > "$changes/layout-change.aac"
# A phone-style clip whose display matrix says 90 degrees: WebM and HLS turn its pixels (libavfilter's transpose).
ffmpeg -v error -f lavfi -i "testsrc2=size=160x96:rate=10:duration=2" -c:v libx264 -preset ultrafast "$changes/upright.mp4"
ffmpeg -v error -display_rotation 90 -i "$changes/upright.mp4" -c copy "$changes/rotated.mp4" 2>/dev/null \
  || ffmpeg -v error -i "$changes/upright.mp4" -c copy -metadata:s:v rotate=90 "$changes/rotated.mp4"
VIPS_NOVECTOR=1 valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --suppressions=scripts/valgrind.supp --error-exitcode=1 "$binary" Fixtures "$changes"
echo "leakcheck: no definite leaks"
