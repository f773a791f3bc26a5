/* batch.c - the multi loop: start inputs up to --jobs at once, finish them
 * in any order, render them in input order. */
#define _DEFAULT_SOURCE /* drand48 */
#include "hubpredict/batch.h"
#include "hubpredict/annotate.h"
#include "hubpredict/baseline.h"
#include "hubpredict/body.h"
#include "hubpredict/clock.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/expect.h"
#include "hubpredict/inputs.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/picture.h"
#include "hubpredict/progress.h"
#include "hubpredict/render.h"
#include "hubpredict/request.h"
#include "hubpredict/response.h"
#include "hubpredict/retry.h"
#include "hubpredict/signals.h"
#include "hubpredict/upload.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_REDIRECTS 3
#define ERROR_BODY_KEEP ((size_t)64 * 1024)  /* of an error body, for its message */
#define RAW_MEM_KEEP ((size_t)1024 * 1024)   /* raw bodies beyond this spill to a file */

static double now_ms(void)
{
	return hp_clock_ms();
}

/* A job is PENDING (file open, waiting for its start time: --rate, or a
 * retry's backoff), RUNNING (its transfer is in the multi handle) or DONE
 * (waiting for every earlier input to be written). */
enum job_state { JOB_PENDING, JOB_RUNNING, JOB_DONE };

struct batch;

struct job {
	struct job *next;            /* the queue, in input order */
	struct batch *batch;         /* the run it belongs to (for callbacks) */
	bool sent;                   /* this attempt's request has gone out */
	enum job_state state;
	char *file;                  /* the input as named */
	size_t file_below;           /* hp_input.below */
	struct hp_upload up;
	struct hp_upload_cursor cursor;
	struct hp_stall stall;
	CURL *easy;
	curl_mime *mime;
	struct hp_body body;
	bool raw;                    /* the body is kept unparsed (raw output) */
	bool body_configured;        /* limits chosen from the status line */
	char errbuf[CURL_ERROR_SIZE];
	char *url;                   /* after a same-origin redirect; NULL = the endpoint */
	int redirects;
	int attempts;
	int retries_used;            /* retries counted against --retries (429s are not) */
	int last_code;               /* the outcome of the last attempt */
	char retry_after[64];        /* headers of the last response */
	char ratelimit_reset[64];
	char request_id[80];         /* x-request-id of the last response ("" = none) */
	int cold_waits;              /* waits for a starting endpoint (not retries) */
	bool cold_waiting;           /* PENDING: the endpoint is starting */
	double not_before;           /* PENDING: do not start before this (ms) */
	double t_start;              /* the first attempt's start (ms) */
	double t_attempt;            /* this attempt's start (ms) */
	/* outcome */
	int exit_code;
	long http_status;
	double elapsed_ms;
	char message[640];
	struct hp_response *resp;    /* filtered by --min-conf/--classes */
	char **unmet;                /* --expect messages, then --baseline differences
	                                (owned), printed with the input */
	size_t n_unmet;
	size_t n_differences;        /* of them, from --baseline (the last ones) */
	int orig_fd;                 /* the original bytes, kept for --annotate (-1: none) */
	bool resized;                /* --resize sent a smaller copy: sizes in `rz` */
	struct hp_resized rz;
	bool unreadable;             /* --resize found no readable image (and warned) */
	struct hp_annotate_source *pre; /* --annotate: decoded while the server works */
};

struct batch {
	const struct hp_batch_config *cfg;
	CURLM *multi;
	struct job *head, *tail;
	size_t running;              /* transfers in flight */
	size_t pending;              /* jobs waiting for their start time */
	size_t queued;               /* jobs in the queue (any state) */
	double next_slot;            /* --rate: the earliest next start (ms) */
	size_t unsent;               /* --rate: started attempts not yet sent */
	double paused_until;         /* a 429 holds every start until then (ms) */
	double t0;
	size_t predecoded;           /* jobs holding a decoded picture (pre) */
	size_t total;                /* inputs expected (progress), 0 = unknown */
	bool hub_noted;              /* the HUB shutdown note was printed */
	bool inputs_done;
	bool stop_new;               /* --fail-fast, a signal or a broken output */
	bool redraw;                 /* the progress line was erased for results */
	struct hp_batch_stats *stats;
};

/* ---- outcome classification --------------------------------------------- */

