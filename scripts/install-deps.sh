#!/usr/bin/env bash
# Installs the Debian packages Kiln builds, runs and tests with, only when one
# is missing (a warm machine pays a dpkg query, not an apt run).
set -euo pipefail

packages=(
  pkg-config
  libvips-dev libvips-tools libturbojpeg0-dev libjpeg62-turbo-dev
  libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev libavfilter-dev ffmpeg
  postgresql-15
  libseccomp-dev
  libopencv-objdetect-dev libopencv-imgproc-dev opencv-data
  fonts-dejavu-core
  iproute2
)
with_oracles=false
# Several flags may be given at once (--with-test-oracles --with-bench).
for flag in "$@"; do
case "$flag" in
  --with-valgrind) packages+=(valgrind) ;;
  --with-soak) packages+=(wrk curl) ;;
  # make bench: wrk drives the status reads, image URLs and the queue; thumbor goes in a venv; djpeg is the decode-only baseline.
  --with-bench) packages+=(wrk curl python3 python3-venv libjpeg-turbo-progs) ;;
  # The tests drive Kiln with Python clients (stdlib) and compare against Python oracles.
  # Chromium and its driver run the console's browser test.
  # exiftool and heif-enc make the real-media corpus (scripts/corpus.py) with ffmpeg and vips.
  --with-test-oracles) with_oracles=true; packages+=(python3 python3-pip chromium chromium-driver libimage-exiftool-perl libheif-examples) ;;
  *) echo "install-deps.sh: unknown flag $flag" >&2; exit 2 ;;
esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python packages the tests use as oracles and clients (the reference BlurHash
# encoder, OpenCV's own face detector, Standard Webhooks' verifier, the tus
# reference client); after apt, which brings pip. --break-system-packages:
# Debian's Python refuses pip installs otherwise (PEP 668).
python_packages=()
# moto's server is the S3-compatible store the S3 tests talk to.
$with_oracles && python_packages=(blurhash==1.1.5 opencv-python-headless==4.10.0.84 standardwebhooks==1.1.0 tuspy==1.1.0 "moto[server]==5.2.1" selenium==4.27.1 openapi-spec-validator==0.7.1)
python_missing=()
for p in "${python_packages[@]+"${python_packages[@]}"}"; do
  module=${p%%=*}
  case "$module" in
    opencv-python-headless) module=cv2 ;;
    tuspy) module=tusclient ;;
    openapi-spec-validator) module=openapi_spec_validator ;;
    "moto[server]") module="moto.server" ;;
  esac
  python3 -c "import $module" 2>/dev/null || python_missing+=("$p")
done
if [ ${#python_missing[@]} -gt 0 ]; then
  echo "Installing Python test oracles: ${python_missing[*]}"
  python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${python_missing[@]}" 2>&1 | grep -v "Running pip as the 'root' user" || true
fi
