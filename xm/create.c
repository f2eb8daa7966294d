/*
 * create.c — xm create: config -> domain id -> XenStore -> QEMU.
 *
 * Order matters so that a failure leaves nothing behind:
 *  1. reserve a domain id and the name in one transaction (ids increase as
 *     in Xen and are never those of a live domain; two concurrent creates of
 *     one name: the loser's transaction conflicts, retries, sees the name);
 *  2. INTRODUCE the domain to xmstored (its channel socket appears);
 *  3. write /local/domain/N, /vm/<uuid> and /tool/xm/domain/N in one
 *     transaction, with Xen's permissions;
 *  4. start QEMU with -daemonize: its parent exits only once the machine is
 *     set up, so a failure is known here, with QEMU's own message;
 *  5. mark the domain running: xmbackd takes it over from there.
 * Any failure after 1 runs dom_cleanup(), which undoes all of it.
 */
#include "xm.h"
#include "config.h"
#include "diskspec.h"
#include "dom.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


static const char default_cmdline[] =
	"console=ttyS0 quiet i8042.noaux i8042.nokbd i8042.nopnp mitigations=off "
	"cryptomgr.notests no_timer_check tsc=reliable random.trust_cpu=on "
	"8250.nr_uarts=1 block.events_dfl_poll_msecs=1000";

static bool xmbackd_running(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/xmbackd.pid", xm_rundir());
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	long pid = 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && kill((pid_t)pid, 0) == 0;
}

/* KVM only where it really works: /dev/kvm usable and the CPU has VMX/SVM
 * (a nested VM may offer /dev/kvm that never runs a guest). XM_ACCEL wins. */
static const char *pick_accel(void)
{
	const char *env = getenv("XM_ACCEL");
	if (env && *env)
		return env;
	if (access("/dev/kvm", R_OK | W_OK) < 0)
		return "tcg";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return "tcg";
	char line[4096];
	bool virt = false;
	while (!virt && fgets(line, sizeof(line), f))
		virt = strncmp(line, "flags", 5) == 0 && (strstr(line, " vmx") || strstr(line, " svm"));
	fclose(f);
	return virt ? "kvm" : "tcg";
}

static bool is_elf(const char *path)
{
	unsigned char m[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, m, 4);
	close(fd);
	return n == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
}

