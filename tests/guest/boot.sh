#!/bin/sh
# tests/guest/boot.sh — boot the default guest image under QEMU, talk to its
# serial console, hot-plug a virtio-blk disk over QMP and power it off.
#
# The serial console and QMP are QEMU "pipe" chardevs (PATH.in / PATH.out
# FIFOs), so plain sh can drive both: a background cat copies each .out FIFO
# into a log that the test polls, and the test writes requests into .in.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1

IMG=$B/guest
PROMPT='xm-guest# '
CMDLINE="console=ttyS0 quiet i8042.noaux i8042.nokbd i8042.nopnp mitigations=off cryptomgr.notests no_timer_check tsc=reliable random.trust_cpu=on 8250.nr_uarts=1"

T=
QEMU_PID=
CAT_PIDS=
cleanup() {
	[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null
	for p in $CAT_PIDS; do kill "$p" 2>/dev/null; done
	[ -z "$QEMU_PID" ] || wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	exec 3>&- 4>&- 2>/dev/null
	[ -z "$T" ] || rm -rf "$T"
	T=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for FILE PATTERN SECONDS: poll until grep -q PATTERN FILE
wait_for() {
	end=$(($(now_ms) + $3 * 1000))
	until grep -q -- "$2" "$1" 2>/dev/null; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		if [ -n "$QEMU_PID" ] && ! kill -0 "$QEMU_PID" 2>/dev/null; then return 1; fi
		sleep 0.02
	done
}

# gcmd CMD [SECONDS]: run CMD in the guest shell; its output (CR stripped)
# goes to $out. The output is framed by two markers that the terminal's echo
# of the typed line cannot produce (typed "@@""B1", printed @@B1). Not run in
# a subshell: it counts in GN.
GN=0
gcmd() {
	GN=$((GN + 1))
	out=
	printf 'echo "@@""B%s"; %s; echo "@@""E%s"\n' "$GN" "$1" "$GN" >&3
	wait_for "$T/console.log" "^@@E$GN" "${2:-10}" || { out="(no answer to: $1)"; return 1; }
	out=$(tr -d '\r' <"$T/console.log" |
		awk -v b="@@B$GN" -v e="@@E$GN" '$0 == e { exit } p { print } $0 == b { p = 1 }')
}

# qmp JSON: send one QMP command with a fresh id, wait for its reply (in
# $reply); true when the reply is a "return".
QN=0
qmp() {
	QN=$((QN + 1))
	printf '%s\n' "$1" | sed "s/^{/{\"id\":$QN,/" >&4
	reply="(no QMP reply to $1)"
	wait_for "$T/qmp.log" "\"id\": *$QN[,}]" 10 || return 1
	reply=$(grep -- "\"id\": *$QN[,}]" "$T/qmp.log")
	case $reply in *'"return"'*) return 0 ;; esac
	return 1
}

# --- the image ---------------------------------------------------------------------
if ! make -s B="$B" image >/dev/null; then
	t_fail image "make B=$B image failed"
	t_summary
	exit 1
fi
for f in vmlinux initramfs.cpio.gz kernel.version; do
	[ -s "$IMG/$f" ] || { t_fail image "$IMG/$f missing"; t_summary; exit 1; }
done
t_ok "image built ($(wc -c <"$IMG/initramfs.cpio.gz" | tr -d ' ') bytes initramfs)"
KVER=$(cat "$IMG/kernel.version")

# --- boot ----------------------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/xm-boot.XXXXXX")
mkfifo "$T/serial.in" "$T/serial.out" "$T/qmp.in" "$T/qmp.out"
: >"$T/console.log"
: >"$T/qmp.log"
truncate -s 16M "$T/disk.img"

# KVM when /dev/kvm is usable, else TCG. A /dev/kvm that opens is not enough:
# on this host it exists and QEMU accepts it, but the CPU has no vmx/svm and
# the guest never runs. XM_ACCEL=kvm|tcg overrides.
ACCEL=${XM_ACCEL:-}
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; fi
fi

t0=$(now_ms)
qemu-system-x86_64 -machine q35 -accel "$ACCEL" -bios /usr/share/qemu/qboot.rom \
	-m 256 -nodefaults -display none -no-reboot \
	-kernel "$IMG/vmlinux" -initrd "$IMG/initramfs.cpio.gz" -append "$CMDLINE" \
	-chardev pipe,id=con,path="$T/serial" -serial chardev:con \
	-chardev pipe,id=qmp,path="$T/qmp" -mon chardev=qmp,mode=control \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \
	2>"$T/qemu.err" &
QEMU_PID=$!
# O_RDWR opens of a FIFO never block, whether or not QEMU has it open yet.
exec 3<>"$T/serial.in" 4<>"$T/qmp.in"
cat "$T/serial.out" >>"$T/console.log" &
CAT_PIDS="$CAT_PIDS $!"
cat "$T/qmp.out" >>"$T/qmp.log" &
CAT_PIDS="$CAT_PIDS $!"

if wait_for "$T/console.log" "$PROMPT" 30; then
	t1=$(now_ms)
	t_ok "boot to shell prompt"
else
	t_fail "boot to shell prompt" "no prompt within 30 s"
	echo "--- console:"; tr -d '\r' <"$T/console.log" | tail -20
	echo "--- qemu:"; cat "$T/qemu.err"
	t_summary
	exit 1
fi

if wait_for "$T/qmp.log" '"QMP"' 5 && qmp '{"execute":"qmp_capabilities"}'; then
	t_ok "QMP connected"
else
	t_fail "QMP connected" "$reply"
fi
echo "boot-to-prompt: $((t1 - t0)) ms ($ACCEL)"

# --- the console ------------------------------------------------------------
gcmd 'uname -r'
if [ "$out" = "$KVER" ]; then t_ok "uname -r = $KVER"; else t_fail "uname -r" "got '$out', want '$KVER'"; fi

gcmd 'lsmod'
for m in virtio_blk virtio_pci virtio_scsi sr_mod isofs virtio_console; do
	if echo "$out" | grep -q "^$m "; then t_ok "module $m loaded"; else t_fail "module $m" "not in lsmod"; fi
done

gcmd 'ls -1 /dev'
if echo "$out" | grep -qx 'ttyS0' && echo "$out" | grep -qx 'null'; then
	t_ok "/dev populated"
else
	t_fail "/dev populated" "ls /dev: $(echo "$out" | tr '\n' ' ')"
fi

gcmd 'pidof mdev >/dev/null && echo mdev-running'
if [ "$out" = mdev-running ]; then t_ok "mdev -d running"; else t_fail "mdev -d running" "$out"; fi

gcmd 'xenstore-read --help 2>&1 | head -n 1'
case $out in
*sage*) t_ok "xenstore-read runs in the guest" ;;
*) t_fail "xenstore-read runs in the guest" "$out" ;;
esac

