/* batch_report.c - finished inputs rendered in input order, messages on
 * stderr, observers told; the progress line. */
#define _DEFAULT_SOURCE
#include "batch_impl.h"
#include "hubpredict/annotate.h"
#include "hubpredict/baseline.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/expect.h"
#include "hubpredict/inputs.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/progress.h"
#include "hubpredict/render.h"
#include "hubpredict/response.h"
#include "hubpredict/resume.h"
#include "hubpredict/retry.h"
#include "hubpredict/signals.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

void batch_job_done(struct batch *b, struct job *j, int code)
{
	j->exit_code = code;
	batch_job_move(b, j, code != 0 ? JOB_FAILED : JOB_DONE);
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
		j->elapsed_ms = batch_now_ms() - j->t_start;
	batch_easy_release(b, j->easy);
	j->easy = NULL;
	curl_mime_free(j->mime);
	j->mime = NULL;
	if (b->cfg->keep_source && j->orig_fd < 0 && j->up.fd >= 0) {
		j->orig_fd = j->up.fd; /* --annotate reads it again */
		j->up.fd = -1;
	}
	hp_upload_close(&j->up);
	/* what it holds while it waits for an earlier input: the window */
	j->held_bytes = sizeof *j + strlen(j->file) + hp_response_bytes(j->resp) +
	                (j->body.mapped || !j->body.data ? 0 : j->body.cap);
	b->held += j->held_bytes;
}

void batch_video_expect_end(struct batch *b)
{
	char **msgs = NULL;
	size_t n = 0;
	if (!b->tally_video)
		return;
	bool judged = b->tally_any; /* some frame was answered */
	if (judged && hp_expect_tally_messages(b->cfg->expects, b->cfg->n_expects, b->tally, &msgs, &n) < 0) {
		hp_msg_error("%s: out of memory", b->tally_video);
		if (b->stats->exit_code == 0 || b->stats->exit_code == HP_EXIT_EXPECT)
			b->stats->exit_code = HP_EXIT_NOMEM;
		judged = false;
	}
	/* "clip.mp4: expected person>=1, found 0": the video's, over its frames */
	for (size_t i = 0; i < n; i++)
		hp_msg_error("%s: %s", b->tally_video, msgs[i]);
	for (size_t i = 0; judged && i < b->cfg->n_observers; i++)
		if (b->cfg->observers[i].video)
			b->cfg->observers[i].video(b->cfg->observers[i].state, b->tally_video, (const char *const *)msgs, n);
	b->stats->unmet += n;
	if (n && b->stats->exit_code == 0)
		b->stats->exit_code = HP_EXIT_EXPECT;
	hp_expect_messages_free(msgs, n);
	free(b->tally_video);
	free(b->tally);
	b->tally_video = NULL;
	b->tally = NULL;
	b->tally_any = false;
}

/* --expect on a cut video: the frame's answer added to its video's tally;
 * the previous video's verdict when this input is not its frame. */
static void video_expect_frame(struct batch *b, const struct job *j)
{
	const struct hp_batch_config *cfg = b->cfg;
	if (!cfg->n_expects)
		return;
	if (b->tally_video && (!j->video || strcmp(b->tally_video, j->video) != 0 || j->frame <= b->tally_frame))
		batch_video_expect_end(b);
	if (!j->video)
		return;
	if (!b->tally_video) {
		b->tally_video = strdup(j->video);
		b->tally = calloc(cfg->n_expects, sizeof *b->tally);
		if (!b->tally_video || !b->tally) {
			hp_msg_error("%s: out of memory", j->video);
			if (b->stats->exit_code == 0 || b->stats->exit_code == HP_EXIT_EXPECT)
				b->stats->exit_code = HP_EXIT_NOMEM;
			free(b->tally_video);
			free(b->tally);
			b->tally_video = NULL;
			b->tally = NULL;
			return;
		}
	}
	b->tally_frame = j->frame;
	if (j->exit_code == 0 && j->resp) {
		hp_expect_tally_add(cfg->expects, cfg->n_expects, b->tally, j->resp);
		b->tally_any = true;
	}
}

/* What the renderer and the observers are shown of a finished job. */
static struct hp_item job_item(struct job *j)
{
	return (struct hp_item){
		.file = j->file,
		.file_below = j->file_below,
		.exit_code = j->exit_code,
		.http_status = j->http_status,
		.attempts = j->attempts,
		.elapsed_ms = j->elapsed_ms,
		.response = j->resp,
		.owner = j->resp ? &j->resp : NULL,
		.body = j->exit_code == 0 ? &j->body : NULL,
		.message = j->message,
		.request_id = j->exit_code != 0 && j->request_id[0] ? j->request_id : NULL,
		.has_source = j->orig_fd >= 0,
		.source_fd = j->orig_fd,
		.source_unreadable = j->unreadable,
		.resized = j->resized ? &j->rz : NULL,
		.source_picture = j->pre,
		.cached = j->cached,
		.has_stat = j->has_stat,
		.size = j->in_size,
		.mtime = j->in_mtime,
		.timings = &j->timings,
		.video = j->video,
		.frame = j->frame,
		.time = j->time,
		.stream = j->stream,
		.stream_frame = j->stream_frame,
		.stream_time = j->stream_time,
		.stream_at = j->stream_at,
		.parts = j->exit_code == 0 && j->walk.each ? &j->walk : NULL,
	};
}

