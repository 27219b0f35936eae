/* The routing table: longest prefix match, metrics, deletes, NIC filters,
 * and a brute-force comparison on random tables. */
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
#include <netstack/rng.h>

#include "core/rng.h"
#include "core/route_table.h"

static struct ns_route R(ns_ip4 dst, uint8_t len, ns_ip4 gw, uint32_t nic, uint32_t metric) {
        struct ns_route r = {
                .dst = { .addr = dst, .prefix_len = len },
                .gateway = gw,
                .nic_id = nic,
                .metric = metric,
                .mtu = 0,
        };
        return r;
}

static int
add(struct ns_route_table *t, struct ns_route r)
{
        return ns__route_add(t, &r);
}

static struct ns_ip4_prefix P(ns_ip4 a, uint8_t len) {
        struct ns_ip4_prefix p = { .addr = a, .prefix_len = len };
        return p;
}

static void
test_empty_table_has_no_route(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        assert_null(ns__route_lookup(&t, NS_IP4(192, 0, 2, 1), 0, NULL, NULL));
        assert_int_equal(ns__route_list(&t, NULL, 0), 0);
        ns__route_table_destroy(&t);
}

static void test_longest_prefix_wins(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        assert_int_equal(add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0)), 0);
        assert_int_equal(add(&t, R(NS_IP4(198, 51, 100, 0), 24, 0, 2, 0)), 0);
        assert_int_equal(add(&t, R(NS_IP4(198, 51, 100, 128), 25, 0, 3, 0)), 0);
        assert_int_equal(add(&t, R(NS_IP4(198, 51, 100, 200), 32, NS_IP4(192, 0, 2, 9), 4, 0)), 0);

        const struct ns_route *r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 5), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 2);
        r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 129), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 3);
        r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 200), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 4);
        assert_true(r->gateway == NS_IP4(192, 0, 2, 9));
        r = ns__route_lookup(&t, NS_IP4(203, 0, 113, 1), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 1); /* default route */
        assert_true(r->dst.addr == 0 && r->dst.prefix_len == 0);
        r = ns__route_lookup(&t, NS_IP4_BROADCAST, 0, NULL, NULL);
        assert_int_equal(r->nic_id, 1);
        ns__route_table_destroy(&t);
}

static void test_host_bits_are_cleared_on_add(void **state)
{
        (void)state;
        struct ns_route_table t;
        struct ns_route out[2];
        ns__route_table_init(&t, NULL);
        assert_int_equal(add(&t, R(NS_IP4(192, 0, 2, 77), 24, 0, 1, 0)), 0);
        assert_int_equal(ns__route_list(&t, out, 2), 1);
        assert_true(out[0].dst.addr == NS_IP4(192, 0, 2, 0));
        assert_non_null(ns__route_lookup(&t, NS_IP4(192, 0, 2, 1), 0, NULL, NULL));
        /* The same route spelled with other host bits is a duplicate. */
        assert_int_equal(add(&t, R(NS_IP4(192, 0, 2, 1), 24, 0, 1, 5)), NS_ERR_ALREADY_EXISTS);
        /* ... and deletes with any host bits. */
        assert_int_equal(ns__route_del(&t, P(NS_IP4(192, 0, 2, 99), 24), 0, 0), 0);
        assert_int_equal(ns__route_list(&t, out, 2), 0);
        ns__route_table_destroy(&t);
}

static void test_invalid_routes_are_refused(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        assert_int_equal(add(&t, R(NS_IP4(192, 0, 2, 0), 33, 0, 1, 0)), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(add(&t, R(NS_IP4(192, 0, 2, 0), 24, 0, 0, 0)), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns__route_list(&t, NULL, 0), 0);
        ns__route_table_destroy(&t);
}

static void test_duplicates_need_same_dst_gateway_and_nic(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        ns_ip4 net = NS_IP4(198, 51, 100, 0);
        assert_int_equal(add(&t, R(net, 24, NS_IP4(192, 0, 2, 1), 1, 10)), 0);
        assert_int_equal(add(&t, R(net, 24, NS_IP4(192, 0, 2, 1), 1, 20)), NS_ERR_ALREADY_EXISTS);
        assert_int_equal(add(&t, R(net, 24, NS_IP4(192, 0, 2, 2), 1, 10)), 0);
        assert_int_equal(add(&t, R(net, 24, NS_IP4(192, 0, 2, 1), 2, 10)), 0);
        assert_int_equal(add(&t, R(net, 25, NS_IP4(192, 0, 2, 1), 1, 10)), 0);
        assert_int_equal(ns__route_list(&t, NULL, 0), 4);
        ns__route_table_destroy(&t);
}

static void test_equal_prefixes_use_lowest_metric_then_oldest(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        ns_ip4 net = NS_IP4(198, 51, 100, 0);
        add(&t, R(net, 24, 0, 1, 100));
        add(&t, R(net, 24, 0, 2, 50));
        add(&t, R(net, 24, 0, 3, 50));
        const struct ns_route *r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 1), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 2);
        assert_int_equal(r->metric, 50);
        /* A lower metric never beats a longer prefix. */
        add(&t, R(NS_IP4(198, 51, 100, 0), 25, 0, 4, 1000));
        r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 1), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 4);
        ns__route_table_destroy(&t);
}

