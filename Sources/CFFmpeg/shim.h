#ifndef KILN_CFFMPEG_SHIM_H
#define KILN_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/dict.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>

// FFmpeg's error codes and sentinels are function-like macros, which Swift
// cannot import; each wrapper below returns one of them as a plain value.

static inline int kiln_averror(int posix_errno) { return AVERROR(posix_errno); }
static inline int kiln_averror_eof(void) { return AVERROR_EOF; }
static inline int kiln_averror_exit(void) { return AVERROR_EXIT; }
static inline int kiln_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t kiln_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational kiln_av_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int kiln_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
static inline int kiln_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }

#endif
