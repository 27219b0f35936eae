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
#include <netstack/udp.h>

#include "harness.h"
#include "wire/checksum_impl.h"

/* The public API a protocol calls: the checksum field of a header or datagram. */
static uint64_t run_checksum(void *ctx, uint64_t iters)
{
        struct bench_csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += ns_checksum(c->data, c->len);
        }
        return acc;
}

static uint64_t run_scalar(void *ctx, uint64_t iters)
{
        struct bench_csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += ns__csum_partial_scalar(c->data, c->len, 0);
        }
        return acc;
}

static uint64_t run_avx2(void *ctx, uint64_t iters)
{
        struct bench_csum_ctx *c = ctx;
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
        struct bench_csum_ctx *c = ctx;
        return ns_checksum(c->data, c->len);
}

static uint64_t check_partial_scalar(void *ctx)
{
        struct bench_csum_ctx *c = ctx;
        return ns_csum_finish(ns__csum_partial_scalar(c->data, c->len, 0));
}

static uint64_t check_partial_avx2(void *ctx)
{
        struct bench_csum_ctx *c = ctx;
        return ns_csum_finish(ns__csum_partial_avx2(c->data, c->len, 0));
}

/* ---- packet rows: one stack, the shared packets of harness.c ---- */

/*
 * A stack as a user builds it: IPv4 and UDP modules, NIC 1 (192.0.2.1/24)
 * and, for forward, NIC 2 (198.51.100.1/24) on channel links of MTU 1500, a
 * UDP endpoint bound to BENCH_DPORT whose callback counts (and in a check,
 * hashes) what it is given. Every injection copies the packet's bytes into a
 * pool packet (ns_channel_inject_bytes), as a link copies from its device.
 */
struct pkt_ctx {
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        struct ns_stack *s;
        struct ns_channel *ch[3];
        struct ns_udp_ep *ep;
        uint8_t pkt[BENCH_FWD_BIG];
        uint32_t pkt_len;
        struct bench_frags f;
        uint8_t *tx; /* tx-fragment: the UDP payload to send */
        size_t tx_len;
        uint64_t ops;      /* operations run, warm-up and check included */
        uint64_t rx_count; /* datagrams the endpoint got */
        uint64_t rx_bytes;
        bool hashing; /* the check operation: hash what arrives */
        uint64_t rx_hash;
        struct ns_stats base; /* counters when setup finished */
};

static void on_udp(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        (void)ep;
        struct pkt_ctx *c = ctx;
        c->rx_count++;
        c->rx_bytes += d->len;
        if (c->hashing)
                c->rx_hash = bench_fnv(c->rx_hash, d->data, d->len);
}

static struct pkt_ctx *pkt_stack(bool two_nics)
{
        static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };
        struct pkt_ctx *c = calloc(1, sizeof(*c));
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
        if (ns_stack_create(&cfg, &c->s))
                abort();
        ns_ip4 addrs[3] = { 0, BENCH_US, BENCH_US2 };
        for (uint32_t id = 1; id <= (two_nics ? 2u : 1u); id++) {
                struct ns_ip4_prefix p = { .addr = addrs[id], .prefix_len = 24 };
                c->ch[id] = ns_channel_create(NULL, 1500, 1024, 0);
                if (!c->ch[id] || ns_nic_create(c->s, id, ns_channel_link(c->ch[id]), NULL) ||
                    ns_nic_add_address(c->s, id, p))
                        abort();
        }
        if (two_nics && ns_ipv4_set_param(c->s, NS_IPV4_PARAM_FORWARDING, 1))
                abort();
        if (ns_udp_open(c->s, &c->ep) || ns_udp_bind(c->ep, NS_IP4_ANY, BENCH_DPORT, 0))
                abort();
        ns_udp_set_recv_cb(c->ep, on_udp, c);
        return c;
}

/* Call at the end of setup: counters are checked relative to this point. */
static void *pkt_ready(struct pkt_ctx *c)
{
        ns_stack_get_stats(c->s, &c->base);
        return c;
}

static void pkt_teardown(void *ctx)
{
        struct pkt_ctx *c = ctx;
        ns_udp_close(c->ep);
        ns_stack_destroy(c->s);
        for (int i = 1; i <= 2; i++)
                if (c->ch[i])
                        ns_channel_destroy(c->ch[i]);
        bench_frags_free(&c->f);
        free(c->tx);
        free(c);
}

