/* fuzz_video.c - libFuzzer target: a video file from anywhere (a video
 * INPUT under --vid-stride or --fps), through the demuxing path of the
 * video module from memory: hp_video_open_mem() probes the container and
 * opens the decoder, then hp_video_next() hands out up to 8 frames (each
 * converted, rotated, downsized to 64 px and encoded as JPEG). The first
 * byte picks --vid-stride (odd) or --fps (even) and its value.
 * Checks (HP_FUZZ_SKIP names them):
 *   err-text      every failure says why, NUL-terminated, in one line
 *   status        open fails with exit 3 only; next returns 1, 0, -1 or -2
 *   frame         a frame handed out is a JPEG of 1-64 px a side, its
 *                 source within the limits, its numbers increasing
 */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"

#include "hubpredict/exitcode.h"
#include "hubpredict/video.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const char *err, size_t cap)
{
	size_t n = strnlen(err, cap);
	HPF_CHECK("err-text", n > 0 && n < cap && !strchr(err, '\n'), "bad error text");
}

static void check_frame(const struct hp_video_frame *f, long long last)
{
	HPF_CHECK("frame", f->jpeg_len > 3 && f->jpeg[0] == 0xff && f->jpeg[1] == 0xd8, "not a JPEG");
	HPF_CHECK("frame", f->w >= 1 && f->h >= 1 && f->w <= 64 && f->h <= 64, "%dx%d", f->w, f->h);
	HPF_CHECK("frame", (long)f->src_w * f->src_h <= HP_VIDEO_MAX_PIXELS, "source %dx%d", f->src_w, f->src_h);
	HPF_CHECK("frame", f->number > last, "frame %lld after %lld", f->number, last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		hpf_init_skips();
		init = true;
	}
	if (size < 1)
		return 0;
	struct hp_video_opts o = { .imgsz = 64 };
	if (data[0] & 1)
		o.stride = 1 + (data[0] >> 1) % 8;
	else
		o.fps = 0.5 + (data[0] >> 1) % 64;
	char err[256] = "";
	struct hp_video *v = NULL;
	int rc = hp_video_open_mem(&v, data + 1, size - 1, &o, err, sizeof err);
	if (rc) {
		HPF_CHECK("status", rc == HP_EXIT_INPUT, "open: %d", rc);
		check_err(err, sizeof err);
		return 0;
	}
	struct hp_video_frame f;
	long long last = -1;
	for (int i = 0; i < 8; i++) {
		int r = hp_video_next(v, &f, err, sizeof err);
		HPF_CHECK("status", r >= -2 && r <= 1, "next: %d", r);
		if (r != 1) {
			if (r < 0)
				check_err(err, sizeof err);
			break;
		}
		check_frame(&f, last);
		last = f.number;
		hp_video_frame_clear(&f);
	}
	hp_video_free(v);
	return 0;
}
