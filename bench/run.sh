#!/usr/bin/env bash
# Runs the benchmark rows on netstack-c, gVisor's netstack and lwIP,
# alternating between the stacks (A B C A B C ...) one repetition at a time,
# then prints a table of medians with speedups (peer ns/op / our ns/op) and
# writes bench/results/latest.json and bench/results/latest.md.
#
# Environment:
#   NS_BENCH_REPS=5            repetitions per row and stack
#   NS_BENCH_SECONDS=1         timed seconds per repetition (after warm-up)
#   NS_BENCH_WARMUP_SECONDS=0.2
#   NS_BENCH_QUICK=1           3 repetitions of 0.2 s: a smoke run, not for the README
#   NS_BENCH_WORKLOADS="..."   rows to run (default: every row any stack has)
#   NS_BENCH_BUILD_DIR=build/bench
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "${NS_BENCH_QUICK:-0}" = 1 ]; then
	: "${NS_BENCH_REPS:=3}" "${NS_BENCH_SECONDS:=0.2}" "${NS_BENCH_WARMUP_SECONDS:=0.05}"
fi
reps=${NS_BENCH_REPS:-5}
seconds=${NS_BENCH_SECONDS:-1}
export NS_BENCH_SECONDS=$seconds NS_BENCH_WARMUP_SECONDS=${NS_BENCH_WARMUP_SECONDS:-0.2}
build=${NS_BENCH_BUILD_DIR:-build/bench}
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2
results=$root/bench/results
mkdir -p "$results" "$build"

echo "==> building the C benchmarks (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNS_BUILD_BENCH=ON -DNS_BUILD_TESTS=OFF \
	-DCMAKE_C_FLAGS="${NS_BENCH_CFLAGS:-}" >/dev/null
cmake --build "$build" -j "$jobs" --target netstack-bench lwip-bench >/dev/null

stacks=("netstack-c=$build/bench/netstack-bench")
if command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/gvisor.dev/gvisor ]; then
	echo "==> building the gVisor benchmark"
	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$root/$build/gocache GOFLAGS= \
		go build -o "$build/gvisor-bench" ./bench/gvisor
	stacks+=("gvisor=$build/gvisor-bench")
else
	echo "run.sh: go or golang-gvisor-gvisor-dev missing; skipping gVisor" >&2
fi
if [ -x "$build/bench/lwip-bench" ]; then
	stacks+=("lwip=$build/bench/lwip-bench")
else
	echo "run.sh: liblwip-dev missing; skipping lwIP" >&2
fi

# Rows: the requested ones, or every row any stack lists (netstack-c's first).
declare -A has
all=()
for s in "${stacks[@]}"; do
	name=${s%%=*} prog=${s#*=}
	for w in $("$prog" --list); do
		has[$name/$w]=1
		case " ${all[*]} " in *" $w "*) ;; *) all+=("$w") ;; esac
	done
done
if [ -n "${NS_BENCH_WORKLOADS:-}" ]; then
	read -r -a all <<<"$NS_BENCH_WORKLOADS"
fi

