/* log.c — see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Written once by main() before threads exist; read-only afterwards. */
static enum log_level log_threshold = LOG_LVL_INFO;

bool log_level_parse(const char *s, enum log_level *out)
{
    static const struct { const char *name; enum log_level lvl; } names[] = {
        {"error", LOG_LVL_ERROR}, {"warn", LOG_LVL_WARN}, {"warning", LOG_LVL_WARN},
        {"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].lvl;
            return true;
        }
    }
    return false;
}

void log_set_level(enum log_level lvl) { log_threshold = lvl; }

bool log_enabled(enum log_level lvl) { return lvl <= log_threshold; }

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if (!log_enabled(lvl))
        return;
    /* One fprintf per event so concurrent threads never interleave a line. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)   /* keep one event on one line, whatever the input */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "<%d>%s\n", (int)lvl, line);
}
