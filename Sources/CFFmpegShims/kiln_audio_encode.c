#include "kiln_audio_encode.h"

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <limits.h>
#include <math.h>

struct kiln_audio_transcoder {
    AVFormatContext *in;
    int stream_index;
    AVCodecContext *dec;
    AVCodecContext *enc;
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVFormatContext *out;
    AVStream *out_stream;
    AVPacket *packet;
    AVFrame *frame;
    int frame_size;
    int64_t start, end;          // output samples to keep: [start, end); end < 0 means to the end
    int64_t fifo_head;           // output sample position of the FIFO's first sample (-1 until known)
    int64_t encoded;             // samples handed to the encoder
    double gain;                 // applied by the resampler's matrix
    AVChannelLayout swr_layout;  // what the resampler was made for: a stream may change layout,
    int swr_format, swr_rate;    // format or rate mid-way (ADTS frames each carry their own)
    int input_done, decoder_drained, header_written, trailer_written, owns_out;
};

static int pick_sample_rate(const AVCodec *codec, int wanted) {
    if (codec->supported_samplerates == NULL) return wanted;
    int best = codec->supported_samplerates[0];
    for (const int *rate = codec->supported_samplerates; *rate; rate++) {
        if (abs(*rate - wanted) < abs(best - wanted)) best = *rate;
    }
    return best;
}

int kiln_write_encoded(AVCodecContext *encoder, AVFormatContext *muxer, AVStream *stream, AVPacket *packet) {
    for (;;) {
        int status = avcodec_receive_packet(encoder, packet);
        if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return 0;
        if (status < 0) return status;
        av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
        packet->stream_index = stream->index;
        if ((status = av_interleaved_write_frame(muxer, packet)) < 0) return status;
    }
}

static int write_packets(kiln_audio_transcoder *t) {
    return kiln_write_encoded(t->enc, t->out, t->out_stream, t->packet);
}

// (Re)makes the resampler for input of this layout, format and rate.
static int make_resampler(kiln_audio_transcoder *t, const AVChannelLayout *layout, enum AVSampleFormat format, int rate) {
    int status;
    swr_free(&t->swr);
    av_channel_layout_uninit(&t->swr_layout);
    if ((status = av_channel_layout_copy(&t->swr_layout, layout)) < 0) return status;
    t->swr_format = format;
    t->swr_rate = rate;
    if ((status = swr_alloc_set_opts2(&t->swr, &t->enc->ch_layout, t->enc->sample_fmt, t->enc->sample_rate,
                                      layout, format, rate, 0, NULL)) < 0) return status;
    if (t->gain != 1.0) {
        int in_channels = layout->nb_channels, out_channels = t->enc->ch_layout.nb_channels;
        // swr_build_matrix2 may touch rows and columns of all 64 channel
        // positions: build at stride 64, then pack for swr_set_matrix.
        double *full = av_calloc(64 * 64, sizeof(double));
        double *matrix = av_calloc((size_t)in_channels * out_channels, sizeof(double));
        if (full == NULL || matrix == NULL) { av_free(full); av_free(matrix); return AVERROR(ENOMEM); }
        // maxval INT_MAX: no normalisation, which would undo a gain above 1 (the peak check keeps it from clipping).
        status = swr_build_matrix2(layout, &t->enc->ch_layout, M_SQRT1_2, M_SQRT1_2, 0, INT_MAX, t->gain,
                                   full, 64, AV_MATRIX_ENCODING_NONE, NULL);
        for (int o = 0; o < out_channels; o++)
            for (int i = 0; i < in_channels; i++) matrix[o * in_channels + i] = full[o * 64 + i];
        if (status >= 0) status = swr_set_matrix(t->swr, matrix, in_channels);
        av_free(full);
        av_free(matrix);
        if (status < 0) return status;
    }
    if ((status = swr_init(t->swr)) < 0) return status;
    return 0;
}

// A frame's layout, with an unspecified order (some decoders give only a count) taken as that count's default.
static int frame_layout(const AVFrame *frame, AVChannelLayout *layout) {
    if (frame->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC) return av_channel_layout_copy(layout, &frame->ch_layout);
    av_channel_layout_default(layout, frame->ch_layout.nb_channels > 0 ? frame->ch_layout.nb_channels : 1);
    return 0;
}

static int resampler_fits(const kiln_audio_transcoder *t, const AVFrame *frame) {
    if (frame->format != t->swr_format || frame->sample_rate != t->swr_rate) return 0;
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) return frame->ch_layout.nb_channels == t->swr_layout.nb_channels;
    return av_channel_layout_compare(&frame->ch_layout, &t->swr_layout) == 0;
}

