/* pve_members.c — the JSON files of /etc/pve: .members and .vmlist (written
 * by pmxcfs with a fixed printf layout) and ha/manager_status (written by
 * pve-ha-crm with encode_json); plus the "pve" collector, which the "cluster"
 * collector has superseded (it fills the same Report.pve from the same parse).
 *
 * We do not depend on pmxcfs's layout: a small JSON scanner finds keys by
 * name at the right depth, so member order, spacing and extra keys do not
 * matter. Skipping a value is iterative (no recursion a hostile file could
 * exhaust); the callbacks nest at most three objects deep. */
#include "pve_members.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "fileio.h"
#include "pve_parsers.h"

#define MAX_MEMBERS  4096        /* corosync supports 384 nodes */
#define MAX_GUESTS   (1u << 20)  /* PVE vmids go to 999,999,999; clusters hold thousands */

const char *pve_guest_type_name(enum pve_guest_type t) { return t == PVE_GUEST_LXC ? "lxc" : "qemu"; }

bool pve_node_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PVE_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* ---- the JSON scanner ------------------------------------------------------ */

/* A cursor over the whole text; errors are recorded in err with the line of
 * the cursor. The first fatal error wins over any earlier skipped-entry note. */
struct scan {
    const char *start, *p, *end;
    struct parse_err *err;
    bool failed;
};

static int scan_line(const struct scan *s)
{
    int line = 1;
    for (const char *q = s->start; q < s->p && q < s->end; q++)
        line += *q == '\n';
    return line;
}

/* Records why the document is unusable (once) and returns false. */
static bool fatal(struct scan *s, const char *what)
{
    if (!s->failed) {
        s->failed = true;
        s->err->line = scan_line(s);
        snprintf(s->err->msg, sizeof s->err->msg, "%s",
                 s->p >= s->end ? "unexpected end of JSON (truncated?)" : what);
    }
    return false;
}

/* Records why a complete document is unusable (no position to name). */
static bool document_error(struct scan *s, const char *what)
{
    s->failed = true;
    s->err->line = 0;
    snprintf(s->err->msg, sizeof s->err->msg, "%s", what);
    return false;
}

/* Notes a skipped entry: counted, and described if it is the first note. */
static void skipped(struct scan *s, const char *what, const char *key)
{
    s->err->bad_rows++;
    pp_err(s->err, scan_line(s), "%s (\"%.40s\") skipped", what, key);
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool expect(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct scan *s, unsigned *cp)
{
    if (s->end - s->p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(*s->p++);
        if (d < 0)
            return false;
        v = v << 4 | (unsigned)d;
    }
    *cp = v;
    return true;
}

static size_t utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the escape after a backslash into out (1..4 bytes). A lone
 * surrogate becomes U+FFFD; \u0000 is refused (C strings). */
static bool unescape(struct scan *s, char *out, size_t *n)
{
    if (s->p >= s->end)
        return false;
    char e = *s->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = e ? strchr(from, e) : NULL;
    if (hit) {
        out[0] = to[hit - from];
        *n = 1;
        return true;
    }
    unsigned cp;
    if (e != 'u' || !read_hex4(s, &cp) || cp == 0)
        return false;
    if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u') {
        const char *save = s->p;
        unsigned lo;
        s->p += 2;
        if (read_hex4(s, &lo) && lo >= 0xdc00 && lo < 0xe000)
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        else
            s->p = save;
    }
    if (cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd;
    *n = utf8_encode(cp, out);
    return true;
}

enum str_rc { STR_BAD, STR_OK, STR_LONG };

/* Reads a JSON string into out (cap bytes with the NUL). A string that does
 * not fit is still consumed and reported as STR_LONG (out holds a prefix). */
static enum str_rc read_string(struct scan *s, char *out, size_t cap)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return STR_BAD;
    s->p++;
    size_t n = 0;
    bool long_ = false;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"') {
            out[n] = '\0';
            return long_ ? STR_LONG : STR_OK;
        }
        if (c < 0x20)
            return STR_BAD;
        char tmp[4] = {(char)c};
        size_t tn = 1;
        if (c == '\\' && !unescape(s, tmp, &tn))
            return STR_BAD;
        if (long_ || n + tn >= cap) {
            long_ = true;
            continue;
        }
        memcpy(out + n, tmp, tn);
        n += tn;
    }
    return STR_BAD;
}

