/*
 * create-qemu.c — xm create's QEMU: the command line for a guest (q35, the
 * console, QMP and xenbus sockets, the hot-plug slots of lib/vbd.h) and its
 * start with -daemonize, whose parent exits once the machine is set up, so
 * that a failure is known at once, with QEMU's own message.
 */
#include "create.h"
#include "xm.h"
#include "config.h"
#include "dom.h"
#include "vbd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Build QEMU's argv (the array is malloc'd; its strings are static). */
static char **qemu_argv(unsigned int id, const struct domcfg *c, const char *uuid,
			const char *dir)
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
	ARG("virtserialport,bus=vser0.0,chardev=xenbus,name=xenbus,id=xenbus0");
	ARG("-device");
	ARG("virtio-scsi-pci,id=scsi0");
	for (int i = 1; i <= VBD_ROOT_PORTS; i++) {
		ARG("-device");
		ARGF("pcie-root-port,id=rp%d,bus=pcie.0,chassis=%d,slot=%d,addr=0x%x", i, i, i,
		     VBD_ROOT_PORT_DEV0 + i - 1);
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
int create_start_qemu(unsigned int id, const struct domcfg *c, const char *uuid,
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
