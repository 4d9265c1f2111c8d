#!/usr/bin/env bash
# Re-creates every fixture. Needs ffmpeg (Debian) and Pillow (pip install Pillow).
# The outputs are committed; this script documents how each was made.
set -euo pipefail
cd "$(dirname "$0")"

python3 - <<'PY'
import random
from PIL import Image

# 320x240 as stored, left half red, right half blue, EXIF orientation 6
# ("rotate 90° clockwise to display"): displays as 240x320, red on top.
img = Image.new("RGB", (320, 240), (220, 30, 30))
img.paste((30, 30, 220), (160, 0, 320, 240))
exif = Image.Exif()
exif[0x0112] = 6
img.save("photo-exif6.jpg", quality=90, exif=exif.tobytes())

# 200x100 PNG with alpha: left half fully transparent, right half opaque green.
img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
img.paste((20, 200, 20, 255), (100, 0, 200, 100))
img.save("alpha.png")

# 300x200 WebP, a horizontal gradient.
img = Image.new("RGB", (300, 200))
img.putdata([(x * 255 // 299, 128, 255 - x * 255 // 299) for y in range(200) for x in range(300)])
img.save("gradient.webp", quality=85)

# A 640x480 noisy JPEG cut to 40% of its bytes: the header is intact, the scan is not.
random.seed(7)
img = Image.new("RGB", (640, 480))
img.putdata([(random.randrange(256), random.randrange(256), random.randrange(256)) for _ in range(640 * 480)])
img.save("/tmp/kiln-noise.jpg", quality=90)
data = open("/tmp/kiln-noise.jpg", "rb").read()
open("truncated.jpg", "wb").write(data[: len(data) * 4 // 10])

# 4 KiB of random bytes: no known signature.
random.seed(11)
open("random.bin", "wb").write(bytes(random.randrange(256) for _ in range(4096)))
PY

# 3 s, 320x240 at 25 fps, H.264 + AAC, moov first.
ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 3 \
  -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p -c:a aac -b:a 64k -movflags +faststart clip.mp4

# The same clip with moov at the end, cut in half: no index, so it cannot be opened.
ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 3 \
  -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p -c:a aac -b:a 64k /tmp/kiln-moov-last.mp4
size=$(stat -c %s /tmp/kiln-moov-last.mp4)
head -c $((size / 2)) /tmp/kiln-moov-last.mp4 > truncated.mp4

# 2 s of a 440 Hz tone as MP3.
ffmpeg -v error -y -f lavfi -i sine=frequency=440:sample_rate=44100:duration=2 -c:a libmp3lame -b:a 64k tone.mp3
