#!/usr/bin/env bash
# A TUN link (<netstack/tap.h>, NS_TAP_TUN) with its own raw-IP capture:
# a small embedder program answers Linux's ping over nsctun0 in a namespace
# of its own, and the capture holds requests and replies.
# Usage: test_run_tun.sh BUILD_DIR. Exit 77 (skip) without root or a compiler.
set -euo pipefail
build=${1:?usage: test_run_tun.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=$build/src/libnetstack.a
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (CAP_NET_ADMIN) for namespaces and TUN"; exit 77; fi
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
command -v cc >/dev/null || { echo "skip: no C compiler"; exit 77; }
command -v ping >/dev/null || { echo "skip: no ping"; exit 77; }
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }

ns=nsc-tun-$$
dir=$(mktemp -d /tmp/nsc-tun.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/tun.c" <<'C'
#include <poll.h>
#include <stdio.h>
#include <netstack/netstack.h>
#include <netstack/tap.h>
int main(int argc, char **argv)
{
	struct ns_stack_config c;
	ns_stack_config_init(&c);
	c.clock = ns_system_clock();
	c.rng = ns_system_rng();
	const struct ns_module *const m[] = { &ns_module_ipv4, NULL };
	c.modules = m;
	struct ns_stack *s;
	struct ns_pcap *pc;
	struct ns_tap *t;
	char err[256];
	if (argc < 2 || ns_stack_create(&c, &s) ||
	    ns_pcap_open(NULL, argv[1], NS_PCAP_RAW, c.clock, &pc, err, sizeof(err)))
		return 1;
	struct ns_tap_config tc = { .name = "nsctun0", .kind = NS_TAP_TUN, .mtu = 1400,
				    .bring_up = true, .capture = pc };
	if (ns_tap_open(NULL, &tc, &t, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct ns_ip4_prefix a = { NS_IP4(192, 0, 2, 2), 24 };
	if (ns_nic_create(s, 1, ns_tap_link(t), NULL) || ns_nic_add_address(s, 1, a))
		return 1;
	printf("ready %u\n", ns_tap_mtu(t));
	fflush(stdout);
	/* Ten seconds at most: read, fire timers, then report the replies sent. */
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { ns_tap_fd(t), POLLIN, 0 };
		(void)poll(&p, 1, 100);
		ns_tap_receive(t);
		ns_stack_poll(s);
	}
	struct ns_stats st;
	ns_stack_get_stats(s, &st);
	printf("replies %llu\n", (unsigned long long)st.icmp.sent_echo_reply);
	ns_stack_destroy(s);
	ns_tap_close(t);
	ns_pcap_close(pc);
	return 0;
}
C
# A sanitizer tree's library needs the sanitizer runtimes at link time.
san=()
if grep -q '^NS_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then san=(-fsanitize=address,undefined); fi
cc -std=c11 -D_GNU_SOURCE "${san[@]}" -o "$dir/tun" "$dir/tun.c" -I"$src/include" "$lib" $(pkg-config --libs libpcap) || fail "cannot build the embedder program"

ip netns add "$ns"
mkfifo "$dir/out"
ip netns exec "$ns" "$dir/tun" "$dir/tun.pcap" >"$dir/out" &
pid=$!
exec 3<"$dir/out"
line=
read -r -t 10 line <&3 || true
[ "$line" = "ready 1400" ] || fail "no 'ready 1400' within 10 s (got '$line')"
ip -n "$ns" addr add 192.0.2.1/24 dev nsctun0
ip netns exec "$ns" ping -c 2 -i 0.3 -W 3 192.0.2.2 >/dev/null || fail "no echo replies over TUN"
echo "ping over TUN: ok"
read -r -t 15 line <&3 || true
[ "$line" = "replies 2" ] || fail "the stack counted '$line', want 'replies 2'"
wait "$pid" || fail "embedder exited non-zero"
pid=
if command -v tshark >/dev/null; then
	n=$(tshark -r "$dir/tun.pcap" -Y 'icmp.type == 0' 2>/dev/null | wc -l)
	[ "$n" -eq 2 ] || fail "raw capture has $n echo replies, want 2"
	echo "capture: 2 echo replies (LINKTYPE_RAW)"
fi
echo "ok: TUN link answered ping and captured raw IP"
