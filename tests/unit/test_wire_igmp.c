/* IGMP v1/v2/v3 codec (RFC 2236, RFC 3376); HOSTILE-INPUTS G. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/igmp.h"

/* v2 report for 224.0.0.251, as seen in captures (checksum 0x0904). */
static const uint8_t v2_report_mdns[8] = { 0x16, 0x00, 0x09, 0x04, 0xe0, 0x00, 0x00, 0xfb };

static void test_known_v2_report(void **state)
{
        (void)state;
        assert_int_equal(ns_igmp_validate(v2_report_mdns, 8), NS_IGMP_VALID);
        assert_true(ns_igmp_checksum_ok(v2_report_mdns, 8));
        assert_int_equal(ns_igmp_type(v2_report_mdns), NS_IGMP_V2_REPORT);
        assert_int_equal(ns_igmp_group(v2_report_mdns), NS_IP4(224, 0, 0, 251));
        uint8_t out[8];
        assert_int_equal(
            ns_igmp_emit(out, sizeof(out), NS_IGMP_V2_REPORT, 0, NS_IP4(224, 0, 0, 251)), 8);
        assert_memory_equal(out, v2_report_mdns, 8);
        assert_int_equal(ns_igmp_emit(out, 7, NS_IGMP_LEAVE, 0, 0), 0);
}

static void test_leave_emit(void **state)
{
        (void)state;
        uint8_t out[8];
        assert_int_equal(ns_igmp_emit(out, sizeof(out), NS_IGMP_LEAVE, 0, NS_IP4(239, 1, 2, 3)), 8);
        assert_int_equal(out[0], 0x17);
        assert_true(ns_igmp_checksum_ok(out, 8));
        assert_int_equal(ns_igmp_compute_checksum(out, 8), ns_igmp_checksum(out));
        out[7] ^= 0x40;
        assert_false(ns_igmp_checksum_ok(out, 8));
}

static void test_every_length_below_8_is_too_short(void **state)
{
        (void)state;
        for (size_t len = 0; len < NS_IGMP_LEN; len++)
                assert_int_equal(ns_igmp_validate(v2_report_mdns, len), NS_IGMP_TOO_SHORT);
}

/* RFC 3376 7.1: 8 bytes is v1 (Max Resp 0) or v2; >= 12 is v3; 9..11 are
 * ignored. */
static void test_query_version_by_length(void **state)
{
        (void)state;
        uint8_t q[12] = { NS_IGMP_QUERY, 100 };
        assert_int_equal(ns_igmp_query_version(8, 0), NS_IGMP_QUERY_V1);
        assert_int_equal(ns_igmp_query_version(8, 100), NS_IGMP_QUERY_V2);
        assert_int_equal(ns_igmp_query_version(12, 0), NS_IGMP_QUERY_V3);
        assert_int_equal(ns_igmp_query_version(7, 10), NS_IGMP_QUERY_INVALID);
        assert_int_equal(ns_igmp_validate(q, 8), NS_IGMP_VALID);
        for (size_t len = 9; len < 12; len++) {
                assert_int_equal(ns_igmp_query_version(len, 10), NS_IGMP_QUERY_INVALID);
                assert_int_equal(ns_igmp_validate(q, len), NS_IGMP_QUERY_BAD_LEN);
        }
        assert_int_equal(ns_igmp_validate(q, 12), NS_IGMP_VALID);
}

/* G.66: Max Resp Code 0 decodes to 0 (respond now); never a divisor. */
static void test_max_resp_code_decoding(void **state)
{
        (void)state;
        assert_int_equal(ns_igmpv3_decode_code(0), 0);
        assert_int_equal(ns_igmpv3_decode_code(1), 1);
        assert_int_equal(ns_igmpv3_decode_code(100), 100);
        assert_int_equal(ns_igmpv3_decode_code(127), 127);
        assert_int_equal(ns_igmpv3_decode_code(0x80), 128);   /* (0|16) << 3 */
        assert_int_equal(ns_igmpv3_decode_code(0x8f), 248);   /* (15|16) << 3 */
        assert_int_equal(ns_igmpv3_decode_code(0x90), 256);   /* 16 << 4 */
        assert_int_equal(ns_igmpv3_decode_code(0xff), 31744); /* 31 << 10 */
        /* Monotonic over the whole range. */
        for (unsigned c = 1; c < 256; c++)
                assert_true(ns_igmpv3_decode_code((uint8_t)c) >
                            ns_igmpv3_decode_code((uint8_t)(c - 1)));
}

