/* buf.c - the one growing buffer (buf.h). */
#include "hubpredict/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int hp_grow(char **data, size_t *cap, size_t need, size_t min_cap)
{
	if (need <= *cap)
		return 0;
	char *d = hp_grow_array(*data, cap, need, 1, min_cap);
	if (!d)
		return -1;
	*data = d;
	return 0;
}

void *hp_grow_array(void *v, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
	if (need <= *cap)
		return v;
	size_t c = *cap ? *cap : (min_cap ? min_cap : 16);
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		return NULL;
	void *grown = realloc(v, c * elem);
	if (grown)
		*cap = c;
	return grown;
}

int hp_buf_add(struct hp_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return -1;
	if (n >= SIZE_MAX - b->len || hp_grow(&b->data, &b->cap, b->len + n + 1, 256) < 0) {
		b->oom = true;
		return -1;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void hp_buf_clear(struct hp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
