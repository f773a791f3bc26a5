/* test_baseline.c - --baseline: box and polygon IoU, matching with the
 * thresholds, counts per class, classify top-1, semantic and depth, missing
 * inputs, error envelopes, and loading errors. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/baseline.h"
#include "hubpredict/expect.h"
#include "hubpredict/options.h"
#include "hubpredict/response.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static struct hp_result axis(double x1, double y1, double x2, double y2)
{
	struct hp_result r = { .n_box = 4, .box = { x1, y1, x2, y2 } };
	return r;
}

static struct hp_result quad(const double q[8])
{
	struct hp_result r = { .n_box = 8 };
	memcpy(r.box, q, sizeof r.box);
	return r;
}

/* A square of side s centred at (cx, cy) turned by deg degrees. */
static void rotated_square(double cx, double cy, double s, double deg, double q[8])
{
	double a = deg * 3.14159265358979323846 / 180;
	static const double dx[4] = { -1, 1, 1, -1 }, dy[4] = { -1, -1, 1, 1 };
	for (int i = 0; i < 4; i++) {
		double x = dx[i] * s / 2, y = dy[i] * s / 2;
		q[2 * i] = cx + x * cos(a) - y * sin(a);
		q[2 * i + 1] = cy + x * sin(a) + y * cos(a);
	}
}

static void test_iou(void)
{
	struct hp_result a = axis(0, 0, 10, 10), b = axis(0, 0, 10, 10);
	CHECK_NEAR(hp_box_iou(&a, &b), 1);
	b = axis(20, 20, 30, 30);
	CHECK_NEAR(hp_box_iou(&a, &b), 0);
	b = axis(10, 0, 20, 10); /* touching */
	CHECK_NEAR(hp_box_iou(&a, &b), 0);
	b = axis(5, 0, 15, 10); /* half of each overlaps: 50 / 150 */
	CHECK_NEAR(hp_box_iou(&a, &b), 1.0 / 3);
	b = axis(0, 0, 10, 5); /* inside, half the area */
	CHECK_NEAR(hp_box_iou(&a, &b), 0.5);
	b = axis(10, 10, 0, 0); /* corners given the other way round */
	CHECK_NEAR(hp_box_iou(&a, &b), 1);
	struct hp_result none = { 0 };
	CHECK_NEAR(hp_box_iou(&a, &none), 0);

	/* polygons */
	double p[8], q[8];
	rotated_square(50, 50, 20, 30, p);
	rotated_square(50, 50, 20, 30, q);
	CHECK(fabs(hp_quad_iou(p, q) - 1) < 1e-9);
	rotated_square(200, 200, 20, 30, q);
	CHECK_NEAR(hp_quad_iou(p, q), 0);
	/* the same square turned by 45 degrees: a regular octagon in common,
	 * area 8 (sqrt2 - 1) (s/2)^2 = 0.828427 s^2 */
	rotated_square(50, 50, 20, 0, p);
	rotated_square(50, 50, 20, 45, q);
	double inter = 8 * (sqrt(2) - 1) * 100;
	CHECK(fabs(hp_quad_iou(p, q) - inter / (800 - inter)) < 1e-9);
	/* half overlap of axis-aligned squares as polygons, both windings */
	double s1[8] = { 0, 0, 10, 0, 10, 10, 0, 10 };
	double s2[8] = { 5, 0, 5, 10, 15, 10, 15, 0 }; /* clockwise */
	CHECK(fabs(hp_quad_iou(s1, s2) - 1.0 / 3) < 1e-9);
	/* an oriented box against an axis-aligned one */
	struct hp_result ra = quad(s1), rb = axis(5, 0, 15, 10);
	CHECK(fabs(hp_box_iou(&ra, &rb) - 1.0 / 3) < 1e-9);
	/* a degenerate polygon */
	double flat[8] = { 0, 0, 10, 0, 20, 0, 5, 0 };
	CHECK_NEAR(hp_quad_iou(flat, s1), 0);
}

