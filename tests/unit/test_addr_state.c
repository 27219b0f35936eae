/* The address table of one endpoint: primary order, main and source
 * selection, references, temporaries and bounds. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/addr.h>
#include <netstack/alloc.h>
#include <netstack/err.h>

#include "core/addr_state.h"

static struct ns_ip4_prefix P(ns_ip4 a, uint8_t len) {
        struct ns_ip4_prefix p = { .addr = a, .prefix_len = len };
        return p;
}

/* Counts live allocations so a test can see entries freed. */
struct counting {
        int live;
};

static void *c_alloc(void *ctx, size_t size)
{
        ((struct counting *)ctx)->live++;
        return malloc(size);
}

static void c_free(void *ctx, void *p)
{
        ((struct counting *)ctx)->live--;
        free(p);
}

/* Adds and drops the caller's reference at once, as the seed does. */
static int add(struct ns_addr_state *s, ns_ip4 a, uint8_t len, enum ns_peb peb, bool deprecated)
{
        int err = -1;
        struct ns_addr_entry *e = ns__addr_add_permanent(s, P(a, len), peb, deprecated, &err);
        if (e) {
                assert_int_equal(err, 0);
                ns__addr_release(s, e);
        } else {
                assert_int_not_equal(err, 0);
        }
        return err;
}

static void test_primary_order_follows_peb(void **state)
{
        (void)state;
        struct ns_addr_state s;
        struct ns_ip4_prefix out[8];
        ns__addr_state_init(&s, NULL);
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 2), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        assert_int_equal(add(&s, NS_IP4(198, 51, 100, 1), 24, NS_PEB_FIRST_PRIMARY, false), 0);
        assert_int_equal(add(&s, NS_IP4(255, 255, 255, 255), 32, NS_PEB_NEVER_PRIMARY, false), 0);
        assert_int_equal(ns__addr_primary_list(&s, out, 8), 3);
        assert_true(out[0].addr == NS_IP4(198, 51, 100, 1));
        assert_true(out[1].addr == NS_IP4(192, 0, 2, 1));
        assert_true(out[2].addr == NS_IP4(192, 0, 2, 2));
        /* Permanent list is creation order and includes never-primary. */
        assert_int_equal(ns__addr_permanent_list(&s, out, 8), 4);
        assert_true(out[3].addr == NS_IP4(255, 255, 255, 255));
        /* Short buffers get the first entries and the full count. */
        memset(out, 0, sizeof(out));
        assert_int_equal(ns__addr_primary_list(&s, out, 1), 3);
        assert_true(out[0].addr == NS_IP4(198, 51, 100, 1));
        assert_true(out[1].addr == 0);
        ns__addr_state_cleanup(&s);
}

static void test_main_address_is_first_primary_non_deprecated(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        struct ns_ip4_prefix m = ns__addr_main(&s);
        assert_true(m.addr == 0 && m.prefix_len == 0);

        add(&s, NS_IP4(255, 255, 255, 255), 32, NS_PEB_NEVER_PRIMARY, false);
        m = ns__addr_main(&s);
        assert_true(m.addr == 0);

        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, true);
        m = ns__addr_main(&s);
        assert_true(m.addr == NS_IP4(192, 0, 2, 1) && m.prefix_len == 24); /* only one */

        add(&s, NS_IP4(192, 0, 2, 2), 25, NS_PEB_CAN_BE_PRIMARY, false);
        m = ns__addr_main(&s);
        assert_true(m.addr == NS_IP4(192, 0, 2, 2) && m.prefix_len == 25);

        assert_int_equal(ns__addr_set_deprecated(&s, NS_IP4(192, 0, 2, 1), false), 0);
        assert_true(ns__addr_main(&s).addr == NS_IP4(192, 0, 2, 1));
        assert_int_equal(ns__addr_set_deprecated(&s, NS_IP4(10, 0, 0, 1), false),
                         NS_ERR_BAD_LOCAL_ADDRESS);
        ns__addr_state_cleanup(&s);
}

