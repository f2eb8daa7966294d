/*
 * list.c — xm list, domid, domname.
 *
 * State flags "rbpscd" are derived, not stored: QEMU's run state (QMP
 * query-status on the domain's ctl monitor) gives p/s/c, a vCPU thread on a
 * CPU right now gives r, otherwise b; a domain whose QEMU is gone but whose
 * nodes remain is d (dying). Time(s) is the CPU time of the vCPU threads.
 * QEMU is alive while it holds the lock on its pid file (dom_qemu_live), so
 * a dead QEMU's pid, reused since, is not taken for it. Every guest's QEMU
 * is asked at once, under one deadline (QMP_LIST_MS): a stopped QEMU or a
 * busy monitor shows as blocked, and costs the others nothing.
 */
#include "xm.h"
#include "daemon.h"
#include "dom.h"
#include "qmp.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QMP_LIST_MS 1000 /* for every guest's monitor to answer, all at once */

struct row {
	unsigned int domid;
	char name[128];
	char uuid[40];
	long mem_mib;
	long vcpus;
	char state[7];
	double secs;
	char status[32];        /* QEMU run state */
	pid_t qemu;             /* alive (dom_qemu_live), else <= 0 */
	bool running;           /* a vCPU thread on a CPU now */
	char dir[512];          /* its run dir */
};

static long host_mem_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long kb = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

static double host_cpu_secs(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long u = 0, ni = 0, sy = 0, idle = 0, io = 0, irq = 0, sirq = 0, st = 0;
	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &idle,
			   &io, &irq, &sirq, &st) < 3)
			u = ni = sy = irq = sirq = st = 0;
		fclose(f);
	}
	return (double)(u + ni + sy + irq + sirq + st) / (double)sysconf(_SC_CLK_TCK);
}

/* vCPU threads ("CPU n/TCG", "CPU n/KVM"): running now? and their CPU time. */
static void vcpu_threads(pid_t pid, bool *running, double *secs)
{
	char path[128];
	*running = false;
	*secs = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sp[512], buf[1024];
		snprintf(sp, sizeof(sp), "%s/%s/stat", path, e->d_name);
		FILE *f = fopen(sp, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
		if (!lp || !rp || strncmp(lp + 1, "CPU ", 4) != 0)
			continue;
		char state;
		unsigned long ut, stt;
		if (sscanf(rp + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &state, &ut, &stt) != 3)
			continue;
		*running |= state == 'R';
		*secs += (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
	}
	closedir(d);
}

/* QEMU's run state for every row with a live QEMU (r->dir), asked of all
 * their ctl monitors at once under one deadline, QMP_LIST_MS: a stopped
 * QEMU or a busy monitor (one client at a time) leaves that row "unknown"
 * and costs the others nothing. */
static void statuses(struct row *rows, size_t n)
{
	(void)raise_nofile(); /* a monitor per guest at once: past 1024 with 1,000 */
	struct ask {
		struct qmp *q;
		bool ready;
		long id;
	} *a = calloc(n, sizeof(*a));
	struct pollfd *p = calloc(n, sizeof(*p));
	size_t *of = calloc(n, sizeof(*of));
	if (!a || !p || !of)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char ctl[600], *err = NULL;
		if (rows[i].qemu <= 0)
			continue;
		snprintf(ctl, sizeof(ctl), "%s/ctl.sock", rows[i].dir);
		a[i].q = qmp_open(ctl, &err);
		a[i].id = -1;
		free(err);
	}
	long deadline = now_ms() + QMP_LIST_MS;
	for (;;) {
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			if (a[i].q) {
				p[np] = (struct pollfd){ .fd = qmp_fd(a[i].q), .events = POLLIN };
				of[np++] = i;
			}
		long left = deadline - now_ms();
		if (np == 0 || left <= 0 || poll(p, np, (int)left) <= 0)
			break;
		for (size_t k = 0; k < np; k++) {
			struct ask *s = &a[of[k]];
			char *err = NULL;
			bool done = false;
			if (!p[k].revents)
				continue;
			if (!s->ready) {
				int r = qmp_handshake(s->q, &err);
				if (r > 0) {
					s->ready = true;
					s->id = qmp_send(s->q, "query-status", NULL);
				}
				done = r < 0 || (r > 0 && s->id < 0);
			} else if (qmp_read(s->q) < 0) {
				done = true;
			}
			json_t *m;
			while (s->ready && !done && (m = qmp_next(s->q))) {
				json_t *id = json_object_get(m, "id");
				if (json_is_integer(id) && json_integer_value(id) == s->id) {
					const char *st = json_string_value(json_object_get(
						json_object_get(m, "return"), "status"));
					if (st)
						snprintf(rows[of[k]].status, sizeof(rows[of[k]].status),
							 "%s", st);
					done = true;
				}
				json_decref(m);
			}
			free(err);
			if (done) {
				qmp_close(s->q);
				s->q = NULL;
			}
		}
	}
out:
	for (size_t i = 0; a && i < n; i++)
		qmp_close(a[i].q);
	free(a);
	free(p);
	free(of);
}

