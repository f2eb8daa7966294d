/*
 * main.c — xm: the command table, usage, dispatch. One file per command
 * or tight group (create.c, list.c, console.c, lifecycle.c, block-attach.c,
 * block-detach.c, block-media.c, block-list.c); the row here carries the
 * usage string so that --help, the man page and the code agree, and the
 * flags that let main() open XenStore and resolve a command's domain once.
 */
#include "xm.h"
#include "dom.h"
#include "qmp.h"
#include "sock.h"
#include "util.h"
#include "version.h"
#include "xsbatch.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

const struct cmd xm_cmds[] = {
	{ "create", cmd_create, 0, "<ConfigFile> [-c] [-n|--dry-run]",
	  "Create a domain from a config file (a path, or NAME in . or /etc/xen; -n: print it as JSON)." },
	{ "list", cmd_list, 0, "[-l|--long] [Domain ...]", "List information about domains." },
	{ "console", cmd_console, CMD_DOMAIN, "<Domain>",
	  "Attach to a domain's console (Ctrl-] leaves)." },
	{ "shutdown", cmd_shutdown, CMD_GUEST, "[-w] <Domain>",
	  "Shut down a domain through its agent." },
	{ "reboot", cmd_reboot, CMD_GUEST, "<Domain>", "Reboot a domain through its agent." },
	{ "destroy", cmd_destroy, CMD_GUEST, "<Domain>", "Terminate a domain immediately." },
	{ "pause", cmd_pause, CMD_GUEST, "<Domain>", "Pause execution of a domain." },
	{ "unpause", cmd_unpause, CMD_GUEST, "<Domain>", "Unpause a paused domain." },
	{ "domid", cmd_domid, CMD_DOMAIN, "<DomainName>", "Convert a domain name to a domain id." },
	{ "domname", cmd_domname, CMD_DOMAIN, "<DomainId>",
	  "Convert a domain id to a domain name." },
	{ "block-attach", cmd_block_attach, CMD_XSC,
	  "<Domain> <BackDev> <FrontDev> <Mode> [BackDomain] | <Domain> <DiskSpec>",
	  "Attach a block device (phy:, file:, tap:aio:, qcow2: ...) to a domain." },
	{ "block-detach", cmd_block_detach, CMD_XSC, "<Domain> <DevId> [-f|--force]",
	  "Detach a block device; refused while the guest uses it, unless forced." },
	{ "block-list", cmd_block_list, CMD_DOMAIN, "<Domain> [--long]",
	  "List a domain's block devices." },
	{ "block-configure", cmd_block_configure, CMD_DOMAIN,
	  "<Domain> <BackDev> <FrontDev> <Mode> [-f]", "Change the medium of a CD/DVD drive." },
	{ "cd-insert", cmd_cd_insert, CMD_DOMAIN, "<Domain> <VirtualDevice> <Target>",
	  "Insert a CD/DVD image into a domain's drive." },
	{ "cd-eject", cmd_cd_eject, CMD_DOMAIN, "<Domain> <VirtualDevice> [-f]",
	  "Eject the medium of a domain's CD/DVD drive." },
	{ "mem-set", cmd_mem_set, CMD_GUEST, "<Domain> <Mem>",
	  "Set the domain's memory target (MiB; balloon, up to maxmem)." },
	{ "mem-max", cmd_mem_max, CMD_GUEST, "<Domain> <Mem>",
	  "Set the domain's maximum memory (MiB; at most what it was started with)." },
	{ "vcpu-set", cmd_vcpu_set, CMD_GUEST, "<Domain> <vCPUs>",
	  "Plug vCPUs in or out, up to maxvcpus (the guest brings new ones online)." },
	{ "vcpu-list", cmd_vcpu_list, 0, "[Domain ...]",
	  "List the vCPUs of domains: host CPU, state, time and affinity." },
	{ "vcpu-pin", cmd_vcpu_pin, CMD_GUEST, "<Domain> <VCPU|all> <CPUs|all>",
	  "Pin vCPUs to host CPUs (\"0-1\", \"0,2\", \"all\")." },
	{ "network-attach", cmd_network_attach, CMD_DOMAIN,
	  "<Domain> [-n] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [model=<model>] [vifname=<name>]",
	  "Create a new virtual network device (a tap on a bridge, a NIC in the guest)." },
	{ "network-detach", cmd_network_detach, CMD_DOMAIN, "<Domain> <DevId|mac>",
	  "Destroy a domain's virtual network device." },
	{ "network-list", cmd_network_list, CMD_DOMAIN, "<Domain> [--long]",
	  "List a domain's virtual network devices." },
	{ "save", cmd_save, CMD_GUEST, "[-c] <Domain> <File>",
	  "Save a domain's state to a file; the domain is gone (-c: it runs on)." },
	{ "restore", cmd_restore, 0, "[-p] <File>",
	  "Restore a domain from a file xm save wrote (-p: leave it paused)." },
	{ "info", cmd_info, 0, "", "Get information about the host, QEMU and the control plane." },
	{ "uptime", cmd_uptime, 0, "[-s] [Domain ...]", "Print the uptime of domains." },
	{ "help", NULL, 0, "[Command]", "Print the usage of xm, or of one command." },
	{ NULL, NULL, 0, NULL, NULL },
};

