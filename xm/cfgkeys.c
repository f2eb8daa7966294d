/*
 * cfgkeys.c — the table of config keys (cfgkeys.h): every top-level key of
 * xl.cfg(5) (Xen 4.17) and of xm's xmexample1, xmexample2 and
 * xmexample.hvm, in xl.cfg(5)'s order, xm's own keys last. One entry a
 * key, its first line in the form K("key", STATUS, 'kind', "values",
 * which tests/proto/cfgkeys.sh reads to check the table against
 * man/xm.cfg.5 and against what `xm create -n` does with each key.
 *
 * A planned key becomes honoured by changing its PLANNED to HONOURED (and
 * reading it in config.c); an ..._IF_YET one by widening its values.
 */
#include "cfgkeys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K(key, status, kind, values, why) { key, CK_##status, kind, values, why }

/* Reasons several keys share. */
#define NO_DISPLAY "a guest has no display (QEMU runs with -display none), only its serial console (xm console)"
#define NO_VNC "a guest has no VNC display (only vnc = 0): its console is xm console"
#define NO_SPICE "a guest has no SPICE display (only spice = 0): its console is xm console"
#define NO_PASSTHROUGH "device passthrough needs Xen's IOMMU setup"
#define NO_PCI "PCI passthrough needs Xen's IOMMU setup"
#define XEN_SCHED "a Xen scheduler setting; a guest is a QEMU process, which xm does not schedule"
#define XEN_PAGING "Xen's paging of guest memory; QEMU's accelerator (XM_ACCEL) does its own"
#define XSM_LABEL "XSM/FLASK labels need Xen's security module"
#define NO_GRANTS "a guest has no grant tables: its block I/O goes through QEMU"
#define NO_STUBDOM "stub domains are Xen's; xm confines QEMU itself (uid, chroot, -sandbox)"
#define NO_FIRMWARE "an HVM guest has QEMU's SeaBIOS, a PV guest no firmware: xm loads no other"
#define XEN_TIMER "a Xen virtual-timer setting; QEMU's timers are its own"
#define NO_USB "a guest has no USB controller"
#define NO_PVFRONT "a Xen PV device xm's guests do not have"
#define ARM_ONLY "an ARM setting; xm's guests are x86"
#define XEND_IP "xend made the kernel's ip= of it: put ip=... in extra"
#define NO_BACKEND "a guest cannot serve other guests' devices"
#define BOOTLOADER "xm runs no bootloader in dom0 (pygrub): give kernel = and ramdisk =, " \
	"or builder = \"hvm\" to boot the disk's own boot loader through the BIOS"
#define ACTIONS "the actions of xl.cfg(5) are these (soft-reset is only on_soft_reset's)"

