/* dataset.c - a val dataset in Ultralytics' layout (valdata.h): data.yaml,
 * a bare images/ + labels/ folder or a classify folder into the split's
 * sorted images; label files read raw and interpreted by task. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/valdata.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hubpredict/buf.h"
#include "hubpredict/media.h"
#include "hubpredict/msg.h"
#include "hubpredict/yaml.h"

#define EXIT_DATA 3
#define MAX_FILE (64L << 20)

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_add(struct strv *s, char *str)
{
	if (!str)
		return -1;
	char **v = hp_grow_array(s->v, &s->cap, s->n + 1, sizeof *v, 16);
	if (!v) {
		free(str);
		return -1;
	}
	s->v = v;
	s->v[s->n++] = str;
	return 0;
}

static void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int bad(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
    HP_PRINTF(5, 6);
static int bad(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
	char q[512];
	int k = line > 0 ? snprintf(err, errlen, "%s:%d: ", hp_msg_quote(q, sizeof q, file), line)
	                 : snprintf(err, errlen, "%s: ", hp_msg_quote(q, sizeof q, file));
	if (k >= 0 && (size_t)k < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return EXIT_DATA;
}

static char *join(const char *dir, const char *name)
{
	if (name[0] == '/' || !dir[0])
		return strdup(name);
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (strcmp(name, ".") == 0 || !name[0])
		return strdup(dir);     /* `path: .`: the folder itself, no "/." in every path */
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return p;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
}

/* A whole small regular file, opened without blocking on a FIFO. */
static char *read_file(const char *path, size_t *len, int *err_no)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	*err_no = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		*err_no = errno;
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		*err_no = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto done;
	}
	buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	ssize_t r = 1;
	while (buf && got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	if (!buf || r < 0) {
		*err_no = buf ? errno : ENOMEM;
		free(buf);
		buf = NULL;
		goto done;
	}
	buf[got] = '\0';
	*len = got;
done:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Images under dir, recursively (symbolic links to folders not followed). */
static int walk(const char *dir, struct strv *out, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;
	if (!d)
		return depth == 0 ? -1 : 0;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = join(dir, e->d_name);
		struct stat st;
		if (!p)
			rc = -1;
		else if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 64)
			rc = walk(p, out, depth + 1);
		else if (hp_is_media_name(p) && !hp_is_video_name(p)) {
			rc = strv_add(out, p);
			p = NULL;
		}
		free(p);
	}
	closedir(d);
	return rc;
}

/* One entry of a split: a folder, a .txt list, or an image. */
static int split_entry(const char *root, const struct hp_yaml_node *v, const char *yaml,
                       struct strv *out, char *err, size_t errlen)
{
	char *p = v->kind == HP_YAML_SCALAR ? join(root, v->scalar) : NULL, *text = NULL, *dir = NULL;
	struct stat st;
	size_t len = 0;
	int rc = EXIT_DATA, e = 0;
	if (!p) {
		bad(err, errlen, yaml, v->line, "a split must name a folder or a .txt list");
		goto done;
	}
	if (stat(p, &st) != 0) {
		bad(err, errlen, yaml, v->line, "'%s' does not exist", p);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = walk(p, out, 0) == 0 ? 0 : bad(err, errlen, p, 0, "cannot read the folder");
		goto done;
	}
	if (!(text = read_file(p, &len, &e)) || !(dir = dir_of(p))) {
		bad(err, errlen, p, 0, "%s", e ? strerror(e) : "out of memory");
		goto done;
	}
	size_t ext = strlen(p);
	if (ext < 4 || strcmp(p + ext - 4, ".txt") != 0) {
		/* strv_add frees p when it fails: the message names the yaml's line */
		rc = strv_add(out, p) == 0 ? 0 : bad(err, errlen, yaml, v->line, "out of memory");
		p = NULL;
		goto done;
	}
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t n = strlen(line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n > 0 && strv_add(out, join(dir, line)) != 0) {
			bad(err, errlen, p, 0, "out of memory");
			goto done;
		}
	}
	rc = 0;
done:
	free(p);
	free(text);
	free(dir);
	return rc;
}

static bool parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

