/*
 * xsbench — XenStore daemon benchmark, with libxenstore clients as real
 * clients (xl, xenstore-*, xmbackd) use it. Only prints; asserts nothing.
 *
 *   xsbench [-d SECONDS] [-c 1,2,4] [-o read,write,dir,txn,watch] [-p PID]
 *
 * The daemon is the one libxenstore finds (XENSTORED_PATH). For every
 * (operation, clients) cell it forks that many client processes, each with
 * its own connection and its own nodes under /bench/xsbench-PID/cI; they
 * connect and set up, wait at a barrier, then all run the operation in a
 * closed loop for SECONDS, timing every call with CLOCK_MONOTONIC. One line
 * per cell:
 *
 *   op clients ops/s p50_us p99_us cpu_us/op errors
 *
 * ops/s is the sum over clients of (their calls / their run time); p50/p99
 * are over all calls of all clients; cpu_us/op is the daemon's utime+stime
 * (/proc/PID/stat, PID from -p) consumed between barrier release and the end
 * of the last client's loop, divided by all calls ("-" without -p).
 *
 * Operations:
 *   read   xs_read of a 15-byte node
 *   write  xs_write of 15 bytes to an existing node
 *   dir    xs_directory of a node with 100 children
 *   txn    xs_transaction_start + xs_read + xs_write + xs_transaction_end
 *   watch  N writer/watcher pairs (2N processes, 2N connections): the writer
 *          notes the time and calls xs_write on a node the watcher watches;
 *          the watcher (poll on xs_fileno + xs_check_watch, as libxl does)
 *          takes the time when the event is in its hands; the latency is the
 *          difference. The watcher then acks through a pipe and the writer
 *          writes again (one event in flight per pair). ops/s = events/s.
 *   sock2  the floor: a raw AF_UNIX round trip against a trivial poll(2) echo
 *          server forked by xsbench, with READ's sizes (16-byte header + 16-
 *          byte path; reply header + 15 bytes). Header and payload are two
 *          write(2)s on both sides, as libxenstore and cxenstored do.
 *   sock1  the same with each message in one write(2).
 *   For sock1/sock2 cpu_us/op is the echo server's CPU; -p is not needed.
 *   Both sides read as libxenstore does: the client reads the header, then
 *   the payload; the server reads whatever is there.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#define MAX_CLIENTS 16
#define MAX_SAMPLES (1u << 20)      /* per client; more calls are counted, not timed */
#define DIR_CHILDREN 100
#define VALUE "small-value-xyz"     /* 15 bytes, as a typical XenStore leaf */
#define VALUE_LEN ((unsigned int)(sizeof(VALUE) - 1))

enum op { OP_READ, OP_WRITE, OP_DIR, OP_TXN, OP_WATCH, OP_SOCK2, OP_SOCK1, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
	[OP_READ] = "read", [OP_WRITE] = "write", [OP_DIR] = "dir", [OP_TXN] = "txn",
	[OP_WATCH] = "watch", [OP_SOCK2] = "sock2", [OP_SOCK1] = "sock1",
};

/* One per client (per pair for watch), in memory shared with the parent. */
struct slot {
	uint64_t ops;
	uint64_t elapsed_ns;
	uint64_t errors;
	uint64_t t_write;           /* watch: writer's timestamp of the pending write */
	int stop;                   /* watch: writer finished */
	uint32_t nsamples;
	uint32_t samples[MAX_SAMPLES];  /* ns */
};

/* Barrier pipes: children report ready/done; the parent releases by closing. */
struct barrier {
	int ready[2], go[2], done[2], release[2];
};

