/* ns_pkt_pool cache bounds where a packet struct and its storage are freed
 * together but only one of them fits in the cache, and reuse after clones
 * and make_writable. The expected numbers follow the documented rules: a
 * freed struct and a freed buffer are each cached while fewer than the
 * bound are, and a request is served from the cache before the allocator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/pkt.h>

static struct ns_pkt_pool_stats stats(const struct ns_pkt_pool *pool)
{
        struct ns_pkt_pool_stats st;

        ns_pkt_pool_get_stats(pool, &st);
        return st;
}

/* The struct bound is full, the class-0 bound is not: the buffer is cached
 * and the struct freed. */
static void test_struct_bound_full(void **state)
{
        (void)state;
        struct ns_pkt_pool_config cfg = { .max_cached = 2 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &cfg);
        struct ns_pkt *x = ns_pkt_alloc(pool, 0, 5000);
        struct ns_pkt *a = ns_pkt_alloc(pool, 0, 10);
        struct ns_pkt *b = ns_pkt_alloc(pool, 0, 10);

        assert_int_equal(stats(pool).mallocs, 7);
        ns_pkt_free(x);
        ns_pkt_free(a);
        ns_pkt_free(b);
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.cached_pkts, 2);
        assert_int_equal(st.cached, 3);
        assert_int_equal(st.cached_bytes, 2 * 2048 + 16384);
        assert_int_equal(st.frees, 3);

        /* Two small packets come from the cache, a third needs both. */
        a = ns_pkt_alloc(pool, 0, 10);
        b = ns_pkt_alloc(pool, 0, 10);
        assert_int_equal(stats(pool).mallocs, 7);
        struct ns_pkt *c = ns_pkt_alloc(pool, 0, 10);
        assert_int_equal(stats(pool).mallocs, 9);
        ns_pkt_free(a);
        ns_pkt_free(b);
        ns_pkt_free(c);
        ns_pkt_pool_destroy(pool);
}

/* The class-0 bound is full, the struct bound is not: the struct is cached
 * and the buffer freed. */
static void test_storage_bound_full(void **state)
{
        (void)state;
        struct ns_pkt_pool_config cfg = { .max_cached = 3 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &cfg);
        struct ns_pkt *p[5];

        for (int i = 0; i < 5; i++)
                p[i] = ns_pkt_alloc(pool, 0, 10);
        ns_pkt_free(p[1]);
        ns_pkt_free(p[2]);
        struct ns_pkt *d = ns_pkt_clone(p[0]);          /* a cached struct */
        struct ns_pkt *z = ns_pkt_alloc(pool, 0, 5000); /* the other one */
        assert_non_null(d);
        assert_non_null(z);
        assert_int_equal(stats(pool).mallocs, 12);
        assert_int_equal(stats(pool).cached_pkts, 0);
        ns_pkt_free(p[3]);
        ns_pkt_free(p[4]);
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.cached, 3);
        assert_int_equal(st.cached_pkts, 2);
        assert_int_equal(st.cached_bytes, 3 * 2048);
        assert_int_equal(st.in_use, 3);
        assert_int_equal(st.bytes_in_use, 2048 + 16384);

        ns_pkt_free(z);
        ns_pkt_free(d);
        ns_pkt_free(p[0]);
        st = stats(pool);
        assert_int_equal(st.cached, 4);
        assert_int_equal(st.cached_pkts, 3);
        assert_int_equal(st.cached_bytes, 3 * 2048 + 16384);
        assert_int_equal(st.allocs, 7);
        assert_int_equal(st.frees, 7);

        /* Three small packets from the cache, the fourth from the allocator. */
        for (int i = 0; i < 3; i++)
                p[i] = ns_pkt_alloc(pool, 0, 10);
        assert_int_equal(stats(pool).mallocs, 12);
        p[3] = ns_pkt_alloc(pool, 0, 10);
        assert_int_equal(stats(pool).mallocs, 14);
        for (int i = 0; i < 4; i++)
                ns_pkt_free(p[i]);
        ns_pkt_pool_destroy(pool);
}

/* Clones and private copies hand structs and buffers around separately;
 * afterwards every one of them is reused, whichever packet held it. */
static void test_reuse_after_clones(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct ns_pkt *p[4];

        for (int i = 0; i < 4; i++)
                p[i] = ns_pkt_from_bytes(pool, 16, "abcd", 4);
        for (int i = 0; i < 4; i++)
                ns_pkt_free(p[i]);
        uint64_t mallocs = stats(pool).mallocs;

        for (int round = 0; round < 50; round++) {
                struct ns_pkt *a = ns_pkt_from_bytes(pool, 16, "abcd", 4);
                struct ns_pkt *c = ns_pkt_clone(a);
                struct ns_pkt *e = ns_pkt_clone(a);

                assert_int_equal(ns_pkt_make_writable(c), 0);
                memcpy(ns_pkt_data(c), "wxyz", 4);
                assert_memory_equal(ns_pkt_data(a), "abcd", 4);
                assert_memory_equal(ns_pkt_data(e), "abcd", 4);
                /* Free in an order that depends on the round. */
                struct ns_pkt *order[3][3] = { { a, c, e }, { e, a, c }, { c, e, a } };
                for (int k = 0; k < 3; k++)
                        ns_pkt_free(order[round % 3][k]);
                struct ns_pkt_pool_stats st = stats(pool);
                assert_int_equal(st.in_use, 0);
                assert_int_equal(st.bytes_in_use, 0);
                assert_int_equal(st.cached, 4);
                assert_int_equal(st.cached_pkts, 4);
                assert_int_equal(st.cached_bytes, 4 * 2048);
        }
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.mallocs, mallocs);
        assert_int_equal(st.allocs, 4 + 50 * 3);
        assert_int_equal(st.frees, st.allocs);
        assert_int_equal(st.peak_bytes_in_use, 4 * 2048);
        ns_pkt_pool_destroy(pool);
}