// Moves decoded samples (or, with `in` NULL, what the resampler still holds) into the FIFO.
static int resample_into_fifo(kiln_audio_transcoder *t, const AVFrame *in) {
    if (in && !resampler_fits(t, in)) {
        // A resampler made for other input would read planes this frame lacks: flush it, make another.
        AVChannelLayout layout = {0};
        int status = resample_into_fifo(t, NULL);
        if (status >= 0) status = frame_layout(in, &layout);
        if (status >= 0) status = make_resampler(t, &layout, in->format, in->sample_rate);
        av_channel_layout_uninit(&layout);
        if (status < 0) return status;
    }
    int channels = t->enc->ch_layout.nb_channels;
    int capacity = swr_get_out_samples(t->swr, in ? in->nb_samples : 0);
    if (capacity <= 0) return 0;
    uint8_t **buffer = NULL;
    int status = av_samples_alloc_array_and_samples(&buffer, NULL, channels, capacity, t->enc->sample_fmt, 0);
    if (status < 0) return status;
    int converted = swr_convert(t->swr, buffer, capacity, in ? (const uint8_t **)in->extended_data : NULL, in ? in->nb_samples : 0);
    if (converted > 0) {
        if (t->fifo_head < 0) t->fifo_head = 0;
        status = av_audio_fifo_write(t->fifo, (void **)buffer, converted);
        // Samples before the trim start are dropped from the head as they arrive.
        if (status >= 0 && t->fifo_head < t->start) {
            int64_t drop = t->start - t->fifo_head;
            int size = av_audio_fifo_size(t->fifo);
            if (drop > size) drop = size;
            av_audio_fifo_drain(t->fifo, (int)drop);
            t->fifo_head += drop;
        }
    } else {
        status = converted;
    }
    av_freep(&buffer[0]);
    av_freep(&buffer);
    return status < 0 ? status : 0;
}

static int encode_from_fifo(kiln_audio_transcoder *t, int final) {
    for (;;) {
        int64_t wanted = t->end >= 0 ? t->end - t->start - t->encoded : INT64_MAX;
        int available = av_audio_fifo_size(t->fifo);
        if (wanted <= 0) {
            av_audio_fifo_reset(t->fifo);
            return 0;
        }
        if (available == 0 || (available < t->frame_size && !final && wanted > available)) return 0;
        int count = available < t->frame_size ? available : t->frame_size;
        if (count > wanted) count = (int)wanted;
        AVFrame *frame = av_frame_alloc();
        if (frame == NULL) return AVERROR(ENOMEM);
        frame->nb_samples = count;
        frame->format = t->enc->sample_fmt;
        frame->sample_rate = t->enc->sample_rate;
        int status = av_channel_layout_copy(&frame->ch_layout, &t->enc->ch_layout);
        if (status >= 0) status = av_frame_get_buffer(frame, 0);
        if (status >= 0) status = av_audio_fifo_read(t->fifo, (void **)frame->data, count) == count ? 0 : AVERROR(EIO);
        if (status >= 0) {
            frame->pts = t->encoded;
            t->encoded += count;
            t->fifo_head += count;
            status = avcodec_send_frame(t->enc, frame);
        }
        av_frame_free(&frame);
        if (status >= 0) status = write_packets(t);
        if (status < 0) return status;
    }
}

