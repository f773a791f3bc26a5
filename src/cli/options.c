/* options.c - argv into struct hp_options. One table drives getopt_long,
 * --help and the list of long options the docs test checks. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/options.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	OPT_API_KEY_FILE = 256, OPT_API, OPT_NORMALIZE, OPT_DECIMALS, OPT_RETRIES,
	OPT_RETRY_MAX_TIME, OPT_CONNECT_TIMEOUT, OPT_TIMEOUT, OPT_CACERT, OPT_INSECURE,
	OPT_FAIL_FAST, OPT_DRY_RUN, OPT_RATE, OPT_FILES_FROM, OPT_PROGRESS, OPT_NO_PROGRESS,
	OPT_EXPECT, OPT_MIN_CONF, OPT_CLASSES, OPT_SAVE_TXT, OPT_SAVE_CONF, OPT_JUNIT,
	OPT_BASELINE, OPT_BASELINE_IOU, OPT_BASELINE_CONF, OPT_COLD_START_WAIT, OPT_ANNOTATE,
	OPT_RESIZE, OPT_MAX_UPLOAD, OPT_FIELD
};

struct opt_def {
	const char *name;   /* long name */
	int id;             /* short option character, or OPT_* */
	int has_arg;
	const char *arg;    /* argument name in --help */
	const char *help;
};

/* The single source of truth for the command line. Keep in the order of
 * --help (and of the man page's OPTIONS section). */
