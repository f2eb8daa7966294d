/*
 * xsshim.c — a preload library that lets Xen 4.17's own XenStore daemons
 * (Debian's xen-utils-4.17: cxenstored, written in C, and oxenstored, in
 * OCaml) run on a host without a hypervisor, as plain Unix-socket daemons.
 * The tests compare xmstored's replies with theirs and the benchmarks use
 * them as the baseline. Loaded with LD_PRELOAD by tests/refxs/refxs.sh.
 *
 * Design. Both daemons, started without options that skip it, set up
 * domain 0 the way they do under Xen: they open the control, event-channel
 * and grant-table interfaces, read the event-channel port of dom0's ring from
 * /proc/xen/xsd_port, map dom0's ring page from /proc/xen/xsd_kva, bind the
 * "domain died" VIRQ and the ring's channel, and ask the hypervisor which
 * domains exist. (cxenstored's -D, which skips this, leaves its database
 * unset and crashes on the first request.) This library answers each of
 * those calls as a hypervisor with only domain 0 would, and nothing more:
 *
 *   xc_interface_open, xc_domain_getinfo(list)   a handle; domain 0 exists,
 *                                                running, and no other one
 *   xc_map_foreign_range                         fails with ENOSYS, as
 *                                                xengnttab_map_grant_ref
 *   xenevtchn_open/fdopen, xenevtchn_fd          an eventfd that never becomes
 *                                                readable: no event ever comes,
 *                                                the poll loop sees sockets only
 *   xenevtchn_bind_*                             fresh port numbers
 *   xengnttab_open, _set_max_grants              a handle
 *   xengnttab_map_grant_ref                      fails with ENOSYS: a guest's
 *                                                ring cannot be mapped, so an
 *                                                INTRODUCE of a guest fails
 *                                                (cxenstored maps it so,
 *                                                oxenstored by the call above)
 *   open(/proc/xen/xsd_port)                     a memory file holding "1"
 *   open(/proc/xen/xsd_kva)                      a zeroed page-sized memory
 *                                                file: dom0's ring, which no
 *                                                one ever writes
 *   setrlimit/prlimit(RLIMIT_NOFILE)             clamped to the hard limit
 *                                                (oxenstored asks for more
 *                                                than a container may grant)
 *
 * Every other open goes to the kernel unchanged. The library is built without
 * sanitizers (tests/refxs/module.mk): it is loaded into uninstrumented
 * programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define XC_WANT_COMPAT_MAP_FOREIGN_API /* declares xc_map_foreign_range */
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

/* The handles are opaque to the daemons; any distinct non-NULL pointer does. */
static char xc_handle;
static char gnt_handle;
static int evtchn_fd = -1;
static uint32_t next_port = 10;

/* ---- control interface: only domain 0 exists ------------------------- */

xc_interface *xc_interface_open(xentoollog_logger *logger,
				xentoollog_logger *dombuild_logger, unsigned flags)
{
	(void)logger; (void)dombuild_logger; (void)flags;
	return (xc_interface *)&xc_handle;
}

int xc_interface_close(xc_interface *xch)
{
	(void)xch;
	return 0;
}

/* cxenstored asks with xc_domain_getinfo, oxenstored with the list variant */
int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
		      unsigned int max_doms, xc_dominfo_t *info)
{
	(void)xch;
	if (first_domid != 0 || max_doms == 0)
		return 0;
	memset(info, 0, sizeof(*info));
	info->domid = 0;
	info->running = 1;
	info->nr_online_vcpus = 1;
	return 1;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
			  unsigned int max_domains, xc_domaininfo_t *info)
{
	(void)xch;
	if (first_domain != 0 || max_domains == 0)
		return 0;
	memset(info, 0, sizeof(*info));
	info->domain = 0;
	info->flags = XEN_DOMINF_running;
	return 1;
}

/* oxenstored maps a guest's ring page through the control interface */
void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
			   unsigned long mfn)
{
	(void)xch; (void)dom; (void)size; (void)prot; (void)mfn;
	errno = ENOSYS;
	return NULL;
}

/* ---- event channels: a descriptor that stays silent ------------------- */

