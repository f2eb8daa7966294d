/*
 * fakeqmp — a QMP monitor that misbehaves, put in place of a guest's
 * qmp.sock by tests/guest/isolation.sh (the QEMU behind it runs on):
 *
 *   fakeqmp mute SOCKET      greets, accepts qmp_capabilities, then reads
 *                            every command and answers none (a QEMU whose
 *                            monitor hangs after the handshake)
 *   fakeqmp garbage SOCKET   greets, then answers every line it is sent
 *                            with bytes that are no QMP (broken JSON, a
 *                            NUL, an endless line's start)
 *   fakeqmp endless SOCKET   greets, accepts qmp_capabilities, then
 *                            answers the next command with a line that
 *                            never ends (bytes until the client hangs up)
 *   fakeqmp pings SOCKET     greets, accepts qmp_capabilities, answers
 *                            query-chardev and query-status (xmbackd's
 *                            pings: a QEMU that seems alive, its agent
 *                            connected) and no other command (a QEMU
 *                            whose monitor answers some commands and hangs
 *                            on others: the reconcile's questions, a
 *                            hot-plug's)
 *   fakeqmp stale SOCKET     a proxy to the real monitor, moved to
 *                            SOCKET.real: passes every command (and
 *                            add-fd's descriptors) and every answer at
 *                            once, but holds the answers to the
 *                            reconcile's questions (qom-list, query-block,
 *                            query-named-block-nodes, query-fdsets) for
 *                            2 s: the view xmbackd reads is QEMU's as it
 *                            was when asked, told late. SOCKET.held exists
 *                            while an answer is held; SOCKET.views counts
 *                            the qom-lists answered (views begun)
 *   fakeqmp slow SOCKET      the same proxy, but what it holds 2 s are the
 *                            answers to the commands that change QEMU
 *                            after the fact: device_del, netdev_del,
 *                            blockdev-del, remove-fd, closefd, eject,
 *                            blockdev-change-medium (a QEMU that answers
 *                            its pings and the reconcile at once, and is
 *                            slow to carry out a teardown, a repair or a
 *                            media change). SOCKET.held as above
 *
 * One client at a time, as QEMU's monitor; runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MS 2000
#define MAX_HELD 256

static const char greeting[] =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";

static void say(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

enum mode { MUTE, GARBAGE, ENDLESS, PINGS, STALE, SLOW };

static void endless(int fd)
{
	char chunk[65536];
	memset(chunk, 'x', sizeof(chunk));
	for (;;)
		if (write(fd, chunk, sizeof(chunk)) <= 0)
			return;
}

/* The answer to one command line, in mode pings: the handshake's and the
 * pings', nothing to any other. */
static void answer_ping(int fd, const char *line)
{
	const char *id = strstr(line, "\"id\":");
	const char *ret = strstr(line, "\"qmp_capabilities\"") ? "{}" :
			  strstr(line, "\"query-status\"") ?
				  "{\"status\": \"running\", \"singlestep\": false, \"running\": true}" :
			  strstr(line, "\"query-chardev\"") ?
				  "[{\"frontend-open\": true, \"filename\": \"unix:\", \"label\": \"xenbus\"}]" :
				  NULL;
	char reply[256];
	if (!ret)
		return;
	int len = snprintf(reply, sizeof(reply), "{\"return\": %s, \"id\": %ld}\r\n", ret,
			   id ? strtol(id + 5, NULL, 10) : 0L);
	say(fd, reply, (size_t)len);
}

/* Mode pings: line by line (commands come back to back). */
static void serve_pings(int fd)
{
	char buf[65536];
	size_t have = 0;
	say(fd, greeting, sizeof(greeting) - 1);
	for (;;) {
		char *nl;
		while ((nl = memchr(buf, '\n', have))) {
			*nl = '\0';
			answer_ping(fd, buf);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf) - 1)
			have = 0; /* a line too long for a command: dropped */
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		buf[have] = '\0';
	}
}

/* --- mode stale --------------------------------------------------------- */

/* The commands whose answers are held, in mode stale: the reconcile's
 * questions (xmbackd/qview.c): 1 (qom-list: a view begins), 2 (the
 * others), or 0 (not held: qom-get, asked once qom-list has answered, and
 * every other command). In mode slow: 2 for the changes after the fact
 * (a teardown's, a repair's, a media change's), else 0. */