static void test_v3_query_round_trip(void **state)
{
        (void)state;
        const ns_ip4 src[2] = { NS_IP4(192, 0, 2, 1), NS_IP4(192, 0, 2, 2) };
        uint8_t q[20];
        assert_int_equal(
            ns_igmpv3_emit_query(q, sizeof(q), 0x8f, NS_IP4(239, 0, 0, 1), true, 2, 125, src, 2),
            20);
        assert_int_equal(ns_igmp_validate(q, 20), NS_IGMP_VALID);
        assert_true(ns_igmp_checksum_ok(q, 20));
        assert_int_equal(ns_igmp_max_resp(q), 0x8f);
        assert_int_equal(ns_igmp_group(q), NS_IP4(239, 0, 0, 1));
        assert_true(ns_igmpv3_query_s_flag(q));
        assert_int_equal(ns_igmpv3_query_qrv(q), 2);
        assert_int_equal(ns_igmpv3_query_qqic(q), 125);
        assert_int_equal(ns_igmpv3_query_nsources(q), 2);
        assert_int_equal(ns_igmpv3_query_source(q, 0), src[0]);
        assert_int_equal(ns_igmpv3_query_source(q, 1), src[1]);
        assert_int_equal(ns_igmpv3_emit_query(q, 19, 0, 0, false, 0, 0, src, 2), 0);
}

/* G.69: source counts exceeding the data. */
static void test_v3_query_sources_bounded_by_bytes_present(void **state)
{
        (void)state;
        static uint8_t q[12 + 4 * 4];
        memset(q, 0, sizeof(q));
        q[0] = NS_IGMP_QUERY;
        ns_store_be16(q + 10, 1);
        assert_int_equal(ns_igmp_validate(q, 12), NS_IGMP_SOURCES_TRUNCATED);
        assert_int_equal(ns_igmp_validate(q, 15), NS_IGMP_SOURCES_TRUNCATED);
        assert_int_equal(ns_igmp_validate(q, 16), NS_IGMP_VALID);
        ns_store_be16(q + 10, 4);
        assert_int_equal(ns_igmp_validate(q, 27), NS_IGMP_SOURCES_TRUNCATED);
        assert_int_equal(ns_igmp_validate(q, 28), NS_IGMP_VALID);
        ns_store_be16(q + 10, 0xffff);
        assert_int_equal(ns_igmp_validate(q, sizeof(q)), NS_IGMP_SOURCES_TRUNCATED);
        ns_store_be16(q + 10, 0x0100); /* 256 sources: byte order matters */
        assert_int_equal(ns_igmp_validate(q, sizeof(q)), NS_IGMP_SOURCES_TRUNCATED);
}

static void test_v3_report_round_trip_through_iterator(void **state)
{
        (void)state;
        const ns_ip4 s1[3] = { NS_IP4(192, 0, 2, 1), NS_IP4(192, 0, 2, 2), NS_IP4(192, 0, 2, 3) };
        const struct ns_igmpv3_rec_out recs[2] = {
                { NS_IGMPV3_CHANGE_TO_EXCLUDE, NS_IP4(239, 1, 1, 1), NULL, 0 },
                { NS_IGMPV3_ALLOW_NEW, NS_IP4(232, 1, 1, 1), s1, 3 },
        };
        uint8_t m[64];
        size_t n = ns_igmpv3_emit_report(m, sizeof(m), recs, 2);
        assert_int_equal(n, 8 + 8 + 8 + 12);
        assert_int_equal(ns_igmp_validate(m, n), NS_IGMP_VALID);
        assert_true(ns_igmp_checksum_ok(m, n));
        assert_int_equal(ns_igmpv3_report_nrecords(m), 2);

        struct ns_igmpv3_rec_iter it;
        struct ns_igmpv3_rec r;
        ns_igmpv3_rec_iter_init(&it, m, n);
        assert_int_equal(ns_igmpv3_rec_next(&it, &r), NS_IGMPV3_REC_OK);
        assert_int_equal(r.type, NS_IGMPV3_CHANGE_TO_EXCLUDE);
        assert_int_equal(r.group, NS_IP4(239, 1, 1, 1));
        assert_int_equal(r.nsources, 0);
        assert_int_equal(ns_igmpv3_rec_next(&it, &r), NS_IGMPV3_REC_OK);
        assert_int_equal(r.type, NS_IGMPV3_ALLOW_NEW);
        assert_int_equal(r.nsources, 3);
        for (uint16_t i = 0; i < 3; i++)
                assert_int_equal(ns_igmpv3_rec_source(&r, i), s1[i]);
        assert_int_equal(ns_igmpv3_rec_next(&it, &r), NS_IGMPV3_REC_DONE);
        assert_int_equal(ns_igmpv3_emit_report(m, n - 1, recs, 2), 0);
}

