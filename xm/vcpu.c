/*
 * vcpu.c — xm vcpu-set, vcpu-list, vcpu-pin: a guest's vCPUs are QEMU's
 * CPUs on q35, started with -smp vcpus,maxcpus=maxvcpus.
 *
 * vcpu-set plugs them in and out on xm's monitor (ctl.sock): QMP
 * query-hotpluggable-cpus lists the slots (the CPU type and its socket,
 * core and thread ids), device_add fills the lowest free ones, device_del
 * empties the highest (the guest's ACPI processor driver takes the CPU
 * offline and ejects it; xm waits until QEMU says the slot is empty). The
 * guest's agent (xmfront) brings a plugged CPU online, as Xen's guests do
 * by themselves. vCPU i is QEMU's cpu-index i: the slots in APIC id order.
 *
 * A vCPU is a QEMU thread (query-cpus-fast gives its thread id): its host
 * CPU, state and time are read in /proc/PID/task/TID/stat, its pinning is
 * its sched_setaffinity. cpus = of the config and vcpu-pin record each
 * vCPU's CPU list in /tool/xm/domain/N/cpus/<vcpu>, applied whenever that
 * vCPU is plugged.
 */
#include "xm.h"
#include "cpus.h"
#include "dom.h"
#include "qmp.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VCPU_MAX 64
#define UNPLUG_MS 30000 /* for the guest to give CPUs back */

/* A slot's place: socket, die, core, thread ids as one number. */
static long slot_key(json_t *slot)
{
	json_t *p = json_object_get(slot, "props");
	return json_integer_value(json_object_get(p, "socket-id")) * 1000000 +
	       json_integer_value(json_object_get(p, "die-id")) * 10000 +
	       json_integer_value(json_object_get(p, "core-id")) * 100 +
	       json_integer_value(json_object_get(p, "thread-id"));
}

static int by_key(const void *a, const void *b)
{
	long x = slot_key(*(json_t *const *)a), y = slot_key(*(json_t *const *)b);
	return x < y ? -1 : x > y;
}

/* query-hotpluggable-cpus, in vCPU order: up to VCPU_MAX slots in s (their
 * references held: json_decref each), the count in *n and the plugged
 * ones in *plugged. 0, or -1 with err. */
static int slots(struct qmp *q, json_t **s, size_t *n, size_t *plugged, char **err)
{
	json_t *ret = NULL;
	*n = *plugged = 0;
	if (qmp_exec(q, "query-hotpluggable-cpus", NULL, &ret, err, 5000) < 0)
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(ret, i, e) {
		if (*n == VCPU_MAX)
			break;
		s[(*n)++] = json_incref(e);
		*plugged += json_object_get(e, "qom-path") != NULL;
	}
	json_decref(ret);
	qsort(s, *n, sizeof(*s), by_key);
	return 0;
}

/* The thread id of each plugged vCPU (tid[i], 0: not plugged). 0 or -1. */
static int threads(struct qmp *q, int *tid, char **err)
{
	json_t *ret = NULL;
	memset(tid, 0, VCPU_MAX * sizeof(*tid));
	if (qmp_exec(q, "query-cpus-fast", NULL, &ret, err, 5000) < 0)
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(ret, i, e) {
		json_int_t idx = json_integer_value(json_object_get(e, "cpu-index"));
		if (idx >= 0 && idx < VCPU_MAX)
			tid[idx] = (int)json_integer_value(json_object_get(e, "thread-id"));
	}
	json_decref(ret);
	return 0;
}

/* /tool/xm/domain/N/<key> as a number, or -1. */
static long read_long(struct xs_handle *h, const char *key, unsigned int domid)
{
	char *v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/%s", domid, key);
	long n = v ? atol(v) : -1;
	free(v);
	return n;
}

/* Pin the vCPUs of tid that have a recorded CPU list. 0, or 1 (printed). */
static int pin_recorded(struct xs_handle *h, unsigned int domid, const int *tid)
{
	char path[128];
	unsigned int n = 0;
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/cpus", domid);
	char **ents = xs_directory(h, XBT_NULL, path, &n);
	int rc = 0;
	for (unsigned int i = 0; ents && i < n && !rc; i++) {
		long v = atol(ents[i]);
		if (v < 0 || v >= VCPU_MAX || !tid[v])
			continue;
		char *cpus = dom_readf(h, XBT_NULL, "%s/%s", path, ents[i]);
		char err[300];
		if (cpus && cpus_pin(tid[v], cpus, err, sizeof(err)) < 0)
			rc = xm_error("domain %u vCPU %ld: %s", domid, v, err);
		free(cpus);
	}
	free(ents);
	return rc;
}

