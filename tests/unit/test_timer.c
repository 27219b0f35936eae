/* The timer heap: ordering, re-arming, cancelling, callbacks that change
 * the heap, and the one-shot-per-run rule. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/alloc.h>
#include <netstack/err.h>
#include <netstack/rng.h>

#include "core/rng.h"
#include "core/timer.h"

/* A log of fired timers, shared by the callbacks of one test. */
struct fire_log {
        int ids[2048];
        int n;
};

struct tctx {
        struct ns_timer t;
        struct fire_log *log;
        struct ns_timer_heap *heap;
        int id;
        /* What the callback does besides logging. */
        struct ns_timer *cancel; /* cancel this timer */
        struct ns_timer *rearm;  /* re-arm this timer at rearm_at */
        int64_t rearm_at;
        bool saw_disarmed; /* t was disarmed when fn ran */
};

static void on_fire(void *arg)
{
        struct tctx *c = arg;
        c->log->ids[c->log->n++] = c->id;
        c->saw_disarmed = !ns__timer_armed(&c->t);
        if (c->cancel)
                ns__timer_cancel(c->heap, c->cancel);
        if (c->rearm)
                assert_int_equal(ns__timer_arm(c->heap, c->rearm, c->rearm_at), 0);
}

static void setup_ctx(struct tctx *c, struct ns_timer_heap *h, struct fire_log *log, int id)
{
        memset(c, 0, sizeof(*c));
        c->heap = h;
        c->log = log;
        c->id = id;
        ns__timer_init(&c->t, on_fire, c);
}

static void test_empty_heap_has_no_deadline(void **state)
{
        (void)state;
        struct ns_timer_heap h;
        ns__timer_heap_init(&h, NULL);
        assert_true(ns__timer_heap_next(&h) == INT64_MAX);
        assert_true(ns__timer_heap_run(&h, 1000) == INT64_MAX);
        ns__timer_heap_destroy(&h);
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static void test_random_deadlines_fire_in_sorted_order(void **state)
{
        (void)state;
        enum { N = 1000 };
        static struct tctx ctx[N];
        static struct fire_log log;
        static int64_t sorted[N];
        struct ns_timer_heap h;
        struct ns_seeded_rng s;
        ns_seeded_rng_init(&s, 2024);
        struct ns_rng r = ns_seeded_rng_as_rng(&s);

        memset(&log, 0, sizeof(log));
        ns__timer_heap_init(&h, NULL);
        for (int i = 0; i < N; i++) {
                setup_ctx(&ctx[i], &h, &log, i);
                int64_t d = ns__rng_duration(&r, 100000);
                sorted[i] = d;
                assert_int_equal(ns__timer_arm(&h, &ctx[i].t, d), 0);
        }
        qsort(sorted, N, sizeof(sorted[0]), cmp_i64);
        assert_true(ns__timer_heap_next(&h) == sorted[0]);

        /* Run in a few steps: each fires exactly the timers due by then. */
        int64_t steps[] = { 0, 25000, 50000, 99999, 100000 };
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
                int64_t next = ns__timer_heap_run(&h, steps[k]);
                int due = 0;
                while (due < N && sorted[due] <= steps[k])
                        due++;
                assert_int_equal(log.n, due);
                assert_true(next == (due < N ? sorted[due] : INT64_MAX));
        }
        for (int i = 0; i < N; i++) {
                assert_true(ctx[log.ids[i]].t.deadline_ns == sorted[i]);
                assert_true(ctx[log.ids[i]].saw_disarmed);
                /* Equal deadlines fire in arming order. */
                if (i > 0 && sorted[i] == sorted[i - 1])
                        assert_true(log.ids[i] > log.ids[i - 1]);
        }
        ns__timer_heap_destroy(&h);
}

static void test_rearm_moves_deadline_both_ways(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        assert_int_equal(ns__timer_arm(&h, &a.t, 100), 0);
        assert_int_equal(ns__timer_arm(&h, &b.t, 200), 0);
        assert_int_equal(ns__timer_arm(&h, &a.t, 300), 0); /* later */
        assert_true(ns__timer_heap_next(&h) == 200);
        assert_int_equal(ns__timer_arm(&h, &a.t, 50), 0); /* earlier */
        assert_true(ns__timer_heap_next(&h) == 50);
        assert_int_equal(h.count, 2);
        assert_true(ns__timer_heap_run(&h, 1000) == INT64_MAX);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.ids[0], 1);
        assert_int_equal(log.ids[1], 2);
        ns__timer_heap_destroy(&h);
}

static void test_equal_deadlines_fire_in_arming_order_after_rearm(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b, c;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        setup_ctx(&c, &h, &log, 3);
        ns__timer_arm(&h, &a.t, 10);
        ns__timer_arm(&h, &b.t, 10);
        ns__timer_arm(&h, &c.t, 10);
        ns__timer_arm(&h, &a.t, 10); /* re-armed: now the newest */
        ns__timer_heap_run(&h, 10);
        assert_int_equal(log.n, 3);
        assert_int_equal(log.ids[0], 2);
        assert_int_equal(log.ids[1], 3);
        assert_int_equal(log.ids[2], 1);
        ns__timer_heap_destroy(&h);
}

