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
