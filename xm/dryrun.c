/*
 * dryrun.c — what `xm create -n` and `xm block-attach -n` print instead of
 * doing anything: the parsed config and disk specs as JSON (as xl's -N
 * prints libxl's), so that a config or a spec can be checked before use
 * and the parsers tested against golden files (tests/golden/).
 */
#include "xm.h"
#include "config.h"
#include "diskspec.h"
#include "vif.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *disk_json(const struct diskspec *s)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:b}",
			 "target", s->target, "vdev", s->vdev, "devid", (json_int_t)s->devid,
			 "backend", disk_backend_name(s->backend), "format",
			 disk_format_name(s->format), "mode", disk_mode_name(s->mode), "cdrom",
			 s->cdrom, "empty", s->empty);
}

/* A string member, or null when empty. */
static json_t *opt(const char *s)
{
	return *s ? json_string(s) : json_null();
}

static json_t *vif_json(const struct vifspec *s)
{
	char mac[18];
	return json_pack("{s:o, s:s, s:o, s:s, s:o, s:s}", "mac",
			 s->has_mac ? json_string(vif_mac_str(s->mac, mac)) : json_null(), "bridge",
			 s->bridge, "ip", opt(s->ip), "model", s->model, "vifname", opt(s->vifname),
			 "type", s->type);
}

static int print(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!text)
		return xm_error("out of memory");
	puts(text);
	free(text);
	return 0;
}

int xm_print_disk(const struct diskspec *s)
{
	return print(disk_json(s));
}

/* A string member, or null when absent. */
static json_t *str(const char *s)
{
	return s ? json_string(s) : json_null();
}

int xm_print_vif(const struct vifspec *s)
{
	return print(vif_json(s));
}

int xm_print_plan(const struct domcfg *c, const struct diskspec *disks, const struct vifspec *vifs)
{
	json_t *arr = json_array(), *varr = json_array();
	for (int i = 0; arr && i < c->ndisks; i++)
		json_array_append_new(arr, disk_json(&disks[i]));
	for (int i = 0; varr && i < c->nvifs; i++)
		json_array_append_new(varr, vif_json(&vifs[i]));
	json_t *cpus = c->cpus ? json_array() : json_null();
	for (int i = 0; c->cpus && cpus && i < c->ncpus; i++)
		json_array_append_new(cpus, json_string(c->cpus[i]));
	json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			      "s:o, s:o}",
			      "name", c->name, "memory", (json_int_t)c->memory_mib, "maxmem",
			      (json_int_t)c->maxmem_mib, "vcpus", (json_int_t)c->vcpus, "maxvcpus",
			      (json_int_t)c->maxvcpus, "cpus", cpus ? cpus : json_null(),
			      "kernel", str(c->kernel), "ramdisk",
			      str(c->ramdisk), "extra", str(c->extra), "uuid", str(c->uuid),
			      "on_poweroff", str(c->on_poweroff), "on_reboot", str(c->on_reboot),
			      "on_crash", str(c->on_crash), "disks", arr ? arr : json_null(),
			      "vifs", varr ? varr : json_null());
	if (j && c->hvm) { /* what only an HVM guest has (kernel null: its BIOS boots) */
		json_object_set_new(j, "type", json_string("hvm"));
		json_object_set_new(j, "boot", json_string(c->boot));
	}
	return print(j);
}
