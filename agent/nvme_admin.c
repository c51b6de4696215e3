/* nvme_admin.c — encoding of Identify Controller and Get Log Page (SMART /
 * Health) for NVME_IOCTL_ADMIN_CMD, and the names of the NVMe statuses they
 * can end with. See nvme_admin.h; docs/decisions.md "Hardware: NVMe" says
 * why the agent builds these two commands itself instead of linking libnvme. */
#include "nvme_admin.h"

#include <stdio.h>
#include <string.h>

#include "nvme_smart.h"

/* The Status Field bits that name the condition: Status Code (7:0) and
 * Status Code Type (10:8). Above them sit Command Retry Delay (12:11), More
 * (13) and Do Not Retry (14), which say how to retry, not what failed. */
#define NVME_STATUS_SCT_SC_MASK 0x7ff

static void admin_cmd_init(struct nvme_admin_cmd *cmd, uint8_t opcode, void *buf, uint32_t timeout_ms)
{
    memset(cmd, 0, sizeof *cmd);
    cmd->opcode = opcode;
    cmd->addr = (uint64_t)(uintptr_t)buf;
    cmd->timeout_ms = timeout_ms;
}

void nvme_admin_identify_ctrl(struct nvme_admin_cmd *cmd, void *buf, uint32_t timeout_ms)
{
    admin_cmd_init(cmd, NVME_ADMIN_OPC_IDENTIFY, buf, timeout_ms);
    cmd->data_len = NVME_ID_CTRL_BYTES;
    cmd->cdw10 = NVME_IDENTIFY_CNS_CTRL;       /* CNTID (31:16) 0: not used by CNS 01h */
}

void nvme_admin_smart_log(struct nvme_admin_cmd *cmd, void *buf, uint32_t timeout_ms)
{
    admin_cmd_init(cmd, NVME_ADMIN_OPC_GET_LOG_PAGE, buf, timeout_ms);
    uint32_t numd = NVME_SMART_LOG_BYTES / 4 - 1;     /* dwords to transfer, 0's based */
    cmd->nsid = NVME_NSID_ALL_NAMESPACES;
    cmd->data_len = NVME_SMART_LOG_BYTES;
    /* LID, LSP 0, RAE cleared, NUMDL; NUMDU and LSI in CDW11; offset 0
     * (CDW12-13); UUID index, OT and CSI 0 (CDW14). */
    cmd->cdw10 = NVME_LOG_LID_SMART_HEALTH | (numd & 0xffff) << 16;
    cmd->cdw11 = numd >> 16;
}

struct status_name {
    uint16_t code;                             /* SCT << 8 | SC */
    const char *name;
};

/* Those that Identify or Get Log Page can end with, as the NVMe Base
 * Specification names them, and the two the Linux host itself sets. */
static const struct status_name status_names[] = {
    /* SCT 0: generic command status */
    {0x001, "Invalid Command Opcode"},
    {0x002, "Invalid Field in Command"},
    {0x003, "Command ID Conflict"},
    {0x004, "Data Transfer Error"},
    {0x005, "Commands Aborted due to Power Loss Notification"},
    {0x006, "Internal Error"},
    {0x007, "Command Abort Requested"},
    {0x008, "Command Aborted due to SQ Deletion"},
    {0x00b, "Invalid Namespace or Format"},
    {0x00c, "Command Sequence Error"},
    {0x013, "PRP Offset Invalid"},
    {0x015, "Operation Denied"},
    {0x01d, "Sanitize In Progress"},
    {0x021, "Command Interrupted"},
    {0x022, "Transient Transport Error"},
    {0x024, "Admin Command Media Not Ready"},
    /* SCT 1: command specific */
    {0x109, "Invalid Log Page"},
    /* SCT 3: path related; the host sets these when it fails or cancels the
     * command itself (controller dead or being reset) */
    {0x370, "Host Pathing Error"},
    {0x371, "Command Aborted By Host"},
};

const char *nvme_status_name(int status)
{
    if (status <= 0)
        return NULL;
    unsigned code = (unsigned)status & NVME_STATUS_SCT_SC_MASK;
    for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
        if (status_names[i].code == code)
            return status_names[i].name;
    return NULL;
}

void nvme_status_format(char *out, size_t cap, int status)
{
    const char *name = nvme_status_name(status);
    if (name)
        snprintf(out, cap, "NVMe status 0x%x (%s)", (unsigned)status, name);
    else
        snprintf(out, cap, "NVMe status 0x%x", (unsigned)status);
}
