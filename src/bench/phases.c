/* phases.c - libcurl's timings into bench phases (phases.h has the formulas). */
#include "hubpredict/phases.h"

#include <stdint.h>

/* Seconds into whole microseconds; unknown (< 0) as 0. */
static int64_t us_of(double s)
{
	return s > 0 ? (int64_t)(s * 1e6 + 0.5) : 0;
}

static int64_t at_least(int64_t v, int64_t lo)
{
	return v < lo ? lo : v;
}

struct hp_phases hp_phases_of(const struct hp_timings *t, double server_ms)
{
	struct hp_phases p = { 0 };
	int64_t total = us_of(t->total_s);
	/* each timing is cumulative: keep them in order whatever libcurl said */
	int64_t pre = at_least(us_of(t->pretransfer_s), at_least(us_of(t->appconnect_s), us_of(t->connect_s)));
	if (pre > total)
		pre = total;
	/* the final answer's first byte: after a 100 Continue, libcurl's
	 * STARTTRANSFER is the interim answer's */
	int64_t first = t->answer_s > 0 ? us_of(t->answer_s) : t->starttransfer_s > 0 ? us_of(t->starttransfer_s) : total;
	if (first < pre)
		first = pre;
	if (first > total)
		first = total;
	int64_t up = t->upload_done_s < 0 ? pre : us_of(t->upload_done_s);
	if (up < pre)
		up = pre;
	if (up > first)
		up = first;
	/* the server's own time is a floor for the time from the upload's end to
	 * the answer: less means a time before it was taken late (the client lost
	 * the CPU between sending and noting it), and the upload (then the
	 * connection) ended that much sooner */
	int64_t server = server_ms > 0 ? (int64_t)(server_ms * 1000.0 + 0.5) : 0;
	if (first - up < server && first >= server) {
		up = first - server > 0 ? first - server : 0;
		if (pre > up)
			pre = up;
	}
	double gap_ms = (double)(first - up) / 1000.0;
	p.connect_ms = (double)pre / 1000.0;
	p.upload_ms = (double)(up - pre) / 1000.0;
	p.server_ms = server_ms > 0 ? server_ms : 0.0;
	p.wait_ms = gap_ms > p.server_ms ? gap_ms - p.server_ms : 0.0;
	p.download_ms = (double)(total - first) / 1000.0;
	double behind = t->started_ms - t->scheduled_ms;
	p.behind_ms = behind > 0 ? behind : 0.0;
	p.latency_ms = p.behind_ms + (double)total / 1000.0;
	return p;
}
