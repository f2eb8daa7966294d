/*
 * spawn.h — how the timing helpers start the command they time.
 */
#ifndef BENCH_SPAWN_H
#define BENCH_SPAWN_H

#include <sys/types.h>

/* Start argv (argv[0] looked up in PATH) with stdin on /dev/null, stdout
 * on out_fd (-1: /dev/null) and stderr on err_fd (-1: this process's).
 * The pid, or -1 with errno set (also when argv[0] cannot be run). */
pid_t bench_spawn(char *const *argv, int out_fd, int err_fd);

#endif
