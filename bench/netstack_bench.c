/*
 * netstack-c side of the benchmark: the rows every stack runs, plus
 * netstack-only rows that time one internal path (their names end in the
 * path name) so that regressions in a path show up directly.
 */
#include <stdlib.h>
#include <string.h>

#include <netstack/channel.h>
#include <netstack/checksum.h>
#include <netstack/ipv4.h>
#include <netstack/netstack.h>

#include "core/stack.h"
#include "harness.h"
#include "ipv4/ipv4.h"
#include "wire/checksum_impl.h"
#include "wire/ipv4.h"

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

/* ---- reassembly and fragmentation ---- */

#define RX_SRC    NS_IP4(192, 0, 2, 2)
#define RX_DST    NS_IP4(192, 0, 2, 1)
#define MAX_FRAGS 500

/*
 * A stack with one channel NIC and a transport handler on UDP's number that
 * counts the bytes of every datagram delivered, and a datagram cut into
 * wire-ready fragments (IPv4 header + payload) that every operation injects
 * in `order`: each injection copies the bytes into a packet of the stack's
 * pool, as a link copies from its device.
 */
struct frag_ctx {
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        struct ns_stack *s;
        struct ns_channel *ch;
        uint8_t *wire[MAX_FRAGS];
        uint32_t wire_len[MAX_FRAGS];
        uint32_t n;
        uint64_t delivered; /* transport bytes delivered */
        uint16_t id;
        uint8_t *payload; /* tx-fragment: the datagram to send */
        uint32_t payload_len;
};

static enum ns_deliver_result count_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        (void)nic;
        struct frag_ctx *c = ctx;
        c->delivered += ns_pkt_len(pkt);
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

static struct frag_ctx *frag_stack(uint32_t mtu)
{
        static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };
        struct frag_ctx *c = calloc(1, sizeof(*c));
        if (!c)
                abort();
        ns_manual_clock_init(&c->clock, 1000000000LL, 0);
        ns_seeded_rng_init(&c->rng, 1);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&c->clock);
        cfg.rng = ns_seeded_rng_as_rng(&c->rng);
        cfg.modules = mods;
        /* Room to cache every buffer of a 500-fragment datagram (default 256). */
        cfg.pool.max_cached = 1024;
        c->ch = ns_channel_create(NULL, mtu, 1024, 0);
        struct ns_ip4_prefix p = { .addr = RX_DST, .prefix_len = 24 };
        struct ns_transport_handler h = { .deliver = count_deliver, .ctx = c };
        if (ns_stack_create(&cfg, &c->s) || !c->ch ||
            ns_nic_create(c->s, 1, ns_channel_link(c->ch), NULL) ||
            ns_nic_add_address(c->s, 1, p) || ns__stack_register_transport(c->s, 17, &h))
                abort();
        return c;
}

/* Cuts a len-byte datagram (bench_fill bytes) into pieces of `piece` bytes. */
static void cut(struct frag_ctx *c, uint32_t len, uint32_t piece)
{
        uint8_t *data = bench_data(len);
        c->n = 0;
        for (uint32_t off = 0; off < len; off += piece) {
                uint32_t pl = len - off < piece ? len - off : piece;
                uint8_t *w = malloc(20 + pl);
                if (!w || c->n == MAX_FRAGS)
                        abort();
                struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + pl),
                                            .flags = off + pl < len ? NS_IPV4_FLAG_MF : 0,
                                            .frag_off = (uint16_t)off,
                                            .ttl = 64,
                                            .proto = 17,
                                            .src = RX_SRC,
                                            .dst = RX_DST };
                ns_ipv4_emit(w, 20, &f);
                memcpy(w + 20, data + off, pl);
                c->wire[c->n] = w;
                c->wire_len[c->n++] = 20 + pl;
        }
        free(data);
}

static void frag_teardown(void *ctx)
{
        struct frag_ctx *c = ctx;
        ns_stack_destroy(c->s);
        ns_channel_destroy(c->ch);
        for (uint32_t i = 0; i < c->n; i++)
                free(c->wire[i]);
        free(c->payload);
        free(c);
}

