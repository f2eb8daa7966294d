/*
 * qmpbytes — what a QMP command's length costs (bench/qmpbytes.sh). QEMU
 * 7.2 reads a monitor's input one byte per system call, a turn of its
 * monitor thread's loop each: every byte xmbackd sends is CPU time of
 * QEMU's, before the command runs, on the host's CPUs that the guest's
 * vCPU needs too. This times query-status padded with an "id" of N bytes
 * (QEMU answers with the id, so it reads all of it), N from the command
 * line, against the unpadded command (the baseline, in the same run,
 * alternated). Prints, per N: the p50 round trip and the cost per byte.
 * Asserts nothing.
 *
 *   qmpbytes SOCKET ROUNDS N...
 *
 * A client of its own, not lib/qmp: lib/qmp's ids are numbers.
 */
#include "sock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "qmpbytes: %s: %s\n", what, errno ? strerror(errno) : "unexpected");
	exit(1);
}

/* One line from QEMU (the greeting, an answer); events are skipped. */
static void line(int fd, const char *want)
{
	static char buf[1 << 16];
	static size_t have;
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		if (nl) {
			size_t n = (size_t)(nl - buf) + 1;
			bool event = memmem(buf, n, "\"event\"", 7) != NULL;
			bool ok = !want || memmem(buf, n, want, strlen(want)) != NULL;
			memmove(buf, buf + n, have - n);
			have -= n;
			if (event)
				continue;
			if (!ok)
				die("QEMU's answer");
			return;
		}
		if (have == sizeof(buf))
			die("a line too long");
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			die("read");
		have += (size_t)r;
	}
}

static void say(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t w = write(fd, s, len);
		if (w <= 0)
			die("write");
		s += w;
		len -= (size_t)w;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One padded query-status (pad bytes of id): its round trip, seconds. */
static double round_trip(int fd, char *cmd, size_t pad)
{
	size_t len = (size_t)sprintf(cmd, "{\"execute\":\"query-status\",\"id\":\"");
	memset(cmd + len, 'x', pad);
	len += pad;
	len += (size_t)sprintf(cmd + len, "\"}\n");
	double t0 = now();
	say(fd, cmd, len);
	line(fd, "\"return\"");
	return now() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: qmpbytes SOCKET ROUNDS N...\n");
		return 2;
	}
	int rounds = atoi(argv[2]);
	if (rounds < 1)
		rounds = 1;
	int fd = unix_connect(argv[1]);
	if (fd < 0)
		die(argv[1]);
	line(fd, "\"QMP\"");
	say(fd, "{\"execute\":\"qmp_capabilities\"}\n", 31);
	line(fd, "\"return\"");
	double *base = calloc((size_t)rounds, sizeof(double));
	double *padded = calloc((size_t)rounds, sizeof(double));
	if (!base || !padded)
		die("memory");
	printf("%8s %14s %14s %12s\n", "id bytes", "round trip p50", "baseline p50", "us per byte");
	for (int a = 3; a < argc; a++) {
		size_t pad = (size_t)strtoul(argv[a], NULL, 10);
		char *cmd = malloc(pad + 64);
		if (!cmd)
			die("memory");
		for (int i = 0; i < rounds; i++) { /* alternated, so drift hits both */
			base[i] = round_trip(fd, cmd, 1);
			padded[i] = round_trip(fd, cmd, pad);
		}
		qsort(base, (size_t)rounds, sizeof(double), cmp);
		qsort(padded, (size_t)rounds, sizeof(double), cmp);
		double b = base[rounds / 2], p = padded[rounds / 2];
		printf("%8zu %11.3f ms %11.3f ms %12.2f\n", pad, p * 1e3, b * 1e3,
		       pad > 1 ? (p - b) * 1e6 / (double)(pad - 1) : 0.0);
		free(cmd);
	}
	free(base);
	free(padded);
	close(fd);
	return 0;
}
