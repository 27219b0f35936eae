/* The manual clock, the seeded generator and the distribution helpers. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/clock.h>
#include <netstack/rng.h>
#include <netstack/sys.h>

#include "core/rng.h"

static void test_manual_clock_reads_what_it_was_set_to(void **state)
{
        (void)state;
        struct ns_manual_clock mc;
        ns_manual_clock_init(&mc, 1000, 1700000000000000000);
        struct ns_clock c = ns_manual_clock_as_clock(&mc);
        assert_int_equal(c.now_ns(c.ctx), 1000);
        assert_int_equal(c.wall_ns(c.ctx), 1700000000000000000);
        /* Reading does not move it. */
        assert_int_equal(c.now_ns(c.ctx), 1000);
}

static void test_manual_clock_advance_moves_both_readings(void **state)
{
        (void)state;
        struct ns_manual_clock mc;
        ns_manual_clock_init(&mc, 5, 100);
        struct ns_clock c = ns_manual_clock_as_clock(&mc);
        ns_manual_clock_advance(&mc, 30000000000); /* 30 s */
        assert_int_equal(c.now_ns(c.ctx), 30000000005);
        assert_int_equal(c.wall_ns(c.ctx), 30000000100);
}

static void test_manual_clock_never_goes_backwards_or_overflows(void **state)
{
        (void)state;
        struct ns_manual_clock mc;
        ns_manual_clock_init(&mc, 10, 10);
        ns_manual_clock_advance(&mc, -5);
        assert_int_equal(mc.mono_ns, 10);
        ns_manual_clock_advance(&mc, INT64_MAX);
        assert_int_equal(mc.mono_ns, INT64_MAX);
        assert_int_equal(mc.wall_ns, INT64_MAX);
}

static void test_seeded_rng_same_seed_same_stream(void **state)
{
        (void)state;
        struct ns_seeded_rng a, b;
        ns_seeded_rng_init(&a, 42);
        ns_seeded_rng_init(&b, 42);
        struct ns_rng ra = ns_seeded_rng_as_rng(&a), rb = ns_seeded_rng_as_rng(&b);
        uint8_t x[1000], y[1000];
        ra.fill(ra.ctx, x, sizeof(x));
        rb.fill(rb.ctx, y, sizeof(y));
        assert_memory_equal(x, y, sizeof(x));
}

static void test_seeded_rng_different_seeds_differ(void **state)
{
        (void)state;
        struct ns_seeded_rng a, b;
        ns_seeded_rng_init(&a, 1);
        ns_seeded_rng_init(&b, 2);
        struct ns_rng ra = ns_seeded_rng_as_rng(&a), rb = ns_seeded_rng_as_rng(&b);
        uint8_t x[64], y[64];
        ra.fill(ra.ctx, x, sizeof(x));
        rb.fill(rb.ctx, y, sizeof(y));
        assert_memory_not_equal(x, y, sizeof(x));
}

static void test_seeded_rng_matches_reference_vector(void **state)
{
        (void)state;
        /* splitmix64 from 0 gives 0xe220a8397b1dcdaf first (Vigna's
         * reference implementation); the state is four such outputs, so the
         * first xoshiro256** output is rotl(s1 * 5, 7) * 9 of the second. */
        struct ns_seeded_rng r;
        ns_seeded_rng_init(&r, 0);
        assert_true(r.s[0] == 0xe220a8397b1dcdafull);
        uint64_t s1 = r.s[1];
        uint64_t m = s1 * 5;
        uint64_t want = ((m << 7) | (m >> 57)) * 9;
        struct ns_rng g = ns_seeded_rng_as_rng(&r);
        assert_true(ns__rng_u64(&g) == want);
}

static void test_seeded_rng_partial_fills_are_deterministic(void **state)
{
        (void)state;
        struct ns_seeded_rng a, b;
        ns_seeded_rng_init(&a, 7);
        ns_seeded_rng_init(&b, 7);
        struct ns_rng ra = ns_seeded_rng_as_rng(&a), rb = ns_seeded_rng_as_rng(&b);
        uint8_t x[3], y[8];
        ra.fill(ra.ctx, x, sizeof(x));
        rb.fill(rb.ctx, y, sizeof(y));
        /* A 3-byte fill is the first three bytes of the first output. */
        assert_memory_equal(x, y, 3);
        /* ... and the rest of that output is discarded, not carried over. */
        ra.fill(ra.ctx, x, 1);
        rb.fill(rb.ctx, y, 1);
        assert_int_equal(x[0], y[0]);
}

