/*
 * HOSTILE-INPUTS 47-54 on the forwarding path: egress MTUs at the edges
 * (68, not a multiple of 8, a 60-byte header), the fragment-size property
 * over many MTU and size pairs, a next hop that never answers ARP (ICMP
 * host unreachable, RFC 1812 4.3.3.1), and NICs removed or disabled while
 * traffic is forwarded through them. Items 49-53 have rows in
 * tests/scenario/test_forward.c. Every test ends with the pool empty.
 */
#include "../scenario/test_arp_env.h"
#include "ipv4_build.h"

#define HOST1 NS_IP4(198, 51, 100, 7) /* behind the channel NIC 2 */
#define CH2   NS_IP4(198, 51, 100, 1)
#define PROTO 253

/* NIC 1 at `mtu` (channel, 192.0.2.1/24), NIC 2 at 65535 (ingress, 198.51.100.1/24). */
static void two_channels(struct ns_test_env *env, uint32_t mtu)
{
        ns_test_env_init(env, arp_mods);
        ns_test_add_nic(env, 1, mtu, OUR_IP, 24);
        ns_test_add_nic(env, 2, 65535, CH2, 24);
        assert_int_equal(ns_ipv4_set_param(env->s, NS_IPV4_PARAM_FORWARDING, 1), 0);
}

