/*
 * mem.c — xm mem-set and mem-max: a guest's memory target and its limit.
 *
 * A guest's QEMU is given maxmem (-m, recorded as
 * /tool/xm/domain/N/memory-boot) and a virtio balloon without deflate on
 * OOM; its target is what the balloon leaves the guest, and the guest's
 * MemTotal follows it. As in Xen, /local/domain/N/memory/target (KiB) is
 * the target, memory/static-max (KiB) the limit mem-set may go to, which
 * mem-max moves (never above what QEMU was given).
 */
#include "xm.h"
#include "dom.h"
#include "qmp.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM_MIN_MIB 32 /* as memory = (config.c) */

/* A size in MiB as xm takes it: a number of MiB, or with a suffix
 * k/K (KiB), m/M (MiB), g/G (GiB). -1 if it is not one. */
static long parse_mib(const char *s)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	long long v = strtoll(s, &end, 10);
	if (errno || v < 0 || v > (1LL << 40))
		return -1;
	if (*end && end[1])
		return -1;
	switch (*end) {
	case '\0': case 'm': case 'M': return (long)v;
	case 'k': case 'K': return (long)(v / 1024);
	case 'g': case 'G': return (long)(v * 1024);
	default: return -1;
	}
}

/* A number node of the domain (n), or -1. */
static long read_num(struct xs_handle *h, const char *path)
{
	char *v = dom_readf(h, XBT_NULL, "%s", path);
	long n = v ? atol(v) : -1;
	free(v);
	return n;
}

int xm_balloon(unsigned int domid, long mib)
{
	struct qmp *q = xm_ctl_open(domid);
	if (!q)
		return 1;
	char *err = NULL;
	int rc = qmp_exec(q, "balloon", json_pack("{s:I}", "value", (json_int_t)mib << 20), NULL,
			  &err, 5000);
	if (rc)
		xm_error("domain %u: QEMU's balloon: %s", domid, err ? err : "no answer");
	free(err);
	qmp_close(q);
	return rc ? 1 : 0;
}

int cmd_mem_set(struct xm_ctx *x, int argc, char **argv)
{
	if (argc != 2)
		return xm_usage("mem-set");
	long mib = parse_mib(argv[1]);
	if (mib < 0)
		return xm_error("Invalid memory size '%s' (MiB, or with a suffix k, m, g)", argv[1]);
	char path[128];
	snprintf(path, sizeof(path), "/local/domain/%u/memory/static-max", x->domid);
	long max = read_num(x->h, path);
	if (max < 0)
		return xm_store_error(errno, "domain %s has no memory/static-max", x->domain);
	max /= 1024;
	if (mib > max)
		return xm_error("memory_dynamic_max must be less than or equal to memory_static_max "
				"(%ld MiB > maxmem %ld MiB of domain '%s'; xm mem-max raises it)",
				mib, max, x->domain);
	if (mib < MEM_MIN_MIB)
		return xm_error("%ld MiB is below the least a guest is given, %d MiB", mib,
				MEM_MIN_MIB);
	if (xm_balloon(x->domid, mib))
		return 1;
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", x->domid);
	if (!dom_writef(x->h, XBT_NULL, path, "%ld", mib * 1024))
		return xm_store_error(errno, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

int cmd_mem_max(struct xm_ctx *x, int argc, char **argv)
{
	if (argc != 2)
		return xm_usage("mem-max");
	long mib = parse_mib(argv[1]);
	if (mib < 0)
		return xm_error("Invalid memory size '%s' (MiB, or with a suffix k, m, g)", argv[1]);
	char path[128];
	snprintf(path, sizeof(path), XM_TOOL_ROOT "/domain/%u/memory-boot", x->domid);
	long boot = read_num(x->h, path);
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", x->domid);
	long target = read_num(x->h, path);
	if (boot < 0 || target < 0)
		return xm_store_error(errno, "domain %s has no memory records", x->domain);
	target /= 1024;
	if (mib > boot)
		return xm_error("cannot raise maxmem of domain '%s' to %ld MiB: it was started with "
				"%ld MiB (maxmem = in its config)", x->domain, mib, boot);
	if (mib < target)
		return xm_error("cannot lower maxmem of domain '%s' to %ld MiB, below its memory "
				"target %ld MiB (xm mem-set first)", x->domain, mib, target);
	snprintf(path, sizeof(path), "/local/domain/%u/memory/static-max", x->domid);
	if (!dom_writef(x->h, XBT_NULL, path, "%ld", mib * 1024))
		return xm_store_error(errno, "cannot write %s: %s", path, strerror(errno));
	return 0;
}
