/*
 * uevent.h — the guest kernel's device events (NETLINK_KOBJECT_UEVENT), as
 * the block frontend and `xmfront --uevents` read them.
 */
#ifndef XMFRONT_UEVENT_H
#define XMFRONT_UEVENT_H

#include <stdbool.h>
#include <stddef.h>

/* One event; the strings point into the buffer given to uevent_parse(). */
struct uevent {
	const char *action;  /* add, remove, change ... */
	const char *subsys;  /* block ... */
	const char *devname; /* vda, sr0, vda1 ... or NULL */
	const char *devtype; /* disk, partition ... or NULL */
	const char *devpath; /* /devices/pci0000:00/.../block/vda, or NULL */
	const char *ifname;  /* a network interface's name (INTERFACE=), or NULL */
	long major, minor;   /* -1 if not given */
	bool eject;          /* DISK_EJECT_REQUEST=1 */
};

/* The kernel's uevent socket, non-blocking; -1 (errno) if there is none. */
int uevent_open(void);
/* buf[0..n) as received (NUL-separated "KEY=value" after a header line);
 * buf[n] must be writable. 0, or -1 if it has no ACTION or SUBSYSTEM. */
int uevent_parse(char *buf, size_t n, struct uevent *u);
/* A CPU plugged in (ACTION=add, SUBSYSTEM=cpu: xm vcpu-set): bring it
 * online (1 to /sys/devices/system/cpu/cpuN/online), as a Xen guest's
 * kernel does by itself; the guest has no udev to do it. Other events:
 * nothing. 1 when it brought a CPU online, 0 otherwise. */
int uevent_cpu_online(const struct uevent *u);
/* xmfront --uevents: print each block event on standard output, one line
 * each ("xmfront-uevent ACTION DEVNAME DEVTYPE"), and each network
 * interface's ("xmfront-uevent ACTION IFNAME net"), until killed; with
 * match (--uevents=MATCH), only those whose device path contains it. */
int uevent_monitor(const char *match);

#endif
