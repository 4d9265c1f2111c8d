#!/usr/bin/env bash
# `make bench`, in three parts, each measured in this run:
#  1. in-process: kiln-bench, Kiln's engine against the vips/ffmpeg command-line
#     tools on the same inputs (medians and ratios);
#  2. service: scripts/servicebench.py, release `kiln serve` processes on a
#     throwaway PostgreSQL over loopback HTTP: thumbnails against thumbor 7.8
#     and the CPU limit, the queue with 1 and 4 worker processes, status reads
#     under wrk, 10,000 concurrent uploads, the peak memory of the server and its
#     workers under 8 concurrent 4K jobs (with a 1080p transcode);
#  3. scale-out: scripts/cluster.py bench (as root), jobs a second with 1, 2 and 3
#     worker hosts of the multi-host test (network namespaces, S3 storage);
#  4. soak: scripts/soak.sh, 1,000,000 status reads and 10,000 jobs, failing when
#     the server's RSS grows by more than 30 MB in a phase.
# Then scripts/benchreport.py writes BENCHMARKS.md from what this run measured.
# Inputs are made with ffmpeg: a detailed 3840x2160 JPEG of about 2 MB (a test
# pattern with film-grain noise, which costs to decode what a photo costs), a
# 10 s 1280x720 H.264+AAC MP4, a 10 s 1080p one for the transcode and a 30 s
# 1080p one for the HLS ladder; the tiny jobs' input is a 320x240 JPEG.
# KILN_BENCH_PARTS=inprocess,service,scaleout,soak chooses parts; KILN_BENCH_SECTIONS
# chooses the service sections (thumbs,queue,reads,uploads,memory).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=${KILN_BENCH_PARTS:-inprocess,service,scaleout,soak}
has() { [[ ",$parts," == *",$1,"* ]]; }

swift build -c release --product kiln-bench
swift build -c release --product kiln
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/kiln-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
  scripts/postgres.sh stop "$work/data" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ffmpeg -v error -f lavfi -i "testsrc2=size=3840x2160,noise=alls=18:allf=t" -frames:v 1 -q:v 5 "$work/photo.jpg"
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=8:allf=t" -f lavfi -i sine=frequency=440 -t 10 \
  -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac "$work/video1080.mp4"

if has inprocess; then
  ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 10 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$work/video.mp4"
  ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=8:allf=t" -f lavfi -i sine=frequency=440 -t 30 \
    -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac "$work/ladder1080.mp4"
  echo "== in-process: Kiln's engine against the command-line tools"
  "$bin/kiln-bench" "$work/photo.jpg" "$work/video.mp4" "$work/video1080.mp4" "$work/ladder1080.mp4" | tee "$work/inprocess.md"
fi

if has service; then
  # thumbor 7.8 in a virtual environment of its own (kept between runs).
  venv=.kiln/bench/thumbor-venv
  if ! "$venv/bin/thumbor" --version 2>/dev/null | grep -q "7.8.0"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check thumbor==7.8.0
  fi
  vipsthumbnail Fixtures/astronaut.jpg -s 320x240 -o "$work/tiny.jpg[Q=90]"
  # pg_stat_statements: the queue section reports which statements PostgreSQL's time per job goes to.
  PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements" \
    scripts/postgres.sh start "$work/data" "$work/sock" --throwaway
  echo
  echo "== service: release kiln serve over loopback HTTP"
  python3 scripts/servicebench.py --kiln "$bin/kiln" --kiln-bench "$bin/kiln-bench" \
    --database-url "$(scripts/postgres.sh url "$work/sock" kiln)" \
    --photo "$work/photo.jpg" --tiny "$work/tiny.jpg" --video "$work/video1080.mp4" --thumbor-venv "$venv" --work "$work/service" --postgres-data "$work/data" \
    --sections "${KILN_BENCH_SECTIONS:-thumbs,queue,reads,uploads,memory}" --json "$work/service.json"
  mkdir -p .kiln/bench && cp "$work/service.json" .kiln/bench/service.json
  scripts/postgres.sh stop "$work/data"
fi

if has scaleout; then
  echo
  echo "== scale-out: jobs a second with 1, 2 and 3 worker hosts"
  if [ "$(id -u)" -eq 0 ]; then
    python3 scripts/cluster.py bench --kiln "$bin/kiln" --photo "$work/photo.jpg" --json "$work/scaleout.json"
  else
    echo "skipped: the hosts are network namespaces, which need root"
  fi
fi

soak_status=0
if has soak; then
  echo
  echo "== soak: 1,000,000 status reads and 10,000 jobs"
  KILN_BIN="$bin/kiln" scripts/soak.sh | tee "$work/soak.md" || soak_status=$?
fi

echo
python3 scripts/benchreport.py --inprocess "$work/inprocess.md" --service "$work/service.json" \
  --scaleout "$work/scaleout.json" --soak "$work/soak.md"
exit "$soak_status"
