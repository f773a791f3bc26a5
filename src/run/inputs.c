/* inputs.c - INPUT arguments and --files-from entries into a stream of
 * paths: files as given, directories as their media files sorted by name
 * (and, with -r, their subdirectories, depth first). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/inputs.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/media.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One directory being walked: its entries, sorted, and where we are. */
struct entry {
	char *name;
	bool is_dir;
	bool too_long;     /* its path exceeds PATH_MAX: an error record, not a silent skip */
};

struct level {
	char *path;
	struct entry *entries;
	size_t n, next;
};

struct hp_inputs {
	struct hp_inputs_config cfg;
	size_t next_arg;
	FILE *list;                /* --files-from, while open */
	bool list_is_stdin;
	char *line;                /* getdelim buffer */
	size_t line_cap;
	struct level *stack;       /* directories being walked, outermost first */
	size_t depth, stack_cap;
	char *walk_root;           /* owned: the argument the walk started from */
	size_t walk_found;         /* media files found under it so far */
};

static void level_free(struct level *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->entries[i].name);
	free(l->entries);
	free(l->path);
	memset(l, 0, sizeof *l);
}

int hp_inputs_new(struct hp_inputs **out, const struct hp_inputs_config *cfg, char *err, size_t errlen)
{
	struct hp_inputs *src = calloc(1, sizeof *src);
	if (!src) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	src->cfg = *cfg;
	if (cfg->files_from) {
		src->list_is_stdin = strcmp(cfg->files_from, "-") == 0;
		src->list = src->list_is_stdin ? stdin : fopen(cfg->files_from, "r");
		if (!src->list) {
			snprintf(err, errlen, "--files-from: cannot open '%s': %s", cfg->files_from, strerror(errno));
			free(src);
			return HP_EXIT_INPUT;
		}
		struct stat st;
		if (!src->list_is_stdin && fstat(fileno(src->list), &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--files-from: '%s' is a directory, not a list of paths (to send a directory, "
			         "give it as an INPUT)", cfg->files_from);
			fclose(src->list);
			free(src);
			return HP_EXIT_INPUT;
		}
	}
	*out = src;
	return 0;
}

void hp_inputs_free(struct hp_inputs *src)
{
	if (!src)
		return;
	while (src->depth)
		level_free(&src->stack[--src->depth]);
	free(src->stack);
	free(src->walk_root);
	if (src->list && !src->list_is_stdin)
		fclose(src->list);
	free(src->line);
	free(src);
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
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

/* Is this directory entry a directory? (Symbolic links to directories are
 * not followed when recursing, as find(1) does not, to avoid cycles.) */
static bool entry_is_dir(const char *dir, const struct dirent *e)
{
#ifdef DT_DIR
	if (e->d_type == DT_DIR)
		return true;
	if (e->d_type != DT_UNKNOWN)
		return false;
#endif
	char *p = join(dir, e->d_name);
	struct stat st;
	bool d = p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return d;
}

/* List a directory into *l: media files, and subdirectories when recursive,
 * hidden entries skipped, sorted by name. Returns 0 or an errno. */
static int list_dir(struct level *l, const char *dir, bool recursive)
{
	memset(l, 0, sizeof *l);
	DIR *d = opendir(dir);
	if (!d)
		return errno;
	size_t cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		bool is_dir = recursive && entry_is_dir(dir, e);
		/* too long for the system to open or even to tell what it is */
		bool too_long = recursive && !hp_is_media_name(e->d_name) &&
		                strlen(dir) + 1 + strlen(e->d_name) >= PATH_MAX;
		if (!is_dir && !too_long && !hp_is_media_name(e->d_name))
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			struct entry *grown = realloc(l->entries, cap * sizeof *grown);
			if (!grown) {
				rc = ENOMEM;
				break;
			}
			l->entries = grown;
		}
		if (!(l->entries[l->n].name = strdup(e->d_name))) {
			rc = ENOMEM;
			break;
		}
		l->entries[l->n].too_long = too_long;
		l->entries[l->n++].is_dir = is_dir && !too_long;
	}
	closedir(d);
	if (!rc && l->n > 1)
		qsort(l->entries, l->n, sizeof *l->entries, cmp_entries);
	if (!rc && !(l->path = strdup(dir)))
		rc = ENOMEM;
	if (rc)
		level_free(l);
	return rc;
}

static int push_dir(struct hp_inputs *src, const char *dir)
{
	if (src->depth == src->stack_cap) {
		size_t cap = src->stack_cap ? src->stack_cap * 2 : 8;
		struct level *s = realloc(src->stack, cap * sizeof *s);
		if (!s)
			return ENOMEM;
		src->stack = s;
		src->stack_cap = cap;
	}
	int rc = list_dir(&src->stack[src->depth], dir, src->cfg.recursive);
	if (rc == 0)
		src->depth++;
	return rc;
}

static int set_error(struct hp_input *in, const char *path, const char *what)
{
	in->path = strdup(path);
	in->error = strdup(what);
	return 1;
}

/* The next argument or list entry, or NULL at the end. */
static const char *next_name(struct hp_inputs *src)
{
	if (src->next_arg < src->cfg.n_args)
		return src->cfg.args[src->next_arg++];
	while (src->list) {
		int delim = src->cfg.null_separated ? '\0' : '\n';
		ssize_t n = getdelim(&src->line, &src->line_cap, delim, src->list);
		if (n < 0) {
			if (!src->list_is_stdin)
				fclose(src->list);
			src->list = NULL;
			return NULL;
		}
		if (n > 0 && src->line[n - 1] == (char)delim)
			src->line[--n] = '\0';
		if (!src->cfg.null_separated && n > 0 && src->line[n - 1] == '\r')
			src->line[--n] = '\0';
		if (n > 0)
			return src->line;
	}
	return NULL;
}

