/* stamp.c - modification times as text (stamp.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/stamp.h"

#include <stdio.h>

void hp_stamp_format(const struct timespec *ts, char buf[HP_STAMP_LEN])
{
	struct tm tm;
	time_t t = ts->tv_sec;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, HP_STAMP_LEN, "%lld.%09ld", (long long)ts->tv_sec, (long)ts->tv_nsec);
		return;
	}
	char day[24];
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned long ns = (unsigned long)ts->tv_nsec % 1000000000UL;
	snprintf(buf, HP_STAMP_LEN, "%.24s.%09luZ", day, ns);
}
