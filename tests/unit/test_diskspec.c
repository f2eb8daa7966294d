/*
 * test_diskspec.c — disk specifications (lib/diskspec.c): xm's three
 * arguments with xend's messages, xl's disk-spec strings cross-checked
 * against libxlutil's own parser (xlu_disk_parse, Xen 4.17) on the same
 * inputs, config entries, and the exact error texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxlutil.h>

#include "diskspec.h"
#include "vdev.h"

/* ------------------------------------------------------------ xm form */

struct xm_case {
	const char *back, *front, *mode;
	const char *err;        /* NULL: must parse */
	const char *target;
	enum disk_backend backend;
	enum disk_format format;
	const char *vdev;
	unsigned long devid;
	enum disk_mode dmode;
	bool cdrom, empty;
};

#define OK_(b, f, m, tgt, be, fmt, vd, id, md, cd, em) \
	{ b, f, m, NULL, tgt, be, fmt, vd, id, md, cd, em }
#define ERR_(b, f, m, e) { b, f, m, e, NULL, DISK_PHY, DISK_FMT_RAW, NULL, 0, DISK_MODE_R, false, false }

static const struct xm_case xm_cases[] = {
	/* the reference session */
	OK_("phy:/dev/sr0", "/dev/xvda2", "r", "/dev/sr0", DISK_PHY, DISK_FMT_RAW, "xvda2", 51714,
	    DISK_MODE_R, false, false),
	OK_("file:/srv/dvd.iso", "/dev/xvda2", "r", "/srv/dvd.iso", DISK_FILE, DISK_FMT_RAW, "xvda2",
	    51714, DISK_MODE_R, false, false),
	OK_("phy:/dev/loop0", "xvdb", "w", "/dev/loop0", DISK_PHY, DISK_FMT_RAW, "xvdb", 51728,
	    DISK_MODE_W, false, false),
	/* phy: with a relative name gets /dev/ (Xen's block script) */
	OK_("phy:loop0", "xvdb", "w", "/dev/loop0", DISK_PHY, DISK_FMT_RAW, "xvdb", 51728,
	    DISK_MODE_W, false, false),
	OK_("phy:/dev/loop0", "xvdb", "w!", "/dev/loop0", DISK_PHY, DISK_FMT_RAW, "xvdb", 51728,
	    DISK_MODE_W_SHARED, false, false),
	OK_("tap:aio:/a.img", "xvdc", "w!", "/a.img", DISK_QDISK, DISK_FMT_RAW, "xvdc", 51744,
	    DISK_MODE_W_SHARED, false, false),
	OK_("tap:sync:/a.img", "xvdc", "rw", "/a.img", DISK_QDISK, DISK_FMT_RAW, "xvdc", 51744,
	    DISK_MODE_W, false, false),
	OK_("tap:qcow2:/a.qcow2", "xvdd", "w", "/a.qcow2", DISK_QDISK, DISK_FMT_QCOW2, "xvdd", 51760,
	    DISK_MODE_W, false, false),
	OK_("tap2:tapdisk:aio:/a", "xvde", "rw", "/a", DISK_QDISK, DISK_FMT_RAW, "xvde", 51776,
	    DISK_MODE_W, false, false),
	OK_("tap2:aio:/a", "xvde", "ro", "/a", DISK_QDISK, DISK_FMT_RAW, "xvde", 51776, DISK_MODE_R,
	    false, false),
	OK_("tap:/a.img", "xvdf", "ro", "/a.img", DISK_QDISK, DISK_FMT_RAW, "xvdf", 51792,
	    DISK_MODE_R, false, false),
	OK_("qcow2:/b.qcow2", "51714", "w", "/b.qcow2", DISK_QDISK, DISK_FMT_QCOW2, "51714", 51714,
	    DISK_MODE_W, false, false),
	OK_("raw:/c.img", "0xca02", "w", "/c.img", DISK_QDISK, DISK_FMT_RAW, "0xca02", 51714,
	    DISK_MODE_W, false, false),
	OK_("file:/a", "xvdq", "w", "/a", DISK_FILE, DISK_FMT_RAW, "xvdq", 1ul << 28 | 16 << 8,
	    DISK_MODE_W, false, false),
	OK_("file:/a", "xvda16", "w", "/a", DISK_FILE, DISK_FMT_RAW, "xvda16", 1ul << 28 | 16,
	    DISK_MODE_W, false, false),
	OK_("file:/a:b", "hdc", "w", "/a:b", DISK_FILE, DISK_FMT_RAW, "hdc", 5632, DISK_MODE_W,
	    false, false),
	OK_("phy:/dev/sdb1", "sdb1:disk", "w", "/dev/sdb1", DISK_PHY, DISK_FMT_RAW, "sdb1", 2065,
	    DISK_MODE_W, false, false),
	OK_("phy:/dev/sdb", "ioemu:hdb", "w", "/dev/sdb", DISK_PHY, DISK_FMT_RAW, "hdb", 832,
	    DISK_MODE_W, false, false),
	/* cdroms: read-only whatever the mode; "" or "phy:" is an empty drive */
	OK_("file:/x.iso", "hdc:cdrom", "r", "/x.iso", DISK_FILE, DISK_FMT_RAW, "hdc", 5632,
	    DISK_MODE_R, true, false),
	OK_("file:/x.iso", "/dev/xvdc:cdrom", "w", "/x.iso", DISK_FILE, DISK_FMT_RAW, "xvdc", 51744,
	    DISK_MODE_R, true, false),
	OK_("", "hdc:cdrom", "r", "", DISK_PHY, DISK_FMT_RAW, "hdc", 5632, DISK_MODE_R, true, true),
	OK_(NULL, "hdc:cdrom", "r", "", DISK_PHY, DISK_FMT_RAW, "hdc", 5632, DISK_MODE_R, true, true),
	OK_("phy:", "/dev/hdc:cdrom", "r", "", DISK_PHY, DISK_FMT_RAW, "hdc", 5632, DISK_MODE_R, true,
	    true),
	/* xend's default mode */
	OK_("phy:/dev/sr0", "xvda", NULL, "/dev/sr0", DISK_PHY, DISK_FMT_RAW, "xvda", 51712,
	    DISK_MODE_R, false, false),

	/* xend's messages */
	ERR_("/dev/sr0", "xvda", "r", "Block device must have physical details specified"),
	ERR_("", "xvda", "r", "Block device must have physical details specified"),
	ERR_(NULL, "xvda", "r", "Block device must have physical details specified"),
	ERR_("phy:", "xvda", "w", "Block device must have physical details specified"),
	ERR_("file:", "xvda:disk", "w", "Block device must have physical details specified"),
	ERR_("foo:/x", "xvda", "r", "Block device type \"foo\" is invalid."),
	ERR_(":/x", "xvda", "r", "Block device type \"\" is invalid."),
	ERR_("PHY:/x", "xvda", "r", "Block device type \"PHY\" is invalid."),
	ERR_("tap:vhd:/x", "xvda", "r", "Block device type \"tap:vhd\" is invalid."),
	ERR_("tap2:tapdisk:remus:/x", "xvda", "r", "Block device type \"tap2:remus\" is invalid."),
	ERR_("phy:/dev/sr0", "xvda2", "x", "Invalid mode"),
	ERR_("phy:/dev/sr0", "xvda2", "W", "Invalid mode"),
	ERR_("phy:/dev/sr0", "xvda2", "", "Invalid mode"),
	ERR_("phy:/dev/sr0", "xvda2", "r!", "Invalid mode"),
	ERR_("phy:/dev/sr0", "xvda2", "w!!", "Invalid mode"),
	ERR_("phy:/dev/sr0", "xvda0", "r", "Unable to find number for device (xvda0)"),
	ERR_("phy:/dev/sr0", "/dev/foo", "r", "Unable to find number for device (/dev/foo)"),
	ERR_("phy:/dev/sr0", "foo:cdrom", "r", "Unable to find number for device (foo)"),
	ERR_("phy:/dev/sr0", "hde", "r", "Unable to find number for device (hde)"),
	ERR_("phy:/dev/sr0", "sdq", "r", "Unable to find number for device (sdq)"),
	ERR_("phy:/dev/sr0", "", "r", "Unable to find number for device ()"),
	ERR_("phy:/dev/sr0", NULL, "r", "Unable to find number for device ()"),
	ERR_("phy:/dev/sr0", "xvda:floppy", "r", "Invalid device type \"floppy\" (disk or cdrom)"),
	/* xend's order: backend, then mode, then number */
	ERR_("/dev/sr0", "foo", "x", "Block device must have physical details specified"),
	ERR_("phy:/x", "foo", "x", "Invalid mode"),
	/* a disk (not a cdrom) needs a backend */
	ERR_("", "xvda:disk", "r", "Block device must have physical details specified"),
};

