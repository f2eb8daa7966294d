/*
 * xmfront — the guest agent: the frontend half of xenbus in an xm guest.
 *
 * It owns the virtio-serial port "xenbus" (domain N's XenStore connection)
 * for the guest's whole life, serves guest-local XenStore clients on
 * /var/run/xenstored/socket through the multiplexer (mux.c), announces
 * itself and obeys control/shutdown (agent.c). This file is the event loop:
 * the port, the listening socket, the clients and their output queues.
 */
#include "agent.h"
#include "mux.h"
#include "outq.h"
#include "port.h"
#include "sock.h"
#include "uevent.h"
#include "frontend.h"
#include "netfront.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/var/run/xenstored/socket"
#define DEFAULT_PORT_NAME "xenbus"
#define MAX_CLIENTS 256
#define CLIENT_OUT_MAX (1u << 20) /* a client that reads nothing is dropped */
#define RETRY_MS 50
#define BUSY_RETRY_MS 500  /* the port held by another process: try again */
#define RESYNC_WAIT_MS 5000
#define DEFAULT_NICE -10
#define STR_(x) #x
#define XSTR(x) STR_(x)

struct client {
	struct client *next;
	int fd;
	bool dead;
	struct mux_client *mc;
	struct outq out;
	struct wire_in in;
};

struct xmfront {
	struct port port;
	bool up;
	struct wire_in pin;
	struct outq pout;
	int listen_fd;
	unsigned int nclients;
	struct client *clients;
	struct mux *mux;
	struct agent *agent;
	struct vbd_front *vbd;
	struct vif_front *vif;
};

/* Left in /run by every agent that opened its port: a boot empties it. */
#define RAN_MARK "/run/xmfront.ran"

static const char usage_text[] =
	"Usage: xmfront [-v] [-p PORT] [-n NAME] [-s SOCKET] [--nice N] [--dry-run]\n"
	"               [--resync | --resync-restarted]\n"
	"       xmfront --uevents[=MATCH]\n"
	"The xm guest agent: serves XenStore to guest clients over the\n"
	"virtio-serial xenbus port, announces the guest, obeys control/shutdown\n"
	"and connects the guest's block devices (device/vbd: /dev/xvdXN) and NICs\n"
	"(device/vif: the NIC with its mac, brought up).\n"
	"\n"
	"  -p, --port PATH     the port: a device or a Unix socket\n"
	"                      (default: the virtio-serial port named NAME)\n"
	"  -n, --name NAME     virtio-serial port name (default " DEFAULT_PORT_NAME ")\n"
	"  -s, --socket PATH   where guest clients connect\n"
	"                      (default " DEFAULT_SOCKET ")\n"
	"      --nice N        scheduling niceness (default " XSTR(DEFAULT_NICE) ": the agent\n"
	"                      plays an in-kernel frontend; 0 leaves it as started)\n"
	"      --dry-run       acknowledge shutdown requests, then only exit\n"
	"      --resync        at start, make the store drop the port's connection\n"
	"                      (an earlier user may have left it mid-frame)\n"
	"      --resync-restarted\n"
	"                      the same, only if an agent ran before in this boot\n"
	"                      (" RAN_MARK "): a service manager's restart\n"
	"      --uevents[=MATCH]\n"
	"                      only print the guest kernel's block device and network\n"
	"                      interface events (\"xmfront-uevent ACTION DEVNAME DEVTYPE\",\n"
	"                      \"... ACTION IFNAME net\"), until killed; with MATCH,\n"
	"                      those whose device path contains it\n"
	"  -v, --verbose       log connections and requests\n"
	"  -h, --help          this text\n";

/* --- mux callbacks ---------------------------------------------------------- */

static void to_port(void *ctx, const struct xsd_sockmsg *h, const char *body)
{
	struct xmfront *x = ctx;
	if (outq_put(&x->pout, h, body) < 0)
		log_err("out of memory: a request to the host is lost");
}

static void to_client(void *ctx, void *user, const struct xsd_sockmsg *h, const char *body)
{
	struct client *c = user;
	(void)ctx;
	if (c->dead)
		return;
	if (outq_size(&c->out) > CLIENT_OUT_MAX || outq_put(&c->out, h, body) < 0) {
		log_warn("client %d reads nothing: dropped", c->fd);
		c->dead = true;
	}
}

static const struct mux_ops ops = { to_port, to_client };

/* --- the port -------------------------------------------------------------- */

