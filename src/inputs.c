/* inputs.c - INPUT arguments into a stream of paths: files as given,
 * directories as their image and video files sorted by name. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Ultralytics' own lists (ultralytics/data/utils.py IMG_FORMATS, VID_FORMATS). */
static const char *const image_exts[] = { "bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif",
                                          "tiff", "webp", "pfm", "heic", NULL };
static const char *const video_exts[] = { "asf", "avi", "gif", "m4v", "mkv", "mov", "mp4",
                                          "mpeg", "mpg", "ts", "wmv", "webm", NULL };

static bool has_ext(const char *name, const char *const *exts)
{
	const char *dot = strrchr(name, '.');
	if (!dot || dot == name || strchr(dot, '/'))
		return false;
	for (size_t i = 0; exts[i]; i++)
		if (strcasecmp(dot + 1, exts[i]) == 0)
			return true;
	return false;
}

bool hp_is_video_name(const char *name) { return has_ext(name, video_exts); }
bool hp_is_media_name(const char *name) { return has_ext(name, image_exts) || has_ext(name, video_exts); }

struct hp_inputs {
	char *const *args;
	size_t n_args, next_arg;
	/* the directory being listed */
	char *dir;
	char **names;
	size_t n_names, next_name;
};

struct hp_inputs *hp_inputs_new(char *const *args, size_t n)
{
	struct hp_inputs *src = calloc(1, sizeof *src);
	if (src) {
		src->args = args;
		src->n_args = n;
	}
	return src;
}

static void listing_free(struct hp_inputs *src)
{
	for (size_t i = 0; i < src->n_names; i++)
		free(src->names[i]);
	free(src->names);
	free(src->dir);
	src->names = NULL;
	src->dir = NULL;
	src->n_names = src->next_name = 0;
}

void hp_inputs_free(struct hp_inputs *src)
{
	if (!src)
		return;
	listing_free(src);
	free(src);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a directory's media file names, sorted. Returns 0 or an errno. */
static int list_dir(struct hp_inputs *src, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno;
	size_t cap = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !hp_is_media_name(e->d_name))
			continue;
		if (src->n_names == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(src->names, cap * sizeof *grown);
			if (!grown) {
				rc = ENOMEM;
				break;
			}
			src->names = grown;
		}
		if (!(src->names[src->n_names] = strdup(e->d_name))) {
			rc = ENOMEM;
			break;
		}
		src->n_names++;
	}
	closedir(d);
	if (src->n_names > 1)
		qsort(src->names, src->n_names, sizeof *src->names, cmp_names);
	if (!rc && !(src->dir = strdup(dir)))
		rc = ENOMEM;
	return rc;
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	size_t n = dl + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", dir, slash ? "" : "/", name);
	return p;
}

static int set_error(struct hp_input *in, const char *path, const char *what)
{
	in->path = strdup(path);
	in->error = strdup(what);
	return 1;
}

int hp_inputs_next(struct hp_inputs *src, struct hp_input *in)
{
	memset(in, 0, sizeof *in);
	for (;;) {
		if (src->names && src->next_name < src->n_names) {
			in->path = join(src->dir, src->names[src->next_name++]);
			return 1;
		}
		if (src->names || src->dir)
			listing_free(src);
		if (src->next_arg >= src->n_args)
			return 0;
		const char *arg = src->args[src->next_arg++];
		struct stat st;
		if (strcmp(arg, "-") != 0 && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
			int rc = list_dir(src, arg);
			if (rc) {
				listing_free(src);
				return set_error(in, arg, strerror(rc));
			}
			if (src->n_names == 0) {
				listing_free(src);
				return set_error(in, arg, "no image or video files in this directory");
			}
			continue;
		}
		in->path = strdup(arg);
		return 1;
	}
}

bool hp_inputs_several(const struct hp_inputs *src)
{
	struct stat st;
	if (src->n_args != 1)
		return true;
	return strcmp(src->args[0], "-") != 0 && stat(src->args[0], &st) == 0 && S_ISDIR(st.st_mode);
}

void hp_input_clear(struct hp_input *in)
{
	free(in->path);
	free(in->error);
	in->path = in->error = NULL;
}