/* Diff two bodies; the messages joined by '|' (static buffer). */
static const char *diff_of(const char *base, const char *cur, double iou, double conf)
{
	static char out[4096];
	struct hp_response *b = decode_text(base), *c = decode_text(cur);
	struct hp_baseline_tol tol = { iou, conf };
	char **msgs = NULL;
	size_t n = 0;
	int rc = hp_baseline_diff(b, c, &tol, &msgs, &n);
	CHECK(rc == (int)n);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, "|");
		strncat(out, msgs[i], sizeof out - strlen(out) - 2);
	}
	hp_expect_messages_free(msgs, n);
	hp_response_free(b);
	hp_response_free(c);
	return out;
}

#define DET(name, cls, conf, x1, y1, x2, y2) \
	"{\"class\":" #cls ",\"name\":\"" name "\",\"confidence\":" #conf ",\"box\":{\"x1\":" #x1 ",\"y1\":" #y1 \
	",\"x2\":" #x2 ",\"y2\":" #y2 "}}"
#define IMG1(results) "{\"images\":[{\"results\":[" results "],\"shape\":[480,640]}]}"

static void test_detect(void)
{
	const char *base = IMG1(DET("person", 0, 0.92, 100, 50, 300, 400) "," DET("car", 2, 0.87, 400, 200, 600, 350));
	CHECK_STR(diff_of(base, base, 0.5, 0.1), "");
	/* reordered results still match */
	CHECK_STR(diff_of(base, IMG1(DET("car", 2, 0.87, 400, 200, 600, 350) "," DET("person", 0, 0.92, 100, 50, 300, 400)),
	                  0.5, 0.1), "");
	/* a car moved: IoU of (400,200,600,350) and (500,200,700,350) is 1/3 */
	const char *moved = IMG1(DET("person", 0, 0.92, 100, 50, 300, 400) "," DET("car", 2, 0.87, 500, 200, 700, 350));
	CHECK_STR(diff_of(base, moved, 0.5, 0.1),
	          "baseline: car at (400,200,600,350) has no match (best IoU 0.33)|"
	          "baseline: car at (500,200,700,350) is new (best IoU 0.33)");
	/* ... which is fine with a lower --baseline-iou */
	CHECK_STR(diff_of(base, moved, 0.3, 0.1), "");
	/* a count changed */
	const char *one = IMG1(DET("person", 0, 0.92, 100, 50, 300, 400));
	CHECK_STR(diff_of(base, one, 0.5, 0.1),
	          "baseline: car 1 -> 0|baseline: car at (400,200,600,350) has no match (best IoU 0.00)");
	CHECK_STR(diff_of(one, base, 0.5, 0.1),
	          "baseline: car 0 -> 1|baseline: car at (400,200,600,350) is new (best IoU 0.00)");
	/* a confidence beyond the tolerance, and within a wider one */
	const char *lower = IMG1(DET("person", 0, 0.70, 100, 50, 300, 400) "," DET("car", 2, 0.87, 400, 200, 600, 350));
	CHECK_STR(diff_of(base, lower, 0.5, 0.1), "baseline: person at (100,50,300,400) confidence 0.92 -> 0.7");
	CHECK_STR(diff_of(base, lower, 0.5, 0.25), "");
	/* exactly at the tolerance is within it */
	const char *edge = IMG1(DET("person", 0, 0.82, 100, 50, 300, 400) "," DET("car", 2, 0.87, 400, 200, 600, 350));
	CHECK_STR(diff_of(base, edge, 0.5, 0.1), "");
	/* the same box with another class is not a partner */
	const char *renamed = IMG1(DET("person", 0, 0.92, 100, 50, 300, 400) "," DET("truck", 7, 0.87, 400, 200, 600, 350));
	CHECK_STR(diff_of(base, renamed, 0.5, 0.1),
	          "baseline: car 1 -> 0|baseline: car at (400,200,600,350) has no match (best IoU 0.00)|"
	          "baseline: truck 0 -> 1|baseline: truck at (400,200,600,350) is new (best IoU 0.00)");
	/* greedy one-to-one: two baseline persons, two current ones, the best pairs win */
	const char *two = IMG1(DET("person", 0, 0.9, 0, 0, 10, 10) "," DET("person", 0, 0.9, 8, 0, 18, 10));
	const char *two_b = IMG1(DET("person", 0, 0.9, 9, 0, 19, 10) "," DET("person", 0, 0.9, 1, 0, 11, 10));
	CHECK_STR(diff_of(two, two_b, 0.5, 0.1), "");
	/* task changed */
	CHECK_STR(diff_of(base, "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"cat\",\"confidence\":0.9}]}]}", 0.5,
	                  0.1), "baseline: task detect -> classify");
	/* nothing found on either side */
	CHECK_STR(diff_of(IMG1(""), IMG1(""), 0.5, 0.1), "");
}

