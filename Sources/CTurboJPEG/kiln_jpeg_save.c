#include "kiln_turbojpeg.h"

#include <vips/vips.h>

#include "shim.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

/* Why this exists: for a small image (a 400 px thumbnail), libvips' jpegsave
 * spent about twice the encoder's own time around it (1.46 ms against 0.70 ms
 * for the same optimised 400x225 JPEG, measured in a loop at one thread):
 * a sink, a worker thread, regions and strip buffers. Here the pixels are
 * rendered once and handed to libjpeg-turbo row by row on the calling thread,
 * with the settings libvips' jpegsave uses (optimised Huffman tables, chroma
 * subsampling below quality 90 unless asked, the JFIF resolution). */

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
} kiln_jpeg_error;

static void kiln_jpeg_fail(j_common_ptr info) {
    kiln_jpeg_error *error = (kiln_jpeg_error *)info->err;
    char message[JMSG_LENGTH_MAX];
    info->err->format_message(info, message);
    vips_error("jpegsave", "%s", message);
    longjmp(error->escape, 1);
}

int kiln_jpeg_save(void *image, const char *path, int quality, int subsample, int progressive, size_t max_bytes) {
    VipsImage *in = image;
    int rgb = in->Bands == 3 && in->Type == VIPS_INTERPRETATION_sRGB;
    int grey = in->Bands == 1 && in->Type == VIPS_INTERPRETATION_B_W;
    if (in->BandFmt != VIPS_FORMAT_UCHAR || in->Coding != VIPS_CODING_NONE || !(rgb || grey)) return 1;
    if ((size_t)in->Xsize * (size_t)in->Ysize * (size_t)in->Bands > max_bytes) return 1;
    unsigned char *rendered;
    const unsigned char *pixels = kiln_vips_pixels(in, &rendered);
    if (pixels == NULL) return -1;
    size_t stride = (size_t)in->Xsize * (size_t)in->Bands;
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        vips_error("jpegsave", "%s: %s", path, strerror(errno));
        g_free(rendered);
        return -1;
    }
    struct jpeg_compress_struct info;
    kiln_jpeg_error error;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = kiln_jpeg_fail;
    if (setjmp(error.escape)) {
        jpeg_destroy_compress(&info);
        fclose(file);
        g_free(rendered);
        return -1;
    }
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, file);
    info.image_width = (JDIMENSION)in->Xsize;
    info.image_height = (JDIMENSION)in->Ysize;
    info.input_components = in->Bands;
    info.in_color_space = rgb ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    info.optimize_coding = TRUE;
    if (rgb) {
        /* 1 is "on" (4:2:0), 2 "off" (4:4:4), 0 "auto": on below quality 90, as libvips decides. */
        int halved = subsample == 1 || (subsample == 0 && quality < 90);
        info.comp_info[0].h_samp_factor = info.comp_info[0].v_samp_factor = halved ? 2 : 1;
        for (int i = 1; i < 3; i++) info.comp_info[i].h_samp_factor = info.comp_info[i].v_samp_factor = 1;
    }
    if (progressive) jpeg_simple_progression(&info);
    info.write_JFIF_header = TRUE;
    info.density_unit = 1; /* dots per inch; libvips keeps resolution in pixels per millimetre */
    info.X_density = (UINT16)VIPS_CLIP(1, VIPS_RINT(in->Xres * 25.4), 65535);
    info.Y_density = (UINT16)VIPS_CLIP(1, VIPS_RINT(in->Yres * 25.4), 65535);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)pixels + (size_t)info.next_scanline * stride;
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    g_free(rendered);
    if (fclose(file) != 0) {
        vips_error("jpegsave", "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
