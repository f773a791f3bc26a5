/* body.c - collect a response body: memory first, then an unlinked temporary
 * file (mapped when it is parsed), refusing anything over the limit. */
#define _DEFAULT_SOURCE
#include "hubpredict/body.h"
#include "hubpredict/buf.h"
#include "hubpredict/output.h"
#include "hubpredict/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void hp_body_init(struct hp_body *b, size_t mem_limit, size_t max_total, bool spill_ok)
{
	memset(b, 0, sizeof *b);
	b->mem_limit = b->keep_limit = mem_limit;
	b->max_total = max_total;
	b->spill_ok = spill_ok;
}

void hp_body_init_whole(struct hp_body *b, size_t mem_limit, size_t max_total)
{
	hp_body_init(b, mem_limit, max_total, true);
	b->whole = true;
}

/* The spill file, made on the first byte past mem_limit; a whole body's
 * bytes in memory go first, and the memory is released. 0, or -1. */
static int open_spill(struct hp_body *b)
{
	int fd = hp_temp_fd("hubpredict-body");
	if (fd < 0 || !(b->spill = fdopen(fd, "w+"))) {
		b->error = errno;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!b->whole || b->len == 0)
		return 0;
	if (fwrite(b->data, 1, b->len, b->spill) != b->len) {
		b->error = errno ? errno : EIO;
		return -1;
	}
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->mem_limit = 0;
	return 0;
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
		if (!b->spill && open_spill(b) < 0)
			return -1;
		if (fwrite((const char *)p + to_mem, 1, n - to_mem, b->spill) != n - to_mem) {
			b->error = errno ? errno : EIO;
			return -1;
		}
	}
	return 0;
}

/* Release data: a mapping is unmapped, memory freed. */
static void drop_data(struct hp_body *b)
{
	if (b->mapped)
		munmap(b->data, b->total + 1);
	else
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->mapped = false;
	b->released = 0;
	free(b->cuts);
	b->cuts = NULL;
	b->n_cuts = 0;
}

void hp_body_reset(struct hp_body *b)
{
	if (b->mapped)
		drop_data(b);
	if (b->whole)
		b->mem_limit = b->keep_limit;
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

int hp_body_map(struct hp_body *b)
{
	if (!b->spill || !b->whole || b->mapped)
		return 0;
	/* a NUL after the last byte, in the file: the mapping's last page is
	 * then never past the file's end */
	if (fputc('\0', b->spill) == EOF || fflush(b->spill) != 0) {
		b->error = errno ? errno : EIO;
		return -1;
	}
	void *m = mmap(NULL, b->total + 1, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(b->spill), 0);
	if (m == MAP_FAILED) {
		b->error = errno;
		return -1;
	}
	drop_data(b);
	b->data = m;
	b->len = b->total;
	b->mapped = true;
	return 0;
}

#define RELEASE_STEP ((size_t)1024 * 1024)

void hp_body_release(struct hp_body *b, size_t upto)
{
	if (!b->mapped || upto > b->total)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), end = upto / page * page;
	if (end + RELEASE_STEP < b->released)
		b->released = 0; /* another pass from the start: it reads them again */
	if (end < b->released + RELEASE_STEP && upto < b->total)
		return;
	if (end > b->released)
		madvise(b->data + b->released, end - b->released, MADV_DONTNEED);
	b->released = end;
}

void hp_body_write_json(struct hp_body *b, struct hp_output *out)
{
	size_t from = 0;
	for (size_t i = 0; b->mapped && i < b->n_cuts; i++) {
		if (b->cuts[i] <= from || b->cuts[i] > b->len)
			continue;
		hp_json_write_minified(out, b->data + from, b->cuts[i] - from);
		from = b->cuts[i];
		hp_body_release(b, from);
	}
	hp_json_write_minified(out, b->data + from, b->len - from);
	hp_body_release(b, b->len);
}

void hp_body_adopt(struct hp_body *b, char *data, size_t len)
{
	drop_data(b);
	if (b->spill) {
		fclose(b->spill);
		b->spill = NULL;
	}
	b->data = data;
	b->len = b->total = len;
	b->cap = len + 1;
}

int hp_body_from_file(struct hp_body *b, FILE *f, size_t *cuts, size_t n_cuts)
{
	hp_body_init_whole(b, 0, 0);
	b->spill = f;
	long end = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (end < 0) {
		b->error = errno;
		free(cuts);
		return -1;
	}
	b->total = (size_t)end;
	if (hp_body_map(b) < 0) {
		free(cuts);
		return -1;
	}
	b->cuts = cuts;
	b->n_cuts = n_cuts;
	return 0;
}

int hp_body_gather(struct hp_body *b)
{
	if (!b->spill || b->mapped)
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
	if (!b->spill || b->mapped)
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
	drop_data(b);
	if (b->spill)
		fclose(b->spill);
	memset(b, 0, sizeof *b);
}
