# tests/guest/lib-guest.sh — real guests for the test tiers and the demo.
# Source after tests/lib.sh; needs $B and $TOP.
#
#   guests_setup            make programs + image; xmstored and xmbackd in a
#                           fresh $work (sets XENSTORED_PATH, XM_RUNDIR)
#   guests_setup_installed SBINDIR  the same with the installed programs and
#                           their default paths under /run (the package test)
#   guest_cfg FILE NAME [MEM] [VCPUS] [extra line]
#   guest_create CFG        xm create + wait for the agent; prints the id
#   guest_run ID CMD        run CMD in the guest's shell through xm console
#                           (a pty, as a user); prints its output, returns
#                           its exit status
#   guests_teardown         kill what is left, stop the daemons, rm $work,
#                           remove the test bridge
#   bridge_make [ADDR/LEN]  the test bridge $BR (xmt<pid>), up, with the
#                           host's address ADDR if given
#   on_bridge LINK          is LINK a port of $BR?
#   xm_err NAME WANT CMD... a check: CMD exits 1 with exactly WANT on stderr
#   guest_floor_console ID BUS [XMFRONT]  for the benches' raw-QMP floor:
#                           the guest's console shows KERN_NOTICE (a new
#                           disk's kernel line), and a uevent monitor
#                           (XMFRONT --uevents, default the guest's xmfront)
#                           prints the block events of root port BUS (rpN)

XM="$TOP/$B/xm/xm"
BACKD="$TOP/$B/xmbackd/xmbackd"
PTY="$TOP/$B/tests/guest/ptydrive"
BACKD_PID=
BR=

guests_setup() {
	# the build's flavour: $SANITIZE if set (a build dir of its own), else by name
	san=${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}
	make -s -C "$TOP" SANITIZE="$san" B="$B" programs "$B/tests/guest/ptydrive" >/dev/null &&
		make -s -C "$TOP" SANITIZE="$san" B="$B" image >/dev/null 2>&1 || return 1
	work=$(mktemp -d /tmp/xm-guests.XXXXXX)
	export XM_RUNDIR="$work/run"
	xs_start xm "$work/xs" || return 1
	backd_start
}

# guests_setup_installed SBINDIR: the installed programs with their default
# paths (/run/xenstored, /run/xm), as a user of the package runs them; only
# the test driver ptydrive comes from $B. Refused on a host whose /run
# already has them: a store or guests in use are never touched.
guests_setup_installed() {
	XM="$1/xm"; BACKD="$1/xmbackd"
	for d in /run/xenstored /run/xm; do
		[ -z "$(ls -A "$d" 2>/dev/null)" ] || { echo "$d is in use: not touched" >&2; return 1; }
	done
	make -s -C "$TOP" B="$B" "$B/tests/guest/ptydrive" >/dev/null || return 1
	work=$(mktemp -d /tmp/xm-guests.XXXXXX)
	unset XENSTORED_PATH XM_RUNDIR XM_CHANNEL_DIR
	"$1/xmstored" --foreground --pid-file /run/xenstored/xmstored.pid \
		--log "$work/xmstored.log" 2>>"$work/xmstored.stderr" &
	XS_PID=$!
	xs_wait_socket /run/xenstored/socket || return 1
	backd_start
}

backd_start() {
	"$BACKD" --foreground --log "$work/backd.log" 2>>"$work/backd.stderr" &
	BACKD_PID=$!
	# up once its pid file is locked (a stale file is not enough)
	pf=${XM_RUNDIR:-/run/xm}/xmbackd.pid i=0
	while { [ ! -f "$pf" ] || flock -n -s "$pf" true; } && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
}

guests_teardown() {
	for p in $(cat "${XM_RUNDIR:-/run/xm}"/dom/*/qemu.pid 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	[ -n "$BACKD_PID" ] && kill "$BACKD_PID" 2>/dev/null
	xs_stop
	rm -rf "$work"
	[ -z "$BR" ] || ip link del "$BR" 2>/dev/null
}

bridge_make() {
	BR=xmt$$
	ip link add "$BR" type bridge && ip link set "$BR" up &&
		{ [ $# -eq 0 ] || ip addr add "$1" dev "$BR"; }
}

on_bridge() { ip -o link show "$1" 2>/dev/null | grep -q "master $BR "; }

guest_cfg() {
	{
		echo "name = \"$2\""
		echo "memory = ${3:-160}"
		echo "vcpus = ${4:-1}"
		echo "kernel = \"$TOP/$B/guest/vmlinux\""
		echo "ramdisk = \"$TOP/$B/guest/initramfs.cpio.gz\""
		[ $# -gt 4 ] && echo "$5"
	} > "$1"
}

xm_err() {
	name=$1 want=$2; shift 2
	"$@" >/dev/null 2>"$work/err"; rc=$?
	got=$(cat "$work/err")
	if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then t_ok "$name"
	else t_fail "$name" "rc=$rc stderr='$got' (want rc=1 '$want')"; fi
}

guest_create() {
	out=$("$XM" create "$1" 2>&1) || { echo "$out" >&2; return 1; }
	id=$(echo "$out" | sed -n 's/^Started domain .* (id=\([0-9]*\))$/\1/p')
	i=0
	while [ "$(xenstore-read "/local/domain/$id/attr/xmfront/state" 2>/dev/null)" != ready ]; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			echo "agent of $id not ready; its console:" >&2
			tail -8 "${XM_RUNDIR:-/run/xm}/dom/$id/console.log" >&2 2>/dev/null
			echo "its nodes: $(xenstore-ls "/local/domain/$id" 2>&1 | head -12 | tr '\n' ' ')" >&2
			[ -n "${work:-}" ] && tail -6 "$work/backd.log" 2>/dev/null | sed 's/^/  xmbackd: /' >&2
			return 1
		fi
		sleep 0.1
	done
	echo "$id"
}

guest_floor_console() {
	guest_run "$1" "dmesg -n 6" >/dev/null || return 1
	# rpN's PCI address (the root ports start at 00:10.0)
	fpath=/0000:00:$(printf %02x $((0x10 + ${2#rp} - 1))).0/
	guest_run "$1" "{ ${3:-xmfront} --uevents=$fpath </dev/null >/dev/console 2>&1 & }" >/dev/null
}

# The command is framed by markers that the shell prints: the typed line
# carries $((6*7)) where the output says 42, so only output matches.
guest_run() {
	dom=$1; shift
	printf '%s\n' "send " "expect xm-guest# " \
		"send echo @@B\$((6*7))@@; $*; echo @@E\$((6*7))@@ \$?" \
		"expect @@E42@@ " "expect xm-guest# " "raw 1d" "wait" |
		"$PTY" 60 "$XM" console "$dom" >/dev/null 2>"$work/pty.out" || {
		echo "guest_run: console session failed: $(tail -c 300 "$work/pty.out")" >&2
		return 255
	}
	tr -d '\r' < "$work/pty.out" | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' > "$work/pty.txt"
	awk '
		$0 == "@@B42@@" { body = ""; on = 1; next }
		on && (p = index($0, "@@E42@@ ")) {
			body = body substr($0, 1, p - 1); rc = substr($0, p + 8) + 0; done = 1; on = 0; next
		}
		on { body = body $0 "\n" }
		END { printf "%s", body; exit done ? rc : 255 }' "$work/pty.txt"
}