static void make_uuid(char out[37])
{
	unsigned char b[16] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
			memset(b, 0x5a, sizeof(b));
		close(fd);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* Wait for the guest agent's "ready". 0, or -1 on timeout or if QEMU died. */
static int wait_agent(struct xs_handle *h, unsigned int id, int ms)
{
	char path[128];
	snprintf(path, sizeof(path), "/local/domain/%u/attr/xmfront/state", id);
	xs_watch(h, path, "agent");
	int rc = -1;
	for (int waited = 0; waited < ms; waited += 200) {
		char *s = xs_readf(h, XBT_NULL, "%s", path);
		bool ready = s && strcmp(s, "ready") == 0;
		free(s);
		if (ready) {
			rc = 0;
			break;
		}
		struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
		if (poll(&p, 1, 200) > 0) {
			char **w;
			while ((w = xs_check_watch(h)))
				free(w);
		}
	}
	xs_unwatch(h, path, "agent");
	return rc;
}

/* Step 1. Returns 0 with *domid, 1 on error (message printed). */
static int reserve(struct xs_handle *h, const char *name, unsigned int *domid)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		xs_transaction_t t = xs_transaction_start(h);
		if (t == XBT_NULL)
			return xm_error("cannot start a XenStore transaction: %s", strerror(errno));
		unsigned int n = 0, nt = 0;
		char **doms = xs_directory(h, t, "/local/domain", &n);
		char **tool = xs_directory(h, t, XM_TOOL_ROOT "/domain", &nt);
		int clash = -1;
		for (unsigned int i = 0; i < n && clash < 0; i++) {
			char *nm = xs_readf(h, t, "/local/domain/%s/name", doms[i]);
			if (nm && strcmp(nm, name) == 0)
				clash = atoi(doms[i]);
			free(nm);
		}
		for (unsigned int i = 0; i < nt && clash < 0; i++) {
			char *nm = xs_readf(h, t, XM_TOOL_ROOT "/domain/%s/name", tool[i]);
			if (nm && strcmp(nm, name) == 0)
				clash = atoi(tool[i]);
			free(nm);
		}
		free(doms);
		free(tool);
		if (clash >= 0) {
			xs_transaction_end(h, t, true);
			return xm_error("Domain '%s' already exists with ID '%d'", name, clash);
		}
		char *next = xs_readf(h, t, XM_TOOL_ROOT "/next-domid");
		unsigned int id = next ? (unsigned int)atoi(next) : 1;
		free(next);
		if (id == 0 || id >= 0x7FF0)
			id = 1;
		for (;;) {
			char *a = xs_readf(h, t, "/local/domain/%u/name", id);
			char *b = xs_readf(h, t, XM_TOOL_ROOT "/domain/%u/name", id);
			bool used = a || b;
			free(a);
			free(b);
			if (!used)
				break;
			if (++id >= 0x7FF0)
				id = 1;
		}
		char path[128];
		bool ok = xs_writef(h, t, XM_TOOL_ROOT "/next-domid", "%u", id + 1 >= 0x7FF0 ? 1 : id + 1);
		snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/name", id);
		ok = ok && xs_write(h, t, path, name, (unsigned int)strlen(name));
		snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/state", id);
		ok = ok && xs_write(h, t, path, "creating", 8);
		if (!ok) {
			xs_transaction_end(h, t, true);
			return xm_error("cannot write XenStore: %s", strerror(errno));
		}
		if (xs_transaction_end(h, t, false)) {
			*domid = id;
			return 0;
		}
		if (errno != EAGAIN)
			return xm_error("XenStore transaction failed: %s", strerror(errno));
	}
	return xm_error("XenStore too busy to reserve a domain id");
}

