/*
 * main.c — xmstored: options, sockets, pid file, signals, the loop.
 */
#include "core.h"
#include "daemon.h"
#include "journal.h"
#include "notify.h"
#include "sock.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xmstored [OPTIONS]\n"
		"XenStore daemon for hosts without a Xen hypervisor.\n"
		"\n"
		"  -s, --socket PATH       read-write socket (default: $XENSTORED_PATH or\n"
		"                          /run/xenstored/socket); PATH_ro is the read-only one\n"
		"  -c, --channel-dir DIR   domain channel sockets (default: <socket dir>/domains)\n"
		"  -N, --no-fork, -f, --foreground\n"
		"                          do not detach\n"
		"  -F, --pid-file FILE     write the daemon's pid to FILE\n"
		"  -l, --log FILE          log to FILE (default: stderr; detached: syslog)\n"
		"  -V, --verbose           log every connection and domain event\n"
		"  -T, --trace-file FILE   trace every message in and out to FILE\n"
		"  -J, --journal-dir DIR   keep the tree across restarts in DIR/xmstored.journal\n"
		"                          and DIR/xmstored.snap (default: the socket's dir)\n"
		"      --no-journal        keep the tree in memory only (lost at exit)\n"
		"      --compact-size N    compact the journal past N bytes (and 4x the\n"
		"                          last snapshot; default 1048576)\n"
		"  -E, --entry-nb N        nodes per domain (default 1000)\n"
		"  -S, --entry-size N      bytes per node (default 2048)\n"
		"  -W, --watch-nb N        watches per domain (default 128)\n"
		"  -t, --transaction N     open transactions per domain (default 10)\n"
		"  -A, --perm-nb N         permission entries per node (default 5)\n"
		"  -M, --path-max N        path length past /local/domain/N/ (default 2048)\n"
		"  -Q, --quota WHAT=N      memory: bytes a domain may hold (its nodes, open\n"
		"                          transactions, watches and queued replies;\n"
		"                          default 2621440); transaction-nodes: nodes one\n"
		"                          transaction may touch (default 1024)\n"
		"  -q, --quota-soft memory=N\n"
		"                          warn once when a domain holds more (default 2097152)\n"
		"  -h, --help              this text\n");
}

static unsigned int num_arg(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > 1000000) {
		fprintf(stderr, "xmstored: invalid value for %s: '%s'\n", opt, s);
		exit(2);
	}
	return (unsigned int)v;
}

struct opts {
	const char *sock, *pidfile, *logfile, *chan, *tracefile;
	bool fg, no_journal;
	int verbose;
	struct journal_opts jr;
};

enum { OPT_NO_JOURNAL = 256, OPT_COMPACT_SIZE };

static size_t size_arg(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > (1ULL << 40)) {
		fprintf(stderr, "xmstored: invalid value for %s: '%s'\n", opt, s);
		exit(2);
	}
	return (size_t)v;
}

/* -Q/--quota and -q/--quota-soft WHAT=N, with Xen's names. */
static int quota_arg(struct daemon *d, bool soft, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *opt = soft ? "--quota-soft" : "--quota";
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	if (eq && klen == 6 && strncmp(arg, "memory", 6) == 0) {
		long v = (long)size_arg(opt, eq + 1);
		*(soft ? &d->mem_soft : &d->mem_hard) = v;
		return 0;
	}
	if (eq && !soft && klen == 17 && strncmp(arg, "transaction-nodes", 17) == 0) {
		d->store.q.tx_nodes = num_arg(opt, eq + 1);
		return 0;
	}
	fprintf(stderr, "xmstored: %s %s: want %s=N\n", opt, arg,
		soft ? "memory" : "memory or transaction-nodes");
	return -1;
}

/* The sockets: PATH read-write, PATH_ro read-only, domain channels. */
struct socks {
	char dir[4096], ro[4200], chan[4200];
	int rw_fd, ro_fd;
};