int xm_vcpu_pin_recorded(struct xs_handle *h, unsigned int domid)
{
	int tid[VCPU_MAX];
	char *err = NULL;
	struct qmp *q = xm_ctl_open(domid);
	if (!q)
		return 1;
	int rc = threads(q, tid, &err);
	qmp_close(q);
	if (rc < 0) {
		xm_error("domain %u: query-cpus-fast: %s", domid, err);
		free(err);
		return 1;
	}
	return pin_recorded(h, domid, tid);
}

/* Plug slots in (up to n plugged) or out (down to n). 0, or 1 (printed). */
/* Does domid's QEMU run under TCG (its command line says accel=tcg)? */
static bool under_tcg(struct xs_handle *h, unsigned int domid)
{
	struct dominfo d;
	pid_t pid;
	char path[64], buf[8192];
	if (dom_info(h, domid, &d) < 0 || (pid = dom_qemu_live(&d)) <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, "accel=tcg") != NULL;
}

/* Was a CPU plugged out of domid's QEMU before (recorded by plug)? */
static bool was_unplugged(struct xs_handle *h, unsigned int domid)
{
	char *v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/unplugged", domid);
	free(v);
	return v != NULL;
}

/* Plug slots in (up to n plugged) or out (down to n). QEMU 7.2 under TCG
 * aborts ("double free or corruption") at the first CPU plugged in after
 * one was plugged out, whichever the slots (tests/guest/memcpu.sh and
 * bench/memcpu.sh found it): there, once a CPU went out, a vcpu-set that
 * would plug one in is refused before anything is done. 0, or 1 (printed). */
static int plug(struct xs_handle *h, struct qmp *q, unsigned int domid, json_t **s, size_t ns,
		size_t plugged, size_t n)
{
	char *err = NULL;
	if (plugged < n && under_tcg(h, domid) && was_unplugged(h, domid))
		return xm_error("domain %u: cannot plug a vCPU in after one was plugged out: QEMU "
				"under TCG aborts then (a QEMU 7.2 bug); at most %zu vCPUs now",
				domid, plugged);
	for (size_t i = 0; i < ns && plugged < n; i++) {
		if (json_object_get(s[i], "qom-path"))
			continue;
		json_t *args = json_deep_copy(json_object_get(s[i], "props"));
		json_object_set(args, "driver", json_object_get(s[i], "type"));
		json_object_set_new(args, "id", json_sprintf("xmvcpu%ld", slot_key(s[i])));
		if (qmp_exec(q, "device_add", args, NULL, &err, 5000) < 0) {
			xm_error("domain %u: cannot plug vCPU %zu in: %s", domid, i, err);
			free(err);
			return 1;
		}
		plugged++;
	}
	if (plugged <= n)
		return 0;
	for (size_t i = ns; i-- > 0 && plugged > n;) {
		const char *path = json_string_value(json_object_get(s[i], "qom-path"));
		if (!path)
			continue;
		if (qmp_exec(q, "device_del", json_pack("{s:s}", "id", path), NULL, &err, 5000) < 0) {
			xm_error("domain %u: cannot plug vCPU %zu out: %s", domid, i, err);
			free(err);
			return 1;
		}
		char node[128];
		snprintf(node, sizeof(node), XM_TOOL_ROOT "/domain/%u/unplugged", domid);
		dom_writef(h, XBT_NULL, node, "1");
		plugged--;
	}
	/* the guest takes each CPU offline and ejects it, and QEMU empties its
	 * slot: looked at again after each DEVICE_DELETED (or 250 ms) */
	long deadline = now_ms() + UNPLUG_MS;
	for (;;) {
		json_t *t[VCPU_MAX];
		size_t nt, now;
		if (slots(q, t, &nt, &now, &err) < 0) {
			xm_error("domain %u: query-hotpluggable-cpus: %s", domid, err);
			free(err);
			return 1;
		}
		for (size_t i = 0; i < nt; i++)
			json_decref(t[i]);
		if (now <= n)
			return 0;
		long wait = deadline - now_ms();
		if (wait <= 0)
			return xm_error("domain %u: the guest did not give back its vCPUs within %d s "
					"(%zu still plugged; is the guest paused or without ACPI?)",
					domid, UNPLUG_MS / 1000, now);
		qmp_wait_event(q, "DEVICE_DELETED", NULL, NULL, wait < 250 ? (int)wait : 250);
	}
}

