/* image_api.h - the image module's table (private to image/): the entry
 * points the binary calls, through load.c's functions of the same names
 * (annotate.h, picture.h, plot.h), in the module hubpredict-image.so that
 * module.c exports (hubpredict/module.h).
 *
 * Ownership: as in annotate.h, picture.h and plot.h; the table itself is static.
 */
#ifndef HUBPREDICT_IMAGE_API_H
#define HUBPREDICT_IMAGE_API_H

#include "hubpredict/annotate.h"
#include "hubpredict/module.h"
#include "hubpredict/picture.h"
#include "hubpredict/plot.h"

/* The module's file and its one exported symbol (an hp_module_entry_fn). */
#define HP_IMAGE_MODULE "hubpredict-image.so"
#define HP_IMAGE_MODULE_ENTRY "hp_image_module"
/* Bump when the table below or a struct it passes (hp_item, hp_picture_copy,
 * hp_response, hp_resized) changes. */
#define HP_IMAGE_ABI 5u

struct hp_image_api {
	struct hp_module_header header; /* first: { HP_IMAGE_ABI, HP_VERSION } */
	int (*annotate_new)(struct hp_annotate **out, const char *dir, char *err, size_t errlen);
	struct hp_annotate_source *(*annotate_source_new)(int fd);
	void (*annotate_source_free)(struct hp_annotate_source *s);
	void (*annotate_item)(void *state, const struct hp_item *it);
	int (*annotate_draw)(struct hp_annotate *a, struct hp_pixmap *p, const struct hp_item *it, char *err,
	                     size_t errlen);
	char *(*annotate_path_for)(void *state, const char *input, size_t below);
	size_t (*annotate_written)(const struct hp_annotate *a);
	bool (*annotate_failed)(const struct hp_annotate *a);
	void (*annotate_free)(struct hp_annotate *a);
	int (*picture_plan)(int fd, int imgsz, struct hp_resized *rz, char *err, size_t errlen);
	int (*picture_resize_upload)(int fd, int imgsz, struct hp_resized *rz, struct hp_picture_copy *copy, char *err,
	                             size_t errlen);
	void (*picture_map_response)(struct hp_response *r, const struct hp_resized *rz, bool normalized);
	int (*picture_map_body)(char **data, size_t *len, const struct hp_resized *rz, bool normalized);
	int (*plot_ready)(char *err, size_t errlen);
	int (*plot_chart_png)(const struct hp_plot_chart *c, const char *path, char *err, size_t errlen);
	int (*plot_matrix_png)(const struct hp_plot_matrix *m, const char *path, char *err, size_t errlen);
	int (*picture_map_parts)(const char *body, size_t len, const struct hp_json_parts *parts,
	                         const struct hp_resized *rz, bool normalized, FILE *out, size_t **cuts,
	                         size_t *n_cuts, void (*release)(void *arg, size_t upto), void *arg);
};

#endif
