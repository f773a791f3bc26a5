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
#include <stddef.h>

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

/* --annotate DIR on a cut video: DIR/STEM.mp4 (the label path rule's
 * place, labels.h), H.264 at the video's displayed size and frame rate
 * (video.h's writer), each frame sent drawn with its answer (annotate.h) and
 * shown until the next one's time, a failed frame's picture undrawn; written
 * atomically once the video's last frame is back. The frames' pixels are
 * kept (source size) from when they are handed out until their items come
 * back: as many as the run holds inputs. a (borrowed: the image module's
 * set) and dir (borrowed) until hp_frames_free; call before the run. */
struct hp_annotate;
struct hp_item;
void hp_frames_annotate(struct hp_frames *f, struct hp_annotate *a, const char *dir);
/* The observer that makes the MP4s (state = f), after the renderer. */
void hp_frames_item(void *state, const struct hp_item *it);
/* After the run: the MP4 of every video whose frames came back finished
 * (also after an interruption: the frames that came back). True when one
 * could not be written (its message is out: exit 11). NULL-safe. */
bool hp_frames_finish(struct hp_frames *f);
size_t hp_frames_written(const struct hp_frames *f);
/* The MP4 an INPUT will give (a preflight tree's path_for, preflight.h):
 * DIR/STEM.mp4 for a video this run cuts, else NULL. Caller frees. */
char *hp_frames_annotate_path(void *state, const char *input, size_t below);

/* Is the INPUT path a video file this run cuts (--dry-run says so)? */
bool hp_frames_cuts(const struct hp_frames *f, const char *path);

/* True when cfg cuts every video (--vid-stride or --fps given). */
bool hp_frames_cut_all(const struct hp_frames_config *cfg);

void hp_frames_free(struct hp_frames *f);

#endif
