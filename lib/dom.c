/* dom.c — see dom.h. */
#include "dom.h"
#include "daemon.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *xm_rundir(void)
{
	const char *r = getenv("XM_RUNDIR");
	return r && *r ? r : "/run/xm";
}

const char *xm_xs_socket(void)
{
	const char *s = getenv("XENSTORED_PATH");
	return s && *s ? s : "/run/xenstored/socket";
}

const char *xm_channel_dir(void)
{
	static char buf[4200];
	const char *c = getenv("XM_CHANNEL_DIR");
	if (c && *c)
		return c;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", xm_xs_socket());
	snprintf(buf, sizeof(buf), "%s/domains", dirname(tmp));
	return buf;
}

/* Has this process been connected to the store? */
static bool xs_reached;

void xm_xs_unreachable(int err)
{
	if (xs_reached && (err == ECONNREFUSED || err == ENOENT)) { /* there a moment ago: gone */
		xm_xs_lost_error(err);
		return;
	}
	fprintf(stderr, "Error: cannot reach XenStore at %s: %s (is xmstored running?)\n",
		xm_xs_socket(), strerror(err));
}

void xm_xs_reached(void)
{
	xs_reached = true;
}

bool xm_xs_lost(int err)
{
	return err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ECONNREFUSED ||
	       err == ECONNABORTED || err == EBADF || err == ESHUTDOWN || err == EIO;
}

void xm_xs_lost_text(char *buf, size_t len, int err)
{
	snprintf(buf, len, "lost the connection to XenStore at %s: %s (did xmstored stop?)",
		 xm_xs_socket(), strerror(err));
}

void xm_xs_lost_error(int err)
{
	char text[4200];
	xm_xs_lost_text(text, sizeof(text), err);
	fprintf(stderr, "Error: %s\n", text);
}

struct xs_handle *xm_xs_open(void)
{
	struct xs_handle *h = xs_open(XS_OPEN_SOCKETONLY);
	if (!h)
		xm_xs_unreachable(errno);
	else
		xm_xs_reached();
	return h;
}

char *dom_readf(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	unsigned int len;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(h, t, path, &len);
}

bool dom_writef(struct xs_handle *h, xs_transaction_t t, const char *path,
	       const char *fmt, ...)
{
	char *val;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	bool ok = xs_write(h, t, path, val, (unsigned int)n);
	free(val);
	return ok;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
	return x < y ? -1 : x > y;
}

int dom_list(struct xs_handle *h, unsigned int **ids, size_t *n)
{
	unsigned int num = 0;
	char **ents = xs_directory(h, XBT_NULL, "/local/domain", &num);

	*ids = NULL;
	*n = 0;
	if (!ents && errno != ENOENT)
		return -1;
	*ids = calloc(num ? num : 1, sizeof(**ids));
	if (!*ids) {
		free(ents);
		return -1;
	}
	for (unsigned int i = 0; i < num; i++) {
		char *end;
		unsigned long id = strtoul(ents[i], &end, 10);
		if (*end || id == 0)
			continue;
		(*ids)[(*n)++] = (unsigned int)id;
	}
	free(ents);
	qsort(*ids, *n, sizeof(**ids), cmp_uint);
	return 0;
}

