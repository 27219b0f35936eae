/*
 * IPv4 option iterator, RR/TS accessors and serializer. Option rows and
 * pointers follow gVisor's TestIPv4Sanity (pkg/tcpip/network/ipv4); the
 * pointer is an offset from the start of the IP header (options at 20).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/ipv4_opts.h"

#define MAX_YIELD 48

struct walk {
        size_t n;
        struct ns_ipv4_opt opts[MAX_YIELD];
        enum ns_ipv4_opt_result end;
        enum ns_ipv4_opt_fault fault;
        uint8_t fault_ptr;
};

/* Iterates a whole area, recording what it yields and how it ends. */
static struct walk walk(const uint8_t *area, size_t len)
{
        struct walk w = { 0 };
        struct ns_ipv4_opt_iter it;
        ns_ipv4_opt_iter_init(&it, area, len);
        for (;;) {
                struct ns_ipv4_opt o;
                enum ns_ipv4_opt_result r = ns_ipv4_opt_next(&it, &o);
                if (r != NS_IPV4_OPT_OK) {
                        w.end = r;
                        w.fault = it.fault;
                        w.fault_ptr = it.fault_ptr;
                        /* The end is sticky. */
                        assert_int_equal(ns_ipv4_opt_next(&it, &o), r);
                        return w;
                }
                assert_true(w.n < MAX_YIELD);
                w.opts[w.n++] = o;
        }
}

#define WALK(...) walk((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void assert_malformed(struct walk w, enum ns_ipv4_opt_fault f, uint8_t ptr)
{
        assert_int_equal(w.end, NS_IPV4_OPT_MALFORMED);
        assert_int_equal(w.fault, f);
        assert_int_equal(w.fault_ptr, ptr);
}

/* gVisor "End options": 0,0,0,0 -> one EOL, the rest is padding. */
static void test_eol_ends_the_list(void **state)
{
        (void)state;
        struct walk w = WALK(0, 0, 0, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.n, 1);
        assert_int_equal(w.opts[0].type, NS_IPV4_OPT_EOL);
        assert_int_equal(w.opts[0].offset, 20);
}

/* gVisor "NOP options" and "NOP and End options". */
static void test_nops_then_eol(void **state)
{
        (void)state;
        struct walk w = WALK(1, 1, 1, 1);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.n, 4);
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(w.opts[i].type, NS_IPV4_OPT_NOP);
                assert_int_equal(w.opts[i].len, 1);
                assert_int_equal(w.opts[i].offset, 20 + i);
        }
        w = WALK(1, 1, 0, 0);
        assert_int_equal(w.n, 3);
        assert_int_equal(w.opts[2].type, NS_IPV4_OPT_EOL);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
}

static void test_empty_area_is_done(void **state)
{
        (void)state;
        struct walk w = walk(NULL, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.n, 0);
}

/* gVisor "unknown option": yielded whole for the caller to pass or strip. */
static void test_unknown_option_is_yielded(void **state)
{
        (void)state;
        struct walk w = WALK(10, 4, 9, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.n, 1);
        assert_int_equal(w.opts[0].type, 10);
        assert_int_equal(w.opts[0].len, 4);
        assert_int_equal(w.opts[0].opt[2], 9);
}

/* gVisor "bad option - no length": 1,1,1,68 -> pointer 23. */
static void test_type_in_last_byte_without_length(void **state)
{
        (void)state;
        struct walk w = WALK(1, 1, 1, 68);
        assert_int_equal(w.n, 3);
        assert_malformed(w, NS_IPV4_OPT_FAULT_NO_LENGTH, 23);
}

/* gVisor "bad option - length 0/1", "timestamp truncated": Linux points
 * at the option start. */
static void test_length_0_or_1_points_at_option_start(void **state)
{
        (void)state;
        assert_malformed(WALK(68, 0, 9, 0, 1, 2, 3, 4), NS_IPV4_OPT_FAULT_LEN_SMALL, 20);
        assert_malformed(WALK(68, 1, 9, 0, 1, 2, 3, 4), NS_IPV4_OPT_FAULT_LEN_SMALL, 20);
        assert_malformed(WALK(68, 1, 0, 0), NS_IPV4_OPT_FAULT_LEN_SMALL, 20);
        /* Zephyr crashed on an unknown option of length 0 (B.14). */
        assert_malformed(WALK(1, 99, 0, 0), NS_IPV4_OPT_FAULT_LEN_SMALL, 21);
}

