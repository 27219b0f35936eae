/* IPv4 header codec and validator (RFC 791 3.1); HOSTILE-INPUTS A. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/checksum.h>

#include "wire/ipv4.h"

/* The classic example header (checksum 0xb861): UDP 192.168.0.1 ->
 * 192.168.0.199, total length 115, DF. */
static const uint8_t example[20] = {
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* A datagram buffer big enough for any test: header then zero payload. */
static uint8_t pkt[65536];

/* Builds a header of hlen bytes with total length `total` in pkt. */
static void build(size_t hlen, uint16_t total)
{
        memset(pkt, 0, 128);
        pkt[0] = (uint8_t)(0x40 | (hlen / 4));
        ns_ipv4_set_total_len(pkt, total);
        ns_ipv4_set_ttl(pkt, 64);
        ns_ipv4_set_proto(pkt, NS_IPV4_PROTO_UDP);
        ns_ipv4_set_src(pkt, NS_IP4(192, 0, 2, 1));
        ns_ipv4_set_dst(pkt, NS_IP4(198, 51, 100, 2));
}

static void test_example_header_fields_and_checksum(void **state)
{
        (void)state;
        assert_int_equal(ns_ipv4_validate(example, sizeof(example)), NS_IPV4_TOTAL_LEN_LONG);
        memcpy(pkt, example, sizeof(example));
        assert_int_equal(ns_ipv4_validate(pkt, 115), NS_IPV4_VALID);
        assert_int_equal(ns_ipv4_version(pkt), 4);
        assert_int_equal(ns_ipv4_hdr_len(pkt), 20);
        assert_int_equal(ns_ipv4_total_len(pkt), 115);
        assert_true(ns_ipv4_df(pkt));
        assert_false(ns_ipv4_mf(pkt));
        assert_false(ns_ipv4_is_fragment(pkt));
        assert_int_equal(ns_ipv4_ttl(pkt), 64);
        assert_int_equal(ns_ipv4_proto(pkt), NS_IPV4_PROTO_UDP);
        assert_int_equal(ns_ipv4_src(pkt), NS_IP4(192, 168, 0, 1));
        assert_int_equal(ns_ipv4_dst(pkt), NS_IP4(192, 168, 0, 199));
        assert_true(ns_ipv4_checksum_ok(pkt, 20));
        assert_int_equal(ns_ipv4_compute_checksum(pkt, 20), 0xb861);
        /* The current field value does not matter to the computation. */
        ns_ipv4_set_checksum(pkt, 0x1234);
        assert_int_equal(ns_ipv4_compute_checksum(pkt, 20), 0xb861);
        assert_false(ns_ipv4_checksum_ok(pkt, 20));
        ns_ipv4_fill_checksum(pkt);
        assert_int_equal(ns_ipv4_checksum(pkt), 0xb861);
}

/* A.8: nothing but the length is looked at below 20 bytes. */
static void test_every_length_below_20_is_too_short(void **state)
{
        (void)state;
        static const uint8_t firsts[] = { 0x45, 0x4f, 0x60, 0x00, 0x41 };
        for (size_t f = 0; f < sizeof(firsts); f++) {
                build(20, 20);
                pkt[0] = firsts[f];
                for (size_t len = 0; len < NS_IPV4_MIN_HDR; len++)
                        assert_int_equal(ns_ipv4_validate(pkt, len), NS_IPV4_TOO_SHORT);
        }
}

/* A.4 */
/* The same with buffers of exactly len bytes, so ASan sees any over-read
 * (the header claims 60 bytes and a 65535 total). */
static void test_short_heap_buffers_are_not_over_read(void **state)
{
        (void)state;
        build(60, 65535);
        for (size_t len = 0; len <= 60; len++) {
                uint8_t *b = malloc(len ? len : 1);
                assert_non_null(b);
                memcpy(b, pkt, len);
                enum ns_ipv4_invalid want = len < 20   ? NS_IPV4_TOO_SHORT
                                            : len < 60 ? NS_IPV4_HDR_TRUNCATED
                                                       : NS_IPV4_TOTAL_LEN_LONG;
                assert_int_equal(ns_ipv4_validate(b, len), want);
                free(b);
        }
}

static void test_version_other_than_4_is_rejected(void **state)
{
        (void)state;
        for (unsigned v = 0; v < 16; v++) {
                build(20, 20);
                pkt[0] = (uint8_t)(v << 4 | 5);
                assert_int_equal(ns_ipv4_validate(pkt, 20),
                                 v == 4 ? NS_IPV4_VALID : NS_IPV4_BAD_VERSION);
        }
}

/* A.1 */
static void test_ihl_0_to_4_is_rejected(void **state)
{
        (void)state;
        for (unsigned ihl = 0; ihl < 5; ihl++) {
                build(20, 20);
                pkt[0] = (uint8_t)(0x40 | ihl);
                assert_int_equal(ns_ipv4_validate(pkt, 20), NS_IPV4_BAD_IHL);
        }
}

static void test_header_longer_than_bytes_present(void **state)
{
        (void)state;
        build(60, 60);
        assert_int_equal(ns_ipv4_validate(pkt, 59), NS_IPV4_HDR_TRUNCATED);
        assert_int_equal(ns_ipv4_validate(pkt, 20), NS_IPV4_HDR_TRUNCATED);
        assert_int_equal(ns_ipv4_validate(pkt, 60), NS_IPV4_VALID);
}

/* A.2: gVisor "bad total length (0)", "(ip - 1)". */
static void test_total_length_shorter_than_header(void **state)
{
        (void)state;
        build(20, 0);
        assert_int_equal(ns_ipv4_validate(pkt, 28), NS_IPV4_TOTAL_LEN_SHORT);
        build(20, 19);
        assert_int_equal(ns_ipv4_validate(pkt, 28), NS_IPV4_TOTAL_LEN_SHORT);
        build(24, 23); /* IHL*4 - 1 with options */
        assert_int_equal(ns_ipv4_validate(pkt, 28), NS_IPV4_TOTAL_LEN_SHORT);
        build(24, 24);
        assert_int_equal(ns_ipv4_validate(pkt, 28), NS_IPV4_VALID);
}

/* A.2, A.3: longer than present is rejected; shorter (padding) is not. */
static void test_total_length_against_bytes_present(void **state)
{
        (void)state;
        build(20, 28);
        assert_int_equal(ns_ipv4_validate(pkt, 27), NS_IPV4_TOTAL_LEN_LONG);
        assert_int_equal(ns_ipv4_validate(pkt, 28), NS_IPV4_VALID);
        assert_int_equal(ns_ipv4_validate(pkt, 60), NS_IPV4_VALID);
        build(20, 65535);
        assert_int_equal(ns_ipv4_validate(pkt, 65534), NS_IPV4_TOTAL_LEN_LONG);
        assert_int_equal(ns_ipv4_validate(pkt, 65535), NS_IPV4_VALID);
}

/* C.29: ping of death. Ending exactly at 65535 is fine, one more is not. */
static void test_fragment_end_boundary_65535(void **state)
{
        (void)state;
        build(20, 27); /* 7 bytes of payload */
        ns_ipv4_set_flags_frag_off(pkt, 0, 65528);
        assert_int_equal(ns_ipv4_frag_off(pkt), 65528);
        assert_int_equal(ns_ipv4_validate(pkt, 27), NS_IPV4_VALID);
        build(20, 28); /* 8 bytes: ends at 65536 */
        ns_ipv4_set_flags_frag_off(pkt, 0, 65528);
        assert_int_equal(ns_ipv4_validate(pkt, 28), NS_IPV4_FRAG_TOO_LONG);
        build(20, 20 + 15);
        ns_ipv4_set_flags_frag_off(pkt, NS_IPV4_FLAG_MF, 65520);
        assert_int_equal(ns_ipv4_validate(pkt, 35), NS_IPV4_VALID);
        build(20, 20 + 16);
        ns_ipv4_set_flags_frag_off(pkt, NS_IPV4_FLAG_MF, 65520);
        assert_int_equal(ns_ipv4_validate(pkt, 36), NS_IPV4_FRAG_TOO_LONG);
        /* Options do not count as payload. */
        build(40, 40 + 15);
        ns_ipv4_set_flags_frag_off(pkt, 0, 65520);
        assert_int_equal(ns_ipv4_validate(pkt, 55), NS_IPV4_VALID);
}

static void test_fragment_flags_and_offset(void **state)
{
        (void)state;
        build(20, 20);
        ns_ipv4_set_flags_frag_off(pkt, NS_IPV4_FLAG_DF, 0);
        assert_true(ns_ipv4_df(pkt));
        assert_false(ns_ipv4_is_fragment(pkt));
        ns_ipv4_set_flags_frag_off(pkt, NS_IPV4_FLAG_MF, 0);
        assert_true(ns_ipv4_is_fragment(pkt));
        assert_false(ns_ipv4_is_later_fragment(pkt));
        ns_ipv4_set_flags_frag_off(pkt, 0, 8);
        assert_true(ns_ipv4_is_fragment(pkt));
        assert_true(ns_ipv4_is_later_fragment(pkt));
        assert_int_equal(pkt[6], 0x00);
        assert_int_equal(pkt[7], 0x01);
        ns_ipv4_set_flags_frag_off(pkt, NS_IPV4_FLAG_DF | NS_IPV4_FLAG_MF, 2048);
        assert_int_equal(pkt[6], 0x61); /* 0b011 << 5 | 256 >> 8 */
        assert_int_equal(pkt[7], 0x00);
        assert_int_equal(ns_ipv4_flags(pkt), 3);
        assert_int_equal(ns_ipv4_frag_off(pkt), 2048);
}

/* C.31: U-Boot's ntohs bug hit lengths that are multiples of 256. */
static void test_byte_order_with_multiples_of_256(void **state)
{
        (void)state;
        for (uint32_t len = 256; len <= 65280; len += 256) {
                build(20, (uint16_t)len);
                assert_int_equal(pkt[2], (uint8_t)(len >> 8));
                assert_int_equal(pkt[3], 0);
                assert_int_equal(ns_ipv4_total_len(pkt), len);
                assert_int_equal(ns_ipv4_validate(pkt, len), NS_IPV4_VALID);
                assert_int_equal(ns_ipv4_validate(pkt, len - 1), NS_IPV4_TOTAL_LEN_LONG);
                ns_ipv4_set_id(pkt, (uint16_t)len);
                assert_int_equal(ns_ipv4_id(pkt), len);
                assert_int_equal(pkt[5], 0);
        }
}

static void test_emit_then_parse_round_trips(void **state)
{
        (void)state;
        const uint8_t opts[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };
        struct ns_ipv4_fields in = {
                .tos = 0xb8,
                .total_len = 100,
                .id = 0xabcd,
                .flags = NS_IPV4_FLAG_MF,
                .frag_off = 1480,
                .ttl = 1,
                .proto = NS_IPV4_PROTO_ICMP,
                .src = NS_IP4(203, 0, 113, 9),
                .dst = NS_IP4(239, 1, 2, 3),
                .options = opts,
                .options_len = sizeof(opts),
        };
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &in), 28);
        assert_true(ns_ipv4_checksum_ok(pkt, 28));
        struct ns_ipv4_fields out;
        assert_int_equal(ns_ipv4_parse(pkt, 100, &out), NS_IPV4_VALID);
        assert_int_equal(out.tos, in.tos);
        assert_int_equal(out.total_len, in.total_len);
        assert_int_equal(out.id, in.id);
        assert_int_equal(out.flags, in.flags);
        assert_int_equal(out.frag_off, in.frag_off);
        assert_int_equal(out.ttl, in.ttl);
        assert_int_equal(out.proto, in.proto);
        assert_int_equal(out.src, in.src);
        assert_int_equal(out.dst, in.dst);
        assert_int_equal(out.options_len, 8);
        assert_ptr_equal(out.options, pkt + 20);
        assert_memory_equal(out.options, opts, 8);

        in.options = NULL;
        in.options_len = 0;
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &in), 20);
        assert_int_equal(ns_ipv4_parse(pkt, 100, &out), NS_IPV4_VALID);
        assert_int_equal(out.options_len, 0);
        assert_null(out.options);
}

