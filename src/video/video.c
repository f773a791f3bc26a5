/* video.c - the frame source: demux, decode, pick, convert on demand. */
#include "hubpredict/video.h"
#include "hubpredict/exitcode.h"
#include "vframe.h"
#include "vio.h"
#include "vselect.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/cpu.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libswscale/swscale.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The containers a video INPUT may be. Playlists (hls, dash), lists
 * (concat) and image sequences are not among them: they name other files. */
#define FORMATS "mov,mp4,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg,gif,h264,hevc,m4v,ivf,obu,nut,mxf,yuv4mpegpipe"

struct queued {
	AVFrame *f;
	long long n;
	double t;
};

/* Packets whose frames the decoder was told it may skip (non-reference
 * ones that cannot be chosen), and the timestamps of the packets read
 * last: what is known around a packet when its skipping is decided. */
#define RECENT 32
struct skipped {
	int64_t pts, dur;
};

struct hp_video {
	struct hp_vio io;
	AVIOContext *pb;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVStream *st;
	struct hp_video_opts opts;
	struct hp_video_info info;
	struct hp_vsel sel;
	AVPacket *pkt;
	AVFrame *frame;
	struct queued held;          /* the last frame, for --fps's choice */
	struct queued q[2];          /* chosen, not yet converted */
	int qn;
	long long decoded, packets, damaged;
	double first_ts;             /* in time base units */
	bool have_ts, have_first, flushing, read_failed, dead;
	double last_t, last_dur, end;
	int state;                   /* 0 running, 1 ended, -1/-2 failed */
	char msg[200];
	struct SwsContext *sws;
	bool may_skip;               /* off for --decode-all or odd timestamps */
	int64_t out_pts;             /* of the last frame counted, real or skipped */
	int64_t recent[RECENT];      /* timestamps of the last packets read */
	int nrecent;
	struct skipped skip[RECENT]; /* sent to be skipped, not yet counted: by pts */
	int nskip;
	long long skipped;
};

bool hp_video_supported(void)
{
	return true;
}

int hp_video_check_versions(char *err, size_t errlen)
{
	static const struct {
		const char *name;
		unsigned (*run)(void);
		unsigned built;
	} libs[] = {
		{ "libavformat", avformat_version, LIBAVFORMAT_VERSION_MAJOR },
		{ "libavcodec", avcodec_version, LIBAVCODEC_VERSION_MAJOR },
		{ "libswscale", swscale_version, LIBSWSCALE_VERSION_MAJOR },
		{ "libavutil", avutil_version, LIBAVUTIL_VERSION_MAJOR },
	};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		unsigned major = libs[i].run() >> 16;
		if (major != libs[i].built) {
			snprintf(err, errlen, "%s is version %u, hubpredict was built for %u", libs[i].name, major,
			         libs[i].built);
			return -1;
		}
	}
	return 0;
}

/* libavformat may not open anything else (hls segments, dref, concat). */
static int no_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                   AVDictionary **options)
{
	(void)s;
	(void)pb;
	(void)url;
	(void)flags;
	(void)options;
	return AVERROR(EPERM);
}

/* Clockwise degrees from the display matrix, to the nearest quarter turn. */
static int rotation_of(const AVStream *st)
{
	const int32_t *m = NULL;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
	const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
	                                                     st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
	if (sd && sd->size >= 9 * sizeof(int32_t))
		m = (const int32_t *)sd->data;
#else
	size_t size = 0;
	m = (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	if (size < 9 * sizeof(int32_t))
		m = NULL;
#endif
	if (!m)
		return 0;
	double a = -av_display_rotation_get(m);
	if (!isfinite(a))
		return 0;
	long q = lround(a / 90.0) % 4;
	return (int)((q + 4) % 4) * 90;
}

static int fail(char *err, size_t errlen, int code, const char *what, int averr)
{
	char e[AV_ERROR_MAX_STRING_SIZE] = "";
	if (averr)
		av_strerror(averr, e, sizeof e);
	snprintf(err, errlen, "%s%s%s", what, averr ? ": " : "", e);
	return code;
}

static void fill_info(struct hp_video *v)
{
	struct hp_video_info *in = &v->info;
	const AVStream *st = v->st;
	AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
	if (r.num > 0 && r.den > 0) {
		in->fps = av_q2d(r);
		in->fps_num = r.num;
		in->fps_den = r.den;
	}
	if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
		in->duration = (double)st->duration * av_q2d(st->time_base);
	else if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0)
		in->duration = (double)v->fmt->duration / AV_TIME_BASE;
	in->frames = st->nb_frames > 0 ? st->nb_frames : 0;
	in->rotation = rotation_of(st);
	int w = st->codecpar->width, h = st->codecpar->height;
	in->w = in->rotation % 180 ? h : w;
	in->h = in->rotation % 180 ? w : h;
	snprintf(in->codec, sizeof in->codec, "%s", avcodec_get_name(st->codecpar->codec_id));
	snprintf(in->container, sizeof in->container, "%.*s", (int)strcspn(v->fmt->iformat->name, ","),
	         v->fmt->iformat->name);
}

