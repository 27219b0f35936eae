/* ns_pkt_pool: reuse without the allocator, caps, counters, allocator
 * failures, large packets, independence of pools, destroy with live packets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/err.h>
#include <netstack/pkt.h>

/* An allocator that counts its blocks and fails call number fail_at. */
struct tracker {
        size_t calls;
        size_t live;
        size_t fail_at; /* 0 = never */
};

static void *tracker_alloc(void *ctx, size_t size)
{
        struct tracker *t = ctx;

        t->calls++;
        if (t->fail_at && t->calls == t->fail_at)
                return NULL;
        t->live++;
        return malloc(size);
}

static void tracker_free(void *ctx, void *ptr)
{
        struct tracker *t = ctx;

        if (!ptr)
                return;
        assert_true(t->live > 0);
        t->live--;
        free(ptr);
}

static struct ns_allocator tracker_allocator(struct tracker *t)
{
        return (struct ns_allocator){ .alloc = tracker_alloc, .free = tracker_free, .ctx = t };
}

static struct ns_pkt_pool_stats stats(const struct ns_pkt_pool *pool)
{
        struct ns_pkt_pool_stats st;

        ns_pkt_pool_get_stats(pool, &st);
        return st;
}

static void test_all_memory_goes_through_the_allocator(void **state)
{
        (void)state;
        struct tracker t = { 0 };
        struct ns_allocator a = tracker_allocator(&t);
        struct ns_pkt_pool *pool = ns_pkt_pool_create(&a, NULL);

        assert_non_null(pool);
        struct ns_pkt *p = ns_pkt_alloc(pool, 0, 100);
        struct ns_pkt *q = ns_pkt_alloc(pool, 0, 5000);
        assert_non_null(p);
        assert_non_null(q);
        assert_int_equal(stats(pool).mallocs, t.calls);
        assert_int_equal(t.live, 5); /* pool, 2 structs, 2 buffers */
        ns_pkt_free(p);
        ns_pkt_free(q);
        assert_int_equal(t.live, 5); /* cached, not freed */
        ns_pkt_pool_destroy(pool);
        assert_int_equal(t.live, 0);
}

static void test_reuse_stops_mallocs(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        const uint32_t sizes[] = { 0, 60, 1500, 2048 - 64, 9000, 16000, 65535 };
        const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
        struct ns_pkt *held[4];

        /* Warm-up: the deepest mix the loop below uses. */
        for (size_t s = 0; s < nsizes; s++) {
                for (int k = 0; k < 4; k++)
                        held[k] = ns_pkt_alloc(pool, 64, sizes[s]);
                for (int k = 0; k < 4; k++)
                        ns_pkt_free(held[k]);
        }
        uint64_t mallocs = stats(pool).mallocs;

        for (int i = 0; i < 10000; i++) {
                uint32_t size = sizes[(size_t)i % nsizes];
                struct ns_pkt *p = ns_pkt_alloc(pool, 64, size);
                assert_non_null(p);
                assert_non_null(ns_pkt_put(p, size));
                struct ns_pkt *c = ns_pkt_clone(p);
                assert_non_null(c);
                assert_int_equal(ns_pkt_make_writable(c), 0);
                struct ns_pkt *d = ns_pkt_copy(pool, c, 32);
                assert_non_null(d);
                ns_pkt_free(p);
                ns_pkt_free(d);
                ns_pkt_free(c);
        }
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.mallocs, mallocs);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.bytes_in_use, 0);
        assert_int_equal(st.alloc_failures, 0);
        assert_int_equal(st.allocs, st.frees);
        assert_true(st.allocs >= 30000);
        assert_true(st.cached > 0);
        assert_true(st.cached_pkts > 0);
        ns_pkt_pool_destroy(pool);
}

static void test_max_cached(void **state)
{
        (void)state;
        struct ns_pkt_pool_config cfg = { .max_cached = 2 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &cfg);
        struct ns_pkt *p[5];

        for (int i = 0; i < 5; i++)
                p[i] = ns_pkt_alloc(pool, 0, 100);
        for (int i = 0; i < 5; i++)
                ns_pkt_free(p[i]);
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.cached, 2);
        assert_int_equal(st.cached_pkts, 2);
        assert_int_equal(st.cached_bytes, 2 * 2048);
        ns_pkt_pool_destroy(pool);
}

