/* sharing.h — device identity and Xen's sharing rules (see sharing.c). */
#ifndef XMBACKD_SHARING_H
#define XMBACKD_SHARING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xenstore.h>

struct ident {
	bool has_rdev, has_file;
	dev_t rdev;             /* block device number */
	dev_t fdev;             /* the file's (or a loop device's backing file's) */
	ino_t fino;
};

/* Identity of a path. 0 or -1 (errno). */
int ident_of(const char *path, struct ident *id);
bool ident_same(const struct ident *a, const struct ident *b);

/* May domid's backend devid (target, mode) be connected? 0, or -1 with
 * the reason (one line) in err. */
int sharing_check(struct xs_handle *h, unsigned int domid, unsigned long devid,
		  const char *target, const char *mode, char *err, size_t errlen);

#endif
