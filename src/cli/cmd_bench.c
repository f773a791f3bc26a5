/* cmd_bench.c - `hubpredict bench [OPTIONS] INPUT...` (SPEC §14): latency and
 * throughput of one or several endpoints, as a driver of the one engine
 * (batch.h). The inputs are handed out round-robin by a source of our own;
 * the closed loop is the batch's -j, the open loop its fixed schedule
 * (pacer.h, HP_PACE_SCHEDULE: a late start keeps its scheduled time, so each
 * latency counts from it); an observer records every finished request into
 * bench/'s stats (histogram and phases). No retries: a failure is a
 * measurement, counted by exit class and HTTP status; a 429 pauses every
 * start for its Retry-After (the engine says so). The same schedule is
 * replayed against each endpoint in turn, one column each. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/batch.h"
#include "hubpredict/benchstats.h"
#include "hubpredict/buf.h"
#include "hubpredict/clock.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/gate.h"
#include "hubpredict/histogram.h"
#include "hubpredict/image.h"
#include "hubpredict/inputs.h"
#include "hubpredict/junit.h"
#include "hubpredict/media.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/output.h"
#include "hubpredict/phases.h"
#include "hubpredict/preflight.h"
#include "hubpredict/progress.h"
#include "hubpredict/render.h"
#include "hubpredict/request.h"
#include "hubpredict/response.h"
#include "hubpredict/signals.h"
#include "hubpredict/text.h"
#include "hubpredict/timings.h"
#include "hubpredict/transport.h"
#include "hubpredict/upload.h"
#include "bench_plots.h"
#include "cmd.h"

#include <curl/curl.h>
#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_REQUESTS 100
#define ERROR_RATE_AFTER 10   /* --max-error-rate is judged from this many requests on */

/* One endpoint to measure: resolved before anything is sent. */
struct target {
	char *label;                /* owned: the column's name */
	struct hp_endpoint ep;
	char *deployment_url;       /* owned: --deployment's serviceUrl + /predict */
	struct hp_bench_stats *stats;
	struct hp_bench_trace trace;    /* --plots: every counted success */
};

struct bench {
	struct hp_options o;
	struct target *t;
	size_t n_t;
	char **paths;               /* the inputs, listed once (owned) */
	size_t n_paths;
	bool open;                  /* --rate: the open loop */
	double rate;                /* its requests per second */
	unsigned long long limit;   /* requests to hand out per endpoint, warmup included; 0 none */
	/* per endpoint, reset before each */
	struct hp_bench_stats *cur;
	struct hp_bench_trace *trace;   /* the current endpoint's, with --plots; else NULL */
	bool trace_short;           /* out of memory: said once, the charts miss some */
	unsigned long long handed, finished;
	double deadline_ms;         /* closed loop --duration: no start after it (0: none yet) */
	double first_started;       /* the earliest start seen, for first_ms */
	double window_from, window_to; /* the counted requests: first scheduled, last end (ms) */
	bool stop;                  /* --max-error-rate passed: hand out no more */
	bool stopped_error_rate;
	int first_failure;          /* the first failed request's exit status */
	struct hp_progress *progress;
	struct hp_output out, junit;
	bool junit_open;
	char err[1200];
};

static void usage(void)
{
	printf("Usage: hubpredict bench [OPTIONS] INPUT...\n"
	       "Measure an endpoint's latency and throughput: requests cycle over the INPUTs,\n"
	       "closed loop (-j N jobs, each sends its next when its last returns) or open loop\n"
	       "(--rate N/s: a fixed schedule whatever the server does, latency counted from\n"
	       "each request's scheduled start). Several -u/--deployment: one column each, the\n"
	       "same load replayed against each in turn.\n\n"
	       "Options:\n");
	hp_options_usage_for(HP_CMD_BENCH);
	printf("\nIn bench, -f is table or json; --rate is a fixed schedule (not a spacing) and\n"
	       "-j the closed loop's jobs; a failed request is not retried; --expect takes gates;\n"
	       "--junit writes one testcase per gate and endpoint; --plots writes\n"
	       "latency_percentiles.png and latency_over_time.png, a line per endpoint.\n");
	printf("\nExamples:\n"
	       "  hubpredict bench -m MODEL -n 200 -j 4 bus.jpg\n"
	       "  hubpredict bench --deployment cam-eu --deployment cam-us --rate 20/s --duration 60 bus.jpg\n"
	       "  hubpredict bench -u URL --rate 10/s -n 300 --expect 'p95<200ms' --expect 'error_rate<1%%' img.jpg\n\n"
	       "Exit status: 0 ok, 1 a gate unmet (--expect, --max-error-rate), 2 usage, 3 input,\n"
	       "4-10 every request failed (the first failure's, as predict), 11 output.\n"
	       "See hubpredict(1), BENCH.\n");
}

