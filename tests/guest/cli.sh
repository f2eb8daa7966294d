#!/bin/sh
# tests/guest/cli.sh — xm as a user meets it, on a real guest: xm help
# [COMMAND], --version, info, uptime, `xm create NAME` finding its config
# on XM_CONFIG_PATH (. and /etc/xen), and the bash completion (completion/xm), driven
# through an interactive bash on a pseudo-terminal as a user types: TAB
# TAB after `xm block-detach GUEST ` must list that guest's devices, read
# from a real guest with real disks attached. Also the subcommands (taken
# from `xm --help`), domain names, and the modes of block-attach.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"
trap guests_teardown EXIT INT TERM
guests_setup || { t_fail setup "build, xmstored or xmbackd failed"; t_summary; exit 1; }
command -v bash >/dev/null || { t_fail setup "no bash"; t_summary; exit 1; }
export PATH="$TOP/$B/xm:$PATH"

# ---- commands that need no guest ----
v=$("$XM" --version) && [ "$v" = "xm $(sed -n 's/^xm (\([^)]*\)).*/\1/p;q' "$TOP/debian/changelog")" ] &&
	t_ok "xm --version is debian/changelog's ($v)" || t_fail "xm --version" "$v"
"$XM" help block-detach > "$work/h" && head -1 "$work/h" | grep -qx 'Usage: xm block-detach <Domain> <DevId> \[-f|--force\]' &&
	t_ok "xm help COMMAND" || t_fail "xm help COMMAND" "$(cat "$work/h")"
xm_err "xm help of no such command" "Error: Sub-command frob not found! ('xm help' lists them)" "$XM" help frob
"$XM" info > "$work/info" &&
	grep -qx "nr_cpus                : $(nproc)" "$work/info" &&
	grep -q "^qemu                   : QEMU emulator version " "$work/info" &&
	grep -q "^xmbackd                : running (pid $BACKD_PID)\$" "$work/info" &&
	grep -q "^xenstore               : $XENSTORED_PATH (answering)\$" "$work/info" &&
	t_ok "xm info: cpus, QEMU, the daemons" || t_fail "xm info" "$(cat "$work/info")"

# ---- xm create NAME: the config found in a directory of XM_CONFIG_PATH ----
mkdir -p "$work/etc-xen"
guest_cfg "$work/etc-xen/Compl1.cfg" Compl1 160 1
export XM_CONFIG_PATH="$work/nowhere:$work/etc-xen"
D=$(cd / && guest_create Compl1) || { t_fail setup "guest did not start"; t_summary; exit 1; }
truncate -s 8M "$work/d1.img" "$work/d2.img"
"$XM" block-attach "$D" "file:$work/d1.img" xvdb r >/dev/null &&
	"$XM" block-attach "$D" "file:$work/d2.img" xvdc r >/dev/null ||
	{ t_fail setup "block-attach failed"; t_summary; exit 1; }
"$XM" list Compl1 >/dev/null && t_ok "xm create NAME finds NAME.cfg on XM_CONFIG_PATH" ||
	t_fail "xm create NAME" "no Compl1"
xm_err "xm create of a name found nowhere" \
	"Error: Cannot read config file Nope: No such file or directory" sh -c "cd / && \"$XM\" create Nope"
"$XM" uptime > "$work/up" && sed -n 1p "$work/up" | grep -q "^Name  *ID Uptime\$" &&
	grep -q "^Domain-0  *0 " "$work/up" && grep -Eq "^Compl1  *$D  *0:00:[0-9][0-9]\$" "$work/up" &&
	t_ok "xm uptime" || t_fail "xm uptime" "$(cat "$work/up")"

# comp NAME STEPS...: an interactive bash with the completion loaded, the
# steps (ptydrive's) typed into it; ok when every expect matched.
# readline lists the candidates at the second TAB that inserts nothing
comp() {
	name=$1; shift
	{
		echo "expect cmpl\$ "
		echo "send . $TOP/completion/xm"
		echo "expect cmpl\$ "
		for s in "$@"; do echo "$s"; done
		# Ctrl-E Ctrl-U empty the line (keys, not a signal: taken in order)
		echo "raw 05"; echo "raw 15"
		echo "send exit"; echo "wait"
	} | env PS1='cmpl$ ' TERM=dumb INPUTRC=/dev/null \
		"$PTY" 20 bash --norc --noprofile -i >"$work/comp.out" 2>&1 &&
		t_ok "$name" ||
		t_fail "$name" "$(tr -d '\r' < "$work/comp.out" | tail -c 400)"
}

comp "block-detach: TAB TAB lists the guest's devices" \
	"type xm block-detach Compl1 " "raw 09" "expect Compl1 517" "raw 09" "raw 09" "expect 51728" "expect 51744"
comp "block-detach: one match completes" \
	"type xm block-detach $D 5174" "raw 09" "expect 51744 "
comp "subcommands from xm --help" \
	"type xm block-" "raw 09" "raw 09" "expect block-attach" "expect block-configure" \
	"expect block-detach" "expect block-list"
comp "domain names" "type xm console Comp" "raw 09" "expect Compl1 "
comp "create: the configs on XM_CONFIG_PATH" "type xm create Compl" "raw 09" "expect xm create Compl1 "
comp "block-attach: modes" \
	"type xm block-attach Compl1 file:/x xvdd w" "raw 09" "raw 09" "expect w!"
comp "block-attach: a file after file:" \
	"type xm block-attach Compl1 file:$work/d1.i" "raw 09" "expect file:$work/d1.img "
t_summary
