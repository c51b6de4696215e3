/* privileges.c — see privileges.h. Raw capget/capset and prctl, no libcap:
 * five calls are needed, and libcap would add a library to the agent's 4 MiB. */
#include "privileges.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>


/* capability(7) names, indexed by number, as /proc and capsh print them. */
static const char *const cap_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

struct cap_sets {
    uint64_t effective, permitted, inheritable;
};

static bool cap_get(struct cap_sets *s)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        return false;
    s->effective = (uint64_t)d[1].effective << 32 | d[0].effective;
    s->permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
    s->inheritable = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
    return true;
}

static bool cap_set(const struct cap_sets *s)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
        {(uint32_t)s->effective, (uint32_t)s->permitted, (uint32_t)s->inheritable},
        {(uint32_t)(s->effective >> 32), (uint32_t)(s->permitted >> 32), (uint32_t)(s->inheritable >> 32)},
    };
    return syscall(SYS_capset, &h, d) == 0;
}

/* Drops every capability of the bounding set outside keep. The kernel knows
 * capabilities up to cap_last_cap; PR_CAPBSET_READ answers EINVAL past it, so
 * a newer kernel's extra capabilities are dropped too. */
static bool drop_bounding(uint64_t keep, char *err, size_t errlen)
{
    for (int cap = 0; cap < 64; cap++) {
        int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
        if (in < 0)
            break;
        if (in == 1 && !(keep & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0) {
            snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s", cap, strerror(errno));
            return false;
        }
    }
    return true;
}

static uint64_t bounding_set(void)
{
    uint64_t set = 0;
    for (int cap = 0; cap < 64; cap++) {
        int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
        if (in < 0)
            break;
        if (in == 1)
            set |= CAP_BIT(cap);
    }
    return set;
}

/* Reads the sets back: what the kernel holds, not what was asked, is what
 * gets logged and tested. */
static bool verify(const struct privileges_result *r, char *err, size_t errlen)
{
    struct cap_sets now;
    if (!cap_get(&now)) {
        snprintf(err, errlen, "capget after the drop: %s", strerror(errno));
        return false;
    }
    if (now.effective != r->kept || now.permitted != r->kept || now.inheritable != 0) {
        snprintf(err, errlen, "capabilities after the drop are effective %#llx, permitted %#llx, inheritable "
                 "%#llx; expected %#llx", (unsigned long long)now.effective, (unsigned long long)now.permitted,
                 (unsigned long long)now.inheritable, (unsigned long long)r->kept);
        return false;
    }
    if (r->bounding_dropped && (bounding_set() & ~r->kept) != 0) {
        snprintf(err, errlen, "the bounding set still holds %#llx after the drop",
                 (unsigned long long)(bounding_set() & ~r->kept));
        return false;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        snprintf(err, errlen, "no_new_privs is not set after PR_SET_NO_NEW_PRIVS");
        return false;
    }
    return true;
}

bool privileges_drop(uint64_t wanted, struct privileges_result *out, char *err, size_t errlen)
{
    struct cap_sets start;
    memset(out, 0, sizeof *out);
    out->wanted = wanted;
    if (!cap_get(&start)) {
        snprintf(err, errlen, "capget: %s", strerror(errno));
        return false;
    }
    out->kept = wanted & start.permitted;
    out->missing = wanted & ~start.permitted;
    /* The bounding set first: dropping from it needs CAP_SETPCAP, which the
     * capset below takes away. Without CAP_SETPCAP (an unprivileged user, a
     * unit that removed it) it cannot shrink, but then the process has
     * nothing it could regain through it either: no_new_privs below blocks
     * file capabilities and set-user-ID. */
    if (start.effective & CAP_BIT(CAP_SETPCAP)) {
        if (!drop_bounding(out->kept, err, errlen))
            return false;
        out->bounding_dropped = true;
    }
    /* Ambient capabilities survive execve; the agent never execs, but an
     * empty set leaves nothing to inherit. EINVAL: a kernel before 4.3. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
        return false;
    }
    /* Only when something changes: a systemd unit that already bounds the
     * process to its set may also forbid capset (SystemCallFilter=~@privileged). */
    struct cap_sets keep = {.effective = out->kept, .permitted = out->kept, .inheritable = 0};
    bool same = start.effective == keep.effective && start.permitted == keep.permitted && start.inheritable == 0;
    if (!same && !cap_set(&keep)) {
        snprintf(err, errlen, "capset: %s%s", strerror(errno),
                 errno == EPERM ? " (a seccomp filter, e.g. systemd's SystemCallFilter=~@privileged, "
                                  "must allow capset)" : "");
        return false;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return false;
    }
    return verify(out, err, errlen);
}

void privileges_format(uint64_t mask, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int c = 0; c < 64 && len < cap; c++) {
        if (!(mask & CAP_BIT(c)))
            continue;
        char unknown[16];
        snprintf(unknown, sizeof unknown, "cap_%d", c);
        const char *name = (size_t)c < sizeof cap_names / sizeof cap_names[0] ? cap_names[c] : unknown;
        int n = snprintf(out + len, cap - len, "%s%s", len ? "," : "", name);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len == 0)
        snprintf(out, cap, "none");
}
