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

// FFmpeg's error codes and sentinels are function-like macros, which Swift
// cannot import; each wrapper below returns one of them as a plain value.

static inline int kiln_averror(int posix_errno) { return AVERROR(posix_errno); }
static inline int kiln_averror_eof(void) { return AVERROR_EOF; }
static inline int kiln_averror_exit(void) { return AVERROR_EXIT; }
static inline int kiln_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t kiln_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational kiln_av_time_base_q(void) { return AV_TIME_BASE_Q; }

#endif
