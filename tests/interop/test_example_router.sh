#!/usr/bin/env bash
# examples/router.c, as built in this tree, between two Linux hosts in
# namespaces (tests/interop/lib.sh's topology, with the example in place of
# `netstack run`): the left host pings the right host directly and an
# address behind it (203.0.113.1) through the example's static route;
# SIGUSR1 prints the counters, which show the forwarded packets.
# Usage: test_example_router.sh BUILD_DIR. Exit 77 (skip) without root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/dev}
NSI_PREFIX="nsi-$$-exr"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_require_privileges
nsi_require_tools ping
bin="$build/examples/router"
[ -x "$bin" ] || nsi_fail "$bin is not built"
nsi_trap
nsi_setup
ip -n "$NSI_RIGHT" addr add 203.0.113.1/32 dev lo
ip -n "$NSI_LEFT" route add 203.0.113.0/24 via 192.0.2.2

out="$NSI_TMP/router.out"
ip netns exec "$NSI_ROUTER_NS" "$bin" tapL 192.0.2.2/24 tapR 198.51.100.2/24 \
	203.0.113.0/24 198.51.100.1 >"$out" 2>&1 </dev/null &
NSI_PID=$!
for _ in $(seq 1 100); do
	grep -qx ready "$out" && break
	kill -0 "$NSI_PID" 2>/dev/null || { cat "$out"; NSI_PID=""; nsi_fail "router exited early"; }
	sleep 0.1
done
grep -qx ready "$out" || nsi_fail "no 'ready' within 10 s"
nsi_wait_carrier

nsi_left ping -n -c 3 -i 0.3 -W 3 198.51.100.1 >/dev/null || nsi_fail "no replies from 198.51.100.1 through the router"
reply=$(nsi_left ping -n -c 3 -i 0.3 -W 3 203.0.113.1) || nsi_fail "no replies from 203.0.113.1 (static route)"
grep -q 'ttl=63' <<<"$reply" || nsi_fail "replies did not cross one router: $reply"

kill -USR1 "$NSI_PID"
for _ in $(seq 1 50); do
	grep -q 'ip.forwarded' "$out" && break
	sleep 0.1
done
fwd=$(awk '$1 == "ip.forwarded" { print $2; exit }' "$out")
[ "${fwd:-0}" -ge 12 ] || { cat "$out"; nsi_fail "SIGUSR1 printed ip.forwarded '${fwd:-}' (want >= 12)"; }
kill -TERM "$NSI_PID"
for _ in $(seq 1 50); do kill -0 "$NSI_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$NSI_PID" 2>/dev/null; then nsi_fail "router did not exit on SIGTERM"; fi
wait "$NSI_PID" || nsi_fail "router exited non-zero"
NSI_PID=""
echo "ok: examples/router forwarded 12 pings both ways, one through its static route; SIGUSR1 printed ip.forwarded $fwd"