static void test_duplicate_and_invalid_adds_are_refused(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        /* Same address, other prefix: still a duplicate. */
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 1), 16, NS_PEB_FIRST_PRIMARY, false),
                         NS_ERR_DUPLICATE_ADDRESS);
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 9), 33, NS_PEB_CAN_BE_PRIMARY, false),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 9), 24, (enum ns_peb)7, false),
                         NS_ERR_INVALID_ARGUMENT);
        struct ns_ip4_prefix out[4];
        assert_int_equal(ns__addr_permanent_list(&s, out, 4), 1);
        assert_int_equal(out[0].prefix_len, 24);
        ns__addr_state_cleanup(&s);
}

static void test_remove_then_readd(void **state)
{
        (void)state;
        struct counting cnt = { 0 };
        struct ns_allocator a = { c_alloc, c_free, &cnt };
        struct ns_addr_state s;
        ns__addr_state_init(&s, &a);
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);
        add(&s, NS_IP4(192, 0, 2, 2), 24, NS_PEB_CAN_BE_PRIMARY, false);
        assert_int_equal(cnt.live, 2);

        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(192, 0, 2, 1)), 0);
        assert_int_equal(cnt.live, 1); /* nobody held it: freed */
        assert_false(ns__addr_has_assigned(&s, NS_IP4(192, 0, 2, 1)));
        assert_true(ns__addr_main(&s).addr == NS_IP4(192, 0, 2, 2));
        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(192, 0, 2, 1)),
                         NS_ERR_BAD_LOCAL_ADDRESS);

        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        assert_true(ns__addr_has_assigned(&s, NS_IP4(192, 0, 2, 1)));
        struct ns_ip4_prefix out[4];
        assert_int_equal(ns__addr_primary_list(&s, out, 4), 2);
        assert_true(out[1].addr == NS_IP4(192, 0, 2, 1)); /* back of the list */
        ns__addr_state_cleanup(&s);
        assert_int_equal(cnt.live, 0);
}

static void test_reference_keeps_removed_address_until_released(void **state)
{
        (void)state;
        struct counting cnt = { 0 };
        struct ns_allocator a = { c_alloc, c_free, &cnt };
        struct ns_addr_state s;
        ns__addr_state_init(&s, &a);
        int err;
        struct ns_addr_entry *e = ns__addr_add_permanent(&s, P(NS_IP4(192, 0, 2, 1), 24),
                                                         NS_PEB_CAN_BE_PRIMARY, false, &err);
        assert_non_null(e);
        assert_int_equal(e->refs, 2); /* the state's and ours */

        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(192, 0, 2, 1)), 0);
        assert_int_equal(e->kind, NS_ADDR_PERMANENT_EXPIRED);
        assert_int_equal(e->refs, 1);
        assert_int_equal(cnt.live, 1);
        struct ns_ip4_prefix out[2];
        assert_int_equal(ns__addr_primary_list(&s, out, 2), 0);
        assert_int_equal(ns__addr_permanent_list(&s, out, 2), 0);
        assert_true(ns__addr_main(&s).addr == 0);
        assert_false(ns__addr_has_assigned(&s, NS_IP4(192, 0, 2, 1)));

        /* Not a source unless expired ones are allowed. */
        assert_null(ns__addr_acquire_outgoing_primary(&s, NS_IP4(192, 0, 2, 9), false));
        struct ns_addr_entry *x = ns__addr_acquire_outgoing_primary(&s, NS_IP4(192, 0, 2, 9), true);
        assert_ptr_equal(x, e);
        ns__addr_release(&s, x);

        /* Not local for a normal receive. */
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 1), NULL, NULL, false,
                                              NS_PEB_NEVER_PRIMARY));

        ns__addr_release(&s, e);
        assert_int_equal(cnt.live, 0);
        assert_null(ns__addr_find(&s, NS_IP4(192, 0, 2, 1)));
        ns__addr_state_cleanup(&s);
}

