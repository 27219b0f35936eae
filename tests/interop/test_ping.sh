#!/usr/bin/env bash
# Interop: Linux ping to netstack and through it, plain and with the IPv4
# options Linux can ask for: Record Route (-R) and Timestamp (-T tsonly,
# -T tsandaddr), the recorded addresses and timestamps checked from ping's
# output (RFC 791 section 3.1), and Linux's own ICMP counters (nstat).
# Usage: test_ping.sh BUILD_DIR   (exit 77 = skipped, with the reason)
set -u
here=$(cd "$(dirname "$0")" && pwd)
NSI_PREFIX="nsi-$$-ping"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"
nsi_begin "${1:-build/dev}" ping nstat awk
nsi_start_stack "$NSI_BIN" --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 --forward

out="$NSI_TMP/ping.out"
ours_left=192.0.2.2
ours_right=198.51.100.2

# ping_ok NS TARGET ARGS...: a reply to every request within the deadline
# (one request unless ARGS say -c N; output in $out).
ping_ok()
{
	local ns=$1 dst=$2
	shift 2
	ip netns exec "$ns" ping -n -c 1 -W 3 -w 5 "$@" "$dst" >"$out" 2>&1 &&
		grep -qE '^([0-9]+) packets transmitted, \1 received' "$out"
}

# A first exchange resolves ARP on both sides; bounded retries.
for _ in 1 2 3; do ping_ok "$NSI_LEFT" "$ours_left" && break; done

nsi_nstat "$NSI_LEFT" >"$NSI_TMP/nstat.before"
nsi_check "ping 192.0.2.2 (the stack's address on the near link)" \
	ping_ok "$NSI_LEFT" "$ours_left" -c 3 -i 0.2
nsi_check "reply TTL is 64 (the stack's default)" grep -q 'ttl=64' "$out"
# Linux, RFC 1122's weak host model and the seed with forwarding on: an
# address of another interface is still ours.
nsi_check "ping 198.51.100.2 (the stack's address on the far link)" \
	ping_ok "$NSI_LEFT" "$ours_right"
nsi_check "ping 198.51.100.1 through the stack (forwarded both ways)" \
	ping_ok "$NSI_LEFT" 198.51.100.1
nsi_check "forwarded reply arrives with TTL 63 (one hop)" grep -q 'ttl=63' "$out"
nsi_check "ping from the right host to 192.0.2.1 through the stack" \
	ping_ok "$NSI_RIGHT" 192.0.2.1
nsi_nstat "$NSI_LEFT" >"$NSI_TMP/nstat.after"
reps=$(nsi_nstat_delta "$NSI_TMP/nstat.before" "$NSI_TMP/nstat.after" IcmpInEchoReps)
nsi_check "Linux counted the echo replies (IcmpInEchoReps +$reps >= 4)" [ "$reps" -ge 4 ]
errs=$(nsi_nstat_delta "$NSI_TMP/nstat.before" "$NSI_TMP/nstat.after" IcmpInErrors)
nsi_check "Linux saw no bad ICMP (IcmpInErrors +$errs)" [ "$errs" -eq 0 ]

# Record Route to the stack: Linux records its own address on the way out,
# the stack records 192.0.2.2 as the receiver and again as the sender of the
# reply (Linux does the same), Linux its own on the way back in.
if ping_ok "$NSI_LEFT" "$ours_left" -R; then
	mapfile -t rr < <(nsi_rr_list <"$out")
	echo "# RR to the stack: ${rr[*]}"
	nsi_check "ping -R: first entry is the sender 192.0.2.1" [ "${rr[0]:-}" = 192.0.2.1 ]
	nsi_check "ping -R: the stack recorded 192.0.2.2" \
		grep -qx "$ours_left" <(printf '%s\n' "${rr[@]}")
	nsi_check "ping -R: last entry is the sender again" [ "${rr[-1]:-}" = 192.0.2.1 ]
	nsi_check "ping -R: only our addresses recorded" \
		bash -c '! printf "%s\n" "$@" | grep -vqxE "192\.0\.2\.[12]"' _ "${rr[@]}"
