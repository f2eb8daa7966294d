/*
 * fuzz_xsc.c — libFuzzer target: the XenStore event-stream reader of
 * lib/xsbatch.h, fed the input as a XenStore daemon's side of a socketpair
 * would send it, then EOF. The first byte picks the reader: xmbackd's loop
 * (xsc_next), xm's wait for watch events (xsc_wait), or a request and its
 * reply with events in between (xsc_call, then xsc_wait). Each must end at
 * the EOF, with messages of at most XENSTORE_PAYLOAD_MAX bytes.
 */
#include "wire.h"
#include "xsbatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tokens[] = { "backend", "frontend", "error", "" };
static const char path[] = "/local/domain/1/device/vbd";

static void read_stream(struct xsc *c)
{
	struct xsd_sockmsg h;
	const char *body;
	int r;

	while ((r = xsc_next(c, true, &h, &body)) >= 0)
		if (r == 1 && (h.len > XENSTORE_PAYLOAD_MAX || (h.len && !body)))
			abort();
}

static void wait_events(struct xsc *c)
{
	int r;

	while ((r = xsc_wait(c, 1000)) > 0)
		if ((unsigned int)r >= 1u << (sizeof(tokens) / sizeof(tokens[0])))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	struct xsc c;
	struct xsb_reply r;

	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	/* the input fits the socket's buffer (libFuzzer's -max_len in run.sh) */
	for (size_t off = 1; off < size;) {
		ssize_t w = send(sv[1], data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(sv[1], SHUT_WR);
	if (xsc_init(&c, sv[0], tokens, sizeof(tokens) / sizeof(tokens[0])) < 0)
		abort();
	switch (data[0] % 3) {
	case 0:
		read_stream(&c);
		break;
	case 1:
		wait_events(&c);
		break;
	default:
		if (xsc_call(&c, XS_READ, 0, path, sizeof(path), &r) == 0)
			free(r.body);
		wait_events(&c);
	}
	xsc_close(&c);
	close(sv[1]);
	return 0;
}
