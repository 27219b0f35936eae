/*
 * Timing, statistics, allocation counting and JSON output for the C
 * benchmark programs. See harness.h for the command line.
 */
#include "harness.h"

#include <stdarg.h>
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

uint16_t bench_csum(const void *p, size_t len, uint32_t seed)
{
        const uint8_t *b = p;
        uint64_t sum = seed;
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)b[i] << 8 | b[i + 1];
        if (len & 1)
                sum += (uint32_t)b[len - 1] << 8;
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
        put16(p, v >> 16);
        put16(p + 2, v);
}

void bench_ipv4_hdr(uint8_t *h, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                    uint16_t frag, size_t payload_len)
{
        h[0] = 0x45;
        h[1] = 0;
        put16(h + 2, (uint32_t)(20 + payload_len));
        put16(h + 4, id);
        put16(h + 6, frag);
        h[8] = 64;
        h[9] = proto;
        put16(h + 10, 0);
        put32(h + 12, src);
        put32(h + 16, dst);
        put16(h + 10, bench_csum(h, 20, 0));
}

size_t bench_udp(uint8_t *u, uint32_t src, uint32_t dst, size_t payload_len)
{
        size_t len = 8 + payload_len;
        put16(u, BENCH_SPORT);
        put16(u + 2, BENCH_DPORT);
        put16(u + 4, (uint32_t)len);
        put16(u + 6, 0);
        bench_fill(u + 8, payload_len);
        uint32_t pseudo =
            (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + (uint32_t)len;
        uint16_t c = bench_csum(u, len, pseudo);
        put16(u + 6, c ? c : 0xffff);
        return len;
}

size_t bench_ipv4_udp(uint8_t *buf, uint32_t src, uint32_t dst, size_t payload_len)
{
        size_t ulen = bench_udp(buf + 20, src, dst, payload_len);
        bench_ipv4_hdr(buf, src, dst, 17, 1, 0, ulen);
        return 20 + ulen;
}

size_t bench_icmp_echo(uint8_t *buf)
{
        uint8_t *m = buf + 20;
        m[0] = 8;
        m[1] = 0;
        put16(m + 2, 0);
        put16(m + 4, BENCH_ECHO_ID);
        put16(m + 6, 1);
        bench_fill(m + 8, BENCH_ECHO_LEN);
        put16(m + 2, bench_csum(m, 8 + BENCH_ECHO_LEN, 0));
        bench_ipv4_hdr(buf, BENCH_PEER, BENCH_US, 1, 1, 0, 8 + BENCH_ECHO_LEN);
        return 20 + 8 + BENCH_ECHO_LEN;
}

void bench_frags_make(struct bench_frags *f, size_t udp_len, size_t piece, enum bench_order order)
{
        uint8_t *d = malloc(udp_len);
        if (!d || udp_len < 8 || piece % 8) {
                fprintf(stderr, "bench: bad fragment shape\n");
                exit(1);
        }
        bench_udp(d, BENCH_PEER, BENCH_US, udp_len - 8);
        memset(f, 0, sizeof(*f));
        for (size_t off = 0; off < udp_len; off += piece) {
                size_t pl = udp_len - off < piece ? udp_len - off : piece;
                uint8_t *w = malloc(20 + pl);
                if (!w || f->n == BENCH_MAX_FRAGS) {
                        fprintf(stderr, "bench: too many fragments\n");
                        exit(1);
                }
                uint16_t frag = (uint16_t)((off + pl < udp_len ? 0x2000 : 0) | off / 8);
                bench_ipv4_hdr(w, BENCH_PEER, BENCH_US, 17, 0, frag, pl);
                memcpy(w + 20, d + off, pl);
                f->wire[f->n] = w;
                f->len[f->n++] = (uint32_t)(20 + pl);
        }
        free(d);
        uint64_t x = 0x2545f4914f6cdd1dull;
        for (uint32_t i = f->n - 1; order != BENCH_IN_ORDER && i > 0; i--) {
                uint32_t j;
                if (order == BENCH_SHUFFLED) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        j = (uint32_t)(x % (i + 1));
                } else {
                        if (i < f->n - 1 - i)
                                break;
                        j = f->n - 1 - i;
                }
                uint8_t *w = f->wire[i];
                uint32_t l = f->len[i];
                f->wire[i] = f->wire[j];
                f->len[i] = f->len[j];
                f->wire[j] = w;
                f->len[j] = l;
        }
}

void bench_frags_next_id(struct bench_frags *f)
{
        f->id++;
        for (uint32_t i = 0; i < f->n; i++) {
                uint8_t *h = f->wire[i];
                put16(h + 4, f->id);
                put16(h + 10, 0);
                put16(h + 10, bench_csum(h, 20, 0));
        }
}

