/* test_decode.c - the decoder over every documented fixture, every error
 * body shape, and bodies that are not what they should be. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/response.h"

#include <stdlib.h>

/* Decode a literal; returns the error text (static) or NULL on success. */
static const char *decode_err(const char *body)
{
	static char err[256];
	struct hp_response *r = NULL;
	int rc = hp_response_decode(&r, body, strlen(body), err, sizeof err);
	hp_response_free(r);
	return rc == 0 ? NULL : err;
}

static void test_fixtures(void)
{
	struct hp_response *r = decode_fixture("detect.json");
	CHECK(r && r->task == HP_TASK_DETECT && r->n_images == 1);
	if (r) {
		const struct hp_image *im = &r->images[0];
		CHECK(im->has_shape && im->height == 1080 && im->width == 1920);
		CHECK(im->has_speed);
		CHECK_NEAR(im->inference_ms, 12.5);
		CHECK(im->n_results == 2);
		CHECK_STR(im->results[0].name, "person");
		CHECK(im->results[0].cls == 0 && im->results[0].n_box == 4);
		CHECK_NEAR(im->results[0].confidence, 0.92);
		CHECK_NEAR(im->results[0].box[2], 300);
		CHECK_STR(im->results[1].name, "car");
		CHECK(im->results[1].cls == 2);
	}
	hp_response_free(r);

	r = decode_fixture("classify.json");
	CHECK(r && r->task == HP_TASK_CLASSIFY && r->images[0].n_results == 2);
	if (r) {
		CHECK_STR(r->images[0].results[1].name, "dog");
		CHECK(r->images[0].results[0].n_box == 0);
		CHECK(r->images[0].height == 750 && r->images[0].width == 600);
	}
	hp_response_free(r);

	r = decode_fixture("obb.json");
	CHECK(r && r->task == HP_TASK_OBB && r->images[0].results[0].n_box == 8);
	if (r)
		CHECK_NEAR(r->images[0].results[0].box[7], 147.04634); /* y4, whatever the key order */
	hp_response_free(r);

	r = decode_fixture("segment.json");
	CHECK(r && r->task == HP_TASK_SEGMENT && r->images[0].results[0].segment.n == 3);
	if (r)
		CHECK_NEAR(r->images[0].results[0].segment.y[2], 120.70311737060547);
	hp_response_free(r);

	r = decode_fixture("pose.json");
	CHECK(r && r->task == HP_TASK_POSE);
	if (r) {
		const struct hp_points *k = &r->images[0].results[0].keypoints;
		CHECK(k->n == 3 && k->visible != NULL);
		CHECK(hp_visible_keypoints(k) == 3);
	}
	hp_response_free(r);

	r = decode_fixture("semantic.json");
	CHECK(r && r->task == HP_TASK_SEMANTIC && r->images[0].n_results == 2);
	if (r)
		CHECK_NEAR(r->images[0].results[0].pixel_ratio, 0.42);
	hp_response_free(r);

	r = decode_fixture("depth.json");
	CHECK(r && r->task == HP_TASK_DEPTH && r->images[0].depth.present);
	if (r) {
		CHECK(r->images[0].depth.width == 2 && r->images[0].depth.bits == 8);
		CHECK_NEAR(r->images[0].depth.max, 79.9);
	}
	hp_response_free(r);

	r = decode_fixture("empty.json");
	CHECK(r && r->task == HP_TASK_UNKNOWN && hp_response_count(r) == 0);
	hp_response_free(r);
}

