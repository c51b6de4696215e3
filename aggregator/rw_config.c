/* rw_config.c — see rw_config.h. */
#include "rw_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

const char rw_config_usage[] =
    "  --remote-write.url=URL           push every snapshot as Prometheus remote_write to URL\n"
    "                                   (repeatable: one queue and sender per URL)\n"
    "    --remote-write.basic-auth-file=FILE    'user:password' for the URL before it\n"
    "    --remote-write.bearer-token-file=FILE  a bearer token for the URL before it\n"
    "    --remote-write.header=NAME=VALUE       an HTTP header for the URL before it\n"
    "                                           (repeatable; e.g. X-Scope-OrgID=tenant)\n"
    "  --remote-write.interval=15s      time between snapshots\n"
    "  --remote-write.external-label=NAME=VALUE  added to every series sent (repeatable;\n"
    "                                   e.g. cluster=..., replica=... for HA deduplication)\n"
    "  --remote-write.queue-max=256     batches kept per URL while it does not accept them;\n"
    "                                   when full the oldest is dropped\n"
    "  --remote-write.timeout=30s       per request\n"
    "  --remote-write.max-samples-per-send=10000  series per request\n";

void rw_config_init(struct rw_config *c)
{
    memset(c, 0, sizeof *c);
    c->interval = RW_DEFAULT_INTERVAL;
    c->timeout = RW_DEFAULT_TIMEOUT;
    c->queue_max = RW_DEFAULT_QUEUE_MAX;
    c->max_samples_per_send = RW_DEFAULT_MAX_SAMPLES;
}

void rw_config_free(struct rw_config *c)
{
    for (size_t i = 0; i < c->n_endpoints; i++) {
        for (size_t h = 0; h < c->endpoints[i].n_headers; h++)
            free((char *)c->endpoints[i].headers[h]);
        free(c->endpoints[i].headers);
    }
    free(c->endpoints);
    free(c->external);
    memset(c, 0, sizeof *c);
}

static bool fail(bool *bad, char *err, size_t errlen, const char *flag, const char *v, const char *why)
{
    snprintf(err, errlen, "invalid value for --%s: '%s': %s", flag, v, why);
    *bad = true;
    return true;
}

static bool add_endpoint(struct rw_config *c, const char *url, bool *bad, char *err, size_t errlen)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return fail(bad, err, errlen, "remote-write.url", url, "not an http:// or https:// URL");
    struct rw_endpoint_config *e = realloc(c->endpoints, (c->n_endpoints + 1) * sizeof *e);
    if (!e)
        abort();
    c->endpoints = e;
    c->endpoints[c->n_endpoints++] = (struct rw_endpoint_config){.url = url};
    return true;
}

static bool add_external(struct rw_config *c, char *arg, bool *bad, char *err, size_t errlen)
{
    const char *flag = "remote-write.external-label";
    char *eq = strchr(arg, '=');
    if (!eq)
        return fail(bad, err, errlen, flag, arg, "expected NAME=VALUE");
    *eq = '\0';                 /* argv is ours to cut: the name then lives on in place */
    /* __replica__ is allowed: it is Mimir's HA tracker's default replica label */
    bool ok = rw_label_name_valid(arg) && strcmp(arg, "__name__") != 0;
    for (size_t i = 0; ok && i < c->n_external; i++)
        ok = strcmp(c->external[i].name, arg) != 0;
    if (!ok || !eq[1]) {
        *eq = '=';
        return fail(bad, err, errlen, flag, arg,
                    "NAME must match [a-zA-Z_][a-zA-Z0-9_]*, not be __name__, be given once, and VALUE not be empty");
    }
    struct rw_label *l = realloc(c->external, (c->n_external + 1) * sizeof *l);
    if (!l)
        abort();
    c->external = l;
    c->external[c->n_external++] = (struct rw_label){arg, eq + 1};
    return true;
}

