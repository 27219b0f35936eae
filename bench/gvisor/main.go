// Command gvisor-bench times gVisor's netstack (Debian's
// golang-gvisor-gvisor-dev) on the same rows, with the same command line and
// JSON output, as bench/harness.c:
//
//	gvisor-bench --list
//	gvisor-bench [--reps N] [--seconds S] WORKLOAD...
//
// Defaults come from NS_BENCH_REPS, NS_BENCH_SECONDS and
// NS_BENCH_WARMUP_SECONDS. Allocations per operation are counted with
// runtime.MemStats.Mallocs around the timed repetitions.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
)

// dataSeed matches BENCH_DATA_SEED in bench/harness.h.
const dataSeed uint64 = 0x6e6574737461636b

// benchData returns the shared test bytes: SplitMix64 output, eight
// little-endian bytes per step, as bench_fill() makes them.
func benchData(n int) []byte {
	b := make([]byte, n)
	state := dataSeed
	for i := 0; i < n; i += 8 {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(z >> (8 * j))
		}
	}
	return b
}

type workload struct {
	name       string
	bytesPerOp int
	// setup returns the operation to time (run iters times, returning a
	// value derived from every result) and a check, called after the timed
	// repetitions, that runs one more operation, verifies it and the
	// counters (calling fail on a mismatch) and returns the value every
	// stack computes alike.
	setup func() (run func(iters uint64) uint64, check func() uint64)
}

// csum times checksum.Checksum, which header.IPv4.CalculateChecksum and
// the transport checksums are built on; the field is its complement.
func csum(n int) func() (func(uint64) uint64, func() uint64) {
	return func() (func(uint64) uint64, func() uint64) {
		buf := benchData(n)
		run := func(iters uint64) uint64 {
			var acc uint64
			for i := uint64(0); i < iters; i++ {
				acc += uint64(^checksum.Checksum(buf, 0))
			}
			return acc
		}
		return run, func() uint64 { return uint64(^checksum.Checksum(buf, 0)) }
	}
}

var workloads = []workload{
	{"csum-20", 20, csum(20)},
	{"csum-1500", 1500, csum(1500)},
	{"csum-64k", 65536, csum(65536)},
	{"rx-udp", 0, rxUDP(false)},
	{"rx-icmp-echo", 0, rxEcho},
	{"forward", 0, forward(benchUDPLen)},
	{"forward-1500", benchFwdBig, forward(benchFwdBig - 28)},
	{"rx-invalid", 0, rxUDP(true)},
	{"rx-reassembly-65000", 65000, reasm(65000, 1480, inOrder)},
	{"rx-reassembly-65000-reversed", 65000, reasm(65000, 1480, reversed)},
	{"rx-reassembly-14792", 14792, reasm(14792, 1480, inOrder)},
	{"rx-reassembly-tiny", 4000, reasm(4000, 8, shuffled)},
	{"tx-fragment", 65000, txFragment},
}

// failMsg is the first failure a row's check reported; the row's JSON line
// carries it as "error".
var failMsg string

func fail(format string, args ...interface{}) {
	if failMsg == "" {
		failMsg = fmt.Sprintf(format, args...)
	}
}

func expectCount(what string, got, want uint64) {
	if got != want {
		fail("%s is %d, want %d", what, got, want)
	}
}

// sink receives every batch's result so that the work cannot be optimised away.
var sink uint64

func envFloat(name string, dflt float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return dflt
}

// timedRun runs for at least d in batches of about 5-10 ms and returns
// nanoseconds per operation and the operation count.
func timedRun(run func(uint64) uint64, d time.Duration, batch *uint64) (float64, uint64) {
	var total uint64
	start := time.Now()
	for {
		t0 := time.Now()
		sink += run(*batch)
		dt := time.Since(t0)
		total += *batch
		if dt < 5*time.Millisecond && *batch < 1<<40 {
			*batch *= 2
		}
		if time.Since(start) >= d {
			return float64(time.Since(start).Nanoseconds()) / float64(total), total
		}
	}
}

func runWorkload(w workload, reps int, seconds, warmup float64) {
	failMsg = ""
	run, checkFn := w.setup()
	batch := uint64(1)
	timedRun(run, time.Duration(warmup*1e9), &batch)
	ns := make([]float64, reps)
	var allIters, allocs uint64
	var before, after runtime.MemStats
	for r := 0; r < reps; r++ {
		runtime.ReadMemStats(&before)
		var iters uint64
		ns[r], iters = timedRun(run, time.Duration(seconds*1e9), &batch)
		runtime.ReadMemStats(&after)
		allocs += after.Mallocs - before.Mallocs
		allIters += iters
	}
	check := checkFn()
	sort.Float64s(ns)
	median := ns[reps/2]
	if reps%2 == 0 {
		median = (ns[reps/2-1] + ns[reps/2]) / 2
	}
	gbps := "null"
	if w.bytesPerOp > 0 {
		gbps = fmt.Sprintf("%.3f", float64(w.bytesPerOp)/median)
	}
	fmt.Printf("{\"stack\":\"gvisor\",\"workload\":\"%s\",\"reps\":%d,\"seconds_per_rep\":%.3f,"+
		"\"ns_per_op_median\":%.4f,\"ns_per_op_min\":%.4f,\"ns_per_op_max\":%.4f,"+
		"\"bytes_per_op\":%d,\"gb_per_s\":%s,\"allocs_per_op\":%.4f,\"check\":\"0x%x\"",
		w.name, reps, seconds, median, ns[0], ns[reps-1], w.bytesPerOp, gbps,
		float64(allocs)/float64(allIters), check)
	if failMsg != "" {
		msg := strings.NewReplacer("\"", "'", "\\", "'").Replace(failMsg)
		fmt.Printf(",\"error\":\"%s\"", msg)
		fmt.Fprintf(os.Stderr, "gvisor-bench: %s: FAILED: %s\n", w.name, msg)
	}
	fmt.Printf("}\n")
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gvisor-bench --list | [--reps N] [--seconds S] WORKLOAD...")
	os.Exit(2)
}

func main() {
	reps := int(envFloat("NS_BENCH_REPS", 5))
	seconds := envFloat("NS_BENCH_SECONDS", 1)
	warmup := envFloat("NS_BENCH_WARMUP_SECONDS", 0.2)
	args := os.Args[1:]
	for len(args) > 0 && len(args[0]) > 0 && args[0][0] == '-' {
		switch {
		case args[0] == "--list":
			for _, w := range workloads {
				fmt.Println(w.name)
			}
			return
		case args[0] == "--reps" && len(args) > 1:
			v, err := strconv.Atoi(args[1])
			if err != nil {
				usage()
			}
			reps = v
			args = args[1:]
		case args[0] == "--seconds" && len(args) > 1:
			v, err := strconv.ParseFloat(args[1], 64)
			if err != nil {
				usage()
			}
			seconds = v
			args = args[1:]
		default:
			usage()
		}
		args = args[1:]
	}
	if len(args) == 0 || reps < 1 || reps > 64 || seconds <= 0 {
		usage()
	}
	for _, name := range args {
		found := false
		for _, w := range workloads {
			if w.name == name {
				runWorkload(w, reps, seconds, warmup)
				found = true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "gvisor-bench: unknown workload '%s'\n", name)
			os.Exit(2)
		}
	}
}