static void test_readd_while_held_promotes_the_same_entry(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        int err;
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);
        struct ns_addr_entry *held = ns__addr_add_permanent(&s, P(NS_IP4(192, 0, 2, 2), 24),
                                                            NS_PEB_CAN_BE_PRIMARY, false, &err);
        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(192, 0, 2, 2)), 0);
        struct ns_addr_entry *again = ns__addr_add_permanent(&s, P(NS_IP4(192, 0, 2, 2), 16),
                                                             NS_PEB_FIRST_PRIMARY, false, &err);
        assert_ptr_equal(again, held);
        assert_int_equal(again->kind, NS_ADDR_PERMANENT);
        assert_int_equal(again->pfx.prefix_len, 16);
        assert_int_equal(again->refs, 3);                            /* state, held, again */
        assert_true(ns__addr_main(&s).addr == NS_IP4(192, 0, 2, 2)); /* moved to front */
        ns__addr_release(&s, held);
        ns__addr_release(&s, again);
        assert_true(ns__addr_has_assigned(&s, NS_IP4(192, 0, 2, 2)));
        ns__addr_state_cleanup(&s);
}

struct match_ctx {
        bool loopback;
};

/* The IPv4 layer's rule (seed AcquireAssignedAddress). */
static bool ipv4_match(const struct ns_addr_entry *e, ns_ip4 addr, void *ctx)
{
        const struct match_ctx *m = ctx;
        return ns_ip4_prefix_is_broadcast(e->pfx, addr) ||
               (m->loopback && ns_ip4_prefix_contains(e->pfx, addr));
}

static void test_subnet_broadcast_is_acquired_through_match(void **state)
{
        (void)state;
        struct ns_addr_state s;
        struct match_ctx m = { .loopback = false };
        ns__addr_state_init(&s, NULL);
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);
        add(&s, NS_IP4(198, 51, 100, 0), 31, NS_PEB_CAN_BE_PRIMARY, false);

        struct ns_addr_entry *e = ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 255), ipv4_match,
                                                            &m, false, NS_PEB_NEVER_PRIMARY);
        assert_non_null(e);
        assert_true(e->pfx.addr == NS_IP4(192, 0, 2, 1));
        assert_int_equal(e->refs, 2);
        ns__addr_release(&s, e);
        assert_int_equal(e->refs, 1);

        /* Not the broadcast, not on a loopback NIC: nothing. */
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 7), ipv4_match, &m, false,
                                              NS_PEB_NEVER_PRIMARY));
        /* RFC 3021: a /31 has no broadcast address (.1 is a host). */
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(198, 51, 100, 1), ipv4_match, &m, false,
                                              NS_PEB_NEVER_PRIMARY));

        /* On a loopback NIC the whole subnet is local. */
        m.loopback = true;
        e = ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 7), ipv4_match, &m, false,
                                      NS_PEB_NEVER_PRIMARY);
        assert_non_null(e);
        assert_true(e->pfx.addr == NS_IP4(192, 0, 2, 1));
        ns__addr_release(&s, e);

        /* The exact address wins over a match. */
        e = ns__addr_acquire_assigned(&s, NS_IP4(198, 51, 100, 0), ipv4_match, &m, false,
                                      NS_PEB_NEVER_PRIMARY);
        assert_true(e->pfx.addr == NS_IP4(198, 51, 100, 0));
        ns__addr_release(&s, e);
        ns__addr_state_cleanup(&s);
}