/* A guest's row. 0, or -1: it is gone (no name; errno from the store). */
static int fill_guest(struct xs_handle *h, unsigned int id, struct row *r)
{
	struct dominfo d;

	memset(r, 0, sizeof(*r));
	r->domid = id;
	strcpy(r->state, "------");
	strcpy(r->status, "unknown");
	if (dom_info(h, id, &d) < 0)
		return -1;
	snprintf(r->name, sizeof(r->name), "%s", d.name);
	snprintf(r->uuid, sizeof(r->uuid), "%s", d.uuid);
	snprintf(r->dir, sizeof(r->dir), "%s", d.dir);
	r->mem_mib = d.mem_kib / 1024;
	r->vcpus = d.vcpus;
	r->qemu = dom_qemu_live(&d);
	if (r->qemu > 0)
		vcpu_threads(r->qemu, &r->running, &r->secs);
	return 0;
}

/* The state flags of a guest's row, once its QEMU's run state is known. */
static void set_flags(struct row *r)
{
	if (r->qemu <= 0) {
		r->state[5] = 'd';
		strcpy(r->status, "dying");
	} else if (strcmp(r->status, "paused") == 0) {
		r->state[2] = 'p';
	} else if (strcmp(r->status, "shutdown") == 0) {
		r->state[3] = 's';
	} else if (strcmp(r->status, "internal-error") == 0 ||
		   strcmp(r->status, "guest-panicked") == 0) {
		r->state[4] = 'c';
	} else {
		r->state[r->running ? 0 : 1] = r->running ? 'r' : 'b';
	}
}

static void print_row(const struct row *r)
{
	printf("%-40s %5u %5ld %5ld %10s %8.1f\n", r->name, r->domid, r->mem_mib, r->vcpus,
	       r->state, r->secs);
}

static json_t *row_json(const struct row *r)
{
	return json_pack("{s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:f}", "domid", (int)r->domid,
			 "name", r->name, "uuid", r->uuid, "memory", (json_int_t)r->mem_mib,
			 "vcpus", (json_int_t)r->vcpus, "state", r->state, "status",
			 r->status, "cpu_time", r->secs);
}

static void fill_dom0(struct row *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->name, "Domain-0");
	r->mem_mib = host_mem_mib();
	r->vcpus = sysconf(_SC_NPROCESSORS_ONLN);
	strcpy(r->state, "r-----");
	r->secs = host_cpu_secs();
	strcpy(r->status, "running");
}

/* The ids to list: the operands, else Domain-0 and every guest. 0, or 1
 * (printed). */
static int list_ids(struct xs_handle *h, int argc, char **argv, unsigned int **ids, size_t *n)
{
	*n = 0;
	if (argc > 0) {
		*ids = calloc((size_t)argc, sizeof(**ids));
		for (int i = 0; *ids && i < argc; i++, (*n)++)
			if (xm_find_domain(h, argv[i], &(*ids)[*n]))
				return 1;
		return *ids ? 0 : xm_error("out of memory");
	}
	unsigned int *g;
	size_t ng;
	if (dom_list(h, &g, &ng) < 0)
		return xm_store_error(errno, "cannot read /local/domain: %s", strerror(errno));
	*ids = calloc(ng + 1, sizeof(**ids));
	if (*ids) {
		memcpy(*ids + 1, g, ng * sizeof(*g));
		*n = ng + 1;
	}
	free(g);
	return *ids ? 0 : xm_error("out of memory");
}

int cmd_list(struct xm_ctx *x, int argc, char **argv)
{
	(void)x;
	bool lng = false;
	int first = 1;

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "-l") == 0 || strcmp(argv[first], "--long") == 0)
			lng = true;
		else
			return xm_usage("list");
	}
	struct xs_handle *h = xm_xs_open();
	if (!h)
		return 1;
	unsigned int *ids = NULL;
	size_t n = 0;
	int rc = list_ids(h, argc - first, argv + first, &ids, &n);
	if (rc)
		goto out;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	size_t nr = 0;
	if (!rows) {
		rc = xm_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		if (ids[i] == 0) {
			fill_dom0(&rows[nr++]);
		} else if (fill_guest(h, ids[i], &rows[nr]) == 0) {
			nr++;
		} else if (xm_xs_lost(errno)) {
			xm_xs_lost_error(errno);
			rc = 1;
		} /* else gone since it was listed */
	}
	if (rc) {
		free(rows);
		goto out;
	}
	statuses(rows, nr);
	json_t *arr = lng ? json_array() : NULL;
	if (!lng)
		printf("%-40s %5s %5s %5s %10s %9s\n", "Name", "ID", "Mem", "VCPUs", "State",
		       "Time(s)");
	for (size_t i = 0; i < nr; i++) {
		if (rows[i].domid != 0)
			set_flags(&rows[i]);
		if (lng)
			json_array_append_new(arr, row_json(&rows[i]));
		else
			print_row(&rows[i]);
	}
	free(rows);
	if (lng) {
		char *s = json_dumps(arr, JSON_INDENT(4));
		if (s)
			puts(s);
		free(s);
		json_decref(arr);
	}
out:
	free(ids);
	xs_close(h);
	return rc;
}

int cmd_domid(struct xm_ctx *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return xm_usage("domid");
	printf("%u\n", x->domid);
	return 0;
}

int cmd_domname(struct xm_ctx *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return xm_usage("domname");
	unsigned int id = x->domid;
	char *name = id ? dom_readf(x->h, XBT_NULL, "/local/domain/%u/name", id) : NULL;
	printf("%s\n", id ? (name ? name : "") : "Domain-0");
	free(name);
	return 0;
}
