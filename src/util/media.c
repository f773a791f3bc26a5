/* media.c - the one list of media extensions (media.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/media.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct media_ext {
	const char *ext;
	const char *mime;   /* NULL: sent as application/octet-stream */
	bool video;
};

/* Ultralytics' own lists (ultralytics/data/utils.py IMG_FORMATS, VID_FORMATS):
 * GIF is among the videos there (frames), and is uploaded as image/gif. */
static const struct media_ext media[] = {
	{ "bmp", "image/bmp", false }, { "dng", "image/x-adobe-dng", false }, { "jpeg", "image/jpeg", false },
	{ "jpg", "image/jpeg", false }, { "mpo", "image/jpeg", false }, { "png", "image/png", false },
	{ "tif", "image/tiff", false }, { "tiff", "image/tiff", false }, { "webp", "image/webp", false },
	{ "pfm", NULL, false }, { "heic", "image/heic", false },
	{ "asf", "video/x-ms-asf", true }, { "avi", "video/x-msvideo", true }, { "gif", "image/gif", true },
	{ "m4v", "video/mp4", true }, { "mkv", "video/x-matroska", true }, { "mov", "video/quicktime", true },
	{ "mp4", "video/mp4", true }, { "mpeg", "video/mpeg", true }, { "mpg", "video/mpeg", true },
	{ "ts", "video/mp2t", true }, { "wmv", "video/x-ms-wmv", true }, { "webm", "video/webm", true },
};

static const struct media_ext *find(const char *ext)
{
	for (size_t i = 0; i < sizeof media / sizeof media[0]; i++)
		if (strcasecmp(ext, media[i].ext) == 0)
			return &media[i];
	return NULL;
}

/* The row of a name's extension; none for a bare ".ext" or a dot in a directory. */
static const struct media_ext *of_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot || dot == name || strchr(dot, '/'))
		return NULL;
	return find(dot + 1);
}

bool hp_is_media_name(const char *name)
{
	return of_name(name) != NULL;
}

bool hp_is_video_name(const char *name)
{
	const struct media_ext *m = of_name(name);
	return m && m->video;
}

const char *hp_mime_type_for(const char *name)
{
	const char *dot = strrchr(name, '.');
	const struct media_ext *m = dot ? find(dot + 1) : NULL;
	return m && m->mime ? m->mime : "application/octet-stream";
}

bool hp_is_url_input(const char *path)
{
	return strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0;
}
