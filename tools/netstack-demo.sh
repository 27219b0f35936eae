#!/usr/bin/env bash
# netstack demo (what `make demo` runs): netstack as a router between two
# Linux hosts in network namespaces, driven by Linux's own tools, one
# PASS/FAIL line per step; then the counters that moved and the capture.
#
#   nsd-PID-left (Linux)               nsd-PID-right (Linux)
#   veth0 192.0.2.1/24                 veth0 198.51.100.1/24
#   198.51.100.0/24 via 192.0.2.2      192.0.2.0/24 via 198.51.100.2
#     |                                  |
#   ==|=== nsd-PID-router ===============|====
#     vL  (veth peer)                    vR
#     |                                  |
#     brL (Linux bridge, no address)     brR
#     |                                  |
#     tapL (kernel side of the TAP)      tapR
#     |  fd                          fd  |
#     +----- netstack run --forward -----+
#            tapL=192.0.2.2/24   tapR=198.51.100.2/24   --udp-echo 7
#
# The router namespace's kernel has no addresses and does not forward, so
# every packet between the hosts crosses netstack. IPv6 is off in all three
# namespaces so the capture holds only the demo's traffic. Only RFC 5737
# addresses are used, only inside the namespaces; everything made here is
# removed on exit, also on failure or Ctrl-C.
#
# Without CAP_NET_ADMIN (or /dev/net/tun) it says so and replays the bundled
# capture tests/data/demo.pcap through `netstack replay` instead.
#
# Usage: netstack-demo.sh [--out DIR]   (NETSTACK names the binary; the
# capture and the counters are left in DIR, default the current directory)
# Exit status: 0 when every step passed, 1 otherwise.
set -u

out_dir=$PWD
while [ $# -gt 0 ]; do
	case $1 in
	--out)
		out_dir=${2:?--out needs a directory}
		shift 2
		;;
	-h | --help)
		sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "netstack demo: unknown option '$1' (try --help)" >&2
		exit 2
		;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
bin=${NETSTACK:-}
if [ -z "$bin" ]; then
	for c in "$here/netstack" "$src/build/dev/tools/netstack" "$(command -v netstack || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			bin=$c
			break
		fi
	done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
	echo "netstack demo: cannot find the netstack binary (set NETSTACK or run 'make')" >&2
	exit 2
fi
mkdir -p "$out_dir" || exit 2
out_dir=$(cd "$out_dir" && pwd)

bold=""
norm=""
if [ -t 1 ]; then
	bold=$(printf '\033[1m')
	norm=$(printf '\033[0m')
fi
say() { printf '%s\n' "$*"; }
detail() { printf '        %s\n' "$@"; }

# ---------------------------------------------------------------------------
# Without privileges: the offline replay.
# ---------------------------------------------------------------------------
replay_instead()
{
	say "netstack demo: $1"
	say "So no namespaces or TAP devices: replaying the bundled capture through the stack"
	say "offline instead ('netstack replay', no privileges, deterministic)."
	local in="$src/tests/data/demo.pcap" out="$out_dir/demo-replay.pcap"
	if [ ! -f "$in" ]; then
		say "FAIL  the bundled capture $in is missing (run from the source tree)"
		exit 1
	fi
	say ""
	say "\$ netstack replay tests/data/demo.pcap --iface tap0=192.0.2.2/24 --udp-echo 7 --out $out"
	if ! "$bin" replay "$in" --iface tap0=192.0.2.2/24 --udp-echo 7 --drain 1 \
		--stats "$out_dir/demo-replay-stats.json" --out "$out"; then
		say "FAIL  netstack replay failed"
		exit 1
	fi
	local n_in n_out reps udp
	if command -v tshark >/dev/null; then
		n_in=$(tshark -r "$in" 2>/dev/null | wc -l)
		n_out=$(tshark -r "$out" 2>/dev/null | wc -l)
		reps=$(tshark -r "$out" -Y 'icmp.type == 0' 2>/dev/null | wc -l)
		udp=$(tshark -r "$out" -Y 'udp.srcport == 7' 2>/dev/null | wc -l)
		say "frames in: $n_in, frames the stack sent: $n_out"
		tshark -r "$out" 2>/dev/null | head -n 20 | sed 's/^/        /'
		if [ "$reps" -ge 5 ] && [ "$udp" -ge 1 ]; then
			say "PASS  $reps echo replies (plain, -R, -T tsonly, -T tsandaddr, fragmented)"
			say "      and the UDP echo came back; the frames are in $out"
		else
			say "FAIL  $reps echo replies and $udp UDP echoes (5 and 1 expected) in $out"
			exit 1
		fi
	elif [ -s "$out" ]; then
		say "PASS  the stack answered the replayed traffic; its frames are in $out"
	else
		say "FAIL  the stack sent nothing"
		exit 1
	fi
	say "      open it with: tshark -r $out -V   (or wireshark $out)"
	exit 0
}

