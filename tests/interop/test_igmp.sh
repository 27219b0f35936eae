#!/usr/bin/env bash
# IGMP against Linux: netstack-c (a small embedder program on a TAP device)
# and a Linux host share a Linux bridge whose multicast querier and
# snooping are on. The bridge -- Linux as the querier side -- sends IGMP
# queries; tshark, capturing on the bridge, decodes netstack-c's IGMPv3
# reports (TTL 1, Router Alert, CHANGE_TO_EXCLUDE and MODE_IS_EXCLUDE
# records for 239.1.2.3), and the bridge's snooping table lists the group
# on netstack-c's port. The Linux host, joined to 239.1.2.3, receives the
# multicast UDP datagrams netstack-c sends to the group.
#
#   nsc-igmp-<pid>-br:  br0 (querier) -- nsigmp0 (TAP, netstack 192.0.2.2/24)
#                                     \-- vb -- [nsc-igmp-<pid>-host] veth0 192.0.2.1/24
#
# Usage: test_igmp.sh BUILD_DIR. Exit 77 (skip) without root, TAP, a
# compiler, python3 or tshark.
set -euo pipefail
build=${1:?usage: test_igmp.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=$build/src/libnetstack.a
skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_NET_ADMIN) for namespaces, bridges and TAP"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for t in cc ip tshark python3 bridge; do command -v "$t" >/dev/null || skip "no $t (scripts/deps.sh test)"; done
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }

