/*
 * HOSTILE-INPUTS B (IP options) items that had no test of their own:
 *
 *   20  Loose and Strict Source Route: dropped and counted
 *       (ip.source_route_dropped), for us and to forward, as Linux does with
 *       accept_source_route=0; a bad option area around them still gets its
 *       Parameter Problem.
 *   21  Options reaching a path that assumed none: an echo request with
 *       Record Route and Timestamp whose reply must go through the
 *       fragmenter.
 *
 * Every test asserts no crash (the ASan tree runs it too), the counter that
 * must move, the pool back to its baseline, and a legitimate echo and UDP
 * datagram served right after.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/ipv4.h>
#include <netstack/udp.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define OUR1  NS_IP4(192, 0, 2, 1) /* NIC 1, the near link */
#define PEER  NS_IP4(192, 0, 2, 2)
#define OUR2  NS_IP4(198, 51, 100, 1) /* NIC 2, the far link */
#define FAR   NS_IP4(198, 51, 100, 7)
#define UPORT 7
#define SEC   1000000000LL

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };

struct env {
        struct ns_test_env t;
        struct ns_udp_ep *udp;
};

/* A router: NIC 1 at mtu1, NIC 2 at 1500, forwarding on, UDP bound to port 7. */
static void env_up(struct env *e, uint32_t mtu1)
{
        ns_test_env_init(&e->t, mods);
        ns_test_add_nic(&e->t, 1, mtu1, OUR1, 24);
        ns_test_add_nic(&e->t, 2, 1500, OUR2, 24);
        assert_int_equal(ns_ipv4_set_param(e->t.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        assert_int_equal(ns_udp_open(e->t.s, &e->udp), 0);
        assert_int_equal(ns_udp_bind(e->udp, NS_IP4_ANY, UPORT, 0), 0);
}

static struct ns_stats stats_now(struct env *e)
{
        struct ns_stats st;
        ns_stack_get_stats(e->t.s, &st);
        return st;
}

/* Injects an IPv4 packet on NIC nic. */
static void inject(struct env *e, uint32_t nic, const struct ipv4_spec *s)
{
        static uint8_t buf[70000];
        size_t n = ipv4_build(buf, sizeof(buf), s);
        assert_int_equal(ns_channel_inject_bytes(e->t.ch[nic], 0x0800, buf, (uint32_t)n), 0);
}

/* An echo request of data_len bytes of pattern into out; returns its length. */
static uint32_t echo(uint8_t *out, size_t cap, uint16_t seq, uint32_t data_len)
{
        return (uint32_t)icmp_echo_build(out, cap, 0x1234, seq, data_len);
}

/* A UDP datagram from src:4000 to dst:UPORT with `len` payload bytes, into out. */
static uint32_t udp(uint8_t *out, ns_ip4 src, ns_ip4 dst, uint32_t len)
{
        for (uint32_t i = 0; i < len; i++)
                out[8 + i] = (uint8_t)(i + 1);
        assert_int_equal(ns_udp_emit_datagram(out, 8 + len, 4000, UPORT, src, dst), 8);
        return 8 + len;
}

/* Nothing left any NIC. */
static void expect_silence(struct env *e)
{
        assert_null(ns_channel_read(e->t.ch[1]));
        assert_null(ns_channel_read(e->t.ch[2]));
}

/*
 * The service is intact: an echo from PEER is answered and a UDP datagram
 * reaches the endpoint. Then the pool is back to its baseline (nothing in
 * use once the channels are drained and the timers have run).
 */
static void expect_served_and_clean(struct env *e)
{
        uint8_t m[128];
        uint32_t n = echo(m, sizeof(m), 77, 32);
        inject(
            e, 1,
            &(struct ipv4_spec){
                .src = PEER, .dst = OUR1, .proto = 1, .ttl = 64, .payload = m, .payload_len = n });
        struct ns_pkt *r = ns_channel_read(e->t.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        assert_int_equal(ns_icmp4_type(h + ns_ipv4_hdr_len(h)), NS_ICMP4_ECHO_REPLY);
        assert_int_equal(ns_icmp4_seq(h + ns_ipv4_hdr_len(h)), 77);
        ns_pkt_free(r);

        n = udp(m, PEER, OUR1, 16);
        inject(
            e, 1,
            &(struct ipv4_spec){
                .src = PEER, .dst = OUR1, .proto = 17, .ttl = 64, .payload = m, .payload_len = n });
        uint8_t got[64];
        assert_int_equal(ns_udp_recv(e->udp, got, sizeof(got), NULL), 16);
        assert_memory_equal(got, m + 8, 16);

        ns_test_advance(&e->t, 60 * SEC); /* reassembly and every other timer */
        ns_test_drain_all(&e->t);
        assert_int_equal(ns_test_packets_in_use(&e->t), 0);
}

static void env_down(struct env *e)
{
        ns_udp_close(e->udp);
        ns_test_drain_all(&e->t);
        assert_int_equal(ns_test_packets_in_use(&e->t), 0);
        ns_test_env_destroy(&e->t);
}

/* LSRR (131) or SSRR (137) naming FAR, then EOL padding: 8 bytes. */
static void source_route(uint8_t opts[8], uint8_t type)
{
        const uint8_t o[8] = { type, 7, 4, 198, 51, 100, 7, 0 };
        memcpy(opts, o, sizeof(o));
}

static const uint8_t srr_types[] = { 131, 137 };

/*
 * Item 20: an echo request and a UDP datagram for us carrying a source
 * route are dropped before any transport sees them: no reply, nothing
 * delivered, one source_route_dropped each (the option seen is counted as
 * unknown, as before).
 */
static void test_item_20_source_route_to_us_dropped(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(srr_types); i++) {
                struct env e;
                env_up(&e, 1500);
                uint8_t opts[8], m[128];
                source_route(opts, srr_types[i]);

                struct ns_stats before = stats_now(&e);
                uint32_t n = echo(m, sizeof(m), 1, 32);
                inject(&e, 1,
                       &(struct ipv4_spec){ .src = PEER,
                                            .dst = OUR1,
                                            .proto = 1,
                                            .ttl = 64,
                                            .options = opts,
                                            .options_len = 8,
                                            .payload = m,
                                            .payload_len = n });
                expect_silence(&e);
                struct ns_stats after = stats_now(&e);
                expect_deltas(&before, &after,
                              "ip.packets_received=1 ip.valid_packets_received=1 "
                              "ip.option_unknown_received=1 ip.source_route_dropped=1");

                before = after;
                n = udp(m, PEER, OUR1, 16);
                inject(&e, 1,
                       &(struct ipv4_spec){ .src = PEER,
                                            .dst = OUR1,
                                            .proto = 17,
                                            .ttl = 64,
                                            .options = opts,
                                            .options_len = 8,
                                            .payload = m,
                                            .payload_len = n });
                uint8_t got[64];
                assert_int_equal(ns_udp_recv(e.udp, got, sizeof(got), NULL), NS_ERR_WOULD_BLOCK);
                expect_silence(&e);
                after = stats_now(&e);
                expect_deltas(&before, &after,
                              "ip.packets_received=1 ip.valid_packets_received=1 "
                              "ip.option_unknown_received=1 ip.source_route_dropped=1");
                /* The NIC's own counter moved too. */
                struct ns_stats nic;
                assert_int_equal(ns_nic_get_stats(e.t.s, 1, &nic), 0);
                assert_int_equal(nic.ip.source_route_dropped, 2);

                expect_served_and_clean(&e);
                env_down(&e);
        }
}

/*
 * Item 20: a source-routed datagram to forward is dropped, never forwarded
 * on its route or its destination; with TTL 1 the drop comes before the
 * TTL check (Linux: ip_rcv_options before ip_forward), so no Time Exceeded.
 */
static void test_item_20_source_route_never_forwarded(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(srr_types); i++) {
                for (uint8_t ttl = 1; ttl <= 64; ttl = (uint8_t)(ttl + 63)) {
                        struct env e;
                        env_up(&e, 1500);
                        uint8_t opts[8], m[64];
                        source_route(opts, srr_types[i]);
                        struct ns_stats before = stats_now(&e);
                        uint32_t n = udp(m, PEER, FAR, 16);
                        inject(&e, 1,
                               &(struct ipv4_spec){ .src = PEER,
                                                    .dst = FAR,
                                                    .proto = 17,
                                                    .ttl = ttl,
                                                    .options = opts,
                                                    .options_len = 8,
                                                    .payload = m,
                                                    .payload_len = n });
                        expect_silence(&e);
                        struct ns_stats after = stats_now(&e);
                        expect_deltas(&before, &after,
                                      "ip.packets_received=1 ip.valid_packets_received=1 "
                                      "ip.option_unknown_received=1 ip.source_route_dropped=1");
                        assert_int_equal(after.ip.forwarded, 0);

                        /* The same datagram without the option is forwarded. */
                        inject(&e, 1,
                               &(struct ipv4_spec){ .src = PEER,
                                                    .dst = FAR,
                                                    .proto = 17,
                                                    .ttl = 64,
                                                    .payload = m,
                                                    .payload_len = n });
                        struct ns_pkt *f = ns_channel_read(e.t.ch[2]);
                        assert_non_null(f);
                        assert_int_equal(ns_ipv4_ttl(ns_pkt_data(f)), 63);
                        ns_pkt_free(f);
                        expect_served_and_clean(&e);
                        env_down(&e);
                }
        }
}

/*
 * Item 20: every fragment carries the source route (the option is
 * copied, RFC 791), and each is dropped on arrival: nothing is held for
 * reassembly, so nothing is reassembled and no Time Exceeded follows.
 */
static void test_item_20_source_routed_fragments_not_held(void **state)
{
        (void)state;
        struct env e;
        env_up(&e, 1500);
        uint8_t opts[8], m[2048];
        source_route(opts, 131);
        uint32_t n = echo(m, sizeof(m), 2, 1000);
        struct ns_stats before = stats_now(&e);
        inject(&e, 1,
               &(struct ipv4_spec){ .src = PEER,
                                    .dst = OUR1,
                                    .proto = 1,
                                    .ttl = 64,
                                    .id = 5,
                                    .flags = NS_IPV4_FLAG_MF,
                                    .options = opts,
                                    .options_len = 8,
                                    .payload = m,
                                    .payload_len = 512 });
        inject(&e, 1,
               &(struct ipv4_spec){ .src = PEER,
                                    .dst = OUR1,
                                    .proto = 1,
                                    .ttl = 64,
                                    .id = 5,
                                    .frag_off = 512,
                                    .options = opts,
                                    .options_len = 8,
                                    .payload = m + 512,
                                    .payload_len = n - 512 });
        struct ns_stats after = stats_now(&e);
        assert_int_equal(after.ip.source_route_dropped - before.ip.source_route_dropped, 2);
        assert_int_equal(after.ip.reasm_reqds, before.ip.reasm_reqds);
        assert_int_equal(after.ip.packets_delivered, before.ip.packets_delivered);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        ns_test_advance(&e.t, 31 * SEC);
        expect_silence(&e);
        expect_served_and_clean(&e);
        env_down(&e);
}

/*
 * Item 20 with item 14: the option area is checked whole before the source
 * route is looked at (Linux compiles the options first), so a bad option
 * after a source route still gets its Parameter Problem, pointing at the
 * bad option, and is not counted as source-routed.
 */
static void test_item_20_bad_area_with_source_route_gets_parameter_problem(void **state)
{
        (void)state;
        struct env e;
        env_up(&e, 1500);
        /* LSRR (7 bytes), then an option of length 0 at header offset 27. */
        const uint8_t opts[12] = { 131, 7, 4, 198, 51, 100, 7, 7, 0, 0, 0, 0 };
        uint8_t m[128];
        uint32_t n = echo(m, sizeof(m), 3, 32);
        struct ns_stats before = stats_now(&e);
        inject(&e, 1,
               &(struct ipv4_spec){ .src = PEER,
                                    .dst = OUR1,
                                    .proto = 1,
                                    .ttl = 64,
                                    .options = opts,
                                    .options_len = 12,
                                    .payload = m,
                                    .payload_len = n });
        struct ns_pkt *r = ns_channel_read(e.t.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_PARAM_PROBLEM);
        assert_int_equal(ns_icmp4_pointer(h + 20), 27);
        ns_pkt_free(r);
        struct ns_stats after = stats_now(&e);
        assert_int_equal(after.ip.source_route_dropped, before.ip.source_route_dropped);
        assert_int_equal(after.ip.malformed_packets_received - before.ip.malformed_packets_received,
                         1);

        /* The same to forward: the Parameter Problem, no forwarding. */
        n = udp(m, PEER, FAR, 16);
        inject(&e, 1,
               &(struct ipv4_spec){ .src = PEER,
                                    .dst = FAR,
                                    .proto = 17,
                                    .ttl = 64,
                                    .options = opts,
                                    .options_len = 12,
                                    .payload = m,
                                    .payload_len = n });
        r = ns_channel_read(e.t.ch[1]);
        assert_non_null(r);
        h = ns_pkt_data(r);
        assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_PARAM_PROBLEM);
        ns_pkt_free(r);
        expect_silence(&e);
        struct ns_stats fin = stats_now(&e);
        assert_int_equal(fin.ip.source_route_dropped, before.ip.source_route_dropped);
        assert_int_equal(fin.ip.forwarded, 0);
        assert_int_equal(fin.ip.forward_errors - after.ip.forward_errors, 1);
        expect_served_and_clean(&e);
        env_down(&e);
}

