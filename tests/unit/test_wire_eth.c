/* Ethernet II header codec and MAC helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "wire/eth.h"

static const uint8_t frame[] = {
        0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, /* dst: 224.0.0.22's MAC */
        0x02, 0x11, 0x22, 0x33, 0x44, 0x55, /* src */
        0x08, 0x00,                         /* IPv4 */
        0x45,
};

static void test_parse_reads_each_field(void **state)
{
        (void)state;
        struct ns_eth_fields h;
        assert_int_equal(ns_eth_parse(frame, sizeof(frame), &h), NS_ETH_VALID);
        assert_memory_equal(h.dst.b, frame, 6);
        assert_memory_equal(h.src.b, frame + 6, 6);
        assert_int_equal(h.ethertype, NS_ETHERTYPE_IPV4);
        assert_int_equal(ns_eth_ethertype(frame), 0x0800);
}

static void test_every_length_below_14_is_too_short(void **state)
{
        (void)state;
        struct ns_eth_fields h;
        for (size_t len = 0; len < NS_ETH_HDR; len++) {
                assert_int_equal(ns_eth_validate(frame, len), NS_ETH_TOO_SHORT);
                assert_int_equal(ns_eth_parse(frame, len, &h), NS_ETH_TOO_SHORT);
        }
        assert_int_equal(ns_eth_validate(frame, NS_ETH_HDR), NS_ETH_VALID);
        assert_string_equal(ns_eth_invalid_name(NS_ETH_TOO_SHORT), "too_short");
}

static void test_emit_then_parse_round_trips(void **state)
{
        (void)state;
        struct ns_eth_fields in = { .dst = ns_mac_broadcast(),
                                    .src = { { 0x02, 0, 0, 0, 0, 1 } },
                                    .ethertype = NS_ETHERTYPE_ARP };
        uint8_t buf[NS_ETH_HDR];
        assert_int_equal(ns_eth_emit(buf, sizeof(buf), &in), NS_ETH_HDR);
        assert_int_equal(buf[12], 0x08);
        assert_int_equal(buf[13], 0x06);
        struct ns_eth_fields out;
        assert_int_equal(ns_eth_parse(buf, sizeof(buf), &out), NS_ETH_VALID);
        assert_true(ns_mac_equal(&in.dst, &out.dst));
        assert_true(ns_mac_equal(&in.src, &out.src));
        assert_int_equal(in.ethertype, out.ethertype);
        assert_int_equal(ns_eth_emit(buf, NS_ETH_HDR - 1, &in), 0);
}

static void test_broadcast_and_multicast_bits(void **state)
{
        (void)state;
        struct ns_mac b = ns_mac_broadcast();
        struct ns_mac m = { { 0x01, 0x00, 0x5e, 0, 0, 1 } };
        struct ns_mac u = { { 0x02, 0x00, 0x5e, 0, 0, 1 } };
        struct ns_mac z = { { 0 } };
        struct ns_mac almost = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe } };
        assert_true(ns_mac_is_broadcast(&b));
        assert_true(ns_mac_is_multicast(&b));
        assert_false(ns_mac_is_broadcast(&m));
        assert_true(ns_mac_is_multicast(&m));
        assert_false(ns_mac_is_multicast(&u));
        assert_false(ns_mac_is_broadcast(&almost));
        assert_true(ns_mac_is_zero(&z));
        assert_false(ns_mac_is_zero(&u));
}

/* RFC 1112 6.4: 01:00:5e and the low 23 bits of the group. */
static void test_ipv4_multicast_mac_uses_low_23_bits(void **state)
{
        (void)state;
        struct ns_mac m = ns_mac_from_ip4_multicast(NS_IP4(224, 0, 0, 1));
        const uint8_t all_systems[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
        assert_memory_equal(m.b, all_systems, 6);
        m = ns_mac_from_ip4_multicast(NS_IP4(239, 255, 255, 250));
        const uint8_t ssdp[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa };
        assert_memory_equal(m.b, ssdp, 6);
        /* Bit 23 is dropped: 224.128.0.1 shares 224.0.0.1's MAC. */
        struct ns_mac a = ns_mac_from_ip4_multicast(NS_IP4(224, 128, 0, 1));
        assert_memory_equal(a.b, all_systems, 6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_reads_each_field),
                cmocka_unit_test(test_every_length_below_14_is_too_short),
                cmocka_unit_test(test_emit_then_parse_round_trips),
                cmocka_unit_test(test_broadcast_and_multicast_bits),
                cmocka_unit_test(test_ipv4_multicast_mac_uses_low_23_bits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
