#!/bin/sh
# tests/guest/memcpu.sh — memory, vCPUs and the crash policy of real guests
# (issue 13):
# - maxmem: the guest starts at memory = (the balloon holds the rest);
#   xm mem-set moves its MemTotal both ways; above maxmem is refused; xm
#   mem-max lowers the limit; xm list's Mem column is the target;
# - maxvcpus: xm vcpu-set plugs vCPUs in and out and the guest's online
#   CPUs follow (its agent onlines a new one); vcpu-list shows them; cpus =
#   pins the vCPU threads (their Cpus_allowed_list), vcpu-pin moves them;
# - on_crash: a kernel panic (sysrq c), reported by pvpanic, handled by
#   xmbackd: destroy, restart (same domain, its disk there again), preserve
#   (xm list shows c; xm destroy removes it), coredump-destroy (a core file),
#   rename-restart (the old one kept, renamed; a new one); on_poweroff
#   preserve (xm list shows s) and restart;
# - bad input: one clear error each.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

DUMPS=$(mktemp -d /tmp/xm-dumps.XXXXXX) || exit 1
export XMBACKD_DUMP_DIR="$DUMPS" # xmbackd's core dumps (coredump-destroy)
export XMBACKD_XM="$TOP/$B/xm/xm" # what rename-restart runs
trap 'guests_teardown; rm -rf "$DUMPS"' EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" SANITIZE="${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}" \
	B="$B" "$B/tests/guest/qmpcmd" >/dev/null ||
	{ t_fail setup "cannot build $B/tests/guest/qmpcmd"; t_summary; exit 1; }