int xm_error(const char *fmt, ...)
{
	va_list ap;
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int xm_store_error(int err, const char *fmt, ...)
{
	va_list ap;
	if (xm_xs_lost(err)) {
		xm_xs_lost_error(err);
		return 1;
	}
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static const struct cmd *find_cmd(const char *name)
{
	for (const struct cmd *c = xm_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int xm_usage(const char *cmd)
{
	const struct cmd *c = find_cmd(cmd);
	if (c)
		fprintf(stderr, "Usage: xm %s %s\n\n%s\n", c->name, c->args, c->help);
	return 1;
}

int xm_find_domain(struct xs_handle *h, const char *spec, unsigned int *domid)
{
	if (dom_lookup(h, spec, domid) == 0)
		return 0;
	return xm_store_error(errno, "Domain '%s' does not exist.", spec);
}

int xm_xsc_open(struct xsc *c, const char *const *tokens, unsigned int n)
{
	int fd = unix_connect(xm_xs_socket());
	if (fd < 0) {
		xm_xs_unreachable(errno);
		return 1;
	}
	if (xsc_init(c, fd, tokens, n) < 0) {
		close(fd);
		return xm_error("out of memory");
	}
	xm_xs_reached();
	return 0;
}

/* A domain id as typed ("7"), else false. */
static bool domain_id(const char *spec, unsigned int *domid)
{
	char *end;
	unsigned long id = strtoul(spec, &end, 10);
	if (!*spec || *end || id > UINT32_MAX)
		return false;
	*domid = (unsigned int)id;
	return true;
}

static void name_path(char *p, size_t len, unsigned int domid)
{
	snprintf(p, len, "/local/domain/%u/name", domid);
}

/* dom_lookup by name on c: every guest's name read in one round trip (the
 * lowest id of that name, as dom_lookup). */
static int lookup_name(struct xsc *c, const char *spec, unsigned int *domid)
{
	char p[64];
	if (strcmp(spec, "Domain-0") == 0) {
		*domid = 0;
		return 0;
	}
	unsigned int n = 0, k = 0;
	char *ids = xsc_directory(c, 0, "/local/domain", &n);
	unsigned int *id = ids ? malloc((n ? n : 1) * sizeof(*id)) : NULL;
	if (!id) {
		free(ids);
		return -1;
	}
	struct xsb b;
	xsb_init(&b);
	const char *e = ids;
	for (unsigned int i = 0; i < n; i++, e += strlen(e) + 1)
		if (domain_id(e, &id[k]) && id[k] != 0) {
			name_path(p, sizeof(p), id[k++]);
			xsb_read(&b, 0, p);
		}
	int rc = k && xsc_run(c, &b) < 0 ? -1 : 1;
	for (unsigned int i = 0; rc >= 0 && i < k; i++)
		if (b.r[i].type != XS_ERROR && strcmp(b.r[i].body, spec) == 0 &&
		    (rc || id[i] < *domid)) {
			*domid = id[i];
			rc = 0;
		}
	if (rc > 0) {
		errno = ENOENT;
		rc = -1;
	}
	xsb_reset(&b);
	free(id);
	free(ids);
	return rc;
}

void xm_domain_queue(const struct xm_ctx *x, struct xsb *b)
{
	char p[64];
	if (!x->unchecked)
		return;
	name_path(p, sizeof(p), x->domid);
	xsb_read(b, 0, p);
}

int xm_domain_checked(struct xm_ctx *x, const struct xsb *b, unsigned int i)
{
	if (!x->unchecked)
		return 0;
	int e = xsb_errno(b, i);
	if (e)
		return xm_store_error(e, "Domain '%s' does not exist.", x->domain);
	x->unchecked = false;
	return 0;
}

int xm_domain_check(struct xm_ctx *x)
{
	struct xsb b;
	xsb_init(&b);
	xm_domain_queue(x, &b);
	int rc = 0;
	if (b.n && xsc_run(x->c, &b) < 0)
		rc = xm_store_error(errno, "Domain '%s' does not exist.", x->domain);
	else if (b.n)
		rc = xm_domain_checked(x, &b, 0);
	xsb_reset(&b);
	return rc;
}

static void on_alarm(int sig)
{
	(void)sig;
}

struct qmp *xm_qmp_connect(const char *path, int timeout_ms, char **err)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval arm = { .it_value = { timeout_ms / 1000, (timeout_ms % 1000) * 1000L } };
	struct itimerval off = { .it_value = { 0, 0 } };
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: connect() returns EINTR */
	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &arm, NULL);
	struct qmp *q = qmp_connect(path, timeout_ms, err);
	int e = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (!q && e == EINTR) {
		char msg[700];
		snprintf(msg, sizeof(msg), "QEMU's monitor %s did not answer within %d ms "
			 "(QEMU stopped, or the monitor busy)", path, timeout_ms);
		free(*err);
		*err = strdup(msg);
	}
	return q;
}

struct qmp *xm_ctl_open(unsigned int domid)
{
	char sock[600], *err = NULL;
	dom_file(domid, "ctl.sock", sock, sizeof(sock));
	struct qmp *q = xm_qmp_connect(sock, 5000, &err);
	if (!q)
		xm_error("domain %u: %s", domid, err ? err : "cannot reach QEMU");
	free(err);
	return q;
}

static void help(FILE *f)
{
	fprintf(f, "Usage: xm <subcommand> [args]\n\nControl, list, and manipulate domains.\n\n");
	for (const struct cmd *c = xm_cmds; c->name; c++)
		fprintf(f, " %-15s %s\n %-15s   %s\n", c->name, c->args, "", c->help);
	fprintf(f, "\n<Domain> can be a domain name or id. 'xm help <Command>': one command's "
		   "usage; 'xm --version': the version.\nEnvironment: XENSTORED_PATH "
		   "(XenStore socket), XM_RUNDIR (run-time files, default /run/xm), XM_CONFIG_PATH "
		   "(where create finds a config by name, default .:/etc/xen).\n");
}

/* xm help [COMMAND]: everything, or one command's usage, on stdout. */
static int help_cmd(int argc, char **argv)
{
	if (argc < 2) {
		help(stdout);
		return 0;
	}
	const struct cmd *c = find_cmd(argv[1]);
	if (argc > 2 || !c)
		return argc > 2 ? xm_usage("help") :
		       xm_error("Sub-command %s not found! ('xm help' lists them)", argv[1]);
	printf("Usage: xm %s %s\n\n%s\n", c->name, c->args, c->help);
	return 0;
}

/* --help / -h among the command's arguments: its usage on stdout. */
static bool wants_help(const struct cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("Usage: xm %s %s\n\n%s\n", c->name, c->args, c->help);
			return true;
		}
	}
	return false;
}

