/* sharing.h — Xen's sharing rules for block backends (see sharing.c). */
#ifndef XMBACKD_SHARING_H
#define XMBACKD_SHARING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xenstore.h>

/* May domid's backend devid (target, mode) be connected? 0, or -1 with
 * the reason (one line) in err. */
int sharing_check(struct xs_handle *h, unsigned int domid, unsigned long devid,
		  const char *target, const char *mode, char *err, size_t errlen);

#endif