static double opt_duration = 1.0;
static pid_t opt_daemon_pid;
static char prefix[64];
static char sock_dir[64];           /* floor: echo server's socket */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record(struct slot *s, uint64_t ns)
{
	s->ops++;
	if (s->nsamples < MAX_SAMPLES)
		s->samples[s->nsamples++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* utime + stime of PID in microseconds, or -1. */
static double proc_cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;
	int i;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');      /* comm may hold spaces */
	if (!p)
		return -1;
	p++;
	for (i = 0; i < 11 && p; i++)   /* fields 3..13, then utime (14), stime (15) */
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* ---- the barrier, child side ------------------------------------------ */

static void child_close_parent_ends(struct barrier *b)
{
	close(b->ready[0]);
	close(b->go[1]);
	close(b->done[0]);
	close(b->release[1]);
}

/* Report ready (or failed) and wait for the start; false if told to quit. */
static bool child_wait_go(struct barrier *b, bool ok)
{
	char c = ok ? 'r' : 'e', x;

	if (write_full(b->ready[1], &c, 1) < 0 || !ok)
		return false;
	return read(b->go[0], &x, 1) == 0;  /* EOF = go */
}

static void child_finish(struct barrier *b)
{
	char c = 'd', x;

	write_full(b->done[1], &c, 1);
	while (read(b->release[0], &x, 1) < 0 && errno == EINTR)
		;
}

/* ---- client bodies ----------------------------------------------------- */

static void node(char *buf, size_t len, int idx, const char *leaf)
{
	snprintf(buf, len, "%s/c%d/%s", prefix, idx, leaf);
}

static bool xs_one(struct xs_handle *h, enum op op, const char *small,
		   const char *wnode, const char *dir, const char *tnode)
{
	unsigned int len, num;
	xs_transaction_t t;
	void *v;
	char **d;

	switch (op) {
	case OP_READ:
		v = xs_read(h, XBT_NULL, small, &len);
		free(v);
		return v != NULL;
	case OP_WRITE:
		return xs_write(h, XBT_NULL, wnode, VALUE, VALUE_LEN);
	case OP_DIR:
		d = xs_directory(h, XBT_NULL, dir, &num);
		free(d);
		return d != NULL && num == DIR_CHILDREN;
	case OP_TXN:
		t = xs_transaction_start(h);
		if (t == XBT_NULL)
			return false;
		v = xs_read(h, t, small, &len);
		free(v);
		if (!v || !xs_write(h, t, tnode, VALUE, VALUE_LEN)) {
			xs_transaction_end(h, t, true);
			return false;
		}
		return xs_transaction_end(h, t, false);
	default:
		return false;
	}
}

static void client_xs(enum op op, int idx, struct slot *s, struct barrier *b)
{
	char small[128], wnode[128], dir[128], tnode[128];
	struct xs_handle *h = xs_open(0);
	uint64_t start, deadline, t0, t1;

	node(small, sizeof(small), idx, "small");
	node(wnode, sizeof(wnode), idx, "w");
	node(dir, sizeof(dir), idx, "dir");
	node(tnode, sizeof(tnode), idx, "t");
	if (!child_wait_go(b, h != NULL))
		_exit(1);
	start = now_ns();
	deadline = start + (uint64_t)(opt_duration * 1e9);
	for (t0 = t1 = start; t0 < deadline; t0 = t1) {
		bool ok = xs_one(h, op, small, wnode, dir, tnode);
		t1 = now_ns();
		record(s, t1 - t0);
		if (!ok)
			s->errors++;
	}
	s->elapsed_ns = t1 - start;
	child_finish(b);
	xs_close(h);
	_exit(0);
}

static void watch_writer(int idx, struct slot *s, struct barrier *b, int ack)
{
	char path[128], x;
	struct xs_handle *h = xs_open(0);
	uint64_t deadline, t0;

	node(path, sizeof(path), idx, "watch");
	if (!child_wait_go(b, h != NULL))
		_exit(1);
	deadline = now_ns() + (uint64_t)(opt_duration * 1e9);
	while ((t0 = now_ns()) < deadline) {
		__atomic_store_n(&s->t_write, t0, __ATOMIC_SEQ_CST);
		if (!xs_write(h, XBT_NULL, path, VALUE, VALUE_LEN)) {
			s->errors++;
			break;
		}
		if (read_full(ack, &x, 1) < 0)
			break;
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
	xs_write(h, XBT_NULL, path, VALUE, VALUE_LEN);  /* wake the watcher */
	child_finish(b);
	xs_close(h);
	_exit(0);
}

static void watch_watcher(int idx, struct slot *s, struct barrier *b, int ack)
{
	char path[128], c = 'a';
	struct xs_handle *h = xs_open(0);
	struct pollfd pfd;
	uint64_t start, t1;
	bool ok = false;
	char **ev;

	node(path, sizeof(path), idx, "watch");
	if (h && xs_watch(h, path, "xsbench")) {
		/* A new watch fires once at once: consume that before the start. */
		pfd.fd = xs_fileno(h);
		pfd.events = POLLIN;
		if (pfd.fd >= 0 && poll(&pfd, 1, 5000) == 1) {
			ev = xs_check_watch(h);
			ok = ev != NULL;
			free(ev);
		}
	}
	if (!child_wait_go(b, ok))
		_exit(1);
	start = now_ns();
	for (;;) {
		int r = poll(&pfd, 1, 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
				break;
			continue;
		}
		ev = xs_check_watch(h);
		t1 = now_ns();
		if (!ev) {
			if (errno != EAGAIN) {
				s->errors++;
				break;
			}
			continue;
		}
		free(ev);
		if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
			break;
		record(s, t1 - __atomic_load_n(&s->t_write, __ATOMIC_SEQ_CST));
		if (write_full(ack, &c, 1) < 0)
			break;
	}
	s->elapsed_ns = now_ns() - start;
	child_finish(b);
	xs_close(h);
	_exit(0);
}

/* ---- the floor: raw AF_UNIX against a trivial echo server -------------- */

static int sock_path(struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/echo", sock_dir) <
	       (int)sizeof(sa->sun_path) ? 0 : -1;
}

struct echo_conn {
	int fd;
	size_t have;
	char buf[4096];
};

/* Reply to every complete message in c->buf; -1 on error. */
static int echo_serve(struct echo_conn *c, bool two_writes)
{
	struct xsd_sockmsg hdr;
	char out[sizeof(hdr) + VALUE_LEN];
	size_t used = 0;

	while (c->have - used >= sizeof(hdr)) {
		memcpy(&hdr, c->buf + used, sizeof(hdr));
		if (hdr.len > sizeof(c->buf) - sizeof(hdr))
			return -1;
		if (c->have - used < sizeof(hdr) + hdr.len)
			break;
		used += sizeof(hdr) + hdr.len;
		hdr.len = VALUE_LEN;
		memcpy(out, &hdr, sizeof(hdr));
		memcpy(out + sizeof(hdr), VALUE, VALUE_LEN);
		if (two_writes) {
			if (write_full(c->fd, out, sizeof(hdr)) < 0 ||
			    write_full(c->fd, out + sizeof(hdr), VALUE_LEN) < 0)
				return -1;
		} else if (write_full(c->fd, out, sizeof(out)) < 0) {
			return -1;
		}
	}
	memmove(c->buf, c->buf + used, c->have - used);
	c->have -= used;
	return 0;
}

static void echo_server(int lfd, bool two_writes)
{
	static struct echo_conn conns[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 1];
	int n = 0, i;

	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = n - 1; i >= 0; i--) {
			ssize_t r;
			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(conns[i].fd, conns[i].buf + conns[i].have,
				 sizeof(conns[i].buf) - conns[i].have);
			if (r > 0)
				conns[i].have += (size_t)r;
			if (r <= 0 || echo_serve(&conns[i], two_writes) < 0) {
				close(conns[i].fd);
				conns[i] = conns[--n];
			}
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0 && n < MAX_CLIENTS) {
				conns[n].fd = fd;
				conns[n].have = 0;
				n++;
			} else if (fd >= 0) {
				close(fd);
			}
		}
	}
}

