/* ICMPv4 codec (RFC 792, RFC 1122 3.2.2); HOSTILE-INPUTS F. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "wire/icmp4.h"

/* Echo id 0x1234 seq 1 "abc"; checksum from an independent Python RFC 1071
 * implementation. */
static const uint8_t echo_abc[] = { 8, 0, 0x21, 0x68, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c' };

static void test_known_echo_vector(void **state)
{
        (void)state;
        assert_int_equal(ns_icmp4_validate(echo_abc, sizeof(echo_abc)), NS_ICMP4_VALID);
        assert_true(ns_icmp4_checksum_ok(echo_abc, sizeof(echo_abc)));
        assert_int_equal(ns_icmp4_compute_checksum(echo_abc, sizeof(echo_abc)), 0x2168);
        assert_int_equal(ns_icmp4_type(echo_abc), NS_ICMP4_ECHO);
        assert_int_equal(ns_icmp4_id(echo_abc), 0x1234);
        assert_int_equal(ns_icmp4_seq(echo_abc), 1);
        uint8_t bad[sizeof(echo_abc)];
        memcpy(bad, echo_abc, sizeof(bad));
        bad[10] = 'd';
        assert_false(ns_icmp4_checksum_ok(bad, sizeof(bad)));
}

/* F.55: ICMP shorter than 8 bytes. */
static void test_every_length_below_8_is_too_short(void **state)
{
        (void)state;
        for (size_t len = 0; len < NS_ICMP4_HDR; len++)
                assert_int_equal(ns_icmp4_validate(echo_abc, len), NS_ICMP4_TOO_SHORT);
}

static void test_timestamp_and_mask_need_their_body(void **state)
{
        (void)state;
        uint8_t m[20] = { NS_ICMP4_TIMESTAMP };
        for (size_t len = 8; len < 20; len++)
                assert_int_equal(ns_icmp4_validate(m, len), NS_ICMP4_TIMESTAMP_SHORT);
        assert_int_equal(ns_icmp4_validate(m, 20), NS_ICMP4_VALID);
        m[0] = NS_ICMP4_TIMESTAMP_REPLY;
        assert_int_equal(ns_icmp4_validate(m, 19), NS_ICMP4_TIMESTAMP_SHORT);
        m[0] = NS_ICMP4_ADDR_MASK_REPLY;
        for (size_t len = 8; len < 12; len++)
                assert_int_equal(ns_icmp4_validate(m, len), NS_ICMP4_ADDR_MASK_SHORT);
        assert_int_equal(ns_icmp4_validate(m, 12), NS_ICMP4_VALID);
        m[0] = NS_ICMP4_ECHO;
        assert_int_equal(ns_icmp4_validate(m, 8), NS_ICMP4_VALID);
        assert_string_equal(ns_icmp4_invalid_name(NS_ICMP4_TIMESTAMP_SHORT), "timestamp_short");
}

static void test_timestamp_fields(void **state)
{
        (void)state;
        uint8_t m[20] = { 0 };
        ns_icmp4_set_type(m, NS_ICMP4_TIMESTAMP_REPLY);
        ns_icmp4_set_id(m, 7);
        ns_icmp4_set_seq(m, 256);
        ns_icmp4_set_originate_ts(m, 0x01020304);
        ns_icmp4_set_receive_ts(m, 0x05060708);
        ns_icmp4_set_transmit_ts(m, 0x090a0b0c);
        ns_icmp4_fill_checksum(m, sizeof(m));
        assert_true(ns_icmp4_checksum_ok(m, sizeof(m)));
        assert_int_equal(m[6], 1);
        assert_int_equal(m[7], 0);
        assert_int_equal(ns_icmp4_seq(m), 256);
        assert_int_equal(ns_icmp4_originate_ts(m), 0x01020304);
        assert_int_equal(ns_icmp4_receive_ts(m), 0x05060708);
        assert_int_equal(ns_icmp4_transmit_ts(m), 0x090a0b0c);
        assert_int_equal(m[8], 1);
        assert_int_equal(m[19], 0x0c);
}

/* F.56: a reply's checksum is computed, never left at the request's. */
static void test_echo_emit_round_trip(void **state)
{
        (void)state;
        uint8_t out[64];
        assert_int_equal(ns_icmp4_emit_echo(out, sizeof(out), NS_ICMP4_ECHO, 0x1234, 1,
                                            (const uint8_t *)"abc", 3),
                         11);
        assert_memory_equal(out, echo_abc, sizeof(echo_abc));

        /* In place: turn the request into a reply over the same bytes. */
        assert_int_equal(
            ns_icmp4_emit_echo(out, sizeof(out), NS_ICMP4_ECHO_REPLY, 0x1234, 1, out + 8, 3), 11);
        assert_int_equal(ns_icmp4_type(out), NS_ICMP4_ECHO_REPLY);
        assert_memory_equal(out + 8, "abc", 3);
        assert_true(ns_icmp4_checksum_ok(out, 11));
        assert_int_equal(ns_icmp4_checksum(out), 0x2968);

        assert_int_equal(ns_icmp4_emit_echo(out, 10, NS_ICMP4_ECHO, 1, 1, echo_abc, 3), 0);
        assert_int_equal(ns_icmp4_emit_echo(out, 7, NS_ICMP4_ECHO, 1, 1, NULL, 0), 0);
        assert_int_equal(ns_icmp4_emit_echo(out, 8, NS_ICMP4_ECHO, 0, 0, NULL, 0), 8);
        assert_int_equal(ns_icmp4_checksum(out), 0xf7ff);
}

static void test_error_emit_fields(void **state)
{
        (void)state;
        uint8_t quote[28];
        for (size_t i = 0; i < sizeof(quote); i++)
                quote[i] = (uint8_t)i;
        uint8_t out[64];

        size_t n =
            ns_icmp4_emit_error(out, sizeof(out), NS_ICMP4_PARAM_PROBLEM, NS_ICMP4_PARAM_POINTER,
                                ns_icmp4_rest_pointer(23), quote, sizeof(quote));
        assert_int_equal(n, 36);
        assert_int_equal(ns_icmp4_pointer(out), 23);
        assert_int_equal(out[5] | out[6] | out[7], 0);
        assert_memory_equal(ns_icmp4_payload(out), quote, sizeof(quote));
        assert_true(ns_icmp4_checksum_ok(out, n));

        n = ns_icmp4_emit_error(out, sizeof(out), NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED,
                                ns_icmp4_rest_mtu(1280), quote, sizeof(quote));
        assert_int_equal(ns_icmp4_code(out), NS_ICMP4_FRAG_NEEDED);
        assert_int_equal(ns_icmp4_mtu(out), 1280);
        assert_int_equal(out[6], 0x05);
        assert_int_equal(out[7], 0x00);
        assert_true(ns_icmp4_checksum_ok(out, n));

        n = ns_icmp4_emit_error(out, sizeof(out), NS_ICMP4_REDIRECT, NS_ICMP4_REDIRECT_HOST,
                                NS_IP4(192, 0, 2, 254), quote, sizeof(quote));
        assert_int_equal(ns_icmp4_gateway(out), NS_IP4(192, 0, 2, 254));

        /* F.57: never more than the caller's quote, never past cap. */
        assert_int_equal(ns_icmp4_emit_error(out, 35, NS_ICMP4_TIME_EXCEEDED, 0, 0, quote, 28), 0);
        n = ns_icmp4_emit_error(out, sizeof(out), NS_ICMP4_TIME_EXCEEDED, NS_ICMP4_TTL_EXCEEDED, 0,
                                quote, 5);
        assert_int_equal(n, 13);
        assert_true(ns_icmp4_checksum_ok(out, n)); /* odd length */
}

/* RFC 1122 3.2.2; the seed answers only the listed query types. */
static void test_error_and_query_classification(void **state)
{
        (void)state;
        for (unsigned t = 0; t < 256; t++) {
                bool err = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
                bool query = t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16;
                assert_int_equal(ns_icmp4_is_error((uint8_t)t), err);
                assert_int_equal(ns_icmp4_may_provoke_error((uint8_t)t), query);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_echo_vector),
                cmocka_unit_test(test_every_length_below_8_is_too_short),
                cmocka_unit_test(test_timestamp_and_mask_need_their_body),
                cmocka_unit_test(test_timestamp_fields),
                cmocka_unit_test(test_echo_emit_round_trip),
                cmocka_unit_test(test_error_emit_fields),
                cmocka_unit_test(test_error_and_query_classification),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