/* A fresh packet shows none of what its struct's last user left behind. */
static void test_fresh_after_reuse(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        static const uint8_t zero6[6];

        for (int round = 0; round < 3; round++) {
                struct ns_pkt *p = ns_pkt_alloc(pool, 32, 100);

                assert_non_null(p);
                assert_null(p->next);
                assert_int_equal(ns_pkt_headroom(p), 32);
                assert_int_equal(ns_pkt_len(p), 0);
                assert_null(ns_pkt_link_header(p));
                assert_null(ns_pkt_network_header(p));
                assert_null(ns_pkt_transport_header(p));
                assert_int_equal(p->nic_id, 0);
                assert_int_equal(p->flags, 0);
                assert_int_equal(p->mark, 0);
                assert_int_equal(p->net_proto, 0);
                assert_int_equal(p->transport_proto, 0);
                assert_memory_equal(p->link_dst, zero6, 6);
                assert_false(ns_pkt_is_shared(p));
                ns_pkt_put(p, 20);
                ns_pkt_set_link_header(p);
                ns_pkt_set_network_header(p);
                ns_pkt_set_transport_header(p);
                p->next = p;
                p->nic_id = 3;
                p->flags = NS_PKT_F_LINK_DST;
                p->mark = 9;
                p->net_proto = 0x0806;
                p->transport_proto = 1;
                memset(p->link_dst, 0xff, sizeof(p->link_dst));
                ns_pkt_free(p);
        }
        ns_pkt_pool_destroy(pool);
}

/* ns_pkt_from_bytes() on a warm pool and past the class-0 boundary: the
 * bytes, the room and the storage class are what ns_pkt_alloc() plus
 * ns_pkt_put() would give. */
static void test_from_bytes_warm_and_boundary(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        static uint8_t src[3000];

        for (size_t i = 0; i < sizeof(src); i++)
                src[i] = (uint8_t)(i * 13 + 1);
        ns_pkt_free(ns_pkt_alloc(pool, 0, 10)); /* one pair cached */
        uint64_t mallocs = stats(pool).mallocs;

        /* Empty, from a cached pair, with no data pointer. */
        struct ns_pkt *p = ns_pkt_from_bytes(pool, 12, NULL, 0);
        assert_non_null(p);
        assert_int_equal(ns_pkt_len(p), 0);
        assert_int_equal(ns_pkt_headroom(p), 12);
        assert_int_equal(p->cap, 2048);
        ns_pkt_free(p);

        /* Exactly class 0 ... */
        p = ns_pkt_from_bytes(pool, 2000, src, 48);
        assert_non_null(p);
        assert_int_equal(p->cap, 2048);
        assert_int_equal(ns_pkt_headroom(p), 2000);
        assert_int_equal(ns_pkt_tailroom(p), 0);
        assert_memory_equal(ns_pkt_data(p), src, 48);
        ns_pkt_free(p);
        assert_int_equal(stats(pool).mallocs, mallocs);

        /* ... and one byte more is class 1. */
        p = ns_pkt_from_bytes(pool, 2000, src, 49);
        assert_non_null(p);
        assert_int_equal(p->cap, 16384);
        assert_int_equal(ns_pkt_headroom(p), 2000);
        assert_memory_equal(ns_pkt_data(p), src, 49);
        ns_pkt_free(p);
        p = ns_pkt_from_bytes(pool, 0, src, sizeof(src));
        assert_non_null(p);
        assert_int_equal(p->cap, 16384);
        assert_int_equal(ns_pkt_len(p), sizeof(src));
        assert_memory_equal(ns_pkt_data(p), src, sizeof(src));
        ns_pkt_free(p);
        assert_int_equal(stats(pool).mallocs, mallocs + 1); /* one 16 KiB buffer */

        /* A size that wraps 32 bits when added to the headroom. */
        assert_null(ns_pkt_from_bytes(pool, UINT32_MAX - 10, src, 20));
        assert_int_equal(stats(pool).alloc_failures, 1);
        assert_int_equal(stats(pool).in_use, 0);
        ns_pkt_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_struct_bound_full),
                cmocka_unit_test(test_storage_bound_full),
                cmocka_unit_test(test_reuse_after_clones),
                cmocka_unit_test(test_fresh_after_reuse),
                cmocka_unit_test(test_from_bytes_warm_and_boundary),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