/* Write val at the path made from fmt, with perms (NULL: inherit). */
static bool put(struct xs_handle *h, xs_transaction_t t, const struct xs_permissions *p,
		unsigned int np, const char *val, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static bool put(struct xs_handle *h, xs_transaction_t t, const struct xs_permissions *p,
		unsigned int np, const char *val, const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (!xs_write(h, t, path, val, (unsigned int)strlen(val)))
		return false;
	return !p || xs_set_permissions(h, t, path, (struct xs_permissions *)p, np);
}

/* Step 3: the Xen-shaped tree of the domain, in one transaction. */
static bool write_domain_tx(struct xs_handle *h, xs_transaction_t t, unsigned int id,
			    const struct domcfg *c, const char *uuid, const char *dir)
{
	/* Readable by the domain and owned by dom0 / owned by the domain. */
	const struct xs_permissions ro[2] = { { 0, XS_PERM_NONE }, { id, XS_PERM_READ } };
	const struct xs_permissions rw[1] = { { id, XS_PERM_NONE } };
	static const char *const own[] = { "control", "control/shutdown", "device", "error",
		"drivers", "attr", "data", "messages", "feature", NULL };
	static const char *const files[][2] = { { "qmp", "qmp.sock" }, { "ctl", "ctl.sock" },
		{ "console", "console.sock" }, { "console-log", "console.log" } };
	const char *tool = XM_TOOL_ROOT "/domain";
	char v[64], mem[32], vcpus[32], vm[64], f[1024];

	snprintf(v, sizeof(v), "%u", id);
	snprintf(mem, sizeof(mem), "%ld", c->memory_mib * 1024);
	snprintf(vcpus, sizeof(vcpus), "%ld", c->vcpus);
	snprintf(vm, sizeof(vm), "/vm/%s", uuid);

	bool ok = put(h, t, ro, 2, "", "/local/domain/%u", id) &&
		  put(h, t, ro, 2, c->name, "/local/domain/%u/name", id) &&
		  put(h, t, ro, 2, v, "/local/domain/%u/domid", id) &&
		  put(h, t, ro, 2, vm, "/local/domain/%u/vm", id) &&
		  put(h, t, ro, 2, "", "/local/domain/%u/memory", id) &&
		  put(h, t, ro, 2, mem, "/local/domain/%u/memory/target", id) &&
		  put(h, t, ro, 2, mem, "/local/domain/%u/memory/static-max", id) &&
		  put(h, t, ro, 2, "", "/local/domain/%u/cpu", id);
	for (long i = 0; ok && i < c->vcpus; i++)
		ok = put(h, t, ro, 2, "", "/local/domain/%u/cpu/%ld", id, i) &&
		     put(h, t, ro, 2, "online", "/local/domain/%u/cpu/%ld/availability", id, i);
	for (int i = 0; ok && own[i]; i++)
		ok = put(h, t, rw, 1, "", "/local/domain/%u/%s", id, own[i]);
	/* /vm/<uuid>: the VM record, as xm keeps it. */
	snprintf(mem, sizeof(mem), "%ld", c->memory_mib);
	ok = ok && put(h, t, ro, 2, "", "%s", vm) &&
	     put(h, t, ro, 2, c->name, "%s/name", vm) &&
	     put(h, t, ro, 2, uuid, "%s/uuid", vm) &&
	     put(h, t, ro, 2, mem, "%s/memory", vm) &&
	     put(h, t, ro, 2, vcpus, "%s/vcpus", vm) &&
	     put(h, t, ro, 2, c->on_poweroff ? c->on_poweroff : "destroy", "%s/on_poweroff", vm) &&
	     put(h, t, ro, 2, c->on_reboot ? c->on_reboot : "restart", "%s/on_reboot", vm) &&
	     put(h, t, ro, 2, c->on_crash ? c->on_crash : "destroy", "%s/on_crash", vm) &&
	     put(h, t, NULL, 0, c->kernel, "%s/image/kernel", vm) &&
	     put(h, t, NULL, 0, c->ramdisk ? c->ramdisk : "", "%s/image/ramdisk", vm) &&
	     put(h, t, NULL, 0, c->extra ? c->extra : "", "%s/image/cmdline", vm);
	/* Toolstack-private. */
	for (size_t i = 0; ok && i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", dir, files[i][1]);
		ok = put(h, t, NULL, 0, f, "%s/%u/%s", tool, id, files[i][0]);
	}
	return ok && put(h, t, NULL, 0, dir, "%s/%u/dir", tool, id) &&
	       put(h, t, NULL, 0, uuid, "%s/%u/uuid", tool, id) &&
	       put(h, t, NULL, 0, vcpus, "%s/%u/vcpus", tool, id) &&
	       put(h, t, NULL, 0, c->file, "%s/%u/config", tool, id);
}

static int write_domain(struct xs_handle *h, unsigned int id, const struct domcfg *c,
			const char *uuid, const char *dir)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		xs_transaction_t t = xs_transaction_start(h);
		if (t == XBT_NULL)
			break;
		if (!write_domain_tx(h, t, id, c, uuid, dir)) {
			int e = errno;
			xs_transaction_end(h, t, true);
			return xm_error("cannot write the domain's XenStore nodes: %s", strerror(e));
		}
		if (xs_transaction_end(h, t, false))
			return 0;
		if (errno != EAGAIN)
			break;
	}
	return xm_error("XenStore transaction failed: %s", strerror(errno));
}

