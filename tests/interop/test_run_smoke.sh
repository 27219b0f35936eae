#!/usr/bin/env bash
# `netstack run` smoke test: the command on a TAP device in a namespace of
# its own, Linux's ping from the same namespace, SIGTERM, and the JSON
# counters it leaves. Usage: test_run_smoke.sh BUILD_DIR
# Exit 77 (CTest's skip) without root or /dev/net/tun.
set -euo pipefail
build=${1:?usage: test_run_smoke.sh BUILD_DIR}
bin=$build/tools/netstack
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (CAP_NET_ADMIN) for namespaces and TAP"; exit 77; fi
if [ ! -c /dev/net/tun ]; then echo "skip: no /dev/net/tun"; exit 77; fi
for t in ip ping; do
	command -v "$t" >/dev/null || { echo "skip: $t is not installed"; exit 77; }
done
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }

ns=nsc-run-$$
dir=$(mktemp -d /tmp/nsc-run.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$dir/err" ] && sed 's/^/  stderr: /' "$dir/err"; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up
mkfifo "$dir/out"
ip netns exec "$ns" "$bin" run --iface nsctap0=192.0.2.2/24 --udp-echo 7 \
	--pcap "$dir/run.pcap" --stats "$dir/stats.json" >"$dir/out" 2>"$dir/err" &
pid=$!
exec 3<"$dir/out"
# Bounded wait for "ready" (10 s).
line=
read -r -t 10 line <&3 || true
[ "$line" = ready ] || fail "no 'ready' within 10 s (got '$line')"
ip -n "$ns" link show nsctap0 | grep -q 'UP' || fail "nsctap0 is not up"
ip -n "$ns" addr add 192.0.2.1/24 dev nsctap0
ip netns exec "$ns" ping -c 1 -W 5 192.0.2.2 >"$dir/ping" || { cat "$dir/ping"; fail "no echo reply"; }
echo "ping: ok"
kill -USR1 "$pid"
for _ in $(seq 50); do [ -s "$dir/stats.json" ] && break; sleep 0.1; done
[ -s "$dir/stats.json" ] || fail "SIGUSR1 wrote no stats"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
python3 - "$dir/stats.json" <<'PY' || fail "stats check"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["icmp"]["received_echo_request"] >= 1, s["icmp"]
assert s["icmp"]["sent_echo_reply"] >= 1, s["icmp"]
assert s["arp"]["outgoing_replies_sent"] + s["arp"]["replies_received"] >= 1, s["arp"]
print("stats: echo requests %d, replies %d" % (s["icmp"]["received_echo_request"], s["icmp"]["sent_echo_reply"]))
PY
[ -s "$dir/run.pcap" ] || fail "empty capture"
if command -v tshark >/dev/null; then
	n=$(tshark -r "$dir/run.pcap" -Y 'icmp.type == 0' 2>/dev/null | wc -l)
	[ "$n" -ge 1 ] || fail "capture has no echo reply"
	echo "capture: $n echo replies"
fi
echo "ok: netstack run answered ping on a TAP device and exited 0 on SIGTERM"
