/*
 * core.h — xmstored's connections and request dispatch.
 *
 * A connection is one client stream: a dom0 socket client (privileged, or
 * read-only on socket_ro) or a client on a domain's channel (unprivileged,
 * that domain's id). core.c decodes requests, checks them once, calls the
 * store, and queues replies and watch events; conn.c moves the bytes.
 */
#ifndef XSD_CORE_H
#define XSD_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "htab.h"
#include "outq.h"
#include "wire.h"
#include "store.h"
#include "watch.h"

struct domain;

struct conn_tx {
	uint32_t id;
	struct txn *t;
};

/* What an epoll event points at: the first member of each of these. */
enum poll_kind { POLL_LISTEN, POLL_LISTEN_RO, POLL_DOMAIN, POLL_CONN };

struct conn {
	enum poll_kind kind;      /* POLL_CONN */
	struct conn *next, *prev;
	struct conn *dom_next;    /* its domain's connections (domain.h) */
	struct conn *busy_next;   /* d->busy: to be flushed or closed */
	bool busy;
	int fd;
	bool readonly;            /* socket_ro: no writes (EROFS) */
	bool dead;                /* to be closed by the loop */
	uint32_t ep_events;       /* what epoll watches for it now */
	struct caller who;
	struct domain *dom;       /* NULL for dom0's sockets */
	char implicit[32];        /* "/local/domain/<id>" */
	struct watch_list watches;
	struct conn_tx *txs;
	unsigned int ntxs;
	uint32_t next_txid;
	struct outq out;          /* replies and events queued */
	unsigned long dropped_events;
	bool got_event;           /* a watch event queued in this batch */
	struct wire_in *in;       /* what was read and not yet handled; a guest's
	                           * channel holds none while idle (conn_in) */
};

/*
 * Persistence hooks (journal.c sets them; every one NULL without a journal):
 * domain changes as they happen, the end of each request (its changes make
 * one record), and a flush before any reply or event leaves the daemon: 0,
 * or -1 when the records could not be written (the replies must wait).
 */
enum persist_dom { PERSIST_INTRODUCE, PERSIST_RELEASE, PERSIST_TARGET };
struct persist {
	void (*domain)(void *ctx, enum persist_dom op, uint32_t domid, uint32_t target);
	void (*request_end)(void *ctx);
	int (*flush)(void *ctx);
	void *ctx;
};

struct daemon {
	struct store store;
	struct conn *conns;       /* all live connections */
	struct conn *busy;        /* those with output, input or death to see to
				   * after this batch (conn_mark) */
	struct domain *domains;
	struct domain *dead_domains; /* released, freed after the batch */
	struct domain **dom_by_id;   /* introduced domains by id (domain.c) */
	unsigned int ntargets;    /* domains with a target (SET_TARGET) */
	struct events ev;         /* scratch: events of the current request */
	struct htab watch_index;  /* every connection's watches, by path (core.c) */
	int epfd;
	const char *chan_dir;     /* per-domain channel sockets */
	unsigned int max_watches; /* per domain (Xen: 128) */
	unsigned int max_txs;     /* per domain (Xen: 10) */
	size_t out_max;           /* queued bytes (a domain's, or a dom0
				   * connection's) beyond which events drop */
	long mem_hard, mem_soft;  /* a domain's memory quota (Xen: 2.5 MiB; a
				   * warning past 2 MiB) */
	FILE *trace;              /* --trace-file, or NULL */
	unsigned long requests;
	struct persist persist;
	bool behind;              /* the journal could not be written: replies wait */
	/* Out of descriptors: listeners out of the poll set (conn.c). */
	bool accept_paused, accept_logged;
	unsigned long closed;     /* connections closed since the pause */
	struct timespec paused_at;
};

/*
 * A new daemon with Xen's defaults: the store (its quotas: store_init)
 * with its domain hook, 128 watches and 10 transactions a domain, 1 MiB
 * queued for a domain (or a dom0 connection) before its watch events drop,
 * 2.5 MiB of memory a domain. 0 or -1 (no
 * memory). core_store_init does the store part alone (the fuzzer's reset).
 */
int core_init(struct daemon *d);
int core_store_init(struct daemon *d);
/* Close every connection, release every domain, free the store. */
void core_fini(struct daemon *d);

/* Process one complete request from c. */
void core_request(struct daemon *d, struct conn *c, const struct xsd_sockmsg *h,
		  const char *body);
/* c's output queue went from `before` bytes to what it holds now. */
void conn_out_changed(struct conn *c, size_t before);
/* Queue a message to c. */
void conn_queue(struct daemon *d, struct conn *c, uint32_t type, uint32_t req_id,
		uint32_t tx_id, const void *body, size_t len);
/* Drop c's watches and transactions (RESET_WATCHES, close). */
void core_conn_reset(struct daemon *d, struct conn *c);
/* The memory a domain holds in the daemon: the records it owns, its
 * transactions' copies, its watches and what is queued to it. */
long core_dom_mem(const struct daemon *d, const struct domain *dom);

/* conn.c */
struct conn *conn_new(struct daemon *d, int fd, struct domain *dom, bool readonly);
void conn_close(struct daemon *d, struct conn *c);
/* c has output, input or its death to be seen to after this batch. */
void conn_mark(struct daemon *d, struct conn *c);
/* Accept what is pending on a listener (a dom0 socket: dom NULL). */
void accept_on(struct daemon *d, int lfd, struct domain *dom, bool ro);
/* Process bytes as if read from c (the fuzzer's entry point). */
void conn_feed(struct daemon *d, struct conn *c, const void *buf, size_t len);
/* The event loop (returns when *stop is set or on error). */
int daemon_loop(struct daemon *d, int rw_fd, int ro_fd, volatile int *stop);

/* control.c: CONTROL requests; reply text in *out (malloc'd). */
int control_run(struct daemon *d, const char *body, size_t len, char **out, size_t *olen);

#endif
