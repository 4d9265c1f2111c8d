#ifndef KILN_AUDIO_H
#define KILN_AUDIO_H

#include <libavcodec/avcodec.h>
#include <libswresample/swresample.h>

// Audio plumbing where C is plainer than Swift (AVFrame.extended_data and
// channel layouts): decoded frames to mono float samples.

/// A resampler from the decoder's format and layout to interleaved 32-bit float
/// with `channels` channels (the usual layout for that count) at the same
/// sample rate; NULL on failure. Free with swr_free.
SwrContext *kiln_swr_to_float(const AVCodecContext *decoder, int channels);

/// Converts one decoded frame; writes at most `capacity` sample frames to `out`
/// (each `channels` floats) and returns how many, or a negative AVERROR.
int kiln_frame_to_float(SwrContext *swr, const AVFrame *frame, float *out, int capacity);

#endif
