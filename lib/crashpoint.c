/* crashpoint.c — see crashpoint.h. Written by hand: fault injection this
 * small (a getenv and a compare) needs no library. */
#include "crashpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void note(const char *name)
{
	const char *log = getenv("XM_CRASH_LOG");
	if (!log || !*log)
		return;
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	/* one write: lines from several processes do not interleave */
	char line[256];
	size_t n = strlen(name);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	memcpy(line, name, n);
	line[n++] = '\n';
	ssize_t w = write(fd, line, n);
	(void)w;
	close(fd);
}

void crash_point(const char *name)
{
	static unsigned long passes; /* of the point named in XM_CRASH_AT */
	const char *at = getenv("XM_CRASH_AT");
	note(name);
	if (!at || !*at)
		return;
	size_t n = strlen(name);
	if (strncmp(at, name, n) != 0 || (at[n] != '\0' && at[n] != '@'))
		return;
	unsigned long want = at[n] == '@' ? strtoul(at + n + 1, NULL, 10) : 1;
	if (++passes != want)
		return;
	const char *how = getenv("XM_CRASH_HOW");
	kill(getpid(), how && strcmp(how, "stop") == 0 ? SIGSTOP : SIGKILL);
}