int dom_info(struct xs_handle *h, unsigned int domid, struct dominfo *d)
{
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	char *name = dom_readf(h, XBT_NULL, "/local/domain/%u/name", domid);
	if (!name)
		return -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	free(name);
	char *v;
	/* the current target, as xm list shows it (static-max: older records) */
	if ((v = dom_readf(h, XBT_NULL, "/local/domain/%u/memory/target", domid)) ||
	    (v = dom_readf(h, XBT_NULL, "/local/domain/%u/memory/static-max", domid))) {
		d->mem_kib = atol(v);
		free(v);
	}
	if ((v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/vcpus", domid))) {
		d->vcpus = atoi(v);
		free(v);
	}
	if ((v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/qemu-pid", domid))) {
		d->qemu_pid = (pid_t)atol(v);
		free(v);
	}
	if ((v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/uuid", domid))) {
		snprintf(d->uuid, sizeof(d->uuid), "%s", v);
		free(v);
	}
	if ((v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/dir", domid))) {
		snprintf(d->dir, sizeof(d->dir), "%s", v);
		free(v);
	}
	return 0;
}

int dom_lookup(struct xs_handle *h, const char *spec, unsigned int *domid)
{
	char *end;
	unsigned long id = strtoul(spec, &end, 10);

	if (*spec && !*end) {
		char *name = dom_readf(h, XBT_NULL, "/local/domain/%lu/name", id);
		bool ok = name != NULL || id == 0;
		free(name);
		if (ok) {
			*domid = (unsigned int)id;
			return 0;
		}
		return -1;
	}
	if (strcmp(spec, "Domain-0") == 0) {
		*domid = 0;
		return 0;
	}
	unsigned int *ids;
	size_t n;
	if (dom_list(h, &ids, &n) < 0)
		return -1;
	int rc = -1;
	for (size_t i = 0; i < n && rc < 0; i++) {
		char *name = dom_readf(h, XBT_NULL, "/local/domain/%u/name", ids[i]);
		if (name && strcmp(name, spec) == 0) {
			*domid = ids[i];
			rc = 0;
		}
		free(name);
	}
	free(ids);
	if (rc < 0)
		errno = ENOENT;
	return rc;
}

void dom_file(unsigned int domid, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/dom/%u/%s", xm_rundir(), domid, name);
}

pid_t dom_qemu_pid_in(const char *dir)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/qemu.pid", dir);
	long pid = lockfile_holder(path);
	return pid > 0 ? (pid_t)pid : 0;
}

pid_t dom_qemu_live(const struct dominfo *d)
{
	char dir[600];
	if (d->dir[0])
		return dom_qemu_pid_in(d->dir);
	snprintf(dir, sizeof(dir), "%s/dom/%u", xm_rundir(), d->domid);
	return dom_qemu_pid_in(dir);
}

/* The domain id whose channel (under chan, chan_len long) the QEMU command
 * line argument arg connects its xenbus port to, or 0. */
static unsigned int channel_of(const char *arg, const char *chan, size_t chan_len)
{
	const char *p = strstr(arg, "id=xenbus,path=");
	if (!p)
		return 0;
	p += strlen("id=xenbus,path=");
	if (strncmp(p, chan, chan_len) != 0 || strncmp(p + chan_len, "/domain-", 8) != 0)
		return 0;
	char *end;
	unsigned long id = strtoul(p + chan_len + 8, &end, 10);
	if (strncmp(end, ".sock", 5) != 0 || (end[5] != ',' && end[5] != '\0') || id >= 0x10000)
		return 0;
	return (unsigned int)id;
}

/* Mark in ids the domain whose channel process pid's command line names. */
static void mark_process(const char *pid, const char *chan, unsigned char *ids, size_t nids)
{
	char path[300], buf[32768];
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		unsigned int id = channel_of(buf + i, chan, strlen(chan));
		if (id > 0 && id < nids)
			ids[id / 8] |= (unsigned char)(1u << (id % 8));
	}
}

void dom_live_channels(unsigned char *ids, size_t nids)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	const char *chan = xm_channel_dir();
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			mark_process(e->d_name, chan, ids, nids);
	closedir(d);
}

void dom_kill_qemu(const char *dir, pid_t recorded)
{
	pid_t pid = dom_qemu_pid_in(dir);
	if (pid <= 0 || (recorded > 0 && recorded != pid))
		return;
	/* its exit waited for on a pidfd (it is seldom our child): woken when
	 * its last thread is gone, so its pid file lock with it; polling the
	 * lock every 10 ms cost a save or a destroy 5 ms on average */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	kill(pid, SIGKILL);
	long deadline = now_ms() + 2000;
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		long left;
		while ((left = deadline - now_ms()) > 0 && poll(&p, 1, (int)left) < 0 && errno == EINTR)
			;
		close(pfd);
	}
	while (dom_qemu_pid_in(dir) == pid && now_ms() < deadline) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

void dom_rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void dom_rm_backends(struct xs_handle *h, unsigned int domid)
{
	char path[256];
	unsigned int nt = 0;
	char **types = xs_directory(h, XBT_NULL, "/local/domain/0/backend", &nt);
	for (unsigned int i = 0; i < nt; i++) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", types[i], domid);
		xs_rm(h, XBT_NULL, path);
	}
	free(types);
}

void dom_cleanup(struct xs_handle *h, unsigned int domid)
{
	char path[256];

	if (domid == 0)
		return;
	char *v = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/qemu-pid", domid);
	pid_t pid = v ? (pid_t)atol(v) : 0;
	free(v);
	char *uuid = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/uuid", domid);
	char *dir = dom_readf(h, XBT_NULL, XM_TOOL_ROOT "/domain/%u/dir", domid);
	if (dir)
		dom_kill_qemu(dir, pid);
	xs_release_domain(h, domid);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(h, XBT_NULL, path);
	if (uuid) {
		snprintf(path, sizeof(path), "/vm/%s", uuid);
		xs_rm(h, XBT_NULL, path);
	}
	dom_rm_backends(h, domid);
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u", domid);
	xs_rm(h, XBT_NULL, path);
	if (dir)
		dom_rm_dir(dir);
	free(uuid);
	free(dir);
}
