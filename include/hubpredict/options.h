/* options.h - the parsed command line, as a plain struct.
 *
 * Parsing only fills struct hp_options (it sends nothing, opens nothing but the
 * key file and the config file); endpoint.h turns it into a URL and a flavour,
 * request.h into libcurl calls. One table in options.c drives getopt_long,
 * --help, the config file (config.h), `hubpredict config`, the completions and
 * the docs test: each option is one row (names, type, range, field, variable,
 * config key, commands, help), and every value, wherever it comes from, goes
 * through the same validation with one message per type.
 */
#ifndef HUBPREDICT_OPTIONS_H
#define HUBPREDICT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include "hubpredict/endpoint.h" /* enum hp_flavour */
#include "hubpredict/expect.h"
#include "hubpredict/render.h" /* enum hp_format */
enum hp_tristate { HP_AUTO = -1, HP_OFF = 0, HP_ON = 1 };

/* Where a setting came from, lowest precedence first (hubpredict(1), FILES). */
enum hp_source { HP_SOURCE_DEFAULT = 0, HP_SOURCE_FILE, HP_SOURCE_PROFILE, HP_SOURCE_ENV, HP_SOURCE_ARG };

struct hp_origin {
	enum hp_source source;
	const char *file;           /* HP_SOURCE_FILE/PROFILE: the config file (borrowed) */
	int line;                   /* its line */
	const char *profile;        /* HP_SOURCE_PROFILE: the profile's name (borrowed) */
	const char *env;            /* HP_SOURCE_ENV: the variable's name (static) */
};

/* Upper bound of the option table's rows (checked in options.c). */
#define HP_MAX_OPTIONS 96

/* `hubpredict deploy`'s own options (hubpredict(1), DEPLOYMENTS); strings are argv's or the
 * config file's (borrowed). */
struct hp_deploy_options {
	bool wait;                  /* --wait: after create, start, stop */
	int wait_for;               /* --for: 0 ready, 1 stopped */
	double wait_timeout;        /* --wait-timeout SEC (default 600) */
	const char *status;         /* --status STATE (list) */
	const char *model;          /* --model PROJECT/MODEL (list, create) */
	const char *region;         /* --region (create) */
	const char *display_name;   /* --display-name (create) */
	const char *severity;       /* --severity LIST (logs) */
	int limit;                  /* --limit N (list, logs), 0 = the API's default */
	int range_index;            /* --range (metrics): 0 24h (the default), 1h, 6h, 7d, 30d */
	bool yes;                   /* --yes (delete) */
	const char *owner;          /* --owner, or the config's owner */
};

/* predict's own options, the rows of the option table that only predict takes
 * (hubpredict(1), OPTIONS); strings are argv's or the config file's (borrowed)
 * unless marked owned. */
struct hp_predict_options {
	int imgsz;                  /* 32..1280 */
	double conf;                /* 0.01..1 */
	double iou;                 /* 0..0.95; < 0 means "the flavour's default" */
	bool normalize;             /* Platform only */
	int decimals;               /* 0..10, -1 = not sent */
	const char **fields;        /* --field NAME=VALUE, in order (array owned, strings argv's) */
	size_t n_fields;

	const char *output;         /* -o FILE, NULL = stdout */

	int jobs;                   /* 1..64 */
	double rate_interval;       /* seconds between request starts, 0 = unlimited */
	double cold_start_wait;     /* --cold-start-wait: seconds of 503s (or refused
	                               connections to -u) waited out without using up
	                               --retries; 0 = off */

