/* live.h - frames taken from a live source (SPEC §13 "Live sources",
 * hubpredict(1) "Video"): rtsp://, rtsps://, rtmp://, srt://, an http(s)://
 * URL of an MJPEG or HLS stream, or a V4L2 device /dev/videoN.
 *
 * A reader thread keeps demuxing and decoding at the source's own pace and
 * holds only the newest decoded frame (never a queue). The consumer takes a
 * frame at each 1/fps tick (the first as soon as one has arrived): when it
 * asks late, it gets the newest frame at once, and the frames it missed,
 * one per tick that passed while a newer frame was there, are counted as
 * skipped. A lost connection (an error, the end of the stream, no data for
 * the timeout) is made again after a backoff, up to a limit of attempts in
 * a row without a frame; then the source fails. Every blocking call of
 * FFmpeg's is bounded by the timeout through its interrupt callback.
 *
 * Only the network protocols of the URL's own scheme are allowed (never
 * file:, so a playlist cannot name local files), and only live container
 * formats (no concat lists, no image sequences).
 *
 * These functions live in the video module (src/video/live.c). One
 * struct hp_live is used by one consumer thread; its reader thread is its
 * own and ends in hp_live_free.
 *
 * Ownership: a struct hp_live is made by hp_live_open() and released by
 * hp_live_free(); the url and opts are copied. A frame filled by
 * hp_live_take() or hp_live_next() is the caller's (hp_video_frame_clear).
 * Error texts go into the caller's err buffer: one line, no "hubpredict:"
 * prefix, no URL.
 */
#ifndef HUBPREDICT_LIVE_H
#define HUBPREDICT_LIVE_H

#include "hubpredict/video.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct hp_live;

/* hp_live_take(): no frame yet (not due, or none newer than the last). */
#define HP_LIVE_AGAIN (-1)

struct hp_live_opts {
	double fps;          /* frames taken a second; 0: 1 */
	long long frames;    /* > 0: the end after this many frames taken */
	double duration;     /* > 0: the end this many seconds after the open */
	double timeout;      /* seconds for a connection to answer and between
	                      * packets before it counts as lost; 0: 10 */
	int reconnects;      /* attempts in a row, after a loss, without a frame
	                      * before giving up; 0: none */
	double (*backoff)(int n); /* seconds to wait before attempt n (1 = the
	                      * first); NULL: none. The program passes
	                      * retry.h's backoff with its jitter */
	int imgsz;           /* > 0: downsize so the long side is imgsz */
	bool pixels;         /* also hand out each frame's pixels (--annotate) */
};

struct hp_live_stats {
	long long received;  /* frames the source gave (decoded) */
	long long taken;     /* frames handed out */
	long long skipped;   /* newer frames missed while the consumer was late */
	int reconnects;      /* connections made again after a loss */
};

/* /dev/video followed by digits only. */
static inline bool hp_live_is_device(const char *url)
{
	if (strncmp(url, "/dev/video", 10) != 0 || !url[10])
		return false;
	return strspn(url + 10, "0123456789") == strlen(url + 10);
}

/* A URL or path hp_live_open() takes: rtsp, rtsps, rtmp, rtmps, srt,
 * /dev/videoN; and with http true (--stream), http and https. (Inline: the
 * program asks it without loading the video module.) */
static inline bool hp_live_is_source(const char *url, bool http)
{
	static const char *const live[] = { "rtsp://", "rtsps://", "rtmp://", "rtmps://", "srt://" };
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
		if (strncmp(url, live[i], strlen(live[i])) == 0)
			return true;
	if (http && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0))
		return true;
	return hp_live_is_device(url);
}

/* Connect to url (its first connection is not retried: a wrong URL is
 * told at once), find its video stream and decoder, start the reader.
 * 0 and *out set, or an exit status with one line in err:
 * HP_EXIT_NETWORK no answer within the timeout, refused, unreachable, a
 * protocol error; HP_EXIT_AUTH, HP_EXIT_NOT_FOUND, HP_EXIT_REJECTED,
 * HP_EXIT_SERVER an http(s) or RTSP status; HP_EXIT_INPUT not a video
 * stream, no decoder, too large, no such device, no V4L2 in this FFmpeg;
 * HP_EXIT_NOMEM. */
int hp_live_open(struct hp_live **out, const char *url, const struct hp_live_opts *o, char *err, size_t errlen);

/* Borrowed, valid until hp_live_free: what the stream declared at the
 * first connection (fps and size; duration and frames are 0). */
const struct hp_video_info *hp_live_info(const struct hp_live *l);

/* Without blocking: 1 and f filled (number: the frames the source gave
 * before it, time: seconds from the first frame received, by the clock when
 * it was decoded); HP_LIVE_AGAIN with *wait_s the seconds worth waiting
 * (wait on hp_live_fd() that long); 0 the end (frames or duration
 * reached); HP_EXIT_NETWORK (or the status of a failed reconnection, as
 * hp_live_open) when the source is lost for good, with the reason in err;
 * -2 out of memory or the JPEG encoder. After 0 or a failure, further
 * calls return the same. */
int hp_live_take(struct hp_live *l, struct hp_video_frame *f, double *wait_s, char *err, size_t errlen);

/* hp_live_take() until it is not HP_LIVE_AGAIN, waiting on the fd. */
int hp_live_next(struct hp_live *l, struct hp_video_frame *f, char *err, size_t errlen);

/* Readable when a frame arrived or the source failed (drained by
 * hp_live_take): for a poll loop. Borrowed. */
int hp_live_fd(const struct hp_live *l);

void hp_live_stats(struct hp_live *l, struct hp_live_stats *s);

/* Stop the reader (its blocking call interrupted) and release. NULL-safe. */
void hp_live_free(struct hp_live *l);

#endif
