#!/usr/bin/env python3
"""Makes the real-media corpus: full-size files as phones and apps make them.

    scripts/corpus.py [DIRECTORY]      (default: Fixtures/corpus)

Every file is made from scratch with Debian's tools (vips, ffmpeg, exiftool,
heif-enc), from one picture (Fixtures/astronaut.jpg, a real face, scaled to
the size a phone writes, with sensor-like noise) carrying four corner markers:
red top-left, green top-right, blue bottom-left, yellow bottom-right, as
displayed. A file stored turned (EXIF orientation, a display matrix) holds the
pixels turned the other way, so whatever is upright shows red top-left.

`manifest.json` describes each file: its kind, its size as displayed, and for
video and audio its frames, duration and streams. The conformance matrix test
(Tests/ConformanceTests) reads it. A run whose script is unchanged does
nothing (the manifest names the script's SHA-256).
"""
import hashlib
import re
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT_HASH = hashlib.sha256(open(os.path.abspath(__file__), "rb").read()).hexdigest()
PHOTO = os.path.join(ROOT, "Fixtures", "astronaut.jpg")

# Marker colours, as displayed: the matrix test samples them to tell orientation.
RED, GREEN, BLUE, YELLOW = "255 0 0", "0 255 0", "0 0 255", "255 255 0"


def run(*args, **kwargs):
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)


def vips(*args):
    run("vips", *args)


def ffmpeg(*args):
    run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args)


def irot(quarter_turns_anticlockwise):
    import struct
    return struct.pack(">I4sB", 9, b"irot", quarter_turns_anticlockwise & 3)


def imir(axis):
    """0 mirrors about a vertical axis (left and right change places), 1 about a horizontal one."""
    import struct
    return struct.pack(">I4sB", 9, b"imir", axis & 1)


def with_primary(data, item):
    """A HEIF file whose primary item (`pitm`) is `item`: as a burst or a Live Photo's
    still, the image to show need not be the first one stored."""
    import struct
    at = data.index(b"pitm") - 4
    version = data[at + 8]
    out = bytearray(data)
    struct.pack_into(">I" if version else ">H", out, at + 12, item)
    return bytes(out)


def with_irot(data, quarter_turns_anticlockwise):
    return with_transforms(data, [irot(quarter_turns_anticlockwise)])