	struct hp_expect *expects;  /* --expect, in order (owned) */
	size_t n_expects;
	struct hp_filter filter;    /* --min-conf, --classes (classes owned) */
	const char *filter_flag;    /* the long name (static) of the first of --expect/--min-conf/
	                               --classes given (or --baseline): these need a parsed format */
	const char *baseline;       /* --baseline FILE */
	double baseline_iou;        /* --baseline-iou, 0..1 */
	double baseline_conf;       /* --baseline-conf, 0..1 */
	const char *baseline_tol_flag; /* the long name of the first of --baseline-iou/--baseline-conf given */
	const char *save_txt;       /* --save-txt DIR, NULL = no label files */
	bool save_conf;             /* --save-conf */
	const char *junit;          /* --junit FILE, NULL = no report */
	const char *annotate;       /* --annotate DIR, NULL = no pictures */
	bool resize;                /* --resize: downsize to --imgsz before upload */
	int vid_stride;             /* --vid-stride N, 0 = not given */
	double fps;                 /* --fps X, 0 = not given */
	bool stream;                /* --stream: an http(s) INPUT is a live stream */
	int frames;                 /* --frames N, 0 = no limit */
	double duration;            /* --duration SEC, 0 = no limit */
	long long max_upload;       /* --max-upload in bytes, 0 = no limit (default 100 MiB) */
	const char *max_upload_arg; /* --max-upload as given, NULL = the default */
	long long max_answer;       /* --max-answer in bytes, 0 = no limit (default 4 GiB) */
	const char *max_answer_arg; /* --max-answer as given, NULL = the default */

	const char *resume;         /* --resume LOG */
	unsigned long shard_k;      /* --shard K/N; shard_n 0 = every input */
	unsigned long shard_n;

	bool recursive;             /* -r */
	const char *files_from;     /* --files-from FILE ("-" = stdin) */
	bool null_separated;        /* -0 */

	bool fail_fast;
	enum hp_tristate progress;
	bool dry_run;

	const char *deployment;     /* --deployment NAME: predict on a deployment's serviceUrl */
};

struct hp_val_gate;
/* `hubpredict val`'s own options (hubpredict(1), VAL). */
struct hp_val_options {
	int split;                  /* --split: 0 val (the default), 1 test, 2 train */
	bool skip_bad_labels;       /* --skip-bad-labels: warn and leave the image out */
	int allow_failed;           /* --allow-failed N: failed images left out, up to N */
	struct hp_val_gate *gates;  /* --expect metric checks, in order (owned) */
	size_t n_gates;
	const char *plots;          /* --plots DIR: the curves and the confusion matrix as PNGs */
};

struct hp_gate;
/* One endpoint of `hubpredict bench`: a -u URL or a --deployment NAME (one of
 * them set; argv's strings, borrowed). */
struct hp_bench_endpoint {
	const char *url;
	const char *deployment;
};

/* `hubpredict bench`'s own options (hubpredict(1), BENCH). */
struct hp_bench_options {
	long requests;              /* -n N, 0 = not given */
	double duration;            /* --duration SEC, 0 = not given */
	long warmup;                /* --warmup N: not counted */
	int max_jobs;               /* --max-jobs N: the open loop's connections (default 256) */
	double max_error_rate;      /* --max-error-rate PCT (0-100), < 0 = none */
	struct hp_gate *gates;      /* --expect gates, in order (owned) */
	size_t n_gates, cap_gates;
	struct hp_bench_endpoint *endpoints; /* -u and --deployment in order (array owned) */
	size_t n_endpoints, cap_endpoints;
	const char *plots;          /* --plots DIR: the latency by percentile and over time as PNGs */
};

/* The options of one run: what several commands take here, each command's own
 * in its block (predict, deploy). */
struct hp_options {
	const char *model;          /* -m, or $HUBPREDICT_MODEL; NULL when neither */
	char *api_key;              /* resolved key (owned), from -k, --api-key-file or env */
	const char *api_key_file;   /* --api-key-file */
	const char *url;            /* -u, or $HUBPREDICT_URL */
	enum hp_flavour api;        /* --api; AUTO until endpoint resolution */

	enum hp_format format;      /* -f (predict, deploy) */

	int retries;                /* >= 0 */
	double retry_max_time;      /* seconds */
	double connect_timeout;     /* seconds */
	double timeout;             /* seconds, 0 = none */
	const char *cacert;
	bool insecure;

	const char *cache;          /* --cache DIR, NULL = no cache (predict, cache) */
	double cache_ttl;           /* --cache-ttl, seconds */
	double older_than;          /* cache prune --older-than, < 0 = --cache-ttl */

	int verbose;
	bool quiet;

