/*
 * main.c — xm: the command table, usage, dispatch. One file per command
 * group (create.c, list.c, console.c, lifecycle.c); the row here carries the
 * usage string so that --help, the man page and the code agree.
 */
#include "xm.h"
#include "dom.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct cmd xm_cmds[] = {
	{ "create", cmd_create, "<ConfigFile> [-c]", "Create a domain from a config file." },
	{ "list", cmd_list, "[-l|--long] [Domain ...]", "List information about domains." },
	{ "console", cmd_console, "<Domain>", "Attach to a domain's console (Ctrl-] leaves)." },
	{ "shutdown", cmd_shutdown, "[-w] <Domain>", "Shut down a domain through its agent." },
	{ "reboot", cmd_reboot, "<Domain>", "Reboot a domain through its agent." },
	{ "destroy", cmd_destroy, "<Domain>", "Terminate a domain immediately." },
	{ "pause", cmd_pause, "<Domain>", "Pause execution of a domain." },
	{ "unpause", cmd_unpause, "<Domain>", "Unpause a paused domain." },
	{ "domid", cmd_domid, "<DomainName>", "Convert a domain name to a domain id." },
	{ "domname", cmd_domname, "<DomainId>", "Convert a domain id to a domain name." },
	{ "block-attach", cmd_block_attach,
	  "<Domain> <BackDev> <FrontDev> <Mode> [BackDomain] | <Domain> <DiskSpec>",
	  "Attach a block device (phy:, file:, tap:aio:, qcow2: ...) to a domain." },
	{ "block-detach", cmd_block_detach, "<Domain> <DevId> [-f|--force]",
	  "Detach a block device; refused while the guest uses it, unless forced." },
	{ "block-list", cmd_block_list, "<Domain> [--long]", "List a domain's block devices." },
	{ "block-configure", cmd_block_configure, "<Domain> <BackDev> <FrontDev> <Mode> [-f]",
	  "Change the medium of a CD/DVD drive." },
	{ "cd-insert", cmd_cd_insert, "<Domain> <VirtualDevice> <Target>",
	  "Insert a CD/DVD image into a domain's drive." },
	{ "cd-eject", cmd_cd_eject, "<Domain> <VirtualDevice> [-f]",
	  "Eject the medium of a domain's CD/DVD drive." },
	{ NULL, NULL, NULL, NULL },
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

bool xm_wants_help(int argc, char **argv, const char *cmd)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			const struct cmd *c = find_cmd(cmd);
			printf("Usage: xm %s %s\n\n%s\n", c->name, c->args, c->help);
			return true;
		}
	}
	return false;
}

int xm_find_domain(struct xs_handle *h, const char *spec, unsigned int *domid)
{
	if (dom_lookup(h, spec, domid) < 0)
		return xm_error("Domain '%s' does not exist.", spec);
	return 0;
}

static void help(FILE *f)
{
	fprintf(f, "Usage: xm <subcommand> [args]\n\nControl, list, and manipulate domains.\n\n");
	for (const struct cmd *c = xm_cmds; c->name; c++)
		fprintf(f, " %-15s %s\n %-15s   %s\n", c->name, c->args, "", c->help);
	fprintf(f, "\n<Domain> can be a domain name or id. Environment: XENSTORED_PATH "
		   "(XenStore socket), XM_RUNDIR (run-time files, default /run/xm).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return 1;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		help(stdout);
		return 0;
	}
	const struct cmd *c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "Error: Sub-command %s not found! ('xm help' lists them)\n", argv[1]);
		return 1;
	}
	if (xm_wants_help(argc - 1, argv + 1, c->name))
		return 0;
	return c->fn(argc - 1, argv + 1);
}
