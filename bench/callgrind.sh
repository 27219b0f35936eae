#!/usr/bin/env bash
# Instructions per operation of the netstack-c rows under callgrind: each row
# runs in its own `valgrind --tool=callgrind` process as
#   netstack-bench --ops N --warmup-ops W ROW
# with collection on only inside bench_run_ops() (--toggle-collect), which
# makes exactly N operations after the W warm-up ones. The stack runs on a
# manual clock and a seeded RNG, so the count is the same from run to run:
# compare it across commits. Prints a table and writes
# bench/results/callgrind.json. `make bench-callgrind`; never part of `make test`.
#
# Environment:
#   NS_CALLGRIND_OPS=1000        measured operations per row
#   NS_CALLGRIND_WARMUP_OPS=100  warm-up operations per row (not counted)
#   NS_CALLGRIND_ROWS="..."      rows to run (default: every netstack-c row)
#   NS_CALLGRIND_OUT=bench/results/callgrind.json
#   NS_BENCH_BUILD_DIR=build/bench
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ops=${NS_CALLGRIND_OPS:-1000}
warmup=${NS_CALLGRIND_WARMUP_OPS:-100}
build=${NS_BENCH_BUILD_DIR:-build/bench}
out=${NS_CALLGRIND_OUT:-$root/bench/results/callgrind.json}
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2
command -v valgrind >/dev/null || {
	echo "callgrind.sh: valgrind is not installed (scripts/deps.sh bench)" >&2
	exit 1
}

echo "==> building netstack-bench (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNS_BUILD_BENCH=ON -DNS_BUILD_TESTS=OFF \
	-DCMAKE_C_FLAGS="${NS_BENCH_CFLAGS:-}" >/dev/null
cmake --build "$build" -j "$jobs" --target netstack-bench >/dev/null
prog=$build/bench/netstack-bench

if [ -n "${NS_CALLGRIND_ROWS:-}" ]; then
	read -r -a rows <<<"$NS_CALLGRIND_ROWS"
else
	mapfile -t rows < <(valgrind -q --tool=none "$prog" --list)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "==> ${#rows[@]} rows, $ops operations each after $warmup warm-up ones"
printf '%-30s %16s %14s\n' row instructions/op allocs/op
results=()
failed=0
for w in "${rows[@]}"; do
	cg=$tmp/$w.callgrind
	if ! valgrind -q --tool=callgrind --toggle-collect=bench_run_ops --callgrind-out-file="$cg" \
		"$prog" --ops "$ops" --warmup-ops "$warmup" "$w" >"$tmp/$w.json" 2>"$tmp/$w.err"; then
		cat "$tmp/$w.err" >&2
		echo "callgrind.sh: $w: netstack-bench failed" >&2
		exit 1
	fi
	line=$(cat "$tmp/$w.json")
	total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$cg")
	[ -n "$total" ] || total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$cg")
	check=$(sed -n 's/.*"check":"\([^"]*\)".*/\1/p' <<<"$line")
	allocs=$(sed -n 's/.*"allocs_per_op":\([0-9.]*\).*/\1/p' <<<"$line")
	err=$(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' <<<"$line")
	per=$(awk -v t="$total" -v n="$ops" 'BEGIN { printf "%.2f", t / n }')
	if [ -n "$err" ]; then
		printf '%-30s %16s %14s   FAILED: %s\n' "$w" FAIL "$allocs" "$err"
		failed=1
		errjson="\"$err\""
	else
		printf '%-30s %16s %14s\n' "$w" "$per" "$allocs"
		errjson=null
	fi
	results+=("    {\"workload\": \"$w\", \"instructions_per_op\": $per, \"instructions\": $total, \"allocs_per_op\": $allocs, \"check\": \"$check\", \"error\": $errjson}")
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src include bench 2>/dev/null | grep -q . && echo true || echo false)
{
	printf '{\n  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '  "commit": "%s",\n  "tree_modified": %s,\n' "$commit" "$dirty"
	printf '  "valgrind": "%s",\n  "cc": "%s",\n' "$(valgrind --version)" "$(cc --version | head -1)"
	printf '  "ops": %s,\n  "warmup_ops": %s,\n  "event": "Ir (instructions executed inside bench_run_ops)",\n' "$ops" "$warmup"
	printf '  "rows": [\n'
	for ((i = 0; i < ${#results[@]}; i++)); do
		printf '%s%s\n' "${results[i]}" "$([ $i -lt $((${#results[@]} - 1)) ] && echo ,)"
	done
	printf '  ]\n}\n'
} >"$out"
echo "wrote ${out#"$root"/}"
exit $failed
