/*
 * The per-packet views of an endpoint's addresses (core/addr_state.h): the
 * Bloom filter over the flat arrays stays exactly the union of its
 * addresses' and broadcasts' bits through adds, removals, promotions and
 * cleanup; ns__addr_acquire_permanent() returns what
 * ns__addr_acquire_assigned() does for a permanent address and nothing
 * otherwise; the inline release frees a transient entry at its last
 * reference.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/addr.h>
#include <netstack/err.h>

#include "core/addr_state.h"

static struct ns_ip4_prefix P(ns_ip4 a, uint8_t len) {
        struct ns_ip4_prefix p = { .addr = a, .prefix_len = len };
        return p;
}

/* The filter recomputed from the arrays, and the arrays' own invariants. */
static uint64_t
expected_bloom(const struct ns_addr_state *s)
{
        uint64_t b = 0;
        for (uint32_t i = 0; i < s->n_fast; i++)
                b |= ns__addr_bloom_bit(s->fast_addr[i]) | ns__addr_bloom_bit(s->fast_bcast[i]);
        return b;
}

static void add(struct ns_addr_state *s, ns_ip4 a, uint8_t len)
{
        int err = -1;
        struct ns_addr_entry *e =
            ns__addr_add_permanent(s, P(a, len), NS_PEB_CAN_BE_PRIMARY, false, &err);
        assert_non_null(e);
        assert_int_equal(err, 0);
        ns__addr_release(s, e);
}

static void test_bloom_is_the_union_of_its_addresses(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        assert_int_equal(s.fast_bloom, 0);
        add(&s, NS_IP4(192, 0, 2, 1), 24);
        assert_true(s.fast_bloom & ns__addr_bloom_bit(NS_IP4(192, 0, 2, 1)));
        assert_true(s.fast_bloom & ns__addr_bloom_bit(NS_IP4(192, 0, 2, 255)));
        add(&s, NS_IP4(198, 51, 100, 1), 24);
        add(&s, NS_IP4(203, 0, 113, 9), 32);
        assert_int_equal(s.fast_bloom, expected_bloom(&s));
        /* The one that stays keeps its bits when another goes. */
        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(192, 0, 2, 1)), 0);
        assert_int_equal(s.fast_bloom, expected_bloom(&s));
        assert_true(s.fast_bloom & ns__addr_bloom_bit(NS_IP4(198, 51, 100, 1)));
        assert_true(s.fast_bloom & ns__addr_bloom_bit(NS_IP4(203, 0, 113, 9)));
        ns__addr_state_cleanup(&s);
        assert_int_equal(s.fast_bloom, 0);
}

static void test_bloom_through_random_changes(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        srand(7);
        bool present[40] = { false };
        for (int round = 0; round < 4000; round++) {
                uint32_t k = (uint32_t)rand() % 40;
                ns_ip4 a = NS_IP4(10, (uint8_t)(k / 8), (uint8_t)k, 1);
                if (present[k]) {
                        /* Sometimes held across the removal: an expired entry. */
                        struct ns_addr_entry *held = NULL;
                        if (rand() % 3 == 0)
                                held = ns__addr_acquire_permanent(&s, a);
                        assert_int_equal(ns__addr_remove_permanent(&s, a), 0);
                        if (held) {
                                assert_null(ns__addr_acquire_permanent(&s, a));
                                ns__addr_release(&s, held);
                        }
                        present[k] = false;
                } else {
                        add(&s, a, (uint8_t)(16 + k % 17));
                        present[k] = true;
                }
                assert_int_equal(s.fast_bloom, expected_bloom(&s));
                for (uint32_t j = 0; j < 40; j++) {
                        ns_ip4 b = NS_IP4(10, (uint8_t)(j / 8), (uint8_t)j, 1);
                        if (present[j]) {
                                assert_true(s.fast_bloom & ns__addr_bloom_bit(b));
                                struct ns_addr_entry *e = ns__addr_acquire_permanent(&s, b);
                                assert_non_null(e);
                                assert_int_equal(e->pfx.addr, b);
                                assert_ptr_equal(e, ns__addr_find(&s, b));
                                ns__addr_release(&s, e);
                        } else {
                                assert_null(ns__addr_acquire_permanent(&s, b));
                        }
                }
        }
        ns__addr_state_cleanup(&s);
}

static void test_acquire_permanent_matches_acquire_assigned(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        add(&s, NS_IP4(192, 0, 2, 1), 24);
        struct ns_addr_entry *a = ns__addr_acquire_permanent(&s, NS_IP4(192, 0, 2, 1));
        struct ns_addr_entry *b =
            ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 1), NULL, NULL, false, 0);
        assert_non_null(a);
        assert_ptr_equal(a, b);
        assert_int_equal(a->refs, 3);
        ns__addr_release(&s, a);
        ns__addr_release(&s, b);
        assert_int_equal(a->refs, 1);
        /* A temporary address is not permanent: only the full rules find it. */
        struct ns_addr_entry *t = ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 50), NULL, NULL,
                                                            true, NS_PEB_CAN_BE_PRIMARY);
        assert_non_null(t);
        assert_null(ns__addr_acquire_permanent(&s, NS_IP4(192, 0, 2, 50)));
        assert_non_null(ns__addr_find(&s, NS_IP4(192, 0, 2, 50)));
        /* Its last release frees it. */
        ns__addr_release(&s, t);
        assert_null(ns__addr_find(&s, NS_IP4(192, 0, 2, 50)));
        ns__addr_state_cleanup(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bloom_is_the_union_of_its_addresses),
                cmocka_unit_test(test_bloom_through_random_changes),
                cmocka_unit_test(test_acquire_permanent_matches_acquire_assigned),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
