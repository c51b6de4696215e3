/* nvme_admin.h — the two NVMe admin commands the "nvme" collector sends, as
 * the kernel's admin passthrough ioctl takes them (<linux/nvme_ioctl.h>,
 * NVME_IOCTL_ADMIN_CMD), and the text of the NVMe statuses they can end
 * with.
 *
 * Pure functions: filling a struct nvme_admin_cmd touches no device, so the
 * unit tests check every field of both commands without hardware, and the
 * real port (nvme.c) is left with the ioctl itself. Field layouts follow the
 * NVMe Base Specification (admin opcodes, Command Dwords 10-14). */
#ifndef PVESCOPE_NVME_ADMIN_H
#define PVESCOPE_NVME_ADMIN_H

#include <linux/nvme_ioctl.h>
#include <stddef.h>
#include <stdint.h>

#define NVME_ADMIN_OPC_GET_LOG_PAGE 0x02
#define NVME_ADMIN_OPC_IDENTIFY     0x06
#define NVME_IDENTIFY_CNS_CTRL      0x01
#define NVME_LOG_LID_SMART_HEALTH   0x02
#define NVME_NSID_ALL_NAMESPACES    0xffffffffu
/* Get Log Page CDW10 bit 15: Retain Asynchronous Event. */
#define NVME_LOG_CDW10_RAE          (1u << 15)
/* Every command transfers into one buffer of this size and alignment: some
 * devices and IOMMUs DMA whole pages (libnvme #684). */
#define NVME_ADMIN_BUF_BYTES        4096

/* Fills cmd with Identify Controller (opcode 06h, CNS 01h, NSID 0, CNTID 0,
 * CSI 0), transferring the 4096-byte data structure into buf (4096 bytes,
 * 4096-aligned), with a deadline of timeout_ms. */
void nvme_admin_identify_ctrl(struct nvme_admin_cmd *cmd, void *buf, uint32_t timeout_ms);

/* Fills cmd with Get Log Page for the controller-wide SMART / Health
 * Information log (opcode 02h, LID 02h, NSID FFFFFFFFh, offset 0, RAE
 * cleared so the read re-arms the SMART/health asynchronous event),
 * transferring its 512 bytes into buf (4096 bytes, 4096-aligned), with a
 * deadline of timeout_ms. */
void nvme_admin_smart_log(struct nvme_admin_cmd *cmd, void *buf, uint32_t timeout_ms);

/* The name of an NVMe status as NVME_IOCTL_ADMIN_CMD returns it (> 0: the
 * completion's Status Field without its phase bit), from the status code
 * type and status code alone: the Command Retry Delay, More and Do Not
 * Retry bits are ignored. NULL for a status outside our table (the ones
 * these two commands can end with). */
const char *nvme_status_name(int status);

/* "NVMe status 0x<status> (<name>)", or "NVMe status 0x<status>" when the
 * name is unknown, into out (always terminated when cap > 0). */
void nvme_status_format(char *out, size_t cap, int status);

#endif