br=nsc-igmp-$$-br
host=nsc-igmp-$$-host
dir=$(mktemp -d /tmp/nsc-igmp.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	ip netns del "$br" 2>/dev/null || true
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/mc.c" <<'C'
#include <poll.h>
#include <stdio.h>
#include <netstack/netstack.h>
#include <netstack/igmp.h>
int main(void)
{
	struct ns_stack_config c;
	ns_stack_config_init(&c);
	c.clock = ns_system_clock();
	c.rng = ns_system_rng();
	const struct ns_module *const m[] = { &ns_module_ipv4, &ns_module_arp, &ns_module_udp, NULL };
	c.modules = m;
	struct ns_stack *s;
	struct ns_tap *t;
	char err[256];
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x02, 0x02 };
	if (ns_stack_create(&c, &s))
		return 1;
	struct ns_tap_config tc = { .name = "nsigmp0", .kind = NS_TAP_ETHERNET, .mtu = 1500 };
	if (ns_tap_open(NULL, &tc, &t, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct ns_eth *eth = ns_eth_create(NULL, ns_tap_frame_dev(t), mac);
	struct ns_ip4_prefix a = { NS_IP4(192, 0, 2, 2), 24 };
	if (!eth || ns_nic_create(s, 1, ns_eth_link(eth), NULL) || ns_nic_add_address(s, 1, a))
		return 1;
	printf("ready\n");
	fflush(stdout);
	/* Wait for the bridge port ("go" on stdin), then join and send. */
	char line[16];
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	ns_ip4 group = NS_IP4(239, 1, 2, 3);
	struct ns_udp_ep *u;
	if (ns_ipv4_join_group(s, 1, group) || ns_udp_open(s, &u) || ns_udp_set_multicast_nic(u, 1))
		return 1;
	/* Twelve seconds at most: read, fire timers, send a datagram every 0.5 s. */
	for (int i = 0; i < 120; i++) {
		struct pollfd p = { ns_tap_fd(t), POLLIN, 0 };
		(void)poll(&p, 1, 100);
		ns_tap_receive(t);
		ns_stack_poll(s);
		if (i >= 20 && i % 5 == 0)
			(void)ns_udp_send(u, group, 5000, "hello from netstack-c", 21);
	}
	struct ns_stats st;
	ns_stack_get_stats(s, &st);
	printf("queries %llu v3reports %llu udp %llu\n",
	       (unsigned long long)st.igmp.received_membership_query,
	       (unsigned long long)st.igmp.sent_v3_membership_report,
	       (unsigned long long)st.udp.packets_sent);
	ns_udp_close(u);
	ns_stack_destroy(s);
	ns_eth_destroy(eth);
	ns_tap_close(t);
	return 0;
}
C
# A sanitizer tree's library needs the sanitizer runtimes at link time.
san=()
if grep -q '^NS_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then san=(-fsanitize=address,undefined); fi
cc -std=c11 -D_GNU_SOURCE "${san[@]}" -o "$dir/mc" "$dir/mc.c" -I"$src/include" "$lib" $(pkg-config --libs libpcap) ||
	fail "cannot build the embedder program"

ip netns add "$br"
ip netns add "$host"
for n in "$br" "$host"; do
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$n" link set lo up
done
# The bridge: snooping on, querier on, IGMPv3 queries every 2 s at first.
ip -n "$br" link add br0 type bridge mcast_snooping 1 mcast_querier 1 mcast_igmp_version 3 \
	mcast_startup_query_count 6 mcast_startup_query_interval 200 mcast_query_interval 500 \
	mcast_query_response_interval 100
ip -n "$br" link add vb type veth peer name veth0 netns "$host"
ip -n "$br" link set vb master br0
ip -n "$host" addr add 192.0.2.1/24 dev veth0
ip -n "$host" link set veth0 up
ip -n "$br" link set vb up

mkfifo "$dir/in" "$dir/out"
ip netns exec "$br" "$dir/mc" <"$dir/in" >"$dir/out" &
pids+=($!)
exec 3>"$dir/in" 4<"$dir/out"
line=
read -r -t 10 line <&4 || true
[ "$line" = ready ] || fail "no 'ready' within 10 s (got '$line')"
ip -n "$br" link set nsigmp0 master br0
ip -n "$br" link set nsigmp0 up
ip -n "$br" link set br0 up

# Linux host: a receiver joined to 239.1.2.3 (its own IGMP report makes the
# bridge forward the group to it).
cat >"$dir/rx.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("239.1.2.3", 5000))
mreq = struct.pack("4s4s", socket.inet_aton("239.1.2.3"), socket.inet_aton("192.0.2.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
s.settimeout(15)
n = 0
try:
    while n < 3:
        data, src = s.recvfrom(2048)
        if data == b"hello from netstack-c" and src[0] == "192.0.2.2":
            n += 1
except socket.timeout:
    pass
print("received", n)
PY
ip netns exec "$host" python3 "$dir/rx.py" >"$dir/rx.out" &
rxpid=$!
pids+=($rxpid)
ip netns exec "$br" tshark -q -i br0 -a duration:11 -f igmp -w "$dir/igmp.pcap" 2>/dev/null &
tspid=$!
pids+=($tspid)
sleep 1.5
echo go >&3

# Linux's view: the snooping table learns the group on netstack's port.
seen_mdb=no
for _ in $(seq 1 40); do
	if ip netns exec "$br" bridge mdb show dev br0 2>/dev/null | grep -q 'port nsigmp0 grp 239.1.2.3'; then
		seen_mdb=yes
		break
	fi
	sleep 0.25
done
[ "$seen_mdb" = yes ] || fail "the Linux bridge never learned 239.1.2.3 on nsigmp0"
echo "bridge mdb: 239.1.2.3 on nsigmp0"

wait "$rxpid" || true
read -r got <"$dir/rx.out" || true
[ "$got" = "received 3" ] || fail "the Linux host got '$got' of netstack-c's multicast datagrams, want 3"
echo "Linux host joined to 239.1.2.3: received netstack-c's multicast UDP"

line=
read -r -t 20 line <&4 || true
case "$line" in
queries*) ;;
*) fail "embedder said '$line'" ;;
esac
echo "netstack: $line"
q=$(echo "$line" | awk '{print $2}')
[ "$q" -ge 1 ] || fail "netstack-c heard no query from the Linux querier"
wait "$tspid" || true

# tshark decodes what netstack-c sent: IGMPv3 reports, TTL 1, Router Alert.
fields=$(tshark -r "$dir/igmp.pcap" -Y 'ip.src == 192.0.2.2 && igmp' -T fields -E separator=' ' \
	-e ip.ttl -e ip.opt.type -e igmp.version -e igmp.type -e ip.dst -e igmp.record_type \
	-e igmp.maddr 2>/dev/null)
echo "$fields" | sed 's/^/  tshark: /'
[ -n "$fields" ] || fail "no IGMP from netstack-c in the capture"
echo "$fields" | awk '$1 != 1 { exit 1 }' || fail "an IGMP message without TTL 1"
echo "$fields" | grep -q ' 3 0x22 224.0.0.22 4 239.1.2.3' ||
	fail "no v3 report with CHANGE_TO_EXCLUDE 239.1.2.3 (join)"
echo "$fields" | grep -q ' 3 0x22 224.0.0.22 2 239.1.2.3' ||
	fail "no v3 report with MODE_IS_EXCLUDE 239.1.2.3 (answer to the Linux querier)"
echo "$fields" | grep -q '148' || fail "no Router Alert option"
queries=$(tshark -r "$dir/igmp.pcap" -Y 'igmp.type == 0x11' 2>/dev/null | wc -l)
[ "$queries" -ge 1 ] || fail "the capture holds no query from the Linux bridge"
echo "ok: Linux querier saw netstack-c's IGMPv3 reports; a Linux member got its multicast UDP"