static void test_rng_below_stays_in_range_and_hits_every_value(void **state)
{
        (void)state;
        static const uint32_t ns[] = { 1, 2, 3, 7, 10, 100, 1000 };
        struct ns_seeded_rng s;
        ns_seeded_rng_init(&s, 12345);
        struct ns_rng r = ns_seeded_rng_as_rng(&s);
        for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
                uint32_t n = ns[k];
                uint32_t hits[1000] = { 0 };
                for (int i = 0; i < 100000; i++) {
                        uint32_t v = ns__rng_below(&r, n);
                        assert_true(v < n);
                        hits[v]++;
                }
                for (uint32_t v = 0; v < n; v++) {
                        assert_true(hits[v] > 0);
                        /* 1e5 draws: each bucket expects 1e5/n; a bucket at
                         * under half or over twice that is far outside any
                         * plausible fluctuation for these n. */
                        assert_true(hits[v] * 2 * n > 100000);
                        assert_true(hits[v] * n < 2 * 100000);
                }
        }
}

static void test_rng_below_handles_huge_and_zero_bounds(void **state)
{
        (void)state;
        struct ns_seeded_rng s;
        ns_seeded_rng_init(&s, 99);
        struct ns_rng r = ns_seeded_rng_as_rng(&s);
        assert_int_equal(ns__rng_below(&r, 0), 0);
        bool high = false;
        for (int i = 0; i < 1000; i++) {
                uint32_t v = ns__rng_below(&r, 0x80000001u);
                assert_true(v < 0x80000001u);
                high |= v >= 0x40000000u;
        }
        assert_true(high);
}

static void test_rng_duration_covers_both_ends(void **state)
{
        (void)state;
        struct ns_seeded_rng s;
        ns_seeded_rng_init(&s, 5);
        struct ns_rng r = ns_seeded_rng_as_rng(&s);
        bool seen[4] = { false };
        for (int i = 0; i < 10000; i++) {
                int64_t d = ns__rng_duration(&r, 3);
                assert_true(d >= 0 && d <= 3);
                seen[d] = true;
        }
        for (int i = 0; i < 4; i++)
                assert_true(seen[i]);
        assert_int_equal(ns__rng_duration(&r, 0), 0);
        assert_int_equal(ns__rng_duration(&r, -10), 0);
        for (int i = 0; i < 1000; i++) {
                int64_t d = ns__rng_duration(&r, INT64_MAX);
                assert_true(d >= 0);
                d = ns__rng_duration(&r, 10000000000);
                assert_true(d >= 0 && d <= 10000000000);
        }
}

static void test_system_clock_is_monotonic_and_wall_is_recent(void **state)
{
        (void)state;
        struct ns_clock c = ns_system_clock();
        int64_t a = c.now_ns(c.ctx);
        int64_t b = c.now_ns(c.ctx);
        assert_true(b >= a);
        /* After 2020-01-01. */
        assert_true(c.wall_ns(c.ctx) > 1577836800ll * 1000000000);
}

static void test_system_rng_fills_large_buffers(void **state)
{
        (void)state;
        struct ns_rng r = ns_system_rng();
        static uint8_t a[4096], b[4096];
        r.fill(r.ctx, a, sizeof(a));
        r.fill(r.ctx, b, sizeof(b));
        assert_memory_not_equal(a, b, sizeof(a));
        /* Every byte value turns up in 4096 random bytes with overwhelming
         * probability; an unfilled tail of zeros would not. */
        size_t zeros = 0;
        for (size_t i = 3072; i < sizeof(a); i++)
                zeros += a[i] == 0;
        assert_true(zeros < 64);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manual_clock_reads_what_it_was_set_to),
                cmocka_unit_test(test_manual_clock_advance_moves_both_readings),
                cmocka_unit_test(test_manual_clock_never_goes_backwards_or_overflows),
                cmocka_unit_test(test_seeded_rng_same_seed_same_stream),
                cmocka_unit_test(test_seeded_rng_different_seeds_differ),
                cmocka_unit_test(test_seeded_rng_matches_reference_vector),
                cmocka_unit_test(test_seeded_rng_partial_fills_are_deterministic),
                cmocka_unit_test(test_rng_below_stays_in_range_and_hits_every_value),
                cmocka_unit_test(test_rng_below_handles_huge_and_zero_bounds),
                cmocka_unit_test(test_rng_duration_covers_both_ends),
                cmocka_unit_test(test_system_clock_is_monotonic_and_wall_is_recent),
                cmocka_unit_test(test_system_rng_fills_large_buffers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
