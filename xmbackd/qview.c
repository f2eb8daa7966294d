/*
 * qview.c — what a guest's QEMU really holds, for reconcile.c: the devices
 * named xmdev-DEVID (qom-list /machine/peripheral), with the drive each one
 * has (query-block: node, file, read-only), its share-rw, its bus and SCSI
 * id (qom-get), and every block node named xmblk-* (query-named-block-nodes
 * flat), with or without a device, and the fdsets xmbackd gave
 * (query-fdsets, fdpass.c): a drive opened from /dev/fdset/N is told by the
 * path its fdset's opaque names. Names not of xmbackd's making are left
 * out: the guest's own devices are none of its business.
 */
#include "qview.h"
#include "qmp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERIPHERAL "/machine/peripheral"

bool fdpass_opaque(const char *opaque, unsigned long *devid, const char **path)
{
	char *end;
	if (!opaque || strncmp(opaque, "xmblk-", 6) != 0)
		return false;
	*devid = strtoul(opaque + 6, &end, 10);
	if (end == opaque + 6 || *end != ':' || !end[1])
		return false;
	*path = end + 1;
	return true;
}

long fdpass_parse(const char *file)
{
	char *end;
	if (!file || strncmp(file, "/dev/fdset/", 11) != 0 || !file[11])
		return -1;
	long n = strtol(file + 11, &end, 10);
	return *end || n < 0 ? -1 : n;
}

/* DEVID of a name "xmdev-DEVID" (prefix given), or false. */
static bool our_name(const char *name, const char *prefix, unsigned long *devid)
{
	size_t pl = strlen(prefix);
	char *end;
	if (!name || strncmp(name, prefix, pl) != 0)
		return false;
	/* only the name xmbackd makes ("xmdev-%lu"): strtoul alone would also
	 * take "xmdev-07", "xmdev-+7" or "xmdev- 7", whose DEVID names another
	 * device (a qom-get of xmdev-7 then fails, and so does every reconcile
	 * of the guest) */
	const char *n = name + pl;
	if (n[0] < '0' || n[0] > '9' || (n[0] == '0' && n[1]))
		return false;
	errno = 0;
	*devid = strtoul(n, &end, 10);
	return *end == '\0' && errno == 0;
}

static json_t *qom_get(struct qmp *q, const char *dev, const char *prop, int timeout_ms)
{
	char path[128];
	json_t *ret = NULL;
	snprintf(path, sizeof(path), PERIPHERAL "/%s", dev);
	if (qmp_exec(q, "qom-get", json_pack("{s:s, s:s}", "path", path, "property", prop), &ret,
		     NULL, timeout_ms) < 0)
		return NULL;
	return ret;
}

/* The devices, from qom-list. 0 or -1. */
static int read_devices(struct qmp *q, struct qview *v, int timeout_ms)
{
	json_t *ret = NULL, *e;
	size_t i;
	if (qmp_exec(q, "qom-list", json_pack("{s:s}", "path", PERIPHERAL), &ret, NULL,
		     timeout_ms) < 0)
		return -1;
	v->dev = calloc(json_array_size(ret) + 1, sizeof(*v->dev));
	if (!v->dev) {
		json_decref(ret);
		return -1;
	}
	json_array_foreach(ret, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *type = json_string_value(json_object_get(e, "type"));
		unsigned long devid;
		if (!our_name(name, "xmdev-", &devid) || !type || strncmp(type, "child<", 6) != 0)
			continue;
		struct qdev *d = &v->dev[v->ndev++];
		d->devid = devid;
		d->cdrom = strstr(type, "scsi-cd") != NULL;
		d->scsi_id = -1;
		d->fdset = -1;
	}
	json_decref(ret);
	return 0;
}

/* Each device's drive, from query-block. 0 or -1. */
static int read_drives(struct qmp *q, struct qview *v, int timeout_ms)
{
	json_t *ret = NULL, *e;
	size_t i;
	if (qmp_exec(q, "query-block", NULL, &ret, NULL, timeout_ms) < 0)
		return -1;
	json_array_foreach(ret, i, e) {
		const char *qdev = json_string_value(json_object_get(e, "qdev"));
		char name[64];
		unsigned long devid;
		if (!qdev || strncmp(qdev, PERIPHERAL "/", sizeof(PERIPHERAL)) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(qdev + sizeof(PERIPHERAL), "/"),
			 qdev + sizeof(PERIPHERAL));
		struct qdev *d = our_name(name, "xmdev-", &devid) ?
				 (struct qdev *)qview_dev(v, devid) : NULL;
		json_t *ins = json_object_get(e, "inserted");
		if (!d || !ins)
			continue;
		const char *node = json_string_value(json_object_get(ins, "node-name"));
		const char *file = json_string_value(json_object_get(ins, "file"));
		snprintf(d->node, sizeof(d->node), "%s", node ? node : "");
		snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
		d->ro = json_is_true(json_object_get(ins, "ro"));
	}
	json_decref(ret);
	return 0;
}