static int names_from(struct hp_valdata *d, const struct hp_yaml_node *root, const char *yaml,
                      char *err, size_t errlen)
{
	const struct hp_yaml_node *names = hp_yaml_get(root, "names"), *nc = hp_yaml_get(root, "nc");
	long n = 0, k;
	if (names && names->kind == HP_YAML_LIST)
		n = (long)names->n;
	for (size_t i = 0; names && names->kind == HP_YAML_MAP && i < names->n; i++) {
		if (!parse_long(names->keys[i], &k) || k >= 1L << 20)
			return bad(err, errlen, yaml, names->items[i]->line, "a names key must be a class number");
		n = k + 1 > n ? k + 1 : n;
	}
	if (!names && nc && (nc->kind != HP_YAML_SCALAR || !parse_long(nc->scalar, &n) || n >= 1L << 20))
		return bad(err, errlen, yaml, nc->line, "nc must be a number");
	if (names && names->kind != HP_YAML_LIST && names->kind != HP_YAML_MAP)
		return bad(err, errlen, yaml, names->line, "names must be a list or a map");
	d->names = calloc((size_t)n + 1, sizeof *d->names);
	if (!d->names)
		return bad(err, errlen, yaml, 0, "out of memory");
	d->n_names = (size_t)n;
	for (size_t i = 0; names && i < names->n; i++) {
		const struct hp_yaml_node *v = names->items[i];
		k = (long)i;
		if (names->kind == HP_YAML_MAP)
			parse_long(names->keys[i], &k);
		if (v->kind != HP_YAML_SCALAR)
			return bad(err, errlen, yaml, v->line, "a class name must be text");
		if (!(d->names[k] = strdup(v->scalar)))
			return bad(err, errlen, yaml, 0, "out of memory");
	}
	for (long i = 0; i < n; i++) {
		char num[32];
		snprintf(num, sizeof num, "%ld", i);
		if (!d->names[i] && !(d->names[i] = strdup(num)))
			return bad(err, errlen, yaml, 0, "out of memory");
	}
	return 0;
}

static int kpt_from(struct hp_valdata *d, const struct hp_yaml_node *root, const char *yaml,
                    char *err, size_t errlen)
{
	const struct hp_yaml_node *k = hp_yaml_get(root, "kpt_shape");
	long n, dim;
	if (!k || k->kind == HP_YAML_NULL)
		return 0;
	if (k->kind != HP_YAML_LIST || k->n != 2 || k->items[0]->kind != HP_YAML_SCALAR ||
	    k->items[1]->kind != HP_YAML_SCALAR || !parse_long(k->items[0]->scalar, &n) ||
	    !parse_long(k->items[1]->scalar, &dim) || n < 1 || n > 1000 || (dim != 2 && dim != 3))
		return bad(err, errlen, yaml, k->line, "kpt_shape must be [N, 2] or [N, 3]");
	d->kpt_n = (int)n;
	d->kpt_dim = (int)dim;
	return 0;
}