static struct ns_stats delta(const struct pkt_ctx *c)
{
        struct ns_stats now;
        ns_stack_get_stats(c->s, &now);
        uint64_t *n = (uint64_t *)&now;
        const uint64_t *b = (const uint64_t *)&c->base;
        for (size_t i = 0; i < sizeof(now) / sizeof(uint64_t); i++)
                n[i] -= b[i];
        return now;
}

static void expect_count(const char *what, uint64_t got, uint64_t want)
{
        if (got != want)
                bench_fail("%s is %llu, want %llu", what, (unsigned long long)got,
                           (unsigned long long)want);
}

static void inject(struct pkt_ctx *c, uint32_t nic, const uint8_t *p, uint32_t len)
{
        if (ns_channel_inject_bytes(c->ch[nic], 0x0800, p, len))
                bench_fail("inject failed");
}

/* rx-udp: one datagram in, delivered to the endpoint's callback. */
static void *setup_rx_udp(void)
{
        struct pkt_ctx *c = pkt_stack(false);
        c->pkt_len = (uint32_t)bench_ipv4_udp(c->pkt, BENCH_PEER, BENCH_US, BENCH_UDP_LEN);
        return pkt_ready(c);
}

static uint64_t run_rx_udp(void *ctx, uint64_t iters)
{
        struct pkt_ctx *c = ctx;
        for (uint64_t i = 0; i < iters; i++)
                inject(c, 1, c->pkt, c->pkt_len);
        c->ops += iters;
        return c->rx_count;
}

/* The hash of the payload one operation delivers; every counter equals the op count. */
static uint64_t check_delivery(struct pkt_ctx *c, uint64_t (*run)(void *, uint64_t))
{
        c->hashing = true;
        c->rx_hash = BENCH_FNV_INIT;
        uint64_t before = c->rx_count;
        run(c, 1);
        c->hashing = false;
        expect_count("datagrams delivered by the op", c->rx_count - before, 1);
        expect_count("datagrams delivered", c->rx_count, c->ops);
        struct ns_stats d = delta(c);
        expect_count("udp.packets_received", d.udp.packets_received, c->ops);
        expect_count("ip.packets_delivered", d.ip.packets_delivered, c->ops);
        return c->rx_hash;
}

static uint64_t check_rx_udp(void *ctx)
{
        return check_delivery(ctx, run_rx_udp);
}

/* rx-invalid: the rx-udp packet with its header checksum broken, dropped. */
static void *setup_rx_invalid(void)
{
        struct pkt_ctx *c = pkt_stack(false);
        c->pkt_len = (uint32_t)bench_ipv4_udp(c->pkt, BENCH_PEER, BENCH_US, BENCH_UDP_LEN);
        c->pkt[10] ^= 0xff;
        return pkt_ready(c);
}

/* The datagrams delivered (0); the checksum-error counter equals the op count. */
static uint64_t check_rx_invalid(void *ctx)
{
        struct pkt_ctx *c = ctx;
        run_rx_udp(c, 1);
        struct ns_stats d = delta(c);
        expect_count("ip.checksum_errors_received", d.ip.checksum_errors_received, c->ops);
        expect_count("ip.malformed_packets_received", d.ip.malformed_packets_received, c->ops);
        expect_count("ip.packets_received", d.ip.packets_received, c->ops);
        return c->rx_count;
}

/* rx-icmp-echo: one request in, the reply read from the link and freed. */
static void *setup_echo(void)
{
        struct pkt_ctx *c = pkt_stack(false);
        c->pkt_len = (uint32_t)bench_icmp_echo(c->pkt);
        return pkt_ready(c);
}

static uint64_t run_echo(void *ctx, uint64_t iters)
{
        struct pkt_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                inject(c, 1, c->pkt, c->pkt_len);
                struct ns_pkt *r = ns_channel_read(c->ch[1]);
                if (!r) {
                        bench_fail("no echo reply");
                        continue;
                }
                acc += ns_pkt_len(r);
                ns_pkt_free(r);
        }
        c->ops += iters;
        return acc;
}

