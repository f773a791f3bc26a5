#define _POSIX_C_SOURCE 200809L
/* Unit tests of bench's parts that need no server: the phases from
 * libcurl's timings, the open loop's schedule, the --expect gates and the
 * report (src/bench/). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "testlib.h"
#include "hubpredict/benchstats.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/gate.h"
#include "hubpredict/histogram.h"
#include "hubpredict/pacer.h"
#include "hubpredict/phases.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_phases(void)
{
	/* TLS connection, 2 ms upload, server 30 ms of a 35 ms gap, 1 ms download,
	 * started 4 ms late */
	struct hp_timings t = { .connect_s = 0.001, .appconnect_s = 0.003, .pretransfer_s = 0.0031,
	                        .upload_done_s = 0.0051, .starttransfer_s = 0.0401, .total_s = 0.0411,
	                        .scheduled_ms = 1000, .started_ms = 1004 };
	struct hp_phases p = hp_phases_of(&t, 30);
	CHECK(NEAR(p.connect_ms, 3.1) && NEAR(p.upload_ms, 2.0) && NEAR(p.server_ms, 30.0));
	CHECK(NEAR(p.wait_ms, 5.0) && NEAR(p.download_ms, 1.0));
	CHECK(NEAR(p.behind_ms, 4.0) && NEAR(p.latency_ms, 45.1));
	CHECK(NEAR(p.connect_ms + p.upload_ms + p.server_ms + p.wait_ms + p.download_ms, 41.1));
	/* upload unknown: counted in wait; a reused connection */
	t = (struct hp_timings){ .pretransfer_s = 0.00005, .upload_done_s = -1, .starttransfer_s = 0.02005,
	                         .total_s = 0.0201, .scheduled_ms = 10, .started_ms = 10 };
	p = hp_phases_of(&t, 15);
	CHECK(NEAR(p.connect_ms, 0.05) && NEAR(p.upload_ms, 0) && NEAR(p.wait_ms, 5.0));
	CHECK(NEAR(p.download_ms, 0.05) && NEAR(p.behind_ms, 0) && NEAR(p.latency_ms, 20.1));
	/* a server that reports more than the gap: wait 0, not negative; an
	 * upload that ends after the answer began is clamped; started early */
	t = (struct hp_timings){ .pretransfer_s = 0.0001, .upload_done_s = 0.009, .starttransfer_s = 0.0051,
	                         .total_s = 0.0052, .scheduled_ms = 10, .started_ms = 9 };
	p = hp_phases_of(&t, 80);
	CHECK(NEAR(p.upload_ms, 5.0) && NEAR(p.wait_ms, 0) && NEAR(p.server_ms, 80));
	CHECK(NEAR(p.behind_ms, 0) && NEAR(p.latency_ms, 5.2));
	/* the client lost the CPU after sending, before libcurl noted its
	 * pre-transfer time (seen in CI under load): the server's 16.146 ms
	 * fit in 18.001 only if the request was out by 1.855; the five add up */
	t = (struct hp_timings){ .pretransfer_s = 0.006256, .upload_done_s = 0.006256, .starttransfer_s = 0.018001,
	                         .total_s = 0.018037 };
	p = hp_phases_of(&t, 16.146);
	CHECK(NEAR(p.connect_ms, 1.855) && NEAR(p.upload_ms, 0) && NEAR(p.server_ms, 16.146) && NEAR(p.wait_ms, 0));
	CHECK(NEAR(p.download_ms, 0.036) && NEAR(p.latency_ms, 18.037));
	CHECK(NEAR(p.connect_ms + p.upload_ms + p.server_ms + p.wait_ms + p.download_ms, 18.037));
	/* an upload noted late: it gives way first, the connection only past it */
	t = (struct hp_timings){ .pretransfer_s = 0.001, .upload_done_s = 0.008, .starttransfer_s = 0.020,
	                         .total_s = 0.021 };
	p = hp_phases_of(&t, 15);
	CHECK(NEAR(p.connect_ms, 1.0) && NEAR(p.upload_ms, 4.0) && NEAR(p.wait_ms, 0) && NEAR(p.download_ms, 1.0));
	/* no byte came (STARTTRANSFER 0), no answer; out-of-order timings;
	 * unknown ones (-1, HP_TIMINGS_NONE) as 0 */
	t = (struct hp_timings){ .connect_s = 0.007, .appconnect_s = -1, .pretransfer_s = 0.002,
	                         .starttransfer_s = 0, .total_s = 0.009, .upload_done_s = -1 };
	p = hp_phases_of(&t, -1);
	CHECK(NEAR(p.connect_ms, 7.0) && NEAR(p.server_ms, 0) && NEAR(p.download_ms, 0));
	CHECK(NEAR(p.wait_ms, 2.0) && NEAR(p.latency_ms, 9.0));
	/* a 100 Continue: STARTTRANSFER is its byte, the answer came 30 ms later */
	t = (struct hp_timings){ .pretransfer_s = 0.001, .starttransfer_s = 0.002, .upload_done_s = 0.003,
	                         .answer_s = 0.033, .total_s = 0.034 };
	p = hp_phases_of(&t, 25);
	CHECK(NEAR(p.upload_ms, 2.0) && NEAR(p.server_ms, 25) && NEAR(p.wait_ms, 5.0) && NEAR(p.download_ms, 1.0));
	t = (struct hp_timings)HP_TIMINGS_NONE;
	p = hp_phases_of(&t, -1);
	CHECK(NEAR(p.latency_ms, 0) && NEAR(p.connect_ms, 0) && NEAR(p.wait_ms, 0));
}

