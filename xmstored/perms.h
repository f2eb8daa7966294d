/* perms.h — XenStore node permissions: wire strings and access decisions. */
#ifndef XSD_PERMS_H
#define XSD_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERM_NONE   0x00
#define PERM_READ   0x01
#define PERM_WRITE  0x02
#define PERM_OWNER  0x08
#define PERM_IGNORE 0x10  /* entry names a domain that does not exist */

/* Xen's default cap on entries per node for unprivileged domains. */
#define PERMS_MAX_DEFAULT 5

struct perm {
	uint32_t id;
	uint8_t perms;
};

/* Who is asking: a connection's identity as the permission checks see it. */
struct caller {
	uint32_t domid;
	bool priv;        /* domain 0 / tools: everything allowed */
	bool has_target;  /* SET_TARGET: acts for target too */
	uint32_t target;
};

/*
 * Parse n wire strings ("r5", "b0", "n1" ...) from s. 0 or EINVAL.
 * Ids are taken as Xen does (strtol, base 0; junk after the number: EINVAL).
 */
int perms_parse(const char *s, unsigned int n, struct perm *out);
/*
 * Format perms as NUL-separated wire strings into buf; returns the length
 * (including the final NUL) or 0 if it does not fit.
 */
size_t perms_format(const struct perm *p, unsigned int n, char *buf, size_t cap);
/* The access (PERM_READ|PERM_WRITE|PERM_OWNER subset) c has to a node. */
unsigned int perms_for(const struct caller *c, const struct perm *p, unsigned int n);

#endif
