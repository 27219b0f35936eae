/*
 * HOSTILE-INPUTS section H, items 71 and 76: malformed ARP and ARP storms.
 * Every bad packet is dropped and counted, nothing is answered or learned,
 * and no flood grows the neighbour cache past NS_ARP_MAX_ENTRIES.
 */
#include "../scenario/test_arp_env.h"

/* HOSTILE 71 (Treck CVE-2020-11913/11914): ARP payloads of 0..27 bytes. */
static void test_runt_payloads_dropped(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        uint8_t full[60];
        build_arp(full, BCAST_MAC, PEER_MAC, NS_ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO_MAC,
                  OUR_IP);
        for (uint32_t len = 0; len < NS_ARP_LEN; len++) {
                /* No padding either: the frame ends where the payload does. */
                inject(&e, full, NS_ETH_HDR + len);
                if (ns_frame_channel_queued(e.fc) != 0)
                        fail_msg("payload of %u bytes answered", len);
        }
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.malformed_packets_received -
                             e.before.arp.malformed_packets_received,
                         NS_ARP_LEN);
        assert_int_equal(st.arp.requests_received, e.before.arp.requests_received);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        /* The whole packet is fine. */
        inject(&e, full, sizeof(full));
        assert_int_equal(ns_frame_channel_queued(e.fc), 1);
        assert_int_equal(ns_test_packets_in_use(&e.t), 1);
        arp_env_destroy(&e);
}

/* HOSTILE 71 (gVisor ARP.IsValid): each fixed field wrong, and bad senders. */
static void test_bad_fields_dropped(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                size_t off; /* byte in the ARP packet */
                uint8_t value;
        } rows[] = {
                { "htype 6 (IEEE 802), RFC 826", 1, 6 },
                { "htype 0x0101", 0, 1 },
                { "ptype 0x86dd", 2, 0x86 },
                { "ptype 0x0801", 3, 0x01 },
                { "hlen 8", 4, 8 },
                { "hlen 0", 4, 0 },
                { "plen 16", 5, 16 },
                { "plen 0", 5, 0 },
                { "op 0", 7, 0 },
                { "op 3 (RARP request)", 7, 3 },
                { "op 0x0101", 6, 1 },
                { "sha broadcast", 8, 0xff },
                { "sha multicast", 8, 0x01 },
                { "spa multicast 224.x", 14, 224 },
                { "tpa multicast 239.x", 24, 239 },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct arp_env e;
                arp_env_init(&e);
                uint8_t f[60];
                build_arp(f, BCAST_MAC, PEER_MAC, NS_ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO_MAC,
                          OUR_IP);
                if (rows[i].off == 8 && rows[i].value == 0xff)
                        memset(f + NS_ETH_HDR + 8, 0xff, 6);
                else
                        f[NS_ETH_HDR + rows[i].off] = rows[i].value;
                inject(&e, f, sizeof(f));
                struct ns_stats st = arp_stats(&e);
                if (ns_frame_channel_queued(e.fc) != 0)
                        fail_msg("row %s: answered", rows[i].name);
                if (st.arp.malformed_packets_received - e.before.arp.malformed_packets_received !=
                    1)
                        fail_msg("row %s: not counted malformed", rows[i].name);
                if (ns_arp_entries(e.t.s, 1, NULL, 0) != 0)
                        fail_msg("row %s: learned", rows[i].name);
                arp_env_destroy(&e);
        }
}