static const struct opt_def opt_table[] = {
	{ "model", 'm', required_argument, "ID", "model ID, pasted model URL, or owner/project/model (env HUBPREDICT_MODEL)" },
	{ "api-key", 'k', required_argument, "KEY", "API key (safer: --api-key-file or env ULTRALYTICS_API_KEY)" },
	{ "api-key-file", OPT_API_KEY_FILE, required_argument, "FILE", "read the key from the first line of FILE ('-' = stdin)" },
	{ "url", 'u', required_argument, "URL", "full endpoint URL, e.g. a dedicated endpoint (env HUBPREDICT_URL)" },
	{ "api", OPT_API, required_argument, "hub|platform", "protocol flavour (default: from the key prefix, the URL host, or owner/project/model)" },
	{ "imgsz", 's', required_argument, "N", "inference image size, 32-1280 (default 640)" },
	{ "conf", 'c', required_argument, "X", "confidence threshold, 0.01-1.0 (default 0.25)" },
	{ "iou", 'i', required_argument, "X", "NMS IoU threshold, 0.0-0.95 (default 0.45 hub, 0.7 platform)" },
	{ "normalize", OPT_NORMALIZE, no_argument, NULL, "Platform: coordinates as 0-1" },
	{ "decimals", OPT_DECIMALS, required_argument, "N", "Platform: decimals in coordinates, 0-10" },
	{ "field", OPT_FIELD, required_argument, "NAME=VALUE", "send an extra form field as it is, repeatable (not one hubpredict sets)" },
	{ "format", 'f', required_argument, "F", "table (default), json, jsonl, csv or raw" },
	{ "output", 'o', required_argument, "FILE", "write results to FILE atomically instead of stdout" },
	{ "expect", OPT_EXPECT, required_argument, "EXPR", "check each input, repeatable: NAME (>=1), NAME>=N, >N, ==N, <=N, <N; unmet: exit 1" },
	{ "min-conf", OPT_MIN_CONF, required_argument, "X", "show and check only results with confidence >= X, 0-1" },
	{ "classes", OPT_CLASSES, required_argument, "LIST", "show and check only these classes (names or numbers, comma separated)" },
	{ "save-txt", OPT_SAVE_TXT, required_argument, "DIR", "also write YOLO label files into DIR, one per image or video frame" },
	{ "save-conf", OPT_SAVE_CONF, no_argument, NULL, "--save-txt: end each detection line with its confidence" },
	{ "annotate", OPT_ANNOTATE, required_argument, "DIR", "also write each image with its answer drawn on it into DIR (JPEG in: JPEG, else PNG)" },
	{ "resize", OPT_RESIZE, no_argument, NULL, "downsize images whose long side exceeds --imgsz before upload; coordinates mapped back" },
	{ "junit", OPT_JUNIT, required_argument, "FILE", "also write a JUnit XML report to FILE, one testcase per input (for CI)" },
	{ "baseline", OPT_BASELINE, required_argument, "FILE", "compare with an earlier -f json (or jsonl) output of the same inputs; differences: exit 1" },
	{ "baseline-iou", OPT_BASELINE_IOU, required_argument, "X", "--baseline: a box's partner needs IoU >= X, 0-1 (default 0.5)" },
	{ "baseline-conf", OPT_BASELINE_CONF, required_argument, "X", "--baseline: confidences may differ by at most X, 0-1 (default 0.10)" },
	{ "max-upload", OPT_MAX_UPLOAD, required_argument, "SIZE", "largest stdin upload: bytes, K, M or G (default 100M, 0 = none); given, files too" },
	{ "jobs", 'j', required_argument, "N", "requests in flight at once, 1-64 (default 4)" },
	{ "rate", OPT_RATE, required_argument, "N/s|N/m|N/h", "start requests at least 1/N of the period apart (all jobs, retries too)" },
	{ "retries", OPT_RETRIES, required_argument, "N", "retries of a failed attempt, 0-100 (default 3)" },
	{ "retry-max-time", OPT_RETRY_MAX_TIME, required_argument, "SEC", "give up retrying an input after SEC seconds (default 600)" },
	{ "cold-start-wait", OPT_COLD_START_WAIT, required_argument, "SEC", "wait up to SEC for an endpoint that answers 503 while it starts, without using up --retries (default 90; 0 off)" },
	{ "connect-timeout", OPT_CONNECT_TIMEOUT, required_argument, "SEC", "connection timeout (default 10)" },
	{ "timeout", OPT_TIMEOUT, required_argument, "SEC", "limit for a whole attempt (default none; 60 s without progress fails)" },
	{ "cacert", OPT_CACERT, required_argument, "FILE", "CA bundle to verify the server with" },
	{ "insecure", OPT_INSECURE, no_argument, NULL, "do not verify TLS certificates (warns on every run)" },
	{ "recursive", 'r', no_argument, NULL, "descend into subdirectories of directory INPUTs" },
	{ "files-from", OPT_FILES_FROM, required_argument, "FILE", "read more INPUT paths from FILE, one per line ('-' = stdin)" },
	{ "null", '0', no_argument, NULL, "--files-from entries are NUL-separated (find -print0)" },
	{ "fail-fast", OPT_FAIL_FAST, no_argument, NULL, "start no new input after the first failure" },
	{ "verbose", 'v', no_argument, NULL, "request and response details on stderr (key redacted)" },
	{ "quiet", 'q', no_argument, NULL, "no progress, summary or warnings; errors still go to stderr" },
	{ "progress", OPT_PROGRESS, no_argument, NULL, "show progress on stderr even when it is not a terminal" },
	{ "no-progress", OPT_NO_PROGRESS, no_argument, NULL, "never show progress" },
	{ "dry-run", OPT_DRY_RUN, no_argument, NULL, "check everything, print the equivalent curl command, send nothing" },
	{ "help", 'h', no_argument, NULL, "show this help and exit" },
	{ "version", 'V', no_argument, NULL, "show versions of hubpredict, libcurl and cJSON" },
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

const char *const *hp_options_long_names(void)
{
	static const char *names[N_OPTS + 1];
	for (size_t i = 0; i < N_OPTS; i++)
		names[i] = opt_table[i].name;
	names[N_OPTS] = NULL;
	return names;
}

void hp_options_usage(void)
{
	printf("Usage: hubpredict [predict] [OPTIONS] INPUT...\n"
	       "Send images or videos to a hosted YOLO model (Ultralytics HUB or Platform)\n"
	       "and print what it found. INPUT is a file, '-' for stdin, or a directory.\n\n"
	       "Options:\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		char left[64];
		if (d->id < 256)
			snprintf(left, sizeof left, "-%c, --%s%s%s", d->id, d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		if (strlen(left) > 26)
			printf("  %s\n  %-26s  %s\n", left, "", d->help);
		else
			printf("  %-26s  %s\n", left, d->help);
	}
	printf("\nExamples:\n"
	       "  hubpredict -m MODEL_ID bus.jpg            (key from ULTRALYTICS_API_KEY)\n"
	       "  hubpredict -m MODEL_ID -f csv -o out.csv images/\n"
	       "  hubpredict -u https://predict-abc123.run.app -f json photo.png\n"
	       "  hubpredict -m MODEL_ID --expect 'person>=2' bus.jpg   (CI smoke test)\n"
	       "  hubpredict -m MODEL_ID --baseline golden.json images/  (CI regression)\n\n"
	       "Exit status: 0 ok, 1 a check failed (--expect, --baseline), 2 usage, 3 input,\n"
	       "4 auth (401/403), 5 not found, 6 rate limited, 7 rejected (other 4xx),\n"
	       "8 server error (5xx), 9 network, 10 bad response, 11 output,\n"
	       "129/130/143 hung up/interrupted/terminated, 141 stdout closed by its reader.\n"
	       "See hubpredict(1) for more.\n");
}

int hp_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	while (end != s && (*end == ' ' || *end == '\t'))
		end++; /* strtol skips leading blanks: trailing ones are as harmless */
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int hp_parse_size(const char *s, long long *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	long long v = strtoll(s, &end, 10);
	long long unit = 1;
	if (*end == 'K' || *end == 'k')
		unit = 1024;
	else if (*end == 'M' || *end == 'm')
		unit = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		unit = 1024 * 1024 * 1024;
	if (unit > 1)
		end++;
	if (errno || end == s || *end != '\0' || v < 0 || v > (1LL << 50) / unit)
		return -1;
	*out = v * unit;
	return 0;
}

/* Form fields hubpredict sets itself: --field may not replace them. */
static const char *const own_fields[] = { "file", "imgsz", "conf", "iou", "normalize", "decimals", "source", NULL };

/* Add one --field NAME=VALUE. 0, or -1 with err set. */
static int add_field(struct hp_options *o, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t nl = eq ? (size_t)(eq - arg) : 0;
	bool name_ok = nl > 0;
	for (size_t i = 0; i < nl && name_ok; i++) {
		char c = arg[i];
		name_ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		          c == '-' || c == '.';
	}
	if (!name_ok) {
		snprintf(err, errlen, "--field must be NAME=VALUE with NAME made of letters, digits, '_', '-' or '.', not '%s'",
		         arg);
		return -1;
	}
	for (size_t i = 0; own_fields[i]; i++) {
		if (strlen(own_fields[i]) == nl && strncmp(arg, own_fields[i], nl) == 0) {
			snprintf(err, errlen, "--field cannot set '%s': hubpredict sets it (use its own option)", own_fields[i]);
			return -1;
		}
	}
	const char **grown = realloc(o->fields, (o->n_fields + 1) * sizeof *grown);
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->fields = grown;
	o->fields[o->n_fields++] = arg;
	return 0;
}

int hp_parse_rate(const char *s, double *interval)
{
	const char *slash = strchr(s, '/');
	char num[64];
	double n, period;
	if (!slash || (size_t)(slash - s) >= sizeof num)
		return -1;
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	if (strcmp(slash + 1, "s") == 0)
		period = 1;
	else if (strcmp(slash + 1, "m") == 0)
		period = 60;
	else if (strcmp(slash + 1, "h") == 0)
		period = 3600;
	else
		return -1;
	if (hp_parse_double(num, 0, HUGE_VAL, &n) < 0 || n <= 0)
		return -1;
	*interval = period / n;
	if (n / period > 1e9)
		return -2; /* faster than a billion a second */
	if (*interval > 86400)
		return -3; /* more than a day between two starts */
	return 0;
}

int hp_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	while (end != s && (*end == ' ' || *end == '\t'))
		end++;
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A key travels in an HTTP header: printable ASCII without spaces only. */
static int key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 512)
		return 0;
	for (const char *p = k; *p; p++)
		if (*p <= 0x20 || *p >= 0x7F)
			return 0;
	return 1;
}

