/*
 * qview.c — what a guest's QEMU really holds, for reconcile.c: the devices
 * named xmdev-DEVID (qom-list /machine/peripheral), with the drive each one
 * has (query-block: node, file, read-only), its share-rw, its bus and SCSI
 * id (qom-get), and every block node named xmblk-* (query-named-block-nodes
 * flat), with or without a device, and the fdsets xmbackd gave
 * (query-fdsets, fdpass.c): a drive opened from /dev/fdset/N is told by the
 * path its fdset's opaque names; and the NICs named xmnet-N, from the same
 * qom-list (vif.c's reconcile). Names not of xmbackd's making are left
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

/* The devices and the NICs, from qom-list's answer. 0 or -1. */
static int parse_devices(struct qview *v, json_t *ret)
{
	json_t *e;
	size_t i;
	v->dev = calloc(json_array_size(ret) + 1, sizeof(*v->dev));
	v->nic = calloc(json_array_size(ret) + 1, sizeof(*v->nic));
	if (!v->dev || !v->nic)
		return -1;
	json_array_foreach(ret, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *type = json_string_value(json_object_get(e, "type"));
		unsigned long devid;
		if (!type || strncmp(type, "child<", 6) != 0)
			continue;
		if (our_name(name, "xmnet-", &devid)) {
			v->nic[v->nnic++] = devid;
			continue;
		}
		if (!our_name(name, "xmdev-", &devid))
			continue;
		struct qdev *d = &v->dev[v->ndev++];
		d->devid = devid;
		d->cdrom = strstr(type, "scsi-cd") != NULL;
		d->scsi_id = -1;
		d->fdset = -1;
	}
	return 0;
}

/* Each device's drive, from query-block's answer. */
static void parse_drives(struct qview *v, json_t *ret)
{
	json_t *e;
	size_t i;
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
}

/* A device's share-rw, bus and SCSI id, from its qom-gets' answers. */
static void parse_props(struct qdev *d, json_t *share_rw, json_t *bus, json_t *sid)
{
	const char *bp = json_string_value(bus);
	d->share_rw = json_is_true(share_rw);
	/* "/machine/peripheral/rp1/rp1": the bus is rp1; scsi0.0 likewise */
	const char *last = bp ? strrchr(bp, '/') : NULL;
	snprintf(d->bus, sizeof(d->bus), "%s", last ? last + 1 : "");
	if (d->cdrom)
		d->scsi_id = sid ? (int)json_integer_value(sid) : -1;
}

/* Every xmblk-* node, from query-named-block-nodes' answer. 0 or -1. */
static int parse_nodes(struct qview *v, json_t *ret)
{
	json_t *e;
	size_t i;
	v->node = calloc(json_array_size(ret) + 1, sizeof(*v->node));
	v->fdset_used = calloc(json_array_size(ret) + 1, sizeof(*v->fdset_used));
	if (!v->node || !v->fdset_used)
		return -1;
	json_array_foreach(ret, i, e) {
		const char *name = json_string_value(json_object_get(e, "node-name"));
		long set = fdpass_parse(json_string_value(json_object_get(e, "file")));
		unsigned long devid;
		if (our_name(name, "xmblk-", &devid))
			snprintf(v->node[v->nnode++], sizeof(v->node[0]), "%s", name);
		if (set >= 0)
			v->fdset_used[v->nused++] = set;
	}
	return 0;
}

/* The fdsets of xmbackd's, and what each drive opened from one is, from
 * query-fdsets' answer (after the drives'). 0 or -1. */
static int parse_fdsets(struct qview *v, json_t *ret)
{
	json_t *e, *fd;
	size_t i, k;
	v->fdset = calloc(json_array_size(ret) + 1, sizeof(*v->fdset));
	v->fdset_devid = calloc(json_array_size(ret) + 1, sizeof(*v->fdset_devid));
	if (!v->fdset || !v->fdset_devid)
		return -1;
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
	return 0;
}

/* --- the view as a job of the event loop ---------------------------------- */

enum { Q_DEVICES, Q_DRIVES, Q_NODES, Q_FDSETS, Q_N };
enum { P_SHARE, P_BUS, P_SCSI, P_N }; /* each device's qom-gets */

struct qview_job {
	long id[Q_N];
	json_t *ret[Q_N];
	long *pid;              /* P_N a device, once the devices are known (-1: none) */
	json_t **pret;
	unsigned int nprops;    /* slots in pid and pret */
	unsigned int left;      /* answers awaited */
	bool props_asked;
	bool failed;            /* a command not sent, or refused: act on nothing */
	unsigned long changes;  /* qmp_changes() as it was asked */
	struct qview v;         /* its devices as soon as qom-list answered */
};