static void test_shapes(void)
{
	struct hp_response *r = NULL;
	char err[256];
	/* the task of an empty answer comes from metadata.task */
	const char *b = "{\"images\":[{\"results\":[]}],\"metadata\":{\"task\":\"pose\"}}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->task == HP_TASK_POSE);
	hp_response_free(r);
	/* members win over metadata.task; unknown members anywhere are ignored */
	b = "{\"zzz\":[1,{\"a\":null}],\"images\":[{\"extra\":true,\"results\":[{\"new\":{},\"class\":3,"
	    "\"name\":\"x\",\"confidence\":0.5,\"box\":{\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4,\"z\":9},"
	    "\"track_id\":7}]}],\"metadata\":{\"task\":\"classify\"}}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->task == HP_TASK_DETECT);
	if (r)
		CHECK(r->images[0].results[0].has_track_id && r->images[0].results[0].track_id == 7);
	hp_response_free(r);
	/* video: several images */
	b = "{\"images\":[{\"results\":[]},{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":1}]},{\"results\":[]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->n_images == 3 &&
	      r->task == HP_TASK_CLASSIFY && hp_response_count(r) == 1);
	hp_response_free(r);
	/* pose without visibility: every keypoint counts */
	b = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"p\",\"confidence\":0.9,\"box\":{\"x1\":0,"
	    "\"y1\":0,\"x2\":1,\"y2\":1},\"keypoints\":{\"x\":[1,2],\"y\":[3,4]}}]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->task == HP_TASK_POSE);
	if (r)
		CHECK(hp_visible_keypoints(&r->images[0].results[0].keypoints) == 2);
	hp_response_free(r);
	/* names: escapes decoded exactly, non-ASCII kept */
	b = "{\"images\":[{\"results\":[{\"class\":1,\"name\":\"a,\\\"b\\\"\\t\\u00e9\\u4e2d\",\"confidence\":0.5}]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0);
	if (r)
		CHECK_STR(r->images[0].results[0].name, "a,\"b\"\t\xc3\xa9\xe4\xb8\xad");
	hp_response_free(r);
	/* a detect answer where some results lack the polygon is still segment */
	b = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":1,\"box\":{\"x1\":0,\"y1\":0,"
	    "\"x2\":1,\"y2\":1}},{\"class\":0,\"name\":\"a\",\"confidence\":1,\"box\":{\"x1\":0,\"y1\":0,"
	    "\"x2\":1,\"y2\":1},\"segments\":{\"x\":[1],\"y\":[2]}}]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->task == HP_TASK_SEGMENT);
	hp_response_free(r);
}

/* Older docs' shapes (API.md): keypoints as [{x, y, conf}], OBB corners in
 * an obb object beside an axis-aligned box. */
static void test_older_shapes(void)
{
	struct hp_response *r = NULL;
	char err[256];
	const char *b = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"p\",\"confidence\":0.9,"
	                "\"box\":{\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4},\"keypoints\":[{\"x\":1,\"y\":2,\"conf\":0.9},"
	                "{\"x\":3,\"y\":4,\"conf\":0.2},{\"x\":5,\"y\":6,\"conf\":2}]}]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->task == HP_TASK_POSE);
	if (r && r->n_images == 1 && r->images[0].n_results == 1) {
		const struct hp_points *k = &r->images[0].results[0].keypoints;
		CHECK(k->n == 3 && k->x[2] == 5 && k->y[1] == 4 && k->visible && k->visible[1] == 0.2);
		CHECK(hp_visible_keypoints(k) == 2); /* 0.9 and the flag 2 */
	}
	hp_response_free(r);
	r = NULL;
	b = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"p\",\"confidence\":0.9,"
	    "\"box\":{\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4},\"keypoints\":[{\"x\":1,\"y\":2}]}]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0);
	CHECK(r && r->images[0].results[0].keypoints.visible == NULL);
	hp_response_free(r);
	r = NULL;
	b = "{\"images\":[{\"results\":[{\"class\":0,\"name\":\"p\",\"confidence\":0.9,"
	    "\"box\":{\"x1\":1,\"y1\":2,\"x2\":30,\"y2\":40},"
	    "\"obb\":{\"x1\":5,\"y1\":6,\"x2\":7,\"y2\":8,\"x3\":9,\"y3\":10,\"x4\":11,\"y4\":12}}]}]}";
	CHECK(hp_response_decode(&r, b, strlen(b), err, sizeof err) == 0 && r->task == HP_TASK_OBB);
	if (r) {
		const struct hp_result *res = &r->images[0].results[0];
		CHECK(res->n_box == 8 && res->box[0] == 5 && res->box[7] == 12);
	}
	hp_response_free(r);
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"confidence\":1,\"box\":{\"x1\":1,"
	                          "\"y1\":2,\"x2\":3,\"y2\":4},\"keypoints\":[{\"x\":1,\"y\":2,\"conf\":1},{\"x\":1,\"y\":2}]}]}]}"),
	               "keypoints with and without conf");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"confidence\":1,\"box\":{\"x1\":1,"
	                          "\"y1\":2,\"x2\":3,\"y2\":4},\"keypoints\":[7]}]}]}"),
	               "keypoint that is not an object");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"confidence\":1,\"box\":{\"x1\":1,"
	                          "\"y1\":2,\"x2\":3,\"y2\":4},\"keypoints\":[{\"x\":1}]}]}]}"),
	               "keypoint without y");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"confidence\":1,"
	                          "\"obb\":{\"x1\":1,\"y1\":2,\"x2\":3,\"y2\":4}}]}]}"),
	               "obb without x3");
}

