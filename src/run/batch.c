/* batch.c - the scheduling loop: start inputs up to --jobs at once (and
 * --rate apart), poll the transfers, hand finished ones on; answers are
 * rendered in input order (batch_report.c). */
#define _POSIX_C_SOURCE 200809L /* st_mtim */
#include "batch_impl.h"
#include "hubpredict/annotate.h"
#include "hubpredict/buf.h"
#include "hubpredict/clock.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/expect.h"
#include "hubpredict/msg.h"
#include "hubpredict/progress.h"
#include "hubpredict/response.h"
#include "hubpredict/signals.h"
#include "hubpredict/source.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

double batch_now_ms(void)
{
	return hp_clock_ms();
}

void batch_job_free(struct job *j)
{
	if (!j)
		return;
	free(j->file);
	free(j->video);
	hp_upload_close(&j->up);
	if (j->orig_fd >= 0)
		close(j->orig_fd);
	if (j->pre) {
		hp_annotate_source_free(j->pre);
		j->batch->predecoded--;
	}
	curl_mime_free(j->mime);
	batch_easy_release(j->batch, j->easy);
	hp_body_free(&j->body);
	hp_body_free(&j->src_body);
	free(j->url);
	hp_response_free(j->resp);
	hp_json_parts_free(&j->parts);
	hp_expect_messages_free(j->unmet, j->n_unmet);
	free(j);
}

static const char *const state_names[] = {
	[JOB_QUEUED] = "queued", [JOB_OPENING] = "opening", [JOB_WAITING] = "waiting",
	[JOB_SENDING] = "sending", [JOB_BACKOFF] = "backoff", [JOB_PAUSED_429] = "paused (429)",
	[JOB_COLD_START_WAIT] = "cold-start wait", [JOB_DONE] = "done", [JOB_FAILED] = "failed",
	[JOB_WRITTEN] = "written", [JOB_SKIPPED] = "skipped", [JOB_ABORTED] = "aborted",
};

static bool is_waiting(enum job_state s)
{
	return s == JOB_WAITING || s == JOB_BACKOFF || s == JOB_PAUSED_429 || s == JOB_COLD_START_WAIT;
}

bool batch_job_finished(const struct job *j)
{
	return j->state == JOB_DONE || j->state == JOB_FAILED;
}

/* Into a retry's wait: the next attempt starts again from the original URL. */
static void enter_wait(struct batch *b, struct job *j, enum job_state to)
{
	j->message[0] = '\0';
	free(j->url);
	j->url = NULL;
	j->redirects = 0;
	if (to == JOB_COLD_START_WAIT)
		j->cold_waits++;
	else if (to == JOB_BACKOFF)
		j->retries_used++;
	else if (j->not_before > b->paused_until)
		b->paused_until = j->not_before; /* a 429: every job waits for the quota */
}

void batch_job_move(struct batch *b, struct job *j, enum job_state to)
{
	enum job_state from = j->state;
	struct hp_batch_stats *st = b->stats;
	if (is_waiting(from))
		b->pending--;
	if (from == JOB_SENDING && to != JOB_SENDING)
		b->running--;
	if (from == JOB_SENDING && is_waiting(to))
		enter_wait(b, j, to);
	if (is_waiting(to))
		b->pending++;
	if (batch_job_finished(j))
		b->finished--;
	if (to == JOB_DONE || to == JOB_FAILED)
		b->finished++;
	switch (to) {
	case JOB_OPENING: st->started++; break;
	case JOB_SKIPPED: st->skipped++; break;
	case JOB_SENDING:
		if (from == JOB_SENDING) { /* a redirect is part of the same attempt */
			j->redirects++;
		} else {
			b->running++;
			j->attempts++;
			st->requests++;
		}
		break;
	case JOB_FAILED: st->failed++; /* fall through */
	case JOB_DONE: st->cached += j->cached; break;
	case JOB_WRITTEN: st->done++; break;
	default: break;
	}
	j->state = to;
	hp_msg_verbose(3, "%s: %s -> %s", j->file ? j->file : "-", state_names[from], state_names[to]);
}

/* --rate spaces requests as the server sees them: the next slot is counted
 * from the moment this request is sent (after any connection set-up), not
 * from when its transfer was added. */