static int next_any(struct hp_inputs *src, struct hp_input *in)
{
	memset(in, 0, sizeof *in);
	for (;;) {
		if (src->depth) {
			struct level *l = &src->stack[src->depth - 1];
			if (l->next < l->n) {
				const struct entry *en = &l->entries[l->next++];
				char *p = join(l->path, en->name);
				if (!p)
					return set_error(in, en->name, "out of memory");
				if (en->too_long) {
					char why[96];
					snprintf(why, sizeof why, "path longer than PATH_MAX (%d bytes): not searched", PATH_MAX);
					set_error(in, p, why);
					free(p);
					return 1;
				}
				if (!en->is_dir) {
					src->walk_found++;
					in->path = p;
					size_t rl = strlen(src->walk_root);
					in->below = rl + (rl > 0 && src->walk_root[rl - 1] == '/' ? 0 : 1);
					return 1;
				}
				int rc = push_dir(src, p);
				if (rc) {
					set_error(in, p, strerror(rc));
					free(p);
					return 1;
				}
				free(p);
				continue;
			}
			level_free(l);
			src->depth--;
			if (src->depth == 0 && src->walk_found == 0) {
				return set_error(in, src->walk_root, src->cfg.recursive
				                 ? "no image or video files in this directory or below"
				                 : "no image or video files in this directory");
			}
			continue;
		}
		bool from_list = src->next_arg >= src->cfg.n_args;
		const char *name = next_name(src);
		if (!name)
			return 0;
		if (from_list && src->list_is_stdin && strcmp(name, "-") == 0)
			return set_error(in, name, "'-' in --files-from -: standard input carries the list, not an image");
		struct stat st;
		bool have_st = strcmp(name, "-") != 0 && stat(name, &st) == 0;
		if (have_st && S_ISDIR(st.st_mode)) {
			int rc = push_dir(src, name);
			if (rc)
				return set_error(in, name, strerror(rc));
			src->walk_found = 0;
			free(src->walk_root);
			if (!(src->walk_root = strdup(name)))
				return set_error(in, name, "out of memory");
			continue;
		}
		in->path = strdup(name);
		if (have_st) {
			in->st = st;
			in->have_st = true;
		}
		return 1;
	}
}

bool hp_inputs_several(const struct hp_inputs *src)
{
	struct stat st;
	if (src->cfg.files_from || src->cfg.n_args != 1)
		return true;
	const char *a = src->cfg.args[0];
	return strcmp(a, "-") != 0 && stat(a, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Media files under dir (recursively when asked), without keeping names. */
static size_t count_dir(const char *dir, bool recursive, int depth)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	if (!d)
		return 1; /* it will become one error record */
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (recursive && depth < 64 && entry_is_dir(dir, e)) {
			char *p = join(dir, e->d_name);
			if (p)
				n += count_dir(p, recursive, depth + 1);
			free(p);
		} else if (hp_is_media_name(e->d_name)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static size_t count_name(const char *name, bool recursive)
{
	struct stat st;
	if (strcmp(name, "-") != 0 && stat(name, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t n = count_dir(name, recursive, 0);
		return n ? n : 1; /* a directory without images is one error record */
	}
	return 1;
}

uint64_t hp_fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool hp_shard_keeps(const char *path, unsigned long k, unsigned long n)
{
	return n <= 1 || hp_fnv1a64(path, strlen(path)) % n == k - 1;
}

int hp_inputs_next(struct hp_inputs *src, struct hp_input *in)
{
	for (;;) {
		if (!next_any(src, in))
			return 0;
		if (!in->path || hp_shard_keeps(in->path, src->cfg.shard_k, src->cfg.shard_n))
			return 1;
		hp_input_clear(in);
	}
}

/* --shard: the count is that of the shard's own inputs, so the list is
 * walked as the run will walk it (names only, one level at a time). */
static size_t count_shard(const struct hp_inputs_config *cfg)
{
	char err[64];
	struct hp_inputs *src = NULL;
	hp_inputs_new(&src, cfg, err, sizeof err);
	size_t n = 0;
	struct hp_input in;
	while (src && hp_inputs_next(src, &in)) {
		n++;
		hp_input_clear(&in);
	}
	hp_inputs_free(src);
	return n;
}

size_t hp_inputs_count(const struct hp_inputs_config *cfg)
{
	if (cfg->shard_n > 1)
		return cfg->files_from && strcmp(cfg->files_from, "-") == 0 ? 0 : count_shard(cfg);
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_args; i++)
		n += count_name(cfg->args[i], cfg->recursive);
	if (!cfg->files_from)
		return n;
	if (strcmp(cfg->files_from, "-") == 0)
		return 0; /* a pipe can be read once only */
	FILE *f = fopen(cfg->files_from, "r");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int delim = cfg->null_separated ? '\0' : '\n';
	while ((len = getdelim(&line, &cap, delim, f)) >= 0) {
		if (len > 0 && line[len - 1] == (char)delim)
			line[--len] = '\0';
		if (!cfg->null_separated && len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len > 0)
			n += count_name(line, cfg->recursive);
	}
	free(line);
	fclose(f);
	return n;
}

void hp_input_clear(struct hp_input *in)
{
	free(in->path);
	free(in->error);
	free(in->video);
	in->path = in->error = in->video = NULL;
	if (in->produced && in->fd >= 0)
		close(in->fd);
	in->produced = false;
	in->fd = -1;
}

static int inputs_next(void *state, struct hp_input *in)
{
	return hp_inputs_next(state, in);
}

struct hp_input_source hp_inputs_source(struct hp_inputs *src)
{
	return (struct hp_input_source){ inputs_next, src };
}