/* gVisor "bad option - length big": 9 bytes in an 8-byte area. */
static void test_length_past_area_points_at_option_start(void **state)
{
        (void)state;
        assert_malformed(WALK(68, 9, 9, 0, 1, 2, 3, 4), NS_IPV4_OPT_FAULT_LEN_BIG, 20);
        assert_malformed(WALK(1, 1, 7, 7, 4, 0, 0, 0), NS_IPV4_OPT_FAULT_LEN_BIG, 22);
        /* Exactly filling the area is fine. */
        struct walk w = WALK(1, 1, 7, 6, 4, 0, 0, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.opts[2].len, 6);
}

/* Known options below their minimum length: the length byte is at fault. */
static void test_known_option_minimum_lengths(void **state)
{
        (void)state;
        assert_malformed(WALK(7, 2, 0, 0), NS_IPV4_OPT_FAULT_RR_SHORT, 21);
        assert_malformed(WALK(68, 3, 0, 0), NS_IPV4_OPT_FAULT_TS_SHORT, 21);
        assert_malformed(WALK(148, 3, 0, 0), NS_IPV4_OPT_FAULT_RA_LEN, 21);
        assert_malformed(WALK(1, 1, 1, 1, 148, 6, 0, 0, 0, 0, 0, 0), NS_IPV4_OPT_FAULT_RA_LEN, 25);
        struct walk w = WALK(148, 4, 0, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.opts[0].type, NS_IPV4_OPT_ROUTER_ALERT);
        w = WALK(7, 3, 4, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.opts[0].len, 3);
}

/* gVisor "bad option - length bad" (68,7,5,0): the iterator accepts a
 * 7-byte timestamp; rejecting its layout (pointer 22) is the processor's
 * job. */
static void test_odd_timestamp_length_is_left_to_processing(void **state)
{
        (void)state;
        struct walk w = WALK(68, 7, 5, 0, 1, 2, 3, 0);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.opts[0].len, 7);
        assert_int_equal(w.opts[0].offset, 20);
        assert_int_equal(w.opts[1].type, NS_IPV4_OPT_EOL);
}

/* gVisor "duplicate record route": the second starts at 27, the pointer a
 * processor reports. */
static void test_cursor_of_second_option(void **state)
{
        (void)state;
        struct walk w = WALK(7, 7, 8, 1, 2, 3, 4, 7, 7, 8, 1, 2, 3, 4, 0, 0);
        assert_int_equal(w.n, 3);
        assert_int_equal(w.opts[0].offset, 20);
        assert_int_equal(w.opts[1].type, NS_IPV4_OPT_RR);
        assert_int_equal(w.opts[1].offset, 27);
}

/* gVisor "end of options list": junk after EOL is never parsed. */
static void test_junk_after_eol_is_ignored(void **state)
{
        (void)state;
        struct walk w = WALK(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4, 0, 10, 3, 99);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.n, 2);
        assert_int_equal(w.opts[0].type, NS_IPV4_OPT_TS);
        assert_int_equal(w.opts[1].type, NS_IPV4_OPT_EOL);
        assert_int_equal(w.opts[1].offset, 32);
}

/* B.15: whatever the bytes, every yielded option lies inside the area and
 * the walk ends within 40 steps. */
static void test_random_areas_stay_in_bounds(void **state)
{
        (void)state;
        static const uint8_t types[] = { 0, 1, 7, 68, 148, 131, 10, 0xff };
        uint32_t x = 12345;
        uint8_t area[40];
        for (int round = 0; round < 20000; round++) {
                size_t len = (x >> 8) % 41;
                for (size_t i = 0; i < sizeof(area); i++) {
                        x = x * 1103515245u + 12345u;
                        uint8_t b = (uint8_t)(x >> 16);
                        area[i] = (b & 1) ? types[(b >> 1) % sizeof(types)] : (uint8_t)(b % 12);
                }
                /* An exact-size heap copy lets ASan catch any over-read. */
                uint8_t *exact = malloc(len ? len : 1);
                assert_non_null(exact);
                memcpy(exact, area, len);
                struct walk w = walk(exact, len);
                free(exact);
                size_t end = 0;
                for (size_t i = 0; i < w.n; i++) {
                        assert_int_equal(w.opts[i].offset, 20 + end);
                        end += w.opts[i].len;
                        assert_true(end <= len);
                }
                if (w.end == NS_IPV4_OPT_MALFORMED)
                        assert_true(w.fault_ptr >= 20 && w.fault_ptr < 20 + len);
        }
}

/* gVisor "single record route with room" / "with no room" /
 * "multiple record route with not enough room" / pointer too small. */
