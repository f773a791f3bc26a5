/* batch_body.c - response headers kept for the retry policy, and the
 * limits on what of a body is kept (by status). */
#define _DEFAULT_SOURCE
#include "batch_impl.h"
#include "hubpredict/annotate.h"
#include "hubpredict/clock.h"
#include "hubpredict/baseline.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/expect.h"
#include "hubpredict/inputs.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/progress.h"
#include "hubpredict/render.h"
#include "hubpredict/response.h"
#include "hubpredict/retry.h"
#include "hubpredict/signals.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Copy a header's value (trimmed) when the line is "name: value". */
static void header_value(const char *line, size_t len, const char *name, char *dst, size_t dstlen)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t n = (size_t)(end - v) < dstlen - 1 ? (size_t)(end - v) : dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

size_t batch_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a redirect) */
		j->body_configured = false;
		j->retry_after[0] = j->ratelimit_reset[0] = j->request_id[0] = '\0';
		/* the answer's first byte, not a 100 Continue's (libcurl's STARTTRANSFER) */
		bool interim = len >= 12 && p[8] == ' ' && p[9] == '1';
		/* without one, libcurl's own STARTTRANSFER is the answer's, on the
		 * clock of its other timings: this one counts from the attempt's
		 * start, before libcurl starts its clock */
		j->answer_ms = interim || !j->interim ? 0 : hp_clock_ms();
		j->interim = j->interim || interim;
	}
	header_value(p, len, "Retry-After", j->retry_after, sizeof j->retry_after);
	header_value(p, len, "x-request-id", j->request_id, sizeof j->request_id);
	header_value(p, len, "X-RateLimit-Reset", j->ratelimit_reset, sizeof j->ratelimit_reset);
	return len;
}

void batch_body_init_answer(const struct batch *b, struct job *j)
{
	unsigned long long max = b->cfg->max_answer;
	size_t cap = max > SIZE_MAX ? SIZE_MAX : (size_t)max;
	if (j->raw)
		hp_body_init(&j->body, RAW_MEM_KEEP, cap, true);
	else
		hp_body_init_whole(&j->body, HP_BODY_MEM, cap);
}

void batch_limit_text(unsigned long long limit, char *dst, size_t dstlen)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (u < 4 && limit >= 1024 && limit % 1024 == 0) {
		limit /= 1024;
		u++;
	}
	snprintf(dst, dstlen, "%llu %s", limit, unit[u]);
}

size_t batch_on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;
	/* The limits depend on the status: a success is kept whole up to
	 * --max-answer (raw: spilled to a file beyond 1 MiB; parsed: wholly to a
	 * file beyond 8 MiB, then mapped), an error only its first 64 KiB, for
	 * its message. */
	if (!j->body_configured) {
		long status = 0;
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
		hp_body_free(&j->body);
		if (status < 200 || status >= 300)
			hp_body_init(&j->body, ERROR_BODY_KEEP, 0, false);
		else
			batch_body_init_answer(j->batch, j);
		j->body_configured = true;
		/* A declared length over the limit is refused before any of it is read. */
		curl_off_t cl = -1;
		curl_easy_getinfo(j->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (j->body.max_total && cl > 0 && (unsigned long long)cl > (unsigned long long)j->body.max_total) {
			j->body.too_big = true;
			return 0;
		}
	}
	if (hp_body_append(&j->body, p, len) < 0)
		return 0; /* aborts the transfer: too big, or the spill file failed */
	return len;
}