static int usage_error(const char *msg)
{
	hp_msg_error("%s", msg);
	fputs("try 'hubpredict bench --help'\n", stderr);
	return HP_EXIT_USAGE;
}

/* ---- the source: the inputs round-robin -------------------------------- */

static int bench_next(void *state, struct hp_input *in)
{
	struct bench *b = state;
	if (b->stop || (b->limit && b->handed >= b->limit))
		return 0;
	if (!b->open && b->deadline_ms > 0 && hp_clock_ms() >= b->deadline_ms)
		return 0;
	in->path = strdup(b->paths[b->handed % b->n_paths]);
	in->frame = -1;
	b->handed++;
	return 1; /* a NULL path is the engine's "out of memory" for this input */
}

/* ---- the observer: every finished request into the stats --------------- */

static double speed_sum(const struct hp_item *it)
{
	double sum = -1;
	for (size_t i = 0; it->response && i < it->response->n_images; i++) {
		const struct hp_image *im = &it->response->images[i];
		if (im->has_speed)
			sum = (sum < 0 ? 0 : sum) + im->preprocess_ms + im->inference_ms + im->postprocess_ms;
	}
	return sum;
}

/* The live line: requests done, the latency so far, how late the schedule is. */
static void live_line(struct bench *b, bool force)
{
	if (!b->progress)
		return;
	const struct hp_bench_stats *s = b->cur;
	char note[160] = "";
	if (hp_hist_count(s->latency) > 0) {
		int n = snprintf(note, sizeof note, "p50 %.1f ms, p99 %.1f ms",
		                 (double)hp_hist_percentile(s->latency, 50000) / 1000.0,
		                 (double)hp_hist_percentile(s->latency, 99000) / 1000.0);
		if (s->open && n > 0 && (size_t)n < sizeof note)
			snprintf(note + n, sizeof note - (size_t)n, ", behind p99 %.1f ms",
			         (double)hp_hist_percentile(s->behind, 99000) / 1000.0);
	}
	struct hp_progress_state st = {
		.done = (size_t)b->finished, .failed = (size_t)(s->requests - s->ok),
		.total = (size_t)b->limit, .elapsed_s = s->duration_s, .note = note[0] ? note : NULL,
	};
	hp_progress_update(b->progress, &st, force);
}

/* A failure of a kind (exit status, HTTP status) not met before is said,
 * once: the rest are counted in the report. */
static void say_first_of_kind(const struct hp_bench_stats *s, const struct hp_item *it)
{
	for (size_t i = 0; i < s->n_errors; i++)
		if (s->errors[i].exit == it->exit_code && s->errors[i].status == it->http_status)
			return;
	char q[512], kind[48];
	if (it->http_status > 0)
		snprintf(kind, sizeof kind, "%d:%ld", it->exit_code, it->http_status);
	else
		snprintf(kind, sizeof kind, "%d:null", it->exit_code);
	if (it->exit_code == HP_EXIT_INPUT) /* its message names the file */
		hp_msg_error("%s (the first error %s; the rest are counted)", it->message ? it->message : "failed", kind);
	else
		hp_msg_error("%s: %s (the first error %s; the rest are counted)", hp_msg_quote(q, sizeof q, it->file),
		             it->message ? it->message : "failed", kind);
}