const struct cfgkey cfgkeys[] = {
	/* Mandatory, guest type */
	K("name", HONOURED, 's', NULL, NULL),
	K("type", HONOURED_IF, 's', "pv|pvh|hvm", "a guest is booted from its kernel (pv, pvh) or by its BIOS (hvm)"),
	K("builder", HONOURED_IF, 's', "linux|generic|hvm",
	  "a guest is booted from its kernel (linux, generic) or by its BIOS (hvm)"),
	/* CPU allocation and scheduling */
	K("pool", ACCEPTED_IF, 's', "Pool-0", "cpupools are Xen's scheduler's; xm has only Pool-0"),
	K("vcpus", HONOURED, 'n', NULL, NULL),
	K("maxvcpus", HONOURED, 'n', NULL, NULL),
	K("cpus", HONOURED, 'x', NULL, NULL),
	K("cpus_soft", ACCEPTED_IF, 'x', "|all",
	  "soft affinity is a Xen scheduler hint; a guest is a QEMU process, which xm does not schedule"),
	K("cpu_weight", ACCEPTED_IF, 'n', "256", XEN_SCHED),
	K("cap", ACCEPTED_IF, 'n', "0", XEN_SCHED),
	/* Memory */
	K("memory", HONOURED, 'n', NULL, NULL),
	K("maxmem", HONOURED, 'n', NULL, NULL),
	K("vnuma", REFUSED, 'l', NULL, "a guest has one NUMA node"),
	/* Event actions */
	K("on_poweroff", HONOURED_IF, 's', "destroy|restart|preserve|rename-restart|coredump-destroy|coredump-restart",
	  ACTIONS),
	K("on_reboot", HONOURED_IF, 's', "destroy|restart|preserve|rename-restart|coredump-destroy|coredump-restart",
	  ACTIONS),
	K("on_watchdog", REFUSED, 's', NULL, "a guest has no Xen watchdog"),
	K("on_crash", HONOURED_IF, 's', "destroy|restart|preserve|rename-restart|coredump-destroy|coredump-restart",
	  ACTIONS),
	K("on_soft_reset", REFUSED, 's', NULL, "xm has no soft reset (kexec in HVM guests)"),
	/* Direct kernel boot */
	K("kernel", HONOURED, 's', NULL, NULL),
	K("ramdisk", HONOURED, 's', NULL, NULL),
	K("cmdline", HONOURED, 's', NULL, NULL),
	K("root", HONOURED, 's', NULL, NULL),
	K("extra", HONOURED, 's', NULL, NULL),
	/* Non direct kernel boot */
	K("firmware", REFUSED, 's', NULL, NO_FIRMWARE),
	K("pvshim", ACCEPTED_IF, 'n', "0", "the PV shim runs PV guests in PVH ones on Xen"),
	K("pvshim_path", REFUSED, 's', NULL, "xm runs no PV shim (only pvshim = 0)"),
	K("pvshim_cmdline", REFUSED, 's', NULL, "xm runs no PV shim (only pvshim = 0)"),
	K("pvshim_extra", REFUSED, 's', NULL, "xm runs no PV shim (only pvshim = 0)"),
	/* Other options */
	K("uuid", HONOURED, 's', NULL, NULL),
	K("seclabel", REFUSED, 's', NULL, XSM_LABEL),
	K("init_seclabel", REFUSED, 's', NULL, XSM_LABEL),
	K("max_grant_frames", REFUSED, 'n', NULL, NO_GRANTS),
	K("max_maptrack_frames", REFUSED, 'n', NULL, NO_GRANTS),
	K("max_grant_version", REFUSED, 'n', NULL, NO_GRANTS),
	K("nomigrate", ACCEPTED_IF, 'n', "0|1", "xm does not migrate guests"),
	K("driver_domain", ACCEPTED_IF, 'n', "0", NO_BACKEND),
	K("device_tree", REFUSED, 's', NULL, ARM_ONLY),
	K("passthrough", ACCEPTED_IF, 's', "disabled", NO_PASSTHROUGH),
	K("xend_suspend_evtchn_compat", REFUSED, 'n', NULL,
	  "xm does not suspend guests (xm save)"),
	K("vmtrace_buf_kb", REFUSED, 'n', NULL, "processor tracing is Xen's"),
	K("vpmu", ACCEPTED_IF, 'n', "0", "the virtual PMU is Xen's"),
	/* Devices */
	K("disk", HONOURED, 'l', NULL, NULL),
	K("vif", HONOURED, 'l', NULL, NULL),
	K("vtpm", REFUSED, 'l', NULL, "virtual TPMs need Xen's vTPM stub domains"),
	K("p9", REFUSED, 'l', NULL, "xm shares no host folder (9pfs) with a guest"),
	K("pvcalls", REFUSED, 'l', NULL, NO_PVFRONT),
	K("vfb", REFUSED, 'l', NULL, NO_DISPLAY),
	K("channel", REFUSED, 'l', NULL, "a guest's one channel is its XenStore port"),
	K("rdm", REFUSED, 's', NULL, NO_PASSTHROUGH),
	K("usbctrl", REFUSED, 'l', NULL, NO_USB),
	K("usbdev", REFUSED, 'l', NULL, NO_USB),
	K("pci", REFUSED, 'l', NULL, NO_PCI),
	K("pci_permissive", REFUSED, 'n', NULL, NO_PCI),
	K("pci_msitranslate", REFUSED, 'n', NULL, NO_PCI),
	K("pci_seize", REFUSED, 'n', NULL, NO_PCI),
	K("pci_power_mgmt", REFUSED, 'n', NULL, NO_PCI),
	K("gfx_passthru", ACCEPTED_IF, 'x', "0", NO_PASSTHROUGH),
	K("rdm_mem_boundary", REFUSED, 'n', NULL, NO_PASSTHROUGH),
	K("dtdev", REFUSED, 'l', NULL, ARM_ONLY),
	K("ioports", REFUSED, 'l', NULL, NO_PASSTHROUGH),
	K("iomem", REFUSED, 'l', NULL, NO_PASSTHROUGH),
	K("irqs", REFUSED, 'l', NULL, NO_PASSTHROUGH),
	K("max_event_channels", REFUSED, 'n', NULL, "a guest has no Xen event channels"),
	K("vdispl", REFUSED, 'l', NULL, NO_PVFRONT),
	K("dm_restrict", ACCEPTED_IF, 'n', "1",
	  "xm always runs QEMU deprivileged (XM_DEBUG_QEMU_AS_ROOT is for debugging only)"),
	K("device_model_user", REFUSED, 's', NULL,
	  "each guest's QEMU runs under its own uid, XM_QEMU_UID_BASE + its domain id"),
	K("vsnd", REFUSED, 'l', NULL, NO_PVFRONT),
	K("vkb", REFUSED, 'l', NULL, NO_PVFRONT),
	K("tee", ACCEPTED_IF, 's', "none", ARM_ONLY),
	/* PV */
	K("bootloader", REFUSED, 's', NULL, BOOTLOADER),
	K("bootloader_args", REFUSED, 'l', NULL, BOOTLOADER),
	K("e820_host", ACCEPTED_IF, 'n', "0", "the host's memory map is Xen's to give"),
	/* HVM */
	K("boot", HONOURED, 's', NULL, NULL),
	K("hdtype", REFUSED, 's', NULL, "a guest's disks are virtio-blk, its CD-ROMs SCSI: no IDE or AHCI"),
	K("hap", REFUSED, 'n', NULL, XEN_PAGING),
	K("oos", REFUSED, 'n', NULL, XEN_PAGING),
	K("shadow_memory", REFUSED, 'n', NULL, XEN_PAGING),
	K("bios", REFUSED, 's', NULL, NO_FIRMWARE),
	K("bios_path_override", REFUSED, 's', NULL, NO_FIRMWARE),
	K("pae", ACCEPTED_IF, 'n', "1", "a guest's CPU always has PAE"),
	K("acpi", ACCEPTED_IF, 'n', "1", "a guest always has ACPI"),
	K("acpi_s3", REFUSED, 'n', NULL, "a guest does not sleep: xm has no resume"),
	K("acpi_s4", REFUSED, 'n', NULL, "a guest does not sleep: xm has no resume"),
	K("acpi_laptop_slate", REFUSED, 'n', NULL, "a guest has no laptop/slate switch"),
	K("apic", ACCEPTED_IF, 'n', "1", "a guest always has an APIC"),
	K("nx", ACCEPTED_IF, 'n', "1", "a guest's CPU always has NX"),
	K("hpet", ACCEPTED_IF, 'n', "1", "a guest always has an HPET"),
	K("altp2m", ACCEPTED_IF, 's', "disabled", "alternate p2m views are Xen's"),
	K("altp2mhvm", ACCEPTED_IF, 'n', "0", "alternate p2m views are Xen's"),
	K("nestedhvm", ACCEPTED_IF, 'n', "0", "a guest runs no guests of its own"),
	K("cpuid", REFUSED, 'x', NULL, "a CPUID policy is Xen's; a guest has QEMU's CPU model"),
	K("acpi_firmware", REFUSED, 's', NULL, "xm adds no ACPI tables"),
	K("smbios_firmware", REFUSED, 's', NULL, "xm adds no SMBIOS tables"),
	K("ms_vm_genid", ACCEPTED_IF, 's', "none", "a guest has no VM generation id"),
	K("tsc_mode", ACCEPTED_IF, 'x', "default", "Xen's TSC modes; QEMU's TSC is its own"),
	K("localtime", ACCEPTED_IF, 'n', "0", "a guest's clock is in UTC"),
	K("rtc_timeoffset", ACCEPTED_IF, 'n', "0", "a guest's clock is the host's"),
	K("vpt_align", REFUSED, 'n', NULL, XEN_TIMER),
	K("timer_mode", REFUSED, 'x', NULL, XEN_TIMER),
	K("mmio_hole", REFUSED, 'n', NULL, "the MMIO hole is QEMU's q35 layout"),
	K("xen_platform_pci", ACCEPTED_IF, 'n', "0",
	  "a guest has no Xen platform device: its agent is xmfront"),
	K("viridian", ACCEPTED_IF, 'x', "0", "a guest has no Hyper-V enlightenments"),
	K("videoram", REFUSED, 'n', NULL, NO_DISPLAY),
	K("stdvga", REFUSED, 'n', NULL, NO_DISPLAY),
	K("vga", ACCEPTED_IF, 's', "none", NO_DISPLAY),
	K("vnc", ACCEPTED_IF, 'n', "0", NO_DISPLAY),
	K("vnclisten", REFUSED, 's', NULL, NO_VNC),
	K("vncdisplay", REFUSED, 'n', NULL, NO_VNC),
	K("vncunused", REFUSED, 'n', NULL, NO_VNC),
	K("vncpasswd", REFUSED, 's', NULL, NO_VNC),
	K("keymap", REFUSED, 's', NULL, NO_DISPLAY),
	K("sdl", ACCEPTED_IF, 'n', "0", NO_DISPLAY),
	K("opengl", ACCEPTED_IF, 'n', "0", NO_DISPLAY),
	K("nographic", ACCEPTED_IF, 'n', "1", NO_DISPLAY),
	K("spice", ACCEPTED_IF, 'n', "0", NO_DISPLAY),
	K("spicehost", REFUSED, 's', NULL, NO_SPICE),
	K("spiceport", REFUSED, 'n', NULL, NO_SPICE),
	K("spicetls_port", REFUSED, 'n', NULL, NO_SPICE),
	K("spicedisable_ticketing", REFUSED, 'n', NULL, NO_SPICE),
	K("spicepasswd", REFUSED, 's', NULL, NO_SPICE),
	K("spiceagent_mouse", REFUSED, 'n', NULL, NO_SPICE),
	K("spicevdagent", REFUSED, 'n', NULL, NO_SPICE),
	K("spice_clipboard_sharing", REFUSED, 'n', NULL, NO_SPICE),
	K("spiceusbredirection", REFUSED, 'n', NULL, NO_SPICE),
	K("spice_image_compression", REFUSED, 's', NULL, NO_SPICE),
	K("spice_streaming_video", REFUSED, 's', NULL, NO_SPICE),
	K("serial", HONOURED_IF, 'x', "pty",
	  "a guest's serial port is its console (xm console); xm makes no other"),
	K("soundhw", REFUSED, 's', NULL, "a guest has no sound card"),
	K("vkb_device", ACCEPTED_IF, 'n', "0", NO_DISPLAY),
	K("usb", ACCEPTED_IF, 'n', "0", NO_USB),
	K("usbversion", REFUSED, 'n', NULL, NO_USB),
	K("usbdevice", REFUSED, 'x', NULL, NO_USB),
	K("vendor_device", ACCEPTED_IF, 's', "none", "a guest has no Xen PV driver vendor device"),
	/* Device model */
	K("device_model_version", ACCEPTED_IF, 's', "qemu-xen",
	  "xm runs upstream QEMU (qemu-xen)"),
	K("device_model_override", REFUSED, 's', NULL, "xm runs the QEMU that XM_QEMU names"),
	K("stubdomain_kernel", REFUSED, 's', NULL, NO_STUBDOM),
	K("stubdomain_cmdline", REFUSED, 's', NULL, NO_STUBDOM),
	K("stubdomain_ramdisk", REFUSED, 's', NULL, NO_STUBDOM),
	K("stubdomain_memory", REFUSED, 'n', NULL, NO_STUBDOM),
	K("device_model_stubdomain_override", ACCEPTED_IF, 'n', "0", NO_STUBDOM),
	K("device_model_stubdomain_seclabel", REFUSED, 's', NULL, XSM_LABEL),
	K("device_model_args", REFUSED, 'l', NULL,
	  "xm makes QEMU's command line; extra arguments could undo its confinement"),
	K("device_model_args_pv", REFUSED, 'l', NULL,
	  "xm makes QEMU's command line; extra arguments could undo its confinement"),
	K("device_model_args_hvm", REFUSED, 'l', NULL,
	  "xm makes QEMU's command line; extra arguments could undo its confinement"),
	/* Architecture */
	K("gic_version", REFUSED, 's', NULL, ARM_ONLY),
	K("vuart", REFUSED, 's', NULL, ARM_ONLY),
	K("mca_caps", REFUSED, 'l', NULL, "machine-check capabilities are Xen's"),
	K("msr_relaxed", ACCEPTED_IF, 'n', "0", "MSR access is QEMU's"),
	/* xm's own (xmexample1, xmexample2, xmexample.hvm; xend) */
	K("device_model", REFUSED, 's', NULL, "xm runs the QEMU that XM_QEMU names"),
	K("vncconsole", REFUSED, 'n', NULL, NO_VNC),
	K("vncviewer", REFUSED, 'n', NULL, NO_VNC),
	K("display", REFUSED, 's', NULL, NO_DISPLAY),
	K("xauthority", REFUSED, 's', NULL, NO_DISPLAY),
	K("monitor", REFUSED, 'n', NULL, "QEMU's monitor is xm's own (qmp.sock)"),
	K("cpu_cap", ACCEPTED_IF, 'n', "0", XEN_SCHED),
	K("cpuid_check", REFUSED, 'x', NULL, "a CPUID policy is Xen's; a guest has QEMU's CPU model"),
	K("vcpu_avail", REFUSED, 'n', NULL,
	  "xend's bitmap of online vCPUs: give vcpus = and maxvcpus = (xm vcpu-set)"),
	K("dhcp", REFUSED, 's', NULL, XEND_IP),
	K("ip", REFUSED, 's', NULL, XEND_IP),
	K("netmask", REFUSED, 's', NULL, XEND_IP),
	K("gateway", REFUSED, 's', NULL, XEND_IP),
	K("hostname", REFUSED, 's', NULL, XEND_IP),
	K("interface", REFUSED, 's', NULL, XEND_IP),
	K("nfs_server", REFUSED, 's', NULL, "xend made the kernel's nfsroot= of it: put it in extra"),
	K("nfs_root", REFUSED, 's', NULL, "xend made the kernel's nfsroot= of it: put it in extra"),
	K("bootargs", REFUSED, 's', NULL, BOOTLOADER),
	K("vscsi", REFUSED, 'l', NULL, "SCSI passthrough needs Xen's pvSCSI backend"),
	K("irq", REFUSED, 'l', NULL, NO_PASSTHROUGH),
	K("fda", REFUSED, 's', NULL, "a guest has no floppy drive"),
	K("fdb", REFUSED, 's', NULL, "a guest has no floppy drive"),
	K("isa", REFUSED, 'n', NULL, "a guest is a PC with PCI"),
	K("guest_os_type", REFUSED, 's', NULL, "an IA-64 setting; xm's guests are x86"),
	K("vhpt", REFUSED, 'n', NULL, "an IA-64 setting; xm's guests are x86"),
	K("machine_address_size", REFUSED, 'n', NULL, "a Xen PV memory setting"),
	K("superpages", REFUSED, 'n', NULL, "a Xen PV memory setting"),
	K("s3_integrity", REFUSED, 'n', NULL, "Intel TXT is Xen's"),
	K("security", REFUSED, 'x', NULL, XSM_LABEL),
	K("access_control", REFUSED, 'l', NULL, XSM_LABEL),
	K("blkif", ACCEPTED_IF, 'n', "0", NO_BACKEND),
	K("netif", ACCEPTED_IF, 'n', "0", NO_BACKEND),
	K("tpmif", ACCEPTED_IF, 'n', "0", NO_BACKEND),
	K("on_xend_start", ACCEPTED_IF, 's', "ignore", "xm has no daemon that starts guests"),
	K("on_xend_stop", ACCEPTED_IF, 's', "ignore", "xm has no daemon that stops guests"),
};

