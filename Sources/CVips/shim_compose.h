#ifndef KILN_CVIPS_SHIM_COMPOSE_H
#define KILN_CVIPS_SHIM_COMPOSE_H

#include <vips/vips.h>

// Composition: text, overlays, tiling. Fixed-signature wrappers over libvips'
// variadic operations (see shim.h).

// A one-band 8-bit mask of `text` (Pango markup is not interpreted by the
// caller's choice: escape it first). `font` is a Pango description, e.g.
// "DejaVu Sans Bold 24"; at 72 dpi points are pixels.
static inline int kiln_vips_text(VipsImage **out, const char *text, const char *font, int width) {
    if (width > 0) {
        return vips_text(out, text, "font", font, "dpi", 72, "width", width, NULL);
    }
    return vips_text(out, text, "font", font, "dpi", 72, NULL);
}

// An image shaped like `like`, every pixel `values` (n bands), in sRGB.
static inline int kiln_vips_constant_like(VipsImage *like, VipsImage **out, const double *values, int n) {
    VipsImage *constant = vips_image_new_from_image(like, values, n);
    if (constant == NULL) return -1;
    int status = vips_copy(constant, out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(constant);
    return status;
}

// The same pixels, read as sRGB (an image made from memory has only a guess).
static inline int kiln_vips_as_srgb(VipsImage *in, VipsImage **out) {
    return vips_copy(in, out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
}

static inline int kiln_vips_composite_over(VipsImage *base, VipsImage *overlay, VipsImage **out, int x, int y) {
    return vips_composite2(base, overlay, out, VIPS_BLEND_MODE_OVER, "x", x, "y", y, NULL);
}

static inline int kiln_vips_replicate(VipsImage *in, VipsImage **out, int across, int down) {
    return vips_replicate(in, out, across, down, NULL);
}

// out = in * a + b, one factor and offset per band.
static inline int kiln_vips_linear(VipsImage *in, VipsImage **out, const double *a, const double *b, int n) {
    return vips_linear(in, out, a, b, n, "uchar", TRUE, NULL);
}

static inline int kiln_vips_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y) {
    return vips_insert(main, sub, out, x, y, NULL);
}

// Tiles `n` images `across` to a row, left to right then top to bottom.
static inline int kiln_vips_arrayjoin(VipsImage **in, int n, int across, VipsImage **out) {
    return vips_arrayjoin(in, out, n, "across", across, NULL);
}

#endif
