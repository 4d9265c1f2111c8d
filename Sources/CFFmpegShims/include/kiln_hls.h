#ifndef KILN_HLS_H
#define KILN_HLS_H

#include <libavformat/avformat.h>

// An HLS ladder from one decode: the source is decoded once; each rung scales
// from the rung above it (or the decoded frame), encodes with a keyframe forced
// at every segment boundary (the same frames in every rung, so cuts line up),
// and writes through its own libavformat `hls` muxer. The sound is encoded once
// into an audio-only rendition that every rung shares.

typedef struct kiln_hls_ladder kiln_hls_ladder;

typedef struct {
    int width, height;                    // even, of the picture as shown: a rotated source is turned, since HLS players ignore rotation metadata
    int crf;                              // 0 = use bit_rate
    int bit_rate, max_rate, buffer_size;  // bits a second; 0 = unset
} kiln_hls_rung;

typedef struct {
    const char *video_encoder;    // "libx264"
    const char *preset;           // NULL for the encoder's default
    const char *segment_type;     // "mpegts" or "fmp4"
    double segment_seconds;
    const char *audio_encoder;    // "aac", or NULL for no audio rendition
    int audio_bit_rate;
    int rung_count;
    const kiln_hls_rung *rungs;   // largest first
    const char *const *playlists; // per rendition (rungs, then audio): the media playlist's path
    const char *const *segments;  // per rendition: the segment file pattern, e.g. ".../720p/seg_%05d.ts"
} kiln_hls_settings;

/// Opens the ladder for `in` (the caller's demuxer). NULL on failure, with *error set.
kiln_hls_ladder *kiln_hls_open(AVFormatContext *in, const kiln_hls_settings *settings, int *error);

/// Reads and converts one packet. 1 while there is more, 0 when done (every
/// trailer written, playlists ended), or a negative AVERROR.
int kiln_hls_step(kiln_hls_ladder *ladder);

/// Seconds of video encoded so far.
double kiln_hls_position(const kiln_hls_ladder *ladder);

/// Whether the ladder has an audio rendition (the source has sound and it was asked for).
int kiln_hls_has_audio(const kiln_hls_ladder *ladder);

/// Segments the rendition's muxer has finished (closed) so far; rendition
/// `rung_count` is the audio one.
int kiln_hls_finished_segments(const kiln_hls_ladder *ladder, int rendition);

/// The rendition's RFC 6381 codec string (e.g. "avc1.64001f", "mp4a.40.2") into `buffer`.
void kiln_hls_codec_string(const kiln_hls_ladder *ladder, int rendition, char *buffer, int size);

/// Frames a second of the video renditions.
double kiln_hls_frame_rate(const kiln_hls_ladder *ladder);

/// Seconds from the first picture's start to the last one's end (its own
/// duration included), as the source's timestamps say; 0 before any picture.
double kiln_hls_video_seconds(const kiln_hls_ladder *ladder);

/// Writes the trailers that were not written and frees everything.
void kiln_hls_close(kiln_hls_ladder *ladder);

#endif
