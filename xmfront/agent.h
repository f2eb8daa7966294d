/*
 * agent.h — what xmfront itself does on the XenStore connection: announce
 * the agent (control/feature-*, attr/xmfront/{version,state}) and obey
 * control/shutdown (poweroff, halt, reboot) as Linux's Xen guest does.
 */
#ifndef XMFRONT_AGENT_H
#define XMFRONT_AGENT_H

#include <stdbool.h>

struct mux;

struct agent_opts {
	bool dry_run;  /* on shutdown requests: acknowledge, then exit only */
};

struct agent;

struct agent *agent_new(struct mux *m, const struct agent_opts *o);
void agent_free(struct agent *a);
/* The connection is (again) up: announce. */
void agent_connected(struct agent *a);
/* Milliseconds until agent_tick() has work (a retry), or -1. */
int agent_timeout(const struct agent *a);
void agent_tick(struct agent *a);
/* A dry-run shutdown was acknowledged: the program should end. */
bool agent_done(const struct agent *a);

#endif