/* Read the key from FILE ("-" = stdin): exactly one non-empty line. */
static char *read_key_file(const char *path, char *err, size_t errlen)
{
	char buf[1024];
	size_t len = 0;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "--api-key-file: cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fd != STDIN_FILENO && fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--api-key-file: '%s' is a directory", path);
			close(fd);
			return NULL;
		}
		/* as ssh does for its keys; pipes such as <(pass show ...) are fine */
		if (S_ISREG(st.st_mode) && (st.st_mode & 077))
			hp_msg_warn("key file '%s' is accessible by group or others (mode %03o); run chmod 600 on it",
			            path, (unsigned)(st.st_mode & 0777));
	}
	for (;;) {
		ssize_t got = read(fd, buf + len, sizeof buf - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "--api-key-file: cannot read '%s': %s", path, strerror(errno));
			if (fd != STDIN_FILENO)
				close(fd);
			return NULL;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len >= sizeof buf - 1) {
			snprintf(err, errlen, "--api-key-file: '%s' is too large for a key", path);
			if (fd != STDIN_FILENO)
				close(fd);
			return NULL;
		}
		if (fd == STDIN_FILENO && memchr(buf, '\n', len))
			break; /* "-" reads one line */
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[len] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl) {
		bool more = fd != STDIN_FILENO && nl[1] != '\0' && !(nl[1] == '\n' && nl[2] == '\0');
		*nl = '\0';
		if (more) {
			snprintf(err, errlen, "--api-key-file: '%s' has more than one line", path);
			memset(buf, 0, sizeof buf);
			return NULL;
		}
	}
	size_t kl = strlen(buf);
	if (kl > 0 && buf[kl - 1] == '\r')
		buf[--kl] = '\0';
	if (kl == 0) {
		snprintf(err, errlen, "--api-key-file: '%s' is empty", path);
		return NULL;
	}
	char *key = strdup(buf);
	memset(buf, 0, sizeof buf);
	if (!key)
		snprintf(err, errlen, "out of memory");
	return key;
}