static void count_item(struct bench *b, const struct hp_item *it, const struct hp_phases *p, bool sent)
{
	struct hp_bench_stats *s = b->cur;
	const struct hp_timings *t = it->timings;
	if (t->scheduled_ms < b->window_from || b->window_from == 0)
		b->window_from = t->scheduled_ms;
	double end = t->started_ms + (t->total_s > 0 ? t->total_s * 1000.0 : 0);
	if (end > b->window_to)
		b->window_to = end;
	if (it->exit_code == 0) {
		hp_bench_stats_ok(s, p);
		if (b->trace && hp_bench_trace_add(b->trace, t->scheduled_ms, p->latency_ms) < 0 && !b->trace_short) {
			b->trace_short = true;
			hp_msg_warn("out of memory: --plots' latency over time misses requests");
		}
	} else {
		if (!b->first_failure)
			b->first_failure = it->exit_code;
		say_first_of_kind(s, it);
		if (hp_bench_stats_error(s, it->exit_code, it->http_status, sent ? p : NULL) < 0)
			hp_msg_warn("out of memory: an error is counted without its class");
	}
	s->duration_s = (b->window_to - b->window_from) / 1000.0;
	if (b->o.bench.max_error_rate >= 0 && !b->stop && s->requests >= ERROR_RATE_AFTER &&
	    hp_bench_error_rate(s) * 100.0 > b->o.bench.max_error_rate) {
		b->stop = b->stopped_error_rate = true;
		hp_msg_error("%s: %llu of %llu requests failed, more than --max-error-rate %g%%: stopping", s->label,
		             (unsigned long long)(s->requests - s->ok), (unsigned long long)s->requests,
		             b->o.bench.max_error_rate);
	}
}

static void bench_item(void *state, const struct hp_item *it)
{
	struct bench *b = state;
	const struct hp_timings *t = it->timings;
	struct hp_timings none = HP_TIMINGS_NONE;
	if (!t)
		t = &none;
	struct hp_phases p = hp_phases_of(t, speed_sum(it));
	bool sent = t->started_ms > 0;
	b->finished++;
	if (sent && (b->first_started == 0 || t->started_ms < b->first_started)) {
		b->first_started = t->started_ms;
		b->cur->first_ms = p.latency_ms;
	}
	if (b->finished <= (unsigned long long)b->o.bench.warmup) {
		if (b->finished == (unsigned long long)b->o.bench.warmup && b->o.bench.duration > 0)
			b->deadline_ms = hp_clock_ms() + b->o.bench.duration * 1000.0;
		return;
	}
	count_item(b, it, &p, sent);
	live_line(b, false);
}

/* ---- the endpoints ------------------------------------------------------ */

static void targets_clear(struct bench *b)
{
	for (size_t i = 0; i < b->n_t; i++) {
		free(b->t[i].label);
		hp_endpoint_clear(&b->t[i].ep);
		free(b->t[i].deployment_url);
		hp_bench_stats_free(b->t[i].stats);
		hp_bench_trace_clear(&b->t[i].trace);
	}
	free(b->t);
	b->t = NULL;
	b->n_t = 0;
}

/* Endpoint i of the command line (or -m / $HUBPREDICT_URL) into t: the URL,
 * the flavour, the column's name. 0, or an exit status said on stderr. */
static int resolve_one(struct bench *b, const struct hp_bench_endpoint *e, struct target *t)
{
	struct hp_options *o = &b->o;
	struct hp_endpoint_spec spec;
	hp_options_endpoint_spec(o, &spec);
	const char *label = e ? (e->url ? e->url : e->deployment) : o->model ? o->model : o->url;
	if (e && e->deployment) {
		const char *saved = o->predict.deployment;
		o->predict.deployment = e->deployment;
		int status = hp_deploy_predict_url(o, &t->deployment_url);
		o->predict.deployment = saved;
		if (status != 0)
			return status;
		spec.model = NULL;
		spec.url = t->deployment_url;
		if (spec.api == HP_FLAVOUR_AUTO)
			spec.api = HP_FLAVOUR_PLATFORM;
	} else if (e) {
		spec.model = NULL;
		spec.url = e->url;
	}
	if (hp_endpoint_resolve(&t->ep, &spec, b->err, sizeof b->err) < 0)
		return usage_error(b->err);
	if (!o->api_key && t->ep.flavour == HP_FLAVOUR_HUB)
		return usage_error("no API key: give --api-key-file FILE, set ULTRALYTICS_API_KEY, or -k KEY "
		                   "(Platform keys start with ul_; Platform's public models need none)");
	char shown[1024];
	snprintf(shown, sizeof shown, "%s", label ? label : t->ep.url);
	hp_msg_scrub(shown, sizeof shown);
	if (!(t->label = strdup(shown)) ||
	    hp_bench_stats_new(&t->stats, t->label, b->open, b->open ? b->rate : 0) < 0) {
		hp_msg_error("out of memory");
		return HP_EXIT_NETWORK;
	}
	return 0;
}

