#!/usr/bin/env bash
# Interop: a ping flood (ping -f -c 500, bounded by -w) against the stack and
# through it: every request answered, nothing leaks or stalls, and the
# stack's counters add up.
# Usage: test_flood.sh BUILD_DIR   (exit 77 = skipped, with the reason)
set -u
here=$(cd "$(dirname "$0")" && pwd)
NSI_PREFIX="nsi-$$-flood"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_begin "${1:-build/dev}" ping
nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 --forward

out="$NSI_TMP/flood.out"
for _ in 1 2 3; do
	ip netns exec "$NSI_LEFT" ping -n -c 1 -W 2 198.51.100.1 >/dev/null 2>&1 && break
done
nsi_snapshot "$NSI_TMP/s0" || true

# received COUNT: how many replies ping reported.
received() { sed -nE 's/.* ([0-9]+) received.*/\1/p' "$out"; }

timeout 60 ip netns exec "$NSI_LEFT" ping -n -q -f -c 500 -w 30 192.0.2.2 >"$out" 2>&1
r=$(received)
echo "# $(grep 'transmitted' "$out")"
nsi_check "flood to the stack: ${r:-0} of 500 answered (>= 495)" [ "${r:-0}" -ge 495 ]

timeout 60 ip netns exec "$NSI_LEFT" ping -n -q -f -c 500 -s 1000 -w 30 198.51.100.1 >"$out" 2>&1
r=$(received)
echo "# $(grep 'transmitted' "$out")"
nsi_check "flood of 1000-byte pings through the stack: ${r:-0} of 500 (>= 495)" [ "${r:-0}" -ge 495 ]

alive() { ip netns exec "$NSI_LEFT" ping -n -c 1 -W 2 -w 5 192.0.2.2 >/dev/null 2>&1; }
nsi_check "the stack is still alive and answers" alive

if [ "$NSI_BIN" != linux ]; then
	nsi_snapshot "$NSI_TMP/s1" || true
	nsi_stop_stack
	req=$(nsi_counter "$NSI_STATS" received_echo_request)
	rep=$(nsi_counter "$NSI_STATS" sent_echo_reply)
	nsi_check "the stack counted >= 500 echo requests ($req)" [ "$req" -ge 500 ]
	nsi_check "the stack counted one reply per request ($rep of $req)" [ "$rep" -eq "$req" ]
	echo "# counters that moved during the floods:"
	nsi_counters_moved "$NSI_TMP/s0" "$NSI_TMP/s1" | sed 's/^/#/'
fi
nsi_done