/* bench's open loop is the engine's schedule (pacer.h): start i at t0 + i/R
 * whatever happened, a late start keeping its scheduled time. */
static void test_pacer(void)
{
	struct hp_pacer p;
	hp_pacer_init(&p, HP_PACE_SCHEDULE, 0.05, 1000);
	CHECK(hp_pacer_active(&p) && NEAR(hp_pacer_due(&p), 1000));
	CHECK(NEAR(hp_pacer_start(&p, 1000.5), 1000) && NEAR(hp_pacer_due(&p), 1050));
	/* the client stalls to 1160: each late start keeps its own time */
	CHECK(NEAR(hp_pacer_start(&p, 1160), 1050));
	CHECK(NEAR(hp_pacer_start(&p, 1160), 1100));
	CHECK(NEAR(hp_pacer_start(&p, 1160), 1150));
	CHECK(NEAR(hp_pacer_due(&p), 1200));
	/* a rate that is not a whole number of ms per request does not drift */
	hp_pacer_init(&p, HP_PACE_SCHEDULE, 1.0 / 3, 0.25);
	for (int i = 0; i < 100000; i++)
		hp_pacer_start(&p, 0);
	CHECK(fabs(hp_pacer_due(&p) - (0.25 + 100000 * 1000.0 / 3)) < 1e-3);
	hp_pacer_init(&p, HP_PACE_SCHEDULE, 0, 0);
	CHECK(!hp_pacer_active(&p));
}

/* A stats object with latencies 0.01..1 ms (ok; exact in the histogram),
 * 5 errors of 4 kinds, 10.5 s. */
static struct hp_bench_stats *sample_stats(bool open)
{
	struct hp_bench_stats *s = NULL;
	CHECK(hp_bench_stats_new(&s, "cam-eu", open, 10) == 0);
	for (int i = 1; i <= 100; i++) {
		struct hp_phases p = { .connect_ms = 1, .upload_ms = 2, .server_ms = i * 0.5, .wait_ms = 3,
		                       .download_ms = 0.5, .behind_ms = i == 100 ? 7 : 0.25, .latency_ms = i / 100.0 };
		hp_bench_stats_ok(s, &p);
	}
	struct hp_phases late = { .behind_ms = 0.25 };
	CHECK(hp_bench_stats_error(s, HP_EXIT_SERVER, 503, &late) == 0);
	CHECK(hp_bench_stats_error(s, HP_EXIT_NETWORK, 0, NULL) == 0);
	CHECK(hp_bench_stats_error(s, HP_EXIT_SERVER, 503, &late) == 0);
	CHECK(hp_bench_stats_error(s, HP_EXIT_SERVER, 500, &late) == 0);
	CHECK(hp_bench_stats_error(s, HP_EXIT_RATE_LIMITED, 429, &late) == 0);
	s->duration_s = 10.5;
	s->first_ms = 812.25;
	return s;
}

