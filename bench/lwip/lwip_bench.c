/*
 * lwIP side of the benchmark, against Debian's liblwip (2.1.3). Same rows
 * and output as netstack_bench.c; see harness.h.
 *
 * inet_chksum() is lwIP's public checksum; its length is a u16_t, so the
 * 64 KiB row calls the function it wraps, lwip_standard_chksum() (exported by
 * liblwip.so but not declared in its headers), and complements the result
 * the way inet_chksum() does.
 */
#include <stdlib.h>

#include "lwip/inet_chksum.h"

#include "../harness.h"

u16_t lwip_standard_chksum(const void *dataptr, int len);

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

static u16_t lwip_checksum(const struct csum_ctx *c)
{
        if (c->len <= 0xffff)
                return inet_chksum(c->data, (u16_t)c->len);
        return (u16_t)~lwip_standard_chksum(c->data, (int)c->len);
}

static uint64_t run_checksum(void *ctx, uint64_t iters)
{
        struct csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += lwip_checksum(c);
        }
        return acc;
}

/* lwIP returns the field in network order; report it in host order. */
static uint64_t check_checksum(void *ctx)
{
        u16_t v = lwip_checksum(ctx);
        const uint8_t *b = (const uint8_t *)&v;
        return (uint64_t)b[0] << 8 | b[1];
}

int main(int argc, char **argv)
{
        const struct bench_workload rows[] = {
                { "csum-20", 20, setup_20, run_checksum, check_checksum, csum_teardown },
                { "csum-1500", 1500, setup_1500, run_checksum, check_checksum, csum_teardown },
                { "csum-64k", 65536, setup_64k, run_checksum, check_checksum, csum_teardown },
        };
        return bench_main("lwip", rows, sizeof(rows) / sizeof(rows[0]), argc, argv);
}
