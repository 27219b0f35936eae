/*
 * Allocation-failure injection (issue [reliability] item 4; HOSTILE-INPUTS
 * 45: lwIP's NULL dereference on allocation failure, its leaks and double
 * frees on error paths). An allocator hook fails the Nth allocation; each
 * flow below runs once to count the allocations it makes, then again for
 * every N up to that count (and one more, when nothing fails). The pool
 * caches buffers, so most packets never reach the allocator: each flow
 * also runs with the pool capped at 1..24 live packets and at byte caps
 * from 2 KiB to 128 KiB, so that every packet allocation on its paths
 * (replies, fragments, reassembled datagrams, ARP queues) fails somewhere.
 * Whatever
 * fails, nothing may crash (ASan/UBSan in make test's second tree), every
 * block the stack took must be given back once it is destroyed, no packet
 * may stay alive after the channels are drained and the timers have run,
 * and the pool's counters must agree with each other.
 *
 * The flows cover the scenario suites' paths: creating a stack, NICs,
 * addresses and routes; echo with and without options; UDP in (queued and
 * read) and out; reassembly and fragmentation; ICMP errors; forwarding
 * with ARP resolution between two Ethernet NICs; a multicast join.
 */
#include <stdlib.h>
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/arp.h>
#include <netstack/eth.h>
#include <netstack/ipv4.h>
#include <netstack/udp.h>

#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/udp.h"

#define SEC  1000000000LL
#define US   NS_IP4(192, 0, 2, 1)
#define PEER NS_IP4(192, 0, 2, 2)
#define US2  NS_IP4(198, 51, 100, 1)
#define FAR  NS_IP4(198, 51, 100, 7)

struct failing {
        uint64_t calls;   /* allocations asked for */
        uint64_t fail_at; /* the one to refuse (1-based); 0: none */
        uint64_t failed;
        int64_t live; /* blocks handed out and not freed */
        /* Pool caps for the second kind of run: packets refused by the pool. */
        uint32_t pool_max_in_use;
        uint64_t pool_max_bytes;
};

static void *f_alloc(void *ctx, size_t size)
{
        struct failing *f = ctx;
        if (++f->calls == f->fail_at) {
                f->failed++;
                return NULL;
        }
        void *p = malloc(size);
        if (p)
                f->live++;
        return p;
}

static void f_free(void *ctx, void *ptr)
{
        struct failing *f = ctx;
        if (ptr) {
                f->live--;
                free(ptr);
        }
}

struct flow_env {
        struct failing *f;
        struct ns_allocator a;
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        struct ns_stack *s;
};

static int env_create(struct flow_env *e, struct failing *f, const struct ns_module *const *mods)
{
        memset(e, 0, sizeof(*e));
        e->f = f;
        e->a = (struct ns_allocator){ .alloc = f_alloc, .free = f_free, .ctx = f };
        ns_manual_clock_init(&e->clock, SEC, NS_TEST_WALL_START_NS);
        ns_seeded_rng_init(&e->rng, 7);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&e->clock);
        cfg.rng = ns_seeded_rng_as_rng(&e->rng);
        cfg.alloc = &e->a;
        cfg.modules = mods;
        cfg.pool.max_in_use = f->pool_max_in_use;
        cfg.pool.max_bytes = f->pool_max_bytes;
        return ns_stack_create(&cfg, &e->s);
}

/* Runs every timer out: reassembly, ARP, IGMP. */
static void run_timers(struct flow_env *e)
{
        int64_t end = e->clock.mono_ns + 300 * SEC;
        for (int i = 0; i < 1000; i++) {
                int64_t next = ns_stack_poll(e->s);
                if (next == INT64_MAX || next > end)
                        break;
                if (next > e->clock.mono_ns)
                        ns_manual_clock_advance(&e->clock, next - e->clock.mono_ns);
        }
}

/* The pool's counters agree, and nothing is alive once everything is drained. */
static void check_pool(struct flow_env *e, const char *flow)
{
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(ns_stack_pool(e->s), &ps);
        if (ps.allocs - ps.frees != ps.in_use)
                fail_msg("%s, failing allocation %llu: allocs %llu - frees %llu != in_use %u", flow,
                         (unsigned long long)e->f->fail_at, (unsigned long long)ps.allocs,
                         (unsigned long long)ps.frees, ps.in_use);
        if (ps.in_use != 0)
                fail_msg("%s, failing allocation %llu: %u packets alive after the timers", flow,
                         (unsigned long long)e->f->fail_at, ps.in_use);
}

