/* notify.c — see notify.h. libsystemd's sd_notify does the protocol
 * (abstract and path sockets, credentials); this only words the lines. */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static void send_status(const char *head, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void send_status(const char *head, const char *fmt, va_list ap)
{
	char status[512];
	vsnprintf(status, sizeof(status), fmt, ap);
	/* a STATUS= value is one line */
	for (char *p = status; *p; p++)
		if (*p == '\n')
			*p = ' ';
	sd_notifyf(0, "%sSTATUS=%s", head, status);
}

void notify_ready(const char *fmt, ...)
{
	char head[64];
	va_list ap;
	snprintf(head, sizeof(head), "READY=1\nMAINPID=%ld\n", (long)getpid());
	va_start(ap, fmt);
	send_status(head, fmt, ap);
	va_end(ap);
}

void notify_status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_status("", fmt, ap);
	va_end(ap);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
