/*
 * info.c — xm info (the host: CPUs, memory, QEMU and its accelerator, the
 * versions, the control plane's daemons) and xm uptime, in xm's formats:
 * "key                    : value" lines, and Name/ID/Uptime columns.
 */
#include "xm.h"
#include "create.h"
#include "daemon.h"
#include "dom.h"
#include "sock.h"
#include "version.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void kv(const char *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kv(const char *k, const char *fmt, ...)
{
	va_list ap;
	printf("%-23s: ", k);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The value of /proc/cpuinfo's first "key" line (trimmed), or "". */
static void cpuinfo(const char *key, char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	size_t kl = strlen(key);
	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (c && strncmp(line, key, kl) == 0 && strspn(line + kl, " \t") == (size_t)(c - line - kl)) {
			snprintf(out, len, "%s", c + 1 + strspn(c + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

/* QEMU's first line of --version ("QEMU emulator version 7.2.19 ..."),
 * run directly (no shell), or "not found (NAME)". */
static void qemu_version(char *out, size_t len)
{
	const char *qemu = xm_qemu_binary();
	char *argv[] = { (char *)qemu, (char *)"--version", NULL };
	int fd[2];
	pid_t pid = -1;
	snprintf(out, len, "not found (%s)", qemu);
	if (pipe2(fd, O_CLOEXEC) < 0)
		return;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, qemu, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	char buf[512];
	ssize_t n = pid > 0 ? read(fd[0], buf, sizeof(buf) - 1) : -1;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(out, len, "%s", buf);
	}
}

static void daemon_state(const char *key, const char *pidfile)
{
	long pid = pidfile_live(pidfile);
	if (pid > 0)
		kv(key, "running (pid %ld)", pid);
	else
		kv(key, "not running (%s)", pidfile);
}

int cmd_info(struct xm_ctx *x, int argc, char **argv)
{
	(void)x;
	(void)argv;
	if (argc > 1)
		return xm_usage("info");
	struct utsname u;
	struct sysinfo si;
	char buf[1024], path[600];
	uname(&u);
	sysinfo(&si);
	kv("host", "%s", u.nodename);
	kv("release", "%s", u.release);
	kv("version", "%s", u.version);
	kv("machine", "%s", u.machine);
	kv("nr_cpus", "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	cpuinfo("cpu cores", buf, sizeof(buf));
	kv("cores_per_socket", "%s", *buf ? buf : "1");
	cpuinfo("model name", buf, sizeof(buf));
	kv("cpu_model", "%s", buf);
	cpuinfo("cpu MHz", buf, sizeof(buf));
	kv("cpu_mhz", "%ld", atol(buf));
	kv("total_memory", "%llu", (unsigned long long)si.totalram * si.mem_unit >> 20);
	kv("free_memory", "%llu", (unsigned long long)si.freeram * si.mem_unit >> 20);
	kv("accelerator", "%s", xm_pick_accel());
	qemu_version(buf, sizeof(buf));
	kv("qemu", "%s", buf);
	kv("xm_version", "%s", XM_VERSION);
	int fd = unix_connect(xm_xs_socket());
	kv("xenstore", "%s (%s)", xm_xs_socket(), fd >= 0 ? "answering" : strerror(errno));
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/xmbackd.pid", xm_rundir());
	daemon_state("xmbackd", path);
	kv("cc_compiler", "gcc %s", __VERSION__);
	return 0;
}

/* Seconds domain d has been up: its QEMU's age (Domain-0: the host's). */
static long uptime_of(const struct dominfo *d)
{
	struct sysinfo si;
	sysinfo(&si);
	if (d->domid == 0)
		return si.uptime;
	pid_t pid = dom_qemu_live(d);
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = pid > 0 ? fopen(path, "r") : NULL;
	long up = -1;
	if (f && fgets(line, sizeof(line), f)) {
		/* field 22, starttime in clock ticks since boot; after the
		 * command name, which may hold spaces: count from its ")" */
		char *p = strrchr(line, ')');
		unsigned long long start = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				"%*d %*d %*d %*d %llu", &start) == 1)
			up = si.uptime - (long)(start / (unsigned long long)sysconf(_SC_CLK_TCK));
	}
	if (f)
		fclose(f);
	return up;
}

static void fmt_uptime(long s, char *out, size_t len)
{
	long days = s / 86400;
	char d[32] = "";
	if (days > 0)
		snprintf(d, sizeof(d), "%ld day%s, ", days, days > 1 ? "s" : "");
	snprintf(out, len, "%s%2ld:%02ld:%02ld", d, s % 86400 / 3600, s % 3600 / 60, s % 60);
}

static void uptime_line(const struct dominfo *d, bool brief)
{
	char up[64];
	long s = uptime_of(d);
	if (s < 0)
		snprintf(up, sizeof(up), "-");
	else
		fmt_uptime(s, up, sizeof(up));
	if (brief) {
		char now[16];
		time_t t = time(NULL);
		strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
		printf(" %s up %s, %s (%u)\n", now, up, d->name, d->domid);
	} else {
		printf("%-33s %4u %s\n", d->name, d->domid, up);
	}
}

int cmd_uptime(struct xm_ctx *x, int argc, char **argv)
{
	bool brief = false;
	int first = 1;
	(void)x;
	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		brief = true;
		first = 2;
	}
	struct xs_handle *h = xm_xs_open();
	if (!h)
		return 1;
	unsigned int *ids = NULL;
	size_t n = 0;
	int rc = 0;
	if (first < argc) {
		ids = calloc((size_t)(argc - first), sizeof(*ids));
		for (int i = first; ids && i < argc && !rc; i++)
			rc = xm_find_domain(h, argv[i], &ids[n++]);
	} else if (dom_list(h, &ids, &n) < 0) {
		rc = xm_store_error(errno, "cannot list the domains");
	} else {
		/* Domain-0 first, as xm list */
		unsigned int *v = realloc(ids, (n + 1) * sizeof(*v));
		if (v) {
			memmove(v + 1, v, n * sizeof(*v));
			v[0] = 0;
			ids = v;
			n++;
		}
	}
	if (!rc && !brief)
		printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
	for (size_t i = 0; i < n && !rc; i++) {
		struct dominfo d = { .domid = ids[i] };
		if (ids[i] == 0)
			snprintf(d.name, sizeof(d.name), "Domain-0");
		else if (dom_info(h, ids[i], &d) < 0)
			continue; /* gone meanwhile */
		uptime_line(&d, brief);
	}
	free(ids);
	xs_close(h);
	return rc;
}