/* HOSTILE 76: 10000 requesters for our address; the cache stays bounded. */
static void test_request_flood_keeps_table_bounded(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        for (uint32_t i = 0; i < 10000; i++) {
                uint8_t mac[6] = {
                        0x02, 0x10, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i
                };
                ns_ip4 spa = NS_IP4(10, 0, 0, 0) + 1 + i; /* off-subnet senders too */
                uint8_t f[60];
                build_arp(f, BCAST_MAC, mac, NS_ARP_OP_REQUEST, mac, spa, ZERO_MAC, OUR_IP);
                inject(&e, f, sizeof(f));
                ns_frame_channel_drain(e.fc);
                assert_true(ns_arp_entries(e.t.s, 1, NULL, 0) <= NS_ARP_MAX_ENTRIES);
        }
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), NS_ARP_MAX_ENTRIES);
        /* The newest requester is known, the oldest was evicted. */
        struct ns_arp_entry ent;
        assert_int_equal(ns_arp_lookup(e.t.s, 1, NS_IP4(10, 0, 0, 0) + 10000, &ent), 0);
        assert_int_equal(ns_arp_lookup(e.t.s, 1, NS_IP4(10, 0, 0, 1), &ent), NS_ERR_NOT_FOUND);
        /* A static entry survives the flood. */
        assert_int_equal(ns_arp_add_static(e.t.s, 1, PEER_IP, PEER_MAC), 0);
        for (uint32_t i = 0; i < 1000; i++) {
                uint8_t mac[6] = { 0x02, 0x20, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
                uint8_t f[60];
                build_arp(f, BCAST_MAC, mac, NS_ARP_OP_REQUEST, mac, NS_IP4(10, 1, 0, 0) + i,
                          ZERO_MAC, OUR_IP);
                inject(&e, f, sizeof(f));
                ns_frame_channel_drain(e.fc);
        }
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_STATIC);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        arp_env_destroy(&e);
}

/* Requests for 10000 targets we do not own create nothing at all. */
static void test_foreign_request_flood_learns_nothing(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        for (uint32_t i = 0; i < 10000; i++) {
                uint8_t f[60];
                build_arp(f, BCAST_MAC, PEER_MAC, NS_ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO_MAC,
                          NS_IP4(203, 0, 113, 0) + i);
                inject(&e, f, sizeof(f));
        }
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.requests_received_unknown_target_address -
                             e.before.arp.requests_received_unknown_target_address,
                         10000);
        arp_env_destroy(&e);
}

/*
 * Sending to 10000 unresolved neighbours (an echo scan answered, a port
 * scan from spoofed sources): entries and queued packets stay bounded, one
 * request per target, and the table drains by itself.
 */
static void test_outgoing_flood_bounded(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        struct ns_ip4_prefix wide = { NS_IP4(10, 0, 0, 1), 8 };
        assert_int_equal(ns_nic_add_address(e.t.s, 1, wide), 0);
        ns_frame_channel_drain(e.fc); /* its gratuitous ARP */
        ns_stack_get_stats(e.t.s, &e.before);
        for (uint32_t i = 0; i < 10000; i++) {
                uint8_t f[128];
                ns_ip4 src = NS_IP4(10, 0, 0, 0) + 2 + i;
                size_t n =
                    build_echo_frame(f, OUR_MAC, PEER_MAC, src, NS_IP4(10, 0, 0, 1), (uint16_t)i);
                inject(&e, f, n);
                ns_frame_channel_drain(e.fc);
                assert_true(ns_arp_entries(e.t.s, 1, NULL, 0) <= NS_ARP_MAX_ENTRIES);
                assert_true(ns_test_packets_in_use(&e.t) <= NS_ARP_MAX_ENTRIES * NS_ARP_QUEUE_LEN);
        }
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent,
                         10000);
        assert_int_equal(st.arp.pending_queue_dropped - e.before.arp.pending_queue_dropped,
                         10000 - NS_ARP_MAX_ENTRIES);
        /* Everything fails, is answered with (local) ICMP, and is collected. */
        for (int i = 0; i < 4; i++)
                ns_test_advance(&e.t, SEC);
        ns_frame_channel_drain(e.fc);
        ns_test_advance(&e.t, NS_ARP_GC_STALE_NS);
        ns_frame_channel_drain(e.fc);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        arp_env_destroy(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runt_payloads_dropped),
                cmocka_unit_test(test_bad_fields_dropped),
                cmocka_unit_test(test_request_flood_keeps_table_bounded),
                cmocka_unit_test(test_foreign_request_flood_learns_nothing),
                cmocka_unit_test(test_outgoing_flood_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
