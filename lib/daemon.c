/* daemon.c — detaching and the pid file; see daemon.h. */
#include "daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

int daemonize(bool keep_stderr)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		if (!keep_stderr)
			dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	return 0;
}

long pidfile_live(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && kill((pid_t)pid, 0) == 0 ? pid : 0;
}

int pidfile_write(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

int pidfile_take(const char *path, long *holder)
{
	long pid = pidfile_live(path);
	*holder = 0;
	if (pid > 0 && pid != (long)getpid()) {
		*holder = pid;
		return -1;
	}
	return pidfile_write(path);
}