/* Swaps fragment order to reversed, or to a fixed pseudo-random shuffle. */
static void reorder(struct frag_ctx *c, bool shuffle)
{
        uint64_t x = 0x2545f4914f6cdd1dull;
        for (uint32_t i = c->n - 1; i > 0; i--) {
                uint32_t j;
                if (shuffle) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        j = (uint32_t)(x % (i + 1));
                } else {
                        if (i < c->n - 1 - i)
                                break;
                        j = c->n - 1 - i;
                }
                uint8_t *w = c->wire[i];
                uint32_t l = c->wire_len[i];
                c->wire[i] = c->wire[j];
                c->wire_len[i] = c->wire_len[j];
                c->wire[j] = w;
                c->wire_len[j] = l;
        }
}

static void *setup_reasm_65000(void)
{
        struct frag_ctx *c = frag_stack(1500);
        cut(c, 65000, 1480);
        return c;
}

static void *setup_reasm_65000_reversed(void)
{
        struct frag_ctx *c = setup_reasm_65000();
        reorder(c, false);
        return c;
}

static void *setup_reasm_14792(void)
{
        struct frag_ctx *c = frag_stack(1500);
        cut(c, 14792, 1480);
        return c;
}

static void *setup_reasm_tiny(void)
{
        struct frag_ctx *c = frag_stack(1500);
        cut(c, 4000, 8);
        reorder(c, true);
        return c;
}

/* One operation: every fragment injected under a fresh ID. */
static void reasm_once(struct frag_ctx *c)
{
        c->id++;
        for (uint32_t i = 0; i < c->n; i++) {
                ns_ipv4_set_id(c->wire[i], c->id);
                ns_ipv4_fill_checksum(c->wire[i]);
                if (ns_channel_inject_bytes(c->ch, 0x0800, c->wire[i], c->wire_len[i]))
                        abort();
        }
}

static uint64_t run_reasm(void *ctx, uint64_t iters)
{
        struct frag_ctx *c = ctx;
        for (uint64_t i = 0; i < iters; i++)
                reasm_once(c);
        return c->delivered;
}

static uint64_t check_reasm(void *ctx)
{
        struct frag_ctx *c = ctx;
        uint64_t before = c->delivered;
        reasm_once(c);
        return c->delivered - before;
}

/* tx-fragment: a 65000-byte UDP payload (65008-byte datagram) out of an MTU of 1500. */
static void *setup_tx_fragment(void)
{
        struct frag_ctx *c = frag_stack(1500);
        struct ns_route_entry r = { .nic_id = 1 };
        if (ns_route_add(c->s, &r))
                abort();
        c->payload_len = 65008;
        c->payload = bench_data(c->payload_len);
        return c;
}

/* Sends once; returns the fragments the link got. */
static uint32_t tx_once(struct frag_ctx *c)
{
        struct ns_pkt *pkt =
            ns_pkt_from_bytes(ns_stack_pool(c->s), NS_IPV4_TX_HEADROOM, c->payload, c->payload_len);
        struct ns_path path;
        const struct ns_ipv4_params params = { .proto = 17, .ttl = 64 };
        if (!pkt || ns__stack_find_route(c->s, 0, NS_IP4_ANY, RX_SRC, false, &path))
                abort();
        if (ns__ipv4_write_packet(ns__ipv4_of(c->s), &path, &params, pkt))
                abort();
        ns__path_release(&path);
        uint32_t n = ns_channel_queued(c->ch);
        ns_channel_drain(c->ch);
        return n;
}

static uint64_t run_tx_fragment(void *ctx, uint64_t iters)
{
        uint64_t n = 0;
        for (uint64_t i = 0; i < iters; i++)
                n += tx_once(ctx);
        return n;
}

static uint64_t check_tx_fragment(void *ctx)
{
        return tx_once(ctx);
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
                { "rx-reassembly-65000", 65000, setup_reasm_65000, run_reasm, check_reasm,
                  frag_teardown },
                { "rx-reassembly-65000-reversed", 65000, setup_reasm_65000_reversed, run_reasm,
                  check_reasm, frag_teardown },
                { "rx-reassembly-14792", 14792, setup_reasm_14792, run_reasm, check_reasm,
                  frag_teardown },
                { "rx-reassembly-tiny", 4000, setup_reasm_tiny, run_reasm, check_reasm,
                  frag_teardown },
                { "tx-fragment", 65008, setup_tx_fragment, run_tx_fragment, check_tx_fragment,
                  frag_teardown },
                avx2_row,
        };
        size_t n = sizeof(rows) / sizeof(rows[0]);
        /* The AVX2 row exists only where the CPU can run it. */
        if (!ns__csum_have_avx2())
                n--;
        return bench_main("netstack-c", rows, n, argc, argv);
}
