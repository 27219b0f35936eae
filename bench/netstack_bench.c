/*
 * netstack-c side of the benchmark: the rows every stack runs, plus
 * netstack-only rows that time one internal path (their names end in the
 * path name) so that regressions in a path show up directly.
 */
#include <stdlib.h>

#include <netstack/checksum.h>

#include "harness.h"
#include "wire/checksum_impl.h"

struct csum_ctx {
        uint8_t *data;
        size_t len;
};

static void *csum_setup(size_t len)
{
        struct csum_ctx *c = malloc(sizeof(*c));
        if (!c)
                return NULL;
        c->data = bench_data(len);
        c->len = len;
        return c;
}

static void *setup_20(void)
{
        return csum_setup(20);
}

static void *setup_1500(void)
{
        return csum_setup(1500);
}

static void *setup_64k(void)
{
        return csum_setup(65536);
}

static void csum_teardown(void *ctx)
{
        struct csum_ctx *c = ctx;
        free(c->data);
        free(c);
}

/* The public API a protocol calls: the checksum field of a header or datagram. */
static uint64_t run_checksum(void *ctx, uint64_t iters)
{
        struct csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += ns_checksum(c->data, c->len);
        }
        return acc;
}

static uint64_t run_scalar(void *ctx, uint64_t iters)
{
        struct csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += ns__csum_partial_scalar(c->data, c->len, 0);
        }
        return acc;
}

static uint64_t run_avx2(void *ctx, uint64_t iters)
{
        struct csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += ns__csum_partial_avx2(c->data, c->len, 0);
        }
        return acc;
}

/* The checksum field as a host-order number, as every stack reports it. */
static uint64_t check_checksum(void *ctx)
{
        struct csum_ctx *c = ctx;
        return ns_checksum(c->data, c->len);
}

static uint64_t check_partial_scalar(void *ctx)
{
        struct csum_ctx *c = ctx;
        return ns_csum_finish(ns__csum_partial_scalar(c->data, c->len, 0));
}

static uint64_t check_partial_avx2(void *ctx)
{
        struct csum_ctx *c = ctx;
        return ns_csum_finish(ns__csum_partial_avx2(c->data, c->len, 0));
}

int main(int argc, char **argv)
{
        static const struct bench_workload avx2_row = { "csum-64k-avx2",    65536,
                                                        setup_64k,          run_avx2,
                                                        check_partial_avx2, csum_teardown };
        struct bench_workload rows[] = {
                { "csum-20", 20, setup_20, run_checksum, check_checksum, csum_teardown },
                { "csum-1500", 1500, setup_1500, run_checksum, check_checksum, csum_teardown },
                { "csum-64k", 65536, setup_64k, run_checksum, check_checksum, csum_teardown },
                { "csum-64k-scalar", 65536, setup_64k, run_scalar, check_partial_scalar,
                  csum_teardown },
                avx2_row,
        };
        size_t n = sizeof(rows) / sizeof(rows[0]);
        /* The AVX2 row exists only where the CPU can run it. */
        if (!ns__csum_have_avx2())
                n--;
        return bench_main("netstack-c", rows, n, argc, argv);
}
