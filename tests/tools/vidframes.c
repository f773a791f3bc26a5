/* vidframes.c - the video module's frame source on its own, for the video
 * tests (tests/e2e/test_video_frames.py):
 *
 *   vidframes [--stride N | --fps X] [--imgsz N] [--mem] [--out DIR] FILE
 *
 * prints one JSON line of what the file declares
 *   {"info": {"w", "h", "rotation", "fps", "duration", "frames", "codec", "container"}}
 * then one per frame handed out
 *   {"frame": N, "time": S, "w": W, "h": H, "src_w", "src_h", "bytes", "sha256": HEX}
 * (with --out, the JPEG is written to DIR/N.jpg) and last
 *   {"end": true}  or  {"error": "...", "status": CODE}
 * --mem reads the whole file first and opens it from memory (the fuzz
 * target's path). Exit 0, 3 for a bad input (open or a frame), 1 otherwise. */
#include "hubpredict/sha256.h"
#include "hubpredict/video.h"

#include <fcntl.h>
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

static int frames(struct hp_video *v, const char *out)
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
		int wr = out ? write_jpeg(out, &f) : 0;
		hp_video_frame_clear(&f);
		if (wr < 0) {
			perror(out);
			return 1;
		}
	}
	if (r == 0) {
		printf("{\"end\": true}\n");
		return 0;
	}
	printf("{\"error\": \"%s\", \"status\": %d}\n", err, r == -1 ? 3 : 1);
	return r == -1 ? 3 : 1;
}

int main(int argc, char **argv)
{
	struct hp_video_opts o = { 0 };
	const char *out = NULL;
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
		else if (!strcmp(argv[i], "--mem"))
			mem = 1;
		else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: vidframes [--stride N | --fps X] [--imgsz N] [--mem] [--out DIR] FILE\n");
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
		print_info(hp_video_info(v));
		rc = frames(v, out);
	}
	hp_video_free(v);
	free(data);
	close(fd);
	return rc;
}
