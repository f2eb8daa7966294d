/* wire.c — XenStore wire framing; see wire.h. */
#include "wire.h"
#include "util.h"

#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/uio.h>

static const char *const type_names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

const char *wire_type_name(uint32_t type)
{
	return type < XS_TYPE_COUNT ? type_names[type] : NULL;
}

const char *wire_error_string(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

int wire_error_num(const char *s)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(xsd_errors[i].errstring, s) == 0)
			return xsd_errors[i].errnum;
	return EINVAL;
}

size_t wire_in_pending(const struct wire_in *in)
{
	return in->end - in->start;
}

enum wire_status wire_in_fill(struct wire_in *in, int fd)
{
	if (in->start == in->end) {
		in->start = in->end = 0;
	} else if (in->start > 0 && sizeof(in->buf) - in->end < WIRE_MSG_MAX) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == sizeof(in->buf))
		return WIRE_AGAIN; /* full: consume messages first */
	ssize_t n = read(fd, in->buf + in->end, sizeof(in->buf) - in->end);
	if (n == 0)
		return WIRE_EOF;
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? WIRE_AGAIN : WIRE_ERR;
	in->end += (size_t)n;
	return WIRE_OK;
}

enum wire_status wire_in_next(struct wire_in *in, struct xsd_sockmsg *hdr,
			      const char **body)
{
	size_t avail = in->end - in->start;

	if (avail < WIRE_HDR_LEN)
		return WIRE_AGAIN;
	memcpy(hdr, in->buf + in->start, WIRE_HDR_LEN);
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return WIRE_PROTO;
	if (avail < WIRE_HDR_LEN + hdr->len)
		return WIRE_AGAIN;
	*body = in->buf + in->start + WIRE_HDR_LEN;
	in->start += WIRE_HDR_LEN + hdr->len;
	return WIRE_OK;
}

int wire_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *body, size_t len)
{
	char buf[WIRE_MSG_MAX];
	struct xsd_sockmsg h = { type, req_id, tx_id, (uint32_t)len };

	if (len > XENSTORE_PAYLOAD_MAX) {
		errno = E2BIG;
		return -1;
	}
	memcpy(buf, &h, WIRE_HDR_LEN);
	if (len)
		memcpy(buf + WIRE_HDR_LEN, body, len);
	return write_full(fd, buf, WIRE_HDR_LEN + len);
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;
	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int wire_recv(int fd, struct xsd_sockmsg *hdr, char **body)
{
	*body = NULL;
	if (read_all(fd, hdr, WIRE_HDR_LEN) < 0)
		return -1;
	if (hdr->len > XENSTORE_PAYLOAD_MAX) {
		errno = EPROTO;
		return -1;
	}
	char *b = malloc(hdr->len + 1);
	if (!b)
		return -1;
	if (read_all(fd, b, hdr->len) < 0) {
		free(b);
		return -1;
	}
	b[hdr->len] = '\0';
	*body = b;
	return 0;
}

int wire_split(const char *body, size_t len, const char **v, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		const char *z = memchr(body + i, '\0', len - i);
		if (!z)
			break;
		if (n < max)
			v[n] = body + i;
		n++;
		i = (size_t)(z - body) + 1;
	}
	return n;
}

size_t wire_pack(char *buf, size_t cap, const char *const *v, int n, bool last_nul)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += strlen(v[i]) + (i < n - 1 || last_nul);
	if (len > cap)
		return len;
	char *p = buf;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + (i < n - 1 || last_nul);
		if (l)
			memcpy(p, v[i], l);
		p += l;
	}
	return len;
}
