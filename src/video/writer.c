/* writer.c - --annotate on a video: the drawn frames into an H.264 MP4. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/output.h"
#include "hubpredict/video.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define BUFSIZE 65536

struct hp_video_writer {
	struct hp_output out;
	AVIOContext *pb;
	AVFormatContext *fmt;
	AVCodecContext *enc;
	AVStream *st;
	AVFrame *cur;          /* the picture shown now, as YUV 4:2:0 */
	AVPacket *pkt;
	struct SwsContext *sws;
	int w, h;              /* even */
	double fps;
	int64_t next;          /* the next output frame's number */
	bool have_cur, header, closed;
};

#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int write_out(void *opaque, const uint8_t *buf, int n)
#else
static int write_out(void *opaque, uint8_t *buf, int n)
#endif
{
	struct hp_output *o = opaque;
	hp_out_write(o, buf, (size_t)n);
	return hp_output_ok(o) ? n : AVERROR(EIO);
}

static int64_t seek_out(void *opaque, int64_t off, int whence)
{
	struct hp_output *o = opaque;
	if (whence == AVSEEK_SIZE || o->direct)
		return AVERROR(ENOSYS);
	hp_out_flush(o);
	if (fseeko(o->fp, (off_t)off, whence) != 0)
		return AVERROR(errno);
	return (int64_t)ftello(o->fp);
}

static int averr(char *err, size_t errlen, const char *what, int r)
{
	char e[AV_ERROR_MAX_STRING_SIZE] = "";
	av_strerror(r, e, sizeof e);
	snprintf(err, errlen, "%s: %s", what, e);
	return -1;
}

