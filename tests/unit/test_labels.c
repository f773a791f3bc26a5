/* test_labels.c - --save-txt: the label lines of every task (expected values
 * worked out by hand from the fixtures), --save-conf, answers already
 * normalised, where each input's files go, and the files themselves. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/labels.h"
#include "hubpredict/render.h"
#include "hubpredict/response.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The label text of image i of r ("(null)" when there is none). */
static const char *fmt(const struct hp_response *r, size_t i, bool save_conf, bool normalized)
{
	static char out[4096];
	struct hp_labels_opts o = { .dir = "unused", .save_conf = save_conf, .normalized = normalized };
	size_t len = 0;
	const char *why = NULL;
	char *text = hp_labels_format(r, &r->images[i], &o, &len, &why);
	snprintf(out, sizeof out, "%s", text ? text : "(null)");
	if (text)
		CHECK(strlen(text) == len);
	free(text);
	return out;
}

static void test_fixtures(void)
{
	/* detect, shape [1080, 1920]: person 100,50,300,400 -> cx 200/1920, cy 225/1080,
	 * w 200/1920, h 350/1080; car 400,200,600,350 -> 500/1920, 275/1080, 200/1920, 150/1080 */
	struct hp_response *r = decode_fixture("detect.json");
	CHECK_STR(fmt(r, 0, false, false), "0 0.104167 0.208333 0.104167 0.324074\n"
	                                   "2 0.260417 0.25463 0.104167 0.138889\n");
	CHECK_STR(fmt(r, 0, true, false), "0 0.104167 0.208333 0.104167 0.324074 0.92\n"
	                                  "2 0.260417 0.25463 0.104167 0.138889 0.87\n");
	hp_response_free(r);

	/* segment, shape [750, 600]: the polygon's points, x / 600 and y / 750 */
	r = decode_fixture("segment.json");
	CHECK_STR(fmt(r, 0, false, false), "0 0.443359 0.146875 0.443359 0.151563 0.431641 0.160937\n");
	CHECK_STR(fmt(r, 0, true, false), "0 0.443359 0.146875 0.443359 0.151563 0.431641 0.160937 0.92\n");
	hp_response_free(r);

	/* pose: box 118,112,416,660 -> 267/600 386/750 298/600 548/750, then x y visible */
	r = decode_fixture("pose.json");
	CHECK_STR(fmt(r, 0, false, false), "0 0.445 0.514667 0.496667 0.730667 "
	                                   "0.527312 0.208561 0.99094 0.526562 0.19741 0.8163 0.50813 0.193243 0.98721\n");
	CHECK_STR(fmt(r, 0, true, false), "0 0.445 0.514667 0.496667 0.730667 "
	                                  "0.527312 0.208561 0.99094 0.526562 0.19741 0.8163 0.50813 0.193243 0.98721 0.92\n");
	hp_response_free(r);

	/* obb: the four corners in order, x / 600 and y / 750 */
	r = decode_fixture("obb.json");
	CHECK_STR(fmt(r, 0, false, false), "0 0.624759 0.352543 0.653864 0.35661 0.68803 0.200129 0.658926 0.196062\n");
	hp_response_free(r);

	/* classify: "conf name", two decimals; --save-conf changes nothing */
	r = decode_fixture("classify.json");
	CHECK_STR(fmt(r, 0, false, false), "0.95 cat\n0.03 dog\n");
	CHECK_STR(fmt(r, 0, true, false), "0.95 cat\n0.03 dog\n");
	hp_response_free(r);

	/* no results: an empty text, not NULL */
	r = decode_fixture("empty.json");
	CHECK_STR(fmt(r, 0, false, false), "");
	CHECK_STR(fmt(r, 0, true, false), "");
	hp_response_free(r);

	/* semantic and depth have no text label format */
	const char *names[] = { "semantic.json", "depth.json" };
	for (size_t i = 0; i < 2; i++) {
		r = decode_fixture(names[i]);
		struct hp_labels_opts o = { .dir = "unused" };
		size_t len = 0;
		const char *why = NULL;
		char *text = hp_labels_format(r, &r->images[0], &o, &len, &why);
		CHECK(text == NULL);
		CHECK(why != NULL);
		free(text);
		hp_response_free(r);
	}
}

