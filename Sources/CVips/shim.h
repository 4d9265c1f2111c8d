#ifndef KILN_CVIPS_SHIM_H
#define KILN_CVIPS_SHIM_H

#include <vips/vips.h>
// Run-time SIMD code generation (liborc) on or off; vips.h leaves this header out.
#include <vips/vector.h>
#include "shim_geometry.h"
#include "shim_colour.h"
#include "shim_compose.h"
#include "shim_pages.h"
#include "shim_quality.h"

// Swift imports neither C variadic functions nor function-like macros, and
// almost every libvips operation is variadic (NULL-terminated option lists).
// Each wrapper below fixes one operation's options to a plain C signature;
// everything else about libvips is called directly from Swift.

static inline int kiln_vips_init(const char *argv0) {
    return VIPS_INIT(argv0);
}

static inline VipsImage *kiln_vips_image_new_from_file_header(const char *path, int *error) {
    // Sequential access: opening reads only the header; pixels are decoded on demand.
    VipsImage *img = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL,
                                              "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    *error = img == NULL;
    return img;
}

/* The same, through one named loader: libvips' own choice asks every loader
 * whether the file is theirs first (openslide opens it as an SQLite database
 * to check), which cost a tiny job more than its pixels. */
static inline VipsImage *kiln_vips_image_load_with(const char *loader, const char *path, int *error) {
    VipsImage *img = NULL;
    *error = vips_call(loader, path, &img, "access", VIPS_ACCESS_SEQUENTIAL,
                       "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) != 0 || img == NULL;
    return img;
}

/* A copy of a freshly loaded image whose ICC profile is its own. libheif-backed
 * loads (libvips 8.14's heifload) attach the profile as a blob in memory another
 * image owns; under concurrent loads that memory was freed and reused before the
 * profile was read ("corrupt profile"), and colours went out unconverted. */
static inline int kiln_vips_own_profile(VipsImage *in, VipsImage **out) {
    const void *data = NULL;
    size_t length = 0;
    if (vips_copy(in, out, NULL)) return -1;
    if (vips_image_get_typeof(in, VIPS_META_ICC_NAME) && vips_image_get_blob(in, VIPS_META_ICC_NAME, &data, &length) == 0 && length > 0)
        vips_image_set_blob_copy(*out, VIPS_META_ICC_NAME, data, length);
    return 0;
}

static inline int kiln_vips_thumbnail(const char *path, VipsImage **out, int width, int height,
                                      VipsSize size, VipsInteresting crop, gboolean no_rotate) {
    return vips_thumbnail(path, out, width, "height", height, "size", size, "crop", crop,
                          "no_rotate", no_rotate, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
}

/* The pixels of an image, top to bottom, for C that reads them whole: in place when the image
 * is already in memory; otherwise rendered into a buffer of its own (set in *rendered, for the
 * caller to g_free), never in place, as other outputs may be reading the same image. NULL,
 * with libvips' error set, when rendering fails (a truncated source surfaces here). */
static inline const unsigned char *kiln_vips_pixels(VipsImage *in, unsigned char **rendered) {
    *rendered = NULL;
    if ((in->dtype == VIPS_IMAGE_SETBUF || in->dtype == VIPS_IMAGE_SETBUF_FOREIGN) && in->data != NULL)
        return (const unsigned char *)in->data;
    size_t size = 0;
    *rendered = (unsigned char *)vips_image_write_to_memory(in, &size);
    return *rendered;
}

static inline void kiln_vips_g_free_pixels(VipsImage *image, void *pixels) {
    (void)image;
    g_free(pixels);
}

/* A memory image over `pixels` (from g_malloc), which it frees when it closes, carrying
 * `like`'s resolution and metadata (orientation, ICC profile, EXIF, XMP), as a loader or
 * vips_thumbnail_image would. NULL when libvips refuses; `pixels` then stay the caller's. */
static inline VipsImage *kiln_vips_image_adopting(unsigned char *pixels, size_t bytes, int width, int height, int bands,
                                                  VipsInterpretation type, VipsImage *like) {
    VipsImage *image = vips_image_new_from_memory(pixels, bytes, width, height, bands, VIPS_FORMAT_UCHAR);
    if (image == NULL) return NULL;
    g_signal_connect(image, "postclose", G_CALLBACK(kiln_vips_g_free_pixels), pixels);
    image->Type = type;
    image->Xres = like->Xres;
    image->Yres = like->Yres;
    /* Every field the new image lacks; the built-in ones (width, bands, ...) it has already. */
    gchar **fields = vips_image_get_fields(like);
    for (int i = 0; fields[i]; i++) {
        if (vips_image_get_typeof(image, fields[i])) continue;
        GValue value = G_VALUE_INIT;
        if (vips_image_get(like, fields[i], &value) == 0) {
            vips_image_set(image, fields[i], &value);
            g_value_unset(&value);
        }
    }
    g_strfreev(fields);
    return image;
}

/* A JPEG decoded at 1/`shrink` of its size, for one top-to-bottom pass. */
static inline int kiln_vips_jpegload_shrunk(const char *path, VipsImage **out, int shrink) {
    return vips_jpegload(path, out, "shrink", shrink, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
}

static inline int kiln_vips_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height,
                                            VipsSize size, VipsInteresting crop, gboolean no_rotate) {
    return vips_thumbnail_image(in, out, width, "height", height, "size", size, "crop", crop,
                                "no_rotate", no_rotate, NULL);
}

static inline int kiln_vips_jpegsave(VipsImage *in, const char *path, int quality, gboolean strip,
                                     gboolean interlace, VipsForeignSubsample subsample) {
    return vips_jpegsave(in, path, "Q", quality, "strip", strip, "optimize_coding", TRUE,
                         "interlace", interlace, "subsample_mode", subsample, NULL);
}

static inline int kiln_vips_pngsave(VipsImage *in, const char *path, int compression, gboolean strip,
                                    gboolean palette, gboolean interlace) {
    return vips_pngsave(in, path, "compression", compression, "strip", strip, "palette", palette,
                        "interlace", interlace, NULL);
}

static inline int kiln_vips_webpsave(VipsImage *in, const char *path, int quality, gboolean lossless, gboolean strip, int effort) {
    return vips_webpsave(in, path, "Q", quality, "lossless", lossless, "strip", strip, "effort", effort, NULL);
}

static inline int kiln_vips_avifsave(VipsImage *in, const char *path, int quality, gboolean lossless, gboolean strip, int effort) {
    return vips_heifsave(in, path, "Q", quality, "lossless", lossless, "strip", strip, "effort", effort,
                         "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1, NULL);
}

static inline int kiln_vips_heicsave(VipsImage *in, const char *path, int quality, gboolean strip) {
    return vips_heifsave(in, path, "Q", quality, "strip", strip, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_HEVC, NULL);
}

static inline int kiln_vips_gifsave(VipsImage *in, const char *path, gboolean strip, int effort) {
    return vips_gifsave(in, path, "strip", strip, "effort", effort, NULL);
}

static inline int kiln_vips_copy_memory(VipsImage *in, VipsImage **out) {
    *out = vips_image_copy_memory(in);
    return *out == NULL ? -1 : 0;
}

static inline int kiln_vips_black(VipsImage **out, int width, int height, int bands) {
    return vips_black(out, width, height, "bands", bands, NULL);
}

static inline int kiln_vips_linear1(VipsImage *in, VipsImage **out, double a, double b) {
    return vips_linear1(in, out, a, b, NULL);
}

static inline int kiln_vips_avg(VipsImage *in, double *out) {
    return vips_avg(in, out, NULL);
}

static inline int kiln_vips_getpoint(VipsImage *in, double **vector, int *n, int x, int y) {
    return vips_getpoint(in, vector, n, x, y, NULL);
}

static inline int kiln_vips_cast_uchar(VipsImage *in, VipsImage **out) {
    return vips_cast_uchar(in, out, NULL);
}

static inline void kiln_g_object_unref(VipsImage *image) {
    g_object_unref(image);
}

static inline void *kiln_vips_count_object(void *object, void *count, void *unused) {
    (*(int *)count)++;
    return NULL;
}

// How many libvips objects (images, operations) are alive: a leak check's
// measure, since libvips keeps every live object reachable from a global table.
static inline int kiln_vips_live_objects(void) {
    int count = 0;
    vips_object_map((VipsSListMap2Fn) kiln_vips_count_object, &count, NULL);
    return count;
}

// Watching an evaluation: libvips emits "eval" on the image being computed
// (about every 0.25 s of work, with a percentage). The hook reports progress
// and, when it returns non-zero, kills the evaluation, which then fails with
// "killed". g_signal_connect is a macro, hence these wrappers.
typedef int (*kiln_vips_eval_fn)(void *context, int percent);
typedef struct {
    kiln_vips_eval_fn fn;
    void *context;
} kiln_vips_eval_hook;

static inline void kiln_vips_on_eval(VipsImage *image, VipsProgress *progress, kiln_vips_eval_hook *hook) {
    if (hook->fn(hook->context, progress->percent)) {
        vips_image_set_kill(image, TRUE);
    }
}

static inline gulong kiln_vips_watch_eval(VipsImage *image, kiln_vips_eval_hook *hook) {
    vips_image_set_progress(image, TRUE);
    return g_signal_connect(image, "eval", G_CALLBACK(kiln_vips_on_eval), hook);
}

static inline void kiln_vips_unwatch_eval(VipsImage *image, gulong handler) {
    g_signal_handler_disconnect(image, handler);
}

static inline void kiln_vips_log_warning(const char *message) {
    g_log("VIPS", G_LOG_LEVEL_WARNING, "%s", message);
}

static inline void kiln_g_free(void *p) {
    g_free(p);
}

#endif
