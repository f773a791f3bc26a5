/* render_raw.c - the server's body byte for byte (from memory or its spill
 * file, so any size), a newline after each when there are several inputs.
 * Failed inputs write nothing here: their message goes to stderr. */
#include "render_impl.h"
#include "hubpredict/body.h"
#include "hubpredict/output.h"

static void raw_item(struct hp_renderer *r, const struct hp_item *it)
{
	if (it->exit_code != 0 || !it->body)
		return;
	hp_body_write_to(it->body, r->out);
	if (r->ro.several)
		hp_out_puts(r->out, "\n");
}

const struct hp_render_ops hp_render_raw_ops = { .item = raw_item };
