#ifndef KILN_CVIPS_SHIM_GEOMETRY_H
#define KILN_CVIPS_SHIM_GEOMETRY_H

#include <vips/vips.h>

// Geometry: orientation, scaling, cropping, placing. Fixed-signature wrappers
// over libvips' variadic operations (see shim.h).

static inline int kiln_vips_autorot(VipsImage *in, VipsImage **out) {
    return vips_autorot(in, out, NULL);
}

static inline int kiln_vips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale, VipsKernel kernel) {
    return vips_resize(in, out, hscale, "vscale", vscale, "kernel", kernel, NULL);
}

// vips_thumbnail to an exact size (size=force), shrink-on-load included: the
// fast path for resizing straight from the input file.
static inline int kiln_vips_thumbnail_force(const char *path, VipsImage **out, int width, int height, gboolean no_rotate) {
    return vips_thumbnail(path, out, width, "height", height, "size", VIPS_SIZE_FORCE,
                          "no_rotate", no_rotate, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
}

static inline int kiln_vips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

static inline int kiln_vips_smartcrop(VipsImage *in, VipsImage **out, int width, int height, VipsInteresting interesting) {
    return vips_smartcrop(in, out, width, height, "interesting", interesting, NULL);
}

// Places the image on a width x height canvas of `background` (one value per band).
static inline int kiln_vips_gravity(VipsImage *in, VipsImage **out, VipsCompassDirection direction, int width, int height,
                                    const double *background, int n) {
    VipsArrayDouble *bg = vips_array_double_new(background, n);
    int status = vips_gravity(in, out, direction, width, height, "extend", VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
    vips_area_unref(VIPS_AREA(bg));
    return status;
}

static inline int kiln_vips_rot(VipsImage *in, VipsImage **out, VipsAngle angle) {
    return vips_rot(in, out, angle, NULL);
}

static inline int kiln_vips_rotate(VipsImage *in, VipsImage **out, double angle, const double *background, int n) {
    VipsArrayDouble *bg = vips_array_double_new(background, n);
    int status = vips_rotate(in, out, angle, "background", bg, NULL);
    vips_area_unref(VIPS_AREA(bg));
    return status;
}

static inline int kiln_vips_flip(VipsImage *in, VipsImage **out, VipsDirection direction) {
    return vips_flip(in, out, direction, NULL);
}

static inline int kiln_vips_addalpha(VipsImage *in, VipsImage **out) {
    return vips_addalpha(in, out, NULL);
}

#endif
