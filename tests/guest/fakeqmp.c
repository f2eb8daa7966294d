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
 *
 * One client at a time, as QEMU's monitor; runs until killed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

enum mode { MUTE, GARBAGE, ENDLESS, PINGS };

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
	static const char *const modes[] = { "mute", "garbage", "endless", "pings" };
	int mode = -1;
	for (int i = 0; argc == 3 && i < 4; i++)
		if (strcmp(argv[1], modes[i]) == 0)
			mode = i;
	if (mode < 0) {
		fputs("usage: fakeqmp mute|garbage|endless|pings SOCKET\n", stderr);
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
		serve(fd, (enum mode)mode);
		close(fd);
	}
}