static void test_normalized_and_shape(void)
{
	/* --normalize: coordinates are 0-1 already and are not divided again */
	struct hp_response *r = decode_text(
		"{\"images\":[{\"results\":[{\"class\":3,\"name\":\"x\",\"confidence\":0.5,"
		"\"box\":{\"x1\":0.1,\"y1\":0.2,\"x2\":0.3,\"y2\":0.6}}],\"shape\":[1080,1920]}]}");
	CHECK_STR(fmt(r, 0, false, true), "3 0.2 0.4 0.2 0.4\n");
	CHECK_STR(fmt(r, 0, true, true), "3 0.2 0.4 0.2 0.4 0.5\n");
	hp_response_free(r);

	/* normalised: no shape needed; pixels without a shape cannot be written */
	r = decode_text("{\"images\":[{\"results\":[{\"class\":1,\"confidence\":0.5,"
	                "\"box\":{\"x1\":0.25,\"y1\":0.25,\"x2\":0.75,\"y2\":0.5}}]}]}");
	CHECK_STR(fmt(r, 0, false, true), "1 0.5 0.375 0.5 0.25\n");
	CHECK_STR(fmt(r, 0, false, false), "(null)");
	hp_response_free(r);

	/* but an image without results and without a shape is just empty */
	r = decode_text("{\"images\":[{\"results\":[]}]}");
	CHECK_STR(fmt(r, 0, false, false), "");
	hp_response_free(r);
}

static void test_details(void)
{
	/* pose without visibility: x y pairs only (as Ultralytics without
	 * has_visible); a track_id follows the confidence */
	struct hp_response *r = decode_text(
		"{\"images\":[{\"results\":[{\"class\":0,\"confidence\":0.9,\"track_id\":7,"
		"\"box\":{\"x1\":0,\"y1\":0,\"x2\":100,\"y2\":50},"
		"\"keypoints\":{\"x\":[10,20],\"y\":[5,25]}}],\"shape\":[100,200]}]}");
	CHECK_STR(fmt(r, 0, false, false), "0 0.25 0.25 0.5 0.5 0.05 0.05 0.1 0.25 7\n");
	CHECK_STR(fmt(r, 0, true, false), "0 0.25 0.25 0.5 0.5 0.05 0.05 0.1 0.25 0.9 7\n");
	hp_response_free(r);

	/* classify: best first, top 5 only, control characters and bad UTF-8 in
	 * names replaced, other UTF-8 and spaces kept */
	r = decode_text(
		"{\"images\":[{\"results\":["
		"{\"class\":0,\"name\":\"a\",\"confidence\":0.01},"
		"{\"class\":1,\"name\":\"line\\nbreak\",\"confidence\":0.30},"
		"{\"class\":2,\"name\":\"caf\\u00e9 au lait\",\"confidence\":0.40},"
		"{\"class\":3,\"name\":\"d\",\"confidence\":0.05},"
		"{\"class\":4,\"name\":\"e\",\"confidence\":0.10},"
		"{\"class\":5,\"name\":\"f\",\"confidence\":0.10},"
		"{\"class\":6,\"name\":\"g\",\"confidence\":0.004}]}]}");
	CHECK_STR(fmt(r, 0, false, false),
	          "0.40 caf\xc3\xa9 au lait\n0.30 line\xef\xbf\xbd" "break\n0.10 e\n0.10 f\n0.05 d\n");
	hp_response_free(r);

	/* a segment result without a polygon: its box as four corners */
	r = decode_text(
		"{\"images\":[{\"results\":["
		"{\"class\":0,\"confidence\":0.9,\"box\":{\"x1\":0,\"y1\":0,\"x2\":10,\"y2\":10},"
		"\"segments\":{\"x\":[0,10,10],\"y\":[0,0,10]}},"
		"{\"class\":1,\"confidence\":0.8,\"box\":{\"x1\":10,\"y1\":20,\"x2\":30,\"y2\":40}}],"
		"\"shape\":[100,100]}]}");
	CHECK(r && r->task == HP_TASK_SEGMENT);
	CHECK_STR(fmt(r, 0, false, false), "0 0 0 0.1 0 0.1 0.1\n1 0.1 0.2 0.3 0.2 0.3 0.4 0.1 0.4\n");
	hp_response_free(r);
}

static void check_stem_below(const char *input, size_t below, const char *want)
{
	char *s = hp_labels_stem(input, below);
	CHECK_STR(s, want);
	free(s);
}

static void check_stem(const char *input, const char *want)
{
	check_stem_below(input, 0, want);
}

static void check_path(const char *dir, const char *input, size_t below, const char *suffix, const char *want)
{
	char *s = hp_output_path(dir, input, below, suffix);
	CHECK_STR(s, want);
	free(s);
}

