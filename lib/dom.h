/*
 * dom.h — the toolstack's view of domains, shared by xm and xmbackd.
 *
 * XenStore holds the truth, as in Xen:
 *   /local/domain/N/...        the domain (name, domid, vm, memory, control ...)
 *   /vm/<uuid>/...             its VM record
 *   /tool/xm/domain/N/...      toolstack-private: QEMU pid, sockets, run dir
 * Run-time files live in $XM_RUNDIR (default /run/xm)/dom/N/.
 */
#ifndef XM_DOM_H
#define XM_DOM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xenstore.h>

#define XM_TOOL_ROOT "/tool/xm"
/* Saved domains (xm save): XM_SAVED_ROOT/<save id>/{name,uuid,file,dev,ino,
 * restoring} and vbd/<devid>/{claim,dev}; their claims hold the disks
 * while the save file exists and is not restored (xm/save.c). */
#define XM_SAVED_ROOT XM_TOOL_ROOT "/saved"

/* $XM_RUNDIR or /run/xm. */
const char *xm_rundir(void);
/* The XenStore socket: $XENSTORED_PATH or /run/xenstored/socket. */
const char *xm_xs_socket(void);
/* Where xmstored makes domain channels: $XM_CHANNEL_DIR, else
 * <xenstore socket dir>/domains (xmstored's default). */
const char *xm_channel_dir(void);

/* Open XenStore; on failure prints xm_xs_unreachable's error. */
struct xs_handle *xm_xs_open(void);
/* "Error: cannot reach XenStore at <socket>: <err> (is xmstored running?)"
 * on stderr: the store cannot be connected to (no socket, refused); once
 * this process has been connected (xm_xs_reached), xm_xs_lost_error's
 * words instead: a command that opens a second connection half-way (xm
 * create's disks) found the store gone, not absent. */
void xm_xs_unreachable(int err);
/* This process is connected to the store (xm_xs_open says so itself). */
void xm_xs_reached(void);
/* Is err what a request gets when the store's connection broke in flight
 * (the daemon died or stopped)? Not a refusal of the request itself. */
bool xm_xs_lost(int err);
/* "Error: lost the connection to XenStore at <socket>: <err> (did
 * xmstored stop?)". */
void xm_xs_lost_error(int err);
/* The same words, without "Error: ", into buf (for a message that goes
 * on: xm block-attach's). */
void xm_xs_lost_text(char *buf, size_t len, int err);

/* Read a node as a string (NULL if absent). Caller frees. */
char *dom_readf(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write a string. */
bool dom_writef(struct xs_handle *h, xs_transaction_t t, const char *path,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct dominfo {
	unsigned int domid;
	char name[128];
	char uuid[40];
	long mem_kib;
	int vcpus;
	pid_t qemu_pid;
	char dir[512];          /* run dir */
};

/* Ids of the guests (not domain 0), ascending; caller frees *ids. 0, or
 * -1 (errno: the store refused or was lost, xm_xs_lost). */
int dom_list(struct xs_handle *h, unsigned int **ids, size_t *n);
/* Fill d for guest domid from XenStore. 0 or -1 if it does not exist. */
int dom_info(struct xs_handle *h, unsigned int domid, struct dominfo *d);
/* A domain given by name or id (Domain-0 / 0 included). 0 or -1. */
int dom_lookup(struct xs_handle *h, const char *spec, unsigned int *domid);
/* Path of a domain's run-time file. */
void dom_file(unsigned int domid, const char *name, char *out, size_t len);
/* The pid of the QEMU whose run dir is dir, alive: the holder of the lock
 * QEMU keeps on dir/qemu.pid for its life (lib/daemon.h lockfile_holder),
 * else 0. A dead QEMU is 0 whatever its pid became (reused, a zombie); a
 * stopped (SIGSTOP) one is alive. */
pid_t dom_qemu_pid_in(const char *dir);
/* The same for d: its recorded run dir, else $XM_RUNDIR/dom/<id>. */
pid_t dom_qemu_live(const struct dominfo *d);
/* Mark bit id of ids (nids bits) for every domain id whose channel socket
 * ($XM_CHANNEL_DIR/domain-<id>.sock) a running process's command line
 * connects a xenbus port to: the guests' QEMUs of this xmstored, even one
 * whose run dir and records are gone. */
void dom_live_channels(unsigned char *ids, size_t nids);
/* SIGKILL the QEMU alive in run dir dir (dom_qemu_pid_in) if it is the one
 * recorded (recorded <= 0: none recorded yet, as during a create); wait up
 * to 2 s for it to die. */
void dom_kill_qemu(const char *dir, pid_t recorded);
/* Remove a run dir: the files in it, then the dir. */
void dom_rm_dir(const char *dir);
/* Remove domain 0's backends of every type for frontend domain domid. */
void dom_rm_backends(struct xs_handle *h, unsigned int domid);
/*
 * Remove every trace of a domain that is gone or going: kill its QEMU if
 * still alive (the live holder of its run dir's pid file, when that is the
 * recorded qemu-pid or none is recorded), RELEASE it in XenStore, remove
 * its nodes (/local/domain/N, /vm/<uuid>, /tool/xm/domain/N, backends of it
 * in domain 0) and the run dir its record names. Idempotent: xm destroy and
 * xmbackd may both call it.
 */
void dom_cleanup(struct xs_handle *h, unsigned int domid);

#endif
