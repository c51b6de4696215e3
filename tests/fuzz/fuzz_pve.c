/* fuzz_pve.c — every /etc/pve parser of the agent. The first input byte
 * picks the parser, the rest is the file's text: .members, .vmlist,
 * ha/manager_status, a qemu or lxc guest config, storage.cfg, pvecfg.pm, .rrd
 * or a PVE size. pmxcfs content is written by every node of the cluster and by
 * admins' editors; a torn read or a hostile node must never crash the agent. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "pve_members.h"
#include "pve_parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_json(unsigned which, const char *text)
{
    struct parse_err err;
    if (which == 0) {
        struct pve_members m;
        struct members_local ml;
        char why[192];
        if (parse_members(text, &m, &err) == 0) {
            pve_members_find(&m, m.nodename);
            pve_members_free(&m);
        }
        members_parse_local(text, &ml, why, sizeof why);
    } else if (which == 1) {
        struct pve_vmlist vl;
        if (parse_vmlist(text, &vl, &err) == 0)
            pve_vmlist_free(&vl);
    } else {
        struct pve_ha ha;
        if (parse_ha_manager_status(text, &ha, &err) == 0) {
            pve_ha_find(&ha, 100, PVE_GUEST_QEMU);
            pve_ha_free(&ha);
        }
    }
}

static void run_text(unsigned which, const char *text, size_t len, struct arena *a)
{
    struct parse_err err;
    if (which == 3 || which == 4) {
        enum pve_guest_type t = which == 3 ? PVE_GUEST_QEMU : PVE_GUEST_LXC;
        Pvescope__GuestConfig g = PVESCOPE__GUEST_CONFIG__INIT;
        parse_guest_config(text, t, a, &g, &err);
        pve_guest_cpus(&g, t, 16);
        pve_guest_cpus(&g, t, 0);
    } else if (which == 5) {
        Pvescope__StorageConfig **v;
        size_t n;
        parse_storage_cfg(text, a, &v, &n, &err);
    } else if (which == 6) {
        struct pve_version ver;
        parse_pvecfg(text, &ver, &err);
    } else if (which == 8) {
        struct pve_rrd_level v[4];
        int n = parse_rrd_levels(text, v, 4, &err);
        if (n < 0 || n > 4 || (n > 0 && !pve_rrd_level_of(v, (size_t)n, v[n - 1].node)))
            abort();
    } else {
        uint64_t bytes;
        pve_parse_size(text, len, &bytes);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_mode_text(data, size);
    if (!text)
        return 0;
    /* 0-7 as the seeds' first bytes have always meant; 8 is .rrd */
    unsigned which = data[0] % 16;
    if (which > 8)
        which -= 8;
    struct arena a;
    arena_init(&a, 4096);
    if (which < 3)
        run_json(which, text);
    else
        run_text(which, text, strlen(text), &a);
    arena_free(&a);
    free(text);
    return 0;
}
