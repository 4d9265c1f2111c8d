#include "kiln_turbojpeg.h"

#include <vips/vips.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

static void kiln_free_pixels(VipsImage *image, void *pixels) {
    (void)image;
    free(pixels);
}

/* The fields every image has; everything else in the header is metadata to carry over. */
static int kiln_is_builtin_field(const char *name) {
    static const char *builtin[] = {"width", "height", "bands", "format", "coding", "interpretation", "xoffset",
                                    "yoffset", "xres", "yres", "filename", "mode", "scale", "offset", NULL};
    for (int i = 0; builtin[i]; i++)
        if (strcmp(name, builtin[i]) == 0) return 1;
    return 0;
}

static void kiln_copy_metadata(VipsImage *from, VipsImage *to) {
    gchar **fields = vips_image_get_fields(from);
    for (int i = 0; fields[i]; i++) {
        if (kiln_is_builtin_field(fields[i])) continue;
        GValue value = G_VALUE_INIT;
        if (vips_image_get(from, fields[i], &value) == 0) {
            vips_image_set(to, fields[i], &value);
            g_value_unset(&value);
        }
    }
    g_strfreev(fields);
}

int kiln_turbojpeg_load(const char *path, void *header_image, int shrink, size_t max_bytes, void **out) {
    VipsImage *header = header_image;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    struct stat info;
    if (fstat(fd, &info) != 0 || info.st_size <= 0) {
        close(fd);
        return 1;
    }
    unsigned char *data = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED) return 1;
    int result = 1;
    unsigned char *pixels = NULL;
    tjhandle decoder = tjInitDecompress();
    int width, height, subsampling, colorspace;
    if (decoder == NULL || tjDecompressHeader3(decoder, data, (unsigned long)info.st_size, &width, &height, &subsampling, &colorspace) != 0)
        goto done;
    if (colorspace != TJCS_RGB && colorspace != TJCS_YCbCr && colorspace != TJCS_GRAY) goto done;
    tjscalingfactor factor = {1, shrink};
    int scaled_width = TJSCALED(width, factor), scaled_height = TJSCALED(height, factor);
    int bands = colorspace == TJCS_GRAY ? 1 : 3;
    size_t bytes = (size_t)scaled_width * (size_t)scaled_height * (size_t)bands;
    if (bytes == 0 || bytes > max_bytes) goto done;
    pixels = malloc(bytes);
    if (pixels == NULL) goto done;
    /* A warning (a truncated or corrupt file) stops the decode: libvips then reads it and judges. */
    if (tjDecompress2(decoder, data, (unsigned long)info.st_size, pixels, scaled_width, 0, scaled_height,
                      bands == 1 ? TJPF_GRAY : TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
        goto done;
    VipsImage *image = vips_image_new_from_memory(pixels, bytes, scaled_width, scaled_height, bands, VIPS_FORMAT_UCHAR);
    if (image == NULL) goto done;
    g_signal_connect(image, "postclose", G_CALLBACK(kiln_free_pixels), pixels);
    pixels = NULL;
    image->Type = bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
    image->Xres = header->Xres;
    image->Yres = header->Yres;
    kiln_copy_metadata(header, image);
    /* libjpeg rounds a scaled side up (1535 / 2 decodes as 768); libvips' jpegload
     * then drops the partial last column and row (767), as its other shrinking
     * loaders do. Do the same, so both paths give the same pixels. */
    int kept_width = VIPS_MAX(1, width / shrink), kept_height = VIPS_MAX(1, height / shrink);
    if (kept_width < scaled_width || kept_height < scaled_height) {
        VipsImage *cropped = NULL;
        int failed = vips_extract_area(image, &cropped, 0, 0, kept_width, kept_height, NULL);
        g_object_unref(image);
        if (failed) goto done;
        image = cropped;
    }
    *out = image;
    result = 0;
done:
    free(pixels);
    if (decoder) tjDestroy(decoder);
    munmap(data, (size_t)info.st_size);
    return result;
}
