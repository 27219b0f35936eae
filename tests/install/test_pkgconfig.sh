#!/usr/bin/env bash
# Installs the library into a scratch prefix and builds a small program
# against it through pkg-config, the way an embedder would, then runs it.
# Usage: test_pkgconfig.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d /tmp/ns-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name netstack.pc | head -1)")
cat >"$prefix/main.c" <<'C'
#include <stdio.h>
#include <netstack/netstack.h>
int main(void)
{
	const unsigned char hdr[20] = {0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 0x40, 1, 0, 0,
				       192, 0, 2, 1, 192, 0, 2, 2};
	unsigned c = ns_checksum(hdr, sizeof hdr);
	printf("%04x\n", c);
	return c == 0xb6a5 ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$pcdir"
# Shared library: the rpath makes the scratch prefix's copy the one that runs.
cc -Wall -Werror -o "$prefix/main" "$prefix/main.c" $(pkg-config --cflags --libs netstack) \
	-Wl,-rpath,"$(pkg-config --variable=libdir netstack)"
"$prefix/main"
# Static library, for embedders who link it in.
cc -Wall -Werror -o "$prefix/main_static" "$prefix/main.c" $(pkg-config --cflags netstack) \
	"$(pkg-config --variable=libdir netstack)/libnetstack.a"
"$prefix/main_static"
# CMake package config.
mkdir -p "$prefix/cm"
cat >"$prefix/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(netstack REQUIRED)
add_executable(consumer ../main.c)
target_link_libraries(consumer PRIVATE netstack::netstack)
CM
cmake -S "$prefix/cm" -B "$prefix/cm/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm/b" >/dev/null
LD_LIBRARY_PATH="$(pkg-config --variable=libdir netstack)" "$prefix/cm/b/consumer"
echo "install: pkg-config, static and CMake package consumers built and ran"