static void test_shrink_returns_cached_memory(void **state)
{
        (void)state;
        struct tracker t = { 0 };
        struct ns_allocator a = tracker_allocator(&t);
        struct ns_pkt_pool *pool = ns_pkt_pool_create(&a, NULL);
        struct ns_pkt *keep = ns_pkt_alloc(pool, 0, 10);

        /* One buffer cached in each size class, and one packet struct. */
        ns_pkt_free(ns_pkt_alloc(pool, 0, 100));
        ns_pkt_free(ns_pkt_alloc(pool, 0, 10000));
        ns_pkt_free(ns_pkt_alloc(pool, 0, 40000));
        assert_int_equal(stats(pool).cached, 3);
        assert_int_equal(stats(pool).cached_pkts, 1);
        assert_int_equal(t.live, 3 + 1 + 3); /* pool and keep; cached struct; 3 buffers */
        ns_pkt_pool_shrink(pool);
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.cached, 0);
        assert_int_equal(st.cached_pkts, 0);
        assert_int_equal(st.cached_bytes, 0);
        assert_int_equal(t.live, 3); /* pool and keep */
        assert_int_equal(st.in_use, 1);
        /* The pool refills its caches as before. */
        ns_pkt_free(ns_pkt_alloc(pool, 0, 100));
        assert_int_equal(stats(pool).cached, 1);
        ns_pkt_free(keep);
        ns_pkt_pool_destroy(pool);
        assert_int_equal(t.live, 0);
}

static void test_max_in_use(void **state)
{
        (void)state;
        struct ns_pkt_pool_config cfg = { .max_in_use = 4 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &cfg);
        struct ns_pkt *p[4];

        for (int i = 0; i < 3; i++)
                assert_non_null(p[i] = ns_pkt_alloc(pool, 0, 10));
        assert_non_null(p[3] = ns_pkt_clone(p[0])); /* clones count */
        assert_null(ns_pkt_alloc(pool, 0, 10));
        assert_null(ns_pkt_clone(p[1]));
        assert_null(ns_pkt_copy(pool, p[1], 0));
        assert_null(ns_pkt_from_bytes(pool, 0, "x", 1));
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.in_use, 4);
        assert_int_equal(st.alloc_failures, 4);
        assert_int_equal(st.allocs, 4);

        ns_pkt_free(p[2]);
        assert_non_null(p[2] = ns_pkt_alloc(pool, 0, 10));
        for (int i = 0; i < 4; i++)
                ns_pkt_free(p[i]);
        assert_int_equal(stats(pool).in_use, 0);
        ns_pkt_pool_destroy(pool);
}

static void test_max_bytes(void **state)
{
        (void)state;
        struct ns_pkt_pool_config cfg = { .max_bytes = 3 * 2048 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &cfg);
        struct ns_pkt *p[3];

        /* Storage is counted by size class: each of these takes 2048. */
        for (int i = 0; i < 3; i++)
                assert_non_null(p[i] = ns_pkt_alloc(pool, 0, 100));
        assert_int_equal(stats(pool).bytes_in_use, 3 * 2048);
        assert_null(ns_pkt_alloc(pool, 0, 1));
        struct ns_pkt *c = ns_pkt_clone(p[0]); /* no new storage: allowed */
        assert_non_null(c);
        assert_int_equal(ns_pkt_make_writable(c), NS_ERR_NO_BUFFER_SPACE);
        ns_pkt_free(c);
        assert_int_equal(stats(pool).alloc_failures, 2);
        assert_int_equal(stats(pool).in_use, 3);

        ns_pkt_free(p[1]);
        ns_pkt_free(p[2]);
        /* 4096 free: a 16 KiB-class request still does not fit ... */
        assert_null(ns_pkt_alloc(pool, 0, 3000));
        /* ... but small ones do again. */
        assert_non_null(p[1] = ns_pkt_alloc(pool, 0, 100));
        assert_non_null(p[2] = ns_pkt_alloc(pool, 0, 100));
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.peak_bytes_in_use, 3 * 2048);
        for (int i = 0; i < 3; i++)
                ns_pkt_free(p[i]);
        st = stats(pool);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.bytes_in_use, 0);
        assert_int_equal(st.peak_bytes_in_use, 3 * 2048);
        ns_pkt_pool_destroy(pool);
}

static void test_size_overflow_refused(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);

        assert_null(ns_pkt_alloc(pool, UINT32_MAX, 1));
        assert_null(ns_pkt_alloc(pool, 1, UINT32_MAX));
        assert_null(ns_pkt_alloc(pool, UINT32_MAX, UINT32_MAX));
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.alloc_failures, 3);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.allocs, 0);
        ns_pkt_pool_destroy(pool);
}

