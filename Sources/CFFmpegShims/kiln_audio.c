#include "kiln_audio.h"

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

SwrContext *kiln_swr_to_float(const AVCodecContext *decoder, int channels) {
    AVChannelLayout target;
    av_channel_layout_default(&target, channels);
    AVChannelLayout in = decoder->ch_layout;
    AVChannelLayout defaulted;
    if (in.order == AV_CHANNEL_ORDER_UNSPEC || in.nb_channels == 0) {
        // Some streams say only how many channels: take the usual layout for that count.
        av_channel_layout_default(&defaulted, in.nb_channels > 0 ? in.nb_channels : 1);
        in = defaulted;
    }
    SwrContext *swr = NULL;
    if (swr_alloc_set_opts2(&swr, &target, AV_SAMPLE_FMT_FLT, decoder->sample_rate,
                            &in, decoder->sample_fmt, decoder->sample_rate, 0, NULL) < 0) {
        return NULL;
    }
    if (swr_init(swr) < 0) {
        swr_free(&swr);
        return NULL;
    }
    return swr;
}

// Points the resampler at this frame's layout, format and rate when they are not the ones it was
// made for (a stream may change them mid-way); its output stays as it was.
static int fit_input(SwrContext *swr, const AVFrame *frame) {
    AVChannelLayout configured = {0}, layout = {0};
    int64_t format = -1, rate = 0;
    if (av_opt_get_chlayout(swr, "in_chlayout", 0, &configured) < 0) return AVERROR(EINVAL);
    av_opt_get_int(swr, "in_sample_fmt", 0, &format);
    av_opt_get_int(swr, "in_sample_rate", 0, &rate);
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame->ch_layout.nb_channels == 0)
        av_channel_layout_default(&layout, frame->ch_layout.nb_channels > 0 ? frame->ch_layout.nb_channels : 1);
    else
        av_channel_layout_copy(&layout, &frame->ch_layout);
    int status = 0;
    if (av_channel_layout_compare(&layout, &configured) != 0 || format != frame->format || rate != frame->sample_rate) {
        swr_close(swr);
        if ((status = av_opt_set_chlayout(swr, "in_chlayout", &layout, 0)) >= 0 &&
            (status = av_opt_set_int(swr, "in_sample_fmt", frame->format, 0)) >= 0 &&
            (status = av_opt_set_int(swr, "in_sample_rate", frame->sample_rate, 0)) >= 0)
            status = swr_init(swr);
    }
    av_channel_layout_uninit(&configured);
    av_channel_layout_uninit(&layout);
    return status;
}

int kiln_frame_to_float(SwrContext *swr, const AVFrame *frame, float *out, int capacity) {
    int status = fit_input(swr, frame);
    if (status < 0) return status;
    uint8_t *planes[1] = {(uint8_t *)out};
    return swr_convert(swr, planes, capacity, (const uint8_t **)frame->extended_data, frame->nb_samples);
}
