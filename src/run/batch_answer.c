/* batch_answer.c - a 200 answer: decoded, checked, mapped back; and the
 * hook points where an input is answered without a request. */
#define _DEFAULT_SOURCE
#include "batch_impl.h"
#include <errno.h>
#include "hubpredict/cache.h"
#include "hubpredict/resume.h"
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
#include "hubpredict/retry.h"
#include "hubpredict/signals.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* A decoded answer: apply the filters, then the checks (hubpredict(1), --expect: the checks
 * count what the filters keep), then compare with the baseline; every
 * message goes into j->unmet. 0, or -1 when out of memory. */
static int check_answer(struct batch *b, struct job *j)
{
	const struct hp_batch_config *cfg = b->cfg;
	if (!j->resp)
		return 0;
	hp_filter_apply(cfg->filter, j->resp);
	/* a cut video's frames are checked together when the video is written (batch_report.c) */
	if (cfg->n_expects > 0 && !j->video &&
	    hp_expect_evaluate(cfg->expects, cfg->n_expects, j->resp, &j->unmet, &j->n_unmet) < 0)
		return -1;
	if (cfg->baseline) {
		struct hp_baseline_tol tol = { .iou = cfg->baseline_iou, .conf = cfg->baseline_conf };
		size_t before = j->n_unmet;
		int rc = j->video ? hp_baseline_check_frame(cfg->baseline, j->video, j->frame, j->resp, &tol, &j->unmet,
		                                            &j->n_unmet)
		                  : hp_baseline_check(cfg->baseline, j->file, j->resp, &tol, &j->unmet, &j->n_unmet);
		j->n_differences = j->n_unmet - before;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void release(void *arg, size_t upto);

/* --resize, a big answer: the mapped document written part by part to a
 * file of its own, which becomes the body; the server's stays for the walk
 * over its parts (item.h). 0, or -1 (out of memory, or a write failed). */
static int map_back_parts(struct batch *b, struct job *j)
{
	size_t *cuts = NULL, n_cuts = 0;
	int fd = hp_temp_fd("hubpredict-body");
	FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (hp_picture_map_parts(j->body.data, j->body.len, &j->parts, &j->rz, b->cfg->normalized, f, &cuts, &n_cuts,
	                         release, &j->body) < 0) {
		fclose(f);
		return -1;
	}
	struct hp_body mapped;
	if (hp_body_from_file(&mapped, f, cuts, n_cuts) < 0) {
		hp_body_free(&mapped);
		return -1;
	}
	j->src_body = j->body;
	j->body = mapped;
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
	if (j->body.mapped && j->parts.n)
		return map_back_parts(b, j);
	/* the mapped document replaces the body (a mapping is not the
	 * allocator's to free: a copy of it goes in) */
	size_t len = j->body.len;
	char *text = malloc(len + 1);
	if (!text)
		return -1;
	memcpy(text, j->body.data ? j->body.data : "", len);
	text[len] = '\0';
	if (hp_picture_map_body(&text, &len, &j->rz, b->cfg->normalized) < 0) {
		free(text);
		return -1;
	}
	hp_body_adopt(&j->body, text, len);
	return 0;
}

static void release(void *arg, size_t upto)
{
	hp_body_release(arg, upto);
}

/* Where a part's bytes may be cut without splitting a string: ascending. */
static size_t part_cut(const struct hp_json_part *p)
{
	return p->cut_end ? p->cut_start : p->end;
}

/* A key echoed in a big answer masked window by window (masking needs whole
 * strings: the windows end between values), and the cuts json writes at. */
static int mask_and_cut(struct hp_body *body, const struct hp_json_parts *parts)
{
	size_t from = 0, n = 0;
	for (size_t i = 0; i < parts->n; i++) {
		size_t upto = part_cut(&parts->v[i]);
		if (upto < from + HP_JSON_RELEASE_STEP)
			continue;
		hp_msg_mask(body->data + from, upto - from);
		from = upto;
		hp_body_release(body, from);
		n++;
	}
	hp_msg_mask(body->data + from, body->len - from);
	hp_body_release(body, body->len);
	if (n && !(body->cuts = malloc(n * sizeof *body->cuts)))
		return -1;
	from = 0;
	for (size_t i = 0; i < parts->n; i++) {
		size_t upto = part_cut(&parts->v[i]);
		if (upto >= from + HP_JSON_RELEASE_STEP && body->n_cuts < n)
			body->cuts[body->n_cuts++] = from = upto;
	}
	return 0;
}

/* One part of j's answer decoded with its points, as the light response
 * was: filtered, mapped back; shape, speed and depth are the entry's (kept
 * in *entry from its first part). 0, -1, -2 out of memory. */
static int walk_one(struct job *j, size_t i, struct hp_image *entry, struct hp_image *im)
{
	const struct hp_batch_config *cfg = j->batch->cfg;
	const struct hp_json_part *p = &j->parts.v[i];
	char err[256];
	const struct hp_body *body = j->src_body.mapped ? &j->src_body : &j->body;
	int rc = hp_response_decode_part(im, body->data, p, err, sizeof err);
	if (rc < 0)
		return rc;
	if (p->is_result) {
		struct hp_result *results = im->results;
		size_t n = im->n_results;
		*im = *entry;
		im->results = results;
		im->n_results = n;
	} else {
		*entry = *im;
		entry->results = NULL;
		entry->n_results = 0;
	}
	struct hp_response one = { .task = j->resp->task, .images = im, .n_images = 1 };
	hp_filter_apply(cfg->filter, &one);
	if (j->resized && !cfg->raw)
		hp_picture_map_response(&one, &j->rz, cfg->normalized);
	return 0;
}

/* struct hp_answer_parts' walk over a job's kept parts (the body still
 * mapped), each part's pages let go after it. */
static int walk_parts(const struct hp_answer_parts *ps, int (*fn)(void *arg, const struct hp_answer_part *p),
                      void *arg)
{
	struct job *j = ps->state;
	struct hp_body *body = j->src_body.mapped ? &j->src_body : &j->body;
	struct hp_image entry = { 0 };
	int rc = 0;
	for (size_t i = 0; i < j->parts.n && rc == 0; i++) {
		const struct hp_json_part *p = &j->parts.v[i];
		struct hp_image im;
		rc = walk_one(j, i, &entry, &im);
		if (rc < 0)
			break;
		bool last = i + 1 == j->parts.n || j->parts.v[i + 1].image != p->image;
		struct hp_answer_part view = { .image = p->image, .first = !p->is_result, .last = last, .im = &im };
		rc = fn(arg, &view);
		hp_image_clear(&im);
		hp_body_release(body, p->cut_end ? p->cut_start : p->end);
	}
	hp_body_release(body, body->len);
	return rc;
}

/* A big answer (mapped): checked, masked and decoded part by part, its pages
 * let go behind; unless an observer draws (--annotate), polygons keep only
 * their counts and the parts are kept for a walk that brings them back one
 * part at a time (--save-txt). 0, -1 (j->message), -2 out of memory. */
static int decode_big(struct batch *b, struct job *j)
{
	struct hp_json_parts parts;
	size_t bad_at = 0;
	int rc = hp_json_parts(j->body.data, j->body.len, HP_PART_BIG, &parts, &bad_at, release, &j->body);
	if (rc == -1)
		snprintf(j->message, sizeof j->message, "not JSON (at byte %zu of %zu)", bad_at, j->body.len);
	if (rc == 0 && mask_and_cut(&j->body, &parts) < 0)
		rc = -2;
	/* --annotate draws one picture with all its polygons (a video is not
	 * drawn): only a one-entry answer keeps its points for it */
	bool light = !b->cfg->need_points || (rc == 0 && parts.n_images != 1);
	if (rc == 0)
		rc = hp_response_decode_parts(&j->resp, j->body.data, j->body.len, &parts, light, j->message,
		                              sizeof j->message, release, &j->body);
	if (rc == 0) {
		/* kept for --resize's mapping and for what needs the points: the
		 * parts are walked again (item.h) */
		hp_json_parts_free(&j->parts);
		j->parts = parts;
		if (light)
			j->walk = (struct hp_answer_parts){ .each = walk_parts, .state = j };
	} else {
		hp_json_parts_free(&parts);
	}
	if (rc == -2)
		snprintf(j->message, sizeof j->message, "out of memory");
	return rc;
}

/* A 200's document, masked and decoded: 0, -1 (j->message), -2 out of memory. */
static int decode_answer(struct batch *b, struct job *j)
{
	if (j->body.mapped)
		return decode_big(b, j);
	if (j->body.data)
		hp_msg_mask(j->body.data, j->body.len);
	return hp_response_decode(&j->resp, j->body.data, j->body.len, j->message, sizeof j->message);
}

/* A video may come back without frames; an image never without its entry. */
static bool upload_is_video(const struct hp_upload *up)
{
	if (up->source)
		return hp_is_video_name(up->source);
	return (up->mime_type && strncmp(up->mime_type, "video/", 6) == 0) ||
	       (up->filename && hp_is_video_name(up->filename));
}

/* Hook: a finished 200 answer from the server, decoded and checked, its body
 * still the server's bytes (masked): handed on before it is mapped back. */
static void answer_received(struct batch *b, struct job *j)
{
	char err[600];
	if (!b->cfg->cache || !j->has_key || j->http_status != 200 || (j->body.spill && !j->body.mapped) ||
	    j->body.len > HP_BODY_MAX)
		return; /* only 200s are kept; a raw body spilled past 1 MiB is not, nor one past 512 MiB */
	if (hp_cache_put(b->cfg->cache, j->key, &j->body, err, sizeof err) < 0 && !b->cache_warned) {
		hp_msg_warn("%s (the run goes on without storing)", err);
		b->cache_warned = true;
	}
}

void batch_answer_accept(struct batch *b, struct job *j, bool fresh)
{
	/* A key a server echoes in an answer is masked before anything reads it,
	 * so no output carries it (raw is the server's bytes, unchanged: README) */
	if (!b->cfg->raw && hp_body_map(&j->body) < 0) {
		snprintf(j->message, sizeof j->message, "%s", j->body.error == ENOMEM ? "out of memory" : strerror(j->body.error));
		batch_job_done(b, j, j->body.error == ENOMEM ? HP_EXIT_NOMEM : HP_EXIT_NETWORK);
		return;
	}
	int rc = b->cfg->raw ? 0 : decode_answer(b, j);
	if (rc == -2) {
		batch_job_done(b, j, HP_EXIT_NOMEM); /* "out of memory", never "not JSON" */
		return;
	}
	if (!b->cfg->raw &&
	    (rc < 0 || hp_response_check_upload(j->resp, upload_is_video(&j->up), j->message, sizeof j->message) < 0)) {
		char why[sizeof j->message];
		memcpy(why, j->message, sizeof why);
		snprintf(j->message, sizeof j->message, "bad response: %.600s", why);
		batch_job_done(b, j, HP_EXIT_BAD_RESPONSE);
		return;
	}
	if (fresh)
		answer_received(b, j);
	if (map_back(b, j) < 0 || check_answer(b, j) < 0) {
		snprintf(j->message, sizeof j->message, "out of memory");
		batch_job_done(b, j, HP_EXIT_NOMEM);
		return;
	}
	batch_job_done(b, j, HP_EXIT_OK);
}

bool batch_answer_without_request(struct batch *b, struct job *j)
{
	if (!b->cfg->cache)
		return false;
	j->t_start = batch_now_ms();
	if (hp_cache_key(b->cfg->req, &j->up, j->key) < 0) {
		hp_msg_verbose(1, "%s: --cache: cannot read it for its key: %s; sent", j->file, strerror(errno));
		return false;
	}
	j->has_key = true;
	hp_body_free(&j->body);
	batch_body_init_answer(b, j);
	if (!hp_cache_get(b->cfg->cache, j->key, &j->body))
		return false;
	hp_msg_verbose(1, "%s: --cache: answered from the cache, nothing sent", j->file);
	j->cached = true;
	j->http_status = 200;
	batch_answer_accept(b, j, false);
	return true;
}

bool batch_input_skipped(struct batch *b, const struct hp_input *in)
{
	/* a live stream's frame is new whatever its name: never answered before */
	if (!b->cfg->resume || !in->path || in->error || in->stream ||
	    !hp_resume_done(b->cfg->resume, in->path, in->have_st ? &in->st : NULL))
		return false;
	hp_msg_verbose(1, "%s: --resume: answered in the log with this size and mtime; skipped", in->path);
	return true;
}