/* NAME=VALUE → "NAME: VALUE" for libcurl. */
static bool add_header(struct rw_endpoint_config *e, const char *arg, bool *bad, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    bool ok = eq && eq > arg;
    for (const char *p = arg; ok && p < eq; p++)
        ok = *p > ' ' && *p < 127 && *p != ':';
    for (const char *p = eq ? eq + 1 : arg; ok && *p; p++)
        ok = *p != '\r' && *p != '\n';
    if (!ok)
        return fail(bad, err, errlen, "remote-write.header", arg, "expected NAME=VALUE, a token NAME, one line");
    size_t n = strlen(arg) + 2;
    char *h = malloc(n);
    const char **hs = realloc(e->headers, (e->n_headers + 1) * sizeof *hs);
    if (!h || !hs)
        abort();
    snprintf(h, n, "%.*s: %s", (int)(eq - arg), arg, eq + 1);
    e->headers = hs;
    e->headers[e->n_headers++] = h;
    return true;
}

static struct rw_endpoint_config *last_endpoint(struct rw_config *c, const char *flag, bool *bad, char *err,
                                                size_t errlen)
{
    if (c->n_endpoints)
        return &c->endpoints[c->n_endpoints - 1];
    snprintf(err, errlen, "--%s must follow the --remote-write.url it applies to", flag);
    *bad = true;
    return NULL;
}

static bool endpoint_flag(struct rw_config *c, int argc, char **argv, int *i, bool *bad, char *err,
                          size_t errlen)
{
    const char *v;
    struct rw_endpoint_config *e;
    if (flag_value(argc, argv, i, "remote-write.url", &v))
        return add_endpoint(c, v, bad, err, errlen);
    if (flag_value(argc, argv, i, "remote-write.basic-auth-file", &v)) {
        if ((e = last_endpoint(c, "remote-write.basic-auth-file", bad, err, errlen)))
            e->basic_auth_file = v;
        return true;
    }
    if (flag_value(argc, argv, i, "remote-write.bearer-token-file", &v)) {
        if ((e = last_endpoint(c, "remote-write.bearer-token-file", bad, err, errlen)))
            e->bearer_token_file = v;
        return true;
    }
    if (flag_value(argc, argv, i, "remote-write.header", &v)) {
        if ((e = last_endpoint(c, "remote-write.header", bad, err, errlen)))
            add_header(e, v, bad, err, errlen);
        return true;
    }
    return false;
}

static bool count_flag(const char *flag, const char *v, uint64_t min, uint64_t max, size_t *out, bool *bad,
                       char *err, size_t errlen)
{
    uint64_t n;
    if (!parse_bytes(v, &n) || n < min || n > max) {
        char why[64];
        snprintf(why, sizeof why, "expected a number from %llu to %llu", (unsigned long long)min,
                 (unsigned long long)max);
        return fail(bad, err, errlen, flag, v, why);
    }
    *out = (size_t)n;
    return true;
}

bool rw_config_flag(struct rw_config *c, int argc, char **argv, int *i, bool *bad, char *err, size_t errlen)
{
    const char *v;
    *bad = false;
    if (endpoint_flag(c, argc, argv, i, bad, err, errlen))
        return true;
    if (flag_value(argc, argv, i, "remote-write.external-label", &v))
        return add_external(c, (char *)v, bad, err, errlen);   /* v points into argv: writable */
    if (flag_value(argc, argv, i, "remote-write.interval", &v)) {
        if (!parse_duration(v, &c->interval) || c->interval < 0.1 || c->interval > 3600)
            return fail(bad, err, errlen, "remote-write.interval", v, "expected a duration from 100ms to 1h");
        return true;
    }
    if (flag_value(argc, argv, i, "remote-write.timeout", &v)) {
        if (!parse_duration(v, &c->timeout) || c->timeout < 0.1 || c->timeout > 600)
            return fail(bad, err, errlen, "remote-write.timeout", v, "expected a duration from 100ms to 10m");
        return true;
    }
    if (flag_value(argc, argv, i, "remote-write.queue-max", &v))
        return count_flag("remote-write.queue-max", v, 1, 1000000, &c->queue_max, bad, err, errlen);
    if (flag_value(argc, argv, i, "remote-write.max-samples-per-send", &v))
        return count_flag("remote-write.max-samples-per-send", v, 1, 1000000, &c->max_samples_per_send, bad,
                          err, errlen);
    return false;
}
