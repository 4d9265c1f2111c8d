#include "kiln_video_encode.h"
#include "kiln_audio_encode.h"
#include "kiln_frames.h"

#include <libavcodec/avcodec.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

struct kiln_video_transcoder {
    AVFormatContext *in, *out;
    int video_index, audio_index;
    AVCodecContext *dec, *enc;
    struct SwsContext *sws;
    AVStream *out_stream;
    AVPacket *packet, *encoded;
    AVFrame *frame, *scaled;
    AVFrame *stored;              // the picture as stored, before it is turned (only when turning)
    int rotation;                 // clockwise degrees the pixels are turned: the container keeps no display matrix
    kiln_audio_transcoder *audio;
    int64_t start_pts, end_pts;   // input stream time base; end_pts < 0: to the end
    int64_t last_pts;             // last pts handed to the encoder (output time base)
    AVRational in_base;           // the input stream's time base
    int frame_rate_cap;           // output time base is 1/fps: frames landing on a taken tick are dropped
    int input_done, header_written, trailer_written;
};

static int write_video_packets(kiln_video_transcoder *t) {
    return kiln_write_encoded(t->enc, t->out, t->out_stream, t->encoded);
}

static int encode_frame(kiln_video_transcoder *t, AVFrame *frame) {
    int status = avcodec_send_frame(t->enc, frame);
    if (status < 0 && status != AVERROR_EOF) return status;
    return write_video_packets(t);
}

// Decoded frames in the trim window are scaled and encoded; timestamps start at 0.
static int drain_video_decoder(kiln_video_transcoder *t) {
    for (;;) {
        int status = avcodec_receive_frame(t->dec, t->frame);
        if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return 0;
        if (status < 0) return status;
        int64_t pts = t->frame->best_effort_timestamp;
        if (pts == AV_NOPTS_VALUE || pts < t->start_pts || (t->end_pts >= 0 && pts >= t->end_pts)) {
            av_frame_unref(t->frame);
            continue;
        }
        if (t->stored) {
            // The container keeps no display matrix: scale as stored, then turn the picture upright.
            if ((status = av_frame_make_writable(t->stored)) < 0 || (status = av_frame_make_writable(t->scaled)) < 0 ||
                (status = kiln_scale_frame(&t->sws, t->frame, t->stored)) < 0) {
                av_frame_unref(t->frame);
                return status;
            }
            kiln_turn_frame(t->stored, t->scaled, t->rotation);
        } else if ((status = av_frame_make_writable(t->scaled)) < 0 || (status = kiln_scale_frame(&t->sws, t->frame, t->scaled)) < 0) {
            av_frame_unref(t->frame);
            return status;
        }
        int64_t out_pts = t->frame_rate_cap ? av_rescale_q_rnd(pts - t->start_pts, t->in_base, t->enc->time_base, AV_ROUND_DOWN)
                                            : pts - t->start_pts;
        av_frame_unref(t->frame);
        if (out_pts <= t->last_pts) continue;  // a repeated timestamp would be refused by the muxer
        t->last_pts = out_pts;
        t->scaled->pts = out_pts;
        t->scaled->pict_type = AV_PICTURE_TYPE_NONE;
        if ((status = encode_frame(t, t->scaled)) < 0) return status;
    }
}

