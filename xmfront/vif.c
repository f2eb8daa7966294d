/*
 * vif.c — the network frontend of xmfront, the part netfront plays in a Xen
 * guest, kept small (docs/vif.md): for each device/vif/<N> of the domain it
 * reads the MAC, waits for the kernel's NIC with that MAC (the virtio-net
 * device xmbackd plugs), brings its link up and writes the frontend's state
 * Connected (4). Addresses are the guest's own business (ip, udhcpc), as
 * in Xen. A NIC is looked for in /sys/class/net at once when the kernel
 * says an interface appeared (its "add" uevent, vif_kick), and every
 * VIF_LOOK_MS while one is awaited (a uevent missed, no uevent socket).
 * Each time the host side connects, every vif is taken up anew
 * (vif_reconnected): after xm restore the NIC is the one the guest had,
 * its frontend a new domain's.
 */
#include "netfront.h"
#include "mux.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define VIF_DIR "device/vif"
#define VIF_NICS 64
#define VIF_LOOK_MS 20
#define VIF_LOOK_SLOW_MS 1000
#define VIF_SEARCH_MS 10000

struct nic {
	bool used;
	bool present;          /* in the last listing of device/vif */
	bool reading;          /* its mac read is in flight */
	bool connected;        /* state 4 written */
	unsigned long devid;
	char mac[18];          /* "" until read */
	long since;            /* searched since then */
};

struct vif_front {
	struct mux *mux;
	bool dirty, scanning, rescan;
	long next_look;        /* 0: nothing awaited */
	struct nic nics[VIF_NICS];
};

static void on_event(void *arg, const char *path)
{
	struct vif_front *v = arg;
	(void)path;
	v->dirty = true;
}

/* The kernel's interface with MAC mac, into name (IFNAMSIZ), or false. */
static bool find_nic(const char *mac, char *name)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	bool found = false;
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ)
			continue;
		char p[300], addr[32] = "";
		snprintf(p, sizeof(p), "/sys/class/net/%s/address", e->d_name);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(addr, sizeof(addr), f))
			addr[strcspn(addr, "\n")] = '\0';
		fclose(f);
		if (strcasecmp(addr, mac) == 0) {
			snprintf(name, IFNAMSIZ, "%s", e->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int link_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc;
}

static struct nic *get_nic(struct vif_front *v, unsigned long devid, bool make)
{
	struct nic *free_slot = NULL;
	for (int i = 0; i < VIF_NICS; i++) {
		if (v->nics[i].used && v->nics[i].devid == devid)
			return &v->nics[i];
		if (!v->nics[i].used && !free_slot)
			free_slot = &v->nics[i];
	}
	if (!make || !free_slot)
		return NULL;
	*free_slot = (struct nic){ .used = true, .devid = devid };
	return free_slot;
}

struct mac_read {
	struct vif_front *v;
	unsigned long devid;
};

static void on_mac(void *arg, uint32_t type, const char *body, size_t len)
{
	struct mac_read *r = arg;
	struct nic *n = get_nic(r->v, r->devid, false);
	if (n) {
		n->reading = false;
		if (type != XS_ERROR && len > 0 && len < sizeof(n->mac)) {
			memcpy(n->mac, body, len);
			n->mac[len] = '\0';
			n->since = now_ms();
			r->v->next_look = now_ms(); /* look at once */
		}
	}
	free(r);
}

static void scan(struct vif_front *v);

static void on_list(void *arg, uint32_t type, const char *body, size_t len)
{
	struct vif_front *v = arg;
	v->scanning = false;
	if (type == XS_ERROR && strncmp(body, "ENOENT", len) != 0)
		return; /* EIO: the reconnection scans again */
	for (int i = 0; i < VIF_NICS; i++)
		v->nics[i].present = false;
	const char *p = body, *end = body + len;
	while (type != XS_ERROR && p < end) {
		size_t l = strnlen(p, (size_t)(end - p));
		char *e;
		unsigned long id = strtoul(p, &e, 10);
		struct nic *n = e != p ? get_nic(v, id, true) : NULL;
		if (n) {
			n->present = true;
			if (!n->connected && !n->mac[0] && !n->reading) {
				struct mac_read *r = malloc(sizeof(*r));
				char path[64];
				snprintf(path, sizeof(path), VIF_DIR "/%lu/mac", id);
				if (r) {
					*r = (struct mac_read){ v, id };
					if (mux_request(v->mux, XS_READ, path, strlen(path) + 1, on_mac,
							r) == 0)
						n->reading = true;
					else
						free(r);
				}
			}
		}
		p += l + 1;
	}
	for (int i = 0; i < VIF_NICS; i++)
		if (v->nics[i].used && !v->nics[i].present && !v->nics[i].reading) {
			if (v->nics[i].connected)
				log_info("vif %lu: gone", v->nics[i].devid);
			v->nics[i].used = false;
		}
	if (v->rescan) {
		v->rescan = false;
		scan(v);
	}
}

static void scan(struct vif_front *v)
{
	if (v->scanning) {
		v->rescan = true;
		return;
	}
	if (mux_request(v->mux, XS_DIRECTORY, VIF_DIR, sizeof(VIF_DIR), on_list, v) == 0)
		v->scanning = true;
}

struct vif_front *vif_new(struct mux *m)
{
	struct vif_front *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->mux = m;
	if (mux_watch(m, VIF_DIR, on_event, v) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

void vif_free(struct vif_front *v)
{
	free(v);
}

void vif_flush(struct vif_front *v)
{
	if (!v->dirty)
		return;
	v->dirty = false;
	scan(v);
}

int vif_timeout(const struct vif_front *v)
{
	if (!v->next_look)
		return -1;
	long left = v->next_look - now_ms();
	return left < 0 ? 0 : (int)left;
}

void vif_kick(struct vif_front *v)
{
	for (int i = 0; i < VIF_NICS; i++)
		if (v->nics[i].used && !v->nics[i].connected && v->nics[i].mac[0]) {
			v->next_look = now_ms();
			return;
		}
}

void vif_reconnected(struct vif_front *v)
{
	for (int i = 0; i < VIF_NICS; i++)
		if (v->nics[i].used) {
			v->nics[i].connected = false;
			if (!v->nics[i].reading)
				v->nics[i].mac[0] = '\0';
		}
	v->dirty = true;
}

void vif_tick(struct vif_front *v)
{
	long now = now_ms();
	if (!v->next_look || now < v->next_look)
		return;
	v->next_look = 0;
	for (int i = 0; i < VIF_NICS; i++) {
		struct nic *n = &v->nics[i];
		char name[IFNAMSIZ], path[64];
		if (!n->used || !n->present || n->connected || !n->mac[0])
			continue;
		if (!find_nic(n->mac, name)) {
			long next = now + (now - n->since < VIF_SEARCH_MS ? VIF_LOOK_MS : VIF_LOOK_SLOW_MS);
			if (!v->next_look || next < v->next_look)
				v->next_look = next;
			continue;
		}
		if (link_up(name) < 0)
			log_warn("vif %lu: cannot bring %s up: %s", n->devid, name, strerror(errno));
		snprintf(path, sizeof(path), VIF_DIR "/%lu/state%c4", n->devid, '\0');
		/* path and value: the write's payload */
		if (mux_request(v->mux, XS_WRITE, path, strlen(path) + 2, NULL, NULL) == 0) {
			n->connected = true;
			log_info("vif %lu: %s is %s, up: connected", n->devid, n->mac, name);
		}
	}
}