int cmd_vcpu_set(struct xm_ctx *x, int argc, char **argv)
{
	if (argc != 2)
		return xm_usage("vcpu-set");
	char *end;
	errno = 0;
	long n = strtol(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || n < 1)
		return xm_error("Invalid number of vCPUs '%s'", argv[1]);
	long max = read_long(x->h, "maxvcpus", x->domid);
	if (max < 1)
		max = read_long(x->h, "vcpus", x->domid);
	if (max < 1)
		return xm_store_error(errno, "domain %s has no vCPU records", x->domain);
	if (n > max)
		return xm_error("Cannot set vcpus greater than max vcpus on running domain "
				"(%ld > maxvcpus = %ld of domain '%s')", n, max, x->domain);
	struct qmp *q = xm_ctl_open(x->domid);
	if (!q)
		return 1;
	json_t *s[VCPU_MAX];
	size_t ns = 0, plugged = 0;
	char *err = NULL;
	int tid[VCPU_MAX];
	int rc;
	if (slots(q, s, &ns, &plugged, &err) < 0) {
		rc = xm_error("domain %u: query-hotpluggable-cpus: %s", x->domid, err);
		free(err);
		qmp_close(q);
		return rc;
	}
	rc = plug(x->h, q, x->domid, s, ns, plugged, (size_t)n);
	for (size_t i = 0; i < ns; i++)
		json_decref(s[i]);
	if (!rc && threads(q, tid, &err) < 0) {
		rc = xm_error("domain %u: query-cpus-fast: %s", x->domid, err);
		free(err);
	}
	qmp_close(q);
	if (rc)
		return rc;
	/* what is plugged now, as Xen records it */
	long count = 0;
	for (long i = 0; i < max && i < VCPU_MAX; i++) {
		char path[128];
		count += tid[i] != 0;
		snprintf(path, sizeof(path), "/local/domain/%u/cpu/%ld/availability", x->domid, i);
		dom_writef(x->h, XBT_NULL, path, "%s", tid[i] ? "online" : "offline");
	}
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/vcpus", x->domid);
	if (!dom_writef(x->h, XBT_NULL, path, "%ld", count))
		return xm_store_error(errno, "cannot write %s: %s", path, strerror(errno));
	return pin_recorded(x->h, x->domid, tid);
}

/* --- vcpu-list ---------------------------------------------------------------- */

static void header(void)
{
	printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
	       "CPU Affinity");
}

/* Domain-0's vCPUs: the host's CPUs, their time in /proc/stat. */
static void list_dom0(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		int cpu;
		unsigned long long u, ni, sy, idle, io, irq, sirq, st;
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &u, &ni, &sy,
			   &idle, &io, &irq, &sirq, &st) != 9)
			continue;
		double t = (double)(u + ni + sy + irq + sirq + st) / (double)sysconf(_SC_CLK_TCK);
		printf("%-32s %5u %5d %5d %5s %9.1f %s\n", "Domain-0", 0u, cpu, cpu, "r--", t,
		       "any cpu");
	}
	if (f)
		fclose(f);
}

/* One vCPU thread: its state letter, last host CPU and CPU seconds. */
static int thread_stat(pid_t pid, int tid, char *state, int *cpu, double *secs)
{
	char path[128], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* after the name: state (field 3) ... utime 14, stime 15 ... processor 39 */
	unsigned long ut = 0, st = 0;
	int field = 3;
	for (char *tok = strtok(p + 2, " "); tok; tok = strtok(NULL, " "), field++) {
		if (field == 3)
			*state = tok[0];
		else if (field == 14)
			ut = strtoul(tok, NULL, 10);
		else if (field == 15)
			st = strtoul(tok, NULL, 10);
		else if (field == 39)
			*cpu = atoi(tok);
	}
	*secs = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return field > 39 ? 0 : -1;
}

