#!/bin/sh
# The walk-through demo. At this stage of the project: xmstored, our XenStore
# daemon, with Debian's stock xenstore-* clients, a domain's channel and Xen's
# own test suite. (The guest and block hot-plug parts join as they land.)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
work=$(mktemp -d /tmp/xm-demo.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Start xmstored, the XenStore daemon (no hypervisor needed)"
run "$TOP/$B/xmstored/xmstored" --socket "$work/socket" --pid-file "$work/pid" --log "$work/xmstored.log"
pid=$(cat "$work/pid")
export XENSTORED_PATH="$work/socket"
echo "XENSTORED_PATH=$XENSTORED_PATH (pid $pid)"

say "Debian's stock clients talk to it unchanged"
run xenstore-write /local/domain/0/name Domain-0 /vm/demo/name XenGuest1
run xenstore-ls -f /
run xenstore-read /local/domain/0/name

say "Permissions, as Xen shows them"
run xenstore-chmod /vm/demo n0 r1
run xenstore-ls -p /vm

say "A watch fires once up front and then on every change below it"
xenstore-watch -n 3 /vm/demo > "$work/watch.out" &
wpid=$!
sleep 0.3
run xenstore-write /vm/demo/state running
run xenstore-rm /vm/demo/state
wait $wpid || true
run cat "$work/watch.out"

say "Xen's own test suite against it"
run /usr/lib/xen-4.17/bin/test-xenstore

say "Done"
