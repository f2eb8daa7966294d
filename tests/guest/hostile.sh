#!/bin/sh
# tests/guest/hostile.sh — a guest's root attacks its XenStore port (issue 11).
#
# GuestA's root runs tests/guest/xshostile (in A's initrd as an extra cpio
# archive after the image's own; the product image is unchanged): it kills
# the agent, takes the xenbus port and for HOSTILE_SECS (default 60) sends
# garbage, oversized and cut frames, a byte at a time, and valid but hostile
# requests (quotas, paths, watches, open transactions, a watch storm never
# read, SET_PERMS games, other domains' nodes, privileged operations,
# transaction ids not its own). GuestB meanwhile attaches and detaches a
# disk HOSTILE_N times (default 5) before, during and after the attack.
# Printed: B's attach and detach p50/max per phase, xmstored's and
# xmbackd's VmRSS before, at peak during, and after, and what the store
# answered A per phase. Checked:
# - every operation of B's succeeds; during the attack the p50 stays under
#   3x the before-phase p50 + 500 ms (a bound a shared 2-core machine holds);
# - both daemons alive with the same pids; RSS growth under HOSTILE_RSS_MB
#   (default 32) MB each;
# - A never read or changed another domain's node (every such request
#   EACCES), privileged requests and foreign transaction ids refused, each
#   oversized frame dropped the connection, the quotas answered;
# - B's data (its disk's contents, a node of its) intact;
# - after the attack A's agent is back (respawned by the image's /init,
#   attr/xmfront/state ready again) and a disk attached to and mounted in
#   A before the attack still reads, writes, unmounts and detaches.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"
N=${HOSTILE_N:-5}
SECS=${HOSTILE_SECS:-60}
RSS_MB=${HOSTILE_RSS_MB:-32}

sampler=
# ASan keeps freed memory in a quarantine (256 MB by default), which would
# be counted as the daemons' growth: a small one, so RSS means the heap
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
trap '[ -n "$sampler" ] && kill "$sampler" 2>/dev/null; [ -n "${work:-}" ] && guests_teardown' EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
san=${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}
make -s -C "$TOP" SANITIZE="$san" B="$B" "$B/tests/guest/xshostile" >/dev/null ||
	{ t_fail build "xshostile"; t_summary; exit 1; }

