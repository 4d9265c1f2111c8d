#ifndef KILN_FRAMES_H
#define KILN_FRAMES_H

#include <stdint.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

// Frame plumbing where C is plainer than Swift: AVFrame.data is an 8-tuple in
// Swift, and the display matrix is side data behind a deprecated accessor.

/// Converts a decoded video frame to packed 8-bit RGB (3 bytes a pixel,
/// `out_stride` bytes a row) with swscale, honouring the frame's colour matrix
/// (BT.601 or BT.709) and range. Returns 0, or a negative AVERROR.
int kiln_frame_to_rgb24(const AVFrame *frame, uint8_t *out, int out_stride);

/// Clockwise rotation in degrees (0, 90, 180, 270) a player applies to a
/// stream, from its display matrix; 0 when there is none.
int kiln_stream_rotation(const AVStream *stream);

#endif
