/*
 * create-qemu.c — xm create's QEMU: the command line for a guest (q35, the
 * console, QMP and xenbus sockets, the hot-plug slots of lib/vbd.h) and its
 * start, deprivileged (man/xmbackd.8 "QEMU deprivileged"):
 *
 *  - its own uid and gid, base + domain id ($XM_QEMU_UID_BASE, default
 *    131072, as Xen's xen-qemuuser-range-base; a base whose range holds a
 *    user or group is refused). QEMU 7.2 takes -runas UID:GID; it drops to
 *    it once the machine is set up, after it made its sockets (root's, in
 *    the run dir, 0700) and opened its pid file, kernel and console log;
 *  - -chroot into a private mount namespace made here before exec: an
 *    empty read-only tmpfs (nosuid, nodev, noexec) that holds /dev/null and
 *    xmstored's channel directory (read-only) at its own path, so the
 *    xenbus chardev's path means the same before and after the chroot and
 *    after an xmstored restart; the channel is that uid's only
 *    (xmstored/domain.c). No image is reachable: xmbackd hands each disk
 *    over as a descriptor (xmbackd/fdpass.c);
 *  - -sandbox on with obsolete, spawn and resourcecontrol denied. Not
 *    elevateprivileges=deny: 7.2 installs the filter before -runas's
 *    setuid, which it would kill (tried: SIGSYS); the filter sets
 *    no_new_privs, and the uid has no capability, so nothing it runs can
 *    gain privileges (and spawn=deny lets it run nothing);
 *  - rlimits: no core dumps (guest memory), no locked memory, bounded
 *    descriptors and tasks (the uid's tasks are this QEMU's threads).
 *
 * spawn=deny forbids -daemonize's fork (the filter comes first there too),
 * so QEMU runs in the foreground in a session of its own, its stderr in
 * qemu.log of the run dir; it is set up once it has taken its uid (read in
 * /proc), and a failure is its exit, with its last message.
 *
 * XM_DEBUG_QEMU_AS_ROOT=1 starts it the old way, as root, unconfined:
 * for debugging only, never in production.
 */
#include "create.h"
#include "xm.h"
#include "config.h"
#include "dom.h"
#include "util.h"
#include "vbd.h"
#include "qmp.h"
#include "vif.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QEMU_UID_BASE_DEFAULT 131072UL /* also xmstored/domain.c's */
#define QEMU_UID_SPAN 0x7FF0UL         /* one uid per domain id below Xen's reserved ones */
#define QEMU_START_MS 120000           /* a QEMU not set up by then is killed */

/* Limits of a guest's QEMU: descriptors (its disks twice, sockets), tasks
 * of its uid (its threads: vCPUs, the block thread pool of 64 ...). */
#define QEMU_NOFILE 4096
#define QEMU_NPROC 512

static const char default_cmdline[] =
	"console=ttyS0 quiet i8042.noaux i8042.nokbd i8042.nopnp mitigations=off "
	"cryptomgr.notests no_timer_check tsc=reliable random.trust_cpu=on "
	"8250.nr_uarts=1 block.events_dfl_poll_msecs=1000";


const char *xm_qemu_binary(void)
{
	const char *qemu = getenv("XM_QEMU");
	return qemu && *qemu ? qemu : "qemu-system-x86_64";
}

/* KVM only where it really works: /dev/kvm usable and the CPU has VMX/SVM
 * (a nested VM may offer /dev/kvm that never runs a guest). XM_ACCEL wins. */
const char *xm_pick_accel(void)
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

bool xm_qemu_as_root(void)
{
	const char *s = getenv("XM_DEBUG_QEMU_AS_ROOT");
	return s && strcmp(s, "1") == 0;
}

/* The base of the QEMU uids: 0, or 1 with the error printed. */
static int uid_base(unsigned long *base)
{
	const char *s = getenv("XM_QEMU_UID_BASE");
	char *end;
	*base = QEMU_UID_BASE_DEFAULT;
	if (s && *s) {
		errno = 0;
		*base = strtoul(s, &end, 10);
		if (errno || *end || s[0] == '-' || *base == 0 ||
		    *base > 0xfffffffeUL - QEMU_UID_SPAN)
			return xm_error("XM_QEMU_UID_BASE=%s: not a uid from 1 to %lu", s,
					0xfffffffeUL - QEMU_UID_SPAN);
	}
	return 0;
}