void batch_rate_mark_sent(struct batch *b, struct job *j)
{
	if (j->sent)
		return;
	j->sent = true;
	hp_pacer_sent(&b->pacer, batch_now_ms());
}

static int on_request_sent(void *arg, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                           int conn_local_port)
{
	struct job *j = arg;
	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	batch_rate_mark_sent(j->batch, j);
	return CURL_PREREQFUNC_OK;
}

void batch_easy_release(struct batch *b, CURL *easy)
{
	if (!easy)
		return;
	if (b && b->multi)
		curl_multi_remove_handle(b->multi, easy); /* a no-op when it is not in it */
	if (b && b->n_pool <= (size_t)(b->cfg->jobs > 0 ? b->cfg->jobs : 1)) {
		CURL **p = hp_grow_array(b->pool, &b->cap_pool, b->n_pool + 1, sizeof *p, 8);
		if (p) {
			b->pool = p;
			curl_easy_reset(easy);
			b->pool[b->n_pool++] = easy;
			return;
		}
	}
	curl_easy_cleanup(easy);
}

/* Largest input, and all of them together, whose form is held in memory. */
#define FORM_MAX (16u << 20)
#define FORMS_MAX_BYTES (64u << 20)
#define FORMS_MAX 256

/* repeat_inputs: j's form, built the first time its input is sent; NULL: a
 * mime (an input not built, too many or too big, out of memory). */
static const struct hp_form_body *form_of(struct batch *b, const struct job *j)
{
	for (size_t i = 0; i < b->n_forms; i++)
		if (strcmp(b->forms[i].path, j->file) == 0)
			return b->forms[i].built ? &b->forms[i].fb : NULL;
	if (b->n_forms >= FORMS_MAX || j->up.size < 0 || b->forms_bytes + (size_t)j->up.size > FORMS_MAX_BYTES)
		return NULL;
	struct batch_form *f = hp_grow_array(b->forms, &b->cap_forms, b->n_forms + 1, sizeof *f, 8);
	if (!f)
		return NULL;
	b->forms = f;
	f = &b->forms[b->n_forms];
	memset(f, 0, sizeof *f);
	if (!(f->path = strdup(j->file)))
		return NULL;
	f->built = hp_form_body_build(&f->fb, b->cfg->req, &j->up, FORM_MAX) == 0;
	b->n_forms++;
	if (!f->built)
		return NULL;
	b->forms_bytes += f->fb.len;
	hp_msg_verbose(2, "%s: its form (%zu bytes) is built once and sent from memory", j->file, f->fb.len);
	return &f->fb;
}

/* Configure and add one attempt to the multi handle. */
int batch_attempt_start(struct batch *b, struct job *j)
{
	const struct hp_request_ctx *req = b->cfg->req;
	const char *url = j->url ? j->url : req->ep->url;
	j->easy = b->n_pool > 0 ? b->pool[--b->n_pool] : curl_easy_init();
	if (!j->easy) {
		snprintf(j->message, sizeof j->message, "out of memory");
		return -1;
	}
	j->errbuf[0] = '\0';
	j->request_id[0] = '\0';
	const struct hp_form_body *fb = b->cfg->repeat_inputs ? form_of(b, j) : NULL;
	if (hp_request_setup(j->easy, req, &j->up, fb, &j->cursor, &j->stall, url, j->errbuf, &j->mime) < 0) {
		snprintf(j->message, sizeof j->message, "out of memory");
		return -1;
	}
	hp_body_reset(&j->body);
	j->body_configured = false;
	/* HTTP/2: wait for a connection that can multiplex rather than open one
	 * per transfer, so -j 8 over TLS is one connection, as curl's is. Only
	 * over TLS, where ALPN settles it at the handshake: over plain HTTP/1.1
	 * the waiting transfers would queue behind the first answer */
	if (strncasecmp(url, "https://", 8) == 0)
		curl_easy_setopt(j->easy, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, batch_on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, batch_on_header);
	curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
	if (b->pacer.kind == HP_PACE_SPACING) {
		curl_easy_setopt(j->easy, CURLOPT_PREREQFUNCTION, on_request_sent);
		curl_easy_setopt(j->easy, CURLOPT_PREREQDATA, j);
	}
	batch_job_move(b, j, JOB_SENDING);
	j->t_attempt = batch_now_ms();
	j->answer_ms = 0;
	j->interim = false;
	hp_msg_verbose(1, "%s: attempt %d: POST %s", j->file, j->attempts, url);
	if (curl_multi_add_handle(b->multi, j->easy) != CURLM_OK) {
		snprintf(j->message, sizeof j->message, "cannot start the transfer");
		return -1;
	}
	if (b->pacer.kind == HP_PACE_SPACING) {
		j->sent = false;
		hp_pacer_unsent(&b->pacer);
	}
	return 0;
}

