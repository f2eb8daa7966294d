/* xm.h — the xm toolstack CLI: the command table and what commands share. */
#ifndef XM_XM_H
#define XM_XM_H

#include <stdbool.h>
#include <xenstore.h>

/* What main() hands a command. For a command flagged CMD_DOMAIN, main()
 * has opened XenStore and resolved the domain (the first operand, taken out
 * of argv); for the others h is NULL. A command flagged CMD_XSC has a
 * plain connection c (xsbatch.h) instead of h, and a domain given by its
 * id is taken as it is (unchecked): the command reads its name with its
 * own first requests (xm_domain_queue, xm_domain_checked). */
struct xsc;
struct xsb;
struct xm_ctx {
	struct xs_handle *h;
	struct xsc *c;
	unsigned int domid;
	const char *domain;  /* the domain as typed */
	bool unchecked;
};

/* The first operand is a domain (name or id, Domain-0 included). */
#define CMD_DOMAIN 1u
/* ... and it must be a guest: "Cannot <command> Domain-0". */
#define CMD_GUEST (CMD_DOMAIN | 2u)
/* ... and the command talks to XenStore on x->c (one round trip less
 * for a domain given by its id, and no second connection). */
#define CMD_XSC (CMD_DOMAIN | 4u)

struct cmd {
	const char *name;
	int (*fn)(struct xm_ctx *x, int argc, char **argv);
	unsigned int flags;
	const char *args;    /* SYNOPSIS after the command name */
	const char *help;    /* one line */
};

extern const struct cmd xm_cmds[];

/* Print "Error: <msg>" on stderr; returns 1 (the exit status). */
int xm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* After a failed XenStore request with errno err: the store lost
 * (xm_xs_lost: "Error: lost the connection to XenStore at ...") or else
 * "Error: <msg>". Returns 1. */
int xm_store_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the usage of cmd on stderr; returns 1. */
int xm_usage(const char *cmd);
/* Resolve a domain by name or id, printing xm's error if unknown. 0 / 1. */
int xm_find_domain(struct xs_handle *h, const char *spec, unsigned int *domid);
/* A plain XenStore connection (xsbatch.h) watching with tokens: batched
 * requests, watches without a reader thread. 0, or 1 (printed). */
int xm_xsc_open(struct xsc *c, const char *const *tokens, unsigned int n);
/* CMD_XSC: the read of an unchecked domain's name, queued on b (nothing
 * when x's domain is known to exist). */
void xm_domain_queue(const struct xm_ctx *x, struct xsb *b);
/* ... its reply, request i of b: 0 when the domain exists (x is then
 * checked), else 1 (printed: "Domain 'N' does not exist.", or the
 * store's error). */
int xm_domain_checked(struct xm_ctx *x, const struct xsb *b, unsigned int i);
/* The same in a round trip of its own. */
int xm_domain_check(struct xm_ctx *x);

/* qmp_connect (qmp.h) whose connect() too ends at the timeout: a stopped
 * QEMU's or a busy monitor's listen queue fills up, and a connect to a full
 * one waits for room, not for a deadline. NULL with *err on failure. */
struct qmp;
struct qmp *xm_qmp_connect(const char *path, int timeout_ms, char **err);

/* dryrun.c: what -n prints. A disk spec as a JSON object; a config and
 * its disks, as JSON on stdout (0, or 1 printed). */
struct domcfg;
struct diskspec;
int xm_print_disk(const struct diskspec *s);
struct vifspec;
int xm_print_vif(const struct vifspec *s);
int xm_print_plan(const struct domcfg *c, const struct diskspec *disks, const struct vifspec *vifs);

