/* thinpool.h — the thinpool collector's seams for tests: the device-mapper
 * ioctls it makes (thinpool.c) can be answered by canned replies, and its
 * lvmthin storage usage is a pure function. */
#ifndef PVESCOPE_THINPOOL_H
#define PVESCOPE_THINPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

struct dm_ioctl;

/* The collector's only contact with the kernel: the device-mapper control
 * device. The real port opens /dev/mapper/control and calls ioctl(2); tests
 * answer with canned reply buffers. Everything else (buffer growth, reply
 * checks, parsing) is the collector's own code either way.
 *   open   the control device: its fd, or -errno
 *   ioctl  one request on io (a buffer of io->data_size bytes): 0 or -errno
 *   close  the fd open returned */
struct thinpool_dm_port {
    int (*open)(void *arg);
    int (*ioctl)(void *arg, int fd, unsigned long request, struct dm_ioctl *io);
    void (*close)(void *arg, int fd);
};

/* Replaces the collector's port (NULL: the real one again), closing the
 * control fd of the previous one. */
void thinpool_collector_set_port(void *state, const struct thinpool_dm_port *port, void *arg);

/* Appends to r->storage_usage one StorageUsage per lvmthin storage of
 * r->storages enabled on r->node, from the pools in r->thin_pools:
 * total = data_total_blocks·block·512, used = data_used_blocks·block·512,
 * avail = total − used, active; active=false without sizes when no pool of
 * that vgname/thinpool is present; active without sizes when the pool's
 * numbers are unknown (failed pool, unreadable table). */
void thinpool_storage_usage(Pvescope__Report *r, struct arena *a);

#endif