static void test_xm_form(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(xm_cases) / sizeof(xm_cases[0]); i++) {
		const struct xm_case *c = &xm_cases[i];
		struct diskspec d;
		char err[256] = "";
		int rc = diskspec_parse_xm(c->back, c->front, c->mode, &d, err, sizeof(err));
		if (c->err) {
			if (rc != -1)
				fail_msg("xm %s %s %s: accepted, want \"%s\"", c->back, c->front,
					 c->mode, c->err);
			if (strcmp(err, c->err) != 0)
				fail_msg("xm %s %s %s: \"%s\", want \"%s\"", c->back, c->front,
					 c->mode, err, c->err);
			continue;
		}
		if (rc != 0)
			fail_msg("xm %s %s %s: %s", c->back, c->front, c->mode, err);
		assert_string_equal(d.target, c->target);
		assert_int_equal(d.backend, c->backend);
		assert_int_equal(d.format, c->format);
		assert_string_equal(d.vdev, c->vdev);
		assert_true(d.devid == c->devid);
		assert_int_equal(d.mode, c->dmode);
		assert_int_equal(d.cdrom, c->cdrom);
		assert_int_equal(d.empty, c->empty);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(disk_backend_name(DISK_PHY), "phy");
	assert_string_equal(disk_backend_name(DISK_FILE), "file");
	assert_string_equal(disk_backend_name(DISK_QDISK), "qdisk");
	assert_string_equal(disk_format_name(DISK_FMT_RAW), "raw");
	assert_string_equal(disk_format_name(DISK_FMT_QCOW2), "qcow2");
	assert_string_equal(disk_mode_name(DISK_MODE_R), "r");
	assert_string_equal(disk_mode_name(DISK_MODE_W), "w");
	assert_string_equal(disk_mode_name(DISK_MODE_W_SHARED), "w!");
}

