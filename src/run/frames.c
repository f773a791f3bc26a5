/* frames.c - video INPUTs cut into frames as a source (frames.h). */
#define _GNU_SOURCE
#include "hubpredict/frames.h"
#include "hubpredict/annotate.h"
#include "hubpredict/buf.h"
#include "hubpredict/image.h"
#include "hubpredict/item.h"
#include "hubpredict/labels.h"
#include "hubpredict/media.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/upload.h"
#include "hubpredict/video.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A frame handed out whose item has not come back: its pixels (--annotate). */
struct held {
	long long frame;
	struct hp_pixmap pix;
};

/* A video cut for --annotate: from its opening until its MP4 is finished. */
struct vrec {
	struct vrec *next;
	char *path;             /* the INPUT (owned) */
	size_t below;
	int w, h, fps_num, fps_den;
	double end;             /* where the MP4 ends: set when decoding stopped */
	bool ended;
	double last_time;       /* the last frame handed out */
	struct held *q;         /* frames handed out, in order (owned) */
	size_t n, cap;
};

struct hp_frames {
	struct hp_input_source inner;
	/* --annotate: the MP4 of each video (frames.h) */
	struct hp_annotate *annotate;
	const char *annotate_dir;
	struct vrec *recs, *recs_tail;  /* videos opened, oldest first */
	struct hp_video_writer *wr;     /* the head video's MP4, once its first frame came back */
	char *wr_path;
	double wr_last;                 /* the last time put */
	size_t written;
	bool failed;
	struct hp_frames_config cfg;
	struct hp_video *v;     /* the video being cut, or NULL */
	int fd;                 /* its descriptor (-1 when none) */
	char *path;             /* its INPUT path (owned) */
	size_t below;
	long long sent;         /* frames handed out of it */
	bool noted;             /* the note on a video over the upload limit was given */
};

/* ---- --annotate: a video's MP4 ---------------------------------------------- */

static void rec_free(struct vrec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->q[i].pix.rgb);
	free(r->q);
	free(r->path);
	free(r);
}

static double frame_duration(const struct vrec *r)
{
	return r->fps_num > 0 && r->fps_den > 0 ? (double)r->fps_den / r->fps_num : 1.0 / 30;
}

/* The video just opened (f->v), when its MP4 is to be made. -1: out of memory. */
static int rec_open(struct hp_frames *f)
{
	if (!f->annotate)
		return 0;
	const struct hp_video_info *vi = hp_video_info(f->v);
	struct vrec *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(f->path))) {
		free(r);
		return -1;
	}
	*r = (struct vrec){ .path = r->path, .below = f->below, .w = vi->w, .h = vi->h, .fps_num = vi->fps_num,
	                    .fps_den = vi->fps_den };
	if (f->recs_tail)
		f->recs_tail->next = r;
	else
		f->recs = r;
	f->recs_tail = r;
	return 0;
}

/* Keep fr's pixels (taken) until its item comes back. -1: out of memory. */
static int rec_hold(struct hp_frames *f, struct hp_video_frame *fr)
{
	struct vrec *r = f->recs_tail;
	if (!f->annotate || !r || r->ended)
		return 0;
	r->last_time = fr->time;
	if (!fr->rgb.rgb)
		return 0;
	struct held *q = hp_grow_array(r->q, &r->cap, r->n + 1, sizeof *q, 8);
	if (!q)
		return -1;
	r->q = q;
	r->q[r->n++] = (struct held){ fr->number, fr->rgb };
	fr->rgb = (struct hp_pixmap){ 0 };
	return 0;
}

/* Decoding of the newest video stopped: its MP4 ends at end (< 0: one
 * frame's duration after the last frame handed out). */
static void rec_end(struct hp_frames *f, double end)
{
	struct vrec *r = f->recs_tail;
	if (!f->annotate || !r || r->ended)
		return;
	r->ended = true;
	r->end = end >= 0 ? end : r->last_time + frame_duration(r);
}