kiln_video_transcoder *kiln_video_transcoder_open(AVFormatContext *in, const char *output, const kiln_video_settings *s, int *error) {
    kiln_video_transcoder *t = av_mallocz(sizeof(*t));
    if (t == NULL) { *error = AVERROR(ENOMEM); return NULL; }
    t->in = in;
    t->last_pts = -1;
    int status;
    const AVCodec *decoder = NULL;
    t->video_index = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (t->video_index < 0) { status = t->video_index; goto fail; }
    t->audio_index = s->audio_encoder ? av_find_best_stream(in, AVMEDIA_TYPE_AUDIO, -1, t->video_index, NULL, 0) : -1;
    AVStream *stream = in->streams[t->video_index];

    if ((status = avformat_alloc_output_context2(&t->out, NULL, s->muxer, output)) < 0) goto fail;
    const AVCodec *encoder = avcodec_find_encoder_by_name(s->video_encoder);
    if (encoder == NULL) { status = AVERROR_ENCODER_NOT_FOUND; goto fail; }
    t->dec = avcodec_alloc_context3(decoder);
    t->enc = avcodec_alloc_context3(encoder);
    t->packet = av_packet_alloc();
    t->encoded = av_packet_alloc();
    t->frame = av_frame_alloc();
    t->scaled = av_frame_alloc();
    if (!t->dec || !t->enc || !t->packet || !t->encoded || !t->frame || !t->scaled) { status = AVERROR(ENOMEM); goto fail; }
    if ((status = avcodec_parameters_to_context(t->dec, stream->codecpar)) < 0) goto fail;
    t->dec->pkt_timebase = stream->time_base;
    // AVCodecContext defaults to one thread; 0 lets each codec use every core, as the ffmpeg tool does.
    t->dec->thread_count = 0;
    t->dec->max_pixels = KILN_MAX_FRAME_PIXELS;
    if ((status = avcodec_open2(t->dec, decoder, NULL)) < 0) goto fail;

    AVRational rate = av_guess_frame_rate(in, stream, NULL);
    if (rate.num <= 0 || rate.den <= 0) rate = (AVRational){25, 1};
    t->in_base = stream->time_base;
    if (s->fps > 0 && s->fps < av_q2d(rate)) {
        rate = av_d2q(s->fps, 1001000);
        t->frame_rate_cap = 1;
    }
    // s->width x s->height is the picture as stored. MP4 and MOV carry the source's display matrix
    // and players turn the picture; other containers (WebM) have none, so the pixels are turned here.
    int keeps_matrix = strcmp(s->muxer, "mp4") == 0 || strcmp(s->muxer, "mov") == 0;
    t->rotation = keeps_matrix ? 0 : kiln_stream_rotation(stream);
    int quarter = t->rotation % 180 != 0;
    t->enc->width = quarter ? s->height : s->width;
    t->enc->height = quarter ? s->width : s->height;
    t->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    t->enc->time_base = t->frame_rate_cap ? av_inv_q(rate) : stream->time_base;
    t->enc->framerate = rate;
    t->enc->sample_aspect_ratio = (AVRational){1, 1};
    // The same cadence in every rendition: a keyframe every keyframe_seconds, none in between.
    int gop = (int)(av_q2d(rate) * (s->keyframe_seconds > 0 ? s->keyframe_seconds : 2) + 0.5);
    t->enc->gop_size = gop > 0 ? gop : 50;
    t->enc->keyint_min = t->enc->gop_size;
    t->enc->max_b_frames = 2;
    t->enc->thread_count = 0;
    if (s->bit_rate > 0) t->enc->bit_rate = s->bit_rate;
    if (s->max_rate > 0) t->enc->rc_max_rate = s->max_rate;
    if (s->buffer_size > 0) t->enc->rc_buffer_size = s->buffer_size;
    if (t->out->oformat->flags & AVFMT_GLOBALHEADER) t->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char crf[16];
    snprintf(crf, sizeof(crf), "%d", s->crf);
    if (strcmp(s->video_encoder, "libx264") == 0 || strcmp(s->video_encoder, "libx265") == 0) {
        if (s->preset) av_opt_set(t->enc->priv_data, "preset", s->preset, 0);
        if (s->crf > 0) av_opt_set(t->enc->priv_data, "crf", crf, 0);
        av_opt_set(t->enc->priv_data, strcmp(s->video_encoder, "libx264") == 0 ? "x264-params" : "x265-params",
                   strcmp(s->video_encoder, "libx264") == 0 ? "scenecut=0:open-gop=0" : "scenecut=0:open-gop=0:log-level=error", 0);
    } else {
        if (s->crf > 0) av_opt_set(t->enc->priv_data, "crf", crf, 0);
        if (strcmp(s->video_encoder, "libvpx-vp9") == 0) {
            av_opt_set(t->enc->priv_data, "deadline", "good", 0);
            av_opt_set(t->enc->priv_data, "cpu-used", "4", 0);
            av_opt_set(t->enc->priv_data, "row-mt", "1", 0);
        }
    }
    if ((status = avcodec_open2(t->enc, encoder, NULL)) < 0) goto fail;

    t->scaled->format = AV_PIX_FMT_YUV420P;
    t->scaled->width = t->enc->width;
    t->scaled->height = t->enc->height;
    if ((status = av_frame_get_buffer(t->scaled, 0)) < 0) goto fail;
    if (t->rotation != 0) {
        t->stored = av_frame_alloc();
        if (t->stored == NULL) { status = AVERROR(ENOMEM); goto fail; }
        t->stored->format = AV_PIX_FMT_YUV420P;
        t->stored->width = s->width;
        t->stored->height = s->height;
        if ((status = av_frame_get_buffer(t->stored, 0)) < 0) goto fail;
    }

    t->out_stream = avformat_new_stream(t->out, NULL);
    if (t->out_stream == NULL) { status = AVERROR(ENOMEM); goto fail; }
    if ((status = avcodec_parameters_from_context(t->out_stream->codecpar, t->enc)) < 0) goto fail;
    t->out_stream->time_base = t->enc->time_base;
    t->out_stream->avg_frame_rate = rate;
    // In MP4 the rotation stays metadata, as the source had it: players turn the picture.
    const uint8_t *matrix = keeps_matrix ? av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, NULL) : NULL;
    if (matrix) {
        uint8_t *copy = av_stream_new_side_data(t->out_stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
        if (copy) memcpy(copy, matrix, 9 * sizeof(int32_t));
    }
    if (t->audio_index >= 0) {
        t->audio = kiln_audio_pipe_open(in, t->audio_index, t->out, s->audio_encoder, s->audio_bit_rate, 0, 0, s->start, s->duration, &status);
        if (t->audio == NULL) goto fail;
    }

    t->start_pts = s->start > 0 ? av_rescale_q((int64_t)(s->start * AV_TIME_BASE), AV_TIME_BASE_Q, stream->time_base) : 0;
    if (stream->start_time != AV_NOPTS_VALUE) t->start_pts += stream->start_time;
    t->end_pts = s->duration > 0 ? t->start_pts + av_rescale_q((int64_t)(s->duration * AV_TIME_BASE), AV_TIME_BASE_Q, stream->time_base) : -1;
    if (s->start > 0) {
        // Seek to the keyframe before the start; frames in between are decoded and dropped.
        if (av_seek_frame(in, t->video_index, t->start_pts, AVSEEK_FLAG_BACKWARD) >= 0) avcodec_flush_buffers(t->dec);
    }
    if (!(t->out->oformat->flags & AVFMT_NOFILE) && (status = avio_open(&t->out->pb, output, AVIO_FLAG_WRITE)) < 0) goto fail;
    AVDictionary *options = NULL;
    if (strcmp(s->muxer, "mp4") == 0) av_dict_set(&options, "movflags", "+faststart", 0);
    status = avformat_write_header(t->out, &options);
    av_dict_free(&options);
    if (status < 0) goto fail;
    t->header_written = 1;
    return t;

fail:
    *error = status;
    kiln_video_transcoder_close(t);
    return NULL;
}