if [ ! -c /dev/net/tun ]; then
	replay_instead "/dev/net/tun is missing (no TUN/TAP in this kernel or container)."
fi
if [ "$(id -u)" -ne 0 ]; then
	replay_instead "not root: creating namespaces and TAP devices needs CAP_NET_ADMIN."
fi
missing=()
for t in ip ping tracepath socat nstat; do
	command -v "$t" >/dev/null || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "netstack demo: missing tools: ${missing[*]} (scripts/deps.sh demo installs them)"
	exit 2
fi

# ---------------------------------------------------------------------------
# The namespaces.
# ---------------------------------------------------------------------------
pfx="nsd-$$"
L="$pfx-left"
R="$pfx-right"
X="$pfx-router"
made=()
pid=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$pfx.XXXXXX")
pcap="$out_dir/demo.pcap"
stats="$out_dir/demo-stats.json"

# shellcheck disable=SC2317 # run by the traps
cleanup()
{
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	local ns
	for ns in "${made[@]}"; do
		ip -n "$ns" link del tapL 2>/dev/null
		ip -n "$ns" link del tapR 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

newns()
{
	ip netns add "$1" || return 1
	made+=("$1")
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$1" link set lo up
}

# side TAP BRIDGE VETH HOSTNS ADDR
side()
{
	ip -n "$X" link add "$2" type bridge stp_state 0 forward_delay 0 &&
		ip -n "$X" tuntap add dev "$1" mode tap &&
		ip -n "$X" link add "$3" type veth peer name veth0 netns "$4" &&
		ip -n "$X" link set "$1" master "$2" &&
		ip -n "$X" link set "$3" master "$2" &&
		ip -n "$X" link set "$2" up &&
		ip -n "$X" link set "$1" up &&
		ip -n "$X" link set "$3" up &&
		ip -n "$4" addr add "$5" dev veth0 &&
		ip -n "$4" link set veth0 up
}

say "${bold}netstack demo${norm}: netstack ($bin) as a router between two Linux hosts"
if ! newns "$X" 2>"$tmp/err"; then
	replay_instead "cannot create a network namespace ($(head -n 1 "$tmp/err")): no CAP_NET_ADMIN?"
fi
if ! newns "$L" || ! newns "$R" ||
	! side tapL brL vL "$L" 192.0.2.1/24 || ! side tapR brR vR "$R" 198.51.100.1/24 ||
	! ip -n "$L" route add 198.51.100.0/24 via 192.0.2.2 ||
	! ip -n "$R" route add 192.0.2.0/24 via 198.51.100.2; then
	say "FAIL  could not build the namespaces and links (see the errors above)"
	exit 1
fi
say "  left host   $L: 192.0.2.1/24, route to 198.51.100.0/24 via 192.0.2.2"
say "  right host  $R: 198.51.100.1/24, route to 192.0.2.0/24 via 198.51.100.2"
say "  router      $X: tapL, tapR bridged to the hosts' veth links"
say ""
say "\$ netstack run --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 --forward \\"
say "      --udp-echo 7 --pcap $pcap --stats $stats"
rm -f "$stats"
ip netns exec "$X" "$bin" run --iface tapL=192.0.2.2/24 --iface tapR=198.51.100.2/24 \
	--forward --udp-echo 7 --pcap "$pcap" --stats "$stats" >"$tmp/stack.out" 2>&1 </dev/null &
pid=$!
ready=0
for _ in $(seq 1 100); do
	grep -qx ready "$tmp/stack.out" 2>/dev/null && ready=1 && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ "$ready" -ne 1 ]; then
	sed 's/^/        /' "$tmp/stack.out"
	say "FAIL  netstack run did not print 'ready' within 10 s"
	exit 1
fi
for tap in tapL tapR; do
	for _ in $(seq 1 50); do
		ip -n "$X" link show "$tap" | grep -q LOWER_UP && break
		sleep 0.1
	done
done
say "ready"

