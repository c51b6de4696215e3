/* privileges.h — least privilege for both daemons: keep only the capabilities
 * a daemon uses, drop the rest for good, and forbid regaining any
 * (capability(7), prctl(2) PR_SET_NO_NEW_PRIVS). The agent keeps what its
 * enabled collectors declare; the aggregator keeps none.
 *
 * The agent stays uid 0: every file it reads is owned by root or readable by
 * all (see README "What the agent needs on a node"), so no capability is
 * needed to open files. Capabilities are only needed by the kernel calls that
 * check them: NVMe admin passthrough and device-mapper ioctls
 * (CAP_SYS_ADMIN), /proc/<pid>/root of another user's or a more privileged
 * process (CAP_SYS_PTRACE, the guests collector's container rootfs).
 *
 * Capability sets and no_new_privs belong to a thread; new threads copy them
 * from their creator. So the drop must run before any thread exists (nanomsg
 * starts its workers at the first socket, fsstat its statvfs workers at the
 * first storage): then every thread of the agent holds exactly the kept set. */
#ifndef PVESCOPE_PRIVILEGES_H
#define PVESCOPE_PRIVILEGES_H

#include <linux/capability.h>   /* CAP_* numbers */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bit of capability number cap in a 64-bit set (cap < 64). */
#define CAP_BIT(cap) (UINT64_C(1) << (cap))

/* What privileges_drop found and did; all sets are 64-bit capability masks. */
struct privileges_result {
    uint64_t wanted;        /* asked for by the enabled collectors */
    uint64_t kept;          /* wanted & what the process had: permitted = effective = this */
    uint64_t missing;       /* wanted but not held at start (those collectors will fail) */
    bool bounding_dropped;  /* false: no CAP_SETPCAP, the bounding set stays as it was */
};

/* Drops, in this order: every capability outside wanted from the bounding set
 * (when CAP_SETPCAP is held), the ambient and inheritable sets, then permitted
 * and effective down to wanted & permitted; sets no_new_privs; then reads the
 * sets back and checks them. Call it while the process has one thread.
 * Returns false with err set when a step fails: the caller must not go on
 * with more privilege than it announced. */
bool privileges_drop(uint64_t wanted, struct privileges_result *out, char *err, size_t errlen);

/* Writes mask as "CAP_SYS_ADMIN,CAP_SYS_PTRACE" ("none" for 0; unknown bits as
 * "cap_<n>"). */
void privileges_format(uint64_t mask, char *out, size_t cap);

#endif
