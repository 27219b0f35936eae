/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624): every
 * implementation path against a plain reference loop, the RFC examples, and
 * the edge cases where carries and the two zeros of one's-complement
 * arithmetic bite.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/checksum.h>

#include "wire/checksum_impl.h"

/* The definition, word by word: RFC 1071 section 4.1 without the tricks. */
static uint32_t ref_partial(const uint8_t *p, size_t len, uint32_t initial)
{
        uint64_t s = initial;
        for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint32_t)p[i] << 8 | p[i + 1];
        if (len & 1)
                s += (uint32_t)p[len - 1] << 8;
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint32_t)s;
}

static uint64_t rng_next(uint64_t *state)
{
        /* xorshift64*: deterministic, so a failure reproduces. */
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t len, uint64_t *state)
{
        for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t)(rng_next(state) >> 56);
}

typedef uint32_t (*partial_fn)(const void *, size_t, uint32_t);

struct path {
        const char *name;
        partial_fn fn;
};

static const struct path scalar_path = { "scalar", ns__csum_partial_scalar };
static const struct path avx2_path = { "avx2", ns__csum_partial_avx2 };
static const struct path public_path = { "ns_csum_partial", ns_csum_partial };

/*
 * Every length 0..2048 at every start alignment 0..7, with a random initial
 * partial sum. Each buffer is copied to a heap block that ends exactly where
 * the data ends, so AddressSanitizer catches any read past the end.
 */
static void check_every_length_and_alignment(const struct path *path, int fill_ff)
{
        enum { MAX_LEN = 2048 };
        uint64_t rng = 0x9e3779b97f4a7c15ull;
        uint8_t *src = malloc(MAX_LEN);
        assert_non_null(src);
        if (fill_ff)
                memset(src, 0xff, MAX_LEN);
        else
                fill_random(src, MAX_LEN, &rng);
        for (size_t len = 0; len <= MAX_LEN; len++) {
                for (size_t align = 0; align < 8; align++) {
                        uint8_t *block = malloc(align + len + 1);
                        assert_non_null(block);
                        uint8_t *p = block + align;
                        memcpy(p, src + (MAX_LEN - len) / 2, len);
                        uint32_t initial = (uint32_t)(rng_next(&rng) >> 48);
                        uint32_t want = ref_partial(p, len, initial);
                        uint32_t got = path->fn(p, len, initial);
                        if (got != want)
                                fail_msg("%s: len %zu align %zu initial %#x: got %#x want %#x",
                                         path->name, len, align, initial, got, want);
                        assert_true(got <= 0xffff);
                        free(block);
                }
        }
        free(src);
}

static void skip_without_avx2(void)
{
        if (!ns__csum_have_avx2()) {
                print_message("this CPU has no AVX2; the AVX2 path is not tested here\n");
                skip();
        }
}

static void test_scalar_matches_reference_all_lengths_alignments(void **state)
{
        (void)state;
        check_every_length_and_alignment(&scalar_path, 0);
        check_every_length_and_alignment(&scalar_path, 1);
}

static void test_avx2_matches_reference_all_lengths_alignments(void **state)
{
        (void)state;
        skip_without_avx2();
        check_every_length_and_alignment(&avx2_path, 0);
        check_every_length_and_alignment(&avx2_path, 1);
}

static void test_public_matches_reference_all_lengths_alignments(void **state)
{
        (void)state;
        check_every_length_and_alignment(&public_path, 0);
        check_every_length_and_alignment(&public_path, 1);
}

/* RFC 1071 section 2(A)-(C): sums of pieces combine, odd split points included. */
static void check_combine_every_split(const struct path *path)
{
        enum { LEN = 1501 };
        uint64_t rng = 42;
        uint8_t buf[LEN];
        fill_random(buf, LEN, &rng);
        for (size_t total = LEN - 1; total <= LEN; total++) {
                uint32_t whole = ref_partial(buf, total, 0);
                for (size_t k = 0; k <= total; k++) {
                        uint32_t a = path->fn(buf, k, 0);
                        uint32_t b = path->fn(buf + k, total - k, 0);
                        uint32_t got = ns_csum_combine(a, b, k);
                        if (got != whole)
                                fail_msg("%s: total %zu split %zu: got %#x want %#x", path->name,
                                         total, k, got, whole);
                }
        }
}

static void test_combine_every_split_point(void **state)
{
        (void)state;
        check_combine_every_split(&scalar_path);
        check_combine_every_split(&public_path);
        if (ns__csum_have_avx2())
                check_combine_every_split(&avx2_path);
}

static void test_combine_chains_partial_initial(void **state)
{
        (void)state;
        /* Passing a previous partial sum as `initial` works for even-length pieces. */
        uint64_t rng = 7;
        uint8_t buf[600];
        fill_random(buf, sizeof(buf), &rng);
        uint32_t s = ns_csum_partial(buf, 300, 0);
        s = ns_csum_partial(buf + 300, 300, s);
        assert_int_equal(s, ref_partial(buf, sizeof(buf), 0));
}

