/* load.c - video support in the binary: the functions of video.h, each
 * calling its namesake in the video module, which hp_video_check_versions()
 * loads (module.h) and checks; the binary's video code calls it before
 * anything else. A run that decodes no video never loads the module, nor
 * maps FFmpeg's libraries (hubpredict(1), FILES). In a build without video
 * support (HUBPREDICT_VIDEO off) the same functions say so. */
#include "hubpredict/video.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/live.h"

#include <stdio.h>

#ifdef HP_HAVE_VIDEO
#include "video_api.h"

static const struct hp_video_api *api;

bool hp_video_supported(void)
{
	return true;
}

/* Loading the module and checking the libraries it found: once. */
int hp_video_check_versions(char *err, size_t errlen)
{
	const struct hp_module_header *h;
	if (api)
		return 0;
	if (hp_module_load(HP_VIDEO_MODULE, HP_VIDEO_MODULE_ENTRY, HP_VIDEO_ABI, HP_MODULE_RESIDENT, &h, err,
	                   errlen) < 0)
		return -1;
	const struct hp_video_api *a = (const struct hp_video_api *)h;
	if (a->check_versions(err, errlen) < 0)
		return -1;
	api = a;
	return 0;
}

/* Everything below is reached only after hp_video_check_versions() said 0,
 * or for an object the module made; the checks keep a caller's slip from
 * being a NULL call. */
static bool ready(char *err, size_t errlen)
{
	char scratch[256];
	return hp_video_check_versions(err ? err : scratch, err ? errlen : sizeof scratch) == 0;
}

int hp_video_open_fd(struct hp_video **out, int fd, const struct hp_video_opts *o, char *err, size_t errlen)
{
	if (!ready(err, errlen))
		return HP_EXIT_USAGE;
	return api->open_fd(out, fd, o, err, errlen);
}

int hp_video_open_mem(struct hp_video **out, const unsigned char *data, size_t n, const struct hp_video_opts *o,
                      char *err, size_t errlen)
{
	if (!ready(err, errlen))
		return HP_EXIT_USAGE;
	return api->open_mem(out, data, n, o, err, errlen);
}

const struct hp_video_info *hp_video_info(const struct hp_video *v)
{
	return api->info(v);
}

int hp_video_next(struct hp_video *v, struct hp_video_frame *f, char *err, size_t errlen)
{
	return api->next(v, f, err, errlen);
}

double hp_video_end(const struct hp_video *v)
{
	return api->end(v);
}

long long hp_video_decoded(const struct hp_video *v)
{
	return api->decoded(v);
}

void hp_video_frame_clear(struct hp_video_frame *f)
{
	if (api)
		api->frame_clear(f);
}

void hp_video_free(struct hp_video *v)
{
	if (v)
		api->free(v);
}

int hp_video_writer_open(struct hp_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                         char *err, size_t errlen)
{
	if (!ready(err, errlen))
		return -1;
	return api->writer_open(out, path, w, h, fps_num, fps_den, err, errlen);
}

int hp_video_writer_put(struct hp_video_writer *wr, const struct hp_pixmap *p, double t, char *err, size_t errlen)
{
	return api->writer_put(wr, p, t, err, errlen);
}

int hp_video_writer_close(struct hp_video_writer *wr, double end, char *err, size_t errlen)
{
	return api->writer_close(wr, end, err, errlen);
}

void hp_video_writer_free(struct hp_video_writer *wr)
{
	if (wr)
		api->writer_free(wr);
}

int hp_live_open(struct hp_live **out, const char *url, const struct hp_live_opts *o, char *err, size_t errlen)
{
	if (!ready(err, errlen))
		return HP_EXIT_USAGE;
	return api->live_open(out, url, o, err, errlen);
}

const struct hp_video_info *hp_live_info(const struct hp_live *l)
{
	return api->live_info(l);
}

int hp_live_take(struct hp_live *l, struct hp_video_frame *f, double *wait_s, char *err, size_t errlen)
{
	return api->live_take(l, f, wait_s, err, errlen);
}

int hp_live_next(struct hp_live *l, struct hp_video_frame *f, char *err, size_t errlen)
{
	return api->live_next(l, f, err, errlen);
}

int hp_live_fd(const struct hp_live *l)
{
	return api->live_fd(l);
}

void hp_live_stats(struct hp_live *l, struct hp_live_stats *s)
{
	api->live_stats(l, s);
}

void hp_live_free(struct hp_live *l)
{
	if (l)
		api->live_free(l);
}

#else /* no video support in this build */

static const char no_video[] = "this build of hubpredict has no video support (built with HUBPREDICT_VIDEO off)";

bool hp_video_supported(void)
{
	return false;
}

int hp_video_check_versions(char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", no_video);
	return -1;
}

int hp_video_open_fd(struct hp_video **out, int fd, const struct hp_video_opts *o, char *err, size_t errlen)
{
	(void)out, (void)fd, (void)o;
	snprintf(err, errlen, "%s", no_video);
	return HP_EXIT_USAGE;
}

int hp_video_next(struct hp_video *v, struct hp_video_frame *f, char *err, size_t errlen)
{
	(void)v, (void)f;
	snprintf(err, errlen, "%s", no_video);
	return -2;
}

const struct hp_video_info *hp_video_info(const struct hp_video *v)
{
	(void)v;
	return NULL;
}

double hp_video_end(const struct hp_video *v)
{
	(void)v;
	return 0;
}

int hp_live_open(struct hp_live **out, const char *url, const struct hp_live_opts *o, char *err, size_t errlen)
{
	(void)out, (void)url, (void)o;
	snprintf(err, errlen, "%s", no_video);
	return HP_EXIT_USAGE;
}

int hp_live_take(struct hp_live *l, struct hp_video_frame *f, double *wait_s, char *err, size_t errlen)
{
	(void)l, (void)f, (void)wait_s;
	snprintf(err, errlen, "%s", no_video);
	return -2;
}

void hp_live_stats(struct hp_live *l, struct hp_live_stats *s)
{
	(void)l;
	*s = (struct hp_live_stats){ 0 };
}

void hp_live_free(struct hp_live *l)
{
	(void)l;
}

void hp_video_frame_clear(struct hp_video_frame *f)
{
	(void)f;
}

void hp_video_free(struct hp_video *v)
{
	(void)v;
}

int hp_live_fd(const struct hp_live *l)
{
	(void)l;
	return -1;
}

int hp_video_writer_open(struct hp_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                         char *err, size_t errlen)
{
	(void)path, (void)w, (void)h, (void)fps_num, (void)fps_den;
	*out = NULL;
	snprintf(err, errlen, "%s", no_video);
	return -1;
}

int hp_video_writer_put(struct hp_video_writer *wr, const struct hp_pixmap *p, double t, char *err, size_t errlen)
{
	(void)wr, (void)p, (void)t;
	snprintf(err, errlen, "%s", no_video);
	return -1;
}

int hp_video_writer_close(struct hp_video_writer *wr, double end, char *err, size_t errlen)
{
	(void)wr, (void)end;
	snprintf(err, errlen, "%s", no_video);
	return -1;
}

void hp_video_writer_free(struct hp_video_writer *wr)
{
	(void)wr;
}

#endif