static pid_t echo_start(bool two_writes)
{
	struct sockaddr_un sa;
	int lfd;
	pid_t pid;

	if (sock_path(&sa) < 0)
		return -1;
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 64) < 0) {
		perror("xsbench: echo server socket");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		echo_server(lfd, two_writes);
	}
	close(lfd);
	return pid;
}

static void client_sock(enum op op, int idx, struct slot *s, struct barrier *b)
{
	struct xsd_sockmsg hdr = { .type = XS_READ, .req_id = 0, .tx_id = 0 };
	char msg[sizeof(hdr) + 64], path[64], reply[64];
	size_t plen;
	struct sockaddr_un sa;
	uint64_t start, deadline, t0, t1;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok = fd >= 0 && sock_path(&sa) == 0 &&
		  connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	/* Same size as the read cell's request: the path with its NUL. */
	snprintf(path, sizeof(path), "/bench/c%d/small", idx % 10);
	plen = strlen(path) + 1;
	if (!child_wait_go(b, ok))
		_exit(1);
	start = now_ns();
	deadline = start + (uint64_t)(opt_duration * 1e9);
	for (t0 = t1 = start; t0 < deadline; t0 = t1) {
		hdr.req_id++;
		hdr.len = (uint32_t)plen;
		memcpy(msg, &hdr, sizeof(hdr));
		memcpy(msg + sizeof(hdr), path, plen);
		if (op == OP_SOCK2)
			ok = write_full(fd, msg, sizeof(hdr)) == 0 &&
			     write_full(fd, msg + sizeof(hdr), plen) == 0;
		else
			ok = write_full(fd, msg, sizeof(hdr) + plen) == 0;
		ok = ok && read_full(fd, &hdr, sizeof(hdr)) == 0 &&
		     hdr.len <= sizeof(reply) && read_full(fd, reply, hdr.len) == 0;
		t1 = now_ns();
		record(s, t1 - t0);
		if (!ok) {
			s->errors++;
			break;
		}
	}
	s->elapsed_ns = t1 - start;
	child_finish(b);
	close(fd);
	_exit(0);
}

