#ifndef KILN_CVIPS_SHIM_COLOUR_H
#define KILN_CVIPS_SHIM_COLOUR_H

#include <vips/vips.h>

// Colour and filters: fixed-signature wrappers over libvips' variadic operations.

static inline int kiln_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}

// out = m · in (a bands x bands matrix, row-major), then + offset per band.
static inline int kiln_vips_affine_colour(VipsImage *in, VipsImage **out, const double *matrix, int bands, const double *offset) {
    VipsImage *m = vips_image_new_matrix_from_array(bands, bands, matrix, bands * bands);
    if (m == NULL) return -1;
    VipsImage *mixed = NULL;
    int status = vips_recomb(in, &mixed, m, NULL);
    g_object_unref(m);
    if (status != 0) return status;
    double ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    status = vips_linear(mixed, out, ones, offset, bands, NULL);
    g_object_unref(mixed);
    return status;
}

static inline int kiln_vips_cast(VipsImage *in, VipsImage **out, VipsBandFormat format) {
    return vips_cast(in, out, format, NULL);
}

static inline int kiln_vips_gaussblur(VipsImage *in, VipsImage **out, double sigma) {
    return vips_gaussblur(in, out, sigma, NULL);
}

static inline int kiln_vips_sharpen(VipsImage *in, VipsImage **out, double sigma) {
    return vips_sharpen(in, out, "sigma", sigma, NULL);
}

static inline int kiln_vips_extract_band(VipsImage *in, VipsImage **out, int band, int n) {
    return vips_extract_band(in, out, band, "n", n, NULL);
}

static inline int kiln_vips_bandjoin2(VipsImage *a, VipsImage *b, VipsImage **out) {
    return vips_bandjoin2(a, b, out, NULL);
}

// Alpha composited over a solid background: no alpha band left.
static inline int kiln_vips_flatten(VipsImage *in, VipsImage **out, const double *background, int n) {
    VipsArrayDouble *colour = vips_array_double_new(background, n);
    int status = vips_flatten(in, out, "background", colour, NULL);
    vips_area_unref(VIPS_AREA(colour));
    return status;
}

static inline int kiln_vips_icc_transform_srgb(VipsImage *in, VipsImage **out) {
    return vips_icc_transform(in, out, "srgb", "embedded", TRUE, "intent", VIPS_INTENT_PERCEPTUAL, NULL);
}

#endif