def with_transforms(data, boxes):
    """A HEIF file with transform properties (`irot`, `imir`) added to its primary item,
    applied in the order given.

    heif-enc keeps a JPEG's EXIF orientation but writes no transform, and HEIF
    readers (libheif, Apple's) ignore EXIF orientation: a phone's HEIC carries
    both. The properties go at the end of `ipco`, are associated (essential) with
    the primary item in `ipma`, the enclosing boxes grow, and every file offset
    in `iloc` moves by the bytes inserted before the media data.
    """
    import struct

    def children(start, end):
        while start < end:
            size, kind = struct.unpack_from(">I4s", data, start)
            yield start, size, kind.decode()
            start += size

    top = {kind: (start, size) for start, size, kind in children(0, len(data))}
    meta_start, meta_size = top["meta"]
    assert top["mdat"][0] > meta_start, "media data before meta"
    meta = {kind: (start, size) for start, size, kind in children(meta_start + 12, meta_start + meta_size)}
    iprp_start, iprp_size = meta["iprp"]
    iprp = {kind: (start, size) for start, size, kind in children(iprp_start + 8, iprp_start + iprp_size)}
    ipco_start, ipco_size = iprp["ipco"]
    ipma_start, ipma_size = iprp["ipma"]
    property_index = len(list(children(ipco_start + 8, ipco_start + ipco_size))) + 1
    pitm_start, _ = meta["pitm"]
    primary = struct.unpack_from(">H", data, pitm_start + 12)[0]

    # ipma: find the primary item's entry and append one essential association.
    version, flags = data[ipma_start + 8], int.from_bytes(data[ipma_start + 9:ipma_start + 12], "big")
    wide_index = flags & 1
    position, count = ipma_start + 16, struct.unpack_from(">I", data, ipma_start + 12)[0]
    insert_at = None
    for _ in range(count):
        item = struct.unpack_from(">I" if version >= 1 else ">H", data, position)[0]
        position += 4 if version >= 1 else 2
        associations = data[position]
        count_at = position
        position += 1 + associations * (2 if wide_index else 1)
        if item == primary:
            insert_at = (count_at, position)
    association = b"".join(struct.pack(">H", 0x8000 | (property_index + i)) if wide_index else bytes([0x80 | (property_index + i)])
                           for i in range(len(boxes)))
    properties = b"".join(boxes)
    growth = len(properties) + len(association)

    out = bytearray(data)
    count_at, association_at = insert_at
    out[association_at:association_at] = association
    out[count_at] += len(boxes)
    ipco_end = ipco_start + ipco_size  # before ipma, so still valid after the ipma insert
    assert ipco_end <= ipma_start
    out[ipco_end:ipco_end] = properties
    for start, grown in ((ipco_start, len(properties)), (ipma_start + len(properties), len(association)),
                         (iprp_start, growth), (meta_start, growth)):
        struct.pack_into(">I", out, start, struct.unpack_from(">I", out, start)[0] + grown)

    # iloc sits before iprp in heif-enc's files: its position is unchanged.
    iloc_start, _ = meta["iloc"]
    assert iloc_start < iprp_start
    version = out[iloc_start + 8]
    sizes = out[iloc_start + 12], out[iloc_start + 13]
    offset_size, length_size, base_size = sizes[0] >> 4, sizes[0] & 15, sizes[1] >> 4
    index_size = sizes[1] & 15 if version in (1, 2) else 0
    position = iloc_start + 14
    items = struct.unpack_from(">I" if version == 2 else ">H", out, position)[0]
    position += 4 if version == 2 else 2

    def shift(at, size):
        if size:
            value = int.from_bytes(out[at:at + size], "big")
            out[at:at + size] = (value + growth).to_bytes(size, "big")

    for _ in range(items):
        position += 4 if version == 2 else 2
        method = 0
        if version in (1, 2):
            method = struct.unpack_from(">H", out, position)[0] & 15
            position += 2
        position += 2  # data reference index
        base_at = position
        position += base_size
        extents = struct.unpack_from(">H", out, position)[0]
        position += 2
        if method == 0 and base_size:
            shift(base_at, base_size)
        for _ in range(extents):
            position += index_size
            if method == 0 and not base_size:
                shift(position, offset_size)
            position += offset_size + length_size
    return bytes(out)


