/* test_image.c - the picture code's pure parts: the EXIF reader on crafted
 * segments (both byte orders, SHORT and LONG, cut short anywhere), the
 * --resize target size, EXIF orientation applied to pixels, the area
 * average, and the mapping back of coordinates, decoded and in JSON. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/image.h"
#include "hubpredict/picture.h"

#include <stdlib.h>
#include <string.h>

/* SOI, then APP1 "Exif" with a TIFF header in the given byte order whose
 * IFD0 has a dummy entry and then Orientation of type `type`. */
static size_t exif_jpeg(unsigned char *d, bool le, unsigned type, unsigned value)
{
	unsigned char t[64];
	size_t n = 0;
#define P16(v) do { unsigned v_ = (v); t[n++] = (unsigned char)(le ? v_ & 255 : v_ >> 8); \
		t[n++] = (unsigned char)(le ? v_ >> 8 : v_ & 255); } while (0)
#define P32(v) do { unsigned long w_ = (v); if (le) { P16(w_ & 0xFFFF); P16(w_ >> 16); } \
		else { P16(w_ >> 16); P16(w_ & 0xFFFF); } } while (0)
	t[n++] = le ? 'I' : 'M';
	t[n++] = le ? 'I' : 'M';
	P16(42);
	P32(8);
	P16(2);                                         /* two entries */
	P16(0x010F); P16(2); P32(4); P32(0);            /* Make, ASCII: skipped */
	P16(0x0112); P16(type); P32(1);
	if (type == 3) {
		P16(value);
		P16(0);
	} else {
		P32(value);
	}
	P32(0);
	size_t len = 2 + 6 + n;
	d[0] = 0xFF, d[1] = 0xD8, d[2] = 0xFF, d[3] = 0xE1;
	d[4] = (unsigned char)(len >> 8), d[5] = (unsigned char)len;
	memcpy(d + 6, "Exif\0\0", 6);
	memcpy(d + 12, t, n);
	return 12 + n;
}

static void test_exif(void)
{
	unsigned char d[128];
	for (unsigned o = 1; o <= 8; o++) {
		CHECK(hp_exif_orientation(d, exif_jpeg(d, true, 3, o)) == (int)o);
		CHECK(hp_exif_orientation(d, exif_jpeg(d, false, 3, o)) == (int)o);
		CHECK(hp_exif_orientation(d, exif_jpeg(d, false, 4, o)) == (int)o);
	}
	size_t n = exif_jpeg(d, false, 3, 6);
	for (size_t cut = 0; cut < n; cut++) /* cut short: never more than the bytes given */
		CHECK(hp_exif_orientation(d, cut) == 1);
	CHECK(hp_exif_orientation(d, exif_jpeg(d, true, 3, 9)) == 1);   /* out of range */
	CHECK(hp_exif_orientation(d, exif_jpeg(d, true, 5, 6)) == 1);   /* RATIONAL: not a value */
	CHECK(hp_exif_orientation((const unsigned char *)"\x89PNG", 4) == 1);
}

static void test_target(void)
{
	int w = 0, h = 0;
	CHECK(hp_picture_target(4000, 3000, 640, &w, &h) && w == 640 && h == 480);
	CHECK(hp_picture_target(3000, 4000, 640, &w, &h) && w == 480 && h == 640);
	CHECK(hp_picture_target(1001, 333, 640, &w, &h) && w == 640 && h == 213);
	CHECK(hp_picture_target(100000, 1, 640, &w, &h) && w == 640 && h == 1);
	CHECK(!hp_picture_target(640, 480, 640, &w, &h));                /* never upsized */
	CHECK(!hp_picture_target(32, 32, 640, &w, &h));
}

static struct hp_pixmap numbered(int w, int h)
{
	struct hp_pixmap p = { w, h, malloc((size_t)w * (size_t)h * 3) };
	for (int i = 0; i < w * h; i++)
		p.rgb[3 * i] = (unsigned char)i, p.rgb[3 * i + 1] = 0, p.rgb[3 * i + 2] = 0;
	return p;
}

static int px(const struct hp_pixmap *p, int x, int y)
{
	return p->rgb[((size_t)y * (size_t)p->w + (size_t)x) * 3];
}

