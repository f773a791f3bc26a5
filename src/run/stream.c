/* stream.c - a live INPUT as the engine's source of frames. */
#define _GNU_SOURCE /* memfd_create */
#include "hubpredict/stream.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/retry.h"
#include "hubpredict/signals.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct hp_stream {
	struct hp_live *live;
	char *url;
	char *stem;
	int failure;
	double wait_ms;          /* hp_live_take's last wait, for idle() */
	char msg[300];
};

bool hp_stream_is_live(const char *input, bool stream_flag)
{
	return hp_live_is_source(input, stream_flag);
}

/* retry.h's backoff, with its jitter: the usual wait between attempts. */
static double backoff(int n)
{
	return hp_backoff_seconds(n, hp_retry_jitter());
}

/* The URL's last path part without its query or extension ("live"). */
static char *stem_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t host = strcspn(p, "/?#");
	p += host;
	const char *end = p + strcspn(p, "?#");
	while (end > p && end[-1] == '/')
		end--;
	const char *start = end;
	while (start > p && start[-1] != '/')
		start--;
	const char *dot = memchr(start, '.', (size_t)(end - start));
	if (dot && dot > start)
		end = dot;
	if (end == start)
		return strdup("stream");
	return strndup(start, (size_t)(end - start));
}

int hp_stream_open(struct hp_stream **out, const struct hp_stream_config *c, char *err, size_t errlen)
{
	struct hp_stream *s = calloc(1, sizeof *s);
	if (!s || !(s->url = strdup(c->url)) || !(s->stem = stem_of(c->url))) {
		hp_stream_free(s);
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	struct hp_live_opts o = {
		.fps = c->fps,
		.frames = c->frames,
		.duration = c->duration,
		.timeout = c->timeout,
		.reconnects = c->reconnects,
		.backoff = backoff,
		.imgsz = c->imgsz,
		.pixels = c->pixels,
	};
	int rc = hp_video_check_versions(err, errlen) < 0 ? HP_EXIT_USAGE : hp_live_open(&s->live, c->url, &o, err, errlen);
	if (rc) {
		hp_stream_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The frame's JPEG into a memfd the input owns. */
static int produce(struct hp_stream *s, const struct hp_video_frame *f, struct hp_input *in)
{
	int fd = memfd_create("hubpredict-frame", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < f->jpeg_len) {
		ssize_t w = write(fd, f->jpeg + off, f->jpeg_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	size_t n = strlen(s->stem) + 32;
	if (!(in->path = malloc(n))) {
		close(fd);
		return -1;
	}
	snprintf(in->path, n, "%s_%lld.jpg", s->stem, f->number);
	in->produced = true;
	in->fd = fd;
	in->size = (long long)f->jpeg_len;
	in->frame = f->number;
	in->time.tv_sec = (time_t)f->time;
	in->time.tv_nsec = (long)((f->time - floor(f->time)) * 1e9);
	in->stream = s->url;
	clock_gettime(CLOCK_REALTIME, &in->at);
	return 0;
}

/* source.h's next(): the frame due, or -1 before its tick (idle() says
 * how long), without blocking. */
static int next_frame(void *state, struct hp_input *in)
{
	struct hp_stream *s = state;
	struct hp_video_frame f;
	double wait_s;
	if (hp_signal_caught())
		return 0;
	int rc = hp_live_take(s->live, &f, &wait_s, s->msg, sizeof s->msg);
	if (rc == HP_LIVE_AGAIN) {
		s->wait_ms = wait_s * 1000;
		return -1;
	}
	if (rc == 1) {
		int bad = produce(s, &f, in);
		hp_video_frame_clear(&f);
		if (bad) {
			snprintf(s->msg, sizeof s->msg, "out of memory");
			s->failure = HP_EXIT_NOMEM;
			return 0;
		}
		return 1;
	}
	if (rc != 0)
		s->failure = rc > 0 ? rc : HP_EXIT_NOMEM;
	return 0;
}

double hp_stream_idle(void *state, int *fd)
{
	struct hp_stream *s = state;
	*fd = hp_live_fd(s->live);
	return s->wait_ms;
}

struct hp_input_source hp_stream_source(struct hp_stream *s)
{
	return (struct hp_input_source){ next_frame, s };
}

int hp_stream_failure(const struct hp_stream *s, const char **msg)
{
	*msg = s->msg;
	return s->failure;
}

void hp_stream_stats(struct hp_stream *s, struct hp_live_stats *st)
{
	hp_live_stats(s->live, st);
}

void hp_stream_free(struct hp_stream *s)
{
	if (!s)
		return;
	hp_live_free(s->live);
	free(s->url);
	free(s->stem);
	free(s);
}
