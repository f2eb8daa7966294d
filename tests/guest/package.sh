#!/bin/sh
# tests/guest/package.sh — the Debian packages as a new user meets them:
# built with dpkg-buildpackage from a copy of the tree, lintian clean,
# installed with apt (their declared dependencies must be enough), the
# units accepted by systemd-analyze, the whole walk-through (scripts/demo.sh
# --installed) run against the installed programs only, with their default
# sockets under /run and XenGuest1 from /etc/xen; then dpkg -r removes
# every file it installed and stops nothing it did not start (a guest and
# the daemons the test started run on). The guest agent's package holds a
# static xmfront that runs, and its unit, which systemd-analyze accepts.
#
# It installs into this machine's /usr and /etc (root, as make check is),
# and refuses to run where /run/xenstored or /run/xm hold anything (a host
# in use).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

P=$(mktemp -d /tmp/xm-pkg.XXXXXX)
installed=
cleanup() {
	guests_teardown 2>/dev/null
	[ -n "$installed" ] && dpkg --purge xm xm-guest-agent >/dev/null 2>&1
	rm -rf /run/xenstored /run/xm "$P"
}
for d in /run/xenstored /run/xm; do
	[ -z "$(ls -A "$d" 2>/dev/null)" ] || { t_fail setup "$d is in use: not touched"; rm -rf "$P"; t_summary; exit 1; }
done
trap cleanup EXIT INT TERM
die() { t_fail "$1" "$2"; t_summary; exit 1; }

# ---- build: a copy of the tree (what git knows), no build dir ----
mkdir -p "$P/src"
(cd "$TOP" && git ls-files -co --exclude-standard | grep -v '^build/' | cpio -pdm --quiet "$P/src") ||
	die build "copy of the tree"