static void test_video(void)
{
	const char *f1 = "{\"results\":[" DET("person", 0, 0.9, 0, 0, 10, 10) "]}";
	const char *f0 = "{\"results\":[]}";
	char base[1024], cur[1024], shorter[1024];
	snprintf(base, sizeof base, "{\"images\":[%s,%s,%s]}", f0, f1, f1);
	snprintf(cur, sizeof cur, "{\"images\":[%s,%s,%s]}", f0, f0, f1);
	snprintf(shorter, sizeof shorter, "{\"images\":[%s,%s]}", f0, f1);
	CHECK_STR(diff_of(base, base, 0.5, 0.1), "");
	CHECK_STR(diff_of(base, cur, 0.5, 0.1),
	          "baseline: frame 1: person 1 -> 0|baseline: frame 1: person at (0,0,10,10) has no match (best IoU 0.00)");
	CHECK_STR(diff_of(base, shorter, 0.5, 0.1), "baseline: frame count 3 -> 2");
}

static void test_obb(void)
{
	char *fix = read_fixture("obb.json", NULL);
	CHECK_STR(diff_of(fix, fix, 0.5, 0.1), "");
	free(fix);
	double p[8], q[8];
	char base[1024], cur[1024];
	rotated_square(100, 100, 40, 0, p);
	rotated_square(100, 100, 40, 45, q);
#define OBB_FMT "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"ship\",\"confidence\":0.9,\"box\":" \
	                  "{\"x1\":%.9g,\"y1\":%.9g,\"x2\":%.9g,\"y2\":%.9g,\"x3\":%.9g,\"y3\":%.9g,\"x4\":%.9g,\"y4\":%.9g}}]}]}"
	snprintf(base, sizeof base, OBB_FMT, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
	snprintf(cur, sizeof cur, OBB_FMT, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]);
	/* turned by 45 degrees: IoU 0.707 */
	CHECK_STR(diff_of(base, cur, 0.5, 0.1), "");
	CHECK_CONTAINS(diff_of(base, cur, 0.8, 0.1), "baseline: ship at (80,80,120,80,120,120,80,120) has no match (best IoU 0.71)");
}

static void test_classify(void)
{
	const char *base = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"cat\",\"confidence\":0.95},"
	                   "{\"class\":1,\"name\":\"dog\",\"confidence\":0.03}]}]}";
	const char *swapped = "{\"images\":[{\"results\":[{\"class\":1,\"name\":\"dog\",\"confidence\":0.6},"
	                      "{\"class\":0,\"name\":\"cat\",\"confidence\":0.3}]}]}";
	const char *lower = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"cat\",\"confidence\":0.7},"
	                    "{\"class\":1,\"name\":\"dog\",\"confidence\":0.2}]}]}";
	/* only the top-1 counts: other classes may come and go */
	const char *only = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"cat\",\"confidence\":0.93}]}]}";
	CHECK_STR(diff_of(base, base, 0.5, 0.1), "");
	CHECK_STR(diff_of(base, swapped, 0.5, 0.1), "baseline: top-1 cat -> dog");
	CHECK_STR(diff_of(base, lower, 0.5, 0.1), "baseline: top-1 cat confidence 0.95 -> 0.7");
	CHECK_STR(diff_of(base, lower, 0.5, 0.3), "");
	CHECK_STR(diff_of(base, only, 0.5, 0.1), "");
}

