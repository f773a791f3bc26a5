/* item.c - the growing list of observers (item.h). */
#include "hubpredict/item.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int hp_observers_add(struct hp_observers *l, void (*item)(void *state, const struct hp_item *it), void *state)
{
	if (l->n >= l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		if (cap > SIZE_MAX / sizeof *l->v)
			return -1;
		struct hp_observer *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct hp_observer){ .item = item, .state = state };
	return 0;
}

void hp_observers_clear(struct hp_observers *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}