/* The options into o and d's limits: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct daemon *d, struct opts *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "channel-dir", required_argument, NULL, 'c' },
		{ "no-fork", no_argument, NULL, 'N' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "pid-file", required_argument, NULL, 'F' },
		{ "log", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "trace-file", required_argument, NULL, 'T' },
		{ "journal-dir", required_argument, NULL, 'J' },
		{ "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
		{ "compact-size", required_argument, NULL, OPT_COMPACT_SIZE },
		{ "entry-nb", required_argument, NULL, 'E' },
		{ "entry-size", required_argument, NULL, 'S' },
		{ "watch-nb", required_argument, NULL, 'W' },
		{ "transaction", required_argument, NULL, 't' },
		{ "perm-nb", required_argument, NULL, 'A' },
		{ "path-max", required_argument, NULL, 'M' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "quota-soft", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:c:NfF:l:VT:J:E:S:W:t:A:M:Q:q:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->sock = optarg; break;
		case 'c': o->chan = optarg; break;
		case 'N': case 'f': o->fg = true; break;
		case 'F': o->pidfile = optarg; break;
		case 'l': o->logfile = optarg; break;
		case 'V': o->verbose = LOG_DEBUG_; break;
		case 'T': o->tracefile = optarg; break;
		case 'J': o->jr.dir = optarg; break;
		case OPT_NO_JOURNAL: o->no_journal = true; break;
		case OPT_COMPACT_SIZE: o->jr.compact_min = size_arg("--compact-size", optarg); break;
		case 'E': d->store.q.nodes = num_arg("--entry-nb", optarg); break;
		case 'S': d->store.q.node_size = num_arg("--entry-size", optarg); break;
		case 'W': d->max_watches = num_arg("--watch-nb", optarg); break;
		case 't': d->max_txs = num_arg("--transaction", optarg); break;
		case 'A': d->store.q.perms = num_arg("--perm-nb", optarg); break;
		case 'M': d->store.q.path_rel = num_arg("--path-max", optarg); break;
		case 'Q': case 'q':
			if (quota_arg(d, c == 'q', optarg) < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xmstored: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!o->sock || !*o->sock)
		o->sock = "/run/xenstored/socket";
	return -1;
}

/* The log (stderr without one) and the trace file. 0, or 1 when one of
 * them cannot be opened. */
static int open_files(struct daemon *d, const struct opts *o, FILE **lf)
{
	*lf = NULL;
	if (o->logfile && !(*lf = fopen(o->logfile, "a"))) {
		fprintf(stderr, "xmstored: cannot open log %s: %s\n", o->logfile, strerror(errno));
		return 1;
	}
	log_open("xmstored", *lf, o->verbose);
	if (o->tracefile && !(d->trace = fopen(o->tracefile, "a"))) {
		log_err("cannot open trace file %s: %s", o->tracefile, strerror(errno));
		if (*lf)
			fclose(*lf);
		*lf = NULL;
		return 1;
	}
	return 0;
}

/* Where the sockets go: PATH_ro beside PATH; the channels in
 * <socket dir>/domains unless -c says. */
static void socket_paths(struct socks *s, struct opts *o)
{
	snprintf(s->dir, sizeof(s->dir), "%s", o->sock);
	dirname(s->dir);
	snprintf(s->ro, sizeof(s->ro), "%s_ro", o->sock);
	if (!o->chan) {
		snprintf(s->chan, sizeof(s->chan), "%s/domains", s->dir);
		o->chan = s->chan;
	}
	if (!o->jr.dir)
		o->jr.dir = s->dir;
}

/* Take the pid file: 0, or -1 (logged: who holds it). It stays ours across
 * daemonize (the flock goes with the open file; the child's pid is
 * written). */
