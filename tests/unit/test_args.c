/* test_args.c - argument validation, key sources, model IDs and endpoint
 * resolution, one table row per case. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/options.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXARGS 32

/* Parse a space-separated command line (no quoting needed in these cases). */
static enum hp_parse_result parse(const char *line, struct hp_options *o, char *err, size_t errlen)
{
	static char buf[1024];
	static char *argv[MAXARGS + 1];
	int argc = 0;
	snprintf(buf, sizeof buf, "hubpredict %s", line);
	for (char *t = strtok(buf, " "); t && argc < MAXARGS; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	hp_options_free(o); /* the previous case's key */
	*o = (struct hp_options)HP_OPTIONS_INIT;
	err[0] = '\0';
	return hp_options_parse(o, argc, argv, err, errlen);
}

struct usage_case {
	const char *line;
	const char *message; /* NULL: must parse */
};

static const struct usage_case usage_cases[] = {
	{ "-m M -k K a.jpg", NULL },
	{ "-m M -k K --imgsz 32 --conf 0.01 --iou 0 a.jpg", NULL },
	{ "-m M -k K --imgsz 1280 --conf 1 --iou 0.95 a.jpg", NULL },
	{ "-m M -k K --imgsz 31 a.jpg", "--imgsz must be a whole number from 32 to 1280, not '31'" },
	{ "-m M -k K --imgsz 1281 a.jpg", "--imgsz must be a whole number from 32 to 1280" },
	{ "-m M -k K --imgsz 640px a.jpg", "not '640px'" },
	{ "-m M -k K -s 0x280 a.jpg", "--imgsz" },
	{ "-m M -k K --conf 0 a.jpg", "--conf must be a number from 0.01 to 1.0, not '0'" },
	{ "-m M -k K --conf 1.5 a.jpg", "--conf" },
	{ "-m M -k K --conf nan a.jpg", "--conf" },
	{ "-m M -k K --conf 0,5 a.jpg", "--conf" },
	{ "-m M -k K --iou 0.96 a.jpg", "--iou must be a number from 0.0 to 0.95" },
	{ "-m M -k K --iou -0.1 a.jpg", "--iou" },
	{ "-m M -k K --decimals 11 a.jpg", "--decimals must be a whole number from 0 to 10" },
	{ "-m M -k K -f yaml a.jpg", "--format must be table, json, jsonl, csv or raw, not 'yaml'" },
	{ "-m M -k K --api cloud a.jpg", "--api must be hub or platform, not 'cloud'" },
	{ "-m M -k K -j 0 a.jpg", "--jobs must be a whole number from 1 to 64" },
	{ "-m M -k K -j 65 a.jpg", "--jobs" },
	{ "-m M -k K --retries -1 a.jpg", "--retries" },
	{ "-m M -k K --retry-max-time x a.jpg", "--retry-max-time" },
	{ "-m M -k K --connect-timeout 0 a.jpg", "--connect-timeout" },
	{ "-m M -k K --timeout -3 a.jpg", "--timeout" },
	{ "-m M -k K --bogus a.jpg", "unknown option '--bogus'" },
	{ "-m M -k K -Z a.jpg", "unknown option -Z" },
	{ "-m M -k K a.jpg --imgsz", "option '--imgsz' needs a value" },
	{ "-m M -k K", "no INPUT given" },
	{ "-m M -k K - -", "standard input ('-') can be given only once" },
	{ "-m M --api-key-file - -", "standard input can feed only one of" },
	{ "-m M -k K --files-from - -", "standard input can feed only one of" },
	{ "-m M -k K --files-from list.txt", NULL },
	{ "-m M -k K -0 a.jpg", "-0 goes with --files-from" },
	{ "-m M -k K --rate 2/s a.jpg", NULL },
	{ "-m M -k K --rate 0.5/m a.jpg", NULL },
	{ "-m M -k K --rate 100/h a.jpg", NULL },
	{ "-m M -k K --rate 5 a.jpg", "--rate must be N/s, N/m or N/h" },
	{ "-m M -k K --rate 0/s a.jpg", "--rate" },
	{ "-m M -k K --rate 3/d a.jpg", "--rate" },
	{ "-m M -k K --rate x/s a.jpg", "--rate" },
};

static void test_usage(void)
{
	struct hp_options o = HP_OPTIONS_INIT;
	char err[512];
	unsetenv("ULTRALYTICS_API_KEY");
	unsetenv("HUBPREDICT_MODEL");
	unsetenv("HUBPREDICT_URL");
	for (size_t i = 0; i < sizeof usage_cases / sizeof usage_cases[0]; i++) {
		const struct usage_case *c = &usage_cases[i];
		enum hp_parse_result r = parse(c->line, &o, err, sizeof err);
		if (c->message) {
			if (r != HP_PARSE_ERROR)
				fprintf(stderr, "case '%s' parsed\n", c->line);
			CHECK(r == HP_PARSE_ERROR);
			CHECK_CONTAINS(err, c->message);
		} else {
			if (r != HP_PARSE_RUN)
				fprintf(stderr, "case '%s': %s\n", c->line, err);
			CHECK(r == HP_PARSE_RUN);
		}
		hp_options_free(&o);
	}
	/* values land in the struct */
	CHECK(parse("-m M -k K -s 320 -c 0.5 -i 0.3 -f csv -j 8 --retries 0 a.jpg b.jpg", &o, err, sizeof err) == HP_PARSE_RUN);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	CHECK(o.predict.imgsz == 320 && o.predict.conf == 0.5 && o.predict.iou == 0.3 && o.format == HP_FORMAT_CSV &&
	      o.predict.jobs == 8 && o.retries == 0 && o.n_inputs == 2);
	hp_options_free(&o);
	double iv = 0;
	CHECK(hp_parse_rate("20/m", &iv) == 0);
	CHECK_NEAR(iv, 3.0);
	CHECK(hp_parse_rate("100/h", &iv) == 0);
	CHECK_NEAR(iv, 36.0);
	CHECK(hp_parse_rate("4/s", &iv) == 0);
	CHECK_NEAR(iv, 0.25);
	CHECK(hp_parse_rate("1e308/s", &iv) == -2);
	CHECK(hp_parse_rate("1e-9/h", &iv) == -3);
	CHECK(hp_parse_rate("0/s", &iv) == -1);
	CHECK(hp_parse_rate("x/s", &iv) == -1);
	/* sizes: bytes or K/M/G (powers of 1024) */
	long long sz = -1;
	CHECK(hp_parse_size("0", &sz) == 0 && sz == 0);
	CHECK(hp_parse_size("100M", &sz) == 0 && sz == 100LL * 1024 * 1024);
	CHECK(hp_parse_size("2k", &sz) == 0 && sz == 2048);
	CHECK(hp_parse_size("1G", &sz) == 0 && sz == 1LL << 30);
	CHECK(hp_parse_size("1048576G", &sz) == 0 && sz == 1LL << 50);
	CHECK(hp_parse_size("1048577G", &sz) < 0);
	CHECK(hp_parse_size("-1", &sz) < 0);
	CHECK(hp_parse_size("1.5M", &sz) < 0);
	CHECK(hp_parse_size("M", &sz) < 0);
	CHECK(hp_parse_size("1MB", &sz) < 0);
	CHECK(hp_parse_size("", &sz) < 0);
	/* numbers: blanks around them are as harmless on either side */
	long l = 0;
	CHECK(hp_parse_long(" 4", 1, 64, &l) == 0 && l == 4);
	CHECK(hp_parse_long("4 ", 1, 64, &l) == 0 && l == 4);
	CHECK(hp_parse_long("4 x", 1, 64, &l) < 0);
}

static void test_keys(void)
{
	struct hp_options o = HP_OPTIONS_INIT;
	char err[512];
	char path[] = "/tmp/hp-test-key.XXXXXX";
	/* no key at all: parsed (main refuses it for HUB once the flavour is
	 * known; Platform's public models need none) */
	unsetenv("ULTRALYTICS_API_KEY");
	CHECK(parse("-m M a.jpg", &o, err, sizeof err) == HP_PARSE_RUN && o.api_key == NULL);
	CHECK(parse("-m M --dry-run a.jpg", &o, err, sizeof err) == HP_PARSE_RUN && o.api_key == NULL);
	/* environment */
	setenv("ULTRALYTICS_API_KEY", "envkey", 1);
	CHECK(parse("-m M a.jpg", &o, err, sizeof err) == HP_PARSE_RUN);
	CHECK_STR(o.api_key, "envkey");
	hp_options_free(&o);
	/* -k wins over the environment, and is wiped from argv */
	CHECK(parse("-m M -k argkey a.jpg", &o, err, sizeof err) == HP_PARSE_RUN);
	CHECK_STR(o.api_key, "argkey");
	hp_options_free(&o);
	/* a key file: one line, newline or CRLF stripped */
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	fchmod(fd, 0600);
	CHECK(write(fd, "filekey\r\n", 9) == 9);
	close(fd);
	char line[256];
	snprintf(line, sizeof line, "-m M --api-key-file %s a.jpg", path);
	CHECK(parse(line, &o, err, sizeof err) == HP_PARSE_RUN);
	CHECK_STR(o.api_key, "filekey");
	hp_options_free(&o);
	snprintf(line, sizeof line, "-m M -k argkey --api-key-file %s a.jpg", path);
	CHECK(parse(line, &o, err, sizeof err) == HP_PARSE_RUN);
	CHECK_STR(o.api_key, "argkey");
	hp_options_free(&o);
	/* multi-line and empty files are usage errors */
	FILE *f = fopen(path, "w");
	fputs("one\ntwo\n", f);
	fclose(f);
	snprintf(line, sizeof line, "-m M --api-key-file %s a.jpg", path);
	CHECK(parse(line, &o, err, sizeof err) == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "more than one line");
	f = fopen(path, "w");
	fputs("\n", f);
	fclose(f);
	CHECK(parse(line, &o, err, sizeof err) == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "is empty");
	f = fopen(path, "w");
	fclose(f);
	CHECK(parse(line, &o, err, sizeof err) == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "is empty");
	unlink(path);
	CHECK(parse(line, &o, err, sizeof err) == HP_PARSE_ERROR);
	CHECK_CONTAINS(err, "cannot open");
	/* a key with a space or control character would corrupt the header */
	setenv("ULTRALYTICS_API_KEY", "bad key", 1);
	CHECK(parse("-m M a.jpg", &o, err, sizeof err) == HP_PARSE_ERROR);
	CHECK(strstr(err, "bad key") == NULL); /* never echoed */
	hp_options_free(&o);
	unsetenv("ULTRALYTICS_API_KEY");
}

static void test_model_ids(void)
{
	CHECK(hp_model_id_segments("R6nMlK6kQjSsQ76MPqQM") == 1);
	CHECK(hp_model_id_segments("yolo11n.pt-v2_final") == 1);
	CHECK(hp_model_id_segments("owner/project/model") == 3);
	CHECK(hp_model_id_segments("a/b") == 0);
	CHECK(hp_model_id_segments("a/b/c/d") == 0);
	CHECK(hp_model_id_segments("..") == 0);
	CHECK(hp_model_id_segments("a/../b") == 0);
	CHECK(hp_model_id_segments(".") == 0);
	CHECK(hp_model_id_segments("") == 0);
	CHECK(hp_model_id_segments("a b") == 0);
	CHECK(hp_model_id_segments("a?x=1") == 0);
	CHECK(hp_model_id_segments("a%2Fb") == 0);
	CHECK(hp_model_id_segments("a//b") == 0);
}

struct ep_case {
	const char *model, *url, *key;
	enum hp_flavour api;
	bool normalize;
	const char *want_url;     /* NULL: must fail */
	enum hp_flavour want;
	const char *want_err;
};

static const struct ep_case ep_cases[] = {
	{ "M1", NULL, "0123abcd", HP_FLAVOUR_AUTO, false, "https://api.ultralytics.com/v1/predict/M1", HP_FLAVOUR_HUB, NULL },
	{ "M1", NULL, "ul_0123", HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/M1/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "acme/p/m", NULL, "ul_1", HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/acme/p/m/predict", HP_FLAVOUR_PLATFORM, NULL },
	/* SPEC 6: a three-part model means Platform, key or not */
	{ "acme/p/m", NULL, "abc", HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/acme/p/m/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "acme/p/m", NULL, NULL, HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/acme/p/m/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "acme/p/m", NULL, "abc", HP_FLAVOUR_HUB, false, NULL, 0, "need --api platform" },
	/* Platform's name rule for the three parts */
	{ "Acme/p/m", NULL, NULL, HP_FLAVOUR_AUTO, false, NULL, 0, "the owner 'Acme' in 'Acme/p/m' is not a Platform name" },
	{ "acm/p/m", NULL, NULL, HP_FLAVOUR_AUTO, false, NULL, 0, "4-32 characters" },
	{ "acme/p_x/m", NULL, NULL, HP_FLAVOUR_AUTO, false, NULL, 0, "the project 'p_x'" },
	{ "acme/p/-m", NULL, NULL, HP_FLAVOUR_AUTO, false, NULL, 0, "the model '-m'" },
	{ "acme/p/a--b", NULL, NULL, HP_FLAVOUR_AUTO, false, NULL, 0, "the model 'a--b'" },
	{ "abcdefghijabcdefghijabcdefghijabc/p/m", NULL, NULL, HP_FLAVOUR_AUTO, false, NULL, 0, "the owner" },
	{ "abcdefghijabcdefghijabcdefghijab/p/m-2", NULL, NULL, HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/abcdefghijabcdefghijabcdefghijab/p/m-2/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "M1", NULL, "abc", HP_FLAVOUR_AUTO, true, NULL, 0, "--normalize is Platform only" },
	{ "M1", NULL, "abc", HP_FLAVOUR_PLATFORM, true, "https://platform.ultralytics.com/api/models/M1/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "M1", NULL, "ul_1", HP_FLAVOUR_HUB, false, "https://api.ultralytics.com/v1/predict/M1", HP_FLAVOUR_HUB, NULL },
	{ "https://hub.ultralytics.com/models/AbC123", NULL, "k", HP_FLAVOUR_AUTO, false, "https://api.ultralytics.com/v1/predict/AbC123", HP_FLAVOUR_HUB, NULL },
	{ "https://hub.ultralytics.com/models/AbC123/", NULL, "k", HP_FLAVOUR_AUTO, false, "https://api.ultralytics.com/v1/predict/AbC123", HP_FLAVOUR_HUB, NULL },
	{ "https://platform.ultralytics.com/mine/proj/mod", NULL, "ul_k", HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/mine/proj/mod/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "https://platform.ultralytics.com/api/models/X9/predict", NULL, NULL, HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/X9/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "https://example.com/models/X", NULL, "k", HP_FLAVOUR_AUTO, false, NULL, 0, "is not a hub.ultralytics.com or platform.ultralytics.com model URL" },
	{ "../etc", NULL, "k", HP_FLAVOUR_AUTO, false, NULL, 0, "is not a model ID" },
	{ NULL, NULL, "k", HP_FLAVOUR_AUTO, false, NULL, 0, "no model" },
	{ NULL, "http://127.0.0.1:8080/v1/predict/X", "k", HP_FLAVOUR_AUTO, false, "http://127.0.0.1:8080/v1/predict/X", HP_FLAVOUR_HUB, NULL },
	{ NULL, "https://predict-abc123.run.app", "ul_k", HP_FLAVOUR_AUTO, false, "https://predict-abc123.run.app/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ NULL, "https://predict-abc123.run.app/", "ul_k", HP_FLAVOUR_AUTO, false, "https://predict-abc123.run.app/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ NULL, "https://predict-abc123.run.app", "hexkey", HP_FLAVOUR_AUTO, false, "https://predict-abc123.run.app", HP_FLAVOUR_HUB, NULL },
	{ NULL, "https://platform.ultralytics.com/api/models/Q/predict", "ul_k", HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/models/Q/predict", HP_FLAVOUR_PLATFORM, NULL },
	/* a pasted API URL is used as it is */
	{ "https://platform.ultralytics.com/api/deployments/acme/cam/predict", NULL, NULL, HP_FLAVOUR_AUTO, false, "https://platform.ultralytics.com/api/deployments/acme/cam/predict", HP_FLAVOUR_PLATFORM, NULL },
	/* issue 9, item 13: a key of the other flavour with a vendor URL */
	{ NULL, "https://platform.ultralytics.com/api/models/Q/predict", "k", HP_FLAVOUR_AUTO, false, NULL, 0, "a HUB key (not ul_...) does not work with the Platform URL" },
	{ "https://platform.ultralytics.com/mine/proj/mod", NULL, "k", HP_FLAVOUR_AUTO, false, NULL, 0, "a HUB key" },
	{ NULL, "https://platform.ultralytics.com/api/models/Q/predict", "k", HP_FLAVOUR_PLATFORM, false, "https://platform.ultralytics.com/api/models/Q/predict", HP_FLAVOUR_PLATFORM, NULL },
	{ "https://hub.ultralytics.com/models/AbC123", NULL, "ul_k", HP_FLAVOUR_AUTO, false, NULL, 0, "a Platform key (ul_...) does not work with the HUB URL 'https://hub.ultralytics.com/models/AbC123'" },
	{ NULL, "https://api.ultralytics.com/v1/predict/AbC", "ul_k", HP_FLAVOUR_AUTO, false, NULL, 0, "a Platform key" },
	{ NULL, "ftp://example.com/x", "k", HP_FLAVOUR_AUTO, false, NULL, 0, "is not an http:// or https:// URL" },
	{ NULL, "not a url", "k", HP_FLAVOUR_AUTO, false, NULL, 0, "--url" },
};

/* The endpoint as predict resolves it: cli's spec from the options. */
static int resolve_opts(struct hp_endpoint *ep, const struct hp_options *o, char *err, size_t errlen)
{
	struct hp_endpoint_spec spec;
	hp_options_endpoint_spec(o, &spec);
	return hp_endpoint_resolve(ep, &spec, err, errlen);
}

static void test_endpoints(void)
{
	for (size_t i = 0; i < sizeof ep_cases / sizeof ep_cases[0]; i++) {
		const struct ep_case *c = &ep_cases[i];
		struct hp_options o = HP_OPTIONS_INIT;
		struct hp_endpoint ep;
		char err[512] = "";
		o.model = c->model;
		o.url = c->url;
		o.api_key = (char *)c->key;
		o.api = c->api;
		o.predict.normalize = c->normalize;
		int rc = resolve_opts(&ep, &o, err, sizeof err);
		if (c->want_url) {
			if (rc != 0)
				fprintf(stderr, "endpoint case %zu: %s\n", i, err);
			CHECK(rc == 0);
			if (rc == 0) {
				CHECK_STR(ep.url, c->want_url);
				CHECK(ep.flavour == c->want);
				CHECK_NEAR(ep.iou, c->want == HP_FLAVOUR_HUB ? 0.45 : 0.7);
			}
		} else {
			CHECK(rc != 0);
			CHECK_CONTAINS(err, c->want_err);
		}
		hp_endpoint_clear(&ep);
	}
	/* ULTRALYTICS_PLATFORM_URL: the origin of built Platform URLs, and its host means Platform */
	setenv("ULTRALYTICS_PLATFORM_URL", "http://127.0.0.1:9/", 1);
	struct hp_options o = HP_OPTIONS_INIT;
	struct hp_endpoint ep;
	char err[512] = "";
	o.model = "acme/p/m";
	CHECK(resolve_opts(&ep, &o, err, sizeof err) == 0);
	CHECK_STR(ep.url, "http://127.0.0.1:9/api/models/acme/p/m/predict");
	hp_endpoint_clear(&ep);
	o.model = NULL;
	o.url = "http://127.0.0.1:7/predict";
	CHECK(resolve_opts(&ep, &o, err, sizeof err) == 0 && ep.flavour == HP_FLAVOUR_PLATFORM);
	hp_endpoint_clear(&ep);
	o.url = NULL;
	o.model = "http://127.0.0.1:9/api/deployments/acme/cam/predict";
	CHECK(resolve_opts(&ep, &o, err, sizeof err) == 0);
	CHECK_STR(ep.url, "http://127.0.0.1:9/api/deployments/acme/cam/predict");
	hp_endpoint_clear(&ep);
	setenv("ULTRALYTICS_PLATFORM_URL", "ftp://x", 1);
	o.model = "acme/p/m";
	CHECK(resolve_opts(&ep, &o, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "ULTRALYTICS_PLATFORM_URL: 'ftp://x' is not an http:// or https:// URL");
	unsetenv("ULTRALYTICS_PLATFORM_URL");
}

/* Each command's own options are stored in its block of struct hp_options,
 * and a block holds only options of its command; val and bench, built on
 * predict's engine, also take rows of the predict block, and their own
 * blocks hold their own only. */
static void test_option_blocks(void)
{
	const ptrdiff_t p0 = offsetof(struct hp_options, predict), p1 = p0 + (ptrdiff_t)sizeof(struct hp_predict_options);
	const ptrdiff_t d0 = offsetof(struct hp_options, deploy), d1 = d0 + (ptrdiff_t)sizeof(struct hp_deploy_options);
	const ptrdiff_t v0 = offsetof(struct hp_options, val), v1 = v0 + (ptrdiff_t)sizeof(struct hp_val_options);
	const ptrdiff_t b0 = offsetof(struct hp_options, bench), b1 = b0 + (ptrdiff_t)sizeof(struct hp_bench_options);
	size_t n = hp_options_count(), in_predict = 0, in_deploy = 0, in_val = 0, in_bench = 0;
	for (size_t i = 0; i < n; i++) {
		struct hp_opt_info info;
		hp_options_info(i, &info);
		if (info.off < 0)
			continue;
		bool predict = info.off >= p0 && info.off < p1, deploy = info.off >= d0 && info.off < d1;
		bool val = info.off >= v0 && info.off < v1, bench = info.off >= b0 && info.off < b1;
		bool predict_only = (info.commands & ~(unsigned)(HP_CMD_VAL | HP_CMD_BENCH)) == HP_CMD_PREDICT;
		in_predict += predict;
		in_deploy += deploy;
		in_val += val;
		in_bench += bench;
		if (predict != predict_only)
			fprintf(stderr, "--%s: %s the predict block\n", info.name, predict ? "in" : "not in");
		CHECK(predict == predict_only);
		CHECK(val == (info.commands == HP_CMD_VAL));
		CHECK(bench == (info.commands == HP_CMD_BENCH));
		if (deploy ? !(info.commands & HP_CMD_DEPLOY) : info.commands == HP_CMD_DEPLOY)
			fprintf(stderr, "--%s: %s the deploy block\n", info.name, deploy ? "in" : "not in");
		CHECK(deploy ? (info.commands & HP_CMD_DEPLOY) != 0 : info.commands != HP_CMD_DEPLOY);
	}
	CHECK(in_predict >= 25 && in_deploy >= 10 && in_val == 4 && in_bench == 6); /* the rows were seen: 28, 12, 4, 6 today */
}

int main(void)
{
	test_option_blocks();
	test_usage();
	test_keys();
	test_model_ids();
	test_endpoints();
	return check_report("test_args");
}