static int held_command(const char *line, bool slow)
{
	static const char *const asked[] = { "qom-list", "query-block", "query-named-block-nodes",
					     "query-fdsets" };
	static const char *const changes[] = { "device_del", "netdev_del", "blockdev-del",
					       "remove-fd", "closefd", "eject",
					       "blockdev-change-medium" };
	const char *const *set = slow ? changes : asked;
	size_t n = slow ? sizeof(changes) / sizeof(changes[0]) : sizeof(asked) / sizeof(asked[0]);
	char want[64];
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "\"execute\":\"%s\"", set[i]);
		if (strstr(line, want))
			return i == 0 && !slow ? 1 : 2;
	}
	return 0;
}

/* The number after the first (first) or last "id": of line that has one
 * (a command's id comes first, an answer's last), or -1. */
static long line_id(const char *line, bool first)
{
	const char *p = NULL, *q = line;
	while ((q = strstr(q, "\"id\":"))) {
		const char *v = q + 5;
		while (*v == ' ')
			v++;
		if (*v >= '0' && *v <= '9') {
			p = v;
			if (first)
				break;
		}
		q = v;
	}
	return p ? strtol(p, NULL, 10) : -1;
}

struct held {
	long long at; /* when it goes out, ms */
	char *line;
};

struct stale {
	bool slow;          /* mode slow: the changes' answers held, not the questions' */
	int cl, qemu;
	const char *marker, *counter;
	long ids[MAX_HELD]; /* the questions' ids, answers not seen yet */
	bool list[MAX_HELD]; /* ... that one is a qom-list */
	unsigned int nids;
	unsigned long views; /* qom-list answers held: views begun */
	struct held held[MAX_HELD];
	unsigned int nheld;
	char in[65536], out[65536]; /* partial lines: the client's, QEMU's */
	size_t nin, nout;
};

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void marker(const struct stale *s)
{
	if (s->nheld) {
		int fd = open(s->marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	} else {
		unlink(s->marker);
	}
}

/* One more view begun: its count in the counter file. */
static void count_view(struct stale *s)
{
	char n[32];
	int len = snprintf(n, sizeof(n), "%lu\n", ++s->views);
	int fd = open(s->counter, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		say(fd, n, (size_t)len);
		close(fd);
	}
}

/* Client to QEMU: the bytes as they came, with any descriptors (add-fd's);
 * the questions among the lines noted. 0, or -1 when either side is gone. */
static int client_to_qemu(struct stale *s)
{
	char buf[8192];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(s->cl, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	int fds[8], nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; CMSG_LEN(sizeof(int) * (i + 1)) <= c->cmsg_len && nfds < 8; i++)
				memcpy(&fds[nfds++], CMSG_DATA(c) + sizeof(int) * i, sizeof(int));
	struct iovec oiov = { buf, (size_t)n };
	struct msghdr om = { .msg_iov = &oiov, .msg_iovlen = 1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} octl;
	if (nfds) {
		om.msg_control = &octl;
		om.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&om);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ssize_t w = sendmsg(s->qemu, &om, MSG_NOSIGNAL);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (w != n)
		return -1; /* (a short write of a command is not worth more here) */
	for (ssize_t i = 0; i < n; i++) {
		if (s->nin == sizeof(s->in) - 1)
			s->nin = 0; /* an endless line: not a command */
		s->in[s->nin++] = buf[i];
		if (buf[i] != '\n')
			continue;
		s->in[s->nin] = '\0';
		long id = line_id(s->in, true);
		int q = held_command(s->in, s->slow);
		if (id >= 0 && q && s->nids < MAX_HELD) {
			s->list[s->nids] = q == 1;
			s->ids[s->nids++] = id;
		}
		s->nin = 0;
	}
	return 0;
}

/* QEMU to the client: each line at once, but an answer to a question,
 * which is held for HOLD_MS. 0 or -1. */
static int qemu_to_client(struct stale *s)
{
	ssize_t n = read(s->qemu, s->out + s->nout, sizeof(s->out) - 1 - s->nout);
	if (n <= 0)
		return -1;
	s->nout += (size_t)n;
	char *nl;
	while ((nl = memchr(s->out, '\n', s->nout))) {
		size_t len = (size_t)(nl + 1 - s->out);
		char save = s->out[len];
		s->out[len] = '\0';
		long id = line_id(s->out, false);
		bool hold = false, list = false;
		for (unsigned int i = 0; id >= 0 && i < s->nids && !hold; i++)
			if (s->ids[i] == id) {
				list = s->list[i];
				s->nids--;
				s->ids[i] = s->ids[s->nids];
				s->list[i] = s->list[s->nids];
				hold = s->nheld < MAX_HELD;
			}
		if (hold) {
			s->held[s->nheld++] = (struct held){ ms_now() + HOLD_MS, strdup(s->out) };
			marker(s);
			if (list)
				count_view(s);
		} else {
			say(s->cl, s->out, len);
		}
		s->out[len] = save;
		s->nout -= len;
		memmove(s->out, s->out + len, s->nout);
	}
	if (s->nout == sizeof(s->out) - 1)
		return -1;
	return 0;
}

/* The held answers that are due, in the order they came. */
static void release(struct stale *s)
{
	long long now = ms_now();
	unsigned int k = 0;
	for (unsigned int i = 0; i < s->nheld; i++) {
		if (s->held[i].at <= now && k == 0) {
			if (s->held[i].line)
				say(s->cl, s->held[i].line, strlen(s->held[i].line));
			free(s->held[i].line);
		} else {
			s->held[k++] = s->held[i];
		}
	}
	if (k != s->nheld) {
		s->nheld = k;
		marker(s);
	}
}

static void serve_stale(int cl, const char *real, const char *mark, const char *counter,
			bool slow)
{
	static struct stale s;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned long views = s.views; /* (counted on over connections) */
	memset(&s, 0, sizeof(s));
	s.slow = slow;
	s.cl = cl;
	s.marker = mark;
	s.counter = counter;
	s.views = views;
	if (strlen(real) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fakeqmp: %s: path too long\n", real);
		return;
	}
	memcpy(sa.sun_path, real, strlen(real) + 1);
	s.qemu = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.qemu < 0 || connect(s.qemu, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "fakeqmp: %s: %s\n", real, strerror(errno));
		if (s.qemu >= 0)
			close(s.qemu);
		return;
	}
	for (;;) {
		int wait = -1;
		if (s.nheld) {
			long long d = s.held[0].at - ms_now();
			wait = d < 0 ? 0 : (int)d;
		}
		struct pollfd p[2] = { { .fd = cl, .events = POLLIN }, { .fd = s.qemu, .events = POLLIN } };
		if (poll(p, 2, wait) < 0 && errno != EINTR)
			break;
		if ((p[0].revents && client_to_qemu(&s) < 0) || (p[1].revents && qemu_to_client(&s) < 0))
			break;
		release(&s);
	}
	for (unsigned int i = 0; i < s.nheld; i++)
		free(s.held[i].line);
	s.nheld = 0;
	marker(&s);
	close(s.qemu);
}

