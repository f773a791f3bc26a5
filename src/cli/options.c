/* options.c - argv into struct hp_options. One table drives getopt_long,
 * --help, the config file, `hubpredict config`, the completions and the list
 * of long options the docs test checks. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/options.h"
#include "hubpredict/buf.h"
#include "hubpredict/config.h"
#include "hubpredict/frames.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/platform.h"
#include "hubpredict/request.h"
#include "hubpredict/transport.h"
#include "hubpredict/valgate.h"
#include "hubpredict/video.h"
#include "hubpredict/gate.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
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
	OPT_RESIZE, OPT_MAX_UPLOAD, OPT_MAX_ANSWER, OPT_FIELD, OPT_CONFIG, OPT_NO_CONFIG, OPT_PROFILE,
	OPT_CACHE, OPT_CACHE_TTL, OPT_RESUME, OPT_SHARD, OPT_OLDER_THAN,
	OPT_DEPLOYMENT,
	OPT_WAIT, OPT_FOR, OPT_WAIT_TIMEOUT, OPT_STATUS, OPT_D_MODEL, OPT_REGION, OPT_DISPLAY_NAME, OPT_SEVERITY,
	OPT_LIMIT, OPT_RANGE, OPT_YES, OPT_OWNER,
	OPT_SPLIT, OPT_SKIP_BAD_LABELS, OPT_ALLOW_FAILED, OPT_VAL_EXPECT,
	OPT_VID_STRIDE, OPT_FPS, OPT_STREAM, OPT_FRAMES, OPT_DURATION, OPT_PLOTS,
	OPT_BENCH_DURATION, OPT_WARMUP, OPT_MAX_JOBS, OPT_MAX_ERROR_RATE, OPT_BENCH_EXPECT, OPT_BENCH_DEPLOYMENT, OPT_BENCH_PLOTS
};

struct opt_def;
/* A custom row's setter: 0, or -1 with err set. */
typedef int opt_setter(struct hp_options *o, const struct opt_def *d, const char *value,
                       const struct hp_origin *from, char *err, size_t errlen);

struct opt_def {
	const char *name;     /* long name */
	int id;               /* short option character, or OPT_* */
	enum hp_opt_type type;
	const char *arg;      /* argument name in --help; NULL: takes no value */
	const char *lo, *hi;  /* INT/DOUBLE/SECONDS: the range, as shown; ENUM: lo holds the values */
	int set;              /* SET: the value stored */
	ptrdiff_t off;        /* offsetof(struct hp_options, ...), -1: none */
	const char *env;      /* environment variable, or NULL */
	bool no_config;       /* true: makes no sense in a config file */
	unsigned cmds;        /* HP_CMD_* that take it */
	opt_setter *custom;   /* CUSTOM: the setter */
	const char **note;    /* the field that remembers the first of these flags given */
	const char *help;     /* "%R" stands for the range "lo-hi" */
	const char *help_val; /* val --help's text where val differs (its default, its formats), or NULL */
};

static opt_setter set_key, set_field, set_expect, set_classes, set_junit, set_shard, set_limit, set_val_expect,
	set_bench_expect, set_bench_endpoint;

#define AT(field) offsetof(struct hp_options, field)
#define P HP_CMD_PREDICT
#define G HP_CMD_ALL
#define PC (HP_CMD_PREDICT | HP_CMD_CONFIG)
#define PK (HP_CMD_PREDICT | HP_CMD_CACHE)
#define D HP_CMD_DEPLOY
#define PD (HP_CMD_PREDICT | HP_CMD_DEPLOY)
#define V HP_CMD_VAL
#define PV (HP_CMD_PREDICT | HP_CMD_VAL)
#define B HP_CMD_BENCH
#define PVB (PV | B)
#define FILTER_NOTE ((const char **)(void *)1)   /* o->predict.filter_flag */
#define TOL_NOTE ((const char **)(void *)2)      /* o->predict.baseline_tol_flag */

/* The single source of truth for the command line. Keep in the order of
 * --help (and of the man page's OPTIONS section). */