static void test_delete_removes_first_match_only(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        ns_ip4 net = NS_IP4(198, 51, 100, 0);
        add(&t, R(net, 24, NS_IP4(192, 0, 2, 1), 1, 20));
        add(&t, R(net, 24, NS_IP4(192, 0, 2, 2), 2, 10));
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0));

        assert_int_equal(ns__route_del(&t, P(net, 23), 0, 0), NS_ERR_NOT_FOUND);
        assert_int_equal(ns__route_del(&t, P(net, 24), NS_IP4(192, 0, 2, 3), 0), NS_ERR_NOT_FOUND);
        assert_int_equal(ns__route_del(&t, P(net, 24), 0, 3), NS_ERR_NOT_FOUND);
        assert_int_equal(ns__route_del(&t, P(net, 40), 0, 0), NS_ERR_NOT_FOUND);

        /* Wildcards delete the best (lowest metric) match, one at a time. */
        assert_int_equal(ns__route_del(&t, P(net, 24), 0, 0), 0);
        const struct ns_route *r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 1), 0, NULL, NULL);
        assert_int_equal(r->nic_id, 1);
        assert_true(r->gateway == NS_IP4(192, 0, 2, 1));
        assert_int_equal(ns__route_del(&t, P(net, 24), NS_IP4(192, 0, 2, 1), 1), 0);
        r = ns__route_lookup(&t, NS_IP4(198, 51, 100, 1), 0, NULL, NULL);
        assert_int_equal(r->dst.prefix_len, 0); /* falls back to default */
        assert_int_equal(ns__route_del(&t, P(0, 0), 0, 0), 0);
        assert_null(ns__route_lookup(&t, NS_IP4(198, 51, 100, 1), 0, NULL, NULL));
        ns__route_table_destroy(&t);
}

static void test_del_nic_removes_every_route_of_that_nic(void **state)
{
        (void)state;
        struct ns_route_table t;
        struct ns_route out[8];
        ns__route_table_init(&t, NULL);
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0));
        add(&t, R(NS_IP4(192, 0, 2, 0), 24, 0, 1, 0));
        add(&t, R(NS_IP4(198, 51, 100, 0), 24, 0, 2, 0));
        add(&t, R(NS_IP4(198, 51, 100, 0), 24, 0, 1, 5));
        add(&t, R(NS_IP4(203, 0, 113, 7), 32, 0, 1, 0));
        ns__route_del_nic(&t, 1);
        assert_int_equal(ns__route_list(&t, out, 8), 1);
        assert_int_equal(out[0].nic_id, 2);
        assert_null(ns__route_lookup(&t, NS_IP4(203, 0, 113, 7), 0, NULL, NULL));
        assert_int_equal(ns__route_lookup(&t, NS_IP4(198, 51, 100, 7), 0, NULL, NULL)->nic_id, 2);
        ns__route_del_nic(&t, 9); /* unknown NIC: nothing */
        assert_int_equal(ns__route_list(&t, NULL, 0), 1);
        ns__route_table_destroy(&t);
}

static bool nic_is_up(uint32_t nic_id, void *ctx)
{
        const bool *up = ctx;
        return up[nic_id];
}

static void test_nic_filter_and_nic_restriction_fall_through(void **state)
{
        (void)state;
        struct ns_route_table t;
        bool up[4] = { false, true, true, true };
        ns__route_table_init(&t, NULL);
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 254), 1, 0));
        add(&t, R(NS_IP4(198, 51, 100, 0), 24, 0, 2, 0));
        add(&t, R(NS_IP4(198, 51, 100, 0), 24, 0, 3, 10));
        ns_ip4 dst = NS_IP4(198, 51, 100, 9);

        assert_int_equal(ns__route_lookup(&t, dst, 0, nic_is_up, up)->nic_id, 2);
        up[2] = false; /* the best route's NIC is down: next metric */
        assert_int_equal(ns__route_lookup(&t, dst, 0, nic_is_up, up)->nic_id, 3);
        up[3] = false; /* both down: a shorter prefix */
        assert_int_equal(ns__route_lookup(&t, dst, 0, nic_is_up, up)->nic_id, 1);
        up[1] = false;
        assert_null(ns__route_lookup(&t, dst, 0, nic_is_up, up));

        /* Restricting to a NIC (a bound socket) skips the others. */
        assert_int_equal(ns__route_lookup(&t, dst, 3, NULL, NULL)->nic_id, 3);
        assert_int_equal(ns__route_lookup(&t, dst, 1, NULL, NULL)->nic_id, 1);
        assert_null(ns__route_lookup(&t, NS_IP4(203, 0, 113, 1), 2, NULL, NULL));
        ns__route_table_destroy(&t);
}

