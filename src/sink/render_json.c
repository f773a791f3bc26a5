/* render_json.c - json (one array) and jsonl (one envelope per line).
 * The server's document goes in "response" unchanged but for white space. */
#include "render_impl.h"
#include "hubpredict/buf.h"
#include "hubpredict/body.h"
#include "hubpredict/output.h"
#include "hubpredict/response.h"
#include "hubpredict/stamp.h"
#include "hubpredict/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The answer in an envelope. Under -f raw (a --resume log) it was not
 * decoded: a body spilled to its temporary file is gathered whole first, and
 * one that is not strict JSON (raw takes any 200) goes in as a string, so the
 * line stays one JSON object. */
static void write_response(struct hp_output *out, const struct hp_item *it)
{
	struct hp_body *b = it->body;
	if (hp_body_gather(b) < 0) {
		if (!out->error)
			out->error = b->error;
		return;
	}
	if (it->response)
		hp_body_write_json(b, out); /* a big answer piece by piece */
	else if (hp_json_check(b->data, b->len, NULL))
		hp_json_write_minified(out, b->data, b->len);
	else
		hp_json_write_string(out, b->data, b->len);
}

/* The error object of a failed input. */
static void write_error(struct hp_output *out, const struct hp_item *it)
{
	hp_out_printf(out, ",\"error\":{\"exit\":%d,\"http_status\":", it->exit_code);
	if (it->http_status)
		hp_out_printf(out, "%ld", it->http_status);
	else
		hp_out_puts(out, "null");
	hp_out_puts(out, ",\"message\":");
	hp_json_write_string(out, it->message, strlen(it->message));
	if (it->request_id) {
		/* what the vendor's support asks for */
		hp_out_puts(out, ",\"request_id\":");
		hp_json_write_string(out, it->request_id, strlen(it->request_id));
	}
	hp_out_puts(out, "}");
}

/* An envelope's last member and its closing brace: the response of an
 * answered input, the error object of a failed one. */
static void envelope_end(struct hp_output *out, const struct hp_item *it)
{
	if (it->exit_code == 0) {
		hp_out_puts(out, ",\"response\":");
		write_response(out, it);
	} else {
		write_error(out, it);
	}
	hp_out_puts(out, "}");
}

/* A live INPUT's frame (SPEC 13): {"stream", "frame", "time", "at", "task",
 * "http_status", "attempts", "elapsed_ms", "response"}; a failed one has
 * "error" in place of task, http_status and response. */
static void stream_envelope(struct hp_output *out, const struct hp_item *it)
{
	char stamp[HP_STAMP_LEN];
	hp_out_puts(out, "{\"stream\":");
	hp_json_write_string(out, it->stream, strlen(it->stream));
	hp_stamp_format(&it->stream_at, stamp);
	hp_out_printf(out, ",\"frame\":%lld,\"time\":%.3f,\"at\":\"%s\"", it->stream_frame,
	              (double)it->stream_time.tv_sec + (double)it->stream_time.tv_nsec / 1e9, stamp);
	if (it->exit_code == 0)
		hp_out_printf(out, ",\"task\":\"%s\",\"http_status\":%ld",
		              hp_task_name(it->response ? it->response->task : HP_TASK_UNKNOWN), it->http_status);
	hp_out_printf(out, ",\"attempts\":%d,\"elapsed_ms\":%.1f", it->attempts, it->elapsed_ms);
	envelope_end(out, it);
}

/* An envelope's first members: file, its bytes when not UTF-8, size and
 * mtime (size NULL: unknown), the request. */