/* The container probed, its video stream found; the others discarded. */
static int open_container(struct hp_video *v, char *err, size_t errlen)
{
	if (!(v->fmt = avformat_alloc_context()))
		return fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	v->fmt->pb = v->pb;
	v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	v->fmt->io_open = no_open;
	AVDictionary *o = NULL;
	av_dict_set(&o, "format_whitelist", FORMATS, 0);
	int r = avformat_open_input(&v->fmt, NULL, NULL, &o);
	av_dict_free(&o);
	if (r == AVERROR(ENOMEM))
		return fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	if (r == AVERROR(EIO) || r == AVERROR(EISDIR))
		return fail(err, errlen, HP_EXIT_INPUT, "cannot read it", r);
	if (r < 0) /* no demuxer, not one allowed (FORMATS), or it refused the header */
		return fail(err, errlen, HP_EXIT_INPUT, "not a video", 0);
	if ((r = avformat_find_stream_info(v->fmt, NULL)) < 0)
		return fail(err, errlen, HP_EXIT_INPUT, "not a readable video", r);
	r = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (r < 0)
		return fail(err, errlen, HP_EXIT_INPUT, "no video stream", 0);
	v->st = v->fmt->streams[r];
	for (unsigned i = 0; i < v->fmt->nb_streams; i++)
		if (v->fmt->streams[i] != v->st)
			v->fmt->streams[i]->discard = AVDISCARD_ALL;
	return 0;
}

static int open_decoder(struct hp_video *v, char *err, size_t errlen)
{
	const AVCodecParameters *par = v->st->codecpar;
	if (par->width > HP_VIDEO_MAX_SIDE || par->height > HP_VIDEO_MAX_SIDE) {
		snprintf(err, errlen, "declares %dx%d pixels, over the limit of %d a side", par->width, par->height,
		         HP_VIDEO_MAX_SIDE);
		return HP_EXIT_INPUT;
	}
	if ((long)par->width * par->height > HP_VIDEO_MAX_PIXELS) {
		snprintf(err, errlen, "declares %dx%d pixels, over the 100 megapixel limit", par->width, par->height);
		return HP_EXIT_INPUT;
	}
	const AVCodec *c = avcodec_find_decoder(par->codec_id);
	if (!c) {
		snprintf(err, errlen, "no decoder for its codec (%s) in this FFmpeg", avcodec_get_name(par->codec_id));
		return HP_EXIT_INPUT;
	}
	if (!(v->dec = avcodec_alloc_context3(c)))
		return fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	int r = avcodec_parameters_to_context(v->dec, par);
	if (r < 0)
		return fail(err, errlen, HP_EXIT_INPUT, "bad codec parameters", r);
	v->dec->pkt_timebase = v->st->time_base;
	v->dec->max_pixels = HP_VIDEO_MAX_PIXELS;
	/* frame threads (output stays in order) as FFmpeg's automatic count
	 * would have them, one more than the cores, but at most 4: each holds
	 * pictures of its own, and memory is to stay flat on a big machine */
	int cores = av_cpu_count();
	v->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	v->dec->thread_count = cores < 2 ? 1 : cores < 3 ? cores + 1 : 4;
	if ((r = avcodec_open2(v->dec, c, NULL)) < 0)
		return fail(err, errlen, HP_EXIT_INPUT, "cannot decode it", r);
	return 0;
}

static int open_common(struct hp_video *v, const struct hp_video_opts *o, char *err, size_t errlen)
{
	if (!v->pb)
		return fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	av_log_set_level(AV_LOG_QUIET);
	v->opts = *o;
	v->may_skip = !o->decode_all;
	v->out_pts = INT64_MIN;
	hp_vsel_init(&v->sel, o->stride, o->fps);
	int rc = open_container(v, err, errlen);
	if (rc == 0)
		rc = open_decoder(v, err, errlen);
	if (rc == 0 && (!(v->pkt = av_packet_alloc()) || !(v->frame = av_frame_alloc())))
		rc = fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	if (rc == 0)
		fill_info(v);
	return rc;
}

