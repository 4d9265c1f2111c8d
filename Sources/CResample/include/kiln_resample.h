#ifndef KILN_RESAMPLE_H
#define KILN_RESAMPLE_H

/* The last step of a shrink-on-load thumbnail: the decoded (already 1/2, 1/4
 * or 1/8 scale) image resized to `width` x `height` (its own orientation; the
 * caller swaps the sides for EXIF orientations 5 to 8), then turned upright
 * unless `no_rotate`, then cut to `final_width` x `final_height` around what
 * `crop` (a VipsInteresting) finds. Takes ownership of `loaded`.
 *
 * 8-bit RGB and grey images small enough to hold whole (at most `max_bytes`)
 * are resized here with a separable Lanczos-3 in fixed point; anything else
 * (CMYK, 16-bit, alpha, larger images) goes through vips_thumbnail_image. The
 * VipsImage pointers are typed void * so that Swift sees one VipsImage type. */
int kiln_resample_thumbnail(void *loaded, void **out, int width, int height, int final_width, int final_height,
                            int crop, int no_rotate, unsigned long max_bytes);

/* The resize alone, on bare pixels (interleaved 8-bit, `bands` per pixel): for tests and benchmarks. */
int kiln_resample_lanczos3(const unsigned char *in, int in_width, int in_height, int bands, unsigned char *out,
                           int out_width, int out_height);

#endif