/* ---------------------------------------------- xl form against libxlutil */

struct xlu_result {
	int rc;
	char first[1024];       /* libxlutil's first report line, without '\n' */
	libxl_device_disk disk;
};

static void run_xlu(const char *spec, struct xlu_result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	XLU_Config *cfg = xlu_cfg_init(f, "cfg");
	assert_non_null(cfg);
	libxl_device_disk_init(&r->disk);
	r->rc = xlu_disk_parse(cfg, 1, &spec, &r->disk);
	xlu_cfg_destroy(cfg);
	fclose(f);
	size_t n = strcspn(buf, "\n");
	if (n >= sizeof(r->first))
		n = sizeof(r->first) - 1;
	memcpy(r->first, buf, n);
	r->first[n] = '\0';
	free(buf);
}

static const char *strip_dev(const char *s)
{
	return s && !strncmp(s, "/dev/", 5) ? s + 5 : s;
}

/* Our result must say what libxlutil's says. */
static void same_disk(const char *spec, const struct diskspec *d, const libxl_device_disk *x)
{
	const char *target = x->pdev_path ? x->pdev_path : "";
	if (strcmp(d->target, target) != 0)
		fail_msg("%s: target \"%s\", libxlutil \"%s\"", spec, d->target, target);
	const char *vdev = strip_dev(x->vdev);
	if (!vdev || strcmp(d->vdev, vdev) != 0)
		fail_msg("%s: vdev \"%s\", libxlutil \"%s\"", spec, d->vdev, x->vdev);
	unsigned long devid;
	assert_int_equal(vdev_parse(vdev, &devid), 0);
	assert_true(d->devid == devid);
	switch (x->format) {
	case LIBXL_DISK_FORMAT_EMPTY:
		if (!d->empty || d->format != DISK_FMT_RAW)
			fail_msg("%s: libxlutil has an empty drive, we do not", spec);
		break;
	case LIBXL_DISK_FORMAT_RAW:
		if (d->empty || d->format != DISK_FMT_RAW)
			fail_msg("%s: format %s%s, libxlutil raw", spec, disk_format_name(d->format),
				 d->empty ? " (empty)" : "");
		break;
	case LIBXL_DISK_FORMAT_QCOW2:
		if (d->empty || d->format != DISK_FMT_QCOW2)
			fail_msg("%s: format %s, libxlutil qcow2", spec, disk_format_name(d->format));
		break;
	default:
		fail_msg("%s: libxlutil format %s accepted by both", spec,
			 libxl_disk_format_to_string(x->format));
	}
	if ((d->mode != DISK_MODE_R) != (x->readwrite != 0))
		fail_msg("%s: mode %s, libxlutil readwrite=%d", spec, disk_mode_name(d->mode),
			 x->readwrite);
	if (d->mode == DISK_MODE_W_SHARED)
		fail_msg("%s: w! from an xl spec", spec);
	if (d->cdrom != (x->is_cdrom != 0))
		fail_msg("%s: cdrom %d, libxlutil is_cdrom=%d", spec, d->cdrom, x->is_cdrom);
}

enum verdict {
	AGREE,          /* same acceptance; same fields or the same message */
	WE_ACCEPT,      /* libxlutil refuses, we take it: equiv is what it means */
	WE_REFUSE,      /* libxlutil takes it, we refuse (libxl would later, or we
			 * do not serve it): msg is our message */
};

struct xl_case {
	const char *spec;
	enum verdict v;
	const char *x;  /* WE_ACCEPT: an equivalent spec libxlutil takes;
			 * WE_REFUSE: our message */
};