static void test_prefix_helpers_follow_rfc3021(void **state)
{
        (void)state;
        assert_true(
            ns_ip4_prefix_is_broadcast(P(NS_IP4(192, 0, 2, 1), 24), NS_IP4(192, 0, 2, 255)));
        assert_true(ns_ip4_prefix_is_broadcast(P(NS_IP4(192, 0, 2, 1), 30), NS_IP4(192, 0, 2, 3)));
        assert_false(ns_ip4_prefix_is_broadcast(P(NS_IP4(192, 0, 2, 0), 31), NS_IP4(192, 0, 2, 1)));
        assert_false(ns_ip4_prefix_is_broadcast(P(NS_IP4(192, 0, 2, 1), 32), NS_IP4(192, 0, 2, 1)));
        assert_false(
            ns_ip4_prefix_is_broadcast(P(NS_IP4(192, 0, 2, 1), 24), NS_IP4(192, 0, 3, 255)));
        assert_true(ns_ip4_prefix_is_broadcast(P(NS_IP4(10, 1, 2, 3), 0), NS_IP4_BROADCAST));
        assert_true(ns_ip4_prefix_contains(P(NS_IP4(192, 0, 2, 1), 24), NS_IP4(192, 0, 2, 200)));
        assert_false(ns_ip4_prefix_contains(P(NS_IP4(192, 0, 2, 1), 25), NS_IP4(192, 0, 2, 200)));
        assert_true(ns_ip4_prefix_contains(P(NS_IP4(192, 0, 2, 1), 0), NS_IP4(8, 8, 8, 8)));
        assert_true(ns_ip4_prefix_contains(P(NS_IP4(192, 0, 2, 1), 32), NS_IP4(192, 0, 2, 1)));
        assert_false(ns_ip4_prefix_contains(P(NS_IP4(192, 0, 2, 1), 32), NS_IP4(192, 0, 2, 2)));
}

static void test_temporary_is_created_and_freed_at_last_release(void **state)
{
        (void)state;
        struct counting cnt = { 0 };
        struct ns_allocator a = { c_alloc, c_free, &cnt };
        struct ns_addr_state s;
        ns__addr_state_init(&s, &a);
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);

        /* Without allow_temp a foreign address is not local. */
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(203, 0, 113, 5), NULL, NULL, false,
                                              NS_PEB_CAN_BE_PRIMARY));
        assert_int_equal(cnt.live, 1);

        struct ns_addr_entry *t1 = ns__addr_acquire_assigned(&s, NS_IP4(203, 0, 113, 5), NULL, NULL,
                                                             true, NS_PEB_CAN_BE_PRIMARY);
        assert_non_null(t1);
        assert_int_equal(t1->kind, NS_ADDR_TEMPORARY);
        assert_int_equal(t1->pfx.prefix_len, 32);
        assert_int_equal(cnt.live, 2);
        /* A second acquire shares it. */
        struct ns_addr_entry *t2 = ns__addr_acquire_assigned(&s, NS_IP4(203, 0, 113, 5), NULL, NULL,
                                                             true, NS_PEB_CAN_BE_PRIMARY);
        assert_ptr_equal(t1, t2);
        assert_int_equal(t1->refs, 2);
        /* A temporary is never listed, never main and never a source. */
        struct ns_ip4_prefix out[4];
        assert_int_equal(ns__addr_primary_list(&s, out, 4), 1);
        assert_int_equal(ns__addr_permanent_list(&s, out, 4), 1);
        assert_false(ns__addr_has_assigned(&s, NS_IP4(203, 0, 113, 5)));
        struct ns_addr_entry *src =
            ns__addr_acquire_outgoing_primary(&s, NS_IP4(203, 0, 113, 9), true);
        assert_true(src->pfx.addr == NS_IP4(192, 0, 2, 1));
        ns__addr_release(&s, src);
        /* Without allow_temp an existing temporary is not local either. */
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(203, 0, 113, 5), NULL, NULL, false,
                                              NS_PEB_CAN_BE_PRIMARY));
        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(203, 0, 113, 5)),
                         NS_ERR_BAD_LOCAL_ADDRESS);

        ns__addr_release(&s, t1);
        assert_int_equal(cnt.live, 2);
        ns__addr_release(&s, t2);
        assert_int_equal(cnt.live, 1);
        assert_null(ns__addr_find(&s, NS_IP4(203, 0, 113, 5)));
        ns__addr_state_cleanup(&s);
        assert_int_equal(cnt.live, 0);
}

