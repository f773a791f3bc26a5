/* preflight.c - destinations against inputs, before anything is sent. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/preflight.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/inputs.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/signals.h"
#include "hubpredict/upload.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 8

/* An existing regular file whose first bytes are an image or a video. */
static const char *media_kind_of(const char *path)
{
	unsigned char head[32];
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, head, sizeof head);
	close(fd);
	return n > 0 ? hp_media_kind(head, (size_t)n) : NULL;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* One input against every destination (files probed into fst/exists). */
static int check_input(const struct hp_preflight *p, const char *path, size_t below, const struct stat *fst,
                       const bool *exists, size_t n_files, char *err, size_t errlen)
{
	struct stat ist;
	char why[600], q[512], q2[512];
	if (!path || strcmp(path, "-") == 0 || hp_is_url_input(path) || stat(path, &ist) != 0)
		return 0;
	for (size_t i = 0; i < n_files; i++) {
		if (exists[i] && same_inode(&fst[i], &ist)) {
			snprintf(err, errlen, "%s %s is also an input (%s): it would be overwritten", p->files[i].flag,
			         hp_msg_quote(q, sizeof q, p->files[i].path), hp_msg_quote(q2, sizeof q2, path));
			return HP_EXIT_USAGE;
		}
	}
	for (size_t t = 0; t < p->n_trees; t++) {
		const struct hp_preflight_tree *tr = &p->trees[t];
		char *dest = tr->path_for(tr->state, path, below);
		struct stat dst;
		int kind = dest ? hp_output_probe(dest, &dst, why, sizeof why) : HP_OUTPUT_NEW;
		int rc = 0;
		if (kind == HP_OUTPUT_IS_DIR) {
			snprintf(err, errlen, "%s: the file for %s, %s, is a directory", tr->flag, hp_msg_quote(q, sizeof q, path),
			         hp_msg_quote(q2, sizeof q2, dest));
			rc = HP_EXIT_USAGE;
		} else if (kind != HP_OUTPUT_NEW && same_inode(&dst, &ist)) {
			snprintf(err, errlen, "%s: the file for %s would overwrite that input", tr->flag,
			         hp_msg_quote(q, sizeof q, path));
			rc = HP_EXIT_USAGE;
		}
		free(dest);
		if (rc)
			return rc;
	}
	return 0;
}

/* Probe the single-file destinations. */
static size_t probe_files(const struct hp_preflight *p, struct stat *fst, bool *exists)
{
	char why[600];
	size_t n = p->n_files < MAX_FILES ? p->n_files : MAX_FILES;
	for (size_t i = 0; i < n; i++)
		exists[i] = hp_output_probe(p->files[i].path, &fst[i], why, sizeof why) != HP_OUTPUT_NEW;
	return n;
}

bool hp_preflight_reads_list(const char *files_from)
{
	struct stat st;
	return strcmp(files_from, "-") != 0 && stat(files_from, &st) == 0 && S_ISREG(st.st_mode);
}

int hp_preflight_input(void *state, const char *path, char *err, size_t errlen)
{
	const struct hp_preflight *p = state;
	struct stat fst[MAX_FILES];
	bool exists[MAX_FILES] = { false };
	size_t n = probe_files(p, fst, exists);
	int rc = hp_preflight_dir_input(p->annotate_dir, path, 0, err, errlen);
	return rc ? rc : check_input(p, path, 0, fst, exists, n, err, errlen);
}

