/* cmd_predict.c - the default command: parse, resolve, run, write. Each step
 * lives in its own module; this file only wires them and picks the exit. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/annotate.h"
#include "hubpredict/baseline.h"
#include "hubpredict/batch.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/inputs.h"
#include "hubpredict/labels.h"
#include "hubpredict/junit.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/output.h"
#include "hubpredict/picture.h"
#include "hubpredict/preflight.h"
#include "hubpredict/progress.h"
#include "hubpredict/render.h"
#include "hubpredict/request.h"
#include "hubpredict/signals.h"
#include "hubpredict/upload.h"
#include "cmd.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage_error(const char *msg)
{
	hp_msg_error("%s", msg);
	fputs("try 'hubpredict --help'\n", stderr);
	return HP_EXIT_USAGE;
}

/* --dry-run --resize: say whether the input would be downsized, as a shell
 * comment before its curl command (which names the original file). */
static void dry_run_resize(const struct hp_upload *up, const char *path, int imgsz)
{
	char err[400], q[512];
	struct hp_resized rz;
	if (up->fd < 0 || hp_is_video_name(up->filename))
		return;
	hp_msg_quote(q, sizeof q, path);
	int rc = hp_picture_plan(up->fd, imgsz, &rz, err, sizeof err);
	if (rc == 1)
		printf("# --resize: %s %dx%d would be sent as %dx%d\n", q, rz.from_w, rz.from_h, rz.to_w, rz.to_h);
	else if (rc == 0)
		printf("# --resize: %s %dx%d is not larger than --imgsz %d: sent as it is\n", q, rz.from_w, rz.from_h,
		       imgsz);
	else
		printf("# --resize: %s: %s; sent as it is\n", q, err);
}

/* --dry-run: check each input as a real run would, print its curl command. */
static int dry_run(const struct hp_request_ctx *req, struct hp_inputs *inputs, const struct hp_upload_limits *lim,
                   int resize_imgsz)
{
	int status = HP_EXIT_OK;
	struct hp_input in;
	char err[640], q[512];
	while (!hp_signal_caught() && hp_inputs_next(inputs, &in)) {
		int rc = 0;
		if (in.error) {
			hp_msg_error("%s: %s", hp_msg_quote(q, sizeof q, in.path), in.error);
			rc = HP_EXIT_INPUT;
		} else if (strcmp(in.path, "-") != 0) {
			struct hp_upload up;
			rc = hp_upload_open(&up, in.path, req->ep->flavour == HP_FLAVOUR_PLATFORM, lim, err, sizeof err);
			if (rc)
				hp_msg_error("%s", err);
			else if (resize_imgsz > 0)
				dry_run_resize(&up, in.path, resize_imgsz);
			hp_upload_close(&up);
		}
		if (!rc) {
			char *cmd = hp_request_curl_command(req, in.path);
			if (cmd)
				printf("%s\n", cmd);
			free(cmd);
		} else if (!status) {
			status = rc;
		}
		hp_input_clear(&in);
	}
	if (fflush(stdout) != 0)
		status = HP_EXIT_OUTPUT;
	if (hp_signal_caught())
		status = hp_exit_from_signal(hp_signal_caught());
	return status;
}

/* Write the --junit report (NULL: none) after the run, however it ended; a
 * report that cannot be written makes the status 11, as -o does, unless the
 * run was interrupted. */
static void finish_junit(struct hp_junit *junit, const struct hp_batch_stats *stats,
                         const char *note, int *status)
{
	char err[640];
	if (!junit)
		return;
	if (hp_junit_finish(junit, stats->elapsed_s, note, err, sizeof err) < 0) {
		hp_msg_error("%s", err);
		if (!hp_exit_interrupted(*status))
			*status = HP_EXIT_OUTPUT;
	}
}

