/* signals.h - SIGHUP, SIGINT and SIGTERM end a run cleanly (hubpredict(1) EXIT STATUS: 129 /
 * 130 / 143).
 *
 * The handlers only record the signal; every loop that can wait (the batch's
 * poll, reading standard input) checks hp_signal_caught() and winds down:
 * finished inputs are written, unfinished ones skipped. SIGPIPE is ignored so
 * a closed stdout shows up as EPIPE on write.
 */
#ifndef HUBPREDICT_SIGNALS_H
#define HUBPREDICT_SIGNALS_H

void hp_signals_install(void);

/* The signal caught (SIGHUP, SIGINT or SIGTERM), or 0. */
int hp_signal_caught(void);

#endif
