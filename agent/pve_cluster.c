/* pve_cluster.c — the "cluster" collector: cluster view and guest inventory
 * from /etc/pve (pmxcfs), and the parsers of the line-based files it reads
 * (guest configs, storage.cfg, pve-manager's pvecfg.pm). The JSON files are
 * parsed in pve_members.c.
 *
 * Every cycle on every node the collector sends the whole cluster as this
 * node sees it: .members (name, quorum, members), every guest of .vmlist
 * with its placement (in compact form, common/placements.h, where that is
 * all there is to say about it), the configuration of the guests placed on
 * this node and on nodes .members calls offline (so a dead node's guests
 * keep their names), storage.cfg, the HA state of HA-managed guests, and this node's
 * pve-manager version. Runtime (running, CPU, memory use) is guests.c's job.
 *
 * Cost: parsing is done only when input changed and its result is kept here;
 * a cycle re-reads the four small status files, compares them with the last
 * text, and copies the kept result into the report's arena. How change is
 * detected for each input is explained where it is done. */
#include "collector.h"
#include "pve_members.h"
#include "placements.h"
#include "pve_parsers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- byte ranges and value grammar ------------------------------------------ */

struct span {
    const char *p;
    size_t n;
};

static bool span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool span_ieq(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

static char *span_dup(struct arena *a, struct span s) { return arena_strndup(a, s.p, s.n); }

/* Perl's \s on a line without its newline. */
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static struct span trim(struct span s)
{
    while (s.n && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static bool span_u64(struct span s, uint64_t *v)
{
    if (s.n == 0)
        return false;
    struct pp_cur c = {s.p, s.p + s.n};
    return pp_digits_u64(&c, v) && c.p == c.end;
}

static bool span_u32_in(struct span s, uint32_t lo, uint32_t hi, uint32_t *v)
{
    uint64_t x;
    if (!span_u64(s, &x) || x < lo || x > hi)
        return false;
    *v = (uint32_t)x;
    return true;
}

static bool span_decimal(struct span s, double *v)
{
    if (s.n == 0)
        return false;
    struct pp_cur c = {s.p, s.p + s.n};
    return pp_decimal_raw(&c, v) && c.p == c.end;
}

/* PVE's boolean: 1|on|yes|true or 0|off|no|false, any case. */
static bool span_bool(struct span s, bool *v)
{
    if (span_ieq(s, "1") || span_ieq(s, "on") || span_ieq(s, "yes") || span_ieq(s, "true"))
        *v = true;
    else if (span_ieq(s, "0") || span_ieq(s, "off") || span_ieq(s, "no") || span_ieq(s, "false"))
        *v = false;
    else
        return false;
    return true;
}

/* One item of a property string ("k=v,k=v,default"): has_key is false for a
 * bare value (the format's default key). */
struct prop {
    bool has_key;
    struct span key, val;
};

static bool prop_next(struct span *rest, struct prop *out)
{
    if (rest->n == 0)
        return false;
    const char *comma = memchr(rest->p, ',', rest->n);
    size_t len = comma ? (size_t)(comma - rest->p) : rest->n;
    struct span item = {rest->p, len};
    rest->p += comma ? len + 1 : len;
    rest->n -= comma ? len + 1 : len;
    const char *eq = memchr(item.p, '=', item.n);
    out->has_key = eq != NULL;
    if (eq) {
        out->key = (struct span){item.p, (size_t)(eq - item.p)};
        out->val = (struct span){eq + 1, item.n - (size_t)(eq - item.p) - 1};
    } else {
        out->key = (struct span){item.p, 0};
        out->val = item;
    }
    return true;
}

bool pve_parse_size(const char *s, size_t len, uint64_t *bytes)
{
    struct pp_cur c = {s, s + len};
    uint64_t whole;
    if (!pp_digits_u64(&c, &whole))
        return false;
    const char *frac = NULL;
    if (c.p < c.end && *c.p == '.') {
        frac = ++c.p;
        while (c.p < c.end && pp_is_digit(*c.p))
            c.p++;
        if (c.p == frac)
            return false;
    }
    unsigned shift = 0;
    if (c.p < c.end) {
        const char *units = "KMGT", *u = memchr(units, *c.p, 4);
        if (!u)
            return false;
        shift = 10 * (unsigned)(u - units + 1);
        c.p++;
        if (c.end - c.p == 2 && c.p[0] == 'i' && c.p[1] == 'B')
            c.p += 2;
    }
    if (c.p != c.end || whole > (UINT64_MAX >> shift))
        return false;
    if (!frac) {
        *bytes = whole << shift;
        return true;
    }
    /* A fraction: computed in floating point and truncated, as Perl does. */
    double f = 0, scale = 1;
    for (const char *q = frac; q < s + len && pp_is_digit(*q) && scale < 1e18; q++) {
        f = f * 10 + (*q - '0');
        scale *= 10;
    }
    double v = ((double)whole + f / scale) * (double)(UINT64_C(1) << shift);
    if (!(v < 18446744073709551616.0))
        return false;
    *bytes = (uint64_t)v;
    return true;
}

/* "<storage>:<volume>" when the part before ':' is a PVE storage id
 * ([a-z][a-z0-9-_.]*[a-z0-9], any case); else the whole text is the volume
 * (a path, "none", "cdrom"). */
static void split_volid(struct span file, struct span *storage, struct span *volume)
{
    const char *colon = memchr(file.p, ':', file.n);
    size_t n = colon ? (size_t)(colon - file.p) : 0;
    bool ok = n >= 2 && colon + 1 < file.p + file.n;
    for (size_t i = 0; ok && i < n; i++) {
        char c = file.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        bool alpha = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
        ok = i == 0 ? alpha : (alpha || digit || (i < n - 1 && (c == '-' || c == '_' || c == '.')));
    }
    if (!ok) {
        *storage = (struct span){NULL, 0};
        *volume = file;
        return;
    }
    *storage = (struct span){file.p, n};
    *volume = (struct span){colon + 1, file.n - n - 1};
}

/* ---- guest config lines ------------------------------------------------------ */

enum line_kind { LINE_SKIP, LINE_KV, LINE_SECTION, LINE_BAD };

/* ^\[[^\]]*\]\s*$ — any section header ends the main section. */
static bool is_section_header(const char *p, const char *e)
{
    if (p == e || *p != '[')
        return false;
    const char *q = memchr(p + 1, ']', (size_t)(e - p - 1));
    if (!q)
        return false;
    for (q++; q < e; q++)
        if (!is_space(*q))
            return false;
    return true;
}

/* ^lxc\.[a-z0-9_\-.]+(:|\s*=) — raw LXC keys, written after the PVE keys. */
static bool is_raw_lxc_key(const char *p, const char *e)
{
    if (e - p < 5 || memcmp(p, "lxc.", 4) != 0)
        return false;
    const char *q = p + 4, *start = q;
    while (q < e && ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || strchr("_-.", *q)))
        q++;
    if (q == start)
        return false;
    while (q < e && is_space(*q))
        q++;
    return q < e && (*q == ':' || *q == '=');
}

/* Classifies one line of a config by the grammar of parse_vm_config /
 * parse_pct_config: key ^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$ (no '-' for lxc). */
static enum line_kind classify_line(const struct pp_cur *line, enum pve_guest_type type, struct span *key,
                                    struct span *val)
{
    const char *p = line->p, *e = line->end;
    if (is_section_header(p, e))
        return LINE_SECTION;
    if (trim((struct span){p, (size_t)(e - p)}).n == 0 || *p == '#')
        return LINE_SKIP;
    if (type == PVE_GUEST_LXC && is_raw_lxc_key(p, e))
        return LINE_SKIP;
    if (*p < 'a' || *p > 'z')
        return LINE_BAD;
    const char *k = p++;
    while (p < e && ((*p >= 'a' && *p <= 'z') || *p == '_' || (*p == '-' && type == PVE_GUEST_QEMU)))
        p++;
    while (p < e && pp_is_digit(*p))
        p++;
    if (p == e || *p != ':')
        return LINE_BAD;
    *key = (struct span){k, (size_t)(p - k)};
    *val = trim((struct span){p + 1, (size_t)(e - p - 1)});
    return val->n ? LINE_KV : LINE_BAD;
}

/* A key "<prefix><index>" with a canonical decimal index. */
static bool indexed_key(struct span key, const char *prefix, unsigned max, unsigned *idx)
{
    size_t pl = strlen(prefix);
    if (key.n <= pl || memcmp(key.p, prefix, pl) != 0)
        return false;
    struct span num = {key.p + pl, key.n - pl};
    uint32_t v;
    if ((num.n > 1 && num.p[0] == '0') || !span_u32_in(num, 0, max, &v))
        return false;
    *idx = v;
    return true;
}

/* ---- guest config values ------------------------------------------------------ */

#define MIB (UINT64_C(1) << 20)
#define DEFAULT_MEMORY_MIB 512
#define LXC_DEFAULT_MAXDISK (UINT64_C(4) << 30)   /* LXC.pm vmstatus: "use 4GB by default" */
#define MAX_CPU_COUNT 65536u

/* What one config parse builds; disks and nics arrays hold one slot per line
 * of the main section, so they never grow. */
struct conf_build {
    Pvescope__GuestConfig *g;
    struct arena *a;
    enum pve_guest_type type;
    size_t cap;
    struct span boot, bootdisk;
};

static bool mib_to_bytes(struct span v, uint64_t *out)
{
    uint64_t mib;
    if (!span_u64(v, &mib) || mib > UINT64_MAX / MIB)
        return false;
    *out = mib * MIB;
    return true;
}

static bool set_name(struct conf_build *b, struct span v)
{
    b->g->name = span_dup(b->a, v);
    return true;
}

/* qemu "memory" is a property string "[current=]<MiB>"; lxc is plain MiB. */
static bool set_memory(struct conf_build *b, struct span v)
{
    struct span mib = {NULL, 0};
    struct prop p;
    if (b->type == PVE_GUEST_LXC)
        mib = v;
    else
        while (prop_next(&v, &p))
            if (!p.has_key || span_eq(p.key, "current"))
                mib = p.val;
    return mib_to_bytes(mib, &b->g->memory_bytes);
}

static bool set_balloon(struct conf_build *b, struct span v)
{
    return (b->g->has_balloon_bytes = mib_to_bytes(v, &b->g->balloon_bytes));
}

static bool set_swap(struct conf_build *b, struct span v) { return mib_to_bytes(v, &b->g->swap_bytes); }

static bool set_sockets(struct conf_build *b, struct span v)
{
    return (b->g->has_sockets = span_u32_in(v, 1, MAX_CPU_COUNT, &b->g->sockets));
}

static bool set_cores(struct conf_build *b, struct span v)
{
    return (b->g->has_cores = span_u32_in(v, 1, MAX_CPU_COUNT, &b->g->cores));
}

static bool set_vcpus(struct conf_build *b, struct span v)
{
    return (b->g->has_vcpus = span_u32_in(v, 1, MAX_CPU_COUNT, &b->g->vcpus));
}

static bool set_cpulimit(struct conf_build *b, struct span v)
{
    double x;
    if (!span_decimal(v, &x) || x > MAX_CPU_COUNT)
        return false;
    b->g->has_cpulimit = true;
    b->g->cpulimit = x;
    return true;
}

static bool set_tags(struct conf_build *b, struct span v)
{
    b->g->tags = span_dup(b->a, v);
    return true;
}

static bool set_lock(struct conf_build *b, struct span v)
{
    b->g->lock = span_dup(b->a, v);
    return true;
}

static bool set_template(struct conf_build *b, struct span v)
{
    bool x;
    if (!span_bool(v, &x))
        return false;
    b->g->template_ = x;
    return true;
}

static bool set_onboot(struct conf_build *b, struct span v)
{
    bool x;
    if (!span_bool(v, &x))
        return false;
    b->g->has_onboot = true;
    b->g->onboot = x;
    return true;
}

static bool set_boot(struct conf_build *b, struct span v)
{
    b->boot = v;
    return true;
}

static bool set_bootdisk(struct conf_build *b, struct span v)
{
    b->bootdisk = v;
    return true;
}

/* A later line with the same key replaces the earlier one, as in PVE's hash. */
static void put_disk(struct conf_build *b, Pvescope__GuestDisk *d)
{
    for (size_t i = 0; i < b->g->n_disks; i++)
        if (strcmp(b->g->disks[i]->key, d->key) == 0) {
            b->g->disks[i] = d;
            return;
        }
    if (b->g->n_disks < b->cap)
        b->g->disks[b->g->n_disks++] = d;
}

static void put_nic(struct conf_build *b, Pvescope__GuestNic *n)
{
    for (size_t i = 0; i < b->g->n_nics; i++)
        if (strcmp(b->g->nics[i]->key, n->key) == 0) {
            b->g->nics[i] = n;
            return;
        }
    if (b->g->n_nics < b->cap)
        b->g->nics[b->g->n_nics++] = n;
}

/* A drive or mount point: "[file=|volume=]<volid>[,media=cdrom][,size=..]". */
static bool add_disk(struct conf_build *b, struct span key, struct span v)
{
    struct span file = {NULL, 0}, size = {NULL, 0};
    bool cdrom = false;
    struct prop p;
    while (prop_next(&v, &p)) {
        if ((!p.has_key && !file.p) || span_eq(p.key, "file") || span_eq(p.key, "volume"))
            file = p.val;
        else if (span_eq(p.key, "media"))
            cdrom = span_eq(p.val, "cdrom");
        else if (span_eq(p.key, "size"))
            size = p.val;
    }
    uint64_t bytes = 0;
    if (!file.n || (size.p && !pve_parse_size(size.p, size.n, &bytes)))
        return false;
    Pvescope__GuestDisk *d = arena_alloc(b->a, sizeof *d);
    pvescope__guest_disk__init(d);
    d->key = span_dup(b->a, key);
    struct span storage, volume;
    split_volid(file, &storage, &volume);
    if (storage.p)
        d->storage = span_dup(b->a, storage);
    d->volume = span_dup(b->a, volume);
    d->has_size_bytes = size.p != NULL;
    d->size_bytes = bytes;
    d->has_cdrom = true;
    d->cdrom = cdrom;
    put_disk(b, d);
    return true;
}

/* xx:xx:xx:xx:xx:xx */
static bool looks_like_mac(struct span s)
{
    if (s.n != 17)
        return false;
    for (size_t i = 0; i < 17; i++) {
        char c = s.p[i];
        bool hex = pp_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (i % 3 == 2 ? c != ':' : !hex)
            return false;
    }
    return true;
}

/* One NIC option; false for a known option with an invalid value. qemu
 * writes the MAC as the value of the model key ("virtio=BC:24:..."). */
static bool nic_option(struct conf_build *b, Pvescope__GuestNic *n, const struct prop *p)
{
    if (span_eq(p->key, "bridge"))
        n->bridge = span_dup(b->a, p->val);
    else if (span_eq(p->key, "tag"))
        return (n->has_vlan_tag = span_u32_in(p->val, 1, 4094, &n->vlan_tag));
    else if (span_eq(p->key, "firewall")) {
        bool fw;
        if (!span_bool(p->val, &fw))
            return false;
        n->has_firewall = true;
        n->firewall = fw;
    } else if (span_eq(p->key, b->type == PVE_GUEST_LXC ? "hwaddr" : "macaddr") ||
               (b->type == PVE_GUEST_QEMU && !n->mac && looks_like_mac(p->val)))
        n->mac = span_dup(b->a, p->val);
    return true;
}

static bool add_nic(struct conf_build *b, struct span key, struct span v)
{
    Pvescope__GuestNic *n = arena_alloc(b->a, sizeof *n);
    pvescope__guest_nic__init(n);
    n->key = span_dup(b->a, key);
    struct prop p;
    while (prop_next(&v, &p))
        if (p.has_key && !nic_option(b, n, &p))
            return false;
    put_nic(b, n);
    return true;
}

/* qemu drive keys (is_valid_drivename) and what else is a disk. */
static bool is_qemu_drive(struct span key)
{
    unsigned i;
    return indexed_key(key, "ide", 3, &i) || indexed_key(key, "sata", 5, &i) ||
           indexed_key(key, "scsi", 30, &i) || indexed_key(key, "virtio", 15, &i) ||
           indexed_key(key, "efidisk", 0, &i) || indexed_key(key, "tpmstate", 0, &i);
}

static bool is_disk_key(struct span key, enum pve_guest_type type)
{
    unsigned i;
    if (indexed_key(key, "unused", 255, &i))
        return true;
    if (type == PVE_GUEST_LXC)
        return span_eq(key, "rootfs") || indexed_key(key, "mp", 255, &i);
    return is_qemu_drive(key);
}

typedef bool (*value_fn)(struct conf_build *b, struct span v);

#define Q (1u << PVE_GUEST_QEMU)
#define L (1u << PVE_GUEST_LXC)

static const struct {
    const char *key;
    unsigned types;
    value_fn fn;
} conf_keys[] = {
    {"name", Q, set_name},         {"hostname", L, set_name},      {"memory", Q | L, set_memory},
    {"balloon", Q, set_balloon},   {"swap", L, set_swap},          {"sockets", Q, set_sockets},
    {"cores", Q | L, set_cores},   {"vcpus", Q, set_vcpus},        {"cpulimit", Q | L, set_cpulimit},
    {"tags", Q | L, set_tags},     {"template", Q | L, set_template}, {"onboot", Q | L, set_onboot},
    {"lock", Q | L, set_lock},     {"boot", Q, set_boot},          {"bootdisk", Q, set_bootdisk},
};

/* Applies one "key: value"; false when a key we read has an invalid value
 * (PVE's check_type would warn and drop it). Unknown keys are ignored. */
static bool apply_key(struct conf_build *b, struct span key, struct span val)
{
    unsigned idx;
    for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++)
        if ((conf_keys[i].types & (1u << b->type)) && span_eq(key, conf_keys[i].key))
            return conf_keys[i].fn(b, val);
    if (is_disk_key(key, b->type))
        return add_disk(b, key, val);
    if (indexed_key(key, "net", 31, &idx))
        return add_nic(b, key, val);
    return true;
}

#undef Q
#undef L

static Pvescope__GuestDisk *find_disk(const Pvescope__GuestConfig *g, struct span key)
{
    for (size_t i = 0; i < g->n_disks; i++)
        if (span_eq(key, g->disks[i]->key))
            return g->disks[i];
    return NULL;
}

/* get_bootdisks: "boot: order=a;b" lists the boot devices; a legacy "boot:
 * cdn" (or none) defers to "bootdisk:". Returns the list as a span to split. */
static struct span boot_list(const struct conf_build *b)
{
    struct span v = b->boot, order = {NULL, 0};
    bool legacy = !b->boot.p;
    struct prop p;
    while (prop_next(&v, &p)) {
        if (!p.has_key || span_eq(p.key, "legacy"))
            legacy = true;
        else if (span_eq(p.key, "order"))
            order = p.val;
    }
    return legacy ? b->bootdisk : order;
}

/* bootdisk_size: the first listed drive that exists, is no CD-ROM and has a
 * volume is the boot disk; its size= is maxdisk (0 without one). */
static void finish_qemu(struct conf_build *b)
{
    struct span list = boot_list(b);
    b->g->has_boot_disk_bytes = true;
    while (list.n) {
        size_t n = 0;
        while (n < list.n && !strchr(";, \t", list.p[n]))
            n++;
        struct span name = {list.p, n};
        list.p += n < list.n ? n + 1 : n;
        list.n -= n < list.n ? n + 1 : n;
        Pvescope__GuestDisk *d = is_qemu_drive(name) ? find_disk(b->g, name) : NULL;
        if (!d || d->cdrom)
            continue;
        d->has_boot = d->boot = true;
        b->g->boot_disk_bytes = d->size_bytes;
        return;
    }
}

/* A stopped container's maxdisk is its rootfs size=, else 4 GiB. */
static void finish_lxc(struct conf_build *b)
{
    Pvescope__GuestDisk *d = find_disk(b->g, (struct span){"rootfs", 6});
    b->g->has_boot_disk_bytes = true;
    b->g->boot_disk_bytes = LXC_DEFAULT_MAXDISK;
    if (d) {
        d->has_boot = d->boot = true;
        if (d->has_size_bytes && d->size_bytes)
            b->g->boot_disk_bytes = d->size_bytes;
    }
    b->g->has_swap_bytes = true;       /* absent = 0: memory.swap.max 0 */
}

/* Lines up to the first section header: a bound for the disk and nic arrays. */
static size_t main_section_lines(const char *text)
{
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    size_t n = 0;
    while (pp_next_line(&pos, &line, &terminated) && !is_section_header(line.p, line.end))
        n++;
    return n;
}

int parse_guest_config(const char *text, enum pve_guest_type type, struct arena *a,
                       Pvescope__GuestConfig *g, struct parse_err *err)
{
    memset(err, 0, sizeof *err);
    struct conf_build b = {.g = g, .a = a, .type = type, .cap = main_section_lines(text)};
    g->disks = arena_alloc(a, (b.cap ? b.cap : 1) * sizeof *g->disks);
    g->nics = arena_alloc(a, (b.cap ? b.cap : 1) * sizeof *g->nics);
    g->has_has_config = g->has_config = true;
    g->has_memory_bytes = true;
    g->memory_bytes = DEFAULT_MEMORY_MIB * MIB;
    g->has_template_ = true;
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    for (int lineno = 1; pp_next_line(&pos, &line, &terminated); lineno++) {
        struct span key, val;
        enum line_kind k = classify_line(&line, type, &key, &val);
        if (k == LINE_SECTION)
            break;
        if (k == LINE_KV && apply_key(&b, key, val))
            continue;
        if (k == LINE_SKIP)
            continue;
        err->bad_rows++;
        if (k == LINE_BAD)
            pp_err(err, lineno, "not a \"key: value\" line");
        else
            pp_err(err, lineno, "invalid value for \"%.*s\"", (int)key.n, key.p);
    }
    if (type == PVE_GUEST_QEMU)
        finish_qemu(&b);
    else
        finish_lxc(&b);
    return 0;
}

uint32_t pve_guest_cpus(const Pvescope__GuestConfig *g, enum pve_guest_type type, uint32_t host_cpus)
{
    if (type == PVE_GUEST_LXC) {
        if (g->has_cores)
            return g->cores;
        if (g->has_cpulimit && g->cpulimit > 0) {
            uint32_t n = (uint32_t)g->cpulimit;      /* rounded up; cpulimit ≤ MAX_CPU_COUNT */
            return (double)n < g->cpulimit ? n + 1 : n;
        }
        return host_cpus;
    }
    if (g->has_vcpus)
        return g->vcpus;
    uint64_t cpus = (uint64_t)(g->has_sockets ? g->sockets : 1) * (g->has_cores ? g->cores : 1);
    if (host_cpus && cpus > host_cpus)
        cpus = host_cpus;
    return (uint32_t)(cpus > UINT32_MAX ? UINT32_MAX : cpus);
}

/* ---- storage.cfg ----------------------------------------------------------- */

/* Storage types PVE marks shared whatever the file says (Plugin.pm @SHARED_STORAGE,
 * plus glusterfs of PVE ≤ 8). */
static bool type_always_shared(const char *type)
{
    static const char *const shared[] = {"iscsi", "nfs", "cifs", "rbd", "cephfs", "iscsidirect",
                                         "zfs", "drbd", "pbs", "glusterfs"};
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        if (strcmp(type, shared[i]) == 0)
            return true;
    return false;
}

/* pve-storage-id: [a-z][a-z0-9\-_.]*[a-z0-9], any case. */
static bool storage_id_ok(struct span id)
{
    struct span storage, volume;
    char tmp[256];
    if (id.n == 0 || id.n + 3 > sizeof tmp)
        return false;
    memcpy(tmp, id.p, id.n);
    memcpy(tmp + id.n, ":x", 2);
    split_volid((struct span){tmp, id.n + 2}, &storage, &volume);
    return storage.n == id.n;
}

struct storage_build {
    struct arena *a;
    Pvescope__StorageConfig **v;
    size_t n;
    Pvescope__StorageConfig *cur;    /* section being read */
    bool skipping;                   /* inside a section we refused */
    unsigned seen;                   /* keys seen in cur (duplicates are refused) */
    struct parse_err *err;
};

enum { SK_PATH, SK_VGNAME, SK_THINPOOL, SK_POOL, SK_CONTENT, SK_SHARED, SK_DISABLE, SK_NODES };

static void set_nodes(struct arena *a, Pvescope__StorageConfig *s, struct span v)
{
    size_t cap = 1;
    for (size_t i = 0; i < v.n; i++)
        cap += strchr(",; \t", v.p[i]) != NULL;
    s->nodes = arena_alloc(a, cap * sizeof *s->nodes);
    while (v.n) {
        size_t n = 0;
        while (n < v.n && !strchr(",; \t", v.p[n]))
            n++;
        if (n)
            s->nodes[s->n_nodes++] = span_dup(a, (struct span){v.p, n});
        v.p += n < v.n ? n + 1 : n;
        v.n -= n < v.n ? n + 1 : n;
    }
}

/* Applies one "key [value]" to the current storage; false when the value is
 * invalid or the key repeats. Keys the report has no field for are ignored. */
static bool apply_storage_key(struct storage_build *sb, struct span k, struct span v, bool has_v)
{
    static const char *const names[] = {"path", "vgname", "thinpool", "pool", "content", "shared", "disable", "nodes"};
    Pvescope__StorageConfig *s = sb->cur;
    int key = -1;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (span_eq(k, names[i]))
            key = i;
    if (key < 0)
        return true;
    if (sb->seen & (1u << key))
        return false;
    sb->seen |= 1u << key;
    bool flag = true;
    if (key == SK_SHARED || key == SK_DISABLE) {
        if (has_v && !span_bool(v, &flag))
            return false;
        if (key == SK_SHARED) {
            s->shared = flag || type_always_shared(s->type);
        } else {
            s->has_disabled = true;
            s->disabled = flag;
        }
        return true;
    }
    if (!has_v)
        return false;
    char **slot[] = {&s->path, &s->vgname, &s->thinpool, &s->pool, &s->content};
    if (key == SK_NODES)
        set_nodes(sb->a, s, v);
    else
        *slot[key] = span_dup(sb->a, v);
    return true;
}

static void storage_bad(struct storage_build *sb, int lineno, const char *what)
{
    sb->err->bad_rows++;
    pp_err(sb->err, lineno, "%s", what);
}

/* Splits a section header ^(\S+):\s*(\S+)\s*$ into type and id. */
static bool split_header(struct pp_cur *line, struct span *type, struct span *id)
{
    const char *w1, *w2, *w3;
    size_t n1, n2, n3;
    if (pp_is_blank(*line->p))
        return false;
    pp_word(line, &w1, &n1);
    bool two = pp_word(line, &w2, &n2);
    if (two) {
        if (pp_word(line, &w3, &n3) || n1 < 2 || w1[n1 - 1] != ':')
            return false;
        *type = (struct span){w1, n1 - 1};
        *id = (struct span){w2, n2};
        return true;
    }
    const char *colon = NULL;
    for (size_t i = 0; i + 1 < n1; i++)
        if (w1[i] == ':')
            colon = w1 + i;
    if (!colon || colon == w1)
        return false;
    *type = (struct span){w1, (size_t)(colon - w1)};
    *id = (struct span){colon + 1, n1 - (size_t)(colon - w1) - 1};
    return true;
}

/* A section header starts a storage; a bad or repeated id is refused along
 * with its property lines. */
static void storage_header(struct storage_build *sb, struct pp_cur *line, int lineno)
{
    struct span type, id;
    if (!split_header(line, &type, &id)) {
        storage_bad(sb, lineno, "not a \"<type>: <storage>\" section header");
        return;
    }
    sb->skipping = true;
    bool dup = false;
    for (size_t i = 0; i < sb->n && !dup; i++)
        dup = span_eq(id, sb->v[i]->id);
    if (!storage_id_ok(id) || dup) {
        storage_bad(sb, lineno, dup ? "storage id defined twice" : "invalid storage id");
        return;
    }
    Pvescope__StorageConfig *s = arena_alloc(sb->a, sizeof *s);
    pvescope__storage_config__init(s);
    s->id = span_dup(sb->a, id);
    s->type = span_dup(sb->a, type);
    s->has_shared = true;
    s->shared = type_always_shared(s->type);
    sb->v[sb->n++] = s;
    sb->cur = s;
    sb->skipping = false;
    sb->seen = 0;
}

/* A property line ^\s+(\S+)(\s+(.*\S))?\s*$ of the current section. */
static void storage_property(struct storage_build *sb, struct pp_cur *line, int lineno)
{
    if (!pp_is_blank(*line->p)) {
        storage_bad(sb, lineno, "property line does not start with a blank");
        return;
    }
    const char *k;
    size_t kn;
    pp_word(line, &k, &kn);
    struct span v = trim((struct span){line->p, (size_t)(line->end - line->p)});
    if (sb->skipping)
        return;
    if (!apply_storage_key(sb, (struct span){k, kn}, v, v.n > 0))
        storage_bad(sb, lineno, "invalid or repeated property");
}

int parse_storage_cfg(const char *text, struct arena *a, Pvescope__StorageConfig ***out, size_t *n,
                      struct parse_err *err)
{
    memset(err, 0, sizeof *err);
    struct storage_build sb = {.a = a, .err = err};
    sb.v = arena_alloc(a, pp_count_lines(text) * sizeof *sb.v);
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    for (int lineno = 1; pp_next_line(&pos, &line, &terminated); lineno++) {
        struct pp_cur probe = line;
        pp_skip_blanks(&probe);
        bool blank = probe.p == probe.end;
        if (!blank && *probe.p == '#')
            continue;                          /* comments, anywhere */
        if (line.p == line.end) {
            sb.cur = NULL;                     /* an empty line ends a section */
            sb.skipping = false;
        } else if (blank) {
            continue;                          /* blanks-only lines: PVE warns, nothing more */
        } else if (sb.cur || sb.skipping) {
            storage_property(&sb, &line, lineno);
        } else {
            storage_header(&sb, &line, lineno);
        }
    }
    *out = sb.v;
    *n = sb.n;
    return (int)sb.n;
}

/* ---- pvecfg.pm --------------------------------------------------------------- */

/* The string literal returned by "sub <name> { return '<value>'; }". */
static bool perl_sub_string(const char *text, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = text; (p = strstr(p, "sub ")) != NULL; p += 4) {
        const char *q = p + 4;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncmp(q, name, nl) != 0 || !strchr(" \t\n{", q[nl]) || q[nl] == '\0')
            continue;
        const char *body = strchr(q, '{'), *close = body ? strchr(body, '}') : NULL;
        const char *ret = body ? strstr(body, "return") : NULL;
        if (!ret || !close || ret > close)
            return false;
        const char *v = ret + 6;
        while (*v == ' ' || *v == '\t')
            v++;
        char quote = *v;
        const char *end = (quote == '\'' || quote == '"') ? strchr(v + 1, quote) : NULL;
        size_t n = end ? (size_t)(end - v - 1) : 0;
        if (!end || end > close || n == 0 || n >= cap || strspn(v + 1, "0123456789abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-+~_:") < n)
            return false;
        memcpy(out, v + 1, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

int parse_pvecfg(const char *text, struct pve_version *out, struct parse_err *err)
{
    memset(err, 0, sizeof *err);
    memset(out, 0, sizeof *out);
    if (!perl_sub_string(text, "version", out->version, sizeof out->version)) {
        pp_err(err, 0, "no \"sub version { return '<version>' }\"");
        return -1;
    }
    perl_sub_string(text, "release", out->release, sizeof out->release);
    perl_sub_string(text, "repoid", out->repoid, sizeof out->repoid);
    return 0;
}

/* ---- reading pmxcfs ----------------------------------------------------------- */

/* One read is enough for the status files and configs (pmxcfs caps files at
 * 1 MiB and serves a FUSE read of up to 128 KiB at once); reading them in one
 * piece is what keeps a concurrent regeneration from tearing the text. */
#define PMXCFS_READ_RESERVE (128u * 1024 - 1)

/* The default reader. Opens the file for every read: pmxcfs regenerates
 * .members/.vmlist on lookup or stat and serves that text to reads, so a
 * descriptor kept open across cycles (the file cache) would read a stale
 * text for ever. pmxcfs answers a read with all it has up to the size asked
 * (cfs_plug_func_read, memdb reads), so a short read is the end of the file
 * and the read that would return 0 is skipped, as file_cache_read does for
 * one-record /proc files: open, read, close is the whole cost of a file. */
static int pmxcfs_read(void *arg, const char *root, const char *rel, struct buf *b, struct stat *st)
{
    (void)arg;
    char path[4096];
    buf_reset(b);
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = st && fstat(fd, st) != 0 ? -errno : 0;
    while (rc == 0) {
        buf_reserve(b, b->len ? b->len : PMXCFS_READ_RESERVE);
        size_t room = b->cap - b->len - 1;
        ssize_t n = read(fd, b->data + b->len, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        if (n <= 0)
            break;
        b->len += (size_t)n;
        if (b->len > FILEIO_MAX_BYTES)
            rc = -EFBIG;
        else if ((size_t)n < room)
            break;
    }
    close(fd);
    b->data[b->len] = '\0';
    return rc;
}

/* What identifies a version of a file for stat-based change checks. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

static struct file_id file_id_of(const struct stat *st)
{
    return (struct file_id){st->st_dev, st->st_ino, st->st_size, st->st_mtim};
}

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static bool same_text(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static bool looks_truncated(const struct buf *b) { return b->len > 0 && b->data[b->len - 1] != '\n'; }

/* ---- collector state ------------------------------------------------------------ */

/* A status file parsed only when its bytes differ from the last good text. */
struct text_file {
    const char *rel;
    struct buf last;
    bool valid;
};

/* One guest config as last read. Slots of a generation are sorted by vmid. */
struct conf_slot {
    uint32_t vmid, version;          /* version: the .vmlist entry's when read */
    enum pve_guest_type type;
    char node[PVE_NAME_MAX];
    bool loaded;                     /* conf is a parse of the file */
    bool stale;                      /* a stat showed the file changed since */
    int read_error;                  /* negative errno when !loaded */
    struct file_id id;
    double checked_at;               /* monotonic time of the last read or stat */
    unsigned bad_lines;
    int first_bad_line;
    char first_bad[80];
    Pvescope__GuestConfig *conf;     /* config fields only; in the generation's arena */
};

/* A generation of guest configs; the collector keeps two and rebuilds into
 * the other one when anything changes, copying unchanged configs over. */
struct conf_cache {
    struct arena arena;
    struct conf_slot *v;
    size_t n, cap;
    unsigned problems;               /* configs missing, unreadable or with bad lines */
    char warn[320];                  /* the first of them */
};

struct cluster_state {
    pmxcfs_reader_fn read;
    void *read_arg;
    char pvecfg_path[4096];
    struct buf text2;                /* the second read of a text that looked torn */

    struct text_file members_f, vmlist_f, storage_f, ha_f;
    struct pve_members m;
    struct pve_vmlist vl;
    struct parse_err vmlist_warn;
    bool vmlist_restarted;           /* .vmlist's version went backwards this cycle */
    struct pve_ha ha;
    struct parse_err ha_warn;
    struct arena storage_arena[2];
    int storage_cur;
    Pvescope__StorageConfig **storages;
    size_t n_storages;
    struct parse_err storage_warn;

    struct conf_cache cache[2];
    int cur;

    struct pve_version ver;
    bool has_ver, ver_checked;
    struct file_id ver_id;
    double ver_checked_at;
    char ver_warn[160];

    uint32_t host_cpus;
    double host_cpus_at;

    struct pve_rrd_level *levels;    /* every node's subscription level, from .rrd */
    size_t n_levels;
    double levels_at;                /* when .rrd was last read; 0 = never */
    struct parse_err rrd_warn;

    struct cluster_counters counters;
};

/* A config is re-validated by stat at least this often even when .vmlist
 * says nothing changed (see cache_current). */
#define CONFIG_REVALIDATE_SECONDS 300.0
#define PVECFG_CHECK_SECONDS 60.0
#define HOST_CPUS_CHECK_SECONDS 60.0
/* .rrd lists every guest too (hundreds of kilobytes on a big cluster) for
 * the one value per node we take from it, which changes with a new
 * subscription: read it once a minute, not every cycle. */
#define RRD_CHECK_SECONDS 60.0

static int read_pmxcfs(struct cluster_state *st, const char *root, const char *rel, struct buf *b,
                       struct stat *sb)
{
    return st->read(st->read_arg, root, rel, b, sb);
}

const struct cluster_counters *cluster_collector_counters(const void *state)
{
    return &((const struct cluster_state *)state)->counters;
}

void cluster_collector_set_reader(void *state, pmxcfs_reader_fn fn, void *arg)
{
    struct cluster_state *st = state;
    st->read = fn ? fn : pmxcfs_read;
    st->read_arg = arg;
}

void cluster_collector_set_pvecfg_path(void *state, const char *path)
{
    struct cluster_state *st = state;
    snprintf(st->pvecfg_path, sizeof st->pvecfg_path, "%s", path);
    st->ver_checked = st->has_ver = false;
    memset(&st->ver_id, 0, sizeof st->ver_id);
}

/* ---- the status files ------------------------------------------------------------ */

/* Parses text (NULL: the file is absent) and, on success, makes it the
 * state's. final: the same bytes were read twice, so a missing last newline
 * is how the file is, not a torn read. */
typedef int (*commit_fn)(struct cluster_state *st, const char *text, bool final, struct parse_err *err);

static int commit_members(struct cluster_state *st, const char *text, bool final, struct parse_err *err)
{
    (void)final;
    struct pve_members m;
    memset(&m, 0, sizeof m);
    if (text) {
        st->counters.members_parses++;
        if (parse_members(text, &m, err) != 0)
            return -1;
    }
    pve_members_free(&st->m);
    st->m = m;
    return 0;
}

static int commit_vmlist(struct cluster_state *st, const char *text, bool final, struct parse_err *err)
{
    (void)final;
    struct pve_vmlist vl;
    memset(&vl, 0, sizeof vl);
    memset(err, 0, sizeof *err);
    if (text) {
        st->counters.vmlist_parses++;
        if (parse_vmlist(text, &vl, err) != 0)
            return -1;
    }
    if (vl.has_version && st->vl.has_version && vl.version < st->vl.version)
        st->vmlist_restarted = true;
    pve_vmlist_free(&st->vl);
    st->vl = vl;
    st->vmlist_warn = *err;
    return 0;
}

static int commit_ha(struct cluster_state *st, const char *text, bool final, struct parse_err *err)
{
    (void)final;
    struct pve_ha ha;
    memset(&ha, 0, sizeof ha);
    memset(err, 0, sizeof *err);
    if (text) {
        st->counters.ha_parses++;
        if (parse_ha_manager_status(text, &ha, err) != 0)
            return -1;
    }
    pve_ha_free(&st->ha);
    st->ha = ha;
    st->ha_warn = *err;
    return 0;
}

/* storage.cfg always ends with a newline as PVE writes it; a text without
 * one is read again before it is believed. */
static int commit_storage(struct cluster_state *st, const char *text, bool final, struct parse_err *err)
{
    memset(err, 0, sizeof *err);
    size_t len = text ? strlen(text) : 0;
    if (text && !final && len && text[len - 1] != '\n') {
        pp_err(err, pp_count_lines(text) > 1 ? (int)pp_count_lines(text) - 1 : 1,
               "truncated (last line has no newline)");
        return -1;
    }
    int next = !st->storage_cur;
    arena_reset(&st->storage_arena[next]);
    st->storages = NULL;
    st->n_storages = 0;
    if (text) {
        st->counters.storage_parses++;
        parse_storage_cfg(text, &st->storage_arena[next], &st->storages, &st->n_storages, err);
    }
    st->storage_cur = next;
    st->storage_warn = *err;
    return 0;
}

static void remember_text(struct text_file *f, const struct buf *b)
{
    buf_reset(&f->last);
    buf_append(&f->last, b->data, b->len);
    f->valid = true;
}

static int fail_parse(struct collector_ctx *ctx, const char *rel, const struct parse_err *e)
{
    const char *msg = e->msg[0] ? e->msg : "parse error";
    if (e->line > 0)
        return collector_fail(ctx, "%s/%s line %d: %s (read twice)", ctx->pve, rel, e->line, msg);
    return collector_fail(ctx, "%s/%s: %s (read twice)", ctx->pve, rel, msg);
}

/* Reads f and hands it to commit when its bytes changed. A text that fails
 * to parse is read once more: identical bytes are the file as it is (commit
 * decides with final = true), different bytes mean the first read was torn
 * and the second is parsed instead. Returns 1 when the file is absent (commit
 * has forgotten it), 0 when the state holds its parse, -1 (ctx->err) when it
 * could not be read or two reads failed to parse; the state is then unchanged. */
static int load_text_file(struct cluster_state *st, struct collector_ctx *ctx, struct text_file *f,
                          commit_fn commit)
{
    struct buf *b = ctx->scratch;
    struct parse_err err;
    int rc = read_pmxcfs(st, ctx->pve, f->rel, b, NULL);
    if (rc == -ENOENT) {
        f->valid = false;
        commit(st, NULL, true, &err);
        return 1;
    }
    if (rc < 0)
        return collector_fail(ctx, "%s/%s: %s", ctx->pve, f->rel, strerror(-rc));
    if (f->valid && same_text(&f->last, b))
        return 0;
    if (commit(st, b->data, false, &err) == 0) {
        remember_text(f, b);
        return 0;
    }
    st->counters.rereads++;
    rc = read_pmxcfs(st, ctx->pve, f->rel, &st->text2, NULL);
    if (rc < 0)
        return collector_fail(ctx, "%s/%s: %s", ctx->pve, f->rel, strerror(-rc));
    if (commit(st, st->text2.data, same_text(b, &st->text2), &err) == 0) {
        remember_text(f, &st->text2);
        return 0;
    }
    f->valid = false;
    return fail_parse(ctx, f->rel, &err);
}

/* ---- pve-manager version ------------------------------------------------------------ */

/* The version changes only when pve-manager is upgraded: a stat a minute
 * notices it, and the file is read only when the stat differs. */
static void refresh_version(struct cluster_state *st, double now)
{
    if (st->ver_checked && now - st->ver_checked_at < PVECFG_CHECK_SECONDS)
        return;
    st->ver_checked = true;
    st->ver_checked_at = now;
    struct stat sb;
    if (stat(st->pvecfg_path, &sb) != 0) {
        st->has_ver = false;
        st->ver_warn[0] = '\0';
        memset(&st->ver_id, 0, sizeof st->ver_id);
        return;
    }
    struct file_id id = file_id_of(&sb);
    if (file_id_eq(&id, &st->ver_id))
        return;
    st->ver_id = id;
    st->counters.version_parses++;
    struct parse_err err;
    int rc = read_file_at(st->pvecfg_path[0] == '/' ? "/" : ".", st->pvecfg_path, &st->text2);
    st->has_ver = rc == 0 && parse_pvecfg(st->text2.data, &st->ver, &err) == 0;
    if (rc != 0)
        snprintf(st->ver_warn, sizeof st->ver_warn, "%.100s: %.50s", st->pvecfg_path, strerror(-rc));
    else if (!st->has_ver)
        snprintf(st->ver_warn, sizeof st->ver_warn, "%.100s: %.50s", st->pvecfg_path, err.msg);
    else
        st->ver_warn[0] = '\0';
}

/* ---- guest configs ------------------------------------------------------------------ */

/* Configs are read for guests on this node, and for guests on nodes that
 * .members calls offline or does not list (pmxcfs still holds their files,
 * so the inventory of a dead node stays complete). */
static bool wants_config(const struct cluster_state *st, const struct vmlist_entry *e)
{
    if (strcmp(e->node, st->m.nodename) == 0)
        return true;
    if (!st->m.has_cluster)
        return false;
    const struct pve_member *mb = pve_members_find(&st->m, e->node);
    return !mb || !mb->online;
}

static int cmp_slot(const void *key, const void *slot)
{
    uint32_t a = *(const uint32_t *)key, b = ((const struct conf_slot *)slot)->vmid;
    return (a > b) - (a < b);
}

static struct conf_slot *slot_find(struct conf_cache *c, uint32_t vmid)
{
    return c->n ? bsearch(&vmid, c->v, c->n, sizeof *c->v, cmp_slot) : NULL;
}

/* A slot still describes the config .vmlist points at. */
static bool slot_matches(const struct conf_slot *s, const struct vmlist_entry *e)
{
    return s && s->loaded && !s->stale && s->type == e->type && s->version == e->version &&
           strcmp(s->node, e->node) == 0;
}

static void config_rel(const struct vmlist_entry *e, char *out, size_t cap)
{
    snprintf(out, cap, "nodes/%s/%s/%u.conf", e->node, e->type == PVE_GUEST_LXC ? "lxc" : "qemu-server",
             e->vmid);
}

/* Re-validation by stat. pmxcfs bumps a guest's .vmlist entry version on
 * every write or rename of its config (memdb_pwrite / memdb_rename call
 * vmlist_register_vm), so an unchanged version means an unchanged file and
 * the steady state costs no syscall per guest. The version counter restarts
 * with pmxcfs, though, so an equal number after a restart proves nothing:
 * then (version going backwards) and every CONFIG_REVALIDATE_SECONDS anyway,
 * a stat (one FUSE getattr, cheaper than open+read+close and a parse) checks
 * mtime, size and inode. */
static void revalidate(struct cluster_state *st, struct collector_ctx *ctx, struct conf_slot *s,
                       const struct vmlist_entry *e)
{
    double now = ctx->now_monotonic;
    if (!st->vmlist_restarted && now - s->checked_at < CONFIG_REVALIDATE_SECONDS)
        return;
    char rel[160], path[4096];
    config_rel(e, rel, sizeof rel);
    struct stat sb;
    st->counters.config_stats++;
    s->checked_at = now;
    if (!path_join(path, sizeof path, ctx->pve, rel) || stat(path, &sb) != 0) {
        s->stale = true;
        return;
    }
    struct file_id id = file_id_of(&sb);
    s->stale = !file_id_eq(&id, &s->id);
}

/* True when the current generation is exactly what this cycle needs. */
static bool cache_current(struct cluster_state *st, struct collector_ctx *ctx)
{
    struct conf_cache *c = &st->cache[st->cur];
    size_t want = 0;
    bool ok = true;
    for (size_t i = 0; i < st->vl.n; i++) {
        const struct vmlist_entry *e = &st->vl.v[i];
        if (!wants_config(st, e))
            continue;
        want++;
        struct conf_slot *s = slot_find(c, e->vmid);
        if (slot_matches(s, e))
            revalidate(st, ctx, s, e);
        ok = ok && slot_matches(s, e);
    }
    return ok && want == c->n;
}

/* Reads a config; a text without its final newline is read again and kept
 * only when the second read is complete or identical (a file really without
 * one). Returns 0 with *out, or a negative errno (-EAGAIN: torn twice). */
static int read_config(struct cluster_state *st, struct collector_ctx *ctx, const char *rel, struct buf **out,
                       struct stat *sb)
{
    struct buf *b = ctx->scratch;
    int rc = read_pmxcfs(st, ctx->pve, rel, b, sb);
    *out = b;
    if (rc < 0 || !looks_truncated(b))
        return rc;
    st->counters.rereads++;
    struct stat sb2;
    rc = read_pmxcfs(st, ctx->pve, rel, &st->text2, &sb2);
    if (rc < 0)
        return rc;
    if (!same_text(b, &st->text2) && looks_truncated(&st->text2))
        return -EAGAIN;
    *out = &st->text2;
    *sb = sb2;
    return 0;
}

/* Fills slot d from the file .vmlist entry e points at. A missing or
 * unreadable config leaves the guest without one (has_config false). */
static void load_slot(struct cluster_state *st, struct collector_ctx *ctx, const struct vmlist_entry *e,
                      struct conf_slot *d, struct arena *a)
{
    memset(d, 0, sizeof *d);
    d->vmid = e->vmid;
    d->version = e->version;
    d->type = e->type;
    memcpy(d->node, e->node, sizeof d->node);
    d->checked_at = ctx->now_monotonic;
    char rel[160];
    config_rel(e, rel, sizeof rel);
    struct buf *text;
    struct stat sb;
    st->counters.config_reads++;
    d->read_error = read_config(st, ctx, rel, &text, &sb);
    if (d->read_error < 0)
        return;
    Pvescope__GuestConfig *g = arena_alloc(a, sizeof *g);
    pvescope__guest_config__init(g);
    struct parse_err err;
    parse_guest_config(text->data, e->type, a, g, &err);
    d->conf = g;
    d->loaded = true;
    d->id = file_id_of(&sb);
    d->bad_lines = err.bad_rows;
    d->first_bad_line = err.line;
    snprintf(d->first_bad, sizeof d->first_bad, "%.79s", err.msg);
}

static char *dup_opt(struct arena *a, const char *s) { return s ? arena_strdup(a, s) : NULL; }

static Pvescope__GuestDisk **copy_disks(Pvescope__GuestDisk *const *src, size_t n, struct arena *a)
{
    Pvescope__GuestDisk **v = arena_alloc(a, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = arena_alloc(a, sizeof *v[i]);
        *v[i] = *src[i];
        v[i]->key = arena_strdup(a, src[i]->key);
        v[i]->storage = dup_opt(a, src[i]->storage);
        v[i]->volume = dup_opt(a, src[i]->volume);
    }
    return v;
}

static Pvescope__GuestNic **copy_nics(Pvescope__GuestNic *const *src, size_t n, struct arena *a)
{
    Pvescope__GuestNic **v = arena_alloc(a, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = arena_alloc(a, sizeof *v[i]);
        *v[i] = *src[i];
        v[i]->key = arena_strdup(a, src[i]->key);
        v[i]->bridge = dup_opt(a, src[i]->bridge);
        v[i]->mac = dup_opt(a, src[i]->mac);
    }
    return v;
}

/* Deep copy of a config parse into a; vmid, type, node, cpus and ha_state
 * are the report's to set each cycle (a parse never sets them), and node and
 * ha_state point into the previous cycle's .vmlist and HA status: cleared. */
static void copy_config(Pvescope__GuestConfig *dst, const Pvescope__GuestConfig *src, struct arena *a)
{
    *dst = *src;
    dst->node = NULL;
    dst->ha_state = NULL;
    dst->name = dup_opt(a, src->name);
    dst->tags = dup_opt(a, src->tags);
    dst->lock = dup_opt(a, src->lock);
    dst->disks = copy_disks(src->disks, src->n_disks, a);
    dst->nics = copy_nics(src->nics, src->n_nics, a);
}

/* Adds slot s's problem (if any) to the generation's warning. */
static void note_slot_problem(struct conf_cache *c, const struct conf_slot *s, const char *pve)
{
    if (s->loaded && s->bad_lines == 0)
        return;
    if (c->problems++ > 0)
        return;
    char rel[160];
    struct vmlist_entry e = {.vmid = s->vmid, .type = s->type};
    memcpy(e.node, s->node, sizeof e.node);
    config_rel(&e, rel, sizeof rel);
    if (!s->loaded)
        snprintf(c->warn, sizeof c->warn, "%.64s/%.100s: %.40s (guest listed in .vmlist)", pve, rel,
                 s->read_error == -EAGAIN ? "changed while read twice" : strerror(-s->read_error));
    else
        snprintf(c->warn, sizeof c->warn, "%.64s/%.100s: skipped %u bad line(s), first at line %d: %.79s", pve, rel,
                 s->bad_lines, s->first_bad_line, s->first_bad);
}

static void cache_reserve(struct conf_cache *c, size_t n)
{
    if (n <= c->cap)
        return;
    struct conf_slot *v = realloc(c->v, n * sizeof *v);
    if (!v)
        abort();
    c->v = v;
    c->cap = n;
}

/* Builds the next generation: unchanged configs are copied from the current
 * one, the others read and parsed. Then it becomes the current one. */
static void cache_rebuild(struct cluster_state *st, struct collector_ctx *ctx)
{
    struct conf_cache *old = &st->cache[st->cur], *nw = &st->cache[!st->cur];
    arena_reset(&nw->arena);
    cache_reserve(nw, st->vl.n);
    nw->n = 0;
    nw->problems = 0;
    nw->warn[0] = '\0';
    for (size_t i = 0; i < st->vl.n; i++) {
        const struct vmlist_entry *e = &st->vl.v[i];
        if (!wants_config(st, e))
            continue;
        struct conf_slot *s = slot_find(old, e->vmid), *d = &nw->v[nw->n++];
        if (slot_matches(s, e)) {
            *d = *s;
            d->conf = arena_alloc(&nw->arena, sizeof *d->conf);
            copy_config(d->conf, s->conf, &nw->arena);
        } else {
            load_slot(st, ctx, e, d, &nw->arena);
        }
        note_slot_problem(nw, d, ctx->pve);
    }
    st->cur = !st->cur;
}

/* ---- the report ------------------------------------------------------------------- */

/* Host CPUs cap a VM's cpus as vmstatus does. The stat collector, earlier in
 * the cycle, already counted them; otherwise <procfs>/stat is read at most
 * once a minute. */
static uint32_t host_cpu_count(struct cluster_state *st, struct collector_ctx *ctx, const Pvescope__Report *r)
{
    double now = ctx->now_monotonic;
    if (r->host && r->host->has_cpu_count && r->host->cpu_count) {
        st->host_cpus = r->host->cpu_count;
        st->host_cpus_at = now;
    } else if (!st->host_cpus || now - st->host_cpus_at >= HOST_CPUS_CHECK_SECONDS) {
        struct proc_stat ps;
        struct parse_err err;
        int rc = ctx->files ? file_cache_read(ctx->files, ctx->procfs, "stat", ctx->scratch, FILE_ONE_RECORD)
                            : read_file_at(ctx->procfs, "stat", ctx->scratch);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        st->host_cpus = rc == 0 && parse_proc_stat(ctx->scratch->data, &ps, &err) == 0 ? ps.cpu_count
                        : n > 0                                                      ? (uint32_t)n
                                                                                     : 0;
        st->host_cpus_at = now;
    }
    return st->host_cpus;
}

/* Reads .rrd's subscription levels when RRD_CHECK_SECONDS have passed. An
 * absent .rrd (a node without pvestatd) clears them; an unreadable one keeps
 * the last ones and says so. */
static void refresh_levels(struct cluster_state *st, struct collector_ctx *ctx)
{
    double now = ctx->now_monotonic;
    if (st->levels_at > 0 && now - st->levels_at < RRD_CHECK_SECONDS)
        return;
    st->levels_at = now > 0 ? now : 1e-9;
    memset(&st->rrd_warn, 0, sizeof st->rrd_warn);
    struct buf *b = ctx->scratch;
    int rc = read_pmxcfs(st, ctx->pve, ".rrd", b, NULL);
    if (rc == -ENOENT) {
        st->n_levels = 0;
        return;
    }
    if (rc != 0) {
        pp_err(&st->rrd_warn, 0, "unreadable: %s", strerror(-rc));
        st->rrd_warn.bad_rows = 1;
        return;
    }
    size_t cap = pp_count_lines(b->data);
    struct pve_rrd_level *v = realloc(st->levels, cap * sizeof *v);
    if (!v)
        abort();
    st->levels = v;
    st->n_levels = (size_t)parse_rrd_levels(b->data, v, cap, &st->rrd_warn);
}

static void report_members(const struct cluster_state *st, struct arena *a, Pvescope__ClusterView *cv)
{
    cv->members = arena_alloc(a, (st->m.n ? st->m.n : 1) * sizeof *cv->members);
    for (size_t i = 0; i < st->m.n; i++) {
        const struct pve_member *mb = &st->m.v[i];
        Pvescope__ClusterMember *cm = arena_alloc(a, sizeof *cm);
        pvescope__cluster_member__init(cm);
        cm->name = arena_strdup(a, mb->name);
        cm->has_nodeid = true;
        cm->nodeid = mb->nodeid;
        cm->has_online = true;
        cm->online = mb->online;
        if (mb->has_ip)
            cm->ip = arena_strdup(a, mb->ip);
        const char *level = pve_rrd_level_of(st->levels, st->n_levels, mb->name);
        if (level)
            cm->subscription_level = arena_strdup(a, level);
        const char *ha = pve_ha_node_state(&st->ha, mb->name);
        if (ha)
            cm->ha_state = arena_strdup(a, ha);
        cv->members[cv->n_members++] = cm;
    }
}

/* Report.cluster and Report.pve (the aggregator's node id and cluster name). */
static void report_cluster(const struct cluster_state *st, struct arena *a, Pvescope__Report *r)
{
    Pvescope__ClusterView *cv = arena_alloc(a, sizeof *cv);
    pvescope__cluster_view__init(cv);
    Pvescope__PveLocal *pl = arena_alloc(a, sizeof *pl);
    pvescope__pve_local__init(pl);
    if (st->m.has_cluster) {
        if (st->m.cluster_name[0])
            cv->name = pl->cluster_name = arena_strdup(a, st->m.cluster_name);
        cv->has_config_version = cv->has_expected_nodes = true;
        cv->config_version = st->m.config_version;
        cv->expected_nodes = st->m.expected_nodes;
        report_members(st, a, cv);
    }
    cv->has_quorate = true;
    cv->quorate = st->m.quorate;
    cv->has_vmlist_version = st->vl.has_version;
    cv->vmlist_version = st->vl.version;
    if (st->has_ver) {
        cv->pve_version = arena_strdup(a, st->ver.version);
        cv->pve_release = st->ver.release[0] ? arena_strdup(a, st->ver.release) : NULL;
        cv->pve_repoid = st->ver.repoid[0] ? arena_strdup(a, st->ver.repoid) : NULL;
    }
    const struct pve_member *self = pve_members_find(&st->m, st->m.nodename);
    pl->has_nodeid = self != NULL;
    pl->nodeid = self ? self->nodeid : 0;
    r->cluster = cv;
    r->pve = pl;
}

/* One .vmlist entry that has no configuration here and no HA state goes
 * in the report's compact placements (common/placements.h); the others,
 * or any the compact form refuses, as GuestConfig. Both in vmid order, so
 * the aggregator's merge of the two gives back the .vmlist in vmid order. */
static void report_guests(struct cluster_state *st, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct arena *a = ctx->arena;
    struct conf_cache *c = &st->cache[st->cur];
    uint32_t host_cpus = c->n ? host_cpu_count(st, ctx, r) : 0;
    r->guests = arena_alloc(a, (st->vl.n ? st->vl.n : 1) * sizeof *r->guests);
    struct placements_builder placed;
    placements_begin(&placed, st->vl.n, st->vl.n_nodes, a);
    size_t k = 0;
    for (size_t i = 0; i < st->vl.n; i++) {
        const struct vmlist_entry *e = &st->vl.v[i];
        Pvescope__GuestConfig *g;
        while (k < c->n && c->v[k].vmid < e->vmid)
            k++;
        /* Valid for this cycle: .vmlist and the HA status are reloaded only
         * at the start of a later one. */
        const struct ha_service *h = pve_ha_find(&st->ha, e->vmid, e->type);
        bool configured = k < c->n && c->v[k].vmid == e->vmid && c->v[k].loaded;
        if (!configured && !h && placements_add(&placed, e->vmid, e->type == PVE_GUEST_LXC, e->node_id, e->node))
            continue;
        if (configured) {
            /* The cached parse itself is reported, its per-cycle fields
             * (below) rewritten every cycle; nothing else writes to it. A
             * report lives until the next cycle starts, and a cache
             * generation is reset only by a rebuild in a later cycle.
             * Copies cost ~85 KB of the report arena for 100 guests. */
            g = c->v[k].conf;
            g->has_cpus = true;
            g->cpus = pve_guest_cpus(g, e->type, host_cpus);
        } else {
            g = arena_alloc(a, sizeof *g);
            pvescope__guest_config__init(g);
        }
        g->vmid = e->vmid;
        g->type = (char *)pve_guest_type_name(e->type);
        g->node = (char *)e->node;
        g->ha_state = h ? (char *)h->state : NULL;
        r->guests[r->n_guests++] = g;
    }
    r->placements = placements_finish(&placed);
}

static void report_storages(const struct cluster_state *st, struct arena *a, Pvescope__Report *r)
{
    r->storages = arena_alloc(a, (st->n_storages ? st->n_storages : 1) * sizeof *r->storages);
    for (size_t i = 0; i < st->n_storages; i++) {
        const Pvescope__StorageConfig *src = st->storages[i];
        Pvescope__StorageConfig *s = arena_alloc(a, sizeof *s);
        *s = *src;
        s->id = arena_strdup(a, src->id);
        s->type = dup_opt(a, src->type);
        s->path = dup_opt(a, src->path);
        s->vgname = dup_opt(a, src->vgname);
        s->thinpool = dup_opt(a, src->thinpool);
        s->pool = dup_opt(a, src->pool);
        s->content = dup_opt(a, src->content);
        s->nodes = arena_alloc(a, (src->n_nodes ? src->n_nodes : 1) * sizeof *s->nodes);
        for (size_t j = 0; j < src->n_nodes; j++)
            s->nodes[j] = arena_strdup(a, src->nodes[j]);
        r->storages[r->n_storages++] = s;
    }
}

/* Adds one problem to the warning: the first is described, the rest counted. */
static void warn_add(char *first, size_t cap, unsigned *count, const char *text)
{
    if ((*count)++ == 0)
        snprintf(first, cap, "%s", text);
}

static void warn_parse(char *first, size_t cap, unsigned *count, const char *pve, const char *rel,
                       const struct parse_err *e, const char *unit)
{
    char text[256];
    if (e->bad_rows == 0)
        return;
    snprintf(text, sizeof text, "%s/%s: skipped %u bad %s, first at line %d: %s", pve, rel, e->bad_rows, unit,
             e->line, e->msg);
    warn_add(first, cap, count, text);
}

/* The collector succeeded; anything it had to skip becomes the warning in
 * ctx->err (logged once, counted every cycle, like diskstats' bad rows). */
static void report_warnings(const struct cluster_state *st, struct collector_ctx *ctx)
{
    char first[sizeof ctx->err] = "";
    unsigned n = 0;
    warn_parse(first, sizeof first, &n, ctx->pve, ".vmlist", &st->vmlist_warn, "entries");
    warn_parse(first, sizeof first, &n, ctx->pve, "storage.cfg", &st->storage_warn, "lines");
    warn_parse(first, sizeof first, &n, ctx->pve, "ha/manager_status", &st->ha_warn, "services");
    warn_parse(first, sizeof first, &n, ctx->pve, ".rrd", &st->rrd_warn, "node lines");
    if (st->ver_warn[0])
        warn_add(first, sizeof first, &n, st->ver_warn);
    const struct conf_cache *c = &st->cache[st->cur];
    if (c->problems) {
        warn_add(first, sizeof first, &n, c->warn);
        n += c->problems - 1;
    }
    if (n > 1)
        snprintf(ctx->err, sizeof ctx->err, "%.200s (+%u more)", first, n - 1);
    else if (n == 1)
        snprintf(ctx->err, sizeof ctx->err, "%s", first);
}

/* ---- the collector ------------------------------------------------------------------- */

static int cluster_init(void **state, struct collector_ctx *ctx)
{
    struct cluster_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    st->read = pmxcfs_read;
    if (!path_join(st->pvecfg_path, sizeof st->pvecfg_path, ctx->rootfs ? ctx->rootfs : "/", PVECFG_REL))
        st->pvecfg_path[0] = '\0';          /* unusable root: the version stays unset */
    st->members_f.rel = ".members";
    st->vmlist_f.rel = ".vmlist";
    st->storage_f.rel = "storage.cfg";
    st->ha_f.rel = "ha/manager_status";
    for (int i = 0; i < 2; i++) {
        arena_init(&st->storage_arena[i], 4096);
        arena_init(&st->cache[i].arena, 16384);
    }
    *state = st;
    return 0;
}

static void cluster_fini(void *state)
{
    struct cluster_state *st = state;
    struct text_file *files[] = {&st->members_f, &st->vmlist_f, &st->storage_f, &st->ha_f};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        buf_free(&files[i]->last);
    buf_free(&st->text2);
    pve_members_free(&st->m);
    pve_vmlist_free(&st->vl);
    pve_ha_free(&st->ha);
    free(st->levels);
    for (int i = 0; i < 2; i++) {
        arena_free(&st->storage_arena[i]);
        arena_free(&st->cache[i].arena);
        free(st->cache[i].v);
    }
    free(st);
}

/* Everything is read and parsed into the state first; the report is filled
 * only when every status file could be used, so a failed cycle adds nothing. */
static int cluster_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct cluster_state *st = state;
    st->vmlist_restarted = false;
    int rc = load_text_file(st, ctx, &st->members_f, commit_members);
    if (rc == 1)
        return 0;                   /* not a Proxmox node (or pmxcfs not mounted) */
    if (rc < 0 || load_text_file(st, ctx, &st->vmlist_f, commit_vmlist) < 0 ||
        load_text_file(st, ctx, &st->storage_f, commit_storage) < 0 ||
        load_text_file(st, ctx, &st->ha_f, commit_ha) < 0)
        return -1;
    refresh_version(st, ctx->now_monotonic);
    refresh_levels(st, ctx);
    if (!cache_current(st, ctx))
        cache_rebuild(st, ctx);
    report_cluster(st, ctx->arena, r);
    report_guests(st, ctx, r);
    report_storages(st, ctx->arena, r);
    report_warnings(st, ctx);
    return 0;
}

const struct collector collector_cluster = {
    .name = "cluster",
    .help = "Cluster members and quorum, every guest's placement, the configs of this node's and offline "
            "nodes' guests, storage.cfg, HA states and the pve-manager version, from /etc/pve",
    .default_enabled = true,
    .init = cluster_init,
    .collect = cluster_collect,
    .fini = cluster_fini,
};