static void test_record_route_store(void **state)
{
        (void)state;
        uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };
        assert_int_equal(ns_ipv4_opt_rr_pointer(rr), 4);
        assert_true(ns_ipv4_opt_rr_store(rr, NS_IP4(192, 168, 1, 58)));
        const uint8_t want[8] = { 7, 7, 8, 192, 168, 1, 58, 0 };
        assert_memory_equal(rr, want, 8);
        assert_false(ns_ipv4_opt_rr_store(rr, NS_IP4(1, 1, 1, 1))); /* full */
        assert_memory_equal(rr, want, 8);

        uint8_t short_room[8] = { 7, 8, 8, 1, 2, 3, 4, 0 };
        assert_false(ns_ipv4_opt_rr_store(short_room, NS_IP4(9, 9, 9, 9)));
        uint8_t low_ptr[8] = { 7, 7, 3, 0, 0, 0, 0, 0 };
        assert_false(ns_ipv4_opt_rr_store(low_ptr, NS_IP4(9, 9, 9, 9)));
        low_ptr[2] = 0;
        assert_false(ns_ipv4_opt_rr_store(low_ptr, NS_IP4(9, 9, 9, 9)));
        assert_int_equal(low_ptr[3], 0);
}

/* gVisor "valid timestamp pointer" and "multiple type 1 timestamps with
 * room" (clock value 0x00ad1c40). */
static void test_timestamp_store(void **state)
{
        (void)state;
        uint8_t ts[8] = { 68, 8, 5, 0x00, 0, 0, 0, 0 };
        assert_int_equal(ns_ipv4_opt_ts_flags(ts), NS_IPV4_OPT_TS_ONLY);
        assert_true(ns_ipv4_opt_ts_store(ts, 0x00ad1c40));
        const uint8_t want[8] = { 68, 8, 9, 0x00, 0x00, 0xad, 0x1c, 0x40 };
        assert_memory_equal(ts, want, 8);
        assert_false(ns_ipv4_opt_ts_store(ts, 1));

        uint8_t ta[28] = { 68, 28, 21,  0x01, 192, 168, 1, 12, 1, 2,
                           3,  4,  192, 168,  1,   13,  5, 6,  7, 8 };
        assert_true(ns_ipv4_opt_ts_store_addr(ta, NS_IP4(192, 168, 1, 58), 0x00ad1c40));
        const uint8_t tail[9] = { 29, 192, 168, 1, 58, 0x00, 0xad, 0x1c, 0x40 };
        assert_int_equal(ta[2], tail[0]);
        assert_memory_equal(ta + 20, tail + 1, 8);

        /* "bad timer element alignment": 4 bytes left, 8 needed. */
        uint8_t bad[20] = { 68, 20, 17, 0x01, 192, 168, 1, 12, 1, 2, 3, 4 };
        assert_false(ns_ipv4_opt_ts_store_addr(bad, 1, 2));
        assert_int_equal(bad[2], 17);
        /* "timestamp pointer too small by 1": 4 is inside the header. */
        uint8_t low[8] = { 68, 8, 4, 0, 0, 0, 0, 0 };
        assert_false(ns_ipv4_opt_ts_store(low, 1));
}

/* gVisor "timestamp option overflow" and "overflow full". */
static void test_timestamp_overflow_counter(void **state)
{
        (void)state;
        uint8_t ts[12] = { 68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4 };
        assert_int_equal(ns_ipv4_opt_ts_overflow(ts), 1);
        assert_int_equal(ns_ipv4_opt_ts_inc_overflow(ts), 2);
        assert_int_equal(ts[3], 0x21);
        ts[3] = 0xf1;
        assert_int_equal(ns_ipv4_opt_ts_inc_overflow(ts), 0);
        assert_int_equal(ns_ipv4_opt_ts_flags(ts), 1);
}

static void test_prespecified_slot_address(void **state)
{
        (void)state;
        uint8_t ts[20];
        const ns_ip4 addrs[2] = { NS_IP4(192, 0, 2, 1), NS_IP4(192, 0, 2, 2) };
        assert_int_equal(ns_ipv4_opt_put_ts(ts, sizeof(ts), NS_IPV4_OPT_TS_PRESPEC, 2, addrs), 20);
        ns_ip4 a = 0;
        assert_true(ns_ipv4_opt_ts_slot_addr(ts, &a));
        assert_int_equal(a, addrs[0]);
        assert_true(ns_ipv4_opt_ts_store_addr(ts, a, 77));
        assert_true(ns_ipv4_opt_ts_slot_addr(ts, &a));
        assert_int_equal(a, addrs[1]);
        assert_true(ns_ipv4_opt_ts_store_addr(ts, a, 78));
        assert_false(ns_ipv4_opt_ts_slot_addr(ts, &a));
        assert_int_equal(ts[2], 21);
}