# the kernel package the guest image is made from, if this build has it
# already (guest/build-image.sh; else it is fetched)
kdeb=$(ls "$TOP"/build/*/guest/cache/linux-image-*.deb 2>/dev/null | head -1)
t0=$(date +%s)
(cd "$P/src" && XM_KERNEL_DEB=$kdeb dpkg-buildpackage -us -uc -b) >"$P/build.log" 2>&1 &&
	t_ok "dpkg-buildpackage ($(($(date +%s) - t0)) s)" || die "dpkg-buildpackage" "$(tail -5 "$P/build.log")"
host=$(ls "$P"/xm_*_amd64.deb) agent=$(ls "$P"/xm-guest-agent_*_amd64.deb) || die build "no .deb"
lint=$(lintian --allow-root "$P"/xm_*_amd64.changes 2>&1)
[ -z "$lint" ] && t_ok "lintian: no tags" || t_fail "lintian: no tags" "$lint"

# ---- install: apt resolves the declared dependencies ----
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$host" >"$P/apt.log" 2>&1 &&
	t_ok "apt-get install of the host package" || die "apt-get install" "$(tail -5 "$P/apt.log")"
dpkg -L xm > "$P/files"
for f in /usr/sbin/xm /usr/sbin/xmstored /usr/sbin/xmbackd /usr/lib/xm/vmlinux \
	/usr/lib/xm/initramfs.cpio.gz /etc/xen/XenGuest1.cfg /lib/systemd/system/xmstored.service \
	/lib/systemd/system/xmbackd.service /usr/share/bash-completion/completions/xm \
	/usr/share/man/man1/xm.1.gz /usr/share/man/man8/xmstored.8.gz; do
	[ -e "$f" ] || t_fail "installed: $f" "missing"
done
t_ok "the programs, guest image, config, units, completion and pages are installed"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /lib/systemd/system/xmstored.service \
		/lib/systemd/system/xmbackd.service 2>&1)
	[ -z "$out" ] && t_ok "systemd-analyze verify accepts the units" ||
		t_fail "systemd-analyze verify accepts the units" "$out"
fi

# ---- the walk-through, installed programs only ----
sh "$TOP/scripts/demo.sh" --installed /usr >"$P/demo.log" 2>&1; rc=$?
sed 's/\x1b\[[0-9;]*m//g' "$P/demo.log" > "$P/demo.txt"
[ $rc -eq 0 ] && grep -q "^/usr/sbin/xmstored, /usr/sbin/xmbackd: sockets in /run/xenstored, /run/xm" "$P/demo.txt" &&
	grep -q '^\$ xm create XenGuest1$' "$P/demo.txt" &&
	grep -q "^Error: Device .* is mounted read-write in a guest domain (XenGuest1, xvdb)" "$P/demo.txt" &&
	grep -q "Hello from the DVD" "$P/demo.txt" && ! grep -q "$TOP/build" "$P/demo.txt" &&
	t_ok "the walk-through runs on the installed programs" ||
	t_fail "the walk-through runs on the installed programs" "rc=$rc: $(tail -15 "$P/demo.txt")"

# ---- dpkg -r: every file gone, nothing it did not start stopped ----
rm -rf /run/xenstored /run/xm # the demo's, stopped: a fresh start
guests_setup_installed /usr/sbin || die "daemons" "did not start"
guest_cfg "$work/k.cfg" Keeper 128 1
sed -i "s|^kernel = .*|kernel = \"/usr/lib/xm/vmlinux\"|; s|^ramdisk = .*|ramdisk = \"/usr/lib/xm/initramfs.cpio.gz\"|" "$work/k.cfg"
K=$(guest_create "$work/k.cfg") || die "guest" "did not start"
qpid=$(cat "/run/xm/dom/$K/qemu.pid")
dpkg -r xm >"$P/remove.log" 2>&1 && t_ok "dpkg -r xm" || t_fail "dpkg -r xm" "$(tail -3 "$P/remove.log")"
left=
while read -r f; do
	[ -d "$f" ] && continue # directories are shared (/lib, /usr/sbin ...)
	[ -f "$f" ] || [ -L "$f" ] || continue
	case $f in /etc/*) continue ;; esac # conffiles stay until purge, as dpkg does
	left="$left $f"
done < "$P/files"
[ -z "$left" ] && t_ok "dpkg -r leaves none of its files" || t_fail "dpkg -r leaves none of its files" "$left"
kill -0 "$qpid" 2>/dev/null && kill -0 "$XS_PID" && kill -0 "$BACKD_PID" &&
	t_ok "dpkg -r stopped nothing it did not start (guest, xmstored, xmbackd run on)" ||
	t_fail "dpkg -r stopped nothing it did not start" "qemu $qpid, xmstored $XS_PID, xmbackd $BACKD_PID"
dpkg --purge xm >/dev/null 2>&1
[ ! -e /etc/xen/XenGuest1.cfg ] && t_ok "dpkg --purge removes the config" ||
	t_fail "dpkg --purge removes the config" "/etc/xen/XenGuest1.cfg left"

# ---- the guest agent's package ----
dpkg-deb -x "$agent" "$P/agent" && ! readelf -l "$P/agent/usr/sbin/xmfront" | grep -q INTERP &&
	"$P/agent/usr/sbin/xmfront" --help >/dev/null 2>&1 &&
	t_ok "xm-guest-agent: a static xmfront that runs" || t_fail "xm-guest-agent" "not static, or does not run"
# its unit, verified as systemd would load it (here from the extracted
# package: the unit's program and page where the package put them)
u=$P/agent/lib/systemd/system/xmfront.service
if [ -f "$u" ] && grep -q '^ExecStart=/usr/sbin/xmfront --resync-restarted$' "$u"; then
	mkdir -p "$P/unit"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$P/agent/usr/sbin/|" "$u" >"$P/unit/xmfront.service"
	if command -v systemd-analyze >/dev/null; then
		out=$(MANPATH=$P/agent/usr/share/man systemd-analyze verify "$P/unit/xmfront.service" 2>&1)
		[ -z "$out" ] && t_ok "xm-guest-agent: its unit xmfront.service, accepted by systemd-analyze verify" ||
			t_fail "xm-guest-agent's unit verified" "$out"
	else
		t_ok "xm-guest-agent: its unit xmfront.service (no systemd-analyze here)"
	fi
else
	t_fail "xm-guest-agent's unit" "no $u with ExecStart=/usr/sbin/xmfront --resync-restarted"
fi
t_summary
