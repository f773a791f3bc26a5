/* render.c - pick the format's writer; flush after every input so a reader
 * of a pipe sees each one as it finishes. */
#define _POSIX_C_SOURCE 200809L
#include "render_impl.h"
#include "hubpredict/buf.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/output.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void silent_item(struct hp_renderer *r, const struct hp_item *it)
{
	(void)r;
	(void)it;
}

int hp_renderer_new(struct hp_renderer **rout, const struct hp_render_opts *ro, struct hp_output *out)
{
	static const struct hp_render_ops *const by_format[] = {
		[HP_FORMAT_TABLE] = &hp_render_table_ops, [HP_FORMAT_JSON] = &hp_render_json_ops,
		[HP_FORMAT_JSONL] = &hp_render_jsonl_ops, [HP_FORMAT_CSV] = &hp_render_csv_ops,
		[HP_FORMAT_RAW] = &hp_render_raw_ops,
	};
	struct hp_renderer *r = calloc(1, sizeof *r);
	if (!r)
		return HP_EXIT_NOMEM;
	static const struct hp_render_ops silent = { .item = silent_item };
	r->ops = ro->silent ? &silent : by_format[ro->format];
	r->out = out;
	r->ro = *ro;
	*rout = r;
	return 0;
}

void hp_renderer_begin(struct hp_renderer *r)
{
	if (r->ops->begin)
		r->ops->begin(r);
}

static void video_clear(struct hp_video_group *g)
{
	for (size_t i = 0; i < g->n_errors; i++) {
		free(g->errors[i].message);
		free(g->errors[i].request_id);
	}
	free(g->errors);
	free(g->tail);
	free(g->path);
	memset(g, 0, sizeof *g);
}

/* The open video's envelope closed (its tail written). */
static void video_end(struct hp_renderer *r)
{
	if (!r->vg.path)
		return;
	r->ops->video_end(r);
	video_clear(&r->vg);
}

/* A failed frame (or the video failing after its frames: no frame) kept for
 * the errors member. Out of memory: it is left out (stderr has it). */
static void video_error(struct hp_video_group *g, const struct hp_item *it, bool has_frame)
{
	struct hp_video_error *v = hp_grow_array(g->errors, &g->cap_errors, g->n_errors + 1, sizeof *v, 4);
	if (!v)
		return;
	g->errors = v;
	v = &g->errors[g->n_errors];
	*v = (struct hp_video_error){ .has_frame = has_frame, .frame = it->frame, .time = it->time,
	                              .exit_code = it->exit_code, .http_status = it->http_status };
	v->message = strdup(it->message ? it->message : "");
	v->request_id = it->request_id ? strdup(it->request_id) : NULL;
	if (v->message)
		g->n_errors++;
	else
		free(v->request_id);
}

/* A frame of a video (ro.videos): opens its envelope when it is the first,
 * hands it to the format, then counts it. */
static void video_frame(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_video_group *g = &r->vg;
	if (g->path && (strcmp(g->path, it->video) != 0 || it->frame <= g->last))
		video_end(r);
	if (!g->path) {
		if (!(g->path = strdup(it->video)))
			return; /* out of memory: the frame is not written */
		struct stat st;
		if (stat(it->video, &st) == 0 && S_ISREG(st.st_mode)) {
			g->has_stat = true;
			g->size = (long long)st.st_size;
			g->mtime = st.st_mtim;
		}
		r->items++;
	}
	r->ops->frame(r, it);
	g->frames++;
	g->last = it->frame;
	g->attempts += it->attempts;
	g->elapsed_ms += it->elapsed_ms;
	if (it->exit_code != 0) {
		video_error(g, it, true);
	} else if (it->response) {
		if (it->resized && !g->resized) {
			g->rz = *it->resized;
			g->resized = &g->rz;
		}
		g->answered++;
		g->results += hp_response_count(it->response);
		if (!g->has_task) {
			g->has_task = true;
			g->task = it->response->task;
		}
	}
}

void hp_renderer_item(struct hp_renderer *r, const struct hp_item *it)
{
	if (r->ro.videos && r->ops->frame) {
		if (it->video) {
			video_frame(r, it);
			hp_out_flush(r->out);
			return;
		}
		if (r->vg.path && it->exit_code != 0 && strcmp(it->file, r->vg.path) == 0) {
			/* the video failed after its frames (a truncated file): its envelope's error */
			video_error(&r->vg, it, false);
			video_end(r);
			hp_out_flush(r->out);
			return;
		}
		video_end(r);
	}
	r->ops->item(r, it);
	r->items++;
	hp_out_flush(r->out);
}

void hp_renderer_end(struct hp_renderer *r)
{
	video_end(r);
	if (r->ops->end)
		r->ops->end(r);
	hp_out_flush(r->out);
}

void hp_renderer_free(struct hp_renderer *r)
{
	if (r)
		video_clear(&r->vg);
	free(r);
}
