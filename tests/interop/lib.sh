# shellcheck shell=bash
# Shared helpers for the interop tests and the demo: the Linux kernel as the
# peer of a netstack router, in network namespaces made here and removed
# again on every exit path.
#
#   <p>-left (Linux host)            <p>-right (Linux host)
#   veth0 192.0.2.1/24               veth0 198.51.100.1/24
#   198.51.100.0/24 via 192.0.2.2    192.0.2.0/24 via 198.51.100.2
#     |                                |
#   ==|== <p>-router ==================|====
#     vL                               vR
#     |                                |
#     brL (bridge)                     brR (bridge)
#     |                                |
#     tapL                             tapR
#     |  fd                        fd  |
#     +--- netstack run --forward -----+
#          tapL=192.0.2.2/24  tapR=198.51.100.2/24
#
# The stack owns the fd of each TAP device; the kernel side of the TAP is a
# port of a Linux bridge in the router namespace, whose other port is one
# end of a veth pair; the other end is the host's veth0. The router
# namespace's kernel has no addresses and does not forward: every IPv4
# packet between the hosts crosses netstack. IPv6 is off everywhere so the
# captures hold only what the tests send.
#
# Callers set NSI_PREFIX (unique, with the PID) before nsi_setup. Only the
# documentation prefixes 192.0.2.0/24 and 198.51.100.0/24 are used, and only
# inside these namespaces; nothing is added to the root namespace.
#
# NSI_ROUTER=linux makes the router namespace's kernel route instead of
# netstack (addresses on the bridges, ip_forward on): the reference the
# assertions were checked against; netstack is the default.

NSI_PREFIX=${NSI_PREFIX:-nsi-$$}
NSI_LEFT="$NSI_PREFIX-left"
NSI_RIGHT="$NSI_PREFIX-right"
NSI_ROUTER_NS="$NSI_PREFIX-router"
NSI_ROUTER=${NSI_ROUTER:-netstack}
NSI_TMP=""
NSI_PID=""
NSI_NAMESPACES=()
NSI_STACK_OUT=""
NSI_STATS=""
NSI_PCAP=""

nsi_log() { printf '%s\n' "$*" >&2; }

# nsi_skip REASON: exit with CTest's skip code, saying why.
nsi_skip()
{
	echo "SKIP: $*"
	exit 77
}

nsi_fail()
{
	echo "FAIL: $*"
	exit 1
}

# nsi_require_privileges: skip unless this process may create namespaces,
# TAP devices and bridges.
nsi_require_privileges()
{
	[ -c /dev/net/tun ] || nsi_skip "/dev/net/tun is missing (no TUN/TAP support)"
	command -v ip >/dev/null || nsi_skip "iproute2 (ip) is not installed"
	if [ "$(id -u)" -ne 0 ]; then
		nsi_skip "needs root (CAP_NET_ADMIN) to create namespaces and TAP devices"
	fi
	local probe="$NSI_PREFIX-probe"
	if ! ip netns add "$probe" 2>/dev/null; then
		nsi_skip "cannot create a network namespace (no CAP_SYS_ADMIN/CAP_NET_ADMIN?)"
	fi
	if ! ip -n "$probe" link add nsiprobe type bridge 2>/dev/null ||
		! ip -n "$probe" tuntap add dev nsiprobet mode tap 2>/dev/null; then
		ip netns del "$probe" 2>/dev/null
		nsi_skip "cannot create bridge or TAP devices in a namespace"
	fi
	ip -n "$probe" link del nsiprobet 2>/dev/null
	ip netns del "$probe" 2>/dev/null
	return 0
}

# nsi_require_tools TOOL...: skip when a tool is missing.
nsi_require_tools()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || nsi_skip "$t is not installed (scripts/deps.sh test)"
	done
}

# nsi_python: a python3 that has scapy (Debian's python3-scapy lives in
# /usr/bin/python3, which a pyenv or venv on PATH may hide).
nsi_python()
{
	local p
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null && "$p" -c 'import scapy.all' 2>/dev/null; then
			command -v "$p"
			return 0
		fi
	done
	return 1
}