static int resolve_all(struct bench *b)
{
	const struct hp_bench_options *bo = &b->o.bench;
	size_t n = bo->n_endpoints ? bo->n_endpoints : 1;
	if (!(b->t = calloc(n, sizeof *b->t))) {
		hp_msg_error("out of memory");
		return HP_EXIT_NETWORK;
	}
	for (size_t i = 0; i < n; i++) {
		b->n_t = i + 1;
		int status = resolve_one(b, bo->n_endpoints ? &bo->endpoints[i] : NULL, &b->t[i]);
		if (status != 0)
			return status;
	}
	return 0;
}

/* The batch against one endpoint: its own request template, the same
 * schedule (t0 is the batch's start) and the same inputs. */
static int run_target(struct bench *b, struct target *t, struct hp_renderer *renderer,
                      const struct hp_upload_limits *lim)
{
	const struct hp_options *o = &b->o;
	struct hp_form form;
	struct hp_transport transport;
	struct hp_request_ctx req;
	hp_options_form(o, t->ep.iou, &form);
	hp_options_transport(o, &transport);
	if (hp_request_ctx_init(&req, &form, &transport, &t->ep, o->api_key) < 0) {
		hp_msg_error("out of memory");
		return HP_EXIT_NETWORK;
	}
	b->cur = t->stats;
	b->trace = o->bench.plots ? &t->trace : NULL;
	b->handed = b->finished = 0;
	b->first_started = b->window_from = b->window_to = 0;
	b->first_failure = 0;
	b->deadline_ms = !b->open && o->bench.duration > 0 && o->bench.warmup == 0
	                 ? hp_clock_ms() + o->bench.duration * 1000.0 : 0;
	struct hp_observer obs = { .item = bench_item, .state = b };
	struct hp_batch_config cfg = {
		.req = &req, .source = { bench_next, b }, .limits = lim, .renderer = renderer, .out = &b->out,
		.jobs = b->open ? o->bench.max_jobs : o->predict.jobs, .completion_order = true,
		.rate_interval = b->open ? o->predict.rate_interval : 0, .rate_schedule = b->open,
		.retries = 0, .quiet_failures = true, .retry_max_time = o->retry_max_time, .pause_on_429 = true,
		.filter = &o->predict.filter, .max_answer = (unsigned long long)o->predict.max_answer,
		.observers = &obs, .n_observers = 1, .several = true,
		.resize_imgsz = o->predict.resize ? o->predict.imgsz : 0, .repeat_inputs = true,
	};
	struct hp_batch_stats bs;
	hp_msg_verbose(1, "bench: %s flavour, POST %s", hp_flavour_name(t->ep.flavour), t->ep.url);
	int status = hp_batch_run(&cfg, &bs);
	live_line(b, true);
	hp_progress_erase(b->progress);
	hp_request_ctx_clear(&req);
	if (hp_exit_interrupted(status) || bs.broken_pipe)
		return status ? status : 128 + 13;
	return t->stats->ok == 0 && b->first_failure ? b->first_failure : 0;
}

/* ---- setup and the end -------------------------------------------------- */

/* The row named `name` was given on the command line. */
static bool given(const struct hp_options *o, const char *name)
{
	struct hp_opt_info info;
	for (size_t i = 0; i < hp_options_count(); i++) {
		hp_options_info(i, &info);
		if (strcmp(info.name, name) == 0 && (info.commands & HP_CMD_BENCH))
			return o->origin[i].source == HP_SOURCE_ARG;
	}
	return false;
}

