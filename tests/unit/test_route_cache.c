/*
 * The routing table's one-entry lookup cache (core/route_table.h): every
 * change to the table forgets it, the NIC filter and ok() still decide on
 * a cached answer, and ok() sees each candidate once per lookup.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/addr.h>
#include <netstack/err.h>

#include "core/route_table.h"

#define DST NS_IP4(203, 0, 113, 9)

static struct ns_route R(ns_ip4 dst, uint8_t len, ns_ip4 gw, uint32_t nic, uint32_t metric) {
        struct ns_route r = { .dst = { .addr = dst, .prefix_len = len },
                              .gateway = gw,
                              .nic_id = nic,
                              .metric = metric };
        return r;
}

static struct ns_ip4_prefix
P(ns_ip4 a, uint8_t len) {
        struct ns_ip4_prefix p = { .addr = a, .prefix_len = len };
        return p;
}

static void
add(struct ns_route_table *t, struct ns_route r)
{
        assert_int_equal(ns__route_add(t, &r), 0);
}

/* ok(): NICs marked up in a bitmap, counting every call per NIC. */
struct nics {
        uint32_t up;
        unsigned calls[8];
};

static bool nic_ok(uint32_t nic_id, void *ctx)
{
        struct nics *n = ctx;
        n->calls[nic_id]++;
        return (n->up >> nic_id) & 1u;
}

static uint32_t via(struct ns_route_table *t, ns_ip4 dst, uint32_t nic_id, struct nics *n)
{
        const struct ns_route *r = ns__route_lookup(t, dst, nic_id, nic_ok, n);
        return r ? r->nic_id : 0;
}

static void test_add_and_delete_change_the_answer(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        struct nics n = { .up = 0xff };
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0));
        assert_int_equal(via(&t, DST, 0, &n), 1);
        assert_int_equal(via(&t, DST, 0, &n), 1);
        /* A longer prefix added between two lookups of the same destination wins. */
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, NS_IP4(198, 51, 100, 254), 2, 0));
        assert_int_equal(via(&t, DST, 0, &n), 2);
        add(&t, R(DST, 32, 0, 3, 0));
        assert_int_equal(via(&t, DST, 0, &n), 3);
        /* Deleting it goes back to the next one, then the next. */
        assert_int_equal(ns__route_del(&t, P(DST, 32), 0, 0), 0);
        assert_int_equal(via(&t, DST, 0, &n), 2);
        assert_int_equal(
            ns__route_del_exact(&t, P(NS_IP4(203, 0, 113, 0), 24), NS_IP4(198, 51, 100, 254), 2),
            0);
        assert_int_equal(via(&t, DST, 0, &n), 1);
        /* A lower metric for the same prefix, added later, takes over. */
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 253), 4, 0));
        assert_int_equal(via(&t, DST, 0, &n), 1);
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, 0, 5, 7));
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, 0, 6, 3));
        assert_int_equal(via(&t, DST, 0, &n), 6);
        /* Removing a NIC's routes. */
        ns__route_del_nic(&t, 6);
        assert_int_equal(via(&t, DST, 0, &n), 5);
        ns__route_del_nic(&t, 5);
        ns__route_del_nic(&t, 1);
        assert_int_equal(via(&t, DST, 0, &n), 4);
        ns__route_table_destroy(&t);
        assert_int_equal(via(&t, DST, 0, &n), 0);
}

static void test_no_route_is_remembered_until_a_route_comes(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        struct nics n = { .up = 0xff };
        add(&t, R(NS_IP4(198, 51, 100, 0), 24, 0, 2, 0));
        assert_int_equal(via(&t, DST, 0, &n), 0);
        assert_int_equal(via(&t, DST, 0, &n), 0);
        add(&t, R(NS_IP4(203, 0, 0, 0), 16, 0, 3, 0));
        assert_int_equal(via(&t, DST, 0, &n), 3);
        ns__route_table_destroy(&t);
}

static void test_ok_still_decides_on_a_cached_route(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        struct nics n = { .up = 0xff };
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0));
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, 0, 2, 0));
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, 0, 3, 5));
        assert_int_equal(via(&t, DST, 0, &n), 2);
        /* NIC 2 goes down: the same destination falls to the next route. */
        n.up &= ~(1u << 2);
        memset(n.calls, 0, sizeof(n.calls));
        assert_int_equal(via(&t, DST, 0, &n), 3);
        /* ok() saw each candidate once, the cached one included. */
        assert_int_equal(n.calls[2], 1);
        assert_int_equal(n.calls[3], 1);
        assert_int_equal(n.calls[1], 0);
        n.up &= ~(1u << 3);
        assert_int_equal(via(&t, DST, 0, &n), 1);
        n.up &= ~(1u << 1);
        assert_int_equal(via(&t, DST, 0, &n), 0);
        /* Back up: the longest prefix again, without any table change. */
        n.up = 0xff;
        memset(n.calls, 0, sizeof(n.calls));
        assert_int_equal(via(&t, DST, 0, &n), 2);
        assert_int_equal(n.calls[2], 1);
        assert_int_equal(n.calls[3], 0);
        ns__route_table_destroy(&t);
}

static void test_the_nic_asked_for_is_part_of_the_key(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        struct nics n = { .up = 0xff };
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0));
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, 0, 2, 0));
        assert_int_equal(via(&t, DST, 0, &n), 2);
        assert_int_equal(via(&t, DST, 1, &n), 1);
        assert_int_equal(via(&t, DST, 2, &n), 2);
        assert_int_equal(via(&t, DST, 3, &n), 0);
        assert_int_equal(via(&t, DST, 1, &n), 1);
        /* And the destination: another one in the same /24 is its own entry. */
        assert_int_equal(via(&t, NS_IP4(203, 0, 113, 10), 0, &n), 2);
        assert_int_equal(via(&t, NS_IP4(198, 51, 100, 10), 0, &n), 1);
        ns__route_table_destroy(&t);
}

static void test_cached_route_survives_the_table_growing(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        struct nics n = { .up = 0xff };
        add(&t, R(NS_IP4(203, 0, 113, 0), 24, 0, 2, 0));
        assert_int_equal(via(&t, DST, 0, &n), 2);
        /* Enough other routes to move the array several times. */
        for (uint32_t i = 0; i < 100; i++)
                add(&t, R(NS_IP4(10, (uint8_t)i, 0, 0), 16, 0, 1, 0));
        const struct ns_route *r = ns__route_lookup(&t, DST, 0, nic_ok, &n);
        assert_non_null(r);
        assert_int_equal(r->nic_id, 2);
        assert_int_equal(r->dst.addr, NS_IP4(203, 0, 113, 0));
        assert_int_equal(via(&t, NS_IP4(10, 42, 1, 1), 0, &n), 1);
        ns__route_table_destroy(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_and_delete_change_the_answer),
                cmocka_unit_test(test_no_route_is_remembered_until_a_route_comes),
                cmocka_unit_test(test_ok_still_decides_on_a_cached_route),
                cmocka_unit_test(test_the_nic_asked_for_is_part_of_the_key),
                cmocka_unit_test(test_cached_route_survives_the_table_growing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
