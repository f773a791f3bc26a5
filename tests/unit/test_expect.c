/* test_expect.c - --expect parsing and evaluation, --classes lists, and the
 * filters, on the fixtures and on literal responses (video frames too). */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/expect.h"
#include "hubpredict/options.h"
#include "hubpredict/response.h"

#include <stdlib.h>

/* Parse expr and give its canonical text ("" when it does not parse). */
static const char *canon(const char *expr)
{
	static char buf[256];
	struct hp_expect e;
	if (hp_expect_parse(&e, expr) < 0) {
		hp_expect_clear(&e);
		return "";
	}
	hp_expect_format(buf, sizeof buf, &e);
	hp_expect_clear(&e);
	return buf;
}

static void test_parse_expr(void)
{
	CHECK_STR(canon("person"), "person>=1");
	CHECK_STR(canon("person>=2"), "person>=2");
	CHECK_STR(canon("person>2"), "person>2");
	CHECK_STR(canon("person==0"), "person==0");
	CHECK_STR(canon("person<=3"), "person<=3");
	CHECK_STR(canon("person<3"), "person<3");
	CHECK_STR(canon("traffic light>=1"), "traffic light>=1");
	CHECK_STR(canon("caf\xc3\xa9<1"), "caf\xc3\xa9<1");
	CHECK_STR(canon("0>=007"), "0>=7");

	struct hp_expect e;
	CHECK(hp_expect_parse(&e, "2==1") == 0);
	CHECK(e.cls.is_number && e.cls.number == 2 && e.op == HP_EXPECT_EQ && e.n == 1);
	hp_expect_clear(&e);
	CHECK(hp_expect_parse(&e, "2a<=4") == 0);
	CHECK(!e.cls.is_number && e.op == HP_EXPECT_LE && e.n == 4);
	CHECK_STR(e.cls.name, "2a");
	hp_expect_clear(&e);
	CHECK(hp_expect_parse(&e, "Person") == 0);
	CHECK(!e.cls.is_number && e.op == HP_EXPECT_GE && e.n == 1);
	hp_expect_clear(&e);
	hp_expect_clear(NULL);

	static const char *const bad[] = {
		"", ">=2", "==1", "<1", "person>=", "person>=x", "person=>2", "person>=-1", "person=2",
		"person>= 2", "person>=2 ", "person>=+2", "person>=2.0", "person<>2", "person>=2>=3",
		"person=<2", "person==", "person>=1e3", "person>=99999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (hp_expect_parse(&e, bad[i]) == 0) {
			fprintf(stderr, "parsed but should not: '%s'\n", bad[i]);
			CHECK(0);
		}
		hp_expect_clear(&e);
	}
}

static void test_parse_list(void)
{
	struct hp_class_list l;
	CHECK(hp_class_list_parse(&l, "person,2,traffic light") == 0);
	CHECK(l.n == 3);
	if (l.n == 3) {
		CHECK(!l.items[0].is_number);
		CHECK_STR(l.items[0].name, "person");
		CHECK(l.items[1].is_number && l.items[1].number == 2);
		CHECK_STR(l.items[2].name, "traffic light");
	}
	hp_class_list_clear(&l);
	CHECK(hp_class_list_parse(&l, "cat") == 0 && l.n == 1);
	hp_class_list_clear(&l);
	static const char *const bad[] = { "", ",", "a,", ",a", "a,,b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (hp_class_list_parse(&l, bad[i]) == 0) {
			fprintf(stderr, "parsed but should not: '%s'\n", bad[i]);
			CHECK(0);
		}
		CHECK(l.n == 0 && l.items == NULL);
		hp_class_list_clear(&l);
	}
	hp_class_list_clear(NULL);
}

/* Evaluate exprs (NULL-terminated) on r; the messages joined with '|'. */
static const char *evaluate(const struct hp_response *r, const char *const *exprs)
{
	static char out[1024];
	struct hp_expect e[8];
	size_t n = 0;
	for (; exprs[n]; n++)
		CHECK(hp_expect_parse(&e[n], exprs[n]) == 0);
	char **msgs;
	size_t nm;
	int rc = hp_expect_evaluate(e, n, r, &msgs, &nm);
	CHECK(rc >= 0 && (size_t)rc == nm);
	CHECK((nm == 0) == (msgs == NULL));
	out[0] = '\0';
	for (size_t i = 0; i < nm; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, msgs[i]);
	}
	hp_expect_messages_free(msgs, nm);
	for (size_t i = 0; i < n; i++)
		hp_expect_clear(&e[i]);
	return out;
}

#define EVAL(r, ...) evaluate(r, (const char *const[]){ __VA_ARGS__, NULL })

