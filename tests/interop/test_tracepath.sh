#!/usr/bin/env bash
# Interop: Linux tracepath through the stack as a router. Hop 1 must be the
# stack's address on the near link (ICMP Time Exceeded, RFC 792, RFC 1812
# 5.3.1), hop 2 the far host (reached). Then, with the far link at 1280
# bytes, the stack's Fragmentation Needed makes tracepath report pmtu 1280
# (RFC 1191).
# Usage: test_tracepath.sh BUILD_DIR   (exit 77 = skipped, with the reason)
set -u
here=$(cd "$(dirname "$0")" && pwd)
NSI_PREFIX="nsi-$$-trace"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_begin "${1:-build/dev}" ping tracepath nstat awk
out="$NSI_TMP/trace.out"

# trace HOPS TRIES: tracepath to the far host (3 probes a hop, 1 s each,
# HOPS hops at most, and timeout bounds it again); ok when it was reached.
trace()
{
	local hops=$1 tries=$2
	for _ in 1 2 3; do
		ip netns exec "$NSI_LEFT" ping -n -c 1 -W 2 198.51.100.1 >/dev/null 2>&1 && break
	done
	for _ in $(seq 1 "$tries"); do
		timeout 60 ip netns exec "$NSI_LEFT" tracepath -n -m "$hops" 198.51.100.1 >"$out" 2>&1
		grep -q 'reached' "$out" && break
	done
	sed 's/^/# /' "$out"
	grep -q 'reached' "$out"
}

nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 --forward
nsi_nstat "$NSI_LEFT" >"$NSI_TMP/n0"
reached=0
trace 5 2 && reached=1
nsi_nstat "$NSI_LEFT" >"$NSI_TMP/n1"
hop1=$(awk '$1 == "1:" && $2 ~ /^[0-9.]+$/ { print $2; exit }' "$out")
hop2=$(awk '$1 == "2:" && /reached/ { print $2; exit }' "$out")
nsi_check "tracepath reached 198.51.100.1" [ "$reached" -eq 1 ]
nsi_check "hop 1 is the stack (192.0.2.2 answered Time Exceeded): got '$hop1'" \
	[ "$hop1" = 192.0.2.2 ]
nsi_check "hop 2 is the far host: got '$hop2'" [ "$hop2" = 198.51.100.1 ]
nsi_check "path MTU 1500 end to end" grep -qE 'Resume: pmtu 1500 hops 2' "$out"
v=$(nsi_nstat_delta "$NSI_TMP/n0" "$NSI_TMP/n1" IcmpInTimeExcds)
nsi_check "Linux counted the Time Exceeded messages (IcmpInTimeExcds +$v >= 1)" [ "$v" -ge 1 ]
if [ "$NSI_BIN" != linux ]; then
	nsi_stop_stack
	te=$(nsi_counter "$NSI_STATS" sent_time_exceeded)
	nsi_check "the stack counted the Time Exceeded it sent ($te >= 1)" [ "$te" -ge 1 ]
else
	ip -n "$NSI_ROUTER_NS" addr flush dev brL
	ip -n "$NSI_ROUTER_NS" addr flush dev brR
fi

# The far link at 1280 bytes: the stack must say so to tracepath's DF probes.
nsi_right_mtu 1280
nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 \
	--mtu tapR=1280 --forward
trace 3 2
pmtu() { grep -qE 'Resume: pmtu 1280 hops 2' "$out"; }
nsi_check "tracepath learnt pmtu 1280 from the stack's Fragmentation Needed" pmtu
nsi_stop_stack
nsi_done