/*
 * Did the last read fill the reader's buffer? If not, it was short and a
 * second read would only say EAGAIN: under TCG every syscall saved counts
 * (a guest round trip through the agent is ~6 of them).
 */
static bool in_full(const struct wire_in *in)
{
	return in->end == sizeof(in->buf);
}

static void host_lost(struct xmfront *x, const char *why)
{
	log_warn("host side went away (%s); waiting for it", why);
	x->up = false;
	outq_clear(&x->pout);
	x->pin.start = x->pin.end = 0;
	mux_port_lost(x->mux);
	port_lost(&x->port);
}

static void host_check(struct xmfront *x)
{
	if (x->up || !port_host_up(&x->port))
		return;
	x->up = true;
	x->pin.start = x->pin.end = 0;
	outq_clear(&x->pout);
	log_info("host side connected on %s", x->port.path);
	vif_reconnected(x->vif);
	mux_port_up(x->mux);
	agent_connected(x->agent);
}

static void port_readable(struct xmfront *x)
{
	for (;;) {
		enum wire_status st = wire_in_fill(&x->pin, x->port.fd);
		if (st == WIRE_AGAIN)
			return;
		if (st == WIRE_EOF || st == WIRE_ERR) {
			host_lost(x, st == WIRE_EOF ? "EOF" : strerror(errno));
			return;
		}
		struct xsd_sockmsg h;
		const char *body;
		while ((st = wire_in_next(&x->pin, &h, &body)) == WIRE_OK) {
			log_debug("host: %s id %u len %u", wire_type_name(h.type) ?: "?",
				  h.req_id, h.len);
			mux_port_message(x->mux, &h, body);
		}
		vbd_flush(x->vbd);
		vif_flush(x->vif);
		if (st == WIRE_PROTO) {
			host_lost(x, "oversized message");
			return;
		}
		if (!in_full(&x->pin))
			return; /* a short read: poll says when there is more */
	}
}

/* --- clients ------------------------------------------------------------------ */

static void client_accept(struct xmfront *x)
{
	for (;;) {
		int fd = accept4(x->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		struct client *c = NULL;
		if (x->nclients >= MAX_CLIENTS || !(c = calloc(1, sizeof(*c))) ||
		    !(c->mc = mux_client_new(x->mux, c))) {
			log_warn("client refused: %s",
				 x->nclients >= MAX_CLIENTS ? "too many" : "out of memory");
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->next = x->clients;
		x->clients = c;
		x->nclients++;
		log_debug("client %d connected", fd);
	}
}

static void client_readable(struct xmfront *x, struct client *c)
{
	while (!c->dead) {
		enum wire_status st = wire_in_fill(&c->in, c->fd);
		if (st == WIRE_AGAIN)
			return;
		if (st != WIRE_OK) {
			c->dead = true;
			return;
		}
		struct xsd_sockmsg h;
		const char *body;
		while (!c->dead && (st = wire_in_next(&c->in, &h, &body)) == WIRE_OK) {
			log_debug("client %d: %s id %u tx %u", c->fd,
				  wire_type_name(h.type) ?: "?", h.req_id, h.tx_id);
			mux_client_request(x->mux, c->mc, &h, body);
		}
		if (st == WIRE_PROTO)
			c->dead = true;
		if (!in_full(&c->in))
			return;
	}
}

static void clients_reap(struct xmfront *x)
{
	for (struct client **pp = &x->clients; *pp;) {
		struct client *c = *pp;
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		log_debug("client %d gone", c->fd);
		mux_client_gone(x->mux, c->mc);
		close(c->fd);
		outq_free(&c->out);
		free(c);
		x->nclients--;
	}
}

/* --- the loop ------------------------------------------------------------------- */

static int run(struct xmfront *x)
{
	struct pollfd *pfd = calloc(MAX_CLIENTS + 3, sizeof(*pfd));
	if (!pfd)
		return 1;
	while (!agent_done(x->agent)) {
		host_check(x);
		agent_tick(x->agent);
		vbd_tick(x->vbd);
		vif_tick(x->vif);
		if (x->up && outq_flush(&x->pout, x->port.fd) < 0)
			host_lost(x, strerror(errno));
		else if (x->up && !outq_size(&x->pout))
			vbd_sent(x->vbd);
		for (struct client *c = x->clients; c; c = c->next)
			if (!c->dead && outq_flush(&c->out, c->fd) < 0)
				c->dead = true;
		clients_reap(x);

		nfds_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = x->listen_fd, .events = POLLIN };
		if (x->up)
			pfd[n++] = (struct pollfd){
				.fd = x->port.fd,
				.events = POLLIN | (outq_size(&x->pout) ? POLLOUT : 0) };
		nfds_t nl_index = n;
		if (vbd_fd(x->vbd) >= 0)
			pfd[n++] = (struct pollfd){ .fd = vbd_fd(x->vbd), .events = POLLIN };
		nfds_t first_client = n;
		for (struct client *c = x->clients; c; c = c->next)
			/* while the host is away requests wait unread */
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = (x->up ? POLLIN : 0) |
					  (outq_size(&c->out) ? POLLOUT : 0) };

		int timeout = agent_timeout(x->agent), vt = vbd_timeout(x->vbd);
		if (vt >= 0 && (timeout < 0 || vt < timeout))
			timeout = vt;
		vt = vif_timeout(x->vif);
		if (vt >= 0 && (timeout < 0 || vt < timeout))
			timeout = vt;
		if (!x->up && (timeout < 0 || timeout > RETRY_MS))
			timeout = RETRY_MS;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			free(pfd);
			return 1;
		}
		if (x->up && pfd[1].revents)
			port_readable(x);
		if (nl_index < first_client && pfd[nl_index].revents) {
			vbd_readable(x->vbd);
			if (vbd_take_net_added(x->vbd))
				vif_kick(x->vif);
		}
		/* clients in the order they were polled (the list only grows at
		 * its head, in client_accept below) */
		nfds_t i = first_client;
		for (struct client *c = x->clients; c && i < n; c = c->next, i++) {
			if (pfd[i].revents & POLLIN)
				client_readable(x, c);
			else if (pfd[i].revents & (POLLHUP | POLLERR))
				c->dead = true;
		}
		if (pfd[0].revents & POLLIN)
			client_accept(x);
	}
	free(pfd);
	return 0;
}

