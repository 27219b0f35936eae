#!/usr/bin/env bash
# Fails when a tracked C file differs from .clang-format's style.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
if [ -z "$files" ]; then
	files=$(find src include tests tools bench examples -name '*.[ch]' 2>/dev/null || true)
fi
[ -z "$files" ] && { echo "format: no files"; exit 0; }
if ! echo "$files" | xargs clang-format --dry-run --Werror 2>/tmp/ns-format.$$; then
	head -40 /tmp/ns-format.$$ >&2
	echo "format: run 'make format' to fix the files above" >&2
	rm -f /tmp/ns-format.$$
	exit 1
fi
rm -f /tmp/ns-format.$$
echo "format: ok"