/* Create the folders between DIR and the MP4 (a video found below a
 * directory INPUT). -1 with errno set. */
static int make_parents(const char *path, size_t from)
{
	char *p = strdup(path);
	int rc = p ? 0 : -1;
	for (char *s = p ? p + from : NULL; s && rc == 0 && (s = strchr(s + 1, '/'));) {
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

static void writer_failed(struct hp_frames *f, const char *why)
{
	char q[512];
	hp_msg_error("cannot write video %s: %s", hp_msg_quote(q, sizeof q, f->wr_path ? f->wr_path : f->annotate_dir),
	             why);
	f->failed = true;
	hp_video_writer_free(f->wr);
	f->wr = NULL;
}

/* Finish the oldest video's MP4 and drop the video. */
static void rec_finish(struct hp_frames *f)
{
	struct vrec *r = f->recs;
	char err[400];
	if (f->wr) {
		double end = r->ended ? r->end : r->last_time + frame_duration(r);
		if (end <= f->wr_last)
			end = f->wr_last + frame_duration(r);
		if (hp_video_writer_close(f->wr, end, err, sizeof err) < 0)
			writer_failed(f, err);
		else
			f->written++;
		hp_video_writer_free(f->wr);
		f->wr = NULL;
	}
	free(f->wr_path);
	f->wr_path = NULL;
	f->recs = r->next;
	if (!f->recs)
		f->recs_tail = NULL;
	rec_free(r);
}

/* The frame's picture, drawn, into the oldest video's MP4 (opened by its
 * first frame back). */
static void put_frame(struct hp_frames *f, struct vrec *r, const struct hp_item *it, struct hp_pixmap *pix)
{
	char err[400], q[512];
	if (hp_annotate_draw(f->annotate, pix, it, err, sizeof err) < 0)
		hp_msg_warn("%s: --annotate: frame %lld: %s; not drawn", hp_msg_quote(q, sizeof q, r->path), it->frame, err);
	if (!f->wr) {
		if (!(f->wr_path = hp_output_path(f->annotate_dir, r->path, r->below, ".mp4"))) {
			writer_failed(f, "out of memory");
			return;
		}
		if (make_parents(f->wr_path, strlen(f->annotate_dir)) < 0) {
			writer_failed(f, strerror(errno));
			return;
		}
		if (hp_video_writer_open(&f->wr, f->wr_path, r->w, r->h, r->fps_num, r->fps_den, err, sizeof err) < 0) {
			f->wr = NULL;
			writer_failed(f, err);
			return;
		}
		f->wr_last = -1;
	}
	if (hp_video_writer_put(f->wr, pix, it->time, err, sizeof err) < 0)
		writer_failed(f, err);
	f->wr_last = it->time;
}

void hp_frames_item(void *state, const struct hp_item *it)
{
	struct hp_frames *f = state;
	if (!f->annotate || !it->video || f->failed)
		return;
	while (f->recs && strcmp(f->recs->path, it->video) != 0)
		rec_finish(f);
	struct vrec *r = f->recs;
	if (!r)
		return;
	/* its pixels: the frames before it that never came back are dropped */
	struct hp_pixmap pix = { 0 };
	size_t k = 0;
	while (k < r->n && r->q[k].frame < it->frame)
		free(r->q[k++].pix.rgb);
	if (k < r->n && r->q[k].frame == it->frame)
		pix = r->q[k++].pix;
	memmove(r->q, r->q + k, (r->n - k) * sizeof *r->q);
	r->n -= k;
	if (pix.rgb)
		put_frame(f, r, it, &pix);
	free(pix.rgb);
}

void hp_frames_annotate(struct hp_frames *f, struct hp_annotate *a, const char *dir)
{
	f->annotate = a;
	f->annotate_dir = dir;
	f->cfg.pixels = a != NULL;
}

bool hp_frames_finish(struct hp_frames *f)
{
	while (f && f->recs)
		rec_finish(f);
	return f && f->failed;
}

size_t hp_frames_written(const struct hp_frames *f)
{
	return f ? f->written : 0;
}

/* ---- the source --------------------------------------------------------------- */

bool hp_frames_cut_all(const struct hp_frames_config *cfg)
{
	return cfg->vid_stride > 0 || cfg->fps > 0;
}

static void end_video(struct hp_frames *f)
{
	hp_video_free(f->v);
	f->v = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->path);
	f->path = NULL;
}

/* An entry that fails with message why for the video's path: 1, or 0 when
 * out of memory (the source ends then; the engine says what it did). */
static int fail_entry(struct hp_frames *f, struct hp_input *in, const char *why)
{
	in->path = f->path;
	in->below = f->below;
	f->path = NULL;
	in->error = strdup(why);
	rec_end(f, -1);
	end_video(f);
	return in->error ? 1 : 0;
}

/* "DIR/STEM_F.jpg" for frame number n (0-based) of path. NULL: out of memory. */
static char *frame_name(const char *path, long long n)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
	char *name = malloc(stem + 32);
	if (name)
		snprintf(name, stem + 32, "%.*s_%lld.jpg", (int)stem, path, n + 1);
	return name;
}