/* ---- one cell ---------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Read n bytes from fd; true if all were 'want'. */
static bool collect(int fd, int n, char want)
{
	bool ok = true;
	char c;

	while (n-- > 0) {
		if (read_full(fd, &c, 1) < 0)
			return false;
		ok = ok && c == want;
	}
	return ok;
}

static void run_cell(enum op op, int nclients)
{
	struct barrier b;
	struct slot *slots;
	size_t map_len = sizeof(struct slot) * (size_t)nclients;
	int nproc = op == OP_WATCH ? 2 * nclients : nclients;
	pid_t kids[2 * MAX_CLIENTS], server = 0, cpu_pid = opt_daemon_pid;
	int acks[MAX_CLIENTS][2];
	double cpu0 = -1, cpu1 = -1, ops_s = 0;
	uint64_t total = 0, errors = 0, nsamp = 0;
	uint32_t *all;
	bool ok;
	int i, k = 0;

	slots = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		perror("xsbench: mmap");
		exit(1);
	}
	/* The server first: it must not hold the barrier pipes open. */
	if (op == OP_SOCK1 || op == OP_SOCK2) {
		server = echo_start(op == OP_SOCK2);
		if (server < 0)
			exit(1);
		cpu_pid = server;
	}
	if (pipe(b.ready) || pipe(b.go) || pipe(b.done) || pipe(b.release)) {
		perror("xsbench: pipe");
		exit(1);
	}
	fflush(stdout);
	for (i = 0; i < nclients; i++) {
		if (op == OP_WATCH && pipe(acks[i])) {
			perror("xsbench: pipe");
			exit(1);
		}
		for (int role = 0; role < (op == OP_WATCH ? 2 : 1); role++) {
			pid_t pid = fork();
			if (pid < 0) {
				perror("xsbench: fork");
				exit(1);
			}
			if (pid == 0) {
				child_close_parent_ends(&b);
				prctl(PR_SET_PDEATHSIG, SIGKILL);   /* xsbench killed: go too */
				alarm((unsigned)opt_duration + 20);  /* never hang a run */
				if (op == OP_WATCH && role == 0)
					watch_watcher(i, &slots[i], &b, acks[i][1]);
				else if (op == OP_WATCH)
					watch_writer(i, &slots[i], &b, acks[i][0]);
				else if (op == OP_SOCK1 || op == OP_SOCK2)
					client_sock(op, i, &slots[i], &b);
				else
					client_xs(op, i, &slots[i], &b);
			}
			kids[k++] = pid;
		}
		if (op == OP_WATCH) {
			close(acks[i][0]);
			close(acks[i][1]);
		}
	}
	close(b.ready[1]);
	close(b.done[1]);
	close(b.go[0]);
	close(b.release[0]);

	ok = collect(b.ready[0], nproc, 'r');
	if (ok)
		cpu0 = proc_cpu_us(cpu_pid);
	close(b.go[1]);                 /* start everybody */
	if (ok)
		ok = collect(b.done[0], nproc, 'd');
	if (ok)
		cpu1 = proc_cpu_us(cpu_pid);
	close(b.release[1]);
	for (i = 0; i < k; i++)
		waitpid(kids[i], NULL, 0);
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	close(b.ready[0]);
	close(b.done[0]);

	for (i = 0; i < nclients; i++) {
		total += slots[i].ops;
		errors += slots[i].errors;
		nsamp += slots[i].nsamples;
		if (slots[i].elapsed_ns)
			ops_s += (double)slots[i].ops * 1e9 / (double)slots[i].elapsed_ns;
	}
	if (!ok || !nsamp) {
		printf("%-6s %2d %10s %9s %9s %9s %s\n", op_names[op], nclients,
		       "n/a", "n/a", "n/a", "n/a", "failed");
		munmap(slots, map_len);
		return;
	}
	all = malloc(nsamp * sizeof(*all));
	if (!all) {
		perror("xsbench: malloc");
		exit(1);
	}
	nsamp = 0;
	for (i = 0; i < nclients; i++) {
		memcpy(all + nsamp, slots[i].samples, slots[i].nsamples * sizeof(*all));
		nsamp += slots[i].nsamples;
	}
	qsort(all, nsamp, sizeof(*all), cmp_u32);
	printf("%-6s %2d %10.0f %9.1f %9.1f ", op_names[op], nclients, ops_s,
	       all[(nsamp - 1) * 50 / 100] / 1e3, all[(nsamp - 1) * 99 / 100] / 1e3);
	if (cpu0 >= 0 && cpu1 >= 0 && total)
		printf("%9.2f", (cpu1 - cpu0) / (double)total);
	else
		printf("%9s", "-");
	printf(" %llu\n", (unsigned long long)errors);
	fflush(stdout);
	free(all);
	munmap(slots, map_len);
}