void bench_frags_free(struct bench_frags *f)
{
        for (uint32_t i = 0; i < f->n; i++)
                free(f->wire[i]);
        f->n = 0;
}

uint64_t bench_fnv(uint64_t h, const void *p, size_t len)
{
        const uint8_t *b = p;
        for (size_t i = 0; i < len; i++)
                h = (h ^ b[i]) * 0x100000001b3ull;
        return h;
}

static char fail_msg[256];

void bench_fail(const char *fmt, ...)
{
        if (fail_msg[0])
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
        va_end(ap);
        if (!fail_msg[0])
                fail_msg[0] = '?';
}

/*
 * Checks one reply against the request: an IPv4 header with a valid checksum
 * from US to PEER, then an echo reply with the request's id, sequence and
 * data and a valid checksum. Returns the hash of the ICMP message.
 */
uint64_t bench_check_echo_reply(const uint8_t *r, size_t len, const uint8_t *req)
{
        if (len != 84 || r[0] != 0x45 || bench_csum(r, 20, 0) != 0 || r[9] != 1 ||
            memcmp(r + 12, req + 16, 4) || memcmp(r + 16, req + 12, 4))
                bench_fail("echo reply has a bad IPv4 header");
        else if (r[20] != 0 || r[21] != 0 || bench_csum(r + 20, 64, 0) != 0 ||
                 memcmp(r + 24, req + 24, 60))
                bench_fail("echo reply has a bad ICMP message");
        return bench_fnv(BENCH_FNV_INIT, r + 20, len > 20 ? len - 20 : 0);
}

/* The packet out must be the packet in with TTL 63 and a valid header checksum. */
uint64_t bench_check_forwarded(const uint8_t *r, size_t len, const uint8_t *in, size_t in_len)
{
        if (len != in_len || r[8] != in[8] - 1 || bench_csum(r, 20, 0) != 0 || memcmp(r, in, 8) ||
            memcmp(r + 9, in + 9, 1) || memcmp(r + 12, in + 12, len - 12))
                bench_fail("forwarded packet differs from the input beyond TTL and checksum");
        return bench_fnv(BENCH_FNV_INIT, r, len);
}

/*
 * Checks a datagram's fragments (at most 1500 bytes, valid header checksums,
 * one ID, offsets that tile 65000 bytes) and returns the hash of the
 * reassembled UDP datagram, which every stack must build alike.
 */
uint64_t bench_check_tx_frags(const uint8_t *const *frag, const size_t *len, uint32_t n)
{
        static uint8_t dgram[65536];
        uint8_t first[8];
        bench_fill(first, sizeof(first));
        static uint8_t seen[65536 / 8];
        memset(seen, 0, sizeof(seen));
        size_t total = 0;
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *h = frag[i];
                size_t off = (size_t)((h[6] & 0x1f) << 8 | h[7]) * 8, pl = len[i] - 20;
                if (len[i] > 1500 || len[i] < 28 || h[0] != 0x45 || bench_csum(h, 20, 0) ||
                    memcmp(h + 4, frag[0] + 4, 2) || off + pl > 65000 || h[9] != 17 ||
                    (size_t)(h[2] << 8 | h[3]) != len[i]) {
                        bench_fail("bad fragment %u", i);
                        return 0;
                }
                if (!(h[6] & 0x20))
                        total = off + pl;
                memcpy(dgram + off, h + 20, pl);
                for (size_t b = off / 8; b < (off + pl + 7) / 8; b++)
                        seen[b]++;
        }
        for (size_t b = 0; b < 65000 / 8; b++)
                if (seen[b] != 1)
                        bench_fail("fragments do not tile the datagram at %zu", b * 8);
        if (total != 65000)
                bench_fail("fragments carry %zu bytes, want 65000", total);
        uint32_t pseudo = (BENCH_US >> 16) + (BENCH_US & 0xffff) + (BENCH_PEER >> 16) +
                          (BENCH_PEER & 0xffff) + 17 + 65000;
        if (bench_csum(dgram, 65000, pseudo) != 0 || memcmp(dgram + 8, first, 8))
                bench_fail("bad UDP datagram");
        return bench_fnv(BENCH_FNV_INIT, dgram, 65000);
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

/*
 * The measured part of an --ops run: exactly `ops` operations in one call.
 * Not inlined and not static, so that `valgrind --tool=callgrind
 * --toggle-collect=bench_run_ops` counts the instructions of these
 * operations and nothing else (bench/callgrind.sh).
 */
