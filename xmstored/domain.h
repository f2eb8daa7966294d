/*
 * domain.h — introduced domains and their channels.
 *
 * INTRODUCE of domain N makes a listening Unix socket <chan_dir>/domain-N.sock;
 * every connection accepted there is domain N, unprivileged (the guest's QEMU
 * connects its virtio-serial "xenbus" port to it). RELEASE closes it.
 */
#ifndef XSD_DOMAIN_H
#define XSD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct conn;

struct domain {
	int kind;                 /* POLL_DOMAIN (core.h) */
	struct domain *next, *prev;
	struct conn *conns;       /* its connections (conn.dom_next) */
	uint32_t domid;
	int listen_fd;
	char *sock_path;
	bool has_target;
	uint32_t target;
	/* What it holds, over all its connections (the per-domain limits;
	 * its memory is these bytes plus the records it owns: core_dom_mem). */
	unsigned int nwatches;
	unsigned int ntxs;        /* open transactions */
	long watch_bytes;         /* watches' paths and tokens */
	long tx_bytes;            /* transactions' copies of records */
	long out_bytes;           /* replies and events queued to it */
	bool over_soft;           /* past the soft memory quota (logged once) */
	bool shutdown;
};

struct domain *domain_find(struct daemon *d, uint32_t domid);
/* 0 or errno; a domain already introduced is fine (nothing changes). */
int domain_introduce(struct daemon *d, uint32_t domid);
/* 0 or errno (ENOENT if not introduced). */
int domain_release(struct daemon *d, uint32_t domid);
int domain_set_target(struct daemon *d, uint32_t domid, uint32_t target);
bool domain_exists_cb(void *daemon, uint32_t domid);
void domain_release_all(struct daemon *d);
/* Free a released domain (after its connections are gone). */
void domain_free(struct domain *dom);

#endif
