/*
 * The Ethernet link (RFC 894) over the in-memory frame device: length
 * checks (HOSTILE 77), MAC filtering, EtherType demux, link-broadcast
 * marking (RFC 1122 3.2.2: no ICMP errors about them) and padding.
 */
#include "test_arp_env.h"

/* Frames of 0..13 bytes and of MTU + 15 are length errors; MTU + 14 is not. */
static void test_runts_and_giants_counted(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        static uint8_t f[1600];
        memset(f, 0, sizeof(f));
        put_eth(f, OUR_MAC, PEER_MAC, NS_ETHERTYPE_IPV4);
        for (uint32_t len = 0; len < NS_ETH_HDR; len++)
                inject(&e, f, len);
        inject(&e, f, 1500 + NS_ETH_HDR + 1);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.nic.malformed_l2 - e.before.nic.malformed_l2, NS_ETH_HDR + 1);
        assert_int_equal(st.nic.rx_packets, e.before.nic.rx_packets);
        struct ns_eth_stats es;
        ns_eth_get_stats(e.eth, &es);
        assert_int_equal(es.rx_length_errors, NS_ETH_HDR + 1);
        /* A full-size frame reaches IPv4 (which finds it malformed: zeros). */
        inject(&e, f, 1500 + NS_ETH_HDR);
        st = arp_stats(&e);
        assert_int_equal(st.nic.rx_packets - e.before.nic.rx_packets, 1);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        arp_env_destroy(&e);
}

/* Another host's unicast frames are dropped unless promiscuous. */
static void test_other_host_unicast_filtered(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        assert_int_equal(ns_arp_add_static(e.t.s, 1, PEER_IP, PEER_MAC), 0);
        uint8_t f[128];
        size_t n = build_echo_frame(f, ALT_MAC, PEER_MAC, PEER_IP, OUR_IP, 1);
        inject(&e, f, n);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        struct ns_eth_stats es;
        ns_eth_get_stats(e.eth, &es);
        assert_int_equal(es.rx_other_host, 1);
        ns_eth_set_promiscuous(e.eth, true);
        inject(&e, f, n);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        arp_env_destroy(&e);
}

static const uint8_t ALL_SYSTEMS_MAC[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/* A UDP datagram to a closed port: answered when unicast, not in a link broadcast. */
static void test_link_broadcast_gets_no_icmp_error(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                const uint8_t *dst_mac;
                int errors;
        } rows[] = {
                { "unicast frame: port unreachable", OUR_MAC, 1 },
                { "broadcast frame: silence (RFC 1122 3.2.2)", BCAST_MAC, 0 },
                { "multicast frame: silence", ALL_SYSTEMS_MAC, 0 },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct arp_env e;
                arp_env_init(&e);
                assert_int_equal(ns_arp_add_static(e.t.s, 1, PEER_IP, PEER_MAC), 0);
                uint8_t f[128];
                size_t n = put_eth(f, rows[i].dst_mac, PEER_MAC, NS_ETHERTYPE_IPV4);
                uint8_t *u = f + n + 20;
                ns_store_be16(u, 1234);
                ns_store_be16(u + 2, 9);
                ns_store_be16(u + 4, 12);
                ns_store_be16(u + 6, 0);
                memcpy(u + 8, "data", 4);
                struct ns_ipv4_fields h = { .total_len = 32,
                                            .id = 1,
                                            .ttl = 64,
                                            .proto = 17,
                                            .src = PEER_IP,
                                            .dst = OUR_IP };
                ns_ipv4_emit(f + n, 20, &h);
                inject(&e, f, n + 32);
                struct ns_stats st = arp_stats(&e);
                if ((int)(st.icmp.sent_dst_unreachable - e.before.icmp.sent_dst_unreachable) !=
                    rows[i].errors)
                        fail_msg("row %s", rows[i].name);
                assert_int_equal(ns_frame_channel_queued(e.fc), (uint32_t)rows[i].errors);
                arp_env_destroy(&e);
        }
}

/* Unknown EtherTypes (IPv6, VLAN tags) are counted by the NIC. */
static void test_unknown_ethertype_counted(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        uint8_t f[60] = { 0 };
        put_eth(f, OUR_MAC, PEER_MAC, NS_ETHERTYPE_IPV6);
        inject(&e, f, sizeof(f));
        put_eth(f, OUR_MAC, PEER_MAC, NS_ETHERTYPE_VLAN);
        inject(&e, f, sizeof(f));
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.nic.unknown_l3_protocol - e.before.nic.unknown_l3_protocol, 2);
        arp_env_destroy(&e);
}

/* The link contract: caps, MTU, header length, address. */
static void test_link_presents_resolution_required(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        struct ns_link *l = ns_eth_link(e.eth);
        assert_true(l->caps & NS_LINK_CAP_RESOLUTION_REQUIRED);
        assert_int_equal(l->mtu, 1500);
        assert_int_equal(l->max_header_len, 14);
        assert_memory_equal(l->addr, OUR_MAC, 6);
        /* A group address is no station address. */
        struct ns_frame_channel *fc = ns_frame_channel_create(NULL, 1500, 0);
        assert_null(ns_eth_create(NULL, ns_frame_channel_dev(fc), BCAST_MAC));
        ns_frame_channel_destroy(fc);
        arp_env_destroy(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runts_and_giants_counted),
                cmocka_unit_test(test_other_host_unicast_filtered),
                cmocka_unit_test(test_link_broadcast_gets_no_icmp_error),
                cmocka_unit_test(test_unknown_ethertype_counted),
                cmocka_unit_test(test_link_presents_resolution_required),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