static const struct xl_case xl_cases[] = {
	/* the examples of xl-disk-configuration(5) */
	{ "/dev/vg/guest-volume,,hda", AGREE, NULL },
	{ "/dev/vg/guest-volume,raw,hda,rw", AGREE, NULL },
	{ "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume", AGREE, NULL },
	{ "raw:/dev/vg/guest-volume,hda,w", AGREE, NULL },
	{ "/root/image.iso,,hdc,cdrom", AGREE, NULL },
	{ "/root/image.iso,,hdc,,cdrom", AGREE, NULL },
	{ "/root/image.iso,raw,hdc,devtype=cdrom", AGREE, NULL },
	{ "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso", AGREE, NULL },
	{ "raw:/root/image.iso,hdc:cdrom,ro", AGREE, NULL },
	{ ",hdc:cdrom,r", AGREE, NULL },
	/* deprecated prefixes */
	{ "phy:/dev/loop0,xvda2,w", AGREE, NULL },
	{ "phy:/dev/sr0,/dev/xvda2,r", AGREE, NULL },
	{ "file:/srv/disk.img,xvdb,r", AGREE, NULL },
	{ "tap:aio:/a.img,xvda,w", AGREE, NULL },
	{ "tap:qcow2:/a.qcow2,xvdb,r", AGREE, NULL },
	{ "qcow2:/a,xvdb,w", AGREE, NULL },
	{ "tap2:tapdisk:aio:/a,xvda,w", AGREE, NULL },
	{ "aio:/a,xvda,w", AGREE, NULL },
	{ "ioemu:/a,xvda,w", AGREE, NULL },
	{ "phy:,hdc:cdrom,r", AGREE, NULL },
	{ "phy:/dev/sdb,xvda,w,cdrom", AGREE, NULL },
	/* positional, keys, flags */
	{ "/a,qcow2,xvdc", AGREE, NULL },
	{ "/a,,xvda,ro", AGREE, NULL },
	{ "/a,,xvda,r,", AGREE, NULL },
	{ "/a,,xvda,w", AGREE, NULL },
	{ "access=rw,/a,,xvda", AGREE, NULL },
	{ "access=r,/a,,xvda,w", AGREE, NULL },
	{ "/a,raw,xvda,access=r", AGREE, NULL },
	{ "/a,,xvda,devtype=disk", AGREE, NULL },
	{ "/a,,xvda:cdrom", AGREE, NULL },
	{ "/a,,xvda:disk,r", AGREE, NULL },
	{ "/a,,xvda,cdrom,w", AGREE, NULL },
	{ "access=rw,cdrom,/a,,xvda", AGREE, NULL },
	{ "devtype=cdrom,vdev=xvdc", AGREE, NULL },
	{ "cdrom,vdev=hdc", AGREE, NULL },
	{ ",xvdc:cdrom,r", AGREE, NULL },
	{ "vdev=xvda,cdrom,target=", AGREE, NULL },
	{ "vdev=xvda,target=/a,b,c", AGREE, NULL },
	{ "format=qcow2,vdev=xvda,target=/x,y", AGREE, NULL },
	{ "vdev=,vdev=xvda,target=/a", AGREE, NULL },
	{ "vdev=xvdc,access=r,devtype=cdrom,target=/srv/dvd.iso", AGREE, NULL },
	{ " /a , , xvda, r", AGREE, NULL },
	{ "\t/a,\t,xvda ,r", WE_REFUSE, "Invalid or unsupported virtual disk identifier xvda " },
	{ "backendtype=phy,/dev/sdb,,xvda", AGREE, NULL },
	{ "backendtype=qdisk,/a,qcow2,xvda", AGREE, NULL },
	{ "backendtype=tap,/a,,xvda", AGREE, NULL },
	{ "backend=0,/a,,xvda", AGREE, NULL },
	{ "backend=Domain-0,/a,,xvda", AGREE, NULL },
	{ "discard,/a,,xvda", AGREE, NULL },
	{ "no-discard,direct-io-safe,/a,,xvda", AGREE, NULL },
	{ "/a,,xvda,w,discard", AGREE, NULL },
	{ "specification=xen,/a,,xvda", AGREE, NULL },
	{ "colo-port=9000,/a,,xvda", AGREE, NULL },
	{ "loop0,,xvda", AGREE, NULL },
	{ ",,xvda", AGREE, NULL },
	{ "/a,,d1p2", AGREE, NULL },
	{ "/a,,51714", AGREE, NULL },
	{ "/a,,xvdq", AGREE, NULL },
	{ "/a,,xvdtq37", AGREE, NULL },
	{ "/a,,/dev/xvda", AGREE, NULL },
	{ "/a,,sdb1", AGREE, NULL },

	/* errors: the same message as libxlutil */
	{ "/a,,xvda,w!", AGREE, NULL },
	{ "file:/a.img,xvdc,w!", AGREE, NULL },
	{ "/a,,xvda,x", AGREE, NULL },
	{ "/a,foo,xvda", AGREE, NULL },
	{ "foo=bar,/a,,xvda", AGREE, NULL },
	{ "/a", AGREE, NULL },
	{ "vdev=xvda", AGREE, NULL },
	{ "/a,,xvda,w,extra", AGREE, NULL },
	{ "target=/a,b,c,vdev=xvda", AGREE, NULL },
	{ "target=/a", AGREE, NULL },
	{ "target=", AGREE, NULL },
	{ "sdb", AGREE, NULL },
	{ "/a,,xvda,devtype=floppy", AGREE, NULL },
	{ "/a,,xvda,devtype=floppy,r", AGREE, NULL },
	{ "vdev=xvda,vdev=xvdb,target=/a", AGREE, NULL },
	{ "vdev=xvda,vdev=,target=/a", AGREE, NULL },
	{ "backendtype=foo,/a,,xvda", AGREE, NULL },
	{ "backendtype=phy,backendtype=qdisk,/a,,xvda", AGREE, NULL },
	{ "specification=foo,/a,,xvda", AGREE, NULL },
	{ "format=,/a,,xvda", AGREE, NULL },
	{ "format=raw,format=qcow2,/a,,xvda", AGREE, NULL },
	{ "raw:qcow2:/a,xvda,w", AGREE, NULL },
	{ "empty", AGREE, NULL },
	{ "", AGREE, NULL },
	{ "hdc:cdrom", AGREE, NULL },
	{ "/a,xvda:disk,w", AGREE, NULL },
	{ "/dev/x,xvda2,w", AGREE, NULL },
	{ "grant_usage=1,/a,,xvda", AGREE, NULL },
	{ "foo=,/a", AGREE, NULL },
	{ "Foo=x,/a,,xvda", AGREE, NULL },
	{ "=x", AGREE, NULL },
	{ "/a,,xvda,=", AGREE, NULL },
	{ "xvdc:,r", AGREE, NULL },
	{ "foo:/a,xvda,w", AGREE, NULL },
	{ "cdrom:/a,xvda,w", AGREE, NULL },
	{ "colo-port=x,/a,,xvda", AGREE, NULL },
	{ "colo-host=a,colo-host=b,/a,,xvda", AGREE, NULL },
	{ ",hdc:floppy,r", AGREE, NULL },
	{ "format=empty,vdev=xvda", AGREE, NULL },
	{ "format=empty,/a,,xvda", AGREE, NULL },
	{ "nbd:a,nbd:b,xvda", AGREE, NULL },

	/* ours: target= first and the rest after it (xl reads it all as the
	 * target, finds no vdev and refuses) */
	{ "target=/srv/dvd.iso,vdev=xvdc,access=r,devtype=cdrom", WE_ACCEPT,
	  "vdev=xvdc,access=r,devtype=cdrom,target=/srv/dvd.iso" },
	{ "target=/dev/loop0,vdev=xvda2,access=w", WE_ACCEPT, "vdev=xvda2,access=w,target=/dev/loop0" },
	{ "target=/a.qcow2,qcow2,xvdb", WE_ACCEPT, "format=qcow2,vdev=xvdb,target=/a.qcow2" },

	/* libxlutil takes these; libxl refuses them later, or we do not serve them */
	{ "/a,,xvdA", WE_REFUSE, "Invalid or unsupported virtual disk identifier xvdA" },
	{ "/a,,xvda0", WE_REFUSE, "Invalid or unsupported virtual disk identifier xvda0" },
	{ "/a,,hde", WE_REFUSE, "Invalid or unsupported virtual disk identifier hde" },
	{ "vdev=xvda ,target=/a", WE_REFUSE, "Invalid or unsupported virtual disk identifier xvda " },
	{ ",a:b:cdrom,r", WE_REFUSE, "Invalid or unsupported virtual disk identifier a:b" },
	{ "vdev=,target=/a", WE_REFUSE, "Invalid or unsupported virtual disk identifier " },
	{ "/a,qcow,xvda", WE_REFUSE, "Disk format \"qcow\" is not supported (raw or qcow2)" },
	{ "/a,vhd,xvda", WE_REFUSE, "Disk format \"vhd\" is not supported (raw or qcow2)" },
	{ "vhd:/a,xvda,w", WE_REFUSE, "Disk format \"vhd\" is not supported (raw or qcow2)" },
	{ "/a,qed,xvda", WE_REFUSE, "Disk format \"qed\" is not supported (raw or qcow2)" },
	{ "format=empty,vdev=xvda,target=/a", WE_REFUSE, "Disk vdev=xvda is empty but not cdrom" },
	{ "format=empty,cdrom,vdev=xvdc,target=/a.iso", WE_REFUSE,
	  "Disk vdev=xvdc is empty but an image has been provided: /a.iso" },
	{ "script=block-x,/a,,xvda", WE_REFUSE, "Block scripts are not supported (script=block-x)" },
	{ "nbd:host:1,xvda,w", WE_REFUSE, "Block scripts are not supported (script=block-nbd)" },
	{ "backend=driverdom,/a,,xvda", WE_REFUSE,
	  "Backend domain driverdom is not supported: only Domain-0 serves block devices here" },
	{ "backendtype=standalone,/a,,xvda", WE_REFUSE, "no suitable backend for disk xvda" },
	{ "backendtype=phy,/a,qcow2,xvda", WE_REFUSE, "no suitable backend for disk xvda" },
};

