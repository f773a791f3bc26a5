/* none.c - a build without image support (-DHUBPREDICT_IMAGES=OFF): the
 * option parser refuses --annotate and --resize (and val --plots), so none of these is called
 * on a run; they only keep the program whole. */
#include "hubpredict/annotate.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/image.h"
#include "hubpredict/picture.h"
#include "hubpredict/plot.h"

#include <stdio.h>

bool hp_image_supported(void)
{
	return false;
}

int hp_image_load(char *err, size_t errlen)
{
	snprintf(err, errlen, "this build of hubpredict has no image support");
	return -1;
}

int hp_annotate_new(struct hp_annotate **out, const char *dir, char *err, size_t errlen)
{
	(void)out;
	(void)dir;
	snprintf(err, errlen, "--annotate: this build of hubpredict has no image support");
	return HP_EXIT_USAGE;
}

void hp_annotate_item(void *state, const struct hp_item *it)
{
	(void)state;
	(void)it;
}

int hp_annotate_draw(struct hp_annotate *a, struct hp_pixmap *p, const struct hp_item *it, char *err, size_t errlen)
{
	(void)a, (void)p, (void)it, (void)err, (void)errlen;
	return 0;
}

char *hp_annotate_path_for(void *state, const char *input, size_t below)
{
	(void)state;
	(void)input;
	(void)below;
	return NULL;
}

bool hp_annotate_failed(const struct hp_annotate *a)
{
	(void)a;
	return false;
}

size_t hp_annotate_written(const struct hp_annotate *a)
{
	(void)a;
	return 0;
}

struct hp_annotate_source *hp_annotate_source_new(int fd)
{
	(void)fd;
	return NULL;
}

void hp_annotate_source_free(struct hp_annotate_source *s)
{
	(void)s;
}

void hp_annotate_free(struct hp_annotate *a)
{
	(void)a;
}

int hp_picture_plan(int fd, int imgsz, struct hp_resized *rz, char *err, size_t errlen)
{
	(void)fd;
	(void)imgsz;
	*rz = (struct hp_resized){ 0 };
	snprintf(err, errlen, "this build of hubpredict has no image support");
	return -1;
}

int hp_picture_resize_upload(int fd, int imgsz, struct hp_resized *rz, struct hp_picture_copy *copy, char *err,
                             size_t errlen)
{
	(void)fd;
	(void)copy;
	return hp_picture_plan(-1, imgsz, rz, err, errlen);
}

void hp_picture_map_response(struct hp_response *r, const struct hp_resized *rz, bool normalized)
{
	(void)r;
	(void)rz;
	(void)normalized;
}

int hp_picture_map_body(char **data, size_t *len, const struct hp_resized *rz, bool normalized)
{
	(void)data;
	(void)len;
	(void)rz;
	(void)normalized;
	return -1;
}

int hp_plot_ready(char *err, size_t errlen)
{
	snprintf(err, errlen, "this build of hubpredict has no image support");
	return -1;
}

int hp_plot_chart_png(const struct hp_plot_chart *c, const char *path, char *err, size_t errlen)
{
	(void)c;
	(void)path;
	snprintf(err, errlen, "this build of hubpredict has no image support");
	return -1;
}

int hp_plot_matrix_png(const struct hp_plot_matrix *m, const char *path, char *err, size_t errlen)
{
	(void)m;
	(void)path;
	snprintf(err, errlen, "this build of hubpredict has no image support");
	return -1;
}

int hp_picture_map_parts(const char *body, size_t len, const struct hp_json_parts *parts,
                         const struct hp_resized *rz, bool normalized, FILE *out, size_t **cuts, size_t *n_cuts,
                         void (*release)(void *arg, size_t upto), void *arg)
{
	(void)body;
	(void)len;
	(void)parts;
	(void)rz;
	(void)normalized;
	(void)out;
	(void)release;
	(void)arg;
	*cuts = NULL;
	*n_cuts = 0;
	return -1;
}
