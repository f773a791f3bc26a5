/* video_api.h - the video module's table (private to video/): the entry
 * points the binary calls, through load.c's functions of the same names
 * (video.h), in the module hubpredict-video.so that module.c exports
 * (hubpredict/module.h).
 *
 * Ownership: as in video.h; the table itself is static.
 */
#ifndef HUBPREDICT_VIDEO_API_H
#define HUBPREDICT_VIDEO_API_H

#include "hubpredict/live.h"
#include "hubpredict/module.h"
#include "hubpredict/video.h"

/* The module's file and its one exported symbol (an hp_module_entry_fn). */
#define HP_VIDEO_MODULE "hubpredict-video.so"
#define HP_VIDEO_MODULE_ENTRY "hp_video_module"
/* Bump when the table below or a struct it passes (hp_video_opts,
 * hp_video_info, hp_video_frame, hp_pixmap, hp_live_opts, hp_live_stats)
 * changes. */
#define HP_VIDEO_ABI 2u

struct hp_video_api {
	struct hp_module_header header; /* first: { HP_VIDEO_ABI, HP_VERSION } */
	int (*check_versions)(char *err, size_t errlen);
	int (*open_fd)(struct hp_video **out, int fd, const struct hp_video_opts *o, char *err, size_t errlen);
	int (*open_mem)(struct hp_video **out, const unsigned char *data, size_t n, const struct hp_video_opts *o,
	                char *err, size_t errlen);
	const struct hp_video_info *(*info)(const struct hp_video *v);
	int (*next)(struct hp_video *v, struct hp_video_frame *f, char *err, size_t errlen);
	double (*end)(const struct hp_video *v);
	long long (*decoded)(const struct hp_video *v);
	void (*frame_clear)(struct hp_video_frame *f);
	void (*free)(struct hp_video *v);
	int (*writer_open)(struct hp_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
	                   char *err, size_t errlen);
	int (*writer_put)(struct hp_video_writer *wr, const struct hp_pixmap *p, double t, char *err, size_t errlen);
	int (*writer_close)(struct hp_video_writer *wr, double end, char *err, size_t errlen);
	void (*writer_free)(struct hp_video_writer *wr);
	/* live sources (live.h) */
	int (*live_open)(struct hp_live **out, const char *url, const struct hp_live_opts *o, char *err, size_t errlen);
	const struct hp_video_info *(*live_info)(const struct hp_live *l);
	int (*live_take)(struct hp_live *l, struct hp_video_frame *f, double *wait_s, char *err, size_t errlen);
	int (*live_next)(struct hp_live *l, struct hp_video_frame *f, char *err, size_t errlen);
	int (*live_fd)(const struct hp_live *l);
	void (*live_stats)(struct hp_live *l, struct hp_live_stats *s);
	void (*live_free)(struct hp_live *l);
};

#endif