static void test_semantic_depth(void)
{
	char *sem = read_fixture("semantic.json", NULL), *dep = read_fixture("depth.json", NULL);
	CHECK_STR(diff_of(sem, sem, 0.5, 0.1), "");
	CHECK_STR(diff_of(dep, dep, 0.5, 0.1), "");
	free(sem);
	free(dep);
	const char *s1 = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"road\",\"pixel_ratio\":0.42},"
	                 "{\"class\":1,\"name\":\"building\",\"pixel_ratio\":0.23}]}]}";
	const char *s2 = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"road\",\"pixel_ratio\":0.2}]}]}";
	CHECK_STR(diff_of(s1, s2, 0.5, 0.1), "baseline: road pixel ratio 0.42 -> 0.2|baseline: building 1 -> 0");
	const char *d1 = "{\"images\":[{\"results\":[],\"depth\":{\"shape\":[2,2],\"min\":0,\"max\":100}}]}";
	const char *d2 = "{\"images\":[{\"results\":[],\"depth\":{\"shape\":[2,2],\"min\":5,\"max\":80}}]}";
	const char *d3 = "{\"images\":[{\"results\":[],\"depth\":{\"shape\":[4,2],\"min\":0,\"max\":100}}]}";
	CHECK_STR(diff_of(d1, d2, 0.5, 0.1), "baseline: depth max 100 -> 80");
	CHECK_STR(diff_of(d1, d3, 0.5, 0.1), "baseline: depth map 2x2 -> 2x4");
}

static void test_cap(void)
{
	char base[8192] = "{\"images\":[{\"results\":[", cur[] = "{\"images\":[{\"results\":[]}]}";
	for (int i = 0; i < 30; i++) {
		char one[128];
		snprintf(one, sizeof one, "%s{\"class\":0,\"name\":\"p\",\"confidence\":0.9,\"box\":{\"x1\":%d,\"y1\":0,"
		         "\"x2\":%d,\"y2\":5}}", i ? "," : "", i * 10, i * 10 + 5);
		strcat(base, one);
	}
	strcat(base, "]}]}");
	const char *d = diff_of(base, cur, 0.5, 0.1);
	size_t bars = 0;
	for (const char *p = d; *p; p++)
		bars += *p == '|';
	CHECK(bars == HP_BASELINE_MAX_MESSAGES); /* the cap, then one summing-up line */
	CHECK_CONTAINS(d, "baseline: p 30 -> 0|");
	CHECK_CONTAINS(d, "|baseline: and 11 more differences");
}

static int parse(struct hp_baseline **b, const char *text, char *err, size_t errlen,
                 const struct hp_filter *f)
{
	return hp_baseline_parse(b, "base.json", text, strlen(text), f, err, errlen);
}

