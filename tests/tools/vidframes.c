/* vidframes.c - the video module's frame source on its own, for the video
 * tests (tests/e2e/test_video_frames.py):
 *
 *   vidframes [--stride N | --fps X] [--imgsz N] [--mem] [--decode-all] [--out DIR] [--annotate MP4] FILE
 *
 * prints one JSON line of what the file declares
 *   {"info": {"w", "h", "rotation", "fps", "duration", "frames", "codec", "container"}}
 * then one per frame handed out
 *   {"frame": N, "time": S, "w": W, "h": H, "src_w", "src_h", "bytes", "sha256": HEX}
 * (with --out, the JPEG is written to DIR/N.jpg), the frames counted and of
 * those the ones the decoder skipped (--decode-all: none)
 *   {"decoded": D, "skipped": S}
 * and last
 *   {"end": true}  or  {"error": "...", "status": CODE}
 * or, for a live source (include/hubpredict/live.h),
 *
 *   vidframes --live [--fps X] [--frames N] [--duration S] [--timeout S]
 *             [--reconnects N] [--backoff S] [--sleep S] [--out DIR] URL
 *
 * the same info line, one line per frame taken, with the running counts
 *   {"frame": N, "time": S, ..., "received": R, "skipped": K, "reconnects": C}
 * (--sleep: the consumer waits S seconds after each frame, as slow requests
 * would) and last {"end": true, "taken", "received", "skipped",
 * "reconnects"} or the error (its status the source's exit status). --backoff
 * S waits S*n seconds before reconnection attempt n.
 * --mem reads the whole file first and opens it from memory (the fuzz
 * target's path). --annotate writes the frames handed out, each with a red
 * 16x16 square drawn at its bottom right, into an H.264 MP4 at the source's
 * size and rate (the video writer), each shown until the next one's time
 * and the last until the end. Exit 0, 3 for a bad input (open or a frame),
 * 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/live.h"
#include "hubpredict/sha256.h"
#include "hubpredict/video.h"

#include <fcntl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char *slurp(int fd, size_t *n)
{
	size_t cap = 1 << 16;
	unsigned char *b = malloc(cap);
	ssize_t got;
	*n = 0;
	while (b && (got = read(fd, b + *n, cap - *n)) > 0) {
		*n += (size_t)got;
		if (*n == cap) {
			unsigned char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	return b;
}

static void print_info(const struct hp_video_info *in)
{
	printf("{\"info\": {\"w\": %d, \"h\": %d, \"rotation\": %d, \"fps\": %.6f, \"duration\": %.6f, "
	       "\"frames\": %lld, \"codec\": \"%s\", \"container\": \"%s\"}}\n",
	       in->w, in->h, in->rotation, in->fps, in->duration, in->frames, in->codec, in->container);
}

static int write_jpeg(const char *dir, const struct hp_video_frame *f)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%lld.jpg", dir, f->number);
	FILE *o = fopen(path, "wb");
	if (!o || fwrite(f->jpeg, 1, f->jpeg_len, o) != f->jpeg_len) {
		if (o)
			fclose(o);
		return -1;
	}
	return fclose(o);
}

static void draw_square(struct hp_pixmap *p)
{
	for (int y = p->h > 16 ? p->h - 16 : 0; y < p->h; y++)
		for (int x = p->w > 16 ? p->w - 16 : 0; x < p->w; x++)
			memcpy(p->rgb + ((size_t)y * (size_t)p->w + (size_t)x) * 3, "\xff\x00\x00", 3);
}

static int frames(struct hp_video *v, const char *out, struct hp_video_writer *wr)
{
	struct hp_video_frame f;
	char err[256], hex[2 * HP_SHA256_LEN + 1];
	unsigned char d[HP_SHA256_LEN];
	int r;
	while ((r = hp_video_next(v, &f, err, sizeof err)) == 1) {
		hp_sha256(f.jpeg, f.jpeg_len, d);
		hp_sha256_hex(d, hex);
		printf("{\"frame\": %lld, \"time\": %.6f, \"w\": %d, \"h\": %d, \"src_w\": %d, \"src_h\": %d, "
		       "\"bytes\": %zu, \"sha256\": \"%s\"}\n",
		       f.number, f.time, f.w, f.h, f.src_w, f.src_h, f.jpeg_len, hex);
		int w = out ? write_jpeg(out, &f) : 0;
		if (w < 0)
			perror(out);
		if (wr) {
			draw_square(&f.rgb);
			w = hp_video_writer_put(wr, &f.rgb, f.time, err, sizeof err);
		}
		hp_video_frame_clear(&f);
		if (w < 0) {
			printf("{\"error\": \"%s\", \"status\": 1}\n", err);
			return 1;
		}
	}
	if (r == 0 && wr && hp_video_writer_close(wr, hp_video_end(v), err, sizeof err) < 0) {
		printf("{\"error\": \"%s\", \"status\": 11}\n", err);
		return 11;
	}
	printf("{\"decoded\": %lld, \"skipped\": %lld}\n", hp_video_decoded(v), hp_video_skipped(v));
	if (r == 0) {
		printf("{\"end\": true}\n");
		return 0;
	}
	printf("{\"error\": \"%s\", \"status\": %d}\n", err, r == -1 ? 3 : 1);
	return r == -1 ? 3 : 1;
}

static double backoff_step;

static double backoff(int n)
{
	return backoff_step * n;
}

static void print_frame(const struct hp_video_frame *f)
{
	char hex[2 * HP_SHA256_LEN + 1];
	unsigned char d[HP_SHA256_LEN];
	hp_sha256(f->jpeg, f->jpeg_len, d);
	hp_sha256_hex(d, hex);
	printf("{\"frame\": %lld, \"time\": %.6f, \"w\": %d, \"h\": %d, \"src_w\": %d, \"src_h\": %d, "
	       "\"bytes\": %zu, \"sha256\": \"%s\"",
	       f->number, f->time, f->w, f->h, f->src_w, f->src_h, f->jpeg_len, hex);
}

static void print_stats(struct hp_live *l)
{
	struct hp_live_stats s;
	hp_live_stats(l, &s);
	printf("\"taken\": %lld, \"received\": %lld, \"skipped\": %lld, \"reconnects\": %d", s.taken, s.received,
	       s.skipped, s.reconnects);
}

static int live_frames(struct hp_live *l, const char *out, double sleep_s)
{
	struct hp_video_frame f;
	char err[256];
	int r;
	while ((r = hp_live_next(l, &f, err, sizeof err)) == 1) {
		print_frame(&f);
		printf(", ");
		print_stats(l);
		printf("}\n");
		fflush(stdout);
		if (out && write_jpeg(out, &f) < 0)
			perror(out);
		hp_video_frame_clear(&f);
		if (sleep_s > 0)
			nanosleep(&(struct timespec){ (time_t)sleep_s, (long)((sleep_s - (double)(time_t)sleep_s) * 1e9) }, NULL);
	}
	if (r == 0) {
		printf("{\"end\": true, ");
		print_stats(l);
		printf("}\n");
		return 0;
	}
	int status = r < 0 ? 1 : r;
	printf("{\"error\": \"%s\", \"status\": %d, ", err, status);
	print_stats(l);
	printf("}\n");
	return status;
}

static int live_main(int argc, char **argv)
{
	struct hp_live_opts o = { .backoff = backoff };
	const char *out = NULL;
	double sleep_s = 0;
	int i;
	for (i = 2; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--fps"))
			o.fps = atof(v);
		else if (!strcmp(a, "--frames"))
			o.frames = atoll(v);
		else if (!strcmp(a, "--duration"))
			o.duration = atof(v);
		else if (!strcmp(a, "--timeout"))
			o.timeout = atof(v);
		else if (!strcmp(a, "--reconnects"))
			o.reconnects = atoi(v);
		else if (!strcmp(a, "--backoff"))
			backoff_step = atof(v);
		else if (!strcmp(a, "--sleep"))
			sleep_s = atof(v);
		else if (!strcmp(a, "--imgsz"))
			o.imgsz = atoi(v);
		else if (!strcmp(a, "--out"))
			out = v;
		else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: vidframes --live [--fps X] [--frames N] [--duration S] [--timeout S] "
		                "[--reconnects N] [--backoff S] [--sleep S] [--imgsz N] [--out DIR] URL\n");
		return 2;
	}
	struct hp_live *l = NULL;
	char err[256];
	int rc = hp_live_open(&l, argv[i], &o, err, sizeof err);
	if (rc) {
		printf("{\"error\": \"%s\", \"status\": %d}\n", err, rc);
		return rc;
	}
	print_info(hp_live_info(l));
	fflush(stdout);
	rc = live_frames(l, out, sleep_s);
	hp_live_free(l);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--live"))
		return live_main(argc, argv);
	struct hp_video_opts o = { 0 };
	const char *out = NULL, *annotate = NULL;
	int mem = 0, i;
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--stride"))
			o.stride = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--fps"))
			o.fps = atof(argv[++i]);
		else if (!strcmp(argv[i], "--imgsz"))
			o.imgsz = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--out"))
			out = argv[++i];
		else if (!strcmp(argv[i], "--annotate")) {
			annotate = argv[++i];
			o.pixels = true;
		} else if (!strcmp(argv[i], "--mem"))
			mem = 1;
		else if (!strcmp(argv[i], "--decode-all"))
			o.decode_all = true;
		else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: vidframes [--stride N | --fps X] [--imgsz N] [--mem] [--decode-all] [--out DIR] [--annotate MP4] FILE\n");
		return 2;
	}
	int fd = open(argv[i], O_RDONLY);
	if (fd < 0) {
		perror(argv[i]);
		return 1;
	}
	struct hp_video *v = NULL;
	unsigned char *data = NULL;
	size_t n = 0;
	char err[256];
	int rc;
	if (mem) {
		data = slurp(fd, &n);
		rc = data ? hp_video_open_mem(&v, data, n, &o, err, sizeof err) : 1;
	} else {
		rc = hp_video_open_fd(&v, fd, &o, err, sizeof err);
	}
	if (rc) {
		printf("{\"error\": \"%s\", \"status\": %d}\n", err, rc);
	} else {
		const struct hp_video_info *in = hp_video_info(v);
		print_info(in);
		struct hp_video_writer *wr = NULL;
		if (annotate && hp_video_writer_open(&wr, annotate, in->w, in->h, in->fps_num, in->fps_den, err,
		                                     sizeof err) < 0) {
			printf("{\"error\": \"%s\", \"status\": 11}\n", err);
			rc = 11;
		} else {
			rc = frames(v, out, wr);
		}
		hp_video_writer_free(wr);
	}
	hp_video_free(v);
	free(data);
	close(fd);
	return rc;
}
