/* nvme.h — the "nvme" collector's port: the few operations it needs from
 * sysfs and the kernel, behind a table so that the unit tests can play a
 * scripted drive. The admin commands themselves are encoded by the
 * collector (nvme_admin.h); the port only carries them to the device.
 * The collector itself is collector_nvme (collector.h); nvme.c holds both the
 * collector and the real port. */
#ifndef PVESCOPE_NVME_H
#define PVESCOPE_NVME_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "nvme_admin.h"

/* Identity of one controller as the scan found it (sysfs attributes,
 * trimmed; NULL when the attribute is missing). */
struct nvme_ident {
    char *name;                 /* nvme0 */
    char *model, *serial, *firmware, *transport;
};

struct nvme_port {
    void *ctx;
    /* Lists the controllers into a malloc'd array of malloc'd strings (freed
     * with nvme_idents_free), in no particular order. 0, or -1 with errno:
     * ENOENT when the kernel has no NVMe controllers at all (no
     * <sysfs>/class/nvme). */
    int (*scan)(void *ctx, const char *sysfs, struct nvme_ident **out, size_t *n);
    /* Opens the controller's character device /dev/<name>: fd or -1, errno. */
    int (*open_ctrl)(void *ctx, const char *name);
    void (*close_ctrl)(void *ctx, int fd);
    /* Sends an admin command built by nvme_admin.h and waits for it (the
     * kernel's NVME_IOCTL_ADMIN_CMD convention): 0 done, > 0 the NVMe status
     * the controller (or the kernel on its behalf) completed it with, -1 no
     * completion (errno set: EACCES/EPERM, ENODEV, EINTR after a timeout...). */
    int (*admin)(void *ctx, int fd, struct nvme_admin_cmd *cmd);
};

/* The real port: sysfs, /dev/nvme<N> and the admin passthrough ioctl. */
extern const struct nvme_port nvme_port_kernel;

/* The real port's scan: the nvme* entries of <sysfs>/class/nvme with their
 * model, serial, firmware_rev and transport attributes (first line, trailing
 * spaces removed, NULL when missing or empty: what libnvme's getters, and
 * so nvme-cli, return). */
int nvme_sysfs_scan(const char *sysfs, struct nvme_ident **out, size_t *n);

/* collector_nvme's init with another port (tests); the port must outlive the
 * state. Returns 0, or -1 with ctx->err set. */
int nvme_collector_init_port(void **state, struct collector_ctx *ctx, const struct nvme_port *port);

void nvme_idents_free(struct nvme_ident *ids, size_t n);

/* How often the collector rescans the topology without a reason to. */
#define NVME_RESCAN_INTERVAL_S 60.0
/* Deadline of each admin command (the kernel default is 60 s). Not shorter:
 * when an admin command times out, nvme-pci disables and resets the whole
 * controller (nvme_timeout: "QID 0 timeout, reset controller"), so an
 * impatient deadline would reset a slow but healthy production drive. */
#define NVME_ADMIN_TIMEOUT_MS 10000

#endif