int hp_video_open_fd(struct hp_video **out, int fd, const struct hp_video_opts *o, char *err, size_t errlen)
{
	struct hp_video *v = calloc(1, sizeof *v);
	if (!v)
		return fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	v->pb = hp_vio_open_fd(&v->io, fd);
	int rc = open_common(v, o, err, errlen);
	if (rc)
		hp_video_free(v);
	else
		*out = v;
	return rc;
}

int hp_video_open_mem(struct hp_video **out, const unsigned char *data, size_t n, const struct hp_video_opts *o,
                      char *err, size_t errlen)
{
	struct hp_video *v = calloc(1, sizeof *v);
	if (!v)
		return fail(err, errlen, HP_EXIT_INPUT, "out of memory", 0);
	v->pb = hp_vio_open_mem(&v->io, data, n);
	int rc = open_common(v, o, err, errlen);
	if (rc)
		hp_video_free(v);
	else
		*out = v;
	return rc;
}

const struct hp_video_info *hp_video_info(const struct hp_video *v)
{
	return &v->info;
}

double hp_video_end(const struct hp_video *v)
{
	return v->state == 0 ? v->last_t : v->end;
}

long long hp_video_decoded(const struct hp_video *v)
{
	return v->decoded;
}

long long hp_video_skipped(const struct hp_video *v)
{
	return v->skipped;
}

void hp_video_frame_clear(struct hp_video_frame *f)
{
	free(f->jpeg);
	hp_pixmap_free(&f->rgb);
	*f = (struct hp_video_frame){ 0 };
}

void hp_video_free(struct hp_video *v)
{
	if (!v)
		return;
	for (int i = 0; i < v->qn; i++)
		av_frame_free(&v->q[i].f);
	av_frame_free(&v->held.f);
	av_frame_free(&v->frame);
	av_packet_free(&v->pkt);
	avcodec_free_context(&v->dec);
	avformat_close_input(&v->fmt);
	hp_vio_close(&v->pb);
	sws_freeContext(v->sws);
	free(v);
}

/* Queue a chosen frame (a new reference to f, or f itself when move). */
static int enqueue(struct hp_video *v, AVFrame *f, long long n, double t, bool move)
{
	AVFrame *c = f;
	if (!move) {
		if (!(c = av_frame_clone(f)))
			return -2;
	}
	v->q[v->qn++] = (struct queued){ c, n, t };
	return 0;
}

/* The time of the next frame (timestamp ts, duration d in time base
 * units), seconds from the first one. */
static double frame_time(struct hp_video *v, int64_t ts, int64_t d)
{
	double tb = av_q2d(v->st->time_base);
	/* without a timestamp: one frame after the last (hostile ones are
	 * subtracted as doubles: no overflow) */
	if (!(tb > 0))
		ts = AV_NOPTS_VALUE;
	double step = v->last_dur > 0 ? v->last_dur : v->info.fps > 0 ? 1 / v->info.fps : 0;
	double t = v->have_first ? v->last_t + step : 0;
	if (ts != AV_NOPTS_VALUE && !v->have_ts) {
		v->first_ts = (double)ts - t / tb;
		v->have_ts = true;
	} else if (ts != AV_NOPTS_VALUE) {
		t = ((double)ts - v->first_ts) * tb;
	}
	v->have_first = true;
	v->last_t = t;
	v->last_dur = d > 0 ? (double)d * tb : 0;
	return t;
}

/* A frame the decoder skipped, counted in its place: the selection sees it
 * as it would have seen the decoded frame, and never chooses it (it was
 * skipped because it could not be chosen). The held frame may still be. */
static int take_skipped(struct hp_video *v, const struct skipped *k)
{
	long long n = v->decoded++;
	unsigned pick = hp_vsel_feed(&v->sel, n, frame_time(v, k->pts, k->dur));
	int rc = 0;
	if ((pick & HP_VSEL_PREV) && v->held.f) {
		rc = enqueue(v, v->held.f, v->held.n, v->held.t, true);
		v->held.f = NULL;
	}
	av_frame_free(&v->held.f);
	v->out_pts = k->pts;
	v->skipped++;
	return rc;
}