static void test_large_packets(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        uint8_t *big = malloc(70000);

        assert_non_null(big);
        for (uint32_t i = 0; i < 70000; i++)
                big[i] = (uint8_t)(i * 7);
        struct ns_pkt *p = ns_pkt_from_bytes(pool, 256, big, 70000);
        assert_non_null(p);
        assert_int_equal(p->cap, 70256); /* exact size above the classes */
        assert_int_equal(ns_pkt_headroom(p), 256);
        assert_int_equal(ns_pkt_tailroom(p), 0);
        assert_memory_equal(ns_pkt_data(p), big, 70000);
        assert_int_equal(stats(pool).bytes_in_use, 70256);

        struct ns_pkt *c = ns_pkt_clone(p);
        assert_int_equal(ns_pkt_make_writable(c), 0);
        assert_memory_equal(ns_pkt_data(c), big, 70000);
        struct ns_pkt *d = ns_pkt_copy(pool, c, 14);
        assert_non_null(d);
        assert_memory_equal(ns_pkt_data(d), big, 70000);
        assert_int_equal(ns_pkt_headroom(d), 14);
        assert_non_null(ns_pkt_pull(d, 69999));
        assert_int_equal(ns_pkt_data(d)[0], (uint8_t)(69999 * 7));
        ns_pkt_free(p);
        ns_pkt_free(c);
        ns_pkt_free(d);

        /* Exact-size storage is never cached. */
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.cached, 0);
        assert_int_equal(st.bytes_in_use, 0);
        assert_int_equal(st.peak_bytes_in_use, 2 * 70256 + 14 + 70000);

        /* The largest class takes a 64 KiB datagram with 256 of headroom. */
        p = ns_pkt_alloc(pool, 256, 65536);
        assert_non_null(p);
        assert_int_equal(p->cap, 65536 + 256);
        ns_pkt_free(p);
        assert_int_equal(stats(pool).cached, 1);
        free(big);
        ns_pkt_pool_destroy(pool);
}

static void test_two_pools_independent(void **state)
{
        (void)state;
        struct tracker ta = { 0 }, tb = { 0 };
        struct ns_allocator aa = tracker_allocator(&ta), ab = tracker_allocator(&tb);
        struct ns_pkt_pool *a = ns_pkt_pool_create(&aa, NULL);
        struct ns_pkt_pool *b = ns_pkt_pool_create(&ab, NULL);
        struct ns_pkt_pool_stats b0 = stats(b);

        struct ns_pkt *p = ns_pkt_from_bytes(a, 16, "hello", 5);
        struct ns_pkt *c = ns_pkt_clone(p);
        assert_ptr_equal(c->pool, a);
        struct ns_pkt_pool_stats b1 = stats(b);
        assert_int_equal(b1.allocs, b0.allocs);
        assert_int_equal(b1.mallocs, b0.mallocs);
        assert_int_equal(b1.in_use, 0);
        assert_int_equal(b1.bytes_in_use, 0);
        assert_int_equal(tb.calls, 1);
        assert_int_equal(stats(a).in_use, 2);

        /* A copy into b belongs to b and takes b's memory. */
        struct ns_pkt *d = ns_pkt_copy(b, p, 0);
        assert_non_null(d);
        assert_ptr_equal(d->pool, b);
        assert_int_equal(stats(b).in_use, 1);
        assert_int_equal(stats(a).in_use, 2);
        assert_int_equal(tb.live, 3);
        assert_memory_equal(ns_pkt_data(d), "hello", 5);

        ns_pkt_free(p);
        ns_pkt_free(c);
        assert_int_equal(stats(b).in_use, 1);
        assert_int_equal(stats(b).cached_pkts, 0);
        ns_pkt_free(d);
        assert_int_equal(stats(b).cached_pkts, 1);
        assert_int_equal(stats(a).cached_pkts, 2);

        ns_pkt_pool_destroy(a);
        assert_int_equal(ta.live, 0);
        assert_int_equal(tb.live, 3);
        ns_pkt_pool_destroy(b);
        assert_int_equal(tb.live, 0);
}

static void test_destroy_with_live_packets(void **state)
{
        (void)state;
        struct tracker t = { 0 };
        struct ns_allocator a = tracker_allocator(&t);
        struct ns_pkt_pool *pool = ns_pkt_pool_create(&a, NULL);
        struct ns_pkt *p = ns_pkt_from_bytes(pool, 8, "abcd", 4);
        struct ns_pkt *c = ns_pkt_clone(p);
        struct ns_pkt *spare = ns_pkt_alloc(pool, 0, 1);

        ns_pkt_free(spare); /* leaves something cached */
        ns_pkt_pool_destroy(pool);
        /* The cache is gone; the live packets and the pool remain. */
        assert_int_equal(t.live, 4);
        assert_memory_equal(ns_pkt_data(c), "abcd", 4);
        /* The dead pool hands out nothing new. */
        assert_null(ns_pkt_clone(p));
        assert_int_equal(ns_pkt_make_writable(c), NS_ERR_NO_BUFFER_SPACE);
        ns_pkt_free(p);
        assert_int_equal(t.live, 3);                  /* pool, c and the storage */
        assert_int_equal(ns_pkt_make_writable(c), 0); /* sole owner now */
        ns_pkt_free(c);                               /* the last one takes the pool with it */
        assert_int_equal(t.live, 0);
}

