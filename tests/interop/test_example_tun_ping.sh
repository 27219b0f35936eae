#!/usr/bin/env bash
# The README's embedding example, examples/tun_ping.c, built the way an
# embedder builds it (installed library, pkg-config, -Werror) and pinged by
# Linux over a TUN device in a namespace of its own.
# Usage: test_example_tun_ping.sh BUILD_DIR. Exit 77 (skip) without root.
set -euo pipefail
build=${1:?usage: test_example_tun_ping.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (CAP_NET_ADMIN) for namespaces and TUN"; exit 77; fi
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
command -v ping >/dev/null || { echo "skip: no ping"; exit 77; }
if grep -q '^NS_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "skip: the sanitizer tree's library needs the sanitizer runtime to link"; exit 77
fi

ns=nsc-ex-$$
dir=$(mktemp -d /tmp/nsc-ex.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$dir/prefix" >/dev/null
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$dir/prefix" -name netstack.pc | head -1)")
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$dir/tun_ping" "$src/examples/tun_ping.c" \
	$(pkg-config --cflags --libs netstack) -Wl,-rpath,"$(pkg-config --variable=libdir netstack)" ||
	fail "examples/tun_ping.c does not build against the installed library"

ip netns add "$ns"
mkfifo "$dir/out"
ip netns exec "$ns" "$dir/tun_ping" nsctun1 192.0.2.2/24 6 >"$dir/out" &
pid=$!
exec 3<"$dir/out"
line=
read -r -t 10 line <&3 || true
[ "$line" = "ready" ] || fail "no 'ready' within 10 s (got '$line')"
ip -n "$ns" addr add 192.0.2.1/24 dev nsctun1
ip netns exec "$ns" ping -c 3 -i 0.3 -W 3 192.0.2.2 >/dev/null || fail "no echo replies"
read -r -t 15 line <&3 || true
[ "$line" = "echo replies sent: 3" ] || fail "the example said '$line'"
wait "$pid" || fail "tun_ping exited non-zero"
pid=
echo "ok: examples/tun_ping.c built via pkg-config and answered 3 pings over TUN"