static void key_free(struct hp_options *o)
{
	if (!o->api_key)
		return;
	memset(o->api_key, 0, strlen(o->api_key));
	free(o->api_key);
	o->api_key = NULL;
}

/* Add one --expect. 0, or -1 with err set. */
static int add_expect(struct hp_options *o, const char *expr, char *err, size_t errlen)
{
	struct hp_expect e;
	if (hp_expect_parse(&e, expr) < 0) {
		snprintf(err, errlen, "--expect must be %s (N a whole number >= 0), not '%s'", HP_EXPECT_FORMS, expr);
		return -1;
	}
	struct hp_expect *grown = realloc(o->expects, (o->n_expects + 1) * sizeof *grown);
	if (!grown) {
		hp_expect_clear(&e);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->expects = grown;
	o->expects[o->n_expects++] = e;
	return 0;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return HP_PARSE_ERROR; } while (0)

enum hp_parse_result hp_options_parse(struct hp_options *o, int argc, char **argv, char *err, size_t errlen)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[3 * N_OPTS + 2];
	size_t sp = 0;
	shortopts[sp++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < N_OPTS; i++) {
		longopts[i] = (struct option){ opt_table[i].name, opt_table[i].has_arg, NULL, opt_table[i].id };
		if (opt_table[i].id < 256) {
			shortopts[sp++] = (char)opt_table[i].id;
			if (opt_table[i].has_arg == required_argument)
				shortopts[sp++] = ':';
		}
	}
	shortopts[sp] = '\0';
	longopts[N_OPTS] = (struct option){ 0, 0, 0, 0 };

	bool key_from_arg = false;
	bool want_help = false, want_version = false;
	long l;
	int c;
	opterr = 0;
	optind = 0; /* glibc: 0 also resets its internal state */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->model = optarg; break;
		case 'k':
			key_free(o); /* a second -k replaces the first */
			o->api_key = strdup(optarg);
			memset(optarg, 'x', strlen(optarg)); /* keep it out of `ps` */
			if (!o->api_key)
				BAD("out of memory");
			key_from_arg = true;
			break;
		case OPT_API_KEY_FILE: o->api_key_file = optarg; break;
		case 'u': o->url = optarg; break;
		case OPT_API:
			if (strcmp(optarg, "hub") == 0)
				o->api = HP_FLAVOUR_HUB;
			else if (strcmp(optarg, "platform") == 0)
				o->api = HP_FLAVOUR_PLATFORM;
			else
				BAD("--api must be 'hub' or 'platform', not '%s'", optarg);
			break;
		case 's':
			if (hp_parse_long(optarg, 32, 1280, &l) < 0)
				BAD("--imgsz must be a whole number from 32 to 1280, not '%s'", optarg);
			o->imgsz = (int)l;
			break;
		case 'c':
			if (hp_parse_double(optarg, 0.01, 1.0, &o->conf) < 0)
				BAD("--conf must be a number from 0.01 to 1.0, not '%s'", optarg);
			break;
		case 'i':
			if (hp_parse_double(optarg, 0.0, 0.95, &o->iou) < 0)
				BAD("--iou must be a number from 0.0 to 0.95, not '%s'", optarg);
			break;
		case OPT_NORMALIZE: o->normalize = true; break;
		case OPT_DECIMALS:
			if (hp_parse_long(optarg, 0, 10, &l) < 0)
				BAD("--decimals must be a whole number from 0 to 10, not '%s'", optarg);
			o->decimals = (int)l;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0) o->format = HP_FORMAT_TABLE;
			else if (strcmp(optarg, "json") == 0) o->format = HP_FORMAT_JSON;
			else if (strcmp(optarg, "jsonl") == 0) o->format = HP_FORMAT_JSONL;
			else if (strcmp(optarg, "csv") == 0) o->format = HP_FORMAT_CSV;
			else if (strcmp(optarg, "raw") == 0) o->format = HP_FORMAT_RAW;
			else BAD("--format must be table, json, jsonl, csv or raw, not '%s'", optarg);
			break;
		case 'o':
			if (!*optarg)
				BAD("--output needs a file name");
			o->output = optarg;
			break;
		case 'j':
			if (hp_parse_long(optarg, 1, 64, &l) < 0)
				BAD("--jobs must be a whole number from 1 to 64, not '%s'", optarg);
			o->jobs = (int)l;
			break;
		case OPT_RETRIES:
			if (hp_parse_long(optarg, 0, 100, &l) < 0)
				BAD("--retries must be a whole number from 0 to 100, not '%s'", optarg);
			o->retries = (int)l;
			break;
		case OPT_RETRY_MAX_TIME:
			if (hp_parse_double(optarg, 0, 86400, &o->retry_max_time) < 0)
				BAD("--retry-max-time must be a number of seconds from 0 to 86400, not '%s'", optarg);
			break;
		case OPT_COLD_START_WAIT:
			if (hp_parse_double(optarg, 0, 86400, &o->cold_start_wait) < 0)
				BAD("--cold-start-wait must be a number of seconds from 0 to 86400, not '%s'", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			if (hp_parse_double(optarg, 0.001, 3600, &o->connect_timeout) < 0)
				BAD("--connect-timeout must be a number of seconds from 0.001 to 3600, not '%s'", optarg);
			break;
		case OPT_TIMEOUT:
			if (hp_parse_double(optarg, 0.001, 86400, &o->timeout) < 0)
				BAD("--timeout must be a number of seconds from 0.001 to 86400, not '%s'", optarg);
			break;
		case OPT_CACERT: o->cacert = optarg; break;
		case OPT_MAX_UPLOAD:
			if (hp_parse_size(optarg, &o->max_upload) < 0)
				BAD("--max-upload must be a size in bytes, or with a K, M or G suffix (0 = no limit), not '%s'", optarg);
			o->max_upload_arg = optarg;
			break;
		case OPT_FIELD:
			if (add_field(o, optarg, err, errlen) < 0)
				return HP_PARSE_ERROR;
			break;
		case OPT_INSECURE: o->insecure = true; break;
		case OPT_RATE:
			switch (hp_parse_rate(optarg, &o->rate_interval)) {
			case 0: break;
			case -2: BAD("--rate '%s' is faster than 1e9/s; leave --rate out for no limit", optarg);
			case -3: BAD("--rate '%s' waits more than a day between two starts; the slowest is 1/24h, that is 0.0417/h",
			             optarg);
			default: BAD("--rate must be N/s, N/m or N/h with N a number above 0, not '%s'", optarg);
			}
			break;
		case OPT_EXPECT:
			if (add_expect(o, optarg, err, errlen) < 0)
				return HP_PARSE_ERROR;
			if (!o->filter_flag)
				o->filter_flag = "--expect";
			break;
		case OPT_MIN_CONF:
			if (hp_parse_double(optarg, 0.0, 1.0, &o->filter.min_conf) < 0)
				BAD("--min-conf must be a number from 0 to 1, not '%s'", optarg);
			if (!o->filter_flag)
				o->filter_flag = "--min-conf";
			break;
		case OPT_CLASSES:
			hp_class_list_clear(&o->filter.classes); /* the last one wins */
			if (hp_class_list_parse(&o->filter.classes, optarg) < 0)
				BAD("--classes must be class names or numbers separated by commas, with no empty item, not '%s'",
				    optarg);
			if (!o->filter_flag)
				o->filter_flag = "--classes";
			break;
		case OPT_SAVE_TXT:
			if (!*optarg)
				BAD("--save-txt needs a directory");
			o->save_txt = optarg;
			break;
		case OPT_SAVE_CONF: o->save_conf = true; break;
		case OPT_ANNOTATE:
			if (!*optarg)
				BAD("--annotate needs a directory");
			o->annotate = optarg;
			break;
		case OPT_RESIZE: o->resize = true; break;
		case OPT_JUNIT:
			if (!*optarg || strcmp(optarg, "-") == 0)
				BAD("--junit needs a file name (standard output carries the results)");
			o->junit = optarg;
			break;
		case OPT_BASELINE:
			if (!*optarg)
				BAD("--baseline needs a file name");
			o->baseline = optarg;
			break;
		case OPT_BASELINE_IOU:
			if (hp_parse_double(optarg, 0.0, 1.0, &o->baseline_iou) < 0)
				BAD("--baseline-iou must be a number from 0 to 1, not '%s'", optarg);
			if (!o->baseline_tol_flag)
				o->baseline_tol_flag = "--baseline-iou";
			break;
		case OPT_BASELINE_CONF:
			if (hp_parse_double(optarg, 0.0, 1.0, &o->baseline_conf) < 0)
				BAD("--baseline-conf must be a number from 0 to 1, not '%s'", optarg);
			if (!o->baseline_tol_flag)
				o->baseline_tol_flag = "--baseline-conf";
			break;
		case 'r': o->recursive = true; break;
		case OPT_FILES_FROM:
			if (!*optarg)
				BAD("--files-from needs a file name");
			o->files_from = optarg;
			break;
		case '0': o->null_separated = true; break;
		case OPT_PROGRESS: o->progress = HP_ON; break;
		case OPT_NO_PROGRESS: o->progress = HP_OFF; break;
		case OPT_FAIL_FAST: o->fail_fast = true; break;
		case 'v': o->verbose++; break;
		case 'q': o->quiet = true; break;
		case OPT_DRY_RUN: o->dry_run = true; break;
		case 'h': want_help = true; break;
		case 'V': want_version = true; break;
		case ':':
			BAD("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				BAD("unknown option -%c", optopt);
			BAD("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (want_help) {
		hp_options_usage();
		return HP_PARSE_HELP;
	}
	if (want_version)
		return HP_PARSE_VERSION;
	o->inputs = argv + optind;
	o->n_inputs = (size_t)(argc - optind);

	/* Where the model and the URL come from (hubpredict(1), "Model IDs"): the highest layer that
	 * names either wins as a whole; both in one layer is a usage error. */
	if (o->model && o->url)
		BAD("-u and -m both name the endpoint: drop -m to post to the URL '%s' as given, or drop -u to use "
		    "the model's URL", o->url);
	if (!o->model && !o->url) {
		const char *em = getenv("HUBPREDICT_MODEL"), *eu = getenv("HUBPREDICT_URL");
		em = em && *em ? em : NULL;
		eu = eu && *eu ? eu : NULL;
		if (em && eu)
			BAD("HUBPREDICT_MODEL and HUBPREDICT_URL are both set: unset one, or give -m or -u");
		o->model = em;
		o->url = eu;
	}

	/* Checks across options. */
	size_t n_stdin = 0;
	for (size_t i = 0; i < o->n_inputs; i++)
		n_stdin += strcmp(o->inputs[i], "-") == 0;
	if (n_stdin > 1) {
		BAD("standard input ('-') can be given only once");
	}
	bool list_on_stdin = o->files_from && strcmp(o->files_from, "-") == 0;
	bool key_on_stdin = o->api_key_file && strcmp(o->api_key_file, "-") == 0 && !key_from_arg;
	if (n_stdin + list_on_stdin + key_on_stdin > 1) {
		BAD("standard input can feed only one of: an INPUT '-', --files-from -, --api-key-file -");
	}
	if (o->baseline && !o->filter_flag)
		o->filter_flag = "--baseline";
	if (o->baseline_tol_flag && !o->baseline) {
		BAD("%s goes with --baseline", o->baseline_tol_flag);
	}
	if (o->filter_flag && o->format == HP_FORMAT_RAW) {
		BAD("%s needs a parsed format, not -f raw (use -f json to keep the server's document)", o->filter_flag);
	}
	if (o->save_txt && o->format == HP_FORMAT_RAW) {
		BAD("--save-txt needs a parsed format, not -f raw (use -f json to keep the server's document)");
	}
#ifndef HP_HAVE_IMAGES
	if (o->annotate || o->resize) {
		BAD("%s: this build of hubpredict has no image support (it was built with -DHUBPREDICT_IMAGES=OFF)",
		    o->annotate ? "--annotate" : "--resize");
	}
#endif
	if (o->annotate && o->format == HP_FORMAT_RAW) {
		BAD("--annotate needs a parsed format, not -f raw (use -f json to keep the server's document)");
	}
	if (o->save_conf && !o->save_txt) {
		BAD("--save-conf goes with --save-txt DIR");
	}
	if (o->junit && o->output && hp_output_same_file(o->junit, o->output)) {
		BAD("--junit and --output name the same file '%s'", o->junit);
	}
	if (o->null_separated && !o->files_from) {
		BAD("-0 goes with --files-from");
	}
	if (o->n_inputs == 0 && !o->files_from) {
		BAD("no INPUT given (an image, a video, a directory or '-')");
	}

	if (o->quiet)
		o->progress = HP_OFF; /* -q: no progress, whatever else was said */
	hp_msg_set_quiet(o->quiet); /* before the key file can warn */

	/* The key: -k, then --api-key-file, then the environment. */
	if (key_from_arg) {
		/* -k wins; the key file and the environment are not read */
	} else if (o->api_key_file) {
		o->api_key = read_key_file(o->api_key_file, err, errlen);
		if (!o->api_key)
			return HP_PARSE_ERROR;
	} else if (getenv("ULTRALYTICS_API_KEY") && *getenv("ULTRALYTICS_API_KEY")) {
		o->api_key = strdup(getenv("ULTRALYTICS_API_KEY"));
		if (!o->api_key)
			BAD("out of memory");
	}
	if (o->api_key && !*o->api_key) {
		BAD("the API key is empty (an unset variable or CI secret?); give --api-key-file FILE, set "
		    "ULTRALYTICS_API_KEY, or -k KEY");
	}
	if (o->api_key && strlen(o->api_key) > 512) {
		BAD("the API key is %zu characters long, keys are at most 512; check what was pasted", strlen(o->api_key));
	}
	if (o->api_key && !key_ok(o->api_key)) {
		BAD("the API key has spaces, control or non-ASCII characters; check how it was copied");
	}
	/* no key at all is fine here: Platform's public models need none; main
	 * refuses it for HUB once the flavour is known (hubpredict(1), "The API key") */
	return HP_PARSE_RUN;
}

void hp_options_free(struct hp_options *o)
{
	if (!o)
		return;
	key_free(o);
	for (size_t i = 0; i < o->n_expects; i++)
		hp_expect_clear(&o->expects[i]);
	free(o->expects);
	o->expects = NULL;
	o->n_expects = 0;
	hp_class_list_clear(&o->filter.classes);
	free(o->fields);
	o->fields = NULL;
	o->n_fields = 0;
}
