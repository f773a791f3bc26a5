/* render_table.c - the readable default: per input a header line, then one
 * aligned row per result (hubpredict(1), OUTPUT FORMATS, "table"). Names are escaped and measured
 * in terminal columns, so any UTF-8 name keeps the columns straight. */
#define _POSIX_C_SOURCE 200809L
#include "render_impl.h"
#include "hubpredict/output.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 12
#define NAME_MAX_BYTES 256

struct cell {
	char *text;
	int width;      /* terminal columns */
};

struct grid {
	const char *titles[MAX_COLS];
	bool left[MAX_COLS];
	int ncols;
	size_t nrows;
	struct cell *cells; /* nrows * ncols */
};

static void set_cell(struct grid *g, size_t row, int col, const char *text, int width)
{
	struct cell *c = &g->cells[row * (size_t)g->ncols + (size_t)col];
	c->text = strdup(text);
	c->width = width;
}

static void set_num(struct grid *g, size_t row, int col, int decimals, double v)
{
	char buf[64];
	if (!isfinite(v) || fabs(v) >= 1e9)
		hp_fmt_double(buf, sizeof buf, v);
	else
		snprintf(buf, sizeof buf, "%.*f", decimals, v);
	set_cell(g, row, col, buf, (int)strlen(buf));
}

static void pad(struct hp_output *out, int n)
{
	static const char spaces[] = "                                ";
	while (n > 0) {
		int k = n < 32 ? n : 32;
		hp_out_write(out, spaces, (size_t)k);
		n -= k;
	}
}

static void grid_print(struct hp_renderer *r, struct grid *g)
{
	struct hp_output *out = r->out;
	int w[MAX_COLS];
	for (int c = 0; c < g->ncols; c++) {
		w[c] = (int)strlen(g->titles[c]);
		for (size_t i = 0; i < g->nrows; i++) {
			int cw = g->cells[i * (size_t)g->ncols + (size_t)c].width;
			if (cw > w[c])
				w[c] = cw;
		}
	}
	if (r->ro.color)
		hp_out_puts(out, "\033[2m");
	for (int c = 0; c < g->ncols; c++) {
		int n = w[c] - (int)strlen(g->titles[c]);
		hp_out_puts(out, "  ");
		if (!g->left[c])
			pad(out, n);
		hp_out_puts(out, g->titles[c]);
		if (g->left[c] && c + 1 < g->ncols)
			pad(out, n);
	}
	if (r->ro.color)
		hp_out_puts(out, "\033[0m");
	hp_out_puts(out, "\n");
	for (size_t i = 0; i < g->nrows; i++) {
		for (int c = 0; c < g->ncols; c++) {
			struct cell *cl = &g->cells[i * (size_t)g->ncols + (size_t)c];
			const char *t = cl->text ? cl->text : "";
			int n = w[c] - cl->width;
			hp_out_puts(out, "  ");
			if (!g->left[c])
				pad(out, n);
			hp_out_puts(out, t);
			if (g->left[c] && c + 1 < g->ncols)
				pad(out, n);
		}
		hp_out_puts(out, "\n");
	}
}

static void grid_free(struct grid *g)
{
	for (size_t i = 0; i < g->nrows * (size_t)g->ncols; i++)
		free(g->cells[i].text);
	free(g->cells);
}

static void add_col(struct grid *g, const char *title, bool left)
{
	g->titles[g->ncols] = title;
	g->left[g->ncols] = left;
	g->ncols++;
}

static void results_block(struct hp_renderer *r, enum hp_task task, const struct hp_image *im)
{
	struct grid g = { .ncols = 0 };
	bool norm = r->ro.normalized;
	int coord_decimals = norm ? 4 : 1;
	add_col(&g, "#", false);
	add_col(&g, "class", false);
	add_col(&g, "name", true);
	add_col(&g, task == HP_TASK_SEMANTIC ? "ratio" : "conf", false);
	int nbox = task == HP_TASK_OBB ? 8 : (task == HP_TASK_DETECT || task == HP_TASK_SEGMENT || task == HP_TASK_POSE) ? 4 : 0;
	static const char *const corner[8] = { "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4" };
	for (int c = 0; c < nbox; c++)
		add_col(&g, corner[c], false);
	if (task == HP_TASK_SEGMENT)
		add_col(&g, "points", false);
	if (task == HP_TASK_POSE)
		add_col(&g, "kpts", false);
	g.nrows = im->n_results;
	g.cells = calloc(g.nrows * (size_t)g.ncols, sizeof *g.cells);
	if (!g.cells)
		return;
	for (size_t i = 0; i < im->n_results; i++) {
		const struct hp_result *res = &im->results[i];
		char buf[NAME_MAX_BYTES * 4 + 8];
		int col = 0;
		snprintf(buf, sizeof buf, "%zu", i + 1);
		set_cell(&g, i, col++, buf, (int)strlen(buf));
		snprintf(buf, sizeof buf, "%ld", res->cls);
		set_cell(&g, i, col++, buf, (int)strlen(buf));
		bool cut = false;
		size_t nlen = res->name_len > NAME_MAX_BYTES ? NAME_MAX_BYTES : res->name_len;
		int width = hp_term_escape(buf, sizeof buf, res->name, nlen, &cut);
		set_cell(&g, i, col++, buf, width);
		set_num(&g, i, col++, 3, task == HP_TASK_SEMANTIC ? res->pixel_ratio : res->confidence);
		for (int c = 0; c < nbox; c++)
			set_num(&g, i, col++, coord_decimals, c < res->n_box ? res->box[c] : NAN);
		if (task == HP_TASK_SEGMENT) {
			snprintf(buf, sizeof buf, "%zu", res->segment.n);
			set_cell(&g, i, col++, buf, (int)strlen(buf));
		}
		if (task == HP_TASK_POSE) {
			snprintf(buf, sizeof buf, "%zu/%zu", hp_visible_keypoints(&res->keypoints), res->keypoints.n);
			set_cell(&g, i, col++, buf, (int)strlen(buf));
		}
	}
	grid_print(r, &g);
	grid_free(&g);
}