/* What the options cannot mean for bench: exit 2, nothing sent. */
static int check_usage(struct bench *b)
{
	const struct hp_options *o = &b->o;
	if (o->n_inputs == 0)
		return usage_error("no INPUT given (bench cycles over its image files)");
	for (size_t i = 0; i < o->n_inputs; i++)
		if (strcmp(o->inputs[i], "-") == 0)
			return usage_error("bench sends its inputs again and again: standard input ('-') cannot be one");
	if (o->format != HP_FORMAT_TABLE && o->format != HP_FORMAT_JSON)
		return usage_error("bench writes -f table or -f json");
	if (o->bench.n_endpoints && given(o, "model"))
		return usage_error("-m and -u/--deployment both name the endpoint: keep one");
	if (!o->bench.n_endpoints && !o->model && !o->url)
		return usage_error("no endpoint: give -m MODEL, -u URL or --deployment NAME");
	b->open = o->predict.rate_interval > 0;
	if (b->open && given(o, "jobs"))
		return usage_error("-j is the closed loop's; --rate is the open loop, whose connections --max-jobs caps");
	if (!b->open && given(o, "max-jobs"))
		return usage_error("--max-jobs goes with --rate (the open loop); the closed loop's is -j");
	b->rate = b->open ? 1.0 / o->predict.rate_interval : 0;
	unsigned long long n = o->bench.requests > 0 ? (unsigned long long)o->bench.requests
	                       : o->bench.duration > 0 ? 0 : DEFAULT_REQUESTS;
	if (b->open && o->bench.duration > 0) {
		/* the schedule's requests within the duration */
		double in_time = ceil(o->bench.duration * b->rate - 1e-9);
		unsigned long long d = in_time < 1 ? 1 : (unsigned long long)in_time;
		n = n && n < d ? n : d;
	}
	b->limit = n ? n + (unsigned long long)o->bench.warmup : 0;
	return 0;
}

/* The INPUTs (directories walked) listed once, to cycle over. */
static int list_inputs(struct bench *b, const struct hp_inputs_config *icfg)
{
	struct hp_inputs *in = NULL;
	struct hp_input one;
	size_t cap = 0;
	int status = hp_inputs_new(&in, icfg, b->err, sizeof b->err);
	if (status != 0) {
		hp_msg_error("%s", b->err);
		return status;
	}
	while (status == 0 && hp_inputs_next(in, &one)) {
		char q[512];
		char **grown = NULL;
		struct stat st;
		if (one.error) {
			hp_msg_error("%s: %s", hp_msg_quote(q, sizeof q, one.path), one.error);
			status = HP_EXIT_INPUT;
		} else if (!hp_is_url_input(one.path) && stat(one.path, &st) != 0) {
			/* checked once here, not met again by every request */
			hp_msg_error("%s: %s", hp_msg_quote(q, sizeof q, one.path), strerror(errno));
			status = HP_EXIT_INPUT;
		} else if (!hp_is_url_input(one.path) && !S_ISREG(st.st_mode)) {
			hp_msg_error("%s: not a regular file (bench sends it again and again)", hp_msg_quote(q, sizeof q, one.path));
			status = HP_EXIT_INPUT;
		} else if (!(grown = hp_grow_array(b->paths, &cap, b->n_paths + 1, sizeof *grown, 8))) {
			hp_msg_error("out of memory");
			status = HP_EXIT_NETWORK;
		} else {
			b->paths = grown;
			b->paths[b->n_paths++] = one.path;
			one.path = NULL;
		}
		hp_input_clear(&one);
	}
	hp_inputs_free(in);
	if (status == 0 && b->n_paths == 0) {
		hp_msg_error("no input to send: the INPUTs hold no image");
		status = HP_EXIT_INPUT;
	}
	return status;
}

/* Every gate against every endpoint: unmet ones named on stderr, and a
 * testcase each in --junit. Returns how many are unmet. */