static void test_stats_and_json(void)
{
	struct hp_bench_stats *s = sample_stats(true);
	CHECK(s->requests == 105 && s->ok == 100);
	CHECK(NEAR(hp_bench_error_rate(s), 5.0 / 105) && NEAR(hp_bench_rate(s), 10.0));
	CHECK(NEAR(hp_bench_phase_mean(s, HP_PHASE_SERVER), 25.25));
	CHECK(NEAR(hp_bench_phase_mean(s, 99), 0));
	struct hp_output o = mem_out();
	hp_bench_write_json(&o, &s, 1);
	const char *text = mem_done(&o);
	const char *head = "{\"requests\":105,\"ok\":100,\"errors\":{\"6:429\":1,\"8:500\":1,\"8:503\":2,"
	                   "\"9:null\":1},\"duration_s\":10.5,\"rate\":10,\"mode\":\"open\",\"first_ms\":812.25,"
	                   "\"latency_ms\":{\"min\":0.01,\"mean\":0.505,\"p50\":0.5,\"p90\":0.9,\"p95\":0.95,"
	                   "\"p99\":0.99,\"p99_9\":1,\"max\":1},"
	                   "\"phases_ms\":{\"connect\":1,\"upload\":2,\"server\":25.25,\"wait\":3,"
	                   "\"download\":0.5},\"behind_ms\":0.25,\"histogram\":[";
	CHECK(strncmp(text, head, strlen(head)) == 0);
	char want[4096] = "";
	for (int i = 1; i <= 100; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s[%g,1]", i > 1 ? "," : "", i / 100.0);
	strcat(want, "]}\n");
	CHECK_STR(strlen(text) > strlen(head) ? text + strlen(head) : "", want);
	/* nothing succeeded, closed loop, no first request: nulls, not zeros */
	struct hp_bench_stats *e = NULL;
	CHECK(hp_bench_stats_new(&e, "us \"east\"", false, 0) == 0);
	CHECK(hp_bench_stats_error(e, HP_EXIT_NETWORK, 0, NULL) == 0);
	e->duration_s = 0.5;
	o = mem_out();
	hp_bench_write_json(&o, &e, 1);
	text = mem_done(&o);
	CHECK_STR(text, "{\"requests\":1,\"ok\":0,\"errors\":{\"9:null\":1},\"duration_s\":0.5,\"rate\":2,"
	                "\"mode\":\"closed\",\"first_ms\":null,\"latency_ms\":{\"min\":null,\"mean\":null,"
	                "\"p50\":null,\"p90\":null,\"p95\":null,\"p99\":null,\"p99_9\":null,\"max\":null},"
	                "\"phases_ms\":{\"connect\":null,\"upload\":null,\"server\":null,\"wait\":null,"
	                "\"download\":null},\"behind_ms\":null,\"histogram\":[]}\n");
	/* several endpoints: an array, each named first */
	struct hp_bench_stats *both[2] = { s, e };
	o = mem_out();
	hp_bench_write_json(&o, both, 2);
	text = mem_done(&o);
	CHECK(!strncmp(text, "[{\"endpoint\":\"cam-eu\",\"requests\":105,", 36));
	CHECK_CONTAINS(text, "]},{\"endpoint\":\"us \\\"east\\\"\",\"requests\":1,");
	CHECK(strlen(text) > 5 && !strcmp(text + strlen(text) - 5, "[]}]\n"));
	/* the table: a column each, every error key a row */
	o = mem_out();
	hp_bench_write_table(&o, both, 2);
	text = mem_done(&o);
	CHECK_CONTAINS(text, "                        cam-eu     us \"east\"\n");
	CHECK_CONTAINS(text, "requests                   105             1\n");
	CHECK_CONTAINS(text, "errors                       5             1\n");
	CHECK_CONTAINS(text, "  8:503                      2             0\n");
	CHECK_CONTAINS(text, "  9:null                     1             1\n");
	CHECK_CONTAINS(text, "mode                 open 10/s        closed\n");
	CHECK_CONTAINS(text, "latency p99.9             1 ms             -\n");
	CHECK_CONTAINS(text, "phase server          25.25 ms             -\n");
	CHECK_CONTAINS(text, "first (cold)         812.25 ms             -\n");
	CHECK_CONTAINS(text, "behind p99             0.25 ms             -\n");
	CHECK_CONTAINS(text, "error rate              4.76 %         100 %\n");
	hp_bench_stats_free(s);
	hp_bench_stats_free(e);
	hp_bench_stats_free(NULL);
}

static void test_gate_parse(void)
{
	struct hp_gate g;
	char err[512];
	static const struct {
		const char *expr;
		int metric_ok;
		double value;
	} good[] = {
		{ "p95<200ms", 1, 200 }, { "p99 <= 1.5s", 1, 1500 }, { " mean>0.5 ms ", 1, 0.5 },
		{ "p99_9<2s", 1, 2000 }, { "p99.9<2s", 1, 2000 }, { "max<1s", 1, 1000 }, { "min>=0ms", 1, 0 },
		{ "p50<10ms", 1, 10 }, { "p90<10ms", 1, 10 }, { "error_rate<1%", 1, 0.01 },
		{ "error_rate<=100%", 1, 1 }, { "rate>=18/s", 1, 18 }, { "rate > 0.5/s", 1, 0.5 },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		err[0] = '\0';
		int rc = hp_gate_parse(&g, good[i].expr, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", good[i].expr, err);
		CHECK(rc == 0 && NEAR(g.value, good[i].value));
	}
	static const struct {
		const char *expr, *message;
	} bad[] = {
		{ "p95<200xs", "--expect 'p95<200xs': unknown unit 'xs' (ms or s for p95)" },
		{ "p95<200", "--expect 'p95<200': the value needs a unit (ms or s)" },
		{ "p95<200%", "--expect 'p95<200%': unknown unit '%' (ms or s for p95)" },
		{ "error_rate<1ms", "--expect 'error_rate<1ms': unknown unit 'ms' (% for error_rate)" },
		{ "error_rate<1", "--expect 'error_rate<1': the value needs a unit (%)" },
		{ "error_rate<150%", "--expect 'error_rate<150%': an error rate is at most 100%" },
		{ "rate>=18", "--expect 'rate>=18': the value needs a unit (/s)" },
		{ "rate>=18/m", "--expect 'rate>=18/m': unknown unit '/m' (/s for rate)" },
		{ "p95=200ms", "--expect 'p95=200ms': no comparison (<, <=, >, >=) after 'p95'" },
		{ "p95==200ms", "--expect 'p95==200ms': no comparison (<, <=, >, >=) after 'p95'" },
		{ "p95!200ms", "--expect 'p95!200ms': no comparison (<, <=, >, >=) after 'p95'" },
		{ "p95", "--expect 'p95': no comparison (<, <=, >, >=) after 'p95'" },
		{ "p96<200ms", "--expect 'p96<200ms': unknown metric 'p96' (min, mean, p50, p90, p95, p99, "
		               "p99_9, max, error_rate, rate)" },
		{ "person>=2", "--expect 'person>=2': unknown metric 'person' (min, mean, p50, p90, p95, p99, "
		               "p99_9, max, error_rate, rate)" },
		{ "", "--expect '': expected METRIC OP VALUE, as 'p95<200ms' (metrics: min, mean, p50, p90, "
		      "p95, p99, p99_9, max, error_rate, rate)" },
		{ "<200ms", "--expect '<200ms': expected METRIC OP VALUE, as 'p95<200ms' (metrics: min, mean, "
		            "p50, p90, p95, p99, p99_9, max, error_rate, rate)" },
		{ "p95<", "--expect 'p95<': no number after '<'" },
		{ "p95<ms", "--expect 'p95<ms': no number after '<'" },
		{ "p95<-1ms", "--expect 'p95<-1ms': the value must be a number >= 0" },
		{ "p95<infms", "--expect 'p95<infms': no number after '<'" },
		{ "p95<1e999ms", "--expect 'p95<1e999ms': the value must be a number >= 0" },
		{ "p95<200ms extra", "--expect 'p95<200ms extra': unknown unit 'ms extra' (ms or s for p95)" },
		{ "p95<200ms\x1b[2J", "--expect 'p95<200ms\\e[2J': unknown unit 'ms\\e[2J' (ms or s for p95)" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECK(hp_gate_parse(&g, bad[i].expr, err, sizeof err) == HP_EXIT_USAGE);
		CHECK_STR(err, bad[i].message);
		CHECK(strchr(err, '\n') == NULL);
	}
}

static void test_gate_check(void)
{
	struct hp_bench_stats *s = sample_stats(false);
	struct hp_gate g;
	char err[256], msg[256];
	static const struct {
		const char *expr;
		bool met;
	} cases[] = {
		{ "p95<200ms", true }, { "p95<0.95ms", false }, { "p95<=0.95ms", true }, { "p99_9<=0.001s", true },
		{ "p99_9<0.001s", false }, { "mean<0.505ms", false }, { "mean<=0.505ms", true }, { "max>=1ms", true },
		{ "min>0.01ms", false }, { "error_rate<5%", true }, { "error_rate<4%", false },
		{ "rate>=10/s", true }, { "rate>10/s", false }, { "p50>0.499ms", true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(hp_gate_parse(&g, cases[i].expr, err, sizeof err) == 0);
		msg[0] = '\0';
		bool met = hp_gate_check(&g, s, msg, sizeof msg);
		if (met != cases[i].met)
			fprintf(stderr, "%s: %s\n", cases[i].expr, msg);
		CHECK(met == cases[i].met);
	}
	CHECK(hp_gate_parse(&g, "p95<0.95ms", err, sizeof err) == 0);
	CHECK(!hp_gate_check(&g, s, msg, sizeof msg));
	CHECK_STR(msg, "--expect 'p95<0.95ms' unmet: p95 was 0.95ms");
	CHECK(hp_gate_parse(&g, "error_rate<1%", err, sizeof err) == 0);
	CHECK(!hp_gate_check(&g, s, msg, sizeof msg));
	CHECK_STR(msg, "--expect 'error_rate<1%' unmet: error_rate was 4.762%");
	CHECK(hp_gate_parse(&g, "rate>=18/s", err, sizeof err) == 0);
	CHECK(!hp_gate_check(&g, s, msg, sizeof msg));
	CHECK_STR(msg, "--expect 'rate>=18/s' unmet: rate was 10/s");
	hp_bench_stats_free(s);
	/* nothing succeeded: a latency gate is unmet, even one every value meets */
	CHECK(hp_bench_stats_new(&s, "x", false, 0) == 0);
	CHECK(hp_gate_parse(&g, "p95>=0ms", err, sizeof err) == 0);
	CHECK(!hp_gate_check(&g, s, msg, sizeof msg));
	CHECK_STR(msg, "--expect 'p95>=0ms' unmet: no p95 (no request succeeded)");
	CHECK(hp_gate_parse(&g, "error_rate<=100%", err, sizeof err) == 0);
	CHECK(!hp_gate_check(&g, s, NULL, 0));
	hp_bench_stats_free(s);
}

int main(void)
{
	test_phases();
	test_pacer();
	test_stats_and_json();
	test_gate_parse();
	test_gate_check();
	return check_report("test_bench");
}