static void test_host_route_and_mtu_are_kept(void **state)
{
        (void)state;
        struct ns_route_table t;
        ns__route_table_init(&t, NULL);
        struct ns_route r = R(NS_IP4(203, 0, 113, 5), 32, NS_IP4(192, 0, 2, 1), 7, 3);
        r.mtu = 1400;
        assert_int_equal(ns__route_add(&t, &r), 0);
        const struct ns_route *got = ns__route_lookup(&t, NS_IP4(203, 0, 113, 5), 0, NULL, NULL);
        assert_non_null(got);
        assert_int_equal(got->mtu, 1400);
        assert_int_equal(got->metric, 3);
        assert_null(ns__route_lookup(&t, NS_IP4(203, 0, 113, 4), 0, NULL, NULL));
        assert_null(ns__route_lookup(&t, NS_IP4(203, 0, 113, 6), 0, NULL, NULL));
        ns__route_table_destroy(&t);
}

static void *fail_alloc(void *ctx, size_t size)
{
        (void)ctx;
        (void)size;
        return NULL;
}

static void no_free(void *ctx, void *p)
{
        (void)ctx;
        assert_null(p);
}

static void test_add_reports_no_memory(void **state)
{
        (void)state;
        struct ns_allocator a = { fail_alloc, no_free, NULL };
        struct ns_route_table t;
        ns__route_table_init(&t, &a);
        assert_int_equal(add(&t, R(0, 0, 0, 1, 0)), NS_ERR_NO_MEMORY);
        assert_null(ns__route_lookup(&t, 1, 0, NULL, NULL));
        ns__route_table_destroy(&t);
}

/* The specification, written the slow way: scan every route in insertion
 * order and keep the best by (longest prefix, lowest metric, oldest). */
struct model {
        struct ns_route r[1200];
        bool live[1200];
        int n;
};

static const struct ns_route *model_lookup(const struct model *m, ns_ip4 dst, uint32_t nic_id,
                                           const bool *up)
{
        const struct ns_route *best = NULL;
        for (int i = 0; i < m->n; i++) {
                const struct ns_route *r = &m->r[i];
                if (!m->live[i])
                        continue;
                if ((dst & ns_ip4_mask(r->dst.prefix_len)) != r->dst.addr)
                        continue;
                if ((nic_id && r->nic_id != nic_id) || !up[r->nic_id])
                        continue;
                if (!best || r->dst.prefix_len > best->dst.prefix_len ||
                    (r->dst.prefix_len == best->dst.prefix_len && r->metric < best->metric))
                        best = r;
        }
        return best;
}

/* ns__route_del's rule the slow way: of the matching routes (gateway and
 * NIC 0 match any), the one with the lowest metric, then the oldest. */
static void model_del(struct model *m, struct ns_ip4_prefix dst, ns_ip4 gw, uint32_t nic_id)
{
        int best = -1;
        for (int i = 0; i < m->n; i++) {
                const struct ns_route *r = &m->r[i];
                if (!m->live[i] || r->dst.addr != dst.addr || r->dst.prefix_len != dst.prefix_len)
                        continue;
                if ((gw && r->gateway != gw) || (nic_id && r->nic_id != nic_id))
                        continue;
                if (best < 0 || r->metric < m->r[best].metric)
                        best = i;
        }
        assert_true(best >= 0);
        m->live[best] = false;
}

static bool same_route(const struct ns_route *a, const struct ns_route *b)
{
        if (!a || !b)
                return a == b;
        return a->dst.addr == b->dst.addr && a->dst.prefix_len == b->dst.prefix_len &&
               a->gateway == b->gateway && a->nic_id == b->nic_id && a->metric == b->metric;
}

/* Addresses drawn from a few /16s so that random routes overlap. */
static ns_ip4 random_addr(const struct ns_rng *r)
{
        static const ns_ip4 bases[] = { NS_IP4(10, 0, 0, 0), NS_IP4(192, 0, 0, 0),
                                        NS_IP4(198, 51, 0, 0), NS_IP4(203, 0, 0, 0) };
        ns_ip4 base = bases[ns__rng_below(r, 4)];
        return base | (ns__rng_u32(r) & 0xffffu);
}

