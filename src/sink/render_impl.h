/* render_impl.h - what each output format implements (private to src/). */
#ifndef HUBPREDICT_RENDER_IMPL_H
#define HUBPREDICT_RENDER_IMPL_H

#include "hubpredict/render.h"

struct hp_renderer {
	const struct hp_render_ops *ops;
	struct hp_output *out;
	struct hp_render_opts ro;
	size_t items;        /* items written so far */
};

struct hp_render_ops {
	void (*begin)(struct hp_renderer *r);
	void (*item)(struct hp_renderer *r, const struct hp_item *it);
	void (*end)(struct hp_renderer *r);
};

extern const struct hp_render_ops hp_render_table_ops;
extern const struct hp_render_ops hp_render_json_ops;
extern const struct hp_render_ops hp_render_jsonl_ops;
extern const struct hp_render_ops hp_render_csv_ops;
extern const struct hp_render_ops hp_render_raw_ops;

#endif