int hp_preflight_check(const struct hp_preflight *p, char *err, size_t errlen)
{
	struct stat fst[MAX_FILES];
	bool exists[MAX_FILES] = { false };
	char why[600], q[512];
	size_t n_files = p->n_files < MAX_FILES ? p->n_files : MAX_FILES, n_regular = 0;
	int rc = 0;

	for (size_t i = 0; i < n_files; i++) {
		const struct hp_preflight_file *f = &p->files[i];
		int kind = hp_output_probe(f->path, &fst[i], why, sizeof why);
		if (kind == HP_OUTPUT_IS_DIR) {
			snprintf(err, errlen, "%s %s is a directory; give a file name", f->flag,
			         hp_msg_quote(q, sizeof q, f->path));
			return HP_EXIT_USAGE;
		}
		/* a device, FIFO or socket is written in place: no input can be
		 * lost to it, so only regular files are compared with the inputs */
		exists[i] = kind == HP_OUTPUT_REGULAR;
		n_regular += exists[i];
		const char *media = kind == HP_OUTPUT_REGULAR ? media_kind_of(f->path) : NULL;
		if (media) {
			snprintf(err, errlen, "%s %s is %s, not an output file (did the shell expand a wildcard after %s?)",
			         f->flag, hp_msg_quote(q, sizeof q, f->path), media, f->flag);
			return HP_EXIT_USAGE;
		}
	}
	if (!p->inputs || (n_regular == 0 && p->n_trees == 0))
		return 0;

	/* A list on a pipe can be read once only: its entries are checked as
	 * the batch meets them (hp_preflight_input). */
	struct hp_inputs_config cfg = *p->inputs;
	if (cfg.files_from && !hp_preflight_reads_list(cfg.files_from))
		cfg.files_from = NULL;
	struct hp_inputs *src = NULL;
	if (hp_inputs_new(&src, &cfg, why, sizeof why) != 0)
		return 0; /* the run itself reports it */
	struct hp_input in;
	/* a signal stops the walk; the run then ends before sending anything */
	while (rc == 0 && !hp_signal_caught() && hp_inputs_next(src, &in)) {
		if (!in.error)
			rc = check_input(p, in.path, in.below, fst, exists, n_files, err, errlen);
		hp_input_clear(&in);
	}
	hp_inputs_free(src);
	return rc;
}

/* ---- --annotate DIR against the inputs ------------------------------------- */

#define MAX_DEPTH 256

struct dir_id {
	dev_t dev;
	ino_t ino;
};

struct hp_preflight_dir {
	const char *flag, *dir;
	bool exists;                  /* DIR is (or, made, will be) an existing directory: ids[0] */
	struct dir_id ids[MAX_DEPTH]; /* DIR, or the directory it will be made in, then its ancestors up to / */
	size_t n_ids;                 /* 0: nothing to compare (DIR empty, or out of reach) */
	char *last_folder;            /* the last input folder found apart from DIR */
	char *last_tree;              /* the last directory INPUT found apart from DIR */
};