	struct hp_predict_options predict;
	struct hp_deploy_options deploy;
	struct hp_val_options val;
	struct hp_bench_options bench;

	char **inputs;              /* positional INPUTs (argv slice, not owned) */
	size_t n_inputs;

	/* configuration (hubpredict(1), FILES) */
	const char *config;         /* --config FILE, or $HUBPREDICT_CONFIG */
	bool no_config;             /* --no-config */
	const char *profile;        /* --profile NAME, or $HUBPREDICT_PROFILE */
	char *config_path;          /* the file read, NULL = none (owned) */
	char *config_text;          /* its text: config values point into it (owned) */
	char *key_from;             /* where the key came from, for -v and `config` (owned) */
	char **config_paths;        /* the config's path values with ~ expanded or made
	                               absolute: the strings the fields point to (owned) */
	size_t n_config_paths;
	struct hp_origin origin[HP_MAX_OPTIONS]; /* per table row, in table order */
};

#define HP_OPTIONS_INIT { .retries = 3, .retry_max_time = 600.0, .connect_timeout = 10.0, \
	.cache_ttl = 2592000.0, .older_than = -1.0, \
	.predict = { .imgsz = 640, .conf = 0.25, .iou = -1.0, .decimals = -1, .jobs = 4, .cold_start_wait = 90.0, \
	             .progress = HP_AUTO, .filter = { .min_conf = -1.0 }, .baseline_iou = 0.5, .baseline_conf = 0.10, \
	             .max_upload = 100LL * 1024 * 1024, \
	             .max_answer = 4LL * 1024 * 1024 * 1024 }, \
	.deploy = { .wait_timeout = 600.0 }, .bench = { .max_jobs = 256, .max_error_rate = -1.0 } }

enum hp_parse_result {
	HP_PARSE_RUN = 0,     /* go on and run */
	HP_PARSE_HELP,        /* --help was printed: exit 0 */
	HP_PARSE_VERSION,     /* caller prints the version: exit 0 */
	HP_PARSE_ERROR        /* err holds the one-line message: exit 2 */
};

/* Parse argv into *o (which must start as HP_OPTIONS_INIT), read the key from
 * -k / --api-key-file / $ULTRALYTICS_API_KEY, and check every value's range.
 * A -k value is wiped from argv so `ps` does not show it. On HP_PARSE_ERROR,
 * err holds a message naming the flag and the allowed range (no trailing
 * newline, no "hubpredict: " prefix). Reads the environment through getenv.
 * Whatever the result, call hp_options_free() afterwards (it frees the key). */
enum hp_parse_result hp_options_parse(struct hp_options *o, int argc, char **argv,
                                      char *err, size_t errlen);

/* Free what hp_options_parse allocated (the key, wiped first; the
 * expectations and the class list). NULL-safe. */
void hp_options_free(struct hp_options *o);

/* Print the --help text to stdout. */
void hp_options_usage(void);
/* The option lines of one command's --help (HP_CMD_DEPLOY), from the table. */
void hp_options_usage_for(unsigned command);

/* Which commands take an option (the table's column): global options work
 * with every command. */
enum { HP_CMD_PREDICT = 1 << 0, HP_CMD_CONFIG = 1 << 1, HP_CMD_CACHE = 1 << 2, HP_CMD_DEPLOY = 1 << 3,
       HP_CMD_VAL = 1 << 4, HP_CMD_BENCH = 1 << 5, HP_CMD_ALL = ~0 };

/* Set the option whose config key is `key` (a long name) from `value`, as
 * coming from `from`, with the command line's checks. "true"/"false" for
 * flags. 0, or -1 with err set (the reason, without FILE:LINE). `value`
 * must outlive *o (config values point into o->config_text). */
int hp_options_set(struct hp_options *o, const char *key, const char *value, const struct hp_origin *from,
                   char *err, size_t errlen);

/* A config file's empty value (`name =`): the option whose config key is
 * `key` back to its built-in default, as if no line of the file had set it
 * (a list emptied). 0, or -1 with err set (unknown, or not for a file). */
int hp_options_unset(struct hp_options *o, const char *key, char *err, size_t errlen);