static void envelope_head(struct hp_renderer *r, const char *file, const long long *size,
                          const struct timespec *mtime)
{
	struct hp_output *out = r->out;
	hp_out_puts(out, "{\"file\":");
	hp_json_write_string(out, file, strlen(file));
	/* a name that is not UTF-8 reads back as U+FFFD in "file": its exact
	 * bytes go beside it, so --baseline and scripts can tell names apart */
	if (!hp_utf8_valid(file, strlen(file))) {
		hp_out_puts(out, ",\"file_bytes\":");
		hp_json_write_base64(out, file, strlen(file));
	}
	if (size) {
		char stamp[HP_STAMP_LEN];
		hp_stamp_format(mtime, stamp);
		hp_out_printf(out, ",\"size\":%lld,\"mtime\":\"%s\"", *size, stamp);
	}
	/* what was asked (--resume matches it): jsonl's, the log's format */
	if (r->ro.request)
		hp_out_printf(out, ",\"request\":\"%s\"", r->ro.request);
}

static void envelope(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_output *out = r->out;
	char num[40];
	if (it->stream) {
		stream_envelope(out, it);
		return;
	}
	envelope_head(r, it->file, it->has_stat ? &it->size : NULL, &it->mtime);
	if (it->exit_code == 0)
		hp_out_printf(out, ",\"task\":\"%s\"", hp_task_name(it->response ? it->response->task : HP_TASK_UNKNOWN));
	if (it->exit_code == 0)
		hp_out_printf(out, ",\"http_status\":%ld", it->http_status);
	if (it->cached) {
		snprintf(num, sizeof num, "%.1f", it->elapsed_ms);
		hp_out_printf(out, ",\"cached\":true,\"attempts\":0,\"elapsed_ms\":%s", num);
	} else if (it->attempts > 0) {
		/* always with a decimal point, so readers see a float */
		snprintf(num, sizeof num, "%.1f", it->elapsed_ms);
		hp_out_printf(out, ",\"attempts\":%d,\"elapsed_ms\":%s", it->attempts, num);
	}
	if (it->exit_code == 0 && it->resized)
		hp_out_printf(out, ",\"resized\":{\"from\":[%d,%d],\"to\":[%d,%d]}", it->resized->from_h,
		              it->resized->from_w, it->resized->to_h, it->resized->to_w);
	envelope_end(out, it);
}

/* ---- a video's one envelope (SPEC 13) ------------------------------------- */

/* The answered frame's images[] entries, each with its "frame" and "time"
 * first; with `first`, the document's bytes before them open the response
 * and those after them are kept for its end. */
static void frame_entries(struct hp_renderer *r, const struct hp_item *it, bool first)
{
	struct hp_output *out = r->out;
	struct hp_video_group *g = &r->vg;
	struct hp_body *b = it->body;
	struct hp_json_parts parts = { 0 };
	if (hp_body_gather(b) < 0) {
		if (!out->error)
			out->error = b->error;
		goto done;
	}
	if (hp_json_parts(b->data, b->len, (size_t)-1, &parts, NULL, NULL, NULL) < 0 || !parts.images_at) {
		hp_json_parts_free(&parts);
		parts = (struct hp_json_parts){ 0 };
	}
	if (first && parts.images_at) {
		hp_json_write_minified(out, b->data, parts.images_at);
		g->tail_len = b->len - parts.images_end;
		if ((g->tail = malloc(g->tail_len + 1)))
			memcpy(g->tail, b->data + parts.images_end, g->tail_len);
	} else if (first) {
		hp_out_puts(out, "{\"images\":[");
	}
	for (size_t i = 0; i < parts.n; i++) {
		const struct hp_json_part *pt = &parts.v[i];
		if (pt->is_result || b->data[pt->start] != '{')
			continue;
		size_t k = pt->start + 1;
		while (k < pt->end && strchr(" \t\r\n", b->data[k]))
			k++;
		hp_out_printf(out, "%s{\"frame\":%lld,\"time\":%.3f%s", g->entries++ ? "," : "", it->frame, it->time,
		              b->data[k] == '}' ? "" : ",");
		hp_json_write_minified(out, b->data + pt->start + 1, pt->end - pt->start - 1);
		hp_body_release(b, pt->end);
	}
done:
	hp_json_parts_free(&parts);
}

