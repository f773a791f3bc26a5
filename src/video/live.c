/* live.c - a live source: a reader thread holding the newest frame, taken at
 * the --fps ticks; reconnection after a loss; every wait bounded. */
#define _GNU_SOURCE /* pipe2 */
#include "hubpredict/live.h"
#include "hubpredict/exitcode.h"
#include "vframe.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libswscale/swscale.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 10.0
/* the demuxers a live source may use: no concat lists, no image sequences */
#define FORMATS "rtsp,mpjpeg,hls,mpegts,mov,flv,live_flv,matroska,mjpeg,h264,hevc,aac,mp3,video4linux2"

struct hp_live {
	char *url;
	struct hp_live_opts o;
	struct hp_video_info info;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* the backoff's sleep, cut short by stop */
	int wake[2];                 /* a byte per new frame or failure */
	atomic_int stop;
	/* the reader's own (the open's before the thread starts) */
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;
	double deadline;             /* the interrupt callback's, monotonic s */
	bool timed_out;
	/* shared, under mu */
	AVFrame *newest;             /* an unreferenced frame when none */
	long long newest_n;          /* -1 before the first */
	double newest_t;
	double first_at;
	double fresh_at;             /* when the first frame newer than the last
	                              * taken arrived */
	long long received;
	int reconnects;
	int state;                   /* 0 running, else the failure's status */
	char msg[256];
	/* the consumer's */
	struct SwsContext *sws;
	double opened_at, t0;
	long long ticks, last_n, taken, skipped;
	int ended;                   /* 0, 1 the end, else the failure returned */
	char endmsg[256];
	bool sync;                   /* mu and cv made */
	bool network;                /* avformat_network_init() called */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The protocols the URL's scheme needs, never file: (NULL for a device). */
static const char *protocols(const char *url)
{
	if (has_prefix(url, "rtsp"))
		return "rtsp,rtsps,tcp,tls";
	if (has_prefix(url, "rtmp"))
		return "rtmp,rtmps,tcp,tls";
	if (has_prefix(url, "srt"))
		return "srt";
	if (has_prefix(url, "http"))
		return "http,https,tcp,tls,crypto,httpproxy";
	return NULL;
}

static int interrupted(void *opaque)
{
	struct hp_live *l = opaque;
	if (atomic_load(&l->stop))
		return 1;
	if (now_s() > l->deadline) {
		l->timed_out = true;
		return 1;
	}
	return 0;
}

static void arm(struct hp_live *l)
{
	l->deadline = now_s() + l->o.timeout;
	l->timed_out = false;
}

static void wake(struct hp_live *l)
{
	ssize_t r;
	do
		r = write(l->wake[1], "", 1);
	while (r < 0 && errno == EINTR);
}

/* The exit status and words for a failed FFmpeg call on the network. */
static int net_error(struct hp_live *l, int r, const char *doing, char *err, size_t errlen)
{
	char e[AV_ERROR_MAX_STRING_SIZE] = "";
	int code = HP_EXIT_NETWORK;
	if (l->timed_out) {
		snprintf(err, errlen, "%s: no answer in %g s", doing, l->o.timeout);
		return code;
	}
	if (r == AVERROR_HTTP_UNAUTHORIZED || r == AVERROR_HTTP_FORBIDDEN)
		code = HP_EXIT_AUTH;
	else if (r == AVERROR_HTTP_NOT_FOUND)
		code = HP_EXIT_NOT_FOUND;
	else if (r == AVERROR_HTTP_BAD_REQUEST || r == AVERROR_HTTP_OTHER_4XX)
		code = HP_EXIT_REJECTED;
	else if (r == AVERROR_HTTP_SERVER_ERROR)
		code = HP_EXIT_SERVER;
	else if (r == AVERROR(ENOMEM))
		code = HP_EXIT_NOMEM;
	else if (r == AVERROR_INVALIDDATA || r == AVERROR_DEMUXER_NOT_FOUND)
		code = HP_EXIT_INPUT;
	else if (r == AVERROR(ENOENT) || r == AVERROR(ENODEV) || r == AVERROR(ENXIO))
		code = HP_EXIT_INPUT; /* a device that is not there */
	av_strerror(r, e, sizeof e);
	snprintf(err, errlen, "%s: %s", doing, code == HP_EXIT_INPUT && r == AVERROR_INVALIDDATA ? "not a video stream" : e);
	return code;
}

/* V4L2 is libavdevice's: loaded (not linked) when a device is named. */
static const AVInputFormat *v4l2_format(char *err, size_t errlen)
{
	void (*reg)(void) = NULL;
	char so[32];
	snprintf(so, sizeof so, "libavdevice.so.%d", LIBAVFORMAT_VERSION_MAJOR);
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (h)
		*(void **)&reg = dlsym(h, "avdevice_register_all");
	if (!reg) {
		snprintf(err, errlen, "no V4L2 support: %s is not installed", so);
		return NULL;
	}
	reg(); /* idempotent; the library stays loaded for the formats it registered */
	const AVInputFormat *f = av_find_input_format("video4linux2");
	if (!f)
		snprintf(err, errlen, "no V4L2 support in this FFmpeg");
	return f;
}

/* The network's global state (TLS, name lookups) stays with the libraries
 * that made it: libavformat (and so what it loaded) is kept mapped until
 * the process ends, even when the module is closed at exit, so a leak
 * checker sees it still reachable rather than lost. */
static void pin_network(void)
{
#ifdef HP_AVFORMAT_SONAME
	dlopen(HP_AVFORMAT_SONAME, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
}

static void disconnect(struct hp_live *l)
{
	avcodec_free_context(&l->dec);
	avformat_close_input(&l->fmt);
}

static int open_decoder(struct hp_live *l, char *err, size_t errlen)
{
	const AVCodecParameters *par = l->fmt->streams[l->stream]->codecpar;
	if (par->width > HP_VIDEO_MAX_SIDE || par->height > HP_VIDEO_MAX_SIDE ||
	    (long)par->width * par->height > HP_VIDEO_MAX_PIXELS) {
		snprintf(err, errlen, "declares %dx%d pixels, over the limits", par->width, par->height);
		return HP_EXIT_INPUT;
	}
	const AVCodec *c = avcodec_find_decoder(par->codec_id);
	if (!c) {
		snprintf(err, errlen, "no decoder for its codec (%s) in this FFmpeg", avcodec_get_name(par->codec_id));
		return HP_EXIT_INPUT;
	}
	if (!(l->dec = avcodec_alloc_context3(c)) || avcodec_parameters_to_context(l->dec, par) < 0) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	l->dec->pkt_timebase = l->fmt->streams[l->stream]->time_base;
	l->dec->max_pixels = HP_VIDEO_MAX_PIXELS;
	l->dec->thread_count = 1; /* the newest frame, not a pipeline of them */
	int r = avcodec_open2(l->dec, c, NULL);
	if (r < 0) {
		char e[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(r, e, sizeof e);
		snprintf(err, errlen, "cannot decode it: %s", e);
		return HP_EXIT_INPUT;
	}
	return 0;
}

/* The options of the URL's kind: protocols, formats, RTSP over TCP. */
static int open_options(struct hp_live *l, AVDictionary **o, const AVInputFormat **f, char *err, size_t errlen)
{
	const char *p = protocols(l->url);
	if (p)
		av_dict_set(o, "protocol_whitelist", p, 0);
	av_dict_set(o, "format_whitelist", FORMATS, 0);
	if (has_prefix(l->url, "rtsp"))
		av_dict_set(o, "rtsp_transport", "tcp", 0);
	if (hp_live_is_device(l->url) && !(*f = v4l2_format(err, errlen)))
		return HP_EXIT_INPUT;
	return 0;
}

/* One connection: the URL opened, its video stream found, a decoder. */
static int connect_stream(struct hp_live *l, char *err, size_t errlen)
{
	AVDictionary *o = NULL;
	const AVInputFormat *f = NULL;
	int rc = open_options(l, &o, &f, err, errlen);
	if (rc == 0 && !(l->fmt = avformat_alloc_context())) {
		snprintf(err, errlen, "out of memory");
		rc = HP_EXIT_NOMEM;
	}
	if (rc) {
		av_dict_free(&o);
		return rc;
	}
	l->fmt->interrupt_callback = (AVIOInterruptCB){ interrupted, l };
	arm(l);
	int r = avformat_open_input(&l->fmt, l->url, f, &o);
	av_dict_free(&o);
	if (r < 0)
		return net_error(l, r, "cannot open it", err, errlen);
	arm(l);
	if ((r = avformat_find_stream_info(l->fmt, NULL)) < 0) {
		rc = net_error(l, r, "cannot read it", err, errlen);
	} else if ((r = av_find_best_stream(l->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0)) < 0) {
		snprintf(err, errlen, "no video stream");
		rc = HP_EXIT_INPUT;
	} else {
		l->stream = r;
		for (unsigned i = 0; i < l->fmt->nb_streams; i++)
			if ((int)i != r)
				l->fmt->streams[i]->discard = AVDISCARD_ALL;
		rc = open_decoder(l, err, errlen);
	}
	if (rc)
		disconnect(l);
	return rc;
}

static void fill_info(struct hp_live *l)
{
	const AVStream *st = l->fmt->streams[l->stream];
	AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
	if (r.num > 0 && r.den > 0) {
		l->info.fps = av_q2d(r);
		l->info.fps_num = r.num;
		l->info.fps_den = r.den;
	}
	l->info.w = st->codecpar->width;
	l->info.h = st->codecpar->height;
	snprintf(l->info.codec, sizeof l->info.codec, "%s", avcodec_get_name(st->codecpar->codec_id));
	snprintf(l->info.container, sizeof l->info.container, "%.*s", (int)strcspn(l->fmt->iformat->name, ","),
	         l->fmt->iformat->name);
}

/* A decoded frame becomes the newest; the one it replaces was skipped
 * (counted by the consumer from the numbers). */
static void publish(struct hp_live *l)
{
	double t = now_s();
	pthread_mutex_lock(&l->mu);
	if (l->received == 0)
		l->first_at = t;
	if (l->newest_n <= l->last_n)
		l->fresh_at = t;
	av_frame_unref(l->newest);
	av_frame_move_ref(l->newest, l->frame);
	l->newest_n = l->received++;
	l->newest_t = t - l->first_at;
	pthread_mutex_unlock(&l->mu);
	wake(l);
}

/* Read and decode until the connection is lost (or stop): the number of
 * frames it gave; the reason in why. */
static long long pump(struct hp_live *l, char *why, size_t whylen)
{
	long long got = 0;
	while (!atomic_load(&l->stop)) {
		int r = avcodec_receive_frame(l->dec, l->frame);
		if (r == 0) {
			publish(l);
			got++;
			continue;
		}
		if (r != AVERROR(EAGAIN) && r != AVERROR_INVALIDDATA) {
			net_error(l, r, "cannot decode it", why, whylen);
			break;
		}
		arm(l);
		if ((r = av_read_frame(l->fmt, l->pkt)) < 0) {
			if (r == AVERROR_EOF)
				snprintf(why, whylen, "the stream ended");
			else if (l->timed_out)
				snprintf(why, whylen, "no data for %g s", l->o.timeout);
			else
				net_error(l, r, "cannot read it", why, whylen);
			break;
		}
		if (l->pkt->stream_index == l->stream)
			avcodec_send_packet(l->dec, l->pkt); /* a damaged packet is skipped */
		av_packet_unref(l->pkt);
	}
	return got;
}

/* Sleep s seconds unless stopped first: true when stopped. */
static bool pause_for(struct hp_live *l, double s)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	double end = (double)until.tv_sec + (double)until.tv_nsec / 1e9 + (s > 0 ? s : 0);
	until.tv_sec = (time_t)end;
	until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);
	pthread_mutex_lock(&l->mu);
	while (!atomic_load(&l->stop) && pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0)
		;
	pthread_mutex_unlock(&l->mu);
	return atomic_load(&l->stop);
}

static void give_up(struct hp_live *l, int code, const char *why, int tries)
{
	pthread_mutex_lock(&l->mu);
	l->state = code;
	if (tries == 0)
		snprintf(l->msg, sizeof l->msg, "the stream was lost after %lld frames: %s", l->received, why);
	else
		snprintf(l->msg, sizeof l->msg, "the stream was lost after %lld frames and %d reconnection attempt%s failed: %s",
		         l->received, tries, tries == 1 ? "" : "s", why);
	pthread_mutex_unlock(&l->mu);
	wake(l);
}

static void *reader(void *arg)
{
	struct hp_live *l = arg;
	char why[200] = "";
	int tries = 0, code = HP_EXIT_NETWORK;
	while (!atomic_load(&l->stop)) {
		if (l->fmt) {
			if (pump(l, why, sizeof why) > 0)
				tries = 0;
			disconnect(l);
			code = HP_EXIT_NETWORK;
			continue;
		}
		if (tries >= l->o.reconnects) {
			give_up(l, code, why, tries);
			break;
		}
		tries++;
		if (pause_for(l, l->o.backoff ? l->o.backoff(tries) : 0))
			break;
		if ((code = connect_stream(l, why, sizeof why)) == 0) {
			pthread_mutex_lock(&l->mu);
			l->reconnects++;
			pthread_mutex_unlock(&l->mu);
		}
	}
	disconnect(l);
	return NULL;
}

static int setup(struct hp_live *l, const char *url, const struct hp_live_opts *o)
{
	l->o = *o;
	if (!(l->o.fps > 0))
		l->o.fps = 1;
	if (!(l->o.timeout > 0))
		l->o.timeout = DEFAULT_TIMEOUT;
	l->newest_n = l->last_n = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int bad = pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (bad || pthread_mutex_init(&l->mu, NULL)) {
		if (!bad)
			pthread_cond_destroy(&l->cv);
		return -1;
	}
	l->sync = true;
	if (!(l->url = strdup(url)) || pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (!(l->pkt = av_packet_alloc()) || !(l->frame = av_frame_alloc()) || !(l->newest = av_frame_alloc()))
		return -1;
	return 0;
}

int hp_live_open(struct hp_live **out, const char *url, const struct hp_live_opts *o, char *err, size_t errlen)
{
	struct hp_live *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	l->wake[0] = l->wake[1] = -1;
	av_log_set_level(AV_LOG_QUIET);
	avformat_network_init();
	int rc = 0;
	l->network = true; /* paired in hp_live_free: TLS's global state released */
	pin_network();
	if (!hp_live_is_source(url, true)) {
		snprintf(err, errlen, "not a live source (rtsp, rtsps, rtmp, rtmps, srt, http, https, /dev/videoN)");
		rc = HP_EXIT_INPUT;
	} else if (setup(l, url, o) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = HP_EXIT_NOMEM;
	} else if ((rc = connect_stream(l, err, errlen)) == 0) {
		fill_info(l);
		l->opened_at = now_s();
		if (pthread_create(&l->thread, NULL, reader, l) != 0) {
			snprintf(err, errlen, "cannot start a thread");
			rc = HP_EXIT_NOMEM;
		}
		l->started = rc == 0;
	}
	if (rc) {
		hp_live_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

const struct hp_video_info *hp_live_info(const struct hp_live *l)
{
	return &l->info;
}

int hp_live_fd(const struct hp_live *l)
{
	return l->wake[0];
}

void hp_live_stats(struct hp_live *l, struct hp_live_stats *s)
{
	pthread_mutex_lock(&l->mu);
	*s = (struct hp_live_stats){ l->received, l->taken, l->skipped, l->reconnects };
	pthread_mutex_unlock(&l->mu);
}

static void drain(struct hp_live *l)
{
	char b[64];
	while (read(l->wake[0], b, sizeof b) > 0)
		;
}

/* Under mu: the newest frame moved into f if it is due and newer than the
 * last taken; 1, or HP_LIVE_AGAIN with the wait. */
static int take_newest(struct hp_live *l, AVFrame *f, long long *n, double *t, double now, double *wait_s)
{
	double due = l->taken ? l->t0 + (double)l->ticks / l->o.fps : now;
	if (l->newest_n <= l->last_n || now < due) {
		*wait_s = now < due ? due - now : l->o.timeout;
		return HP_LIVE_AGAIN;
	}
	/* the ticks that passed untaken while a newer frame was there, each
	 * of which would have taken a frame of its own */
	long long k = l->taken ? (long long)floor((now - l->t0) * l->o.fps) : 0;
	long long from = (long long)ceil((l->fresh_at - l->t0) * l->o.fps);
	long long missed = k - (from > l->ticks ? from : l->ticks), newer = l->newest_n - l->last_n - 1;
	if (l->taken && missed > 0 && newer > 0)
		l->skipped += missed < newer ? missed : newer;
	if (!l->taken)
		l->t0 = now;
	l->ticks = k + 1;
	av_frame_move_ref(f, l->newest);
	*n = l->last_n = l->newest_n;
	*t = l->newest_t;
	l->taken++;
	return 1;
}

static int end_reached(struct hp_live *l, double now, double *wait_s)
{
	if (l->o.frames > 0 && l->taken >= l->o.frames)
		return 1;
	if (l->o.duration > 0) {
		double left = l->opened_at + l->o.duration - now;
		if (left <= 0)
			return 1;
		if (*wait_s > left)
			*wait_s = left;
	}
	return 0;
}

int hp_live_take(struct hp_live *l, struct hp_video_frame *f, double *wait_s, char *err, size_t errlen)
{
	*f = (struct hp_video_frame){ 0 };
	*wait_s = 0;
	if (l->ended) {
		snprintf(err, errlen, "%s", l->endmsg);
		return l->ended == 1 ? 0 : l->ended;
	}
	drain(l);
	double now = now_s();
	AVFrame *fr = av_frame_alloc();
	long long n = 0;
	double t = 0;
	if (!fr) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	pthread_mutex_lock(&l->mu);
	int rc = end_reached(l, now, wait_s) ? 0 : take_newest(l, fr, &n, &t, now, wait_s);
	if (rc == HP_LIVE_AGAIN && l->state) {
		rc = l->state;
		snprintf(err, errlen, "%s", l->msg);
	} else if (rc == HP_LIVE_AGAIN) {
		end_reached(l, now, wait_s);
	}
	pthread_mutex_unlock(&l->mu);
	if (rc == 1) {
		rc = hp_vframe_jpeg(&l->sws, fr, 0, l->o.imgsz, l->o.pixels, f, err, errlen);
		if (rc < 0) {
			hp_video_frame_clear(f);
			rc = rc == -1 ? HP_EXIT_INPUT : -2;
		} else {
			f->number = n;
			f->time = t;
			rc = 1;
		}
	}
	av_frame_free(&fr);
	if (rc != 1 && rc != HP_LIVE_AGAIN) {
		l->ended = rc == 0 ? 1 : rc;
		snprintf(l->endmsg, sizeof l->endmsg, "%s", rc == 0 ? "" : err);
	}
	return rc;
}

int hp_live_next(struct hp_live *l, struct hp_video_frame *f, char *err, size_t errlen)
{
	double wait_s;
	int rc;
	while ((rc = hp_live_take(l, f, &wait_s, err, errlen)) == HP_LIVE_AGAIN) {
		struct pollfd p = { .fd = l->wake[0], .events = POLLIN };
		int ms = (int)ceil(wait_s * 1000);
		poll(&p, 1, ms > 0 ? ms : 1);
	}
	return rc;
}

void hp_live_free(struct hp_live *l)
{
	if (!l)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		atomic_store(&l->stop, 1);
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	disconnect(l);
	av_frame_free(&l->newest);
	av_frame_free(&l->frame);
	av_packet_free(&l->pkt);
	sws_freeContext(l->sws);
	for (int i = 0; i < 2; i++)
		if (l->wake[i] >= 0)
			close(l->wake[i]);
	if (l->sync) {
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
	}
	free(l->url);
	if (l->network)
		avformat_network_deinit();
	free(l);
}
