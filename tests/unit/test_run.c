/* test_run.c - the run layer's small parts: the pacer (pacer.h), as --rate's
 * spacing and as an open-loop schedule. */
#include "check.h"
#include "hubpredict/pacer.h"

static void test_none(void)
{
	struct hp_pacer p;
	hp_pacer_init(&p, HP_PACE_SPACING, 0, 1000); /* no --rate */
	CHECK(!hp_pacer_active(&p));
	CHECK_NEAR(hp_pacer_due(&p), 0);
	CHECK_NEAR(hp_pacer_start(&p, 5000), 5000);
	hp_pacer_unsent(&p);
	CHECK_NEAR(hp_pacer_due(&p), 0); /* nothing waits for a send */
}

static void test_spacing(void)
{
	struct hp_pacer p;
	hp_pacer_init(&p, HP_PACE_SPACING, 0.1, 1000);
	CHECK(hp_pacer_active(&p));
	CHECK_NEAR(hp_pacer_due(&p), 0); /* the first start at once */
	CHECK_NEAR(hp_pacer_start(&p, 1000), 1000);
	hp_pacer_unsent(&p);
	CHECK(hp_pacer_due(&p) < 0); /* waits for the send */
	hp_pacer_sent(&p, 1030);     /* the connection took 30 ms: counted from the send */
	CHECK_NEAR(hp_pacer_due(&p), 1130);
	CHECK_NEAR(hp_pacer_start(&p, 1130), 1130);
	hp_pacer_unsent(&p);
	hp_pacer_sent(&p, 1130);
	CHECK_NEAR(hp_pacer_due(&p), 1230);
	hp_pacer_sent(&p, 1100); /* an earlier send never brings the next start forward */
	CHECK_NEAR(hp_pacer_due(&p), 1230);
}

static void test_schedule(void)
{
	struct hp_pacer p;
	hp_pacer_init(&p, HP_PACE_SCHEDULE, 0.05, 1000); /* 20/s from t0 = 1000 */
	CHECK_NEAR(hp_pacer_due(&p), 1000);
	CHECK_NEAR(hp_pacer_start(&p, 1000), 1000);
	hp_pacer_unsent(&p); /* open loop: a send never holds the next start */
	CHECK_NEAR(hp_pacer_due(&p), 1050);
	CHECK_NEAR(hp_pacer_start(&p, 1200), 1050); /* late: keeps its scheduled time */
	CHECK_NEAR(hp_pacer_due(&p), 1100);         /* and the schedule does not slide */
	hp_pacer_sent(&p, 1300);
	CHECK_NEAR(hp_pacer_due(&p), 1100);
	for (int i = 0; i < 18; i++)
		hp_pacer_start(&p, 1300);
	CHECK_NEAR(hp_pacer_due(&p), 2000); /* start 20 at t0 + 20/R */
}

int main(void)
{
	test_none();
	test_spacing();
	test_schedule();
	return check_report("test_run");
}
