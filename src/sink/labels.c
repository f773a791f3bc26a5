/* labels.c - --save-txt: YOLO label files, one per image or video frame.
 *
 * The lines follow Ultralytics' Results.save_txt: each number printed with
 * %g, separated by one space; class numbers, not names, except for classify
 * ("0.95 cat", best first, the top 5). Coordinates are divided by the image's
 * shape unless the answer is already normalised (--normalize). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/labels.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/buf.h"
#include "hubpredict/media.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/item.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLASSIFY_TOP 5 /* Ultralytics writes probs.top5 */

struct seen {               /* a label file written, and the input it came from */
	char *path;
	char *input;
};

struct hp_labels {
	struct hp_labels_opts o;
	struct seen *seen;      /* open addressing, a power of two long */
	size_t n_seen, cap_seen;
	size_t written;
	bool failed;
	bool warned_task;       /* semantic/depth: warned once */
};

/* ---- a growing text buffer ------------------------------------------------ */

/* struct hp_buf (buf.h) with the label lines' own writers; b->oom is
 * looked at once, at the end. */

static void buf_str(struct hp_buf *b, const char *s)
{
	hp_buf_add(b, s, strlen(s));
}

/* One number, as Python's "%g" (C's is the same), after a space unless it
 * starts the line. */
static void buf_num(struct hp_buf *b, double v)
{
	char tmp[64];
	bool line_start = b->len == 0 || b->data[b->len - 1] == '\n';
	int n = snprintf(tmp, sizeof tmp, "%s%g", line_start ? "" : " ", v);
	if (n > 0)
		hp_buf_add(b, tmp, (size_t)n);
}

/* A class name on one line: control characters and invalid UTF-8 become
 * U+FFFD, so a name can neither break the line nor the file's encoding. */
static void buf_name(struct hp_buf *b, const char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			hp_buf_add(b, repl, 3);
			i++;
			continue;
		}
		size_t k = hp_utf8_seq_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			hp_buf_add(b, repl, 3);
			i++;
			continue;
		}
		hp_buf_add(b, s + i, k);
		i += k;
	}
}

/* ---- the lines ---------------------------------------------------------------- */

struct scale {
	double sx, sy;          /* multiply x and y by these */
};

static void add_xy(struct hp_buf *b, const struct scale *sc, double x, double y)
{
	buf_num(b, x * sc->sx);
	buf_num(b, y * sc->sy);
}

/* The axis-aligned box as centre, width and height. */
static void add_xywh(struct hp_buf *b, const struct scale *sc, const struct hp_result *r)
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
static void add_corners(struct hp_buf *b, const struct scale *sc, const struct hp_result *r)
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

static void add_line(struct hp_buf *b, enum hp_task task, const struct scale *sc, const struct hp_result *r,
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
	hp_buf_add(b, "\n", 1);
}

static int by_confidence(const void *pa, const void *pb)
{
	const struct hp_result *a = *(const struct hp_result *const *)pa;
	const struct hp_result *b = *(const struct hp_result *const *)pb;
	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	return a < b ? -1 : a > b; /* stable: server order among equals */
}

static void add_classify(struct hp_buf *b, const struct hp_image *im)
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
		hp_buf_add(b, "\n", 1);
	}
	free(order);
}