static void test_cancel_disarms_and_is_idempotent(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        ns__timer_cancel(&h, &a.t); /* never armed: no-op */
        ns__timer_arm(&h, &a.t, 5);
        ns__timer_arm(&h, &b.t, 6);
        ns__timer_cancel(&h, &a.t);
        ns__timer_cancel(&h, &a.t);
        assert_false(ns__timer_armed(&a.t));
        assert_true(ns__timer_armed(&b.t));
        assert_true(ns__timer_heap_next(&h) == 6);
        ns__timer_heap_run(&h, 100);
        assert_int_equal(log.n, 1);
        assert_int_equal(log.ids[0], 2);
        ns__timer_heap_destroy(&h);
}

static void test_callback_cancels_a_timer_due_in_the_same_run(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b, c;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        setup_ctx(&c, &h, &log, 3);
        a.cancel = &b.t;
        ns__timer_arm(&h, &a.t, 1);
        ns__timer_arm(&h, &b.t, 2);
        ns__timer_arm(&h, &c.t, 3);
        assert_true(ns__timer_heap_run(&h, 10) == INT64_MAX);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.ids[0], 1);
        assert_int_equal(log.ids[1], 3);
        assert_false(ns__timer_armed(&b.t));
        ns__timer_heap_destroy(&h);
}

static void test_callback_cancelling_itself_is_harmless(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        a.cancel = &a.t;
        ns__timer_arm(&h, &a.t, 1);
        ns__timer_heap_run(&h, 1);
        assert_int_equal(log.n, 1);
        assert_int_equal(h.count, 0);
        ns__timer_heap_destroy(&h);
}

static void test_self_rearm_in_the_future_fires_on_a_later_run(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        a.rearm = &a.t;
        a.rearm_at = 150;
        ns__timer_arm(&h, &a.t, 100);
        assert_true(ns__timer_heap_run(&h, 100) == 150);
        assert_int_equal(log.n, 1);
        assert_true(ns__timer_armed(&a.t));
        a.rearm = NULL;
        assert_true(ns__timer_heap_run(&h, 150) == INT64_MAX);
        assert_int_equal(log.n, 2);
        ns__timer_heap_destroy(&h);
}

static void test_self_rearm_at_or_before_now_fires_once_per_run(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        a.rearm = &a.t;
        a.rearm_at = 5; /* in the past: would loop forever without the rule */
        ns__timer_arm(&h, &a.t, 5);
        ns__timer_arm(&h, &b.t, 8); /* due later in the same run */

        /* The run still fires b, which was due when it started, and
         * reports a's deadline (already past) so the caller polls again. */
        assert_true(ns__timer_heap_run(&h, 10) == 5);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.ids[0], 1);
        assert_int_equal(log.ids[1], 2);
        assert_true(ns__timer_armed(&a.t));
        assert_true(ns__timer_heap_next(&h) == 5);

        assert_true(ns__timer_heap_run(&h, 10) == 5);
        assert_int_equal(log.n, 3);
        a.rearm = NULL;
        assert_true(ns__timer_heap_run(&h, 10) == INT64_MAX);
        assert_int_equal(log.n, 4);
        ns__timer_heap_destroy(&h);
}

static void test_callback_arming_another_due_timer_defers_it(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b, c;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        setup_ctx(&c, &h, &log, 3);
        a.rearm = &b.t; /* arms b (idle until now) for a due time */
        a.rearm_at = 3;
        ns__timer_arm(&h, &a.t, 2);
        ns__timer_arm(&h, &c.t, 50); /* not due */
        assert_true(ns__timer_heap_run(&h, 10) == 3);
        assert_int_equal(log.n, 1);
        /* After the run the heap is ordered by deadline again. */
        assert_true(ns__timer_heap_next(&h) == 3);
        assert_true(ns__timer_heap_run(&h, 10) == 50);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.ids[1], 2);
        ns__timer_heap_destroy(&h);
}

static void test_callback_rearming_a_pending_due_timer_to_later(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        a.rearm = &b.t;
        a.rearm_at = 20; /* b was due; now it is not */
        ns__timer_arm(&h, &a.t, 1);
        ns__timer_arm(&h, &b.t, 2);
        assert_true(ns__timer_heap_run(&h, 10) == 20);
        assert_int_equal(log.n, 1);
        ns__timer_heap_destroy(&h);
}

/* An allocator that refuses after a budget of successful allocations. */
struct budget {
        int left;
        int live;
};

static void *budget_alloc(void *ctx, size_t size)
{
        struct budget *b = ctx;
        if (b->left <= 0)
                return NULL;
        b->left--;
        b->live++;
        return malloc(size);
}

static void budget_free(void *ctx, void *p)
{
        struct budget *b = ctx;
        b->live--;
        free(p);
}

