/* render_json.c - json (one array) and jsonl (one envelope per line).
 * The server's document goes in "response" unchanged but for white space. */
#include "render_impl.h"
#include "hubpredict/body.h"
#include "hubpredict/output.h"
#include "hubpredict/response.h"
#include "hubpredict/stamp.h"
#include "hubpredict/text.h"

#include <stdio.h>
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
	if (it->exit_code == 0) {
		hp_out_puts(out, ",\"response\":");
		write_response(out, it);
	} else {
		write_error(out, it);
	}
	hp_out_puts(out, "}");
}

static void envelope(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_output *out = r->out;
	char num[40];
	if (it->stream) {
		stream_envelope(out, it);
		return;
	}
	hp_out_puts(out, "{\"file\":");
	hp_json_write_string(out, it->file, strlen(it->file));
	/* a name that is not UTF-8 reads back as U+FFFD in "file": its exact
	 * bytes go beside it, so --baseline and scripts can tell names apart */
	if (!hp_utf8_valid(it->file, strlen(it->file))) {
		hp_out_puts(out, ",\"file_bytes\":");
		hp_json_write_base64(out, it->file, strlen(it->file));
	}
	if (it->has_stat) {
		char stamp[HP_STAMP_LEN];
		hp_stamp_format(&it->mtime, stamp);
		hp_out_printf(out, ",\"size\":%lld,\"mtime\":\"%s\"", it->size, stamp);
	}
	/* what was asked (--resume matches it): jsonl's, the log's format */
	if (r->ro.request)
		hp_out_printf(out, ",\"request\":\"%s\"", r->ro.request);
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
	if (it->exit_code == 0) {
		hp_out_puts(out, ",\"response\":");
		write_response(out, it);
	} else {
		write_error(out, it);
	}
	hp_out_puts(out, "}");
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

const struct hp_render_ops hp_render_json_ops = { json_begin, json_item, json_end };
const struct hp_render_ops hp_render_jsonl_ops = { NULL, jsonl_item, NULL };
