/* batch_outcome.c - what a finished transfer means: the HTTP status into an
 * exit status and a message, the redirect policy, the retry decision. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "batch_impl.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/response.h"
#include "hubpredict/retry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* An attempt failed with `code`: try again later, or finish the job. The
 * next attempt is rebuilt from the open file, so it sends the same bytes. */
/* How long to wait before the next attempt of j (s), and why: the answer's
 * Retry-After or X-RateLimit-Reset, else the backoff. */
static double next_wait(const struct job *j, bool limited, bool starting, const char **why)
{
	time_t wall = time(NULL);
	double wait = -1;
	*why = "backoff";
	if (j->retry_after[0] && (wait = hp_parse_retry_after(j->retry_after, wall)) >= 0)
		*why = "Retry-After";
	else if (j->ratelimit_reset[0] && (wait = hp_parse_ratelimit_reset(j->ratelimit_reset, wall)) >= 0)
		*why = "X-RateLimit-Reset";
	else
		wait = hp_backoff_seconds(limited ? j->attempts : starting ? j->cold_waits + 1 : j->retries_used + 1,
		                          hp_retry_jitter());
	return wait;
}

/* A 429 that is not retried (bench): every start waits for the quota all the
 * same, and a pause that begins says so. */
static void pause_for_quota(struct batch *b, const struct job *j)
{
	const char *why;
	double now = batch_now_ms();
	double until = now + next_wait(j, true, false, &why) * 1000.0;
	if (until <= b->paused_until)
		return;
	if (b->paused_until <= now)
		hp_msg_warn("%s: 429 Too Many Requests: no request starts for %.1f s (%s)", j->file,
		            (until - now) / 1000.0, why);
	b->paused_until = until;
}

static void conclude(struct batch *b, struct job *j, int code, bool retryable, bool refused)
{
	const struct hp_batch_config *cfg = b->cfg;
	j->last_code = code;
	bool limited = j->http_status == 429;
	double spent = (batch_now_ms() - j->t_start) / 1000.0;
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
		if (limited && cfg->pause_on_429 && !b->stop_new)
			pause_for_quota(b, j);
		batch_job_done(b, j, code);
		return;
	}
	const char *why;
	double wait = next_wait(j, limited, starting, &why);
	if (starting && spent + wait > cfg->cold_start_wait) {
		/* the window ends before this wait would: the usual retries from here */
		starting = false;
		if (j->retries_used >= cfg->retries) {
			size_t l = strlen(j->message);
			if (j->cold_waits > 0)
				snprintf(j->message + l, sizeof j->message - l,
				         " (the endpoint did not start within --cold-start-wait %g s)", cfg->cold_start_wait);
			batch_job_done(b, j, code);
			return;
		}
	}
	if (spent + wait > cfg->retry_max_time) {
		size_t l = strlen(j->message);
		snprintf(j->message + l, sizeof j->message - l,
		         " (gave up after %.1f s: the next retry, %.1f s later, would pass --retry-max-time %g s)", spent,
		         wait, cfg->retry_max_time);
		batch_job_done(b, j, code);
		return;
	}
	hp_msg_verbose(1, "%s: attempt %d: %s; %s in %.1f s (%s)", j->file, j->attempts, j->message,
	               starting ? "waiting for the endpoint to start, next attempt" : "retrying", wait, why);
	j->not_before = batch_now_ms() + wait * 1000.0;
	batch_job_move(b, j, starting ? JOB_COLD_START_WAIT : limited ? JOB_PAUSED_429 : JOB_BACKOFF);
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
			if (batch_attempt_start(b, j) == 0) /* SENDING again: the same attempt */
				return true;
			batch_job_done(b, j, HP_EXIT_NETWORK);
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

/* The transfer failed before a whole answer came: a body over the limit,
 * or a network error (retried when that can help). */
static void transport_failed(struct batch *b, struct job *j, CURLcode rc, double ms)
{
	if (j->body.error == ENOMEM) {
		snprintf(j->message, sizeof j->message, "out of memory"); /* never a network error */
		batch_job_done(b, j, HP_EXIT_NOMEM);
		return;
	}
	if (j->body.too_big) {
		char limit[40];
		batch_limit_text(b->cfg->max_answer, limit, sizeof limit);
		snprintf(j->message, sizeof j->message, "bad response: larger than %s", limit);
		batch_job_done(b, j, HP_EXIT_BAD_RESPONSE);
		return;
	}
	const char *why = j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc);
	if (j->body.error)
		why = strerror(j->body.error);
	if (j->stall.fired)
		snprintf(j->message, sizeof j->message, "network error: stalled, nothing sent or received for %ld s",
		         j->stall.limit_ms / 1000);
	else
		snprintf(j->message, sizeof j->message, "network error: %s", why);
	hp_msg_verbose(1, "%s: attempt %d failed after %.0f ms: %s", j->file, j->attempts, ms, j->message);
	bool retry = hp_retryable_curl(rc) && (rc != CURLE_ABORTED_BY_CALLBACK || j->stall.fired) && !j->body.error;
	conclude(b, j, HP_EXIT_NETWORK, retry, rc == CURLE_COULDNT_CONNECT);
}