static int open_yaml(struct hp_valdata *d, const char *yaml, const char *split, struct strv *imgs,
                     char *err, size_t errlen)
{
	size_t len = 0;
	int e = 0, rc = EXIT_DATA;
	char *text = read_file(yaml, &len, &e), *root_dir = NULL, *dir = dir_of(yaml);
	struct hp_yaml_node *root = NULL;
	char yerr[256];
	if (!text || !dir) {
		bad(err, errlen, yaml, 0, "%s", e ? strerror(e) : "out of memory");
		goto done;
	}
	if (hp_yaml_parse(&root, text, len, yerr, sizeof yerr) != 0) {
		char q[512];
		snprintf(err, errlen, "%s:%s", hp_msg_quote(q, sizeof q, yaml), yerr);
		goto done;
	}
	if (root->kind != HP_YAML_MAP) {
		bad(err, errlen, yaml, root->line, "a data.yaml is a map of keys");
		goto done;
	}
	const struct hp_yaml_node *path = hp_yaml_get(root, "path"), *s = hp_yaml_get(root, split);
	root_dir = path && path->kind == HP_YAML_SCALAR ? join(dir, path->scalar) : strdup(dir);
	if (!root_dir || names_from(d, root, yaml, err, errlen) || kpt_from(d, root, yaml, err, errlen))
		goto done;
	if (!s || s->kind == HP_YAML_NULL) {
		bad(err, errlen, yaml, s ? s->line : 0, "no '%s' split", split);
		goto done;
	}
	for (size_t i = 0; i < (s->kind == HP_YAML_LIST ? s->n : 1); i++)
		if (split_entry(root_dir, s->kind == HP_YAML_LIST ? s->items[i] : s, yaml, imgs, err, errlen))
			goto done;
	rc = 0;
done:
	free(text);
	free(dir);
	free(root_dir);
	hp_yaml_free(root);
	return rc;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* SPLIT/CLASS/images: names are the sorted class folders. */
static int open_classify(struct hp_valdata *d, const char *splitdir, struct strv *imgs,
                         char *err, size_t errlen)
{
	struct strv classes = { 0 };
	DIR *dir = opendir(splitdir);
	struct dirent *e;
	int rc = EXIT_DATA;
	while (dir && (e = readdir(dir)))
		if (e->d_name[0] != '.') {
			char *p = join(splitdir, e->d_name);
			if (p && is_dir(p) && strv_add(&classes, strdup(e->d_name)) != 0)
				p = NULL;
			free(p);
		}
	if (dir)
		closedir(dir);
	if (classes.n == 0) {
		bad(err, errlen, splitdir, 0, "no class folders");
		goto done;
	}
	qsort(classes.v, classes.n, sizeof *classes.v, cmp_str);
	size_t *counts = calloc(classes.n, sizeof *counts);
	for (size_t c = 0; counts && c < classes.n; c++) {
		char *p = join(splitdir, classes.v[c]);
		size_t before = imgs->n;
		if (!p || walk(p, imgs, 0) != 0) {
			free(p);
			free(counts);
			bad(err, errlen, splitdir, 0, "cannot read the class folders");
			goto done;
		}
		free(p);
		qsort(imgs->v + before, imgs->n - before, sizeof *imgs->v, cmp_str);
		counts[c] = imgs->n - before;
	}
	d->image_class = counts ? malloc((imgs->n + 1) * sizeof *d->image_class) : NULL;
	for (size_t c = 0, k = 0; d->image_class && c < classes.n; c++)
		for (size_t i = 0; i < counts[c]; i++)
			d->image_class[k++] = (long)c;
	free(counts);
	if (!d->image_class) {
		bad(err, errlen, splitdir, 0, "out of memory");
		goto done;
	}
	d->classify = true;
	d->names = classes.v;
	d->n_names = classes.n;
	memset(&classes, 0, sizeof classes);
	rc = 0;
done:
	strv_clear(&classes);
	return rc;
}

int hp_valdata_open(struct hp_valdata *d, const char *data, const char *split, char *err,
                    size_t errlen)
{
	struct strv imgs = { 0 };
	char *a = join(data, "images"), *b = NULL, *c = join(data, split);
	int rc = EXIT_DATA;
	memset(d, 0, sizeof *d);
	if (!a || !c || !(d->source = strdup(data))) {
		bad(err, errlen, data, 0, "out of memory");
		goto done;
	}
	if (!is_dir(data)) {
		if ((rc = open_yaml(d, data, split, &imgs, err, errlen)) != 0)
			goto done;
	} else if (is_dir(a)) {
		b = join(a, split);
		if (!b || walk(b && is_dir(b) ? b : a, &imgs, 0) != 0) {
			rc = bad(err, errlen, a, 0, "cannot read the folder");
			goto done;
		}
	} else if (is_dir(c)) {
		if ((rc = open_classify(d, c, &imgs, err, errlen)) != 0)
			goto done;
	} else {
		rc = bad(err, errlen, data, 0, "no images/ folder and no '%s' split", split);
		goto done;
	}
	if (imgs.n == 0) {
		rc = bad(err, errlen, data, 0, "the '%s' split holds no images", split);
		goto done;
	}
	if (!d->classify)
		qsort(imgs.v, imgs.n, sizeof *imgs.v, cmp_str);   /* (never on an empty list: NULL) */
	d->images = imgs.v;
	d->n_images = imgs.n;
	memset(&imgs, 0, sizeof imgs);
	rc = 0;
done:
	strv_clear(&imgs);
	free(a);
	free(b);
	free(c);
	if (rc != 0)
		hp_valdata_clear(d);
	return rc;
}

void hp_valdata_clear(struct hp_valdata *d)
{
	for (size_t i = 0; i < d->n_images; i++)
		free(d->images[i]);
	for (size_t i = 0; d->names && i < d->n_names; i++)
		free(d->names[i]);
	free(d->images);
	free(d->names);
	free(d->image_class);
	free(d->source);
	memset(d, 0, sizeof *d);
}

char *hp_val_label_path(const char *image)
{
	size_t n = strlen(image);
	char *out = malloc(n + 8);
	if (!out)
		return NULL;
	memcpy(out, image, n + 1);
	char *at = NULL;
	for (char *p = strstr(out, "/images/"); p; p = strstr(p + 1, "/images/"))
		at = p;
	if (at)
		memcpy(at, "/labels/", 8);
	char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
	if (!dot || (slash && dot < slash))
		dot = out + n;
	strcpy(dot, ".txt");
	return out;
}

static int add_line(struct hp_val_labels *l, char *text, int no, size_t n_names, char *err,
                    size_t errlen)
{
	double v;
	char *tok, *save = NULL, *end;
	size_t first = l->n_num, count = 0;
	for (tok = strtok_r(text, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		errno = 0;
		v = strtod(tok, &end);
		if (*end || errno || !isfinite(v))
			return bad(err, errlen, l->file, no, "'%.40s' is not a number", tok);
		if (l->n_num % 256 == 0) {
			double *num = realloc(l->num, (l->n_num + 256) * sizeof *num);
			if (!num)
				return bad(err, errlen, l->file, no, "out of memory");
			l->num = num;
		}
		l->num[l->n_num++] = v;
		count++;
	}
	if (count == 0)
		return 0;
	double c = l->num[first];
	if (c < 0 || c != floor(c) || c >= (double)(1L << 24))
		return bad(err, errlen, l->file, no, "the class '%g' is not a class number", c);
	if (n_names > 0 && c >= (double)n_names)
		return bad(err, errlen, l->file, no, "class %ld is beyond the %zu names", (long)c, n_names);
	if (count < 5)
		return bad(err, errlen, l->file, no, "%zu numbers after the class, at least 4 are needed",
		           count - 1);
	struct hp_val_line *lines = realloc(l->lines, (l->n + 1) * sizeof *lines);
	if (!lines)
		return bad(err, errlen, l->file, no, "out of memory");
	l->lines = lines;
	l->lines[l->n++] = (struct hp_val_line){ (long)c, no, count - 1, first + 1 };
	return 0;
}

int hp_val_labels_read(struct hp_val_labels *l, const char *image, size_t n_names, char *err,
                       size_t errlen)
{
	size_t len = 0;
	int e = 0, rc = EXIT_DATA, no = 0;
	memset(l, 0, sizeof *l);
	l->file = hp_val_label_path(image);
	char *text = l->file ? read_file(l->file, &len, &e) : NULL;
	if (!l->file)
		return bad(err, errlen, image, 0, "out of memory");
	if (!text) {
		if (e == ENOENT)
			return 0;
		return bad(err, errlen, l->file, 0, "%s", e == EINVAL ? "not a regular file" : strerror(e));
	}
	if (memchr(text, '\0', len)) {
		bad(err, errlen, l->file, 0, "not a text file");
		goto done;
	}
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (add_line(l, line, ++no, n_names, err, errlen) != 0)
			goto done;
	}
	rc = 0;
done:
	free(text);
	return rc;
}

/* Check a line's numbers: coordinates in [0, 1.01] (pose visibility apart). */
static int check_range(const struct hp_val_labels *l, const struct hp_val_line *ln, int dim,
                       char *err, size_t errlen)
{
	for (size_t k = 0; k < ln->n; k++) {
		double v = l->num[ln->at + k];
		bool vis = dim == 3 && k >= 4 && (k - 4) % 3 == 2;
		if (!vis && (v < 0 || v > 1.01))
			return bad(err, errlen, l->file, ln->line, "coordinate %g is outside [0, 1.01]", v);
	}
	return 0;
}

static void polygon(struct hp_val_obj *o, double *pts, const double *num, size_t npt, double w,
                    double h)
{
	o->n = npt;
	o->x = pts;
	o->y = pts + npt;
	o->box[0] = o->box[1] = INFINITY;
	o->box[2] = o->box[3] = -INFINITY;
	for (size_t k = 0; k < npt; k++) {
		pts[k] = num[2 * k] * w;
		pts[npt + k] = num[2 * k + 1] * h;
		o->box[0] = fmin(o->box[0], pts[k]);
		o->box[1] = fmin(o->box[1], pts[npt + k]);
		o->box[2] = fmax(o->box[2], pts[k]);
		o->box[3] = fmax(o->box[3], pts[npt + k]);
	}
}

static int one_object(struct hp_val_labels *l, const struct hp_val_line *ln, enum hp_val_task task,
                      double w, double h, int kn, int kd, struct hp_val_obj *o, double *pts,
                      char *err, size_t errlen)
{
	const double *num = l->num + ln->at;
	size_t n = ln->n;
	memset(o, 0, sizeof *o);
	o->cls = ln->cls;
	if (check_range(l, ln, task == HP_VAL_POSE ? kd : 0, err, errlen))
		return EXIT_DATA;
	if (task == HP_VAL_OBB) {
		double xy[8];
		if (n != 8)
			return bad(err, errlen, l->file, ln->line, "an obb label has 8 numbers after the class, not %zu", n);
		for (int k = 0; k < 8; k++)
			xy[k] = num[k] * (k % 2 ? h : w);
		hp_val_min_area_rect(xy, o->obb);
		return 0;
	}
	if (task == HP_VAL_POSE && n != 4 + (size_t)kn * (size_t)kd)
		return bad(err, errlen, l->file, ln->line, "a pose label has 4 + %d x %d numbers after the class, not %zu",
		           kn, kd, n);
	if (task == HP_VAL_SEGMENT || (task == HP_VAL_DETECT && n > 4)) {
		if (n < 6 || n % 2)
			return bad(err, errlen, l->file, ln->line, "a polygon needs 3 or more x y pairs, not %zu numbers", n);
		polygon(o, pts, num, n / 2, w, h);
		if (task == HP_VAL_DETECT)
			o->n = 0;
		return 0;
	}
	o->box[0] = (num[0] - num[2] / 2) * w;
	o->box[1] = (num[1] - num[3] / 2) * h;
	o->box[2] = (num[0] + num[2] / 2) * w;
	o->box[3] = (num[1] + num[3] / 2) * h;
	if (task == HP_VAL_POSE) {
		o->n = (size_t)kn;
		o->x = pts;
		o->y = pts + kn;
		o->v = kd == 3 ? pts + 2 * kn : NULL;
		for (int k = 0; k < kn; k++) {
			pts[k] = num[4 + k * kd] * w;
			pts[kn + k] = num[4 + k * kd + 1] * h;
			if (kd == 3)
				pts[2 * kn + k] = num[4 + k * kd + 2];
		}
	}
	return 0;
}

int hp_val_labels_objects(struct hp_val_labels *l, enum hp_val_task task, double width,
                          double height, int kpt_n, int kpt_dim, struct hp_val_obj **out,
                          char *err, size_t errlen)
{
	struct hp_val_obj *objs = calloc(l->n + 1, sizeof *objs);
	free(l->pts);
	l->pts = malloc((l->n_num + 3 * (size_t)kpt_n * l->n + 1) * sizeof *l->pts);
	if (!objs || !l->pts) {
		free(objs);
		return bad(err, errlen, l->file, 0, "out of memory");
	}
	if (task == HP_VAL_POSE && kpt_n <= 0) {
		free(objs);
		return bad(err, errlen, l->file, 0, "a pose dataset needs kpt_shape");
	}
	size_t used = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (one_object(l, &l->lines[i], task, width, height, kpt_n, kpt_dim, &objs[i],
		               l->pts + used, err, errlen) != 0) {
			free(objs);
			return EXIT_DATA;
		}
		used += l->lines[i].n + 3 * (size_t)(kpt_n > 0 ? kpt_n : 0);
	}
	*out = objs;
	return 0;
}

void hp_val_labels_clear(struct hp_val_labels *l)
{
	free(l->file);
	free(l->lines);
	free(l->num);
	free(l->pts);
	memset(l, 0, sizeof *l);
}
