/*
 * conn.c — connections: byte I/O, output queues, back-pressure.
 *
 * Each connection has an incremental reader (wire.h) and an output queue
 * (outq.h). After a batch of input every connection with queued bytes is
 * flushed with one write(2). A client that stops reading cannot stall the
 * daemon or grow it without bound: once its queue passes OUT_HIGH we stop
 * reading its requests (they stay in the socket) until it drains, and watch
 * events beyond d->out_max (for a guest: queued to all the connections of
 * its domain together) are dropped for it (counted, logged), as cxenstored
 * drops events past a domain's memory quota. A domain's queued bytes count
 * in its memory (conn_out_changed keeps them).
 *
 * Out of descriptors, accept(2) fails and the listener stays readable: the
 * listeners then leave the poll set (logged once) until a connection
 * closes or a second has passed, instead of waking the loop for nothing.
 */
#include "core.h"
#include "trace.h"
#include "domain.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OUT_HIGH (64 * 1024)

/* Watch for input unless backed up; for output while some is queued. */
static void conn_epoll(struct daemon *d, struct conn *c)
{
	size_t queued = outq_size(&c->out);
	uint32_t want = (queued ? EPOLLOUT : 0) | (queued < OUT_HIGH ? EPOLLIN : 0);
	if (want == c->ep_events)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = c };
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_events = want;
}

struct conn *conn_new(struct daemon *d, int fd, struct domain *dom, bool readonly)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = POLL_CONN;
	c->fd = fd;
	c->dom = dom;
	c->readonly = readonly;
	c->next_txid = 1;
	watch_list_init(&c->watches);
	if (dom) {
		c->who.domid = dom->domid;
		c->who.has_target = dom->has_target;
		c->who.target = dom->target;
	} else {
		c->who.priv = true;
	}
	snprintf(c->implicit, sizeof(c->implicit), "/local/domain/%u", c->who.domid);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->ep_events = EPOLLIN;
	trace_conn(d->trace, "NEW", c);
	if (dom) {
		c->dom_next = dom->conns;
		dom->conns = c;
	}
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	return c;
}

void conn_close(struct daemon *d, struct conn *c)
{
	if (c->dropped_events)
		log_warn("connection of domain %u: dropped %lu watch events (client not reading)",
			 c->who.domid, c->dropped_events);
	trace_conn(d->trace, "END", c);
	core_conn_reset(d, c);
	if (c->busy)
		for (struct conn **p = &d->busy; *p; p = &(*p)->busy_next)
			if (*p == c) {
				*p = c->busy_next;
				break;
			}
	if (c->dom)
		for (struct conn **p = &c->dom->conns; *p; p = &(*p)->dom_next)
			if (*p == c) {
				*p = c->dom_next;
				break;
			}
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->in);
	c->in = NULL;
	size_t before = outq_size(&c->out);
	outq_free(&c->out);
	conn_out_changed(c, before);
	d->closed++;
	free(c);
}

void conn_mark(struct daemon *d, struct conn *c)
{
	if (c->busy)
		return;
	c->busy = true;
	c->busy_next = d->busy;
	d->busy = c;
}

void conn_out_changed(struct conn *c, size_t before)
{
	if (c->dom)
		c->dom->out_bytes += (long)outq_size(&c->out) - (long)before;
}

void conn_queue(struct daemon *d, struct conn *c, uint32_t type, uint32_t req_id,
		uint32_t tx_id, const void *body, size_t len)
{
	struct xsd_sockmsg h = { type, req_id, tx_id, (uint32_t)len };

	if (c->dead)
		return;
	trace_msg(d->trace, "OUT", c, type, req_id, tx_id, body, len);
	size_t before = outq_size(&c->out);
	conn_mark(d, c);
	if (outq_put(&c->out, &h, body) < 0) {
		log_err("out of memory queueing for domain %u: closing", c->who.domid);
		c->dead = true;
	}
	conn_out_changed(c, before);
}

/* c's input buffer (16 kB), made when needed; 0, or -1 (no memory: c is
 * dead). */
static int conn_in(struct conn *c)
{
	if (!c->in && !(c->in = calloc(1, sizeof(*c->in)))) {
		log_err("out of memory reading from domain %u: closing", c->who.domid);
		c->dead = true;
		return -1;
	}
	return 0;
}