static void test_bad_bodies(void)
{
	CHECK_CONTAINS(decode_err("<html>502</html>"), "not JSON");
	CHECK_CONTAINS(decode_err(""), "not JSON");
	CHECK_CONTAINS(decode_err("{\"images\":[]} trailing"), "not JSON (at byte 14");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[]}"), "not JSON"); /* cut off */
	CHECK_CONTAINS(decode_err("[1,2]"), "not a JSON object");
	CHECK_CONTAINS(decode_err("{\"data\":{}}"), "no images");
	CHECK_CONTAINS(decode_err("{\"images\":{}}"), "images is not an array");
	CHECK_CONTAINS(decode_err("{\"images\":[7]}"), "images[0] is not an object");
	CHECK_CONTAINS(decode_err("{\"images\":[{}]}"), "images[0] has no results");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":{}}]}"), "results that are not an array");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":\"0.9\"}]}]}"),
	               "images[0].results[0] has a confidence that is not a number");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.9,"
	                          "\"box\":{\"x1\":1,\"y1\":1,\"y2\":2}}]}]}"),
	               "has a box without x2");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.9,"
	                          "\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2,\"x3\":1}}]}]}"),
	               "oriented box without y3");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":1.5,\"name\":\"a\",\"confidence\":0.9}]}]}"),
	               "class that is not a whole number");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":1,\"name\":7,\"confidence\":0.9}]}]}"),
	               "name that is not a string");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":1,\"name\":\"a\"}]}]}"), "has no confidence");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[],\"shape\":[1]}]}"), "shape");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[],\"shape\":\"640x480\"}]}"), "shape");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":1,\"box\":{"
	                          "\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1},\"segments\":{\"x\":[1,2],\"y\":[1]}}]}]}"),
	               "different lengths");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":1},"
	                          "{\"class\":0,\"name\":\"a\",\"confidence\":1,\"box\":{\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1}}]}]}"),
	               "among");
	/* deeply nested: refused, not a crash */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 32);
	strcpy(deep, "{\"images\":");
	size_t o = strlen(deep);
	for (size_t i = 0; i < depth; i++)
		deep[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		deep[o++] = ']';
	deep[o++] = '}';
	deep[o] = '\0';
	CHECK(decode_err(deep) != NULL);
	free(deep);
	/* huge numbers are numbers, but a confidence stays within 0-1 and infinity is refused */
	CHECK(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":1,"
	                 "\"box\":{\"x1\":-1e308,\"y1\":0,\"x2\":1e308,\"y2\":1}}]}]}") == NULL);
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":1e308}]}]}"),
	               "images[0].results[0] has a confidence of 1e+308 (not from 0 to 1)");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.5,"
	                          "\"box\":{\"x1\":1e999,\"y1\":0,\"x2\":1,\"y2\":1}}]}]}"),
	               "images[0].results[0] has a x1 that is not a finite number");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":-5,\"name\":\"a\",\"confidence\":0.5}]}]}"),
	               "images[0].results[0] has a class of -5");
	CHECK_CONTAINS(decode_err("{\"images\":[{\"results\":[{\"class\":1e300,\"name\":\"a\",\"confidence\":1}]}]}"),
	               "whole number");
}

#define ACCEPTED ((size_t)-1)
/* Where hp_json_check stops in s, or ACCEPTED. */
static size_t bad_at(const char *s)
{
	size_t at = 0;
	return hp_json_check(s, strlen(s), &at) ? ACCEPTED : at;
}

