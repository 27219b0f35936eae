#!/usr/bin/env bash
# docs/netstack.1 and the command's --help texts say the same: every
# --option the program's help prints is in the man page and every option
# the man page lists is in some help text; the man page's version is the
# project's; the page renders without groff warnings. Needs no privilege.
# Usage: test_docs_manpage.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: test_docs_manpage.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
bin="$build/tools/netstack"
man="$src/docs/netstack.1"
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

helps=$({ "$bin" --help; "$bin" run --help; "$bin" replay --help; "$bin" demo --help; })
from_help=$(grep -oE -- '--[a-z][a-z-]*' <<<"$helps" | sort -u)
# Options in the page are written \-\-name in roff.
from_man=$(grep -oE -- '\\-\\-[a-z][a-z\\-]*' "$man" | sed 's/\\//g' | sort -u)
missing=$(comm -23 <(echo "$from_help") <(echo "$from_man"))
extra=$(comm -13 <(echo "$from_help") <(echo "$from_man"))
[ -z "$missing" ] || fail "in --help but not in docs/netstack.1: $missing"
[ -z "$extra" ] || fail "in docs/netstack.1 but in no --help: $extra"
for cmd in run replay demo; do
	grep -q "^\.B $cmd\$" "$man" || fail "docs/netstack.1 has no entry for '$cmd'"
done

want=$(sed -nE 's/^project\(netstack VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
grep -q "^\.TH NETSTACK 1 .*\"netstack-c $want\"" "$man" || fail "docs/netstack.1 does not say version $want"
[ "$("$bin" --version)" = "netstack $want" ] || fail "netstack --version does not say $want"
if command -v groff >/dev/null; then
	w=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
	[ -z "$w" ] || fail "groff warns about docs/netstack.1: $w"
fi
echo "ok: docs/netstack.1 and --help agree on $(wc -l <<<"$from_help") options, version $want"