static void test_orient(void)
{
	/* 3 x 2, pixels numbered 0 1 2 / 3 4 5: where the top-left corner of
	 * the shown picture comes from, per orientation */
	static const int top_left[9] = { 0, 0, 2, 5, 3, 0, 3, 5, 2 };
	for (int o = 1; o <= 8; o++) {
		struct hp_pixmap p = numbered(3, 2);
		CHECK(hp_pixmap_orient(&p, o) == 0);
		CHECK(o >= 5 ? p.w == 2 && p.h == 3 : p.w == 3 && p.h == 2);
		CHECK(px(&p, 0, 0) == top_left[o]);
		hp_pixmap_free(&p);
	}
	/* 6 (rotate 90 clockwise): the left column becomes the top row, bottom first */
	struct hp_pixmap p = numbered(3, 2);
	hp_pixmap_orient(&p, 6);
	CHECK(px(&p, 0, 0) == 3 && px(&p, 1, 0) == 0 && px(&p, 1, 2) == 2);
	hp_pixmap_free(&p);
	hp_pixmap_free(NULL);
}

static void test_resize(void)
{
	struct hp_pixmap src = { 10, 4, malloc(10 * 4 * 3) }, dst;
	for (int i = 0; i < 40; i++) /* columns 0-2 black, 3-9 at 200 */
		memset(src.rgb + 3 * i, i % 10 < 3 ? 0 : 200, 3);
	CHECK(hp_pixmap_resize(&src, 4, 2, &dst) == 0 && dst.w == 4 && dst.h == 2);
	/* 2.5 source columns per output column: [0, 2.5) all black, [2.5, 5)
	 * half a black one and two at 200: 400 / 2.5 = 160 */
	CHECK(px(&dst, 0, 0) == 0 && px(&dst, 1, 0) == 160 && px(&dst, 2, 0) == 200 && px(&dst, 3, 1) == 200);
	hp_pixmap_free(&dst);
	CHECK(hp_pixmap_resize(&src, 11, 4, &dst) < 0);   /* never larger */
	hp_pixmap_free(&src);
}

static void test_map_back(void)
{
	const char *body = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"p\",\"confidence\":0.9,"
	                   "\"box\":{\"x1\":10,\"y1\":20,\"x2\":30,\"y2\":40},"
	                   "\"keypoints\":{\"x\":[1,2],\"y\":[3,4],\"visible\":[0.5,0.25]}}],"
	                   "\"shape\":[480,640]}],\"metadata\":{}}";
	struct hp_resized rz = { .from_w = 1000, .from_h = 750, .to_w = 640, .to_h = 480 };
	struct hp_response *r = decode_text(body);
	hp_picture_map_response(r, &rz, false);
	CHECK(r->images[0].width == 1000 && r->images[0].height == 750);
	CHECK_NEAR(r->images[0].results[0].box[0], 15.625);
	CHECK_NEAR(r->images[0].results[0].box[3], 62.5);
	CHECK_NEAR(r->images[0].results[0].keypoints.y[1], 6.25);
	CHECK_NEAR(r->images[0].results[0].keypoints.visible[1], 0.25);
	hp_response_free(r);

	size_t len = strlen(body);
	char *data = malloc(len + 1);
	memcpy(data, body, len + 1);
	CHECK(hp_picture_map_body(&data, &len, &rz, false) == 0);
	CHECK_CONTAINS(data, "\"box\":{\"x1\":15.625,\"y1\":31.25,\"x2\":46.875,\"y2\":62.5}");
	CHECK_CONTAINS(data, "\"visible\":[0.5,0.25]");
	CHECK_CONTAINS(data, "\"shape\":[750,1000]");
	free(data);
	len = strlen(body);
	data = malloc(len + 1);
	memcpy(data, body, len + 1);
	CHECK(hp_picture_map_body(&data, &len, &rz, true) == 0);   /* --normalize: shape only */
	CHECK_CONTAINS(data, "\"x1\":10,");
	CHECK_CONTAINS(data, "\"shape\":[750,1000]");
	free(data);
}

int main(void)
{
	test_exif();
	test_target();
	test_orient();
	test_resize();
	test_map_back();
	return check_report("test_image");
}