static void test_strict_json(void)
{
	static const char *const good[] = {
		"{}", "[]", " {\"a\" : [1, -0.5, 2e10, 3E-2, true, false, null, \"x\\u00e9\\n\"]} \n",
		"0", "\"s\"", "{\"a\":{\"b\":[[[]]]}}", "\"raw \xff bytes are left to the writers\"",
	};
	static const char *const bad[] = {
		"", " ", "\xef\xbb\xbf{}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}",
		"{\"a\":1.e2}", "{\"a\":\"\\uzzzz\"}", "{\"a\":\"\\x\"}", "{\"a\":\"tab\there\"}",
		"{\"a\"\x1b:1}", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "[1 2]", "{\"a\":tru}",
		"{} {}", "{\"a\":1", "[", "\"open", "{\"a\":NaN}", "{\"a\":Infinity}", "\x00",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!hp_json_check(good[i], strlen(good[i]), NULL))
			fprintf(stderr, "rejected: %s\n", good[i]);
		CHECK(hp_json_check(good[i], strlen(good[i]), NULL));
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = strlen(bad[i]) + (bad[i][0] == '\0');
		if (hp_json_check(bad[i], len, NULL))
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(!hp_json_check(bad[i], len, NULL));
	}
	size_t at = 0;
	CHECK(!hp_json_check("{\"a\": 01}", 10, &at) && at == 7); /* the 1 after a leading 0 */
	/* where each step of the checker stops: after a value, at a name, at a value */
	CHECK(bad_at("[1} ") == 2);          /* a close that does not match */
	CHECK(bad_at("{} x") == 3);          /* text after the document */
	CHECK(bad_at("{\"a\":1, \"b") == 8); /* an unclosed name: its start */
	CHECK(bad_at("{\"a\" 1}") == 5);     /* no ':' after the name */
	CHECK(bad_at("[1, ]") == 4);         /* ']' where a value must be */
	CHECK(bad_at("[[], {}, [{}]") == 13); /* the end inside an array */
	CHECK(bad_at("{\"a\":{}, \"b\":[]}") == ACCEPTED);
	/* 1000 levels are fine, 1001 are not; far deeper input fails without recursion */
	char *deep = malloc(200002);
	memset(deep, '[', 100000);
	memset(deep + 100000, ']', 100000);
	CHECK(!hp_json_check(deep, 200000, NULL));
	CHECK(hp_json_check(deep + 100000 - 1000, 2000, NULL));
	CHECK(!hp_json_check(deep + 100000 - 1001, 2002, NULL));
	free(deep);
}

static void test_error_messages(void)
{
	char msg[256];
	size_t len;
	char *b = read_fixture("error-hub-400.json", &len);
	hp_error_message(msg, sizeof msg, b, len);
	CHECK_STR(msg, "An image file or URL must be submitted.");
	free(b);
	b = read_fixture("error-hub-500.json", &len);
	hp_error_message(msg, sizeof msg, b, len);
	CHECK_STR(msg, "model failed to load");
	free(b);
	b = read_fixture("error-platform-429.json", &len);
	hp_error_message(msg, sizeof msg, b, len);
	CHECK_STR(msg, "Rate limited");
	free(b);
	const char *s = "{\"detail\":\"Not authenticated\"}";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "Not authenticated");
	s = "{\"detail\":[{\"loc\":[\"body\",\"file\"],\"msg\":\"field required\"}]}";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "field required");
	s = "{\"error\":{\"message\":\"nested\"}}";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "nested");
	s = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\n<body>x</body></html>";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "413 Request Entity Too Large");
	s = "<html><body><h1>Bad\n\ngateway</h1></body></html>";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "Bad gateway");
	s = "plain\x1b[31m text\n\twith\x07 controls";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "plain [31m text with controls"); /* controls fold like white space */
	char longbody[2000];
	memset(longbody, 'a', sizeof longbody - 1);
	longbody[sizeof longbody - 1] = '\0';
	hp_error_message(msg, sizeof msg, longbody, strlen(longbody));
	CHECK(strlen(msg) <= 124 && strstr(msg, "...") != NULL);
	hp_error_message(msg, sizeof msg, "", 0);
	CHECK_STR(msg, "");
	s = "{\"message\":\"line one\\nline two\"}";
	hp_error_message(msg, sizeof msg, s, strlen(s));
	CHECK_STR(msg, "line one line two");
}