int kiln_video_transcoder_step(kiln_video_transcoder *t) {
    int status;
    if (!t->input_done) {
        status = av_read_frame(t->in, t->packet);
        if (status == AVERROR_EOF) {
            t->input_done = 1;
            return 1;
        }
        if (status < 0) return status;
        if (t->packet->stream_index == t->video_index) {
            int64_t pts = t->packet->pts != AV_NOPTS_VALUE ? t->packet->pts : t->packet->dts;
            // Past the end (with room for reordered frames): stop reading.
            if (t->end_pts >= 0 && pts != AV_NOPTS_VALUE && pts > t->end_pts + av_rescale_q(AV_TIME_BASE, AV_TIME_BASE_Q, t->in->streams[t->video_index]->time_base)
                && (t->audio == NULL || !kiln_audio_pipe_wants_more(t->audio))) {
                av_packet_unref(t->packet);
                t->input_done = 1;
                return 1;
            }
            status = avcodec_send_packet(t->dec, t->packet);
            av_packet_unref(t->packet);
            if (status < 0 && status != AVERROR(EAGAIN) && status != AVERROR_INVALIDDATA) return status;
            return (status = drain_video_decoder(t)) < 0 ? status : 1;
        }
        if (t->audio && t->packet->stream_index == t->audio_index && kiln_audio_pipe_wants_more(t->audio)) {
            status = kiln_audio_pipe_feed(t->audio, t->packet);  // the decoder takes its own reference
            av_packet_unref(t->packet);
            return status < 0 ? status : 1;
        }
        av_packet_unref(t->packet);
        return 1;
    }
    if ((status = avcodec_send_packet(t->dec, NULL)) < 0 && status != AVERROR_EOF) return status;
    if ((status = drain_video_decoder(t)) < 0) return status;
    // Not one picture decoded (or none in the trim window): an empty video is not a success.
    if (t->last_pts < 0) return AVERROR_INVALIDDATA;
    if ((status = encode_frame(t, NULL)) < 0) return status;
    if (t->audio && (status = kiln_audio_pipe_finish(t->audio)) < 0) return status;
    t->trailer_written = 1;
    if ((status = av_write_trailer(t->out)) < 0) return status;
    return 0;
}

double kiln_video_transcoder_position(const kiln_video_transcoder *t) {
    if (t->last_pts < 0 || t->enc == NULL) return 0;
    return t->last_pts * av_q2d(t->enc->time_base);
}

void kiln_video_transcoder_close(kiln_video_transcoder *t) {
    if (t == NULL) return;
    if (t->out) {
        if (t->header_written && !t->trailer_written) av_write_trailer(t->out);
        if (!(t->out->oformat->flags & AVFMT_NOFILE)) avio_closep(&t->out->pb);
    }
    kiln_audio_transcoder_close(t->audio);  // does not free the shared muxer
    if (t->out) avformat_free_context(t->out);
    sws_freeContext(t->sws);
    av_frame_free(&t->stored);
    avcodec_free_context(&t->dec);
    avcodec_free_context(&t->enc);
    av_packet_free(&t->packet);
    av_packet_free(&t->encoded);
    av_frame_free(&t->frame);
    av_frame_free(&t->scaled);
    av_free(t);
}
