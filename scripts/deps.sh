#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when they are missing.
# Usage: scripts/deps.sh build|test|bench|demo|fuzz|docs
# As root it runs apt-get (saying what it installs); otherwise it prints the
# command to run and fails, so nothing half-works silently.
set -euo pipefail

want=(cmake make gcc pkg-config libcmocka-dev clang-format libpcap-dev)
case "${1:-build}" in
build) want=(cmake make gcc pkg-config libpcap-dev) ;;
# The interop suite (tests/interop): namespaces, Linux ping/tracepath/socat,
# nstat, scapy for the crafted packets, tshark to decode captures (IGMP);
# valgrind for the memcheck run of the unit, scenario and hostile suites.
test) want+=(iproute2 iputils-ping iputils-tracepath socat python3 python3-scapy doxygen tshark valgrind) ;;
bench) want+=(liblwip-dev golang-go golang-gvisor-gvisor-dev valgrind gnuplot-nox) ;;
demo) want+=(libpcap-dev iproute2 iputils-ping iputils-tracepath socat python3 tshark) ;;
fuzz) want+=(clang libclang-rt-14-dev) ;;
docs) want+=(python3 doxygen graphviz gnuplot-nox) ;;
*) echo "deps.sh: unknown target '$1'" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "netstack-c needs these Debian packages: ${missing[*]}" >&2
	echo "Run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "==> installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once if they are empty or the install fails.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
	apt-get update -q
fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
