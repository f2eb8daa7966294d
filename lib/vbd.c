/*
 * vbd.c — see vbd.h.
 */
#include "vbd.h"
#include "dom.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

void vbd_init(struct vbd *v, unsigned int domid, unsigned long devid)
{
	v->domid = domid;
	v->devid = devid;
	snprintf(v->be, sizeof(v->be), VBD_BACKEND_ROOT "/%u/%lu", domid, devid);
	snprintf(v->fe, sizeof(v->fe), "/local/domain/%u/device/vbd/%lu", domid, devid);
	snprintf(v->errdir, sizeof(v->errdir), "/local/domain/%u/error/device/vbd/%lu", domid,
		 devid);
	snprintf(v->err, sizeof(v->err), "%s/error", v->errdir);
	snprintf(v->tool, sizeof(v->tool), XM_TOOL_ROOT "/domain/%u/vbd/%lu", domid, devid);
}

char *vbd_path(char *out, size_t len, const char *dir, const char *key)
{
	snprintf(out, len, "%s/%s", dir, key);
	return out;
}

int vbd_state_parse(const char *s)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return *end || errno || v > INT_MAX ? -1 : (int)v;
}

const char *vbd_state_str(enum xenbus_state st)
{
	static const char *const names[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8" };
	return (unsigned int)st < sizeof(names) / sizeof(names[0]) ? names[st] : "0";
}

const char *vbd_error_text(const char *s)
{
	const char *msg = s;
	while (*msg >= '0' && *msg <= '9')
		msg++;
	while (*msg == ' ')
		msg++;
	return *msg ? msg : s;
}
