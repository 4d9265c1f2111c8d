#ifndef KILN_AUDIO_H
#define KILN_AUDIO_H

#include <libavcodec/avcodec.h>
#include <libswresample/swresample.h>

// Audio plumbing where C is plainer than Swift (AVFrame.extended_data and
// channel layouts): decoded frames to mono float samples.

/// A resampler from the decoder's format and layout to mono 32-bit float at the
/// same sample rate; NULL on failure. Free with swr_free.
SwrContext *kiln_swr_to_mono_float(const AVCodecContext *decoder);

/// Converts one decoded frame; writes at most `capacity` samples to `out` and
/// returns how many, or a negative AVERROR.
int kiln_frame_to_mono_float(SwrContext *swr, const AVFrame *frame, float *out, int capacity);

#endif