static void test_xl_against_libxlutil(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(xl_cases) / sizeof(xl_cases[0]); i++) {
		const struct xl_case *c = &xl_cases[i];
		struct xlu_result x;
		struct diskspec d;
		char err[1024] = "";
		run_xlu(c->spec, &x);
		int rc = diskspec_parse_xl(c->spec, &d, err, sizeof(err));
		switch (c->v) {
		case AGREE:
			if ((rc == 0) != (x.rc == 0))
				fail_msg("`%s': ours %s (%s), libxlutil %s (%s)", c->spec,
					 rc ? "refuses" : "accepts", err,
					 x.rc ? "refuses" : "accepts", x.first);
			if (rc == 0) {
				same_disk(c->spec, &d, &x.disk);
			} else {
				char want[1100];
				snprintf(want, sizeof(want), "cfg: %s", err);
				if (strcmp(want, x.first) != 0)
					fail_msg("`%s':\n ours      %s\n libxlutil %s", c->spec,
						 want, x.first);
			}
			break;
		case WE_ACCEPT: {
			if (x.rc == 0)
				fail_msg("`%s': libxlutil now accepts it", c->spec);
			if (rc != 0)
				fail_msg("`%s': %s", c->spec, err);
			struct xlu_result e;
			run_xlu(c->x, &e);
			assert_int_equal(e.rc, 0);
			same_disk(c->spec, &d, &e.disk);
			libxl_device_disk_dispose(&e.disk);
			break;
		}
		case WE_REFUSE:
			if (x.rc != 0)
				fail_msg("`%s': libxlutil refuses it too: %s", c->spec, x.first);
			if (rc != -1)
				fail_msg("`%s': accepted, want \"%s\"", c->spec, c->x);
			assert_string_equal(err, c->x);
			break;
		}
		libxl_device_disk_dispose(&x.disk);
	}
}