int hp_classify_http(long status, const char *body, size_t len, char *msg, size_t msglen)
{
	char detail[512];
	hp_error_message(detail, sizeof detail, body, len);
	const char *reason = hp_http_reason(status);
	char code[24];
	int cl = snprintf(code, sizeof code, "%ld ", status);
	if (strncmp(detail, code, (size_t)cl) == 0) /* an HTML title such as "503 Service Unavailable" */
		snprintf(msg, msglen, "%s", detail);
	else if (detail[0] && strcasecmp(detail, reason) == 0) /* the server only repeated the reason */
		snprintf(msg, msglen, "%ld %s", status, reason);
	else if (detail[0])
		snprintf(msg, msglen, "%ld%s%s: %s", status, *reason ? " " : "", reason, detail);
	else
		snprintf(msg, msglen, "%ld%s%s", status, *reason ? " " : "", reason);
	return hp_exit_from_http(status);
}

bool hp_same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	bool same = false;
	if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK) {
		static const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
		same = true;
		for (size_t i = 0; i < 3 && same; i++) {
			char *pa = NULL, *pb = NULL;
			unsigned flags = parts[i] == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
			if (curl_url_get(ua, parts[i], &pa, flags) != CURLUE_OK ||
			    curl_url_get(ub, parts[i], &pb, flags) != CURLUE_OK || strcasecmp(pa, pb) != 0)
				same = false;
			curl_free(pa);
			curl_free(pb);
		}
	}
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* ---- libcurl callbacks ---------------------------------------------------- */

/* Copy a header's value (trimmed) when the line is "name: value". */
static void header_value(const char *line, size_t len, const char *name, char *dst, size_t dstlen)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t n = (size_t)(end - v) < dstlen - 1 ? (size_t)(end - v) : dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a redirect) */
		j->body_configured = false;
		j->retry_after[0] = j->ratelimit_reset[0] = j->request_id[0] = '\0';
	}
	header_value(p, len, "Retry-After", j->retry_after, sizeof j->retry_after);
	header_value(p, len, "x-request-id", j->request_id, sizeof j->request_id);
	header_value(p, len, "X-RateLimit-Reset", j->ratelimit_reset, sizeof j->ratelimit_reset);
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg);

/* ---- jobs ------------------------------------------------------------------ */

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->file);
	hp_upload_close(&j->up);
	if (j->orig_fd >= 0)
		close(j->orig_fd);
	if (j->pre) {
		hp_annotate_source_free(j->pre);
		j->batch->predecoded--;
	}
	curl_mime_free(j->mime);
	if (j->easy)
		curl_easy_cleanup(j->easy);
	hp_body_free(&j->body);
	free(j->url);
	hp_response_free(j->resp);
	hp_expect_messages_free(j->unmet, j->n_unmet);
	free(j);
}

static void job_done(struct batch *b, struct job *j, int code)
{
	j->state = JOB_DONE;
	j->exit_code = code;
	if (code != 0) {
		/* the answer's x-request-id, as the official SDK shows it: what the
		 * vendor's support asks for (printable ASCII only) */
		bool id_ok = j->request_id[0] != '\0';
		for (const char *p = j->request_id; *p && id_ok; p++)
			id_ok = *p > 0x20 && *p < 0x7f;
		if (!id_ok)
			j->request_id[0] = '\0';
		/* a server may echo the key in its message: never store it */
		hp_msg_scrub(j->message, sizeof j->message);
		if (b->cfg->fail_fast)
			b->stop_new = true; /* --fail-fast: start nothing after this */
	}
	if (j->t_start > 0)
		j->elapsed_ms = now_ms() - j->t_start;
	if (j->easy) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_mime_free(j->mime);
	j->mime = NULL;
	if (b->cfg->keep_source && j->orig_fd < 0 && j->up.fd >= 0) {
		j->orig_fd = j->up.fd; /* --annotate reads it again */
		j->up.fd = -1;
	}
	hp_upload_close(&j->up);
}

/* --rate spaces requests as the server sees them: the next slot is counted
 * from the moment this request is sent (after any connection set-up), not
 * from when its transfer was added. */
static void rate_mark_sent(struct batch *b, struct job *j)
{
	if (j->sent)
		return;
	j->sent = true;
	b->unsent--;
	double next = now_ms() + b->cfg->rate_interval * 1000.0;
	if (next > b->next_slot)
		b->next_slot = next;
}

static int on_request_sent(void *arg, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                           int conn_local_port)
{
	struct job *j = arg;
	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	rate_mark_sent(j->batch, j);
	return CURL_PREREQFUNC_OK;
}

