/* test_ingest.c — ingest_process(): every accept and reject path, on sealed
 * envelopes built here exactly as the agent builds them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ingest.h"
#include "merge.h"

static const struct merge_opts no_compat = {false};
#include "seal.h"

#define NOW_MS 1763700000000LL
#define BOOT "6f1e2a3b-1111-4222-8333-444455556666"

struct fixture {
    struct keyring kr;
    struct store store;
    struct ingest ig;
    struct cluster_key prod_old, prod_new, lab, wrong;
};

static void key_fill(struct cluster_key *k, uint8_t v) { memset(k->bytes, v, sizeof k->bytes); }

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    seal_library_init();
    key_fill(&f->prod_old, 1);
    key_fill(&f->prod_new, 2);
    key_fill(&f->lab, 3);
    key_fill(&f->wrong, 4);
    char a[KEY_TEXT_MAX], b[KEY_TEXT_MAX], c[KEY_TEXT_MAX], text[512], err[128];
    key_format(&f->prod_old, a);
    key_format(&f->prod_new, b);
    key_format(&f->lab, c);
    snprintf(text, sizeof text, "prod %s\nprod %s\nlab %s\n", a, b, c);
    if (!keyring_parse(text, &f->kr, err, sizeof err))
        return -1;
    store_init(&f->store, 60, 3);
    ingest_init(&f->ig, &f->store, &f->kr, 64 * 1024, 300);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ingest_close(&f->ig);
    store_free(&f->store);
    keyring_free(&f->kr);
    free(f);
    return 0;
}

struct msg_spec {
    const struct cluster_key *key;
    const char *cluster, *node, *report_node, *boot;
    uint64_t seq;
    int64_t sent_ms;
    size_t n_disks;
    size_t disk_name_len;
    void (*decorate)(Pvescope__Report *r, void *arg);  /* adds sections; NULL = none */
    void *arg;
};

/* Builds the wire bytes of one envelope per spec. */
static void build(const struct msg_spec *m, struct buf *wire)
{
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    Pvescope__Host host = PVESCOPE__HOST__INIT;
    Pvescope__Memory mem = PVESCOPE__MEMORY__INIT;
    mem.has_total = mem.has_available = true;
    mem.total = 1000;
    mem.available = 400;
    host.memory = &mem;
    r.host = &host;
    r.node = (char *)(m->report_node ? m->report_node : m->node);
    Pvescope__Disk **disks = calloc(m->n_disks + 1, sizeof *disks);
    Pvescope__Disk *d = calloc(m->n_disks + 1, sizeof *d);
    char *name = calloc(1, m->disk_name_len + 8);
    memset(name, 'd', m->disk_name_len ? m->disk_name_len : 3);
    for (size_t i = 0; i < m->n_disks; i++) {
        pvescope__disk__init(&d[i]);
        d[i].name = name;
        disks[i] = &d[i];
    }
    r.disks = disks;
    r.n_disks = m->n_disks;
    if (m->decorate)
        m->decorate(&r, m->arg);
    size_t n = pvescope__report__get_packed_size(&r);
    uint8_t *packed = malloc(n);
    pvescope__report__pack(&r, packed);
    struct envelope_header h = {m->cluster, m->node, m->boot ? m->boot : BOOT, m->seq,
                                m->sent_ms ? m->sent_ms : NOW_MS};
    buf_reset(wire);
    envelope_seal(m->key, &h, packed, n, wire);
    free(packed);
    free(name);
    free(d);
    free(disks);
}

static int send_spec_at(struct fixture *f, const struct msg_spec *m, double now_mono)
{
    struct buf wire = BUF_INIT;
    build(m, &wire);
    int rc = ingest_process(&f->ig, (const uint8_t *)wire.data, wire.len, now_mono, NOW_MS);
    buf_free(&wire);
    return rc;
}

static int send_spec(struct fixture *f, const struct msg_spec *m) { return send_spec_at(f, m, 100.0); }

static void t_accept_and_rotation(void **state)
{
    struct fixture *f = *state;
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 10, 0, 2, 3, NULL, NULL};
    assert_int_equal(send_spec(f, &m), -1);
    m.key = &f->prod_new;                     /* both keys of a cluster are accepted */
    m.seq = 11;
    assert_int_equal(send_spec(f, &m), -1);
    m.key = &f->lab;                          /* lab's key is not one of prod's */
    m.seq = 12;
    assert_int_equal(send_spec(f, &m), REJECT_BAD_TAG);
    assert_int_equal(f->store.received, 3);
    assert_int_equal(f->store.rejected[REJECT_BAD_TAG], 1);
    assert_int_equal(f->store.n, 1);
    assert_int_equal(f->store.nodes[0].accepted, 2);
}