/* The skipped frames before pts (all with INT64_MAX) counted; one at pts
 * itself was decoded after all (a reference frame, or a codec that does
 * not skip) and is dropped from the list. */
static int take_skipped_before(struct hp_video *v, int64_t pts)
{
	int i = 0, rc = 0;
	while (rc == 0 && i < v->nskip && v->skip[i].pts < pts)
		rc = take_skipped(v, &v->skip[i++]);
	if (i < v->nskip && v->skip[i].pts == pts)
		i++;
	memmove(v->skip, v->skip + i, (size_t)(v->nskip - i) * sizeof v->skip[0]);
	v->nskip -= i;
	return rc;
}

/* A decoded frame through the selection: 0, or -2 out of memory. */
static int take_frame(struct hp_video *v)
{
	const AVFrame *f = v->frame;
	/* skipping counts on frames timed by their packets' timestamps */
	if (f->pts == AV_NOPTS_VALUE || f->best_effort_timestamp != f->pts)
		v->may_skip = false;
	if (v->nskip && take_skipped_before(v, f->pts == AV_NOPTS_VALUE ? INT64_MAX : f->pts) < 0)
		return -2;
	if (f->pts != AV_NOPTS_VALUE)
		v->out_pts = f->pts;
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
	int64_t d = f->duration;
#else
	int64_t d = f->pkt_duration;
#endif
	long long n = v->decoded++;
	double t = frame_time(v, f->best_effort_timestamp, d);
	unsigned pick = hp_vsel_feed(&v->sel, n, t);
	int rc = 0;
	if ((pick & HP_VSEL_PREV) && v->held.f) {
		rc = enqueue(v, v->held.f, v->held.n, v->held.t, true);
		v->held.f = NULL;
	}
	if (rc == 0 && (pick & HP_VSEL_THIS))
		rc = enqueue(v, v->frame, n, t, false);
	av_frame_free(&v->held.f);
	if (rc == 0 && v->sel.fps > 0 && !(pick & HP_VSEL_THIS)) {
		/* kept until the next frame says whether it was the nearer */
		v->held = (struct queued){ v->frame, n, t };
		v->frame = av_frame_alloc();
		if (!v->frame)
			rc = -2;
	}
	if (v->frame)
		av_frame_unref(v->frame);
	return rc;
}

/* The decoder is drained: the held frame's turn, then what went wrong. */
static int finish(struct hp_video *v)
{
	if (v->nskip && take_skipped_before(v, INT64_MAX) < 0) {
		snprintf(v->msg, sizeof v->msg, "out of memory");
		return -2;
	}
	double end = v->last_t + (v->last_dur > 0 ? v->last_dur : v->info.fps > 0 ? 1 / v->info.fps : 0);
	v->end = end;
	if (hp_vsel_finish(&v->sel, end) && v->held.f) {
		enqueue(v, v->held.f, v->held.n, v->held.t, true);
		v->held.f = NULL;
	}
	if (!v->read_failed && v->info.frames > 0 && v->packets < v->info.frames) {
		snprintf(v->msg, sizeof v->msg, "truncated: %lld of the %lld frames it declares", v->packets,
		         v->info.frames);
		v->read_failed = true;
	}
	if (!v->read_failed && v->decoded == 0) {
		snprintf(v->msg, sizeof v->msg, "%s", v->damaged ? "no frame could be decoded" : "no frames");
		v->read_failed = true;
	}
	return v->read_failed ? -1 : 1;
}

/* May the decoder skip the packet in v->pkt if nothing refers to it? Only
 * when its frame cannot be chosen (hp_vsel_may_pick) between the packets
 * read around it, and it comes after every frame counted so far. */
static bool skippable(const struct hp_video *v)
{
	const AVPacket *p = v->pkt;
	if (!v->may_skip || !v->have_ts || p->pts == AV_NOPTS_VALUE || (p->flags & AV_PKT_FLAG_KEY) ||
	    p->pts <= v->out_pts || v->nskip == RECENT)
		return false;
	int64_t before = INT64_MIN, after = INT64_MAX;
	for (int i = 0; i < v->nrecent; i++) {
		int64_t q = v->recent[i];
		if (q < p->pts && q > before)
			before = q;
		if (q > p->pts && q < after)
			after = q;
		if (q == p->pts)
			return false;
	}
	if (before == INT64_MIN || after == INT64_MAX)
		return false;
	double tb = av_q2d(v->st->time_base);
	return !hp_vsel_may_pick(&v->sel, ((double)p->pts - v->first_ts) * tb, ((double)before - v->first_ts) * tb,
	                         ((double)after - v->first_ts) * tb);
}