/* A guest's channel gives its buffer back once all it sent is handled:
 * a thousand idle guests hold 16 MB less. (dom0's clients keep theirs:
 * they are few, and busy.) */
static void conn_in_idle(struct conn *c)
{
	if (c->dom && c->in && wire_in_pending(c->in) == 0) {
		free(c->in);
		c->in = NULL;
	}
}

/* Handle the complete requests buffered for c, unless it is backed up. */
static void conn_process(struct daemon *d, struct conn *c)
{
	struct xsd_sockmsg h;
	const char *body;

	while (c->in && !c->dead && outq_size(&c->out) < OUT_HIGH) {
		enum wire_status st = wire_in_next(c->in, &h, &body);
		if (st == WIRE_AGAIN) {
			conn_in_idle(c);
			return;
		}
		if (st == WIRE_PROTO) {
			log_warn("domain %u sent a %u-byte payload (max %d): dropping the connection",
				 c->who.domid, h.len, XENSTORE_PAYLOAD_MAX);
			c->dead = true;
			return;
		}
		trace_msg(d->trace, "IN", c, h.type, h.req_id, h.tx_id, body, h.len);
		core_request(d, c, &h, body);
	}
}

void conn_feed(struct daemon *d, struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0 && !c->dead && conn_in(c) == 0) {
		struct wire_in *in = c->in;
		if (in->start == in->end)
			in->start = in->end = 0;
		else if (in->start > 0) {
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		size_t n = sizeof(in->buf) - in->end;
		if (n > len)
			n = len;
		memcpy(in->buf + in->end, p, n);
		in->end += n;
		p += n;
		len -= n;
		conn_process(d, c);
		if (outq_size(&c->out) >= OUT_HIGH) {
			size_t before = outq_size(&c->out);
			outq_clear(&c->out); /* nobody reads: discard */
			conn_out_changed(c, before);
		}
	}
}

static void conn_readable(struct daemon *d, struct conn *c)
{
	conn_mark(d, c);
	if (conn_in(c) < 0)
		return;
	enum wire_status st = wire_in_fill(c->in, c->fd);
	if (st == WIRE_EOF || st == WIRE_ERR) {
		c->dead = true;
		return;
	}
	conn_process(d, c);
}

/* The journal's records of this batch are written before any reply. 0, or
 * -1: they could not be (d->behind: nothing leaves, nothing is read). */
static int persist_flush(struct daemon *d)
{
	d->behind = d->persist.flush && d->persist.flush(d->persist.ctx) < 0;
	return d->behind ? -1 : 0;
}

static int conn_flush(struct conn *c)
{
	size_t before = outq_size(&c->out);
	int r = outq_flush(&c->out, c->fd);
	conn_out_changed(c, before);
	return r;
}

/*
 * After a batch: flush the connections marked busy (output queued, input
 * read, or dead), close the dead ones. Only those: a batch costs the same
 * with 10 connections or 2,000 (bench/domscale.sh). One whose output the
 * socket would not take waits for EPOLLOUT, which marks it again.
 */
static void conn_sweep(struct daemon *d)
{
	struct conn *c, *next;
	if (persist_flush(d) < 0) {
		for (c = d->busy; c; c = next) { /* only the dead go */
			next = c->busy_next;
			if (c->dead)
				conn_close(d, c);
		}
		return;
	}
	/* Watch events first: a watcher waits on them, a writer's reply can
	 * follow. (Errors are dealt with in the pass below.) */
	for (c = d->busy; c; c = c->busy_next) {
		if (c->got_event && !c->dead && outq_size(&c->out) && conn_flush(c) < 0)
			c->dead = true;
		c->got_event = false;
	}
	while (d->busy) {
		struct conn *list = d->busy;
		d->busy = NULL;
		for (c = list; c; c = next) {
			next = c->busy_next;
			c->busy = false;
			if (!c->dead && outq_size(&c->out)) {
				int r = conn_flush(c);
				if (r < 0)
					c->dead = true;
				if (r == 0 && c->in && wire_in_pending(c->in)) {
					conn_process(d, c); /* requests held back while it was backed up */
					if (persist_flush(d) < 0) {
						/* the next sweeps go on, once it is written */
						conn_mark(d, c);
						for (; next; next = list) {
							list = next->busy_next;
							next->busy = false;
							conn_mark(d, next);
						}
						return;
					}
					if (!c->dead && outq_size(&c->out))
						conn_mark(d, c); /* flush again */
				}
			}
			if (c->dead)
				conn_close(d, c);
			else
				conn_epoll(d, c);
		}
	}
	while (d->dead_domains) {
		struct domain *dom = d->dead_domains;
		d->dead_domains = dom->next;
		domain_free(dom);
	}
}