// Decoder, encoder (with an output stream on `out`), resampler and FIFO; the
// caller opens `out` and writes its header.
static kiln_audio_transcoder *pipe_open(AVFormatContext *in, int stream_index, AVFormatContext *out, const char *encoder_name,
                                        int bit_rate, int sample_rate, int channels, double start, double duration, double gain,
                                        int *error) {
    kiln_audio_transcoder *t = av_mallocz(sizeof(*t));
    if (t == NULL) { *error = AVERROR(ENOMEM); return NULL; }
    t->in = in;
    t->stream_index = stream_index;
    t->out = out;
    t->fifo_head = -1;
    AVStream *stream = in->streams[stream_index];
    int status = 0;

    const AVCodec *decoder = avcodec_find_decoder(stream->codecpar->codec_id);
    const AVCodec *encoder = avcodec_find_encoder_by_name(encoder_name);
    if (decoder == NULL || encoder == NULL) { status = AVERROR_DECODER_NOT_FOUND; goto fail; }
    t->dec = avcodec_alloc_context3(decoder);
    t->enc = avcodec_alloc_context3(encoder);
    t->packet = av_packet_alloc();
    t->frame = av_frame_alloc();
    if (!t->dec || !t->enc || !t->packet || !t->frame) { status = AVERROR(ENOMEM); goto fail; }
    if ((status = avcodec_parameters_to_context(t->dec, stream->codecpar)) < 0) goto fail;
    t->dec->pkt_timebase = stream->time_base;
    if ((status = avcodec_open2(t->dec, decoder, NULL)) < 0) goto fail;
    if (t->dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
        int count = t->dec->ch_layout.nb_channels > 0 ? t->dec->ch_layout.nb_channels : 1;
        av_channel_layout_uninit(&t->dec->ch_layout);
        av_channel_layout_default(&t->dec->ch_layout, count);
    }
    if (channels <= 0) channels = t->dec->ch_layout.nb_channels > 2 ? 2 : t->dec->ch_layout.nb_channels;

    t->enc->sample_fmt = encoder->sample_fmts ? encoder->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    t->enc->sample_rate = pick_sample_rate(encoder, sample_rate > 0 ? sample_rate : t->dec->sample_rate);
    av_channel_layout_default(&t->enc->ch_layout, channels);
    t->enc->bit_rate = bit_rate;
    t->enc->time_base = (AVRational){1, t->enc->sample_rate};
    if (out->oformat->flags & AVFMT_GLOBALHEADER) t->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((status = avcodec_open2(t->enc, encoder, NULL)) < 0) goto fail;
    t->frame_size = t->enc->frame_size > 0 ? t->enc->frame_size : 1024;

    t->gain = gain;
    if ((status = make_resampler(t, &t->dec->ch_layout, t->dec->sample_fmt, t->dec->sample_rate)) < 0) goto fail;
    t->fifo = av_audio_fifo_alloc(t->enc->sample_fmt, t->enc->ch_layout.nb_channels, t->frame_size);
    if (t->fifo == NULL) { status = AVERROR(ENOMEM); goto fail; }

    t->out_stream = avformat_new_stream(out, NULL);
    if (t->out_stream == NULL) { status = AVERROR(ENOMEM); goto fail; }
    if ((status = avcodec_parameters_from_context(t->out_stream->codecpar, t->enc)) < 0) goto fail;
    t->out_stream->time_base = t->enc->time_base;
    t->start = (int64_t)(start * t->enc->sample_rate + 0.5);
    t->end = duration > 0 ? t->start + (int64_t)(duration * t->enc->sample_rate + 0.5) : -1;
    return t;

fail:
    *error = status;
    t->out = NULL;
    kiln_audio_transcoder_close(t);
    return NULL;
}

kiln_audio_transcoder *kiln_audio_pipe_open(AVFormatContext *in, int stream_index, AVFormatContext *out, const char *encoder_name,
                                            int bit_rate, int sample_rate, int channels, double start, double duration, int *error) {
    return pipe_open(in, stream_index, out, encoder_name, bit_rate, sample_rate, channels, start, duration, 1.0, error);
}

kiln_audio_transcoder *kiln_audio_transcoder_open(AVFormatContext *in, int stream_index, const char *output, const char *muxer_name,
                                                  const char *encoder_name, int bit_rate, int sample_rate, int channels,
                                                  double start, double duration, double gain, int *error) {
    AVFormatContext *out = NULL;
    int status = avformat_alloc_output_context2(&out, NULL, muxer_name, output);
    if (status < 0) { *error = status; return NULL; }
    kiln_audio_transcoder *t = pipe_open(in, stream_index, out, encoder_name, bit_rate, sample_rate, channels, start, duration, gain, error);
    if (t == NULL) { avformat_free_context(out); return NULL; }
    t->owns_out = 1;
    if (!(out->oformat->flags & AVFMT_NOFILE) && (status = avio_open(&out->pb, output, AVIO_FLAG_WRITE)) < 0) goto fail;
    AVDictionary *options = NULL;
    av_dict_set(&options, "movflags", "+faststart", 0);  // ignored (left in the dictionary) by muxers without it
    status = avformat_write_header(out, &options);
    av_dict_free(&options);
    if (status < 0) goto fail;
    t->header_written = 1;
    if (start > 0) {
        // Seek before the start; samples in between are dropped as they arrive.
        AVStream *stream = in->streams[stream_index];
        int64_t target = av_rescale_q((int64_t)(start * AV_TIME_BASE), AV_TIME_BASE_Q, stream->time_base);
        if (av_seek_frame(in, stream_index, target, AVSEEK_FLAG_BACKWARD) >= 0) avcodec_flush_buffers(t->dec);
    }
    return t;
fail:
    *error = status;
    kiln_audio_transcoder_close(t);
    return NULL;
}

