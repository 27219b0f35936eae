#!/usr/bin/env bash
# Every program in examples/ builds the way an embedder builds it: against
# the INSTALLED library through pkg-config, with -Werror and the project's
# warnings, shared and static; and the installed netstack.pc, CMake package
# and ns_version() agree with the headers. replay_stats then runs from the
# installed library (the others need root: test_example_*.sh run them).
# Usage: test_example_build_installed.sh BUILD_DIR. Needs no privilege.
set -euo pipefail
build=${1:?usage: test_example_build_installed.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
if grep -q '^NS_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "skip: the sanitizer tree's library needs the sanitizer runtime to link"; exit 77
fi
command -v pkg-config >/dev/null || { echo "skip: no pkg-config"; exit 77; }
dir=$(mktemp -d /tmp/nsc-examples.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$dir/prefix" >/dev/null
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$dir/prefix" -name netstack.pc | head -1)")
libdir=$(pkg-config --variable=libdir netstack)
warn=(-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla)
n=0
for ex in "$src"/examples/*.c; do
	name=$(basename "$ex" .c)
	# shellcheck disable=SC2046
	cc "${warn[@]}" -o "$dir/$name" "$ex" $(pkg-config --cflags --libs netstack) \
		-Wl,-rpath,"$libdir" || fail "examples/$name.c does not build against the installed library"
	# shellcheck disable=SC2046
	cc "${warn[@]}" -o "$dir/$name-static" "$ex" $(pkg-config --cflags netstack) \
		"$libdir/libnetstack.a" $(pkg-config --libs libpcap) ||
		fail "examples/$name.c does not link the installed static library"
	n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "expected at least 4 examples, found $n"

# The version is the same everywhere: project(), the header, the library,
# netstack.pc and the CMake package's version file.
want=$(sed -nE 's/^project\(netstack VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
[ "$(pkg-config --modversion netstack)" = "$want" ] || fail "netstack.pc says $(pkg-config --modversion netstack), project() $want"
grep -q "PACKAGE_VERSION \"$want\"" "$dir"/prefix/lib*/cmake/netstack/netstackConfigVersion.cmake ||
	fail "netstackConfigVersion.cmake does not say $want"
cat >"$dir/v.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <netstack/netstack.h>
int main(void)
{
	printf("%s\n", ns_version());
	return strcmp(ns_version(), NS_VERSION_STRING) != 0 || ns_version_number() != NS_VERSION_NUMBER;
}
C
# shellcheck disable=SC2046
cc "${warn[@]}" -o "$dir/v" "$dir/v.c" $(pkg-config --cflags --libs netstack) -Wl,-rpath,"$libdir"
[ "$("$dir/v")" = "$want" ] || fail "ns_version() is not $want"
[ -f "$dir/prefix/share/man/man1/netstack.1" ] || fail "the man page is not installed"

"$dir/replay_stats" "$src/tests/data/demo.pcap" 192.0.2.2/24 | grep -q 'icmp.sent_echo_reply' ||
	fail "the installed replay_stats printed no echo replies"
echo "ok: $n examples built with -Werror against the installed library (shared and static); version $want everywhere"
