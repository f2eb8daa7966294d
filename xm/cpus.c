/*
 * cpus.c — CPU lists (cpus.h): parsed, checked against the host, printed,
 * and applied to a vCPU thread with sched_setaffinity, which is what
 * pinning a vCPU is when the vCPU is a QEMU thread.
 */
#include "cpus.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(char *err, size_t len, const char *what, const char *s)
{
	snprintf(err, len, "invalid CPU list \"%s\": %s", s, what);
	return -1;
}

/* A CPU number at *p, moved past it. -1 when there is none. */
static long number(const char **p)
{
	if (!isdigit((unsigned char)**p))
		return -1;
	char *end;
	errno = 0;
	long v = strtol(*p, &end, 10);
	if (errno || v >= CPU_SETSIZE)
		return -2;
	*p = end;
	return v;
}

int cpus_parse(const char *s, cpu_set_t *set, bool *all, char *err, size_t len)
{
	CPU_ZERO(set);
	*all = false;
	if (!*s || strcmp(s, "all") == 0) {
		*all = true;
		for (long i = 0, n = sysconf(_SC_NPROCESSORS_CONF); i < n && i < CPU_SETSIZE; i++)
			CPU_SET((size_t)i, set);
		return 0;
	}
	bool any = false;
	for (const char *p = s;;) {
		bool neg = *p == '^';
		if (neg)
			p++;
		long a = number(&p), b = a;
		if (a == -2)
			return fail(err, len, "a CPU number too large", s);
		if (a < 0)
			return fail(err, len, "expected a CPU number, a range N-M, ^N or \"all\"", s);
		if (*p == '-') {
			p++;
			b = number(&p);
			if (b == -2)
				return fail(err, len, "a CPU number too large", s);
			if (b < 0)
				return fail(err, len, "a range N-M needs its end", s);
			if (b < a)
				return fail(err, len, "a range N-M needs N <= M", s);
		}
		for (long i = a; i <= b; i++) {
			if (neg)
				CPU_CLR((size_t)i, set);
			else
				CPU_SET((size_t)i, set);
		}
		any |= !neg;
		if (!*p)
			break;
		if (*p != ',')
			return fail(err, len, "items are separated by commas", s);
		p++;
	}
	if (!any || CPU_COUNT(set) == 0)
		return fail(err, len, "it leaves no CPU", s);
	return 0;
}

int cpus_on_host(const cpu_set_t *set, char *err, size_t len)
{
	cpu_set_t host;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	CPU_ZERO(&host);
	if (sched_getaffinity(0, sizeof(host), &host) < 0)
		for (long i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET((size_t)i, &host);
	for (size_t i = 0; i < CPU_SETSIZE; i++) {
		if (CPU_ISSET(i, set) && !CPU_ISSET(i, &host)) {
			char have[256];
			cpus_text(&host, have, sizeof(have));
			if (strcmp(have, "any cpu") == 0)
				snprintf(have, sizeof(have), "0-%ld", n - 1);
			snprintf(err, len, "CPU %zu is not one of this host's (%s)", i, have);
			return -1;
		}
	}
	return 0;
}

void cpus_text(const cpu_set_t *set, char *buf, size_t len)
{
	cpu_set_t host;
	size_t used = 0;
	buf[0] = '\0';
	CPU_ZERO(&host);
	for (long i = 0, n = sysconf(_SC_NPROCESSORS_ONLN); i < n && i < CPU_SETSIZE; i++)
		CPU_SET((size_t)i, &host);
	cpu_set_t both;
	CPU_AND(&both, &host, set);
	if (CPU_EQUAL(&both, &host)) {
		snprintf(buf, len, "any cpu");
		return;
	}
	for (size_t i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, set))
			continue;
		size_t j = i;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
			j++;
		int w = j > i ? snprintf(buf + used, len - used, "%s%zu-%zu", used ? "," : "", i, j)
			      : snprintf(buf + used, len - used, "%s%zu", used ? "," : "", i);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
		i = j;
	}
}

int cpus_pin(int tid, const char *s, char *err, size_t len)
{
	cpu_set_t set;
	bool all;
	if (cpus_parse(s, &set, &all, err, len) < 0 || cpus_on_host(&set, err, len) < 0)
		return -1;
	if (sched_setaffinity(tid, sizeof(set), &set) < 0) {
		snprintf(err, len, "cannot pin thread %d to CPUs %s: %s", tid, s, strerror(errno));
		return -1;
	}
	return 0;
}