samples=$build/samples.jsonl
: >"$samples"
echo "==> ${#all[@]} rows x ${#stacks[@]} stacks x $reps repetitions of ${seconds}s: ${all[*]}"
for ((r = 1; r <= reps; r++)); do
	for s in "${stacks[@]}"; do
		name=${s%%=*} prog=${s#*=}
		mine=()
		for w in "${all[@]}"; do
			[ -n "${has[$name/$w]:-}" ] && mine+=("$w")
		done
		[ ${#mine[@]} -eq 0 ] && continue
		"$prog" --reps 1 "${mine[@]}" >>"$samples"
	done
	echo "    repetition $r/$reps done"
done

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
ncpu=$(nproc 2>/dev/null || echo "?")
kernel=$(uname -r)
ccver=$(cc --version 2>/dev/null | head -1)
gover=$(go version 2>/dev/null | awk '{print $3}' || true)
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)

awk -v rows="${all[*]}" -v reps="$reps" -v secs="$seconds" -v cpu="$cpu" -v ncpu="$ncpu" \
	-v kernel="$kernel" -v cc="$ccver" -v gover="$gover" -v lwipver="$(pkgver liblwip-dev)" \
	-v gvver="$(pkgver golang-gvisor-gvisor-dev)" -v date="$date" \
	-v json="$results/latest.json" -v md="$results/latest.md" '
function field(line, key,    m) {
	if (match(line, "\"" key "\":\"[^\"]*\"")) {
		m = substr(line, RSTART + length(key) + 4, RLENGTH - length(key) - 5)
		return m
	}
	if (match(line, "\"" key "\":[^,}]*")) return substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
	return ""
}
function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
# Rate of one row at ns ns/op: GB/s for checksums, Gbit/s for datagrams, Mpps for
# packets, both Mpps and Gbit/s (of IPv4 packet) for a forward row with a size.
function packets(w, b) { return !b || w ~ /^forward/ }
function rate(w, b, ns) {
	if (w ~ /^csum/) return sprintf("%.2f GB/s", b / ns)
	if (b && packets(w, b)) return sprintf("%.2f Mpps, %.2f Gbit/s", 1000 / ns, 8 * b / ns)
	if (b) return sprintf("%.2f Gbit/s", 8 * b / ns)
	return sprintf("%.2f Mpps", 1000 / ns)
}
{
	k = field($0, "stack") SUBSEP field($0, "workload")
	n[k]++
	v[k, n[k]] = field($0, "ns_per_op_median") + 0
	bytes[k] = field($0, "bytes_per_op") + 0
	allocs[k] += field($0, "allocs_per_op") + 0
	chk[k] = field($0, "check")
	e = field($0, "error")
	if (e != "" && err[k] == "") err[k] = e
}
END {
	nst = split("netstack-c gvisor lwip", st, " ")
	label["netstack-c"] = "netstack-c"; label["gvisor"] = "gVisor"; label["lwip"] = "lwIP"
	nrow = split(rows, row, " ")
	for (key in n) {
		c = n[key]
		for (i = 1; i <= c; i++) s[i] = v[key, i]
		for (i = 2; i <= c; i++) { x = s[i]; for (j = i - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]; s[j + 1] = x }
		med[key] = (c % 2) ? s[(c + 1) / 2] : (s[c / 2] + s[c / 2 + 1]) / 2
		mn[key] = s[1]; mx[key] = s[c]
	}
	hdr = sprintf("%-28s", "row")
	for (t = 1; t <= nst; t++) hdr = hdr sprintf(" | %17s %13s %6s", label[st[t]] " ns/op", "rate", "allocs")
	hdr = hdr sprintf(" | %9s %9s", "vs gVisor", "vs lwIP")
	print ""; print hdr
	print "| row | netstack-c ns/op (min-max) | rate | allocs/op | gVisor ns/op (min-max) | rate | allocs/op | lwIP ns/op (min-max) | rate | allocs/op | netstack-c speedup vs gVisor | vs lwIP |" > md
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" > md
	printf "{\n  \"date\": \"%s\",\n  \"machine\": {\"cpu\": \"%s\", \"cpus\": %s, \"kernel\": \"%s\", \"cc\": \"%s\", \"go\": \"%s\", \"liblwip-dev\": \"%s\", \"golang-gvisor-gvisor-dev\": \"%s\"},\n  \"reps\": %d,\n  \"seconds_per_rep\": %s,\n  \"rows\": [", date, esc(cpu), ncpu, esc(kernel), esc(cc), esc(gover), lwipver, gvver, reps, secs > json
	nfail = 0
	for (r = 1; r <= nrow; r++) {
		w = row[r]; line = sprintf("%-28s", w); mdl = "| " w
		agree = "true"; first = ""
		printf "%s\n    {\"workload\": \"%s\", \"results\": {", (r > 1 ? "," : ""), w > json
		sep = ""
		for (t = 1; t <= nst; t++) {
			key = st[t] SUBSEP w
			if (!(key in n)) { line = line sprintf(" | %17s %13s %6s", "-", "-", "-"); mdl = mdl " | - | - | -"; continue }
			if (err[key] != "") {
				line = line sprintf(" | %17s %13s %6s", "FAIL", "-", "-"); mdl = mdl " | FAIL | - | -"
				failed[++nfail] = label[st[t]] " " w ": " err[key]
			} else {
				rt = rate(w, bytes[key], med[key])
				line = line sprintf(" | %17.2f %13s %6.2f", med[key], rt, allocs[key] / n[key])
				mdl = mdl sprintf(" | %.2f (%.2f-%.2f) | %s | %.2f", med[key], mn[key], mx[key], rt, allocs[key] / n[key])
				if (first == "") first = chk[key]; else if (chk[key] != first) agree = "false"
			}
			printf "%s\n      \"%s\": {\"ns_per_op_median\": %.4f, \"ns_per_op_min\": %.4f, \"ns_per_op_max\": %.4f, \"samples\": %d, \"bytes_per_op\": %d, \"gb_per_s\": %s, \"mpps\": %s, \"allocs_per_op\": %.4f, \"check\": \"%s\", \"error\": %s}", sep, st[t], med[key], mn[key], mx[key], n[key], bytes[key], (bytes[key] ? sprintf("%.4f", bytes[key] / med[key]) : "null"), (packets(w, bytes[key]) ? sprintf("%.4f", 1000 / med[key]) : "null"), allocs[key] / n[key], chk[key], (err[key] == "" ? "null" : "\"" esc(err[key]) "\"") > json
			sep = ","
		}
		ours = "netstack-c" SUBSEP w
		for (t = 2; t <= nst; t++) {
			key = st[t] SUBSEP w
			if ((ours in n) && (key in n) && err[ours] == "" && err[key] == "") { ratio[t] = sprintf("%.2f", med[key] / med[ours]); disp[t] = ratio[t] "x" }
			else { ratio[t] = "null"; disp[t] = "-" }
		}
		line = line sprintf(" | %9s %9s", disp[2], disp[3])
		mdl = mdl sprintf(" | %s | %s |", disp[2], disp[3])
		if (agree == "false") line = line "   CHECK MISMATCH: stacks computed different results"
		print line; print mdl > md
		printf "\n    }, \"speedup_vs_gvisor\": %s, \"speedup_vs_lwip\": %s, \"checks_agree\": %s}", ratio[2], ratio[3], agree > json
	}
	printf "\n  ]\n}\n" > json
	print ""
	for (i = 1; i <= nfail; i++) print "FAILED: " failed[i]
	printf "machine: %s (%s CPUs), %s; %d reps x %ss per stack, stacks alternated\n", cpu, ncpu, kernel, reps, secs
	printf "speedup = peer ns/op / netstack-c ns/op; rate: GB/s (checksum), Gbit/s of UDP datagram (reassembly, tx-fragment), Mpps (packets; forward-1500 also Gbit/s of IPv4 packet)\n"
	printf "\n%s (%s CPUs), %d repetitions of %ss per row and stack, alternated; medians (min-max over repetitions).\n", cpu, ncpu, reps, secs > md
	for (i = 1; i <= nfail; i++) print "\nFAILED: " failed[i] > md
}' "$samples"
echo "wrote bench/results/latest.json and bench/results/latest.md"
# The picture of the same numbers (README): bench/results/latest.svg.
if command -v gnuplot >/dev/null; then
	"$(dirname "$0")/chart.sh" "$results/latest.json" "$results/latest.svg"
else
	echo "no gnuplot: bench/results/latest.svg not drawn (scripts/deps.sh bench installs it)"
fi