int xm_qemu_uid(unsigned int domid, uid_t *uid)
{
	unsigned long base, top;
	if (uid_base(&base))
		return 1;
	top = base + QEMU_UID_SPAN - 1;
	/* the whole range, so that no domain id ever runs as someone */
	struct passwd *pw;
	struct group *gr;
	setpwent();
	while ((pw = getpwent()) && !(pw->pw_uid >= base && pw->pw_uid <= top))
		;
	if (pw) {
		int rc = xm_error("the QEMU uid range %lu-%lu (XM_QEMU_UID_BASE) holds user %s "
				  "(uid %lu): set XM_QEMU_UID_BASE (for xm and xmstored) to a "
				  "range no user or group has", base, top, pw->pw_name,
				  (unsigned long)pw->pw_uid);
		endpwent();
		return rc;
	}
	endpwent();
	setgrent();
	while ((gr = getgrent()) && !(gr->gr_gid >= base && gr->gr_gid <= top))
		;
	if (gr) {
		int rc = xm_error("the QEMU gid range %lu-%lu (XM_QEMU_UID_BASE) holds group %s "
				  "(gid %lu): set XM_QEMU_UID_BASE (for xm and xmstored) to a "
				  "range no user or group has", base, top, gr->gr_name,
				  (unsigned long)gr->gr_gid);
		endgrent();
		return rc;
	}
	endgrent();
	*uid = (uid_t)(base + domid);
	return 0;
}

/* The empty dir QEMU's chroot is mounted on (in its namespace only). */
static void qemu_root(char *out, size_t len)
{
	snprintf(out, len, "%s/qemu-root", xm_rundir());
}

/* Build QEMU's argv (the array is malloc'd; its strings are static). uid
 * (uid_t)-1: unconfined (XM_DEBUG_QEMU_AS_ROOT). */
static char **qemu_argv(unsigned int id, const struct domcfg *c, const char *uuid,
			const char *dir, uid_t uid, bool incoming)
{
	static char buf[64][1100];
	char **v = calloc(128, sizeof(char *));
	int n = 0, b = 0;

	if (!v)
		return NULL;
#define ARG(s) (v[n++] = (char *)(s))
#define ARGF(...) (snprintf(buf[b], sizeof(buf[b]), __VA_ARGS__), v[n++] = buf[b++])
	ARG(xm_qemu_binary());
	ARG("-name");
	ARGF("guest=%s,process=xm-dom%u,debug-threads=on", c->name, id);
	ARG("-machine");
	ARGF("q35,accel=%s", xm_pick_accel());
	ARG("-m"); /* maxmem; the balloon holds the guest to memory (create.c) */
	ARGF("%ld", c->maxmem_mib);
	ARG("-smp"); /* vCPUs plugged in and out by xm vcpu-set (vcpu.c) */
	ARGF("%ld,maxcpus=%ld", c->vcpus, c->maxvcpus);
	ARG("-uuid");
	ARG(uuid);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-display");
	ARG("none");
	if (!c->hvm && is_elf(c->kernel)) { /* the PVH vmlinux: qboot, fastest boot */
		ARG("-bios");
		ARG("/usr/share/qemu/qboot.rom");
	}
	if (c->kernel) { /* (an HVM guest's: its BIOS, QEMU's SeaBIOS, loads it) */
		ARG("-kernel");
		ARG(c->kernel);
		if (c->ramdisk) {
			ARG("-initrd");
			ARG(c->ramdisk);
		}
		ARG("-append");
		ARGF("%s%s%s", default_cmdline, c->extra && *c->extra ? " " : "",
		     c->extra ? c->extra : "");
	}
	if (c->hvm) {
		/* the BIOS's order for the kinds of device (CMOS); the first disk
		 * and CD-ROM get a bootindex too (xm_block_attach_boot). Paused
		 * until its disks are there: create_hvm_run() */
		ARG("-boot");
		ARGF("order=%s", c->boot);
		ARG("-S");
	}
	/* on_poweroff, on_reboot, on_crash: QEMU stops the guest and xmbackd
	 * acts (xmbackd/actions.c), except where QEMU does the same itself: a
	 * poweroff ends QEMU (destroy), a reboot resets in place (restart) or
	 * ends it (destroy). An HVM guest's reboot action is set after the
	 * reset that starts it (create_hvm_run): reboot=shutdown would make
	 * that reset a shutdown. */
	bool off_destroy = !c->on_poweroff || strcmp(c->on_poweroff, "destroy") == 0;
	bool reboot_restart = !c->on_reboot || strcmp(c->on_reboot, "restart") == 0;
	bool reboot_destroy = c->on_reboot && strcmp(c->on_reboot, "destroy") == 0;
	ARG("-action");
	ARGF("panic=pause%s%s", reboot_restart || c->hvm ? "" : ",reboot=shutdown",
	     off_destroy && (reboot_restart || reboot_destroy) ? "" : ",shutdown=pause");
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
	ARG("virtserialport,bus=vser0.0,chardev=xenbus,name=xenbus,id=xenbus0");
	ARG("-device");
	ARG("virtio-scsi-pci,id=scsi0");
	for (int i = 1; i <= VBD_ROOT_PORTS; i++) {
		ARG("-device");
		ARGF("pcie-root-port,id=rp%d,bus=pcie.0,chassis=%d,slot=%d,addr=0x%x", i, i, i,
		     VBD_ROOT_PORT_DEV0 + i - 1);
	}
	for (int i = VIF_ROOT_PORT_FIRST; i < VIF_ROOT_PORT_FIRST + VIF_ROOT_PORTS; i++) {
		ARG("-device"); /* the NICs' own (lib/vif.h) */
		ARGF("pcie-root-port,id=rp%d,bus=pcie.0,chassis=%d,slot=%d,addr=0x%x", i, i, i,
		     VIF_ROOT_PORT_DEV0 + i - VIF_ROOT_PORT_FIRST);
	}
	/* after the root ports, whose addresses are fixed: the balloon of
	 * xm mem-set (no deflate on OOM: the guest's MemTotal follows it) and
	 * the panic notifier of on_crash */
	ARG("-device");
	ARG("virtio-balloon-pci,id=balloon0,bus=pcie.0,deflate-on-oom=off");
	ARG("-device");
	ARG("pvpanic,id=pvpanic0");
	if (incoming) { /* xm restore: the guest comes over the monitor */
		if (!c->hvm) /* (an HVM guest has it already) */
			ARG("-S");
		ARG("-incoming");
		ARG("defer");
	}
	ARG("-pidfile");
	ARGF("%s/qemu.pid", dir);
	if (uid == (uid_t)-1) {
		ARG("-daemonize");
	} else {
		ARG("-sandbox");
		ARG("on,obsolete=deny,spawn=deny,resourcecontrol=deny");
		ARG("-runas");
		ARGF("%lu:%lu", (unsigned long)uid, (unsigned long)uid);
		ARG("-chroot");
		qemu_root(buf[b], sizeof(buf[b]));
		v[n++] = buf[b++];
	}
	v[n] = NULL;
#undef ARG
#undef ARGF
	return v;
}

