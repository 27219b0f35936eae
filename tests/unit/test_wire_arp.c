/* Ethernet/IPv4 ARP codec (RFC 826); HOSTILE-INPUTS H.71. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "wire/arp.h"

/* who-has 192.0.2.2 tell 192.0.2.1 */
static const uint8_t request[NS_ARP_LEN] = {
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* fixed part, op 1 */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01,             /* sha */
        0xc0, 0x00, 0x02, 0x01,                         /* spa */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* tha */
        0xc0, 0x00, 0x02, 0x02,                         /* tpa */
};

static void test_request_vector_parses(void **state)
{
        (void)state;
        struct ns_arp_fields a;
        assert_int_equal(ns_arp_parse(request, sizeof(request), &a), NS_ARP_VALID);
        assert_int_equal(a.op, NS_ARP_OP_REQUEST);
        assert_int_equal(a.spa, NS_IP4(192, 0, 2, 1));
        assert_int_equal(a.tpa, NS_IP4(192, 0, 2, 2));
        assert_memory_equal(a.sha.b, request + 8, 6);
        assert_true(ns_mac_is_zero(&a.tha));
}

static void test_every_length_0_to_27_is_too_short(void **state)
{
        (void)state;
        struct ns_arp_fields a;
        for (size_t len = 0; len < NS_ARP_LEN; len++) {
                assert_int_equal(ns_arp_validate(request, len), NS_ARP_TOO_SHORT);
                assert_int_equal(ns_arp_parse(request, len, &a), NS_ARP_TOO_SHORT);
        }
}

static void test_padding_after_28_bytes_is_ignored(void **state)
{
        (void)state;
        uint8_t padded[46] = { 0 };
        memcpy(padded, request, sizeof(request));
        assert_int_equal(ns_arp_validate(padded, sizeof(padded)), NS_ARP_VALID);
}

static enum ns_arp_invalid with_byte(size_t off, uint8_t v)
{
        uint8_t p[NS_ARP_LEN];
        memcpy(p, request, sizeof(p));
        p[off] = v;
        return ns_arp_validate(p, sizeof(p));
}

static void test_each_fixed_field_has_its_own_reason(void **state)
{
        (void)state;
        assert_int_equal(with_byte(1, 6), NS_ARP_BAD_HTYPE);    /* IEEE 802 */
        assert_int_equal(with_byte(0, 1), NS_ARP_BAD_HTYPE);    /* 0x0101 */
        assert_int_equal(with_byte(2, 0x86), NS_ARP_BAD_PTYPE); /* 0x8600 */
        assert_int_equal(with_byte(3, 0x06), NS_ARP_BAD_PTYPE); /* 0x0806 */
        assert_int_equal(with_byte(4, 8), NS_ARP_BAD_HLEN);
        assert_int_equal(with_byte(4, 0), NS_ARP_BAD_HLEN);
        assert_int_equal(with_byte(5, 16), NS_ARP_BAD_PLEN);
        assert_int_equal(with_byte(7, 0), NS_ARP_BAD_OP);
        assert_int_equal(with_byte(7, 3), NS_ARP_BAD_OP);
        assert_int_equal(with_byte(6, 1), NS_ARP_BAD_OP); /* 0x0101 */
        assert_int_equal(with_byte(7, 2), NS_ARP_VALID);
        assert_string_equal(ns_arp_invalid_name(NS_ARP_BAD_HLEN), "bad_hlen");
        assert_string_equal(ns_arp_invalid_name(NS_ARP_BAD_PTYPE), "bad_ptype");
}

/* HOSTILE-INPUTS H.73: every field of a generated packet is set. */
static void test_emit_then_parse_round_trips_every_field(void **state)
{
        (void)state;
        struct ns_arp_fields in = {
                .op = NS_ARP_OP_REPLY,
                .sha = { { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee } },
                .spa = NS_IP4(198, 51, 100, 1),
                .tha = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } },
                .tpa = NS_IP4(198, 51, 100, 254),
        };
        uint8_t buf[NS_ARP_LEN];
        assert_int_equal(ns_arp_emit(buf, sizeof(buf), &in), NS_ARP_LEN);
        assert_int_equal(buf[7], 2);
        assert_int_equal(buf[24], 198);
        assert_int_equal(buf[27], 254);
        struct ns_arp_fields out;
        assert_int_equal(ns_arp_parse(buf, sizeof(buf), &out), NS_ARP_VALID);
        assert_int_equal(out.op, in.op);
        assert_true(ns_mac_equal(&out.sha, &in.sha));
        assert_true(ns_mac_equal(&out.tha, &in.tha));
        assert_int_equal(out.spa, in.spa);
        assert_int_equal(out.tpa, in.tpa);
        assert_int_equal(ns_arp_emit(buf, NS_ARP_LEN - 1, &in), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_vector_parses),
                cmocka_unit_test(test_every_length_0_to_27_is_too_short),
                cmocka_unit_test(test_padding_after_28_bytes_is_ignored),
                cmocka_unit_test(test_each_fixed_field_has_its_own_reason),
                cmocka_unit_test(test_emit_then_parse_round_trips_every_field),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
