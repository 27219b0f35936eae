#!/usr/bin/env bash
# examples/replay_stats.c, as built in this tree (so the sanitizer tree
# checks it too), on the bundled capture: no device and no privilege. The
# capture's five echo requests must move icmp.sent_echo_reply by five, and
# two runs must print the same thing (manual clock, seeded RNG).
# Usage: test_example_replay_stats.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: test_example_replay_stats.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
bin="$build/examples/replay_stats"
[ -x "$bin" ] || { echo "FAIL: $bin is not built"; exit 1; }
out1=$("$bin" "$src/tests/data/demo.pcap" 192.0.2.2/24)
out2=$("$bin" "$src/tests/data/demo.pcap" 192.0.2.2/24)
printf '%s\n' "$out1"
grep -Eq '^  icmp\.sent_echo_reply +5 +OutEchoReps$' <<<"$out1" ||
	{ echo "FAIL: icmp.sent_echo_reply did not move by 5"; exit 1; }
grep -Eq '^  ip\.reasm_oks +[1-9]' <<<"$out1" || { echo "FAIL: no reassembly counted"; exit 1; }
[ "$out1" = "$out2" ] || { echo "FAIL: two replays of one capture differ"; exit 1; }
if "$bin" 2>/dev/null; then echo "FAIL: no arguments accepted"; exit 1; fi
echo "ok: examples/replay_stats replayed the bundled capture, deterministically"
