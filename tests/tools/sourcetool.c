/* sourcetool.c - a driver of the engine over produced bytes (source.h), for
 * tests/e2e/test_batch.py: each FILE's bytes become an input that is not a
 * path, as a video's frames will, named "stream#N.EXT" with frame N at N s.
 *
 *   sourcetool URL KEY [--cache DIR] [--resume LOG] FILE...
 *
 * The answers are written as jsonl envelopes on stdout; stderr says
 * "requests R, cached C, skipped S". Exit: the run's exit status. */
#define _GNU_SOURCE /* memfd_create */
#include "hubpredict/batch.h"
#include "hubpredict/cache.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/request.h"
#include "hubpredict/resume.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct frames {
	char **files;
	int n, next;
};

/* The next file's bytes copied into a memfd: produced bytes, not a path. */
static int next_frame(void *state, struct hp_input *in)
{
	struct frames *f = state;
	if (f->next >= f->n)
		return 0;
	const char *file = f->files[f->next];
	const char *dot = strrchr(file, '.');
	char name[64];
	snprintf(name, sizeof name, "stream#%06d%s", f->next, dot ? dot : "");
	in->path = strdup(name);
	in->frame = f->next;
	in->time.tv_sec = f->next;
	f->next++;
	int src = open(file, O_RDONLY), fd = memfd_create("frame", MFD_CLOEXEC);
	char buf[65536];
	ssize_t got;
	long long size = 0;
	while (src >= 0 && fd >= 0 && (got = read(src, buf, sizeof buf)) > 0)
		size += write(fd, buf, (size_t)got);
	if (src >= 0)
		close(src);
	in->produced = true;
	in->fd = fd;
	in->size = size;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *cache_dir = NULL, *resume_log = NULL;
	int first = 3;
	for (; first + 1 < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
		if (strcmp(argv[first], "--cache") == 0)
			cache_dir = argv[first + 1];
		else if (strcmp(argv[first], "--resume") == 0)
			resume_log = argv[first + 1];
	}
	struct frames frames = { argv + first, argc - first, 0 };
	char err[640], key[HP_RESUME_KEY_LEN];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct hp_endpoint ep = { .flavour = HP_FLAVOUR_HUB, .url = argv[1], .iou = 0.45, .dedicated = true };
	struct hp_form form = { .imgsz = 640, .conf = 0.25, .iou = 0.45, .decimals = -1 };
	struct hp_transport t = { .connect_timeout = 10, .stall_seconds = 60 };
	struct hp_request_ctx req;
	struct hp_output out;
	struct hp_cache *cache = NULL;
	struct hp_resume *resume = NULL;
	if (hp_request_ctx_init(&req, &form, &t, &ep, argv[2]) < 0 || hp_output_open(&out, NULL, err, sizeof err) < 0 ||
	    hp_resume_request_key(&req, key) < 0)
		return 2;
	if (cache_dir && hp_cache_new(&cache, cache_dir, 3600, err, sizeof err) != 0)
		return 2;
	if (resume_log && hp_resume_new(&resume, resume_log, key, false, err, sizeof err) != 0)
		return 2;
	struct hp_render_opts ro = { .format = HP_FORMAT_JSONL, .several = true, .request = key };
	struct hp_renderer *r = NULL;
	if (hp_renderer_new(&r, &ro, &out) != 0)
		return 2;
	struct hp_observer obs = { .item = hp_resume_item, .state = resume };
	struct hp_batch_config cfg = {
		.req = &req, .source = { next_frame, &frames }, .renderer = r, .out = &out, .jobs = 2,
		.retries = 0, .retry_max_time = 60, .several = true, .cache = cache, .resume = resume,
		.observers = resume ? &obs : NULL, .n_observers = resume ? 1 : 0,
	};
	struct hp_batch_stats st;
	hp_renderer_begin(r);
	int rc = hp_batch_run(&cfg, &st);
	hp_renderer_end(r);
	hp_output_commit(&out, err, sizeof err);
	fprintf(stderr, "requests %zu, cached %zu, skipped %zu\n", st.requests, st.cached, st.skipped);
	hp_renderer_free(r);
	hp_resume_free(resume);
	hp_cache_free(cache);
	hp_request_ctx_clear(&req);
	curl_global_cleanup();
	return rc;
}
