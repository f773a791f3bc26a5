/* progress.c - "[  12/200]   6%  1 failed  8.3/s  ETA 0:22" on stderr. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/progress.h"
#include "hubpredict/clock.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hp_progress {
	bool in_place;
	bool shown;             /* a line is on the screen now */
	double last_draw;
};

static void clear_hook(void *arg)
{
	hp_progress_erase(arg);
}

int hp_progress_new(struct hp_progress **out, bool in_place)
{
	struct hp_progress *p = calloc(1, sizeof *p);
	if (!p)
		return HP_EXIT_NOMEM;
	p->in_place = in_place;
	p->last_draw = -1;
	hp_msg_set_before_hook(clear_hook, p);
	*out = p;
	return 0;
}

static void fmt_duration(char *buf, size_t len, double s)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void hp_progress_format(char *buf, size_t len, const struct hp_progress_state *st)
{
	size_t o = 0;
	double rate = st->elapsed_s > 0 ? (double)st->done / st->elapsed_s : 0;
#define PUT(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
	if (st->total) {
		int w = snprintf(NULL, 0, "%zu", st->total);
		PUT("[%*zu/%zu] %3d%%", w, st->done, st->total,
		    (int)(st->done >= st->total ? 100 : 100 * st->done / st->total));
	} else {
		PUT("[%zu done]", st->done);
	}
	if (st->failed)
		PUT("  %zu failed", st->failed);
	PUT("  %.1f/s", rate);
	if (st->total && st->done && st->done < st->total && rate > 0) {
		char eta[32];
		fmt_duration(eta, sizeof eta, (double)(st->total - st->done) / rate);
		PUT("  ETA %s", eta);
	}
	if (st->up_total)
		PUT("  upload %.0f/%.0f MiB", (double)st->up_sent / 1048576.0, (double)st->up_total / 1048576.0);
	if (st->note)
		PUT("  %s", st->note);
#undef PUT
}

void hp_progress_update(struct hp_progress *p, const struct hp_progress_state *st, bool force)
{
	if (!p)
		return;
	double now = hp_clock_ms() / 1000.0;
	double every = p->in_place ? 0.1 : 1.0;
	if (!force && p->last_draw >= 0 && now - p->last_draw < every)
		return;
	p->last_draw = now;
	char line[256];
	hp_progress_format(line, sizeof line, st);
	if (p->in_place) {
		fprintf(stderr, "\r\033[Khubpredict: %s", line);
		p->shown = true;
	} else {
		fprintf(stderr, "hubpredict: %s\n", line);
	}
	fflush(stderr);
}

void hp_progress_erase(struct hp_progress *p)
{
	if (!p || !p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}

void hp_progress_free(struct hp_progress *p)
{
	if (!p)
		return;
	hp_progress_erase(p);
	hp_msg_set_before_hook(NULL, NULL);
	free(p);
}
