/* clock.h — the two clocks the daemons use.
 *
 * Intervals, report ages and deadlines use the monotonic clock (immune to
 * NTP steps); only what crosses the wire (sent and collected times) uses
 * the wall clock. */
#ifndef PVESCOPE_CLOCK_H
#define PVESCOPE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in seconds. */
double clock_monotonic(void);
/* CLOCK_REALTIME in seconds since the Unix epoch. */
double clock_realtime(void);
/* CLOCK_REALTIME in milliseconds since the Unix epoch. */
int64_t clock_unix_ms(void);

#endif