static const struct opt_def opt_table[] = {
	{ "model", 'm', HP_OT_STRING, "ID", .off = AT(model), .env = "HUBPREDICT_MODEL", .cmds = PC | V | B,
	  .help = "model ID, pasted model URL, or owner/project/model (env HUBPREDICT_MODEL)" },
	{ "api-key", 'k', HP_OT_CUSTOM, "KEY", .off = -1, .env = "ULTRALYTICS_API_KEY", .cmds = G, .custom = set_key,
	  .help = "API key (safer: --api-key-file or env ULTRALYTICS_API_KEY)" },
	{ "api-key-file", OPT_API_KEY_FILE, HP_OT_STRING, "FILE", .off = AT(api_key_file), .cmds = G,
	  .help = "read the key from the first line of FILE ('-' = stdin)" },
	{ "url", 'u', HP_OT_STRING, "URL", .off = AT(url), .env = "HUBPREDICT_URL", .cmds = G,
	  .help = "full endpoint URL, e.g. a dedicated endpoint (env HUBPREDICT_URL)" },
	{ "api", OPT_API, HP_OT_ENUM, "hub|platform", .lo = "auto hub platform", .off = AT(api), .cmds = G,
	  .help = "protocol flavour (default: from the key prefix, the URL host, or owner/project/model)" },
	{ "imgsz", 's', HP_OT_INT, "N", "32", "1280", .off = AT(predict.imgsz), .cmds = PVB,
	  .help = "inference image size, %R (default 640)" },
	{ "conf", 'c', HP_OT_DOUBLE, "X", "0.01", "1.0", .off = AT(predict.conf), .cmds = PVB,
	  .help = "confidence threshold, %R (default 0.25)",
	  .help_val = "confidence threshold, %R (default 0.01: the whole curve the API sends)" },
	{ "iou", 'i', HP_OT_DOUBLE, "X", "0.0", "0.95", .off = AT(predict.iou), .cmds = PVB,
	  .help = "NMS IoU threshold, %R (default 0.45 hub, 0.7 platform)" },
	{ "normalize", OPT_NORMALIZE, HP_OT_FLAG, .off = AT(predict.normalize), .cmds = P,
	  .help = "Platform: coordinates as 0-1" },
	{ "decimals", OPT_DECIMALS, HP_OT_INT, "N", "0", "10", .off = AT(predict.decimals), .cmds = P,
	  .help = "Platform: decimals in coordinates, %R" },
	{ "field", OPT_FIELD, HP_OT_CUSTOM, "NAME=VALUE", .off = -1, .cmds = P, .custom = set_field,
	  .help = "send an extra form field as it is, repeatable (not one hubpredict sets)" },
	{ "format", 'f', HP_OT_ENUM, "F", .lo = "table json jsonl csv raw", .off = AT(format), .cmds = PD | V | B,
	  .help = "table (default), json, jsonl, csv or raw", .help_val = "table (default), json or csv" },
	{ "output", 'o', HP_OT_FILE, "FILE", .off = AT(predict.output), .cmds = PVB,
	  .help = "write results to FILE atomically instead of stdout" },
	{ "expect", OPT_EXPECT, HP_OT_CUSTOM, "EXPR", .off = -1, .cmds = P, .custom = set_expect, .note = FILTER_NOTE,
	  .help = "check each input, repeatable: NAME (>=1), NAME>=N, >N, ==N, <=N, <N; unmet: exit 1" },
	{ "min-conf", OPT_MIN_CONF, HP_OT_DOUBLE, "X", "0", "1", .off = AT(predict.filter.min_conf), .cmds = P,
	  .note = FILTER_NOTE, .help = "show and check only results with confidence >= X, %R" },
	{ "classes", OPT_CLASSES, HP_OT_CUSTOM, "LIST", .off = -1, .cmds = P, .custom = set_classes, .note = FILTER_NOTE,
	  .help = "show and check only these classes (names or numbers, comma separated)" },
	{ "save-txt", OPT_SAVE_TXT, HP_OT_DIR, "DIR", .off = AT(predict.save_txt), .cmds = P,
	  .help = "also write YOLO label files into DIR, one per image or video frame" },
	{ "save-conf", OPT_SAVE_CONF, HP_OT_FLAG, .off = AT(predict.save_conf), .cmds = P,
	  .help = "--save-txt: end each detection line with its confidence" },
	{ "annotate", OPT_ANNOTATE, HP_OT_DIR, "DIR", .off = AT(predict.annotate), .cmds = P,
	  .help = "also write each image with its answer drawn on it into DIR (JPEG in: JPEG, else PNG)" },
	{ "resize", OPT_RESIZE, HP_OT_FLAG, .off = AT(predict.resize), .cmds = PVB,
	  .help = "downsize images whose long side exceeds --imgsz before upload; coordinates mapped back" },
	{ "vid-stride", OPT_VID_STRIDE, HP_OT_INT, "N", "1", "1000000", .off = AT(predict.vid_stride), .cmds = P,
	  .help = "cut video INPUTs: send frames 0, N, 2N, ... each as a JPEG, %R" },
	{ "fps", OPT_FPS, HP_OT_DOUBLE, "X", "0.001", "1000", .off = AT(predict.fps), .cmds = P,
	  .help = "cut video INPUTs: send the frame nearest each 1/X s; streams: X a second (default 1)" },
	{ "stream", OPT_STREAM, HP_OT_FLAG, .off = AT(predict.stream), .cmds = P,
	  .help = "an http(s) INPUT is a live stream (MJPEG, HLS) to take frames from" },
	{ "frames", OPT_FRAMES, HP_OT_INT, "N", "1", "2000000000", .off = AT(predict.frames), .cmds = P,
	  .help = "send at most N frames of each video or stream, %R" },
	{ "duration", OPT_DURATION, HP_OT_SECONDS, "SEC", "0.001", "31536000", .off = AT(predict.duration), .cmds = P,
	  .help = "videos: only frames before SEC s into each; streams: stop after SEC" },
	{ "junit", OPT_JUNIT, HP_OT_CUSTOM, "FILE", .off = AT(predict.junit), .cmds = PVB, .custom = set_junit,
	  .help = "also write a JUnit XML report to FILE, one testcase per input (for CI)",
	  .help_val = "also write a JUnit XML report to FILE, one testcase per check and per class (for CI)" },
	{ "baseline", OPT_BASELINE, HP_OT_FILE, "FILE", .off = AT(predict.baseline), .cmds = P,
	  .help = "compare with an earlier -f json (or jsonl) output of the same inputs; differences: exit 1" },
	{ "baseline-iou", OPT_BASELINE_IOU, HP_OT_DOUBLE, "X", "0", "1", .off = AT(predict.baseline_iou), .cmds = P,
	  .note = TOL_NOTE, .help = "--baseline: a box's partner needs IoU >= X, %R (default 0.5)" },
	{ "baseline-conf", OPT_BASELINE_CONF, HP_OT_DOUBLE, "X", "0", "1", .off = AT(predict.baseline_conf), .cmds = P,
	  .note = TOL_NOTE, .help = "--baseline: confidences may differ by at most X, %R (default 0.10)" },
	{ "max-upload", OPT_MAX_UPLOAD, HP_OT_SIZE, "SIZE", .off = AT(predict.max_upload), .cmds = PVB,
	  .help = "largest stdin upload: bytes, K, M or G (default 100M, 0 = none); given, files too" },
	{ "max-answer", OPT_MAX_ANSWER, HP_OT_SIZE, "SIZE", .off = AT(predict.max_answer), .cmds = PV,
	  .help = "largest answer read: bytes, K, M or G (default 4G, 0 = none); over it, exit 10" },
	{ "cache", OPT_CACHE, HP_OT_DIR, "DIR", .off = AT(cache), .cmds = PK | V,
	  .help = "keep 200 answers in DIR by content; an input already there sends nothing" },
	{ "cache-ttl", OPT_CACHE_TTL, HP_OT_SECONDS, "SEC", "0", "3153600000", .off = AT(cache_ttl), .cmds = PK | V,
	  .help = "--cache: entries older than SEC are misses (default 2592000, 30 days)" },
	{ "resume", OPT_RESUME, HP_OT_FILE, "LOG", .off = AT(predict.resume), .no_config = true, .cmds = PV,
	  .help = "skip inputs answered in LOG (-f jsonl) to the same request, append each new envelope to LOG" },
	{ "shard", OPT_SHARD, HP_OT_CUSTOM, "K/N", .off = -1, .no_config = true, .cmds = P, .custom = set_shard,
	  .help = "keep only shard K of N of the inputs (FNV-1a 64 of the path as given, mod N)" },
	{ "older-than", OPT_OLDER_THAN, HP_OT_SECONDS, "SEC", "0", "3153600000", .off = AT(older_than),
	  .no_config = true, .cmds = HP_CMD_CACHE, .help = "cache prune: remove entries older than SEC (default --cache-ttl)" },
	{ "jobs", 'j', HP_OT_INT, "N", "1", "64", .off = AT(predict.jobs), .cmds = PVB,
	  .help = "requests in flight at once, %R (default 4)" },
	{ "rate", OPT_RATE, HP_OT_RATE, "N/s|N/m|N/h", .off = AT(predict.rate_interval), .cmds = PVB,
	  .help = "start requests at least 1/N of the period apart (all jobs, retries too)" },
	{ "retries", OPT_RETRIES, HP_OT_INT, "N", "0", "100", .off = AT(retries), .cmds = PD | V,
	  .help = "retries of a failed attempt, %R (default 3)" },
	{ "retry-max-time", OPT_RETRY_MAX_TIME, HP_OT_SECONDS, "SEC", "0", "86400", .off = AT(retry_max_time), .cmds = PD | V,
	  .help = "give up retrying an input after SEC seconds (default 600)" },
	{ "cold-start-wait", OPT_COLD_START_WAIT, HP_OT_SECONDS, "SEC", "0", "86400", .off = AT(predict.cold_start_wait),
	  .cmds = PV, .help = "wait up to SEC for an endpoint that answers 503 while it starts, without using up "
	                     "--retries (default 90; 0 off)" },
	{ "connect-timeout", OPT_CONNECT_TIMEOUT, HP_OT_SECONDS, "SEC", "0.001", "3600", .off = AT(connect_timeout),
	  .cmds = G, .help = "connection timeout (default 10)" },
	{ "timeout", OPT_TIMEOUT, HP_OT_SECONDS, "SEC", "0.001", "86400", .off = AT(timeout), .cmds = G,
	  .help = "limit for a whole attempt (default none; 60 s without progress fails)" },
	{ "cacert", OPT_CACERT, HP_OT_STRING, "FILE", .off = AT(cacert), .cmds = G,
	  .help = "CA bundle to verify the server with" },
	{ "insecure", OPT_INSECURE, HP_OT_FLAG, .off = AT(insecure), .cmds = G,
	  .help = "do not verify TLS certificates (warns on every run)" },
	{ "recursive", 'r', HP_OT_FLAG, .off = AT(predict.recursive), .cmds = P,
	  .help = "descend into subdirectories of directory INPUTs" },
	{ "files-from", OPT_FILES_FROM, HP_OT_FILE, "FILE", .off = AT(predict.files_from), .no_config = true, .cmds = P,
	  .help = "read more INPUT paths from FILE, one per line ('-' = stdin)" },
	{ "null", '0', HP_OT_FLAG, .off = AT(predict.null_separated), .cmds = P,
	  .help = "--files-from entries are NUL-separated (find -print0)" },
	{ "fail-fast", OPT_FAIL_FAST, HP_OT_FLAG, .off = AT(predict.fail_fast), .cmds = P,
	  .help = "start no new input after the first failure" },
	{ "verbose", 'v', HP_OT_COUNT, .off = AT(verbose), .cmds = G,
	  .help = "request and response details on stderr (key redacted)" },
	{ "quiet", 'q', HP_OT_FLAG, .off = AT(quiet), .cmds = G,
	  .help = "no progress, summary or warnings; errors still go to stderr" },
	{ "progress", OPT_PROGRESS, HP_OT_SET, .set = HP_ON, .off = AT(predict.progress), .cmds = PVB,
	  .help = "show progress on stderr even when it is not a terminal" },
	{ "no-progress", OPT_NO_PROGRESS, HP_OT_SET, .set = HP_OFF, .off = AT(predict.progress), .cmds = PVB,
	  .help = "never show progress" },
	{ "dry-run", OPT_DRY_RUN, HP_OT_FLAG, .off = AT(predict.dry_run), .no_config = true, .cmds = P,
	  .help = "check everything, print the equivalent curl command, send nothing" },
	{ "config", OPT_CONFIG, HP_OT_FILE, "FILE", .off = AT(config), .env = "HUBPREDICT_CONFIG", .no_config = true,
	  .cmds = G, .help = "read settings from FILE (default ~/.config/hubpredict/config; env HUBPREDICT_CONFIG)" },
	{ "no-config", OPT_NO_CONFIG, HP_OT_FLAG, .off = AT(no_config), .no_config = true, .cmds = G,
	  .help = "read no config file" },
	{ "profile", OPT_PROFILE, HP_OT_STRING, "NAME", .off = AT(profile), .env = "HUBPREDICT_PROFILE",
	  .no_config = true, .cmds = G, .help = "use the config file's [profile NAME] (env HUBPREDICT_PROFILE)" },
	{ "deployment", OPT_DEPLOYMENT, HP_OT_STRING, "NAME", .off = AT(predict.deployment), .cmds = PV,
	  .help = "send every input to the dedicated deployment NAME's own endpoint (read once, must be ready)" },
	{ "split", OPT_SPLIT, HP_OT_ENUM, "val|test|train", .lo = "val test train", .off = AT(val.split),
	  .no_config = true, .cmds = V, .help = "val: the dataset's split to send (default val)" },
	{ "skip-bad-labels", OPT_SKIP_BAD_LABELS, HP_OT_FLAG, .off = AT(val.skip_bad_labels), .cmds = V,
	  .help = "val: warn about a bad label file and leave its image out (default: exit 3)" },
	{ "allow-failed", OPT_ALLOW_FAILED, HP_OT_INT, "N", "0", "1000000000", .off = AT(val.allow_failed), .cmds = V,
	  .help = "val: up to N images whose request failed are left out of the metrics (default 0)" },
	{ "expect", OPT_VAL_EXPECT, HP_OT_CUSTOM, "CHECK", .off = -1, .no_config = true, .cmds = V,
	  .custom = set_val_expect,
	  .help = "val: a metric check, repeatable: map50>=0.6, mask.map50_95>0.4, person:recall>=0.5; unmet: exit 1" },
	{ "plots", OPT_PLOTS, HP_OT_DIR, "DIR", .off = AT(val.plots), .cmds = V,
	  .help = "val: also draw PR, F1, P and R curves and the confusion matrix as PNGs into DIR" },
	{ "url", 'u', HP_OT_CUSTOM, "URL", .off = -1, .no_config = true, .cmds = B, .custom = set_bench_endpoint,
	  .help = "bench: an endpoint URL, repeatable: one column each (env HUBPREDICT_URL)" },
	{ "deployment", OPT_BENCH_DEPLOYMENT, HP_OT_CUSTOM, "NAME", .off = -1, .no_config = true, .cmds = B,
	  .custom = set_bench_endpoint, .help = "bench: a ready dedicated deployment, repeatable: one column each" },
	{ "requests", 'n', HP_OT_INT, "N", "1", "100000000", .off = AT(bench.requests), .no_config = true, .cmds = B,
	  .help = "bench: send N requests, %R (default 100 unless --duration)" },
	{ "plots", OPT_BENCH_PLOTS, HP_OT_DIR, "DIR", .off = AT(bench.plots), .cmds = B,
	  .help = "bench: also draw the latency by percentile and over time as PNGs into DIR" },
	{ "duration", OPT_BENCH_DURATION, HP_OT_SECONDS, "SEC", "0.001", "86400", .off = AT(bench.duration), .no_config = true,
	  .cmds = B, .help = "bench: send requests for SEC seconds (with -n: whichever ends first)" },
	{ "warmup", OPT_WARMUP, HP_OT_INT, "N", "0", "1000000", .off = AT(bench.warmup), .no_config = true, .cmds = B,
	  .help = "bench: the first N requests to finish are not counted, %R (default 0)" },
	{ "max-jobs", OPT_MAX_JOBS, HP_OT_INT, "N", "1", "1024", .off = AT(bench.max_jobs), .cmds = B,
	  .help = "bench --rate: requests in flight at most, %R (default 256)" },
	{ "max-error-rate", OPT_MAX_ERROR_RATE, HP_OT_DOUBLE, "PCT", "0", "100", .off = AT(bench.max_error_rate),
	  .cmds = B, .help = "bench: stop when more than PCT % of the requests failed (judged from the 10th)" },
	{ "expect", OPT_BENCH_EXPECT, HP_OT_CUSTOM, "GATE", .off = -1, .no_config = true, .cmds = B,
	  .custom = set_bench_expect,
	  .help = "bench: a gate, repeatable: p95<200ms, mean<=1s, error_rate<1%, rate>=18/s; unmet: exit 1" },
	{ "wait", OPT_WAIT, HP_OT_FLAG, .off = AT(deploy.wait), .cmds = D,
	  .help = "deploy create/start/stop: wait until it is ready (stopped), as deploy wait" },
	{ "for", OPT_FOR, HP_OT_ENUM, "ready|stopped", .lo = "ready stopped", .off = AT(deploy.wait_for), .cmds = D,
	  .help = "deploy wait: the state to wait for (default ready)" },
	{ "wait-timeout", OPT_WAIT_TIMEOUT, HP_OT_SECONDS, "SEC", "1", "86400", .off = AT(deploy.wait_timeout), .cmds = D,
	  .help = "deploy: give up waiting after SEC, exit 12 (default 600)" },
	{ "status", OPT_STATUS, HP_OT_STRING, "STATE", .lo = "creating deploying ready stopping stopped failed",
	  .off = AT(deploy.status), .no_config = true, .cmds = D,
	  .help = "deploy list: only deployments in STATE (creating, deploying, ready, stopping, stopped, failed)" },
	{ "model", OPT_D_MODEL, HP_OT_STRING, "PROJECT/MODEL", .off = AT(deploy.model), .no_config = true, .cmds = D,
	  .help = "deploy create: the model to serve; deploy list: only its deployments" },
	{ "region", OPT_REGION, HP_OT_STRING, "REGION", .off = AT(deploy.region), .cmds = D,
	  .help = "deploy create: a Google Cloud region such as us-central1, europe-west4" },
	{ "display-name", OPT_DISPLAY_NAME, HP_OT_STRING, "TEXT", .off = AT(deploy.display_name), .no_config = true,
	  .cmds = D, .help = "deploy create: the name shown on Platform (default NAME)" },
	{ "severity", OPT_SEVERITY, HP_OT_STRING, "LIST", .off = AT(deploy.severity), .no_config = true, .cmds = D,
	  .help = "deploy logs: only these severities, comma separated (DEBUG, INFO, WARNING, ERROR ...)" },
	{ "limit", OPT_LIMIT, HP_OT_CUSTOM, "N", "1", "200", .off = AT(deploy.limit), .no_config = true, .cmds = D,
	  .custom = set_limit,
	  .help = "deploy list (1-100, default 20) and logs (%R, default 50): at most N" },
	{ "range", OPT_RANGE, HP_OT_ENUM, "1h|6h|24h|7d|30d", .lo = "24h 1h 6h 7d 30d", .off = AT(deploy.range_index),
	  .no_config = true, .cmds = D, .help = "deploy metrics: the period (default 24h)" },
	{ "yes", OPT_YES, HP_OT_FLAG, .off = AT(deploy.yes), .no_config = true, .cmds = D,
	  .help = "deploy delete: really delete (without it nothing is sent, exit 2)" },
	{ "owner", OPT_OWNER, HP_OT_STRING, "OWNER", .off = AT(deploy.owner), .cmds = PD,
	  .help = "deploy: the workspace (default: config owner, else the key's account)" },
	{ "help", 'h', HP_OT_ACTION, .off = -1, .no_config = true, .cmds = G, .help = "show this help and exit" },
	{ "version", 'V', HP_OT_ACTION, .off = -1, .no_config = true, .cmds = G,
	  .help = "show versions of hubpredict, libcurl and cJSON, and the build's options" },
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])
_Static_assert(N_OPTS <= HP_MAX_OPTIONS, "raise HP_MAX_OPTIONS");

