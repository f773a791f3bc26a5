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
	return check_report("test_video");
}
