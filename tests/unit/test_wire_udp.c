/* UDP header codec and pseudo-header checksum (RFC 768). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/checksum.h>

#include "wire/udp.h"

#define SRC NS_IP4(192, 0, 2, 1)
#define DST NS_IP4(198, 51, 100, 7)

/* 192.0.2.1:1234 -> 198.51.100.7:53 "hello"; checksum from an independent
 * Python RFC 1071 implementation. */
static const uint8_t hello[] = {
        0x04, 0xd2, 0x00, 0x35, 0x00, 0x0d, 0xca, 0xbe, 'h', 'e', 'l', 'l', 'o',
};

static void test_known_vector_checksum(void **state)
{
        (void)state;
        assert_int_equal(ns_udp_validate(hello, sizeof(hello)), NS_UDP_VALID);
        assert_int_equal(ns_udp_compute_checksum(hello, sizeof(hello), SRC, DST), 0xcabe);
        assert_true(ns_udp_checksum_ok(hello, sizeof(hello), SRC, DST));
        /* A different pseudo-header fails. */
        assert_false(ns_udp_checksum_ok(hello, sizeof(hello), SRC, DST + 1));
        uint8_t bad[sizeof(hello)];
        memcpy(bad, hello, sizeof(bad));
        bad[12] ^= 1;
        assert_false(ns_udp_checksum_ok(bad, sizeof(bad), SRC, DST));
}

static void test_zero_checksum_means_none(void **state)
{
        (void)state;
        uint8_t p[sizeof(hello)];
        memcpy(p, hello, sizeof(p));
        ns_udp_set_checksum(p, 0);
        assert_true(ns_udp_checksum_ok(p, sizeof(p), SRC, DST));
}

/* RFC 768: a computed checksum of zero is transmitted as all ones. */
static void test_computed_zero_is_sent_as_ffff(void **state)
{
        (void)state;
        uint8_t p[12] = { 0 };
        ns_udp_set_src_port(p, 7);
        ns_udp_set_dst_port(p, 9);
        ns_udp_set_length(p, sizeof(p));
        uint16_t c = ns_udp_compute_checksum(p, sizeof(p), SRC, DST);
        /* Put the complement of the sum into the payload: the sum becomes
         * 0xffff and the computed field would be 0. */
        ns_store_be16(p + 8, c);
        assert_int_equal(ns_udp_compute_checksum(p, sizeof(p), SRC, DST), 0xffff);
        ns_udp_set_checksum(p, 0xffff);
        assert_true(ns_udp_checksum_ok(p, sizeof(p), SRC, DST));
}

static void test_every_length_below_8_is_too_short(void **state)
{
        (void)state;
        for (size_t len = 0; len < NS_UDP_HDR; len++)
                assert_int_equal(ns_udp_validate(hello, len), NS_UDP_TOO_SHORT);
}

static void test_length_field_bounds(void **state)
{
        (void)state;
        uint8_t p[sizeof(hello)];
        memcpy(p, hello, sizeof(p));
        for (uint16_t l = 0; l < NS_UDP_HDR; l++) {
                ns_udp_set_length(p, l);
                assert_int_equal(ns_udp_validate(p, sizeof(p)), NS_UDP_LEN_TOO_SMALL);
        }
        ns_udp_set_length(p, sizeof(p) + 1);
        assert_int_equal(ns_udp_validate(p, sizeof(p)), NS_UDP_LEN_TOO_LONG);
        ns_udp_set_length(p, 8);
        assert_int_equal(ns_udp_validate(p, sizeof(p)), NS_UDP_VALID); /* padding allowed */
        assert_string_equal(ns_udp_invalid_name(NS_UDP_LEN_TOO_LONG), "len_too_long");
}

/* U-Boot's fix forgot ntohs and mishandled multiples of 256. */
static void test_lengths_that_are_multiples_of_256(void **state)
{
        (void)state;
        static uint8_t p[1024];
        for (size_t len = 256; len <= sizeof(p); len += 256) {
                memset(p, 0xa5, sizeof(p));
                assert_int_equal(ns_udp_emit_datagram(p, len, 1, 2, SRC, DST), NS_UDP_HDR);
                assert_int_equal(p[4], (uint8_t)(len >> 8));
                assert_int_equal(p[5], 0);
                assert_int_equal(ns_udp_length(p), len);
                assert_int_equal(ns_udp_validate(p, len), NS_UDP_VALID);
                assert_int_equal(ns_udp_validate(p, len - 1), NS_UDP_LEN_TOO_LONG);
                assert_true(ns_udp_checksum_ok(p, len, SRC, DST));
        }
}

static void test_emit_then_parse_round_trips(void **state)
{
        (void)state;
        struct ns_udp_fields in = {
                .src_port = 0x1234, .dst_port = 0xfedc, .length = 8, .checksum = 0xbeef
        };
        uint8_t buf[NS_UDP_HDR];
        assert_int_equal(ns_udp_emit(buf, sizeof(buf), &in), NS_UDP_HDR);
        struct ns_udp_fields out;
        assert_int_equal(ns_udp_parse(buf, sizeof(buf), &out), NS_UDP_VALID);
        assert_memory_equal(&in, &out, sizeof(in));
        assert_int_equal(ns_udp_emit(buf, 7, &in), 0);
        assert_int_equal(ns_udp_emit_datagram(buf, 7, 1, 2, SRC, DST), 0);
}

static void test_checksum_from_partial_matches_contiguous(void **state)
{
        (void)state;
        uint8_t p[sizeof(hello)];
        memcpy(p, hello, sizeof(p));
        ns_udp_set_checksum(p, 0);
        uint32_t part = ns_csum_partial(p, sizeof(p), 0);
        assert_int_equal(ns_udp_checksum_from_partial(part, sizeof(p), SRC, DST), 0xcabe);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_vector_checksum),
                cmocka_unit_test(test_zero_checksum_means_none),
                cmocka_unit_test(test_computed_zero_is_sent_as_ffff),
                cmocka_unit_test(test_every_length_below_8_is_too_short),
                cmocka_unit_test(test_length_field_bounds),
                cmocka_unit_test(test_lengths_that_are_multiples_of_256),
                cmocka_unit_test(test_emit_then_parse_round_trips),
                cmocka_unit_test(test_checksum_from_partial_matches_contiguous),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