int hp_cmd_predict(int argc, char **argv)
{
	struct hp_options o = HP_OPTIONS_INIT;
	struct hp_endpoint ep = { 0 };
	struct hp_request_ctx req = { 0 };
	struct hp_output out = { 0 };
	struct hp_renderer *renderer = NULL;
	struct hp_inputs *inputs = NULL;
	struct hp_progress *progress = NULL;
	struct hp_labels *labels = NULL;
	struct hp_observer observers[3]; /* labels, pictures, junit */
	struct hp_annotate *annotate = NULL;
	size_t n_observers = 0;
	struct hp_junit *junit = NULL;
	struct hp_baseline *baseline = NULL;
	bool curl_ready = false;
	char err[640];
	int status;

	switch (hp_options_parse(&o, argc, argv, err, sizeof err)) {
	case HP_PARSE_HELP:
		hp_commands_usage();
		status = fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
		goto done;
	case HP_PARSE_VERSION:
		hp_print_version();
		status = fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
		goto done;
	case HP_PARSE_ERROR:
		status = usage_error(err);
		goto done;
	case HP_PARSE_RUN:
		break;
	}
	hp_msg_set_secret(o.api_key);
	hp_msg_set_quiet(o.quiet);
	hp_msg_set_verbose(o.verbose);

	if (hp_endpoint_resolve(&ep, &o, err, sizeof err) < 0) {
		status = usage_error(err);
		goto done;
	}
	/* SPEC 6: with Platform and no key the request goes without Authorization
	 * (public models need none); HUB has no public models */
	if (!o.api_key && !o.dry_run && ep.flavour == HP_FLAVOUR_HUB) {
		status = usage_error("no API key: give --api-key-file FILE, set ULTRALYTICS_API_KEY, or -k KEY "
		                     "(Platform keys start with ul_; Platform's public models need none)");
		goto done;
	}
	if (!o.api_key && ep.flavour == HP_FLAVOUR_PLATFORM)
		hp_msg_verbose(1, "no API key: sending no Authorization (public models need none)");
	for (size_t i = 0; i < o.n_inputs && ep.flavour == HP_FLAVOUR_HUB; i++) {
		if (hp_is_url_input(o.inputs[i])) {
			snprintf(err, sizeof err, "'%s': URL inputs need the Platform flavour (--api platform)", o.inputs[i]);
			status = usage_error(err);
			goto done;
		}
	}
	/* --baseline is read once, before anything is sent; a file that cannot
	 * be used is a bad option value (exit 2), in one line */
	if (o.baseline && hp_baseline_load(&baseline, o.baseline, &o.filter, err, sizeof err) < 0) {
		hp_msg_error("--baseline: %s", err);
		status = HP_EXIT_USAGE;
		goto done;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		hp_msg_error("cannot initialise libcurl");
		status = HP_EXIT_NETWORK;
		goto done;
	}
	curl_ready = true;
	if (hp_request_ctx_init(&req, &o, &ep, o.api_key) < 0) {
		hp_msg_error("out of memory");
		status = HP_EXIT_NETWORK;
		goto done;
	}
	struct hp_upload_limits limits = {
		.stdin_max = o.max_upload,
		.file_max = o.max_upload_arg ? o.max_upload : 0,
		.shown = o.max_upload_arg ? o.max_upload_arg : "100M",
	};
	struct hp_inputs_config icfg = {
		.args = o.inputs,
		.n_args = o.n_inputs,
		.recursive = o.recursive,
		.files_from = o.files_from,
		.null_separated = o.null_separated,
	};
	if (!(inputs = hp_inputs_new(&icfg, err, sizeof err))) {
		hp_msg_error("%s", err);
		status = HP_EXIT_INPUT;
		goto done;
	}
	/* From here on temporary files exist: a signal only ends the run at the
	 * next point that looks (the batch's loop, the stdin spool), which
	 * removes them */
	hp_signals_install();
	/* --save-txt: DIR must be usable before anything is sent. */
	if (o.save_txt && !o.dry_run) {
		struct hp_labels_opts lo = { .dir = o.save_txt, .save_conf = o.save_conf, .normalized = o.normalize };
		if (!(labels = hp_labels_new(&lo, err, sizeof err))) {
			hp_msg_error("%s", err);
			status = HP_EXIT_OUTPUT;
			goto done;
		}
		observers[n_observers++] = (struct hp_observer){ hp_labels_item, labels };
	}
	/* --annotate: the same, and a font to draw with */
	if (o.annotate && !o.dry_run) {
		int code = HP_EXIT_OUTPUT;
		if (!(annotate = hp_annotate_new(o.annotate, err, sizeof err, &code))) {
			hp_msg_error("%s", err);
			status = code;
			goto done;
		}
		observers[n_observers++] = (struct hp_observer){ hp_annotate_item, annotate };
	}
	/* Every destination against every input, before anything is sent. */
	struct hp_preflight_file dests[2];
	struct hp_preflight_tree trees[2]; /* --save-txt, --annotate */
	struct hp_preflight pf = { .inputs = &icfg, .files = dests, .trees = trees };
	if (o.output)
		dests[pf.n_files++] = (struct hp_preflight_file){ "--output", o.output };
	if (o.junit)
		dests[pf.n_files++] = (struct hp_preflight_file){ "--junit", o.junit };
	if (labels)
		trees[pf.n_trees++] = (struct hp_preflight_tree){ "--save-txt", hp_labels_path_for, labels };
	if (annotate)
		trees[pf.n_trees++] = (struct hp_preflight_tree){ "--annotate", hp_annotate_path_for, annotate };
	if ((status = hp_preflight_check(&pf, err, sizeof err)) != 0) {
		usage_error(err);
		goto done;
	}
	if (o.insecure)
		hp_msg_warn("--insecure: TLS certificates are not verified");
	if (o.dry_run) {
		status = dry_run(&req, inputs, &limits, o.resize ? o.imgsz : 0);
		goto done;
	}
	hp_msg_verbose(1, "%s flavour, POST %s", hp_flavour_name(ep.flavour), ep.url);

	/* (opening a FIFO waits for its reader, as curl -o does; a signal ends the wait) */
	if (hp_output_open(&out, o.output, err, sizeof err) < 0) {
		status = hp_signal_caught() ? hp_exit_from_signal(hp_signal_caught()) : HP_EXIT_OUTPUT;
		if (status == HP_EXIT_OUTPUT)
			hp_msg_error("%s", err);
		goto done;
	}
	/* --junit: its temporary file now, so an unwritable FILE fails before
	 * anything is sent */
	if (o.junit && !(junit = hp_junit_open(o.junit, time(NULL), err, sizeof err))) {
		status = hp_signal_caught() ? hp_exit_from_signal(hp_signal_caught()) : HP_EXIT_OUTPUT;
		if (status == HP_EXIT_OUTPUT)
			hp_msg_error("%s", err);
		hp_output_abort(&out);
		goto done;
	}
	if (junit)
		observers[n_observers++] = (struct hp_observer){ .item = hp_junit_item, .state = junit };
	/* several INPUTs, a directory or a list: raw separates bodies, a summary follows */
	bool several = hp_inputs_several(inputs);
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	bool dumb = term && strcmp(term, "dumb") == 0; /* a terminal without escape sequences */
	struct hp_render_opts ro = {
		.format = o.format,
		.color = o.format == HP_FORMAT_TABLE && out.is_tty && !(no_color && *no_color) && !dumb,
		.normalized = o.normalize,
		.several = several,
	};
	renderer = hp_renderer_new(&ro, &out);
	if (!renderer) {
		hp_msg_error("out of memory");
		status = HP_EXIT_NETWORK;
		hp_output_abort(&out);
		goto done;
	}
	/* Progress: on a terminal for batches and large uploads, unless -q or
	 * --no-progress; --progress forces it on (also to a file). */
	bool stderr_tty = isatty(STDERR_FILENO) == 1;
	bool want_progress = o.progress == HP_ON || (o.progress == HP_AUTO && stderr_tty && !o.quiet);
	progress = want_progress ? hp_progress_new(stderr_tty) : NULL;
	struct hp_batch_config cfg = {
		.req = &req,
		.inputs = inputs,
		.limits = &limits,
		/* a list on a pipe was not read ahead: its entries are checked as they come */
		.check_input = (pf.n_files || pf.n_trees) && o.files_from && !hp_preflight_reads_list(o.files_from)
		               ? hp_preflight_input : NULL,
		.check_state = &pf,
		.renderer = renderer,
		.out = &out,
		.jobs = o.jobs,
		.rate_interval = o.rate_interval,
		.retries = o.retries,
		.retry_max_time = o.retry_max_time,
		.cold_start_wait = o.cold_start_wait,
		.fail_fast = o.fail_fast,
		.raw = o.format == HP_FORMAT_RAW,
		.filter = &o.filter,
		.expects = o.expects,
		.n_expects = o.n_expects,
		.observers = n_observers ? observers : NULL,
		.n_observers = n_observers,
		.baseline = baseline,
		.baseline_iou = o.baseline_iou,
		.baseline_conf = o.baseline_conf,
		.progress = progress,
		.progress_batches_only = o.progress != HP_ON,
		.several = several,
		.total = progress ? hp_inputs_count(&icfg) : 0,
		.resize_imgsz = o.resize ? o.imgsz : 0,
		.normalized = o.normalize,
		.keep_source = annotate != NULL,
	};
	struct hp_batch_stats stats;
	hp_renderer_begin(renderer);
	status = hp_batch_run(&cfg, &stats);
	if (stats.refused) {
		/* an input is also an output: write nothing, so it is not replaced */
		hp_output_abort(&out);
		status = HP_EXIT_USAGE;
		goto done;
	}
	/* A label file that could not be written (its message is out) is an
	 * output failure, unless a request failed first or the run was cut short. */
	if ((hp_labels_failed(labels) || hp_annotate_failed(annotate)) &&
	    (status == HP_EXIT_OK || status == HP_EXIT_EXPECT))
		status = HP_EXIT_OUTPUT;
	bool interrupted = hp_exit_interrupted(status);
	if (stats.broken_pipe) {
		/* The reader went away: stop quietly, as a Unix filter does; the
		 * report still says what was done. */
		finish_junit(junit, &stats, "standard output was closed: the inputs after it were not run", &status);
		status = 128 + 13;
		goto done;
	}
	hp_renderer_end(renderer);
	if ((several || interrupted) && !o.quiet) {
		char unmet[128] = "";
		if (stats.unmet > 0)
			snprintf(unmet, sizeof unmet, ", %zu expectation%s not met", stats.unmet,
			         stats.unmet == 1 ? "" : "s");
		if (stats.differences > 0) {
			size_t l = strlen(unmet);
			snprintf(unmet + l, sizeof unmet - l, ", %zu baseline difference%s", stats.differences,
			         stats.differences == 1 ? "" : "s");
		}
		/* a run cut short says how much of the list it did: "3 of 10 inputs" */
		char of[96] = "", not_started[64] = "";
		size_t total = stats.stopped_early ? hp_inputs_count(&icfg) : 0;
		if (stats.stopped_early && total >= stats.started) {
			snprintf(of, sizeof of, " of %zu", total);
			snprintf(not_started, sizeof not_started, ", %zu not started", total - stats.started);
		} else if (stats.stopped_early) {
			snprintf(not_started, sizeof not_started, ", the rest not started");
		}
		hp_msg_error("summary: %zu%s input%s: %zu succeeded, %zu failed%s in %.1f s (%.1f requests/s)%s%s",
		             stats.done, of, (total ? total : stats.done) == 1 ? "" : "s",
		             stats.done - stats.failed, stats.failed, not_started, stats.elapsed_s,
		             stats.elapsed_s > 0 ? (double)stats.requests / stats.elapsed_s : 0.0,
		             unmet, interrupted ? "; interrupted, unfinished inputs skipped" : "");
	}
	if (hp_output_commit(&out, err, sizeof err) < 0) {
		if (!out.broken_pipe) {
			hp_msg_error("%s", err);
			if (!hp_exit_interrupted(status))
				status = HP_EXIT_OUTPUT;
		} else {
			status = 128 + 13;
		}
	}
	finish_junit(junit, &stats, status == HP_EXIT_SIGINT
	             ? "interrupted by SIGINT: unfinished inputs are not in this report"
	             : status == HP_EXIT_SIGTERM ? "terminated by SIGTERM: unfinished inputs are not in this report"
	             : status == HP_EXIT_SIGHUP ? "hung up (SIGHUP): unfinished inputs are not in this report"
	             : NULL, &status);
done:
	hp_junit_free(junit);
	hp_progress_free(progress);
	hp_labels_free(labels);
	hp_annotate_free(annotate);
	hp_baseline_free(baseline);
	hp_renderer_free(renderer);
	hp_inputs_free(inputs);
	hp_request_ctx_free(&req);
	hp_endpoint_free(&ep);
	hp_options_free(&o);
	if (curl_ready)
		curl_global_cleanup();
	return status;
}