static size_t row_of(const struct opt_def *d)
{
	return (size_t)(d - opt_table);
}

static const struct opt_def *find_name(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opt_table[i].name, name) == 0)
			return &opt_table[i];
	return NULL;
}

static bool shadowed(const struct opt_def *d, unsigned command);

/* The row of short option or OPT_* id: the one `command` takes when two
 * rows share it (-u: bench's repeatable row), else the first. */
static const struct opt_def *find_id(int id, unsigned command)
{
	const struct opt_def *first = NULL;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opt_table[i].id != id)
			continue;
		if ((opt_table[i].cmds & command) && !shadowed(&opt_table[i], command))
			return &opt_table[i];
		if (!first)
			first = &opt_table[i];
	}
	return first;
}

const char *const *hp_options_long_names(void)
{
	static const char *names[N_OPTS + 1];
	for (size_t i = 0; i < N_OPTS; i++)
		names[i] = opt_table[i].name;
	names[N_OPTS] = NULL;
	return names;
}

size_t hp_options_count(void)
{
	return N_OPTS;
}

/* The values a row's completion offers: an enum's (not --api's "auto", the
 * default rather than a value), or those a STRING row lists in lo. */
static const char *values_of(const struct opt_def *d)
{
	if (d->type == HP_OT_ENUM)
		return d->off == (ptrdiff_t)AT(api) ? strchr(d->lo, ' ') + 1 : d->lo;
	return d->type == HP_OT_STRING ? d->lo : NULL;
}

void hp_options_info(size_t i, struct hp_opt_info *out)
{
	const struct opt_def *d = &opt_table[i];
	*out = (struct hp_opt_info){
		.name = d->name, .short_name = d->id < 256 ? (char)d->id : '\0', .type = d->type, .arg = d->arg,
		.values = values_of(d), .env = d->env, .key = d->no_config ? NULL : d->name,
		.commands = d->cmds, .off = d->off,
	};
}

/* The help text (val's own for val when it has one) with %R replaced by
 * the row's range "lo-hi". */
static void help_text(const struct opt_def *d, unsigned command, char *buf, size_t len)
{
	const char *h = command == HP_CMD_VAL && d->help_val ? d->help_val : d->help;
	const char *r = strstr(h, "%R");
	if (!r)
		snprintf(buf, len, "%s", h);
	else
		snprintf(buf, len, "%.*s%s-%s%s", (int)(r - h), h, d->lo, d->hi, r + 2);
}

void hp_options_help(size_t i, char *buf, size_t len)
{
	help_text(&opt_table[i], HP_CMD_PREDICT, buf, len);
}
static void print_rows(unsigned command, bool only_extra);