else
	nsi_not_ok "ping -R to the stack got no reply: $(tr '\n' ' ' <"$out")"
fi

# Record Route through the stack as a router (RFC 791: a router records
# the address of the interface it sends on; Linux and RFC 1812 agree).
if ping_ok "$NSI_LEFT" 198.51.100.1 -R; then
	mapfile -t rr < <(nsi_rr_list <"$out")
	echo "# RR through the stack: ${rr[*]}"
	nsi_check "ping -R through: 6 entries (2 hosts and the router, both ways)" \
		[ "${#rr[@]}" -eq 6 ]
	nsi_check "ping -R through: the router recorded its egress address 198.51.100.2 going out" \
		[ "${rr[1]:-}" = 198.51.100.2 ]
	nsi_check "ping -R through: the far host is recorded" [ "${rr[2]:-}" = 198.51.100.1 ]
	nsi_check "ping -R through: the router recorded its egress address 192.0.2.2 coming back" \
		[ "${rr[4]:-}" = 192.0.2.2 ]
else
	nsi_not_ok "ping -R through the stack got no reply: $(tr '\n' ' ' <"$out")"
fi

# ts_sane: every delta after the first entry is within a minute: the stack
# stamps milliseconds since midnight UT like Linux (RFC 791), not its
# monotonic clock.
ts_sane()
{
	local vals
	vals=$(awk 'NR > 1 { print $NF }' "$1")
	[ -n "$vals" ] || return 1
	local v
	for v in $vals; do
		[[ $v =~ ^-?[0-9]+$ ]] || return 1
		[ "${v#-}" -lt 60000 ] || return 1
	done
}

if ping_ok "$NSI_LEFT" "$ours_left" -T tsonly; then
	nsi_ts_list <"$out" >"$NSI_TMP/ts"
	echo "# TS only: $(tr '\n' '|' <"$NSI_TMP/ts")"
	n=$(wc -l <"$NSI_TMP/ts")
	nsi_check "ping -T tsonly: the stack added timestamps ($n >= 3 entries)" [ "$n" -ge 3 ]
	nsi_check "ping -T tsonly: the stack's timestamps are UT milliseconds" ts_sane "$NSI_TMP/ts"
else
	nsi_not_ok "ping -T tsonly got no reply: $(tr '\n' ' ' <"$out")"
fi

if ping_ok "$NSI_LEFT" "$ours_left" -T tsandaddr; then
	nsi_ts_list <"$out" >"$NSI_TMP/ts"
	echo "# TS and addresses: $(tr '\n' '|' <"$NSI_TMP/ts")"
	nsi_check "ping -T tsandaddr: first entry is the sender" \
		grep -q '^192\.0\.2\.1 ' <(head -n 1 "$NSI_TMP/ts")
	nsi_check "ping -T tsandaddr: the stack recorded 192.0.2.2 with a time" \
		grep -qE '^192\.0\.2\.2 -?[0-9]+$' "$NSI_TMP/ts"
	nsi_check "ping -T tsandaddr: the stack's timestamps are UT milliseconds" \
		ts_sane "$NSI_TMP/ts"
else
	nsi_not_ok "ping -T tsandaddr got no reply: $(tr '\n' ' ' <"$out")"
fi

if ping_ok "$NSI_LEFT" 198.51.100.1 -T tsandaddr; then
	nsi_ts_list <"$out" >"$NSI_TMP/ts"
	echo "# TS and addresses through: $(tr '\n' '|' <"$NSI_TMP/ts")"
	nsi_check "ping -T tsandaddr through: the router stamped with its egress address" \
		grep -qE '^198\.51\.100\.2 -?[0-9]+$' "$NSI_TMP/ts"
	nsi_check "ping -T tsandaddr through: the far host stamped" \
		grep -qE '^198\.51\.100\.1 ' "$NSI_TMP/ts"
else
	nsi_not_ok "ping -T tsandaddr through the stack got no reply: $(tr '\n' ' ' <"$out")"
fi

nsi_stop_stack
nsi_done
