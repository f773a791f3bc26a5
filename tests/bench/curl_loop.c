/* tests/bench/curl_loop.c - libcurl alone, as a floor for bench_wrk.sh: one easy handle
 * reused, POSTing a prebuilt body (CURLOPT_POSTFIELDS, as hubpredict bench sends its forms)
 * in a closed loop over one connection for SECONDS, each request timed by libcurl
 * (CURLINFO_TOTAL_TIME_T, and PRETRANSFER_TIME_T: its own work before sending). Prints one
 * JSON object: rate, p50, p99 and pretransfer_p50 in ms.
 *
 *   curl_loop URL BODY_FILE CONTENT_TYPE KEY SECONDS
 *
 * Built by bench_wrk.sh with the system's cc (not part of the project's build). */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int cmp(const void *a, const void *b)
{
	curl_off_t x = *(const curl_off_t *)a, y = *(const curl_off_t *)b;
	return (x > y) - (x < y);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rank_ms(curl_off_t *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n + 0.999999);
	return (double)v[(i ? i : 1) - 1] / 1000.0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fputs("usage: curl_loop URL BODY_FILE CONTENT_TYPE KEY SECONDS\n", stderr);
		return 2;
	}
	FILE *f = fopen(argv[2], "rb");
	static char body[1 << 20];
	size_t len = f ? fread(body, 1, sizeof body, f) : 0;
	if (f)
		fclose(f);
	if (!len) {
		fprintf(stderr, "curl_loop: cannot read %s\n", argv[2]);
		return 2;
	}
	char ctype[512], key[512];
	snprintf(ctype, sizeof ctype, "Content-Type: %s", argv[3]);
	snprintf(key, sizeof key, "x-api-key: %s", argv[4]);
	struct curl_slist *h = curl_slist_append(curl_slist_append(NULL, key), ctype);
	double secs = atof(argv[5]);
	size_t cap = 1 << 22, n = 0;
	curl_off_t *total = malloc(cap * sizeof *total), *pre = malloc(cap * sizeof *pre);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURLM *multi = curl_multi_init();
	CURL *easy = curl_easy_init();
	if (!total || !pre || !multi || !easy || !h)
		return 1;
	double t0 = now_s(), end = t0 + secs;
	while (n < cap && now_s() < end) {
		curl_easy_setopt(easy, CURLOPT_URL, argv[1]);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sink);
		curl_multi_add_handle(multi, easy);
		int running = 1;
		while (running) {
			curl_multi_perform(multi, &running);
			if (running)
				curl_multi_poll(multi, NULL, 0, 1000, NULL);
		}
		CURLMsg *m;
		int left;
		CURLcode rc = CURLE_OK;
		while ((m = curl_multi_info_read(multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				rc = m->data.result;
		curl_multi_remove_handle(multi, easy);
		if (rc != CURLE_OK) {
			fprintf(stderr, "curl_loop: %s\n", curl_easy_strerror(rc));
			return 1;
		}
		curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total[n]);
		curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre[n]);
		n++;
	}
	double took = now_s() - t0;
	qsort(total, n, sizeof *total, cmp);
	qsort(pre, n, sizeof *pre, cmp);
	printf("{\"requests\": %zu, \"rate\": %.1f, \"p50\": %.3f, \"p99\": %.3f, \"pretransfer_p50\": %.3f}\n", n,
	       (double)n / took, rank_ms(total, n, 50), rank_ms(total, n, 99), rank_ms(pre, n, 50));
	curl_easy_cleanup(easy);
	curl_multi_cleanup(multi);
	curl_slist_free_all(h);
	free(total);
	free(pre);
	curl_global_cleanup();
	return 0;
}