# nsi_find_netstack BUILD_DIR: set NSI_BIN to the netstack binary, or skip.
NSI_BIN=""
export NSI_BIN
nsi_find_netstack()
{
	if [ "$NSI_ROUTER" = linux ]; then
		NSI_BIN=linux
		return 0
	fi
	local b=${1:-build/dev}
	[ -x "$b/tools/netstack" ] || nsi_skip "netstack is not built ($b/tools/netstack missing)"
	NSI_BIN="$b/tools/netstack"
}

# nsi_begin BUILD_DIR TOOL...: the common prologue of a test: privileges,
# tools, the binary, the cleanup trap and the namespaces.
nsi_begin()
{
	local b=$1
	shift
	nsi_require_privileges
	nsi_require_tools "$@"
	nsi_find_netstack "$b"
	nsi_trap
	nsi_setup
}

# Parsers of Linux ping's option output (one reply: ping -c 1).
# nsi_rr_list: the addresses of the RR: block, one a line.
nsi_rr_list()
{
	awk '/^RR:/ { on = 1; sub(/^RR:/, "") }
	     on && /^[ \t]*$/ { exit }
	     on { gsub(/[ \t]/, ""); if ($0 != "") print }'
}
# nsi_ts_list: the TS: block as "ADDR VALUE" or "VALUE" lines (the first
# value is absolute, the others deltas from the previous one, in ms).
nsi_ts_list()
{
	awk '/^TS:/ { on = 1; sub(/^TS:/, "") }
	     on && /^[ \t]*$/ { exit }
	     on && /Unrecorded/ { next }
	     on { sub(/absolute/, ""); $1 = $1; if ($0 != "") print }'
}

nsi_cleanup()
{
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$NSI_PID" ] && kill -0 "$NSI_PID" 2>/dev/null; then
		kill -TERM "$NSI_PID" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$NSI_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSI_PID" 2>/dev/null
		wait "$NSI_PID" 2>/dev/null
	fi
	local ns
	for ns in "${NSI_NAMESPACES[@]}"; do
		# Persistent TAP devices are removed by name before the namespace.
		ip -n "$ns" link del tapL 2>/dev/null
		ip -n "$ns" link del tapR 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NSI_NAMESPACES=()
	if [ -n "$NSI_TMP" ] && [ -z "${NSI_KEEP_TMP:-}" ]; then
		rm -rf "$NSI_TMP"
	fi
	exit "$rc"
}

