/* clock.c - the one monotonic clock (clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/clock.h"

#include <time.h>

double hp_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