static void test_serializer(void **state)
{
        (void)state;
        uint8_t b[44];
        assert_int_equal(ns_ipv4_opt_put_router_alert(b, sizeof(b)), 4);
        const uint8_t ra[4] = { 148, 4, 0, 0 };
        assert_memory_equal(b, ra, 4);
        assert_int_equal(ns_ipv4_opt_put_router_alert(b, 3), 0);

        assert_int_equal(ns_ipv4_opt_put_rr(b, sizeof(b), 9), 39);
        assert_int_equal(b[0], 7);
        assert_int_equal(b[1], 39);
        assert_int_equal(b[2], 4);
        assert_int_equal(ns_ipv4_opt_put_rr(b, sizeof(b), 10), 0);
        assert_int_equal(ns_ipv4_opt_put_rr(b, sizeof(b), 0), 0);
        assert_int_equal(ns_ipv4_opt_put_rr(b, 10, 2), 0);

        assert_int_equal(ns_ipv4_opt_put_ts(b, sizeof(b), NS_IPV4_OPT_TS_ONLY, 9, NULL), 40);
        assert_int_equal(b[2], 5);
        assert_int_equal(b[3], 0);
        assert_int_equal(ns_ipv4_opt_put_ts(b, sizeof(b), NS_IPV4_OPT_TS_ADDR, 4, NULL), 36);
        assert_int_equal(b[3], 1);
        assert_int_equal(ns_ipv4_opt_put_ts(b, sizeof(b), NS_IPV4_OPT_TS_ADDR, 5, NULL), 0);
        assert_int_equal(ns_ipv4_opt_put_ts(b, sizeof(b), 2, 1, NULL), 0);
        assert_int_equal(ns_ipv4_opt_put_ts(b, sizeof(b), NS_IPV4_OPT_TS_PRESPEC, 1, NULL), 0);
}

/* Options we send iterate back as what we wrote. */
static void test_serialized_options_iterate_back(void **state)
{
        (void)state;
        uint8_t b[40];
        size_t n = ns_ipv4_opt_put_router_alert(b, sizeof(b));
        n += ns_ipv4_opt_put_rr(b + n, sizeof(b) - n, 2);
        n = ns_ipv4_opt_pad(b, n, sizeof(b));
        assert_int_equal(n, 16);
        struct walk w = walk(b, n);
        assert_int_equal(w.end, NS_IPV4_OPT_DONE);
        assert_int_equal(w.n, 3);
        assert_int_equal(w.opts[0].type, NS_IPV4_OPT_ROUTER_ALERT);
        assert_int_equal(w.opts[1].type, NS_IPV4_OPT_RR);
        assert_int_equal(w.opts[1].offset, 24);
        assert_int_equal(w.opts[1].len, 11);
        assert_int_equal(w.opts[2].type, NS_IPV4_OPT_EOL);
        assert_int_equal(ns_ipv4_opt_pad(b, 39, 39), 0);
}

/* RFC 791 3.1: the copied flag is bit 7 of the type. */
static void test_copied_flag(void **state)
{
        (void)state;
        assert_true(ns_ipv4_opt_copied(NS_IPV4_OPT_ROUTER_ALERT));
        assert_true(ns_ipv4_opt_copied(NS_IPV4_OPT_LSRR));
        assert_true(ns_ipv4_opt_copied(NS_IPV4_OPT_SSRR));
        assert_false(ns_ipv4_opt_copied(NS_IPV4_OPT_RR));
        assert_false(ns_ipv4_opt_copied(NS_IPV4_OPT_TS));
        assert_false(ns_ipv4_opt_copied(NS_IPV4_OPT_EOL));
        assert_false(ns_ipv4_opt_copied(NS_IPV4_OPT_NOP));
        assert_string_equal(ns_ipv4_opt_fault_name(NS_IPV4_OPT_FAULT_NO_LENGTH), "no_length");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_eol_ends_the_list),
                cmocka_unit_test(test_nops_then_eol),
                cmocka_unit_test(test_empty_area_is_done),
                cmocka_unit_test(test_unknown_option_is_yielded),
                cmocka_unit_test(test_type_in_last_byte_without_length),
                cmocka_unit_test(test_length_0_or_1_points_at_option_start),
                cmocka_unit_test(test_length_past_area_points_at_option_start),
                cmocka_unit_test(test_known_option_minimum_lengths),
                cmocka_unit_test(test_odd_timestamp_length_is_left_to_processing),
                cmocka_unit_test(test_cursor_of_second_option),
                cmocka_unit_test(test_junk_after_eol_is_ignored),
                cmocka_unit_test(test_random_areas_stay_in_bounds),
                cmocka_unit_test(test_record_route_store),
                cmocka_unit_test(test_timestamp_store),
                cmocka_unit_test(test_timestamp_overflow_counter),
                cmocka_unit_test(test_prespecified_slot_address),
                cmocka_unit_test(test_serializer),
                cmocka_unit_test(test_serialized_options_iterate_back),
                cmocka_unit_test(test_copied_flag),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
