/* labels.c - --save-txt: YOLO label files, one per image or video frame.
 *
 * The lines follow Ultralytics' Results.save_txt: each number printed with
 * %g, separated by one space; class numbers, not names, except for classify
 * ("0.95 cat", best first, the top 5). Coordinates are divided by the image's
 * shape unless the answer is already normalised (--normalize). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/labels.h"
#include "hubpredict/inputs.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"
#include "hubpredict/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLASSIFY_TOP 5 /* Ultralytics writes probs.top5 */

struct hp_labels {
	struct hp_labels_opts o;
	size_t written;
	bool failed;
	bool warned_task;       /* semantic/depth: warned once */
};

/* ---- a growing text buffer ------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* One number, as Python's "%g" (C's is the same), after a space unless it
 * starts the line. */
static void buf_num(struct buf *b, double v)
{
	char tmp[64];
	bool line_start = b->len == 0 || b->p[b->len - 1] == '\n';
	int n = snprintf(tmp, sizeof tmp, "%s%g", line_start ? "" : " ", v);
	if (n > 0)
		buf_add(b, tmp, (size_t)n);
}

/* A class name on one line: control characters and invalid UTF-8 become
 * U+FFFD, so a name can neither break the line nor the file's encoding. */
static void buf_name(struct buf *b, const char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			buf_add(b, repl, 3);
			i++;
			continue;
		}
		size_t k = hp_utf8_seq_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			buf_add(b, repl, 3);
			i++;
			continue;
		}
		buf_add(b, s + i, k);
		i += k;
	}
}

/* ---- the lines ---------------------------------------------------------------- */

struct scale {
	double sx, sy;          /* multiply x and y by these */
};

static void add_xy(struct buf *b, const struct scale *sc, double x, double y)
{
	buf_num(b, x * sc->sx);
	buf_num(b, y * sc->sy);
}

/* The axis-aligned box as centre, width and height. */
static void add_xywh(struct buf *b, const struct scale *sc, const struct hp_result *r)
{
	double x1 = r->box[0], y1 = r->box[1], x2 = r->box[2], y2 = r->box[3];
	if (r->n_box == 8) { /* an oriented box where a plain one is wanted: its bounds */
		for (int i = 0; i < 8; i += 2) {
			x1 = r->box[i] < x1 ? r->box[i] : x1;
			x2 = r->box[i] > x2 ? r->box[i] : x2;
			y1 = r->box[i + 1] < y1 ? r->box[i + 1] : y1;
			y2 = r->box[i + 1] > y2 ? r->box[i + 1] : y2;
		}
	}
	add_xy(b, sc, (x1 + x2) / 2, (y1 + y2) / 2);
	add_xy(b, sc, x2 - x1, y2 - y1);
}

/* Four corners: the oriented box as sent, or a plain box's corners clockwise
 * from the top left. */
static void add_corners(struct buf *b, const struct scale *sc, const struct hp_result *r)
{
	if (r->n_box == 8) {
		for (int i = 0; i < 8; i += 2)
			add_xy(b, sc, r->box[i], r->box[i + 1]);
	} else {
		add_xy(b, sc, r->box[0], r->box[1]);
		add_xy(b, sc, r->box[2], r->box[1]);
		add_xy(b, sc, r->box[2], r->box[3]);
		add_xy(b, sc, r->box[0], r->box[3]);
	}
}

static void add_line(struct buf *b, enum hp_task task, const struct scale *sc, const struct hp_result *r,
                     bool save_conf)
{
	buf_num(b, (double)r->cls);
	switch (task) {
	case HP_TASK_OBB:
		add_corners(b, sc, r);
		break;
	case HP_TASK_SEGMENT:
		if (r->segment.n > 0) {
			for (size_t i = 0; i < r->segment.n; i++)
				add_xy(b, sc, r->segment.x[i], r->segment.y[i]);
		} else {
			add_corners(b, sc, r); /* no polygon: the box as one */
		}
		break;
	case HP_TASK_POSE:
		add_xywh(b, sc, r);
		for (size_t i = 0; i < r->keypoints.n; i++) {
			add_xy(b, sc, r->keypoints.x[i], r->keypoints.y[i]);
			if (r->keypoints.visible)
				buf_num(b, r->keypoints.visible[i]);
		}
		break;
	default:
		add_xywh(b, sc, r);
		break;
	}
	if (save_conf)
		buf_num(b, r->confidence);
	if (r->has_track_id)
		buf_num(b, (double)r->track_id);
	buf_add(b, "\n", 1);
}

static int by_confidence(const void *pa, const void *pb)
{
	const struct hp_result *a = *(const struct hp_result *const *)pa;
	const struct hp_result *b = *(const struct hp_result *const *)pb;
	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	return a < b ? -1 : a > b; /* stable: server order among equals */
}