#if defined(__GNUC__) && !defined(__clang__)
/* ...and not cloned under another name (bench_run_ops.isra.0) either. */
#define BENCH_KEEP_NAME __attribute__((noinline, noipa))
#else
#define BENCH_KEEP_NAME __attribute__((noinline))
#endif
BENCH_KEEP_NAME uint64_t bench_run_ops(const struct bench_workload *w, void *ctx, uint64_t ops)
{
        uint64_t r = w->run(ctx, ops);
        bench_keep(&r);
        return r;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static void run_workload(const char *stack, const struct bench_workload *w, int reps,
                         double seconds, double warmup, uint64_t ops, uint64_t warmup_ops)
{
        fail_msg[0] = 0;
        void *ctx = w->setup ? w->setup() : NULL;
        if (w->setup && !ctx) {
                fprintf(stderr, "bench: %s: setup of %s failed\n", stack, w->name);
                exit(1);
        }
        uint64_t batch = 1, iters = 0;
        double ns[64];
        uint64_t allocs = 0, all_iters = 0;
        if (ops) {
                /* A fixed count: warm-up, then one measured call of exactly `ops`. */
                if (warmup_ops)
                        sink += w->run(ctx, warmup_ops);
                uint64_t a0 = __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
                uint64_t t0 = now_ns();
                sink += bench_run_ops(w, ctx, ops);
                uint64_t dt = now_ns() - t0;
                allocs = __atomic_load_n(&alloc_count, __ATOMIC_RELAXED) - a0;
                all_iters = ops;
                reps = 1;
                seconds = (double)dt / 1e9;
                ns[0] = (double)dt / (double)ops;
        } else {
                timed_run(w, ctx, warmup, &batch, &iters);
                for (int r = 0; r < reps; r++) {
                        uint64_t a0 = __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
                        ns[r] = timed_run(w, ctx, seconds, &batch, &iters);
                        allocs += __atomic_load_n(&alloc_count, __ATOMIC_RELAXED) - a0;
                        all_iters += iters;
                }
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
        printf("\"allocs_per_op\":%.4f,\"check\":\"0x%llx\"", (double)allocs / (double)all_iters,
               (unsigned long long)check);
        if (ops)
                printf(",\"ops\":%llu,\"warmup_ops\":%llu", (unsigned long long)ops,
                       (unsigned long long)warmup_ops);
        if (fail_msg[0]) {
                for (char *q = fail_msg; *q; q++)
                        if (*q == '"' || *q == '\\')
                                *q = '\'';
                printf(",\"error\":\"%s\"", fail_msg);
                fprintf(stderr, "%s-bench: %s: FAILED: %s\n", stack, w->name, fail_msg);
        }
        printf("}\n");
        fflush(stdout);
}

static void usage(const char *stack)
{
        fprintf(stderr,
                "usage: %s-bench --list | [--reps N] [--seconds S] WORKLOAD...\n"
                "       %s-bench --ops N [--warmup-ops W] WORKLOAD...\n"
                "env: NS_BENCH_REPS, NS_BENCH_SECONDS, NS_BENCH_WARMUP_SECONDS\n",
                stack, stack);
}

int bench_main(const char *stack, const struct bench_workload *workloads, size_t n, int argc,
               char **argv)
{
        int reps = (int)env_double("NS_BENCH_REPS", 5);
        double seconds = env_double("NS_BENCH_SECONDS", 1.0);
        double warmup = env_double("NS_BENCH_WARMUP_SECONDS", 0.2);
        uint64_t ops = 0, warmup_ops = BENCH_WARMUP_OPS;
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
                } else if (!strcmp(argv[first], "--ops") && first + 1 < argc) {
                        ops = strtoull(argv[++first], NULL, 10);
                        if (!ops) {
                                usage(stack);
                                return 2;
                        }
                } else if (!strcmp(argv[first], "--warmup-ops") && first + 1 < argc) {
                        warmup_ops = strtoull(argv[++first], NULL, 10);
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
                run_workload(stack, &workloads[i], reps, seconds, warmup, ops, warmup_ops);
        }
        return 0;
}

static void *csum_setup(size_t len)
{
        struct bench_csum_ctx *c = malloc(sizeof(*c));
        if (!c)
                return NULL;
        c->data = bench_data(len);
        c->len = len;
        return c;
}

void *bench_csum_setup_20(void)
{
        return csum_setup(20);
}

void *bench_csum_setup_1500(void)
{
        return csum_setup(1500);
}

void *bench_csum_setup_64k(void)
{
        return csum_setup(65536);
}

void bench_csum_teardown(void *ctx)
{
        struct bench_csum_ctx *c = ctx;
        free(c->data);
        free(c);
}