// Converts the decoder's pending frames; positions the FIFO head from the first frame's time.
static int drain_decoder(kiln_audio_transcoder *t) {
    for (;;) {
        int status = avcodec_receive_frame(t->dec, t->frame);
        if (status == AVERROR(EAGAIN)) return 0;
        if (status == AVERROR_EOF) { t->decoder_drained = 1; return 0; }
        if (status < 0) return status;
        if (t->fifo_head < 0 && t->frame->best_effort_timestamp != AV_NOPTS_VALUE) {
            AVRational base = t->in->streams[t->stream_index]->time_base;
            t->fifo_head = av_rescale_q(t->frame->best_effort_timestamp, base, (AVRational){1, t->enc->sample_rate});
            if (t->fifo_head < 0) t->fifo_head = 0;
        }
        status = resample_into_fifo(t, t->frame);
        av_frame_unref(t->frame);
        if (status < 0) return status;
        status = encode_from_fifo(t, 0);
        if (status < 0) return status;
    }
}

int kiln_audio_pipe_feed(kiln_audio_transcoder *t, AVPacket *packet) {
    int status = avcodec_send_packet(t->dec, packet);
    // A damaged packet is skipped, as players do; the rest still plays.
    if (status < 0 && status != AVERROR(EAGAIN) && status != AVERROR_INVALIDDATA && status != AVERROR_EOF) return status;
    return drain_decoder(t);
}

int kiln_audio_pipe_wants_more(const kiln_audio_transcoder *t) {
    int64_t position = t->fifo_head + av_audio_fifo_size(t->fifo);
    return !(t->end >= 0 && t->fifo_head >= 0 && position >= t->end);
}

int kiln_audio_pipe_finish(kiln_audio_transcoder *t) {
    int status;
    if (!t->decoder_drained) {
        if ((status = avcodec_send_packet(t->dec, NULL)) < 0 && status != AVERROR_EOF) return status;
        if ((status = drain_decoder(t)) < 0) return status;
    }
    if ((status = resample_into_fifo(t, NULL)) < 0) return status;
    if ((status = encode_from_fifo(t, 1)) < 0) return status;
    if ((status = avcodec_send_frame(t->enc, NULL)) < 0 && status != AVERROR_EOF) return status;
    return write_packets(t);
}

int kiln_audio_transcoder_step(kiln_audio_transcoder *t) {
    int status;
    if (!t->input_done) {
        status = kiln_audio_pipe_wants_more(t) ? av_read_frame(t->in, t->packet) : AVERROR_EOF;
        if (status == AVERROR_EOF) {
            t->input_done = 1;
        } else if (status < 0) {
            return status;
        } else {
            if (t->packet->stream_index == t->stream_index) {
                AVPacket *copy = av_packet_clone(t->packet);
                av_packet_unref(t->packet);
                status = kiln_audio_pipe_feed(t, copy);
                av_packet_free(&copy);
                if (status < 0) return status;
            } else {
                av_packet_unref(t->packet);
            }
        }
        return 1;
    }
    if ((status = kiln_audio_pipe_finish(t)) < 0) return status;
    t->trailer_written = 1;
    if ((status = av_write_trailer(t->out)) < 0) return status;
    return 0;
}

double kiln_audio_transcoder_position(const kiln_audio_transcoder *t) {
    return t->enc ? (double)t->encoded / t->enc->sample_rate : 0;
}

void kiln_audio_transcoder_close(kiln_audio_transcoder *t) {
    if (t == NULL) return;
    if (t->out && t->owns_out) {
        // Written even after a failure or a cancel, so the muxer frees what it holds.
        if (t->header_written && !t->trailer_written) av_write_trailer(t->out);
        if (!(t->out->oformat->flags & AVFMT_NOFILE)) avio_closep(&t->out->pb);
        avformat_free_context(t->out);
    }
    av_audio_fifo_free(t->fifo);
    swr_free(&t->swr);
    av_channel_layout_uninit(&t->swr_layout);
    avcodec_free_context(&t->dec);
    avcodec_free_context(&t->enc);
    av_packet_free(&t->packet);
    av_frame_free(&t->frame);
    av_free(t);
}
