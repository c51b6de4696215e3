/* numfmt.h — numbers as exposition text, written straight into a caller's
 * buffer (no stdio): the aggregator renders about 2,000 of them per report
 * on its ingest path.
 *
 * Each writer stores at most NUMFMT_MAX bytes at p, no NUL, and returns the
 * end of what it wrote. */
#ifndef PVESCOPE_NUMFMT_H
#define PVESCOPE_NUMFMT_H

#include <stdint.h>

#define NUMFMT_MAX 32

/* Decimal digits of v. */
char *numfmt_u64(char *p, uint64_t v);

/* The text "%.15g" prints when it parses back to v, else "%.17g"'s; NaN,
 * +Inf and -Inf spelled as Prometheus does. Integers below 2^53 and values
 * in [1e-4, 1e15) are formatted exactly with integer arithmetic, the rest
 * through snprintf. */
char *numfmt_double(char *p, double v);

/* The text numfmt_double(p, micro / 1e6) writes (seconds from a count of
 * microseconds), worked out from the integer: no division by 1e6 and no
 * double to format, for the pressure counters every guest reports. */
char *numfmt_micro(char *p, uint64_t micro);

#endif