/* "FILE:LINE: " when the option named `name` took its value from a config
 * file, else "", into buf: the start of a message about that value. */
void hp_options_where(const struct hp_options *o, const char *name, char *buf, size_t len);

/* The table, read-only, for `hubpredict config` and the completions. */
enum hp_opt_type { HP_OT_FLAG, HP_OT_COUNT, HP_OT_SET, HP_OT_INT, HP_OT_DOUBLE, HP_OT_SECONDS, HP_OT_STRING,
                   HP_OT_FILE, HP_OT_DIR, HP_OT_ENUM, HP_OT_RATE, HP_OT_SIZE, HP_OT_CUSTOM, HP_OT_ACTION };
struct hp_opt_info {
	const char *name;           /* long name */
	char short_name;            /* '\0' = none */
	enum hp_opt_type type;
	const char *arg;            /* the value's name in --help, NULL = takes none */
	const char *values;         /* the values to complete: "table json jsonl csv raw", "hub platform"
	                               (not --api's auto), deploy --status's states; NULL = any */
	const char *env;            /* environment variable, or NULL */
	const char *key;            /* config key, NULL = not allowed in a config file */
	unsigned commands;          /* HP_CMD_* */
	ptrdiff_t off;              /* where it is stored: offsetof(struct hp_options, ...), -1 = by a
	                               function of its own (--expect, --classes, --shard, ...) */
};
size_t hp_options_count(void);
/* Row i (0 <= i < hp_options_count()), static. */
void hp_options_info(size_t i, struct hp_opt_info *out);
/* Row i's --help text, its range filled in, into buf. */
void hp_options_help(size_t i, char *buf, size_t len);
/* The effective value of row i in *o as a config file's value into buf: ""
 * when unset or a sentinel (iou -1, decimals -1, timeout 0, api auto), a
 * repeatable option's values a line each (--field, --expect), the key as
 * [redacted]. */
void hp_options_value(const struct hp_options *o, size_t i, char *buf, size_t len);
/* Parse for a command other than predict: only options whose commands
 * include `command` are taken; no INPUT is needed and none is allowed
 * (deploy: its VERB and NAME land in o->inputs). */
enum hp_parse_result hp_options_parse_for(struct hp_options *o, unsigned command, int argc, char **argv,
                                          char *err, size_t errlen);

/* Each long option name, NULL-terminated (for the docs check and tests). */
const char *const *hp_options_long_names(void);

/* The stages' own structs, filled from *o (the stages never see the
 * options): what the endpoint is resolved from (with
 * $ULTRALYTICS_PLATFORM_URL), the transport (with $HUBPREDICT_STALL_SECONDS,
 * which lets the tests check the stall limit without waiting a minute), the
 * form (iou: the resolved endpoint's) and the Platform client (-u only when
 * given on the command line). Strings borrowed from *o and the environment. */
struct hp_transport;
struct hp_form;
struct hp_platform_config;
void hp_options_endpoint_spec(const struct hp_options *o, struct hp_endpoint_spec *spec);
void hp_options_transport(const struct hp_options *o, struct hp_transport *t);
void hp_options_form(const struct hp_options *o, double iou, struct hp_form *f);
void hp_options_platform_config(const struct hp_options *o, struct hp_platform_config *c);
/* The video options (frames.h); upload_max: the flavour's or --max-upload's
 * limit on a whole video, 0 = none. */
struct hp_frames_config;
void hp_options_frames(const struct hp_options *o, long long upload_max, struct hp_frames_config *c);

/* Parse a number for a flag: whole string, in [min, max]. 0 on success. */
int hp_parse_long(const char *s, long min, long max, long *out);
int hp_parse_double(const char *s, double min, double max, double *out);
/* A size: whole bytes, or with a K, M or G suffix (powers of 1024), 0 to
 * 2^50. 0 on success. */
int hp_parse_size(const char *s, long long *out);
/* "N/s", "N/m" or "N/h" into the seconds between two starts. 0 on success;
 * -1 not of that form, -2 faster than 1e9/s, -3 more than a day apart. */
int hp_parse_rate(const char *s, double *interval);

#endif
