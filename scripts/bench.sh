#!/usr/bin/env bash
# `make bench`: builds kiln-bench in release mode, makes its inputs with ffmpeg
# (a 3840x2160 JPEG photo, a 10 s 1280x720 H.264+AAC MP4), and prints medians
# for Kiln in-process against the vips/ffmpeg command-line tools.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kiln-bench
work=$(mktemp -d /tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ffmpeg -v error -f lavfi -i testsrc2=size=3840x2160 -frames:v 1 -q:v 3 "$work/photo.jpg"
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 10 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$work/video.mp4"
"$(swift build -c release --show-bin-path)/kiln-bench" "$work/photo.jpg" "$work/video.mp4"