static void t_replay(void **state)
{
    struct fixture *f = *state;
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 500, 0, 0, 0, NULL, NULL};
    assert_int_equal(send_spec(f, &m), -1);
    assert_int_equal(send_spec(f, &m), REJECT_REPLAY);          /* same seq again */
    m.seq = 499;
    assert_int_equal(send_spec(f, &m), REJECT_REPLAY);          /* older */
    m.seq = 501;
    m.sent_ms = NOW_MS - 3600 * 1000;                           /* an hour old */
    assert_int_equal(send_spec(f, &m), REJECT_REPLAY);
    m.sent_ms = NOW_MS + 3600 * 1000;                           /* from the future */
    assert_int_equal(send_spec(f, &m), REJECT_REPLAY);
    m.sent_ms = 0;
    assert_int_equal(send_spec(f, &m), -1);
    /* After a reboot the seq may restart, but only with a later send time. */
    m.boot = "99999999-1111-4222-8333-444455556666";
    m.seq = 1;
    m.sent_ms = NOW_MS + 1;
    assert_int_equal(send_spec(f, &m), -1);
    m.boot = BOOT;                                              /* the old boot, replayed */
    m.seq = 502;
    m.sent_ms = NOW_MS;
    assert_int_equal(send_spec(f, &m), REJECT_REPLAY);
    assert_int_equal(f->store.rejected[REJECT_REPLAY], 5);
}

static void t_header_and_cluster(void **state)
{
    struct fixture *f = *state;
    struct msg_spec m = {&f->prod_old, "nope", "pve1", NULL, NULL, 1, 0, 0, 0, NULL, NULL};
    assert_int_equal(send_spec(f, &m), REJECT_UNKNOWN_CLUSTER);
    m.cluster = "prod";
    m.node = "pve\"1\n";
    assert_int_equal(send_spec(f, &m), REJECT_BAD_HEADER);
    m.node = "";
    assert_int_equal(send_spec(f, &m), REJECT_BAD_HEADER);
    m.node = "pve1";
    m.boot = "not/a/boot/id";
    assert_int_equal(send_spec(f, &m), REJECT_BAD_HEADER);
    char *huge = malloc(9001);                  /* beyond the envelope scratch: protobuf-c decodes it */
    memset(huge, 'a', 9000);
    huge[9000] = '\0';
    m.boot = huge;
    assert_int_equal(send_spec(f, &m), REJECT_BAD_HEADER);
    free(huge);
    m.boot = NULL;
    m.report_node = "pve2";                  /* sealed report disagrees with its header */
    assert_int_equal(send_spec(f, &m), REJECT_INVALID_REPORT);
    assert_int_equal(f->store.n, 0);
}

static void t_garbage_oversize_version(void **state)
{
    struct fixture *f = *state;
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    assert_int_equal(ingest_process(&f->ig, junk, sizeof junk, 1, NOW_MS), REJECT_DECODE);
    assert_int_equal(ingest_process(&f->ig, junk, 0, 1, NOW_MS), REJECT_DECODE);   /* empty */
    uint8_t *big = calloc(1, 64 * 1024 + 1);
    assert_int_equal(ingest_process(&f->ig, big, 64 * 1024 + 1, 1, NOW_MS), REJECT_OVERSIZE);
    free(big);
    /* A well-formed envelope with a version we do not speak. */
    Pvescope__Envelope env = PVESCOPE__ENVELOPE__INIT;
    env.version = 2;
    env.cluster = "prod";
    env.node = "pve1";
    uint8_t out[128];
    size_t n = pvescope__envelope__pack(&env, out);
    assert_int_equal(ingest_process(&f->ig, out, n, 1, NOW_MS), REJECT_VERSION);
    assert_int_equal(f->store.received, 4);
}