/* An answer that is not a 2xx: its message, then a retry or the end. */
static void http_failed(struct batch *b, struct job *j, long status)
{
	int code = hp_classify_http(status, j->body.data, j->body.len, j->message, sizeof j->message);
	if (code == HP_EXIT_AUTH && !b->cfg->req->headers && b->cfg->req->ep->flavour == HP_FLAVOUR_PLATFORM) {
		/* no key was sent, so the model is not a public one */
		size_t l = strlen(j->message);
		snprintf(j->message + l, sizeof j->message - l,
		         " (no API key was sent: this model is not public; give a key with --api-key-file FILE "
		         "or ULTRALYTICS_API_KEY, Platform keys start with ul_)");
	}
	conclude(b, j, code, hp_retryable_status(status), false);
}

/* The attempt's phases and sizes, read before its handle goes. */
static void copy_timings(struct job *j)
{
	static const CURLINFO which[] = { CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T,
		                          CURLINFO_PRETRANSFER_TIME_T, CURLINFO_STARTTRANSFER_TIME_T,
		                          CURLINFO_TOTAL_TIME_T };
	double *into[] = { &j->timings.connect_s, &j->timings.appconnect_s, &j->timings.pretransfer_s,
		           &j->timings.starttransfer_s, &j->timings.total_s };
	for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
		curl_off_t us = 0;
		*into[i] = curl_easy_getinfo(j->easy, which[i], &us) == CURLE_OK ? (double)us / 1e6 : -1;
	}
	curl_off_t up = 0, down = 0;
	curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(j->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
	/* a prebuilt form that went with the headers was whole at libcurl's
	 * pre-transfer time: on libcurl's clock, as the phases' other times */
	j->timings.upload_done_s = j->cursor.with_headers ? j->timings.pretransfer_s
	                           : j->cursor.read_all_ms > 0 ? (j->cursor.read_all_ms - j->t_attempt) / 1000.0 : -1;
	j->timings.answer_s = j->answer_ms > 0 ? (j->answer_ms - j->t_attempt) / 1000.0 : -1;
	j->timings.sent_bytes = (long long)up;
	j->timings.received_bytes = (long long)down;
}

/* A transfer ended: decide what it means. */
void batch_attempt_finished(struct batch *b, struct job *j, CURLcode rc)
{
	long status = 0;
	char *redirect = NULL;
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(j->easy, CURLINFO_REDIRECT_URL, &redirect);
	char *location = redirect ? strdup(redirect) : NULL; /* outlives the handle */
	j->http_status = status;
	curl_multi_remove_handle(b->multi, j->easy);
	batch_rate_mark_sent(b, j); /* never sent (connection failed): free the slot */
	double ms = batch_now_ms() - j->t_attempt;
	copy_timings(j);
	const struct hp_timings *t = &j->timings;
	hp_msg_verbose(3, "%s: attempt %d: connect %.6f s, tls %.6f s, pretransfer %.6f s, first byte %.6f s, "
	               "total %.6f s; %lld bytes sent, %lld received", j->file, j->attempts, t->connect_s,
	               t->appconnect_s, t->pretransfer_s, t->starttransfer_s, t->total_s, t->sent_bytes,
	               t->received_bytes);

	/* the transfer is over: its handle goes, the open file stays for a retry */
	batch_easy_release(b, j->easy);
	j->easy = NULL;
	curl_mime_free(j->mime);
	j->mime = NULL;

	if (rc != CURLE_OK) {
		transport_failed(b, j, rc, ms);
	} else {
		hp_msg_verbose(1, "%s: attempt %d: %ld %s in %.0f ms, %zu bytes", j->file, j->attempts, status,
		               hp_http_reason(status), ms, j->body.total);
		if (b->cfg->raw && status >= 200 && status < 300 && j->body.data &&
		    hp_msg_holds_secret(j->body.data, j->body.len))
			hp_msg_warn("%s: the answer holds the API key or a part of it; -f raw writes it unchanged", j->file);
		if (status >= 300 && status < 400) {
			if (!follow_redirect(b, j, status, location))
				batch_job_done(b, j, HP_EXIT_BAD_RESPONSE);
		} else if (status < 200 || status >= 300) {
			http_failed(b, j, status);
		} else {
			batch_answer_accept(b, j, true);
		}
	}
	free(location);
}