/* A guest's vCPUs, plugged or not (up to maxvcpus). 0, or 1 (printed). */
static int list_guest(struct xs_handle *h, unsigned int domid)
{
	struct dominfo d;
	if (dom_info(h, domid, &d) < 0)
		return 0; /* gone since */
	long max = read_long(h, "maxvcpus", domid);
	if (max < d.vcpus)
		max = d.vcpus;
	if (max > VCPU_MAX)
		max = VCPU_MAX;
	pid_t pid = dom_qemu_live(&d);
	int tid[VCPU_MAX] = { 0 };
	bool paused = false;
	if (pid > 0) {
		struct qmp *q = xm_ctl_open(domid);
		char *err = NULL;
		json_t *st = NULL;
		if (!q)
			return 1;
		if (threads(q, tid, &err) < 0 ||
		    qmp_exec(q, "query-status", NULL, &st, &err, 5000) < 0) {
			xm_error("domain %u: %s", domid, err);
			free(err);
			qmp_close(q);
			return 1;
		}
		paused = !json_is_true(json_object_get(st, "running"));
		json_decref(st);
		qmp_close(q);
	}
	for (long i = 0; i < max; i++) {
		char state = 0, cpu[16] = "-", st[4] = "--p", aff[256] = "-";
		int c = -1;
		double secs = 0;
		if (tid[i] && thread_stat(pid, tid[i], &state, &c, &secs) == 0) {
			snprintf(cpu, sizeof(cpu), "%d", c);
			snprintf(st, sizeof(st), "%s", paused ? "--p" : state == 'R' ? "r--" : "-b-");
			cpu_set_t set;
			if (sched_getaffinity(tid[i], sizeof(set), &set) == 0)
				cpus_text(&set, aff, sizeof(aff));
		}
		printf("%-32s %5u %5ld %5s %5s %9.1f %s\n", d.name, domid, i, cpu, st, secs, aff);
	}
	return 0;
}

int cmd_vcpu_list(struct xm_ctx *x, int argc, char **argv)
{
	(void)x;
	struct xs_handle *h = xm_xs_open();
	if (!h)
		return 1;
	unsigned int *ids = NULL;
	size_t n = 0;
	int rc = 0;
	if (argc > 1) {
		ids = calloc((size_t)argc, sizeof(*ids));
		for (int i = 1; ids && i < argc && !rc; i++)
			rc = xm_find_domain(h, argv[i], &ids[n++]);
	} else {
		unsigned int *g = NULL;
		size_t ng = 0;
		if (dom_list(h, &g, &ng) < 0) {
			rc = xm_store_error(errno, "cannot read /local/domain: %s", strerror(errno));
		} else if ((ids = calloc(ng + 1, sizeof(*ids)))) {
			memcpy(ids + 1, g, ng * sizeof(*g));
			n = ng + 1;
		}
		free(g);
	}
	if (!rc && !ids)
		rc = xm_error("out of memory");
	if (!rc) {
		header();
		for (size_t i = 0; i < n && !rc; i++) {
			if (ids[i] == 0)
				list_dom0();
			else
				rc = list_guest(h, ids[i]);
		}
	}
	free(ids);
	xs_close(h);
	return rc;
}

/* --- vcpu-pin ----------------------------------------------------------------- */

int cmd_vcpu_pin(struct xm_ctx *x, int argc, char **argv)
{
	if (argc != 3)
		return xm_usage("vcpu-pin");
	long max = read_long(x->h, "maxvcpus", x->domid);
	if (max < 1)
		return xm_store_error(errno, "domain %s has no vCPU records", x->domain);
	long first = 0, last = max - 1;
	if (strcmp(argv[1], "all") != 0) {
		char *end;
		errno = 0;
		first = last = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end || first < 0 || first >= max)
			return xm_error("Invalid VCPU '%s': domain '%s' has vCPUs 0 to %ld (or all)",
					argv[1], x->domain, max - 1);
	}
	cpu_set_t set;
	bool all;
	char err[300];
	if (cpus_parse(argv[2], &set, &all, err, sizeof(err)) < 0 ||
	    cpus_on_host(&set, err, sizeof(err)) < 0)
		return xm_error("%s", err);
	for (long v = first; v <= last; v++) {
		char path[128];
		snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/cpus/%ld", x->domid, v);
		if (!dom_writef(x->h, XBT_NULL, path, "%s", all ? "all" : argv[2]))
			return xm_store_error(errno, "cannot write %s: %s", path, strerror(errno));
	}
	return xm_vcpu_pin_recorded(x->h, x->domid);
}