static xenevtchn_handle *evtchn_handle(void)
{
	if (evtchn_fd < 0)
		evtchn_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return evtchn_fd < 0 ? NULL : (xenevtchn_handle *)&evtchn_fd;
}

xenevtchn_handle *xenevtchn_open(xentoollog_logger *logger, unsigned flags)
{
	(void)logger; (void)flags;
	return evtchn_handle();
}

xenevtchn_handle *xenevtchn_fdopen(xentoollog_logger *logger, int fd,
				   unsigned flags)
{
	(void)logger; (void)fd; (void)flags;
	return evtchn_handle();
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	(void)xce;
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	(void)xce;
	return evtchn_fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce; (void)port;
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
						     uint32_t domid,
						     evtchn_port_t remote_port)
{
	(void)xce; (void)domid; (void)remote_port;
	return next_port++;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce,
					      unsigned int virq)
{
	(void)xce; (void)virq;
	return next_port++;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce,
						      uint32_t domid)
{
	(void)xce; (void)domid;
	return next_port++;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce; (void)port;
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	(void)xce;
	errno = EAGAIN;
	return -1;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce; (void)port;
	return 0;
}

/* ---- grant tables: nothing to map ------------------------------------ */

xengnttab_handle *xengnttab_open(xentoollog_logger *logger, unsigned flags)
{
	(void)logger; (void)flags;
	return (xengnttab_handle *)&gnt_handle;
}

int xengnttab_close(xengnttab_handle *xgt)
{
	(void)xgt;
	return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	(void)xgt; (void)nr_grants;
	return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
			      uint32_t ref, int prot)
{
	(void)xgt; (void)domid; (void)ref; (void)prot;
	errno = ENOSYS;
	return NULL;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
		    uint32_t count)
{
	(void)xgt; (void)start_address; (void)count;
	return 0;
}

/* ---- /proc/xen: dom0's ring port and page ----------------------------- */

/* A memory file holding LEN bytes of DATA, or SIZE zero bytes when DATA is
 * NULL; positioned at its start. */
static int memory_file(const char *name, const char *data, size_t len,
		       off_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if ((data && write(fd, data, len) != (ssize_t)len) ||
	    (!data && ftruncate(fd, size) != 0) ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The descriptor standing in for PATH, or -2 when PATH is not ours. */
static int proc_xen(const char *path)
{
	if (path && strcmp(path, "/proc/xen/xsd_port") == 0)
		return memory_file("xsd_port", "1", 1, 0);
	if (path && strcmp(path, "/proc/xen/xsd_kva") == 0)
		return memory_file("xsd_kva", NULL, 0, sysconf(_SC_PAGESIZE));
	return -2;
}

static int open_any(const char *path, int flags, mode_t mode)
{
	int fd = proc_xen(path);

	if (fd != -2)
		return fd;
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* The mode argument is there only when the flags ask to create a file
 * (O_TMPFILE includes O_DIRECTORY, which alone does not). */
#define OPEN_MODE(flags, mode) do {                                    \
	if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {  \
		va_list ap;                                            \
		va_start(ap, flags);                                   \
		mode = va_arg(ap, mode_t);                             \
		va_end(ap);                                            \
	}                                                              \
} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return open_any(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return open_any(path, flags | O_LARGEFILE, mode);
}

/* ---- RLIMIT_NOFILE: no more than the hard limit ---------------------- */

static int set_limit(pid_t pid, int resource, const struct rlimit *want,
		     struct rlimit *old)
{
	struct rlimit hard, r;

	if (want && resource == RLIMIT_NOFILE &&
	    syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, NULL, &hard) == 0) {
		r = *want;
		if (r.rlim_max > hard.rlim_max)
			r.rlim_max = hard.rlim_max;
		if (r.rlim_cur > r.rlim_max)
			r.rlim_cur = r.rlim_max;
		want = &r;
	}
	return (int)syscall(SYS_prlimit64, pid, resource, want, old);
}

int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
	return set_limit(0, (int)resource, rlim, NULL);
}

int prlimit(pid_t pid, __rlimit_resource_t resource,
	    const struct rlimit *new_limit, struct rlimit *old_limit)
{
	return set_limit(pid, (int)resource, new_limit, old_limit);
}