/* A CMD_XSC command: its connection, and its domain if given by name (by
 * id: unchecked, the command reads its name with its first requests). */
static int run_on_xsc(const struct cmd *c, struct xm_ctx *x, int argc, char **argv)
{
	struct xsc conn;
	if (xm_xsc_open(&conn, NULL, 0))
		return 1;
	x->c = &conn;
	int rc = 0;
	if (domain_id(x->domain, &x->domid))
		x->unchecked = x->domid != 0;
	else if (lookup_name(&conn, x->domain, &x->domid) < 0)
		rc = xm_store_error(errno, "Domain '%s' does not exist.", x->domain);
	if (!rc && x->domid == 0 && (c->flags & CMD_GUEST) == CMD_GUEST)
		rc = xm_error("Cannot %s Domain-0", c->name);
	if (!rc)
		rc = c->fn(x, argc, argv);
	xsc_close(&conn);
	return rc;
}

/* A CMD_DOMAIN command: open XenStore, resolve its first operand (taken out
 * of argv) and run it. */
static int run_on_domain(const struct cmd *c, int argc, char **argv)
{
	int d = 1;
	while (d < argc && argv[d][0] == '-')
		d++;
	if (d == argc)
		return xm_usage(c->name);
	struct xm_ctx x = { .domain = argv[d] };
	for (int i = d; i + 1 < argc; i++)
		argv[i] = argv[i + 1];
	argv[--argc] = NULL;
	if ((c->flags & CMD_XSC) == CMD_XSC)
		return run_on_xsc(c, &x, argc, argv);
	x.h = xm_xs_open();
	if (!x.h)
		return 1;
	int rc = xm_find_domain(x.h, x.domain, &x.domid);
	if (!rc && x.domid == 0 && (c->flags & CMD_GUEST) == CMD_GUEST)
		rc = xm_error("Cannot %s Domain-0", c->name);
	if (!rc)
		rc = c->fn(&x, argc, argv);
	xs_close(x.h);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return 1;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return help_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("xm %s\n", XM_VERSION);
		return 0;
	}
	const struct cmd *c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "Error: Sub-command %s not found! ('xm help' lists them)\n", argv[1]);
		return 1;
	}
	if (wants_help(c, argc - 1, argv + 1))
		return 0;
	if (c->flags & CMD_DOMAIN)
		return run_on_domain(c, argc - 1, argv + 1);
	struct xm_ctx x = { .h = NULL };
	return c->fn(&x, argc - 1, argv + 1);
}
