/* test_video.c - the frame choice of --vid-stride and --fps (src/video/vselect.c)
 * on timestamps alone; the decoding is tested on real videos by
 * tests/e2e/test_video_frames.py. */
#include "check.h"
#include "vselect.h"

#include <stdbool.h>

/* Feed n frames at times t[], finish at end; the chosen frame numbers, in
 * the order they are handed out, into got (returns how many). */
static int choose(int stride, double fps, const double *t, int n, double end, int *got)
{
	struct hp_vsel s;
	int m = 0;
	hp_vsel_init(&s, stride, fps);
	for (int i = 0; i < n; i++) {
		unsigned r = hp_vsel_feed(&s, i, t[i]);
		if (r & HP_VSEL_PREV)
			got[m++] = i - 1;
		if (r & HP_VSEL_THIS)
			got[m++] = i;
	}
	if (hp_vsel_finish(&s, end))
		got[m++] = n - 1;
	return m;
}

static bool same(const int *got, int m, const int *want, int k)
{
	if (m != k)
		return false;
	for (int i = 0; i < k; i++)
		if (got[i] != want[i])
			return false;
	return true;
}

static void cfr(double *t, int n, double rate)
{
	for (int i = 0; i < n; i++)
		t[i] = i / rate;
}

int main(void)
{
	double t[200];
	int got[200], m;

	cfr(t, 10, 30);
	m = choose(3, 0, t, 10, 10 / 30.0, got);
	CHECK(same(got, m, (int[]){ 0, 3, 6, 9 }, 4));
	m = choose(0, 0, t, 4, 4 / 30.0, got); /* neither: every frame */
	CHECK(same(got, m, (int[]){ 0, 1, 2, 3 }, 4));

	/* 30 fps for 2 s at --fps 2: 0, 0.5, 1, 1.5 s; 2 s is the end */
	cfr(t, 60, 30);
	m = choose(0, 2, t, 60, 2.0, got);
	CHECK(same(got, m, (int[]){ 0, 15, 30, 45 }, 4));
	/* 29.97 (30000/1001) for 3.003 s at --fps 1: nearest to 1 s is frame
	 * 30 (1.001 s); 3 s is before the end, its nearest the last frame */
	cfr(t, 90, 30000 / 1001.0);
	m = choose(0, 1, t, 90, 90 * 1001 / 30000.0, got);
	CHECK(same(got, m, (int[]){ 0, 30, 60, 89 }, 4));
	m = choose(0, 1, t, 89, 89 * 1001 / 30000.0, got);
	CHECK(same(got, m, (int[]){ 0, 30, 60 }, 3));

	/* faster than the video: each frame once, in order, the last at the end */
	cfr(t, 4, 4);
	m = choose(0, 10, t, 4, 1.0, got);
	CHECK(same(got, m, (int[]){ 0, 1, 2, 3 }, 4));

	/* variable rate: the nearest by time, not by number */
	double vfr[] = { 0, 0.1, 0.2, 1.0, 1.05, 2.5 };
	m = choose(0, 1, vfr, 6, 2.6, got);
	CHECK(same(got, m, (int[]){ 0, 3, 5 }, 3));

	/* the frame before a target wins when nearer; decided on the next one */
	double gap[] = { 0, 0.4, 1.7 };
	m = choose(0, 1, gap, 3, 1.8, got);
	CHECK(same(got, m, (int[]){ 0, 1 }, 2));
	/* and the last frame is sent at the end when a target before the end is left */
	m = choose(0, 1, gap, 3, 2.2, got);
	CHECK(same(got, m, (int[]){ 0, 1, 2 }, 3));

	/* a tie goes to the earlier frame, which is not sent twice */
	double tie[] = { 0, 1.0 };
	m = choose(0, 2, tie, 2, 1.5, got);
	CHECK(same(got, m, (int[]){ 0, 1 }, 2));
	double tie2[] = { 0, 0.2, 0.8, 1.0 };
	m = choose(0, 2, tie2, 4, 1.1, got);
	CHECK(same(got, m, (int[]){ 0, 1, 3 }, 3));

	/* timestamps going backwards or jumping far: no frame is sent twice,
	 * no loop over the targets in between */
	double odd[] = { 0, 0.5, 0.2, 1e12, 1e12 + 0.5 };
	m = choose(0, 1, odd, 5, 1e12 + 1, got);
	CHECK(same(got, m, (int[]){ 0, 2, 3 }, 3));

	/* hp_vsel_may_pick: a frame is skipped only when no target is nearer
	 * it than the frames known around it. 30 fps at --fps 2: frame 1
	 * between 0 and 2 cannot be chosen, frame 15 (0.5 s) can, and frame
	 * 16 can while its known neighbours are far (13 and 19) */
	struct hp_vsel s;
	hp_vsel_init(&s, 0, 2);
	CHECK(!hp_vsel_may_pick(&s, 1 / 30.0, 0, 2 / 30.0));
	CHECK(hp_vsel_may_pick(&s, 15 / 30.0, 14 / 30.0, 16 / 30.0));
	CHECK(!hp_vsel_may_pick(&s, 16 / 30.0, 15 / 30.0, 17 / 30.0));
	CHECK(hp_vsel_may_pick(&s, 16 / 30.0, 13 / 30.0, 19 / 30.0));
	CHECK(!hp_vsel_may_pick(&s, 0.25, 0, 0.5));
	CHECK(hp_vsel_may_pick(&s, 1 / 30.0, 2 / 30.0, 0)); /* neighbours not around it */
	hp_vsel_init(&s, 0, 4); /* 0.25 s is as near 0.2 as 0.3: "may" on a tie */
	CHECK(hp_vsel_may_pick(&s, 0.3, 0.2, 0.5));
	CHECK(!hp_vsel_may_pick(&s, 0.3, 0.26, 0.4));
	hp_vsel_init(&s, 5, 0);
	CHECK(hp_vsel_may_pick(&s, 1 / 30.0, 0, 2 / 30.0)); /* a stride never skips */

	/* every frame chosen from random variable-rate times is one that
	 * may_pick allows with any known frames around it */
	unsigned seed = 12345;
	int bad = 0;
	for (int run = 0; run < 300; run++) {
		int n = 20 + run % 100;
		double fps = 0.5 + (run % 17) * 0.7;
		t[0] = 0;
		for (int i = 1; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			t[i] = t[i - 1] + ((seed >> 8) % 4 ? 1 / 30.0 : (seed >> 4) % 7 / 10.0 + 0.01);
		}
		m = choose(0, fps, t, n, t[n - 1] + 1 / 30.0, got);
		hp_vsel_init(&s, 0, fps);
		for (int j = 0; j < m; j++)
			for (int a = 0; a < got[j]; a++)
				for (int b = got[j] + 1; b < n; b++)
					bad += !hp_vsel_may_pick(&s, t[got[j]], t[a], t[b]);
	}
	CHECK(bad == 0);
	return check_report("test_video");
}
