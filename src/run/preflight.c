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
	return check_input(p, path, 0, fst, exists, n, err, errlen);
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
	struct hp_inputs *src = hp_inputs_new(&cfg, why, sizeof why);
	if (!src)
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
