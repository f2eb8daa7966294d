/*
 * vif.h — the network device protocol's names, in one place (docs/vif.md is
 * the contract): where a vif's nodes live in XenStore, the guest's hot-plug
 * slots for NICs, MAC addresses and the vif specification of xm's config
 * (vif = [ 'mac=..,bridge=..' ]) and of xm network-attach.
 *
 * One vif (domain D, handle DEVID, counted from 0 as in Xen) has:
 *   /local/domain/0/backend/vif/D/DEVID   the backend (xm writes, xmbackd acts)
 *   /local/domain/D/device/vif/DEVID      the frontend (the guest's agent)
 *   /tool/xm/domain/D/vif/DEVID           what xmbackd made: tap and QEMU devices
 *
 * Parsing only: whether a bridge exists is the caller's to check.
 */
#ifndef XM_VIF_H
#define XM_VIF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vbd.h"

#define VIF_BACKEND_ROOT "/local/domain/0/backend/vif"

/* NICs get hot-plug slots of their own, after the disks': xm create adds
 * VIF_ROOT_PORTS pcie-root-ports rpN (N = VIF_ROOT_PORT_FIRST..) at device
 * VIF_ROOT_PORT_DEV0 + (N - VIF_ROOT_PORT_FIRST) on pcie.0, so a NIC never
 * takes a port a disk needs. */
#define VIF_ROOT_PORTS 4
#define VIF_ROOT_PORT_FIRST (VBD_ROOT_PORTS + 1)
#define VIF_ROOT_PORT_DEV0 (VBD_ROOT_PORT_DEV0 + VBD_ROOT_PORTS)

/* Xen's defaults: the bridge a vif goes on, the hotplug script whose work
 * xmbackd does (recorded in the backend's script node), the generated
 * MACs' prefix (Xen's OUI). */
#define VIF_DEFAULT_BRIDGE "xenbr0"
#define VIF_SCRIPT "/etc/xen/scripts/vif-bridge"
#define VIF_MODEL "virtio-net"

struct vif {
	unsigned int domid;
	unsigned long devid;
	char be[128];      /* backend */
	char fe[128];      /* frontend */
	char tool[128];    /* xmbackd's record */
};

void vif_init(struct vif *v, unsigned int domid, unsigned long devid);

/* A vif as the user gave it. Empty strings: not given. */
struct vifspec {
	bool has_mac;
	uint8_t mac[6];
	char bridge[IFNAMSIZ];   /* VIF_DEFAULT_BRIDGE when not given */
	char ip[128];            /* space-separated IPv4 addresses, as Xen keeps them */
	char model[16];          /* VIF_MODEL when not given */
	char vifname[IFNAMSIZ];  /* the host's tap name, "" for vifD.N */
	char type[8];            /* "vif" or "ioemu" (both make the same NIC) */
};

/* A config entry 'mac=00:16:3e:01:02:03, bridge=xenbr0' into s. 0, or -1
 * with one line in err naming the key and why. */
int vifspec_parse(const char *spec, struct vifspec *s, char *err, size_t errlen);
/* The same from KEY=VALUE words (xm network-attach's arguments). */
int vifspec_parse_words(char *const *words, int n, struct vifspec *s, char *err, size_t errlen);

/* "00:16:3e:0a:0b:0c" (case-insensitive) into mac: 0, or -1 (not six hex
 * pairs, or a multicast address: err says which). */
int vif_mac_parse(const char *s, uint8_t mac[6], char *err, size_t errlen);
/* The text of mac, lower case: out needs 18 bytes. Returns out. */
char *vif_mac_str(const uint8_t mac[6], char *out);
/* The MAC of a vif given none: Xen's 00:16:3e prefix, then the domain id
 * (15 bits) and the handle (8 bits), so it is stable and unique per
 * domain and handle. */
void vif_mac_default(unsigned int domid, unsigned long devid, uint8_t mac[6]);
/* A host interface name the kernel takes (1-15 characters, no '/', ':',
 * or white space, not "." or ".."). */
bool vif_ifname_ok(const char *name);
/* The tap's name: vifname, or Xen's vifD.DEVID. out needs IFNAMSIZ. */
void vif_tap_name(unsigned int domid, unsigned long devid, const char *vifname, char *out);

#endif
