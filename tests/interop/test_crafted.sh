#!/usr/bin/env bash
# Interop: scapy-crafted packets from the Linux side (tests/interop/
# crafted.py): bad and good IPv4 options (Parameter Problem pointer),
# Port and Protocol Unreachable quotes, Time Exceeded and Fragmentation
# Needed when forwarding, fragments out of order, duplicated and
# overlapping, silent drops of malformed headers, ICMP timestamp; every
# answer checked field by field. The reassembly timeout (11/1 after 30 s)
# is too long for this suite and is covered by the scenario tests.
# Usage: test_crafted.sh BUILD_DIR   (exit 77 = skipped, with the reason)
set -u
here=$(cd "$(dirname "$0")" && pwd)
NSI_PREFIX="nsi-$$-craft"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_require_privileges
py=$(nsi_python) || nsi_skip "python3 with scapy is not installed (python3-scapy)"
nsi_begin "${1:-build/dev}" ping
nsi_right_mtu 1280
nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 \
	--mtu tapR=1280 --forward

for _ in 1 2 3; do
	ip netns exec "$NSI_LEFT" ping -n -c 1 -W 2 198.51.100.1 >/dev/null 2>&1 && break
done
mac=$(ip -n "$NSI_LEFT" neigh show 192.0.2.2 dev veth0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
[ -n "$mac" ] || nsi_fail "no ARP entry for 192.0.2.2 on the left host"
echo "# the stack's MAC on the left link: $mac"

nsi_snapshot "$NSI_TMP/s0" || true
rc=0
timeout 120 ip netns exec "$NSI_LEFT" "$py" "$here/crafted.py" "$mac" || rc=$?

if [ "$NSI_BIN" != linux ]; then
	nsi_snapshot "$NSI_TMP/s1" || true
	echo "# the stack's counters that moved:"
	nsi_counters_moved "$NSI_TMP/s0" "$NSI_TMP/s1" | sed 's/^/#/'
	nsi_stop_stack
	v=$(nsi_counter "$NSI_STATS" sent_param_problem)
	nsi_check "the stack counted the Parameter Problems it sent ($v >= 4)" [ "$v" -ge 4 ]
	v=$(nsi_counter "$NSI_STATS" malformed_packets_received)
	nsi_check "the stack counted malformed packets ($v >= 3)" [ "$v" -ge 3 ]
fi
nsi_done >/dev/null || rc=1
[ "$rc" -eq 0 ] || echo "FAIL: see the 'not ok' lines above"
exit "$rc"