static void add_classify(struct buf *b, const struct hp_image *im)
{
	const struct hp_result **order = malloc((im->n_results ? im->n_results : 1) * sizeof *order);
	if (!order) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < im->n_results; i++)
		order[i] = &im->results[i];
	qsort(order, im->n_results, sizeof *order, by_confidence);
	for (size_t i = 0; i < im->n_results && i < CLASSIFY_TOP; i++) {
		char conf[32];
		snprintf(conf, sizeof conf, "%.2f ", order[i]->confidence);
		buf_str(b, conf);
		buf_name(b, order[i]->name, order[i]->name_len);
		buf_add(b, "\n", 1);
	}
	free(order);
}

char *hp_labels_format(const struct hp_response *r, const struct hp_image *im,
                       const struct hp_labels_opts *o, size_t *len, const char **why)
{
	struct buf b = { 0 };
	*why = NULL;
	if (r->task == HP_TASK_SEMANTIC || r->task == HP_TASK_DEPTH) {
		*why = "has no YOLO text label format";
		return NULL;
	}
	buf_add(&b, "", 0); /* "" rather than NULL for an image without results */
	if (r->task == HP_TASK_CLASSIFY) {
		add_classify(&b, im);
	} else if (im->n_results > 0) {
		struct scale sc = { 1.0, 1.0 };
		if (!o->normalized) {
			if (!im->has_shape || im->width <= 0 || im->height <= 0) {
				free(b.p);
				*why = "has no image shape to normalise the coordinates with";
				return NULL;
			}
			sc.sx = 1.0 / (double)im->width;
			sc.sy = 1.0 / (double)im->height;
		}
		for (size_t i = 0; i < im->n_results; i++)
			add_line(&b, r->task, &sc, &im->results[i], o->save_conf);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---- where the files go ----------------------------------------------------- */

/* A URL's last non-empty path segment, made safe for a file name. */
static char *url_name(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t end = strcspn(p, "?#");
	const char *host_end = memchr(p, '/', end);
	const char *seg = NULL;
	size_t seg_len = 0;
	if (host_end) {
		const char *q = host_end;
		const char *stop = p + end;
		while (q < stop) {
			while (q < stop && *q == '/')
				q++;
			const char *s = q;
			while (q < stop && *q != '/')
				q++;
			if (q > s) {
				seg = s;
				seg_len = (size_t)(q - s);
			}
		}
	}
	if (!seg) {
		seg = "url";
		seg_len = 3;
	}
	char *name = malloc(seg_len + 1);
	if (!name)
		return NULL;
	for (size_t i = 0; i < seg_len; i++) {
		char c = seg[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          c == '.' || c == '_' || c == '-';
		name[i] = ok ? c : '_';
	}
	name[seg_len] = '\0';
	if (name[0] == '.')
		name[0] = '_'; /* no hidden files, no "." or ".." */
	return name;
}

/* The input's name with its components cleaned, extension kept. */
static char *clean_path(const char *input)
{
	if (strcmp(input, "-") == 0)
		return strdup("stdin");
	if (hp_is_url_input(input))
		return url_name(input);
	size_t n = strlen(input);
	char *out = malloc(n + 6);
	if (!out)
		return NULL;
	size_t len = 0;
	const char *p = input;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t k = (size_t)(p - s);
		if (k == 0 || (k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' && s[1] == '.'))
			continue;
		if (len)
			out[len++] = '/';
		memcpy(out + len, s, k);
		len += k;
	}
	if (len == 0) {
		memcpy(out, "input", 5);
		len = 5;
	}
	out[len] = '\0';
	return out;
}

/* Drop the extension of the last component: the part from its last '.',
 * unless that dot starts the name (as Python's Path.stem). */
static void drop_extension(char *path)
{
	char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = '\0';
}

char *hp_labels_stem(const char *input)
{
	char *p = clean_path(input);
	if (p)
		drop_extension(p);
	return p;
}

/* mkdir -p for the directories of path (up to its last '/'), or all of it
 * with whole. 0, or -1 with errno. */
static int make_dirs(const char *path, bool whole)
{
	char *p = strdup(path);
	int rc = 0;
	if (!p)
		return -1;
	size_t n = strlen(p);
	if (!whole) {
		char *slash = strrchr(p, '/');
		if (!slash) {
			free(p);
			return 0;
		}
		*slash = '\0';
		n = (size_t)(slash - p);
	}
	for (size_t i = 1; i <= n && rc == 0; i++) {
		if (i < n && p[i] != '/')
			continue;
		char keep = p[i];
		p[i] = '\0';
		if (mkdir(p, 0777) != 0) {
			int e = errno;
			struct stat st;
			if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
				errno = e == EEXIST ? ENOTDIR : e;
				rc = -1;
			}
		}
		p[i] = keep;
	}
	free(p);
	return rc;
}

/* Write text to path by the rules of every output (output.h: atomically,
 * links followed, devices in place). 0, or -1 with errno. */
static int write_label(const char *path, const char *text, size_t len)
{
	char err[640];
	if (make_dirs(path, false) < 0)
		return -1;
	return hp_output_write_file(path, text, len, err, sizeof err);
}

/* ---- the observer ------------------------------------------------------------ */

struct hp_labels *hp_labels_new(const struct hp_labels_opts *o, char *err, size_t errlen)
{
	char q[512];
	if (!o->dir || !*o->dir) {
		snprintf(err, errlen, "--save-txt needs a directory");
		return NULL;
	}
	if (make_dirs(o->dir, true) < 0) {
		snprintf(err, errlen, "--save-txt: cannot create directory %s: %s", hp_msg_quote(q, sizeof q, o->dir),
		         strerror(errno));
		return NULL;
	}
	/* Can a file be made there? (access() says yes to root on a read-only mount) */
	size_t n = strlen(o->dir) + 32;
	char *probe = malloc(n);
	if (!probe) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(probe, n, "%s/.hubpredict-check.XXXXXX", o->dir);
	int fd = mkstemp(probe);
	if (fd < 0) {
		snprintf(err, errlen, "--save-txt: cannot write in %s: %s", hp_msg_quote(q, sizeof q, o->dir),
		         strerror(errno));
		free(probe);
		return NULL;
	}
	close(fd);
	unlink(probe);
	free(probe);

	struct hp_labels *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->o = *o;
	return l;
}

/* DIR/STEM.txt or DIR/STEM_FRAME.txt (frame 1-based, as Ultralytics). */
static char *label_path(const struct hp_labels *l, const char *stem, bool per_frame, size_t frame)
{
	size_t n = strlen(l->o.dir) + strlen(stem) + 32;
	char *p = malloc(n);
	if (!p)
		return NULL;
	size_t dl = strlen(l->o.dir);
	while (dl > 1 && l->o.dir[dl - 1] == '/')
		dl--;
	if (per_frame)
		snprintf(p, n, "%.*s/%s_%zu.txt", (int)dl, l->o.dir, stem, frame + 1);
	else
		snprintf(p, n, "%.*s/%s.txt", (int)dl, l->o.dir, stem);
	return p;
}

char *hp_labels_path_for(void *state, const char *input)
{
	const struct hp_labels *l = state;
	if (hp_is_video_name(input))
		return NULL; /* one file per frame, never named like an image input */
	char *stem = hp_labels_stem(input);
	char *path = stem ? label_path(l, stem, false, 0) : NULL;
	free(stem);
	return path;
}

static void fail_write(struct hp_labels *l, const char *path, const char *why)
{
	char q[512];
	hp_msg_error("cannot write label file %s: %s", hp_msg_quote(q, sizeof q, path), why);
	l->failed = true;
}

void hp_labels_item(void *state, const struct hp_item *it)
{
	struct hp_labels *l = state;
	const struct hp_response *r = it->response;
	char q[512];
	if (l->failed || it->exit_code != 0 || !r)
		return;
	if (r->task == HP_TASK_SEMANTIC || r->task == HP_TASK_DEPTH) {
		if (!l->warned_task)
			hp_msg_warn("--save-txt: %s answers have no YOLO text label format; no label files for them",
			            hp_task_name(r->task));
		l->warned_task = true;
		return;
	}
	char *clean = clean_path(it->file);
	char *stem = hp_labels_stem(it->file);
	if (!clean || !stem) {
		fail_write(l, l->o.dir, "out of memory");
		goto done;
	}
	bool per_frame = r->n_images > 1 || hp_is_video_name(clean);
	static const struct hp_image none = { 0 };
	size_t n_files = per_frame ? r->n_images : 1;
	for (size_t f = 0; f < n_files; f++) {
		const struct hp_image *im = r->n_images ? &r->images[f] : &none;
		size_t len = 0;
		const char *why = NULL;
		char *text = hp_labels_format(r, im, &l->o, &len, &why);
		char *path = label_path(l, stem, per_frame, f);
		if (!path) {
			free(text);
			fail_write(l, l->o.dir, "out of memory");
			goto done;
		}
		if (!text && why) {
			char qp[512];
			hp_msg_warn("%s: the answer %s; %s not written", hp_msg_quote(q, sizeof q, it->file), why,
			            hp_msg_quote(qp, sizeof qp, path));
		} else if (!text) {
			fail_write(l, path, "out of memory");
		} else if (write_label(path, text, len) < 0) {
			fail_write(l, path, strerror(errno));
		} else {
			l->written++;
		}
		free(text);
		free(path);
		if (l->failed)
			break;
	}
done:
	free(clean);
	free(stem);
}

size_t hp_labels_written(const struct hp_labels *l)
{
	return l ? l->written : 0;
}

bool hp_labels_failed(const struct hp_labels *l)
{
	return l && l->failed;
}

void hp_labels_free(struct hp_labels *l)
{
	free(l);
}
