/* cmd_predict.c - the default command: parse, resolve, run, write. Each step
 * lives in its own module; this file only wires them and picks the exit. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/annotate.h"
#include "hubpredict/baseline.h"
#include "hubpredict/batch.h"
#include "hubpredict/cache.h"
#include "hubpredict/config.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/frames.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/image.h"
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
#include "hubpredict/resume.h"
#include "hubpredict/signals.h"
#include "hubpredict/stream.h"
#include "hubpredict/text.h"
#include "hubpredict/transport.h"
#include "hubpredict/upload.h"
#include "hubpredict/video.h"
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

/* The row of the option table named name (hp_options_info), for its origin. */
static const struct hp_origin *origin_of(const struct hp_options *o, const char *name)
{
	struct hp_opt_info info;
	for (size_t i = 0; i < hp_options_count(); i++) {
		hp_options_info(i, &info);
		if (strcmp(info.name, name) == 0)
			return &o->origin[i];
	}
	return NULL;
}

/* --dry-run: the line that puts the key into $ULTRALYTICS_API_KEY before the
 * curl commands read it, when it came from elsewhere (the key itself is never
 * printed): a key file's first line, a config file's api-key line, `yolo
 * login`'s settings.json; -k's key and a key read from standard input cannot
 * be read again, which a comment says. */
static void dry_run_key_line(const struct hp_options *o)
{
	const struct hp_origin *ko = origin_of(o, "api-key"), *fo = origin_of(o, "api-key-file");
	char path[4096], line[64];
	char *q = NULL, *prog = NULL;
	if (!o->api_key || !ko || !fo || ko->source == HP_SOURCE_ENV)
		return; /* none, or the variable holds it */
	if (o->api_key_file && fo->source > ko->source && strcmp(o->api_key_file, "-") != 0) {
		if ((q = hp_shell_quote(o->api_key_file)))
			printf("ULTRALYTICS_API_KEY=$(head -n 1 %s | tr -d '\\r')\n", q);
	} else if (o->api_key_file && fo->source > ko->source) {
		printf("# the key came from standard input (--api-key-file -): set ULTRALYTICS_API_KEY to it first\n");
	} else if (ko->source == HP_SOURCE_ARG) {
		printf("# the key came from -k and is not printed: set ULTRALYTICS_API_KEY to it first\n");
	} else if (ko->source == HP_SOURCE_FILE || ko->source == HP_SOURCE_PROFILE) {
		snprintf(line, sizeof line, "%ds/^[^=]*=//p", ko->line);
		if ((q = hp_shell_quote(ko->file)) && (prog = hp_shell_quote(line)))
			printf("ULTRALYTICS_API_KEY=$(sed -n %s %s | tr -d ' \\t\\r')\n", prog, q);
	} else if (hp_config_yolo_path(path, sizeof path) == 0 && (q = hp_shell_quote(path))) {
		printf("ULTRALYTICS_API_KEY=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[\"api_key\"])' "
		       "%s)\n", q);
	}
	free(q);
	free(prog);
}

/* --dry-run: check each input as a real run would (standard input spooled,
 * for the name and type the run sends), print its curl command. */
