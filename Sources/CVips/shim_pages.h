#ifndef KILN_CVIPS_SHIM_PAGES_H
#define KILN_CVIPS_SHIM_PAGES_H

#include <vips/vips.h>

// Animations: libvips holds every frame of a GIF or WebP as one tall image
// ("page-height" rows a frame, "delay" in ms per frame, "loop" 0 for ever),
// which its savers write back as an animation.

/* Every page of the file through the named loader, stacked top to bottom.
 * Random access: an operation on one frame may read its rows in any order,
 * and the frames of a GIF are small next to the limits that bound them. */
static inline VipsImage *kiln_vips_load_all_pages(const char *loader, const char *path, int *error) {
    VipsImage *img = NULL;
    *error = vips_call(loader, path, &img, "n", -1, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) != 0 || img == NULL;
    return img;
}

/* One page of the file (0 is the first), alone. */
static inline VipsImage *kiln_vips_load_page(const char *loader, const char *path, int page, int *error) {
    VipsImage *img = NULL;
    *error = vips_call(loader, path, &img, "page", page, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) != 0 || img == NULL;
    return img;
}

/* An int array field (`delay`); *n is 0 when absent. The array belongs to the image. */
static inline const int *kiln_vips_get_int_array(VipsImage *in, const char *name, int *n) {
    int *out = NULL;
    *n = 0;
    if (vips_image_get_typeof(in, name) == 0 || vips_image_get_array_int(in, name, &out, n) != 0) {
        vips_error_clear();
        *n = 0;
        return NULL;
    }
    return out;
}

/* A copy of `in` (sharing its pixels) that savers write as an animation. */
static inline int kiln_vips_as_animation(VipsImage *in, VipsImage **out, int page_height, const int *delays, int n, int loop) {
    if (vips_copy(in, out, NULL) != 0) return -1;
    vips_image_set_int(*out, "page-height", page_height);
    vips_image_set_int(*out, "n-pages", n);
    vips_image_set_array_int(*out, "delay", delays, n);
    vips_image_set_int(*out, "loop", loop);
    // GIF's own frame time, in centiseconds, which older readers look at first.
    vips_image_set_int(*out, "gif-delay", n > 0 ? (delays[0] + 5) / 10 : 10);
    return 0;
}

#endif