/* Reads a non-negative JSON integer (a fraction or exponent is refused). */
static bool read_u64(struct scan *s, uint64_t *v)
{
    skip_ws(s);
    struct pp_cur c = {s->p, s->end};
    if (!pp_digits_u64(&c, v))
        return false;
    s->p = c.p;
    return s->p == s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E');
}

static bool read_u32(struct scan *s, uint32_t *v)
{
    uint64_t x;
    if (!read_u64(s, &x) || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

/* Skips a string starting at the opening quote, without decoding it. */
static bool skip_string(struct scan *s)
{
    for (s->p++; s->p < s->end; s->p++) {
        if (*s->p == '\\')
            s->p++;
        else if (*s->p == '"') {
            s->p++;
            return true;
        }
    }
    return false;
}

/* Skips an object or array: brackets are counted, strings jumped over. */
static bool skip_nested(struct scan *s)
{
    size_t depth = 0;
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '"') {
            if (!skip_string(s))
                return false;
            continue;
        }
        s->p++;
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return true;
    }
    return false;
}

/* Skips any JSON value; a number or literal must be at least one character
 * of [-+.0-9a-zA-Z]. */
static bool skip_value(struct scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    if (*s->p == '"')
        return skip_string(s);
    if (*s->p == '{' || *s->p == '[')
        return skip_nested(s);
    const char *start = s->p;
    while (s->p < s->end && (strchr("-+.", *s->p) || (*s->p >= '0' && *s->p <= '9') ||
                             (*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z')))
        s->p++;
    return s->p > start;
}

/* Calls fn for each member of the object at the cursor, with the cursor at
 * the value; fn must consume it. A key too long for the buffer belongs to no
 * field we read, so its value is skipped. */
typedef bool (*member_fn)(struct scan *s, const char *key, void *arg);

static bool each_member(struct scan *s, member_fn fn, void *arg)
{
    if (!expect(s, '{'))
        return fatal(s, "JSON object expected");
    if (expect(s, '}'))
        return true;
    do {
        char key[128];
        enum str_rc rc = read_string(s, key, sizeof key);
        if (rc == STR_BAD)
            return fatal(s, "object key expected");
        if (!expect(s, ':'))
            return fatal(s, "':' expected after key");
        bool ok = rc == STR_LONG ? skip_value(s) : fn(s, key, arg);
        if (!ok)
            return fatal(s, "malformed value");
    } while (expect(s, ','));
    return expect(s, '}') || fatal(s, "',' or '}' expected");
}

/* Runs fn over the top-level object and requires nothing but blanks after it. */
static bool parse_document(struct scan *s, member_fn fn, void *arg)
{
    if (!each_member(s, fn, arg))
        return false;
    skip_ws(s);
    return s->p == s->end || fatal(s, "text after the JSON object");
}

static void scan_init(struct scan *s, const char *text, struct parse_err *err)
{
    memset(err, 0, sizeof *err);
    *s = (struct scan){text, text, text + strlen(text), err, false};
}

/* Reads a string value that must fit; what names the field for the error. */
static bool read_field(struct scan *s, char *out, size_t cap, const char *what)
{
    enum str_rc rc = read_string(s, out, cap);
    if (rc == STR_LONG)
        return fatal(s, what);
    return rc == STR_OK;
}

/* ---- .members -------------------------------------------------------------- */

struct members_parse {
    struct pve_members *m;
    size_t cap;
    struct pve_member cur;       /* the nodelist entry being read */
    bool has_id;
};

static bool on_cluster_field(struct scan *s, const char *key, void *arg)
{
    struct pve_members *m = arg;
    uint32_t quorate;
    if (strcmp(key, "name") == 0)
        return read_field(s, m->cluster_name, sizeof m->cluster_name, "cluster name too long");
    if (strcmp(key, "version") == 0)
        return read_u32(s, &m->config_version);
    if (strcmp(key, "nodes") == 0)
        return read_u32(s, &m->expected_nodes);
    if (strcmp(key, "quorate") == 0) {
        if (!read_u32(s, &quorate))
            return false;
        m->quorate = quorate != 0;
        return true;
    }
    return skip_value(s);
}

static bool on_node_field(struct scan *s, const char *key, void *arg)
{
    struct members_parse *mp = arg;
    uint32_t online;
    if (strcmp(key, "id") == 0) {
        mp->has_id = true;
        return read_u32(s, &mp->cur.nodeid);
    }
    if (strcmp(key, "online") == 0) {
        if (!read_u32(s, &online))
            return false;
        mp->cur.online = online != 0;
        return true;
    }
    if (strcmp(key, "ip") == 0) {
        mp->cur.has_ip = true;
        return read_field(s, mp->cur.ip, sizeof mp->cur.ip, "node ip too long");
    }
    return skip_value(s);
}

/* Appends the member just read; an id of 0 or a missing id is malformed. */
static bool push_member(struct scan *s, struct members_parse *mp)
{
    if (!mp->has_id || mp->cur.nodeid == 0)
        return fatal(s, "node without a valid \"id\"");
    struct pve_members *m = mp->m;
    if (m->n == mp->cap) {
        if (mp->cap >= MAX_MEMBERS)
            return fatal(s, "too many nodes");
        mp->cap = mp->cap ? mp->cap * 2 : 16;
        struct pve_member *v = realloc(m->v, mp->cap * sizeof *v);
        if (!v)
            abort();
        m->v = v;
    }
    m->v[m->n++] = mp->cur;
    return true;
}

static bool on_nodelist_member(struct scan *s, const char *key, void *arg)
{
    struct members_parse *mp = arg;
    memset(&mp->cur, 0, sizeof mp->cur);
    mp->has_id = false;
    if (strlen(key) >= sizeof mp->cur.name)
        return fatal(s, "node name too long");
    strcpy(mp->cur.name, key);
    return each_member(s, on_node_field, mp) && push_member(s, mp);
}

static bool on_members_top(struct scan *s, const char *key, void *arg)
{
    struct members_parse *mp = arg;
    if (strcmp(key, "nodename") == 0)
        return read_field(s, mp->m->nodename, sizeof mp->m->nodename, "nodename too long");
    if (strcmp(key, "cluster") == 0) {
        mp->m->has_cluster = true;
        return each_member(s, on_cluster_field, mp->m);
    }
    if (strcmp(key, "nodelist") == 0)
        return each_member(s, on_nodelist_member, mp);
    return skip_value(s);
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp(((const struct pve_member *)a)->name, ((const struct pve_member *)b)->name);
}

int parse_members(const char *text, struct pve_members *out, struct parse_err *err)
{
    struct scan s;
    scan_init(&s, text, err);
    memset(out, 0, sizeof *out);
    struct members_parse mp = {.m = out};
    bool ok = parse_document(&s, on_members_top, &mp);
    if (ok && !out->nodename[0])
        ok = document_error(&s, "no \"nodename\"");
    if (ok) {
        if (out->n)
            qsort(out->v, out->n, sizeof *out->v, cmp_member);
        for (size_t i = 1; i < out->n && ok; i++)
            if (strcmp(out->v[i - 1].name, out->v[i].name) == 0)
                ok = document_error(&s, "a node is listed twice");
    }
    if (!ok) {
        pve_members_free(out);
        return -1;
    }
    if (!out->has_cluster)
        out->quorate = true;      /* pmxcfs forces quorum in local mode */
    return 0;
}

void pve_members_free(struct pve_members *m)
{
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

const struct pve_member *pve_members_find(const struct pve_members *m, const char *name)
{
    struct pve_member key;
    if (m->n == 0 || strlen(name) >= sizeof key.name)
        return NULL;
    strcpy(key.name, name);
    return bsearch(&key, m->v, m->n, sizeof *m->v, cmp_member);
}

bool members_parse_local(const char *text, struct members_local *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct pve_members m;
    struct parse_err pe;
    if (parse_members(text, &m, &pe) != 0) {
        snprintf(err, errlen, "line %d: %s", pe.line, pe.msg);
        return false;
    }
    snprintf(out->nodename, sizeof out->nodename, "%s", m.nodename);
    snprintf(out->cluster_name, sizeof out->cluster_name, "%s", m.cluster_name);
    const struct pve_member *self = pve_members_find(&m, m.nodename);
    if (self) {
        out->nodeid = self->nodeid;
        out->has_nodeid = true;
    }
    pve_members_free(&m);
    return true;
}

/* ---- .vmlist --------------------------------------------------------------- */

struct vmlist_parse {
    struct pve_vmlist *vl;
    size_t cap;
    struct vmlist_entry cur;
    char type[16];
    bool has_node, has_type;
};

static bool on_vm_field(struct scan *s, const char *key, void *arg)
{
    struct vmlist_parse *vp = arg;
    if (strcmp(key, "node") == 0) {
        enum str_rc rc = read_string(s, vp->cur.node, sizeof vp->cur.node);
        vp->has_node = rc == STR_OK && pve_node_name_ok(vp->cur.node);
        return rc != STR_BAD;
    }
    if (strcmp(key, "type") == 0) {
        enum str_rc rc = read_string(s, vp->type, sizeof vp->type);
        vp->has_type = rc == STR_OK;
        return rc != STR_BAD;
    }
    if (strcmp(key, "version") == 0)
        return read_u32(s, &vp->cur.version);
    return skip_value(s);
}

/* A vmid key: 1..10 digits, not 0, no sign or leading zero. */
static bool vmid_key(const char *key, uint32_t *vmid)
{
    struct pp_cur c = {key, key + strlen(key)};
    uint64_t v;
    if (key[0] == '0' || !pp_digits_u64(&c, &v) || c.p != c.end || v == 0 || v > UINT32_MAX)
        return false;
    *vmid = (uint32_t)v;
    return true;
}

static void push_vm(struct vmlist_parse *vp)
{
    struct pve_vmlist *vl = vp->vl;
    if (vl->n == vp->cap) {
        vp->cap = vp->cap ? vp->cap * 2 : 64;
        struct vmlist_entry *v = realloc(vl->v, vp->cap * sizeof *v);
        if (!v)
            abort();
        vl->v = v;
    }
    vl->v[vl->n++] = vp->cur;
}

/* Reads one "<vmid>": {...} entry; a well-formed but unusable entry is
 * skipped and counted, only broken JSON fails the document. */
static bool on_vmlist_id(struct scan *s, const char *key, void *arg)
{
    struct vmlist_parse *vp = arg;
    memset(&vp->cur, 0, sizeof vp->cur);
    vp->has_node = vp->has_type = false;
    if (!each_member(s, on_vm_field, vp))
        return false;
    bool qemu = vp->has_type && strcmp(vp->type, "qemu") == 0;
    bool lxc = vp->has_type && strcmp(vp->type, "lxc") == 0;
    if (vp->has_type && strcmp(vp->type, "openvz") == 0)
        return true;
    if (!vmid_key(key, &vp->cur.vmid))
        skipped(s, "guest with bad vmid", key);
    else if (!vp->has_node)
        skipped(s, "guest without a usable node name", key);
    else if (!qemu && !lxc)
        skipped(s, "guest of unknown type", key);
    else if (vp->vl->n >= MAX_GUESTS)
        return fatal(s, "too many guests");
    else {
        vp->cur.type = lxc ? PVE_GUEST_LXC : PVE_GUEST_QEMU;
        vp->cur.seq = (uint32_t)vp->vl->n;
        push_vm(vp);
    }
    return true;
}

static bool on_vmlist_top(struct scan *s, const char *key, void *arg)
{
    struct vmlist_parse *vp = arg;
    if (strcmp(key, "version") == 0) {
        vp->vl->has_version = true;
        return read_u64(s, &vp->vl->version);
    }
    if (strcmp(key, "ids") == 0)
        return each_member(s, on_vmlist_id, vp);
    return skip_value(s);
}

static int cmp_vm(const void *a, const void *b)
{
    const struct vmlist_entry *x = a, *y = b;
    if (x->vmid != y->vmid)
        return (x->vmid > y->vmid) - (x->vmid < y->vmid);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts by vmid and drops repeated vmids but the first (pmxcfs's hash table
 * cannot print them; a hand-made file might), counting each. */
static void sort_unique_vms(struct pve_vmlist *vl, struct parse_err *err)
{
    if (vl->n)
        qsort(vl->v, vl->n, sizeof *vl->v, cmp_vm);
    size_t w = 0;
    for (size_t i = 0; i < vl->n; i++) {
        if (w > 0 && vl->v[w - 1].vmid == vl->v[i].vmid) {
            err->bad_rows++;
            pp_err(err, 0, "vmid %u listed twice; one entry skipped", vl->v[i].vmid);
            continue;
        }
        vl->v[w++] = vl->v[i];
    }
    vl->n = w;
}

/* FNV-1a: node names are short, and a .vmlist has only tens of them. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Sets every entry's node_id and vl->n_nodes: one hash lookup an entry in a
 * table of at least twice as many slots as entries (so never full). */
static void number_nodes(struct pve_vmlist *vl)
{
    size_t cap = 16;
    while (cap < 2 * vl->n)
        cap *= 2;
    uint32_t *slot = calloc(cap, sizeof *slot);          /* first entry of the node + 1; 0 empty */
    if (!slot)
        abort();
    vl->n_nodes = 0;
    for (size_t i = 0; i < vl->n; i++) {
        struct vmlist_entry *e = &vl->v[i];
        size_t k = name_hash(e->node) & (cap - 1);
        while (slot[k] && strcmp(vl->v[slot[k] - 1].node, e->node) != 0)
            k = (k + 1) & (cap - 1);
        if (!slot[k]) {
            slot[k] = (uint32_t)i + 1;
            e->node_id = (uint32_t)vl->n_nodes++;
        } else {
            e->node_id = vl->v[slot[k] - 1].node_id;
        }
    }
    free(slot);
}

int parse_vmlist(const char *text, struct pve_vmlist *out, struct parse_err *err)
{
    struct scan s;
    scan_init(&s, text, err);
    memset(out, 0, sizeof *out);
    struct vmlist_parse vp = {.vl = out};
    if (!parse_document(&s, on_vmlist_top, &vp)) {
        pve_vmlist_free(out);
        return -1;
    }
    sort_unique_vms(out, err);
    number_nodes(out);
    return 0;
}

void pve_vmlist_free(struct pve_vmlist *vl)
{
    free(vl->v);
    vl->v = NULL;
    vl->n = vl->n_nodes = 0;
}

/* ---- ha/manager_status ----------------------------------------------------- */

struct ha_parse {
    struct pve_ha *ha;
    size_t cap, nodes_cap;
    struct ha_service cur;
    bool has_state;
};

/* An HA state is a short lower-case word (started, request_stop, ...). */
static bool ha_state_ok(const char *st)
{
    if (!st[0])
        return false;
    for (; *st; st++)
        if (!((*st >= 'a' && *st <= 'z') || *st == '_' || *st == '-'))
            return false;
    return true;
}

static bool on_service_field(struct scan *s, const char *key, void *arg)
{
    struct ha_parse *hp = arg;
    if (strcmp(key, "state") != 0)
        return skip_value(s);
    enum str_rc rc = read_string(s, hp->cur.state, sizeof hp->cur.state);
    hp->has_state = rc == STR_OK && ha_state_ok(hp->cur.state);
    return rc != STR_BAD;
}

static void push_service(struct ha_parse *hp)
{
    struct pve_ha *ha = hp->ha;
    if (ha->n == hp->cap) {
        hp->cap = hp->cap ? hp->cap * 2 : 16;
        struct ha_service *v = realloc(ha->v, hp->cap * sizeof *v);
        if (!v)
            abort();
        ha->v = v;
    }
    ha->v[ha->n++] = hp->cur;
}

/* One "vm:<vmid>" / "ct:<vmid>" service; other resource kinds are not guests. */
static bool on_service(struct scan *s, const char *key, void *arg)
{
    struct ha_parse *hp = arg;
    bool vm = strncmp(key, "vm:", 3) == 0, ct = strncmp(key, "ct:", 3) == 0;
    if (!vm && !ct)
        return skip_value(s);
    memset(&hp->cur, 0, sizeof hp->cur);
    hp->has_state = false;
    if (!each_member(s, on_service_field, hp))
        return false;
    if (!vmid_key(key + 3, &hp->cur.vmid))
        skipped(s, "HA service with bad vmid", key);
    else if (!hp->has_state)
        skipped(s, "HA service without a valid state", key);
    else if (hp->ha->n >= MAX_GUESTS)
        return fatal(s, "too many HA services");
    else {
        hp->cur.type = ct ? PVE_GUEST_LXC : PVE_GUEST_QEMU;
        push_service(hp);
    }
    return true;
}

/* One "node_status" entry: "<node>": "<state>". */
static bool on_node_status(struct scan *s, const char *key, void *arg)
{
    struct ha_parse *hp = arg;
    struct pve_ha *ha = hp->ha;
    struct ha_node nd;
    memset(&nd, 0, sizeof nd);
    enum str_rc rc = read_string(s, nd.state, sizeof nd.state);
    if (rc == STR_BAD)
        return false;
    if (rc != STR_OK || !ha_state_ok(nd.state) || strlen(key) >= sizeof nd.name || !key[0]) {
        skipped(s, "HA node status with a bad name or state", key);
        return true;
    }
    if (ha->n_nodes >= MAX_GUESTS)
        return fatal(s, "too many HA nodes");
    if (ha->n_nodes == hp->nodes_cap) {
        hp->nodes_cap = hp->nodes_cap ? hp->nodes_cap * 2 : 8;
        struct ha_node *v = realloc(ha->nodes, hp->nodes_cap * sizeof *v);
        if (!v)
            abort();
        ha->nodes = v;
    }
    memcpy(nd.name, key, strlen(key) + 1);
    ha->nodes[ha->n_nodes++] = nd;
    return true;
}

static bool on_ha_top(struct scan *s, const char *key, void *arg)
{
    if (strcmp(key, "service_status") == 0)
        return each_member(s, on_service, arg);
    if (strcmp(key, "node_status") == 0)
        return each_member(s, on_node_status, arg);
    return skip_value(s);
}

static int cmp_ha_node(const void *a, const void *b)
{
    return strcmp(((const struct ha_node *)a)->name, ((const struct ha_node *)b)->name);
}

static int cmp_service(const void *a, const void *b)
{
    const struct ha_service *x = a, *y = b;
    if (x->vmid != y->vmid)
        return (x->vmid > y->vmid) - (x->vmid < y->vmid);
    return (int)x->type - (int)y->type;
}

int parse_ha_manager_status(const char *text, struct pve_ha *out, struct parse_err *err)
{
    struct scan s;
    scan_init(&s, text, err);
    memset(out, 0, sizeof *out);
    skip_ws(&s);
    if (s.p == s.end)
        return 0;                  /* PVE's json_reader: an empty file is {} */
    struct ha_parse hp = {.ha = out};
    if (!parse_document(&s, on_ha_top, &hp)) {
        pve_ha_free(out);
        return -1;
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_service);
    if (out->n_nodes)                  /* looked up for every member, every cycle */
        qsort(out->nodes, out->n_nodes, sizeof *out->nodes, cmp_ha_node);
    return 0;
}

void pve_ha_free(struct pve_ha *ha)
{
    free(ha->v);
    free(ha->nodes);
    memset(ha, 0, sizeof *ha);
}

const char *pve_ha_node_state(const struct pve_ha *ha, const char *name)
{
    struct ha_node key;
    if (!ha->n_nodes || strlen(name) >= sizeof key.name)
        return NULL;
    memcpy(key.name, name, strlen(name) + 1);
    const struct ha_node *n = bsearch(&key, ha->nodes, ha->n_nodes, sizeof *ha->nodes, cmp_ha_node);
    return n ? n->state : NULL;
}

const struct ha_service *pve_ha_find(const struct pve_ha *ha, uint32_t vmid, enum pve_guest_type t)
{
    struct ha_service key = {.vmid = vmid, .type = t};
    return ha->n ? bsearch(&key, ha->v, ha->n, sizeof *ha->v, cmp_service) : NULL;
}

/* ---- the "pve" collector (superseded by "cluster") -------------------------- */

/* The last .members text and what it said: the file changes only when the
 * cluster does, so an unchanged text is not parsed again. */
struct pve_state {
    struct buf text;
    struct members_local m;
    bool valid;
};

static int pve_init(void **state, struct collector_ctx *ctx)
{
    struct pve_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    *state = st;
    return 0;
}

static void pve_fini(void *state)
{
    struct pve_state *st = state;
    buf_free(&st->text);
    free(st);
}

/* Parses ctx->scratch unless it equals the last text. */
static int pve_parse_if_changed(struct pve_state *st, struct collector_ctx *ctx)
{
    const struct buf *b = ctx->scratch;
    if (st->valid && b->len == st->text.len && memcmp(b->data, st->text.data, b->len) == 0)
        return 0;
    char why[192];
    st->valid = members_parse_local(b->data, &st->m, why, sizeof why);
    buf_reset(&st->text);
    buf_append(&st->text, b->data, b->len);
    return st->valid ? 0 : collector_fail(ctx, "%s/.members %s", ctx->pve, why);
}

/* .members is a pmxcfs "function plug": its text is regenerated when the file
 * is looked up or stat'ed, and a read serves the last generated text. A
 * descriptor kept open across cycles (the file cache) would re-read a stale
 * text forever, so the file is opened for every read. */
static int pve_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct pve_state *st = state;
    int rc = read_file_at(ctx->pve, ".members", ctx->scratch);
    if (rc == -ENOENT)
        return 0;                 /* not a Proxmox node (or pmxcfs not mounted) */
    if (rc < 0)
        return collector_fail(ctx, "%s/.members: %s", ctx->pve, strerror(-rc));
    if (pve_parse_if_changed(st, ctx) != 0)
        return -1;
    Pvescope__PveLocal *pl = arena_alloc(ctx->arena, sizeof *pl);
    pvescope__pve_local__init(pl);
    if (st->m.cluster_name[0])
        pl->cluster_name = arena_strdup(ctx->arena, st->m.cluster_name);
    pl->has_nodeid = st->m.has_nodeid;
    pl->nodeid = st->m.nodeid;
    r->pve = pl;
    return 0;
}

const struct collector collector_pve = {
    .name = "pve",
    .help = "Cluster name and node id from /etc/pve/.members (superseded by cluster, which fills the same)",
    .default_enabled = false,
    .init = pve_init,
    .collect = pve_collect,
    .fini = pve_fini,
};
