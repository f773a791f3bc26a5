/* render.h - turning finished inputs into table, json, jsonl, csv or raw text.
 *
 * The batch calls begin() once, item() once per input in input order, and
 * end() once (also after an interruption, so a json document is always
 * closed). With ro.videos, consecutive frames of one video (hp_item.video)
 * are written as that video's one envelope, closed by the next input that is
 * not its frame, or by end(). Renderers see decoded results (response.h) or the raw body, never
 * cJSON, and write only through struct hp_output.
 *
 * Ownership: hp_renderer_new returns a renderer the caller frees with
 * hp_renderer_free (NULL is fine); it borrows `out`, which must outlive it.
 * A struct hp_item (item.h) is the batch's, valid only during the
 * hp_renderer_item() call.
 */
#ifndef HUBPREDICT_RENDER_H
#define HUBPREDICT_RENDER_H

#include "hubpredict/item.h"

#include <stdbool.h>

/* -f: how results are written (the option engine, cli/options.c, parses it). */
enum hp_format { HP_FORMAT_TABLE = 0, HP_FORMAT_JSON, HP_FORMAT_JSONL, HP_FORMAT_CSV, HP_FORMAT_RAW };

struct hp_output;

struct hp_render_opts {
	enum hp_format format;
	bool color;          /* ANSI colour in the table */
	bool normalized;     /* coordinates are 0-1: print more decimals */
	bool several;        /* raw: a newline after each body */
	const char *request; /* the request key (resume.h), written as each envelope's
	                        "request" member; NULL: none (borrowed, outlives the renderer) */
	bool silent;         /* write nothing per input (a command that reports at the end: val) */
	bool videos;         /* the frames of a video INPUT make one envelope (table: one
	                        block) in json, jsonl, table and csv (SPEC 13); false:
	                        each frame on its own (the --resume log) */
	bool video_time;     /* csv: a "time" column at the end (the run cuts videos) */
};

struct hp_renderer;

/* 0 (*r set), or exit 13 when out of memory. */
int hp_renderer_new(struct hp_renderer **r, const struct hp_render_opts *ro, struct hp_output *out);
void hp_renderer_begin(struct hp_renderer *r);
void hp_renderer_item(struct hp_renderer *r, const struct hp_item *it);
void hp_renderer_end(struct hp_renderer *r);
void hp_renderer_free(struct hp_renderer *r);

/* The CSV header line, without the newline. */
extern const char hp_csv_header[];

#endif
