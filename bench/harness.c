/*
 * Timing, statistics, allocation counting and JSON output for the C
 * benchmark programs. See harness.h for the command line.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Allocation counting: this executable's malloc family interposes on libc's
 * for the whole process (shared libraries such as liblwip included) and
 * forwards to glibc's implementation. The counter is process-global, which
 * is fine for a single-threaded benchmark program and never reaches the
 * library. The interposers must be visible outside the executable (the
 * build hides symbols by default) or libraries would keep calling libc's.
 */
#define INTERPOSE __attribute__((visibility("default")))
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

static uint64_t alloc_count;

static void count_alloc(void)
{
        __atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED);
}

INTERPOSE void *malloc(size_t size)
{
        count_alloc();
        return __libc_malloc(size);
}

INTERPOSE void *calloc(size_t n, size_t size)
{
        count_alloc();
        return __libc_calloc(n, size);
}

INTERPOSE void *realloc(void *p, size_t size)
{
        count_alloc();
        return __libc_realloc(p, size);
}

INTERPOSE void *aligned_alloc(size_t align, size_t size)
{
        count_alloc();
        return __libc_memalign(align, size);
}

INTERPOSE int posix_memalign(void **out, size_t align, size_t size)
{
        count_alloc();
        void *p = __libc_memalign(align, size);
        if (!p)
                return 12; /* ENOMEM */
        *out = p;
        return 0;
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double env_double(const char *name, double dflt)
{
        const char *s = getenv(name);
        if (!s || !*s)
                return dflt;
        double v = strtod(s, NULL);
        return v > 0 ? v : dflt;
}

void bench_fill(uint8_t *p, size_t len)
{
        uint64_t state = BENCH_DATA_SEED;
        for (size_t i = 0; i < len; i += 8) {
                state += 0x9e3779b97f4a7c15ull;
                uint64_t z = state;
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                z ^= z >> 31;
                for (size_t j = 0; j < 8 && i + j < len; j++)
                        p[i + j] = (uint8_t)(z >> (8 * j));
        }
}

uint8_t *bench_data(size_t len)
{
        size_t rounded = (len + 63) & ~(size_t)63;
        uint8_t *p = aligned_alloc(64, rounded ? rounded : 64);
        if (!p) {
                fprintf(stderr, "bench: out of memory\n");
                exit(1);
        }
        bench_fill(p, len);
        return p;
}

/* Results of every batch end here so that the work cannot be optimised away. */
static volatile uint64_t sink;

/*
 * Runs w for at least `seconds`, in batches sized so that one batch takes
 * about 10 ms, and returns nanoseconds per operation. *iters_out gets the
 * operation count.
 */
static double timed_run(const struct bench_workload *w, void *ctx, double seconds, uint64_t *batch,
                        uint64_t *iters_out)
{
        uint64_t budget = (uint64_t)(seconds * 1e9);
        uint64_t total = 0, start = now_ns(), elapsed = 0;
        do {
                uint64_t t0 = now_ns();
                sink += w->run(ctx, *batch);
                uint64_t dt = now_ns() - t0;
                total += *batch;
                if (dt < 5000000u && *batch < (UINT64_C(1) << 40))
                        *batch *= 2;
                elapsed = now_ns() - start;
        } while (elapsed < budget);
        *iters_out = total;
        return (double)elapsed / (double)total;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static void run_workload(const char *stack, const struct bench_workload *w, int reps,
                         double seconds, double warmup)
{
        void *ctx = w->setup ? w->setup() : NULL;
        if (w->setup && !ctx) {
                fprintf(stderr, "bench: %s: setup of %s failed\n", stack, w->name);
                exit(1);
        }
        uint64_t batch = 1, iters = 0;
        timed_run(w, ctx, warmup, &batch, &iters);
        double ns[64];
        uint64_t allocs = 0, all_iters = 0;
        for (int r = 0; r < reps; r++) {
                uint64_t a0 = __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
                ns[r] = timed_run(w, ctx, seconds, &batch, &iters);
                allocs += __atomic_load_n(&alloc_count, __ATOMIC_RELAXED) - a0;
                all_iters += iters;
        }
        uint64_t check = w->check ? w->check(ctx) : 0;
        if (w->teardown)
                w->teardown(ctx);
        qsort(ns, (size_t)reps, sizeof(ns[0]), cmp_double);
        double median = reps & 1 ? ns[reps / 2] : (ns[reps / 2 - 1] + ns[reps / 2]) / 2;
        printf("{\"stack\":\"%s\",\"workload\":\"%s\",\"reps\":%d,\"seconds_per_rep\":%.3f,"
               "\"ns_per_op_median\":%.4f,\"ns_per_op_min\":%.4f,\"ns_per_op_max\":%.4f,"
               "\"bytes_per_op\":%zu,",
               stack, w->name, reps, seconds, median, ns[0], ns[reps - 1], w->bytes_per_op);
        if (w->bytes_per_op)
                printf("\"gb_per_s\":%.3f,", (double)w->bytes_per_op / median);
        else
                printf("\"gb_per_s\":null,");
        printf("\"allocs_per_op\":%.4f,\"check\":\"0x%llx\"}\n", (double)allocs / (double)all_iters,
               (unsigned long long)check);
        fflush(stdout);
}

static void usage(const char *stack)
{
        fprintf(stderr,
                "usage: %s-bench --list | [--reps N] [--seconds S] WORKLOAD...\n"
                "env: NS_BENCH_REPS, NS_BENCH_SECONDS, NS_BENCH_WARMUP_SECONDS\n",
                stack);
}

int bench_main(const char *stack, const struct bench_workload *workloads, size_t n, int argc,
               char **argv)
{
        int reps = (int)env_double("NS_BENCH_REPS", 5);
        double seconds = env_double("NS_BENCH_SECONDS", 1.0);
        double warmup = env_double("NS_BENCH_WARMUP_SECONDS", 0.2);
        int first = 1;
        for (; first < argc && argv[first][0] == '-'; first++) {
                if (!strcmp(argv[first], "--list")) {
                        for (size_t i = 0; i < n; i++)
                                printf("%s\n", workloads[i].name);
                        return 0;
                } else if (!strcmp(argv[first], "--reps") && first + 1 < argc) {
                        reps = atoi(argv[++first]);
                } else if (!strcmp(argv[first], "--seconds") && first + 1 < argc) {
                        seconds = strtod(argv[++first], NULL);
                } else {
                        usage(stack);
                        return 2;
                }
        }
        if (first == argc || reps < 1 || reps > 64 || !(seconds > 0)) {
                usage(stack);
                return 2;
        }
        for (int a = first; a < argc; a++) {
                size_t i = 0;
                while (i < n && strcmp(workloads[i].name, argv[a]))
                        i++;
                if (i == n) {
                        fprintf(stderr, "%s-bench: unknown workload '%s'\n", stack, argv[a]);
                        return 2;
                }
                run_workload(stack, &workloads[i], reps, seconds, warmup);
        }
        return 0;
}