static void serve(int fd, enum mode mode)
{
	if (mode == PINGS) {
		serve_pings(fd);
		return;
	}
	static const char junk[] = "}{\"return\": [1, 2\r\n\x01\x02\xff not json at all\r\n"
				   "{\"id\": \"x\", \"return\"\0 {{{{{{{{";
	char buf[4097];
	int lines = 0;
	say(fd, greeting, sizeof(greeting) - 1);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			return;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n')
				continue;
			lines++;
			if (mode == GARBAGE) {
				say(fd, junk, sizeof(junk) - 1);
			} else if (mode == ENDLESS && lines == 2) {
				endless(fd);
				return;
			} else if (lines == 1) { /* qmp_capabilities, answered; then silence */
				const char *id = strstr(buf, "\"id\":");
				char reply[96];
				int len = snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %ld}\r\n",
						   id ? strtol(id + 5, NULL, 10) : 0L);
				say(fd, reply, (size_t)len);
			}
		}
	}
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "mute", "garbage", "endless", "pings", "stale",
					     "slow" };
	int mode = -1;
	for (int i = 0; argc == 3 && i < 6; i++)
		if (strcmp(argv[1], modes[i]) == 0)
			mode = i;
	if (mode < 0) {
		fputs("usage: fakeqmp mute|garbage|endless|pings|stale|slow SOCKET\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(argv[2]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fakeqmp: %s: path too long\n", argv[2]);
		return 1;
	}
	memcpy(sa.sun_path, argv[2], strlen(argv[2]) + 1);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(argv[2]);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0) {
		fprintf(stderr, "fakeqmp: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (;;) {
		int fd = accept(l, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (mode == STALE || mode == SLOW) {
			char real[sizeof(sa.sun_path) + 8], mark[sizeof(sa.sun_path) + 8];
			char counter[sizeof(sa.sun_path) + 8];
			snprintf(real, sizeof(real), "%s.real", argv[2]);
			snprintf(mark, sizeof(mark), "%s.held", argv[2]);
			snprintf(counter, sizeof(counter), "%s.views", argv[2]);
			serve_stale(fd, real, mark, counter, mode == SLOW);
		} else {
			serve(fd, (enum mode)mode);
		}
		close(fd);
	}
}