struct listener {
	enum poll_kind kind;
	int fd;
};
static struct listener lrw = { POLL_LISTEN, -1 }, lro = { POLL_LISTEN_RO, -1 };

/* Every listener in the poll set (on) or out of it. */
static void listeners_poll(struct daemon *d, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0 };
	ev.data.ptr = &lrw;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, lrw.fd, &ev);
	if (lro.fd >= 0) {
		ev.data.ptr = &lro;
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, lro.fd, &ev);
	}
	for (struct domain *dom = d->domains; dom; dom = dom->next) {
		ev.data.ptr = dom;
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, dom->listen_fd, &ev);
	}
}

/* Milliseconds to wait in epoll: -1, or what is left of a pause. */
static int accept_resume(struct daemon *d)
{
	if (!d->accept_paused)
		return -1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - d->paused_at.tv_sec) * 1000 +
		  (now.tv_nsec - d->paused_at.tv_nsec) / 1000000;
	if (d->closed == 0 && ms < 1000)
		return (int)(1000 - ms);
	d->accept_paused = false;
	listeners_poll(d, true);
	return -1;
}

/*
 * Out of descriptors (or memory for a socket): the pending connection stays
 * queued and its listener readable. Stop polling every listener (dom0's and
 * the domains') until a connection closes or a second passes; log once.
 */
static void accept_pause(struct daemon *d, int err)
{
	if (!d->accept_paused && !d->accept_logged) {
		log_warn("cannot accept connections: %s; pausing until a descriptor frees",
			 strerror(err));
		d->accept_logged = true;
	}
	d->accept_paused = true;
	d->closed = 0;
	clock_gettime(CLOCK_MONOTONIC, &d->paused_at);
	listeners_poll(d, false);
}

void accept_on(struct daemon *d, int lfd, struct domain *dom, bool ro)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(d, errno);
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!conn_new(d, fd, dom, ro)) {
			log_err("cannot take a new connection: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (d->accept_logged) {
			log_info("accepting connections again");
			d->accept_logged = false;
		}
		if (dom)
			log_debug("domain %u: channel connected", dom->domid);
	}
}

int daemon_loop(struct daemon *d, int rw_fd, int ro_fd, volatile int *stop)
{
	struct epoll_event ev = { .events = EPOLLIN };

	lrw.fd = rw_fd;
	lro.fd = ro_fd;
	ev.data.ptr = &lrw;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, rw_fd, &ev) < 0)
		return -1;
	ev.data.ptr = &lro;
	if (ro_fd >= 0 && epoll_ctl(d->epfd, EPOLL_CTL_ADD, ro_fd, &ev) < 0)
		return -1;

	while (!*stop) {
		struct epoll_event evs[64];
		if (d->behind) { /* no request is read until the journal is written */
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			conn_sweep(d);
			continue;
		}
		int n = epoll_wait(d->epfd, evs, 64, accept_resume(d));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			enum poll_kind *k = evs[i].data.ptr;
			switch (*k) {
			case POLL_LISTEN:
				accept_on(d, rw_fd, NULL, false);
				break;
			case POLL_LISTEN_RO:
				accept_on(d, ro_fd, NULL, true);
				break;
			case POLL_DOMAIN: {
				struct domain *dom = (struct domain *)k;
				accept_on(d, dom->listen_fd, dom, false);
				break;
			}
			case POLL_CONN: {
				struct conn *c = (struct conn *)k;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_readable(d, c);
				if (evs[i].events & EPOLLOUT)
					conn_mark(d, c);
				break;
			}
			}
		}
		conn_sweep(d);
	}
	return 0;
}