ncpu=$(nproc)
# until_true SECONDS CMD...: CMD until it succeeds, every 0.2 s
until_true() {
	end=$(($(date +%s) + $1)); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
memtotal() { guest_run "$1" 'sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo'; }
online() { guest_run "$1" 'cat /sys/devices/system/cpu/online'; }
flags() { "$XM" list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
qemu_pid() { cat "$XM_RUNDIR/dom/$1/qemu.pid"; }
# the thread ids of a guest's vCPUs ("CPU n/TCG" or "CPU n/KVM")
vcpu_tids() {
	for t in /proc/"$(qemu_pid "$1")"/task/*; do
		grep -q '^CPU ' "$t/comm" 2>/dev/null && echo "${t##*/}"
	done
}

# --- memory -----------------------------------------------------------------
guest_cfg "$work/m.cfg" GuestM 160 1 'maxmem = 256
maxvcpus = 2
cpus = "0"'
D=$(guest_create "$work/m.cfg") || { t_fail create "GuestM did not start"; t_summary; exit 1; }
# The guest boots with maxmem and its balloon then takes it down to memory
# =, a batch at a time: MemTotal is its starting point only once QEMU says
# the balloon got there (read sooner, on a slow spell, it was 15-28 MB
# above it, and mem-set 240's growth from it fell short of 70 MB)
at_target() {
	"$QMPCMD" "$XM_RUNDIR/dom/$D/ctl.sock" query-balloon 2>/dev/null |
		grep -q "\"actual\": *$((160 << 20))[^0-9]"
}
until_true 60 at_target || t_fail "the balloon at memory =" \
	"$("$QMPCMD" "$XM_RUNDIR/dom/$D/ctl.sock" query-balloon 2>&1)"
m0=$(memtotal "$D")
mem_col() { "$XM" list GuestM | awk 'NR == 2 { print $3 }'; }
if [ -n "$m0" ] && [ "$m0" -lt $((160 * 1024)) ] && [ "$m0" -gt $((100 * 1024)) ] &&
	[ "$(mem_col)" = 160 ]; then
	t_ok "maxmem 256, memory 160: the guest starts with MemTotal $m0 kB, xm list says 160"
else
	t_fail "start at memory =" "MemTotal '$m0' kB, xm list Mem '$(mem_col)'"
fi
"$XM" mem-set GuestM 240 || t_fail "mem-set 240" "refused"
t0=$(now_ms)
grown() { m1=$(memtotal "$D"); [ -n "$m1" ] && [ "$m1" -gt $((m0 + 70 * 1024)) ]; }
if until_true 20 grown && [ "$(mem_col)" = 240 ]; then
	t_ok "mem-set 240: MemTotal $m0 -> $m1 kB in $(($(now_ms) - t0)) ms, xm list says 240"
else
	t_fail "mem-set 240" "MemTotal $m0 -> '$m1' kB, xm list Mem '$(mem_col)'"
fi
"$XM" mem-set GuestM 128 || t_fail "mem-set 128" "refused"
t0=$(now_ms)
shrunk() { m2=$(memtotal "$D"); [ -n "$m2" ] && [ "$m2" -lt $((m1 - 100 * 1024)) ]; }
if until_true 20 shrunk && [ "$(mem_col)" = 128 ]; then
	t_ok "mem-set 128: MemTotal $m1 -> $m2 kB in $(($(now_ms) - t0)) ms, xm list says 128"
else
	t_fail "mem-set 128" "MemTotal $m1 -> '$m2' kB, xm list Mem '$(mem_col)'"
fi
xm_err "mem-set above maxmem is refused" \
	"Error: memory_dynamic_max must be less than or equal to memory_static_max (300 MiB > maxmem 256 MiB of domain 'GuestM'; xm mem-max raises it)" \
	"$XM" mem-set GuestM 300
"$XM" mem-max GuestM 200 || t_fail "mem-max 200" "refused"
xm_err "mem-set above a lowered mem-max is refused" \
	"Error: memory_dynamic_max must be less than or equal to memory_static_max (220 MiB > maxmem 200 MiB of domain 'GuestM'; xm mem-max raises it)" \
	"$XM" mem-set GuestM 220
xm_err "mem-max above what QEMU was given is refused" \
	"Error: cannot raise maxmem of domain 'GuestM' to 512 MiB: it was started with 256 MiB (maxmem = in its config)" \
	"$XM" mem-max GuestM 512
xm_err "mem-set of an unknown domain" "Error: Domain 'NoSuch' does not exist." \
	"$XM" mem-set NoSuch 128
xm_err "mem-set of a size that is none" \
	"Error: Invalid memory size '12x' (MiB, or with a suffix k, m, g)" "$XM" mem-set GuestM 12x

# --- vCPUs ------------------------------------------------------------------
allowed() { awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$(qemu_pid "$D")/task/$1/status"; }
pinned=
for t in $(vcpu_tids "$D"); do pinned="$pinned $(allowed "$t")"; done
if [ "$pinned" = " 0" ]; then
	t_ok "cpus = \"0\": the vCPU thread is pinned to CPU 0"
else
	t_fail "cpus = \"0\"" "vCPU threads' Cpus_allowed_list:$pinned"
fi
tv0=$(now_ms)
"$XM" vcpu-set GuestM 2 || t_fail "vcpu-set 2" "refused"
tv1=$(now_ms)
two() { [ "$(online "$D")" = 0-1 ]; }
if until_true 30 two; then
	t_ok "vcpu-set 2: the guest's online CPUs are 0-1"
	echo "vcpu-set 2: command $((tv1 - tv0)) ms, CPU online in the guest within $(($(now_ms) - tv0)) ms"
else
	t_fail "vcpu-set 2" "guest's online CPUs '$(online "$D")'"
fi
"$XM" vcpu-list GuestM > "$work/vl"
if [ "$(head -1 "$work/vl")" = "$(printf '%-32s %5s %5s %5s %5s %9s %s' Name ID VCPU CPU State 'Time(s)' 'CPU Affinity')" ] &&
	[ "$(awk 'NR > 1 && $1 == "GuestM" && $4 != "-" { n++ } END { print n }' "$work/vl")" = 2 ] &&
	[ "$(awk 'NR == 2 { print $NF }' "$work/vl")" = "$( [ "$ncpu" -gt 1 ] && echo 0 || echo cpu)" ]; then
	t_ok "vcpu-list: two vCPUs on host CPUs, vCPU 0 pinned to 0"
else
	t_fail "vcpu-list" "$(cat "$work/vl")"
fi
if [ "$(vcpu_tids "$D" | wc -l)" = 2 ]; then
	t_ok "two vCPU threads in QEMU"
else
	t_fail "vCPU threads" "$(vcpu_tids "$D" | tr '\n' ' ')"
fi
if [ "$ncpu" -gt 1 ]; then
	"$XM" vcpu-pin GuestM 1 1 || t_fail "vcpu-pin 1 1" "refused"
	tid1=$(vcpu_tids "$D" | tail -1)
	if [ "$(allowed "$tid1")" = 1 ] && "$XM" vcpu-list GuestM | awk '$3 == 1 { exit $NF != "1" }'; then
		t_ok "vcpu-pin GuestM 1 1: its thread's Cpus_allowed_list is 1, vcpu-list says 1"
	else
		t_fail "vcpu-pin" "Cpus_allowed_list '$(allowed "$tid1")'; $("$XM" vcpu-list GuestM | tail -1)"
	fi
fi
tv0=$(now_ms)
"$XM" vcpu-set GuestM 1 || t_fail "vcpu-set 1" "refused"
echo "vcpu-set 1: command (until QEMU's slot is empty) $(($(now_ms) - tv0)) ms"
one() { [ "$(online "$D")" = 0 ]; }
if until_true 30 one && [ "$(vcpu_tids "$D" | wc -l)" = 1 ] &&
	"$XM" vcpu-list GuestM | awk '$3 == 1 { exit $4 != "-" }'; then
	t_ok "vcpu-set 1: the guest's online CPUs are 0, QEMU has one vCPU thread, vcpu-list shows vCPU 1 off"
else
	t_fail "vcpu-set 1" "guest's online CPUs '$(online "$D")', threads $(vcpu_tids "$D" | wc -l)"
fi
# QEMU 7.2 under TCG aborts at a CPU plugged in after one was plugged out:
# vcpu-set refuses it there (and leaves the guest running); elsewhere it
# plugs it
accel=$(tr '\0' '\n' <"/proc/$(qemu_pid "$D")/cmdline" | sed -n 's/^q35,accel=//p')
if [ "$accel" = tcg ]; then
	xm_err "vcpu-set 2 again under TCG is refused" \
		"Error: domain $D: cannot plug a vCPU in after one was plugged out: QEMU under TCG aborts then (a QEMU 7.2 bug); at most 1 vCPUs now" \
		"$XM" vcpu-set GuestM 2
	# (xm list shows a state QEMU told it within its deadline: one look
	# on a loaded machine may find none, so a few looks over 2 s)
	k=0 seen=
	while [ $k -lt 10 ]; do
		f=$(flags GuestM); seen="$seen ${f:-?}"
		[ "$f" = "-b----" ] || [ "$f" = "r-----" ] && break
		sleep 0.2; k=$((k + 1))
	done
	if [ $k -lt 10 ]; then
		t_ok "... and GuestM still runs"
	else
		t_fail "GuestM after the refused vcpu-set" "states seen:$seen; $("$XM" list GuestM 2>&1 | tail -1)"
	fi
else
	"$XM" vcpu-set GuestM 2 && until_true 30 two && t_ok "vcpu-set 2 again ($accel)" ||
		t_fail "vcpu-set 2 again ($accel)" "guest's online CPUs '$(online "$D")'"
fi
xm_err "vcpu-set beyond maxvcpus" \
	"Error: Cannot set vcpus greater than max vcpus on running domain (3 > maxvcpus = 2 of domain 'GuestM')" \
	"$XM" vcpu-set GuestM 3
xm_err "vcpu-pin with a bad CPU list" \
	"Error: invalid CPU list \"0-x\": a range N-M needs its end" "$XM" vcpu-pin GuestM 0 0-x
guest_cfg "$work/bad.cfg" GuestBad 128 1 'cpus = "1,a"'
xm_err "cpus = with a bad CPU list" \
	"Error: $work/bad.cfg: cpus = \"1,a\": invalid CPU list \"1,a\": expected a CPU number, a range N-M, ^N or \"all\"" \
	"$XM" create "$work/bad.cfg"
guest_cfg "$work/bad2.cfg" GuestBad 128 1 "cpus = \"$ncpu\""
xm_err "cpus = with a CPU the host does not have" \
	"Error: $work/bad2.cfg: cpus = ...: CPU $ncpu is not one of this host's (0-$((ncpu - 1)))" \
	"$XM" create "$work/bad2.cfg"
"$XM" destroy GuestM

# --- on_crash ---------------------------------------------------------------
# panic DOM: the guest kernel panics (sysrq c), typed on its console
panic() {
	printf '%s\n' "send " "expect xm-guest# " "send echo c > /proc/sysrq-trigger" \
		"expect Kernel panic" "raw 1d" "wait" |
		"$PTY" 60 "$XM" console "$1" >/dev/null 2>"$work/panic.out" || true
}
gone() { ! xenstore-exists "/local/domain/$1" 2>/dev/null; }

# on_poweroff restart: a shutdown starts the guest again (from QEMU's
# shutdown state: system_reset, cont); then a panic, on_crash destroy (the
# default)
guest_cfg "$work/x.cfg" GuestX 128 1 'on_poweroff = "restart"'
D=$(guest_create "$work/x.cfg") || t_fail "create GuestX" "did not start"
xenstore-rm "/local/domain/$D/attr/xmfront/state"
"$XM" shutdown GuestX
ready() { [ "$(xenstore-read "/local/domain/$D/attr/xmfront/state" 2>/dev/null)" = ready ]; }
if until_true 60 ready && grep -q "domain $D (GuestX): powered off: restart" "$work/backd.log"; then
	t_ok "on_poweroff restart: after xm shutdown GuestX (id $D) runs again, its agent ready"
else
	t_fail "on_poweroff restart" "state '$(flags GuestX)', agent '$(xenstore-read "/local/domain/$D/attr/xmfront/state" 2>&1)'"
fi
panic "$D"
if until_true 20 gone "$D"; then
	t_ok "on_crash destroy (the default): the panicked guest is gone"
else
	t_fail "on_crash destroy" "domain $D still there: $("$XM" list 2>&1 | tail -n +2)"
fi

# preserve: stays, crashed, until xm destroy
guest_cfg "$work/p.cfg" GuestP 128 1 'on_crash = "preserve"'
D=$(guest_create "$work/p.cfg") || t_fail "create GuestP" "did not start"
panic "$D"
crashed() { [ "$(flags GuestP)" = "----c-" ]; }
if until_true 20 crashed; then
	t_ok "on_crash preserve: xm list shows GuestP ----c-"
else
	t_fail "on_crash preserve" "xm list: $("$XM" list GuestP 2>&1 | tail -1)"
fi
"$XM" destroy GuestP
if gone "$D" && [ ! -e "$XM_RUNDIR/dom/$D" ]; then
	t_ok "xm destroy removes the preserved guest"
else
	t_fail "xm destroy of the preserved guest" "$("$XM" list 2>&1 | tail -n +2)"
fi

# restart: the same domain comes back, with the disk of its config
dd if=/dev/zero of="$work/r.img" bs=1M count=4 2>/dev/null
guest_cfg "$work/r.cfg" GuestR 128 1 "on_crash = \"restart\"
on_poweroff = \"preserve\"
disk = [ 'file:$work/r.img,xvdb,w' ]"
D=$(guest_create "$work/r.cfg") || t_fail "create GuestR" "did not start"
xenstore-rm "/local/domain/$D/attr/xmfront/state"
tr0=$(now_ms)
panic "$D"
restarted() { grep -q "domain $D: restarted" "$work/backd.log"; }
if until_true 60 ready && restarted &&
	grep -q "domain $D (GuestR): crashed (guest kernel panic): restart" "$work/backd.log" &&
	[ "$(flags GuestR)" != "----c-" ] &&
	[ "$("$XM" domid GuestR)" = "$D" ] && guest_run "$D" 'test -b /dev/xvdb' >/dev/null; then
	t_ok "on_crash restart: GuestR (id $D) runs again, its agent ready, /dev/xvdb there"
	echo "on_crash restart: panic typed -> agent ready again within $(($(now_ms) - tr0)) ms"
else
	t_fail "on_crash restart" "state '$(flags GuestR)', agent '$(xenstore-read "/local/domain/$D/attr/xmfront/state" 2>&1)'"
	tail -5 "$work/backd.log" | sed 's/^/#   /'
fi
# ... and on_poweroff preserve: shut down, kept until xm destroy
"$XM" shutdown GuestR
down() { [ "$(flags GuestR)" = "---s--" ]; }
if until_true 30 down; then
	t_ok "on_poweroff preserve: after xm shutdown, xm list shows GuestR ---s--"
else
	t_fail "on_poweroff preserve" "xm list: $("$XM" list GuestR 2>&1 | tail -1)"
fi
"$XM" destroy GuestR

# coredump-destroy: a core file, then gone
guest_cfg "$work/c.cfg" GuestC 128 1 'on_crash = "coredump-destroy"'
D=$(guest_create "$work/c.cfg") || t_fail "create GuestC" "did not start"
panic "$D"
core=
if until_true 60 gone "$D"; then
	core=$(ls "$DUMPS"/GuestC/*".GuestC.$D.core" 2>/dev/null | head -1)
fi
if [ -n "$core" ] && [ "$(head -c 4 "$core" | od -An -c | tr -d ' ')" = 177ELF ] &&
	[ "$(stat -c %s "$core")" -gt $((100 * 1024 * 1024)) ]; then
	t_ok "on_crash coredump-destroy: ${core#$DUMPS/} ($(($(stat -c %s "$core") >> 20)) MiB, ELF), the guest gone"
else
	t_fail "on_crash coredump-destroy" "core '$core' in $(ls -R "$DUMPS" | tr '\n' ' '); domain $D gone: $(gone "$D" && echo yes || echo no)"
	tail -5 "$work/backd.log" | sed 's/^/#   /'
fi

# rename-restart: the crashed one kept as GuestN-<time>, a new GuestN started
guest_cfg "$work/n.cfg" GuestN 128 1 'on_crash = "rename-restart"'
D=$(guest_create "$work/n.cfg") || t_fail "create GuestN" "did not start"
panic "$D"
new_id() { n=$("$XM" domid GuestN 2>/dev/null) && [ "$n" != "$D" ] &&
	[ "$(xenstore-read "/local/domain/$n/attr/xmfront/state" 2>/dev/null)" = ready ]; }
old_name=$(xenstore-read "/local/domain/$D/name" 2>/dev/null)
if until_true 60 new_id && old_name=$(xenstore-read "/local/domain/$D/name") &&
	expr "$old_name" : 'GuestN-[0-9]\{8\}T[0-9]\{4\}Z$' > /dev/null &&
	[ "$(flags "$old_name")" = "----c-" ]; then
	t_ok "on_crash rename-restart: $old_name (id $D) kept, crashed; a new GuestN (id $n) runs"
else
	t_fail "on_crash rename-restart" "old '$old_name' state '$(flags "$D")', GuestN '$("$XM" domid GuestN 2>&1)'"
	tail -5 "$work/backd.log" | sed 's/^/#   /'
fi
"$XM" destroy "$D"
"$XM" destroy GuestN

t_summary
