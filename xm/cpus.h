/* cpus.h — host CPU lists as xl.cfg(5)'s cpus = and xm vcpu-pin take them:
 * "all", or items separated by commas, each "N", "N-M", or "^N" / "^N-M"
 * (taken out of what the items before gave). */
#ifndef XM_CPUS_H
#define XM_CPUS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

/* Parse s into set. "" and "all": every host CPU (*all true). 0, or -1
 * with the reason in err. Only the syntax and CPU numbers below
 * CPU_SETSIZE are checked here; cpus_on_host checks the host. */
int cpus_parse(const char *s, cpu_set_t *set, bool *all, char *err, size_t len);
/* Is every CPU of set one this host has (online)? 0, or -1 with err. */
int cpus_on_host(const cpu_set_t *set, char *err, size_t len);
/* set as ranges ("0-1,3"), or "any cpu" when it holds every host CPU. */
void cpus_text(const cpu_set_t *set, char *buf, size_t len);
/* Pin thread tid to s (a CPU list). 0, or -1 with err. */
int cpus_pin(int tid, const char *s, char *err, size_t len);

#endif