/* XM_DEBUG_QEMU_AS_ROOT: as root, with -daemonize, whose parent exits
 * once the machine is set up. 0, or 1 with the error printed. */
static int start_daemonized(unsigned int id, const struct domcfg *c, const char *uuid,
			    const char *dir, bool incoming, pid_t *qpid)
{
	char **argv = qemu_argv(id, c, uuid, dir, (uid_t)-1, incoming);
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

/* mkdir -p of path's directories below root (root itself exists), 0755. */
static int mkdirs_under(const char *root, const char *path)
{
	char p[4200];
	int n = snprintf(p, sizeof(p), "%s%s", root, path);
	if (n < 0 || (size_t)n >= sizeof(p))
		return -1;
	for (char *q = p + strlen(root) + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* In the child, before exec: QEMU's own mount namespace, its chroot an
 * empty read-only tmpfs with /dev/null (QEMU probes its lock kind on it)
 * and the channel directory, read-only, at its own path. 0, or -1 with
 * the failed step in *what. */
static int confine_mounts(const char *root, const char *chan, const char **what)
{
	char p[4200];
	unsigned long nx = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	*what = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS) < 0)
		return -1;
	/* slave: the host's unmounts still reach this copy (a disk unmounted
	 * on the host is not kept busy by QEMU); nothing made here goes back */
	*what = "making the mounts slaves";
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -1;
	*what = "the tmpfs of the chroot";
	if (mount("xm-qemu", root, "tmpfs", nx, "mode=0755,size=64k") < 0)
		return -1;
	*what = "/dev/null in the chroot";
	snprintf(p, sizeof(p), "%s/dev/null", root);
	int fd = -1;
	if (mkdirs_under(root, "/dev") < 0 || (fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666)) < 0)
		return -1;
	close(fd);
	if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
		return -1;
	*what = "the channel directory in the chroot";
	snprintf(p, sizeof(p), "%s%s", root, chan);
	if (mkdirs_under(root, chan) < 0 || mount(chan, p, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | nx, NULL) < 0)
		return -1;
	*what = "the chroot read-only";
	return mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | nx, "mode=0755,size=64k");
}

static void set_limit(int res, rlim_t v)
{
	struct rlimit r = { v, v };
	setrlimit(res, &r);
}

