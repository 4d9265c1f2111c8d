#include "kiln_hls.h"
#include "kiln_audio_encode.h"
#include "kiln_frames.h"

#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

// One rendition's `hls` muxer. Its file I/O goes through hooks that allow only
// plain files and count the segments it finishes, so the caller can publish
// each segment (and the playlist naming it) as soon as it is on disk.
typedef struct {
    AVFormatContext *mux;
    AVStream *stream;
    const char *segment_suffix;   // ".ts" or ".m4s"
    AVIOContext *segment_pb;      // the segment file being written
    int finished_segments;
    int header_written, trailer_written;
} rendition_output;

typedef struct {
    kiln_hls_rung settings;
    AVCodecContext *enc;
    struct SwsContext *sws;
    AVFrame *scaled;
    AVPacket *encoded;
    rendition_output out;
} rung;

struct kiln_hls_ladder {
    AVFormatContext *in;
    int video_index, audio_index;
    AVCodecContext *dec;
    AVPacket *packet;
    AVFrame *frame;
    int rotation;        // clockwise degrees from the display matrix: HLS players ignore it, so the top rung turns the picture
    AVFrame *stored;     // the top rung's picture before turning, in the source's stored orientation
    int rung_count;
    rung *rungs;
    kiln_audio_transcoder *audio;
    rendition_output audio_out;
    AVRational rate, in_base;
    int64_t segment_us, next_boundary_us;
    int64_t first_pts, last_pts;  // input time base; first_pts AV_NOPTS_VALUE until the first frame
    int64_t video_end;            // input time base: the last frame's pts plus its duration
    int input_done, finished;
};

static int has_suffix(const char *text, const char *suffix) {
    size_t length = strlen(text), suffix_length = strlen(suffix);
    return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

static int hls_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags, AVDictionary **options) {
    rendition_output *r = s->opaque;
    // The muxer only ever writes the files it was told about: no protocol but plain files.
    if (strstr(url, "://") != NULL || strncmp(url, "file:", 5) == 0 || strstr(url, "..") != NULL) return AVERROR(EPERM);
    int status = avio_open2(pb, url, flags, &s->interrupt_callback, options);
    if (status >= 0 && has_suffix(url, r->segment_suffix)) r->segment_pb = *pb;
    return status;
}

static int hls_io_close2(AVFormatContext *s, AVIOContext *pb) {
    rendition_output *r = s->opaque;
    if (pb != NULL && pb == r->segment_pb) {
        r->segment_pb = NULL;
        r->finished_segments++;
    }
    return avio_close(pb);
}

static int open_rendition_muxer(rendition_output *r, const kiln_hls_settings *s, int index) {
    int status = avformat_alloc_output_context2(&r->mux, NULL, "hls", s->playlists[index]);
    if (status < 0) return status;
    r->mux->opaque = r;
    r->mux->io_open = hls_io_open;
    r->mux->io_close2 = hls_io_close2;
    r->segment_suffix = strcmp(s->segment_type, "fmp4") == 0 ? ".m4s" : ".ts";
    return 0;
}

static int write_rendition_header(rendition_output *r, const kiln_hls_settings *s, int index) {
    AVDictionary *options = NULL;
    char seconds[32];
    snprintf(seconds, sizeof(seconds), "%.6f", s->segment_seconds);
    av_dict_set(&options, "hls_time", seconds, 0);
    av_dict_set(&options, "hls_list_size", "0", 0);
    // EVENT while the job runs (segments are only appended); the caller turns
    // the finished playlist into VOD. The trailer adds EXT-X-ENDLIST.
    av_dict_set(&options, "hls_playlist_type", "event", 0);
    av_dict_set(&options, "hls_segment_type", s->segment_type, 0);
    av_dict_set(&options, "hls_segment_filename", s->segments[index], 0);
    av_dict_set(&options, "hls_flags", "independent_segments", 0);
    if (strcmp(s->segment_type, "fmp4") == 0) av_dict_set(&options, "hls_fmp4_init_filename", "init.mp4", 0);
    int status = avformat_write_header(r->mux, &options);
    av_dict_free(&options);
    if (status >= 0) r->header_written = 1;
    return status < 0 ? status : 0;
}

static int finish_rendition(rendition_output *r) {
    if (!r->header_written || r->trailer_written) return 0;
    r->trailer_written = 1;
    return av_write_trailer(r->mux);
}

static void free_rendition(rendition_output *r) {
    if (r->mux == NULL) return;
    finish_rendition(r);
    avformat_free_context(r->mux);
    r->mux = NULL;
}

