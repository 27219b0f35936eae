/* The timer heap (core/timer.h). */
#include <string.h>

#include <netstack/err.h>

#include "core/timer.h"

/* The heap order: timers deferred by the one-shot rule after all others,
 * then by deadline, then by arming sequence. Deferral sorts last only while
 * a run is in progress; the run clears it before returning. */
static bool before(const struct ns_timer *a, const struct ns_timer *b)
{
        if (a->deferred != b->deferred)
                return b->deferred;
        if (a->deadline_ns != b->deadline_ns)
                return a->deadline_ns < b->deadline_ns;
        return a->seq < b->seq;
}

static void place(struct ns_timer_heap *h, uint32_t i, struct ns_timer *t)
{
        h->items[i] = t;
        t->heap_idx = i;
}

static void sift_up(struct ns_timer_heap *h, uint32_t i)
{
        struct ns_timer *t = h->items[i];
        while (i > 0) {
                uint32_t parent = (i - 1) / 2;
                if (!before(t, h->items[parent]))
                        break;
                place(h, i, h->items[parent]);
                i = parent;
        }
        place(h, i, t);
}

static void sift_down(struct ns_timer_heap *h, uint32_t i)
{
        struct ns_timer *t = h->items[i];
        for (;;) {
                uint32_t child = 2 * i + 1;
                if (child >= h->count)
                        break;
                if (child + 1 < h->count && before(h->items[child + 1], h->items[child]))
                        child++;
                if (!before(h->items[child], t))
                        break;
                place(h, i, h->items[child]);
                i = child;
        }
        place(h, i, t);
}

/* Restores the heap property around slot i after its key changed either
 * way. */
static void fix(struct ns_timer_heap *h, uint32_t i)
{
        if (i > 0 && before(h->items[i], h->items[(i - 1) / 2]))
                sift_up(h, i);
        else
                sift_down(h, i);
}

static void remove_at(struct ns_timer_heap *h, uint32_t i)
{
        struct ns_timer *t = h->items[i];
        struct ns_timer *last = h->items[--h->count];

        if (t->deferred)
                h->deferred_count--;
        t->deferred = false;
        t->heap_idx = NS_TIMER_IDLE;
        if (i == h->count)
                return;
        place(h, i, last);
        fix(h, i);
}

static bool grow(struct ns_timer_heap *h)
{
        uint32_t cap = h->cap ? h->cap * 2 : 16;
        if (cap <= h->cap || cap > UINT32_MAX / 2)
                return false;
        struct ns_timer **items = ns_alloc(&h->alloc, (size_t)cap * sizeof(*items));
        if (!items)
                return false;
        if (h->count)
                memcpy(items, h->items, (size_t)h->count * sizeof(*items));
        ns_free(&h->alloc, h->items);
        h->items = items;
        h->cap = cap;
        return true;
}

void ns__timer_heap_init(struct ns_timer_heap *h, const struct ns_allocator *a)
{
        memset(h, 0, sizeof(*h));
        if (a)
                h->alloc = *a;
}

void ns__timer_heap_destroy(struct ns_timer_heap *h)
{
        for (uint32_t i = 0; i < h->count; i++) {
                h->items[i]->heap_idx = NS_TIMER_IDLE;
                h->items[i]->deferred = false;
        }
        ns_free(&h->alloc, h->items);
        h->items = NULL;
        h->count = 0;
        h->cap = 0;
        h->deferred_count = 0;
}

void ns__timer_init(struct ns_timer *t, void (*fn)(void *arg), void *arg)
{
        memset(t, 0, sizeof(*t));
        t->heap_idx = NS_TIMER_IDLE;
        t->fn = fn;
        t->arg = arg;
}

int ns__timer_arm(struct ns_timer_heap *h, struct ns_timer *t, int64_t deadline_ns)
{
        bool defer = h->running && deadline_ns <= h->run_now_ns;

        if (!ns__timer_armed(t)) {
                if (h->count == h->cap && !grow(h))
                        return NS_ERR_NO_MEMORY;
                place(h, h->count++, t);
        } else if (t->deferred) {
                h->deferred_count--;
        }
        t->deadline_ns = deadline_ns;
        t->seq = h->next_seq++;
        t->deferred = defer;
        if (defer)
                h->deferred_count++;
        fix(h, t->heap_idx);
        return 0;
}

void ns__timer_cancel(struct ns_timer_heap *h, struct ns_timer *t)
{
        if (!ns__timer_armed(t))
                return;
        remove_at(h, t->heap_idx);
}

int64_t ns__timer_heap_next(const struct ns_timer_heap *h)
{
        /* Outside a run nothing is deferred, so the root is the earliest. */
        if (h->count == 0)
                return INT64_MAX;
        if (h->deferred_count == 0)
                return h->items[0]->deadline_ns;
        int64_t next = INT64_MAX;
        for (uint32_t i = 0; i < h->count; i++)
                if (h->items[i]->deadline_ns < next)
                        next = h->items[i]->deadline_ns;
        return next;
}

/* Ends a run: deferred timers take their place by deadline again. Clearing
 * the flag only lowers a key, so each needs a sift up, which moves only
 * slots below its own index; a forward scan therefore visits each one. */
static void undefer_all(struct ns_timer_heap *h)
{
        for (uint32_t i = 0; i < h->count && h->deferred_count > 0; i++) {
                struct ns_timer *t = h->items[i];
                if (!t->deferred)
                        continue;
                t->deferred = false;
                h->deferred_count--;
                sift_up(h, i);
        }
}

int64_t ns__timer_heap_run(struct ns_timer_heap *h, int64_t now_ns)
{
        h->running = true;
        h->run_now_ns = now_ns;
        /* Deferred timers sort after every other one, so the root is either
         * a timer due from before the run, or nothing left to do now. */
        while (h->count > 0) {
                struct ns_timer *t = h->items[0];
                if (t->deferred || t->deadline_ns > now_ns)
                        break;
                remove_at(h, 0);
                t->fn(t->arg);
        }
        h->running = false;
        undefer_all(h);
        return ns__timer_heap_next(h);
}