static void done(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

/* Sends a datagram of `len` bytes (header hlen) in on NIC 2 towards PEER_IP. */
static size_t send_through(struct ns_test_env *env, uint8_t *buf, size_t cap, uint32_t len,
                           const uint8_t *opts, uint8_t opts_len)
{
        static uint8_t payload[65535];
        for (uint32_t i = 0; i < sizeof(payload); i++)
                payload[i] = (uint8_t)(i * 31 + 7);
        struct ipv4_spec s = { .src = HOST1,
                               .dst = PEER_IP,
                               .ttl = 64,
                               .proto = PROTO,
                               .id = 99,
                               .options = opts,
                               .options_len = opts_len,
                               .payload = payload,
                               .payload_len = len - 20 - opts_len };
        size_t n = ipv4_build(buf, cap, &s);
        assert_int_equal(ns_channel_inject_bytes(env->ch[2], 0x0800, buf, (uint32_t)n), 0);
        return n;
}

/* The fragment property (HOSTILE 48) of what left NIC 1; returns the count. */
static uint32_t check_pieces(struct ns_test_env *env, const uint8_t *in, size_t len, uint32_t mtu)
{
        size_t hlen = ns_ipv4_hdr_len(in), done_bytes = 0;
        uint32_t count = 0;
        struct ns_pkt *f;
        while ((f = ns_channel_read(env->ch[1])) != NULL) {
                const uint8_t *h = ns_pkt_data(f);
                size_t hl = ns_ipv4_hdr_len(h), fl = ns_pkt_len(f), chunk = fl - hl;
                assert_true(fl <= mtu);
                assert_int_equal(ns_ipv4_frag_off(h), done_bytes);
                assert_int_equal(ns_ipv4_id(h), 99);
                bool last = done_bytes + chunk == len - hlen;
                assert_int_equal(ns_ipv4_mf(h), !last);
                if (!last)
                        assert_int_equal(chunk % 8, 0);
                assert_true(chunk > 0);
                assert_memory_equal(h + hl, in + hlen + done_bytes, chunk);
                done_bytes += chunk;
                count++;
                ns_pkt_free(f);
        }
        assert_int_equal(done_bytes, len - hlen);
        return count;
}

/* HOSTILE 47: MTU 68 with a 60-byte header, MTUs not a multiple of 8. */
static void test_mtu_edges(void **state)
{
        (void)state;
        static uint8_t buf[70000];
        uint8_t nops[40];
        memset(nops, 1, sizeof(nops)); /* NOPs: first fragment only (not copied) */
        static const uint32_t mtus[] = { 68, 69, 75, 1283, 1499 };
        for (size_t i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
                struct ns_test_env env;
                two_channels(&env, mtus[i]);
                size_t n = send_through(&env, buf, sizeof(buf), 3000, nops, 40);
                uint32_t pieces = check_pieces(&env, buf, n, mtus[i]);
                assert_true(pieces >= 2);
                done(&env);
        }
}

/* HOSTILE 48: pieces within the MTU, contiguous, MF on all but the last. */
static void test_fragment_property(void **state)
{
        (void)state;
        static uint8_t buf[70000];
        uint32_t seed = 12345, checked = 0;
        struct ns_test_env env;
        for (uint32_t mtu = 68; mtu <= 9000; mtu += 97) {
                two_channels(&env, mtu);
                for (int k = 0; k < 6; k++) {
                        seed = seed * 1103515245u + 12345u;
                        uint32_t len = 21 + (seed >> 8) % (65535 - 21);
                        size_t n = send_through(&env, buf, sizeof(buf), len, NULL, 0);
                        uint32_t pieces = check_pieces(&env, buf, n, mtu);
                        assert_int_equal(pieces, len <= mtu ? 1
                                                            : (len - 20 + ((mtu - 20) & ~7u) - 1) /
                                                                  ((mtu - 20) & ~7u));
                        checked++;
                }
                done(&env);
        }
        assert_true(checked > 500);
}

/* RFC 1812 4.3.3.1: a next hop that never answers ARP gets host unreachable. */
static void test_next_hop_unresolved(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        ns_test_add_nic(&e.t, 2, 1500, CH2, 24);
        assert_int_equal(ns_ipv4_set_param(e.t.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        ns_stack_get_stats(e.t.s, &e.before);
        uint8_t buf[128];
        send_through(&e.t, buf, sizeof(buf), 48, NULL, 0);
        expect_request(&e, PEER_IP);
        for (int i = 0; i < 4; i++)
                ns_test_advance(&e.t, SEC);
        ns_frame_channel_drain(e.fc);
        struct ns_pkt *r = ns_channel_read(e.t.ch[2]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_dst(h), HOST1);
        assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_DEST_UNREACH);
        assert_int_equal(ns_icmp4_code(h + 20), NS_ICMP4_HOST_UNREACH);
        assert_memory_equal(h + 28 + 20, buf + 20, 8);
        ns_pkt_free(r);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.ip.forwarded - e.before.ip.forwarded, 1);
        assert_int_equal(st.ip.forward_host_unreachable - e.before.ip.forward_host_unreachable, 1);
        assert_int_equal(st.ip.forward_errors - e.before.ip.forward_errors, 1);
        arp_env_destroy(&e);
}

/*
 * HOSTILE 54 (gvisor@966dfe550): the egress NIC goes away while datagrams
 * wait for its ARP, then the ingress one while traffic still arrives.
 */
static void test_nic_removed_while_forwarding(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        ns_test_add_nic(&e.t, 2, 1500, CH2, 24);
        ns_test_add_nic(&e.t, 3, 1500, NS_IP4(203, 0, 113, 1), 24);
        assert_int_equal(ns_ipv4_set_param(e.t.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        uint8_t buf[128];
        for (int i = 0; i < 5; i++)
                send_through(&e.t, buf, sizeof(buf), 100, NULL, 0);
        ns_frame_channel_drain(e.fc);
        /* Five datagrams queued for PEER_IP's address; the NIC is disabled, then removed. */
        assert_int_equal(ns_nic_disable(e.t.s, 1), 0);
        send_through(&e.t, buf, sizeof(buf), 100, NULL, 0);
        assert_int_equal(ns_nic_remove(e.t.s, 1), 0);
        ns_test_advance(&e.t, 5 * SEC);
        /* No route any more: network unreachable, nothing else. */
        ns_test_drain_all(&e.t);
        struct ns_stats before = arp_stats(&e);
        send_through(&e.t, buf, sizeof(buf), 100, NULL, 0);
        struct ns_stats after = arp_stats(&e);
        assert_int_equal(after.ip.forward_unrouteable - before.ip.forward_unrouteable, 1);
        struct ns_pkt *r = ns_channel_read(e.t.ch[2]);
        assert_non_null(r);
        assert_int_equal(ns_icmp4_code(ns_pkt_data(r) + 20), NS_ICMP4_NET_UNREACH);
        ns_pkt_free(r);
        /* Traffic NIC 2 -> NIC 3 while NIC 2 itself is removed mid-stream. */
        struct ipv4_spec s = {
                .src = HOST1, .dst = NS_IP4(203, 0, 113, 9), .ttl = 64, .proto = PROTO
        };
        for (int i = 0; i < 10; i++) {
                size_t n = ipv4_build(buf, sizeof(buf), &s);
                if (i == 5)
                        assert_int_equal(ns_nic_remove(e.t.s, 2), 0);
                if (i < 5)
                        assert_int_equal(
                            ns_channel_inject_bytes(e.t.ch[2], 0x0800, buf, (uint32_t)n), 0);
        }
        assert_int_equal(ns_channel_queued(e.t.ch[3]), 5);
        ns_channel_drain(e.t.ch[3]);
        ns_test_advance(&e.t, 5 * SEC);
        ns_channel_drain(e.t.ch[2]);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        arp_env_destroy(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mtu_edges),
                cmocka_unit_test(test_fragment_property),
                cmocka_unit_test(test_next_hop_unresolved),
                cmocka_unit_test(test_nic_removed_while_forwarding),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
