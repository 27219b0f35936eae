#!/usr/bin/env bash
# Interop: fragmentation and reassembly against Linux. ping -s 8000 to the
# stack (Linux fragments the request, the stack reassembles it and fragments
# its reply, Linux reassembles), the same through the stack as a router onto
# a 1280-byte link (forwarded fragments fragmented again, RFC 791/1812), a
# 1428-byte datagram without DF fragmented on the way, and one with DF
# answered with Fragmentation Needed carrying the next-hop MTU (RFC 1191).
# Linux's nstat counters on the peers say who fragmented and reassembled.
# Usage: test_fragments.sh BUILD_DIR   (exit 77 = skipped, with the reason)
set -u
here=$(cd "$(dirname "$0")" && pwd)
NSI_PREFIX="nsi-$$-frag"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_begin "${1:-build/dev}" ping nstat awk
nsi_right_mtu 1280
nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 \
	--mtu tapR=1280 --forward

out="$NSI_TMP/ping.out"
ping_ok()
{
	local ns=$1 dst=$2
	shift 2
	ip netns exec "$ns" ping -n -c 1 -W 3 -w 8 "$@" "$dst" >"$out" 2>&1 &&
		grep -qE '^([0-9]+) packets transmitted, \1 received' "$out"
}
snap() { nsi_nstat "$NSI_LEFT" >"$NSI_TMP/l.$1"; nsi_nstat "$NSI_RIGHT" >"$NSI_TMP/r.$1"; }
moved() { nsi_nstat_delta "$NSI_TMP/$1.$2" "$NSI_TMP/$1.$3" "$4"; }

# Resolve ARP everywhere first; bounded retries.
for _ in 1 2 3; do ping_ok "$NSI_LEFT" 198.51.100.1 && break; done

snap 0
nsi_check "ping -s 8000 to the stack: 3 of 3 replies" \
	ping_ok "$NSI_LEFT" 192.0.2.2 -s 8000 -c 3 -i 0.2
nsi_check "the replies carry all 8008 bytes" grep -q '^8008 bytes from 192.0.2.2' "$out"
snap 1
v=$(moved l 0 1 IpFragCreates)
nsi_check "Linux fragmented the requests (IpFragCreates +$v >= 18)" [ "$v" -ge 18 ]
v=$(moved l 0 1 IpReasmOKs)
nsi_check "Linux reassembled the stack's fragmented replies (IpReasmOKs +$v >= 3)" [ "$v" -ge 3 ]
v=$(moved l 0 1 IpReasmFails)
nsi_check "no reassembly failed on Linux (IpReasmFails +$v)" [ "$v" -eq 0 ]

nsi_check "ping -s 8000 through the stack onto the 1280-byte link: 2 of 2" \
	ping_ok "$NSI_LEFT" 198.51.100.1 -s 8000 -c 2 -i 0.2
snap 2
v=$(moved r 1 2 IpReasmOKs)
nsi_check "the far host reassembled the refragmented requests (IpReasmOKs +$v >= 2)" [ "$v" -ge 2 ]
v=$(moved r 1 2 IpReasmFails)
nsi_check "no reassembly failed on the far host (IpReasmFails +$v)" [ "$v" -eq 0 ]
v=$(moved l 1 2 IpReasmOKs)
nsi_check "the replies came back through the stack (left IpReasmOKs +$v >= 2)" [ "$v" -ge 2 ]

# Without DF the stack fragments a 1428-byte datagram for the 1280 link.
nsi_check "ping -M dont -s 1400 through the stack: fragmented on the way" \
	ping_ok "$NSI_LEFT" 198.51.100.1 -M dont -s 1400
snap 3
v=$(moved l 2 3 IpFragCreates)
nsi_check "the sender did not fragment it (left IpFragCreates +$v)" [ "$v" -eq 0 ]
v=$(moved r 2 3 IpReasmOKs)
nsi_check "the far host reassembled the stack's fragments (IpReasmOKs +$v >= 1)" [ "$v" -ge 1 ]

# With DF: Fragmentation Needed from 192.0.2.2 with MTU 1280 (RFC 1191).
ip netns exec "$NSI_LEFT" ping -n -c 1 -W 3 -w 5 -M "do" -s 1400 198.51.100.1 >"$out" 2>&1
echo "# $(grep -i 'frag' "$out" | head -n 1)"
fragneeded() { grep -qE 'From 192\.0\.2\.2 .*Frag needed and DF set \(mtu = 1280\)' "$out"; }
snap 4
learnt() { ip -n "$NSI_LEFT" route get 198.51.100.1 | grep -q 'mtu 1280'; }
# RFC 1812 5.2.6 and Linux (the seed forwarded without this).
nsi_check "ping -M do -s 1400 through: Frag needed from 192.0.2.2 with mtu 1280" fragneeded
v=$(moved l 3 4 IcmpInDestUnreachs)
nsi_check "Linux counted the destination unreachable (IcmpInDestUnreachs +$v)" [ "$v" -ge 1 ]
nsi_check "Linux learnt the path MTU 1280 for 198.51.100.1" learnt
nsi_check "ping -M want -s 1400 again: Linux now fragments to the path MTU and gets a reply" \
	ping_ok "$NSI_LEFT" 198.51.100.1 -M want -s 1400

nsi_stop_stack
nsi_done