/* Wait for the virtio-serial port to show up (its module was just loaded). */
static void locate_port(struct port *p, const char *name)
{
	long t0 = now_ms();
	bool said = false;
	while (port_locate(p, name) < 0) {
		if (!said && now_ms() - t0 > 5000) {
			log_warn("no virtio-serial port named %s yet; waiting", name);
			said = true;
		}
		usleep(RETRY_MS * 1000);
	}
}

struct opts {
	const char *port_path, *name, *sock;
	struct agent_opts ao;
	int verbose, nice_val;
	bool uevents, resync, resync_restarted;
	const char *uevents_match;
};

/* The options into o: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "nice", required_argument, NULL, 'N' },
		{ "uevents", optional_argument, NULL, 'U' },
		{ "resync", no_argument, NULL, 'R' },
		{ "resync-restarted", no_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	char *end;

	while ((opt = getopt_long(argc, argv, "p:n:s:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': o->port_path = optarg; break;
		case 'n': o->name = optarg; break;
		case 's': o->sock = optarg; break;
		case 'D': o->ao.dry_run = true; break;
		case 'U':
			o->uevents = true;
			o->uevents_match = optarg && *optarg ? optarg : NULL;
			break;
		case 'R': o->resync = true; break;
		case 'A': o->resync_restarted = true; break;
		case 'N':
			errno = 0;
			o->nice_val = (int)strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->nice_val < -20 || o->nice_val > 19) {
				fprintf(stderr, "xmfront: --nice wants -20..19, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v': o->verbose = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	return -1;
}

/* Listen for guest clients on sock (its directory made first). 0, or -1
 * (logged). */
static int listen_clients(struct xmfront *x, const char *sock)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", sock);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir_p(dir);
	}
	x->listen_fd = unix_listen(sock);
	if (x->listen_fd < 0) {
		log_err("cannot listen on %s: %s", sock, strerror(errno));
		return -1;
	}
	return 0;
}

/* The port: -p's, or the virtio-serial port named name once it shows up;
 * a device is opened now, a socket when its host side is there. 0, or -1
 * (logged). */