static void speed_text(char *buf, size_t n, const struct hp_image *im)
{
	buf[0] = '\0';
	if (im->has_speed)
		snprintf(buf, n, "  inference %.1f ms", im->inference_ms);
}

static void count_text(char *buf, size_t n, size_t count)
{
	snprintf(buf, n, "%zu result%s", count, count == 1 ? "" : "s");
}

static void depth_line(struct hp_renderer *r, const struct hp_image *im)
{
	char mn[40], mx[40];
	hp_fmt_double(mn, sizeof mn, im->depth.min);
	hp_fmt_double(mx, sizeof mx, im->depth.max);
	hp_out_printf(r->out, "  depth map %ldx%ld  min %s  max %s  bits %ld\n", im->depth.width,
	              im->depth.height, mn, mx, im->depth.bits);
}

static void image_body(struct hp_renderer *r, enum hp_task task, const struct hp_image *im)
{
	if (im->depth.present)
		depth_line(r, im);
	if (im->n_results)
		results_block(r, task, im);
}

static void table_item(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_output *out = r->out;
	const struct hp_response *resp = it->response;
	if (it->exit_code != 0 || !resp)
		return;
	if (r->items)
		hp_out_puts(out, "\n");
	char name[1024], count[48], shape[48] = "", speed[48] = "";
	hp_term_escape(name, sizeof name, it->file, strlen(it->file), NULL);
	count_text(count, sizeof count, hp_response_count(resp));
	const struct hp_image *first = resp->n_images ? &resp->images[0] : NULL;
	if (first && first->has_shape)
		snprintf(shape, sizeof shape, "  %ldx%ld", first->width, first->height);
	if (resp->n_images == 1)
		speed_text(speed, sizeof speed, first);
	if (r->ro.color)
		hp_out_puts(out, "\033[1m");
	hp_out_printf(out, "%s  %s  ", name, hp_task_name(resp->task));
	if (resp->n_images > 1)
		hp_out_printf(out, "%zu frames  ", resp->n_images);
	hp_out_printf(out, "%s%s%s  total %.0f ms", count, shape, speed, it->elapsed_ms);
	if (r->ro.color)
		hp_out_puts(out, "\033[0m");
	hp_out_puts(out, "\n");
	if (resp->n_images == 1) {
		image_body(r, resp->task, first);
		return;
	}
	for (size_t f = 0; f < resp->n_images; f++) {
		const struct hp_image *im = &resp->images[f];
		count_text(count, sizeof count, im->n_results);
		speed_text(speed, sizeof speed, im);
		if (r->ro.color)
			hp_out_puts(out, "\033[1m");
		hp_out_printf(out, "frame %zu  %s%s", f, count, speed);
		if (r->ro.color)
			hp_out_puts(out, "\033[0m");
		hp_out_puts(out, "\n");
		image_body(r, resp->task, im);
	}
}

/* A video's frame (SPEC 13): the video's heading with its first answered
 * frame, then a block headed "frame N  12.345 s" (N its number in the file). */
static void table_frame(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_output *out = r->out;
	struct hp_video_group *g = &r->vg;
	const struct hp_response *resp = it->response;
	if (it->exit_code != 0 || !resp)
		return;
	char name[1024], count[48], speed[48];
	if (!g->opened) {
		if (r->items > 1)
			hp_out_puts(out, "\n");
		hp_term_escape(name, sizeof name, g->path, strlen(g->path), NULL);
		hp_out_printf(out, "%s%s  %s  video%s\n", r->ro.color ? "\033[1m" : "", name, hp_task_name(resp->task),
		              r->ro.color ? "\033[0m" : "");
		g->opened = true;
	}
	for (size_t f = 0; f < resp->n_images; f++) {
		const struct hp_image *im = &resp->images[f];
		count_text(count, sizeof count, im->n_results);
		speed_text(speed, sizeof speed, im);
		hp_out_printf(out, "%sframe %lld  %.3f s  %s%s%s\n", r->ro.color ? "\033[1m" : "", it->frame, it->time, count,
		              speed, r->ro.color ? "\033[0m" : "");
		image_body(r, resp->task, im);
	}
}

/* The video's closing line: frames answered, results, failed frames, time. */
static void table_video_end(struct hp_renderer *r)
{
	const struct hp_video_group *g = &r->vg;
	char count[48];
	if (!g->opened)
		return;
	count_text(count, sizeof count, g->results);
	hp_out_printf(r->out, "%zu frame%s  %s", g->answered, g->answered == 1 ? "" : "s", count);
	if (g->n_errors)
		hp_out_printf(r->out, "  %zu failed", g->n_errors);
	hp_out_printf(r->out, "  total %.0f ms\n", g->elapsed_ms);
}

const struct hp_render_ops hp_render_table_ops = { NULL, table_item, NULL, table_frame, table_video_end };