const size_t cfgkeys_count = sizeof(cfgkeys) / sizeof(cfgkeys[0]);

const struct cfgkey *cfgkey_find(const char *s, size_t n)
{
	for (size_t i = 0; i < cfgkeys_count; i++)
		if (strlen(cfgkeys[i].key) == n && memcmp(cfgkeys[i].key, s, n) == 0)
			return &cfgkeys[i];
	return NULL;
}

/* Edits (insert, delete, change, swap two neighbours) from a to b, or
 * more than max (then max + 1). Keys are short: 40 bytes at most. */
static size_t distance(const char *a, size_t m, const char *b, size_t n, size_t max)
{
	size_t d[41][41];
	if (m > 40 || n > 40)
		return max + 1;
	for (size_t i = 0; i <= m; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= n; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= m; i++)
		for (size_t j = 1; j <= n; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[m][n] > max ? max + 1 : d[m][n];
}

const char *cfgkey_nearest(const char *s, size_t n)
{
	/* Two edits, one for keys of 4 bytes or fewer: two edits turn a short
	 * word into too many keys ("ip" into "irq", "isa", "nx", ...). */
	size_t max = n <= 4 ? 1 : 2, best = max + 1;
	const char *found = NULL;
	for (size_t i = 0; i < cfgkeys_count; i++) {
		size_t d = distance(s, n, cfgkeys[i].key, strlen(cfgkeys[i].key), max);
		if (d < best) {
			best = d;
			found = cfgkeys[i].key;
		}
	}
	return found;
}

bool cfgkey_planned(const struct cfgkey *k)
{
	return k->status == CK_PLANNED || k->status == CK_HONOURED_IF_YET ||
	       k->status == CK_ACCEPTED_IF_YET;
}

bool cfgkey_allows(const struct cfgkey *k, const char *value,
		   const char *(*same)(const char *key, void *ctx), void *ctx)
{
	if (!k->values)
		return true;
	for (const char *p = k->values;;) {
		size_t n = strcspn(p, "|");
		char tok[64];
		snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
		const char *want = tok;
		if (tok[0] == '=')
			want = same(tok + 1, ctx);
		if (want && strcmp(want, value) == 0)
			return true;
		if (!p[n])
			return false;
		p += n + 1;
	}
}

void cfgkey_values_text(const struct cfgkey *k, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	if (!k->values)
		return;
	for (const char *p = k->values;;) {
		size_t n = strcspn(p, "|");
		const char *sep = used == 0 ? "" : p[n] ? ", " : " or ";
		int w;
		if (p[0] == '=')
			w = snprintf(buf + used, len - used, "%s%s = %.*s", sep, k->key,
				     (int)n - 1, p + 1);
		else if (k->kind == 'n' || (n > 0 && strspn(p, "0123456789") >= n))
			w = snprintf(buf + used, len - used, "%s%.*s", sep, (int)n, p);
		else
			w = snprintf(buf + used, len - used, "%s\"%.*s\"", sep, (int)n, p);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
		if (!p[n])
			return;
		p += n + 1;
	}
}