/*
 * Item 21: options reaching a path that assumed none. A 3000-byte echo
 * request arrives in fragments, its first carrying Record Route and
 * Timestamp; the reply (options recorded) leaves a 576-byte link, so it
 * goes through the fragmenter: every piece within the MTU with a right
 * header checksum, offsets contiguous, MF on all but the last, RR and TS
 * (not copied, RFC 791) in the first piece only, and the pieces put
 * together are the request's data with a right ICMP checksum.
 */
static void test_item_21_options_through_the_fragmenter(void **state)
{
        (void)state;
        struct env e;
        env_up(&e, 576);
        /* NOP, RR with two slots, TS flag 0 with four slots: 32 bytes. */
        const uint8_t opts[32] = { 1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 68, 20, 5, 0 };
        static uint8_t m[4096], data[3000];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 13 + 5);
        uint32_t n = (uint32_t)ns_icmp4_emit_echo(m, sizeof(m), NS_ICMP4_ECHO, 0x1234, 4, data,
                                                  sizeof(data));
        assert_int_equal(n, 8 + sizeof(data));
        /* The request in 520-byte pieces (a multiple of 8; 572 bytes with the options). */
        for (uint32_t off = 0; off < n; off += 520) {
                uint32_t len = n - off < 520 ? n - off : 520;
                bool first = off == 0, last = off + len == n;
                inject(&e, 1,
                       &(struct ipv4_spec){ .src = PEER,
                                            .dst = OUR1,
                                            .proto = 1,
                                            .ttl = 64,
                                            .id = 21,
                                            .flags = last ? 0 : NS_IPV4_FLAG_MF,
                                            .frag_off = (uint16_t)off,
                                            .options = first ? opts : NULL,
                                            .options_len = first ? 32 : 0,
                                            .payload = m + off,
                                            .payload_len = len });
        }
        static uint8_t whole[4096];
        uint32_t done = 0, pieces = 0;
        uint16_t id = 0;
        bool saw_last = false;
        struct ns_pkt *f;
        while ((f = ns_channel_read(e.t.ch[1])) != NULL) {
                const uint8_t *h = ns_pkt_data(f);
                uint32_t len = ns_pkt_len(f), hl = (uint32_t)ns_ipv4_hdr_len(h);
                assert_true(len <= 576);
                assert_int_equal(ns_ipv4_validate(h, len), NS_IPV4_VALID);
                assert_true(ns_ipv4_checksum_ok(h, hl));
                assert_int_equal(ns_ipv4_total_len(h), len);
                assert_int_equal(ns_ipv4_dst(h), PEER);
                assert_int_equal(ns_ipv4_frag_off(h), done);
                if (pieces == 0) {
                        id = ns_ipv4_id(h);
                        assert_int_equal(hl, 52);
                        /* RR: pointer moved past one recorded address, ours. */
                        assert_int_equal(h[20 + 1], 7);
                        assert_int_equal(h[20 + 3], 8);
                        assert_memory_equal(h + 20 + 4, ((const uint8_t[]){ 192, 0, 2, 1 }), 4);
                        /* TS: one stamp written. */
                        assert_int_equal(h[20 + 12], 68);
                        assert_int_equal(h[20 + 14], 9);
                } else {
                        assert_int_equal(hl, 20);
                        assert_int_equal(ns_ipv4_id(h), id);
                }
                uint32_t chunk = len - hl;
                saw_last = !ns_ipv4_mf(h);
                if (!saw_last)
                        assert_int_equal(chunk % 8, 0);
                assert_true(done + chunk <= sizeof(whole));
                memcpy(whole + done, h + hl, chunk);
                done += chunk;
                pieces++;
                ns_pkt_free(f);
        }
        assert_true(saw_last);
        assert_true(pieces >= 6);
        assert_int_equal(done, n);
        assert_int_equal(ns_icmp4_type(whole), NS_ICMP4_ECHO_REPLY);
        assert_true(ns_icmp4_checksum_ok(whole, done));
        assert_memory_equal(whole + 8, m + 8, n - 8);
        expect_served_and_clean(&e);
        env_down(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_item_20_source_route_to_us_dropped),
                cmocka_unit_test(test_item_20_source_route_never_forwarded),
                cmocka_unit_test(test_item_20_source_routed_fragments_not_held),
                cmocka_unit_test(test_item_20_bad_area_with_source_route_gets_parameter_problem),
                cmocka_unit_test(test_item_21_options_through_the_fragmenter),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