void hp_options_usage(void)
{
	printf("Usage: hubpredict [predict] [OPTIONS] INPUT...\n"
	       "Send images or videos to a hosted YOLO model (Ultralytics HUB or Platform)\n"
	       "and print what it found. INPUT is a file, '-' for stdin, or a directory.\n\n"
	       "Options:\n");
	print_rows(HP_CMD_PREDICT, false);
	printf("\nOptions of hubpredict deploy (hubpredict deploy --help):\n");
	print_rows(HP_CMD_DEPLOY, true);
	printf("\nOptions of hubpredict cache (hubpredict cache --help):\n");
	print_rows(HP_CMD_CACHE, true);
	printf("\nOptions of hubpredict val (hubpredict val --help):\n");
	print_rows(HP_CMD_VAL, true);
	printf("\nOptions of hubpredict bench (hubpredict bench --help):\n");
	print_rows(HP_CMD_BENCH, true);
	printf("\nExamples:\n"
	       "  hubpredict -m MODEL_ID bus.jpg            (key from ULTRALYTICS_API_KEY)\n"
	       "  hubpredict -m MODEL_ID -f csv -o out.csv images/\n"
	       "  hubpredict -u https://predict-abc123.run.app -f json photo.png\n"
	       "  hubpredict -m MODEL_ID --expect 'person>=2' bus.jpg   (CI smoke test)\n"
	       "  hubpredict -m MODEL_ID --baseline golden.json images/  (CI regression)\n"
	       "  hubpredict --deployment cam -f jsonl images/   (a ready dedicated deployment)\n\n"
	       "Exit status: 0 ok, 1 a check failed (--expect, --baseline), 2 usage, 3 input,\n"
	       "4 auth (401/403), 5 not found, 6 rate limited, 7 rejected (other 4xx),\n"
	       "8 server error (5xx), 9 network, 10 bad response, 11 output, 12 waited out (deploy),\n"
	       "13 out of memory, 129/130/143 hung up/interrupted/terminated, 141 stdout closed by its reader.\n"
	       "See hubpredict(1) for more.\n");
}

void hp_options_usage_for(unsigned command)
{
	print_rows(command, false);
}

/* The --help lines of the rows `command` takes; only_extra: only those the
 * predict block did not show (the deploy-only or cache-only ones, a name once). */
static void print_rows(unsigned command, bool only_extra)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		char left[64], help[256];
		if (!(d->cmds & command) || shadowed(d, command) || (only_extra && (d->cmds & HP_CMD_PREDICT)))
			continue;
		if (only_extra && find_name(d->name) != d)
			continue; /* deploy's --model: its name is in the block above */
		if (d->id < 256)
			snprintf(left, sizeof left, "-%c, --%s%s%s", d->id, d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		help_text(d, command, help, sizeof help);
		if (strlen(left) > 26)
			printf("  %s\n  %-26s  %s\n", left, "", help);
		else
			printf("  %-26s  %s\n", left, help);
	}
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
	const char **grown = realloc(o->predict.fields, (o->predict.n_fields + 1) * sizeof *grown);
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->predict.fields = grown;
	o->predict.fields[o->predict.n_fields++] = arg;
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

/* The key file's descriptor: stdin for "-", else a regular file or a pipe
 * that is the user's own (hp_config_open), warned about when group or others
 * may read it. -1 with err set ("LABEL: reason"). */
static int open_key_file(const char *path, const char *label, char *err, size_t errlen)
{
	char why[600];
	struct stat st;
	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	int fd = hp_config_open(path, "the key file", HP_CONFIG_STRICT | HP_CONFIG_PIPE_OK, &st, why, sizeof why);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", label, why);
		return -1;
	}
	/* as ssh does for its keys; pipes such as <(pass show ...) are fine */
	if (S_ISREG(st.st_mode) && (st.st_mode & 077))
		hp_msg_warn("key file '%s' is accessible by group or others (mode %03o); run chmod 600 on it",
		            path, (unsigned)(st.st_mode & 0777));
	return fd;
}

/* Read the key from FILE ("-" = stdin): exactly one non-empty line. LABEL
 * starts each message ("--api-key-file", or "FILE:LINE: api-key-file"). */