static void t_limits(void **state)
{
    struct fixture *f = *state;
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 1, 0, INGEST_MAX_DEVICES + 1, 3, NULL, NULL};
    assert_int_equal(send_spec(f, &m), REJECT_LIMITS);
    m.n_disks = 1;
    m.disk_name_len = INGEST_MAX_LABEL_BYTES + 1;
    assert_int_equal(send_spec(f, &m), REJECT_LIMITS);
    m.disk_name_len = INGEST_MAX_LABEL_BYTES;
    assert_int_equal(send_spec(f, &m), -1);
    /* The store holds 3 nodes at most (setup); the fourth is refused. */
    m.disk_name_len = 3;
    const char *nodes[] = {"pve2", "pve3", "pve4"};
    for (int i = 0; i < 3; i++) {
        m.node = nodes[i];
        assert_int_equal(send_spec(f, &m), i < 2 ? -1 : REJECT_LIMITS);
    }
    assert_int_equal(f->store.n, 3);
    assert_int_equal(f->store.rejected[REJECT_LIMITS], 3);
}

/* Inventory sections: .vmlist size, guest strings, per-guest devices. */
struct inv_spec {
    size_t n_guests;
    size_t name_len, tags_len, n_guest_disks;
    Pvescope__GuestConfig guest;
    Pvescope__GuestConfig **guests;
    Pvescope__GuestDisk disk;
    Pvescope__GuestDisk **disks;
    char name[INGEST_MAX_LABEL_BYTES + 8];
    char tags[INGEST_MAX_TAGS_BYTES + 8];
};

static void add_inventory(Pvescope__Report *r, void *arg)
{
    struct inv_spec *v = arg;
    pvescope__guest_config__init(&v->guest);
    pvescope__guest_disk__init(&v->disk);
    memset(v->name, 0, sizeof v->name);
    memset(v->name, 'n', v->name_len);
    memset(v->tags, 0, sizeof v->tags);
    memset(v->tags, 't', v->tags_len);
    v->disk.key = "scsi0";
    v->disks = calloc(v->n_guest_disks + 1, sizeof *v->disks);
    for (size_t i = 0; i < v->n_guest_disks; i++)
        v->disks[i] = &v->disk;
    v->guest.vmid = 100;
    v->guest.type = "qemu";
    v->guest.node = "pve1";
    v->guest.name = v->name;
    v->guest.tags = v->tags;
    v->guest.disks = v->disks;
    v->guest.n_disks = v->n_guest_disks;
    v->guests = calloc(v->n_guests + 1, sizeof *v->guests);
    for (size_t i = 0; i < v->n_guests; i++)
        v->guests[i] = &v->guest;
    r->guests = v->guests;
    r->n_guests = v->n_guests;
}

static int send_inventory(struct fixture *f, uint64_t seq, struct inv_spec *v)
{
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, seq, 0, 1, 3, add_inventory, v};
    int rc = send_spec(f, &m);
    free(v->disks);
    free(v->guests);
    return rc;
}

static void t_limits_inventory(void **state)
{
    struct fixture *f = *state;
    struct inv_spec ok = {.n_guests = 3, .name_len = INGEST_MAX_LABEL_BYTES, .tags_len = INGEST_MAX_TAGS_BYTES,
                          .n_guest_disks = INGEST_MAX_GUEST_DEVICES};
    assert_int_equal(send_inventory(f, 1, &ok), -1);
    f->ig.max_message_bytes = 1 << 20;
    struct inv_spec many = {.n_guests = INGEST_MAX_GUESTS + 1, .name_len = 1};
    assert_int_equal(send_inventory(f, 2, &many), REJECT_LIMITS);
    struct inv_spec name = ok;
    name.name_len = INGEST_MAX_LABEL_BYTES + 1;
    assert_int_equal(send_inventory(f, 3, &name), REJECT_LIMITS);
    struct inv_spec tags = ok;
    tags.tags_len = INGEST_MAX_TAGS_BYTES + 1;
    assert_int_equal(send_inventory(f, 4, &tags), REJECT_LIMITS);
    struct inv_spec disks = ok;
    disks.n_guest_disks = INGEST_MAX_GUEST_DEVICES + 1;
    assert_int_equal(send_inventory(f, 5, &disks), REJECT_LIMITS);
    assert_int_equal(f->store.rejected[REJECT_LIMITS], 4);
    /* The rejected reports replaced nothing: the first one is still the node's. */
    assert_int_equal(f->store.n, 1);
    assert_int_equal(f->store.nodes[0].last_seq, 1);
    assert_int_equal(f->store.nodes[0].render->report->r->n_guests, 3);
}