static bool same_points(const struct hp_points *a, const struct hp_points *b)
{
	if (a->n != b->n || hp_visible_keypoints(a) != hp_visible_keypoints(b) || !a->x != !b->x)
		return false;
	for (size_t i = 0; a->x && i < a->n; i++)
		if (a->x[i] != b->x[i] || a->y[i] != b->y[i] || (a->visible && a->visible[i] != b->visible[i]))
			return false;
	return true;
}

static bool same_response(const struct hp_response *a, const struct hp_response *b)
{
	if (a->task != b->task || a->n_images != b->n_images)
		return false;
	for (size_t i = 0; i < a->n_images; i++) {
		const struct hp_image *x = &a->images[i], *y = &b->images[i];
		if (x->n_results != y->n_results || x->has_shape != y->has_shape || x->width != y->width ||
		    x->height != y->height || x->inference_ms != y->inference_ms || x->depth.present != y->depth.present)
			return false;
		for (size_t j = 0; j < x->n_results; j++) {
			const struct hp_result *p = &x->results[j], *q = &y->results[j];
			if (p->cls != q->cls || p->name_len != q->name_len || memcmp(p->name, q->name, p->name_len) ||
			    p->confidence != q->confidence || p->n_box != q->n_box ||
			    memcmp(p->box, q->box, sizeof p->box) || p->pixel_ratio != q->pixel_ratio ||
			    !same_points(&p->segment, &q->segment) || !same_points(&p->keypoints, &q->keypoints))
				return false;
		}
	}
	return true;
}

/* Decoded part by part (SPEC 11), an answer is what it is decoded whole: the
 * same response, or the same message, whatever the size an entry is cut at. */
static void parts_like_whole(const char *doc)
{
	size_t len = strlen(doc);
	static const size_t bigs[] = { 0, 40, 120, 1 << 20 };
	for (size_t k = 0; k < sizeof bigs / sizeof *bigs; k++) {
		char e1[600], e2[600];
		struct hp_response *whole = NULL, *parted = NULL;
		struct hp_json_parts parts;
		size_t bad_at = 0;
		int r1 = hp_response_decode(&whole, doc, len, e1, sizeof e1);
		int rp = hp_json_parts(doc, len, bigs[k], &parts, &bad_at, NULL, NULL);
		int r2 = rp == 0 ? hp_response_decode_parts(&parted, doc, len, &parts, false, e2, sizeof e2, NULL, NULL) : -1;
		if (rp != 0)
			snprintf(e2, sizeof e2, "not JSON (at byte %zu of %zu)", bad_at, len);
		CHECK(r1 == r2);
		if (r1 == 0 && r2 == 0)
			CHECK(same_response(whole, parted));
		else
			CHECK_STR(e2, e1);
		if (r1 != r2 || (r1 == 0 && !same_response(whole, parted)))
			fprintf(stderr, "  parts differ (big %zu): %s\n", bigs[k], doc);
		hp_response_free(whole);
		hp_response_free(parted);
		if (rp == 0 && r2 == 0 && bigs[k] == 0) { /* light: counts only */
			CHECK(hp_response_decode_parts(&parted, doc, len, &parts, true, e2, sizeof e2, NULL, NULL) == 0);
			for (size_t i = 0; i < parted->n_images; i++)
				for (size_t j = 0; j < parted->images[i].n_results; j++)
					CHECK(parted->images[i].results[j].segment.x == NULL);
			hp_response_free(parted);
		}
		hp_json_parts_free(&parts);
	}
}