static char *read_key_file(const char *path, const char *label, char *err, size_t errlen)
{
	char buf[1024];
	size_t len = 0;
	int fd = open_key_file(path, label, err, errlen);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t got = read(fd, buf + len, sizeof buf - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s: cannot read '%s': %s", label, path, strerror(errno));
			if (fd != STDIN_FILENO)
				close(fd);
			return NULL;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len >= sizeof buf - 1) {
			snprintf(err, errlen, "%s: '%s' is too large for a key", label, path);
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
			snprintf(err, errlen, "%s: '%s' has more than one line", label, path);
			memset(buf, 0, sizeof buf);
			return NULL;
		}
	}
	size_t kl = strlen(buf);
	if (kl > 0 && buf[kl - 1] == '\r')
		buf[--kl] = '\0';
	if (kl == 0) {
		snprintf(err, errlen, "%s: '%s' is empty", label, path);
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
	struct hp_expect *grown = realloc(o->predict.expects, (o->predict.n_expects + 1) * sizeof *grown);
	if (!grown) {
		hp_expect_clear(&e);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->predict.expects = grown;
	o->predict.expects[o->predict.n_expects++] = e;
	return 0;
}

/* -k, $ULTRALYTICS_API_KEY, or a config file's api-key: the key (owned). */
static int set_key(struct hp_options *o, const struct opt_def *d, const char *value, const struct hp_origin *from,
                   char *err, size_t errlen)
{
	(void)d;
	key_free(o); /* a second -k replaces the first */
	o->api_key = strdup(value);
	if (from->source == HP_SOURCE_ARG)
		memset((char *)value, 'x', strlen(value)); /* keep it out of `ps` */
	if (!o->api_key) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int set_field(struct hp_options *o, const struct opt_def *d, const char *value, const struct hp_origin *from,
                     char *err, size_t errlen)
{
	(void)d;
	(void)from;
	return add_field(o, value, err, errlen);
}

static int set_expect(struct hp_options *o, const struct opt_def *d, const char *value, const struct hp_origin *from,
                      char *err, size_t errlen)
{
	(void)d;
	(void)from;
	return add_expect(o, value, err, errlen);
}

static int set_val_expect(struct hp_options *o, const struct opt_def *d, const char *value,
                          const struct hp_origin *from, char *err, size_t errlen)
{
	(void)d;
	(void)from;
	struct hp_val_gate *g = realloc(o->val.gates, (o->val.n_gates + 1) * sizeof *g);
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->val.gates = g;
	if (hp_val_gate_parse(&g[o->val.n_gates], value, err, errlen) < 0)
		return -1;
	o->val.n_gates++;
	return 0;
}

static int set_classes(struct hp_options *o, const struct opt_def *d, const char *value,
                       const struct hp_origin *from, char *err, size_t errlen)
{
	(void)d;
	(void)from;
	hp_class_list_clear(&o->predict.filter.classes); /* the last one wins */
	if (hp_class_list_parse(&o->predict.filter.classes, value) < 0) {
		snprintf(err, errlen,
		         "--classes must be class names or numbers separated by commas, with no empty item, not '%s'", value);
		return -1;
	}
	return 0;
}

/* bench --expect: a gate (gate.h). */
static int set_bench_expect(struct hp_options *o, const struct opt_def *d, const char *value,
                            const struct hp_origin *from, char *err, size_t errlen)
{
	(void)d;
	(void)from;
	struct hp_gate g;
	if (hp_gate_parse(&g, value, err, errlen) != 0)
		return -1;
	struct hp_gate *v = hp_grow_array(o->bench.gates, &o->bench.cap_gates, o->bench.n_gates + 1, sizeof *v, 4);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->bench.gates = v;
	o->bench.gates[o->bench.n_gates++] = g;
	return 0;
}

/* bench -u URL and --deployment NAME: the endpoints, in order. */
static int set_bench_endpoint(struct hp_options *o, const struct opt_def *d, const char *value,
                              const struct hp_origin *from, char *err, size_t errlen)
{
	(void)from;
	if (!*value) {
		snprintf(err, errlen, "--%s needs a value", d->name);
		return -1;
	}
	struct hp_bench_endpoint *v =
		hp_grow_array(o->bench.endpoints, &o->bench.cap_endpoints, o->bench.n_endpoints + 1, sizeof *v, 4);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->bench.endpoints = v;
	bool url = d->id == 'u';
	o->bench.endpoints[o->bench.n_endpoints++] = (struct hp_bench_endpoint){ url ? value : NULL, url ? NULL : value };
	return 0;
}

/* --shard K/N: 1 <= K <= N <= 1000000, whole numbers. */
static int set_shard(struct hp_options *o, const struct opt_def *d, const char *value, const struct hp_origin *from,
                     char *err, size_t errlen)
{
	(void)d;
	(void)from;
	const char *slash = strchr(value, '/');
	char k[32];
	long kv, nv;
	if (!slash || (size_t)(slash - value) >= sizeof k) {
		snprintf(err, errlen, "--shard must be K/N with whole numbers 1 <= K <= N <= 1000000, not '%s'", value);
		return -1;
	}
	snprintf(k, sizeof k, "%.*s", (int)(slash - value), value);
	if (hp_parse_long(k, 1, 1000000, &kv) < 0 || hp_parse_long(slash + 1, 1, 1000000, &nv) < 0 || kv > nv ||
	    !isdigit((unsigned char)k[0]) || !isdigit((unsigned char)slash[1])) {
		snprintf(err, errlen, "--shard must be K/N with whole numbers 1 <= K <= N <= 1000000, not '%s'", value);
		return -1;
	}
	o->predict.shard_k = (unsigned long)kv;
	o->predict.shard_n = (unsigned long)nv;
	return 0;
}

/* --limit: one row, two ranges (deploy list 1-100, logs 1-200; cmd_deploy.c
 * holds list to its own), so a value that fits neither names both. */
static int set_limit(struct hp_options *o, const struct opt_def *d, const char *value, const struct hp_origin *from,
                     char *err, size_t errlen)
{
	long v;
	(void)d;
	(void)from;
	if (hp_parse_long(value, 1, 200, &v) < 0) {
		snprintf(err, errlen, "--limit must be a whole number from 1 to 100 for deploy list, 1 to 200 for deploy "
		         "logs, not '%s'", value);
		return -1;
	}
	o->deploy.limit = (int)v;
	return 0;
}

static int set_junit(struct hp_options *o, const struct opt_def *d, const char *value, const struct hp_origin *from,
                     char *err, size_t errlen)
{
	(void)d;
	(void)from;
	if (!*value || strcmp(value, "-") == 0) {
		snprintf(err, errlen, "--junit needs a file name (standard output carries the results)");
		return -1;
	}
	o->predict.junit = value;
	return 0;
}

/* A repeatable option's list emptied. */
static void clear_list(struct hp_options *o, const struct opt_def *d)
{
	if (d->custom == set_expect) {
		for (size_t i = 0; i < o->predict.n_expects; i++)
			hp_expect_clear(&o->predict.expects[i]);
		o->predict.n_expects = 0;
	} else if (d->custom == set_field) {
		o->predict.n_fields = 0;
	}
}

/* A repeatable option set again from a higher layer starts a new list. */
static void drop_lower_list(struct hp_options *o, const struct opt_def *d, enum hp_source s)
{
	if (o->origin[row_of(d)].source >= s || o->origin[row_of(d)].source == HP_SOURCE_DEFAULT)
		return;
	clear_list(o, d);
}

/* "true" or "false" for a flag in a config file; NULL (the command line) is true. */
static int flag_value(const struct opt_def *d, const char *value, bool *on, char *err, size_t errlen)
{
	if (!value || strcmp(value, "true") == 0)
		*on = true;
	else if (strcmp(value, "false") == 0)
		*on = false;
	else {
		snprintf(err, errlen, "--%s takes true or false, not '%s'", d->name, value);
		return -1;
	}
	return 0;
}

/* ENUM: the value's index among the row's words, or -1. */
static int enum_index(const struct opt_def *d, const char *value, char *shown, size_t len)
{
	int found = -1, n = 0;
	const char *w = d->lo;
	size_t used = 0;
	shown[0] = '\0';
	while (*w) {
		size_t wl = strcspn(w, " ");
		if (strlen(value) == wl && strncmp(value, w, wl) == 0)
			found = n;
		bool hidden = d->off == (ptrdiff_t)AT(api) && n == 0; /* "auto" is the default, not a value */
		if (!hidden && used < len) {
			bool last = w[wl] == '\0';
			used += (size_t)snprintf(shown + used, len - used, "%s%.*s", used == 0 ? "" : last ? " or " : ", ",
			                         (int)wl, w);
		}
		n++;
		w += wl + (w[wl] == ' ');
	}
	return found;
}

/* --rate: 0 stored, -1 with err set (too fast or too slow), 1 not of the form. */
static int store_rate(const char *v, double *interval, char *err, size_t errlen)
{
	switch (hp_parse_rate(v, interval)) {
	case 0: return 0;
	case -2:
		snprintf(err, errlen, "--rate '%s' is faster than 1e9/s; leave --rate out for no limit", v);
		return -1;
	case -3:
		snprintf(err, errlen, "--rate '%s' waits more than a day between two starts; the slowest is 1/24h, "
		         "that is 0.0417/h", v);
		return -1;
	default: return 1;
	}
}

/* The one message per type for a value that does not fit its row. */
static void bad_value(const struct opt_def *d, const char *v, const char *shown, char *err, size_t errlen)
{
	switch (d->type) {
	case HP_OT_INT: snprintf(err, errlen, "--%s must be a whole number from %s to %s, not '%s'", d->name, d->lo, d->hi, v); break;
	case HP_OT_DOUBLE: snprintf(err, errlen, "--%s must be a number from %s to %s, not '%s'", d->name, d->lo, d->hi, v); break;
	case HP_OT_SECONDS:
		snprintf(err, errlen, "--%s must be a number of seconds from %s to %s, not '%s'", d->name, d->lo, d->hi, v);
		break;
	case HP_OT_FILE: snprintf(err, errlen, "--%s needs a file name", d->name); break;
	case HP_OT_DIR: snprintf(err, errlen, "--%s needs a directory", d->name); break;
	case HP_OT_ENUM: snprintf(err, errlen, "--%s must be %s, not '%s'", d->name, shown, v); break;
	case HP_OT_RATE: snprintf(err, errlen, "--rate must be N/s, N/m or N/h with N a number above 0, not '%s'", v); break;
	case HP_OT_SIZE:
		snprintf(err, errlen, "--%s must be a size in bytes, or with a K, M or G suffix (0 = no limit), not '%s'",
		         d->name, v);
		break;
	default: snprintf(err, errlen, "--%s: bad value '%s'", d->name, v); break;
	}
}

/* A size row's value as given (NULL = the default), shown by `config`. */
static const char **size_arg(struct hp_options *o, const struct opt_def *d)
{
	return d->off == (ptrdiff_t)AT(predict.max_answer) ? &o->predict.max_answer_arg : &o->predict.max_upload_arg;
}

/* One value for one row, checked by the row's type: the one message per type. */
static int check_and_store(struct hp_options *o, const struct opt_def *d, const char *v,
                           const struct hp_origin *from, char *err, size_t errlen)
{
	void *field = d->off >= 0 ? (char *)o + d->off : NULL;
	long l, lo = 0, hi = 0;
	double x, dlo = 0, dhi = 0;
	bool on;
	char shown[128] = "";
	switch (d->type) {
	case HP_OT_FLAG:
		if (flag_value(d, v, &on, err, errlen) < 0)
			return -1;
		*(bool *)field = on;
		return 0;
	case HP_OT_COUNT:
		if (v && hp_parse_long(v, 0, 9, &l) == 0) { /* a file's `verbose = 2`, as `config` prints it */
			*(int *)field = (int)l;
			return 0;
		}
		if (flag_value(d, v, &on, err, errlen) < 0)
			return -1;
		*(int *)field = on ? *(int *)field + 1 : 0;
		return 0;
	case HP_OT_SET:
		if (flag_value(d, v, &on, err, errlen) < 0)
			return -1;
		*(int *)field = on ? d->set : HP_AUTO;
		return 0;
	case HP_OT_INT:
		hp_parse_long(d->lo, LONG_MIN, LONG_MAX, &lo);
		hp_parse_long(d->hi, LONG_MIN, LONG_MAX, &hi);
		if (hp_parse_long(v, lo, hi, &l) < 0)
			break;
		*(int *)field = (int)l;
		return 0;
	case HP_OT_DOUBLE:
	case HP_OT_SECONDS:
		hp_parse_double(d->lo, -HUGE_VAL, HUGE_VAL, &dlo);
		hp_parse_double(d->hi, -HUGE_VAL, HUGE_VAL, &dhi);
		if (hp_parse_double(v, dlo, dhi, &x) < 0)
			break;
		*(double *)field = x;
		return 0;
	case HP_OT_STRING:
		*(const char **)field = v;
		return 0;
	case HP_OT_FILE:
	case HP_OT_DIR:
		if (!*v)
			break;
		*(const char **)field = v;
		return 0;
	case HP_OT_ENUM: {
		int i = enum_index(d, v, shown, sizeof shown);
		if (i < 0 || (d->off == (ptrdiff_t)AT(api) && i == 0))
			break;
		*(int *)field = i;
		return 0;
	}
	case HP_OT_RATE: {
		int rc = store_rate(v, (double *)field, err, errlen);
		if (rc != 1)
			return rc;
		break;
	}
	case HP_OT_SIZE:
		if (hp_parse_size(v, (long long *)field) < 0)
			break;
		*size_arg(o, d) = v;
		return 0;
	case HP_OT_CUSTOM:
		drop_lower_list(o, d, from->source);
		return d->custom(o, d, v, from, err, errlen);
	case HP_OT_ACTION:
		snprintf(err, errlen, "--%s cannot be set here", d->name);
		return -1;
	}
	bad_value(d, v, shown, err, errlen);
	return -1;
}

/* Apply one value of one row from one layer: checks, the endpoint rule (the
 * highest layer naming the model or the URL wins as a whole), provenance. */
static int apply(struct hp_options *o, const struct opt_def *d, const char *v, const struct hp_origin *from,
                 char *err, size_t errlen)
{
	if (check_and_store(o, d, v, from, err, errlen) < 0)
		return -1;
	o->origin[row_of(d)] = *from;
	if (d->note) {
		const char **note = d->note == FILTER_NOTE ? &o->predict.filter_flag : &o->predict.baseline_tol_flag;
		if (!*note)
			*note = d->name;
	}
	static const char *const endpoint_rows[] = { "model", "url", "deployment" };
	bool names_endpoint = d->off == (ptrdiff_t)AT(model) || d->off == (ptrdiff_t)AT(url) ||
	                      d->off == (ptrdiff_t)AT(predict.deployment);
	for (size_t i = 0; names_endpoint && i < 3; i++) {
		const struct opt_def *other = find_name(endpoint_rows[i]);
		if (other != d && o->origin[row_of(other)].source < from->source) {
			*(const char **)((char *)o + other->off) = NULL;
			o->origin[row_of(other)] = (struct hp_origin){ 0 };
		}
	}
	return 0;
}

/* The row a config file's `key` names, or NULL with the reason in err. */
static const struct opt_def *config_row(const char *key, char *err, size_t errlen)
{
	const struct opt_def *d = find_name(key);
	if (!d || d->type == HP_OT_ACTION) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return NULL;
	}
	if (d->no_config) {
		snprintf(err, errlen, "'%s' makes no sense in a config file (give --%s on the command line)", key, key);
		return NULL;
	}
	return d;
}

int hp_options_set(struct hp_options *o, const char *key, const char *value, const struct hp_origin *from,
                   char *err, size_t errlen)
{
	const struct opt_def *d = config_row(key, err, errlen);
	return d ? apply(o, d, value, from, err, errlen) : -1;
}

/* Row d's field back to its built-in default (the row's size by its type). */
static void reset_row(struct hp_options *o, const struct opt_def *d)
{
	static const struct hp_options defaults = HP_OPTIONS_INIT;
	size_t size = 0;
	switch (d->type) {
	case HP_OT_FLAG: size = sizeof(bool); break;
	case HP_OT_COUNT: case HP_OT_SET: case HP_OT_INT: case HP_OT_ENUM: size = sizeof(int); break;
	case HP_OT_DOUBLE: case HP_OT_SECONDS: case HP_OT_RATE: size = sizeof(double); break;
	case HP_OT_SIZE: size = sizeof(long long); *size_arg(o, d) = NULL; break;
	case HP_OT_STRING: case HP_OT_FILE: case HP_OT_DIR: size = sizeof(const char *); break;
	case HP_OT_CUSTOM: case HP_OT_ACTION: break;
	}
	if (d->custom == set_key)
		key_free(o);
	else if (d->custom == set_junit)
		o->predict.junit = NULL;
	else if (d->custom == set_classes)
		hp_class_list_clear(&o->predict.filter.classes);
	else
		clear_list(o, d); /* --field, --expect */
	if (size && d->off >= 0)
		memcpy((char *)o + d->off, (const char *)&defaults + d->off, size);
	o->origin[row_of(d)] = (struct hp_origin){ 0 };
}

int hp_options_unset(struct hp_options *o, const char *key, char *err, size_t errlen)
{
	const struct opt_def *d = config_row(key, err, errlen);
	if (!d)
		return -1;
	reset_row(o, d);
	return 0;
}

void hp_options_endpoint_spec(const struct hp_options *o, struct hp_endpoint_spec *spec)
{
	*spec = (struct hp_endpoint_spec){
		.model = o->model,
		.url = o->url,
		.has_key = o->api_key != NULL,
		.platform_key = o->api_key && strncmp(o->api_key, "ul_", 3) == 0,
		.api = o->api,
		.normalize = o->predict.normalize,
		.decimals = o->predict.decimals >= 0,
		.iou = o->predict.iou,
		.platform_url = getenv("ULTRALYTICS_PLATFORM_URL"),
	};
}

void hp_options_transport(const struct hp_options *o, struct hp_transport *t)
{
	*t = (struct hp_transport){
		.connect_timeout = o->connect_timeout,
		.timeout = o->timeout,
		.cacert = o->cacert,
		.insecure = o->insecure,
		.verbose = o->verbose,
		.stall_seconds = 60,
	};
	const char *stall = getenv("HUBPREDICT_STALL_SECONDS");
	long s;
	if (stall && hp_parse_long(stall, 1, 3600, &s) == 0)
		t->stall_seconds = s;
}

void hp_options_form(const struct hp_options *o, double iou, struct hp_form *f)
{
	*f = (struct hp_form){
		.imgsz = o->predict.imgsz,
		.conf = o->predict.conf,
		.iou = iou,
		.normalize = o->predict.normalize,
		.decimals = o->predict.decimals,
		.fields = o->predict.fields,
		.n_fields = o->predict.n_fields,
	};
}

void hp_options_frames(const struct hp_options *o, long long upload_max, struct hp_frames_config *c)
{
	*c = (struct hp_frames_config){
		.vid_stride = o->predict.vid_stride,
		.fps = o->predict.fps,
		.stream = o->predict.stream,
		.frames = o->predict.frames,
		.duration = o->predict.duration,
		.imgsz = o->predict.resize ? o->predict.imgsz : 0,
		.pixels = o->predict.annotate != NULL,
		.upload_max = upload_max,
	};
}

void hp_options_platform_config(const struct hp_options *o, struct hp_platform_config *c)
{
	const struct opt_def *url_row = find_name("url");
	*c = (struct hp_platform_config){
		.key = o->api_key,
		.url = url_row && o->origin[row_of(url_row)].source == HP_SOURCE_ARG ? o->url : NULL,
		.platform_url = getenv("ULTRALYTICS_PLATFORM_URL"),
		.retries = o->retries,
		.retry_max_time = o->retry_max_time,
		.owner = o->deploy.owner,
	};
	hp_options_transport(o, &c->transport);
}

void hp_options_where(const struct hp_options *o, const char *name, char *buf, size_t len)
{
	const struct opt_def *d = find_name(name);
	const struct hp_origin *from = d ? &o->origin[row_of(d)] : NULL;
	buf[0] = '\0';
	if (from && (from->source == HP_SOURCE_FILE || from->source == HP_SOURCE_PROFILE))
		snprintf(buf, len, "%s:%d: ", from->file, from->line);
}

/* x as the shortest text that reads back as x ("2592000", not "2.592e+06"). */
static void number_text(double x, char *buf, size_t len)
{
	if (x == floor(x) && fabs(x) < 1e15) {
		snprintf(buf, len, "%.0f", x);
		return;
	}
	for (int digits = 6; digits <= 17; digits++) {
		snprintf(buf, len, "%.*g", digits, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}

/* A --rate interval as N/s, N/m or N/h, the first unit that says it in six
 * digits ("7/m", not "0.116666666666667/s"). */
static void rate_text(double interval, char *buf, size_t len)
{
	static const struct { double period; const char *unit; } units[] = { { 1, "s" }, { 60, "m" }, { 3600, "h" } };
	char n[64];
	for (size_t u = 0; u < 3; u++) {
		snprintf(n, sizeof n, "%g", units[u].period / interval);
		if (units[u].period / strtod(n, NULL) == interval) {
			snprintf(buf, len, "%s/%s", n, units[u].unit);
			return;
		}
	}
	number_text(1.0 / interval, n, sizeof n);
	snprintf(buf, len, "%s/s", n);
}

/* Is x inside the row's range lo..hi? Outside is a sentinel (-1: not set). */
static bool in_range(const struct opt_def *d, double x)
{
	double lo, hi;
	return hp_parse_double(d->lo, -HUGE_VAL, HUGE_VAL, &lo) == 0 && hp_parse_double(d->hi, -HUGE_VAL, HUGE_VAL, &hi) == 0 &&
	       x >= lo && x <= hi;
}

/* A CUSTOM row's value: repeatable ones a line per value. */
static void custom_value(const struct hp_options *o, const struct opt_def *d, char *buf, size_t len)
{
	size_t used = 0;
	if (d->custom == set_key && o->api_key)
		snprintf(buf, len, "[redacted]");
	else if (d->custom == set_junit && o->predict.junit)
		snprintf(buf, len, "%s", o->predict.junit);
	else if (d->custom == set_shard && o->predict.shard_n)
		snprintf(buf, len, "%lu/%lu", o->predict.shard_k, o->predict.shard_n);
	for (size_t k = 0; d->custom == set_expect && k < o->predict.n_expects && used < len; k++) {
		if (k)
			buf[used++] = '\n';
		hp_expect_format(buf + used, len - used, &o->predict.expects[k]);
		used += strlen(buf + used);
	}
	for (size_t k = 0; d->custom == set_classes && k < o->predict.filter.classes.n && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? "," : "", o->predict.filter.classes.items[k].name);
	for (size_t k = 0; d->custom == set_field && k < o->predict.n_fields && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? "\n" : "", o->predict.fields[k]);
}

void hp_options_value(const struct hp_options *o, size_t i, char *buf, size_t len)
{
	const struct opt_def *d = &opt_table[i];
	const void *field = d->off >= 0 ? (const char *)o + d->off : NULL;
	buf[0] = '\0';
	if (d->note && o->origin[i].source == HP_SOURCE_DEFAULT)
		return; /* --baseline-iou's default: set, it would need --baseline */
	switch (d->type) {
	case HP_OT_FLAG: snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false"); break;
	case HP_OT_COUNT: snprintf(buf, len, "%d", *(const int *)field); break;
	case HP_OT_SET: if (*(const int *)field == d->set) snprintf(buf, len, "true"); break;
	case HP_OT_INT:
		if (in_range(d, *(const int *)field))
			snprintf(buf, len, "%d", *(const int *)field);
		break;
	case HP_OT_DOUBLE: case HP_OT_SECONDS:
		if (in_range(d, *(const double *)field))
			number_text(*(const double *)field, buf, len);
		break;
	case HP_OT_RATE: if (*(const double *)field > 0) rate_text(*(const double *)field, buf, len); break;
	case HP_OT_SIZE: {
		bool answer = d->off == (ptrdiff_t)AT(predict.max_answer);
		const char *arg = answer ? o->predict.max_answer_arg : o->predict.max_upload_arg;
		snprintf(buf, len, "%s", arg ? arg : answer ? "4G" : "100M");
		break;
	}
	case HP_OT_STRING: case HP_OT_FILE: case HP_OT_DIR:
		snprintf(buf, len, "%s", *(const char *const *)field ? *(const char *const *)field : ""); break;
	case HP_OT_ENUM: {
		int want = *(const int *)field, n = 0;
		for (const char *w = d->lo; *w; n++) {
			size_t wl = strcspn(w, " ");
			if (n == want && !(d->off == (ptrdiff_t)AT(api) && n == 0)) /* auto: not a value */
				snprintf(buf, len, "%.*s", (int)wl, w);
			w += wl + (w[wl] == ' ');
		}
		break;
	}
	case HP_OT_CUSTOM: custom_value(o, d, buf, len); break;
	case HP_OT_ACTION: break;
	}
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return HP_PARSE_ERROR; } while (0)

struct given {
	const struct opt_def *d;
	char *value;           /* argv's (NULL for a flag) */
};

/* A row that another row of the same name stands in for with this command
 * (deploy's --model is PROJECT/MODEL, predict's a model ID; bench's -u is
 * repeatable where every other command's is one URL): the other row takes
 * the command and this one does not, or the other is that command's alone. */
static bool shadowed(const struct opt_def *d, unsigned command)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *o = &opt_table[i];
		if (o == d || !(o->cmds & command) || strcmp(o->name, d->name) != 0)
			continue;
		if (!(d->cmds & command) || (o->cmds == command && d->cmds != command))
			return true;
	}
	return false;
}

/* getopt_long's tables, from the option table. */
static void getopt_tables(struct option *longopts, char *shortopts, unsigned command)
{
	size_t sp = 0, lp = 0;
	shortopts[sp++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		if (!shadowed(d, command))
			longopts[lp++] = (struct option){ d->name, d->arg ? required_argument : no_argument, NULL, d->id };
		if (d->id < 256) {
			shortopts[sp++] = (char)d->id;
			if (d->arg)
				shortopts[sp++] = ':';
		}
	}
	shortopts[sp] = '\0';
	longopts[lp] = (struct option){ 0, 0, 0, 0 };
}

/* argv's options into given[] (applied after the config file and the
 * environment, so they win); --help and --version noted. */
static enum hp_parse_result collect(int argc, char **argv, unsigned command, struct given *given, size_t *n,
                                    bool *help, bool *version, char *err, size_t errlen)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[3 * N_OPTS + 2];
	getopt_tables(longopts, shortopts, command);
	int c;
	opterr = 0;
	optind = 0; /* glibc: 0 also resets its internal state */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct opt_def *d = c == ':' || c == '?' ? NULL : find_id(c, command);
		if (c == ':')
			BAD("option '%s' needs a value", argv[optind - 1]);
		if (!d) {
			if (optopt && optopt < 256)
				BAD("unknown option -%c", optopt);
			BAD("unknown option '%s'", argv[optind - 1]);
		}
		if (!(d->cmds & command))
			BAD("--%s does not go with this command", d->name);
		if (d->id == 'h')
			*help = true;
		else if (d->id == 'V')
			*version = true;
		else
			given[(*n)++] = (struct given){ d, d->arg ? optarg : NULL };
	}
	return HP_PARSE_RUN;
}

