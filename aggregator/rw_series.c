/* rw_series.c — see rw_series.h. */
#include "rw_series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char NAME_LABEL[] = "__name__";

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

bool rw_label_name_valid(const char *name)
{
    if (!name || !name_start(*name))
        return false;
    for (const char *p = name + 1; *p; p++)
        if (!name_char(*p))
            return false;
    return true;
}

static void push_label(struct rw_series_set *set, const char *name, const char *value)
{
    if (set->n_labels == set->cap_labels) {
        set->cap_labels = set->cap_labels ? set->cap_labels * 2 : 1024;
        set->labels = realloc(set->labels, set->cap_labels * sizeof *set->labels);
        if (!set->labels)
            abort();            /* as buf.c: a half-written snapshot is worse than a restart */
    }
    set->labels[set->n_labels++] = (struct rw_label){name, value};
}

/* Unescapes the quoted value starting at p (just past the opening quote) in
 * place and NUL-terminates it. Returns the position after the closing quote,
 * or NULL when the line ends first. */
static char *unescape_value(char *p)
{
    char *w = p;
    for (;;) {
        char c = *p;
        if (c == '\0' || c == '\n')
            return NULL;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = p[1];
            if (e == 'n')
                *w++ = '\n';
            else if (e == '\\' || e == '"')
                *w++ = e;
            else
                return NULL;
            p += 2;
            continue;
        }
        *w++ = c;
        p++;
    }
    *w = '\0';                  /* w <= p: the closing quote, or earlier */
    return p + 1;
}

/* Parses `{a="x",b="y"}` at p into labels; returns the position after '}'. */
static char *parse_labels(struct rw_series_set *set, char *p)
{
    p++;                        /* '{' */
    while (*p != '}') {
        char *name = p;
        if (!name_start(*p))
            return NULL;
        while (name_char(*p))
            p++;
        if (p[0] != '=' || p[1] != '"')
            return NULL;
        *p = '\0';
        char *value = p + 2;
        p = unescape_value(value);
        if (!p)
            return NULL;
        if (*value)             /* an empty value is no label (Prometheus' data model) */
            push_label(set, name, value);
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

static bool has_label(const struct rw_series_set *set, const struct rw_series *s, const char *name)
{
    for (uint32_t i = 0; i < s->n_labels; i++)
        if (strcmp(set->labels[s->first_label + i].name, name) == 0)
            return true;
    return false;
}

/* Insertion sort by name: a series has a handful of labels. */
static void sort_labels(struct rw_label *l, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        struct rw_label x = l[i];
        uint32_t j = i;
        while (j > 0 && strcmp(l[j - 1].name, x.name) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
}

/* The line may be cut up by the failed parse: what is left up to its first
 * NUL (at least the metric name) is enough to find the renderer at fault. */
static void note_bad_line(struct rw_series_set *set, const char *line)
{
    if (set->bad_lines++ == 0)
        snprintf(set->first_bad, sizeof set->first_bad, "%.100s", line);
}

/* One sample line [line, eol). Returns false when it does not parse; the
 * labels pushed for it are then taken back. */
static bool parse_line(struct rw_series_set *set, char *line, char *eol, const struct rw_label *external,
                       size_t n_external)
{
    size_t first = set->n_labels;
    char *p = line;
    if (!name_start(*p) && *p != ':')
        return false;
    while (name_char(*p) || *p == ':')
        p++;
    char *name_end = p;
    if (*p != '{' && *p != ' ')
        return false;
    push_label(set, NAME_LABEL, line);
    if (*p == '{') {
        char *after = parse_labels(set, p);
        if (!after || *after != ' ') {
            set->n_labels = first;
            return false;
        }
        p = after;
    }
    *name_end = '\0';
    *eol = '\0';
    char *num_end;
    double v = strtod(p + 1, &num_end);
    if (num_end == p + 1 || (*num_end != '\0' && *num_end != ' ')) {
        set->n_labels = first;
        return false;
    }
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 1024;
        set->series = realloc(set->series, set->cap * sizeof *set->series);
        if (!set->series)
            abort();
    }
    struct rw_series *s = &set->series[set->n++];
    *s = (struct rw_series){first, (uint32_t)(set->n_labels - first), v};
    for (size_t i = 0; i < n_external; i++)
        if (!has_label(set, s, external[i].name)) {
            push_label(set, external[i].name, external[i].value);
            s->n_labels++;
        }
    sort_labels(&set->labels[first], s->n_labels);
    return true;
}

void rw_series_parse(struct rw_series_set *set, char *text, const struct rw_label *external,
                     size_t n_external)
{
    memset(set, 0, sizeof *set);
    set->text = text;
    char *line = text;
    while (*line) {
        char *eol = strchr(line, '\n');
        char *next = eol ? eol + 1 : line + strlen(line);
        if (!eol)
            eol = next;
        if (line != eol && *line != '#') {
            if (!parse_line(set, line, eol, external, n_external)) {
                *eol = '\0';
                note_bad_line(set, line);
            }
        }
        line = next;
    }
}

void rw_series_free(struct rw_series_set *set)
{
    free(set->text);
    free(set->labels);
    free(set->series);
    memset(set, 0, sizeof *set);
}
