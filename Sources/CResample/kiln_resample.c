#include "kiln_resample.h"

#include <vips/vips.h>

#include "shim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Why this exists: a 4K JPEG thumbnailed to 400 px spent about 6 ms of its
 * 36 ms (perf, `kiln-bench --thumbnail-cost`) on libvips worker threads for
 * the last resize and the encode, of which the arithmetic is about 3 ms
 * (reduce) and 0.7 ms (libjpeg); the rest was libvips' pipeline around them:
 * a thread pool, regions, demand-driven strips. The resize alone here costs
 * what libvips' reduce and Pillow's costs (~3 ms in a loop): the gain is that
 * the resize and kiln_jpeg_save then run over plain buffers on the calling
 * thread, with no pipeline at all. Lanczos-3 with fixed-point weights as
 * Pillow computes them, pixel centres aligned as libvips 8.14 aligns them:
 * within 0.5 of libvips' own on average (LibjpegTurboPathTests). */

#define KILN_PRECISION 22 /* bits of a weight: 255 x the sum of weights stays inside 32 bits */

static double lanczos3(double x) {
    if (x == 0.0) return 1.0;
    if (x <= -3.0 || x >= 3.0) return 0.0;
    double px = M_PI * x;
    return 3.0 * sin(px) * sin(px / 3.0) / (px * px);
}

/* For each output position, the first input position and `taps` fixed-point weights. */
typedef struct {
    int taps;
    int *first;
    int32_t *weights;
} kiln_kernel;

static int kiln_kernel_make(kiln_kernel *kernel, int in_size, int out_size) {
    double scale = (double)in_size / out_size;
    double stretch = scale > 1.0 ? scale : 1.0;
    double support = 3.0 * stretch;
    kernel->taps = (int)ceil(support) * 2 + 1;
    kernel->first = malloc(sizeof(int) * (size_t)out_size);
    kernel->weights = calloc((size_t)out_size * (size_t)kernel->taps, sizeof(int32_t));
    double *w = malloc(sizeof(double) * (size_t)kernel->taps);
    if (!kernel->first || !kernel->weights || !w) {
        free(w);
        return -1;
    }
    for (int x = 0; x < out_size; x++) {
        double centre = (x + 0.5) * scale;
        int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        if (n > kernel->taps) n = kernel->taps;
        double total = 0;
        for (int i = 0; i < n; i++) {
            w[i] = lanczos3((lo + i - centre + 0.5) / stretch);
            total += w[i];
        }
        int32_t *k = kernel->weights + (size_t)x * kernel->taps;
        for (int i = 0; i < n; i++) {
            double v = total != 0 ? w[i] / total : 0;
            k[i] = (int32_t)lrint(v * (1 << KILN_PRECISION));
        }
        kernel->first[x] = lo;
    }
    free(w);
    return 0;
}

static void kiln_kernel_free(kiln_kernel *kernel) {
    free(kernel->first);
    free(kernel->weights);
}

static inline unsigned char kiln_clip(int32_t sum) {
    int32_t v = (sum + (1 << (KILN_PRECISION - 1))) >> KILN_PRECISION;
    return v < 0 ? 0 : v > 255 ? 255 : (unsigned char)v;
}

/* The number of taps of output x that lie inside the input (weights beyond are 0, reads beyond are not allowed). */
static inline int kiln_taps(const kiln_kernel *kernel, int x, int in_size) {
    int n = in_size - kernel->first[x];
    return n < kernel->taps ? n : kernel->taps;
}