/* libx264 at the size and rate, crf 23, a key frame every 10 s. */
static int open_encoder(struct hp_video_writer *wr, int fps_num, int fps_den, char *err, size_t errlen)
{
	const AVCodec *c = avcodec_find_encoder_by_name("libx264");
	if (!c)
		c = avcodec_find_encoder(AV_CODEC_ID_H264);
	if (!c) {
		snprintf(err, errlen, "no H.264 encoder in this FFmpeg");
		return -1;
	}
	if (!(wr->enc = avcodec_alloc_context3(c))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	AVCodecContext *e = wr->enc;
	e->width = wr->w;
	e->height = wr->h;
	e->pix_fmt = AV_PIX_FMT_YUV420P;
	e->time_base = (AVRational){ fps_den, fps_num };
	e->framerate = (AVRational){ fps_num, fps_den };
	e->gop_size = (int)(wr->fps * 10) + 1;
	if (wr->fmt->oformat->flags & AVFMT_GLOBALHEADER)
		e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	av_opt_set(e->priv_data, "preset", "veryfast", 0);
	av_opt_set(e->priv_data, "crf", "23", 0);
	int r = avcodec_open2(e, c, NULL);
	if (r < 0)
		return averr(err, errlen, "cannot start the H.264 encoder", r);
	if (!(wr->st = avformat_new_stream(wr->fmt, NULL)))
		return averr(err, errlen, "cannot add the video stream", AVERROR(ENOMEM));
	wr->st->time_base = e->time_base;
	wr->st->avg_frame_rate = e->framerate;
	if ((r = avcodec_parameters_from_context(wr->st->codecpar, e)) < 0)
		return averr(err, errlen, "cannot add the video stream", r);
	return 0;
}

/* The muxer writing through out (a fragmented MP4 where it cannot seek). */
static int open_muxer(struct hp_video_writer *wr, char *err, size_t errlen)
{
	int r = avformat_alloc_output_context2(&wr->fmt, NULL, "mp4", NULL);
	if (r < 0)
		return averr(err, errlen, "cannot make an MP4", r);
	unsigned char *buf = av_malloc(BUFSIZE);
	if (!buf || !(wr->pb = avio_alloc_context(buf, BUFSIZE, 1, &wr->out, NULL, write_out, seek_out))) {
		av_free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	wr->pb->seekable = wr->out.direct ? 0 : AVIO_SEEKABLE_NORMAL;
	wr->fmt->pb = wr->pb;
	wr->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	return 0;
}

int hp_video_writer_open(struct hp_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                         char *err, size_t errlen)
{
	struct hp_video_writer *wr = calloc(1, sizeof *wr);
	int rc = -1;
	if (!wr) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fps_num <= 0 || fps_den <= 0) {
		fps_num = 30;
		fps_den = 1;
	}
	wr->w = w & ~1;
	wr->h = h & ~1;
	wr->fps = (double)fps_num / fps_den;
	if (wr->w < 2 || wr->h < 2) {
		snprintf(err, errlen, "%dx%d is too small for a video", w, h);
		goto done;
	}
	if (hp_output_open(&wr->out, path, err, errlen) < 0 || open_muxer(wr, err, errlen) < 0 ||
	    open_encoder(wr, fps_num, fps_den, err, errlen) < 0)
		goto done;
	AVDictionary *o = NULL;
	if (wr->out.direct)
		av_dict_set(&o, "movflags", "frag_keyframe+empty_moov", 0);
	int r = avformat_write_header(wr->fmt, &o);
	av_dict_free(&o);
	if (r < 0) {
		averr(err, errlen, "cannot write the MP4 header", r);
		goto done;
	}
	wr->header = true;
	if (!(wr->cur = av_frame_alloc()) || !(wr->pkt = av_packet_alloc())) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	if (rc < 0)
		hp_video_writer_free(wr);
	else
		*out = wr;
	return rc;
}

/* Send one frame (NULL: the end) and write what the encoder gives back. */
static int encode(struct hp_video_writer *wr, AVFrame *f, char *err, size_t errlen)
{
	int r = avcodec_send_frame(wr->enc, f);
	while (r >= 0) {
		r = avcodec_receive_packet(wr->enc, wr->pkt);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			return 0;
		if (r < 0)
			break;
		av_packet_rescale_ts(wr->pkt, wr->enc->time_base, wr->st->time_base);
		wr->pkt->stream_index = wr->st->index;
		r = av_interleaved_write_frame(wr->fmt, wr->pkt);
	}
	return averr(err, errlen, hp_output_ok(&wr->out) ? "cannot encode the video" : "cannot write the video", r);
}

/* The current picture for every output frame before t. */
static int fill_until(struct hp_video_writer *wr, double t, char *err, size_t errlen)
{
	while (wr->have_cur && (double)wr->next / wr->fps < t - 1e-7) {
		if (av_frame_make_writable(wr->cur) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		wr->cur->pts = wr->next++;
		if (encode(wr, wr->cur, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int hp_video_writer_put(struct hp_video_writer *wr, const struct hp_pixmap *p, double t, char *err, size_t errlen)
{
	if (fill_until(wr, t, err, errlen) < 0)
		return -1;
	if ((p->w & ~1) != wr->w || (p->h & ~1) != wr->h) {
		snprintf(err, errlen, "a picture of %dx%d in a video of %dx%d", p->w, p->h, wr->w, wr->h);
		return -1;
	}
	if (!wr->have_cur) {
		wr->cur->format = AV_PIX_FMT_YUV420P;
		wr->cur->width = wr->w;
		wr->cur->height = wr->h;
		if (av_frame_get_buffer(wr->cur, 0) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	/* an odd picture loses its last column and row */
	wr->sws = sws_getCachedContext(wr->sws, wr->w, wr->h, AV_PIX_FMT_RGB24, wr->w, wr->h, AV_PIX_FMT_YUV420P,
	                               SWS_BILINEAR | SWS_ACCURATE_RND, NULL, NULL, NULL);
	if (!wr->sws || av_frame_make_writable(wr->cur) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const uint8_t *src[4] = { p->rgb, NULL, NULL, NULL };
	int stride[4] = { p->w * 3, 0, 0, 0 };
	sws_scale(wr->sws, src, stride, 0, wr->h, wr->cur->data, wr->cur->linesize);
	wr->have_cur = true;
	return 0;
}

int hp_video_writer_close(struct hp_video_writer *wr, double end, char *err, size_t errlen)
{
	int rc = -1;
	if (wr->have_cur && wr->next == 0 && end <= 0)
		end = 1 / wr->fps; /* at least the one frame */
	if (fill_until(wr, end, err, errlen) < 0 || encode(wr, NULL, err, errlen) < 0)
		goto done;
	int r = av_write_trailer(wr->fmt);
	wr->header = false;
	if (r < 0) {
		averr(err, errlen, "cannot finish the MP4", r);
		goto done;
	}
	avio_flush(wr->pb);
	if (hp_output_commit(&wr->out, err, errlen) < 0)
		goto done;
	wr->closed = true;
	rc = 0;
done:
	return rc;
}

void hp_video_writer_free(struct hp_video_writer *wr)
{
	if (!wr)
		return;
	if (!wr->closed)
		hp_output_abort(&wr->out);
	av_frame_free(&wr->cur);
	av_packet_free(&wr->pkt);
	avcodec_free_context(&wr->enc);
	avformat_free_context(wr->fmt);
	if (wr->pb) {
		av_freep(&wr->pb->buffer);
		avio_context_free(&wr->pb);
	}
	sws_freeContext(wr->sws);
	free(wr);
}
