/* source.h - where the engine's inputs come from.
 *
 * An input (struct hp_input) is one of:
 * - a path to open: a file, "-" (standard input, spooled), or an http(s)://
 *   URL that Platform fetches itself (its `source` field);
 * - produced bytes: a descriptor the engine reads with pread() from offset 0
 *   (a memfd, an unlinked temporary file, a pipe's spool), with a display
 *   name and a size, and for a video frame its number and time.
 * A source hands them out one at a time through next(). The list of INPUT
 * arguments, directories and --files-from is one source (inputs.h,
 * hp_inputs_source); the engine (batch.h) takes any.
 *
 * Plugging in a source of frames (video, a live stream):
 *   static int next_frame(void *state, struct hp_input *in)
 *   {
 *           struct my_decoder *d = state;
 *           if (!my_decoder_next_jpeg(d))        // 0: the stream has ended
 *                   return 0;
 *           in->produced = true;
 *           in->fd = d->memfd;                   // owned by in from here on
 *           in->size = d->jpeg_size;
 *           in->frame = d->frame_no;
 *           in->time = d->pts;                   // a struct timespec
 *           in->path = strdup("clip.mp4#000123.jpg");  // NULL: out of memory
 *           return 1;
 *   }
 *   cfg.source = (struct hp_input_source){ next_frame, decoder };
 * The display name is what the answer is reported under (the envelope's
 * "file", label files, --annotate's picture, messages): make it unique per
 * frame (the stream's name and the frame number) and end it with the
 * extension of the bytes' type (.jpg, .png), which names the upload's type.
 * On a failure for one input, set in->error (owned) and path; the run
 * reports it (exit 3) and goes on.
 *
 * How the rest of the engine treats produced bytes: --cache keys them by
 * their bytes, as it keys files; --resume and the envelope key them by
 * (display name, size, time): "size" is their byte count, "mtime" the
 * frame's time (zero when there is none), so a run over the same stream
 * skips the frames a log already holds; --save-txt and --annotate name their
 * files after the display name; --max-upload applies to their size.
 *
 * Ownership: a struct hp_input owns its strings and, when produced, its
 * descriptor; hp_input_clear() frees and closes them (the engine takes the
 * descriptor over when it opens the input). The source's state is its
 * owner's.
 */
#ifndef HUBPREDICT_SOURCE_H
#define HUBPREDICT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

struct hp_input {
	char *path;        /* what to open ("-" for standard input); for produced
	                      bytes, their display name */
	char *error;       /* set when the source itself failed for this entry
	                      (e.g. a directory without images): exit 3 */
	size_t below;      /* a file found inside a directory INPUT: where its part
	                      below that directory starts in path; 0 for a file named
	                      as an INPUT or in --files-from (label paths, hubpredict(1), "Label files") */
	struct stat st;    /* the file's stat when have_st: taken while listing, so
	                      --resume compares size and mtime without another call */
	bool have_st;
	/* produced bytes (not a path) */
	bool produced;     /* fd holds the bytes; path is only their name */
	int fd;            /* owned while produced is set (closed by hp_input_clear) */
	long long size;    /* the bytes' count */
	long long frame;   /* a video frame's number in its stream (>= 0), else -1 */
	struct timespec time; /* a frame's time in its stream; zero when none */
	char *video;       /* a frame cut from a video file: that INPUT's path
	                      (owned); NULL otherwise (a stream's frames too) */
	struct hp_input_resized {   /* produced bytes the source already downsized
	                               (--resize): the picture's size, what was
	                               sent; from_w 0 = as it is. A frame (frame
	                               >= 0) is never resized by the engine */
		int from_w, from_h, to_w, to_h;
	} resized;
	const char *stream;   /* a live INPUT's frame (stream.h): that INPUT, borrowed
	                         from the source for the run; NULL otherwise */
	struct timespec at;   /* a live frame: the wall-clock time it was taken */
};

/* next(state, in): fill *in (zeroed by the caller) with the next input and
 * return 1, or return 0 when there are no more; a source the engine is
 * given with an idle function (batch.h's source_idle) may also return -1:
 * nothing yet (a live stream between frames). */
struct hp_input_source {
	int (*next)(void *state, struct hp_input *in);
	void *state;
};

/* Free what *in owns (strings; a produced input's descriptor). */
void hp_input_clear(struct hp_input *in);

#endif
