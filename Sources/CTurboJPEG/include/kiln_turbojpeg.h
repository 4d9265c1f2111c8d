#ifndef KILN_TURBOJPEG_H
#define KILN_TURBOJPEG_H

#include <stddef.h>

/* Decodes the JPEG at `path` with TurboJPEG at 1/`shrink` of its size (1, 2, 4
 * or 8), straight to 8-bit RGB or grey, as a memory image that carries the
 * metadata of `header` (the file opened by libvips: orientation, ICC profile,
 * EXIF, XMP). Returns 0 and sets *out; returns 1, having set nothing, when
 * this file is not for the fast path: CMYK or YCCK, a decode larger than
 * `max_bytes`, or any warning or error from the decoder (a truncated or
 * corrupt file), so that libvips decodes it and reports what it finds. */
/* `header` and `*out` are VipsImage pointers, typed void * so that Swift sees
 * one VipsImage type (CVips's), not a second copy from this header. */
int kiln_turbojpeg_load(const char *path, void *header, int shrink, size_t max_bytes, void **out);

/* Writes `image` (a VipsImage) to `path` as a JPEG through libjpeg-turbo, with
 * the settings of libvips' jpegsave with metadata stripped: quality, chroma
 * `subsample` (0 auto, 1 on, 2 off), progressive or baseline, optimised
 * Huffman tables. Returns 0 when written; 1, having written nothing, when
 * the image is not for this path (not 8-bit sRGB or grey, or more than
 * `max_bytes` of pixels, which libvips then streams); -1 on an error, with
 * libvips' error buffer set and the file possibly half written. */
int kiln_jpeg_save(void *image, const char *path, int quality, int subsample, int progressive, size_t max_bytes);

#endif
