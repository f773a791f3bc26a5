/* valgate.h - hubpredict val's --expect: checks on the metrics (SPEC §12),
 * not predict's per-image counts (expect.h).
 *
 *   [CLASS:][box.|mask.|pose.]METRIC OP NUMBER
 *
 * METRIC: precision, recall, map50, map75, map50_95, fitness (overall); a
 * CLASS (a name, or a class number) takes precision, recall, map50 and
 * map50_95; classify: top1, top5. OP: >=, >, <=, <, ==. CLASS is what comes
 * before the last ':' (names may hold spaces).
 *
 * Ownership: hp_val_gate_parse fills a gate the caller embeds and releases
 * with hp_val_gate_clear.
 */
#ifndef HUBPREDICT_VALGATE_H
#define HUBPREDICT_VALGATE_H

#include <stdbool.h>
#include <stddef.h>

#include "hubpredict/valmetrics.h"

enum hp_val_metric_id {
	HP_VM_PRECISION, HP_VM_RECALL, HP_VM_MAP50, HP_VM_MAP75, HP_VM_MAP50_95, HP_VM_FITNESS,
	HP_VM_TOP1, HP_VM_TOP5
};

struct hp_val_gate {
	char *text;             /* as given (owned) */
	char *cls;              /* CLASS (owned), NULL = overall */
	int which;              /* 0 box (or no prefix), 1 mask, 2 pose */
	enum hp_val_metric_id metric;
	int op;                 /* '>', 'G' (>=), '<', 'L' (<=), '=' */
	double value;
};

/* 0, or -1 with the reason in err (a usage error, exit 2). */
int hp_val_gate_parse(struct hp_val_gate *g, const char *s, char *err, size_t errlen);
void hp_val_gate_clear(struct hp_val_gate *g);

/* Check a gate against the metrics: 1 met, 0 not; *got the value found (NaN
 * when there is none) and why a one-line reason when there is none (a mask.
 * check on a detect model, a class not in the labels). names: the class
 * names by number (n_names of them, may be 0). */
int hp_val_gate_check(const struct hp_val_gate *g, const struct hp_val_result *r, char *const *names,
                      size_t n_names, double *got, char *why, size_t whylen);

#endif
