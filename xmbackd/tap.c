/*
 * tap.c — the host side of a vif, as Xen's vif-bridge hotplug script sets
 * it up, done in C: a tap device made on /dev/net/tun (IFF_TAP, IFF_NO_PI,
 * IFF_VNET_HDR: what QEMU's tap netdev expects of a descriptor it is
 * given), its MAC set to fe:ff:ff:ff:ff:ff (as vif-bridge does, so that
 * the bridge never takes the tap's address for its own), added to the
 * bridge (SIOCBRADDIF) and brought up. The tap is not persistent: it goes
 * when its last descriptor is closed, which after the hand-over is QEMU's.
 */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t len, const char *what, const char *name)
{
	int e = errno;
	snprintf(err, len, "%s %s: %s", what, name, strerror(e));
	errno = e;
	return -1;
}

bool tap_exists(const char *name)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/sys/class/net/%s", name);
	return stat(p, &st) == 0;
}

bool tap_is_bridge(const char *name)
{
	char p[80];
	struct stat st;
	snprintf(p, sizeof(p), "/sys/class/net/%s/bridge", name);
	return stat(p, &st) == 0;
}

int tap_open(const char *name, const char *bridge, char *err, size_t errlen)
{
	if (!tap_exists(bridge)) {
		snprintf(err, errlen, "bridge %s does not exist", bridge);
		return -1;
	}
	if (!tap_is_bridge(bridge)) {
		snprintf(err, errlen, "%s is not a bridge", bridge);
		return -1;
	}
	if (tap_exists(name)) { /* TUNSETIFF would take over a persistent tap */
		snprintf(err, errlen, "vifname %s is in use on the host", name);
		return -1;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open", "/dev/net/tun");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fail(err, errlen, "cannot make tap", name);
		close(fd);
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		fail(err, errlen, "socket for", name);
		close(fd);
		return -1;
	}
	/* the tap's own MAC: fe:ff:ff:ff:ff:ff, as vif-bridge sets it */
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memset(ifr.ifr_hwaddr.sa_data, 0xff, 6);
	ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
	int rc = ioctl(s, SIOCSIFHWADDR, &ifr);
	if (rc < 0)
		fail(err, errlen, "cannot set the MAC of", name);
	unsigned int index = if_nametoindex(name);
	if (rc == 0 && !index)
		rc = fail(err, errlen, "no index for", name);
	if (rc == 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
		ifr.ifr_ifindex = (int)index;
		if ((rc = ioctl(s, SIOCBRADDIF, &ifr)) < 0) {
			char what[64];
			snprintf(what, sizeof(what), "cannot add %s to bridge", name);
			fail(err, errlen, what, bridge);
		}
	}
	if (rc == 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		rc = ioctl(s, SIOCGIFFLAGS, &ifr);
		ifr.ifr_flags |= IFF_UP;
		if (rc < 0 || (rc = ioctl(s, SIOCSIFFLAGS, &ifr)) < 0)
			fail(err, errlen, "cannot bring up", name);
	}
	close(s);
	if (rc < 0) {
		close(fd); /* the tap goes with it */
		return -1;
	}
	return fd;
}