static void inject_ip(struct ns_channel *ch, const struct ipv4_spec *spec)
{
        static uint8_t pkt[4096];
        size_t n = ipv4_build(pkt, sizeof(pkt), spec);
        (void)ns_channel_inject_bytes(ch, 0x0800, pkt, (uint32_t)n);
}

/* ---- flow 1: one channel NIC, echo, options, UDP, fragments, errors ---- */

static const struct ns_module *const mods_ip[] = { &ns_module_ipv4, &ns_module_udp, NULL };

static void flow_host(struct failing *f)
{
        struct flow_env e;
        if (env_create(&e, f, mods_ip) != 0)
                return;
        struct ns_channel *ch = ns_channel_create(&e.a, 1500, 64, 0);
        struct ns_udp_ep *ep = NULL, *tx = NULL;
        if (!ch || ns_nic_create(e.s, 1, ns_channel_link(ch), NULL) != 0)
                goto out;
        struct ns_ip4_prefix p = { US, 24 };
        (void)ns_nic_add_address(e.s, 1, p);
        struct ns_route_entry r = { .dst = { 0, 0 }, .gateway = PEER, .nic_id = 1 };
        (void)ns_route_add(e.s, &r);
        if (ns_udp_open(e.s, &ep) == 0)
                (void)ns_udp_bind(ep, 0, 9, 0);
        (void)ns_udp_open(e.s, &tx);

        uint8_t icmp[3100];
        size_t il = icmp_echo_build(icmp, sizeof(icmp), 0x4242, 1, 56);
        inject_ip(
            ch,
            &(struct ipv4_spec){
                .src = PEER, .dst = US, .proto = 1, .payload = icmp, .payload_len = (uint32_t)il });
        /* Echo with Record Route and Timestamp (options copied into the reply). */
        uint8_t opts[40];
        size_t ol = ns_ipv4_opt_put_rr(opts, sizeof(opts), 3);
        ol += ns_ipv4_opt_put_ts(opts + ol, sizeof(opts) - ol, NS_IPV4_OPT_TS_ONLY, 3, NULL);
        ol = ns_ipv4_opt_pad(opts, ol, sizeof(opts));
        inject_ip(ch, &(struct ipv4_spec){ .src = PEER,
                                           .dst = US,
                                           .proto = 1,
                                           .payload = icmp,
                                           .payload_len = (uint32_t)il,
                                           .options = opts,
                                           .options_len = (uint8_t)ol });
        /* UDP to the bound port (queued), and to a closed one (port unreachable). */
        uint8_t u[64];
        memset(u, 0x5a, sizeof(u));
        ns_udp_emit_datagram(u, sizeof(u), 1000, 9, PEER, US);
        inject_ip(
            ch, &(struct ipv4_spec){
                    .src = PEER, .dst = US, .proto = 17, .payload = u, .payload_len = sizeof(u) });
        ns_udp_emit_datagram(u, sizeof(u), 1000, 10, PEER, US);
        inject_ip(
            ch, &(struct ipv4_spec){
                    .src = PEER, .dst = US, .proto = 17, .payload = u, .payload_len = sizeof(u) });
        /* A fragmented echo of 3000 bytes, out of order. */
        il = icmp_echo_build(icmp, sizeof(icmp), 0x4242, 2, 1400);
        static uint8_t big[3008];
        memset(big, 0, sizeof(big));
        memcpy(big, icmp, il);
        for (uint32_t i = il; i < 3000; i++)
                big[i] = (uint8_t)i;
        ns_icmp4_fill_checksum(big, 3000);
        static const uint32_t offs[3] = { 1480, 0, 2960 };
        for (int k = 0; k < 3; k++) {
                uint32_t len = offs[k] == 2960 ? 40 : 1480;
                inject_ip(ch, &(struct ipv4_spec){ .src = PEER,
                                                   .dst = US,
                                                   .proto = 1,
                                                   .id = 77,
                                                   .flags = offs[k] == 2960 ? 0 : NS_IPV4_FLAG_MF,
                                                   .frag_off = (uint16_t)offs[k],
                                                   .payload = big + offs[k],
                                                   .payload_len = len });
        }
        /* A fragment that never completes (held, then timed out with 11/1). */
        inject_ip(ch, &(struct ipv4_spec){ .src = PEER,
                                           .dst = US,
                                           .proto = 1,
                                           .id = 78,
                                           .flags = NS_IPV4_FLAG_MF,
                                           .payload = big,
                                           .payload_len = 1480 });
        /* Sending: a datagram that fragments, one that does not, one that loops back. */
        if (tx) {
                (void)ns_udp_send(tx, FAR, 53, big, 3000);
                (void)ns_udp_send(tx, PEER, 53, big, 100);
                (void)ns_udp_send(tx, US, 9, big, 2000);
        }
        if (ep) {
                uint8_t buf[4096];
                struct ns_udp_datagram d;
                while (ns_udp_recv(ep, buf, sizeof(buf), &d) >= 0)
                        ;
        }
        run_timers(&e);
        ns_channel_drain(ch);
        check_pool(&e, "host");
out:
        ns_udp_close(ep);
        ns_udp_close(tx);
        ns_stack_destroy(e.s);
        ns_channel_destroy(ch);
}