/* Note the packet's timestamp among the recent ones, and when it may be
 * skipped, in the list of those the frames decoded are checked against. */
static void note_packet(struct hp_video *v, bool skip)
{
	const AVPacket *p = v->pkt;
	if (skip) {
		int i = v->nskip;
		while (i > 0 && v->skip[i - 1].pts > p->pts)
			i--;
		memmove(v->skip + i + 1, v->skip + i, (size_t)(v->nskip - i) * sizeof v->skip[0]);
		v->skip[i] = (struct skipped){ p->pts, p->duration };
		v->nskip++;
	}
	if (p->pts == AV_NOPTS_VALUE)
		return;
	if (v->nrecent < RECENT)
		v->recent[v->nrecent++] = p->pts;
	else
		v->recent[v->packets % RECENT] = p->pts;
}

/* Feed the decoder one packet of the video stream, or the flush at the
 * end of the input (a read error noted for the end). */
static void feed(struct hp_video *v)
{
	int r = av_read_frame(v->fmt, v->pkt);
	if (r < 0) {
		if (r != AVERROR_EOF) {
			char e[AV_ERROR_MAX_STRING_SIZE];
			av_strerror(r, e, sizeof e);
			snprintf(v->msg, sizeof v->msg, "truncated or damaged after frame %lld: %s", v->decoded, e);
			v->read_failed = true;
		}
		v->flushing = true;
		avcodec_send_packet(v->dec, NULL);
		return;
	}
	if (v->pkt->stream_index == v->st->index) {
		/* whole packets: a cut one is marked corrupt */
		v->packets += !(v->pkt->flags & AV_PKT_FLAG_CORRUPT);
		bool skip = skippable(v);
		v->dec->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
		note_packet(v, skip);
		/* a damaged packet is skipped, as ffmpeg does */
		if (avcodec_send_packet(v->dec, v->pkt) < 0)
			v->damaged++;
	}
	av_packet_unref(v->pkt);
}

/* Decode until a frame is chosen or the video ends. */
static void run(struct hp_video *v)
{
	while (v->state == 0 && v->qn == 0) {
		int r = avcodec_receive_frame(v->dec, v->frame);
		if (r == 0) {
			if (take_frame(v) < 0) {
				snprintf(v->msg, sizeof v->msg, "out of memory");
				v->state = -2;
			}
		} else if (r == AVERROR(EAGAIN) && !v->flushing) {
			feed(v);
		} else if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) {
			v->state = finish(v);
		} else if (r == AVERROR_INVALIDDATA) {
			v->damaged++; /* concealed or dropped by the decoder, as ffmpeg goes on */
		} else if (r == AVERROR(ENOMEM)) {
			snprintf(v->msg, sizeof v->msg, "out of memory");
			v->state = -2;
		} else {
			char e[AV_ERROR_MAX_STRING_SIZE];
			av_strerror(r, e, sizeof e);
			snprintf(v->msg, sizeof v->msg, "cannot decode frame %lld: %s", v->decoded, e);
			v->state = -1;
		}
	}
}

int hp_video_next(struct hp_video *v, struct hp_video_frame *f, char *err, size_t errlen)
{
	*f = (struct hp_video_frame){ 0 };
	if (v->dead) {
		snprintf(err, errlen, "%s", v->msg);
		return v->state;
	}
	run(v);
	if (v->qn == 0) {
		if (v->state < 0)
			snprintf(err, errlen, "%s", v->msg);
		v->dead = v->state < 0;
		return v->state < 0 ? v->state : 0;
	}
	struct queued q = v->q[0];
	v->q[0] = v->q[1];
	v->qn--;
	int rc = hp_vframe_jpeg(&v->sws, q.f, v->info.rotation, v->opts.imgsz, v->opts.pixels, f, err, errlen);
	av_frame_free(&q.f);
	if (rc < 0) {
		snprintf(v->msg, sizeof v->msg, "%s", err);
		v->state = rc;
		v->dead = true;
		hp_video_frame_clear(f);
		return rc;
	}
	f->number = q.n;
	f->time = q.t;
	return 1;
}
