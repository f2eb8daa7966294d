# tests/refxs/refxs.sh — start Xen 4.17's own XenStore daemons (Debian's
# xen-utils-4.17) as plain Unix-socket daemons on a host without a hypervisor:
# the reference xmstored's replies are compared with, and the benchmarks'
# baseline. Sourced by tests/lib.sh, whose xs_start cx|ox calls refxs_start;
# needs $TOP and $B (the build holding tests/refxs/xsshim.so).
#
#   refxs_start cx|ox DIR   sets XS_SOCK (the socket) and XS_PID (stop it with
#                           xs_stop, or kill); the daemon's files stay in DIR
#
# cx = cxenstored (C), ox = oxenstored (OCaml). Both run under xsshim.so
# (LD_PRELOAD; see the head of tests/refxs/xsshim.c), which answers for a
# hypervisor where only domain 0 exists: they serve every dom0 request and
# cannot take guests. cxenstored takes its socket and run folder from the
# environment; oxenstored's socket is fixed at /var/run/xenstored/socket, so it
# runs in a private mount namespace with DIR/run bound over that folder (root).

REFXS_BIN=${REFXS_BIN:-/usr/lib/xen-4.17/bin}

# refxs_config DIR: oxenstored's configuration, Debian's values with the
# files moved into DIR (the ring files are the shim's, see xsshim.c)
refxs_config() {
	cat <<EOF
pid-file = $1/run/oxenstored.pid
test-eagain = false
merge-activate = true
conflict-burst-limit = 5.0
conflict-max-history-seconds = 0.05
conflict-rate-limit-is-aggregate = true
perms-activate = true
perms-watch-activate = true
quota-activate = true
quota-maxentity = 1000
quota-maxsize = 2048
quota-maxwatch = 100
quota-transaction = 10
quota-maxrequests = 1024
quota-path-max = 1024
quota-maxoutstanding = 1024
quota-maxwatchevents = 1024
persistent = false
xenstored-log-file = $1/xenstored.log
xenstored-log-level = warn
access-log-file = $1/xenstored-access.log
xenstored-kva = /proc/xen/xsd_kva
xenstored-port = /proc/xen/xsd_port
EOF
}

refxs_start() {
	rx_kind=$1; rx_dir=$2
	rx_shim=$TOP/$B/tests/refxs/xsshim.so
	if [ ! -x "$REFXS_BIN/xenstored" ] || [ ! -x "$REFXS_BIN/oxenstored" ]; then
		echo "refxs: needs Xen's daemons in $REFXS_BIN (Debian package xen-utils-4.17)" >&2
		return 1
	fi
	if [ ! -f "$rx_shim" ]; then
		echo "refxs: $rx_shim not built (make B=$B testprogs)" >&2
		return 1
	fi
	mkdir -p "$rx_dir/run" || return 1
	case $rx_kind in
	cx)
		XS_SOCK=$rx_dir/socket
		rm -f "$XS_SOCK"
		XENSTORED_PATH=$XS_SOCK XENSTORED_RUNDIR=$rx_dir/run \
			XENSTORED_ROOTDIR=$rx_dir/run LD_PRELOAD=$rx_shim \
			"$REFXS_BIN/xenstored" --no-fork >"$rx_dir/daemon.log" 2>&1 &
		XS_PID=$!
		;;
	ox)
		XS_SOCK=$rx_dir/run/socket
		rm -f "$XS_SOCK"
		refxs_config "$rx_dir" >"$rx_dir/oxenstored.conf" || return 1
		# unshare execs sh, which execs oxenstored: $! is the daemon
		unshare -m --propagation private sh -c '
			mkdir -p /var/run/xenstored &&
			mount -n --bind "$1" /var/run/xenstored || exit 1
			LD_PRELOAD=$2; export LD_PRELOAD
			exec "$3" --no-fork --config-file "$4" --no-access-log' \
			refxs "$rx_dir/run" "$rx_shim" "$REFXS_BIN/oxenstored" \
			"$rx_dir/oxenstored.conf" >"$rx_dir/daemon.log" 2>&1 &
		XS_PID=$!
		;;
	*)
		echo "refxs_start: unknown kind $rx_kind (cx or ox)" >&2
		return 1
		;;
	esac
	if ! xs_wait_socket "$XS_SOCK"; then
		echo "refxs: $rx_kind did not start; $rx_dir/daemon.log says:" >&2
		cat "$rx_dir/daemon.log" >&2
		xs_stop
		return 1
	fi
}