/* Random joins of tricky pieces: both parsers must agree, save for the
 * documented differences (our later checks; target= read to a comma). */
static void test_xl_random_differential(void **state)
{
	(void)state;
	static const char *const tok[] = {
		"/a", "", "raw", "qcow2", "xvda", "hdc", "hdc:cdrom", "xvdb:disk", "r", "w", "rw",
		"ro", "w!", "cdrom", "cdromx", "devtype=cdrom", "devtype=disk", "devtype=x",
		"format=raw", "format=qcow2", "format=", "format=empty", "vdev=xvdb", "vdev=",
		"access=r", "access=x", "phy:/dev/x", "tap:aio:/b", "file:/c", "raw:/d", "qcow2:/e",
		"foo:/f", "target=/t", "target=/t,u", "target=", " xvdc", "x=y", "=", "discard",
		"backendtype=phy", "backendtype=qdisk", "backend=0", "a:b", "/dev/xvde", "d1p2",
		" ", "cdrom=1", "/a=b", "tap:", "nbd:", "colo-port=7", "no-discard",
	};
	const size_t ntok = sizeof(tok) / sizeof(tok[0]);
	unsigned long seed = 12345;
	unsigned int agree = 0, ours_later = 0, split = 0;

	for (int iter = 0; iter < 20000; iter++) {
		char spec[256] = "";
		size_t len = 0;
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		int n = 1 + (int)((seed >> 33) % 6);
		for (int k = 0; k < n; k++) {
			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			const char *t = tok[(seed >> 33) % ntok];
			int w = snprintf(spec + len, sizeof(spec) - len, "%s%s", k ? "," : "", t);
			assert_true(w >= 0 && (size_t)w < sizeof(spec) - len);
			len += (size_t)w;
		}
		struct xlu_result x;
		struct diskspec d;
		char err[1024] = "";
		run_xlu(spec, &x);
		int rc = diskspec_parse_xl(spec, &d, err, sizeof(err));
		if (rc == 0 && x.rc == 0) {
			same_disk(spec, &d, &x.disk);
			agree++;
		} else if (rc != 0 && x.rc != 0) {
			char want[1100];
			snprintf(want, sizeof(want), "cfg: %s", err);
			if (strcmp(want, x.first) != 0)
				fail_msg("`%s':\n ours      %s\n libxlutil %s", spec, want, x.first);
			agree++;
		} else if (rc != 0) {
			/* libxlutil takes it: only our later checks may refuse */
			if (!strncmp(err, "config parsing error", 20))
				fail_msg("`%s': ours %s, libxlutil accepts", spec, err);
			ours_later++;
		} else {
			if (!strstr(x.first, "no vdev specified") || !strstr(spec, "target="))
				fail_msg("`%s': ours accepts, libxlutil %s", spec, x.first);
			split++;
		}
		libxl_device_disk_dispose(&x.disk);
	}
	print_message("differential: %u agree, %u refused by our later checks, %u target= "
		      "read to a comma\n", agree, ours_later, split);
	assert_true(agree > 15000);
}