static uint64_t check_echo(void *ctx)
{
        struct pkt_ctx *c = ctx;
        inject(c, 1, c->pkt, c->pkt_len);
        c->ops++;
        struct ns_pkt *r = ns_channel_read(c->ch[1]);
        if (!r) {
                bench_fail("no echo reply");
                return 0;
        }
        uint64_t h = bench_check_echo_reply(ns_pkt_data(r), ns_pkt_len(r), c->pkt);
        ns_pkt_free(r);
        struct ns_stats d = delta(c);
        expect_count("icmp.received_echo_request", d.icmp.received_echo_request, c->ops);
        expect_count("icmp.sent_echo_reply", d.icmp.sent_echo_reply, c->ops);
        expect_count("queued replies", ns_channel_queued(c->ch[1]), 0);
        return h;
}

/* forward: in on NIC 1 to 198.51.100.2, out on NIC 2 with TTL-1. */
static void *forward_setup(size_t payload_len)
{
        struct pkt_ctx *c = pkt_stack(true);
        c->pkt_len = (uint32_t)bench_ipv4_udp(c->pkt, BENCH_PEER, BENCH_FAR, payload_len);
        return pkt_ready(c);
}

static void *setup_forward(void)
{
        return forward_setup(BENCH_UDP_LEN);
}

/* forward-1500: the same, with a 1500-byte (MTU-sized) packet. */
static void *setup_forward_1500(void)
{
        return forward_setup(BENCH_FWD_BIG - 28);
}

static uint64_t run_forward(void *ctx, uint64_t iters)
{
        struct pkt_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                inject(c, 1, c->pkt, c->pkt_len);
                struct ns_pkt *r = ns_channel_read(c->ch[2]);
                if (!r) {
                        bench_fail("nothing forwarded");
                        continue;
                }
                acc += ns_pkt_len(r);
                ns_pkt_free(r);
        }
        c->ops += iters;
        return acc;
}

static uint64_t check_forward(void *ctx)
{
        struct pkt_ctx *c = ctx;
        inject(c, 1, c->pkt, c->pkt_len);
        c->ops++;
        struct ns_pkt *r = ns_channel_read(c->ch[2]);
        if (!r) {
                bench_fail("nothing forwarded");
                return 0;
        }
        uint64_t h = bench_check_forwarded(ns_pkt_data(r), ns_pkt_len(r), c->pkt, c->pkt_len);
        ns_pkt_free(r);
        struct ns_stats d = delta(c);
        expect_count("ip.forwarded", d.ip.forwarded, c->ops);
        expect_count("packets out on NIC 1", ns_channel_queued(c->ch[1]), 0);
        expect_count("datagrams delivered", c->rx_count, 0);
        return h;
}

/* ---- reassembly and fragmentation ---- */

static void *reasm_setup(size_t udp_len, size_t piece, enum bench_order order)
{
        struct pkt_ctx *c = pkt_stack(false);
        bench_frags_make(&c->f, udp_len, piece, order);
        return pkt_ready(c);
}

static void *setup_reasm_65000(void)
{
        return reasm_setup(65000, 1480, BENCH_IN_ORDER);
}

static void *setup_reasm_65000_reversed(void)
{
        return reasm_setup(65000, 1480, BENCH_REVERSED);
}

static void *setup_reasm_14792(void)
{
        return reasm_setup(14792, 1480, BENCH_IN_ORDER);
}

static void *setup_reasm_tiny(void)
{
        return reasm_setup(4000, 8, BENCH_SHUFFLED);
}

/* One operation: every fragment injected under a fresh IP ID. */
static uint64_t run_reasm(void *ctx, uint64_t iters)
{
        struct pkt_ctx *c = ctx;
        for (uint64_t i = 0; i < iters; i++) {
                bench_frags_next_id(&c->f);
                for (uint32_t k = 0; k < c->f.n; k++)
                        inject(c, 1, c->f.wire[k], c->f.len[k]);
        }
        c->ops += iters;
        return c->rx_bytes;
}

/* The hash of the payload one operation delivers; one datagram per op. */
static uint64_t check_reasm(void *ctx)
{
        struct pkt_ctx *c = ctx;
        uint64_t h = check_delivery(c, run_reasm);
        struct ns_stats d = delta(c);
        expect_count("ip.reasm_oks", d.ip.reasm_oks, c->ops);
        expect_count("ip.reasm_fails", d.ip.reasm_fails, 0);
        return h;
}

