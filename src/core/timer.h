/*
 * Timers: a binary min-heap of caller-owned struct ns_timer, fired from the
 * stack's poll (DESIGN.md, "Sans-I/O core"). Nothing here reads a clock;
 * the caller passes "now" to ns__timer_heap_run() and sleeps until the
 * deadline it returns.
 *
 * Ordering: earliest deadline first; timers with equal deadlines fire in
 * the order they were (last) armed.
 *
 * The one-shot-per-run rule: a single ns__timer_heap_run() call fires each
 * timer at most once. A timer armed (or re-armed, by itself or by another
 * callback) during a run with a deadline at or before that run's `now`
 * stays armed but waits for the next run call; the run returns a deadline
 * <= now so the caller knows to poll again at once. This bounds the work
 * of one run by the number of timers due when it started and makes a
 * callback that re-arms itself "immediately" unable to hang the stack.
 *
 * Memory: timers belong to their owners (usually embedded in the object
 * they time); the heap only holds pointers to them in an array it grows
 * through its allocator. A timer must be cancelled (or the heap destroyed)
 * before its memory is freed. Runs must not nest: a callback must not call
 * ns__timer_heap_run() on its own heap.
 */
#ifndef NS_CORE_TIMER_H
#define NS_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/alloc.h>

/** Value of heap_idx while a timer is not armed. */
#define NS_TIMER_IDLE UINT32_MAX

/** One timer. Initialise with ns__timer_init(); fields are read-only. */
struct ns_timer {
        /** Monotonic deadline in nanoseconds (meaningful while armed). */
        int64_t deadline_ns;
        /** Slot in the heap, or NS_TIMER_IDLE when not armed. */
        uint32_t heap_idx;
        /** Set while armed during a run with a deadline already due then. */
        bool deferred;
        /** Called with arg when the timer fires (already disarmed). */
        void (*fn)(void *arg);
        void *arg;
        /** Arming sequence number: breaks deadline ties, and tells apart
         * timers armed before and during a run. */
        uint64_t seq;
};

/** The heap. Zero-initialised is not valid; use ns__timer_heap_init(). */
struct ns_timer_heap {
        struct ns_timer **items;
        uint32_t count, cap;
        struct ns_allocator alloc;
        /** Next arming sequence number. */
        uint64_t next_seq;
        /** True inside ns__timer_heap_run(), whose now is run_now_ns. */
        bool running;
        int64_t run_now_ns;
        /** Timers currently marked deferred. */
        uint32_t deferred_count;
};

/** Makes h empty. a (copied) supplies the array memory; NULL means malloc. */
void ns__timer_heap_init(struct ns_timer_heap *h, const struct ns_allocator *a);

/** Disarms every timer still armed (without firing it) and frees the array. */
void ns__timer_heap_destroy(struct ns_timer_heap *h);

/** Makes t an unarmed timer that will call fn(arg). */
void ns__timer_init(struct ns_timer *t, void (*fn)(void *arg), void *arg);

/**
 * Arms t to fire at deadline_ns (monotonic), or moves its deadline if it is
 * already armed (it then counts as armed now for tie-breaking). Returns 0,
 * or NS_ERR_NO_MEMORY when the heap cannot grow, in which case t is left
 * disarmed. Re-arming an armed timer never allocates and never fails.
 */
int ns__timer_arm(struct ns_timer_heap *h, struct ns_timer *t, int64_t deadline_ns);

/** Disarms t; does nothing if t is not armed. Safe from any callback. */
void ns__timer_cancel(struct ns_timer_heap *h, struct ns_timer *t);

/** Returns whether t is armed. */
static inline bool ns__timer_armed(const struct ns_timer *t)
{
        return t->heap_idx != NS_TIMER_IDLE;
}

/** Returns the earliest armed deadline, or INT64_MAX when none is armed. */
int64_t ns__timer_heap_next(const struct ns_timer_heap *h);

/**
 * Fires, in order, every timer that was due (deadline <= now_ns) when the
 * run started, each disarmed just before its fn runs (see the one-shot rule
 * above). Callbacks may arm and cancel any timer, including the running one
 * and ones still due in this run (a cancelled timer does not fire). Returns
 * the earliest deadline still armed, or INT64_MAX.
 */
int64_t ns__timer_heap_run(struct ns_timer_heap *h, int64_t now_ns);

#endif