/* Configure and add one attempt to the multi handle. */
static int attempt_start(struct batch *b, struct job *j)
{
	const struct hp_request_ctx *req = b->cfg->req;
	const char *url = j->url ? j->url : req->ep->url;
	j->easy = curl_easy_init();
	if (!j->easy) {
		snprintf(j->message, sizeof j->message, "out of memory");
		return -1;
	}
	j->errbuf[0] = '\0';
	j->request_id[0] = '\0';
	j->mime = hp_request_setup(j->easy, req, &j->up, &j->cursor, &j->stall, url, j->errbuf);
	if (!j->mime) {
		snprintf(j->message, sizeof j->message, "out of memory");
		return -1;
	}
	hp_body_reset(&j->body);
	j->body_configured = false;
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
	if (b->cfg->rate_interval > 0) {
		curl_easy_setopt(j->easy, CURLOPT_PREREQFUNCTION, on_request_sent);
		curl_easy_setopt(j->easy, CURLOPT_PREREQDATA, j);
	}
	j->attempts++;
	b->stats->requests++;
	j->t_attempt = now_ms();
	hp_msg_verbose(1, "%s: attempt %d: POST %s", j->file, j->attempts, url);
	if (curl_multi_add_handle(b->multi, j->easy) != CURLM_OK) {
		snprintf(j->message, sizeof j->message, "cannot start the transfer");
		return -1;
	}
	b->running++;
	if (b->cfg->rate_interval > 0) {
		j->sent = false;
		b->unsent++;
	}
	return 0;
}

/* --resize: send a downsized copy of a large image (the copy is what every
 * retry resends). Not an image: one warning, sent as it is. 0, or an exit
 * status for a system error. */
static int resize_upload(struct batch *b, struct job *j)
{
	char err[400], q[512];
	if (j->up.fd < 0 || hp_is_video_name(j->up.filename))
		return 0; /* URLs and videos are sent as they are */
	int rc = hp_picture_resize_upload(&j->up, b->cfg->resize_imgsz, &j->rz, &j->orig_fd, err, sizeof err);
	if (rc == 1) {
		j->resized = true;
		if (!b->cfg->keep_source) {
			close(j->orig_fd); /* only the copy is sent */
			j->orig_fd = -1;
		}
		hp_msg_verbose(1, "%s: --resize: %dx%d sent as %dx%d (%lld bytes)", j->file, j->rz.from_w, j->rz.from_h,
		               j->rz.to_w, j->rz.to_h, (long long)j->up.size);
	} else if (rc == -1) {
		j->unreadable = true;
		hp_msg_warn("%s: --resize: %s; sent as it is", hp_msg_quote(q, sizeof q, j->file), err);
	} else if (rc == -2) {
		snprintf(j->message, sizeof j->message, "%s: --resize: %s", hp_msg_quote(q, sizeof q, j->file), err);
		return HP_EXIT_INPUT;
	}
	return 0;
}

/* Take the next input and start it (or finish it at once when it is bad). */
static void start_next(struct batch *b)
{
	struct hp_input in;
	if (!hp_inputs_next(b->cfg->inputs, &in)) {
		b->inputs_done = true;
		return;
	}
	struct job *j = calloc(1, sizeof *j);
	if (!j) {
		hp_input_clear(&in);
		b->inputs_done = true;
		return;
	}
	j->up = (struct hp_upload)HP_UPLOAD_INIT;
	j->orig_fd = -1;
	b->stats->started++;
	j->batch = b;
	j->sent = true; /* nothing outstanding until an attempt starts */
	j->raw = b->cfg->raw;
	j->file = in.path;
	j->file_below = in.below;
	in.path = NULL;
	j->state = JOB_RUNNING;
	if (b->tail)
		b->tail->next = j;
	else
		b->head = j;
	b->tail = j;
	b->queued++;
	if (!j->file) {
		snprintf(j->message, sizeof j->message, "out of memory");
		job_done(b, j, HP_EXIT_INPUT);
	} else if (in.error) {
		char q[512];
		snprintf(j->message, sizeof j->message, "%s: %s", hp_msg_quote(q, sizeof q, j->file), in.error);
		job_done(b, j, HP_EXIT_INPUT);
	} else if (b->cfg->check_input && b->cfg->check_input(b->cfg->check_state, j->file, j->message,
	                                                        sizeof j->message) != 0) {
		b->stats->refused = true;
		b->stop_new = true;
		job_done(b, j, HP_EXIT_USAGE);
	} else {
		bool urls_ok = b->cfg->req->ep->flavour == HP_FLAVOUR_PLATFORM;
		int rc = hp_upload_open(&j->up, j->file, urls_ok, b->cfg->limits, j->message, sizeof j->message);
		if (!rc && b->cfg->resize_imgsz > 0)
			rc = resize_upload(b, j);
		if (rc) {
			job_done(b, j, rc);
		} else {
			j->state = JOB_PENDING;
			b->pending++;
		}
	}
	hp_input_clear(&in);
}

/* Start pending jobs, in input order, whose time has come; --rate spaces
 * the starts of all attempts. Returns ms until the next one is due (or -1). */