/* ---- flow 2: a router between two Ethernet NICs, ARP, a multicast join ---- */

static const struct ns_module *const mods_eth[] = { &ns_module_ipv4, &ns_module_arp, &ns_module_udp,
                                                    NULL };
static const uint8_t MAC1[6] = { 2, 0, 0, 0, 1, 1 }, MAC2[6] = { 2, 0, 0, 0, 2, 1 };
static const uint8_t PMAC1[6] = { 2, 0, 0, 0, 1, 2 }, PMAC2[6] = { 2, 0, 0, 0, 2, 7 };

static void put_frame(struct ns_frame_channel *fc, const uint8_t dst[6], const uint8_t src[6],
                      uint16_t type, const uint8_t *payload, size_t len)
{
        static uint8_t f[2048];
        struct ns_eth_fields h = { .ethertype = type };
        memcpy(h.dst.b, dst, 6);
        memcpy(h.src.b, src, 6);
        ns_eth_emit(f, NS_ETH_HDR, &h);
        memcpy(f + NS_ETH_HDR, payload, len);
        size_t n = NS_ETH_HDR + len;
        if (n < 60) {
                memset(f + n, 0, 60 - n);
                n = 60;
        }
        (void)ns_frame_channel_inject_bytes(fc, f, (uint32_t)n);
}