/* ------------------------------------------- xl form: exact messages */

struct golden {
	const char *spec, *err;
};

static void test_xl_messages(void **state)
{
	(void)state;
	static const struct golden g[] = {
		{ "/a,,xvda,w!", "config parsing error in disk specification: unknown value for "
				 "access: near `w!' in `/a,,xvda,w!'" },
		{ "/a,foo,xvda", "config parsing error in disk specification: unknown value for "
				 "format: near `foo' in `/a,foo,xvda'" },
		{ "foo=bar,/a,,xvda", "config parsing error in disk specification: unknown "
				      "parameter: near `foo=b' in `foo=bar,/a,,xvda'" },
		{ "/a", "config parsing error in disk specification: no vdev specified in `/a'" },
		{ "vdev=xvda", "config parsing error in disk specification: no target specified "
			       "(and device not removable) in `vdev=xvda'" },
		{ "/a,,xvda,w,extra", "config parsing error in disk specification: too many "
				      "positional parameters: near `extra' in `/a,,xvda,w,extra'" },
		{ "/a,,xvda,devtype=floppy,r", "config parsing error in disk specification: "
					       "unknown value for type: near `devtype=floppy,' in "
					       "`/a,,xvda,devtype=floppy,r'" },
		{ "vdev=xvda,vdev=xvdb,target=/a", "config parsing error in disk specification: vdev "
						   "respecified: near `xvdb' in "
						   "`vdev=xvda,vdev=xvdb,target=/a'" },
		{ "Foo=x,/a", "config parsing error in disk specification: bad disk syntax: near "
			      "`=x,/a' in `Foo=x,/a'" },
		{ "foo:/a,xvda,w", "config parsing error in disk specification: unknown deprecated "
				   "disk prefix: near `foo:' in `foo:/a,xvda,w'" },
		{ ",hdc:floppy,r", "config parsing error in disk specification: unknown deprecated "
				   "type: near `floppy' in `,hdc:floppy,r'" },
		{ "raw:qcow2:/a,xvda,w", "config parsing error in disk specification: format "
					 "respecified: near `qcow2' in `raw:qcow2:/a,xvda,w'" },
		{ "target=/a,b,vdev=xvda", "config parsing error in disk specification: no vdev "
					   "specified in `target=/a,b,vdev=xvda'" },
		{ "/a,,xvda9999", "Invalid or unsupported virtual disk identifier xvda9999" },
	};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct diskspec d;
		char err[512] = "";
		assert_int_equal(diskspec_parse_xl(g[i].spec, &d, err, sizeof(err)), -1);
		assert_string_equal(err, g[i].err);
	}
	/* a short error buffer is cut, not overrun */
	struct diskspec d;
	char small[8];
	assert_int_equal(diskspec_parse_xl("/a", &d, small, sizeof(small)), -1);
	assert_string_equal(small, "config ");
	assert_int_equal(diskspec_parse_xl("/a", &d, NULL, 0), -1);
	assert_int_equal(diskspec_parse_xl(NULL, &d, small, sizeof(small)), -1);
}