static int dry_run(const struct hp_options *o, const struct hp_request_ctx *req, struct hp_inputs *inputs,
                   const struct hp_frames *frames, const struct hp_upload_limits *lim, int resize_imgsz)
{
	int status = HP_EXIT_OK;
	struct hp_input in;
	char err[640], q[512];
	dry_run_key_line(o);
	while (!hp_signal_caught() && hp_inputs_next(inputs, &in)) {
		int rc = 0;
		struct hp_upload up = HP_UPLOAD_INIT;
		if (in.error) {
			hp_msg_error("%s: %s", hp_msg_quote(q, sizeof q, in.path), in.error);
			rc = HP_EXIT_INPUT;
		} else if (hp_frames_cuts(frames, in.path)) {
			/* its frames are made by decoding it: no curl command does that */
			printf("# %s is a video cut into frames here (hubpredict(1), Video): each frame would be a "
			       "request of its own, a JPEG in place of the file\n", hp_msg_quote(q, sizeof q, in.path));
			hp_input_clear(&in);
			continue;
		} else {
			rc = hp_upload_open(&up, in.path, req->ep->flavour == HP_FLAVOUR_PLATFORM, lim, err, sizeof err);
			if (rc)
				hp_msg_error("%s", err);
			else if (resize_imgsz > 0)
				dry_run_resize(&up, in.path, resize_imgsz);
		}
		if (!rc) {
			char *cmd = hp_request_curl_command(req, in.path, up.source ? NULL : &up);
			if (cmd)
				printf("%s\n", cmd);
			free(cmd);
		} else if (!status) {
			status = rc;
		}
		hp_upload_close(&up);
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

/* Everything one predict run holds; released by run_clear(). */
struct run {
	struct hp_options o;
	struct hp_endpoint ep;
	struct hp_request_ctx req;
	struct hp_output out;
	struct hp_renderer *renderer;
	struct hp_inputs *inputs;
	struct hp_frames *frames;  /* video INPUTs cut into frames, in front of inputs */
	struct hp_progress *progress;
	struct hp_labels *labels;
	struct hp_annotate *annotate;
	struct hp_junit *junit;
	struct hp_baseline *baseline;
	struct hp_cache *cache;
	struct hp_resume *resume;
	struct hp_stream *stream;      /* a live INPUT (stream.h), or NULL */
	struct hp_observers observers; /* labels, pictures, junit, the resume log, an embedder's */
	struct hp_upload_limits limits;
	struct hp_inputs_config icfg;
	struct hp_preflight_file dests[3];  /* -o, --junit, --resume */
	struct hp_preflight_tree trees[3];  /* --save-txt, --annotate (pictures, videos' MP4s) */
	struct hp_preflight pf;
	struct hp_preflight_dir *annotate_dir;
	bool several;
	bool curl_ready;
	char *deployment_url;  /* --deployment: its serviceUrl + /predict (owned) */
	const struct hp_predict_embed *embed; /* a command built on this run (val), or NULL */
	char request_key[HP_RESUME_KEY_LEN]; /* jsonl's "request", --resume's match */
	char err[640];
};

static void run_clear(struct run *r)
{
	hp_stream_free(r->stream);
	hp_junit_free(r->junit);
	hp_resume_free(r->resume);
	hp_cache_free(r->cache);
	hp_progress_free(r->progress);
	hp_labels_free(r->labels);
	hp_annotate_free(r->annotate);
	hp_preflight_dir_free(r->annotate_dir);
	hp_baseline_free(r->baseline);
	hp_renderer_free(r->renderer);
	hp_observers_clear(&r->observers);
	hp_frames_free(r->frames);
	hp_inputs_free(r->inputs);
	hp_request_ctx_clear(&r->req);
	hp_endpoint_clear(&r->ep);
	hp_options_free(&r->o);
	if (r->curl_ready)
		curl_global_cleanup();
	free(r->deployment_url);
	r->deployment_url = NULL;
}

/* The endpoint, the key, URL inputs and --baseline: all usage (exit 2). */
/* --deployment NAME: one show, then every input goes to its own endpoint. */
static int resolve_deployment(struct run *r)
{
	if (r->o.predict.dry_run)
		return usage_error("--dry-run sends nothing, so it cannot read --deployment's URL: give its serviceUrl "
		                   "with -u instead");
	int status = hp_deploy_predict_url(&r->o, &r->deployment_url);
	if (status != 0)
		return status;
	r->o.url = r->deployment_url;
	if (r->o.api == HP_FLAVOUR_AUTO)
		r->o.api = HP_FLAVOUR_PLATFORM;
	return 0;
}

static int resolve(struct run *r)
{
	const struct hp_options *o = &r->o;
	int status;
	if (o->predict.deployment && (status = resolve_deployment(r)) != 0)
		return status;
	char at[1100];
	struct hp_endpoint_spec spec;
	hp_options_endpoint_spec(o, &spec);
	if (hp_endpoint_resolve(&r->ep, &spec, r->err, sizeof r->err) < 0) {
		hp_options_where(o, o->model ? "model" : "url", at, sizeof at); /* a config's value: FILE:LINE */
		hp_msg_error("%s%s", at, r->err);
		fputs("try 'hubpredict --help'\n", stderr);
		return HP_EXIT_USAGE;
	}
	/* with Platform and no key the request goes without Authorization
	 * (public models need none); HUB has no public models */
	if (!o->api_key && !o->predict.dry_run && r->ep.flavour == HP_FLAVOUR_HUB)
		return usage_error("no API key: give --api-key-file FILE, set ULTRALYTICS_API_KEY, or -k KEY "
		                   "(Platform keys start with ul_; Platform's public models need none)");
	if (!o->api_key && r->ep.flavour == HP_FLAVOUR_PLATFORM)
		hp_msg_verbose(1, "no API key: sending no Authorization (public models need none)");
	for (size_t i = 0; i < o->n_inputs && r->ep.flavour == HP_FLAVOUR_HUB; i++) {
		if (hp_is_url_input(o->inputs[i]) && !o->predict.stream) {
			snprintf(r->err, sizeof r->err, "'%s': URL inputs need the Platform flavour (--api platform)",
			         o->inputs[i]);
			return usage_error(r->err);
		}
	}
	/* --baseline is read once, before anything is sent; a file that cannot
	 * be used is a bad option value (exit 2), in one line */
	int loaded = o->predict.baseline ? hp_baseline_load(&r->baseline, o->predict.baseline, &o->predict.filter,
	                                                    r->err, sizeof r->err) : 0;
	if (loaded < 0) {
		hp_options_where(o, "baseline", at, sizeof at);
		hp_msg_error("%s--baseline: %s", at, r->err);
		return loaded == -2 ? HP_EXIT_NOMEM : HP_EXIT_USAGE;
	}
	return 0;
}

static int out_of_memory(void);

/* libcurl, the request template and the stream of inputs. */
static int open_inputs(struct run *r)
{
	const struct hp_options *o = &r->o;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		hp_msg_error("cannot initialise libcurl");
		return HP_EXIT_NETWORK;
	}
	r->curl_ready = true;
	struct hp_form form;
	struct hp_transport transport;
	hp_options_form(o, r->ep.iou, &form);
	hp_options_transport(o, &transport);
	if (hp_request_ctx_init(&r->req, &form, &transport, &r->ep, o->api_key) < 0) {
		hp_msg_error("out of memory");
		return HP_EXIT_NOMEM;
	}
	r->limits = (struct hp_upload_limits){
		.stdin_max = o->predict.max_upload,
		.file_max = o->predict.max_upload_arg ? o->predict.max_upload : 0,
		.shown = o->predict.max_upload_arg ? o->predict.max_upload_arg : "100M",
	};
	r->icfg = (struct hp_inputs_config){
		.args = r->embed ? r->embed->inputs : o->inputs,
		.n_args = r->embed ? r->embed->n_inputs : o->n_inputs,
		.recursive = o->predict.recursive,
		.files_from = o->predict.files_from,
		.null_separated = o->predict.null_separated,
		.shard_k = o->predict.shard_k,
		.shard_n = o->predict.shard_n,
	};
	if (hp_inputs_new(&r->inputs, &r->icfg, r->err, sizeof r->err) != 0) {
		hp_msg_error("%s", r->err);
		return HP_EXIT_INPUT;
	}
	/* videos are cut with --vid-stride or --fps, or when a whole one is over
	 * the upload limit: --max-upload given, else the flavour's (SPEC 13) */
	struct hp_frames_config fc;
	long long whole_max = o->predict.max_upload_arg ? o->predict.max_upload
	                      : r->ep.dedicated ? 100LL * 1024 * 1024 : 10LL * 1024 * 1024;
	hp_options_frames(o, hp_video_supported() ? whole_max : 0, &fc);
	if (hp_frames_new(&r->frames, hp_inputs_source(r->inputs), &fc) != 0)
		return out_of_memory();
	/* From here on temporary files exist: a signal only ends the run at the
	 * next point that looks (the batch's loop, the stdin spool), which
	 * removes them */
	hp_signals_install();
	return 0;
}

/* A live INPUT (rtsp://..., http(s) with --stream, /dev/videoN): the only
 * INPUT of its run, connected before anything is sent. */
static int open_stream(struct run *r)
{
	const struct hp_options *o = &r->o;
	size_t live = 0;
	for (size_t i = 0; i < o->n_inputs; i++)
		live += hp_stream_is_live(o->inputs[i], o->predict.stream);
	if (!live || r->embed)
		return 0;
	if (o->n_inputs > 1 || o->predict.files_from)
		return usage_error("a live source is the only INPUT of its run (give it alone, without --files-from)");
	if (o->predict.dry_run)
		return usage_error("--dry-run connects to no live source: its frames exist only once it is read");
	struct hp_transport t;
	hp_options_transport(o, &t);
	struct hp_stream_config c = {
		.url = o->inputs[0],
		.fps = o->predict.fps,
		.frames = o->predict.frames,
		.duration = o->predict.duration,
		.timeout = t.connect_timeout,
		.reconnects = o->retries,
		.imgsz = o->predict.resize ? o->predict.imgsz : 0,
	};
	int status = hp_stream_open(&r->stream, &c, r->err, sizeof r->err);
	if (status) {
		char q[512];
		hp_msg_error("%s: %s", hp_msg_quote(q, sizeof q, o->inputs[0]), r->err);
	}
	return status;
}

/* After a stream: what it gave, and what ended it when it was lost. */
static void finish_stream(struct run *r, int *status)
{
	struct hp_live_stats st;
	const char *msg;
	hp_stream_stats(r->stream, &st);
	if (!r->o.quiet)
		hp_msg_error("stream: %lld frame%s sent of %lld received, %lld skipped (requests fell behind), "
		             "%d reconnection%s", st.taken, st.taken == 1 ? "" : "s", st.received, st.skipped,
		             st.reconnects, st.reconnects == 1 ? "" : "s");
	int failure = hp_stream_failure(r->stream, &msg);
	if (failure) {
		char q[512];
		hp_msg_error("%s: %s", hp_msg_quote(q, sizeof q, r->o.inputs[0]), msg);
		if (*status == HP_EXIT_OK || *status == HP_EXIT_EXPECT)
			*status = failure;
	}
}

/* A failed allocation while the run is set up: said, and its exit status. */
static int out_of_memory(void)
{
	hp_msg_error("out of memory");
	return HP_EXIT_NOMEM;
}

/* --save-txt and --annotate trees, then every destination against every
 * input, before anything is sent. */
static int check_destinations(struct run *r)
{
	const struct hp_options *o = &r->o;
	if (o->predict.save_txt && !o->predict.dry_run) {
		struct hp_labels_opts lo = { .dir = o->predict.save_txt, .save_conf = o->predict.save_conf,
		                             .normalized = o->predict.normalize };
		int code = hp_labels_new(&r->labels, &lo, r->err, sizeof r->err);
		if (code != 0) {
			hp_msg_error("%s", r->err);
			return code;
		}
		if (hp_observers_add(&r->observers, hp_labels_item, r->labels) < 0)
			return out_of_memory();
	}
	/* --annotate: DIR apart from the originals (before it is made), the
	 * same checks as --save-txt, and a font to draw with */
	if (o->predict.annotate) {
		int rc = HP_EXIT_OUTPUT;
		if (hp_preflight_dir_new(&r->annotate_dir, "--annotate", o->predict.annotate) != 0)
			hp_msg_error("out of memory"), rc = HP_EXIT_NOMEM;
		else if ((rc = hp_preflight_dir_check(r->annotate_dir, &r->icfg, r->err, sizeof r->err)) != 0)
			usage_error(r->err);
		if (!r->annotate_dir || rc)
			return rc;
	}
	if (o->predict.annotate && !o->predict.dry_run) {
		int code = hp_annotate_new(&r->annotate, o->predict.annotate, r->err, sizeof r->err);
		if (code != 0) {
			hp_msg_error("%s", r->err);
			return code;
		}
		if (hp_observers_add(&r->observers, hp_annotate_item, r->annotate) < 0)
			return out_of_memory();
		/* a cut video's frames make DIR/STEM.mp4 */
		hp_frames_annotate(r->frames, r->annotate, o->predict.annotate);
		if (hp_observers_add(&r->observers, hp_frames_item, r->frames) < 0)
			return out_of_memory();
	}
	struct hp_preflight *pf = &r->pf;
	*pf = (struct hp_preflight){ .inputs = &r->icfg, .files = r->dests, .trees = r->trees,
	                             .annotate_dir = r->annotate_dir };
	if (o->predict.output)
		r->dests[pf->n_files++] = (struct hp_preflight_file){ "--output", o->predict.output };
	if (o->predict.junit)
		r->dests[pf->n_files++] = (struct hp_preflight_file){ "--junit", o->predict.junit };
	if (o->predict.resume)
		r->dests[pf->n_files++] = (struct hp_preflight_file){ "--resume", o->predict.resume };
	if (r->labels)
		r->trees[pf->n_trees++] = (struct hp_preflight_tree){ "--save-txt", hp_labels_path_for, r->labels };
	if (r->annotate)
		r->trees[pf->n_trees++] = (struct hp_preflight_tree){ "--annotate", hp_annotate_path_for, r->annotate };
	if (r->annotate)
		r->trees[pf->n_trees++] = (struct hp_preflight_tree){ "--annotate", hp_frames_annotate_path, r->frames };
	int status = hp_preflight_check(pf, r->err, sizeof r->err);
	if (status != 0)
		usage_error(r->err);
	return status;
}

/* A failure to open an output: the signal that interrupted it, else 11. */
static int open_failed(struct run *r)
{
	int status = hp_signal_caught() ? hp_exit_from_signal(hp_signal_caught()) : HP_EXIT_OUTPUT;
	if (status == HP_EXIT_OUTPUT)
		hp_msg_error("%s", r->err);
	return status;
}

/* --cache DIR and --resume LOG (read now: its skips decide what is sent).
 * HUBPREDICT_RESUME_FSYNC=0 leaves out the fsync after each line. */
static int open_scale(struct run *r)
{
	const struct hp_options *o = &r->o;
	int status;
	char at[1100];
	if (o->cache && (status = hp_cache_new(&r->cache, o->cache, o->cache_ttl, r->err, sizeof r->err)) != 0) {
		hp_options_where(o, "cache", at, sizeof at); /* a config's `cache =`: FILE:LINE */
		hp_msg_error("%s%s", at, r->err);
		return status;
	}
	if (!o->predict.resume)
		return 0;
	const char *sync = getenv("HUBPREDICT_RESUME_FSYNC");
	if ((status = hp_resume_new(&r->resume, o->predict.resume, r->request_key, !(sync && strcmp(sync, "0") == 0),
	                            r->err, sizeof r->err)) != 0) {
		hp_msg_error("%s", r->err);
		return status;
	}
	size_t lines, done;
	bool repaired;
	hp_resume_counts(r->resume, &lines, &done, &repaired);
	if (repaired)
		hp_msg_warn("--resume: '%s' ended in a torn line (a run killed while writing it): cut off",
		            o->predict.resume);
	hp_msg_verbose(1, "--resume: %zu lines in '%s', %zu inputs answered", lines, o->predict.resume, done);
	return hp_observers_add(&r->observers, hp_resume_item, r->resume) < 0 ? out_of_memory() : 0;
}

/* -o (or stdout), the --junit spool and the renderer. */
static int open_sinks(struct run *r)
{
	const struct hp_options *o = &r->o;
	/* (opening a FIFO waits for its reader, as curl -o does; a signal ends the wait) */
	if (hp_output_open(&r->out, o->predict.output, r->err, sizeof r->err) < 0)
		return open_failed(r);
	/* --junit: its temporary file now, so an unwritable FILE fails before
	 * anything is sent */
	if (o->predict.junit && !r->embed && !(r->junit = hp_junit_open(o->predict.junit, time(NULL), r->err, sizeof r->err))) {
		hp_output_abort(&r->out);
		return open_failed(r);
	}
	if (r->junit && hp_observers_add_video(&r->observers, hp_junit_item, hp_junit_video, r->junit) < 0) {
		hp_output_abort(&r->out);
		return out_of_memory();
	}
	if (hp_resume_request_key(&r->req, r->request_key) < 0) {
		hp_msg_error("out of memory");
		hp_output_abort(&r->out);
		return HP_EXIT_NOMEM;
	}
	int status = open_scale(r);
	if (status) {
		hp_output_abort(&r->out);
		return status;
	}
	/* several INPUTs, a directory or a list, a stream's frames: raw separates
	 * bodies, a summary follows */
	r->several = hp_inputs_several(r->inputs) || r->stream;
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	bool dumb = term && strcmp(term, "dumb") == 0; /* a terminal without escape sequences */
	struct hp_render_opts ro = {
		.format = o->format,
		.color = o->format == HP_FORMAT_TABLE && r->out.is_tty && !(no_color && *no_color) && !dumb,
		.normalized = o->predict.normalize,
		.several = r->several,
		.request = o->format == HP_FORMAT_JSONL ? r->request_key : NULL,
		.silent = r->embed != NULL,
		/* a video's frames make one envelope (SPEC 13); csv's time column
		 * when the run is told to cut videos */
		.videos = r->stream == NULL, /* a stream's run writes in completion order */
		.video_time = o->predict.vid_stride > 0 || o->predict.fps > 0,
	};
	if (hp_renderer_new(&r->renderer, &ro, &r->out) != 0) {
		hp_msg_error("out of memory");
		hp_output_abort(&r->out);
		return HP_EXIT_NOMEM;
	}
	/* Progress: on a terminal for batches and large uploads, unless -q or
	 * --no-progress; --progress forces it on (also to a file). */
	bool stderr_tty = isatty(STDERR_FILENO) == 1;
	enum hp_tristate progress = o->predict.progress;
	if (r->embed && hp_observers_add(&r->observers, r->embed->item, r->embed->state) < 0)
		return out_of_memory();
	bool want_progress = progress == HP_ON || (progress == HP_AUTO && stderr_tty && !o->quiet);
	r->progress = NULL;
	if (want_progress && hp_progress_new(&r->progress, stderr_tty) != 0)
		r->progress = NULL; /* the run goes on without it */
	return 0;
}

/* The batch's settings, from the options and what the run opened. */
static struct hp_batch_config batch_config(struct run *r)
{
	const struct hp_options *o = &r->o;
	return (struct hp_batch_config){
		.req = &r->req,
		.source = r->stream ? hp_stream_source(r->stream) : hp_frames_source(r->frames),
		/* a stream's frames are written as they are answered; SIGINT ends it */
		.completion_order = r->stream != NULL,
		.sigint_ends = r->stream != NULL,
		.source_idle = r->stream ? hp_stream_idle : NULL,
		.limits = &r->limits,
		/* a list on a pipe was not read ahead: its entries are checked as they come */
		.check_input = (r->pf.n_files || r->pf.n_trees) && o->predict.files_from &&
		                       !hp_preflight_reads_list(o->predict.files_from)
		               ? hp_preflight_input : NULL,
		.check_state = &r->pf,
		.renderer = r->renderer,
		.out = &r->out,
		.jobs = o->predict.jobs,
		.rate_interval = o->predict.rate_interval,
		.retries = o->retries,
		.retry_max_time = o->retry_max_time,
		.cold_start_wait = o->predict.cold_start_wait,
		.fail_fast = o->predict.fail_fast,
		.raw = o->format == HP_FORMAT_RAW,
		.filter = &o->predict.filter,
		.expects = o->predict.expects,
		.n_expects = o->predict.n_expects,
		.max_answer = (unsigned long long)o->predict.max_answer,
		.need_points = r->annotate, /* labels walk a big answer's parts (item.h) */
		.observers = r->observers.v,
		.n_observers = r->observers.n,
		.baseline = r->baseline,
		.baseline_iou = o->predict.baseline_iou,
		.baseline_conf = o->predict.baseline_conf,
		.progress = r->progress,
		.progress_batches_only = o->predict.progress != HP_ON,
		.several = r->several,
		.total = r->progress ? hp_inputs_count(&r->icfg) : 0,
		.resize_imgsz = o->predict.resize ? o->predict.imgsz : 0,
		.normalized = o->predict.normalize,
		.keep_source = r->annotate != NULL,
		.cache = r->cache,
		.resume = r->resume,
	};
}

/* "summary: 3 of 10 inputs: ..." on stderr after a batch or an interruption. */
static void print_summary(struct run *r, const struct hp_batch_stats *stats, bool interrupted)
{
	char unmet[192] = "";
	if (stats->unmet > 0)
		snprintf(unmet, sizeof unmet, ", %zu expectation%s not met", stats->unmet,
		         stats->unmet == 1 ? "" : "s");
	if (stats->differences > 0) {
		size_t l = strlen(unmet);
		snprintf(unmet + l, sizeof unmet - l, ", %zu baseline difference%s", stats->differences,
		         stats->differences == 1 ? "" : "s");
	}
	if (stats->cached > 0) {
		size_t l = strlen(unmet);
		snprintf(unmet + l, sizeof unmet - l, ", %zu from the cache", stats->cached);
	}
	if (stats->skipped > 0) {
		size_t l = strlen(unmet);
		snprintf(unmet + l, sizeof unmet - l, ", %zu skipped (--resume: answered in the log)", stats->skipped);
	}
	/* a run cut short says how much of the list it did: "3 of 10 inputs" */
	char of[96] = "", not_started[64] = "";
	size_t total = stats->stopped_early ? hp_inputs_count(&r->icfg) : 0;
	if (stats->stopped_early && total >= stats->started) {
		snprintf(of, sizeof of, " of %zu", total);
		snprintf(not_started, sizeof not_started, ", %zu not started", total - stats->started);
	} else if (stats->stopped_early) {
		snprintf(not_started, sizeof not_started, ", the rest not started");
	}
	hp_msg_error("summary: %zu%s input%s: %zu succeeded, %zu failed%s in %.1f s (%.1f requests/s)%s%s",
	             stats->done, of, (total ? total : stats->done) == 1 ? "" : "s",
	             stats->done - stats->failed, stats->failed, not_started, stats->elapsed_s,
	             stats->elapsed_s > 0 ? (double)stats->requests / stats->elapsed_s : 0.0,
	             unmet, interrupted ? "; interrupted, unfinished inputs skipped" : "");
}

/* The batch, then the outputs committed and the status settled. */
static int run_batch(struct run *r)
{
	struct hp_batch_config cfg = batch_config(r);
	struct hp_batch_stats stats;
	hp_renderer_begin(r->renderer);
	int status = hp_batch_run(&cfg, &stats);
	bool videos_failed = hp_frames_finish(r->frames); /* --annotate's MP4s of what came back */
	if (stats.refused) {
		/* an input is also an output: write nothing, so it is not replaced */
		hp_output_abort(&r->out);
		return HP_EXIT_USAGE;
	}
	/* A label file that could not be written (its message is out) is an
	 * output failure, unless a request failed first or the run was cut short. */
	if ((hp_labels_failed(r->labels) || hp_annotate_failed(r->annotate) || hp_resume_failed(r->resume) ||
	     videos_failed) &&
	    (status == HP_EXIT_OK || status == HP_EXIT_EXPECT))
		status = HP_EXIT_OUTPUT;
	bool interrupted = hp_exit_interrupted(status);
	if (stats.broken_pipe) {
		/* The reader went away: stop quietly, as a Unix filter does; the
		 * report still says what was done. */
		finish_junit(r->junit, &stats, "standard output was closed: the inputs after it were not run", &status);
		return 128 + 13;
	}
	hp_renderer_end(r->renderer);
	if ((r->several || interrupted) && !r->o.quiet)
		print_summary(r, &stats, interrupted);
	if (r->stream)
		finish_stream(r, &status);
	if (r->embed)
		status = r->embed->finish(r->embed->state, &stats, &r->out, status);
	if (hp_output_commit(&r->out, r->err, sizeof r->err) < 0) {
		if (!r->out.broken_pipe) {
			hp_msg_error("%s", r->err);
			if (!hp_exit_interrupted(status))
				status = HP_EXIT_OUTPUT;
		} else {
			status = 128 + 13;
		}
	}
	finish_junit(r->junit, &stats, status == HP_EXIT_SIGINT
	             ? "interrupted by SIGINT: unfinished inputs are not in this report"
	             : status == HP_EXIT_SIGTERM ? "terminated by SIGTERM: unfinished inputs are not in this report"
	             : status == HP_EXIT_SIGHUP ? "hung up (SIGHUP): unfinished inputs are not in this report"
	             : NULL, &status);
	return status;
}

/* After parsing: resolve, open, check, then --dry-run or the batch. */
static int run_parsed(struct run *r)
{
	int status;
	hp_msg_set_secret(r->o.api_key);
	hp_msg_set_quiet(r->o.quiet);
	hp_msg_set_verbose(r->o.verbose);
	/* image support is a module, loaded only by the runs that draw or resize */
	if ((r->o.predict.annotate || r->o.predict.resize) && hp_image_load(r->err, sizeof r->err) != 0) {
		hp_msg_error("%s needs image support, but %s", r->o.predict.annotate ? "--annotate" : "--resize", r->err);
		return HP_EXIT_USAGE;
	}
	/* video support too, loaded only by the runs that cut videos */
	if ((r->o.predict.vid_stride || r->o.predict.fps > 0) && hp_video_check_versions(r->err, sizeof r->err) != 0) {
		hp_msg_error("%s needs video support, but %s", r->o.predict.vid_stride ? "--vid-stride" : "--fps", r->err);
		return HP_EXIT_USAGE;
	}
	if ((status = resolve(r)) != 0 || (status = open_inputs(r)) != 0 || (status = check_destinations(r)) != 0)
		return status;
	if ((status = open_stream(r)) != 0)
		return status;
	if (r->o.insecure)
		hp_msg_warn("--insecure: TLS certificates are not verified");
	if (r->o.predict.dry_run)
		return dry_run(&r->o, &r->req, r->inputs, r->frames, &r->limits, r->o.predict.resize ? r->o.predict.imgsz : 0);
	hp_msg_verbose(1, "%s flavour, POST %s%s%s", hp_flavour_name(r->ep.flavour), r->ep.url,
	               r->o.key_from ? "; key from " : "", r->o.key_from ? r->o.key_from : "");
	if ((status = open_sinks(r)) != 0)
		return status;
	return run_batch(r);
}

int hp_cmd_predict(int argc, char **argv)
{
	struct run r = { .o = HP_OPTIONS_INIT };
	int status;

	switch (hp_options_parse(&r.o, argc, argv, r.err, sizeof r.err)) {
	case HP_PARSE_HELP:
		hp_commands_usage();
		status = fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
		break;
	case HP_PARSE_VERSION:
		hp_print_version();
		status = fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
		break;
	case HP_PARSE_ERROR:
		status = usage_error(r.err);
		break;
	case HP_PARSE_RUN:
	default:
		status = run_parsed(&r);
		break;
	}
	run_clear(&r);
	return status;
}

int hp_predict_embedded(struct hp_options *o, const struct hp_predict_embed *e)
{
	struct run r = { .o = *o, .embed = e };
	*o = (struct hp_options)HP_OPTIONS_INIT;
	int status = run_parsed(&r);
	run_clear(&r);
	return status;
}