static void json_frame(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_video_group *g = &r->vg;
	bool first = !g->opened;
	if (first) {
		if (r->ro.format == HP_FORMAT_JSON)
			hp_out_puts(r->out, r->items > 1 ? ",\n" : "\n");
		envelope_head(r, g->path, g->has_stat ? &g->size : NULL, &g->mtime);
		hp_out_puts(r->out, ",\"response\":");
		g->opened = true;
	}
	if (it->exit_code == 0 && it->body)
		frame_entries(r, it, first);
	else if (first)
		hp_out_puts(r->out, "{\"images\":[");
}

/* errors: [{"frame", "time", "http_status", "exit", "error"}], the frames
 * that stayed failed; the first one's is the envelope's "error". */
static void video_errors(struct hp_output *out, const struct hp_video_group *g)
{
	hp_out_puts(out, ",\"errors\":[");
	for (size_t i = 0; i < g->n_errors; i++) {
		const struct hp_video_error *e = &g->errors[i];
		if (e->has_frame)
			hp_out_printf(out, "%s{\"frame\":%lld,\"time\":%.3f", i ? "," : "", e->frame, e->time);
		else
			hp_out_printf(out, "%s{\"frame\":null,\"time\":null", i ? "," : "");
		if (e->http_status)
			hp_out_printf(out, ",\"http_status\":%ld", e->http_status);
		else
			hp_out_puts(out, ",\"http_status\":null");
		hp_out_printf(out, ",\"exit\":%d,\"error\":", e->exit_code);
		hp_json_write_string(out, e->message, strlen(e->message));
		hp_out_puts(out, "}");
	}
	hp_out_puts(out, "]");
	const struct hp_video_error *e = &g->errors[0];
	struct hp_item first = { .exit_code = e->exit_code, .http_status = e->http_status,
	                         .message = e->message, .request_id = e->request_id };
	write_error(out, &first);
}

static void json_video_end(struct hp_renderer *r)
{
	struct hp_output *out = r->out;
	const struct hp_video_group *g = &r->vg;
	if (!g->opened)
		return;
	if (g->tail)
		hp_json_write_minified(out, g->tail, g->tail_len);
	else
		hp_out_puts(out, "]}");
	if (g->has_task)
		hp_out_printf(out, ",\"task\":\"%s\"", hp_task_name(g->task));
	long status = g->n_errors ? g->errors[0].http_status : 200;
	if (status)
		hp_out_printf(out, ",\"http_status\":%ld", status);
	else
		hp_out_puts(out, ",\"http_status\":null");
	hp_out_printf(out, ",\"frames\":%zu,\"attempts\":%d,\"elapsed_ms\":%.1f", g->frames, g->attempts,
	              g->elapsed_ms);
	if (g->resized)
		hp_out_printf(out, ",\"resized\":{\"from\":[%d,%d],\"to\":[%d,%d]}", g->rz.from_h, g->rz.from_w,
		              g->rz.to_h, g->rz.to_w);
	if (g->n_errors)
		video_errors(out, g);
	hp_out_puts(out, r->ro.format == HP_FORMAT_JSONL ? "}\n" : "}");
}

static void json_begin(struct hp_renderer *r) { hp_out_puts(r->out, "["); }

static void json_item(struct hp_renderer *r, const struct hp_item *it)
{
	hp_out_puts(r->out, r->items ? ",\n" : "\n");
	envelope(r, it);
}

static void json_end(struct hp_renderer *r) { hp_out_puts(r->out, r->items ? "\n]\n" : "]\n"); }

static void jsonl_item(struct hp_renderer *r, const struct hp_item *it)
{
	envelope(r, it);
	hp_out_puts(r->out, "\n");
}

const struct hp_render_ops hp_render_json_ops = { json_begin, json_item, json_end, json_frame, json_video_end };
const struct hp_render_ops hp_render_jsonl_ops = { NULL, jsonl_item, NULL, json_frame, json_video_end };