/* One workload that touches every allocating path. Returns normally
 * whatever fails; every packet it gets it frees. */
static void workload(struct ns_pkt_pool *pool)
{
        struct ns_pkt_list l;
        uint8_t payload[3000];

        memset(payload, 0x5a, sizeof(payload));
        ns_pkt_list_init(&l);
        for (int round = 0; round < 3; round++) {
                struct ns_pkt *p = ns_pkt_from_bytes(pool, 64, payload, 1400);
                if (!p)
                        continue;
                struct ns_pkt *c = ns_pkt_clone(p);
                if (c) {
                        if (ns_pkt_make_writable(c) == 0)
                                assert_false(ns_pkt_is_shared(p));
                        else
                                assert_true(ns_pkt_is_shared(p));
                        ns_pkt_list_push_back(&l, c);
                }
                struct ns_pkt *d = ns_pkt_copy(pool, p, 200 + (uint32_t)round * 9000);
                if (d)
                        ns_pkt_list_push_back(&l, d);
                struct ns_pkt *big = ns_pkt_alloc(pool, 256, 70000);
                if (big)
                        ns_pkt_list_insert_after(&l, NULL, big);
                ns_pkt_list_push_back(&l, p);
        }
        /* Free half, then the rest. */
        while (l.count > 3)
                ns_pkt_free(ns_pkt_list_pop_front(&l));
        ns_pkt_list_free(&l);
}

static void test_allocator_failure_at_every_call(void **state)
{
        (void)state;
        struct tracker probe = { 0 };
        struct ns_allocator a = tracker_allocator(&probe);
        struct ns_pkt_pool *pool = ns_pkt_pool_create(&a, NULL);

        workload(pool);
        ns_pkt_pool_destroy(pool);
        size_t total = probe.calls;
        assert_int_equal(probe.live, 0);
        assert_true(total > 10);

        for (size_t n = 1; n <= total; n++) {
                struct tracker t = { .fail_at = n };
                a = tracker_allocator(&t);
                pool = ns_pkt_pool_create(&a, NULL);
                if (!pool) {
                        assert_int_equal(n, 1);
                        assert_int_equal(t.live, 0);
                        continue;
                }
                workload(pool);
                struct ns_pkt_pool_stats st = stats(pool);
                assert_int_equal(st.in_use, 0);
                assert_int_equal(st.bytes_in_use, 0);
                assert_int_equal(st.mallocs, t.calls);
                /* The one refused call shows up as one refused request. */
                assert_int_equal(st.alloc_failures, 1);
                ns_pkt_pool_destroy(pool);
                assert_int_equal(t.live, 0);
        }
}

static void test_pool_without_config_uses_defaults(void **state)
{
        (void)state;
        struct ns_pkt_pool_config zero = { 0 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &zero);
        static struct ns_pkt *p[1100];

        /* Unlimited in use; 1024 structs and small buffers kept for reuse. */
        for (int i = 0; i < 1100; i++)
                assert_non_null(p[i] = ns_pkt_alloc(pool, 0, 10));
        for (int i = 0; i < 1100; i++)
                ns_pkt_free(p[i]);
        struct ns_pkt_pool_stats st = stats(pool);
        assert_int_equal(st.cached, 1024);
        assert_int_equal(st.cached_pkts, 1024);
        assert_int_equal(st.allocs, 1100);
        assert_int_equal(st.frees, 1100);
        /* Only 32 of the 64 KiB class: 2 MiB, not 64 MiB, sits idle. */
        for (int i = 0; i < 40; i++)
                assert_non_null(p[i] = ns_pkt_alloc(pool, 0, 60000));
        for (int i = 0; i < 40; i++)
                ns_pkt_free(p[i]);
        st = stats(pool);
        assert_int_equal(st.cached, 1024 + 32);
        ns_pkt_pool_destroy(pool);
        ns_pkt_pool_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_memory_goes_through_the_allocator),
                cmocka_unit_test(test_reuse_stops_mallocs),
                cmocka_unit_test(test_max_cached),
                cmocka_unit_test(test_shrink_returns_cached_memory),
                cmocka_unit_test(test_max_in_use),
                cmocka_unit_test(test_max_bytes),
                cmocka_unit_test(test_size_overflow_refused),
                cmocka_unit_test(test_large_packets),
                cmocka_unit_test(test_two_pools_independent),
                cmocka_unit_test(test_destroy_with_live_packets),
                cmocka_unit_test(test_allocator_failure_at_every_call),
                cmocka_unit_test(test_pool_without_config_uses_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