# --- hot-plug a disk over QMP ---------------------------------------------
SERIAL=xm-boot-test-01
if qmp "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"hp0\",\"file\":{\"driver\":\"file\",\"filename\":\"$T/disk.img\"}}}" &&
	th=$(now_ms) &&
	qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-blk-pci\",\"id\":\"vd0\",\"drive\":\"hp0\",\"bus\":\"rp1\",\"serial\":\"$SERIAL\"}}"; then
	t_ok "QMP blockdev-add + device_add"
else
	t_fail "QMP blockdev-add + device_add" "$reply"
fi

# poll the guest until the disk and its node show up
i=0
out=
while [ $i -lt 50 ]; do
	gcmd 'echo "$(cat /sys/block/vda/serial 2>&1)"; ls /dev/vda 2>&1' || break
	# both: the node can show up between the two commands
	echo "$out" | grep -qx /dev/vda && echo "$out" | grep -qx "$SERIAL" && break
	i=$((i + 1))
	sleep 0.1
done
tg=$(now_ms)
if echo "$out" | grep -qx "$SERIAL"; then
	t_ok "guest sees /sys/block/vda/serial = $SERIAL"
	echo "hot-plug: device_add -> visible in guest within $((tg - th)) ms"
else
	t_fail "guest sees /sys/block/vda/serial" "got '$out'"
fi
if echo "$out" | grep -qx /dev/vda; then t_ok "/dev/vda exists"; else t_fail "/dev/vda exists" "got '$out'"; fi
# devtmpfs makes the node 0600; mdev (/etc/mdev.conf) gives block nodes
# 0660: so this shows the netlink daemon saw the hot-plug, not only that
# devtmpfs made the node.
i=0
while gcmd 'stat -c %a /dev/vda 2>&1' && [ "$out" != 660 ] && [ $i -lt 20 ]; do
	i=$((i + 1))
	sleep 0.1
done
if [ "$out" = 660 ]; then t_ok "mdev handled the hot-plug"; else t_fail "mdev handled the hot-plug" "/dev/vda mode: $out"; fi
gcmd 'wc -c </dev/vda'
if [ "$out" = 16777216 ]; then t_ok "read the whole hot-plugged disk"; else t_fail "read the hot-plugged disk" "$out"; fi

# --- power off ---------------------------------------------------------------
printf 'exit\n' >&3
i=0
while kill -0 "$QEMU_PID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 "$QEMU_PID" 2>/dev/null; then
	t_fail "poweroff on shell exit" "QEMU still running after 10 s"
else
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	t_ok "poweroff on shell exit"
fi
t_summary
