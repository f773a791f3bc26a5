/* test_util.c - the growing buffer, the media extension list, the clock, the
 * list of observers and the response body that spills to a file, of src/util/. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "hubpredict/body.h"
#include "hubpredict/buf.h"
#include "hubpredict/clock.h"
#include "hubpredict/item.h"
#include "hubpredict/media.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_grow(void)
{
	char *d = NULL;
	size_t cap = 0;
	CHECK(hp_grow(&d, &cap, 10, 4096) == 0 && d && cap == 4096);
	CHECK(hp_grow(&d, &cap, 4096, 4096) == 0 && cap == 4096); /* enough already */
	CHECK(hp_grow(&d, &cap, 4097, 4096) == 0 && cap == 8192);
	CHECK(hp_grow(&d, &cap, 40000, 4096) == 0 && cap == 65536);
	char *before = d;
	CHECK(hp_grow(&d, &cap, SIZE_MAX, 4096) < 0 && d == before && cap == 65536);
	free(d);
	d = NULL;
	cap = 0;
	CHECK(hp_grow(&d, &cap, 1, 0) == 0 && cap == 16);
	free(d);

	/* arrays: the same rule, counted in elements */
	double *v = NULL, *g;
	size_t n = 0;
	cap = 0;
	for (int i = 0; i < 1000; i++) {
		g = hp_grow_array(v, &cap, n + 1, sizeof *v, 8);
		CHECK(g != NULL);
		v = g;
		v[n++] = i;
	}
	CHECK(cap == 1024 && v[999] == 999);
	CHECK(hp_grow_array(v, &cap, 1024, sizeof *v, 8) == v && cap == 1024); /* room already */
	CHECK(hp_grow_array(v, &cap, SIZE_MAX / 4, sizeof *v, 8) == NULL && cap == 1024); /* overflow */
	free(v);
}

static void test_buf(void)
{
	struct hp_buf b = { 0 };
	CHECK(hp_buf_add(&b, "", 0) == 0 && b.data && b.data[0] == '\0' && b.len == 0);
	CHECK(hp_buf_add(&b, "abc", 3) == 0 && b.len == 3);
	CHECK_STR(b.data, "abc");
	for (int i = 0; i < 200; i++)
		hp_buf_add(&b, "0123456789", 10);
	CHECK(b.len == 2003 && b.cap >= 2004 && b.data[2003] == '\0' && b.data[2002] == '9');
	CHECK(!b.oom);
	/* an add past what a size_t can count fails and sticks */
	CHECK(hp_buf_add(&b, "x", SIZE_MAX) < 0 && b.oom);
	CHECK(hp_buf_add(&b, "x", 1) < 0 && b.len == 2003);
	hp_buf_clear(&b);
	CHECK(!b.data && b.len == 0 && b.cap == 0 && !b.oom);
	hp_buf_clear(&b); /* twice is fine */
}

static void test_media(void)
{
	CHECK(hp_is_media_name("a.jpg") && hp_is_media_name("dir/B.JPEG") && hp_is_media_name("x.heic"));
	CHECK(hp_is_media_name("clip.MP4") && hp_is_media_name("anim.gif") && hp_is_media_name("y.pfm"));
	CHECK(!hp_is_media_name("notes.txt") && !hp_is_media_name("jpg") && !hp_is_media_name(".jpg"));
	CHECK(!hp_is_media_name("dir.jpg/file") && !hp_is_media_name("a.jpg.bak"));
	/* GIF: a video for walks and labels (frames), uploaded as image/gif */
	CHECK(hp_is_video_name("anim.gif") && hp_is_video_name("a.webm") && hp_is_video_name("a.TS"));
	CHECK(!hp_is_video_name("a.png") && !hp_is_video_name("a.txt") && !hp_is_video_name(".mp4"));
	CHECK_STR(hp_mime_type_for("anim.gif"), "image/gif");
	CHECK_STR(hp_mime_type_for("a.JPG"), "image/jpeg");
	CHECK_STR(hp_mime_type_for("a.mpo"), "image/jpeg");
	CHECK_STR(hp_mime_type_for("a.mov"), "video/quicktime");
	CHECK_STR(hp_mime_type_for("a.pfm"), "application/octet-stream");
	CHECK_STR(hp_mime_type_for("a.txt"), "application/octet-stream");
	CHECK_STR(hp_mime_type_for("noext"), "application/octet-stream");
	CHECK_STR(hp_mime_type_for(".png"), "image/png"); /* as before: the form's type goes by the last dot */
	CHECK(hp_is_url_input("https://x/a.jpg") && hp_is_url_input("HTTP://x") && !hp_is_url_input("http:/x"));
	CHECK(!hp_is_url_input("ftp://x") && !hp_is_url_input("./https://x") && !hp_is_url_input(""));
}

static void test_clock(void)
{
	double a = hp_clock_ms();
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	double b = hp_clock_ms();
	CHECK(b - a >= 19.0 && b - a < 5000.0);
	CHECK(hp_clock_ms() >= b);
}

static void test_body_gather(void)
{
	struct hp_body b;
	hp_body_init(&b, 8, 0, true);
	CHECK(hp_body_gather(&b) == 0 && b.len == 0);            /* nothing, nothing spilled */
	CHECK(hp_body_append(&b, "0123456789", 10) == 0 && hp_body_append(&b, "abcdef", 6) == 0);
	CHECK(b.len == 8 && b.total == 16 && b.spill);           /* 8 in memory, 8 in the file */
	CHECK(hp_body_gather(&b) == 0);
	CHECK(b.len == 16 && !b.spill && memcmp(b.data, "0123456789abcdef", 17) == 0);
	CHECK(hp_body_gather(&b) == 0 && b.len == 16);           /* again: nothing to do */
	hp_body_free(&b);
	hp_body_init(&b, 4, 0, false);                           /* error bodies: the first bytes only */
	CHECK(hp_body_append(&b, "0123456789", 10) == 0 && hp_body_gather(&b) == 0 && b.len == 4);
	hp_body_free(&b);
}

static int seen[100], n_seen;
static void note(void *state, const struct hp_item *it)
{
	(void)it;
	seen[n_seen++] = (int)(intptr_t)state;
}

/* Any number of observers, called in the order they were added (there were
 * four slots filled without a bound). */
static void test_observers(void)
{
	struct hp_observers l = { 0 };
	for (int i = 0; i < 100; i++)
		CHECK(hp_observers_add(&l, note, (void *)(intptr_t)i) == 0);
	CHECK(l.n == 100 && l.cap >= 100);
	struct hp_item it = { .file = "a.jpg" };
	for (size_t i = 0; i < l.n; i++)
		l.v[i].item(l.v[i].state, &it);
	CHECK(n_seen == 100 && seen[0] == 0 && seen[4] == 4 && seen[99] == 99);
	hp_observers_clear(&l);
	CHECK(l.v == NULL && l.n == 0);
	hp_observers_clear(&l); /* twice is fine */
}

int main(void)
{
	test_observers();
	test_grow();
	test_buf();
	test_media();
	test_clock();
	test_body_gather();
	return check_report("test_util");
}
