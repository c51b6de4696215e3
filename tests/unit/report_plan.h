/* report_plan.h — the pbdecode plan of pvescope.Report for unit tests that
 * decode reports the way ingest does. Made on first use and kept for the
 * life of the test process (decoded reports may decode again lazily). */
#ifndef PVESCOPE_TEST_REPORT_PLAN_H
#define PVESCOPE_TEST_REPORT_PLAN_H

#include <stdlib.h>

#include "pbdecode.h"
#include "pvescope.pb-c.h"

static inline const struct pbdecode_plan *test_report_plan(void)
{
    static struct pbdecode_plan *plan;
    if (!plan) {
        char err[160];
        plan = pbdecode_plan_new(&pvescope__report__descriptor, err, sizeof err);
        if (!plan)
            abort();
    }
    return plan;
}

#endif