static void test_temporary_is_promoted_by_a_permanent_add(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);
        struct ns_addr_entry *t = ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 9), NULL, NULL,
                                                            true, NS_PEB_CAN_BE_PRIMARY);
        int err;
        struct ns_addr_entry *p = ns__addr_add_permanent(&s, P(NS_IP4(192, 0, 2, 9), 24),
                                                         NS_PEB_CAN_BE_PRIMARY, false, &err);
        assert_ptr_equal(p, t);
        assert_int_equal(p->kind, NS_ADDR_PERMANENT);
        assert_int_equal(p->refs, 3);
        ns__addr_release(&s, t);
        ns__addr_release(&s, p);
        assert_true(ns__addr_has_assigned(&s, NS_IP4(192, 0, 2, 9)));
        /* It kept the primary slot it had as a temporary (gVisor). */
        struct ns_ip4_prefix out[4];
        assert_int_equal(ns__addr_primary_list(&s, out, 4), 2);
        assert_true(out[1].addr == NS_IP4(192, 0, 2, 9));
        ns__addr_state_cleanup(&s);
}

static void test_outgoing_prefers_same_subnet_then_first(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        assert_null(ns__addr_acquire_outgoing_primary(&s, NS_IP4(192, 0, 2, 9), false));
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);
        add(&s, NS_IP4(198, 51, 100, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);
        add(&s, NS_IP4(203, 0, 113, 1), 32, NS_PEB_NEVER_PRIMARY, false);

        struct ns_addr_entry *e =
            ns__addr_acquire_outgoing_primary(&s, NS_IP4(198, 51, 100, 7), false);
        assert_true(e->pfx.addr == NS_IP4(198, 51, 100, 1));
        assert_int_equal(e->refs, 2);
        ns__addr_release(&s, e);

        e = ns__addr_acquire_outgoing_primary(&s, NS_IP4(8, 8, 8, 8), false);
        assert_true(e->pfx.addr == NS_IP4(192, 0, 2, 1));
        ns__addr_release(&s, e);
        e = ns__addr_acquire_outgoing_primary(&s, 0, false);
        assert_true(e->pfx.addr == NS_IP4(192, 0, 2, 1));
        ns__addr_release(&s, e);
        /* Never-primary addresses are not chosen, even for their subnet. */
        e = ns__addr_acquire_outgoing_primary(&s, NS_IP4(203, 0, 113, 1), false);
        assert_true(e->pfx.addr == NS_IP4(192, 0, 2, 1));
        ns__addr_release(&s, e);
        ns__addr_state_cleanup(&s);
}

static void test_outgoing_prefers_non_deprecated_over_same_subnet(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, true);
        add(&s, NS_IP4(192, 0, 2, 2), 24, NS_PEB_CAN_BE_PRIMARY, true);
        add(&s, NS_IP4(198, 51, 100, 1), 24, NS_PEB_CAN_BE_PRIMARY, false);

        struct ns_addr_entry *e =
            ns__addr_acquire_outgoing_primary(&s, NS_IP4(192, 0, 2, 7), false);
        assert_true(e->pfx.addr == NS_IP4(198, 51, 100, 1));
        ns__addr_release(&s, e);

        ns__addr_set_deprecated(&s, NS_IP4(198, 51, 100, 1), true);
        /* All deprecated: same subnet first, then first in order. */
        e = ns__addr_acquire_outgoing_primary(&s, NS_IP4(198, 51, 100, 7), false);
        assert_true(e->pfx.addr == NS_IP4(198, 51, 100, 1));
        ns__addr_release(&s, e);
        e = ns__addr_acquire_outgoing_primary(&s, NS_IP4(8, 8, 8, 8), false);
        assert_true(e->pfx.addr == NS_IP4(192, 0, 2, 1));
        ns__addr_release(&s, e);
        ns__addr_state_cleanup(&s);
}

