#ifndef KILN_CVIPS_SHIM_QUALITY_H
#define KILN_CVIPS_SHIM_QUALITY_H

#include <vips/vips.h>

/* The luma SSIM uses (ITU-R BT.601 weights on the 8-bit sRGB values, as
 * float), over white where the image has alpha. */
static inline int kiln_vips_ssim_luma(VipsImage *in, VipsImage **out) {
    VipsObject *scope = VIPS_OBJECT(vips_image_new());
    VipsImage **t = (VipsImage **)vips_object_local_array(scope, 4);
    double white[3] = {255, 255, 255};
    VipsArrayDouble *background = vips_array_double_new(white, 3);
    int failed = vips_colourspace(in, &t[0], VIPS_INTERPRETATION_sRGB, NULL) ||
        (vips_image_hasalpha(t[0]) ? vips_flatten(t[0], &t[1], "background", background, NULL)
                                   : vips_copy(t[0], &t[1], NULL)) ||
        !(t[2] = vips_image_new_matrixv(3, 1, 0.299, 0.587, 0.114)) ||
        vips_recomb(t[1], &t[3], t[2], NULL) ||
        vips_cast(t[3], out, VIPS_FORMAT_FLOAT, NULL);
    vips_area_unref(VIPS_AREA(background));
    g_object_unref(scope);
    return failed ? -1 : 0;
}

/* Mean structural similarity of two images of one size (Wang et al. 2004:
 * Gaussian window of sigma 1.5, C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2),
 * on their luma. 1 is identical. */
static inline int kiln_vips_ssim(VipsImage *a, VipsImage *b, double *out) {
    const double c1 = 6.5025, c2 = 58.5225;
    VipsObject *scope = VIPS_OBJECT(vips_image_new());
    VipsImage **t = (VipsImage **)vips_object_local_array(scope, 24);
#define KILN_BLUR(in, out) vips_gaussblur(in, out, 1.5, "min_ampl", 0.01, "precision", VIPS_PRECISION_FLOAT, NULL)
    int failed =
        kiln_vips_ssim_luma(a, &t[0]) || kiln_vips_ssim_luma(b, &t[1]) ||
        !(t[2] = vips_image_copy_memory(t[0])) || !(t[3] = vips_image_copy_memory(t[1])) ||
        KILN_BLUR(t[2], &t[4]) || KILN_BLUR(t[3], &t[5]) ||                          /* mean a, mean b */
        vips_multiply(t[2], t[2], &t[6], NULL) || KILN_BLUR(t[6], &t[7]) ||           /* E[a^2] */
        vips_multiply(t[3], t[3], &t[8], NULL) || KILN_BLUR(t[8], &t[9]) ||           /* E[b^2] */
        vips_multiply(t[2], t[3], &t[10], NULL) || KILN_BLUR(t[10], &t[11]) ||        /* E[ab] */
        vips_multiply(t[4], t[5], &t[12], NULL) ||                                    /* mean a * mean b */
        vips_multiply(t[4], t[4], &t[13], NULL) || vips_multiply(t[5], t[5], &t[14], NULL) ||
        vips_subtract(t[11], t[12], &t[15], NULL) ||                                  /* covariance */
        vips_add(t[13], t[14], &t[16], NULL) ||                                       /* mean a^2 + mean b^2 */
        vips_add(t[7], t[9], &t[17], NULL) || vips_subtract(t[17], t[16], &t[18], NULL) || /* var a + var b */
        vips_linear1(t[12], &t[19], 2, c1, NULL) || vips_linear1(t[15], &t[20], 2, c2, NULL) ||
        vips_multiply(t[19], t[20], &t[21], NULL) ||                                  /* numerator */
        vips_linear1(t[16], &t[22], 1, c1, NULL) || vips_linear1(t[18], &t[23], 1, c2, NULL);
#undef KILN_BLUR
    if (!failed) {
        VipsImage *denominator = NULL, *map = NULL;
        failed = vips_multiply(t[22], t[23], &denominator, NULL) ||
                 vips_divide(t[21], denominator, &map, NULL) ||
                 vips_avg(map, out, NULL);
        if (denominator) g_object_unref(denominator);
        if (map) g_object_unref(map);
    }
    g_object_unref(scope);
    return failed ? -1 : 0;
}

#endif
