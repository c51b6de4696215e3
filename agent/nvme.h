/* nvme.h — the "nvme" collector's port: the few operations it needs from
 * sysfs, the kernel and libnvme, behind a table so that the unit tests can
 * play a scripted drive (libnvme 1.3 has no mocking hooks).
 * The collector itself is collector_nvme (collector.h); nvme.c holds both the
 * collector and the real port. */
#ifndef PVESCOPE_NVME_H
#define PVESCOPE_NVME_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"

/* Identity of one controller as the scan found it (sysfs attributes,
 * trimmed; NULL when the attribute is missing). */
struct nvme_ident {
    char *name;                 /* nvme0 */
    char *model, *serial, *firmware, *transport;
};

/* Return convention of identify and smart_log, libnvme's: 0 done, > 0 the
 * NVMe status the controller answered with, -1 no answer (errno set). */
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
    /* Identify Controller (CNS 01h) into buf, 4096 bytes. */
    int (*identify_ctrl)(void *ctx, int fd, void *buf, uint32_t timeout_ms);
    /* SMART / Health Information log (02h), controller-wide, 512 bytes. */
    int (*smart_log)(void *ctx, int fd, void *buf, uint32_t timeout_ms);
    /* Text of an NVMe status (> 0). */
    const char *(*status_text)(void *ctx, int status);
};

/* The real port: sysfs, /dev/nvme<N> and libnvme's ioctl wrappers. */
extern const struct nvme_port nvme_port_libnvme;

/* The real port's scan: the nvme* entries of <sysfs>/class/nvme with their
 * model, serial, firmware_rev and transport attributes (first line, trailing
 * spaces removed, NULL when missing or empty: libnvme's getters). */
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