static void test_load_and_check(void)
{
	char err[512];
	struct hp_baseline *b = NULL;
	struct hp_baseline_tol tol = { 0.5, 0.1 };
	const char *doc =
		"[{\"file\":\"a.jpg\",\"task\":\"detect\",\"http_status\":200,\"attempts\":1,\"elapsed_ms\":1.5,"
		"\"response\":" IMG1(DET("person", 0, 0.92, 100, 50, 300, 400) "," DET("car", 2, 0.3, 400, 200, 600, 350)) "},"
		"{\"file\":\"bad.jpg\",\"error\":{\"exit\":5,\"http_status\":404,\"message\":\"404 Not Found\"}},"
		"{\"file\":\"a.jpg\",\"response\":" IMG1("") "}]";
	CHECK(parse(&b, doc, err, sizeof err, NULL) == 0);
	CHECK(hp_baseline_size(b) == 2); /* the second a.jpg is ignored: the first wins */
	struct hp_response *cur = decode_text(IMG1(DET("person", 0, 0.92, 100, 50, 300, 400) "," DET("car", 2, 0.3, 400, 200, 600, 350)));
	char **msgs = NULL;
	size_t n = 0;
	CHECK(hp_baseline_check(b, "a.jpg", cur, &tol, &msgs, &n) == 0);
	CHECK(n == 0);
	CHECK(hp_baseline_check(b, "new.jpg", cur, &tol, &msgs, &n) == 1);
	CHECK(hp_baseline_check(b, "bad.jpg", cur, &tol, &msgs, &n) == 1);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(msgs[0], "baseline: not in the baseline");
		CHECK_STR(msgs[1], "baseline: failed in the baseline (exit 5), answered now");
	}
	hp_expect_messages_free(msgs, n);
	hp_baseline_free(b);

	/* the filter applies to the baseline too: with --min-conf 0.5 the car is gone on both sides */
	struct hp_filter f = { .min_conf = 0.5 };
	CHECK(parse(&b, doc, err, sizeof err, &f) == 0);
	hp_filter_apply(&f, cur);
	msgs = NULL;
	n = 0;
	CHECK(hp_baseline_check(b, "a.jpg", cur, &tol, &msgs, &n) == 0);
	hp_baseline_free(b);
	/* without the filter on the baseline, the car would be a difference */
	CHECK(parse(&b, doc, err, sizeof err, NULL) == 0);
	CHECK(hp_baseline_check(b, "a.jpg", cur, &tol, &msgs, &n) == 2);
	hp_expect_messages_free(msgs, n);
	hp_baseline_free(b);
	hp_response_free(cur);

	/* jsonl: one envelope a line, blank lines skipped */
	const char *lines = "{\"file\":\"a.jpg\",\"response\":" IMG1("") "}\n\n{\"file\":\"b.jpg\",\"error\":{\"exit\":3}}\n";
	CHECK(parse(&b, lines, err, sizeof err, NULL) == 0);
	CHECK(hp_baseline_size(b) == 2);
	hp_baseline_free(b);
	/* an empty array is an empty baseline */
	CHECK(parse(&b, " [ ] ", err, sizeof err, NULL) == 0);
	CHECK(hp_baseline_size(b) == 0);
	hp_baseline_free(b);
}

