/*
 * main.c — xmstored: options, sockets, pid file, signals, the loop.
 */
#include "core.h"
#include "domain.h"
#include "sock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
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
		"  -l, --log FILE          log to FILE (default: stderr)\n"
		"  -V, --verbose           log every connection and domain event\n"
		"  -T, --trace-file FILE   trace every message in and out to FILE\n"
		"  -E, --entry-nb N        nodes per domain (default 1000)\n"
		"  -S, --entry-size N      bytes per node (default 2048)\n"
		"  -W, --watch-nb N        watches per domain (default 128)\n"
		"  -t, --transaction N     transactions per connection (default 10)\n"
		"  -A, --perm-nb N         permission entries per node (default 5)\n"
		"  -M, --path-max N        path length past /local/domain/N/ (default 2048)\n"
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

int main(int argc, char **argv)
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
		{ "entry-nb", required_argument, NULL, 'E' },
		{ "entry-size", required_argument, NULL, 'S' },
		{ "watch-nb", required_argument, NULL, 'W' },
		{ "transaction", required_argument, NULL, 't' },
		{ "perm-nb", required_argument, NULL, 'A' },
		{ "path-max", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct daemon d;
	const char *sock = getenv("XENSTORED_PATH");
	const char *pidfile = NULL, *logfile = NULL, *chan = NULL, *tracefile = NULL;
	bool fg = false;
	int verbose = LOG_INFO_, o;

	if (store_init(&d.store) < 0) {
		fprintf(stderr, "xmstored: out of memory\n");
		return 1;
	}
	d.max_watches = 128;
	d.max_txs = 10;
	d.out_max = 1024 * 1024;
	while ((o = getopt_long(argc, argv, "s:c:NfF:l:VT:E:S:W:t:A:M:h", opts, NULL)) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'c': chan = optarg; break;
		case 'N': case 'f': fg = true; break;
		case 'F': pidfile = optarg; break;
		case 'l': logfile = optarg; break;
		case 'V': verbose = LOG_DEBUG_; break;
		case 'T': tracefile = optarg; break;
		case 'E': d.store.q.nodes = num_arg("--entry-nb", optarg); break;
		case 'S': d.store.q.node_size = num_arg("--entry-size", optarg); break;
		case 'W': d.max_watches = num_arg("--watch-nb", optarg); break;
		case 't': d.max_txs = num_arg("--transaction", optarg); break;
		case 'A': d.store.q.perms = num_arg("--perm-nb", optarg); break;
		case 'M': d.store.q.path_rel = num_arg("--path-max", optarg); break;
		case 'h': usage(stdout); store_fini(&d.store); return 0;
		default: usage(stderr); store_fini(&d.store); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xmstored: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		store_fini(&d.store);
		return 2;
	}
	if (!sock || !*sock)
		sock = "/run/xenstored/socket";

	FILE *lf = NULL;
	if (logfile && !(lf = fopen(logfile, "a"))) {
		fprintf(stderr, "xmstored: cannot open log %s: %s\n", logfile, strerror(errno));
		store_fini(&d.store);
		return 1;
	}
	log_open("xmstored", lf, verbose);
	if (tracefile && !(d.trace = fopen(tracefile, "a"))) {
		log_err("cannot open trace file %s: %s", tracefile, strerror(errno));
		if (lf)
			fclose(lf);
		store_fini(&d.store);
		return 1;
	}

	char sockdir[4096], ro[4200], chanbuf[4200];
	snprintf(sockdir, sizeof(sockdir), "%s", sock);
	dirname(sockdir);
	snprintf(ro, sizeof(ro), "%s_ro", sock);
	if (!chan) {
		snprintf(chanbuf, sizeof(chanbuf), "%s/domains", sockdir);
		chan = chanbuf;
	}
	d.chan_dir = chan;
	d.store.domain_exists = domain_exists_cb;
	d.store.domain_ctx = &d;

	int rc = 1, rw_fd = -1, ro_fd = -1;
	if (mkdir_p(sockdir) < 0) {
		log_err("cannot create %s: %s", sockdir, strerror(errno));
		goto out;
	}
	if ((rw_fd = unix_listen(sock)) < 0 || (ro_fd = unix_listen(ro)) < 0) {
		log_err("cannot listen on %s: %s", rw_fd < 0 ? sock : ro, strerror(errno));
		goto out;
	}
	if ((d.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_err("epoll: %s", strerror(errno));
		goto out;
	}
	if (!fg) {
		pid_t pid = fork();
		if (pid < 0) {
			log_err("fork: %s", strerror(errno));
			goto out;
		}
		if (pid > 0)
			_exit(0);
		setsid();
		int nul = open("/dev/null", 2);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			if (lf)
				dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
	}
	if (pidfile) {
		FILE *pf = fopen(pidfile, "w");
		if (!pf) {
			log_err("cannot write pid file %s: %s", pidfile, strerror(errno));
			goto out;
		}
		fprintf(pf, "%d\n", (int)getpid());
		fclose(pf);
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("listening on %s and %s; domain channels in %s", sock, ro, chan);

	if (daemon_loop(&d, rw_fd, ro_fd, &stop) < 0)
		log_err("event loop: %s", strerror(errno));
	else
		rc = 0;
	log_info("shutting down");
out:
	while (d.conns)
		conn_close(&d, d.conns);
	domain_release_all(&d);
	events_free(&d.ev);
	store_fini(&d.store);
	if (rw_fd >= 0) {
		close(rw_fd);
		unlink(sock);
	}
	if (ro_fd >= 0) {
		close(ro_fd);
		unlink(ro);
	}
	if (d.epfd > 0)
		close(d.epfd);
	if (pidfile && rc == 0)
		unlink(pidfile);
	if (d.trace)
		fclose(d.trace);
	if (lf)
		fclose(lf);
	return rc;
}