static void test_random_tables_match_brute_force(void **state)
{
        (void)state;
        static struct model m;
        struct ns_route_table t;
        struct ns_seeded_rng s;
        bool up[9] = { false, true, true, true, true, true, true, true, true };
        ns_seeded_rng_init(&s, 4242);
        struct ns_rng r = ns_seeded_rng_as_rng(&s);

        memset(&m, 0, sizeof(m));
        ns__route_table_init(&t, NULL);
        while (m.n < 1000) {
                uint8_t len = (uint8_t)(ns__rng_below(&r, 5) == 0 ? ns__rng_below(&r, 33)
                                                                  : 16 + ns__rng_below(&r, 17));
                struct ns_route x =
                    R(random_addr(&r), len, ns__rng_below(&r, 3) == 0 ? 0 : random_addr(&r),
                      1 + ns__rng_below(&r, 8), ns__rng_below(&r, 4) * 10);
                int rc = ns__route_add(&t, &x);
                if (rc == NS_ERR_ALREADY_EXISTS)
                        continue;
                assert_int_equal(rc, 0);
                x.dst.addr &= ns_ip4_mask(len);
                m.r[m.n] = x;
                m.live[m.n++] = true;
        }
        /* Delete a fifth of them, some by NIC. */
        for (int i = 0; i < 200; i++) {
                int k = (int)ns__rng_below(&r, (uint32_t)m.n);
                if (!m.live[k])
                        continue;
                /* Sometimes with wildcards, which pick the best match. */
                ns_ip4 gw = ns__rng_below(&r, 2) ? m.r[k].gateway : 0;
                uint32_t nic = ns__rng_below(&r, 2) ? m.r[k].nic_id : 0;
                assert_int_equal(ns__route_del(&t, m.r[k].dst, gw, nic), 0);
                model_del(&m, m.r[k].dst, gw, nic);
        }
        ns__route_del_nic(&t, 8);
        for (int i = 0; i < m.n; i++)
                if (m.r[i].nic_id == 8)
                        m.live[i] = false;
        up[5] = false;

        size_t live = 0;
        int hits = 0;
        for (int i = 0; i < m.n; i++)
                live += m.live[i];
        assert_int_equal(ns__route_list(&t, NULL, 0), live);

        for (int i = 0; i < 20000; i++) {
                ns_ip4 dst = ns__rng_below(&r, 8) == 0 ? ns__rng_u32(&r) : random_addr(&r);
                uint32_t nic = ns__rng_below(&r, 4) == 0 ? 1 + ns__rng_below(&r, 8) : 0;
                const bool *filter = up;
                const struct ns_route *want = model_lookup(&m, dst, nic, filter);
                const struct ns_route *got = ns__route_lookup(&t, dst, nic, nic_is_up, up);
                assert_true(same_route(want, got));
                hits += got && got->dst.prefix_len >= 16;
        }
        /* The comparison means something only if lookups find routes. */
        assert_true(hits > 2000);
        ns__route_table_destroy(&t);
}

static void test_list_is_in_lookup_order(void **state)
{
        (void)state;
        struct ns_route_table t;
        struct ns_route out[4];
        ns__route_table_init(&t, NULL);
        add(&t, R(0, 0, NS_IP4(192, 0, 2, 1), 1, 0));
        add(&t, R(NS_IP4(192, 0, 2, 0), 24, 0, 1, 5));
        add(&t, R(NS_IP4(192, 0, 2, 0), 24, 0, 2, 1));
        add(&t, R(NS_IP4(192, 0, 2, 9), 32, 0, 1, 0));
        assert_int_equal(ns__route_list(&t, out, 4), 4);
        assert_int_equal(out[0].dst.prefix_len, 32);
        assert_int_equal(out[1].nic_id, 2);
        assert_int_equal(out[2].nic_id, 1);
        assert_int_equal(out[3].dst.prefix_len, 0);
        assert_int_equal(ns__route_count(&t), 4);
        ns__route_table_destroy(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_table_has_no_route),
                cmocka_unit_test(test_longest_prefix_wins),
                cmocka_unit_test(test_host_bits_are_cleared_on_add),
                cmocka_unit_test(test_invalid_routes_are_refused),
                cmocka_unit_test(test_duplicates_need_same_dst_gateway_and_nic),
                cmocka_unit_test(test_equal_prefixes_use_lowest_metric_then_oldest),
                cmocka_unit_test(test_delete_removes_first_match_only),
                cmocka_unit_test(test_del_nic_removes_every_route_of_that_nic),
                cmocka_unit_test(test_nic_filter_and_nic_restriction_fall_through),
                cmocka_unit_test(test_host_route_and_mtu_are_kept),
                cmocka_unit_test(test_add_reports_no_memory),
                cmocka_unit_test(test_random_tables_match_brute_force),
                cmocka_unit_test(test_list_is_in_lookup_order),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