static long send_kept(struct qmp *q, const char *cmd, json_t *args)
{
	long id = qmp_send(q, cmd, args);
	qmp_keep(q, id); /* a blocking call that reads the answer leaves it to the loop */
	return id;
}

struct qview_job *qview_start(struct qmp *q)
{
	struct qview_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->id[Q_DEVICES] = send_kept(q, "qom-list", json_pack("{s:s}", "path", PERIPHERAL));
	j->id[Q_DRIVES] = send_kept(q, "query-block", NULL);
	j->id[Q_NODES] = send_kept(q, "query-named-block-nodes", json_pack("{s:b}", "flat", 1));
	j->id[Q_FDSETS] = send_kept(q, "query-fdsets", NULL);
	for (int k = 0; k < Q_N; k++)
		if (j->id[k] < 0)
			j->failed = true;
		else
			j->left++;
	j->changes = qmp_changes(q);
	return j;
}

/* The devices are known: each one's share-rw, bus and (a cdrom) SCSI id. */
static void ask_props(struct qview_job *j, struct qmp *q)
{
	static const char *const prop[P_N] = { "share-rw", "parent_bus", "scsi-id" };
	j->props_asked = true;
	if (parse_devices(&j->v, j->ret[Q_DEVICES]) < 0 ||
	    !(j->pid = calloc((size_t)j->v.ndev * P_N + 1, sizeof(*j->pid))) ||
	    !(j->pret = calloc((size_t)j->v.ndev * P_N + 1, sizeof(*j->pret)))) {
		j->failed = true;
		return;
	}
	j->nprops = j->v.ndev * P_N;
	for (unsigned int i = 0; i < j->v.ndev; i++) {
		char path[128];
		snprintf(path, sizeof(path), PERIPHERAL "/xmdev-%lu", j->v.dev[i].devid);
		for (int k = 0; k < P_N; k++) {
			long *id = &j->pid[i * P_N + k];
			*id = -1;
			if (k == P_SCSI && !j->v.dev[i].cdrom)
				continue;
			*id = send_kept(q, "qom-get", json_pack("{s:s, s:s}", "path", path,
								 "property", prop[k]));
			if (*id < 0)
				j->failed = true;
			else
				j->left++;
		}
	}
}

bool qview_feed(struct qview_job *j, struct qmp *q, json_t *m)
{
	json_t *mid = json_object_get(m, "id");
	if (!json_is_integer(mid))
		return false;
	long id = (long)json_integer_value(mid);
	json_t **slot = NULL;
	if (id <= 0) /* (none of ours: a -1 stands for a command not sent) */
		return false;
	for (int k = 0; k < Q_N && !slot; k++)
		if (j->id[k] == id)
			slot = &j->ret[k];
	for (unsigned int i = 0; i < j->nprops && !slot; i++)
		if (j->pid[i] == id)
			slot = &j->pret[i];
	if (!slot || *slot)
		return false;
	json_t *ret = json_object_get(m, "return");
	if (!ret) { /* refused: QEMU's view is not to be had now */
		j->failed = true;
		ret = json_null();
	}
	*slot = json_incref(ret);
	j->left--;
	if (slot == &j->ret[Q_DEVICES] && !j->failed)
		ask_props(j, q);
	return true;
}

int qview_state(const struct qview_job *j)
{
	return j->failed ? -1 : j->left || !j->props_asked ? 0 : 1;
}

bool qview_current(const struct qview_job *j, const struct qmp *q)
{
	return qmp_changes(q) == j->changes;
}

int qview_take(struct qview_job *j, struct qview *v)
{
	memset(v, 0, sizeof(*v));
	if (qview_state(j) != 1)
		return -1;
	for (unsigned int i = 0; i < j->v.ndev; i++) {
		json_t **p = &j->pret[i * P_N];
		parse_props(&j->v.dev[i], p[P_SHARE], p[P_BUS], p[P_SCSI]);
	}
	parse_drives(&j->v, j->ret[Q_DRIVES]);
	if (parse_nodes(&j->v, j->ret[Q_NODES]) < 0 || parse_fdsets(&j->v, j->ret[Q_FDSETS]) < 0)
		return -1;
	*v = j->v;
	memset(&j->v, 0, sizeof(j->v));
	return 0;
}

void qview_job_free(struct qview_job *j)
{
	if (!j)
		return;
	for (int k = 0; k < Q_N; k++)
		json_decref(j->ret[k]);
	for (unsigned int i = 0; i < j->nprops; i++)
		json_decref(j->pret[i]);
	free(j->pid);
	free(j->pret);
	qview_free(&j->v);
	free(j);
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
	free(v->nic);
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

bool qview_has_nic(const struct qview *v, unsigned long id)
{
	for (unsigned int i = 0; i < v->nnic; i++)
		if (v->nic[i] == id)
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
