/* video.h - frames cut from a video with FFmpeg's libraries (SPEC §13,
 * hubpredict(1) "Video"): a pull source that decodes only as far as the
 * caller asks, picks frames by --vid-stride or --fps, and hands each one
 * over as a JPEG (quality 95, 4:2:0) with the stream's display rotation
 * applied and --resize's rule (long side to imgsz, never upsizing).
 *
 * Memory is constant whatever the length of the video: one demuxer, one
 * decoder, at most two frames held (the --fps choice between the frame
 * before a target time and the one after it).
 *
 * These functions live in the video module (src/video/, its own library:
 * the program proper does not link libav*); nothing here is thread-safe
 * per object, distinct objects may be used from distinct threads.
 *
 * Ownership: a struct hp_video is made by hp_video_open_*() and released by
 * hp_video_free(). A struct hp_video_frame filled by hp_video_next() owns
 * its JPEG bytes: release with hp_video_frame_clear(). Error texts are
 * written into the caller's err buffer.
 */
#ifndef HUBPREDICT_VIDEO_H
#define HUBPREDICT_VIDEO_H

#include "hubpredict/image.h"

#include <stdbool.h>
#include <stddef.h>

/* A declared or decoded picture larger than this (or a side over 16384) is
 * refused before pixel memory is allocated, as images are (image.h). */
#define HP_VIDEO_MAX_PIXELS 100000000L
#define HP_VIDEO_MAX_SIDE 16384

struct hp_video;

/* Which frames are sent. Exactly one of stride and fps is set; with
 * neither, every frame is (stride 1). */
struct hp_video_opts {
	int stride;     /* > 0: frames 0, N, 2N, ... by their 0-based number */
	double fps;     /* > 0: for each k/fps s (k = 0, 1, ... while before
	                 * the end), the frame whose timestamp is nearest,
	                 * measured from the first frame's; a tie goes to the
	                 * earlier frame; a frame nearest to two targets is
	                 * sent once */
	int imgsz;      /* > 0: downsize so the long side is imgsz (--resize) */
	bool pixels;    /* also hand out each frame's pixels at its source size
	                 * (rotation applied): what --annotate draws on */
	bool decode_all; /* decode every frame: by default, with fps, a frame
	                 * no other refers to and that cannot be chosen is
	                 * skipped by the decoder (the same frames are chosen;
	                 * for tests that compare) */
};

/* What the container and stream declare, known after opening. */
struct hp_video_info {
	int w, h;               /* displayed size: rotation applied, no --resize */
	int rotation;           /* degrees clockwise applied to the decoded
	                         * pixels (0, 90, 180, 270), from the stream's
	                         * display matrix */
	double fps;             /* average frame rate; 0 when not declared */
	double duration;        /* seconds; 0 when not declared */
	long long frames;       /* declared frame count; 0 when not declared */
	int fps_num, fps_den;   /* fps as a fraction (0/0 unknown): the writer's */
	char codec[32];         /* "h264", "vp9", "mjpeg", ... */
	char container[32];     /* the demuxer's first name: "mov", "avi", ... */
};

struct hp_video_frame {
	unsigned char *jpeg;    /* owned: hp_video_frame_clear() */
	size_t jpeg_len;
	long long number;       /* 0-based, in presentation order */
	double time;            /* seconds from the first frame's timestamp */
	int w, h;               /* of the JPEG */
	int src_w, src_h;       /* before --resize (rotation applied) */
	struct hp_pixmap rgb;   /* with opts.pixels: src_w x src_h, owned
	                         * (hp_video_frame_clear); else empty */
};

/* True when this build has the video module (HUBPREDICT_VIDEO). */
bool hp_video_supported(void);

/* The FFmpeg libraries the module runs on match the major versions of the
 * headers it was built with: 0, or -1 with which one differs in err. */
int hp_video_check_versions(char *err, size_t errlen);

/* Open a video read from fd (borrowed: kept open by the caller until
 * hp_video_free; read with pread from offset 0 when it can seek, else
 * read), or from n bytes at data (borrowed likewise). Probes the container,
 * finds the video stream and its decoder and checks its declared size.
 * 0 and *out set, or an exit status (HP_EXIT_INPUT: not a video, no video
 * stream, no decoder for its codec in this FFmpeg, too large; out of
 * memory too, as for any input) with one line in err (no "hubpredict:" prefix, no
 * file name). */
int hp_video_open_fd(struct hp_video **out, int fd, const struct hp_video_opts *o, char *err, size_t errlen);
int hp_video_open_mem(struct hp_video **out, const unsigned char *data, size_t n, const struct hp_video_opts *o,
                      char *err, size_t errlen);

/* Borrowed: valid until hp_video_free. */
const struct hp_video_info *hp_video_info(const struct hp_video *v);

/* The next chosen frame, decoding as far as needed: 1 with f filled, 0 at
 * the end, -1 when the input is bad (truncated, undecodable, no frame at
 * all, a frame over the size limit: exit 3), -2 on a system error (out of
 * memory, the JPEG encoder). f is zeroed unless 1 is returned. After 0 or
 * a negative value, further calls return the same. Frames before a read
 * error are delivered first; the error comes in place of the end. */
int hp_video_next(struct hp_video *v, struct hp_video_frame *f, char *err, size_t errlen);

/* Where the video ends, in seconds from the first frame: the last frame's
 * time plus its duration. Known once hp_video_next() has returned 0; the
 * time of the last frame decoded before. */
double hp_video_end(const struct hp_video *v);

/* Frames decoded so far (the numbers handed out are below it), counting
 * those the decoder skipped (opts.decode_all). */
long long hp_video_decoded(const struct hp_video *v);

/* Of those, the frames the decoder skipped: not chosen, nothing refers to them. */
long long hp_video_skipped(const struct hp_video *v);

void hp_video_frame_clear(struct hp_video_frame *f);

void hp_video_free(struct hp_video *v);

/* --annotate on a video: an H.264 MP4 (libx264 through libavcodec) at a
 * given size and frame rate, each frame put shown from its time until the
 * next one's, written through output.h's rules (a temporary file beside
 * path renamed over it on close; a FIFO or device written in place, as a
 * fragmented MP4). */
struct hp_video_writer;

/* Open path (borrowed: kept by the caller until the writer is freed) for
 * w x h pixels (an odd side loses its last row or column:
 * 4:2:0 needs even sides) at fps_num/fps_den frames a second (0/0: 30).
 * 0, or -1 with a reason in err (no H.264 encoder in this FFmpeg, the file
 * cannot be made: exit 11). */
int hp_video_writer_open(struct hp_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                         char *err, size_t errlen);

/* The picture p (w x h as opened; borrowed) from t seconds on: the previous
 * one fills the frames before t. 0, or -1 with a reason in err. */
int hp_video_writer_put(struct hp_video_writer *wr, const struct hp_pixmap *p, double t, char *err, size_t errlen);

/* The last picture until end seconds, then the file finished and renamed
 * into place. 0, or -1 with a reason in err (nothing left at path then). */
int hp_video_writer_close(struct hp_video_writer *wr, double end, char *err, size_t errlen);

/* Release; a writer not closed leaves nothing behind. NULL-safe. */
void hp_video_writer_free(struct hp_video_writer *wr);

#endif
