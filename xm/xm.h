/* xm.h — the xm toolstack CLI: command table entries and shared helpers. */
#ifndef XM_XM_H
#define XM_XM_H

#include <stdbool.h>
#include <xenstore.h>

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;    /* SYNOPSIS after the command name */
	const char *help;    /* one line */
};

extern const struct cmd xm_cmds[];

/* Print "Error: <msg>" on stderr; returns 1 (the exit status). */
int xm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the usage of cmd on stderr; returns 1. */
int xm_usage(const char *cmd);
/* True (and usage printed on stdout) if argv asks for --help / -h. */
bool xm_wants_help(int argc, char **argv, const char *cmd);
/* Resolve a domain by name or id, printing xm's error if unknown. 0 / 1. */
int xm_find_domain(struct xs_handle *h, const char *spec, unsigned int *domid);

/* commands */
int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_block_attach(int argc, char **argv);
int cmd_block_detach(int argc, char **argv);
int cmd_block_list(int argc, char **argv);
int cmd_block_configure(int argc, char **argv);
int cmd_cd_insert(int argc, char **argv);
int cmd_cd_eject(int argc, char **argv);

struct diskspec;
/* block.c: attach a parsed device to a running domain and wait until both
 * ends are connected; on failure nothing is left. 0, or 1 (printed). */
int xm_block_attach(struct xs_handle *h, unsigned int domid, const struct diskspec *s);

/* console.c: attach the terminal to domid's serial console until Ctrl-]. */
int xm_console_attach(unsigned int domid);

#endif