/* RFC 791: options are padded to a 32-bit boundary with EOL bytes. */
static void test_emit_pads_options_with_eol(void **state)
{
        (void)state;
        const uint8_t nops[3] = { 1, 1, 1 };
        struct ns_ipv4_fields f = { .total_len = 24, .ttl = 64, .options = nops, .options_len = 3 };
        memset(pkt, 0xee, 64);
        assert_int_equal(ns_ipv4_emit(pkt, 64, &f), 24);
        assert_int_equal(ns_ipv4_hdr_len(pkt), 24);
        assert_int_equal(pkt[22], 1);
        assert_int_equal(pkt[23], 0);
        assert_true(ns_ipv4_checksum_ok(pkt, 24));
}

static void test_emit_refuses_what_cannot_be_encoded(void **state)
{
        (void)state;
        uint8_t opts[41] = { 0 };
        struct ns_ipv4_fields f = {
                .total_len = 20, .ttl = 64, .options = opts, .options_len = 41
        };
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &f), 0);
        f.options_len = 40;
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &f), 60);
        assert_int_equal(ns_ipv4_emit(pkt, 59, &f), 0);
        f.options_len = 0;
        assert_int_equal(ns_ipv4_emit(pkt, 19, &f), 0);
        f.frag_off = 4;
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &f), 0);
        f.frag_off = 0;
        f.flags = 8;
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &f), 0);
        f.flags = 0;
        f.options = NULL;
        f.options_len = 4;
        assert_int_equal(ns_ipv4_emit(pkt, sizeof(pkt), &f), 0);
}