static int find_port(struct xmfront *x, const struct opts *o)
{
	if (o->port_path) {
		if (port_set_path(&x->port, o->port_path) < 0) {
			log_err("%s: %s", o->port_path, strerror(errno));
			return -1;
		}
	} else {
		locate_port(&x->port, o->name);
	}
	if (x->port.is_socket)
		return 0;
	/* The port takes one opener: EBUSY while another holds it (an agent
	 * still running, or whatever killed the last one). Wait for it. */
	bool said = false;
	while (port_open(&x->port) < 0) {
		if (errno != EBUSY) {
			log_err("cannot open %s: %s", x->port.path, strerror(errno));
			return -1;
		}
		if (!said)
			log_warn("%s is held by another process; waiting for it", x->port.path);
		said = true;
		usleep(BUSY_RETRY_MS * 1000);
	}
	if (said)
		log_info("%s free again: opened", x->port.path);
	return 0;
}

/*
 * --resync: an earlier user of the port (an agent killed mid-write, or a
 * hostile root that held it) may have left a partial frame in the store's
 * buffer, where our first request would be read as its rest, and watches
 * and transactions on the connection. 0xff past any such frame: whatever
 * its alignment, the store meets a header whose length (byte 15 at least)
 * is over XENSTORE_PAYLOAD_MAX and drops the connection; QEMU then connects
 * a fresh one (reconnect=1), which run() takes up as after a restart of the
 * store. A store that keeps the connection is waited for RESYNC_WAIT_MS.
 */
static void resync(struct port *p)
{
	static char ff[WIRE_MSG_MAX + WIRE_HDR_LEN];
	size_t done = 0;
	long end = now_ms() + RESYNC_WAIT_MS;

	while (!port_host_up(p)) {
		if (now_ms() > end)
			return; /* no host side: the connection will be new */
		usleep(RETRY_MS * 1000);
	}
	memset(ff, 0xff, sizeof(ff));
	/* write it, reading (and dropping) what comes meanwhile: a store
	 * whose output to the port is backed up reads no more input */
	char sink[512];
	while (port_host_up(p) && now_ms() < end) {
		struct pollfd q = { .fd = p->fd,
				    .events = POLLIN | (done < sizeof(ff) ? POLLOUT : 0) };
		if (poll(&q, 1, RETRY_MS) <= 0)
			continue;
		if (q.revents & POLLIN) {
			ssize_t n = read(p->fd, sink, sizeof(sink));
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break; /* dropped */
		}
		if ((q.revents & POLLOUT) && done < sizeof(ff)) {
			ssize_t n = write(p->fd, ff + done, sizeof(ff) - done);
			if (n > 0)
				done += (size_t)n;
		}
	}
	log_info("resync: the host side %s", port_host_up(p) ? "kept the connection" :
		 "dropped the connection; waiting for a fresh one");
}

int main(int argc, char **argv)
{
	struct opts o = { .name = DEFAULT_PORT_NAME, .sock = DEFAULT_SOCKET,
			  .nice_val = DEFAULT_NICE };
	struct xmfront x = { .port = { .fd = -1 }, .listen_fd = -1 };

	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	log_open("xmfront", stderr, o.verbose ? LOG_DEBUG_ : LOG_INFO_);
	signal(SIGPIPE, SIG_IGN);
	/* The guest's kernel announces a new disk to every uevent listener
	 * (mdev too) at once: on one vCPU the frontend should run first. */
	if (o.nice_val && setpriority(PRIO_PROCESS, 0, o.nice_val) < 0)
		log_warn("cannot set niceness %d: %s", o.nice_val, strerror(errno));
	if (o.uevents)
		return uevent_monitor(o.uevents_match);
	/* the port first: an agent waiting for it must not take the socket of
	 * one that runs */
	if (find_port(&x, &o) < 0)
		return 1;
	/* An agent that ran before in this boot (its mark in /run, which a
	 * boot empties) may have died mid-write: xmfront.service restarts us
	 * with --resync-restarted. */
	bool again = o.resync_restarted && access(RAN_MARK, F_OK) == 0;
	if ((o.resync || again) && !x.port.is_socket)
		resync(&x.port);
	if (!x.port.is_socket) {
		int mark = open(RAN_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (mark >= 0)
			close(mark);
	}
	if (listen_clients(&x, o.sock) < 0)
		return 1;
	x.mux = mux_new(&ops, &x);
	if (!x.mux || !(x.agent = agent_new(x.mux, &o.ao)) || !(x.vbd = vbd_new(x.mux)) ||
	    !(x.vif = vif_new(x.mux))) {
		log_err("out of memory");
		return 1;
	}
	log_info("port %s, clients on %s", x.port.path, o.sock);
	rc = run(&x);
	vbd_free(x.vbd);
	vif_free(x.vif);
	agent_free(x.agent);
	mux_free(x.mux);
	unlink(o.sock);
	return rc;
}