static void test_parts(void)
{
	static const char *const names[] = { "detect.json", "classify.json", "obb.json", "segment.json", "pose.json",
	                                     "semantic.json", "depth.json", "empty.json" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t len;
		char *b = read_fixture(names[i], &len);
		parts_like_whole(b);
		free(b);
	}
	static const char *const docs[] = {
		"{\"images\":[]}", " { \"images\" : [ ] } ", "[1,2]", "{\"data\":{}}", "{\"images\":{}}",
		"{\"images\":7,\"images\":[{\"results\":[]}]}", "{\"images\":[{\"results\":[]}],\"images\":7}",
		"{\"x\":{\"images\":[1]},\"images\":[{\"results\":[]}],\"metadata\":{\"task\":\"pose\"}}",
		"{\"images\":[7]}", "{\"images\":[{}]}", "{\"images\":[{\"results\":{}}]}",
		"{\"images\":[{\"results\":7,\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.5}]}]}",
		"{\"images\":[{\"shape\":[4,6],\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.5,"
		"\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2},\"segments\":{\"x\":[1,2,3],\"y\":[3,2,1]}},"
		"{\"class\":1,\"name\":\"b\",\"confidence\":0.25,\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2}}],"
		"\"speed\":{\"inference\":3}},{\"results\":[]},{\"results\":[{\"class\":2,\"name\":\"c\","
		"\"confidence\":1,\"box\":{\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1},\"keypoints\":{\"x\":[1],\"y\":[2],"
		"\"visible\":[0.2]}}]}]}",
		"{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.9},"
		"{\"class\":0,\"name\":\"a\",\"confidence\":\"0.9\"}]}]}",
		"{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.9}]}]} trailing",
		"{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.9}]}",
		"{\"images\":[{\"results\":[{\"class\":0,\"name\":\"a\",\"confidence\":0.9},[]]}]}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
		parts_like_whole(docs[i]);
	/* the parts of an entry cut at its results: the entry first, then each result */
	const char *doc = "{\"images\":[{\"results\":[{\"class\":0},{\"class\":1}],\"shape\":[1,2]},{\"results\":[]}]}";
	struct hp_json_parts p;
	CHECK(hp_json_parts(doc, strlen(doc), 10, &p, NULL, NULL, NULL) == 0);
	CHECK(p.n_images == 2 && p.n == 4 && !p.v[0].is_result && p.v[0].cut_end > p.v[0].cut_start &&
	      p.v[1].is_result && p.v[1].result == 0 && p.v[2].result == 1 && !p.v[3].is_result && p.v[3].image == 1);
	hp_json_parts_free(&p);
	/* results side by side share a part up to the size */
	CHECK(hp_json_parts(doc, strlen(doc), 30, &p, NULL, NULL, NULL) == 0);
	CHECK(p.n == 3 && p.v[1].is_result && p.v[1].result == 0 && p.v[1].n_results == 2);
	CHECK(p.v[0].n_results == 2 && doc[p.images_at - 1] == '[' && doc[p.images_end] == ']');
	hp_json_parts_free(&p);
}

/* hp_json_values: a document of many answers walked one value at a time */
static void test_values(void)
{
	struct hp_json_range *v = NULL;
	size_t n = 0, bad = 0;
	const char *arr = " [ {\"a\":1} , 2,\"x]\" ,[[]] ] ";
	CHECK(hp_json_values(arr, strlen(arr), NULL, &v, &n, &bad, NULL, NULL) == 0 && n == 4);
	CHECK(n == 4 && memcmp(arr + v[0].start, "{\"a\":1}", v[0].end - v[0].start) == 0 &&
	      v[1].end - v[1].start == 1 && arr[v[2].start] == '"' && arr[v[2].end - 1] == '"' &&
	      memcmp(arr + v[3].start, "[[]]", 4) == 0 && v[3].end - v[3].start == 4);
	free(v);
	/* the first top-level member of that name, never a nested one */
	const char *env = "{\"x\":{\"response\":0},\"response\":{\"images\":[]},\"response\":1}";
	CHECK(hp_json_values(env, strlen(env), "response", &v, &n, &bad, NULL, NULL) == 0 && n == 1);
	CHECK(n == 1 && memcmp(env + v[0].start, "{\"images\":[]}", v[0].end - v[0].start) == 0);
	free(v);
	CHECK(hp_json_values(env, strlen(env), "file", &v, &n, &bad, NULL, NULL) == 0 && n == 0 && !v);
	/* not strict JSON: -1 and where */
	CHECK(hp_json_values("[1,]", 4, NULL, &v, &n, &bad, NULL, NULL) == -1 && bad == 3 && !v);
}

int main(int argc, char **argv)
{
	fixtures_dir = argc > 1 ? argv[1] : "tests/fixtures";
	test_fixtures();
	test_shapes();
	test_older_shapes();
	test_bad_bodies();
	test_strict_json();
	test_error_messages();
	test_parts();
	test_values();
	/* tiny buffers stay NUL-terminated and in bounds */
	char tiny[4];
	for (size_t n = 1; n <= sizeof tiny; n++) {
		hp_error_message(tiny, n, "<html>oops</html>", 17);
		CHECK(strlen(tiny) < n);
	}
	return check_report("test_decode");
}
