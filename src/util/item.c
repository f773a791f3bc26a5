/* item.c - the growing list of observers (item.h). */
#include "hubpredict/item.h"
#include "hubpredict/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int hp_observers_add_video(struct hp_observers *l, void (*item)(void *state, const struct hp_item *it),
                           void (*video)(void *state, const char *video, const char *const *unmet, size_t n_unmet),
                           void *state)
{
	struct hp_observer *v = hp_grow_array(l->v, &l->cap, l->n + 1, sizeof *v, 4);
	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = (struct hp_observer){ .item = item, .state = state, .video = video };
	return 0;
}

int hp_observers_add(struct hp_observers *l, void (*item)(void *state, const struct hp_item *it), void *state)
{
	return hp_observers_add_video(l, item, NULL, state);
}

void hp_observers_clear(struct hp_observers *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}
