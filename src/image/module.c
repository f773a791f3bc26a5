/* module.c - the one symbol hubpredict-image.so exports: its table of entry
 * points (image_api.h). Everything else in the module is hidden. */
#include "image_api.h"

const struct hp_module_header *hp_image_module(void) __attribute__((visibility("default")));

static const struct hp_image_api api = {
	.header = { HP_IMAGE_ABI, HP_VERSION },
	.annotate_new = hp_annotate_new,
	.annotate_source_new = hp_annotate_source_new,
	.annotate_source_free = hp_annotate_source_free,
	.annotate_item = hp_annotate_item,
	.annotate_draw = hp_annotate_draw,
	.annotate_path_for = hp_annotate_path_for,
	.annotate_written = hp_annotate_written,
	.annotate_failed = hp_annotate_failed,
	.annotate_free = hp_annotate_free,
	.picture_plan = hp_picture_plan,
	.picture_resize_upload = hp_picture_resize_upload,
	.picture_map_response = hp_picture_map_response,
	.picture_map_body = hp_picture_map_body,
	.plot_ready = hp_plot_ready,
	.plot_chart_png = hp_plot_chart_png,
	.plot_matrix_png = hp_plot_matrix_png,
	.picture_map_parts = hp_picture_map_parts,
};

const struct hp_module_header *hp_image_module(void)
{
	return &api.header;
}
