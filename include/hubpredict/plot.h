/* plot.h - charts as PNG files, drawn with the picture stack (draw.c's
 * antialiased lines, font.c's FreeType text in DejaVu Sans), in the look of
 * matplotlib's defaults that Ultralytics' plots have: lines over x/y axes
 * with ticks, labels, a title and a legend outside the axes on the right
 * (val's PR/F1/P/R curves, a latency over time), and a matrix heat-map with
 * its numbers in the cells and a colour bar (the confusion matrix).
 *
 * Sizes are matplotlib's: a figure in inches at a dpi, lines in points
 * (1/72 inch), text at 10 points (12 for the title).
 *
 * Files are written by the rules of every output (output.h's
 * hp_output_write_file: a temporary file beside it, then rename; a link
 * followed). The caller checks the folder and the names before (SPEC §10).
 *
 * Ownership: everything passed is borrowed for the call; nothing is
 * returned to free. In the binary these functions load the image module
 * (image.h) and call through its table.
 */
#ifndef HUBPREDICT_PLOT_H
#define HUBPREDICT_PLOT_H

#include <stddef.h>

#define HP_PLOT_NEXT_COLOR (-1) /* a series' colour: the next of matplotlib's tab10 cycle */

struct hp_plot_series {
	const double *x, *y;    /* n points, data units; a non-finite one breaks the line */
	size_t n;
	double width;           /* points (matplotlib's linewidth) */
	long color;             /* 0xRRGGBB, or HP_PLOT_NEXT_COLOR */
	const char *label;      /* its legend entry, or NULL for none */
};

struct hp_plot_chart {
	const char *title, *xlabel, *ylabel;    /* NULL: none */
	double xmin, xmax, ymin, ymax;          /* the axes' limits (lines are clipped to them) */
	const struct hp_plot_series *series;    /* drawn in order, the last on top */
	size_t n_series;
	double fig_w, fig_h;                    /* inches; 0: 9 x 6 */
	int dpi;                                /* 0: 150 */
	const double *xticks;                   /* n_xticks ticks of the x axis at these values ... */
	const char *const *xtick_labels;        /* ... labelled so (a percentile axis); 0: matplotlib's */
	size_t n_xticks;
};

struct hp_plot_matrix {
	const char *title, *xlabel, *ylabel;
	const double *v;        /* rows x cols, row-major, row 0 at the top; NAN: an empty (white) cell */
	size_t rows, cols;
	const char *const *row_names, *const *col_names;    /* tick labels, or NULL: 0, 1, ... */
	int decimals;           /* the cells' numbers: 2 gives "0.25", 0 gives "3" */
	double fig_w, fig_h;    /* inches; 0: 12 x 9 */
	int dpi;                /* 0: 150 */
};

/* Can charts be drawn: is there a font? 0, or -1 with the reason in err
 * ("no font found through fontconfig ..."). For a check before a run. */
int hp_plot_ready(char *err, size_t errlen);

/* Draw and write path. 0, or -1 with one line in err (no font: "no font
 * found ...", a write error with its reason, out of memory). */
int hp_plot_chart_png(const struct hp_plot_chart *c, const char *path, char *err, size_t errlen);
int hp_plot_matrix_png(const struct hp_plot_matrix *m, const char *path, char *err, size_t errlen);

#endif