# A's initrd: the image, then xshostile
mkdir -p "$work/extra/usr/bin"
cp "$TOP/$B/tests/guest/xshostile" "$work/extra/usr/bin/xshostile"
(cd "$work/extra" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/extra.cpio.gz"
cat "$TOP/$B/guest/initramfs.cpio.gz" "$work/extra.cpio.gz" >"$work/A.initrd"
guest_cfg "$work/A.cfg" GuestA
sed -i "s|^ramdisk = .*|ramdisk = \"$work/A.initrd\"|" "$work/A.cfg"
guest_cfg "$work/B.cfg" GuestB
truncate -s 16M "$work/B.img"               # B's attach/detach disk
mke2fs -q -F -t ext2 "$work/A.img" 16M >/dev/null 2>&1 # A's, mounted across the attack
dd if=/dev/urandom of="$work/Bdata.img" bs=1M count=4 2>/dev/null # B's data

A=$(guest_create "$work/A.cfg") && Bd=$(guest_create "$work/B.cfg") ||
	{ t_fail setup "two guests"; t_summary; exit 1; }
t_ok "GuestA ($A, the attacker) and GuestB ($Bd) up"

ms_now() { date +%s%3N; }
# until_ok SECONDS CMD...: retry CMD every 0.2 s
until_ok() {
	end=$(($(ms_now) + $1 * 1000)); shift
	until "$@"; do [ "$(ms_now)" -lt "$end" ] || return 1; sleep 0.2; done
}

# ---- the daemons: pids and RSS ----
XS_PIDF=$work/xs/xmstored.pid
BK_PIDF=$XM_RUNDIR/xmbackd.pid
xs_pid=$(cat "$XS_PIDF") bk_pid=$(cat "$BK_PIDF")
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_line() { echo "xmstored $(($1 / 1024)) MB ($1 kB), xmbackd $(($2 / 1024)) MB ($2 kB)"; }

# ---- B's phases: N attaches and detaches, timed ----
# phase NAME [DONE]: the times into $work/NAME.att and NAME.det, N cycles,
# and on until DONE succeeds (200 at most); 1 if one failed
phase() {
	: >"$work/$1.att"; : >"$work/$1.det"; bad=0 i=0
	while [ $i -lt "$N" ] || { [ $# -gt 1 ] && [ $i -lt 200 ] && ! $2; }; do
		i=$((i + 1))
		t0=$(ms_now)
		if ! "$XM" block-attach "$Bd" "file:$work/B.img" xvdb w 2>>"$work/$1.err"; then
			bad=1; continue
		fi
		t1=$(ms_now)
		echo $((t1 - t0)) >>"$work/$1.att"
		if ! "$XM" block-detach "$Bd" xvdb 2>>"$work/$1.err"; then
			bad=1; "$XM" block-detach -f "$Bd" xvdb 2>/dev/null; continue
		fi
		echo $(($(ms_now) - t1)) >>"$work/$1.det"
	done
	return $bad
}
p50() { sort -n "$1" | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
pmax() { sort -n "$1" | tail -1; }
stats() { echo "attach p50 $(p50 "$work/$1.att") max $(pmax "$work/$1.att") ms, detach p50 $(p50 "$work/$1.det") max $(pmax "$work/$1.det") ms"; }

# ---- before ----
# B: a data disk and a node whose contents must survive the attack
"$XM" block-attach "$Bd" "file:$work/Bdata.img" xvdc r 2>"$work/err" ||
	t_fail "GuestB's data disk" "$(cat "$work/err")"
bsum() { guest_run "$Bd" 'md5sum /dev/xvdc | cut -d" " -f1'; }
want_b=$(md5sum "$work/Bdata.img" | cut -d' ' -f1)
got=$(bsum)
[ "$got" = "$want_b" ] && t_ok "GuestB reads its data disk (md5 $got)" || t_fail "GuestB's data disk" "'$got', want $want_b"
xenstore-write "/local/domain/$Bd/data/canary" "B's own" && xenstore-chmod "/local/domain/$Bd/data/canary" "n$Bd"
# A: a disk mounted in the guest across the attack
"$XM" block-attach "$A" "file:$work/A.img" xvdd w 2>"$work/err" ||
	t_fail "GuestA's disk" "$(cat "$work/err")"
got=$(guest_run "$A" 'mkdir -p /mnt/a && mount /dev/xvdd /mnt/a && echo before >/mnt/a/f && cat /mnt/a/f')
[ "$got" = before ] && t_ok "GuestA mounts its disk xvdd and writes it" || t_fail "GuestA's disk mounted" "'$got'"

rss_xs0=$(rss "$xs_pid") rss_bk0=$(rss "$bk_pid")
if phase before; then t_ok "before: GuestB $N attaches and detaches: $(stats before)"
else t_fail "before: GuestB's operations" "$(cat "$work/before.err")"; fi
base=$(p50 "$work/before.att") based=$(p50 "$work/before.det")
echo "# RSS before: $(rss_line "$rss_xs0" "$rss_bk0")"

# ---- during ----
# the agent's state node: the restarted agent writes ready again
xenstore-write "/local/domain/$A/attr/xmfront/state" attacked
guest_run "$A" "xshostile $Bd $SECS >/tmp/hostile.out 2>&1 & echo \$! >/tmp/hostile.pid" >/dev/null
# the peak RSS, sampled every 0.2 s until the attack is over
(
	mx=0 mb=0
	while :; do
		x=$(rss "$xs_pid") b=$(rss "$bk_pid")
		[ "$x" -gt "$mx" ] && mx=$x; [ "$b" -gt "$mb" ] && mb=$b
		echo "$mx $mb" >"$work/peak.tmp" && mv "$work/peak.tmp" "$work/peak"
		sleep 0.2
	done
) &
sampler=$!
attacking() { guest_run "$A" 'grep -c "^phase" /tmp/hostile.out'; }
# the attack has begun once its first phases are reported
started() { n=$(attacking); [ "${n:-0}" -ge 2 ] 2>/dev/null; }
until_ok 60 started || t_fail "the attack" "did not start: $(guest_run "$A" 'cat /tmp/hostile.out')"
# B's cycles go on until A's agent is back (the attack over)
back() { [ "$(xenstore-read "/local/domain/$A/attr/xmfront/state" 2>/dev/null)" = ready ]; }
if phase during back; then t_ok "during the attack: GuestB $(wc -l <"$work/during.att") attaches and detaches: $(stats during)"
else t_fail "during: GuestB's operations" "$(cat "$work/during.err")"; fi
dur=$(p50 "$work/during.att") durd=$(p50 "$work/during.det")
lim=$((3 * base + 500)) limd=$((3 * based + 500))
[ "$dur" -le "$lim" ] && [ "$durd" -le "$limd" ] &&
	t_ok "during: p50 attach $dur ms (before $base ms, bound $lim), detach $durd ms (before $based ms, bound $limd)" ||
	t_fail "during: GuestB's latency" "p50 attach $dur ms (bound $lim), detach $durd ms (bound $limd)"
finished() { guest_run "$A" 'grep -q "^done" /tmp/hostile.out || ! kill -0 $(cat /tmp/hostile.pid) 2>/dev/null'; }
until_ok $((SECS + 300)) finished || t_fail "the attack" "did not end"
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; sampler=
read -r rss_xs1 rss_bk1 <"$work/peak"
guest_run "$A" 'cat /tmp/hostile.out' >"$work/hostile.out"
sed 's/^/# A: /' "$work/hostile.out"
echo "# RSS at peak during the attack: $(rss_line "$rss_xs1" "$rss_bk1")"

# ---- what the store answered A ----
# phase_all NAME AWK: every round's line of phase NAME passes AWK (fields:
# sent, ok, drops, nerr errors, and ERR=N as e[ERR]); phase_any: one
# round's at least; phase_first: the first round's
phase_all() { phase_rounds all "" "$@"; }
phase_any() { phase_rounds any "" "$@"; }
phase_first() { phase_rounds all 1 "$@"; }
phase_rounds() { # MODE ROUND NAME AWK
	awk -v mode="$1" -v r="$2" -v p="$3" '
		$1 == "phase" && index($2, p "#") == 1 && (r == "" || $2 == p "#" r ":") {
			n++; delete e
			nerr = 0
			for (i = 11; i <= NF; i++) if (split($i, kv, "=") == 2) { e[kv[1]] = kv[2]; nerr += kv[2] }
			sent = $4; ok = $6; drops = $10
			if ('"$4"') good = 1
			else { print "round " substr($2, length(p) + 2) " " $0; bad = 1 }
		}
		END { exit (mode == "all" ? n && !bad : good) ? 0 : 1 }' "$work/hostile.out"
}
grep -q "^done" "$work/hostile.out" && t_ok "the attack ran to its end: $(grep "^done" "$work/hostile.out"), $(grep -c "^phase quota" "$work/hostile.out") round(s)" ||
	t_fail "the attack" "no 'done': $(tail -3 "$work/hostile.out")"
why=$(phase_all foreign-read 'ok == 0 && e["EACCES"] == sent') &&
	t_ok "A's READ, DIRECTORY, GET_PERMS of GuestB's and dom0's nodes: all EACCES" || t_fail "foreign reads" "$why"
why=$(phase_all foreign-write 'ok == 0 && nerr == sent') && why=$(phase_first foreign-write 'e["EACCES"] == sent') &&
	t_ok "A's WRITE, MKDIR, RM, SET_PERMS there: all refused (EACCES while its quotas are not used up)" ||
	t_fail "foreign writes" "$why"
why=$(phase_all priv 'ok == 0 && e["EACCES"] == sent') &&
	t_ok "A's INTRODUCE, RELEASE, SET_TARGET, RESUME, CONTROL: all EACCES" || t_fail "privileged requests" "$why"
why=$(phase_all txids 'ok == 0') &&
	t_ok "A's requests on transaction ids not its own: none served" || t_fail "foreign transaction ids" "$why"
why=$(phase_all huge 'drops == sent') &&
	t_ok "each frame over XENSTORE_PAYLOAD_MAX dropped A's connection" || t_fail "oversized frames" "$why"
why=$(phase_any quota 'e["ENOSPC"] + e["ENOMEM"] > 0') &&
	t_ok "A's quota answered (ENOSPC: nodes, ENOMEM: memory)" || t_fail "node quota" "$why"
why=$(phase_any watches 'sent > ok') &&
	t_ok "A's watches refused past the quota" || t_fail "watch quota" "$why"
grep -q "byte-by-byte READ of domid answered right" "$work/hostile.out" &&
	t_ok "a READ sent one byte every 50 ms answered right" || t_fail slowloris "$(grep slowloris "$work/hostile.out")"

# ---- after ----
until_ok 60 back && t_ok "GuestA's agent back after the attack: $(guest_run "$A" 'grep "^init:\|resync\|free again" /var/log/xmfront.log | tail -3 | sed "s/^[^:]*: //" | tr "\n" " "')" ||
	t_fail "GuestA's agent back" "state $(xenstore-read "/local/domain/$A/attr/xmfront/state" 2>&1); log: $(guest_run "$A" 'tail -5 /var/log/xmfront.log')"
got=$(guest_run "$A" 'cat /mnt/a/f && echo after >>/mnt/a/f && sync && umount /mnt/a && echo unmounted')
[ "$got" = "before
unmounted" ] && t_ok "GuestA's disk mounted across the attack reads, writes and unmounts" || t_fail "GuestA's disk after" "'$got'"
"$XM" block-detach "$A" xvdd 2>"$work/err" && t_ok "... and detaches" || t_fail "GuestA's disk detach" "$(cat "$work/err")"
got=$(guest_run "$A" 'xenstore-write data/hq/0 after && xenstore-read data/hq/0 && xenstore-read domid')
[ "$got" = "after
$A" ] && t_ok "GuestA's guest-side clients served by the new agent" || t_fail "GuestA's clients" "'$got'"
if phase after; then t_ok "after: GuestB $N attaches and detaches: $(stats after)"
else t_fail "after: GuestB's operations" "$(cat "$work/after.err")"; fi
rss_xs2=$(rss "$xs_pid") rss_bk2=$(rss "$bk_pid")
echo "# RSS after: $(rss_line "$rss_xs2" "$rss_bk2")"

got=$(bsum)
[ "$got" = "$want_b" ] && [ "$(xenstore-read "/local/domain/$Bd/data/canary")" = "B's own" ] &&
	[ "$(xenstore-read "/local/domain/$Bd/attr/xmfront/state")" = ready ] &&
	t_ok "GuestB's data intact: its disk (md5), its node, its agent" ||
	t_fail "GuestB's data" "md5 '$got', canary '$(xenstore-read "/local/domain/$Bd/data/canary" 2>&1)'"
[ "$(cat "$XS_PIDF")" = "$xs_pid" ] && kill -0 "$xs_pid" && [ "$(cat "$BK_PIDF")" = "$bk_pid" ] && kill -0 "$bk_pid" &&
	t_ok "xmstored ($xs_pid) and xmbackd ($bk_pid) alive, the same pids" ||
	t_fail "the daemons" "xmstored $(cat "$XS_PIDF") (was $xs_pid), xmbackd $(cat "$BK_PIDF") (was $bk_pid)"
gx=$(((rss_xs1 - rss_xs0) / 1024)) gb=$(((rss_bk1 - rss_bk0) / 1024))
[ "$gx" -lt "$RSS_MB" ] && [ "$gb" -lt "$RSS_MB" ] &&
	t_ok "RSS growth under the attack: xmstored +$gx MB, xmbackd +$gb MB (bound $RSS_MB MB)" ||
	t_fail "RSS growth" "xmstored +$gx MB, xmbackd +$gb MB (bound $RSS_MB MB)"

"$XM" block-detach "$Bd" xvdc 2>/dev/null
if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
