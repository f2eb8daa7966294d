/*
 * trace.c — xmstored's message trace. A line:
 *
 *   2026-11-25T20:46:35.248503Z IN  d1/fd9 READ 12 0 device/vbd/51728/state
 *
 * time (UTC), direction, connection (domain / descriptor), type, req_id,
 * tx_id, the payload's strings joined by spaces (bytes outside printable
 * ASCII as '.', cut at 200). One fprintf + fflush per line: the file can be
 * followed while the daemon runs.
 */
#include "trace.h"
#include "core.h"
#include "wire.h"

#include <time.h>

static void stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

void trace_msg(FILE *f, const char *dir, const struct conn *c, uint32_t type, uint32_t req_id,
	       uint32_t tx_id, const char *body, size_t len)
{
	char t[96], text[204], tn[16];
	size_t n = 0;
	const char *name = wire_type_name(type);

	if (!f)
		return;
	if (!name) {
		snprintf(tn, sizeof(tn), "type%u", type);
		name = tn;
	}
	/* the payload's final NUL separates nothing */
	if (len && body[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len && n < 200; i++) {
		unsigned char ch = (unsigned char)body[i];
		text[n++] = ch == '\0' ? ' ' : ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
	}
	text[n] = '\0';
	stamp(t, sizeof(t));
	fprintf(f, "%s %-3s d%u/fd%d %s %u %u %s%s\n", t, dir, c->who.domid, c->fd, name, req_id,
		tx_id, text, len > n ? "..." : "");
	fflush(f);
}

void trace_conn(FILE *f, const char *what, const struct conn *c)
{
	char t[96];
	if (!f)
		return;
	stamp(t, sizeof(t));
	fprintf(f, "%s %-3s d%u/fd%d\n", t, what, c->who.domid, c->fd);
	fflush(f);
}
