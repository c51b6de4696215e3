/* log.h — one-line log events on stderr with syslog priority prefixes.
 *
 * journald turns the "<N>" prefix into the record's priority, so the daemons
 * log to stderr and never to syslog(3) directly. The threshold is the only
 * process-wide setting: main() sets it once, before any thread starts. */
#ifndef PVESCOPE_LOG_H
#define PVESCOPE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Parses "error", "warn", "info" or "debug"; returns false on anything else. */
bool log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level lvl);
bool log_enabled(enum log_level lvl);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
