/* frames.h - video INPUTs cut into frames (SPEC §13, hubpredict(1) "Video"):
 * a source (source.h) in front of another one that passes its inputs on,
 * except a video to be cut: that one is opened through the video module
 * (video.h, loaded by the first such video) and its chosen frames are handed
 * out one by one as produced JPEG bytes, decoded only when the engine pulls
 * the next input (so as far ahead as -j needs, never more).
 *
 * A video is cut when --vid-stride or --fps is given, or, with neither, when
 * it is larger than upload_max (then at --fps 1, with one note per run).
 * A frame's display name is the video's path with "_F.jpg" for its
 * extension, F the frame's number + 1, as Ultralytics names a video's frames
 * (label files STEM_F.txt); its number and time ride along (source.h).
 *
 * Ownership: struct hp_frames is made by hp_frames_new and released by
 * hp_frames_free; it borrows the inner source's state (its owner's) and the
 * config's values are copied.
 */
#ifndef HUBPREDICT_FRAMES_H
#define HUBPREDICT_FRAMES_H

#include "hubpredict/source.h"

#include <stdbool.h>

/* The video options, as run/ takes them (cli/ fills it: hp_options_frames). */
struct hp_frames_config {
	int vid_stride;         /* --vid-stride N, 0 = not given */
	double fps;             /* --fps X, 0 = not given */
	bool stream;            /* --stream (live sources: not cut here) */
	long long frames;       /* --frames N: at most N frames of each video, 0 = all */
	double duration;        /* --duration SEC: frames before SEC s only, 0 = all */
	int imgsz;              /* --resize: frames downsized to this long side, 0 = off */
	bool pixels;            /* --annotate: keep each frame's pixels */
	long long upload_max;   /* a whole video larger than this is cut at 1 fps; 0 = none */
};

struct hp_frames;

/* 0 and *out set, or -1 (out of memory). */
int hp_frames_new(struct hp_frames **out, struct hp_input_source inner, const struct hp_frames_config *cfg);

/* The source to give the engine (borrowed: valid until hp_frames_free). */
struct hp_input_source hp_frames_source(struct hp_frames *f);

/* True when cfg cuts every video (--vid-stride or --fps given). */
bool hp_frames_cut_all(const struct hp_frames_config *cfg);

void hp_frames_free(struct hp_frames *f);

#endif