static void test_load_errors(void)
{
	char err[512];
	struct hp_baseline *b = (struct hp_baseline *)&err; /* must come back NULL */
	CHECK(parse(&b, "", err, sizeof err, NULL) < 0);
	CHECK(b == NULL);
	CHECK_STR(err, "'base.json' is empty, not a hubpredict json output");
	CHECK(parse(&b, "file,frame,task\n", err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not a hubpredict json output (it does not start with '[' or '{')");
	CHECK(parse(&b, "[{\"file\":\"a\"", err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not JSON (not a hubpredict -f json output)");
	CHECK(parse(&b, "[1]", err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not a hubpredict json output: element 1 is not an object");
	CHECK(parse(&b, "[{\"file\":\"a\",\"response\":{\"images\":[]}},{\"name\":\"x\"}]", err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not a hubpredict json output: element 2 has no \"file\"");
	CHECK(parse(&b, "[{\"file\":\"a\"}]", err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not a hubpredict json output: element 1 has neither a \"response\" nor an \"error\" object");
	CHECK(parse(&b, "[{\"file\":\"a\",\"response\":{\"images\":[{\"results\":[{\"class\":0,\"box\":{\"x1\":1}}]}]}}]",
	            err, sizeof err, NULL) < 0);
	CHECK_CONTAINS(err, "'base.json': element 1: the response is not a prediction: images[0].results[0]");
	CHECK(parse(&b, "{\"file\":\"a\",\"error\":{}}\n{oops\n", err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not a hubpredict json or jsonl output: line 2 is not JSON");
	/* a server document is not an output of hubpredict */
	char *fix = read_fixture("detect.json", NULL);
	CHECK(parse(&b, fix, err, sizeof err, NULL) < 0);
	CHECK_STR(err, "'base.json' is not a hubpredict json output: one object without \"file\" "
	               "(a server's own document? record the baseline with -f json)");
	/* a jsonl output of one input is one object */
	CHECK(parse(&b, "{\"file\":\"a.jpg\",\"error\":{\"exit\":3}}", err, sizeof err, NULL) == 0);
	CHECK(hp_baseline_size(b) == 1);
	hp_baseline_free(b);
	free(fix);
	CHECK(hp_baseline_load(&b, "/nonexistent/base.json", NULL, err, sizeof err) < 0);
	CHECK_STR(err, "cannot open '/nonexistent/base.json': No such file or directory");
	hp_baseline_free(NULL);
}

#define PARSE(...) parse_argv(&o, err, sizeof err, (const char *const[]){ __VA_ARGS__, NULL })

static void test_options(void)
{
	struct hp_options o;
	char err[512];
	CHECK(PARSE("-k", "abc", "x.jpg") == HP_PARSE_RUN);
	CHECK(o.predict.baseline == NULL);
	CHECK_NEAR(o.predict.baseline_iou, HP_BASELINE_IOU_DEFAULT);
	CHECK_NEAR(o.predict.baseline_conf, HP_BASELINE_CONF_DEFAULT);
	hp_options_free(&o);
	CHECK(PARSE("-k", "abc", "--baseline", "b.json", "--baseline-iou", "0.7", "--baseline-conf", "0", "x.jpg") ==
	      HP_PARSE_RUN);
	CHECK_STR(o.predict.baseline, "b.json");
	CHECK_NEAR(o.predict.baseline_iou, 0.7);
	CHECK_NEAR(o.predict.baseline_conf, 0);
	hp_options_free(&o);
	CHECK(PARSE("-k", "abc", "--baseline", "b.json", "--baseline-iou", "1.5", "x.jpg") == HP_PARSE_ERROR);
	CHECK_STR(err, "--baseline-iou must be a number from 0 to 1, not '1.5'");
	hp_options_free(&o);
	CHECK(PARSE("-k", "abc", "--baseline", "b.json", "--baseline-conf", "-0.1", "x.jpg") == HP_PARSE_ERROR);
	CHECK_STR(err, "--baseline-conf must be a number from 0 to 1, not '-0.1'");
	hp_options_free(&o);
	CHECK(PARSE("-k", "abc", "--baseline-conf", "0.2", "x.jpg") == HP_PARSE_ERROR);
	CHECK_STR(err, "--baseline-conf goes with --baseline");
	hp_options_free(&o);
	CHECK(PARSE("-k", "abc", "-f", "raw", "--baseline", "b.json", "x.jpg") == HP_PARSE_ERROR);
	CHECK_STR(err, "--baseline needs a parsed format, not -f raw (use -f json to keep the server's document)");
	hp_options_free(&o);
	CHECK(PARSE("-k", "abc", "--baseline", "", "x.jpg") == HP_PARSE_ERROR);
	CHECK_STR(err, "--baseline needs a file name");
	hp_options_free(&o);
}

int main(int argc, char **argv)
{
	fixtures_dir = argc > 1 ? argv[1] : "tests/fixtures";
	test_iou();
	test_detect();
	test_video();
	test_obb();
	test_classify();
	test_semantic_depth();
	test_cap();
	test_load_and_check();
	test_load_errors();
	test_options();
	return check_report("test_baseline");
}
