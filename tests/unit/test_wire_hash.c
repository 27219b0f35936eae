/* Jenkins 3-word hash: same outputs as gVisor's hash.Hash3Words. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "wire/hash.h"

/* Expected values printed by gVisor's pkg/tcpip/network/hash (Go,
 * Debian golang-gvisor-gvisor-dev) for the same inputs. */
static const struct {
        uint32_t a, b, c, initval, want;
} vectors[] = {
        { 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x1b68e557 },
        { 0x00000001, 0x00000002, 0x00000003, 0x00000004, 0x8103143f },
        { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xc343af0b },
        { 0xdeadbeef, 0x01234567, 0x89abcdef, 0x13579bdf, 0x1faf4d33 },
        { 0x010200c0, 0x076433c6, 0x00000011, 0x9e3779b9, 0x3c92ab98 },
        { 0x0100000a, 0x0200000a, 0x00000001, 0x00000000, 0xad77e2e7 },
};

static void test_hash3_words_matches_gvisor(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
                assert_int_equal(
                    ns_hash3_words(vectors[i].a, vectors[i].b, vectors[i].c, vectors[i].initval),
                    vectors[i].want);
}

static void test_address_word_is_little_endian_of_wire_bytes(void **state)
{
        (void)state;
        /* The seed's addressToUint32: addr[0] | addr[1]<<8 | ... */
        assert_int_equal(ns_hash_ip4_word(NS_IP4(192, 0, 2, 1)), 0x010200c0);
        assert_int_equal(ns_hash_ip4_word(NS_IP4(198, 51, 100, 7)), 0x076433c6);
        assert_int_equal(ns_hash_ip4_word(NS_IP4(0, 0, 0, 0xff)), 0xff000000);
        assert_int_equal(ns_hash_ip4_word(NS_IP4(0xff, 0, 0, 0)), 0x000000ff);
}

static void test_route_hash_is_hash3_of_address_words(void **state)
{
        (void)state;
        /* Row 5 above: 192.0.2.1 -> 198.51.100.7, UDP, iv 0x9e3779b9. */
        assert_int_equal(
            ns_hash_route(NS_IP4(192, 0, 2, 1), NS_IP4(198, 51, 100, 7), 17, 0x9e3779b9),
            0x3c92ab98);
        assert_int_equal(ns_hash_route(NS_IP4(10, 0, 0, 1), NS_IP4(10, 0, 0, 2), 1, 0), 0xad77e2e7);
}

static void test_fragment_hash_keys_on_id_and_protocol(void **state)
{
        (void)state;
        ns_ip4 s = NS_IP4(192, 0, 2, 1), d = NS_IP4(198, 51, 100, 7);
        uint32_t h = ns_hash_ipv4_fragment(0x1234, 17, s, d, 7);
        assert_int_equal(h,
                         ns_hash3_words(0x12340011, ns_hash_ip4_word(s), ns_hash_ip4_word(d), 7));
        assert_int_not_equal(h, ns_hash_ipv4_fragment(0x1234, 6, s, d, 7));
        assert_int_not_equal(h, ns_hash_ipv4_fragment(0x1235, 17, s, d, 7));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hash3_words_matches_gvisor),
                cmocka_unit_test(test_address_word_is_little_endian_of_wire_bytes),
                cmocka_unit_test(test_route_hash_is_hash3_of_address_words),
                cmocka_unit_test(test_fragment_hash_keys_on_id_and_protocol),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