/* share-rw, the bus and the SCSI id of each device. 0 or -1. */
static int read_props(struct qmp *q, struct qview *v, int timeout_ms)
{
	for (unsigned int i = 0; i < v->ndev; i++) {
		struct qdev *d = &v->dev[i];
		char id[64];
		snprintf(id, sizeof(id), "xmdev-%lu", d->devid);
		json_t *s = qom_get(q, id, "share-rw", timeout_ms);
		json_t *bus = qom_get(q, id, "parent_bus", timeout_ms);
		const char *bp = json_string_value(bus);
		if (!s || !bus) {
			json_decref(s);
			json_decref(bus);
			return -1;
		}
		d->share_rw = json_is_true(s);
		/* "/machine/peripheral/rp1/rp1": the bus is rp1; scsi0.0 likewise */
		const char *last = bp ? strrchr(bp, '/') : NULL;
		snprintf(d->bus, sizeof(d->bus), "%s", last ? last + 1 : "");
		json_decref(s);
		json_decref(bus);
		if (d->cdrom) {
			json_t *sid = qom_get(q, id, "scsi-id", timeout_ms);
			d->scsi_id = sid ? (int)json_integer_value(sid) : -1;
			json_decref(sid);
		}
	}
	return 0;
}

/* Every xmblk-* node. 0 or -1. */
static int read_nodes(struct qmp *q, struct qview *v, int timeout_ms)
{
	json_t *ret = NULL, *e;
	size_t i;
	if (qmp_exec(q, "query-named-block-nodes", json_pack("{s:b}", "flat", 1), &ret, NULL,
		     timeout_ms) < 0)
		return -1;
	v->node = calloc(json_array_size(ret) + 1, sizeof(*v->node));
	v->fdset_used = calloc(json_array_size(ret) + 1, sizeof(*v->fdset_used));
	if (!v->node || !v->fdset_used) {
		json_decref(ret);
		return -1;
	}
	json_array_foreach(ret, i, e) {
		const char *name = json_string_value(json_object_get(e, "node-name"));
		long set = fdpass_parse(json_string_value(json_object_get(e, "file")));
		unsigned long devid;
		if (our_name(name, "xmblk-", &devid))
			snprintf(v->node[v->nnode++], sizeof(v->node[0]), "%s", name);
		if (set >= 0)
			v->fdset_used[v->nused++] = set;
	}
	json_decref(ret);
	return 0;
}

/* The fdsets of xmbackd's, and what each drive opened from one is. 0 or -1. */
static int read_fdsets(struct qmp *q, struct qview *v, int timeout_ms)
{
	json_t *ret = NULL, *e, *fd;
	size_t i, k;
	if (qmp_exec(q, "query-fdsets", NULL, &ret, NULL, timeout_ms) < 0)
		return -1;
	v->fdset = calloc(json_array_size(ret) + 1, sizeof(*v->fdset));
	v->fdset_devid = calloc(json_array_size(ret) + 1, sizeof(*v->fdset_devid));
	if (!v->fdset || !v->fdset_devid) {
		json_decref(ret);
		return -1;
	}
	json_array_foreach(ret, i, e) {
		long set = (long)json_integer_value(json_object_get(e, "fdset-id"));
		const char *path = NULL;
		unsigned long devid = 0;
		json_array_foreach(json_object_get(e, "fds"), k, fd) {
			if (fdpass_opaque(json_string_value(json_object_get(fd, "opaque")), &devid,
					  &path))
				break;
		}
		if (!path)
			continue;
		v->fdset[v->nfdset] = set;
		v->fdset_devid[v->nfdset++] = devid;
		for (unsigned int d = 0; d < v->ndev; d++)
			if (fdpass_parse(v->dev[d].file) == set) {
				v->dev[d].fdset = set;
				snprintf(v->dev[d].file, sizeof(v->dev[d].file), "%s", path);
			}
	}
	/* a drive on an fdset that is not xmbackd's keeps its /dev/fdset/N:
	 * an identity unknown, which reconcile.c never takes for "none" */
	json_decref(ret);
	return 0;
}

int qview_read(struct qmp *q, struct qview *v, int timeout_ms)
{
	memset(v, 0, sizeof(*v));
	if (read_devices(q, v, timeout_ms) < 0 || read_drives(q, v, timeout_ms) < 0 ||
	    read_props(q, v, timeout_ms) < 0 || read_nodes(q, v, timeout_ms) < 0 ||
	    read_fdsets(q, v, timeout_ms) < 0) {
		qview_free(v);
		return -1;
	}
	return 0;
}

bool qview_fdset_used(const struct qview *v, long set)
{
	for (unsigned int i = 0; i < v->nused; i++)
		if (v->fdset_used[i] == set)
			return true;
	return false;
}

void qview_free(struct qview *v)
{
	free(v->dev);
	free(v->node);
	free(v->fdset);
	free(v->fdset_devid);
	free(v->fdset_used);
	memset(v, 0, sizeof(*v));
}

const struct qdev *qview_dev(const struct qview *v, unsigned long devid)
{
	for (unsigned int i = 0; i < v->ndev; i++)
		if (v->dev[i].devid == devid)
			return &v->dev[i];
	return NULL;
}

bool qview_node_used(const struct qview *v, const char *name)
{
	for (unsigned int i = 0; i < v->ndev; i++)
		if (strcmp(v->dev[i].node, name) == 0)
			return true;
	return false;
}

bool qview_has_node(const struct qview *v, const char *name)
{
	for (unsigned int i = 0; i < v->nnode; i++)
		if (strcmp(v->node[i], name) == 0)
			return true;
	return false;
}
