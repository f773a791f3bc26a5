/* stamp.h - a file's modification time as envelopes carry it ("mtime"):
 * RFC 3339 in UTC with nanoseconds, "2026-12-02T14:28:08.123456789Z", so
 * --resume compares two of them as text, exactly. */
#ifndef HUBPREDICT_STAMP_H
#define HUBPREDICT_STAMP_H

#include <time.h>

#define HP_STAMP_LEN 40

/* Into buf (HP_STAMP_LEN bytes). */
void hp_stamp_format(const struct timespec *ts, char buf[HP_STAMP_LEN]);

#endif