static void test_evaluate_detect(void)
{
	/* person (0, 0.92) and car (2, 0.87) */
	struct hp_response *r = decode_fixture("detect.json");
	if (!r)
		return;
	CHECK_STR(EVAL(r, "person", "car>=1", "person==1", "person<=1", "person<2", "person>0"), "");
	CHECK_STR(EVAL(r, "0", "2==1", "1==0", "1<1", "truck<=0"), "");
	CHECK_STR(EVAL(r, "person>=2"), "expected person>=2, found 1");
	CHECK_STR(EVAL(r, "person>1"), "expected person>1, found 1");
	CHECK_STR(EVAL(r, "person==2"), "expected person==2, found 1");
	CHECK_STR(EVAL(r, "person<=0"), "expected person<=0, found 1");
	CHECK_STR(EVAL(r, "person<1"), "expected person<1, found 1");
	CHECK_STR(EVAL(r, "truck"), "expected truck>=1, found 0");
	CHECK_STR(EVAL(r, "Person"), "expected Person>=1, found 0"); /* case-sensitive */
	CHECK_STR(EVAL(r, "2>=2", "car", "0==0"), "expected 2>=2, found 1|expected 0==0, found 1");
	hp_response_free(r);
}

static void test_filters(void)
{
	struct hp_filter f = { .min_conf = -1.0 };
	CHECK(!hp_filter_active(&f));
	CHECK(!hp_filter_active(NULL));

	/* --min-conf 0.9 drops the car (0.87) */
	struct hp_response *r = decode_fixture("detect.json");
	f.min_conf = 0.9;
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 1);
	if (r && r->images[0].n_results == 1)
		CHECK_STR(r->images[0].results[0].name, "person");
	CHECK_STR(EVAL(r, "car<1", "person"), "");
	CHECK_STR(EVAL(r, "car"), "expected car>=1, found 0");
	hp_response_free(r);

	/* exactly at the threshold is kept */
	r = decode_fixture("detect.json");
	f.min_conf = 0.87;
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 2);
	hp_response_free(r);

	/* --classes by number and by name */
	f.min_conf = -1.0;
	CHECK(hp_class_list_parse(&f.classes, "2") == 0);
	r = decode_fixture("detect.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 1);
	if (r && r->images[0].n_results == 1)
		CHECK_STR(r->images[0].results[0].name, "car");
	hp_response_free(r);
	hp_class_list_clear(&f.classes);

	CHECK(hp_class_list_parse(&f.classes, "person,car,cat") == 0);
	r = decode_fixture("detect.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 2);
	hp_response_free(r);
	hp_class_list_clear(&f.classes);

	CHECK(hp_class_list_parse(&f.classes, "truck") == 0);
	r = decode_fixture("detect.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 0);
	CHECK_STR(EVAL(r, "person==0"), "");
	hp_response_free(r);

	/* both filters: class kept, confidence too low */
	hp_class_list_clear(&f.classes);
	CHECK(hp_class_list_parse(&f.classes, "car") == 0);
	f.min_conf = 0.9;
	r = decode_fixture("detect.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 0);
	hp_response_free(r);
	hp_class_list_clear(&f.classes);

	/* semantic results have no confidence: --min-conf keeps them */
	f.min_conf = 0.99;
	r = decode_fixture("semantic.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 2);
	hp_response_free(r);

	/* classify: cat 0.95, dog 0.03 */
	f.min_conf = 0.5;
	r = decode_fixture("classify.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 1);
	CHECK_STR(EVAL(r, "cat", "dog==0"), "");
	hp_response_free(r);

	/* segment and pose results own points: dropping them frees them (ASan) */
	f.min_conf = 0.95;
	r = decode_fixture("segment.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 0);
	hp_response_free(r);
	r = decode_fixture("pose.json");
	hp_filter_apply(&f, r);
	CHECK(hp_response_count(r) == 0);
	hp_response_free(r);

	hp_filter_apply(&f, NULL);
}

/* A video of three frames: only frame 1 has two persons. */
static const char video[] =
	"{\"images\":["
	"{\"results\":[{\"class\":0,\"name\":\"person\",\"confidence\":0.9,\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2}}]},"
	"{\"results\":[{\"class\":0,\"name\":\"person\",\"confidence\":0.9,\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2}},"
	"{\"class\":0,\"name\":\"person\",\"confidence\":0.4,\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2}},"
	"{\"class\":2,\"name\":\"car\",\"confidence\":0.8,\"box\":{\"x1\":1,\"y1\":1,\"x2\":2,\"y2\":2}}]},"
	"{\"results\":[]}]}";

static void test_video(void)
{
	struct hp_response *r = decode_text(video);
	if (!r)
		return;
	CHECK(r->n_images == 3);
	/* holds when it holds in at least one frame */
	CHECK_STR(EVAL(r, "person>=2", "person==1", "person==0", "person<1", "car", "car==0"), "");
	/* found: the largest count for >= and >, the smallest for <= and <,
	 * the nearest to N for == */
	CHECK_STR(EVAL(r, "person>=3"), "expected person>=3, found 2");
	CHECK_STR(EVAL(r, "person>2"), "expected person>2, found 2");
	CHECK_STR(EVAL(r, "car>=2"), "expected car>=2, found 1");
	CHECK_STR(EVAL(r, "person==5"), "expected person==5, found 2");
	CHECK_STR(EVAL(r, "car==3"), "expected car==3, found 1");
	CHECK_STR(EVAL(r, "truck"), "expected truck>=1, found 0");
	hp_response_free(r);

	/* no frame without a person: < and <= report the smallest count */
	static const char busy[] =
		"{\"images\":["
		"{\"results\":[{\"class\":0,\"name\":\"person\",\"confidence\":0.9},{\"class\":0,\"name\":\"person\",\"confidence\":0.9}]},"
		"{\"results\":[{\"class\":0,\"name\":\"person\",\"confidence\":0.9}]},"
		"{\"results\":[{\"class\":0,\"name\":\"person\",\"confidence\":0.9},{\"class\":0,\"name\":\"person\",\"confidence\":0.9},"
		"{\"class\":0,\"name\":\"person\",\"confidence\":0.9}]}]}";
	r = decode_text(busy);
	if (!r)
		return;
	CHECK_STR(EVAL(r, "person<1"), "expected person<1, found 1");
	CHECK_STR(EVAL(r, "person<=0"), "expected person<=0, found 1");
	CHECK_STR(EVAL(r, "person==0"), "expected person==0, found 1");
	CHECK_STR(EVAL(r, "person==4"), "expected person==4, found 3");
	hp_response_free(r);

	/* the filter applies per frame, before the checks */
	r = decode_text(video);
	struct hp_filter f = { .min_conf = 0.5 };
	hp_filter_apply(&f, r);
	CHECK(r->images[0].n_results == 1 && r->images[1].n_results == 2 && r->images[2].n_results == 0);
	CHECK_STR(EVAL(r, "person>=2"), "expected person>=2, found 1");
	hp_response_free(r);
}

static void test_no_images(void)
{
	struct hp_response *r = decode_text("{\"images\":[]}");
	if (!r)
		return;
	CHECK_STR(EVAL(r, "person==0", "person<1"), "");
	CHECK_STR(EVAL(r, "person"), "expected person>=1, found 0");
	hp_response_free(r);
}

/* The options: repeatable --expect, --min-conf and --classes ranges, raw refused. */
#define parse(o, err, errlen, ...) parse_argv(o, err, errlen, (const char *const[]){ __VA_ARGS__, NULL })

static void test_options(void)
{
	struct hp_options o;
	char err[640];
	CHECK(parse(&o, err, sizeof err, "-k", "abc", "--expect", "person>=2", "--expect", "car",
	            "--min-conf", "0.5", "--classes", "person,2") == HP_PARSE_ERROR); /* no input */
	hp_options_free(&o);
	CHECK(parse(&o, err, sizeof err, "-k", "abc", "--expect", "person>=2", "--expect", "car",
	            "--min-conf", "0.5", "--classes", "person,2", "x.jpg") == HP_PARSE_RUN);
	CHECK(o.predict.n_expects == 2);
	if (o.predict.n_expects == 2) {
		CHECK_STR(o.predict.expects[0].cls.name, "person");
		CHECK(o.predict.expects[0].n == 2 && o.predict.expects[1].n == 1);
	}
	CHECK_NEAR(o.predict.filter.min_conf, 0.5);
	CHECK(o.predict.filter.classes.n == 2);
	hp_options_free(&o);

	CHECK(parse(&o, err, sizeof err, "-k", "abc", "x.jpg", "--expect") == HP_PARSE_ERROR);
	hp_options_free(&o);
	CHECK(parse(&o, err, sizeof err, "-k", "abc", "--expect", "person=>2", "x.jpg") == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "--expect");
	CHECK_CONTAINS(err, "NAME>=N");
	CHECK_CONTAINS(err, "'person=>2'");
	hp_options_free(&o);
	CHECK(parse(&o, err, sizeof err, "-k", "abc", "--min-conf", "1.5", "x.jpg") == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "--min-conf must be a number from 0 to 1");
	hp_options_free(&o);
	CHECK(parse(&o, err, sizeof err, "-k", "abc", "--classes", "a,", "x.jpg") == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "--classes");
	hp_options_free(&o);
	CHECK(parse(&o, err, sizeof err, "-k", "abc", "-f", "raw", "--classes", "a", "x.jpg") == HP_PARSE_ERROR);
	CHECK_STR(err, "--classes needs a parsed format, not -f raw (use -f json to keep the server's document)");
	hp_options_free(&o);
	/* a second -k keeps the expectations (and frees the first key) */
	CHECK(parse(&o, err, sizeof err, "--expect", "a", "-k", "abc", "-k", "def", "x.jpg") == HP_PARSE_RUN);
	CHECK(o.predict.n_expects == 1);
	CHECK_STR(o.api_key, "def");
	hp_options_free(&o);
	hp_options_free(&o); /* twice is fine */
}

int main(int argc, char **argv)
{
	fixtures_dir = argc > 1 ? argv[1] : "tests/fixtures";
	test_parse_expr();
	test_parse_list();
	test_evaluate_detect();
	test_filters();
	test_video();
	test_no_images();
	test_options();
	return check_report("test_expect");
}