/* The rows whose variable is set (and not empty), as the environment layer.
 * The key's variable is not a layer of its own: resolve_key() reads it. */
static int apply_env(struct hp_options *o, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		const char *v = d->env ? getenv(d->env) : NULL;
		if (!v || !*v || d->custom == set_key || d->off == (ptrdiff_t)AT(config) || d->off == (ptrdiff_t)AT(profile))
			continue;
		struct hp_origin from = { .source = HP_SOURCE_ENV, .env = d->env };
		if (apply(o, d, v, &from, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* --config, --no-config and --profile first: they pick the file and the profile. */
static int apply_meta(struct hp_options *o, const struct given *given, size_t n, char *err, size_t errlen)
{
	struct hp_origin arg = { .source = HP_SOURCE_ARG };
	for (size_t i = 0; i < n; i++) {
		ptrdiff_t off = given[i].d->off;
		if ((off == (ptrdiff_t)AT(config) || off == (ptrdiff_t)AT(no_config) || off == (ptrdiff_t)AT(profile)) &&
		    apply(o, given[i].d, given[i].value, &arg, err, errlen) < 0)
			return -1;
	}
	const char *ec = getenv("HUBPREDICT_CONFIG"), *ep = getenv("HUBPREDICT_PROFILE");
	if (!o->config && ec && *ec) {
		o->config = ec;
		o->origin[row_of(find_name("config"))] = (struct hp_origin){ .source = HP_SOURCE_ENV, .env = "HUBPREDICT_CONFIG" };
	}
	if (!o->profile && ep && *ep) {
		o->profile = ep;
		o->origin[row_of(find_name("profile"))] = (struct hp_origin){ .source = HP_SOURCE_ENV, .env = "HUBPREDICT_PROFILE" };
	}
	return 0;
}

/* "FILE:LINE: " when option `name` came from a config file, else "" (a
 * static buffer, two in turn: a message may hold two). */
static const char *at(const struct hp_options *o, const char *name)
{
	static char buf[2][1100];
	static int next;
	char *b = buf[next++ % 2];
	hp_options_where(o, name, b, sizeof buf[0]);
	return b;
}

/* Every layer, lowest first: config file (top, then profile), environment, command line. */
static enum hp_parse_result apply_layers(struct hp_options *o, const struct given *given, size_t n,
                                         char *err, size_t errlen)
{
	if (apply_meta(o, given, n, err, errlen) < 0 || hp_config_load(o, err, errlen) < 0 || apply_env(o, err, errlen) < 0)
		return HP_PARSE_ERROR;
	struct hp_origin arg = { .source = HP_SOURCE_ARG };
	for (size_t i = 0; i < n; i++)
		if (apply(o, given[i].d, given[i].value, &arg, err, errlen) < 0)
			return HP_PARSE_ERROR;
	/* the highest layer naming the model or the URL won as a whole; two of
	 * them in one layer remain */
	if (o->predict.deployment && (o->model || o->url))
		BAD("%s--deployment and %s both name the endpoint: keep one", at(o, "deployment"),
		    o->model ? "the model" : "the URL");
	if (o->model && o->url) {
		enum hp_source s = o->origin[row_of(find_name("url"))].source;
		if (s == HP_SOURCE_ARG)
			BAD("-u and -m both name the endpoint: drop -m to post to the URL '%s' as given, or drop -u to use "
			    "the model's URL", o->url);
		if (s == HP_SOURCE_ENV)
			BAD("HUBPREDICT_MODEL and HUBPREDICT_URL are both set: unset one, or give -m or -u");
		const struct hp_origin *u = &o->origin[row_of(find_name("url"))];
		BAD("%s:%d: model and url both name the endpoint: keep one", u->file, u->line);
	}
	return HP_PARSE_RUN;
}

/* The video options: one way to choose frames; none without video support. */
static enum hp_parse_result check_video(struct hp_options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "vid-stride", "fps", "stream", "frames", "duration" };
	const struct hp_predict_options *p = &o->predict;
	bool given[] = { p->vid_stride > 0, p->fps > 0, p->stream, p->frames > 0, p->duration > 0 };
	for (size_t i = 0; i < sizeof names / sizeof names[0] && !hp_video_supported(); i++)
		if (given[i])
			BAD("%s--%s: this build of hubpredict has no video support (it was built with "
			    "-DHUBPREDICT_VIDEO=OFF)", at(o, names[i]), names[i]);
	if (p->vid_stride > 0 && p->fps > 0)
		BAD("%s--vid-stride and --fps both choose the frames: give one", at(o, "fps"));
	return HP_PARSE_RUN;
}

/* Checks across options. */
static enum hp_parse_result check_combinations(struct hp_options *o, char *err, size_t errlen)
{
	size_t n_stdin = 0;
	for (size_t i = 0; i < o->n_inputs; i++)
		n_stdin += strcmp(o->inputs[i], "-") == 0;
	if (n_stdin > 1)
		BAD("standard input ('-') can be given only once");
	bool list_on_stdin = o->predict.files_from && strcmp(o->predict.files_from, "-") == 0;
	bool key_on_stdin = o->api_key_file && strcmp(o->api_key_file, "-") == 0 &&
	                    o->origin[row_of(find_name("api-key-file"))].source > o->origin[row_of(find_name("api-key"))].source;
	if (n_stdin + list_on_stdin + key_on_stdin > 1)
		BAD("standard input can feed only one of: an INPUT '-', --files-from -, --api-key-file -");
	if (o->predict.baseline && !o->predict.filter_flag)
		o->predict.filter_flag = "baseline";
	if (o->predict.baseline_tol_flag && !o->predict.baseline)
		BAD("%s--%s goes with --baseline", at(o, o->predict.baseline_tol_flag), o->predict.baseline_tol_flag);
	if (o->predict.filter_flag && o->format == HP_FORMAT_RAW)
		BAD("%s--%s needs a parsed format, not -f raw (use -f json to keep the server's document)",
		    at(o, "format"), o->predict.filter_flag);
	if (o->predict.save_txt && o->format == HP_FORMAT_RAW)
		BAD("%s--save-txt needs a parsed format, not -f raw (use -f json to keep the server's document)",
		    at(o, "format"));
#ifndef HP_HAVE_IMAGES
	if (o->predict.annotate || o->predict.resize)
		BAD("%s: this build of hubpredict has no image support (it was built with -DHUBPREDICT_IMAGES=OFF)",
		    o->predict.annotate ? "--annotate" : "--resize");
	if (o->val.plots || o->bench.plots)
		BAD("--plots: this build of hubpredict has no image support (it was built with -DHUBPREDICT_IMAGES=OFF)");
#endif
	if (o->predict.annotate && o->format == HP_FORMAT_RAW)
		BAD("%s--annotate needs a parsed format, not -f raw (use -f json to keep the server's document)",
		    at(o, "format"));
	if (o->predict.save_conf && !o->predict.save_txt)
		BAD("%s--save-conf goes with --save-txt DIR", at(o, "save-conf"));
	if (o->predict.junit && o->predict.output && hp_output_same_file(o->predict.junit, o->predict.output))
		BAD("%s--junit and --output name the same file '%s'", at(o, "junit"), o->predict.junit);
	if (o->predict.resume && o->predict.output && hp_output_same_file(o->predict.resume, o->predict.output))
		BAD("--resume and --output name the same file '%s'", o->predict.resume);
	if (o->predict.resume && o->predict.junit && hp_output_same_file(o->predict.resume, o->predict.junit))
		BAD("--resume and --junit name the same file '%s'", o->predict.resume);
	if (o->predict.null_separated && !o->predict.files_from)
		BAD("%s-0 goes with --files-from", at(o, "null"));
	return check_video(o, err, errlen);
}

/* Where the key came from, in words ("command line", "env ...", "FILE:LINE"). */
static void note_key_source(struct hp_options *o, const struct hp_origin *from, const char *what)
{
	char buf[1200];
	if (from->source == HP_SOURCE_ARG)
		snprintf(buf, sizeof buf, "command line (%s)", what);
	else if (from->source == HP_SOURCE_ENV)
		snprintf(buf, sizeof buf, "env %s", from->env);
	else
		snprintf(buf, sizeof buf, "%s:%d%s%s%s (%s)", from->file, from->line, from->profile ? " [profile " : "",
		         from->profile ? from->profile : "", from->profile ? "]" : "", what);
	free(o->key_from);
	o->key_from = strdup(buf);
}

/* The key, first found wins: -k; --api-key-file; $ULTRALYTICS_API_KEY; the
 * config's api-key or api-key-file; the key `yolo login` saved. */
static enum hp_parse_result resolve_key(struct hp_options *o, char *err, size_t errlen)
{
	struct hp_origin *ko = &o->origin[row_of(find_name("api-key"))];
	struct hp_origin *fo = &o->origin[row_of(find_name("api-key-file"))];
	const char *env = getenv("ULTRALYTICS_API_KEY");
	bool file_wins = o->api_key_file && fo->source > ko->source;
	if (ko->source == HP_SOURCE_ARG || (!file_wins && ko->source != HP_SOURCE_DEFAULT && !(env && *env))) {
		note_key_source(o, ko, "api-key");
	} else if (file_wins && (fo->source == HP_SOURCE_ARG || !(env && *env))) {
		char label[1100] = "--api-key-file";
		if (fo->source == HP_SOURCE_FILE || fo->source == HP_SOURCE_PROFILE)
			snprintf(label, sizeof label, "%s:%d: api-key-file", fo->file, fo->line);
		key_free(o);
		o->api_key = read_key_file(o->api_key_file, label, err, errlen);
		if (!o->api_key)
			return HP_PARSE_ERROR;
		note_key_source(o, fo, "api-key-file");
	} else if (env && *env) {
		struct hp_origin from = { .source = HP_SOURCE_ENV, .env = "ULTRALYTICS_API_KEY" };
		if (set_key(o, NULL, env, &from, err, errlen) < 0)
			return HP_PARSE_ERROR;
		*ko = from;
		note_key_source(o, &from, "");
	} else if (hp_config_yolo_key(o, err, errlen) < 0) {
		return HP_PARSE_ERROR;
	}
	const char *src = file_wins && o->api_key_file ? at(o, "api-key-file") : at(o, "api-key");
	if (ko->source == HP_SOURCE_ENV || (ko->source == HP_SOURCE_DEFAULT && !file_wins))
		src = "";
	if (o->api_key && !*o->api_key)
		BAD("%sthe API key is empty (an unset variable or CI secret?); give --api-key-file FILE, set "
		    "ULTRALYTICS_API_KEY, or -k KEY", src);
	if (o->api_key && strlen(o->api_key) > 512)
		BAD("%sthe API key is %zu characters long, keys are at most 512; check what was pasted", src,
		    strlen(o->api_key));
	if (o->api_key && !key_ok(o->api_key))
		BAD("%sthe API key has spaces, control or non-ASCII characters; check how it was copied", src);
	/* no key at all is fine here: Platform's public models need none; predict
	 * refuses it for HUB once the flavour is known */
	return HP_PARSE_RUN;
}

enum hp_parse_result hp_options_parse_for(struct hp_options *o, unsigned command, int argc, char **argv,
                                          char *err, size_t errlen)
{
	struct given *given = calloc((size_t)argc + 1, sizeof *given);
	bool help = false, version = false;
	size_t n = 0;
	enum hp_parse_result r;
	if (!given)
		BAD("out of memory");
	r = collect(argc, argv, command, given, &n, &help, &version, err, errlen);
	if (r == HP_PARSE_RUN && (help || version)) {
		/* values are still checked, as they always were */
		struct hp_origin arg = { .source = HP_SOURCE_ARG };
		for (size_t i = 0; i < n && r == HP_PARSE_RUN; i++)
			if (apply(o, given[i].d, given[i].value, &arg, err, errlen) < 0)
				r = HP_PARSE_ERROR;
	}
	if (r != HP_PARSE_RUN || help || version)
		goto done;
	o->inputs = argv + optind;
	o->n_inputs = (size_t)(argc - optind);
	if ((r = apply_layers(o, given, n, err, errlen)) != HP_PARSE_RUN ||
	    (r = check_combinations(o, err, errlen)) != HP_PARSE_RUN)
		goto done;
	if (command == HP_CMD_PREDICT && o->n_inputs == 0 && !o->predict.files_from) {
		snprintf(err, errlen, "no INPUT given (an image, a video, a directory or '-')");
		r = HP_PARSE_ERROR;
		goto done;
	}
	if (command != HP_CMD_PREDICT && command != HP_CMD_DEPLOY && command != HP_CMD_VAL && command != HP_CMD_BENCH &&
	    o->n_inputs > 0) {
		snprintf(err, errlen, "unexpected argument '%s'", o->inputs[0]);
		r = HP_PARSE_ERROR;
		goto done;
	}
	if (o->quiet)
		o->predict.progress = HP_OFF; /* -q: no progress, whatever else was said */
	hp_msg_set_quiet(o->quiet); /* before the key file can warn */
	r = resolve_key(o, err, errlen);
done:
	free(given);
	if (r == HP_PARSE_RUN && help) {
		if (command == HP_CMD_PREDICT)
			hp_options_usage();
		r = HP_PARSE_HELP;
	} else if (r == HP_PARSE_RUN && version) {
		r = HP_PARSE_VERSION;
	}
	return r;
}

enum hp_parse_result hp_options_parse(struct hp_options *o, int argc, char **argv, char *err, size_t errlen)
{
	return hp_options_parse_for(o, HP_CMD_PREDICT, argc, argv, err, errlen);
}

void hp_options_free(struct hp_options *o)
{
	if (!o)
		return;
	key_free(o);
	for (size_t i = 0; i < o->predict.n_expects; i++)
		hp_expect_clear(&o->predict.expects[i]);
	free(o->predict.expects);
	o->predict.expects = NULL;
	o->predict.n_expects = 0;
	hp_class_list_clear(&o->predict.filter.classes);
	for (size_t i = 0; i < o->val.n_gates; i++)
		hp_val_gate_clear(&o->val.gates[i]);
	free(o->val.gates);
	o->val.gates = NULL;
	o->val.n_gates = 0;
	free(o->bench.gates);
	free(o->bench.endpoints);
	o->bench = (struct hp_bench_options){ 0 };
	free(o->predict.fields);
	o->predict.fields = NULL;
	o->predict.n_fields = 0;
	free(o->config_path);
	o->config_path = NULL;
	for (size_t i = 0; i < o->n_config_paths; i++)
		free(o->config_paths[i]);
	free(o->config_paths);
	o->config_paths = NULL;
	o->n_config_paths = 0;
	free(o->config_text);
	o->config_text = NULL;
	free(o->key_from);
	o->key_from = NULL;
}