static void flow_router(struct failing *f)
{
        struct flow_env e;
        if (env_create(&e, f, mods_eth) != 0)
                return;
        struct ns_frame_channel *fc[2] = { NULL, NULL };
        struct ns_eth *eth[2] = { NULL, NULL };
        const uint8_t *macs[2] = { MAC1, MAC2 };
        for (int i = 0; i < 2; i++) {
                fc[i] = ns_frame_channel_create(&e.a, 1500, 64);
                if (!fc[i])
                        goto out;
                eth[i] = ns_eth_create(&e.a, ns_frame_channel_dev(fc[i]), macs[i]);
                if (!eth[i] || ns_nic_create(e.s, (uint32_t)i + 1, ns_eth_link(eth[i]), NULL) != 0)
                        goto out;
        }
        (void)ns_nic_add_address(e.s, 1, (struct ns_ip4_prefix){ US, 24 });
        (void)ns_nic_add_address(e.s, 2, (struct ns_ip4_prefix){ US2, 24 });
        (void)ns_arp_add_static(e.s, 1, PEER, PMAC1);
        (void)ns_ipv4_set_param(e.s, NS_IPV4_PARAM_FORWARDING, 1);
        (void)ns_ipv4_join_group(e.s, 1, NS_IP4(239, 1, 2, 3));
        /* A datagram to forward to FAR, which must first be resolved. */
        uint8_t ip[1600];
        uint8_t u[1200];
        memset(u, 0x33, sizeof(u));
        ns_udp_emit_datagram(u, sizeof(u), 1000, 2000, PEER, FAR);
        size_t n = ipv4_build(
            ip, sizeof(ip),
            &(struct ipv4_spec){
                .src = PEER, .dst = FAR, .proto = 17, .payload = u, .payload_len = sizeof(u) });
        put_frame(fc[0], MAC1, PMAC1, NS_ETHERTYPE_IPV4, ip, n);
        /* Its ARP reply, then a second datagram that goes straight out. */
        struct ns_arp_fields a = { .op = NS_ARP_OP_REPLY, .spa = FAR, .tpa = US2 };
        memcpy(a.sha.b, PMAC2, 6);
        memcpy(a.tha.b, MAC2, 6);
        uint8_t ab[NS_ARP_LEN];
        ns_arp_emit(ab, sizeof(ab), &a);
        put_frame(fc[1], MAC2, PMAC2, NS_ETHERTYPE_ARP, ab, sizeof(ab));
        put_frame(fc[0], MAC1, PMAC1, NS_ETHERTYPE_IPV4, ip, n);
        /* TTL 1 (Time Exceeded back), and DF over a smaller route MTU. */
        n = ipv4_build(ip, sizeof(ip),
                       &(struct ipv4_spec){ .src = PEER,
                                            .dst = FAR,
                                            .proto = 17,
                                            .ttl = 1,
                                            .payload = u,
                                            .payload_len = sizeof(u) });
        put_frame(fc[0], MAC1, PMAC1, NS_ETHERTYPE_IPV4, ip, n);
        /* An ARP request for us (answered, sender learned). */
        struct ns_arp_fields q = { .op = NS_ARP_OP_REQUEST,
                                   .spa = NS_IP4(192, 0, 2, 9),
                                   .tpa = US };
        memcpy(q.sha.b, PMAC2, 6);
        ns_arp_emit(ab, sizeof(ab), &q);
        static const uint8_t BC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        put_frame(fc[0], BC, PMAC2, NS_ETHERTYPE_ARP, ab, sizeof(ab));
        run_timers(&e);
        for (int i = 0; i < 2; i++)
                ns_frame_channel_drain(fc[i]);
        check_pool(&e, "router");
out:
        ns_stack_destroy(e.s);
        for (int i = 0; i < 2; i++) {
                ns_eth_destroy(eth[i]);
                ns_frame_channel_destroy(fc[i]);
        }
}

/* Counts a flow's allocations, then fails each one in turn. */
static void run_all(void (*flow)(struct failing *), const char *name)
{
        struct failing f = { 0 };
        flow(&f);
        assert_int_equal(f.live, 0);
        uint64_t total = f.calls;
        assert_true(total > 10);
        for (uint64_t n = 1; n <= total + 1; n++) {
                memset(&f, 0, sizeof(f));
                f.fail_at = n;
                flow(&f);
                if (f.live != 0)
                        fail_msg("%s: failing allocation %llu of %llu leaks %lld blocks", name,
                                 (unsigned long long)n, (unsigned long long)total,
                                 (long long)f.live);
        }
        print_message("%s: %llu allocations, each failed in turn\n", name,
                      (unsigned long long)total);
}

/* Runs a flow with the pool capped at k live packets, then at byte caps. */
static void run_pool_caps(void (*flow)(struct failing *), const char *name)
{
        for (uint32_t k = 1; k <= 24; k++) {
                struct failing f = { .pool_max_in_use = k };
                flow(&f);
                if (f.live != 0)
                        fail_msg("%s: pool cap of %u packets leaks %lld blocks", name, k,
                                 (long long)f.live);
        }
        for (uint64_t b = 2048; b <= (128u << 10); b *= 2) {
                struct failing f = { .pool_max_bytes = b };
                flow(&f);
                if (f.live != 0)
                        fail_msg("%s: pool cap of %llu bytes leaks %lld blocks", name,
                                 (unsigned long long)b, (long long)f.live);
        }
}

static void test_alloc_failure_host(void **state)
{
        (void)state;
        run_all(flow_host, "host");
        run_pool_caps(flow_host, "host");
}

static void test_alloc_failure_router(void **state)
{
        (void)state;
        run_all(flow_router, "router");
        run_pool_caps(flow_router, "router");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alloc_failure_host),
                cmocka_unit_test(test_alloc_failure_router),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