/* RFC 1624: the incremental update equals a full recomputation. */
static void test_dec_ttl_updates_checksum_incrementally(void **state)
{
        (void)state;
        for (unsigned ttl = 2; ttl < 256; ttl++) {
                build(20, 20);
                ns_ipv4_set_ttl(pkt, (uint8_t)ttl);
                ns_ipv4_set_id(pkt, (uint16_t)(ttl * 257));
                ns_ipv4_fill_checksum(pkt);
                assert_int_equal(ns_ipv4_dec_ttl(pkt), ttl - 1);
                assert_true(ns_ipv4_checksum_ok(pkt, 20));
        }
}

static void test_reason_names_are_distinct(void **state)
{
        (void)state;
        for (int a = NS_IPV4_VALID; a <= NS_IPV4_BAD_CHECKSUM; a++)
                for (int b = a + 1; b <= NS_IPV4_BAD_CHECKSUM; b++)
                        assert_string_not_equal(ns_ipv4_invalid_name(a), ns_ipv4_invalid_name(b));
        assert_string_equal(ns_ipv4_invalid_name(NS_IPV4_BAD_IHL), "bad_ihl");
        assert_string_equal(ns_ipv4_invalid_name((enum ns_ipv4_invalid)99), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_example_header_fields_and_checksum),
                cmocka_unit_test(test_every_length_below_20_is_too_short),
                cmocka_unit_test(test_short_heap_buffers_are_not_over_read),
                cmocka_unit_test(test_version_other_than_4_is_rejected),
                cmocka_unit_test(test_ihl_0_to_4_is_rejected),
                cmocka_unit_test(test_header_longer_than_bytes_present),
                cmocka_unit_test(test_total_length_shorter_than_header),
                cmocka_unit_test(test_total_length_against_bytes_present),
                cmocka_unit_test(test_fragment_end_boundary_65535),
                cmocka_unit_test(test_fragment_flags_and_offset),
                cmocka_unit_test(test_byte_order_with_multiples_of_256),
                cmocka_unit_test(test_emit_then_parse_round_trips),
                cmocka_unit_test(test_emit_pads_options_with_eol),
                cmocka_unit_test(test_emit_refuses_what_cannot_be_encoded),
                cmocka_unit_test(test_dec_ttl_updates_checksum_incrementally),
                cmocka_unit_test(test_reason_names_are_distinct),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
