/* render.c - pick the format's writer; flush after every input so a reader
 * of a pipe sees each one as it finishes. */
#include "render_impl.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/output.h"

#include <stdlib.h>

static void silent_item(struct hp_renderer *r, const struct hp_item *it)
{
	(void)r;
	(void)it;
}

int hp_renderer_new(struct hp_renderer **rout, const struct hp_render_opts *ro, struct hp_output *out)
{
	static const struct hp_render_ops *const by_format[] = {
		[HP_FORMAT_TABLE] = &hp_render_table_ops, [HP_FORMAT_JSON] = &hp_render_json_ops,
		[HP_FORMAT_JSONL] = &hp_render_jsonl_ops, [HP_FORMAT_CSV] = &hp_render_csv_ops,
		[HP_FORMAT_RAW] = &hp_render_raw_ops,
	};
	struct hp_renderer *r = calloc(1, sizeof *r);
	if (!r)
		return HP_EXIT_NOMEM;
	static const struct hp_render_ops silent = { .item = silent_item };
	r->ops = ro->silent ? &silent : by_format[ro->format];
	r->out = out;
	r->ro = *ro;
	*rout = r;
	return 0;
}

void hp_renderer_begin(struct hp_renderer *r)
{
	if (r->ops->begin)
		r->ops->begin(r);
}

void hp_renderer_item(struct hp_renderer *r, const struct hp_item *it)
{
	r->ops->item(r, it);
	r->items++;
	hp_out_flush(r->out);
}

void hp_renderer_end(struct hp_renderer *r)
{
	if (r->ops->end)
		r->ops->end(r);
	hp_out_flush(r->out);
}

void hp_renderer_free(struct hp_renderer *r)
{
	free(r);
}
