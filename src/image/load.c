/* load.c - image support in the binary: the functions of annotate.h and
 * picture.h and plot.h, each calling its namesake in the image module, which
 * is loaded (module.h) by the first of them or by hp_image_load(). A run that
 * uses neither --annotate, --resize nor val --plots never loads it, nor maps TurboJPEG, libpng,
 * libwebp, giflib, FreeType or fontconfig. */
#include "hubpredict/exitcode.h"
#include "hubpredict/image.h"
#include "image_api.h"

#include <stdio.h>

static const struct hp_image_api *api;

int hp_image_load(char *err, size_t errlen)
{
	const struct hp_module_header *h;
	if (api)
		return 0;
	if (hp_module_load(HP_IMAGE_MODULE, HP_IMAGE_MODULE_ENTRY, HP_IMAGE_ABI, 0, &h, err, errlen) < 0)
		return -1;
	api = (const struct hp_image_api *)h;
	return 0;
}

/* Loaded, or a reason in err (a scratch buffer when the caller has none). */
static bool loaded(char *err, size_t errlen)
{
	char scratch[256];
	return hp_image_load(err ? err : scratch, err ? errlen : sizeof scratch) == 0;
}

int hp_annotate_new(struct hp_annotate **out, const char *dir, char *err, size_t errlen)
{
	if (!loaded(err, errlen))
		return HP_EXIT_USAGE;
	return api->annotate_new(out, dir, err, errlen);
}

struct hp_annotate_source *hp_annotate_source_new(int fd)
{
	return loaded(NULL, 0) ? api->annotate_source_new(fd) : NULL;
}

/* What exists was made by the module, so it is loaded: the functions below
 * need not load it for a NULL. */
void hp_annotate_source_free(struct hp_annotate_source *s)
{
	if (s)
		api->annotate_source_free(s);
}

void hp_annotate_item(void *state, const struct hp_item *it)
{
	if (state)
		api->annotate_item(state, it);
}

int hp_annotate_draw(struct hp_annotate *a, struct hp_pixmap *p, const struct hp_item *it, char *err, size_t errlen)
{
	return a ? api->annotate_draw(a, p, it, err, errlen) : 0;
}

char *hp_annotate_path_for(void *state, const char *input, size_t below)
{
	return state ? api->annotate_path_for(state, input, below) : NULL;
}

size_t hp_annotate_written(const struct hp_annotate *a)
{
	return a ? api->annotate_written(a) : 0;
}

bool hp_annotate_failed(const struct hp_annotate *a)
{
	return a ? api->annotate_failed(a) : false;
}

void hp_annotate_free(struct hp_annotate *a)
{
	if (a)
		api->annotate_free(a);
}

int hp_picture_plan(int fd, int imgsz, struct hp_resized *rz, char *err, size_t errlen)
{
	if (!loaded(err, errlen)) {
		*rz = (struct hp_resized){ 0 };
		return -1;
	}
	return api->picture_plan(fd, imgsz, rz, err, errlen);
}

int hp_picture_resize_upload(int fd, int imgsz, struct hp_resized *rz, struct hp_picture_copy *copy, char *err,
                             size_t errlen)
{
	if (!loaded(err, errlen)) {
		*rz = (struct hp_resized){ 0 };
		return -1;
	}
	return api->picture_resize_upload(fd, imgsz, rz, copy, err, errlen);
}

/* Only for an input that was resized, so by a loaded module. */
void hp_picture_map_response(struct hp_response *r, const struct hp_resized *rz, bool normalized)
{
	if (api)
		api->picture_map_response(r, rz, normalized);
}

int hp_picture_map_body(char **data, size_t *len, const struct hp_resized *rz, bool normalized)
{
	return api ? api->picture_map_body(data, len, rz, normalized) : -1;
}

int hp_plot_ready(char *err, size_t errlen)
{
	return loaded(err, errlen) ? api->plot_ready(err, errlen) : -1;
}

int hp_plot_chart_png(const struct hp_plot_chart *c, const char *path, char *err, size_t errlen)
{
	return loaded(err, errlen) ? api->plot_chart_png(c, path, err, errlen) : -1;
}

int hp_plot_matrix_png(const struct hp_plot_matrix *m, const char *path, char *err, size_t errlen)
{
	return loaded(err, errlen) ? api->plot_matrix_png(m, path, err, errlen) : -1;
}

int hp_picture_map_parts(const char *body, size_t len, const struct hp_json_parts *parts,
                         const struct hp_resized *rz, bool normalized, FILE *out, size_t **cuts, size_t *n_cuts,
                         void (*release)(void *arg, size_t upto), void *arg)
{
	*cuts = NULL;
	*n_cuts = 0;
	return api ? api->picture_map_parts(body, len, parts, rz, normalized, out, cuts, n_cuts, release, arg) : -1;
}