static bool same_id(const struct dir_id *a, const struct dir_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* The device and inode of the directory path and of each ancestor up to /,
 * by appending "/.." (the kernel's own parent, links resolved); how many. */
static size_t ancestors(const char *path, struct dir_id *ids, size_t max)
{
	size_t len = strlen(path), n = 0;
	char *p = malloc(len + 3 * max + 1);
	struct stat st;
	if (!p)
		return 0;
	memcpy(p, path, len + 1);
	while (n < max && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
		struct dir_id id = { st.st_dev, st.st_ino };
		if (n > 0 && same_id(&ids[n - 1], &id))
			break; /* / is its own parent */
		ids[n++] = id;
		memcpy(p + len, "/..", 4);
		len += 3;
	}
	free(p);
	return n;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory DIR stands in: DIR when it exists, else its nearest existing
 * ancestor with the rest of DIR applied as mkdir -p makes it (a ".." past
 * what is still to be made climbs above that ancestor). Sets d->ids. */
static void resolve_dir(struct hp_preflight_dir *d)
{
	size_t len = strlen(d->dir), cut = len;
	char *base = malloc(len + 3 * len + 4);
	if (!base || !*d->dir)
		goto done;
	/* the longest existing prefix, cut at a '/' */
	memcpy(base, d->dir, len + 1);
	while (!is_dir(base)) {
		while (cut > 0 && d->dir[cut - 1] == '/')
			cut--;
		while (cut > 0 && d->dir[cut - 1] != '/')
			cut--;
		if (cut == 0) {
			strcpy(base, ".");
			break;
		}
		memcpy(base, d->dir, cut);
		base[cut] = '\0';
	}
	size_t depth = 0, bl = strlen(base);
	for (const char *c = d->dir + cut; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (depth > 0)
				depth--;
			else
				bl += (size_t)sprintf(base + bl, "/..");
		} else if (n > 0 && !(n == 1 && c[0] == '.')) {
			depth++;
		}
		c += n + (c[n] == '/');
	}
	d->exists = depth == 0;
	d->n_ids = ancestors(base, d->ids, MAX_DEPTH);
done:
	free(base);
}

int hp_preflight_dir_new(struct hp_preflight_dir **out, const char *flag, const char *dir)
{
	struct hp_preflight_dir *d = calloc(1, sizeof *d);
	if (!d)
		return HP_EXIT_OUTPUT;
	d->flag = flag;
	d->dir = dir;
	resolve_dir(d);
	*out = d;
	return 0;
}

void hp_preflight_dir_free(struct hp_preflight_dir *d)
{
	if (!d)
		return;
	free(d->last_folder);
	free(d->last_tree);
	free(d);
}

/* 1 when DIR is folder, 2 when DIR holds it further down, else 0. */
static int dir_holds(const struct hp_preflight_dir *d, const char *folder)
{
	struct dir_id ids[MAX_DEPTH];
	if (!d->exists || d->n_ids == 0)
		return 0;
	size_t n = ancestors(folder, ids, MAX_DEPTH);
	for (size_t i = 0; i < n; i++) {
		if (same_id(&ids[i], &d->ids[0]))
			return i == 0 ? 1 : 2;
	}
	return 0;
}

/* Remember name in *last (a repeat is not checked again). */
static void remember(char **last, const char *name)
{
	free(*last);
	*last = strdup(name);
}

/* The folder of input path (a copy of its part before the last '/'). */
static int check_folder(struct hp_preflight_dir *d, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;
	char *folder = malloc(n + 2), q[512], q2[512];
	if (!folder)
		return 0;
	if (!slash)
		strcpy(folder, ".");
	else
		snprintf(folder, n + 2, "%.*s", (int)(n ? n : 1), n ? path : "/");
	int rel = d->last_folder && strcmp(d->last_folder, folder) == 0 ? 0 : dir_holds(d, folder);
	if (rel)
		snprintf(err, errlen, "%s %s %s input %s: pictures would land among the originals", d->flag,
		         hp_msg_quote(q, sizeof q, d->dir), rel == 1 ? "is the folder of" : "holds",
		         hp_msg_quote(q2, sizeof q2, path));
	else
		remember(&d->last_folder, folder);
	free(folder);
	return rel ? HP_EXIT_USAGE : 0;
}

/* A directory INPUT: DIR may not be it, hold it or lie inside it. */
static int check_tree(struct hp_preflight_dir *d, const char *tree, char *err, size_t errlen)
{
	struct stat st;
	char q[512], q2[512];
	if ((d->last_tree && strcmp(d->last_tree, tree) == 0) || stat(tree, &st) != 0)
		return 0;
	struct dir_id id = { st.st_dev, st.st_ino };
	const char *how = NULL;
	for (size_t i = 0; i < d->n_ids && !how; i++) {
		if (same_id(&d->ids[i], &id))
			how = i == 0 && d->exists ? "is" : "lies inside";
	}
	if (!how && dir_holds(d, tree))
		how = "holds";
	if (!how) {
		remember(&d->last_tree, tree);
		return 0;
	}
	snprintf(err, errlen, "%s %s %s directory input %s: pictures would land among the originals", d->flag,
	         hp_msg_quote(q, sizeof q, d->dir), how, hp_msg_quote(q2, sizeof q2, tree));
	return HP_EXIT_USAGE;
}

int hp_preflight_dir_input(struct hp_preflight_dir *d, const char *path, size_t below, char *err, size_t errlen)
{
	if (!d || d->n_ids == 0 || !path || strcmp(path, "-") == 0 || hp_is_url_input(path))
		return 0;
	int rc = 0;
	if (below > 0) {
		/* found inside a directory INPUT: the directory as it was named */
		size_t n = below;
		while (n > 1 && path[n - 1] == '/')
			n--;
		char *tree = strndup(path, n);
		rc = tree ? check_tree(d, tree, err, errlen) : 0;
		free(tree);
	}
	return rc ? rc : check_folder(d, path, err, errlen);
}

int hp_preflight_dir_check(struct hp_preflight_dir *d, const struct hp_inputs_config *cfg, char *err,
                           size_t errlen)
{
	char why[600];
	int rc = 0;
	if (!d || d->n_ids == 0)
		return 0;
	struct hp_inputs_config c = *cfg;
	if (c.files_from && !hp_preflight_reads_list(c.files_from))
		c.files_from = NULL;
	struct hp_inputs *src = NULL;
	if (hp_inputs_new(&src, &c, why, sizeof why) != 0)
		return 0; /* the run itself reports it */
	struct hp_input in;
	while (rc == 0 && !hp_signal_caught() && hp_inputs_next(src, &in)) {
		if (!in.error)
			rc = hp_preflight_dir_input(d, in.path, in.below, err, errlen);
		hp_input_clear(&in);
	}
	hp_inputs_free(src);
	return rc;
}
