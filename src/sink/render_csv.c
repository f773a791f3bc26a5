/* render_csv.c - RFC 4180, one row per result, LF line endings. */
#include "render_impl.h"
#include "hubpredict/output.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"

#include <string.h>

const char hp_csv_header[] =
	"file,frame,task,index,class,name,confidence,x1,y1,x2,y2,x3,y3,x4,y4,points,keypoints,pixel_ratio";

static void csv_begin(struct hp_renderer *r)
{
	hp_out_puts(r->out, hp_csv_header);
	hp_out_puts(r->out, r->ro.video_time ? ",time\n" : "\n");
}

static void cell_double(struct hp_output *out, double v)
{
	char num[40];
	hp_out_puts(out, ",");
	hp_fmt_double(num, sizeof num, v);
	hp_out_puts(out, num);
}

static void csv_item(struct hp_renderer *r, const struct hp_item *it)
{
	struct hp_output *out = r->out;
	const struct hp_response *resp = it->response;
	if (it->exit_code != 0 || !resp)
		return;
	const char *task = hp_task_name(resp->task);
	/* a video's frame: the video's row, its frame number in the file (SPEC 13) */
	bool frame_of_video = r->ro.videos && it->video;
	const char *file = frame_of_video ? it->video : it->file;
	for (size_t f = 0; f < resp->n_images; f++) {
		const struct hp_image *im = &resp->images[f];
		for (size_t i = 0; i < im->n_results; i++) {
			const struct hp_result *res = &im->results[i];
			hp_csv_write_field(out, file, strlen(file));
			/* a stream's frame: its number in the stream (SPEC 13) */
			long long frame = it->stream ? it->stream_frame : frame_of_video ? it->frame : (long long)f;
			hp_out_printf(out, ",%lld,%s,%zu,%ld,", frame, task, i + 1, res->cls);
			hp_csv_write_field(out, res->name, res->name_len);
			if (resp->task == HP_TASK_SEMANTIC)
				hp_out_puts(out, ",");
			else
				cell_double(out, res->confidence);
			for (int c = 0; c < 8; c++) {
				if (c < res->n_box)
					cell_double(out, res->box[c]);
				else
					hp_out_puts(out, ",");
			}
			if (resp->task == HP_TASK_SEGMENT)
				hp_out_printf(out, ",%zu", res->segment.n);
			else
				hp_out_puts(out, ",");
			if (resp->task == HP_TASK_POSE)
				hp_out_printf(out, ",%zu", hp_visible_keypoints(&res->keypoints));
			else
				hp_out_puts(out, ",");
			if (resp->task == HP_TASK_SEMANTIC)
				cell_double(out, res->pixel_ratio);
			else
				hp_out_puts(out, ",");
			if (r->ro.video_time && frame_of_video)
				hp_out_printf(out, ",%.3f", it->time);
			else if (r->ro.video_time)
				hp_out_puts(out, ",");
			hp_out_puts(out, "\n");
		}
	}
}

const struct hp_render_ops hp_render_csv_ops = { .begin = csv_begin, .item = csv_item };