/* One cluster's key cannot crowd the other clusters out of the store. */
static void t_cluster_node_limit(void **state)
{
    struct fixture *f = *state;
    f->store.max_nodes_per_cluster = 2;
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 1, 0, 1, 3, NULL, NULL};
    const char *nodes[] = {"pve1", "pve2", "pve3"};
    for (int i = 0; i < 3; i++) {
        m.node = nodes[i];
        assert_int_equal(send_spec(f, &m), i < 2 ? -1 : REJECT_LIMITS);
    }
    m.node = "pve1";                          /* a known node still updates */
    m.seq = 2;
    assert_int_equal(send_spec(f, &m), -1);
    struct msg_spec lab = {&f->lab, "lab", "pve3", NULL, NULL, 1, 0, 1, 3, NULL, NULL};
    assert_int_equal(send_spec(f, &lab), -1);
    assert_int_equal(f->store.n, 3);
    assert_int_equal(f->store.rejected[REJECT_LIMITS], 1);
}

/* Hardware sections: sensor features per report and NVMe label strings. */
struct hw_spec {
    size_t n_features;
    size_t serial_len;
    Pvescope__SensorChip chip;
    Pvescope__SensorChip *chips[1];
    Pvescope__SensorFeature feature;
    Pvescope__SensorFeature **features;
    Pvescope__NvmeController nvme;
    Pvescope__NvmeController *nvmes[1];
    char serial[INGEST_MAX_LABEL_BYTES + 8];
};

static void add_hardware(Pvescope__Report *r, void *arg)
{
    struct hw_spec *h = arg;
    pvescope__sensor_chip__init(&h->chip);
    pvescope__sensor_feature__init(&h->feature);
    h->feature.name = "temp1";
    h->chip.name = "coretemp-isa-0000";
    h->features = calloc(h->n_features + 1, sizeof *h->features);
    for (size_t i = 0; i < h->n_features; i++)
        h->features[i] = &h->feature;
    h->chip.features = h->features;
    h->chip.n_features = h->n_features;
    h->chips[0] = &h->chip;
    r->sensor_chips = h->chips;
    r->n_sensor_chips = 1;
    pvescope__nvme_controller__init(&h->nvme);
    memset(h->serial, 0, sizeof h->serial);
    memset(h->serial, 'S', h->serial_len);
    h->nvme.name = "nvme0";
    h->nvme.serial = h->serial;
    h->nvmes[0] = &h->nvme;
    r->nvme = h->nvmes;
    r->n_nvme = 1;
}

static void t_limits_hardware(void **state)
{
    struct fixture *f = *state;
    struct hw_spec h = {.n_features = INGEST_MAX_DEVICES + 1, .serial_len = 20};
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 1, 0, 1, 3, add_hardware, &h};
    assert_int_equal(send_spec(f, &m), REJECT_LIMITS);
    free(h.features);
    h.n_features = 4;
    h.serial_len = INGEST_MAX_LABEL_BYTES + 1;
    m.seq = 2;
    assert_int_equal(send_spec(f, &m), REJECT_LIMITS);
    free(h.features);
    h.serial_len = INGEST_MAX_LABEL_BYTES;
    m.seq = 3;
    assert_int_equal(send_spec(f, &m), -1);
    free(h.features);
    assert_int_equal(f->store.rejected[REJECT_LIMITS], 2);
}

/* A rejected message never disturbs what is already published. */
static void t_reject_keeps_state(void **state)
{
    struct fixture *f = *state;
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 1, 0, 1, 3, NULL, NULL};
    assert_int_equal(send_spec(f, &m), -1);
    struct store_snapshot snap;
    store_snapshot(&f->store, 100.0, &snap);
    struct buf before = BUF_INIT;
    scrape_write(&before, &snap.in, &no_compat);
    store_snapshot_release(&snap);
    m.key = &f->wrong;
    m.seq = 2;
    assert_int_equal(send_spec(f, &m), REJECT_BAD_TAG);
    m.key = &f->prod_old;
    m.seq = 1;
    assert_int_equal(send_spec(f, &m), REJECT_REPLAY);
    store_snapshot(&f->store, 100.0, &snap);
    struct buf after = BUF_INIT;
    scrape_write(&after, &snap.in, &no_compat);
    store_snapshot_release(&snap);
    /* Only the reject counters differ. */
    assert_non_null(strstr(after.data, "pve_memory_usage_bytes{id=\"node/pve1\",pve_cluster=\"prod\"} 600\n"));
    assert_non_null(strstr(before.data, "pve_memory_usage_bytes{id=\"node/pve1\",pve_cluster=\"prod\"} 600\n"));
    assert_non_null(strstr(after.data, "pvescope_reports_rejected_total{reason=\"bad_tag\"} 1\n"));
    assert_non_null(strstr(after.data, "pvescope_reports_rejected_total{reason=\"replay\"} 1\n"));
    buf_free(&before);
    buf_free(&after);
}