/* Build QEMU's argv (the array is malloc'd; its strings are static). */
static char **qemu_argv(unsigned int id, const struct domcfg *c, const char *uuid,
			const char *dir)
{
	static char buf[64][1100];
	char **v = calloc(128, sizeof(char *));
	int n = 0, b = 0;
	const char *qemu = getenv("XM_QEMU");

	if (!v)
		return NULL;
#define ARG(s) (v[n++] = (char *)(s))
#define ARGF(...) (snprintf(buf[b], sizeof(buf[b]), __VA_ARGS__), v[n++] = buf[b++])
	ARG(qemu && *qemu ? qemu : "qemu-system-x86_64");
	ARG("-name");
	ARGF("guest=%s,process=xm-dom%u,debug-threads=on", c->name, id);
	ARG("-machine");
	ARGF("q35,accel=%s", pick_accel());
	ARG("-m");
	ARGF("%ld", c->memory_mib);
	ARG("-smp");
	ARGF("%ld", c->vcpus);
	ARG("-uuid");
	ARG(uuid);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-display");
	ARG("none");
	if (is_elf(c->kernel)) { /* the PVH vmlinux: qboot, fastest boot */
		ARG("-bios");
		ARG("/usr/share/qemu/qboot.rom");
	}
	ARG("-kernel");
	ARG(c->kernel);
	if (c->ramdisk) {
		ARG("-initrd");
		ARG(c->ramdisk);
	}
	ARG("-append");
	ARGF("%s%s%s", default_cmdline, c->extra && *c->extra ? " " : "", c->extra ? c->extra : "");
	if (c->on_reboot && strcmp(c->on_reboot, "destroy") == 0)
		ARG("-no-reboot");
	ARG("-chardev");
	ARGF("socket,id=con0,path=%s/console.sock,server=on,wait=off,logfile=%s/console.log",
	     dir, dir);
	ARG("-serial");
	ARG("chardev:con0");
	ARG("-chardev");
	ARGF("socket,id=qmp0,path=%s/qmp.sock,server=on,wait=off", dir);
	ARG("-mon");
	ARG("chardev=qmp0,mode=control");
	ARG("-chardev");
	ARGF("socket,id=qmp1,path=%s/ctl.sock,server=on,wait=off", dir);
	ARG("-mon");
	ARG("chardev=qmp1,mode=control");
	ARG("-chardev");
	ARGF("socket,id=xenbus,path=%s/domain-%u.sock,reconnect=1", xm_channel_dir(), id);
	ARG("-device");
	ARG("virtio-serial-pci,id=vser0");
	ARG("-device");
	ARG("virtserialport,bus=vser0.0,chardev=xenbus,name=xenbus");
	ARG("-device");
	ARG("virtio-scsi-pci,id=scsi0");
	for (int i = 1; i <= ROOT_PORTS; i++) {
		ARG("-device");
		ARGF("pcie-root-port,id=rp%d,bus=pcie.0,chassis=%d,slot=%d,addr=0x%x", i, i, i,
		     ROOT_PORT_DEV0 + i - 1);
	}
	ARG("-pidfile");
	ARGF("%s/qemu.pid", dir);
	ARG("-daemonize");
	v[n] = NULL;
#undef ARG
#undef ARGF
	return v;
}

/* Step 4. 0, or 1 with the error printed. */
static int start_qemu(unsigned int id, const struct domcfg *c, const char *uuid,
		      const char *dir, pid_t *qpid)
{
	char **argv = qemu_argv(id, c, uuid, dir);
	int pipefd[2];

	if (!argv || pipe2(pipefd, O_CLOEXEC) < 0)
		return xm_error("out of resources starting QEMU");
	if (getenv("XM_DEBUG")) {
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, "%s ", argv[i]);
		fputc('\n', stderr);
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	free(argv);
	if (pid < 0) {
		close(pipefd[0]);
		return xm_error("fork: %s", strerror(errno));
	}
	/* QEMU's parent exits once the VM is set up; its daemon child keeps the
	 * pipe open only if stderr were inherited: -daemonize redirects it. */
	char msg[2048] = "";
	size_t m = 0;
	ssize_t r;
	while (m < sizeof(msg) - 1 && (r = read(pipefd[0], msg + m, sizeof(msg) - 1 - m)) > 0)
		m += (size_t)r;
	msg[m] = '\0';
	close(pipefd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *nl;
		while (m > 0 && (msg[m - 1] == '\n' || msg[m - 1] == ' '))
			msg[--m] = '\0';
		if ((nl = strrchr(msg, '\n')))
			memmove(msg, nl + 1, strlen(nl + 1) + 1);
		return xm_error("QEMU could not start domain %s: %s", c->name,
				*msg ? msg : "no reason given");
	}
	char pf[1100];
	snprintf(pf, sizeof(pf), "%s/qemu.pid", dir);
	FILE *f = fopen(pf, "r");
	long p = 0;
	if (f) {
		if (fscanf(f, "%ld", &p) != 1)
			p = 0;
		fclose(f);
	}
	if (p <= 0)
		return xm_error("QEMU started but wrote no pid file (%s)", pf);
	*qpid = (pid_t)p;
	return 0;
}

