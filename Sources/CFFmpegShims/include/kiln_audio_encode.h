#ifndef KILN_AUDIO_ENCODE_H
#define KILN_AUDIO_ENCODE_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>

// Audio transcoding in one C unit: decoder → resampler → FIFO of encoder-sized
// frames → encoder → muxer. The loop is plain C because it lives on pointer
// arrays (extended_data, AVAudioFifo planes) that Swift cannot index cleanly;
// Swift drives it, reports progress and decides when to stop.

typedef struct kiln_audio_transcoder kiln_audio_transcoder;

/// Moves every packet `encoder` has ready into `stream` of `muxer` (time stamps
/// rescaled), using `packet` as scratch. 0, or a negative AVERROR.
int kiln_write_encoded(AVCodecContext *encoder, AVFormatContext *muxer, AVStream *stream, AVPacket *packet);

/// Opens `input` (already opened by the caller's demuxer: `in`, stream `stream_index`)
/// for conversion to `encoder_name` at `bit_rate` / `sample_rate` (0 keeps the
/// source's, rounded to what the encoder accepts) and `channels` (1 or 2),
/// written by the `muxer_name` muxer to `output`, every sample multiplied by
/// `gain`. NULL on failure, with *error set.
kiln_audio_transcoder *kiln_audio_transcoder_open(AVFormatContext *in, int stream_index, const char *output, const char *muxer_name,
                                                  const char *encoder_name, int bit_rate, int sample_rate, int channels,
                                                  double start, double duration, double gain, int *error);

/// The same pipeline writing to a muxer the caller owns (a video transcode's):
/// adds an output stream to `out` before its header is written. `channels` 0
/// keeps the source's, at most 2.
kiln_audio_transcoder *kiln_audio_pipe_open(AVFormatContext *in, int stream_index, AVFormatContext *out, const char *encoder_name,
                                            int bit_rate, int sample_rate, int channels, double start, double duration, int *error);
/// Decodes one packet of the pipe's stream and encodes what it can.
int kiln_audio_pipe_feed(kiln_audio_transcoder *t, AVPacket *packet);
/// Whether samples before the trim end are still wanted.
int kiln_audio_pipe_wants_more(const kiln_audio_transcoder *t);
/// Drains decoder, resampler and encoder into the muxer (no trailer).
int kiln_audio_pipe_finish(kiln_audio_transcoder *t);

/// Reads and converts one packet's worth. Returns 1 while there is more, 0 at
/// the end (everything flushed and the trailer written), or a negative AVERROR.
int kiln_audio_transcoder_step(kiln_audio_transcoder *t);

/// Seconds of output written so far.
double kiln_audio_transcoder_position(const kiln_audio_transcoder *t);

/// Writes the trailer if it was not written (so the muxer frees its buffers) and frees everything.
void kiln_audio_transcoder_close(kiln_audio_transcoder *t);

#endif
