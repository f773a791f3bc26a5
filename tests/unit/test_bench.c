#define _POSIX_C_SOURCE 200809L
/* Unit tests of bench's parts that need no server: the phases from
 * libcurl's timings and the open loop's pacer (src/bench/). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "hubpredict/pacer.h"
#include "hubpredict/phases.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_phases(void)
{
	/* TLS connection, 2 ms upload, server 30 ms of a 35 ms gap, 1 ms download,
	 * started 4 ms late */
	struct hp_timings t = { .connect_us = 1000, .appconnect_us = 3000, .pretransfer_us = 3100,
	                        .upload_done_us = 5100, .starttransfer_us = 40100, .total_us = 41100,
	                        .server_ms = 30, .scheduled_ms = 1000, .started_ms = 1004 };
	struct hp_phases p = hp_phases_of(&t);
	CHECK(NEAR(p.connect_ms, 3.1) && NEAR(p.upload_ms, 2.0) && NEAR(p.server_ms, 30.0));
	CHECK(NEAR(p.wait_ms, 5.0) && NEAR(p.download_ms, 1.0));
	CHECK(NEAR(p.behind_ms, 4.0) && NEAR(p.latency_ms, 45.1));
	CHECK(NEAR(p.connect_ms + p.upload_ms + p.server_ms + p.wait_ms + p.download_ms, 41.1));
	/* upload unknown: counted in wait; a reused connection */
	t = (struct hp_timings){ .pretransfer_us = 50, .upload_done_us = -1, .starttransfer_us = 20050,
	                         .total_us = 20100, .server_ms = 15, .scheduled_ms = 10, .started_ms = 10 };
	p = hp_phases_of(&t);
	CHECK(NEAR(p.connect_ms, 0.05) && NEAR(p.upload_ms, 0) && NEAR(p.wait_ms, 5.0));
	CHECK(NEAR(p.download_ms, 0.05) && NEAR(p.behind_ms, 0) && NEAR(p.latency_ms, 20.1));
	/* a server that reports more than the gap: wait 0, not negative; an
	 * upload that ends after the answer began is clamped; started early */
	t = (struct hp_timings){ .pretransfer_us = 100, .upload_done_us = 9000, .starttransfer_us = 5100,
	                         .total_us = 5200, .server_ms = 80, .scheduled_ms = 10, .started_ms = 9 };
	p = hp_phases_of(&t);
	CHECK(NEAR(p.upload_ms, 5.0) && NEAR(p.wait_ms, 0) && NEAR(p.server_ms, 80));
	CHECK(NEAR(p.behind_ms, 0) && NEAR(p.latency_ms, 5.2));
	/* no byte came (STARTTRANSFER 0), no answer; out-of-order timings */
	t = (struct hp_timings){ .connect_us = 7000, .pretransfer_us = 2000, .starttransfer_us = 0,
	                         .total_us = 9000, .server_ms = -1, .upload_done_us = -1 };
	p = hp_phases_of(&t);
	CHECK(NEAR(p.connect_ms, 7.0) && NEAR(p.server_ms, 0) && NEAR(p.download_ms, 0));
	CHECK(NEAR(p.wait_ms, 2.0) && NEAR(p.latency_ms, 9.0));
}

static void test_pacer(void)
{
	struct hp_pacer *p = NULL;
	CHECK(hp_pacer_new(&p, 0, 0, 0) == -1 && p == NULL);
	CHECK(hp_pacer_new(&p, -3, 0, 0) == -1 && p == NULL);
	CHECK(hp_pacer_new(&p, NAN, 0, 0) == -1 && p == NULL);
	/* 20/s from t0 1000: every 50 ms, at most 5 */
	CHECK(hp_pacer_new(&p, 20, 1000, 5) == 0);
	CHECK(hp_pacer_due(p, 999.9) == 0);
	CHECK(hp_pacer_due(p, 1000) == 1);
	CHECK(hp_pacer_due(p, 1049.9) == 1 && hp_pacer_due(p, 1050) == 2);
	CHECK(NEAR(hp_pacer_next_ms(p), 1000));
	CHECK(NEAR(hp_pacer_take(p, 1000.5), 1000) && hp_pacer_taken(p) == 1);
	CHECK(hp_pacer_due(p, 1049) == 0 && NEAR(hp_pacer_behind_now(p, 1049), 0));
	/* the client stalls to 1160: three are due, the oldest 110 ms late */
	CHECK(hp_pacer_due(p, 1160) == 3 && NEAR(hp_pacer_behind_now(p, 1160), 110));
	CHECK(NEAR(hp_pacer_take(p, 1160), 1050));
	CHECK(NEAR(hp_pacer_take(p, 1160), 1100));
	CHECK(NEAR(hp_pacer_take(p, 1160), 1150));
	CHECK(hp_pacer_due(p, 5000) == 1);               /* the limit */
	CHECK(NEAR(hp_pacer_take(p, 1200), 1200));
	CHECK(hp_pacer_due(p, 5000) == 0 && hp_pacer_next_ms(p) < 0 && NEAR(hp_pacer_behind_now(p, 9e9), 0));
	/* lateness: 0.5, 110, 60, 10, 0 ms: p99 (rank 5 of 5) is the max */
	CHECK(fabs(hp_pacer_behind_max(p) - 110) < 0.001 && fabs(hp_pacer_behind_p99(p) - 110) < 0.2);
	hp_pacer_free(p);
	/* a rate that is not a whole number of ms per request: due agrees with
	 * scheduled to the last bit, over a long run */
	CHECK(hp_pacer_new(&p, 3, 0.25, 0) == 0);
	int bad = 0;
	for (uint64_t i = 0; i < 100000; i++) {
		double at = hp_pacer_scheduled(p, i);
		bad += hp_pacer_due(p, at) != i + 1 - hp_pacer_taken(p);
		bad += hp_pacer_due(p, nextafter(at, 0)) != i - hp_pacer_taken(p);
		if (i % 2 == 0)
			hp_pacer_take(p, at);
	}
	CHECK(bad == 0);
	hp_pacer_free(p);
	hp_pacer_free(NULL);
}

int main(void)
{
	test_phases();
	test_pacer();
	return check_report("test_bench");
}