static int open_rung(kiln_hls_ladder *t, rung *r, const kiln_hls_settings *s, int index, const AVCodec *encoder) {
    int status;
    r->settings = s->rungs[index];
    if ((status = open_rendition_muxer(&r->out, s, index)) < 0) return status;
    r->enc = avcodec_alloc_context3(encoder);
    r->scaled = av_frame_alloc();
    r->encoded = av_packet_alloc();
    if (!r->enc || !r->scaled || !r->encoded) return AVERROR(ENOMEM);
    r->enc->width = r->settings.width;
    r->enc->height = r->settings.height;
    r->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    r->enc->time_base = t->in_base;
    r->enc->framerate = t->rate;
    r->enc->sample_aspect_ratio = (AVRational){1, 1};
    // Keyframes come only where forced (every segment boundary, the same frame
    // in every rung); the encoder's own interval is set beyond a segment.
    int frames_per_segment = (int)(av_q2d(t->rate) * s->segment_seconds + 0.5);
    r->enc->gop_size = 2 * (frames_per_segment > 0 ? frames_per_segment : 50) + 1;
    r->enc->max_b_frames = 2;
    r->enc->thread_count = 0;
    if (r->settings.bit_rate > 0) r->enc->bit_rate = r->settings.bit_rate;
    if (r->settings.max_rate > 0) r->enc->rc_max_rate = r->settings.max_rate;
    if (r->settings.buffer_size > 0) r->enc->rc_buffer_size = r->settings.buffer_size;
    if (r->out.mux->oformat->flags & AVFMT_GLOBALHEADER) r->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (s->preset) av_opt_set(r->enc->priv_data, "preset", s->preset, 0);
    if (r->settings.crf > 0) {
        char crf[16];
        snprintf(crf, sizeof(crf), "%d", r->settings.crf);
        av_opt_set(r->enc->priv_data, "crf", crf, 0);
    }
    av_opt_set(r->enc->priv_data, "forced-idr", "1", 0);
    av_opt_set(r->enc->priv_data, "x264-params", "scenecut=0:open-gop=0", 0);
    if ((status = avcodec_open2(r->enc, encoder, NULL)) < 0) return status;

    // The top rung of a turned source scales to the stored orientation and is turned after.
    int turned = index == 0 && t->rotation % 180 != 0;
    int scaled_width = turned ? r->settings.height : r->settings.width, scaled_height = turned ? r->settings.width : r->settings.height;
    if (index == 0 && t->rotation != 0) {
        t->stored = av_frame_alloc();
        if (t->stored == NULL) return AVERROR(ENOMEM);
        t->stored->format = AV_PIX_FMT_YUV420P;
        t->stored->width = scaled_width;
        t->stored->height = scaled_height;
        if ((status = av_frame_get_buffer(t->stored, 0)) < 0) return status;
    }
    r->scaled->format = AV_PIX_FMT_YUV420P;
    r->scaled->width = r->settings.width;
    r->scaled->height = r->settings.height;
    if ((status = av_frame_get_buffer(r->scaled, 0)) < 0) return status;

    r->out.stream = avformat_new_stream(r->out.mux, NULL);
    if (r->out.stream == NULL) return AVERROR(ENOMEM);
    if ((status = avcodec_parameters_from_context(r->out.stream->codecpar, r->enc)) < 0) return status;
    r->out.stream->time_base = r->enc->time_base;
    r->out.stream->avg_frame_rate = t->rate;
    return write_rendition_header(&r->out, s, index);
}

