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

/* $XM_RUNDIR or /run/xm. */
const char *xm_rundir(void);
/* The XenStore socket: $XENSTORED_PATH or /run/xenstored/socket. */
const char *xm_xs_socket(void);
/* Where xmstored makes domain channels: $XM_CHANNEL_DIR, else
 * <xenstore socket dir>/domains (xmstored's default). */
const char *xm_channel_dir(void);

/* Open XenStore; on failure prints "Error: ..." naming the socket. */
struct xs_handle *xm_xs_open(void);

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

/* Ids of the guests (not domain 0), ascending; caller frees *ids. */
int dom_list(struct xs_handle *h, unsigned int **ids, size_t *n);
/* Fill d for guest domid from XenStore. 0 or -1 if it does not exist. */
int dom_info(struct xs_handle *h, unsigned int domid, struct dominfo *d);
/* A domain given by name or id (Domain-0 / 0 included). 0 or -1. */
int dom_lookup(struct xs_handle *h, const char *spec, unsigned int *domid);
/* Path of a domain's run-time file. */
void dom_file(unsigned int domid, const char *name, char *out, size_t len);
/*
 * Remove every trace of a domain that is gone or going: kill its QEMU if
 * still alive, RELEASE it in XenStore, remove its nodes (/local/domain/N,
 * /vm/<uuid>, /tool/xm/domain/N, backends of it in domain 0) and its run
 * dir. Idempotent: xm destroy and xmbackd may both call it.
 */
void dom_cleanup(struct xs_handle *h, unsigned int domid);

#endif
