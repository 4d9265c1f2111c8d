#include "kiln_frames.h"

#include <math.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

int kiln_frame_to_rgb24(const AVFrame *frame, uint8_t *out, int out_stride) {
    struct SwsContext *sws = sws_getContext(frame->width, frame->height, (enum AVPixelFormat)frame->format,
                                            frame->width, frame->height, AV_PIX_FMT_RGB24,
                                            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (sws == NULL) return AVERROR(EINVAL);
    // HD and later video is BT.709; untagged SD is BT.601 (swscale's default).
    int space = frame->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709
              : (frame->colorspace == AVCOL_SPC_UNSPECIFIED && frame->height >= 720) ? SWS_CS_ITU709 : SWS_CS_ITU601;
    const int *coefficients = sws_getCoefficients(space);
    int full_range = frame->color_range == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(sws, coefficients, full_range, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    uint8_t *planes[4] = {out, NULL, NULL, NULL};
    int strides[4] = {out_stride, 0, 0, 0};
    int rows = sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, planes, strides);
    sws_freeContext(sws);
    return rows == frame->height ? 0 : AVERROR(EINVAL);
}

int kiln_stream_rotation(const AVStream *stream) {
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (matrix == NULL) return 0;
    double counterClockwise = av_display_rotation_get((const int32_t *)matrix);
    if (isnan(counterClockwise)) return 0;
    int clockwise = (int)lround(-counterClockwise) % 360;
    if (clockwise < 0) clockwise += 360;
    return ((clockwise + 45) / 90 % 4) * 90;
}

int kiln_scale_frame(struct SwsContext **sws, const AVFrame *src, AVFrame *dst) {
    if (src->width <= 0 || src->height <= 0 || src->format < 0) return AVERROR_INVALIDDATA;
    // sws_getCachedContext keeps the context when nothing changed and makes a new one otherwise.
    *sws = sws_getCachedContext(*sws, src->width, src->height, src->format, dst->width, dst->height, dst->format,
                                SWS_BICUBIC, NULL, NULL, NULL);
    if (*sws == NULL) return AVERROR(EINVAL);
    int lines = sws_scale(*sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst->data, dst->linesize);
    return lines < 0 ? lines : 0;
}

// Turns one plane (width x height as stored) clockwise by `rotation` into `dst`.
static void turn_plane(const uint8_t *src, int src_stride, int width, int height, uint8_t *dst, int dst_stride, int rotation) {
    for (int y = 0; y < height; y++) {
        const uint8_t *row = src + (ptrdiff_t)y * src_stride;
        for (int x = 0; x < width; x++) {
            if (rotation == 90) dst[(ptrdiff_t)x * dst_stride + (height - 1 - y)] = row[x];
            else if (rotation == 180) dst[(ptrdiff_t)(height - 1 - y) * dst_stride + (width - 1 - x)] = row[x];
            else dst[(ptrdiff_t)(width - 1 - x) * dst_stride + y] = row[x];
        }
    }
}

void kiln_turn_frame(const AVFrame *src, AVFrame *dst, int rotation) {
    for (int plane = 0; plane < 3; plane++) {
        int shift = plane == 0 ? 0 : 1;  // yuv420p: chroma planes are half size each way
        turn_plane(src->data[plane], src->linesize[plane], AV_CEIL_RSHIFT(src->width, shift), AV_CEIL_RSHIFT(src->height, shift),
                   dst->data[plane], dst->linesize[plane], rotation);
    }
}