static void test_arm_fails_cleanly_when_the_heap_cannot_grow(void **state)
{
        (void)state;
        struct budget bud = { .left = 1, .live = 0 };
        struct ns_allocator a = { budget_alloc, budget_free, &bud };
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        static struct tctx ctx[40];
        ns__timer_heap_init(&h, &a);

        int armed = 0, failed = -1;
        for (int i = 0; i < 40; i++) {
                setup_ctx(&ctx[i], &h, &log, i);
                int rc = ns__timer_arm(&h, &ctx[i].t, 100 - i);
                if (rc == 0) {
                        armed++;
                        continue;
                }
                assert_int_equal(rc, NS_ERR_NO_MEMORY);
                assert_false(ns__timer_armed(&ctx[i].t));
                failed = i;
                break;
        }
        assert_true(failed > 0);
        /* Re-arming an armed timer needs no memory and still works. */
        assert_int_equal(ns__timer_arm(&h, &ctx[0].t, 1), 0);
        assert_true(ns__timer_heap_next(&h) == 1);
        ns__timer_heap_run(&h, 1000);
        assert_int_equal(log.n, armed);
        ns__timer_heap_destroy(&h);
        assert_int_equal(bud.live, 0);
}

static void test_destroy_disarms_everything(void **state)
{
        (void)state;
        struct fire_log log = { .n = 0 };
        struct ns_timer_heap h;
        struct tctx a, b;
        ns__timer_heap_init(&h, NULL);
        setup_ctx(&a, &h, &log, 1);
        setup_ctx(&b, &h, &log, 2);
        ns__timer_arm(&h, &a.t, 1);
        ns__timer_arm(&h, &b.t, 2);
        ns__timer_heap_destroy(&h);
        assert_false(ns__timer_armed(&a.t));
        assert_false(ns__timer_armed(&b.t));
        assert_int_equal(log.n, 0);
}

/* Random arms, re-arms, cancels and runs against a brute-force model. */
static void test_random_operations_match_a_reference_model(void **state)
{
        (void)state;
        enum { N = 64 };
        static struct tctx ctx[N];
        static struct fire_log log;
        bool armed[N] = { false };
        int64_t deadline[N] = { 0 };
        struct ns_timer_heap h;
        struct ns_seeded_rng s;
        ns_seeded_rng_init(&s, 77);
        struct ns_rng r = ns_seeded_rng_as_rng(&s);
        int64_t now = 0;

        ns__timer_heap_init(&h, NULL);
        for (int i = 0; i < N; i++)
                setup_ctx(&ctx[i], &h, &log, i);
        for (int step = 0; step < 20000; step++) {
                uint32_t op = ns__rng_below(&r, 10);
                uint32_t i = ns__rng_below(&r, N);
                if (op < 5) {
                        int64_t d = now + ns__rng_duration(&r, 1000);
                        assert_int_equal(ns__timer_arm(&h, &ctx[i].t, d), 0);
                        armed[i] = true;
                        deadline[i] = d;
                } else if (op < 7) {
                        ns__timer_cancel(&h, &ctx[i].t);
                        armed[i] = false;
                } else {
                        now += ns__rng_duration(&r, 300);
                        log.n = 0;
                        int64_t want_next = INT64_MAX;
                        int due = 0;
                        for (int k = 0; k < N; k++) {
                                if (armed[k] && deadline[k] <= now) {
                                        due++;
                                        armed[k] = false;
                                } else if (armed[k] && deadline[k] < want_next) {
                                        want_next = deadline[k];
                                }
                        }
                        assert_true(ns__timer_heap_run(&h, now) == want_next);
                        assert_int_equal(log.n, due);
                        for (int k = 1; k < log.n; k++)
                                assert_true(deadline[log.ids[k - 1]] <= deadline[log.ids[k]]);
                }
                for (int k = 0; k < N; k++)
                        assert_int_equal(ns__timer_armed(&ctx[k].t), armed[k]);
        }
        ns__timer_heap_destroy(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_heap_has_no_deadline),
                cmocka_unit_test(test_random_deadlines_fire_in_sorted_order),
                cmocka_unit_test(test_rearm_moves_deadline_both_ways),
                cmocka_unit_test(test_equal_deadlines_fire_in_arming_order_after_rearm),
                cmocka_unit_test(test_cancel_disarms_and_is_idempotent),
                cmocka_unit_test(test_callback_cancels_a_timer_due_in_the_same_run),
                cmocka_unit_test(test_callback_cancelling_itself_is_harmless),
                cmocka_unit_test(test_self_rearm_in_the_future_fires_on_a_later_run),
                cmocka_unit_test(test_self_rearm_at_or_before_now_fires_once_per_run),
                cmocka_unit_test(test_callback_arming_another_due_timer_defers_it),
                cmocka_unit_test(test_callback_rearming_a_pending_due_timer_to_later),
                cmocka_unit_test(test_arm_fails_cleanly_when_the_heap_cannot_grow),
                cmocka_unit_test(test_destroy_disarms_everything),
                cmocka_unit_test(test_random_operations_match_a_reference_model),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