int cmd_create(int argc, char **argv)
{
	const char *file = NULL;
	bool console = false;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0)
			console = true;
		else if (argv[i][0] == '-' || file)
			return xm_usage("create");
		else
			file = argv[i];
	}
	if (!file)
		return xm_usage("create");

	struct domcfg c;
	if (config_load(file, &c, err, sizeof(err)) < 0) {
		config_free(&c);
		return xm_error("%s", err);
	}
	/* disk = [...]: every entry is parsed before anything is made. */
	struct diskspec *disks = calloc((size_t)c.ndisks + 1, sizeof(*disks));
	for (int i = 0; disks && i < c.ndisks; i++) {
		if (diskspec_parse_cfg(c.disks[i], &disks[i], err, sizeof(err)) < 0) {
			xm_error("%s: disk entry '%s': %s", file, c.disks[i], err);
			free(disks);
			config_free(&c);
			return 1;
		}
	}
	printf("Using config file \"%s\".\n", file);

	struct xs_handle *h = xm_xs_open();
	if (!h) {
		free(disks);
		config_free(&c);
		return 1;
	}
	int rc = 1;
	unsigned int id = 0;
	bool reserved = false;
	if (!xmbackd_running()) {
		xm_error("xmbackd is not running (no live pid in %s/xmbackd.pid): "
			 "start it first", xm_rundir());
		goto out;
	}
	if (reserve(h, c.name, &id))
		goto out;
	reserved = true;

	char uuid[37], dir[512];
	if (c.uuid)
		snprintf(uuid, sizeof(uuid), "%s", c.uuid);
	else
		make_uuid(uuid);
	snprintf(dir, sizeof(dir), "%s/dom/%u", xm_rundir(), id);
	if (mkdir_p(dir) < 0) {
		xm_error("cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!xs_introduce_domain(h, id, 0, 1)) {
		xm_error("xmstored refused to introduce domain %u: %s", id, strerror(errno));
		goto out;
	}
	if (write_domain(h, id, &c, uuid, dir))
		goto out;
	pid_t qpid = 0;
	if (start_qemu(id, &c, uuid, dir, &qpid))
		goto out;
	char p[128];
	snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/qemu-pid", id);
	bool ok = xs_writef(h, XBT_NULL, p, "%ld", (long)qpid);
	snprintf(p, sizeof(p), XM_TOOL_ROOT "/domain/%u/state", id);
	ok = ok && xs_write(h, XBT_NULL, p, "running", 7);
	if (!ok) {
		xm_error("cannot record the domain's QEMU: %s", strerror(errno));
		goto out;
	}
	if (c.ndisks > 0) {
		/* The same path as xm block-attach, once the guest's agent is up. */
		if (wait_agent(h, id, 60000) < 0) {
			xm_error("domain %s: its agent did not come up within 60 s: cannot connect "
				 "its disks", c.name);
			goto out;
		}
		for (int i = 0; i < c.ndisks; i++)
			if (xm_block_attach(h, id, &disks[i]))
				goto out;
	}
	printf("Started domain %s (id=%u)\n", c.name, id);
	fflush(stdout);
	rc = 0;
out:
	free(disks);
	if (rc && reserved)
		dom_cleanup(h, id);
	xs_close(h);
	config_free(&c);
	if (rc == 0 && console)
		return xm_console_attach(id);
	return rc;
}