static double start_due(struct batch *b)
{
	double now = now_ms();
	double wait = -1;
	if (b->cfg->rate_interval > 0 && b->unsent > 0)
		return 10; /* the last start has not gone out yet: its send sets the next slot */
	for (struct job *j = b->head; j; j = j->next) {
		if (j->state != JOB_PENDING)
			continue;
		double due = j->not_before > b->next_slot ? j->not_before : b->next_slot;
		if (b->paused_until > due)
			due = b->paused_until;
		if (due > now) {
			if (wait < 0 || due - now < wait)
				wait = due - now;
			continue;
		}
		b->pending--;
		j->state = JOB_RUNNING;
		if (j->t_start == 0)
			j->t_start = now;
		if (b->cfg->rate_interval > 0)
			b->next_slot = now + b->cfg->rate_interval * 1000.0;
		if (attempt_start(b, j) < 0)
			job_done(b, j, HP_EXIT_NETWORK);
		if (b->cfg->rate_interval > 0) {
			/* one start at a time: the next waits for this one to be sent */
			wait = 10;
			break;
		}
	}
	return wait;
}

/* An attempt failed with `code`: try again later, or finish the job. The
 * next attempt is rebuilt from the open file, so it sends the same bytes. */
static void conclude(struct batch *b, struct job *j, int code, bool retryable, bool refused)
{
	const struct hp_batch_config *cfg = b->cfg;
	j->last_code = code;
	bool limited = j->http_status == 429;
	double spent = (now_ms() - j->t_start) / 1000.0;
	/* A dedicated endpoint scaled to zero answers 503 (or refuses the
	 * connection) for tens of seconds while it starts: within the cold-start
	 * window these waits do not use up --retries (--retries 0 still turns
	 * every retry off). */
	bool starting = (j->http_status == 503 || (refused && cfg->req->ep->dedicated)) && cfg->cold_start_wait > 0 &&
	                spent < cfg->cold_start_wait;
	if (code == 0 || !retryable || cfg->retries == 0 || b->stop_new ||
	    (!limited && !starting && j->retries_used >= cfg->retries)) {
		if (code != 0 && j->cold_waits > 0 && !b->stop_new && (j->http_status == 503 || refused)) {
			size_t l = strlen(j->message);
			snprintf(j->message + l, sizeof j->message - l,
			         " (the endpoint did not start within --cold-start-wait %g s)", cfg->cold_start_wait);
		}
		job_done(b, j, code);
		return;
	}
	time_t wall = time(NULL);
	double wait = -1;
	const char *why = "backoff";
	if (j->retry_after[0] && (wait = hp_parse_retry_after(j->retry_after, wall)) >= 0)
		why = "Retry-After";
	else if (j->ratelimit_reset[0] && (wait = hp_parse_ratelimit_reset(j->ratelimit_reset, wall)) >= 0)
		why = "X-RateLimit-Reset";
	else
		wait = hp_backoff_seconds(limited ? j->attempts : starting ? j->cold_waits + 1 : j->retries_used + 1,
		                          drand48());
	if (starting && spent + wait > cfg->cold_start_wait) {
		/* the window ends before this wait would: the usual retries from here */
		starting = false;
		if (j->retries_used >= cfg->retries) {
			size_t l = strlen(j->message);
			if (j->cold_waits > 0)
				snprintf(j->message + l, sizeof j->message - l,
				         " (the endpoint did not start within --cold-start-wait %g s)", cfg->cold_start_wait);
			job_done(b, j, code);
			return;
		}
	}
	if (spent + wait > cfg->retry_max_time) {
		size_t l = strlen(j->message);
		snprintf(j->message + l, sizeof j->message - l,
		         " (gave up after %.1f s: the next retry, %.1f s later, would pass --retry-max-time %g s)", spent,
		         wait, cfg->retry_max_time);
		job_done(b, j, code);
		return;
	}
	if (starting)
		j->cold_waits++;
	else if (!limited)
		j->retries_used++;
	hp_msg_verbose(1, "%s: attempt %d: %s; %s in %.1f s (%s)", j->file, j->attempts, j->message,
	               starting ? "waiting for the endpoint to start, next attempt" : "retrying", wait, why);
	j->cold_waiting = starting;
	/* back to pending, from the original URL */
	j->message[0] = '\0';
	free(j->url);
	j->url = NULL;
	j->redirects = 0;
	j->state = JOB_PENDING;
	j->not_before = now_ms() + wait * 1000.0;
	b->pending++;
	if (limited && j->not_before > b->paused_until)
		b->paused_until = j->not_before; /* every job waits for the quota */
}

/* A 3xx: follow it when it stays on the same scheme, host and port (the key
 * goes with every request), else refuse it. Returns true when followed. */
