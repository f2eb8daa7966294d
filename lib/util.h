/* util.h — logging and small helpers shared by the programs. */
#ifndef XM_UTIL_H
#define XM_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <sys/types.h>

enum log_level { LOG_ERR_ = 0, LOG_WARN_ = 1, LOG_INFO_ = 2, LOG_DEBUG_ = 3 };

/* Where log lines go (default stderr: with a time stamp, or as "<N>line"
 * when stderr is journald's stream, JOURNAL_STREAM) and how much. */
void log_open(const char *prog, FILE *f, int level);
/* Log to syslog(3) (facility daemon) from now on, unless log_open was given
 * a FILE: what a daemon that detached does without --log. */
void log_to_syslog(void);
/* Change only the level. */
void log_set_level(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_ERR_, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN_, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO_, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG_, __VA_ARGS__)

/* Make every missing directory of path (like mkdir -p), mode 0755. 0 or -1. */
int mkdir_p(const char *path);
/* Read a small (sysfs, /proc) file into buf, without trailing white space.
 * 0 or -1 (errno). */
int read_small_file(const char *path, char *buf, size_t len);
/* Write all n bytes (EINTR and short writes retried; on a socket with
 * MSG_NOSIGNAL: a peer gone is -1 with EPIPE, not SIGPIPE). 0 or -1. */
int write_full(int fd, const void *buf, size_t n);
/* Milliseconds of CLOCK_MONOTONIC (deadlines, timers). */
long now_ms(void);
/* CLOCK_MONOTONIC in microseconds. */
long long now_us(void);
/* Set O_NONBLOCK and FD_CLOEXEC. 0 or -1. */
int fd_nonblock(int fd);
/* The real uid /proc gives process pid, or (uid_t)-1. */
uid_t proc_uid(pid_t pid);
/* The last line of file path, without trailing white space, in line ("" if
 * none or unreadable): a program's last word in its log. */
void file_last_line(const char *path, char *line, size_t len);

#endif