# Counters at the start (SIGUSR1 rewrites the stats file).
kill -USR1 "$pid"
for _ in $(seq 1 50); do
	[ -s "$stats" ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$stats" \
		2>/dev/null && break
	sleep 0.1
done
cp "$stats" "$tmp/stats.0" 2>/dev/null || echo '{}' >"$tmp/stats.0"

# ---------------------------------------------------------------------------
# The steps.
# ---------------------------------------------------------------------------
steps=9
n=0
passed=0
failed=0
step() { n=$((n + 1)); printf '\n%s[%d/%d] %s%s\n' "$bold" "$n" "$steps" "$1" "$norm"; }
pass()
{
	passed=$((passed + 1))
	printf '  PASS  %s\n' "$*"
}
fail()
{
	failed=$((failed + 1))
	printf '  FAIL  %s\n' "$*"
}
inleft() { ip netns exec "$L" "$@"; }
# replies FILE: "N/M" from ping's summary.
replies() { sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2\/\1/p' "$1"; }
all_replied() { grep -qE '^([0-9]+) packets transmitted, \1 received' "$1"; }
block() { awk -v k="$2" '$0 ~ "^" k ":" { on = 1; sub("^" k ":", "") }
	on && /^[ \t]*$/ { exit } on { $1 = $1; sub(/ absolute/, ""); if ($0 != "") print }' "$1"; }

# ARP settles with a first exchange.
for _ in 1 2 3; do inleft ping -n -c 1 -W 2 198.51.100.1 >/dev/null 2>&1 && break; done

step "Linux ping to the stack: ping -c 3 192.0.2.2"
inleft ping -n -c 3 -i 0.2 -W 2 -w 6 192.0.2.2 >"$tmp/o" 2>&1
if all_replied "$tmp/o" && grep -q 'ttl=64' "$tmp/o"; then
	pass "$(replies "$tmp/o") replies, ttl=64"
else
	fail "$(replies "$tmp/o") replies"
fi

step "Record Route: ping -R 192.0.2.2"
inleft ping -n -c 1 -W 2 -w 5 -R 192.0.2.2 >"$tmp/o" 2>&1
mapfile -t rr < <(block "$tmp/o" RR)
detail "RR: ${rr[*]:-(none)}"
if all_replied "$tmp/o" && printf '%s\n' "${rr[@]}" | grep -qx 192.0.2.2; then
	pass "the stack recorded its address 192.0.2.2"
else
	fail "no reply, or 192.0.2.2 not recorded"
fi

step "Timestamps: ping -T tsonly 192.0.2.2"
inleft ping -n -c 1 -W 2 -w 5 -T tsonly 192.0.2.2 >"$tmp/o" 2>&1
mapfile -t ts < <(block "$tmp/o" TS)
detail "TS: ${ts[*]:-(none)}   (first absolute, then deltas in ms)"
if all_replied "$tmp/o" && [ "${#ts[@]}" -ge 3 ]; then
	pass "the stack added its timestamps (${#ts[@]} entries)"
else
	fail "no reply, or no timestamp from the stack (${#ts[@]} entries)"
fi

step "Timestamps with addresses: ping -T tsandaddr 192.0.2.2"
inleft ping -n -c 1 -W 2 -w 5 -T tsandaddr 192.0.2.2 >"$tmp/o" 2>&1
block "$tmp/o" TS >"$tmp/ts"
while read -r line; do detail "TS: $line"; done <"$tmp/ts"
if all_replied "$tmp/o" && grep -qE '^192\.0\.2\.2 -?[0-9]+$' "$tmp/ts"; then
	pass "192.0.2.2 stamped its time"
else
	fail "no reply, or 192.0.2.2 not in the timestamp list"
fi

step "Fragments both ways: ping -s 8000 -c 3 192.0.2.2"
nstat_of() { ip netns exec "$L" nstat -a -z -s 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
fc0=$(nstat_of IpFragCreates)
ro0=$(nstat_of IpReasmOKs)
inleft ping -n -c 3 -i 0.2 -W 3 -w 8 -s 8000 192.0.2.2 >"$tmp/o" 2>&1
fc=$(($(nstat_of IpFragCreates) - ${fc0:-0}))
ro=$(($(nstat_of IpReasmOKs) - ${ro0:-0}))
detail "Linux sent $fc fragments (IpFragCreates) and reassembled $ro replies (IpReasmOKs)"
if all_replied "$tmp/o" && grep -q '^8008 bytes from 192.0.2.2' "$tmp/o" && [ "$ro" -ge 3 ]; then
	pass "$(replies "$tmp/o") replies of 8008 bytes: the stack reassembled and fragmented"
else
	fail "$(replies "$tmp/o") replies, $ro reassembled by Linux"
fi

step "Forwarding: ping -c 3 198.51.100.1 (the right host, through the stack)"
inleft ping -n -c 3 -i 0.2 -W 2 -w 6 198.51.100.1 >"$tmp/o" 2>&1
if all_replied "$tmp/o" && grep -q 'ttl=63' "$tmp/o"; then
	pass "$(replies "$tmp/o") replies, ttl=63 (one router on the way)"
else
	fail "$(replies "$tmp/o") replies"
fi

step "Traceroute: tracepath -n 198.51.100.1"
for _ in 1 2; do
	timeout 60 ip netns exec "$L" tracepath -n -m 5 198.51.100.1 >"$tmp/o" 2>&1
	grep -q reached "$tmp/o" && break
done
while read -r line; do detail "$line"; done <"$tmp/o"
hop1=$(awk '$1 == "1:" && $2 ~ /^[0-9.]+$/ { print $2; exit }' "$tmp/o")
hop2=$(awk '$1 == "2:" && /reached/ { print $2; exit }' "$tmp/o")
if [ "$hop1" = 192.0.2.2 ] && [ "$hop2" = 198.51.100.1 ]; then
	pass "hop 1 is the stack (ICMP Time Exceeded), hop 2 the right host"
else
	fail "hop 1 '$hop1', hop 2 '$hop2'"
fi

step "UDP echo: a 30000-byte datagram through socat to 192.0.2.2:7 and back"
head -c 30000 /dev/urandom >"$tmp/udp.in"
ok=0
for _ in 1 2 3; do
	rm -f "$tmp/udp.back"
	timeout 15 ip netns exec "$L" socat -b 65536 -t 3 -T 5 \
		OPEN:"$tmp/udp.in",rdonly!!CREATE:"$tmp/udp.back" UDP4:192.0.2.2:7 2>/dev/null
	cmp -s "$tmp/udp.in" "$tmp/udp.back" && ok=1 && break
done
got=$(stat -c %s "$tmp/udp.back" 2>/dev/null || echo 0)
if [ "$ok" -eq 1 ]; then
	pass "30000 bytes sent, the same 30000 bytes back (21 fragments each way)"
else
	fail "30000 bytes sent, $got bytes back"
fi

step "Ping flood: ping -f -c 500 -w 20 192.0.2.2"
timeout 40 ip netns exec "$L" ping -n -q -f -c 500 -w 20 192.0.2.2 >"$tmp/o" 2>&1
detail "$(grep transmitted "$tmp/o")"
r=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' "$tmp/o")
if [ "${r:-0}" -ge 495 ]; then
	pass "${r} of 500 answered"
else
	fail "${r:-0} of 500 answered"
fi

# ---------------------------------------------------------------------------
# Counters, capture, summary.
# ---------------------------------------------------------------------------
kill -TERM "$pid" 2>/dev/null
for _ in $(seq 1 50); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
rc=0
wait "$pid" || rc=$?
pid=""
if [ "$rc" -ne 0 ]; then
	fail "netstack run exited $rc on SIGTERM (0 expected)"
fi

printf '\n%sCounters that moved%s (from %s):\n' "$bold" "$norm" "$stats"
python3 - "$tmp/stats.0" "$stats" <<'EOF'
import json, sys
def flat(v, p, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flat(x, p + [str(k)], out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flat(x, p + [str(i)], out)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        out[".".join(p)] = v
def load(f):
    out = {}
    try:
        flat(json.load(open(f)), [], out)
    except Exception:
        pass
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
rows = [(k, v - a.get(k, 0)) for k, v in b.items() if v != a.get(k, 0)]
w = max([len(k) for k, _ in rows] + [10])
for k, d in rows:
    print("  %-*s %+10d" % (w, k, d))
if not rows:
    print("  (none: no stats file?)")
EOF

frames=""
if command -v tshark >/dev/null && [ -s "$pcap" ]; then
	frames=" ($(tshark -r "$pcap" 2>/dev/null | wc -l) frames)"
fi
printf '\n%sCapture%s: %s%s\n' "$bold" "$norm" "$pcap" "$frames"
say "  open it with: tshark -r $pcap    (or: wireshark $pcap)"
say "  e.g. the options: tshark -r $pcap -Y 'ip.opt.type' -V | less"

printf '\n%d passed, %d failed\n' "$passed" "$failed"
if [ "$failed" -eq 0 ]; then
	say "${bold}demo: all steps passed${norm}"
	exit 0
fi
say "${bold}demo: $failed step(s) failed${norm}"
exit 1