static bool follow_redirect(struct batch *b, struct job *j, long status, const char *redirect)
{
	const char *from = j->url ? j->url : b->cfg->req->ep->url;
	bool same = redirect && hp_same_origin(from, redirect);
	char q[512];
	if (same && j->redirects < MAX_REDIRECTS) {
		char *next = strdup(redirect);
		if (next) {
			free(j->url);
			j->url = next;
			j->redirects++;
			j->attempts--; /* a redirect is part of the same attempt */
			b->stats->requests--;
			if (attempt_start(b, j) == 0)
				return true;
			job_done(b, j, HP_EXIT_NETWORK);
			return true;
		}
	}
	if (!redirect)
		snprintf(j->message, sizeof j->message, "%ld %s without a Location", status, hp_http_reason(status));
	else if (same)
		snprintf(j->message, sizeof j->message, "more than %d redirects", MAX_REDIRECTS);
	else
		snprintf(j->message, sizeof j->message, "%ld redirect to another host refused (the key would go with it): %s",
		         status, hp_msg_quote(q, sizeof q, redirect));
	return false;
}

/* A decoded answer: apply the filters, then the checks (hubpredict(1), --expect: the checks
 * count what the filters keep), then compare with the baseline; every
 * message goes into j->unmet. 0, or -1 when out of memory. */
