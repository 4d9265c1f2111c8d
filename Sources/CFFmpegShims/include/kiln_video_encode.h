#ifndef KILN_VIDEO_ENCODE_H
#define KILN_VIDEO_ENCODE_H

#include <libavformat/avformat.h>

// A video transcode in C (decoder → swscale → encoder → muxer, with the audio
// pipe of kiln_audio_encode.h beside it), driven from Swift step by step.

typedef struct kiln_video_transcoder kiln_video_transcoder;

typedef struct {
    const char *muxer;          // "mp4" or "webm"
    const char *video_encoder;  // "libx264", "libx265", "libvpx-vp9", "libaom-av1" / "libsvtav1"
    const char *audio_encoder;  // "aac" or "libopus"; NULL drops the sound
    int width, height;          // even; the caller keeps the aspect ratio
    int crf;                    // quality (0 = use bit_rate)
    int bit_rate, max_rate, buffer_size;  // bits a second; 0 = unset
    const char *preset;         // x264/x265 preset, NULL for the encoder's default
    double keyframe_seconds;    // GOP length: an IDR every this many seconds, no scene-cut keyframes
    double fps;                 // at most this many frames a second (frames are dropped, never invented); 0 keeps the source's
    int audio_bit_rate;
    double start, duration;     // trim, seconds (duration 0: to the end)
} kiln_video_settings;

/// Opens the conversion of `in` (the caller's demuxer) to `output`. NULL on failure, with *error set.
kiln_video_transcoder *kiln_video_transcoder_open(AVFormatContext *in, const char *output, const kiln_video_settings *settings, int *error);

/// Reads and converts one packet. 1 while there is more, 0 when done (trailer written), or a negative AVERROR.
int kiln_video_transcoder_step(kiln_video_transcoder *t);

/// Seconds of the output's video written so far.
double kiln_video_transcoder_position(const kiln_video_transcoder *t);

/// Writes the trailer if it was not written and frees everything.
void kiln_video_transcoder_close(kiln_video_transcoder *t);

#endif