/* ---- setup and main ---------------------------------------------------- */

static bool setup_nodes(struct xs_handle *h, int nclients)
{
	char path[128], leaf[32];
	static const char *const leaves[] = { "small", "w", "t", "watch" };

	for (int i = 0; i < nclients; i++) {
		for (size_t l = 0; l < sizeof(leaves) / sizeof(leaves[0]); l++) {
			node(path, sizeof(path), i, leaves[l]);
			if (!xs_write(h, XBT_NULL, path, VALUE, VALUE_LEN))
				return false;
		}
		for (int j = 0; j < DIR_CHILDREN; j++) {
			snprintf(leaf, sizeof(leaf), "dir/%d", j);
			node(path, sizeof(path), i, leaf);
			if (!xs_write(h, XBT_NULL, path, VALUE, VALUE_LEN))
				return false;
		}
	}
	return true;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xsbench [-d SECONDS] [-c N,N,...] [-o OP,OP,...] [-p DAEMON_PID]\n"
		"  OP: read write dir txn watch (need a daemon at XENSTORED_PATH)\n"
		"      sock2 sock1 (the AF_UNIX floor; no daemon needed)\n"
		"  defaults: -d 1 -c 1,2,4 -o read,write,dir,txn,watch\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int clients[MAX_CLIENTS], nc = 0, maxc = 0, ch;
	bool want[OP_COUNT] = { 0 }, any = false, need_xs = false;
	char *copt = NULL, *oopt = NULL, *tok, *save;
	struct xs_handle *h = NULL;

	while ((ch = getopt(argc, argv, "d:c:o:p:h")) != -1) {
		switch (ch) {
		case 'd': opt_duration = atof(optarg); break;
		case 'c': copt = optarg; break;
		case 'o': oopt = optarg; break;
		case 'p': opt_daemon_pid = (pid_t)atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || opt_duration <= 0 || opt_duration > 600)
		usage();
	for (tok = strtok_r(copt ? copt : (char[]){ "1,2,4" }, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int n = atoi(tok);
		if (n < 1 || n > MAX_CLIENTS || nc == MAX_CLIENTS)
			usage();
		clients[nc++] = n;
		if (n > maxc)
			maxc = n;
	}
	for (tok = strtok_r(oopt ? oopt : (char[]){ "read,write,dir,txn,watch" }, ",", &save);
	     tok; tok = strtok_r(NULL, ",", &save)) {
		int o;
		for (o = 0; o < OP_COUNT && strcmp(tok, op_names[o]); o++)
			;
		if (o == OP_COUNT)
			usage();
		want[o] = any = true;
		if (o < OP_SOCK2)
			need_xs = true;
	}
	if (!nc || !any)
		usage();
	signal(SIGPIPE, SIG_IGN);
	snprintf(prefix, sizeof(prefix), "/bench/xsbench-%d", (int)getpid());

	if (need_xs) {
		h = xs_open(0);
		if (!h || !setup_nodes(h, maxc)) {
			fprintf(stderr, "xsbench: cannot set up %s at the XenStore daemon "
				"(XENSTORED_PATH=%s): %s\n", prefix,
				getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH") : "(default)",
				strerror(errno));
			if (h)
				xs_rm(h, XBT_NULL, prefix);
			xs_close(h);
			return 1;
		}
		xs_close(h);        /* no connection of ours stays open while clients run */
	}
	if (want[OP_SOCK1] || want[OP_SOCK2]) {
		snprintf(sock_dir, sizeof(sock_dir), "/tmp/xsbench.XXXXXX");
		if (!mkdtemp(sock_dir)) {
			perror("xsbench: mkdtemp");
			return 1;
		}
	}

	printf("# %-4s %2s %10s %9s %9s %9s %s\n", "op", "cl", "ops/s", "p50_us",
	       "p99_us", "cpu_us/op", "errors");
	for (int o = 0; o < OP_COUNT; o++)
		for (int i = 0; want[o] && i < nc; i++)
			run_cell((enum op)o, clients[i]);

	if (need_xs) {
		h = xs_open(0);
		if (h)
			xs_rm(h, XBT_NULL, prefix);
		xs_close(h);
	}
	if (sock_dir[0]) {
		char path[128];
		snprintf(path, sizeof(path), "%s/echo", sock_dir);
		unlink(path);
		rmdir(sock_dir);
	}
	return 0;
}
