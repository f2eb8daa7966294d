/* outq.c — the framed output queue; see outq.h. */
#include "outq.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUTQ_FIRST 4096
#define OUTQ_KEEP (256 * 1024) /* more than this is freed once drained */

/* Room for need more bytes: the written part moved out first, then the
 * buffer doubled until they fit. 0 or -1. */
static int reserve(struct outq *q, size_t need)
{
	if (q->len + need <= q->cap)
		return 0;
	if (q->off) {
		memmove(q->buf, q->buf + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
		if (q->len + need <= q->cap)
			return 0;
	}
	size_t cap = q->cap ? q->cap : OUTQ_FIRST;
	while (cap < q->len + need)
		cap *= 2;
	char *b = realloc(q->buf, cap);
	if (!b)
		return -1;
	q->buf = b;
	q->cap = cap;
	return 0;
}

int outq_put(struct outq *q, const struct xsd_sockmsg *h, const void *body)
{
	size_t need = WIRE_HDR_LEN + h->len;

	if (q->off == q->len)
		q->off = q->len = 0;
	if (reserve(q, need) < 0)
		return -1;
	memcpy(q->buf + q->len, h, WIRE_HDR_LEN);
	if (h->len)
		memcpy(q->buf + q->len + WIRE_HDR_LEN, body, h->len);
	q->len += need;
	return 0;
}

size_t outq_size(const struct outq *q)
{
	return q->len - q->off;
}

const char *outq_data(const struct outq *q)
{
	return q->buf ? q->buf + q->off : "";
}

void outq_clear(struct outq *q)
{
	q->off = q->len = 0;
}

/* One write of what is waiting: send(2) on a socket (no SIGPIPE, never
 * blocking), write(2) on anything else (remembered after the first try). */
static ssize_t write_some(struct outq *q, int fd)
{
	if (!q->not_sock) {
		ssize_t n = send(fd, q->buf + q->off, q->len - q->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		q->not_sock = true;
	}
	return write(fd, q->buf + q->off, q->len - q->off);
}

int outq_flush(struct outq *q, int fd)
{
	while (q->off < q->len) {
		ssize_t n = write_some(q, fd);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 1 : -1;
		}
		q->off += (size_t)n;
	}
	q->off = q->len = 0;
	if (q->cap > OUTQ_KEEP) /* give back a burst's memory */
		outq_free(q);
	return 0;
}

void outq_free(struct outq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->off = q->len = q->cap = 0;
}
