/* stream.h - a live INPUT (rtsp://, rtsps://, rtmp://, srt://, http(s) with
 * --stream, /dev/videoN: live.h) as a source of the engine (source.h):
 * each frame the live source hands out at its --fps tick becomes produced
 * JPEG bytes named STEM_N.jpg (STEM the URL's last path part without its
 * extension, "stream" when it has none; N the frame's number, counting the
 * frames the source gave), carrying the stream's INPUT, the frame's number,
 * its time and the wall-clock time it was taken (SPEC §13's jsonl members).
 *
 * next() never blocks: before a frame's tick it says "nothing yet" (-1)
 * and idle() how long until it, and the live source's descriptor, which
 * wakes the engine when a frame arrives. It ends the source at --frames,
 * --duration, a caught signal, or the stream lost for good
 * (hp_stream_failure says so after the run).
 *
 * Ownership: a struct hp_stream is made by hp_stream_open and released by
 * hp_stream_free; the config's strings are copied. The video module is
 * loaded by hp_stream_open.
 */
#ifndef HUBPREDICT_STREAM_H
#define HUBPREDICT_STREAM_H

#include "hubpredict/live.h"
#include "hubpredict/source.h"

#include <stdbool.h>
#include <stddef.h>

struct hp_stream_config {
	const char *url;         /* the INPUT */
	double fps;              /* --fps, 0: 1 */
	long long frames;        /* --frames, 0: no limit */
	double duration;         /* --duration, 0: no limit */
	double timeout;          /* --connect-timeout: opening, and silence */
	int reconnects;          /* --retries: reconnection attempts in a row */
	int imgsz;               /* --resize's long side, 0: as it is */
	bool pixels;             /* unused by the engine today (the picture is
	                          * decoded from the JPEG for --annotate) */
};

struct hp_stream;

/* True when INPUT is a live source (http and https only with --stream). */
bool hp_stream_is_live(const char *input, bool stream_flag);

/* Connect (the video module loaded first). 0 and *out set, or an exit
 * status with one line in err (live.h's hp_live_open). */
int hp_stream_open(struct hp_stream **out, const struct hp_stream_config *c, char *err, size_t errlen);

/* The engine's source (borrowed: valid until hp_stream_free). */
struct hp_input_source hp_stream_source(struct hp_stream *s);

/* The engine's source_idle (batch.h) for this source; state is the stream. */
double hp_stream_idle(void *state, int *fd);

/* After the run: the exit status that ended the stream (0: it ended as
 * asked or was interrupted) and its message in *msg (borrowed). */
int hp_stream_failure(const struct hp_stream *s, const char **msg);

void hp_stream_stats(struct hp_stream *s, struct hp_live_stats *st);

void hp_stream_free(struct hp_stream *s);

#endif