/* commands: create.c, list.c, console.c, lifecycle.c, block-*.c */
int cmd_create(struct xm_ctx *x, int argc, char **argv);
int cmd_list(struct xm_ctx *x, int argc, char **argv);
int cmd_console(struct xm_ctx *x, int argc, char **argv);
int cmd_shutdown(struct xm_ctx *x, int argc, char **argv);
int cmd_reboot(struct xm_ctx *x, int argc, char **argv);
int cmd_destroy(struct xm_ctx *x, int argc, char **argv);
int cmd_pause(struct xm_ctx *x, int argc, char **argv);
int cmd_unpause(struct xm_ctx *x, int argc, char **argv);
int cmd_domid(struct xm_ctx *x, int argc, char **argv);
int cmd_domname(struct xm_ctx *x, int argc, char **argv);
int cmd_block_attach(struct xm_ctx *x, int argc, char **argv);
int cmd_block_detach(struct xm_ctx *x, int argc, char **argv);
int cmd_block_list(struct xm_ctx *x, int argc, char **argv);
int cmd_block_configure(struct xm_ctx *x, int argc, char **argv);
int cmd_cd_insert(struct xm_ctx *x, int argc, char **argv);
int cmd_cd_eject(struct xm_ctx *x, int argc, char **argv);
int cmd_network_attach(struct xm_ctx *x, int argc, char **argv);
int cmd_network_detach(struct xm_ctx *x, int argc, char **argv);
int cmd_network_list(struct xm_ctx *x, int argc, char **argv);
int cmd_info(struct xm_ctx *x, int argc, char **argv);
int cmd_uptime(struct xm_ctx *x, int argc, char **argv);
int cmd_mem_set(struct xm_ctx *x, int argc, char **argv);
int cmd_mem_max(struct xm_ctx *x, int argc, char **argv);
int cmd_vcpu_set(struct xm_ctx *x, int argc, char **argv);
int cmd_vcpu_list(struct xm_ctx *x, int argc, char **argv);
int cmd_vcpu_pin(struct xm_ctx *x, int argc, char **argv);

/* main.c: the domain's ctl monitor (xm's), connected; NULL, printed. */
struct qmp *xm_ctl_open(unsigned int domid);
/* mem.c: set the balloon's target of domid to mib MiB. 0, or 1 (printed). */
int xm_balloon(unsigned int domid, long mib);
/* vcpu.c: pin each plugged vCPU of domid that has a CPU list in
 * /tool/xm/domain/N/cpus/<vcpu> to it. 0, or 1 (printed). */
int xm_vcpu_pin_recorded(struct xs_handle *h, unsigned int domid);
int cmd_save(struct xm_ctx *x, int argc, char **argv);
int cmd_restore(struct xm_ctx *x, int argc, char **argv);

struct diskspec;
/* block-attach.c: attach a parsed device to a running domain and wait until
 * both ends are connected (or, the guest's agent not up yet, until its
 * deadline: the device stays for the agent to connect); on failure nothing
 * is left. 0, or 1 (printed). */
int xm_block_attach(unsigned int domid, const struct diskspec *s);
/* An HVM guest's disk, while its QEMU is paused (xm create): as
 * xm_block_attach, with QEMU's bootindex (-1: none), waiting for the
 * backend alone to connect (the agent connects the frontend once the
 * guest has booted). 0, or 1 (printed; nothing left). */
int xm_block_attach_boot(unsigned int domid, const struct diskspec *s, int bootindex);

struct vifspec;
/* network.c: check the host side of a vif (its bridge exists, its vifname
 * is free). 0, or 1 (printed). */
int xm_net_check_host(const struct vifspec *s);
/* Attach a vif to a domain and wait until both ends are connected (or,
 * the agent not up yet, until its deadline); without wait_guest (an HVM
 * guest, paused and without an agent) until the backend is. On failure
 * nothing is left. 0, or 1 (printed). */
int xm_net_attach(unsigned int domid, const struct vifspec *s, bool wait_guest);
/* The same with the given handle (free) on the given NIC root port ("rpN",
 * as the vif's record's bus had it), waiting for the backend alone (a guest
 * not running yet: xm restore). */
int xm_net_attach_at(unsigned int domid, const struct vifspec *s, unsigned long handle,
		     const char *slot);
/* The same at a given hot-plug slot (slot: "rpN" a root port, "scsiN" a
 * SCSI target, as the device's record's bus and scsi-id had it), waiting
 * for the backend alone (a guest not running yet: xm restore); bootindex
 * as xm_block_attach_boot's. */
int xm_block_attach_at(unsigned int domid, const struct diskspec *s, const char *slot,
		       int bootindex);

/* console.c: attach the terminal to domid's serial console until Ctrl-]. */
int xm_console_attach(unsigned int domid);

#endif
