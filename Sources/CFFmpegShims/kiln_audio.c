#include "kiln_audio.h"

#include <libavutil/channel_layout.h>

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

int kiln_frame_to_float(SwrContext *swr, const AVFrame *frame, float *out, int capacity) {
    uint8_t *planes[1] = {(uint8_t *)out};
    return swr_convert(swr, planes, capacity, (const uint8_t **)frame->extended_data, frame->nb_samples);
}
