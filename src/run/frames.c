/* frames.c - video INPUTs cut into frames as a source (frames.h). */
#define _GNU_SOURCE
#include "hubpredict/frames.h"
#include "hubpredict/media.h"
#include "hubpredict/msg.h"
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

struct hp_frames {
	struct hp_input_source inner;
	struct hp_frames_config cfg;
	struct hp_video *v;     /* the video being cut, or NULL */
	int fd;                 /* its descriptor (-1 when none) */
	char *path;             /* its INPUT path (owned) */
	size_t below;
	long long sent;         /* frames handed out of it */
	bool noted;             /* the note on a video over the upload limit was given */
};

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
	if (f->cfg.frames > 0 && f->sent >= f->cfg.frames)
		goto done;
	rc = hp_video_next(f->v, &fr, err, sizeof err);
	if (rc < 0)
		return fail_entry(f, in, err);
	if (rc == 0 || (f->cfg.duration > 0 && fr.time >= f->cfg.duration)) {
		rc = 0;
		goto done;
	}
	in->fd = bytes_fd(fr.jpeg, fr.jpeg_len);
	in->path = frame_name(f->path, fr.number);
	if (in->fd < 0 || !in->path) {
		snprintf(err, sizeof err, "frame %lld: %s", fr.number, in->fd < 0 ? strerror(errno) : "out of memory");
		if (in->fd >= 0)
			close(in->fd);
		in->fd = -1;
		free(in->path);
		in->path = NULL;
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
	if (rc == 0)
		end_video(f);
	return rc;
}

/* Is in (a file INPUT) a video to cut? Opens it (kept in f->fd when so). */
static bool to_cut(struct hp_frames *f, const struct hp_input *in)
{
	struct stat st;
	unsigned char head[64];
	if (in->error || in->produced || strcmp(in->path, "-") == 0 || hp_is_url_input(in->path))
		return false;
	int fd = open(in->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false; /* the engine says why */
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, head, sizeof head, 0) : -1;
	const char *kind = n > 0 ? hp_media_kind(head, (size_t)n) : NULL;
	bool video = n > 0 && (hp_is_video_name(in->path) || (kind && strstr(kind, " video")));
	bool big = f->cfg.upload_max > 0 && (long long)st.st_size > f->cfg.upload_max;
	if (!video || (!hp_frames_cut_all(&f->cfg) && !big)) {
		close(fd);
		return false;
	}
	f->fd = fd;
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
	if (hp_video_check_versions(err, sizeof err) == 0 && hp_video_open_fd(&f->v, f->fd, &vo, err, sizeof err) == 0)
		return 0;
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
	free(f);
}
