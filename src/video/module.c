/* module.c - the one symbol hubpredict-video.so exports: its table of entry
 * points (video_api.h). Everything else in the module is hidden. */
#include "video_api.h"

const struct hp_module_header *hp_video_module(void) __attribute__((visibility("default")));

static const struct hp_video_api api = {
	.header = { HP_VIDEO_ABI, HP_VERSION },
	.check_versions = hp_video_check_versions,
	.open_fd = hp_video_open_fd,
	.open_mem = hp_video_open_mem,
	.info = hp_video_info,
	.next = hp_video_next,
	.end = hp_video_end,
	.decoded = hp_video_decoded,
	.frame_clear = hp_video_frame_clear,
	.free = hp_video_free,
	.writer_open = hp_video_writer_open,
	.writer_put = hp_video_writer_put,
	.writer_close = hp_video_writer_close,
	.writer_free = hp_video_writer_free,
	.live_open = hp_live_open,
	.live_info = hp_live_info,
	.live_take = hp_live_take,
	.live_next = hp_live_next,
	.live_fd = hp_live_fd,
	.live_stats = hp_live_stats,
	.live_free = hp_live_free,
};

const struct hp_module_header *hp_video_module(void)
{
	return &api.header;
}
