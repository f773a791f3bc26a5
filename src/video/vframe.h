/* vframe.h - one decoded frame into the JPEG that is sent: RGB through
 * swscale (at the --resize size in the same pass), the display rotation,
 * then TurboJPEG at quality 95 through the image module's encoder (one
 * JPEG writer for pictures and frames). When no pixels are asked for, the
 * frame is not turned and its matrix is JPEG's (BT.601 or undeclared),
 * swscale scales its planes straight to 4:2:0 at the size sent and
 * TurboJPEG encodes those planes: no RGB either way. Private to src/video/.
 */
#ifndef HP_VIDEO_VFRAME_H
#define HP_VIDEO_VFRAME_H

#include <stdbool.h>
#include <stddef.h>

struct AVFrame;
struct SwsContext;
struct hp_video_frame;

/* The size (w x h, rotation applied) a frame is sent at under imgsz. */
void hp_vframe_size(int w, int h, int rotation, int imgsz, int *tw, int *th);

/* Convert f, rotated clockwise by rotation degrees (0/90/180/270), into
 * out's jpeg, w, h, src_w and src_h, and with pixels its rgb at the source
 * size. *sws is the caller's cached scaler
 * (sws_freeContext at the end). 0; -1 a frame over the size limit or in a
 * pixel format swscale cannot read (reason in err); -2 out of memory or
 * the encoder failed. */
int hp_vframe_jpeg(struct SwsContext **sws, const struct AVFrame *f, int rotation, int imgsz, bool pixels,
                   struct hp_video_frame *out, char *err, size_t errlen);

#endif
