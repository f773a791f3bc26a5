/* render.h - turning finished inputs into table, json, jsonl, csv or raw text.
 *
 * The batch calls begin() once, item() once per input in input order, and
 * end() once (also after an interruption, so a json document is always
 * closed). Renderers see decoded results (response.h) or the raw body, never
 * cJSON, and write only through struct hp_output.
 *
 * Ownership: hp_renderer_new returns a renderer the caller frees with
 * hp_renderer_free (NULL is fine); it borrows `out`, which must outlive it.
 * A struct hp_item and everything it points to (file, response, body,
 * message, unmet, resized, source_picture, source_fd) belong to the batch and
 * are valid only during the hp_renderer_item() call: a renderer copies what
 * it keeps, and closes or frees none of it.
 */
#ifndef HUBPREDICT_RENDER_H
#define HUBPREDICT_RENDER_H

#include <stdbool.h>
#include <time.h>

/* -f: how results are written (the option engine, cli/options.c, parses it). */
enum hp_format { HP_FORMAT_TABLE = 0, HP_FORMAT_JSON, HP_FORMAT_JSONL, HP_FORMAT_CSV, HP_FORMAT_RAW };

struct hp_output;
struct hp_response;
struct hp_body;
struct hp_resized;
struct hp_annotate_source;
struct hp_timings;

struct hp_item {
	const char *file;                   /* the input as the user named it */
	size_t file_below;                  /* hp_input.below: where the part below a
	                                       directory INPUT starts in file (0: none) */
	int exit_code;                      /* 0 = success, else its exit status */
	long http_status;                   /* 0 when no status line was received */
	int attempts;
	double elapsed_ms;
	const struct hp_response *response; /* decoded answer (NULL in raw, or on error) */
	struct hp_body *body;               /* the body as received (success only) */
	const char *message;                /* the one-line error, when exit_code != 0 */
	const char *request_id;             /* the answer's x-request-id, or NULL */
	const char *const *unmet;           /* checks that failed (--expect, --baseline): */
	size_t n_unmet;                     /* "expected person>=2, found 1", ... */
	bool has_source;                    /* source_fd holds the input's original bytes */
	int source_fd;                      /* (an image file, or spooled stdin), for --annotate */
	bool source_unreadable;             /* --resize found it is not a readable image and warned */
	const struct hp_resized *resized;   /* --resize: the sizes, NULL when sent as it is */
	struct hp_annotate_source *source_picture; /* decoded ahead (annotate.h), or NULL */
	bool cached;                        /* answered from --cache: nothing was sent */
	bool has_stat;                      /* a file: size and mtime are known */
	long long size;                     /* its size in bytes (before --resize) */
	struct timespec mtime;              /* its modification time */
	const struct hp_timings *timings;   /* scheduled, started, the last attempt's phases (timings.h) */
};

struct hp_render_opts {
	enum hp_format format;
	bool color;          /* ANSI colour in the table */
	bool normalized;     /* coordinates are 0-1: print more decimals */
	bool several;        /* raw: a newline after each body */
	const char *request; /* the request key (resume.h), written as each envelope's
	                        "request" member; NULL: none (borrowed, outlives the renderer) */
	bool silent;         /* write nothing per input (a command that reports at the end: val) */
};

struct hp_renderer;

struct hp_renderer *hp_renderer_new(const struct hp_render_opts *ro, struct hp_output *out);
void hp_renderer_begin(struct hp_renderer *r);
void hp_renderer_item(struct hp_renderer *r, const struct hp_item *it);
void hp_renderer_end(struct hp_renderer *r);
void hp_renderer_free(struct hp_renderer *r);

/* The CSV header line, without the newline. */
extern const char hp_csv_header[];

#endif