static int take_pidfile(const char *path)
{
	long holder;
	if (pidfile_take(path, &holder) == 0)
		return 0;
	if (errno == EWOULDBLOCK && holder > 0)
		log_err("already running (pid %ld, %s)", holder, path);
	else if (errno == EWOULDBLOCK)
		log_err("already running (%s is locked by a process that has not written "
			"its pid yet)", path);
	else
		log_err("cannot write pid file %s: %s", path, strerror(errno));
	return -1;
}

/* The loop's epoll, the journal, the pid file, the sockets, detaching. 0, or -1
 * (logged). */
static int start(struct daemon *d, const struct opts *o, struct socks *s, bool keep_stderr)
{
	if (mkdir_p(s->dir) < 0) {
		log_err("cannot create %s: %s", s->dir, strerror(errno));
		return -1;
	}
	if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_err("epoll: %s", strerror(errno));
		return -1;
	}
	/* The tree first: a daemon refused its journal (another one holds
	 * it) must not take the sockets of the one running. */
	if (!o->no_journal && journal_open(d, &o->jr) < 0)
		return -1;
	/* The pid file next, and a socket somebody answers on is never taken
	 * over (with --no-journal, nothing else stops a second daemon). */
	if (o->pidfile && take_pidfile(o->pidfile) < 0)
		return -1;
	int probe = unix_connect(o->sock);
	if (probe >= 0) {
		close(probe);
		log_err("another XenStore daemon is serving %s: not taken over", o->sock);
		return -1;
	}
	if ((s->rw_fd = unix_listen(o->sock)) < 0 || (s->ro_fd = unix_listen(s->ro)) < 0) {
		log_err("cannot listen on %s: %s", s->rw_fd < 0 ? o->sock : s->ro,
			strerror(errno));
		return -1;
	}
	if (!o->fg && daemonize(keep_stderr) < 0) {
		log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (!o->fg)
		log_to_syslog(); /* without --log: nobody reads our stderr now */
	return 0;
}

/* Serve until SIGTERM or SIGINT: 0, or 1 if the loop failed. */
static int serve(struct daemon *d, const struct opts *o, const struct socks *s)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 1;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("listening on %s and %s; domain channels in %s (up to %ld descriptors)",
		 o->sock, s->ro, o->chan, raise_nofile());
	notify_ready("serving %s", o->sock);
	if (daemon_loop(d, s->rw_fd, s->ro_fd, &stop) < 0)
		log_err("event loop: %s", strerror(errno));
	else
		rc = 0;
	notify_stopping();
	log_info("shutting down");
	return rc;
}

/* Everything undone; the pid file stays after a failure. */
static void finish(struct daemon *d, const struct opts *o, const struct socks *s, int rc,
		   FILE *lf)
{
	journal_close(d);
	core_fini(d);
	if (s->rw_fd >= 0) {
		close(s->rw_fd);
		unlink(o->sock);
	}
	if (s->ro_fd >= 0) {
		close(s->ro_fd);
		unlink(s->ro);
	}
	if (d->epfd > 0)
		close(d->epfd);
	if (o->pidfile && rc == 0)
		unlink(o->pidfile);
	if (d->trace)
		fclose(d->trace);
	if (lf)
		fclose(lf);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	static struct socks s = { .rw_fd = -1, .ro_fd = -1 };
	struct opts o = { .sock = getenv("XENSTORED_PATH"), .verbose = LOG_INFO_ };
	FILE *lf = NULL;

	if (core_init(&d) < 0) {
		fprintf(stderr, "xmstored: out of memory\n");
		return 1;
	}
	int rc = parse_args(argc, argv, &d, &o);
	if (rc >= 0 || (rc = open_files(&d, &o, &lf)) != 0) {
		core_fini(&d);
		return rc;
	}
	socket_paths(&s, &o);
	d.chan_dir = o.chan;
	rc = start(&d, &o, &s, lf == NULL) < 0 ? 1 : serve(&d, &o, &s);
	finish(&d, &o, &s, rc, lf);
	return rc;
}
