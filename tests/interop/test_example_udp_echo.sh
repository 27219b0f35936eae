#!/usr/bin/env bash
# examples/udp_echo.c, as built in this tree, behind a TUN device in a
# namespace of its own: Linux's socat sends datagrams (one of 3000 bytes, so
# fragmented both ways) and must get the same bytes back.
# Usage: test_example_udp_echo.sh BUILD_DIR. Exit 77 (skip) without root.
set -euo pipefail
build=${1:?usage: test_example_udp_echo.sh BUILD_DIR}
bin="$build/examples/udp_echo"
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (CAP_NET_ADMIN) for namespaces and TUN"; exit 77; fi
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
command -v socat >/dev/null || { echo "skip: no socat (scripts/deps.sh test)"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }

ns=nsc-exu-$$
dir=$(mktemp -d /tmp/nsc-exu.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

ip netns add "$ns"
mkfifo "$dir/out"
ip netns exec "$ns" "$bin" nsctun2 192.0.2.2/24 7 8 >"$dir/out" &
pid=$!
exec 3<"$dir/out"
line=
read -r -t 10 line <&3 || true
[ "$line" = "ready" ] || fail "no 'ready' within 10 s (got '$line')"
ip -n "$ns" addr add 192.0.2.1/24 dev nsctun2

# echo_ok BYTES: the same BYTES random bytes back (3 tries: UDP may be lost).
echo_ok() {
	head -c "$1" /dev/urandom >"$dir/in"
	for _ in 1 2 3; do
		rm -f "$dir/back"
		timeout 10 ip netns exec "$ns" socat -b 65536 -t 1 -T 3 \
			OPEN:"$dir/in",rdonly!!CREATE:"$dir/back" UDP4:192.0.2.2:7 2>/dev/null || true
		cmp -s "$dir/in" "$dir/back" && return 0
	done
	return 1
}
echo_ok 64 || fail "64-byte datagram not echoed intact"
echo_ok 3000 || fail "3000-byte datagram (fragmented) not echoed intact"
read -r -t 15 line <&3 || true
case "$line" in
"datagrams echoed: "[2-9]*) ;;
*) fail "the example said '$line'" ;;
esac
wait "$pid" || fail "udp_echo exited non-zero"
pid=
echo "ok: examples/udp_echo echoed socat's datagrams over TUN ($line)"