static void render_job(struct batch *b, struct job *j)
{
	struct hp_item it = job_item(j);
	video_expect_frame(b, j);
	if (j->exit_code != 0 && !b->cfg->quiet_failures) {
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
		if (b->stats->exit_code == 0 || b->stats->exit_code == HP_EXIT_EXPECT)
			b->stats->exit_code = j->exit_code;
	} else if (j->n_unmet > 0) {
		/* "bus.jpg: expected person>=2, found 1", "bus.jpg: baseline: person
		 * 2 -> 1": not a failed request */
		for (size_t i = 0; i < j->n_unmet; i++)
			hp_msg_error("%s: %s", j->video ? j->video : j->file, j->unmet[i]);
		b->stats->unmet += j->n_unmet - j->n_differences;
		b->stats->differences += j->n_differences;
		if (b->stats->exit_code == 0)
			b->stats->exit_code = HP_EXIT_EXPECT;
		/* a stream's frame that fails --expect is the alert: --fail-fast ends it */
		if (j->stream && j->n_unmet > j->n_differences && b->cfg->fail_fast)
			b->stop_new = true;
	}
	it.unmet = (const char *const *)j->unmet;
	it.n_unmet = j->n_unmet;
	/* results and the progress line on one terminal: the line goes away
	 * before the results are written, and comes back after them */
	bool same_screen = b->cfg->progress && b->cfg->out->is_tty;
	if (same_screen)
		hp_progress_erase(b->cfg->progress);
	hp_renderer_item(b->cfg->renderer, &it);
	if (same_screen)
		hp_out_flush(b->cfg->out);
	for (size_t i = 0; i < b->cfg->n_observers; i++)
		b->cfg->observers[i].item(b->cfg->observers[i].state, &it);
	batch_job_move(b, j, JOB_WRITTEN);
	if (same_screen)
		b->redraw = true;
	if (b->cfg->out->broken_pipe) {
		b->stats->broken_pipe = true;
		b->stop_new = true;
	} else if (!hp_output_ok(b->cfg->out) || hp_resume_failed(b->cfg->resume)) {
		/* what is answered from here on could not be kept: no other
		 * request is paid for (the ones in flight are already) */
		b->stop_new = true;
	}
}

/* Render every finished job at the head of the queue (in completion order:
 * every finished job). With `all`, also those behind unfinished ones (after
 * an interruption), dropping the unfinished. */
void batch_flush_done(struct batch *b, bool all)
{
	bool any = all || b->cfg->completion_order;
	struct job **pp = &b->head, *prev = NULL;
	if (!all && b->finished == 0)
		return; /* nothing to write: the queue is not walked */
	while (*pp) {
		struct job *j = *pp;
		if (!batch_job_finished(j)) {
			if (!any)
				break;
			prev = j;
			pp = &j->next;
			continue;
		}
		/* an input cut short by the signal (stdin being read) is unfinished */
		bool interrupted = hp_exit_interrupted(j->exit_code);
		if (!b->stats->broken_pipe && !interrupted)
			render_job(b, j);
		*pp = j->next;
		if (b->tail == j)
			b->tail = prev;
		b->queued--;
		b->held -= j->held_bytes;
		if (batch_job_finished(j))
			b->finished--;
		batch_job_free(j);
	}
}

bool batch_window_open(const struct batch *b, size_t entries)
{
	if (b->cfg->keep_source && b->queued >= entries)
		return false; /* --annotate: each finished one holds its picture open */
	size_t limit = b->cfg->window_bytes, per_jobs = (size_t)(b->cfg->jobs > 0 ? b->cfg->jobs : 1) * 64 * 1024;
	if (!limit)
		limit = per_jobs > HP_WINDOW_BYTES ? per_jobs : HP_WINDOW_BYTES;
	return b->held < limit;
}

#define BIG_UPLOAD ((curl_off_t)8 * 1024 * 1024)

void batch_update_progress(struct batch *b, bool force)
{
	if (!b->cfg->progress)
		return;
	struct hp_progress_state st = {
		.done = b->stats->done,
		.failed = b->stats->failed,
		.total = b->total,
		.elapsed_s = (batch_now_ms() - b->t0) / 1000.0,
	};
	for (struct job *j = b->head; j; j = j->next) {
		if (j->state == JOB_COLD_START_WAIT)
			st.note = "waiting for the endpoint to start";
		if (j->state == JOB_SENDING && j->easy && j->up.size > BIG_UPLOAD) {
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