/*
 * `initial` need not be folded: any value below 2^31 counts as itself
 * modulo 0xffff (ns_udp_checksum_ok passes an unfolded pseudo-header sum).
 */
static void test_unfolded_initial(void **state)
{
        (void)state;
        uint64_t rng = 11;
        uint8_t buf[300];
        fill_random(buf, sizeof(buf), &rng);
        const uint32_t initials[] = { 0x10000u, 0x1fffeu, 0x4fffau, 0xfffffu, 0x7fffffffu };
        for (size_t i = 0; i < sizeof(initials) / sizeof(initials[0]); i++) {
                uint32_t folded = initials[i];
                while (folded > 0xffff)
                        folded = (folded & 0xffff) + (folded >> 16);
                for (size_t len = 0; len <= sizeof(buf); len += 37) {
                        uint32_t want = ref_partial(buf, len, folded);
                        assert_int_equal(ns_csum_partial(buf, len, initials[i]), want);
                        assert_int_equal(ns__csum_partial_scalar(buf, len, initials[i]), want);
                        if (ns__csum_have_avx2())
                                assert_int_equal(ns__csum_partial_avx2(buf, len, initials[i]),
                                                 want);
                }
        }
}

/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
static void test_rfc1071_section3_example(void **state)
{
        (void)state;
        static const uint8_t bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
        assert_int_equal(ns_csum_partial(bytes, sizeof(bytes), 0), 0xddf2);
        assert_int_equal(ns__csum_partial_scalar(bytes, sizeof(bytes), 0), 0xddf2);
        if (ns__csum_have_avx2())
                assert_int_equal(ns__csum_partial_avx2(bytes, sizeof(bytes), 0), 0xddf2);
        assert_int_equal(ns_checksum(bytes, sizeof(bytes)), 0x220d);
}

/* A real IPv4 header (192.168.0.1 -> 192.168.0.199, UDP): its checksum is b861. */
static void test_ipv4_header_checksum(void **state)
{
        (void)state;
        uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
        assert_int_equal(ns_checksum(hdr, sizeof(hdr)), 0xb861);
        hdr[10] = 0xb8;
        hdr[11] = 0x61;
        /* A header with a correct checksum sums to 0xffff, so ~sum is zero. */
        assert_int_equal(ns_csum_partial(hdr, sizeof(hdr), 0), 0xffff);
        assert_int_equal(ns_checksum(hdr, sizeof(hdr)), 0);
}