/* Every way a record can run past the message is rejected. */
static void test_v3_report_records_exceeding_message(void **state)
{
        (void)state;
        uint8_t m[32] = { NS_IGMP_V3_REPORT };
        ns_store_be16(m + 6, 1);
        /* The record header itself is cut short. */
        for (size_t len = 8; len < 16; len++)
                assert_int_equal(ns_igmp_validate(m, len), NS_IGMP_RECORD_TRUNCATED);
        assert_int_equal(ns_igmp_validate(m, 16), NS_IGMP_VALID);
        /* Sources past the end. */
        ns_store_be16(m + 8 + 2, 2);
        assert_int_equal(ns_igmp_validate(m, 23), NS_IGMP_RECORD_TRUNCATED);
        assert_int_equal(ns_igmp_validate(m, 24), NS_IGMP_VALID);
        /* Aux data past the end (counted in 32-bit words). */
        m[8 + 1] = 1;
        assert_int_equal(ns_igmp_validate(m, 24), NS_IGMP_RECORD_TRUNCATED);
        assert_int_equal(ns_igmp_validate(m, 28), NS_IGMP_VALID);
        /* More records claimed than present. */
        ns_store_be16(m + 6, 2);
        assert_int_equal(ns_igmp_validate(m, 28), NS_IGMP_RECORD_TRUNCATED);
        ns_store_be16(m + 6, 0xffff);
        assert_int_equal(ns_igmp_validate(m, sizeof(m)), NS_IGMP_RECORD_TRUNCATED);
        /* Zero records: just the header. */
        ns_store_be16(m + 6, 0);
        assert_int_equal(ns_igmp_validate(m, 8), NS_IGMP_VALID);

        struct ns_igmpv3_rec_iter it;
        struct ns_igmpv3_rec r;
        ns_store_be16(m + 6, 2);
        ns_igmpv3_rec_iter_init(&it, m, 28);
        assert_int_equal(ns_igmpv3_rec_next(&it, &r), NS_IGMPV3_REC_OK);
        assert_int_equal(ns_igmpv3_rec_next(&it, &r), NS_IGMPV3_REC_TRUNCATED);
        assert_int_equal(ns_igmpv3_rec_next(&it, &r), NS_IGMPV3_REC_TRUNCATED);
        assert_string_equal(ns_igmp_invalid_name(NS_IGMP_RECORD_TRUNCATED), "record_truncated");
}

/* Random queries and reports in exact-size heap buffers: validation never
 * reads past len (ASan), and a valid report iterates to DONE within its
 * record count. */
static void test_random_messages_stay_in_bounds(void **state)
{
        (void)state;
        uint32_t x = 99;
        uint8_t src[64];
        for (int round = 0; round < 20000; round++) {
                for (size_t i = 0; i < sizeof(src); i++) {
                        x = x * 1103515245u + 12345u;
                        src[i] = (uint8_t)(x >> 16) % 6;
                }
                src[0] = (round & 1) ? NS_IGMP_QUERY : NS_IGMP_V3_REPORT;
                size_t len = (x >> 4) % sizeof(src);
                uint8_t *m = malloc(len ? len : 1);
                assert_non_null(m);
                memcpy(m, src, len);
                enum ns_igmp_invalid why = ns_igmp_validate(m, len);
                if (why == NS_IGMP_VALID && src[0] == NS_IGMP_V3_REPORT) {
                        struct ns_igmpv3_rec_iter it;
                        struct ns_igmpv3_rec r;
                        unsigned n = 0;
                        ns_igmpv3_rec_iter_init(&it, m, len);
                        while (ns_igmpv3_rec_next(&it, &r) == NS_IGMPV3_REC_OK) {
                                for (uint16_t i = 0; i < r.nsources; i++)
                                        (void)ns_igmpv3_rec_source(&r, i);
                                n++;
                        }
                        assert_int_equal(n, ns_igmpv3_report_nrecords(m));
                } else if (why == NS_IGMP_VALID && len >= NS_IGMPV3_QUERY_MIN) {
                        for (uint16_t i = 0; i < ns_igmpv3_query_nsources(m); i++)
                                (void)ns_igmpv3_query_source(m, i);
                }
                free(m);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_v2_report),
                cmocka_unit_test(test_leave_emit),
                cmocka_unit_test(test_every_length_below_8_is_too_short),
                cmocka_unit_test(test_query_version_by_length),
                cmocka_unit_test(test_max_resp_code_decoding),
                cmocka_unit_test(test_v3_query_round_trip),
                cmocka_unit_test(test_v3_query_sources_bounded_by_bytes_present),
                cmocka_unit_test(test_v3_report_round_trip_through_iterator),
                cmocka_unit_test(test_v3_report_records_exceeding_message),
                cmocka_unit_test(test_random_messages_stay_in_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