/* tx-fragment: a 65000-byte UDP datagram (64992 bytes of payload) to PEER over MTU 1500. */
static void *setup_tx_fragment(void)
{
        struct pkt_ctx *c = pkt_stack(false);
        c->tx_len = 65000 - 8;
        c->tx = bench_data(c->tx_len);
        return pkt_ready(c);
}

static uint64_t run_tx_fragment(void *ctx, uint64_t iters)
{
        struct pkt_ctx *c = ctx;
        uint64_t n = 0;
        for (uint64_t i = 0; i < iters; i++) {
                if (ns_udp_send(c->ep, BENCH_PEER, BENCH_SPORT, c->tx, c->tx_len))
                        bench_fail("ns_udp_send failed");
                for (struct ns_pkt *p; (p = ns_channel_read(c->ch[1]));) {
                        n++;
                        ns_pkt_free(p);
                }
        }
        c->ops += iters;
        if (n != iters * 44)
                bench_fail("%llu fragments for %llu datagrams", (unsigned long long)n,
                           (unsigned long long)iters);
        return n;
}

static uint64_t check_tx_fragment(void *ctx)
{
        struct pkt_ctx *c = ctx;
        if (ns_udp_send(c->ep, BENCH_PEER, BENCH_SPORT, c->tx, c->tx_len))
                bench_fail("ns_udp_send failed");
        c->ops++;
        const uint8_t *frag[64];
        size_t len[64];
        struct ns_pkt *pk[64];
        uint32_t n = 0;
        while (n < 64 && (pk[n] = ns_channel_read(c->ch[1]))) {
                frag[n] = ns_pkt_data(pk[n]);
                len[n] = ns_pkt_len(pk[n]);
                n++;
        }
        expect_count("fragments", n, 44);
        uint64_t h = bench_check_tx_frags(frag, len, n);
        for (uint32_t i = 0; i < n; i++)
                ns_pkt_free(pk[i]);
        struct ns_stats d = delta(c);
        expect_count("udp.packets_sent", d.udp.packets_sent, c->ops);
        expect_count("ip.frag_creates", d.ip.frag_creates, c->ops * 44);
        return h;
}

int main(int argc, char **argv)

{
        static const struct bench_workload avx2_row = { "csum-64k-avx2",      65536,
                                                        bench_csum_setup_64k, run_avx2,
                                                        check_partial_avx2,   bench_csum_teardown };
        struct bench_workload rows[] = {
                { "csum-20", 20, bench_csum_setup_20, run_checksum, check_checksum,
                  bench_csum_teardown },
                { "csum-1500", 1500, bench_csum_setup_1500, run_checksum, check_checksum,
                  bench_csum_teardown },
                { "csum-64k", 65536, bench_csum_setup_64k, run_checksum, check_checksum,
                  bench_csum_teardown },
                { "rx-udp", 0, setup_rx_udp, run_rx_udp, check_rx_udp, pkt_teardown },
                { "rx-icmp-echo", 0, setup_echo, run_echo, check_echo, pkt_teardown },
                { "forward", 0, setup_forward, run_forward, check_forward, pkt_teardown },
                { "forward-1500", BENCH_FWD_BIG, setup_forward_1500, run_forward, check_forward,
                  pkt_teardown },
                { "rx-invalid", 0, setup_rx_invalid, run_rx_udp, check_rx_invalid, pkt_teardown },
                { "rx-reassembly-65000", 65000, setup_reasm_65000, run_reasm, check_reasm,
                  pkt_teardown },
                { "rx-reassembly-65000-reversed", 65000, setup_reasm_65000_reversed, run_reasm,
                  check_reasm, pkt_teardown },
                { "rx-reassembly-14792", 14792, setup_reasm_14792, run_reasm, check_reasm,
                  pkt_teardown },
                { "rx-reassembly-tiny", 4000, setup_reasm_tiny, run_reasm, check_reasm,
                  pkt_teardown },
                { "tx-fragment", 65000, setup_tx_fragment, run_tx_fragment, check_tx_fragment,
                  pkt_teardown },
                { "csum-64k-scalar", 65536, bench_csum_setup_64k, run_scalar, check_partial_scalar,
                  bench_csum_teardown },
                avx2_row,
        };
        size_t n = sizeof(rows) / sizeof(rows[0]);
        /* The AVX2 row exists only where the CPU can run it. */
        if (!ns__csum_have_avx2())
                n--;
        return bench_main("netstack-c", rows, n, argc, argv);
}