/* The same node name in two clusters: two nodes, told apart by pve_cluster,
 * never duplicate series. */
static void t_same_node_name_two_clusters(void **state)
{
    struct fixture *f = *state;
    struct msg_spec prod = {&f->prod_old, "prod", "pve1", NULL, NULL, 1, 0, 0, 0, NULL, NULL};
    struct msg_spec lab = {&f->lab, "lab", "pve1", NULL, NULL, 1, 0, 0, 0, NULL, NULL};
    assert_int_equal(send_spec(f, &prod), -1);
    assert_int_equal(send_spec(f, &lab), -1);
    assert_int_equal(send_spec(f, &lab), REJECT_REPLAY);       /* replay state is per (cluster, node) */
    prod.seq = 2;
    assert_int_equal(send_spec(f, &prod), -1);
    assert_int_equal(f->store.n, 2);
    struct store_snapshot snap;
    store_snapshot(&f->store, 100.0, &snap);
    struct buf out = BUF_INIT;
    scrape_write(&out, &snap.in, &no_compat);
    store_snapshot_release(&snap);
    const char *lines[] = {
        "pve_up{id=\"node/pve1\",pve_cluster=\"lab\"} 1\n",
        "pve_up{id=\"node/pve1\",pve_cluster=\"prod\"} 1\n",
        "pve_memory_usage_bytes{id=\"node/pve1\",pve_cluster=\"lab\"} 600\n",
        "pvescope_node_reports_accepted_total{id=\"node/pve1\",pve_cluster=\"prod\"} 2\n",
        "pvescope_node_reports_accepted_total{id=\"node/pve1\",pve_cluster=\"lab\"} 1\n",
    };
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        const char *at = strstr(out.data, lines[k]);
        assert_non_null(at);
        assert_null(strstr(at + 1, lines[k]));                  /* exactly once */
    }
    buf_free(&out);
}

/* Compact .vmlist placements (Report.placements): one configured guest of
 * pve1 (vmid 100) and n_entries compact ones from vmid 101 on, all on
 * node[], the last with node_type last_node_type. */
struct compact_spec {
    size_t n_entries;
    uint32_t last_node_type;
    char node[INGEST_MAX_LABEL_BYTES + 8];
    Pvescope__GuestConfig guest, *guests[1];
    Pvescope__VmPlacements p;
    char *nodes[1];
    uint32_t *delta, *node_type;
};

static void add_compact(Pvescope__Report *r, void *arg)
{
    struct compact_spec *c = arg;
    pvescope__guest_config__init(&c->guest);
    c->guest.vmid = 100;
    c->guest.type = "qemu";
    c->guest.node = "pve1";
    c->guest.has_has_config = c->guest.has_config = true;
    c->guests[0] = &c->guest;
    r->guests = c->guests;
    r->n_guests = 1;
    pvescope__vm_placements__init(&c->p);
    c->nodes[0] = c->node;
    c->delta = calloc(c->n_entries + 1, sizeof *c->delta);
    c->node_type = calloc(c->n_entries + 1, sizeof *c->node_type);
    for (size_t i = 0; i < c->n_entries; i++)
        c->delta[i] = i ? 1 : 101;
    if (c->n_entries)
        c->node_type[c->n_entries - 1] = c->last_node_type;
    c->p.nodes = c->nodes;
    c->p.n_nodes = 1;
    c->p.vmid_delta = c->delta;
    c->p.n_vmid_delta = c->n_entries;
    c->p.node_type = c->node_type;
    c->p.n_node_type = c->n_entries;
    r->placements = &c->p;
}

static int send_compact(struct fixture *f, uint64_t seq, struct compact_spec *c)
{
    if (!c->node[0])
        strcpy(c->node, "pve2");
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, seq, 0, 1, 3, add_compact, c};
    int rc = send_spec(f, &m);
    free(c->delta);
    free(c->node_type);
    return rc;
}

/* Accepted and kept whole for the merge; counted against the .vmlist limit
 * with the report's GuestConfigs; its node names are label values. */