static int check_answer(struct batch *b, struct job *j)
{
	const struct hp_batch_config *cfg = b->cfg;
	if (!j->resp)
		return 0;
	hp_filter_apply(cfg->filter, j->resp);
	if (cfg->n_expects > 0 &&
	    hp_expect_evaluate(cfg->expects, cfg->n_expects, j->resp, &j->unmet, &j->n_unmet) < 0)
		return -1;
	if (cfg->baseline) {
		struct hp_baseline_tol tol = { .iou = cfg->baseline_iou, .conf = cfg->baseline_conf };
		size_t before = j->n_unmet;
		int rc = hp_baseline_check(cfg->baseline, j->file, j->resp, &tol, &j->unmet, &j->n_unmet);
		j->n_differences = j->n_unmet - before;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* --resize: the answer's coordinates back in the original's pixels, in the
 * decoded answer and in the document that json prints (raw keeps the
 * server's bytes). 0, or -1 when out of memory. */
static int map_back(struct batch *b, struct job *j)
{
	if (!j->resized || b->cfg->raw)
		return 0;
	hp_picture_map_response(j->resp, &j->rz, b->cfg->normalized);
	if (j->body.spill || hp_picture_map_body(&j->body.data, &j->body.len, &j->rz, b->cfg->normalized) < 0)
		return -1;
	j->body.cap = j->body.len + 1;
	j->body.total = j->body.len;
	return 0;
}

/* A video may come back without frames; an image never without its entry. */
static bool upload_is_video(const struct hp_upload *up)
{
	if (up->source)
		return hp_is_video_name(up->source);
	return (up->mime_type && strncmp(up->mime_type, "video/", 6) == 0) ||
	       (up->filename && hp_is_video_name(up->filename));
}

/* A transfer ended: decide what it means. */
static void attempt_finished(struct batch *b, struct job *j, CURLcode rc)
{
	long status = 0;
	char *redirect = NULL;
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(j->easy, CURLINFO_REDIRECT_URL, &redirect);
	char *location = redirect ? strdup(redirect) : NULL; /* outlives the handle */
	j->http_status = status;
	curl_multi_remove_handle(b->multi, j->easy);
	b->running--;
	if (b->cfg->rate_interval > 0)
		rate_mark_sent(b, j); /* never sent (connection failed): free the slot */
	double ms = now_ms() - j->t_attempt;

	/* the transfer is over: its handle goes, the open file stays for a retry */
	curl_easy_cleanup(j->easy);
	j->easy = NULL;
	curl_mime_free(j->mime);
	j->mime = NULL;

	if (rc != CURLE_OK) {
		if (j->body.too_big) {
			snprintf(j->message, sizeof j->message, "bad response: larger than %zu MiB",
			         HP_BODY_MAX / (1024 * 1024));
			job_done(b, j, HP_EXIT_BAD_RESPONSE);
		} else {
			const char *why = j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc);
			if (j->body.error)
				why = strerror(j->body.error);
			if (j->stall.fired)
				snprintf(j->message, sizeof j->message, "network error: stalled, nothing sent or received for %ld s",
				         j->stall.limit_ms / 1000);
			else
				snprintf(j->message, sizeof j->message, "network error: %s", why);
			hp_msg_verbose(1, "%s: attempt %d failed after %.0f ms: %s", j->file, j->attempts, ms, j->message);
			bool retry = hp_retryable_curl(rc) && (rc != CURLE_ABORTED_BY_CALLBACK || j->stall.fired) &&
			             !j->body.error;
			conclude(b, j, HP_EXIT_NETWORK, retry, rc == CURLE_COULDNT_CONNECT);
		}
		free(location);
		return;
	}
	hp_msg_verbose(1, "%s: attempt %d: %ld %s in %.0f ms, %zu bytes", j->file, j->attempts, status,
	               hp_http_reason(status), ms, j->body.total);

	/* A key a server echoes in an answer is masked before anything reads it,
	 * so no output carries it (raw is the server's bytes, unchanged: README) */
	if (!b->cfg->raw && status >= 200 && status < 300 && j->body.data)
		hp_msg_mask(j->body.data, j->body.len);
	else if (b->cfg->raw && status >= 200 && status < 300 && j->body.data &&
	         hp_msg_holds_secret(j->body.data, j->body.len))
		hp_msg_warn("%s: the answer holds the API key or a part of it; -f raw writes it unchanged", j->file);
	if (status >= 300 && status < 400) {
		if (!follow_redirect(b, j, status, location))
			job_done(b, j, HP_EXIT_BAD_RESPONSE);
	} else if (status < 200 || status >= 300) {
		int code = hp_classify_http(status, j->body.data, j->body.len, j->message, sizeof j->message);
		if (code == HP_EXIT_AUTH && !b->cfg->req->headers && b->cfg->req->ep->flavour == HP_FLAVOUR_PLATFORM) {
			/* no key was sent, so the model is not a public one */
			size_t l = strlen(j->message);
			snprintf(j->message + l, sizeof j->message - l,
			         " (no API key was sent: this model is not public; give a key with --api-key-file FILE "
			         "or ULTRALYTICS_API_KEY, Platform keys start with ul_)");
		}
		conclude(b, j, code, hp_retryable_status(status), false);
	} else if (!b->cfg->raw && hp_response_decode(&j->resp, j->body.data, j->body.len, j->message,
	                                              sizeof j->message) < 0) {
		char why[sizeof j->message];
		memcpy(why, j->message, sizeof why);
		snprintf(j->message, sizeof j->message, "bad response: %.600s", why);
		job_done(b, j, HP_EXIT_BAD_RESPONSE);
	} else if (!b->cfg->raw && hp_response_check_upload(j->resp, upload_is_video(&j->up), j->message,
	                                                     sizeof j->message) < 0) {
		char why[sizeof j->message];
		memcpy(why, j->message, sizeof why);
		snprintf(j->message, sizeof j->message, "bad response: %.600s", why);
		job_done(b, j, HP_EXIT_BAD_RESPONSE);
	} else if (map_back(b, j) < 0 || check_answer(b, j) < 0) {
		snprintf(j->message, sizeof j->message, "out of memory");
		job_done(b, j, HP_EXIT_NETWORK);
	} else {
		job_done(b, j, HP_EXIT_OK);
	}
	free(location);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;
	/* The limits depend on the status: a success is kept whole (raw: spilled
	 * to a file beyond 1 MiB; parsed: refused over 512 MiB), an error only its
	 * first 64 KiB, for its message. */
	if (!j->body_configured) {
		long status = 0;
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
		hp_body_free(&j->body);
		if (status < 200 || status >= 300)
			hp_body_init(&j->body, ERROR_BODY_KEEP, 0, false);
		else if (j->raw)
			hp_body_init(&j->body, RAW_MEM_KEEP, 0, true);
		else
			hp_body_init(&j->body, HP_BODY_MAX, HP_BODY_MAX, false);
		j->body_configured = true;
		/* A declared length over the limit is refused before any of it is read. */
		curl_off_t cl = -1;
		curl_easy_getinfo(j->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (j->body.max_total && cl > (curl_off_t)j->body.max_total) {
			j->body.too_big = true;
			return 0;
		}
	}
	if (hp_body_append(&j->body, p, len) < 0)
		return 0; /* aborts the transfer: too big, or the spill file failed */
	return len;
}

/* --annotate: decode the picture of a job whose upload has gone out, while
 * the server works on it, so that drawing it later adds less to the run. At
 * most PREDECODE_MAX decoded pictures are held at once (memory); the others
 * are decoded when their turn comes. */
#define PREDECODE_MAX 2

static void predecode(struct batch *b)
{
	for (struct job *j = b->head; j && b->predecoded < PREDECODE_MAX; j = j->next) {
		if (j->state != JOB_RUNNING || !j->easy || j->pre || j->unreadable || j->up.fd < 0 ||
		    hp_is_video_name(j->up.filename))
			continue;
		curl_off_t sent = 0;
		curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
		if (sent < (curl_off_t)j->up.size)
			continue;
		if ((j->pre = hp_annotate_source_new(j->resized ? j->orig_fd : j->up.fd)) != NULL) {
			b->predecoded++;
			hp_msg_verbose(1, "%s: --annotate: picture decoded while the server works", j->file);
		}
	}
}

/* ---- rendering in order ---------------------------------------------------- */

static void render_job(struct batch *b, struct job *j)
{
	struct hp_item it = {
		.file = j->file,
		.file_below = j->file_below,
		.exit_code = j->exit_code,
		.http_status = j->http_status,
		.attempts = j->attempts,
		.elapsed_ms = j->elapsed_ms,
		.response = j->resp,
		.body = j->exit_code == 0 ? &j->body : NULL,
		.message = j->message,
		.request_id = j->exit_code != 0 && j->request_id[0] ? j->request_id : NULL,
		.has_source = j->orig_fd >= 0,
		.source_fd = j->orig_fd,
		.source_unreadable = j->unreadable,
		.resized = j->resized ? &j->rz : NULL,
		.source_picture = j->pre,
	};
	if (j->exit_code != 0) {
		/* "bus.jpg: 401 Unauthorized: Invalid API key"; input errors already
		 * name the file, quoted, in their message */
		if (j->exit_code == HP_EXIT_INPUT || j->exit_code == HP_EXIT_USAGE)
			hp_msg_error("%s", j->message);
		else if (j->request_id[0])
			hp_msg_error("%s: %s (x-request-id: %s)", j->file, j->message, j->request_id);
		else
			hp_msg_error("%s: %s", j->file, j->message);
		const struct hp_endpoint *ep = b->cfg->req->ep;
		if (!b->hub_noted && ep->hub_shared && ep->flavour == HP_FLAVOUR_HUB &&
		    (j->exit_code == HP_EXIT_AUTH || j->exit_code == HP_EXIT_NOT_FOUND || j->exit_code == HP_EXIT_NETWORK)) {
			/* "Flavours: HUB and Platform": a legacy key meets a service that is gone */
			hp_msg_error("note: Ultralytics HUB shut down on 2026-07-31 and legacy HUB keys no longer work; "
			             "use Ultralytics Platform (platform.ultralytics.com), whose keys start with ul_");
			b->hub_noted = true;
		}
		b->stats->failed++;
		if (b->stats->exit_code == 0 || b->stats->exit_code == HP_EXIT_EXPECT)
			b->stats->exit_code = j->exit_code;
	} else if (j->n_unmet > 0) {
		/* "bus.jpg: expected person>=2, found 1", "bus.jpg: baseline: person
		 * 2 -> 1": not a failed request */
		for (size_t i = 0; i < j->n_unmet; i++)
			hp_msg_error("%s: %s", j->file, j->unmet[i]);
		b->stats->unmet += j->n_unmet - j->n_differences;
		b->stats->differences += j->n_differences;
		if (b->stats->exit_code == 0)
			b->stats->exit_code = HP_EXIT_EXPECT;
	}
	it.unmet = (const char *const *)j->unmet;
	it.n_unmet = j->n_unmet;
	/* results and the progress line on one terminal: the line goes away
	 * before the results are written, and comes back after them */
	bool same_screen = b->cfg->progress && b->cfg->out->is_tty;
	if (same_screen)
		hp_progress_clear(b->cfg->progress);
	hp_renderer_item(b->cfg->renderer, &it);
	if (same_screen)
		hp_out_flush(b->cfg->out);
	for (size_t i = 0; i < b->cfg->n_observers; i++)
		b->cfg->observers[i].item(b->cfg->observers[i].state, &it);
	b->stats->done++;
	if (same_screen)
		b->redraw = true;
	if (b->cfg->out->broken_pipe) {
		b->stats->broken_pipe = true;
		b->stop_new = true;
	} else if (!hp_output_ok(b->cfg->out)) {
		b->stop_new = true;
	}
}

/* Render every finished job at the head of the queue. With `all`, also those
 * behind unfinished ones (after an interruption), dropping the unfinished. */
static void flush_done(struct batch *b, bool all)
{
	struct job **pp = &b->head;
	while (*pp) {
		struct job *j = *pp;
		if (j->state != JOB_DONE) {
			if (!all)
				break;
			pp = &j->next;
			continue;
		}
		/* an input cut short by the signal (stdin being read) is unfinished */
		bool interrupted = hp_exit_interrupted(j->exit_code);
		if (!b->stats->broken_pipe && !interrupted)
			render_job(b, j);
		*pp = j->next;
		if (b->tail == j)
			b->tail = NULL;
		b->queued--;
		job_free(j);
	}
	/* rebuild tail */
	b->tail = NULL;
	for (struct job *j = b->head; j; j = j->next)
		b->tail = j;
}

/* --fail-fast or a broken output: an input waiting for a retry ends with the
 * failure it has; inputs not yet started are skipped. */
static void settle_pending(struct batch *b)
{
	for (struct job *j = b->head; j; j = j->next) {
		if (j->state == JOB_PENDING && j->attempts > 0) {
			b->pending--;
			job_done(b, j, j->last_code);
		}
	}
}

static void abort_running(struct batch *b)
{
	for (struct job *j = b->head; j; j = j->next) {
		if (j->state == JOB_RUNNING && j->easy) {
			curl_multi_remove_handle(b->multi, j->easy);
			b->running--;
			if (!j->sent) {
				j->sent = true;
				b->unsent--;
			}
			curl_easy_cleanup(j->easy);
			j->easy = NULL;
		}
	}
}

#define BIG_UPLOAD ((curl_off_t)8 * 1024 * 1024)

static void update_progress(struct batch *b, bool force)
{
	if (!b->cfg->progress)
		return;
	struct hp_progress_state st = {
		.done = b->stats->done,
		.failed = b->stats->failed,
		.total = b->total,
		.elapsed_s = (now_ms() - b->t0) / 1000.0,
	};
	for (struct job *j = b->head; j; j = j->next) {
		if (j->state == JOB_PENDING && j->cold_waiting)
			st.note = "waiting for the endpoint to start";
		if (j->state == JOB_RUNNING && j->easy && j->up.size > BIG_UPLOAD) {
			curl_off_t sent = 0;
			curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
			st.up_sent += (uint64_t)sent;
			st.up_total += (uint64_t)j->up.size;
		}
	}
	/* by default only for batches and large uploads */
	if (b->cfg->progress_batches_only && !b->cfg->several && st.up_total == 0 && !st.note)
		return;
	hp_progress_update(b->cfg->progress, &st, force);
}

int hp_batch_run(const struct hp_batch_config *cfg, struct hp_batch_stats *stats)
{
	struct batch b = { .cfg = cfg, .stats = stats, .total = cfg->total };
	memset(stats, 0, sizeof *stats);
	b.t0 = now_ms();
	srand48((long)time(NULL) ^ (long)getpid()); /* backoff jitter */
	b.multi = curl_multi_init();
	if (!b.multi) {
		hp_msg_error("cannot start libcurl");
		stats->exit_code = HP_EXIT_NETWORK;
		return stats->exit_code;
	}
	size_t jobs = cfg->jobs > 0 ? (size_t)cfg->jobs : 1;
	/* finished answers waiting for a slow earlier one: bounded, so memory is */
	size_t window = jobs * 8 < 32 ? 32 : jobs * 8;
	curl_multi_setopt(b.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)jobs);
	/* keep every connection: libcurl's default cache is 4 per handle added,
	 * which shrinks when one slow answer is the only transfer left */
	curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, (long)jobs);

	for (;;) {
		if (stats->broken_pipe) {
			abort_running(&b);
			break;
		}
		if (hp_signal_caught()) {
			/* finished inputs are written, unfinished ones skipped */
			b.stop_new = true;
			abort_running(&b);
			flush_done(&b, true);
			break;
		}
		while (!b.stop_new && !b.inputs_done && b.running + b.pending < jobs && b.queued < window)
			start_next(&b);
		if (b.stop_new)
			settle_pending(&b);
		double wait = b.stop_new ? -1 : start_due(&b);
		flush_done(&b, false);
		if (!b.head && (b.inputs_done || b.stop_new))
			break;
		if (b.stop_new && b.running == 0) {
			/* inputs not started are skipped; finished ones are written */
			flush_done(&b, true);
			break;
		}
		int still = 0;
		curl_multi_perform(b.multi, &still);
		CURLMsg *m;
		int left;
		bool progressed = false;
		while ((m = curl_multi_info_read(b.multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct job *j = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			attempt_finished(&b, j, m->data.result);
			progressed = true;
		}
		if (cfg->keep_source)
			predecode(&b);
		update_progress(&b, b.redraw);
		b.redraw = false;
		/* Wait only when something is in flight or due later; inputs that
		 * failed at once (missing files) go on without a pause. */
		if (!progressed && (b.running > 0 || (b.pending > 0 && wait > 0))) {
			int timeout = 100; /* ms: signals are noticed at least this often */
			if (wait >= 0 && wait < timeout)
				timeout = (int)wait + 1;
			curl_multi_poll(b.multi, NULL, 0, timeout, NULL);
		}
	}
	stats->stopped_early = !b.inputs_done;
	update_progress(&b, true);
	hp_progress_clear(cfg->progress);
	abort_running(&b);
	for (struct job *j = b.head, *next; j; j = next) {
		next = j->next;
		job_free(j);
	}
	curl_multi_cleanup(b.multi);
	stats->elapsed_s = (now_ms() - b.t0) / 1000.0;
	if (hp_signal_caught())
		stats->exit_code = hp_exit_from_signal(hp_signal_caught());
	return stats->exit_code;
}