static void test_paths(void)
{
	/* named as an INPUT or in --files-from: the base name, as Ultralytics' save_txt */
	check_stem("bus.jpg", "bus");
	check_stem("imgs/a/x.jpg", "x");
	check_stem("/abs/p/y.png", "y");
	check_stem("./x.jpg", "x");
	check_stem("../../up/x.jpg", "x");
	check_stem("a/./b//c.jpeg", "c");
	check_stem("a/../../etc/x.jpg", "x"); /* never outside DIR */
	check_stem("a/..", "input");
	check_stem("dir.d/noext", "noext");
	check_stem("x.tar.gz", "x.tar");
	check_stem("d/.hidden", ".hidden");
	check_stem("clip.mp4", "clip");
	/* found inside a directory INPUT: the path below it */
	check_stem_below("photos/a/x.jpg", 7, "a/x");
	check_stem_below("photos//a/./b/x.jpg", 8, "a/b/x");
	check_stem_below("/data/set/images/train/x.jpg", 23, "x");
	check_stem_below("d/../../x.jpg", 2, "x");
	check_stem("-", "stdin");
	check_stem("https://example.com/path/img.jpg?x=1#frag", "img");
	check_stem("https://example.com/a/b/", "b");
	check_stem("https://example.com/", "url");
	check_stem("https://example.com", "url");
	check_stem("http://h/we ird%20name.png", "we_ird_20name");
	check_stem("https://h/..", "_");
	check_stem("https://h/x/a%2Fb.png", "a_2Fb");
	/* the one function for every output tree: labels now, pictures later */
	check_path("labels", "/data/cam/x.jpg", 0, ".txt", "labels/x.txt");
	check_path("labels//", "photos/a/x.jpg", 7, "_2.txt", "labels/a/x_2.txt");
	check_path("out", "-", 0, ".jpg", "out/stdin.jpg");
}

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 8192);
	size_t n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void test_files(void)
{
	char dir[] = "/tmp/hp-labels-test.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char root[256], p[512];
	snprintf(root, sizeof root, "%s/out/deeper", dir);
	char err[512];
	struct hp_labels_opts o = { .dir = root };
	struct hp_labels *l = NULL;
	CHECK(hp_labels_new(&l, &o, err, sizeof err) == 0 && l != NULL);

	struct hp_response *det = decode_fixture("detect.json");
	/* found by a walk of "../": the path below it */
	struct hp_item it = { .file = "../imgs/a/x.jpg", .file_below = 3, .response = det };
	hp_labels_item(l, &it);
	snprintf(p, sizeof p, "%s/imgs/a/x.txt", root);
	char *text = read_text_file(p);
	CHECK_STR(text, "0 0.104167 0.208333 0.104167 0.324074\n2 0.260417 0.25463 0.104167 0.138889\n");
	free(text);

	/* a failed input writes nothing */
	struct hp_item failed = { .file = "imgs/b/y.jpg", .exit_code = 4, .message = "401" };
	hp_labels_item(l, &failed);
	snprintf(p, sizeof p, "%s/imgs/b/y.txt", root);
	CHECK(!exists(p));
	snprintf(p, sizeof p, "%s/y.txt", root);
	CHECK(!exists(p));

	/* a video: one file per frame, numbered from 1 */
	struct hp_response *video = decode_text(
		"{\"images\":[{\"results\":[],\"shape\":[10,10]},"
		"{\"results\":[{\"class\":1,\"confidence\":0.5,\"box\":{\"x1\":0,\"y1\":0,\"x2\":5,\"y2\":5}}],\"shape\":[10,10]},"
		"{\"results\":[],\"shape\":[10,10]}]}");
	struct hp_item vit = { .file = "clip.mp4", .response = video };
	hp_labels_item(l, &vit);
	snprintf(p, sizeof p, "%s/clip_1.txt", root);
	text = read_text_file(p);
	CHECK_STR(text, "");
	free(text);
	snprintf(p, sizeof p, "%s/clip_2.txt", root);
	text = read_text_file(p);
	CHECK_STR(text, "1 0.25 0.25 0.5 0.5\n");
	free(text);
	snprintf(p, sizeof p, "%s/clip_3.txt", root);
	CHECK(exists(p));
	snprintf(p, sizeof p, "%s/clip_4.txt", root);
	CHECK(!exists(p));
	snprintf(p, sizeof p, "%s/clip.txt", root);
	CHECK(!exists(p));
	CHECK(hp_labels_written(l) == 4);
	CHECK(!hp_labels_failed(l));

	/* a label path blocked by a regular file: the set fails and stays failed */
	snprintf(p, sizeof p, "%s/blocked", root);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	struct hp_item blocked = { .file = "w/blocked/z.jpg", .file_below = 2, .response = det };
	hp_labels_item(l, &blocked);
	CHECK(hp_labels_failed(l));
	CHECK(hp_labels_written(l) == 4);
	hp_labels_free(l);
	hp_labels_free(NULL);

	/* DIR itself under a regular file */
	snprintf(p, sizeof p, "%s/blocked/sub", root);
	struct hp_labels_opts bad = { .dir = p };
	err[0] = '\0';
	struct hp_labels *none = NULL;
	CHECK(hp_labels_new(&none, &bad, err, sizeof err) == 11 && none == NULL);
	CHECK_CONTAINS(err, "blocked/sub");
	CHECK_CONTAINS(err, "Not a directory");

	hp_response_free(det);
	hp_response_free(video);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(int argc, char **argv)
{
	fixtures_dir = argc > 1 ? argv[1] : "tests/fixtures";
	test_fixtures();
	test_normalized_and_shape();
	test_details();
	test_paths();
	test_files();
	return check_report("test_labels");
}