static void t_compact_placements_limits(void **state)
{
    struct fixture *f = *state;
    f->ig.max_message_bytes = 1 << 20;
    struct compact_spec ok = {.n_entries = 3, .last_node_type = 1};
    assert_int_equal(send_compact(f, 1, &ok), -1);
    struct decoded_report *d = f->store.nodes[0].render->report;
    assert_int_equal(d->r->n_guests, 1);
    const Pvescope__Report *full = decoded_vmlist_report(d);
    assert_int_equal(full->n_guests, 4);
    assert_int_equal(full->guests[3]->vmid, 103);
    assert_string_equal(full->guests[3]->type, "lxc");
    assert_string_equal(full->guests[3]->node, "pve2");
    struct compact_spec full_list = {.n_entries = INGEST_MAX_GUESTS - 1};     /* + 1 GuestConfig */
    assert_int_equal(send_compact(f, 2, &full_list), -1);
    struct compact_spec many = {.n_entries = INGEST_MAX_GUESTS};
    assert_int_equal(send_compact(f, 3, &many), REJECT_LIMITS);
    struct compact_spec long_node = {.n_entries = 1};
    memset(long_node.node, 'n', INGEST_MAX_LABEL_BYTES + 1);
    assert_int_equal(send_compact(f, 4, &long_node), REJECT_LIMITS);
    memset(long_node.node, 0, sizeof long_node.node);
    memset(long_node.node, 'n', INGEST_MAX_LABEL_BYTES);
    assert_int_equal(send_compact(f, 5, &long_node), -1);
    assert_int_equal(f->store.rejected[REJECT_LIMITS], 2);
    assert_int_equal(f->store.nodes[0].last_seq, 5);
}

/* Placements that do not decode are refused as invalid_report, and the
 * node keeps its last good report. */
static void t_compact_placements_malformed(void **state)
{
    struct fixture *f = *state;
    struct compact_spec ok = {.n_entries = 2};
    assert_int_equal(send_compact(f, 1, &ok), -1);
    struct compact_spec bad_index = {.n_entries = 2, .last_node_type = 2};   /* node 1 of 1 */
    assert_int_equal(send_compact(f, 2, &bad_index), REJECT_INVALID_REPORT);
    struct compact_spec no_entries = {.n_entries = 0};
    assert_int_equal(send_compact(f, 3, &no_entries), -1);                    /* nodes only: fine */
    assert_int_equal(f->store.rejected[REJECT_INVALID_REPORT], 1);
    assert_int_equal(f->store.nodes[0].last_seq, 3);
}

/* Old agents' placement-only GuestConfigs, which ingest does not decode,
 * count against the .vmlist limit too: n of them, vmid 100 on pve2. */
struct old_form_spec {
    size_t n;
    Pvescope__GuestConfig placed, **guests;
};

static void add_old_form(Pvescope__Report *r, void *arg)
{
    struct old_form_spec *o = arg;
    pvescope__guest_config__init(&o->placed);
    o->placed.vmid = 100;
    o->placed.type = "qemu";
    o->placed.node = "pve2";
    o->guests = calloc(o->n + 1, sizeof *o->guests);
    for (size_t i = 0; i < o->n; i++)
        o->guests[i] = &o->placed;
    r->guests = o->guests;
    r->n_guests = o->n;
}

static void t_old_form_placements_counted(void **state)
{
    struct fixture *f = *state;
    f->ig.max_message_bytes = 1 << 20;
    struct old_form_spec many = {.n = INGEST_MAX_GUESTS + 1}, all = {.n = INGEST_MAX_GUESTS};
    struct msg_spec m = {&f->prod_old, "prod", "pve1", NULL, NULL, 1, 0, 1, 3, add_old_form, &many};
    assert_int_equal(send_spec(f, &m), REJECT_LIMITS);
    m.seq = 2;
    m.arg = &all;
    assert_int_equal(send_spec(f, &m), -1);
    free(many.guests);
    free(all.guests);
    struct decoded_report *d = f->store.nodes[0].render->report;
    assert_int_equal(d->stripped.entries, INGEST_MAX_GUESTS);
    assert_int_equal(d->r->n_guests, 0);
    assert_int_equal(decoded_vmlist_report(d)->n_guests, INGEST_MAX_GUESTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_accept_and_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(t_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(t_header_and_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(t_garbage_oversize_version, setup, teardown),
        cmocka_unit_test_setup_teardown(t_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(t_limits_hardware, setup, teardown),
        cmocka_unit_test_setup_teardown(t_limits_inventory, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cluster_node_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(t_reject_keeps_state, setup, teardown),
        cmocka_unit_test_setup_teardown(t_same_node_name_two_clusters, setup, teardown),
        cmocka_unit_test_setup_teardown(t_compact_placements_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(t_compact_placements_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(t_old_form_placements_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