int kiln_resample_lanczos3(const unsigned char *in, int in_width, int in_height, int bands, unsigned char *out,
                           int out_width, int out_height) {
    if (in_width < 1 || in_height < 1 || out_width < 1 || out_height < 1 || bands < 1 || bands > 4) return -1;
    kiln_kernel horizontal = {0}, vertical = {0};
    unsigned char *rows = malloc((size_t)out_width * (size_t)in_height * (size_t)bands);
    int result = -1;
    if (!rows || kiln_kernel_make(&horizontal, in_width, out_width) || kiln_kernel_make(&vertical, in_height, out_height))
        goto done;
    /* Horizontally, every input row into out_width columns. */
    for (int y = 0; y < in_height; y++) {
        const unsigned char *src = in + (size_t)y * in_width * bands;
        unsigned char *dst = rows + (size_t)y * out_width * bands;
        for (int x = 0; x < out_width; x++) {
            const int32_t *k = horizontal.weights + (size_t)x * horizontal.taps;
            const unsigned char *p = src + (size_t)horizontal.first[x] * bands;
            int n = kiln_taps(&horizontal, x, in_width);
            for (int b = 0; b < bands; b++) {
                int32_t sum = 0;
                for (int i = 0; i < n; i++) sum += p[i * bands + b] * k[i];
                dst[x * bands + b] = kiln_clip(sum);
            }
        }
    }
    /* Vertically, each output row from a window of those rows, a whole row at a time. */
    size_t stride = (size_t)out_width * bands;
    int32_t *sums = malloc(sizeof(int32_t) * stride);
    if (!sums) goto done;
    for (int y = 0; y < out_height; y++) {
        const int32_t *k = vertical.weights + (size_t)y * vertical.taps;
        int n = kiln_taps(&vertical, y, in_height);
        memset(sums, 0, sizeof(int32_t) * stride);
        for (int i = 0; i < n; i++) {
            const unsigned char *src = rows + (size_t)(vertical.first[y] + i) * stride;
            int32_t weight = k[i];
            if (weight == 0) continue;
            for (size_t j = 0; j < stride; j++) sums[j] += src[j] * weight;
        }
        unsigned char *dst = out + (size_t)y * stride;
        for (size_t j = 0; j < stride; j++) dst[j] = kiln_clip(sums[j]);
    }
    free(sums);
    result = 0;
done:
    free(rows);
    kiln_kernel_free(&horizontal);
    kiln_kernel_free(&vertical);
    return result;
}

/* `in` resized here, when it is 8-bit RGB or grey without alpha and small enough to hold. NULL otherwise. */
static VipsImage *kiln_resample_fast(VipsImage *in, int width, int height, unsigned long max_bytes) {
    if (in->BandFmt != VIPS_FORMAT_UCHAR || in->Coding != VIPS_CODING_NONE || (in->Bands != 3 && in->Bands != 1)) return NULL;
    if (in->Type != VIPS_INTERPRETATION_sRGB && in->Type != VIPS_INTERPRETATION_B_W) return NULL;
    size_t in_bytes = (size_t)in->Xsize * in->Ysize * in->Bands, out_bytes = (size_t)width * height * in->Bands;
    if (in_bytes > max_bytes || out_bytes > max_bytes) return NULL;
    /* A memory image (TurboJPEG's decode) is read in place; a loader's pipeline is decoded here, once. */
    unsigned char *rendered;
    const unsigned char *pixels = kiln_vips_pixels(in, &rendered);
    if (pixels == NULL) return NULL;
    unsigned char *resized = g_try_malloc(out_bytes);
    VipsImage *out = NULL;
    if (resized && kiln_resample_lanczos3(pixels, in->Xsize, in->Ysize, in->Bands, resized, width, height) == 0)
        out = kiln_vips_image_adopting(resized, out_bytes, width, height, in->Bands, in->Type, in);
    g_free(rendered);
    if (out == NULL) g_free(resized);
    return out;
}

int kiln_resample_thumbnail(void *loaded_image, void **out_image, int width, int height, int final_width, int final_height,
                            int crop_mode, int no_rotate, unsigned long max_bytes) {
    VipsImage *loaded = loaded_image, *resized = NULL;
    VipsInteresting crop = (VipsInteresting)crop_mode;
    int orientation = vips_image_get_orientation(loaded);
    int swapped = !no_rotate && orientation >= 5 && orientation <= 8;
    resized = kiln_resample_fast(loaded, swapped ? height : width, swapped ? width : height, max_bytes);
    if (resized != NULL) {
        g_object_unref(loaded);
        if (!no_rotate && orientation > 1 && orientation <= 8) {
            VipsImage *upright = NULL;
            int failed = vips_autorot(resized, &upright, NULL);
            g_object_unref(resized);
            if (failed) return -1;
            resized = upright;
        }
    } else {
        int failed = vips_thumbnail_image(loaded, &resized, width, "height", height, "size", VIPS_SIZE_FORCE,
                                          "no_rotate", no_rotate, NULL);
        g_object_unref(loaded);
        if (failed) return -1;
    }
    if (crop == VIPS_INTERESTING_NONE || (resized->Xsize == final_width && resized->Ysize == final_height)) {
        *out_image = resized;
        return 0;
    }
    /* The smart crop scores the image, then cuts it: two reads of a pipeline that
     * was opened for one top-to-bottom pass. Render the (small) resized image once. */
    VipsImage *rendered = crop == VIPS_INTERESTING_CENTRE ? resized : vips_image_copy_memory(resized);
    if (rendered != resized) g_object_unref(resized);
    if (rendered == NULL) return -1;
    VipsImage *cropped = NULL;
    int result = vips_smartcrop(rendered, &cropped, final_width, final_height, "interesting", crop, NULL);
    g_object_unref(rendered);
    if (result == 0) *out_image = cropped;
    return result;
}
