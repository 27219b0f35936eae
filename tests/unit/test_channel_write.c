/*
 * The channel link's transmit side: a list that fits the queue is taken
 * whole and in order after what is queued; one that does not fit is taken
 * packet by packet up to the bound, the rest dropped and counted.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netstack/channel.h>
#include <netstack/link.h>
#include <netstack/pkt.h>

/* A list of n one-byte packets numbered first, first + 1, ... */
static void make_list(struct ns_pkt_pool *pool, struct ns_pkt_list *l, uint8_t first, uint32_t n)
{
        ns_pkt_list_init(l);
        for (uint32_t i = 0; i < n; i++) {
                struct ns_pkt *p = ns_pkt_alloc(pool, 0, 1);
                assert_non_null(p);
                *ns_pkt_put(p, 1) = (uint8_t)(first + i);
                ns_pkt_list_push_back(l, p);
        }
}

static int write_list(struct ns_channel *ch, struct ns_pkt_list *l)
{
        struct ns_link *link = ns_channel_link(ch);
        int n = link->ops->write(link, l);
        assert_true(ns_pkt_list_empty(l));
        assert_int_equal(l->count, 0);
        assert_null(l->tail);
        return n;
}

/* Reads every queued packet, checking they are numbered first, first + 1, ... */
static uint32_t read_all(struct ns_channel *ch, uint8_t first)
{
        uint32_t n = 0;
        struct ns_pkt *p;
        while ((p = ns_channel_read(ch)) != NULL) {
                assert_null(p->next);
                assert_int_equal(ns_pkt_len(p), 1);
                assert_int_equal(ns_pkt_data(p)[0], (uint8_t)(first + n));
                ns_pkt_free(p);
                n++;
        }
        return n;
}

static void test_lists_that_fit_are_queued_in_order(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct ns_channel *ch = ns_channel_create(NULL, 1500, 8, 0);
        struct ns_pkt_list l;
        make_list(pool, &l, 0, 0);
        assert_int_equal(write_list(ch, &l), 0);
        make_list(pool, &l, 0, 3);
        assert_int_equal(write_list(ch, &l), 3);
        make_list(pool, &l, 3, 1);
        assert_int_equal(write_list(ch, &l), 1);
        /* Exactly filling the queue. */
        make_list(pool, &l, 4, 4);
        assert_int_equal(write_list(ch, &l), 4);
        assert_int_equal(ns_channel_queued(ch), 8);
        assert_int_equal(ns_channel_dropped(ch), 0);
        assert_int_equal(read_all(ch, 0), 8);
        /* Empty again: the queue's tail was reset with its head. */
        make_list(pool, &l, 20, 2);
        assert_int_equal(write_list(ch, &l), 2);
        assert_int_equal(read_all(ch, 20), 2);
        ns_channel_destroy(ch);
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(pool, &ps);
        assert_int_equal(ps.in_use, 0);
        ns_pkt_pool_destroy(pool);
}

static void test_lists_that_overflow_are_cut_at_the_bound(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct ns_channel *ch = ns_channel_create(NULL, 1500, 4, 0);
        struct ns_pkt_list l;
        make_list(pool, &l, 0, 3);
        assert_int_equal(write_list(ch, &l), 3);
        make_list(pool, &l, 3, 3);
        assert_int_equal(write_list(ch, &l), 1);
        assert_int_equal(ns_channel_dropped(ch), 2);
        make_list(pool, &l, 9, 1);
        assert_int_equal(write_list(ch, &l), 0);
        assert_int_equal(ns_channel_dropped(ch), 3);
        assert_int_equal(read_all(ch, 0), 4);
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(pool, &ps);
        assert_int_equal(ps.in_use, 0);
        ns_channel_destroy(ch);
        ns_pkt_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lists_that_fit_are_queued_in_order),
                cmocka_unit_test(test_lists_that_overflow_are_cut_at_the_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
