/* render_impl.h - what each output format implements (private to src/). */
#ifndef HUBPREDICT_RENDER_IMPL_H
#define HUBPREDICT_RENDER_IMPL_H

#include "hubpredict/render.h"
#include "hubpredict/response.h"

#include <time.h>

/* A frame that stayed failed: the "errors" member of its video's envelope. */
struct hp_video_error {
	bool has_frame;      /* false: the video itself failed after its frames */
	long long frame;
	double time;
	int exit_code;
	long http_status;    /* 0: none */
	char *message;       /* owned */
	char *request_id;    /* owned, or NULL */
};

/* The video whose envelope is being written (ro.videos): its frames arrive
 * one after another in input order; the head goes out with the first, each
 * frame's images[] entry as it comes, the tail at the next input or the end. */
struct hp_video_group {
	char *path;          /* the video INPUT (owned); NULL: no video open */
	bool has_stat;       /* the video file's size and mtime */
	long long size;
	struct timespec mtime;
	size_t frames;       /* frames delivered */
	long long last;      /* the last one's number: a lower one starts the video
	                        again (the same INPUT named twice) */
	size_t answered;     /* of them answered */
	size_t results;      /* results in the answered frames */
	bool has_task;
	enum hp_task task;   /* the first answered frame's */
	int attempts;        /* summed over the frames */
	double elapsed_ms;   /* summed over the frames */
	struct hp_video_error *errors; /* owned, in frame order */
	size_t n_errors, cap_errors;
	char *tail;          /* json: the first answer's document after its images
	                        array's contents (owned), NULL: "]}" */
	size_t tail_len;
	const struct hp_resized *resized; /* &rz when a frame was sent smaller, else NULL */
	struct hp_resized rz;             /* (every frame of a video alike) */
	size_t entries;      /* json: images[] entries written */
	bool opened;         /* json: head written; table: heading written */
};

struct hp_renderer {
	const struct hp_render_ops *ops;
	struct hp_output *out;
	struct hp_render_opts ro;
	size_t items;        /* items written so far (a video counts once) */
	struct hp_video_group vg;
};

struct hp_render_ops {
	void (*begin)(struct hp_renderer *r);
	void (*item)(struct hp_renderer *r, const struct hp_item *it);
	void (*end)(struct hp_renderer *r);
	/* ro.videos: a frame of the open video (r->vg, its tallies not yet
	 * counting it), and the end of that video; NULL: frames go to item() */
	void (*frame)(struct hp_renderer *r, const struct hp_item *it);
	void (*video_end)(struct hp_renderer *r);
};

extern const struct hp_render_ops hp_render_table_ops;
extern const struct hp_render_ops hp_render_json_ops;
extern const struct hp_render_ops hp_render_jsonl_ops;
extern const struct hp_render_ops hp_render_csv_ops;
extern const struct hp_render_ops hp_render_raw_ops;

#endif