char *hp_labels_format(const struct hp_response *r, const struct hp_image *im,
                       const struct hp_labels_opts *o, size_t *len, const char **why)
{
	struct hp_buf b = { 0 };
	*why = NULL;
	if (r->task == HP_TASK_SEMANTIC || r->task == HP_TASK_DEPTH) {
		*why = "has no YOLO text label format";
		return NULL;
	}
	hp_buf_add(&b, "", 0); /* "" rather than NULL for an image without results */
	if (r->task == HP_TASK_CLASSIFY) {
		add_classify(&b, im);
	} else if (im->n_results > 0) {
		struct scale sc = { 1.0, 1.0 };
		if (!o->normalized) {
			if (!im->has_shape || im->width <= 0 || im->height <= 0) {
				hp_buf_clear(&b);
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
		hp_buf_clear(&b);
		return NULL;
	}
	*len = b.len;
	return b.data;
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

/* The part of an input's name that its output files keep (hubpredict(1), "Label
 * and picture paths"), extension kept: the base name of a file named as an
 * INPUT or in --files-from; the path below the directory INPUT of a file
 * found in one (input + below), with empty, "." and ".." components dropped;
 * "stdin" for "-"; a URL's last path segment, made safe. */
static char *kept_name(const char *input, size_t below)
{
	if (strcmp(input, "-") == 0)
		return strdup("stdin");
	if (hp_is_url_input(input))
		return url_name(input);
	size_t n = strlen(input);
	const char *p = below > 0 && below <= n ? input + below : input;
	if (below == 0) {
		/* the last non-empty component: "a/b/x.jpg" and "x.jpg/" give x.jpg */
		const char *end = input + n;
		while (end > input && end[-1] == '/')
			end--;
		const char *start = end;
		while (start > input && start[-1] != '/')
			start--;
		p = start;
		n = (size_t)(end - start);
	} else {
		n = strlen(p);
	}
	char *out = malloc(n + 6);
	if (!out)
		return NULL;
	size_t len = 0;
	const char *stop = p + n;
	while (p < stop) {
		while (p < stop && *p == '/')
			p++;
		const char *s0 = p;
		while (p < stop && *p != '/')
			p++;
		size_t k = (size_t)(p - s0);
		if (k == 0 || (k == 1 && s0[0] == '.') || (k == 2 && s0[0] == '.' && s0[1] == '.'))
			continue;
		if (len)
			out[len++] = '/';
		memcpy(out + len, s0, k);
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

char *hp_labels_stem(const char *input, size_t below)
{
	char *p = kept_name(input, below);
	if (p)
		drop_extension(p);
	return p;
}

char *hp_output_path(const char *dir, const char *input, size_t below, const char *suffix)
{
	char *stem = hp_labels_stem(input, below);
	if (!stem)
		return NULL;
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	size_t n = dl + strlen(stem) + strlen(suffix) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%.*s/%s%s", (int)dl, dir, stem, suffix);
	free(stem);
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

int hp_labels_check_dir(const char *flag, const char *dir, char *err, size_t errlen)
{
	char q[512];
	if (!dir || !*dir) {
		snprintf(err, errlen, "%s needs a directory", flag);
		return -1;
	}
	if (make_dirs(dir, true) < 0) {
		snprintf(err, errlen, "%s: cannot create directory %s: %s", flag, hp_msg_quote(q, sizeof q, dir),
		         strerror(errno));
		return -1;
	}
	/* Can a file be made there? (access() says yes to root on a read-only mount) */
	size_t n = strlen(dir) + 32;
	char *probe = malloc(n);
	if (!probe) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(probe, n, "%s/.hubpredict-check.XXXXXX", dir);
	int fd = mkstemp(probe);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot write in %s: %s", flag, hp_msg_quote(q, sizeof q, dir), strerror(errno));
		free(probe);
		return -1;
	}
	close(fd);
	unlink(probe);
	free(probe);
	return 0;
}

int hp_labels_write_file(const char *path, const void *data, size_t len)
{
	return write_label(path, data, len);
}

int hp_labels_new(struct hp_labels **out, const struct hp_labels_opts *o, char *err, size_t errlen)
{
	if (hp_labels_check_dir("--save-txt", o->dir, err, errlen) < 0)
		return HP_EXIT_OUTPUT;

	struct hp_labels *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	l->o = *o;
	*out = l;
	return 0;
}

/* DIR/STEM.txt or DIR/STEM_FRAME.txt (frame 1-based, as Ultralytics). */
static char *label_path(const struct hp_labels *l, const struct hp_item *it, bool per_frame, size_t frame)
{
	char suffix[40];
	if (per_frame)
		snprintf(suffix, sizeof suffix, "_%zu.txt", frame + 1);
	else
		snprintf(suffix, sizeof suffix, ".txt");
	return hp_output_path(l->o.dir, it->file, it->file_below, suffix);
}

/* Two inputs of one run that map to the same label file: warn, naming both;
 * the later one wins (it is written after). Remembers path -> input in a
 * hash set; -1 when out of memory. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int note_path(struct hp_labels *l, const char *path, const char *input)
{
	if (l->n_seen * 2 >= l->cap_seen) {
		size_t cap = l->cap_seen ? l->cap_seen * 2 : 256;
		struct seen *t = calloc(cap, sizeof *t);
		if (!t)
			return -1;
		for (size_t i = 0; i < l->cap_seen; i++) {
			if (!l->seen[i].path)
				continue;
			size_t k = (size_t)(fnv1a(l->seen[i].path) & (cap - 1));
			while (t[k].path)
				k = (k + 1) & (cap - 1);
			t[k] = l->seen[i];
		}
		free(l->seen);
		l->seen = t;
		l->cap_seen = cap;
	}
	size_t k = (size_t)(fnv1a(path) & (l->cap_seen - 1));
	while (l->seen[k].path) {
		if (strcmp(l->seen[k].path, path) == 0) {
			if (strcmp(l->seen[k].input, input) != 0) {
				char q1[512], q2[512], q3[512];
				hp_msg_warn("%s and %s both map to label file %s; the later one's labels are kept",
				            hp_msg_quote(q1, sizeof q1, l->seen[k].input),
				            hp_msg_quote(q2, sizeof q2, input), hp_msg_quote(q3, sizeof q3, path));
				char *in = strdup(input);
				if (!in)
					return -1;
				free(l->seen[k].input);
				l->seen[k].input = in;
			}
			return 0;
		}
		k = (k + 1) & (l->cap_seen - 1);
	}
	char *p = strdup(path), *in = strdup(input);
	if (!p || !in) {
		free(p);
		free(in);
		return -1;
	}
	l->seen[k] = (struct seen){ p, in };
	l->n_seen++;
	return 0;
}

char *hp_labels_path_for(void *state, const char *input, size_t below)
{
	const struct hp_labels *l = state;
	if (hp_is_video_name(input))
		return NULL; /* one file per frame, never named like an image input */
	return hp_output_path(l->o.dir, input, below, ".txt");
}

static void fail_write(struct hp_labels *l, const char *path, const char *why)
{
	char q[512];
	hp_msg_error("cannot write label file %s: %s", hp_msg_quote(q, sizeof q, path), why);
	l->failed = true;
}

/* ---- a big answer, part by part -------------------------------------------------- */

/* Its polygons or keypoints come one part at a time (item.h): each entry's
 * file is opened at its first part, takes each part's lines, and is
 * committed at its last, so no more than a part's points are held. */
struct stream {
	struct hp_labels *l;
	const struct hp_item *it;
	bool per_frame;
	struct hp_output out;
	char *path;             /* the entry's file, while it is open or skipped */
	bool open;
	struct scale sc;
};

static void stream_drop(struct stream *s)
{
	if (s->open)
		hp_output_abort(&s->out);
	s->open = false;
	free(s->path);
	s->path = NULL;
}

/* An entry's first part: its file named, checked against the others and
 * opened, unless its results cannot be normalised (warned, skipped). */
static int stream_begin(struct stream *s, const struct hp_answer_part *p)
{
	struct hp_labels *l = s->l;
	const struct hp_image *im = &s->it->response->images[p->image]; /* filtered, mapped: its count */
	char err[640], q[512], qp[512];
	s->path = label_path(l, s->it, s->per_frame, p->image);
	if (!s->path || note_path(l, s->path, s->it->file) < 0) {
		fail_write(l, l->o.dir, "out of memory");
		return -1;
	}
	s->sc = (struct scale){ 1.0, 1.0 };
	if (!l->o.normalized && im->n_results > 0) {
		if (!im->has_shape || im->width <= 0 || im->height <= 0) {
			hp_msg_warn("%s: the answer has no image shape to normalise the coordinates with; %s not written",
			            hp_msg_quote(q, sizeof q, s->it->file), hp_msg_quote(qp, sizeof qp, s->path));
			return 0;
		}
		s->sc = (struct scale){ 1.0 / (double)im->width, 1.0 / (double)im->height };
	}
	if (make_dirs(s->path, false) < 0 || hp_output_open(&s->out, s->path, err, sizeof err) < 0) {
		fail_write(l, s->path, strerror(errno));
		return -1;
	}
	s->open = true;
	return 0;
}

static int stream_part(void *arg, const struct hp_answer_part *p)
{
	struct stream *s = arg;
	char err[640];
	if (p->first && stream_begin(s, p) < 0)
		return -1;
	if (s->open && p->im->n_results > 0) {
		struct hp_buf b = { 0 };
		for (size_t i = 0; i < p->im->n_results; i++)
			add_line(&b, s->it->response->task, &s->sc, &p->im->results[i], s->l->o.save_conf);
		if (b.oom) {
			hp_buf_clear(&b);
			fail_write(s->l, s->path, "out of memory");
			return -1;
		}
		hp_out_write(&s->out, b.data, b.len);
		hp_buf_clear(&b);
	}
	if (!p->last)
		return 0;
	if (s->open) {
		s->open = false;
		if (hp_output_commit(&s->out, err, sizeof err) < 0) {
			fail_write(s->l, s->path, strerror(errno));
			return -1;
		}
		s->l->written++;
	}
	stream_drop(s);
	return 0;
}

/* The label files of a big answer whose response holds only the counts of its
 * points (segment, pose): written from its parts. */
static void labels_by_part(struct hp_labels *l, const struct hp_item *it)
{
	struct stream s = { .l = l, .it = it };
	s.per_frame = it->response->n_images > 1 || hp_is_video_name(it->file);
	int rc = it->parts->each(it->parts, stream_part, &s);
	if (rc != 0 && !l->failed)
		fail_write(l, s.path ? s.path : l->o.dir, rc == -2 ? "out of memory" : "the answer could not be read again");
	stream_drop(&s);
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
	if (it->parts && r->n_images > 0 && (r->task == HP_TASK_SEGMENT || r->task == HP_TASK_POSE)) {
		labels_by_part(l, it);
		return;
	}
	bool per_frame = r->n_images > 1 || hp_is_video_name(it->file);
	static const struct hp_image none = { 0 };
	size_t n_files = per_frame ? r->n_images : 1;
	for (size_t f = 0; f < n_files; f++) {
		const struct hp_image *im = r->n_images ? &r->images[f] : &none;
		size_t len = 0;
		const char *why = NULL;
		char *text = hp_labels_format(r, im, &l->o, &len, &why);
		char *path = label_path(l, it, per_frame, f);
		if (!path || note_path(l, path, it->file) < 0) {
			free(text);
			free(path);
			fail_write(l, l->o.dir, "out of memory");
			return;
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
	if (!l)
		return;
	for (size_t i = 0; i < l->cap_seen; i++) {
		free(l->seen[i].path);
		free(l->seen[i].input);
	}
	free(l->seen);
	free(l);
}