class Corpus:
    def __init__(self, directory, scratch):
        self.directory = directory
        self.scratch = scratch
        self.files = []

    def path(self, name):
        return os.path.join(self.directory, name)

    def tmp(self, name):
        return os.path.join(self.scratch, name)

    def add(self, name, kind, **facts):
        entry = {"name": name, "kind": kind, "size": os.path.getsize(self.path(name))}
        entry.update(facts)
        self.files.append(entry)

    # --- pictures -----------------------------------------------------------

    def upright(self, width, height, name=None):
        """The marked picture as displayed, width x height, in vips' own format."""
        out = self.tmp(name or f"upright-{width}x{height}.v")
        if os.path.exists(out):
            return out
        base, noise, noisy = self.tmp("base.v"), self.tmp("noise.v"), self.tmp("noisy.v")
        vips("thumbnail", PHOTO, base, width, "--height", height, "--crop", "centre", "--size", "both")
        vips("gaussnoise", noise, width, height, "--sigma", 5, "--mean", 0)
        vips("add", base, noise, noisy)
        vips("cast", noisy, out, "uchar")
        w, h = width // 8, height // 8
        for ink, x, y in ((RED, 0, 0), (GREEN, width - w, 0), (BLUE, 0, height - h), (YELLOW, width - w, height - h)):
            vips("draw_rect", out, ink, x, y, w, h, "--fill")
        return out

    def stored_for(self, upright, orientation):
        """The pixels a camera stores so that EXIF `orientation` displays `upright`."""
        out = self.tmp(f"stored-{orientation}-{os.path.basename(upright)}")
        # What each orientation does to the stored pixels to display them, undone.
        undo = {
            1: [], 2: [("flip", "horizontal")], 3: [("rot", "d180")], 4: [("flip", "vertical")],
            5: [("rot", "d90"), ("flip", "horizontal")], 6: [("rot", "d270")],
            7: [("rot", "d270"), ("flip", "horizontal")], 8: [("rot", "d90")],
        }[orientation]
        current = upright
        for index, (operation, argument) in enumerate(undo):
            step = self.tmp(f"step{index}-{orientation}.v")
            vips(operation, current, step, argument)
            current = step
        shutil.copyfile(current, out) if current != upright else shutil.copyfile(upright, out)
        return out

    def jpeg(self, name, source, *options, orientation=None, width, height, **facts):
        vips("jpegsave", source, self.path(name), *options)
        if orientation is not None:
            run("exiftool", "-q", "-overwrite_original", "-n", f"-Orientation={orientation}", self.path(name))
        self.add(name, "image", format="jpeg", width=width, height=height, markers=facts.pop("markers", True), **facts)

    def images(self):
        W, H = 4032, 3024
        landscape, portrait = self.upright(W, H), self.upright(H, W)
        # Every EXIF orientation: 1-4 display landscape, 5-8 portrait (as a phone held upright writes).
        for o in range(1, 9):
            shown = landscape if o <= 4 else portrait
            self.jpeg(f"jpeg-12mp-o{o}.jpg", self.stored_for(shown, o), "--Q", 90, orientation=o,
                      width=W if o <= 4 else H, height=H if o <= 4 else W)
        # The two files of the report: a 4K frame and a 1080p photo with orientation 6.
        self.jpeg("jpeg-4k.jpg", self.upright(3840, 2160), "--Q", 85, width=3840, height=2160)
        self.jpeg("jpeg-1080-o6.jpg", self.stored_for(self.upright(1080, 1920), 6), "--Q", 85, orientation=6, width=1080, height=1920)
        self.jpeg("jpeg-progressive.jpg", landscape, "--Q", 85, "--interlace", width=W, height=H)
        self.jpeg("jpeg-444.jpg", landscape, "--Q", 92, "--subsample-mode", "off", width=W, height=H)
        gray = self.tmp("gray.v")
        vips("colourspace", landscape, gray, "b-w")
        self.jpeg("jpeg-gray.jpg", gray, "--Q", 85, width=W, height=H, markers=False)
        # CMYK as print workflows write it (libvips' built-in CMYK profile, embedded).
        cmyk = self.tmp("cmyk.v")
        vips("icc_export", self.upright(2400, 1800), cmyk, "--output-profile", "cmyk")
        self.jpeg("jpeg-cmyk.jpg", cmyk, "--Q", 90, width=2400, height=1800)
        self.files[-1]["markerColours"] = self.reference_markers("jpeg-cmyk.jpg")
        # Display P3 pixels with the profile embedded, as iPhones write: must come out as the same sRGB colours.
        p3 = self.tmp("p3.v")
        vips("icc_transform", landscape, p3, "p3", "--input-profile", "srgb")
        # Left in P3 numbers, red would be about (234, 51, 35): 65 away from sRGB red, so the check is tighter.
        self.jpeg("jpeg-p3.jpg", p3, "--Q", 90, width=W, height=H, colourTolerance=30)
        # 50 MP (a 50 MP phone sensor's 8160x6120), just under Kiln's 50,000,000-pixel limit.
        self.jpeg("jpeg-50mp.jpg", self.upright(8160, 6120), "--Q", 80, width=8160, height=6120)

        # PNG: 16-bit, palette with transparency, grey with alpha, interlaced.
        picture = self.upright(2048, 1536)
        wide = self.tmp("16bit.v")
        vips("colourspace", picture, wide, "rgb16")
        vips("pngsave", wide, self.path("png-16bit.png"))
        self.add("png-16bit.png", "image", format="png", width=2048, height=1536, markers=True)
        with_alpha = self.with_alpha(picture)
        vips("pngsave", with_alpha, self.path("png-palette-alpha.png"), "--palette", "--Q", 90)
        self.add("png-palette-alpha.png", "image", format="png", width=2048, height=1536, markers=True, alpha=True)
        grey_alpha = self.tmp("grey-alpha.v")
        vips("colourspace", with_alpha, grey_alpha, "b-w")
        vips("pngsave", grey_alpha, self.path("png-gray-alpha.png"))
        self.add("png-gray-alpha.png", "image", format="png", width=2048, height=1536, markers=False, alpha=True)
        vips("pngsave", picture, self.path("png-interlaced.png"), "--interlace")
        self.add("png-interlaced.png", "image", format="png", width=2048, height=1536, markers=True)

        # WebP: lossy, lossless with alpha. AVIF. An iPhone-like HEIC: 12 MP stored turned, EXIF orientation 6.
        vips("webpsave", landscape, self.path("webp-lossy.webp"), "--Q", 80)
        self.add("webp-lossy.webp", "image", format="webp", width=W, height=H, markers=True)
        vips("webpsave", with_alpha, self.path("webp-lossless-alpha.webp"), "--lossless")
        self.add("webp-lossless-alpha.webp", "image", format="webp", width=2048, height=1536, markers=True, alpha=True)
        vips("heifsave", picture, self.path("avif.avif"), "--compression", "av1", "--Q", 60, "--effort", 2)
        self.add("avif.avif", "image", format="avif", width=2048, height=1536, markers=True)
        turned = self.tmp("heic-stored.jpg")
        vips("jpegsave", self.stored_for(portrait, 6), turned, "--Q", 95)
        run("exiftool", "-q", "-overwrite_original", "-n", "-Orientation=6", turned)
        run("heif-enc", "-q", 60, "-o", self.tmp("plain.heic"), turned)
        # An iPhone also says so in the container (irot), which is what HEIF readers obey.
        with open(self.path("heic-12mp-o6.heic"), "wb") as out:
            out.write(with_irot(open(self.tmp("plain.heic"), "rb").read(), quarter_turns_anticlockwise=3))
        self.add("heic-12mp-o6.heic", "image", format="heic", width=H, height=W, markers=True)
        # EXIF orientation 5 (transposed) as a HEIF says it: a mirror, then a quarter turn
        # anticlockwise (imir, then irot, in the order they are associated). The mirror's axis is
        # 1 here because that is what libheif 1.15 shows upright: the spec words axis 0 as the
        # left-to-right mirror, and HEIF readers have disagreed on it, so Kiln's test is libheif's.
        transposed = self.tmp("heic-stored-o5.jpg")
        vips("jpegsave", self.stored_for(portrait, 5), transposed, "--Q", 95)
        run("exiftool", "-q", "-overwrite_original", "-n", "-Orientation=5", transposed)
        run("heif-enc", "-q", 60, "-o", self.tmp("plain-o5.heic"), transposed)
        with open(self.path("heic-12mp-o5.heic"), "wb") as out:
            out.write(with_transforms(open(self.tmp("plain-o5.heic"), "rb").read(), [imir(1), irot(1)]))
        self.add("heic-12mp-o5.heic", "image", format="heic", width=H, height=W, markers=True)
        # A burst (or a Live Photo's still): two images, the one to show (pitm) stored second, in
        # Display P3 with its profile as iPhones write; the first is a dim copy a reader must skip.
        dim, dim_jpeg = self.tmp("burst-dim.v"), self.tmp("burst-dim.jpg")
        vips("linear", landscape, dim, 0.3, 20)
        vips("jpegsave", dim, dim_jpeg, "--Q", 90)
        run("heif-enc", "-q", 60, "-o", self.tmp("burst.heic"), dim_jpeg, self.path("jpeg-p3.jpg"))
        ids = [int(i) for i in re.findall(r"^image: .*\(id=(\d+)\)", subprocess.run(
            ["heif-info", self.tmp("burst.heic")], check=True, capture_output=True, text=True).stdout, re.M)]
        assert len(ids) == 2, ids
        with open(self.path("heic-p3-burst.heic"), "wb") as out:
            out.write(with_primary(open(self.tmp("burst.heic"), "rb").read(), ids[1]))
        self.add("heic-p3-burst.heic", "image", format="heic", width=W, height=H, markers=True, colourTolerance=30)

        # Animations: 32 frames, the first 16 shown 100 ms and the rest 200 ms (ffmpeg's muxers write
        # each frame's time until the next), so a step that loses the delays shows.
        timing = "setpts='if(lt(N,16),N*0.1,1.6+(N-16)*0.2)/TB'"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=480x270:rate=10:duration=3.2",
               "-vf", "drawbox=x=0:y=0:w=60:h=34:color=red:t=fill," + timing, "-fps_mode", "passthrough",
               self.path("animated.gif"))
        self.add("animated.gif", "image", format="gif", width=480, height=270, markers=False, frames=32)
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=480x270:rate=10:duration=3.2", "-vf", timing, "-fps_mode", "passthrough",
               "-c:v", "libwebp", "-loop", "0", self.path("animated.webp"))
        self.add("animated.webp", "image", format="webp", width=480, height=270, markers=False, frames=32)
        # An APNG (libvips reads only its first frame), half see-through in one corner so alpha shows.
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=480x270:rate=10:duration=3.2",
               "-vf", "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,120)*lt(Y,68),128,255)'," + timing, "-fps_mode", "passthrough",
               "-plays", "0", "-f", "apng", self.path("animated.png"))
        self.add("animated.png", "image", format="png", width=480, height=270, markers=False, frames=32)

    def reference_markers(self, name):
        """The marker colours libvips' own sRGB conversion of a file gives, through its embedded
        profile: pure sRGB green and blue lie outside CMYK's gamut, so they come back other colours."""
        converted = self.tmp("reference.v")
        vips("icc_transform", self.path(name), converted, "srgb", "--embedded")
        width, height = (int(subprocess.run(["vipsheader", "-f", field, converted], check=True, capture_output=True, text=True).stdout)
                         for field in ("width", "height"))
        spots = {"red": (width // 16, height // 16), "green": (width - 1 - width // 16, height // 16),
                 "blue": (width // 16, height - 1 - height // 16), "yellow": (width - 1 - width // 16, height - 1 - height // 16)}
        return {colour: [round(float(v)) for v in subprocess.run(["vips", "getpoint", converted, str(x), str(y)], check=True,
                                                                  capture_output=True, text=True).stdout.split()]
                for colour, (x, y) in spots.items()}

    def with_alpha(self, picture):
        """The picture with a transparent left quarter (beyond the markers' column)."""
        out, mask = self.tmp("alpha.v"), self.tmp("mask.v")
        vips("black", mask, 2048, 1536)
        vips("linear", mask, self.tmp("mask255.v"), 1, 255)
        vips("cast", self.tmp("mask255.v"), mask, "uchar")
        vips("draw_rect", mask, "0", 300, 0, 300, 1536, "--fill")
        vips("bandjoin", f"{picture} {mask}", out)
        return out

    # --- video and audio ----------------------------------------------------

    def marked_video(self, width, height, seconds, rate=30):
        """A moving test picture with the four corner markers, as a lavfi graph."""
        w, h = width // 8, height // 8
        boxes = ",".join(f"drawbox=x={x}:y={y}:w={w}:h={h}:color={c}:t=fill" for c, x, y in (
            ("red", 0, 0), ("lime", width - w, 0), ("blue", 0, height - h), ("yellow", width - w, height - h)))
        return f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds},{boxes}"

    def video(self, name, *args, width, height, duration, audio=0, frames=None, markers=True, **facts):
        ffmpeg(*args, self.path(name))
        self.add(name, "video", width=width, height=height, duration=duration, audioStreams=audio, markers=markers,
                 **({"frames": frames} if frames else {}), **facts)

    def videos(self):
        tone = lambda seconds, hz=440, layout="stereo", rate=48000: ["-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate={rate}:duration={seconds},aformat=channel_layouts={layout}"]
        # A phone's MOV: HEVC stored landscape, display matrix "rotate 90", AAC. Shown 1080x1920.
        # ffmpeg 5.1 sets the display matrix only when remuxing, and its "rotate" tag counts the other
        # way: 270 gives what ffprobe reports for an iPhone's portrait clip (rotation=-90, turn clockwise).
        stored = self.tmp("phone-stored.mov")
        ffmpeg("-f", "lavfi", "-i", self.marked_video(1080, 1920, 2), *tone(2),
               "-vf", "transpose=cclock", "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error",
               "-c:a", "aac", "-b:a", "96k", "-shortest", stored)
        self.video("phone-hevc-rot90.mov", "-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=270",
                   width=1080, height=1920, duration=2.0, audio=1, frames=60, rotation=90)
        # H.264 at a variable frame rate (a phone's low-light capture): 30 fps, then 15.
        self.video("h264-vfr.mp4", "-f", "lavfi", "-i", self.marked_video(1280, 720, 3), *tone(3),
                   "-vf", "select='lt(t,1.5)+not(mod(n,2))'", "-fps_mode", "passthrough",
                   "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
                   width=1280, height=720, duration=3.0, audio=1, frames=67, variableFrameRate=True)
        self.video("hevc-10bit.mp4", "-f", "lavfi", "-i", self.marked_video(1920, 1080, 2), "-pix_fmt", "yuv420p10le",
                   "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error",
                   width=1920, height=1080, duration=2.0, frames=60)
        self.video("vp9-opus.webm", "-f", "lavfi", "-i", self.marked_video(1280, 720, 2), *tone(2),
                   "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M", "-c:a", "libopus", "-shortest",
                   width=1280, height=720, duration=2.0, audio=1, frames=60)
        self.video("portrait-1080x1920.mp4", "-f", "lavfi", "-i", self.marked_video(1080, 1920, 2), *tone(2),
                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                   width=1080, height=1920, duration=2.0, audio=1, frames=60)
        self.video("no-audio.mp4", "-f", "lavfi", "-i", self.marked_video(1280, 720, 2),
                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                   width=1280, height=720, duration=2.0, frames=60)
        self.video("two-audio.mp4", "-f", "lavfi", "-i", self.marked_video(1280, 720, 2), *tone(2, 440), *tone(2, 660, "mono"),
                   "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                   "-c:a", "aac", "-shortest", width=1280, height=720, duration=2.0, audio=2, frames=60)
        # Two clips joined in one H.264 stream: 1920x1080 for 1 s, then 160x120 for 1 s (in-band SPS change).
        self.joined_h264("size-change.mp4", [("1920x1080", "yuv420p", "high"), ("160x120", "yuv420p", "high")])
        self.add("size-change.mp4", "video", width=1920, height=1080, duration=2.0, audioStreams=0, markers=False, frames=60,
                 changesSize=True, middleFrame=[160, 120])
        # The same with the pixel format changing (4:2:0, then 4:4:4).
        self.joined_h264("pixfmt-change.mp4", [("640x360", "yuv420p", "high"), ("640x360", "yuv444p", "high444")])
        self.add("pixfmt-change.mp4", "video", width=640, height=360, duration=2.0, audioStreams=0, markers=False, frames=60,
                 changesFormat=True)

        # Audio.
        def audio(name, *args, duration, channels, rate, **facts):
            ffmpeg(*args, self.path(name))
            self.add(name, "audio", duration=duration, channels=channels, sampleRate=rate, **facts)
        audio("voice-note.ogg", *tone(3, 300, "mono", 16000), "-c:a", "libopus", "-b:a", "24k", duration=3.0, channels=1, rate=16000)
        cover = self.tmp("cover.jpg")
        vips("thumbnail", PHOTO, cover, 300)
        audio("cover-art.mp3", *tone(3), "-i", cover, "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "128k",
              "-c:v", "copy", "-disposition:v", "attached_pic", "-id3v2_version", "3", duration=3.0, channels=2, rate=48000)
        audio("aac-5.1.m4a", *tone(3, 440, "5.1"), "-c:a", "aac", "-b:a", "256k", duration=3.0, channels=6, rate=48000)
        audio("wav-8k.wav", *tone(3, 440, "mono", 8000), "-c:a", "pcm_s16le", duration=3.0, channels=1, rate=8000)
        audio("flac.flac", *tone(3, 440, "stereo", 44100), "-c:a", "flac", duration=3.0, channels=2, rate=44100)
        # Mono, then stereo, in one ADTS stream (each frame carries its own channel configuration).
        parts = []
        for index, layout in enumerate(("mono", "stereo")):
            part = self.tmp(f"layout{index}.aac")
            ffmpeg(*tone(1.5, 440 + 220 * index, layout, 44100), "-c:a", "aac", "-b:a", "96k", "-f", "adts", part)
            parts.append(part)
        with open(self.path("layout-change.aac"), "wb") as out:
            for part in parts:
                out.write(open(part, "rb").read())
        self.add("layout-change.aac", "audio", duration=3.0, channels=2, sampleRate=44100, changesLayout=True)

    def joined_h264(self, name, parts):
        streams = []
        for index, (size, pixel_format, profile) in enumerate(parts):
            width, height = (int(v) for v in size.split("x"))
            part = self.tmp(f"{name}-{index}.h264")
            ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration=1", "-pix_fmt", pixel_format,
                   "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", profile, "-bsf:v", "h264_mp4toannexb", "-f", "h264", part)
            streams.append(part)
        joined = self.tmp(f"{name}.h264")
        with open(joined, "wb") as out:
            for part in streams:
                out.write(open(part, "rb").read())
        ffmpeg("-r", "30", "-i", joined, "-c", "copy", "-video_track_timescale", "15360", self.path(name))


def main():
    directory = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Fixtures", "corpus"))
    # Tests running in parallel each ask for the corpus: one makes it, the others wait and find it made.
    import fcntl
    os.makedirs(os.path.dirname(directory), exist_ok=True)
    with open(directory + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        make(directory)


def make(directory):
    manifest = os.path.join(directory, "manifest.json")
    try:
        if json.load(open(manifest)).get("script") == SCRIPT_HASH:
            return
    except (OSError, ValueError):
        pass
    print(f"Making the media corpus in {directory} (a minute or two, once)", flush=True)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    with tempfile.TemporaryDirectory(prefix="kiln-corpus-") as scratch:
        corpus = Corpus(directory, scratch)
        try:
            corpus.images()
            corpus.videos()
        except subprocess.CalledProcessError as error:
            sys.exit(f"corpus: {' '.join(error.cmd)} failed: {error.stderr.decode(errors='replace')}")
    with open(manifest + ".tmp", "w") as out:
        json.dump({"script": SCRIPT_HASH, "files": corpus.files}, out, indent=1)
    os.replace(manifest + ".tmp", manifest)
    total = sum(entry["size"] for entry in corpus.files)
    print(f"{len(corpus.files)} files, {total / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
