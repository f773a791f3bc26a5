/* plots_dir.c - the folder of --plots DIR (plots_dir.h), one set of rules
 * for val's and bench's charts. */
#define _POSIX_C_SOURCE 200809L
#include "plots_dir.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/image.h"
#include "hubpredict/labels.h"
#include "hubpredict/msg.h"
#include "hubpredict/plot.h"
#include "hubpredict/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *hp_plots_join(const char *dir, const char *prefix, const char *name)
{
	size_t n = strlen(dir) + strlen(prefix) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", prefix, name);
	return p;
}

/* A plot's name in DIR: new, or a regular file that is none of the images. */
static int check_name(const char *path, const struct stat *images, size_t n, char *err, size_t errlen)
{
	struct stat st;
	char q[512];
	const char *why = NULL;
	if (lstat(path, &st) != 0)
		return 0;
	if (S_ISLNK(st.st_mode))
		why = "is a link (a plot is not written through one)";
	else if (!S_ISREG(st.st_mode))
		why = S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file";
	for (size_t i = 0; i < n && !why; i++)
		if (images[i].st_dev == st.st_dev && images[i].st_ino == st.st_ino)
			why = "is one of the images";
	if (!why)
		return 0;
	snprintf(err, errlen, "--plots: %s %s", hp_msg_quote(q, sizeof q, path), why);
	return HP_EXIT_USAGE;
}

/* Every name a plot may take in DIR, against the inputs' files. */
static int check_names(const char *dir, const char *const *names, size_t n_names, char *const *images,
                       size_t n_images, char *err, size_t errlen)
{
	int rc = 0;
	struct stat *ids = calloc(n_images + 1, sizeof *ids);
	if (!ids) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_OUTPUT;
	}
	for (size_t i = 0; i < n_images; i++)
		if (stat(images[i], &ids[i]) != 0)
			memset(&ids[i], 0, sizeof ids[i]);
	for (size_t k = 0; k < n_names && !rc; k++) {
		char *path = hp_plots_join(dir, "", names[k]);
		rc = path ? check_name(path, ids, n_images, err, errlen) : HP_EXIT_OUTPUT;
		if (!path)
			snprintf(err, errlen, "out of memory");
		free(path);
	}
	free(ids);
	return rc;
}

/* DIR apart from the images: not their folder, nor holding or inside one. */
static int check_apart(const char *dir, char *const *images, size_t n_images, char *err, size_t errlen)
{
	struct hp_preflight_dir *d = NULL;
	int rc = hp_preflight_dir_new(&d, "--plots", dir);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	for (size_t i = 0; i < n_images && !rc; i++) {
		const char *slash = strrchr(images[i], '/');
		rc = hp_preflight_dir_input(d, images[i], slash ? (size_t)(slash - images[i]) + 1 : 0, err, errlen);
	}
	hp_preflight_dir_free(d);
	return rc;
}

int hp_plots_dir_check(const char *dir, const char *const *names, size_t n_names, char *const *images,
                       size_t n_images, char *err, size_t errlen)
{
	struct stat st;
	char q[512], why[400];
	if (!*dir) {
		snprintf(err, errlen, "--plots needs a directory");
		return HP_EXIT_USAGE;
	}
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--plots: %s is not a directory", hp_msg_quote(q, sizeof q, dir));
		return HP_EXIT_USAGE;
	}
	int rc = check_apart(dir, images, n_images, err, errlen);
	if (!rc)
		rc = check_names(dir, names, n_names, images, n_images, err, errlen);
	if (!rc && hp_image_load(why, sizeof why) != 0) {
		snprintf(err, errlen, "--plots needs image support, but %s", why);
		rc = HP_EXIT_USAGE;
	} else if (!rc && hp_plot_ready(why, sizeof why) != 0) {
		snprintf(err, errlen, "--plots: %s", why);
		rc = HP_EXIT_USAGE;
	}
	if (!rc && hp_labels_check_dir("--plots", dir, err, errlen) < 0)
		rc = HP_EXIT_OUTPUT;
	return rc;
}