/* The frame's bytes in a memory file. -1 on failure (errno set). */
static int bytes_fd(const unsigned char *data, size_t n)
{
	int fd = memfd_create("hubpredict-frame", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			errno = e;
			return -1;
		}
		done += (size_t)w;
	}
	return fd;
}

/* The next frame of the open video into in: 1, or 0 when the video is done
 * (closed then). A bad or failing video ends with an entry holding its error. */
static int next_frame(struct hp_frames *f, struct hp_input *in)
{
	struct hp_video_frame fr = { 0 };
	char err[400];
	int rc = 0;
	double end = -1; /* where an MP4 of it ends: after the last frame sent */
	if (f->cfg.frames > 0 && f->sent >= f->cfg.frames)
		goto done;
	rc = hp_video_next(f->v, &fr, err, sizeof err);
	if (rc < 0)
		return fail_entry(f, in, err);
	if (rc == 0)
		end = hp_video_end(f->v);
	else if (f->cfg.duration > 0 && fr.time >= f->cfg.duration)
		end = f->cfg.duration;
	if (end >= 0) {
		rc = 0;
		goto done;
	}
	if (rec_hold(f, &fr) < 0) {
		rc = fail_entry(f, in, "out of memory");
		goto done;
	}
	in->fd = bytes_fd(fr.jpeg, fr.jpeg_len);
	in->path = frame_name(f->path, fr.number);
	in->video = strdup(f->path);
	if (in->fd < 0 || !in->path || !in->video) {
		snprintf(err, sizeof err, "frame %lld: %s", fr.number, in->fd < 0 ? strerror(errno) : "out of memory");
		if (in->fd >= 0)
			close(in->fd);
		in->fd = -1;
		free(in->path);
		free(in->video);
		in->path = in->video = NULL;
		rc = fail_entry(f, in, err);
		goto done;
	}
	in->produced = true;
	in->below = f->below;
	in->size = (long long)fr.jpeg_len;
	in->frame = fr.number;
	in->time.tv_sec = (time_t)floor(fr.time);
	in->time.tv_nsec = (long)((fr.time - floor(fr.time)) * 1e9);
	if (fr.w != fr.src_w || fr.h != fr.src_h)
		in->resized = (struct hp_input_resized){ fr.src_w, fr.src_h, fr.w, fr.h };
	f->sent++;
	hp_video_frame_clear(&fr);
	return 1;
done:
	hp_video_frame_clear(&fr);
	if (rc == 0) {
		rec_end(f, end);
		end_video(f);
	}
	return rc;
}