static size_t check_gates(struct bench *b)
{
	const struct hp_bench_options *bo = &b->o.bench;
	size_t unmet = 0, cases = bo->n_gates * b->n_t + (bo->max_error_rate >= 0 ? b->n_t : 0);
	if (b->junit_open)
		hp_out_printf(&b->junit, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite "
		              "name=\"hubpredict bench\" tests=\"%zu\">\n", cases);
	for (size_t e = 0; e < b->n_t; e++) {
		const struct hp_bench_stats *s = b->t[e].stats;
		for (size_t i = 0; i <= bo->n_gates; i++) {
			char msg[400], name[1200];
			bool ok;
			if (i == bo->n_gates) {
				if (bo->max_error_rate < 0)
					continue;
				ok = !(b->stopped_error_rate && s->requests >= ERROR_RATE_AFTER &&
				       hp_bench_error_rate(s) * 100.0 > bo->max_error_rate);
				snprintf(name, sizeof name, "%s: --max-error-rate %g%%", s->label, bo->max_error_rate);
				snprintf(msg, sizeof msg, "--max-error-rate %g%% passed: %.2f%% of the requests failed",
				         bo->max_error_rate, hp_bench_error_rate(s) * 100.0);
			} else {
				ok = hp_gate_check(&bo->gates[i], s, msg, sizeof msg);
				snprintf(name, sizeof name, "%s: %s", s->label, bo->gates[i].text);
			}
			if (!ok) {
				unmet++;
				hp_msg_error("%s%s%s", b->n_t > 1 ? s->label : "", b->n_t > 1 ? ": " : "", msg);
			}
			if (b->junit_open)
				hp_junit_write_case(&b->junit, "bench.expect", name, ok ? NULL : msg);
		}
	}
	if (b->junit_open)
		hp_out_puts(&b->junit, "  </testsuite>\n</testsuites>\n");
	return unmet;
}

/* --plots: the charts of what was measured. 0, or -1 said on stderr. */
static int write_plots(struct bench *b, struct hp_bench_stats *const *cols, size_t n)
{
	struct hp_bench_trace *traces[64];
	for (size_t i = 0; i < n; i++)
		traces[i] = &b->t[i].trace;
	if (hp_bench_plots_write(b->o.bench.plots, cols, traces, n, b->err, sizeof b->err) == 0)
		return 0;
	hp_msg_error("--plots: %s", b->err);
	return -1;
}

/* The report into -o (or stdout), the gates, --junit; the exit status. */
static int finish(struct bench *b, int status)
{
	struct hp_bench_stats *cols[64];
	size_t n = b->n_t < 64 ? b->n_t : 64;
	for (size_t i = 0; i < n; i++)
		cols[i] = b->t[i].stats;
	for (size_t i = 0; i < n; i++)
		if (cols[i]->open && hp_hist_count(cols[i]->behind) > 0 &&
		    (double)hp_hist_percentile(cols[i]->behind, 99000) / 1000.0 > 1.0 / b->rate * 1000.0)
			hp_msg_warn("%s: the client fell behind the schedule: starts were late by up to %.1f ms (p99 %.1f ms); "
			            "the load was less than --rate asked", cols[i]->label,
			            (double)hp_hist_max(cols[i]->behind) / 1000.0,
			            (double)hp_hist_percentile(cols[i]->behind, 99000) / 1000.0);
	if (b->o.format == HP_FORMAT_JSON)
		hp_bench_write_json(&b->out, cols, n);
	else
		hp_bench_write_table(&b->out, cols, n);
	if (b->o.bench.plots && write_plots(b, cols, n) != 0 && !hp_exit_interrupted(status))
		status = HP_EXIT_OUTPUT;
	size_t unmet = hp_exit_interrupted(status) ? 0 : check_gates(b);
	if (status == 0 && unmet > 0)
		status = HP_EXIT_EXPECT;
	if (hp_output_commit(&b->out, b->err, sizeof b->err) < 0) {
		hp_msg_error("%s", b->err);
		if (!hp_exit_interrupted(status))
			status = HP_EXIT_OUTPUT;
	}
	if (b->junit_open && hp_output_commit(&b->junit, b->err, sizeof b->err) < 0) {
		hp_msg_error("%s", b->err);
		if (!hp_exit_interrupted(status))
			status = HP_EXIT_OUTPUT;
	}
	b->junit_open = false;
	return status;
}

/* -o and --junit: checked against the inputs, then opened, before anything
 * is sent. */
