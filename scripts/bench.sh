#!/usr/bin/env bash
# `make bench`: builds kiln-bench in release mode, makes its inputs with ffmpeg
# (a detailed 3840x2160 JPEG of about 2 MB: a test pattern with film-grain noise,
# which costs to decode what a photo costs; a 10 s 1280x720 H.264+AAC MP4; a
# 10 s 1080p one for the transcode and a 30 s 1080p one for the HLS ladder), and
# prints medians for Kiln in-process against the vips/ffmpeg command-line tools.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kiln-bench
work=$(mktemp -d /tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ffmpeg -v error -f lavfi -i "testsrc2=size=3840x2160,noise=alls=18:allf=t" -frames:v 1 -q:v 5 "$work/photo.jpg"
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 10 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$work/video.mp4"
# A 10 s 1080p30 H.264 + AAC source for the transcode section.
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=8:allf=t" -f lavfi -i sine=frequency=440 -t 10 \
  -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac "$work/video1080.mp4"
# A 30 s 1080p30 source for the HLS ladder.
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=8:allf=t" -f lavfi -i sine=frequency=440 -t 30 \
  -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac "$work/ladder1080.mp4"
"$(swift build -c release --show-bin-path)/kiln-bench" "$work/photo.jpg" "$work/video.mp4" "$work/video1080.mp4" "$work/ladder1080.mp4"
