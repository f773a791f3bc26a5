/* vselect.h - which decoded frames are sent (--vid-stride, --fps), apart
 * from any decoding so it can be tested on timestamps alone. Private to
 * src/video/.
 *
 * The frames are fed in presentation order with their times (seconds from
 * the first frame). For --fps a frame can only be judged once the next one
 * is known, so the caller holds the last frame fed (the "previous") until
 * the next feed or the finish says whether it is sent.
 */
#ifndef HP_VIDEO_VSELECT_H
#define HP_VIDEO_VSELECT_H

#include <stdbool.h>

struct hp_vsel {
	int stride;        /* > 0: by number */
	double fps;        /* > 0: by time (used when stride is 0) */
	double k;          /* the next target not yet given a frame: k / fps */
	bool have_prev;
	bool prev_sent;    /* the previous frame was already chosen */
	double prev_t;
};

enum {
	HP_VSEL_PREV = 1,  /* send the held previous frame (before this one) */
	HP_VSEL_THIS = 2   /* send this frame */
};

/* A zeroed selector for stride (> 0) or fps (> 0); neither: every frame. */
void hp_vsel_init(struct hp_vsel *s, int stride, double fps);

/* Frame number n at time t: a mask of HP_VSEL_PREV and HP_VSEL_THIS. */
unsigned hp_vsel_feed(struct hp_vsel *s, long long n, double t);

/* Could a frame at time t be chosen, when frames are known at before
 * (< t) and after (> t), not necessarily its nearest neighbours? False only
 * when it cannot, whatever other frames turn up between them: no --fps
 * target lies within the part of the timeline nearer t than before and
 * after (frames found later only shrink that part). Always true for a
 * stride: a packet's frame number is not known before the frames that
 * come ahead of it in presentation order are. The decoder skips frames
 * nothing refers to when this says no (video.c). */
bool hp_vsel_may_pick(const struct hp_vsel *s, double t, double before, double after);

/* The video ended at time end (the last frame's time plus its duration):
 * true when the held previous frame is sent. */
bool hp_vsel_finish(struct hp_vsel *s, double end);

#endif
