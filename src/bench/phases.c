/* phases.c - libcurl's timings into bench phases (phases.h has the formulas). */
#include "hubpredict/phases.h"

static int64_t at_least(int64_t v, int64_t lo)
{
	return v < lo ? lo : v;
}

struct hp_phases hp_phases_of(const struct hp_timings *t)
{
	struct hp_phases p = { 0 };
	int64_t total = at_least(t->total_us, 0);
	/* each timing is cumulative: keep them in order whatever libcurl said */
	int64_t pre = at_least(t->pretransfer_us, at_least(t->appconnect_us, at_least(t->connect_us, 0)));
	if (pre > total)
		pre = total;
	int64_t first = t->starttransfer_us > 0 ? t->starttransfer_us : total;
	if (first < pre)
		first = pre;
	if (first > total)
		first = total;
	int64_t up = t->upload_done_us < 0 ? pre : t->upload_done_us;
	if (up < pre)
		up = pre;
	if (up > first)
		up = first;
	double gap_ms = (double)(first - up) / 1000.0;
	p.connect_ms = (double)pre / 1000.0;
	p.upload_ms = (double)(up - pre) / 1000.0;
	p.server_ms = t->server_ms > 0 ? t->server_ms : 0.0;
	p.wait_ms = gap_ms > p.server_ms ? gap_ms - p.server_ms : 0.0;
	p.download_ms = (double)(total - first) / 1000.0;
	double behind = t->started_ms - t->scheduled_ms;
	p.behind_ms = behind > 0 ? behind : 0.0;
	p.latency_ms = p.behind_ms + (double)total / 1000.0;
	return p;
}