nsi_trap()
{
	trap nsi_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# In-namespace command helpers.
nsi_left() { ip netns exec "$NSI_LEFT" "$@"; }
nsi_right() { ip netns exec "$NSI_RIGHT" "$@"; }
nsi_router() { ip netns exec "$NSI_ROUTER_NS" "$@"; }

nsi_newns()
{
	ip netns add "$1" || nsi_fail "cannot create namespace $1"
	NSI_NAMESPACES+=("$1")
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
	ip -n "$1" link set lo up
}

# nsi_side TAP BRIDGE VETH HOSTNS HOSTADDR: one side of the router.
nsi_side()
{
	local tap=$1 br=$2 veth=$3 hostns=$4 addr=$5 r=$NSI_ROUTER_NS
	ip -n "$r" link add "$br" type bridge stp_state 0 forward_delay 0 ||
		nsi_fail "cannot create bridge $br"
	ip -n "$r" tuntap add dev "$tap" mode tap || nsi_fail "cannot create TAP $tap"
	ip -n "$r" link add "$veth" type veth peer name veth0 netns "$hostns" ||
		nsi_fail "cannot create veth $veth"
	ip -n "$r" link set "$tap" master "$br"
	ip -n "$r" link set "$veth" master "$br"
	ip -n "$r" link set "$br" up
	ip -n "$r" link set "$tap" up
	ip -n "$r" link set "$veth" up
	ip -n "$hostns" addr add "$addr" dev veth0
	ip -n "$hostns" link set veth0 up
}

# nsi_setup: the three namespaces and their links (see the picture above).
nsi_setup()
{
	NSI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$NSI_PREFIX.XXXXXX")
	nsi_newns "$NSI_ROUTER_NS"
	nsi_newns "$NSI_LEFT"
	nsi_newns "$NSI_RIGHT"
	nsi_side tapL brL vL "$NSI_LEFT" 192.0.2.1/24
	nsi_side tapR brR vR "$NSI_RIGHT" 198.51.100.1/24
	ip -n "$NSI_LEFT" route add 198.51.100.0/24 via 192.0.2.2
	ip -n "$NSI_RIGHT" route add 192.0.2.0/24 via 198.51.100.2
}

# nsi_right_mtu BYTES: the MTU of the whole right link (host veth, bridge,
# veth and TAP), to match `--mtu tapR=BYTES` given to netstack.
nsi_right_mtu()
{
	local d
	for d in vR tapR brR; do
		ip -n "$NSI_ROUTER_NS" link set "$d" mtu "$1"
	done
	ip -n "$NSI_RIGHT" link set veth0 mtu "$1"
}

# nsi_start_stack NETSTACK ARGS...: run `netstack run ARGS` in the router
# namespace with a pcap and a stats file in NSI_TMP; wait (10 s at most) for
# its `ready` line. With NSI_ROUTER=linux the kernel routes instead.
nsi_start_stack()
{
	local bin=$1
	shift
	NSI_STACK_OUT="$NSI_TMP/stack.out"
	NSI_STATS="$NSI_TMP/stats.json"
	NSI_PCAP="${NSI_PCAP_FILE:-$NSI_TMP/stack.pcap}"
	if [ "$bin" = linux ]; then
		local r=$NSI_ROUTER_NS
		ip -n "$r" addr add 192.0.2.2/24 dev brL
		ip -n "$r" addr add 198.51.100.2/24 dev brR
		ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
		echo ready >"$NSI_STACK_OUT"
		return 0
	fi
	ip netns exec "$NSI_ROUTER_NS" "$bin" run "$@" --pcap "$NSI_PCAP" \
		--stats "$NSI_STATS" >"$NSI_STACK_OUT" 2>&1 </dev/null &
	NSI_PID=$!

	for _ in $(seq 1 100); do
		if grep -qx ready "$NSI_STACK_OUT" 2>/dev/null; then
			nsi_wait_carrier
			return 0
		fi
		if ! kill -0 "$NSI_PID" 2>/dev/null; then
			cat "$NSI_STACK_OUT" >&2
			NSI_PID=""
			nsi_fail "netstack run exited before printing ready"
		fi
		sleep 0.1
	done
	cat "$NSI_STACK_OUT" >&2
	nsi_fail "netstack run printed no ready line within 10 s"
}

# The bridge ports of the TAP devices forward once the stack holds the fd.
nsi_wait_carrier()
{
	local tap
	for tap in tapL tapR; do
		ip -n "$NSI_ROUTER_NS" link show "$tap" >/dev/null 2>&1 || continue
		for _ in $(seq 1 50); do
			ip -n "$NSI_ROUTER_NS" link show "$tap" | grep -q 'LOWER_UP' && break
			sleep 0.1
		done
	done
}

# nsi_stop_stack: SIGTERM, wait 5 s at most, and check it exited 0 (so the
# stats file holds the counters at exit).
nsi_stop_stack()
{
	[ -n "$NSI_PID" ] || return 0
	kill -TERM "$NSI_PID" 2>/dev/null
	local rc=0
	for _ in $(seq 1 50); do
		kill -0 "$NSI_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NSI_PID" 2>/dev/null; then
		kill -KILL "$NSI_PID" 2>/dev/null
		wait "$NSI_PID" 2>/dev/null
		NSI_PID=""
		nsi_fail "netstack did not exit within 5 s of SIGTERM"
	fi
	wait "$NSI_PID" || rc=$?
	NSI_PID=""
	[ "$rc" -eq 0 ] || nsi_fail "netstack exited $rc on SIGTERM"
}

# nsi_snapshot FILE: ask the running stack for its counters (SIGUSR1) and
# copy them to FILE once the stats file has been rewritten (5 s at most).
nsi_snapshot()
{
	local out=$1
	if [ -z "$NSI_PID" ]; then
		echo '{}' >"$out"
		return 0
	fi
	local before=""
	[ -f "$NSI_STATS" ] && before=$(stat -c '%Y.%s.%i' "$NSI_STATS" 2>/dev/null; md5sum <"$NSI_STATS")
	kill -USR1 "$NSI_PID"
	local now
	for _ in $(seq 1 50); do
		if [ -s "$NSI_STATS" ]; then
			now=$(stat -c '%Y.%s.%i' "$NSI_STATS" 2>/dev/null; md5sum <"$NSI_STATS")
			if [ "$now" != "$before" ] && nsi_json_ok "$NSI_STATS"; then
				cp "$NSI_STATS" "$out"
				return 0
			fi
		fi
		sleep 0.1
	done
	# Unchanged counters rewrite identical bytes: take what is there.
	if [ -s "$NSI_STATS" ] && nsi_json_ok "$NSI_STATS"; then
		cp "$NSI_STATS" "$out"
		return 0
	fi
	echo '{}' >"$out"
	return 1
}

nsi_json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# nsi_counter FILE NAME: the value of a counter in a stats JSON file, found
# by its last path component or its dotted path ("ip.packets_received");
# the sum when the name appears under several NICs. Prints 0 when absent.
nsi_counter()
{
	python3 - "$1" "$2" <<'EOF'
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
out = {}
try:
    flat(json.load(open(sys.argv[1])), [], out)
except Exception:
    pass
name = sys.argv[2]
tot = sum(v for k, v in out.items() if k == name or k.endswith("." + name))
print(int(tot))
EOF
}

# nsi_counters_moved BEFORE AFTER: the counters whose value changed, one
# "name  before -> after (+delta)" line each.
nsi_counters_moved()
{
	python3 - "$1" "$2" <<'EOF'
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
rows = [(k, a.get(k, 0), v) for k, v in b.items() if v != a.get(k, 0)]
w = max([len(k) for k, _, _ in rows] + [10])
for k, x, y in rows:
    print("  %-*s %10d -> %-10d (%+d)" % (w, k, x, y, y - x))
if not rows:
    print("  (no counter moved)")
EOF
}

# nsi_nstat NS: Linux's SNMP counters in a namespace as "Name value" lines
# (absolute values, zeros included).
nsi_nstat() { ip netns exec "$1" nstat -a -z -s 2>/dev/null; }

# nsi_nstat_delta BEFORE AFTER NAME: how much one nstat counter moved.
nsi_nstat_delta()
{
	local a b
	a=$(awk -v n="$3" '$1 == n { print $2 }' "$1")
	b=$(awk -v n="$3" '$1 == n { print $2 }' "$2")
	echo $((${b:-0} - ${a:-0}))
}

# Assertions: print "ok"/"not ok" lines and count failures in NSI_FAILED.
NSI_FAILED=0
NSI_PASSED=0
nsi_ok()
{
	echo "ok - $*"
	NSI_PASSED=$((NSI_PASSED + 1))
}
nsi_not_ok()
{
	echo "not ok - $*"
	NSI_FAILED=$((NSI_FAILED + 1))
}
# nsi_check DESCRIPTION COMMAND...: ok when the command succeeds.
nsi_check()
{
	local what=$1
	shift
	if "$@"; then nsi_ok "$what"; else nsi_not_ok "$what"; fi
}
# nsi_gap ISSUE DESCRIPTION COMMAND...: a check of behaviour that another
# issue still has to deliver (e.g. "7 [forwarding]"). A failure prints
# "not ok ... # TODO" and is not counted; a pass says the gap has closed, so
# the nsi_gap can become an nsi_check.
NSI_GAPS=0
nsi_gap()
{
	local issue=$1 what=$2
	shift 2
	if "$@"; then
		nsi_ok "$what (known gap of issue $issue has closed: make this an nsi_check)"
	else
		echo "not ok - $what # TODO known gap, issue $issue"
		NSI_GAPS=$((NSI_GAPS + 1))
	fi
}

# nsi_done: the closing line and the exit status.
nsi_done()
{
	[ "$NSI_GAPS" -eq 0 ] || echo "# $NSI_GAPS known gap(s) left to other issues (TODO lines)"
	echo "$NSI_PASSED passed, $NSI_FAILED failed"
	[ "$NSI_FAILED" -eq 0 ]
}
