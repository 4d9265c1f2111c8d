#include "kiln_turbojpeg.h"

#include <vips/vips.h>

#include "shim.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

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
    pixels = g_try_malloc(bytes);
    if (pixels == NULL) goto done;
    /* A warning (a truncated or corrupt file) stops the decode: libvips then reads it and judges. */
    if (tjDecompress2(decoder, data, (unsigned long)info.st_size, pixels, scaled_width, 0, scaled_height,
                      bands == 1 ? TJPF_GRAY : TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
        goto done;
    VipsImage *image = kiln_vips_image_adopting(pixels, bytes, scaled_width, scaled_height, bands,
                                                bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB, header);
    if (image == NULL) goto done;
    pixels = NULL;
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
    g_free(pixels);
    if (decoder) tjDestroy(decoder);
    munmap(data, (size_t)info.st_size);
    return result;
}