static void test_permanent_addresses_are_bounded(void **state)
{
        (void)state;
        struct ns_addr_state s;
        ns__addr_state_init(&s, NULL);
        for (int i = 0; i < NS_ADDR_MAX_PER_NIC; i++)
                assert_int_equal(add(&s, NS_IP4(10, 0, 1, i), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        assert_int_equal(add(&s, NS_IP4(10, 0, 2, 0), 24, NS_PEB_CAN_BE_PRIMARY, false),
                         NS_ERR_NO_BUFFER_SPACE);
        assert_int_equal(ns__addr_remove_permanent(&s, NS_IP4(10, 0, 1, 3)), 0);
        assert_int_equal(add(&s, NS_IP4(10, 0, 2, 0), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        ns__addr_state_cleanup(&s);
}

static void test_temporaries_are_bounded(void **state)
{
        (void)state;
        struct counting cnt = { 0 };
        struct ns_allocator a = { c_alloc, c_free, &cnt };
        struct ns_addr_state s;
        static struct ns_addr_entry *held[NS_ADDR_MAX_TRANSIENT + 1];
        ns__addr_state_init(&s, &a);
        for (int i = 0; i < NS_ADDR_MAX_TRANSIENT; i++) {
                held[i] = ns__addr_acquire_assigned(&s, NS_IP4(203, 0, 113, i), NULL, NULL, true,
                                                    NS_PEB_CAN_BE_PRIMARY);
                assert_non_null(held[i]);
        }
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(203, 0, 113, 200), NULL, NULL, true,
                                              NS_PEB_CAN_BE_PRIMARY));
        /* Permanent addresses are still accepted. */
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false), 0);
        for (int i = 0; i < NS_ADDR_MAX_TRANSIENT; i++)
                ns__addr_release(&s, held[i]);
        assert_int_equal(cnt.live, 1);
        ns__addr_state_cleanup(&s);
        assert_int_equal(cnt.live, 0);
}

static void *fail_alloc(void *ctx, size_t size)
{
        (void)ctx;
        (void)size;
        return NULL;
}

static void test_allocation_failure_is_reported_not_fatal(void **state)
{
        (void)state;
        struct ns_allocator fail = { .alloc = fail_alloc, .free = c_free, .ctx = NULL };
        struct ns_addr_state s;
        ns__addr_state_init(&s, &fail);
        assert_int_equal(add(&s, NS_IP4(192, 0, 2, 1), 24, NS_PEB_CAN_BE_PRIMARY, false),
                         NS_ERR_NO_MEMORY);
        assert_null(ns__addr_acquire_assigned(&s, NS_IP4(192, 0, 2, 1), NULL, NULL, true,
                                              NS_PEB_CAN_BE_PRIMARY));
        assert_int_equal(ns__addr_permanent_list(&s, NULL, 0), 0);
        ns__addr_state_cleanup(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_primary_order_follows_peb),
                cmocka_unit_test(test_main_address_is_first_primary_non_deprecated),
                cmocka_unit_test(test_duplicate_and_invalid_adds_are_refused),
                cmocka_unit_test(test_remove_then_readd),
                cmocka_unit_test(test_reference_keeps_removed_address_until_released),
                cmocka_unit_test(test_readd_while_held_promotes_the_same_entry),
                cmocka_unit_test(test_subnet_broadcast_is_acquired_through_match),
                cmocka_unit_test(test_prefix_helpers_follow_rfc3021),
                cmocka_unit_test(test_temporary_is_created_and_freed_at_last_release),
                cmocka_unit_test(test_temporary_is_promoted_by_a_permanent_add),
                cmocka_unit_test(test_outgoing_prefers_same_subnet_then_first),
                cmocka_unit_test(test_outgoing_prefers_non_deprecated_over_same_subnet),
                cmocka_unit_test(test_permanent_addresses_are_bounded),
                cmocka_unit_test(test_temporaries_are_bounded),
                cmocka_unit_test(test_allocation_failure_is_reported_not_fatal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