/* The command and the backend chosen without stat(). */
static void test_xl_backend_choice(void **state)
{
	(void)state;
	struct diskspec d;
	char err[512] = "";

	assert_int_equal(diskspec_parse_xl("target=/srv/dvd.iso,vdev=xvdc,access=r,devtype=cdrom",
					   &d, err, sizeof(err)), 0);
	assert_string_equal(d.target, "/srv/dvd.iso");
	assert_string_equal(d.vdev, "xvdc");
	assert_true(d.devid == 51744);
	assert_true(d.cdrom && !d.empty && d.mode == DISK_MODE_R);
	assert_true(d.backend == DISK_FILE && d.backend_auto);

	assert_int_equal(diskspec_parse_xl("/dev/loop0,,xvda2", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_PHY && d.backend_auto && d.mode == DISK_MODE_W);
	assert_int_equal(diskspec_parse_xl("/a.qcow2,qcow2,xvda2", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_QDISK && d.format == DISK_FMT_QCOW2);
	assert_int_equal(diskspec_parse_xl("phy:/dev/sdb,xvda,w", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_PHY && !d.backend_auto);
	assert_int_equal(diskspec_parse_xl("file:/dev/sdb,xvda,w", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_FILE && !d.backend_auto);
	assert_int_equal(diskspec_parse_xl("tap:aio:/dev/sdb,xvda,w", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_QDISK && !d.backend_auto);
	assert_int_equal(diskspec_parse_xl("backendtype=qdisk,/dev/sdb,,xvda", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_QDISK && !d.backend_auto);
	assert_int_equal(diskspec_parse_xl("backendtype=phy,/srv/x.img,,xvda", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_PHY);
	assert_int_equal(diskspec_parse_xl(",hdc:cdrom,r", &d, err, sizeof(err)), 0);
	assert_true(d.empty && d.cdrom && d.target[0] == '\0' && d.devid == 5632);
}

/* ------------------------------------------------------ config entries */

static void test_cfg(void **state)
{
	(void)state;
	struct diskspec d;
	char err[512] = "";

	/* xm's comma form keeps xm's modes */
	assert_int_equal(diskspec_parse_cfg("phy:/dev/loop0,xvda2,w!", &d, err, sizeof(err)), 0);
	assert_true(d.mode == DISK_MODE_W_SHARED && d.backend == DISK_PHY && d.devid == 51714);
	assert_string_equal(d.target, "/dev/loop0");
	assert_int_equal(diskspec_parse_cfg("phy:sdb1,xvda1,r", &d, err, sizeof(err)), 0);
	assert_string_equal(d.target, "/dev/sdb1");
	assert_int_equal(diskspec_parse_cfg(",hdc:cdrom,r", &d, err, sizeof(err)), 0);
	assert_true(d.empty && d.cdrom && d.devid == 5632);
	assert_int_equal(diskspec_parse_cfg("tap:qcow2:/a.qcow2,xvdb,w", &d, err, sizeof(err)), 0);
	assert_true(d.backend == DISK_QDISK && d.format == DISK_FMT_QCOW2 && d.mode == DISK_MODE_W);
	assert_int_equal(diskspec_parse_cfg("file:/x,xvda,bad", &d, err, sizeof(err)), -1);
	assert_string_equal(err, "Invalid mode");
	assert_int_equal(diskspec_parse_cfg("phy:/x,xvdz99999,w", &d, err, sizeof(err)), -1);
	assert_string_equal(err, "Unable to find number for device (xvdz99999)");
	/* anything else is an xl spec */
	assert_int_equal(diskspec_parse_cfg("phy:/dev/sdb,xvda,w,cdrom", &d, err, sizeof(err)), 0);
	assert_true(d.cdrom && d.mode == DISK_MODE_R);
	assert_int_equal(diskspec_parse_cfg("/dev/vg/x,,hda", &d, err, sizeof(err)), 0);
	assert_true(d.devid == 768 && d.mode == DISK_MODE_W);
	assert_int_equal(diskspec_parse_cfg("target=/srv/dvd.iso,vdev=xvdc,access=r,devtype=cdrom",
					    &d, err, sizeof(err)), 0);
	assert_true(d.cdrom && d.devid == 51744);
	assert_int_equal(diskspec_parse_cfg("format=raw,vdev=xvda,target=/a,w!", &d, err,
					    sizeof(err)), 0);
	assert_string_equal(d.target, "/a,w!");
	assert_int_equal(diskspec_parse_cfg("foo:/x,xvda,w", &d, err, sizeof(err)), -1);
	assert_string_equal(err, "config parsing error in disk specification: unknown deprecated "
				 "disk prefix: near `foo:' in `foo:/x,xvda,w'");
	assert_int_equal(diskspec_parse_cfg("/x,xvda,w", &d, err, sizeof(err)), -1);
	assert_string_equal(err, "config parsing error in disk specification: unknown value for "
				 "format: near `xvda' in `/x,xvda,w'");
	assert_int_equal(diskspec_parse_cfg(NULL, &d, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xm_form),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_xl_against_libxlutil),
		cmocka_unit_test(test_xl_random_differential),
		cmocka_unit_test(test_xl_messages),
		cmocka_unit_test(test_xl_backend_choice),
		cmocka_unit_test(test_cfg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