/* "x.webp" -> "x.png" for a picture re-encoded as PNG. Caller frees. */
static char *png_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	char *p = malloc(stem + 5);
	if (p) {
		memcpy(p, name, stem);
		memcpy(p + stem, ".png", 5);
	}
	return p;
}

/* The upload sends the copy from now on; the original's descriptor is kept
 * in j->orig_fd (for --annotate). 0, or -1 out of memory (copy closed). */
static int send_copy(struct job *j, struct hp_picture_copy *copy)
{
	if (copy->as_png) {
		char *name = png_name(j->up.filename);
		if (!name) {
			close(copy->fd);
			return -1;
		}
		free(j->up.filename);
		j->up.filename = name;
	}
	j->up.mime_type = copy->mime_type;
	j->orig_fd = j->up.fd;
	j->up.fd = copy->fd;
	j->up.size = (off_t)copy->size;
	return 0;
}

/* --resize: send a downsized copy of a large image (the copy is what every
 * retry resends). Not an image: one warning, sent as it is. 0, or an exit
 * status for a system error. */
static int resize_upload(struct batch *b, struct job *j)
{
	char err[400], q[512];
	struct hp_picture_copy copy;
	if (j->up.fd < 0 || hp_is_video_name(j->up.filename))
		return 0; /* URLs and videos are sent as they are */
	int rc = hp_picture_resize_upload(j->up.fd, b->cfg->resize_imgsz, &j->rz, &copy, err, sizeof err);
	if (rc == 1 && send_copy(j, &copy) < 0) {
		snprintf(err, sizeof err, "out of memory");
		rc = -2;
	}
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

/* Open the job's input: a path (a file, standard input, a URL input) or
 * produced bytes (taken over from in); its size and mtime for envelopes and
 * --resume. 0, or an exit status with j->message set. */
static int open_input(struct batch *b, struct job *j, struct hp_input *in)
{
	if (in->produced) {
		int fd = in->fd;
		in->fd = -1;
		in->produced = false;
		j->has_stat = true;
		j->in_size = in->size;
		j->in_mtime = in->time;
		return hp_upload_from_fd(&j->up, fd, in->size, j->file, b->cfg->limits, j->message, sizeof j->message);
	}
	bool urls_ok = b->cfg->req->ep->flavour == HP_FLAVOUR_PLATFORM;
	int rc = hp_upload_open(&j->up, j->file, urls_ok, b->cfg->limits, j->message, sizeof j->message);
	struct stat st;
	if (!rc && j->up.fd >= 0 && strcmp(j->file, "-") != 0 && fstat(j->up.fd, &st) == 0) {
		j->has_stat = true;
		j->in_size = (long long)st.st_size;
		j->in_mtime = st.st_mtim;
	}
	return rc;
}

/* The next input from the source as a job, QUEUED; those --resume passes
 * over are SKIPPED on the way. NULL at the end (or out of memory). */
static struct job *next_job(struct batch *b, struct hp_input *in)
{
	for (;;) {
		memset(in, 0, sizeof *in);
		in->fd = -1;
		int got = b->cfg->source.next(b->cfg->source.state, in);
		if (got < 0)
			b->source_idle = true;
		if (got <= 0)
			return NULL;
		if (in->produced && !in->error) {
			/* --resume's key for produced bytes: their name, size and time */
			in->have_st = true;
			in->st.st_size = (off_t)in->size;
			in->st.st_mtim = in->time;
		}
		struct job *j = calloc(1, sizeof *j);
		if (!j) {
			hp_input_clear(in);
			return NULL;
		}
		j->state = JOB_QUEUED;
		j->batch = b;
		j->timings = (struct hp_timings)HP_TIMINGS_NONE;
		j->up = (struct hp_upload)HP_UPLOAD_INIT;
		j->orig_fd = -1;
		if (!batch_input_skipped(b, in))
			return j;
		j->file = in->path;
		batch_job_move(b, j, JOB_SKIPPED);
		j->file = NULL;
		batch_job_free(j);
		hp_input_clear(in);
	}
}

/* Take the next input and start it (or finish it at once when it is bad). */
static void start_next(struct batch *b)
{
	struct hp_input in;
	struct job *j = next_job(b, &in);
	if (!j) {
		b->inputs_done = !b->source_idle;
		return;
	}
	j->sent = true; /* nothing outstanding until an attempt starts */
	j->raw = b->cfg->raw;
	j->file = in.path;
	j->file_below = in.below;
	in.path = NULL;
	j->video = in.video;
	in.video = NULL;
	j->frame = in.frame;
	j->time = (double)in.time.tv_sec + (double)in.time.tv_nsec / 1e9;
	j->stream = in.stream;
	j->stream_frame = in.frame;
	j->stream_time = in.time;
	j->stream_at = in.at;
	batch_job_move(b, j, JOB_OPENING);
	if (b->tail)
		b->tail->next = j;
	else
		b->head = j;
	b->tail = j;
	b->queued++;
	if (!j->file) {
		snprintf(j->message, sizeof j->message, "out of memory");
		batch_job_done(b, j, HP_EXIT_NOMEM);
	} else if (in.error) {
		char q[512];
		snprintf(j->message, sizeof j->message, "%s: %s", hp_msg_quote(q, sizeof q, j->file), in.error);
		batch_job_done(b, j, HP_EXIT_INPUT);
	} else if (!in.produced && b->cfg->check_input &&
	           b->cfg->check_input(b->cfg->check_state, j->file, j->message, sizeof j->message) != 0) {
		b->stats->refused = true;
		b->stop_new = true;
		batch_job_done(b, j, HP_EXIT_USAGE);
	} else {
		bool frame = in.produced && in.frame >= 0;
		int rc = open_input(b, j, &in);
		if (!rc && in.resized.from_w > 0) {
			j->resized = true; /* a frame the source downsized: answers map back */
			j->rz = (struct hp_resized){ in.resized.from_w, in.resized.from_h, in.resized.to_w, in.resized.to_h };
		} else if (!rc && b->cfg->resize_imgsz > 0 && !frame) {
			rc = resize_upload(b, j);
		}
		if (rc) {
			batch_job_done(b, j, rc);
		} else if (!batch_answer_without_request(b, j)) {
			batch_job_move(b, j, JOB_WAITING);
		}
	}
	hp_input_clear(&in);
}

/* Start pending jobs, in input order, whose time has come; --rate spaces
 * the starts of all attempts. Returns ms until the next one is due (or -1). */
static double start_due(struct batch *b)
{
	double now = batch_now_ms();
	double wait = -1;
	double pace = hp_pacer_due(&b->pacer);
	b->next_due = -1;
	if (pace < 0)
		return 10; /* the last start has not gone out yet: its send sets the next slot */
	for (struct job *j = b->head; j; j = j->next) {
		if (!is_waiting(j->state))
			continue;
		double earliest = b->paused_until > pace ? b->paused_until : pace; /* no job is due before */
		double due = j->not_before > earliest ? j->not_before : earliest;
		if (due > now) {
			if (wait < 0 || due - now < wait)
				wait = due - now;
			if (due == earliest)
				break; /* the rest cannot be due sooner: no need to walk them */
			continue;
		}
		double scheduled = hp_pacer_start(&b->pacer, now);
		if (j->t_start == 0) {
			j->t_start = now;
			j->timings.scheduled_ms = scheduled;
			j->timings.started_ms = now;
		}
		if (batch_attempt_start(b, j) < 0)
			batch_job_done(b, j, HP_EXIT_NETWORK);
		if (b->pacer.kind == HP_PACE_SPACING) {
			/* one start at a time: the next waits for this one to be sent */
			wait = 10;
			break;
		}
		pace = hp_pacer_due(&b->pacer);
	}
	b->next_due = wait >= 0 ? now + wait : -1;
	return wait;
}

/* --annotate: decode the picture of a job whose upload has gone out, while
 * the server works on it, so that drawing it later adds less to the run. At
 * most PREDECODE_MAX decoded pictures are held at once (memory); the others
 * are decoded when their turn comes. */
#define PREDECODE_MAX 2

static void predecode(struct batch *b)
{
	for (struct job *j = b->head; j && b->predecoded < PREDECODE_MAX; j = j->next) {
		if (j->state != JOB_SENDING || !j->easy || j->pre || j->unreadable || j->up.fd < 0 || j->video ||
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

/* --fail-fast or a broken output: an input waiting for a retry ends with the
 * failure it has; inputs not yet started are skipped. */
static void settle_pending(struct batch *b)
{
	for (struct job *j = b->head; j; j = j->next) {
		if (is_waiting(j->state) && j->attempts > 0)
			batch_job_done(b, j, j->last_code);
	}
}

static void abort_running(struct batch *b)
{
	for (struct job *j = b->head; j; j = j->next) {
		if (j->state == JOB_SENDING && j->easy) {
			curl_multi_remove_handle(b->multi, j->easy);
			batch_rate_mark_sent(b, j); /* never sent: free the pacer */
			batch_easy_release(b, j->easy);
			j->easy = NULL;
			batch_job_move(b, j, JOB_ABORTED);
		}
	}
}

/* The open loop's schedule (bench --rate) is kept on the CPU for its last
 * stretch: the timer fires this long before a start is due and the loop then
 * turns without sleeping until it is. Waking a sleeping process takes tens
 * of microseconds on a virtual machine (an idle CPU halts), and every start
 * would be that late and its latency that much longer; 0.1 ms a start is at
 * most a fifth of a core at 2,000/s. */
#define SCHEDULE_SPIN_MS 0.1

/* The timer set to fire at b->next_due exactly (clock.h's clock is
 * CLOCK_MONOTONIC), or SCHEDULE_SPIN_MS before it on a schedule: poll's
 * timeout counts whole milliseconds, so alone it wakes up to 1 ms late,
 * which a --rate of 2000/s would count against the schedule. true when set. */
static bool arm_timer(struct batch *b)
{
	if (b->timer_fd < 0 || b->next_due < 0)
		return false;
	double at = b->pacer.kind == HP_PACE_SCHEDULE ? b->next_due - SCHEDULE_SPIN_MS : b->next_due;
	double sec = floor(at / 1000.0);
	struct itimerspec its = { .it_value = { (time_t)sec, (long)ceil((at - sec * 1000.0) * 1e6) } };
	if (its.it_value.tv_nsec >= 1000000000L) {
		its.it_value.tv_sec++;
		its.it_value.tv_nsec -= 1000000000L;
	}
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1; /* zero would disarm it */
	return timerfd_settime(b->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0;
}

/* Run the transfers for up to 100 ms, then finish those that ended. */
static void poll_once(struct batch *b, double wait)
{
	int still = 0;
	curl_multi_perform(b->multi, &still);
	CURLMsg *m;
	int left;
	bool progressed = false;
	while ((m = curl_multi_info_read(b->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct job *j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		batch_attempt_finished(b, j, m->data.result);
		progressed = true;
	}
	if (b->cfg->keep_source)
		predecode(b);
	batch_update_progress(b, b->redraw);
	b->redraw = false;
	if (b->pacer.kind == HP_PACE_SCHEDULE && wait >= 0 && wait <= SCHEDULE_SPIN_MS && !b->source_idle)
		return; /* a start is due within the spin: no sleep (SCHEDULE_SPIN_MS) */
	/* Wait only when something is in flight or due later; inputs that
	 * failed at once (missing files) go on without a pause. */
	if (!progressed && (b->running > 0 || (b->pending > 0 && wait > 0) || b->source_idle)) {
		int timeout = 100; /* ms: signals are noticed at least this often */
		if (wait >= 0 && wait < timeout)
			timeout = (int)wait + 1;
		/* a source with nothing yet: until it may have, or its descriptor wakes */
		struct curl_waitfd wfd[2] = { { .fd = -1, .events = CURL_WAIT_POLLIN } };
		unsigned n = 0;
		if (b->source_idle && b->cfg->source_idle) {
			double idle = b->cfg->source_idle(b->cfg->source.state, &wfd[0].fd);
			if (idle >= 0 && idle < timeout)
				timeout = (int)idle + 1;
		}
		n = wfd[0].fd >= 0;
		/* the next start at its time, not at the next whole millisecond */
		if (wait >= 0 && wait < 100 && arm_timer(b))
			wfd[n++] = (struct curl_waitfd){ .fd = b->timer_fd, .events = CURL_WAIT_POLLIN };
		curl_multi_poll(b->multi, wfd, n, timeout, NULL);
	}
}

/* The loop: until every input is written, or the run stops. */
static void run_loop(struct batch *b, size_t jobs, size_t window)
{
	for (;;) {
		if (b->stats->broken_pipe) {
			abort_running(b);
			break;
		}
		if (hp_signal_caught()) {
			/* finished inputs are written, unfinished ones skipped */
			b->stop_new = true;
			abort_running(b);
			batch_flush_done(b, true);
			break;
		}
		/* what finished is written first: a failure to keep it (a full
		 * --resume LOG, a broken -o) or --fail-fast stops the run before
		 * the slot it freed starts another paid request */
		batch_flush_done(b, false);
		b->source_idle = false;
		while (!b->stop_new && !b->inputs_done && !b->source_idle && b->running + b->pending < jobs &&
		       batch_window_open(b, window))
			start_next(b);
		if (b->stop_new)
			settle_pending(b);
		double wait = b->stop_new ? -1 : start_due(b);
		batch_flush_done(b, false);
		if (!b->head && (b->inputs_done || b->stop_new))
			break;
		if (b->stop_new && b->running == 0) {
			/* inputs not started are skipped; finished ones are written */
			batch_flush_done(b, true);
			break;
		}
		poll_once(b, wait);
	}
}

int hp_batch_run(const struct hp_batch_config *cfg, struct hp_batch_stats *stats)
{
	struct batch b = { .cfg = cfg, .stats = stats, .total = cfg->total, .next_due = -1, .timer_fd = -1 };
	memset(stats, 0, sizeof *stats);
	b.t0 = batch_now_ms();
	hp_pacer_init(&b.pacer, cfg->rate_schedule ? HP_PACE_SCHEDULE : HP_PACE_SPACING, cfg->rate_interval, b.t0);
	if (hp_pacer_active(&b.pacer))
		b.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); /* -1: whole ms */
	b.multi = curl_multi_init();
	if (!b.multi) {
		if (b.timer_fd >= 0)
			close(b.timer_fd);
		hp_msg_error("cannot start libcurl");
		stats->exit_code = HP_EXIT_NETWORK;
		return stats->exit_code;
	}
	size_t jobs = cfg->jobs > 0 ? (size_t)cfg->jobs : 1;
	/* finished answers waiting for a slow earlier one: bounded in bytes
	 * (batch_window_open), and in number when each holds an open picture */
	size_t window = jobs * 8 < 32 ? 32 : jobs * 8;
	curl_multi_setopt(b.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(b.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)jobs);
	/* keep every connection: libcurl's default cache is 4 per handle added,
	 * which shrinks when one slow answer is the only transfer left */
	curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, (long)jobs);
	run_loop(&b, jobs, window);
	stats->stopped_early = !b.inputs_done;
	batch_update_progress(&b, true);
	hp_progress_erase(cfg->progress);
	batch_video_expect_end(&b);
	abort_running(&b);
	for (struct job *j = b.head, *next; j; j = next) {
		next = j->next;
		batch_job_free(j);
	}
	for (size_t i = 0; i < b.n_pool; i++)
		curl_easy_cleanup(b.pool[i]);
	free(b.pool);
	for (size_t i = 0; i < b.n_forms; i++) {
		free(b.forms[i].path);
		hp_form_body_free(&b.forms[i].fb);
	}
	free(b.forms);
	curl_multi_cleanup(b.multi);
	if (b.timer_fd >= 0)
		close(b.timer_fd);
	stats->elapsed_s = (batch_now_ms() - b.t0) / 1000.0;
	if (hp_signal_caught() && !(cfg->sigint_ends && hp_signal_caught() == SIGINT))
		stats->exit_code = hp_exit_from_signal(hp_signal_caught());
	return stats->exit_code;
}