kiln_hls_ladder *kiln_hls_open(AVFormatContext *in, const kiln_hls_settings *s, int *error) {
    kiln_hls_ladder *t = av_mallocz(sizeof(*t));
    if (t == NULL) { *error = AVERROR(ENOMEM); return NULL; }
    t->in = in;
    t->first_pts = AV_NOPTS_VALUE;
    t->last_pts = AV_NOPTS_VALUE;
    t->audio_index = -1;
    int status;
    const AVCodec *decoder = NULL;
    t->video_index = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (t->video_index < 0) { status = t->video_index; goto fail; }
    AVStream *stream = in->streams[t->video_index];
    t->in_base = stream->time_base;
    t->rate = av_guess_frame_rate(in, stream, NULL);
    t->rotation = kiln_stream_rotation(stream);
    if (t->rate.num <= 0 || t->rate.den <= 0) t->rate = (AVRational){25, 1};
    t->segment_us = (int64_t)(s->segment_seconds * AV_TIME_BASE + 0.5);
    t->next_boundary_us = 0;

    t->dec = avcodec_alloc_context3(decoder);
    t->packet = av_packet_alloc();
    t->frame = av_frame_alloc();
    t->rungs = av_calloc(s->rung_count, sizeof(rung));
    if (!t->dec || !t->packet || !t->frame || !t->rungs) { status = AVERROR(ENOMEM); goto fail; }
    t->rung_count = s->rung_count;
    if ((status = avcodec_parameters_to_context(t->dec, stream->codecpar)) < 0) goto fail;
    t->dec->pkt_timebase = stream->time_base;
    t->dec->thread_count = 0;
    t->dec->max_pixels = KILN_MAX_FRAME_PIXELS;
    if ((status = avcodec_open2(t->dec, decoder, NULL)) < 0) goto fail;

    const AVCodec *encoder = avcodec_find_encoder_by_name(s->video_encoder);
    if (encoder == NULL) { status = AVERROR_ENCODER_NOT_FOUND; goto fail; }
    // Cascade: each rung scales from the rung above it, a smaller and cheaper picture than the source.
    for (int i = 0; i < s->rung_count; i++) {
        if ((status = open_rung(t, &t->rungs[i], s, i, encoder)) < 0) goto fail;
    }
    if (s->audio_encoder) {
        t->audio_index = av_find_best_stream(in, AVMEDIA_TYPE_AUDIO, -1, t->video_index, NULL, 0);
        if (t->audio_index >= 0) {
            if ((status = open_rendition_muxer(&t->audio_out, s, s->rung_count)) < 0) goto fail;
            // The sound ends with the picture, so no rendition has segments the others lack.
            double video_seconds = stream->duration != AV_NOPTS_VALUE && stream->duration > 0 ? stream->duration * av_q2d(stream->time_base) : 0;
            t->audio = kiln_audio_pipe_open(in, t->audio_index, t->audio_out.mux, s->audio_encoder, s->audio_bit_rate, 0, 2, 0, video_seconds,
                                            &status);
            if (t->audio == NULL) goto fail;
            t->audio_out.stream = t->audio_out.mux->streams[0];
            if ((status = write_rendition_header(&t->audio_out, s, s->rung_count)) < 0) goto fail;
        } else {
            t->audio_index = -1;
        }
    }
    return t;

fail:
    *error = status;
    kiln_hls_close(t);
    return NULL;
}

static int encode_rung(rung *r, AVFrame *frame) {
    int status = avcodec_send_frame(r->enc, frame);
    if (status < 0 && status != AVERROR_EOF) return status;
    return kiln_write_encoded(r->enc, r->out.mux, r->out.stream, r->encoded);
}

// Every decoded frame goes to every rung; a frame at or past the next segment
// boundary is a forced keyframe in all of them, so the muxers cut at the same frame.
static int drain_decoder(kiln_hls_ladder *t) {
    for (;;) {
        int status = avcodec_receive_frame(t->dec, t->frame);
        if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return 0;
        if (status < 0) return status;
        int64_t pts = t->frame->best_effort_timestamp;
        if (pts == AV_NOPTS_VALUE || (t->last_pts != AV_NOPTS_VALUE && pts <= t->last_pts)) {
            av_frame_unref(t->frame);
            continue;
        }
        if (t->first_pts == AV_NOPTS_VALUE) t->first_pts = pts;
        t->last_pts = pts;
        int64_t nominal = av_rescale_q(1, av_inv_q(t->rate), t->in_base);
        t->video_end = pts + (t->frame->pkt_duration > 0 ? t->frame->pkt_duration : nominal);
        int64_t out_pts = pts - t->first_pts;
        int keyframe = 0;
        if (av_compare_ts(out_pts, t->in_base, t->next_boundary_us, AV_TIME_BASE_Q) >= 0) {
            keyframe = 1;
            while (av_compare_ts(out_pts, t->in_base, t->next_boundary_us, AV_TIME_BASE_Q) >= 0) t->next_boundary_us += t->segment_us;
        }
        const AVFrame *source = t->frame;
        for (int i = 0; i < t->rung_count; i++) {
            rung *r = &t->rungs[i];
            if ((status = av_frame_make_writable(r->scaled)) < 0) break;
            // Each frame is scaled from its own size and format (the top rung's may change mid-stream).
            if (i == 0 && t->stored) {
                if ((status = av_frame_make_writable(t->stored)) < 0 || (status = kiln_scale_frame(&r->sws, source, t->stored)) < 0) break;
                kiln_turn_frame(t->stored, r->scaled, t->rotation);
            } else if ((status = kiln_scale_frame(&r->sws, source, r->scaled)) < 0) {
                break;
            }
            r->scaled->pts = out_pts;
            r->scaled->pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
            if ((status = encode_rung(r, r->scaled)) < 0) break;
            source = r->scaled;
        }
        av_frame_unref(t->frame);
        if (status < 0) return status;
    }
}

