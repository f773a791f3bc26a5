/* valdata.h - a labelled dataset in Ultralytics' layout for `hubpredict val`
 * (SPEC §12): which images a split holds, the class names, and each image's
 * label lines.
 *
 * DATA is one of:
 *   - a data.yaml (the subset yaml.h reads): `path` (default the yaml's
 *     folder; a relative path is taken from the yaml's folder), `train`/
 *     `val`/`test` each a folder (searched recursively for images), a `.txt`
 *     list of images (a relative line is taken from the list's folder) or a
 *     list of these; `names` as a list or a map `INDEX: name` (gaps are named
 *     by their number), else `nc`; `kpt_shape: [N, 2|3]`
 *   - a folder holding images/ (and labels/): images/SPLIT when it exists,
 *     else all of images/; no names (then they come from the answers)
 *   - a classification folder: SPLIT/CLASS/IMAGE, names the sorted CLASS
 *     folders; an image's label is its folder's class
 * Images are sorted by path (bytes). A label file is the image's path with the
 * last "/images/" replaced by "/labels/" and the extension by ".txt"; no file
 * means no objects.
 *
 * Label lines are read as numbers and kept raw (class, then the numbers), to
 * be interpreted once the task is known (hp_val_labels_objects): a 9-number
 * line is an OBB box for obb and a 4-point polygon for segment.
 *
 * Errors are one line in err ("FILE:LINE: reason", the file quoted) with exit
 * status 3.
 *
 * Ownership: hp_valdata_open fills a struct the caller embeds and releases
 * with hp_valdata_clear; hp_val_labels_read likewise with hp_val_labels_clear.
 * Every pointer inside belongs to the struct.
 */
#ifndef HUBPREDICT_VALDATA_H
#define HUBPREDICT_VALDATA_H

#include <stdbool.h>
#include <stddef.h>

#include "hubpredict/valmetrics.h"

struct hp_valdata {
	char *source;           /* DATA as given */
	char **images;          /* the split's images, sorted */
	size_t n_images;
	char **names;           /* class names by index (NULL when none were given) */
	size_t n_names;
	bool classify;          /* a classification folder */
	long *image_class;      /* classify: each image's class (index into names) */
	int kpt_n, kpt_dim;     /* kpt_shape, 0 when not given */
};

/* Open DATA and list SPLIT ("val", "test" or "train"). 0, or 3 with err. */
int hp_valdata_open(struct hp_valdata *d, const char *data, const char *split, char *err,
                    size_t errlen);
void hp_valdata_clear(struct hp_valdata *d);

/* The label file of an image (caller frees with free(); NULL when out of
 * memory). */
char *hp_val_label_path(const char *image);

struct hp_val_line {
	long cls;
	int line;               /* 1-based line in the label file */
	size_t n;               /* numbers after the class */
	size_t at;              /* where they start in hp_val_labels.num */
};

struct hp_val_labels {
	char *file;             /* the label file */
	struct hp_val_line *lines;
	size_t n;
	double *num;            /* every line's numbers */
	size_t n_num;
	double *pts;            /* hp_val_labels_objects' points (owned) */
};

/* Read an image's label file: no file is no lines. Classes must be below
 * n_names when n_names > 0. 0, or 3 with "FILE:LINE: reason" in err. */
int hp_val_labels_read(struct hp_val_labels *l, const char *image, size_t n_names, char *err,
                       size_t errlen);

/* The lines as objects of `task` in pixels of a width x height image (pose:
 * kpt_n points of kpt_dim numbers). *out (caller frees with free()) holds
 * l->n objects whose points live in l. 0, or 3 with "FILE:LINE: reason". */
int hp_val_labels_objects(struct hp_val_labels *l, enum hp_val_task task, double width,
                          double height, int kpt_n, int kpt_dim, struct hp_val_obj **out,
                          char *err, size_t errlen);
void hp_val_labels_clear(struct hp_val_labels *l);

#endif
