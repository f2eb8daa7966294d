/*
 * wire.h — XenStore wire protocol framing (xen/io/xs_wire.h), shared by the
 * daemon (xmstored), the guest agent (xmfront) and the tests.
 *
 * A message is a 16-byte header (type, req_id, tx_id, len) followed by len
 * bytes of payload, len <= XENSTORE_PAYLOAD_MAX. The reader is incremental and
 * does no allocation: bytes are read into a fixed buffer and complete messages
 * are handed out as pointers into it.
 */
#ifndef XM_WIRE_H
#define XM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <xen/io/xs_wire.h>

#define WIRE_HDR_LEN ((size_t)sizeof(struct xsd_sockmsg))
#define WIRE_MSG_MAX (WIRE_HDR_LEN + XENSTORE_PAYLOAD_MAX)

/* Incremental reader. Zero-initialise before use. */
struct wire_in {
	size_t start, end;          /* unconsumed bytes are buf[start, end) */
	char buf[4 * WIRE_MSG_MAX];
};

enum wire_status {
	WIRE_OK = 1,      /* a message is ready / bytes were read */
	WIRE_AGAIN = 0,   /* need more bytes (or EAGAIN on the fd) */
	WIRE_EOF = -1,    /* peer closed */
	WIRE_ERR = -2,    /* I/O error (errno set) */
	WIRE_PROTO = -3,  /* protocol violation: payload over the limit */
};

/* One read(2) into the buffer. */
enum wire_status wire_in_fill(struct wire_in *in, int fd);
/*
 * Take the next complete message. On WIRE_OK *hdr is filled and *body points
 * at hdr->len bytes inside the buffer, valid until the next wire_in_fill().
 */
enum wire_status wire_in_next(struct wire_in *in, struct xsd_sockmsg *hdr,
			      const char **body);
/* Bytes buffered but not yet handed out. */
size_t wire_in_pending(const struct wire_in *in);

/* Write one whole message (blocking fd), header and payload in one syscall. */
int wire_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *body, size_t len);
/* Read one whole message (blocking fd) into a malloc'd, NUL-terminated body. */
int wire_recv(int fd, struct xsd_sockmsg *hdr, char **body);

/* "READ", "WRITE", ... or NULL for an unknown type. */
const char *wire_type_name(uint32_t type);
/* Xen's error string for an errno ("EINVAL" for unknown ones, as Xen). */
const char *wire_error_string(int err);
/* errno for a Xen error string, or EINVAL. */
int wire_error_num(const char *s);

/*
 * Split a payload into its NUL-terminated strings (Xen's get_strings): fills
 * v with up to max of them and returns how many there are in all. Bytes
 * after the last NUL are not a string.
 */
int wire_split(const char *body, size_t len, const char **v, int max);

/*
 * The other way: pack the n strings of v into buf as one payload, each with
 * its NUL ("path\0token\0"), the last one too unless last_nul is false (a
 * WRITE's "path\0value": the value has none on the wire). Returns the
 * payload's length, as snprintf: when that is over cap nothing was written
 * (buf may be NULL with cap 0, to size a buffer).
 */
size_t wire_pack(char *buf, size_t cap, const char *const *v, int n, bool last_nul);

#endif