int kiln_hls_step(kiln_hls_ladder *t) {
    int status;
    if (t->finished) return 0;
    if (!t->input_done) {
        status = av_read_frame(t->in, t->packet);
        if (status == AVERROR_EOF) {
            t->input_done = 1;
            return 1;
        }
        if (status < 0) return status;
        if (t->packet->stream_index == t->video_index) {
            status = avcodec_send_packet(t->dec, t->packet);
            av_packet_unref(t->packet);
            if (status < 0 && status != AVERROR(EAGAIN) && status != AVERROR_INVALIDDATA) return status;
            return (status = drain_decoder(t)) < 0 ? status : 1;
        }
        if (t->audio && t->packet->stream_index == t->audio_index) {
            status = kiln_audio_pipe_feed(t->audio, t->packet);  // the decoder takes its own reference
            av_packet_unref(t->packet);
            return status < 0 ? status : 1;
        }
        av_packet_unref(t->packet);
        return 1;
    }
    if ((status = avcodec_send_packet(t->dec, NULL)) < 0 && status != AVERROR_EOF) return status;
    if ((status = drain_decoder(t)) < 0) return status;
    // Not one picture decoded (a header the decoder cannot use): a ladder of nothing is not a success.
    if (t->first_pts == AV_NOPTS_VALUE) return AVERROR_INVALIDDATA;
    for (int i = 0; i < t->rung_count; i++) {
        if ((status = encode_rung(&t->rungs[i], NULL)) < 0) return status;
        if ((status = finish_rendition(&t->rungs[i].out)) < 0) return status;
    }
    if (t->audio) {
        if ((status = kiln_audio_pipe_finish(t->audio)) < 0) return status;
        if ((status = finish_rendition(&t->audio_out)) < 0) return status;
    }
    t->finished = 1;
    return 0;
}

double kiln_hls_position(const kiln_hls_ladder *t) {
    if (t->first_pts == AV_NOPTS_VALUE) return 0;
    return (t->last_pts - t->first_pts) * av_q2d(t->in_base);
}

int kiln_hls_has_audio(const kiln_hls_ladder *t) { return t->audio != NULL; }

int kiln_hls_finished_segments(const kiln_hls_ladder *t, int rendition) {
    if (rendition < t->rung_count) return t->rungs[rendition].out.finished_segments;
    return t->audio ? t->audio_out.finished_segments : 0;
}

double kiln_hls_frame_rate(const kiln_hls_ladder *t) { return av_q2d(t->rate); }

double kiln_hls_video_seconds(const kiln_hls_ladder *t) {
    if (t->first_pts == AV_NOPTS_VALUE) return 0;
    return (t->video_end - t->first_pts) * av_q2d(t->in_base);
}

// avc1.PPCCLL from the encoder's SPS (profile_idc, constraint flags, level_idc).
void kiln_hls_codec_string(const kiln_hls_ladder *t, int rendition, char *buffer, int size) {
    if (rendition >= t->rung_count) {
        snprintf(buffer, size, "mp4a.40.2");
        return;
    }
    const AVCodecContext *enc = t->rungs[rendition].enc;
    const uint8_t *data = enc->extradata;
    int length = enc->extradata_size;
    if (data && length >= 4 && data[0] == 1) {  // avcC
        snprintf(buffer, size, "avc1.%02x%02x%02x", data[1], data[2], data[3]);
        return;
    }
    for (int i = 0; data && i + 4 < length; i++) {  // Annex B: find the SPS NAL (type 7)
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 7 && i + 6 < length) {
            snprintf(buffer, size, "avc1.%02x%02x%02x", data[i + 4], data[i + 5], data[i + 6]);
            return;
        }
    }
    snprintf(buffer, size, "avc1.640028");
}

void kiln_hls_close(kiln_hls_ladder *t) {
    if (t == NULL) return;
    for (int i = 0; t->rungs && i < t->rung_count; i++) {
        rung *r = &t->rungs[i];
        free_rendition(&r->out);
        avcodec_free_context(&r->enc);
        sws_freeContext(r->sws);
        av_frame_free(&r->scaled);
        av_packet_free(&r->encoded);
    }
    av_free(t->rungs);
    kiln_audio_transcoder_close(t->audio);  // does not free the shared muxer
    free_rendition(&t->audio_out);
    avcodec_free_context(&t->dec);
    av_packet_free(&t->packet);
    av_frame_free(&t->frame);
    av_frame_free(&t->stored);
    av_free(t);
}
