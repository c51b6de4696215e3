/* healthcheck.h — `pvescope-aggregator --healthcheck`: probe a running
 * aggregator's /-/healthy the way its web config makes it answer, for a
 * container engine's HEALTHCHECK (exit 0 healthy, 1 unhealthy).
 *
 * The probe speaks TLS when the web config enables it and accepts only the
 * server certificate the config names (compared byte for byte: the probe
 * trusts that exact certificate, not a CA). It has no password (the config
 * holds only bcrypt hashes) and no client certificate, so it counts as
 * healthy what only a running aggregator can answer:
 *   200                                     no basic auth configured
 *   401 with WWW-Authenticate: Basic realm="pvescope"
 *                                           basic auth configured: the request
 *                                           reached the auth check
 *   403                                     client certificates required: the
 *                                           handshake and the request handler ran
 * Anything else (refused, timeout, TLS failure, another certificate, another
 * status) is unhealthy, with the reason on stderr. */
#ifndef PVESCOPE_HEALTHCHECK_H
#define PVESCOPE_HEALTHCHECK_H

#include <stddef.h>
#include <sys/types.h>

#include "webconfig.h"

/* Probes http(s)://<listen>/-/healthy: listen is --web.listen-address (a
 * wildcard host is probed on loopback), web the loaded --web.config.file or
 * NULL. Gives up after timeout_s seconds in all. Returns 0 when healthy, 1
 * when not; one line on stdout (healthy) or stderr (why not). */
int healthcheck_probe(const char *listen, const struct webconfig *web, double timeout_s);

/* The command line of the running aggregator to probe: the lowest pid (other
 * than this process) whose argv[0] ends in "pvescope-aggregator" and that is
 * not itself a health check; PID 1 in a container. Returns its pid and fills
 * buf with its NUL-separated argv (argv pointers into buf, at most max_args,
 * NULL-terminated), or -1 when there is none. procfs: "/proc". */
pid_t healthcheck_find_running(const char *procfs, char *buf, size_t cap, char **argv, int max_args, int *argc);

#endif
