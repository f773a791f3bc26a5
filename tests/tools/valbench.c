/* valbench - the val metrics' cost without a server (tests/bench/val.sh):
 * valbench IMAGES PREDS CLASSES feeds IMAGES generated images of 10 labels
 * and PREDS predictions each (near the labels, random confidences) to the
 * accumulator, then times hp_valstats_compute, the step that runs after the
 * last answer, and prints both times and the peak RSS. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "hubpredict/valmetrics.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double uni(unsigned *seed, double lo, double hi)
{
	return lo + (hi - lo) * ((double)rand_r(seed) / ((double)RAND_MAX + 1.0));
}

static void gen(unsigned *seed, struct hp_val_obj *l, size_t nl, struct hp_val_obj *p, size_t np,
                long nc)
{
	for (size_t i = 0; i < nl; i++) {
		double x = uni(seed, 0, 560), y = uni(seed, 0, 400);
		l[i] = (struct hp_val_obj){ .cls = rand_r(seed) % nc,
		                            .box = { x, y, x + uni(seed, 20, 80), y + uni(seed, 20, 80) } };
	}
	for (size_t i = 0; i < np; i++) {
		const struct hp_val_obj *t = &l[(size_t)rand_r(seed) % nl];
		double d = uni(seed, -8, 8);
		p[i] = (struct hp_val_obj){ .cls = rand_r(seed) % 4 ? t->cls : rand_r(seed) % nc,
		                            .conf = uni(seed, 0.01, 1),
		                            .box = { t->box[0] + d, t->box[1] - d, t->box[2] + d,
		                                     t->box[3] + d } };
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: valbench IMAGES PREDS CLASSES\n");
		return 2;
	}
	size_t n = strtoul(argv[1], NULL, 10), np = strtoul(argv[2], NULL, 10), nl = 10;
	long nc = strtol(argv[3], NULL, 10);
	struct hp_val_obj *l = calloc(nl, sizeof *l), *p = calloc(np + 1, sizeof *p);
	struct hp_valstats *s = NULL;
	struct hp_val_result r;
	unsigned seed = 1;
	if (nc < 1 || !l || !p || hp_valstats_new(&s, HP_VAL_DETECT, (size_t)nc) != 0)
		return 1;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		gen(&seed, l, nl, p, np, nc);
		if (hp_valstats_add(s, l, nl, p, np, 640, 480) != 0)
			return 1;
	}
	double t1 = now();
	if (hp_valstats_compute(s, &r) != 0)
		return 1;
	double t2 = now();
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("images %zu preds %zu classes %ld: add %.2f s, metrics after the last answer %.3f s, "
	       "peak RSS %.1f MiB (mAP50 %.4f)\n", n, np, nc, t1 - t0, t2 - t1,
	       (double)ru.ru_maxrss / 1024.0, r.box.map50);
	hp_val_result_clear(&r);
	hp_valstats_free(s);
	free(l);
	free(p);
	return 0;
}
