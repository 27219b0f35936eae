#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, with its
# seed corpus from tests/fuzz/corpus/<target>/ when there is one.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets are built yet (they arrive with the [reliability] issue)" >&2
	exit 1
fi
for t in "${targets[@]}"; do
	name=$(basename "$t")
	corpus="$build/fuzz-corpus/$name"
	mkdir -p "$corpus"
	[ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$corpus"/ 2>/dev/null || true
	echo "==> $name for ${secs}s"
	"$t" -max_total_time="$secs" -print_final_stats=1 "$corpus"
done
