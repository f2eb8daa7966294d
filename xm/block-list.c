/*
 * block-list.c — xm block-list: a domain's block devices, from its frontend
 * directories, in xm's table or (--long) xm's S-expressions with the
 * backend's nodes.
 */
#include "block.h"
#include "xm.h"
#include "dom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dir/key, or NULL. Caller frees. */
static char *rd(struct xs_handle *h, const char *dir, const char *key)
{
	return dom_readf(h, XBT_NULL, "%s/%s", dir, key);
}

static void print_long(struct xs_handle *h, const struct vbd *v, const char *id, int st,
		       const char *be)
{
	static const char *const keys[] = { "dev", "device-type", "params", "type", "format",
		"mode", "state", "hotplug-status", "physical-device", "physical-device-path",
		"sectors", "info", NULL };
	printf("(%s\n    ((backend-id 0)\n     (virtual-device %s)\n     (state %d)\n"
	       "     (backend %s)", id, id, st, be ? be : "");
	for (int k = 0; keys[k]; k++) {
		char *val = rd(h, v->be, keys[k]);
		if (val)
			printf("\n     (be-%s '%s')", keys[k], val);
		free(val);
	}
	printf("\n    )\n)\n");
}

int cmd_block_list(struct xm_ctx *x, int argc, char **argv)
{
	bool lng = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--long") == 0)
			lng = true;
		else
			return xm_usage("block-list");
	}
	char path[64];
	snprintf(path, sizeof(path), "/local/domain/%u/device/vbd", x->domid);
	unsigned int n = 0;
	char **devs = xs_directory(x->h, XBT_NULL, path, &n);
	if (!lng)
		printf("%-5s %-2s %-6s %-5s %-6s %-8s %s\n", "Vdev", "BE", "handle", "state",
		       "evt-ch", "ring-ref", "BE-path");
	for (unsigned int i = 0; i < n; i++) {
		struct vbd v;
		vbd_init(&v, x->domid, strtoul(devs[i], NULL, 10));
		char *be = rd(x->h, v.fe, "backend"), *s = rd(x->h, v.fe, "state");
		int st = s ? atoi(s) : -1; /* printed as it is, as xm does */
		free(s);
		if (lng)
			print_long(x->h, &v, devs[i], st, be);
		else
			printf("%-5s %-2s %-6s %-5d %-6s %-8s %s\n", devs[i], "0", devs[i], st, "-1",
			       "-1", be ? be : "");
		free(be);
	}
	free(devs);
	return 0;
}
