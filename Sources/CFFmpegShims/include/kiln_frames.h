#ifndef KILN_FRAMES_H
#define KILN_FRAMES_H

#include <stdint.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

struct SwsContext;

/// The largest frame a decoder may produce (AVCodecContext.max_pixels): the
/// header is checked before decoding, but a stream can change size mid-way.
/// 8192x6144, above any camera's video and below what would exhaust memory.
#define KILN_MAX_FRAME_PIXELS (8192 * 6144)

// Frame plumbing where C is plainer than Swift: AVFrame.data is an 8-tuple in
// Swift, and the display matrix is side data behind a deprecated accessor.

/// Converts a decoded video frame to packed 8-bit RGB (3 bytes a pixel,
/// `out_stride` bytes a row) with swscale, honouring the frame's colour matrix
/// (BT.601 or BT.709) and range. Returns 0, or a negative AVERROR.
int kiln_frame_to_rgb24(const AVFrame *frame, uint8_t *out, int out_stride);

/// Scales `src` into `dst` (whose size and format are set and buffers allocated)
/// through `*sws`, which is made again whenever the source frame's size or
/// pixel format is not the one it was made for: a stream may change either
/// mid-way (two clips joined), and a scaler made for a larger or other frame
/// reads beyond the planes of the one it gets. Returns 0 or a negative AVERROR.
int kiln_scale_frame(struct SwsContext **sws, const AVFrame *src, AVFrame *dst);

/// Turns a yuv420p frame clockwise by `rotation` (90, 180, 270) into `dst`,
/// whose sides are `src`'s, swapped for a quarter turn: for players and
/// containers that ignore a display matrix (HLS, WebM).
void kiln_turn_frame(const AVFrame *src, AVFrame *dst, int rotation);

/// Clockwise rotation in degrees (0, 90, 180, 270) a player applies to a
/// stream, from its display matrix; 0 when there is none.
int kiln_stream_rotation(const AVStream *stream);

#endif