/* RFC 1624 section 4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000. */
static void test_rfc1624_section4_example(void **state)
{
        (void)state;
        assert_int_equal(ns_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

/* RFC 1624 equation 3 agrees with summing the header again (TTL decrement). */
static void test_update16_matches_recompute(void **state)
{
        (void)state;
        uint64_t rng = 1624;
        for (int i = 0; i < 10000; i++) {
                uint8_t hdr[20];
                fill_random(hdr, sizeof(hdr), &rng);
                hdr[0] = 0x45;
                hdr[10] = hdr[11] = 0;
                uint16_t c = ns_checksum(hdr, sizeof(hdr));
                hdr[10] = (uint8_t)(c >> 8);
                hdr[11] = (uint8_t)c;
                uint16_t old_word = (uint16_t)(hdr[8] << 8 | hdr[9]);
                hdr[8]--;
                uint16_t new_word = (uint16_t)(hdr[8] << 8 | hdr[9]);
                uint16_t updated = ns_csum_update16(c, old_word, new_word);
                hdr[10] = hdr[11] = 0;
                assert_int_equal(updated, ns_checksum(hdr, sizeof(hdr)));
        }
}

/* The two zeros: 0x0000 only for "nothing non-zero was summed", else 0xffff. */
static void test_zero_and_ffff_edges(void **state)
{
        (void)state;
        static const uint8_t ffff[] = { 0xff, 0xff };
        static const uint8_t zeros[64] = { 0 };
        static const uint8_t wrap[] = { 0xff, 0xff, 0x00, 0x01 };
        assert_int_equal(ns_csum_partial(NULL, 0, 0), 0);
        assert_int_equal(ns_csum_partial(NULL, 0, 0xffff), 0xffff);
        assert_int_equal(ns_csum_partial(zeros, sizeof(zeros), 0), 0);
        assert_int_equal(ns_checksum(zeros, sizeof(zeros)), 0xffff);
        assert_int_equal(ns_csum_partial(ffff, 2, 0), 0xffff);
        assert_int_equal(ns_checksum(ffff, 2), 0x0000);
        assert_int_equal(ns_csum_partial(ffff, 2, 0xffff), 0xffff);
        assert_int_equal(ns_csum_partial(wrap, sizeof(wrap), 0), 0x0001);
        assert_int_equal(ns_csum_partial(ffff, 1, 0), 0xff00);
        assert_int_equal(ns_csum_partial(ffff, 1, 0x0100), 0x0001);
        assert_int_equal(ns_csum_combine(0xffff, 0xffff, 2), 0xffff);
        assert_int_equal(ns_csum_combine(0, 0, 1), 0);
        assert_int_equal(ns_csum_combine(0x1234, 0, 3), 0x1234);
        assert_int_equal(ns_csum_combine(0, 0x1234, 3), 0x3412);
        assert_int_equal(ns_csum_finish(0xffff), 0);
        assert_int_equal(ns_csum_finish(0), 0xffff);
}

/*
 * 64 KiB and 1 MiB of 0xff: every word is 0xffff, so every addition carries.
 * Also odd lengths and misaligned starts of the same, and random megabytes.
 */
static void check_long(const struct path *path)
{
        enum { MIB = 1 << 20 };
        uint8_t *block = malloc(MIB + 8);
        assert_non_null(block);
        memset(block, 0xff, MIB + 8);
        static const size_t lens[] = { 65535, 65536, 65537, MIB - 1, MIB };
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                for (size_t align = 0; align < 8; align += 3) {
                        size_t len = lens[i];
                        uint32_t want = (len & 1) ? 0xff00 : 0xffff;
                        assert_int_equal(path->fn(block + align, len, 0), want);
                        assert_int_equal(path->fn(block + align, len, 0xffff), want);
                }
        }
        uint64_t rng = 99;
        fill_random(block, MIB + 8, &rng);
        for (size_t align = 0; align < 8; align++) {
                size_t len = MIB - align;
                assert_int_equal(path->fn(block + align, len, 0x1234),
                                 ref_partial(block + align, len, 0x1234));
        }
        free(block);
}

static void test_long_buffers_all_ones_scalar(void **state)
{
        (void)state;
        check_long(&scalar_path);
}

static void test_long_buffers_all_ones_avx2(void **state)
{
        (void)state;
        skip_without_avx2();
        check_long(&avx2_path);
}

static void test_long_buffers_all_ones_public(void **state)
{
        (void)state;
        check_long(&public_path);
}

/* RFC 768 pseudo-header: src, dst, zero, protocol, UDP length. */
static void test_pseudo_header_matches_built_bytes(void **state)
{
        (void)state;
        uint64_t rng = 768;
        for (int i = 0; i < 10000; i++) {
                uint32_t src = (uint32_t)rng_next(&rng), dst = (uint32_t)rng_next(&rng);
                uint8_t proto = (uint8_t)rng_next(&rng);
                uint16_t len = (uint16_t)rng_next(&rng);
                if (i == 0) {
                        src = 0xc0000201; /* 192.0.2.1 */
                        dst = 0xc6336402; /* 198.51.100.2 */
                        proto = 17;
                        len = 28;
                }
                uint8_t ph[12] = {
                        (uint8_t)(src >> 24),
                        (uint8_t)(src >> 16),
                        (uint8_t)(src >> 8),
                        (uint8_t)src,
                        (uint8_t)(dst >> 24),
                        (uint8_t)(dst >> 16),
                        (uint8_t)(dst >> 8),
                        (uint8_t)dst,
                        0,
                        proto,
                        (uint8_t)(len >> 8),
                        (uint8_t)len,
                };
                assert_int_equal(ns_csum_pseudo_ip4(src, dst, proto, len),
                                 ref_partial(ph, sizeof(ph), 0));
        }
        /* 0xc000 + 0x0201 + 0xc633 + 0x6402 + 0x0011 + 0x001c = 0x1ec63 -> 0xec64. */
        assert_int_equal(ns_csum_pseudo_ip4(0xc0000201, 0xc6336402, 17, 28), 0xec64);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalar_matches_reference_all_lengths_alignments),
                cmocka_unit_test(test_avx2_matches_reference_all_lengths_alignments),
                cmocka_unit_test(test_public_matches_reference_all_lengths_alignments),
                cmocka_unit_test(test_combine_every_split_point),
                cmocka_unit_test(test_combine_chains_partial_initial),
                cmocka_unit_test(test_unfolded_initial),
                cmocka_unit_test(test_rfc1071_section3_example),
                cmocka_unit_test(test_ipv4_header_checksum),
                cmocka_unit_test(test_rfc1624_section4_example),
                cmocka_unit_test(test_update16_matches_recompute),
                cmocka_unit_test(test_zero_and_ffff_edges),
                cmocka_unit_test(test_long_buffers_all_ones_scalar),
                cmocka_unit_test(test_long_buffers_all_ones_avx2),
                cmocka_unit_test(test_long_buffers_all_ones_public),
                cmocka_unit_test(test_pseudo_header_matches_built_bytes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