static int open_outputs(struct bench *b, const struct hp_inputs_config *icfg)
{
	const struct hp_options *o = &b->o;
	struct hp_preflight_file dests[2];
	struct hp_preflight pf = { .inputs = icfg, .files = dests };
	if (o->predict.output)
		dests[pf.n_files++] = (struct hp_preflight_file){ "--output", o->predict.output };
	if (o->predict.junit)
		dests[pf.n_files++] = (struct hp_preflight_file){ "--junit", o->predict.junit };
	if (hp_preflight_check(&pf, b->err, sizeof b->err) != 0)
		return usage_error(b->err);
	if (hp_output_open(&b->out, o->predict.output, b->err, sizeof b->err) < 0) {
		hp_msg_error("%s", b->err);
		return HP_EXIT_OUTPUT;
	}
	if (o->predict.junit) {
		if (hp_output_open(&b->junit, o->predict.junit, b->err, sizeof b->err) < 0) {
			hp_msg_error("%s", b->err);
			hp_output_abort(&b->out);
			return HP_EXIT_OUTPUT;
		}
		b->junit_open = true;
	}
	return 0;
}

/* Every endpoint in turn, then the report. */
static int run_all(struct bench *b)
{
	struct hp_render_opts ro = { .format = HP_FORMAT_TABLE, .silent = true };
	struct hp_renderer *renderer = NULL;
	const struct hp_options *o = &b->o;
	struct hp_upload_limits lim = { .file_max = o->predict.max_upload_arg ? o->predict.max_upload : 0,
	                                .shown = o->predict.max_upload_arg ? o->predict.max_upload_arg : "100M" };
	int status = 0;
	if (hp_renderer_new(&renderer, &ro, &b->out) != 0) {
		hp_msg_error("out of memory");
		hp_output_abort(&b->out);
		if (b->junit_open)
			hp_output_abort(&b->junit);
		return HP_EXIT_NOMEM;
	}
	bool want = o->predict.progress == HP_ON || (o->predict.progress == HP_AUTO && isatty(STDERR_FILENO) && !o->quiet);
	if (want && hp_progress_new(&b->progress, isatty(STDERR_FILENO) == 1) != 0)
		b->progress = NULL; /* the run goes on without it, as predict's */
	for (size_t i = 0; i < b->n_t && !hp_exit_interrupted(status) && !b->stop; i++) {
		int rc = run_target(b, &b->t[i], renderer, &lim);
		if (rc && !status)
			status = rc;
	}
	hp_renderer_free(renderer);
	return finish(b, status);
}

static int bench_parsed(struct bench *b)
{
	struct hp_options *o = &b->o;
	int status;
	hp_msg_set_secret(o->api_key);
	hp_msg_set_quiet(o->quiet);
	hp_msg_set_verbose(o->verbose);
	if ((status = check_usage(b)) != 0)
		return status;
	if (o->predict.resize && hp_image_load(b->err, sizeof b->err) != 0) {
		hp_msg_error("--resize needs image support, but %s", b->err);
		return HP_EXIT_USAGE;
	}
	struct hp_inputs_config icfg = { .args = o->inputs, .n_args = o->n_inputs };
	if ((status = list_inputs(b, &icfg)) != 0)
		return status;
	if (o->bench.plots && (status = hp_bench_plots_check(o->bench.plots, b->paths, b->n_paths, b->err, sizeof b->err)) != 0) {
		hp_msg_error("%s", b->err);
		return status;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		hp_msg_error("cannot initialise libcurl");
		return HP_EXIT_NETWORK;
	}
	if ((status = resolve_all(b)) == 0 && (status = open_outputs(b, &icfg)) == 0) {
		if (o->insecure)
			hp_msg_warn("--insecure: TLS certificates are not verified");
		hp_signals_install();
		status = run_all(b);
	}
	curl_global_cleanup();
	return status;
}

int hp_cmd_bench(int argc, char **argv)
{
	struct bench b = { .o = HP_OPTIONS_INIT };
	int status = hp_cmd_parse(&b.o, HP_CMD_BENCH, "bench", usage, argc, argv, b.err, sizeof b.err);
	if (status < 0)
		status = bench_parsed(&b);
	else if (status == HP_EXIT_OK && fflush(stdout) != 0)
		status = HP_EXIT_OUTPUT;
	targets_clear(&b);
	for (size_t i = 0; i < b.n_paths; i++)
		free(b.paths[i]);
	free(b.paths);
	hp_progress_free(b.progress);
	hp_options_free(&b.o);
	return status;
}
