#!/bin/sh
# tests/guest/saverestore.sh — xm save / xm restore with a real guest: a
# disk mounted in the guest and being written is saved with the guest, held
# against other guests while the save exists, and is still mounted, intact
# and writable after the restore; the agent comes back ready; bad input gets
# one clear error and leaves nothing behind.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

cleanup() {
	guests_teardown
}
trap cleanup EXIT INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }

truncate -s 64M "$work/disk.img" && mkfs.ext4 -q -F -L xmdisk "$work/disk.img"
guest_cfg "$work/a.cfg" GuestA 160 1 'extra = "xmtest=saverestore"'
guest_cfg "$work/b.cfg" GuestB
A=$(guest_create "$work/a.cfg") && t_ok "GuestA up (id $A)" || { t_fail GuestA "no"; t_summary; exit 1; }
Bd=$(guest_create "$work/b.cfg") && t_ok "GuestB up (id $Bd)" || { t_fail GuestB "no"; t_summary; exit 1; }

# What is there: domains' records, run dirs, QEMUs, saved records.
state() {
	echo "dom[$(xenstore-list /tool/xm/domain 2>/dev/null | tr '\n' ' ')]" \
		"local[$(xenstore-list /local/domain 2>/dev/null | tr '\n' ' ')]" \
		"run[$(ls "$XM_RUNDIR/dom" | tr '\n' ' ')]" \
		"qemu[$(pgrep -f "process=xm-dom" | sort | tr '\n' ' ')]" \
		"saved[$(xenstore-ls /tool/xm/saved 2>/dev/null | grep -v 'restoring\|^ *$' | tr -s ' \n' ' ')]"
}
# Wait until the agent of $1 is ready and its device $2 Connected.
wait_connected() {
	i=0
	while [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" != ready ] ||
	      [ "$(xenstore-read "/local/domain/$1/device/vbd/$2/state" 2>/dev/null)" != 4 ]; do
		i=$((i + 1)); [ $i -gt 300 ] && return 1; sleep 0.1
	done
}

# ---- a disk mounted in GuestA, a file written before and a writer running ----
"$XM" block-attach "$A" "file:$work/disk.img" xvdb w >"$work/out" 2>&1 &&
	t_ok "disk attached to GuestA" || t_fail "attach" "$(cat "$work/out")"
out=$(guest_run "$A" 'mkdir -p /mnt/d; mount /dev/xvdb /mnt/d; dd if=/dev/urandom of=/mnt/d/data.bin bs=64k count=32 2>/dev/null; sync; md5sum /mnt/d/data.bin | cut -d" " -f1; (i=0; while :; do echo line $i >> /mnt/d/log; i=$((i+1)); sleep 0.05; done) </dev/null >/dev/null 2>&1 & echo $! > /tmp/writer.pid')
md5_before=$(echo "$out" | tail -1)
[ ${#md5_before} -eq 32 ] && t_ok "file written in the guest (md5 $md5_before), writer running" ||
	t_fail "guest writes" "$out"
xenstore-write "/local/domain/$A/data/mark" "kept across"
sleep 0.5

# ---- save ----
"$XM" save "$A" "$work/a.save" >"$work/out" 2>&1 && t_ok "xm save GuestA" || t_fail "save" "$(cat "$work/out")"
"$XM" list > "$work/list"
grep -q '^GuestA ' "$work/list" && t_fail "GuestA gone from xm list" "$(cat "$work/list")" ||
	t_ok "GuestA gone from xm list"
[ ! -e "$XM_RUNDIR/dom/$A" ] && ! xenstore-read "/local/domain/$A/name" >/dev/null 2>&1 &&
	t_ok "its domain cleaned up (nodes, run dir)" || t_fail "cleanup after save" "$(state)"
ls "$work"/.a.save.* >/dev/null 2>&1 && t_fail "no temporary file" "$(ls -a "$work")" ||
	t_ok "no temporary file left beside the save"

# ---- the disk is held while the save exists ----
"$XM" block-attach "$Bd" "file:$work/disk.img" xvdc w >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && grep -q "GuestA, saved to $work/a.save" "$work/err" &&
	t_ok "GuestB's attach of the disk w refused: $(cat "$work/err")" ||
	t_fail "attach w while saved" "rc=$rc $(cat "$work/err")"
[ -z "$(xenstore-list "/local/domain/0/backend/vbd/$Bd" 2>/dev/null)" ] &&
	t_ok "the refused attach left nothing" || t_fail "refused attach left" "$(xenstore-ls /local/domain/0/backend/vbd/$Bd)"

# ---- bad input: one error each, nothing left ----
before=$(state)
xm_err "save of an unknown domain" "Error: Domain 'nosuch' does not exist." "$XM" save nosuch "$work/x.save"
xm_err "restore of a missing file" "Error: cannot open $work/missing.save: No such file or directory" \
	"$XM" restore "$work/missing.save"
size=$(stat -c %s "$work/a.save")
head -c $((size / 2)) "$work/a.save" > "$work/trunc.save"
xm_err "restore of a truncated file" \
	"Error: $work/trunc.save is truncated or damaged: $((size / 2)) bytes, its head says $size" \
	"$XM" restore "$work/trunc.save"
head -c 100000 /dev/urandom > "$work/foreign.save"
xm_err "restore of a foreign file" "Error: $work/foreign.save is not an xm save file" \
	"$XM" restore "$work/foreign.save"
"$XM" save -c "$Bd" "$work/b.save" >"$work/out" 2>&1 && "$XM" list GuestB >/dev/null 2>&1 &&
	t_ok "xm save -c: GuestB runs on" || t_fail "save -c" "$(cat "$work/out")"
xm_err "restore while a domain of its name runs" "Error: Domain 'GuestB' already exists with ID '$Bd'" \
	"$XM" restore "$work/b.save"
rm -f "$work/b.save"
i=0; while xenstore-ls /tool/xm/saved 2>/dev/null | grep -q "name = \"GuestB\"" && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
[ $i -lt 150 ] && t_ok "a save file removed: its record goes (xmbackd, in $((i / 10)) s)" ||
	t_fail "removed save's record" "$(xenstore-ls /tool/xm/saved)"
after=$(state)
[ "$before" = "$after" ] && t_ok "nothing left behind by the bad input" ||
	t_fail "left behind" "before: $before / after: $after"

# ---- an xm restore killed half-way: xmbackd undoes it, the save keeps its claims ----
XM_CRASH_AT=xm.restore-attached "$XM" restore "$work/a.save" >/dev/null 2>&1
i=0; while xenstore-ls /tool/xm/domain 2>/dev/null | grep -q 'name = "GuestA"' && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
[ $i -lt 150 ] && [ "$(state)" = "$after" ] && [ -z "$(xenstore-read "$(xenstore-list /tool/xm/saved | sed 's|^|/tool/xm/saved/|;s|$|/restoring|')" 2>&1)" ] &&
	t_ok "a killed restore undone by xmbackd in $((i / 10)) s; the save's record and claims intact" ||
	t_fail "killed restore" "$(state)"
"$XM" block-attach "$Bd" "file:$work/disk.img" xvdc w >/dev/null 2>&1 &&
	t_fail "claims after a killed restore" "GuestB could attach the disk" ||
	t_ok "the disk still refused to GuestB"

# ---- restore ----
out=$("$XM" restore "$work/a.save" 2>&1)
A2=$(echo "$out" | sed -n 's/^Restored domain GuestA (id=\([0-9]*\))$/\1/p')
[ -n "$A2" ] && t_ok "xm restore: $out" || t_fail "restore" "$out"
wait_connected "$A2" 51728 && t_ok "agent ready again, xvdb Connected in the guest" ||
	t_fail "agent after restore" "agent $(xenstore-read "/local/domain/$A2/attr/xmfront/state" 2>&1) vbd $(xenstore-read "/local/domain/$A2/device/vbd/51728/state" 2>&1); its log: $(guest_run "$A2" 'tail -15 /var/log/xmfront.log')"
[ "$(xenstore-read "/local/domain/$A2/data/mark" 2>/dev/null)" = "kept across" ] &&
	t_ok "the guest's data node came back" || t_fail "data node" "$(xenstore-ls "/local/domain/$A2" 2>&1 | head -20)"
[ "$(xenstore-read "/vm/$(xenstore-read "/local/domain/$A2/vm" | cut -d/ -f3)/image/cmdline")" = xmtest=saverestore ] &&
	t_ok "its config came back (cmdline)" || t_fail "config" "$(xenstore-ls /vm)"
[ -z "$(xenstore-list /tool/xm/saved 2>/dev/null)" ] && t_ok "the saved record is gone once restored" ||
	t_fail "saved record" "$(xenstore-ls /tool/xm/saved)"
out=$(guest_run "$A2" 'grep -c " /mnt/d " /proc/mounts; md5sum /mnt/d/data.bin | cut -d" " -f1; n=$(wc -l < /mnt/d/log); sleep 1; echo $(( $(wc -l < /mnt/d/log) - n ))')
set -- $out
[ "${1:-}" = 1 ] && t_ok "the disk is still mounted in the guest" || t_fail "mounted" "$out"
[ "${2:-}" = "$md5_before" ] && t_ok "the file is intact (md5 $md5_before)" || t_fail "md5" "$out"
[ "${3:-0}" -gt 5 ] && t_ok "the guest's writer runs on ($3 lines in 1 s)" || t_fail "writer" "$out"
out=$(guest_run "$A2" 'kill $(cat /tmp/writer.pid); dd if=/dev/zero of=/mnt/d/more bs=64k count=16 2>/dev/null && sync && ls -l /mnt/d/more | awk "{print \$5}" && umount /mnt/d && echo unmounted')
echo "$out" | grep -q '^1048576$' && echo "$out" | grep -q unmounted &&
	t_ok "more writes work; unmounted" || t_fail "writes after restore" "$out"
"$XM" block-detach "$A2" xvdb >"$work/out" 2>&1 && t_ok "detached" ||
	t_fail "detach" "$(cat "$work/out"); the agent's log: $(guest_run "$A2" 'tail -8 /var/log/xmfront.log')"
e2fsck -fn "$work/disk.img" >"$work/fsck" 2>&1 && t_ok "e2fsck -fn on the host: clean" ||
	t_fail "e2fsck" "$(tail -5 "$work/fsck")"
"$XM" restore "$work/a.save" >/dev/null 2>"$work/err"
grep -q "is restored already or whose disks were let go" "$work/err" &&
	t_ok "a save restored already is refused: $(cat "$work/err")" || t_fail "second restore" "$(cat "$work/err")"

# ---- restore -p: paused until xm unpause, then the agent starts afresh ----
"$XM" save "$A2" "$work/a2.save" >"$work/out" 2>&1 || t_fail "second save" "$(cat "$work/out")"
out=$("$XM" restore -p "$work/a2.save" 2>&1)
A3=$(echo "$out" | sed -n 's/^Restored domain GuestA (id=\([0-9]*\)), paused$/\1/p')
[ -n "$A3" ] && "$XM" list GuestA | awk 'NR == 2 { exit !($5 ~ /p/) }' &&
	t_ok "xm restore -p: $out; listed paused" || t_fail "restore -p" "$out $("$XM" list GuestA 2>&1)"
"$XM" unpause "$A3" >"$work/out" 2>&1
i=0; while [ "$(xenstore-read "/local/domain/$A3/attr/xmfront/state" 2>/dev/null)" != ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
out=$(guest_run "$A3" 'echo alive')
[ $i -lt 300 ] && [ "$out" = alive ] && ! xenstore-read "/tool/xm/domain/$A3/port-reset" >/dev/null 2>&1 &&
	t_ok "xm unpause: the guest runs, its agent ready again" || t_fail "unpause" "$(cat "$work/out") $out"
t_summary
