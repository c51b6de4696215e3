/* render.h — turns one node's Report into its pre-rendered exposition chunks.
 *
 * This is where report fields get their Prometheus names and units (the agent
 * sends kernel units: ticks, sectors, milliseconds, kB are already bytes). */
#ifndef PVESCOPE_RENDER_H
#define PVESCOPE_RENDER_H

#include "exposition.h"
#include "pvescope.pb-c.h"

/* Renders a validated report; labels are the node's escaped label pairs
 * (node_labels()). Returns a node_render holding one reference. */
struct node_render *render_report(const Pvescope__Report *r, const char *labels);

void node_render_ref(struct node_render *nr);
void node_render_unref(struct node_render *nr);

#endif
