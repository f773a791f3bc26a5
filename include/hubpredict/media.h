/* media.h - the one list of media file extensions: which names are images or
 * videos (directory walks, --save-txt, --annotate) and the MIME type each is
 * uploaded with; and which INPUTs are URLs. Everything returned is static;
 * nothing allocates. */
#ifndef HUBPREDICT_MEDIA_H
#define HUBPREDICT_MEDIA_H

#include <stdbool.h>

/* True when the name ends in an image or video extension (case-insensitive);
 * a name that is only an extension (".jpg") is not a media name. */
bool hp_is_media_name(const char *name);
/* True for a video extension. GIF counts as a video, as in Ultralytics' own
 * lists: its answer is per frame. */
bool hp_is_video_name(const char *name);
/* MIME type for a file name by extension, "application/octet-stream" when
 * unknown (static). */
const char *hp_mime_type_for(const char *name);
/* True for an INPUT that names a URL (http:// or https://, any case) rather
 * than a file. */
bool hp_is_url_input(const char *path);

#endif
