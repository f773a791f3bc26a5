/* item.h - one finished input as the run hands it on, and what receives it:
 * the types that run/ (which makes them), sink/, image/ and check/ (which
 * read them) share, kept here so none of them includes a stage above it.
 *
 * Ownership: a struct hp_item and everything it points to (file, response,
 * body, message, unmet, resized, source_picture, source_fd) belong to the
 * batch and are valid only during the call that receives it (a renderer's
 * item(), an observer's item()): a receiver copies what it keeps, and closes
 * or frees none of it.
 */
#ifndef HUBPREDICT_ITEM_H
#define HUBPREDICT_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct hp_response;
struct hp_body;
struct hp_annotate_source;
struct hp_timings;
struct hp_image;

/* --resize: the sizes of an image that was sent smaller than it is. */
struct hp_resized {
	int from_w, from_h;     /* the original, EXIF orientation applied */
	int to_w, to_h;         /* what was sent */
};

/* A big answer part by part (SPEC 11), for a receiver that needs what its
 * decoded response leaves out (polygons and keypoints: the response holds
 * only their counts). Parts come in the document's order: an entry, then, if
 * it was too big for one part, runs of its results. */
struct hp_answer_part {
	size_t image;              /* images[image] */
	bool first, last;          /* this part starts / ends that entry */
	const struct hp_image *im; /* the entry's shape, speed and depth; this part's results
	                              with their points, filtered (--min-conf, --classes) and
	                              mapped back (--resize) as the response's are. Borrowed:
	                              valid during the call */
};

struct hp_answer_parts {
	/* Decode each part in turn and call fn on it, the part freed after: one
	 * part in memory at a time. Stops when fn returns non-zero and returns
	 * that; else 0, or -2 when out of memory, -1 when a part cannot be read. */
	int (*each)(const struct hp_answer_parts *ps, int (*fn)(void *arg, const struct hp_answer_part *p),
	            void *arg);
	void *state;
};

struct hp_item {
	const char *file;                   /* the input as the user named it */
	size_t file_below;                  /* hp_input.below: where the part below a
	                                       directory INPUT starts in file (0: none) */
	int exit_code;                      /* 0 = success, else its exit status */
	long http_status;                   /* 0 when no status line was received */
	int attempts;
	double elapsed_ms;
	const struct hp_response *response; /* decoded answer (NULL in raw, or on error) */
	struct hp_response **owner;         /* the slot holding response, the batch's: an
	                                       observer may take the answer (*owner = NULL;
	                                       it frees it with hp_response_free, not before
	                                       its item() returns: later observers read it);
	                                       NULL when it cannot be taken */
	struct hp_body *body;               /* the body as received (success only) */
	const char *message;                /* the one-line error, when exit_code != 0 */
	const char *request_id;             /* the answer's x-request-id, or NULL */
	const char *const *unmet;           /* checks that failed (--expect, --baseline): */
	size_t n_unmet;                     /* "expected person>=2, found 1", ... */
	bool has_source;                    /* source_fd holds the input's original bytes */
	int source_fd;                      /* (an image file, or spooled stdin), for --annotate */
	bool source_unreadable;             /* --resize found it is not a readable image and warned */
	const struct hp_resized *resized;   /* --resize: the sizes, NULL when sent as it is */
	struct hp_annotate_source *source_picture; /* decoded ahead (annotate.h), or NULL */
	bool cached;                        /* answered from --cache: nothing was sent */
	bool has_stat;                      /* a file: size and mtime are known */
	long long size;                     /* its size in bytes (before --resize) */
	struct timespec mtime;              /* its modification time */
	const struct hp_timings *timings;   /* scheduled, started, the last attempt's phases (timings.h) */
	const char *video;                  /* a frame cut from a video INPUT: that INPUT's
	                                       path (frames.h), else NULL */
	long long frame;                    /* with video: the frame's number (0-based) */
	double time;                        /* with video: its time in seconds */
	const char *stream;                 /* a live INPUT's frame: that INPUT, else NULL; */
	long long stream_frame;             /* the frame's number (the frames the source gave), */
	struct timespec stream_time;        /* its time from the first frame, */
	struct timespec stream_at;          /* and the wall-clock time it was taken */
	const struct hp_answer_parts *parts; /* a big answer whose response holds counts instead of
	                                       points: its parts, each with its points; else NULL */
};

/* Something besides the output that receives every finished input, right
 * after the renderer: the JUnit report, the label files, the pictures, the
 * --resume log. Its owner opens it before the run and finishes it after (also
 * after an interruption). */
struct hp_observer {
	void (*item)(void *state, const struct hp_item *it);
	void *state;
	/* --expect on a video cut into frames (SPEC 13): the video's verdict over
	 * its frames, after its last frame's item; unmet holds the n_unmet checks
	 * not met in any frame (none: they all held). NULL: not wanted. Borrows. */
	void (*video)(void *state, const char *video, const char *const *unmet, size_t n_unmet);
};

/* Any number of observers, in the order they were added (the batch calls
 * them in that order). The list owns its array; hp_observers_clear frees it
 * (safe twice and on a zeroed struct); the states stay their owners'. */
struct hp_observers {
	struct hp_observer *v;
	size_t n, cap;
};

/* Append one: 0, or -1 when out of memory (the list unchanged). */
int hp_observers_add(struct hp_observers *l, void (*item)(void *state, const struct hp_item *it), void *state);
/* The same, with a video verdict callback (struct hp_observer.video). */
int hp_observers_add_video(struct hp_observers *l, void (*item)(void *state, const struct hp_item *it),
                           void (*video)(void *state, const char *video, const char *const *unmet, size_t n_unmet),
                           void *state);
void hp_observers_clear(struct hp_observers *l);

#endif