/* Deprivileged (the head comment). 0, or 1 with the error printed. */
static int start_confined(unsigned int id, const struct domcfg *c, const char *uuid,
			  const char *dir, bool incoming, pid_t *qpid)
{
	uid_t uid;
	char root[600], log[1100], sock[4200];
	struct stat st;
	if (xm_qemu_uid(id, &uid))
		return 1;
	/* the channel must be this uid's (xmstored gives it, from the same base) */
	snprintf(sock, sizeof(sock), "%s/domain-%u.sock", xm_channel_dir(), id);
	if (stat(sock, &st) < 0)
		return xm_error("no channel %s for domain %u: %s", sock, id, strerror(errno));
	if (st.st_uid != uid)
		return xm_error("the channel %s belongs to uid %lu, not to domain %u's QEMU uid %lu: "
				"xmstored and xm must have the same XM_QEMU_UID_BASE", sock,
				(unsigned long)st.st_uid, id, (unsigned long)uid);
	qemu_root(root, sizeof(root));
	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return xm_error("cannot create %s: %s", root, strerror(errno));
	if (lstat(root, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
		return xm_error("%s is not a directory of root's", root);
	snprintf(log, sizeof(log), "%s/qemu.log", dir);
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	char **argv = qemu_argv(id, c, uuid, dir, uid, incoming);
	if (logfd < 0 || !argv) {
		if (logfd >= 0)
			close(logfd);
		free(argv);
		return xm_error("cannot start QEMU: %s: %s", log, strerror(errno));
	}
	if (getenv("XM_DEBUG")) {
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, "%s ", argv[i]);
		fputc('\n', stderr);
	}
	const char *chan = xm_channel_dir();
	pid_t pid = fork();
	if (pid == 0) {
		const char *what = NULL;
		dup2(logfd, 2);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		setsid(); /* no terminal's signal reaches it */
		umask(022); /* the chroot's folders: the uid must pass them */
		if (confine_mounts(root, chan, &what) < 0) {
			fprintf(stderr, "cannot confine QEMU: %s: %s\n", what, strerror(errno));
			_exit(126);
		}
		umask(077); /* its sockets, pid file and log: root's only */
		set_limit(RLIMIT_CORE, 0);
		set_limit(RLIMIT_MEMLOCK, 0);
		set_limit(RLIMIT_NOFILE, QEMU_NOFILE);
		set_limit(RLIMIT_NPROC, QEMU_NPROC);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	free(argv);
	if (pid < 0)
		return xm_error("fork: %s", strerror(errno));
	/* set up once it runs as its uid: -runas is its last step before the
	 * guest runs (as -daemonize's parent exits then) */
	long deadline = now_ms() + QEMU_START_MS;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			char msg[1024];
			file_last_line(log, msg, sizeof(msg));
			return xm_error("QEMU could not start domain %s: %s", c->name,
					*msg ? msg : "no reason given");
		}
		if (proc_uid(pid) == uid)
			break;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return xm_error("QEMU did not set up domain %s in %d s: killed", c->name,
					QEMU_START_MS / 1000);
		}
		struct timespec ts = { 0, 2 * 1000000 };
		nanosleep(&ts, NULL);
	}
	*qpid = pid;
	return 0;
}

/* An HVM guest's QEMU, paused with its disks realised: reset (the
 * firmware's boot order, fw_cfg "bootorder", is made at a reset, from the
 * devices there then), the reboot action, and run. 0, or 1 (printed). */
int create_hvm_run(unsigned int id, const struct domcfg *c, const char *dir)
{
	char sock[1100], *err = NULL;
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	struct qmp *q = xm_qmp_connect(sock, 5000, &err);
	if (!q) {
		xm_error("domain %u: %s", id, err);
		free(err);
		return 1;
	}
	int rc = qmp_exec(q, "system_reset", NULL, NULL, &err, 5000);
	const char *what = "system_reset";
	if (!rc && c->on_reboot && strcmp(c->on_reboot, "restart") != 0) { /* as qemu_argv's */
		what = "set-action";
		rc = qmp_exec(q, what, json_pack("{s:s}", "reboot", "shutdown"), NULL, &err, 5000);
	}
	if (!rc) {
		what = "cont";
		rc = qmp_exec(q, what, NULL, NULL, &err, 5000);
	}
	if (rc)
		xm_error("domain %u: QEMU refused %s: %s", id, what, err ? err : "no reason given");
	free(err);
	qmp_close(q);
	return rc ? 1 : 0;
}

/* Step 4. 0, or 1 with the error printed. */
int create_start_qemu(unsigned int id, const struct domcfg *c, const char *uuid,
		      const char *dir, bool incoming, pid_t *qpid)
{
	if (xm_qemu_as_root())
		return start_daemonized(id, c, uuid, dir, incoming, qpid);
	return start_confined(id, c, uuid, dir, incoming, qpid);
}
