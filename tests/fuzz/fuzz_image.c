/* fuzz_image.c - libFuzzer target: a picture file from anywhere (--annotate,
 * --resize read whatever INPUT names).
 *
 * Each input goes through hp_exif_orientation(), hp_image_probe(),
 * hp_image_decode() at full size and DCT-scaled, hp_image_decode_grey() (the
 * semantic and depth maps), and, when it decodes (up to RESIZE_MAX_PIXELS),
 * a downsizing and both encoders. Checks (HP_FUZZ_SKIP names them):
 *   exif-range    the orientation is 1-8
 *   probe-decode  a picture that decodes was probed first, at the same size
 *                 (the size check before allocating relies on the probe)
 *   size-limit    nothing decodes over HP_IMAGE_MAX_PIXELS
 *   scaled        a DCT-scaled decode keeps the long side >= the one asked
 *   err-text      every failure says why, NUL-terminated, in one line
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "fuzz_util.h"

#include "hubpredict/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The downsizing and the encoders run on pictures up to this size: the same
 * code as for bigger ones, which under ASan take longer than the fuzzer's
 * timeout (a 148-byte GIF whose screen is 65504x976, legal under
 * HP_IMAGE_MAX_PIXELS, timed out in CI in the half-size resize). */
#define RESIZE_MAX_PIXELS (4L << 20)

static void check_err(const char *err, size_t cap)
{
	size_t n = strnlen(err, cap);
	HPF_CHECK("err-text", n > 0 && n < cap && !strchr(err, '\n'), "bad error text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		hpf_init_skips();
		init = true;
	}
	char err[256];
	int o = hp_exif_orientation(data, size);
	HPF_CHECK("exif-range", o >= 1 && o <= 8, "orientation %d", o);

	int pw = 0, ph = 0, po = 0;
	enum hp_image_kind kind;
	bool probed = hp_image_probe(data, size, &kind, &pw, &ph, &po, err, sizeof err) == 0;
	if (!probed)
		check_err(err, sizeof err);

	struct hp_pixmap p = { 0 };
	if (hp_image_decode(data, size, 0, &p, &kind, err, sizeof err) == 0) {
		HPF_CHECK("probe-decode", probed && p.w == pw && p.h == ph, "probe %dx%d, decoded %dx%d", pw, ph, p.w,
		          p.h);
		HPF_CHECK("size-limit", (long)p.w * p.h <= HP_IMAGE_MAX_PIXELS, "%dx%d", p.w, p.h);
		struct hp_pixmap half = { 0 };
		int w = p.w > 1 ? p.w / 2 : 1, h = p.h > 1 ? p.h / 2 : 1;
		if ((long)p.w * p.h <= RESIZE_MAX_PIXELS && hp_pixmap_resize(&p, w, h, &half) == 0) {
			unsigned char *enc = NULL;
			size_t n = 0;
			if (hp_image_encode(&half, HP_IMAGE_JPEG, &enc, &n, err, sizeof err) == 0)
				free(enc);
			if (hp_image_encode(&half, HP_IMAGE_PNG, &enc, &n, err, sizeof err) == 0)
				free(enc);
		}
		hp_pixmap_free(&half);
	} else {
		check_err(err, sizeof err);
	}
	hp_pixmap_free(&p);

	struct hp_pixmap s = { 0 };
	if (hp_image_decode(data, size, 16, &s, &kind, err, sizeof err) == 0) {
		int lng = s.w > s.h ? s.w : s.h, plng = pw > ph ? pw : ph;
		HPF_CHECK("scaled", lng >= (plng < 16 ? plng : 16), "long side %d for 16 (of %d)", lng, plng);
	}
	hp_pixmap_free(&s);

	int gw, gh;
	unsigned char *grey = NULL;
	if (hp_image_decode_grey(data, size, &gw, &gh, &grey, err, sizeof err) != 0)
		check_err(err, sizeof err);
	free(grey);
	return 0;
}
