#!/usr/bin/env bash
# Interop: socat (Linux UDP sockets) against the stack's UDP echo service
# (--udp-echo 7, RFC 862): a 30000-byte datagram, fragmented by Linux,
# reassembled, echoed, fragmented by the stack and reassembled by Linux,
# comes back intact, to both of the stack's addresses; a small one too.
# A datagram to a closed port gets Port Unreachable (Linux's socket error).
# Usage: test_udp_echo.sh BUILD_DIR   (exit 77 = skipped, with the reason)
set -u
here=$(cd "$(dirname "$0")" && pwd)
NSI_PREFIX="nsi-$$-udp"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_begin "${1:-build/dev}" ping socat nstat cmp head
nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 \
	--forward --udp-echo 7
if [ "$NSI_BIN" = linux ]; then
	# The reference router: a Linux UDP echo service on port 7.
	ip netns exec "$NSI_ROUTER_NS" timeout 120 socat -b 65536 -T 60 UDP4-RECVFROM:7,fork,so-rcvbuf=262144 \
		EXEC:cat >/dev/null 2>&1 &
	sleep 0.5
fi

for _ in 1 2 3; do
	ip netns exec "$NSI_LEFT" ping -n -c 1 -W 2 192.0.2.2 >/dev/null 2>&1 && break
done

# echo_ok NS DST BYTES: one datagram of BYTES random bytes to DST:7 and the
# same bytes back within 5 s (3 tries: UDP may be lost, not corrupted).
echo_ok()
{
	local ns=$1 dst=$2 n=$3 i
	head -c "$n" /dev/urandom >"$NSI_TMP/in"
	for i in 1 2 3; do
		rm -f "$NSI_TMP/back"
		timeout 15 ip netns exec "$ns" socat -b 65536 -t 1.5 -T 5 \
			OPEN:"$NSI_TMP/in",rdonly!!CREATE:"$NSI_TMP/back" UDP4:"$dst":7 2>/dev/null
		if cmp -s "$NSI_TMP/in" "$NSI_TMP/back"; then
			return 0
		fi
		echo "# try $i: sent $n bytes, got $(stat -c %s "$NSI_TMP/back" 2>/dev/null || echo 0)"
	done
	return 1
}

nsi_nstat "$NSI_LEFT" >"$NSI_TMP/n0"
nsi_check "64-byte datagram to 192.0.2.2:7 echoed intact" echo_ok "$NSI_LEFT" 192.0.2.2 64
nsi_check "30000-byte datagram to 192.0.2.2:7 echoed intact" echo_ok "$NSI_LEFT" 192.0.2.2 30000
nsi_check "30000-byte datagram from the far host to 198.51.100.2:7 echoed intact" \
	echo_ok "$NSI_RIGHT" 198.51.100.2 30000
nsi_check "1472-byte datagram (one full frame) echoed intact" echo_ok "$NSI_LEFT" 192.0.2.2 1472
nsi_check "65507-byte datagram (the largest) echoed intact" echo_ok "$NSI_LEFT" 192.0.2.2 65507
nsi_nstat "$NSI_LEFT" >"$NSI_TMP/n1"
v=$(nsi_nstat_delta "$NSI_TMP/n0" "$NSI_TMP/n1" IpReasmOKs)
nsi_check "Linux reassembled the stack's fragmented echoes (IpReasmOKs +$v >= 2)" [ "$v" -ge 2 ]
v=$(nsi_nstat_delta "$NSI_TMP/n0" "$NSI_TMP/n1" UdpInDatagrams)
nsi_check "Linux received the echoes (UdpInDatagrams +$v >= 4)" [ "$v" -ge 4 ]
v=$(nsi_nstat_delta "$NSI_TMP/n0" "$NSI_TMP/n1" UdpInCsumErrors)
nsi_check "no UDP checksum errors on Linux (UdpInCsumErrors +$v)" [ "$v" -eq 0 ]

# A closed port: Linux's connected UDP socket reports ECONNREFUSED when the
# stack's Port Unreachable arrives.
ip netns exec "$NSI_LEFT" python3 - >"$NSI_TMP/closed" 2>&1 <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("192.0.2.2", 9))
s.settimeout(1.0)
res = "timeout"
for _ in range(3):
    s.send(b"x" * 32)
    try:
        s.recv(100)
        res = "answered"
    except ConnectionRefusedError:
        res = "refused"
        break
    except socket.timeout:
        pass
print(res)
PY
nsi_check "a datagram to closed port 9 is refused (ICMP Port Unreachable): $(cat "$NSI_TMP/closed")" \
	grep -qx refused "$NSI_TMP/closed"

nsi_stop_stack
nsi_done
