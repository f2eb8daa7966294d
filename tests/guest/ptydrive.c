/*
 * ptydrive — run a command on a pseudo-terminal and drive it as a user
 * would, from a script on stdin (for testing `xm console`):
 *
 *   expect TEXT   wait until the output shows TEXT (after the last match)
 *   send TEXT     type TEXT and Enter
 *   type TEXT     type TEXT alone (no Enter: for completion)
 *   raw HEX       type one byte (raw 1d = Ctrl-])
 *   wait          wait for the command to end; its status is ours
 *
 * usage: ptydrive TIMEOUT_SECONDS COMMAND [ARG...]
 * Exit: 0 when every step worked, 1 (with a message) otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char seen[1 << 16];
static size_t nseen, mark;
static int master;
static long deadline;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read what the command printed, up to ms. -1 on EOF. */
static int pump(int ms)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return 0;
	char buf[4096];
	ssize_t n = read(master, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	fwrite(buf, 1, (size_t)n, stderr); /* the transcript, for the test log */
	if (nseen + (size_t)n >= sizeof(seen)) { /* keep the tail */
		size_t keep = sizeof(seen) / 2;
		memmove(seen, seen + nseen - keep, keep);
		mark = mark > nseen - keep ? mark - (nseen - keep) : 0;
		nseen = keep;
	}
	for (ssize_t i = 0; i < n; i++) /* a bell (readline's "ambiguous") is not text */
		if (buf[i] != '\a')
			seen[nseen++] = buf[i];
	return 1;
}

static int expect(const char *text)
{
	for (;;) {
		seen[nseen] = '\0';
		char *hit = memmem(seen + mark, nseen - mark, text, strlen(text));
		if (hit) {
			mark = (size_t)(hit - seen) + strlen(text);
			return 0;
		}
		long left = deadline - now_ms();
		if (left <= 0 || pump((int)(left > 200 ? 200 : left)) < 0) {
			fprintf(stderr, "\nptydrive: did not see \"%s\"\n", text);
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ptydrive TIMEOUT_SECONDS COMMAND [ARG...]\n");
		return 2;
	}
	deadline = now_ms() + atol(argv[1]) * 1000L;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	char line[4096];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "expect ", 7) == 0) {
			rc = expect(line + 7);
		} else if (strncmp(line, "send ", 5) == 0) {
			size_t n = strlen(line + 5);
			line[5 + n] = '\r';
			rc = write(master, line + 5, n + 1) == (ssize_t)(n + 1) ? 0 : 1;
		} else if (strncmp(line, "type ", 5) == 0) {
			size_t n = strlen(line + 5);
			rc = write(master, line + 5, n) == (ssize_t)n ? 0 : 1;
		} else if (strncmp(line, "raw ", 4) == 0) {
			char b = (char)strtol(line + 4, NULL, 16);
			rc = write(master, &b, 1) == 1 ? 0 : 1;
		} else if (strcmp(line, "wait") == 0) {
			int st;
			while (pump(100) >= 0 && waitpid(pid, &st, WNOHANG) == 0)
				if (now_ms() > deadline) {
					fprintf(stderr, "\nptydrive: command did not end\n");
					kill(pid, SIGKILL);
					return 1;
				}
			if (waitpid(pid, &st, 0) == pid || errno == ECHILD)
				return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
			return 1;
		} else if (line[0] && line[0] != '#') {
			fprintf(stderr, "ptydrive: bad step: %s\n", line);
			rc = 1;
		}
	}
	/* a hang-up, as when a terminal goes away: an interactive bash ignores
	 * SIGTERM */
	kill(pid, SIGHUP);
	pid_t r = 0;
	for (int i = 0; i < 20 && (r = waitpid(pid, NULL, WNOHANG)) == 0; i++)
		usleep(50000);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return rc;
}
