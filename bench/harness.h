/*
 * Benchmark harness shared by the C stacks (netstack-c, lwIP).
 *
 * Every stack's program has the same command line and output, so that
 * run.sh can alternate between them and compare rows by name:
 *
 *   prog --list                  workload names this stack supports
 *   prog [--reps N] [--seconds S] WORKLOAD...
 *
 * and prints one JSON object per workload on its own line (see
 * bench/README.md for the keys). Defaults come from NS_BENCH_REPS (5),
 * NS_BENCH_SECONDS (1.0) and NS_BENCH_WARMUP_SECONDS (0.2).
 */
#ifndef NS_BENCH_HARNESS_H
#define NS_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

struct bench_workload {
        /* Row name, shared by all stacks: "csum-20", "rx-udp", ... */
        const char *name;
        /* Payload bytes one operation processes, for GB/s; 0 if it does not apply. */
        size_t bytes_per_op;
        /* Builds the workload's state; returns NULL on failure. May be NULL. */
        void *(*setup)(void);
        /*
         * Runs the operation `iters` times and returns something derived from
         * every result, so the compiler cannot drop the work.
         */
        uint64_t (*run)(void *ctx, uint64_t iters);
        /*
         * The result of one operation as a number every stack computes the
         * same way (a checksum field in host order, a delivered byte count),
         * printed as "check" so run.sh can tell that stacks agree.
         */
        uint64_t (*check)(void *ctx);
        void (*teardown)(void *ctx);
};

/* Runs the command line above over `workloads`. Returns the exit status. */
int bench_main(const char *stack, const struct bench_workload *workloads, size_t n, int argc,
               char **argv);

/*
 * Fills p with the shared test bytes: byte i of the SplitMix64 stream seeded
 * with BENCH_DATA_SEED, eight little-endian bytes per step. bench/gvisor
 * produces the same bytes.
 */
#define BENCH_DATA_SEED 0x6e6574737461636bull
void bench_fill(uint8_t *p, size_t len);

/* Allocates len bytes aligned to 64, filled by bench_fill(); exits on failure. */
uint8_t *bench_data(size_t len);

/* Keeps a value alive and stops the compiler from hoisting loads across it. */
static inline void bench_keep(const void *p)
{
        __asm__ volatile("" : : "r"(p) : "memory");
}

#endif