/* Is path a video file this run cuts? Its descriptor in *fdp when so. */
static bool cut_this(const struct hp_frames *f, const char *path, int *fdp)
{
	struct stat st;
	unsigned char head[64];
	if (strcmp(path, "-") == 0 || hp_is_url_input(path))
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false; /* the engine says why */
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, head, sizeof head, 0) : -1;
	const char *kind = n > 0 ? hp_media_kind(head, (size_t)n) : NULL;
	bool video = n > 0 && (hp_is_video_name(path) || (kind && strstr(kind, " video")));
	bool big = f->cfg.upload_max > 0 && (long long)st.st_size > f->cfg.upload_max;
	if (!video || (!hp_frames_cut_all(&f->cfg) && !big) || !fdp) {
		close(fd);
		return video && (hp_frames_cut_all(&f->cfg) || big);
	}
	*fdp = fd;
	return true;
}

bool hp_frames_cuts(const struct hp_frames *f, const char *path)
{
	return cut_this(f, path, NULL);
}

char *hp_frames_annotate_path(void *state, const char *input, size_t below)
{
	const struct hp_frames *f = state;
	return f->annotate_dir && cut_this(f, input, NULL) ? hp_output_path(f->annotate_dir, input, below, ".mp4") : NULL;
}

/* Is in (a file INPUT) a video to cut? Opens it (kept in f->fd when so). */
static bool to_cut(struct hp_frames *f, const struct hp_input *in)
{
	if (in->error || in->produced || !cut_this(f, in->path, &f->fd))
		return false;
	if (!hp_frames_cut_all(&f->cfg) && !f->noted) {
		char q[512];
		hp_msg_note("%s is larger than the upload limit (%lld bytes): its frames are sent one a second (--fps 1)",
		            hp_msg_quote(q, sizeof q, in->path), f->cfg.upload_max);
		f->noted = true;
	}
	return true;
}

/* Open the video in->path names (its descriptor in f->fd): 0, or -1 with
 * in turned into an entry that fails with the reason. */
static int open_video(struct hp_frames *f, struct hp_input *in)
{
	char err[400];
	struct hp_video_opts vo = {
		.stride = f->cfg.vid_stride,
		.fps = f->cfg.vid_stride > 0 ? 0 : f->cfg.fps > 0 ? f->cfg.fps : 1,
		.imgsz = f->cfg.imgsz,
		.pixels = f->cfg.pixels,
	};
	f->path = in->path;
	f->below = in->below;
	in->path = NULL;
	f->sent = 0;
	if (hp_video_check_versions(err, sizeof err) == 0 && hp_video_open_fd(&f->v, f->fd, &vo, err, sizeof err) == 0) {
		if (rec_open(f) == 0)
			return 0;
		snprintf(err, sizeof err, "out of memory");
		hp_video_free(f->v);
	}
	f->v = NULL;
	hp_input_clear(in);
	memset(in, 0, sizeof *in);
	in->fd = -1;
	in->frame = -1;
	fail_entry(f, in, err);
	return -1;
}

static int frames_next(void *state, struct hp_input *in)
{
	struct hp_frames *f = state;
	for (;;) {
		if (f->v && next_frame(f, in))
			return 1;
		if (!f->inner.next(f->inner.state, in))
			return 0;
		if (!to_cut(f, in))
			return 1;
		if (open_video(f, in) < 0)
			return in->error ? 1 : 0;
		hp_input_clear(in);
		memset(in, 0, sizeof *in);
		in->fd = -1;
		in->frame = -1;
	}
}

int hp_frames_new(struct hp_frames **out, struct hp_input_source inner, const struct hp_frames_config *cfg)
{
	struct hp_frames *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->inner = inner;
	f->cfg = *cfg;
	f->fd = -1;
	*out = f;
	return 0;
}

struct hp_input_source hp_frames_source(struct hp_frames *f)
{
	return (struct hp_input_source){ frames_next, f };
}

void hp_frames_free(struct hp_frames *f)
{
	if (!f)
		return;
	end_video(f);
	hp_video_writer_free(f->wr); /* unfinished: nothing left behind */
	free(f->wr_path);
	while (f->recs) {
		struct vrec *r = f->recs;
		f->recs = r->next;
		rec_free(r);
	}
	free(f);
}
