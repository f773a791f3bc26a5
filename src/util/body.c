/* body.c - collect a response body: memory first, then an unlinked temporary
 * file (raw output of a large body), refusing anything over the limit. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/body.h"
#include "hubpredict/buf.h"
#include "hubpredict/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hp_body_init(struct hp_body *b, size_t mem_limit, size_t max_total, bool spill_ok)
{
	memset(b, 0, sizeof *b);
	b->mem_limit = mem_limit;
	b->max_total = max_total;
	b->spill_ok = spill_ok;
}

int hp_body_append(struct hp_body *b, const void *p, size_t n)
{
	if (b->max_total && (b->total + n > b->max_total || b->total + n < b->total)) {
		b->too_big = true;
		return -1;
	}
	b->total += n;
	size_t room = b->len < b->mem_limit ? b->mem_limit - b->len : 0;
	size_t to_mem = n < room ? n : room;
	if (to_mem) {
		if (hp_grow(&b->data, &b->cap, b->len + to_mem + 1, 4096) < 0) {
			b->error = ENOMEM;
			return -1;
		}
		memcpy(b->data + b->len, p, to_mem);
		b->len += to_mem;
		b->data[b->len] = '\0';
	}
	if (to_mem < n) {
		if (!b->spill_ok)
			return 0; /* keep the first mem_limit bytes only (error bodies) */
		if (!b->spill) {
			int fd = hp_temp_fd("hubpredict-body");
			if (fd < 0 || !(b->spill = fdopen(fd, "w+"))) {
				b->error = errno;
				if (fd >= 0)
					close(fd);
				return -1;
			}
		}
		if (fwrite((const char *)p + to_mem, 1, n - to_mem, b->spill) != n - to_mem) {
			b->error = errno ? errno : EIO;
			return -1;
		}
	}
	return 0;
}

void hp_body_reset(struct hp_body *b)
{
	b->len = 0;
	b->total = 0;
	b->too_big = false;
	b->error = 0;
	if (b->data)
		b->data[0] = '\0';
	if (b->spill) {
		fclose(b->spill);
		b->spill = NULL;
	}
}

int hp_body_gather(struct hp_body *b)
{
	if (!b->spill)
		return 0;
	if (hp_grow(&b->data, &b->cap, b->total + 1, 4096) < 0) {
		b->error = ENOMEM;
		return -1;
	}
	rewind(b->spill);
	size_t want = b->total - b->len, got = fread(b->data + b->len, 1, want, b->spill);
	if (got != want) {
		b->error = ferror(b->spill) && errno ? errno : EIO;
		b->data[b->len] = '\0';
		return -1;
	}
	b->len = b->total;
	b->data[b->len] = '\0';
	fclose(b->spill);
	b->spill = NULL;
	return 0;
}

void hp_body_write_to(struct hp_body *b, struct hp_output *out)
{
	hp_out_write(out, b->data, b->len);
	if (!b->spill)
		return;
	char buf[65536];
	size_t got;
	rewind(b->spill);
	while ((got = fread(buf, 1, sizeof buf, b->spill)) > 0)
		hp_out_write(out, buf, got);
}

void hp_body_free(struct hp_body *b)
{
	if (!b)
		return;
	if (b->spill)
		fclose(b->spill);
	free(b->data);
	memset(b, 0, sizeof *b);
}
