/*
 * The packet pool: free lists of packet structs, of storage in a few size
 * classes and of pairs of both (pkt_pool.h), caps on live packets and
 * bytes, and the counters that show whether the hot path still reaches the
 * allocator.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netstack/alloc.h>
#include <netstack/pkt.h>

#include "buf/pkt_pool.h"

#define NS__COLD __attribute__((noinline))

/* Storage capacities of the cached size classes. The largest holds a
 * 64 KiB datagram plus 256 bytes of headroom. Bigger requests get exact-size
 * storage that is freed, not cached. */
static const uint32_t class_cap[] = { NS__PKT_CLASS0_CAP, 16384u, 65536u + 256u };
_Static_assert(sizeof(class_cap) / sizeof(class_cap[0]) == NS__PKT_NUM_CLASSES,
               "one capacity per class");

/* Default cache bounds: packet structs, then storage per size class. */
#define DEFAULT_MAX_CACHED_PKTS 1024u
static const uint32_t default_class_cached[] = { 1024u, 256u, 32u };

static void *pool_malloc(struct ns_pkt_pool *pool, size_t size)
{
        pool->mallocs++;
        return ns_alloc(&pool->a, size);
}

/* Pairs cached. */
static uint32_t pairs(const struct ns_pkt_pool *pool)
{
        return ns__pkt_pair_depth(pool->pairs);
}

/* Takes the top pair; NULL when none is cached. */
static struct ns_pkt *pair_pop(struct ns_pkt_pool *pool)
{
        struct ns_pkt *p = pool->pairs;

        if (p == &pool->pairs_end)
                return NULL;
        pool->pairs = p->next;
        return p;
}

/* Live packets. */
static uint32_t in_use(const struct ns_pkt_pool *pool)
{
        return (uint32_t)(pool->owned_pkts - pool->n_free_pkts - pairs(pool));
}

/* Storage buffers of class c held for reuse. */
static uint64_t cached_of(const struct ns_pkt_pool *pool, unsigned c)
{
        return pool->n_free_data[c] + (c == 0 ? pairs(pool) : 0u);
}

/* Live storage bytes. */
static uint64_t bytes_in_use(const struct ns_pkt_pool *pool)
{
        return pool->bytes_base - (uint64_t)pairs(pool) * NS__PKT_CLASS0_CAP;
}

/*
 * The limits of the warm paths (pkt_pool.h). A limit stricter than need be
 * is safe: the slow path then serves the request and recomputes it. So
 * pair_room is recomputed after whatever caches a loose struct or class-0
 * buffer, and pair_floor after whatever makes storage live or raises the
 * peak.
 *
 * Loose structs and class-0 storage are not paired here: a slow alloc takes
 * one of each, and the packet's free caches them as a pair.
 */
/* A destroyed pool caches nothing: room 0 keeps its drained stack empty,
 * so no pop happens either. */
static void retune_room(struct ns_pkt_pool *pool)
{
        uint32_t room_pkts = pool->max_cached - pool->n_free_pkts;
        uint32_t room_data = pool->max_cached_cls[0] - pool->n_free_data[0];

        pool->pair_room = pool->dead ? 0 : room_pkts < room_data ? room_pkts : room_data;
}

/* Popping one of n pairs leaves bytes_base - 2048 (n - 1) bytes live, which
 * must not pass the peak (nor max_bytes, which the peak never passes).
 * max_in_use needs no floor: a struct comes from the allocator only when
 * none is cached and fewer than max_in_use are live, so the pool never owns
 * more than max_in_use structs, live and cached together. */
static void retune_floor(struct ns_pkt_pool *pool)
{
        uint64_t floor = 0;

        if (pool->bytes_base > pool->peak_bytes_in_use)
                floor = (pool->bytes_base - pool->peak_bytes_in_use + NS__PKT_CLASS0_CAP - 1) /
                        NS__PKT_CLASS0_CAP;
        if (floor > UINT32_MAX)
                floor = UINT32_MAX;
        pool->pair_floor = (uint32_t)floor;
}

static void retune(struct ns_pkt_pool *pool)
{
        retune_room(pool);
        retune_floor(pool);
}

struct ns_pkt_pool *ns_pkt_pool_create(const struct ns_allocator *a,
                                       const struct ns_pkt_pool_config *cfg)
{
        struct ns_pkt_pool *pool = ns_zalloc(a, sizeof(*pool));

        if (!pool)
                return NULL;
        if (a)
                pool->a = *a;
        pool->max_cached = DEFAULT_MAX_CACHED_PKTS;
        for (size_t i = 0; i < NS__PKT_NUM_CLASSES; i++)
                pool->max_cached_cls[i] = default_class_cached[i];
        if (cfg) {
                if (cfg->max_cached) {
                        pool->max_cached = cfg->max_cached;
                        for (size_t i = 0; i < NS__PKT_NUM_CLASSES; i++)
                                pool->max_cached_cls[i] = cfg->max_cached;
                }
                pool->max_in_use = cfg->max_in_use;
                pool->max_bytes = cfg->max_bytes;
        }
        pool->mallocs = 1; /* the pool itself */
        pool->pairs = &pool->pairs_end;
        retune(pool);
        return pool;
}

static void free_struct(struct ns_pkt_pool *pool, struct ns_pkt *p)
{
        pool->owned_pkts--;
        ns_free(&pool->a, p);
}

static void free_data(struct ns_pkt_pool *pool, struct ns_pkt_data *d)
{
        ns_free(&pool->a, d);
}

/* Frees everything the pool caches. */
static void drain_caches(struct ns_pkt_pool *pool)
{
        for (struct ns_pkt *p; (p = pair_pop(pool)) != NULL;) {
                pool->bytes_base -= NS__PKT_CLASS0_CAP;
                free_data(pool, p->buf);
                free_struct(pool, p);
        }
        while (pool->free_pkts) {
                struct ns_pkt *p = pool->free_pkts;

                pool->free_pkts = p->next;
                free_struct(pool, p);
        }
        pool->n_free_pkts = 0;
        for (size_t c = 0; c < NS__PKT_NUM_CLASSES; c++) {
                while (pool->free_data[c]) {
                        struct ns_pkt_data *d = pool->free_data[c];

                        pool->free_data[c] = d->next_free;
                        free_data(pool, d);
                }
                pool->n_free_data[c] = 0;
        }
}

/* Releases the pool struct itself; a copy of the allocator is needed
 * because it lives inside the block being freed. */
static void pool_release(struct ns_pkt_pool *pool)
{
        struct ns_allocator a = pool->a;

        ns_free(&a, pool);
}

void ns_pkt_pool_destroy(struct ns_pkt_pool *pool)
{
        if (!pool)
                return;
        drain_caches(pool);
        if (pool->owned_pkts == 0) {
                pool_release(pool);
                return;
        }
        /* Live packets: a caller bug. Keep the pool until the last one is
         * freed (ns_pkt_free() finishes the job). */
        pool->dead = true;
        retune(pool);
}

void ns_pkt_pool_shrink(struct ns_pkt_pool *pool)
{
        drain_caches(pool);
        retune(pool);
}

void ns_pkt_pool_get_stats(const struct ns_pkt_pool *pool, struct ns_pkt_pool_stats *out)
{
        uint32_t live = in_use(pool);
        uint64_t cached = 0, cached_bytes = 0;

        for (unsigned c = 0; c < NS__PKT_NUM_CLASSES; c++) {
                cached += cached_of(pool, c);
                cached_bytes += cached_of(pool, c) * class_cap[c];
        }
        *out = (struct ns_pkt_pool_stats){
                .allocs = pool->allocs,
                .frees = pool->allocs - live,
                .alloc_failures = pool->alloc_failures,
                .mallocs = pool->mallocs,
                .in_use = live,
                .cached = (uint32_t)cached,
                .bytes_in_use = bytes_in_use(pool),
                .peak_bytes_in_use = pool->peak_bytes_in_use,
                .cached_pkts = pairs(pool) + pool->n_free_pkts,
                .cached_bytes = cached_bytes,
        };
}

void ns__pkt_pool_count_failure(struct ns_pkt_pool *pool)
{
        pool->alloc_failures++;
}

/* Returns whether the pool may hand out one more packet struct. */
static bool struct_allowed(const struct ns_pkt_pool *pool)
{
        return !pool->dead && !(pool->max_in_use && in_use(pool) >= pool->max_in_use);
}

/* Takes a cached struct, from a pair if need be; NULL when none. */
static struct ns_pkt *take_struct(struct ns_pkt_pool *pool)
{
        struct ns_pkt *p = pool->free_pkts;

        if (p) {
                pool->free_pkts = p->next;
                pool->n_free_pkts--;
                return p;
        }
        p = pair_pop(pool);
        if (p) {
                pool->bytes_base -= NS__PKT_CLASS0_CAP;
                p->buf->next_free = pool->free_data[0];
                pool->free_data[0] = p->buf;
                pool->n_free_data[0]++;
        }
        return p;
}

/* Takes a cached struct or a new one from the allocator; NULL when the
 * allocator refuses. */
static struct ns_pkt *struct_get(struct ns_pkt_pool *pool)
{
        struct ns_pkt *p = take_struct(pool);

        if (p)
                return p;
        p = pool_malloc(pool, sizeof(*p));
        if (p) {
                pool->owned_pkts++;
                p->pool = pool;
        }
        return p;
}

/* Caches p for reuse or frees it. */
static void put_struct(struct ns_pkt_pool *pool, struct ns_pkt *p)
{
        if (pool->dead || pool->n_free_pkts + pairs(pool) >= pool->max_cached) {
                free_struct(pool, p);
                return;
        }
        p->next = pool->free_pkts;
        pool->free_pkts = p;
        pool->n_free_pkts++;
}

/* Returns the smallest class holding min_cap bytes, or NS__PKT_CLASS_EXACT. */
static unsigned class_of(uint64_t min_cap)
{
        for (unsigned c = 0; c < NS__PKT_NUM_CLASSES; c++)
                if (min_cap <= class_cap[c])
                        return c;
        return NS__PKT_CLASS_EXACT;
}

/* Returns whether cap bytes of new storage may go live. */
static bool data_allowed(const struct ns_pkt_pool *pool, uint64_t cap)
{
        if (pool->dead || cap > UINT32_MAX || cap > SIZE_MAX - NS__PKT_DATA_HDR)
                return false;
        return !(pool->max_bytes && cap > pool->max_bytes - bytes_in_use(pool));
}

/* New storage of class cls from the allocator; NULL when it refuses. */
static __attribute__((noinline)) struct ns_pkt_data *data_new(struct ns_pkt_pool *pool,
                                                              unsigned cls, uint64_t cap)
{
        struct ns_pkt_data *d = pool_malloc(pool, NS__PKT_DATA_HDR + (size_t)cap);

        if (!d)
                return NULL;
        d->cap = (uint32_t)cap;
        d->cls = (uint8_t)cls;
        pool->bytes_base += cap;
        return d;
}

/* Takes cached storage of class cls, from a pair if need be, or new
 * storage from the allocator; NULL when the allocator refuses. */
static inline struct ns_pkt_data *data_get(struct ns_pkt_pool *pool, unsigned cls, uint64_t cap)
{
        struct ns_pkt_data *d;

        if (cls != NS__PKT_CLASS_EXACT && pool->free_data[cls]) {
                d = pool->free_data[cls];
                pool->free_data[cls] = d->next_free;
                pool->n_free_data[cls]--;
                pool->bytes_base += cap;
                return d;
        }
        if (cls == 0 && pairs(pool)) {
                struct ns_pkt *p = pair_pop(pool);

                p->next = pool->free_pkts;
                pool->free_pkts = p;
                pool->n_free_pkts++;
                return p->buf;
        }
        return data_new(pool, cls, cap);
}

/* Caches d (no longer referenced) for reuse or frees it. */
static void put_data(struct ns_pkt_pool *pool, struct ns_pkt_data *d)
{
        pool->bytes_base -= d->cap;
        if (pool->dead || d->cls == NS__PKT_CLASS_EXACT ||
            cached_of(pool, d->cls) >= pool->max_cached_cls[d->cls]) {
                free_data(pool, d);
                return;
        }
        d->next_free = pool->free_data[d->cls];
        pool->free_data[d->cls] = d;
        pool->n_free_data[d->cls]++;
}

static void update_peak(struct ns_pkt_pool *pool)
{
        uint64_t b = bytes_in_use(pool);

        if (b > pool->peak_bytes_in_use)
                pool->peak_bytes_in_use = b;
}

struct ns_pkt_data *ns__pkt_data_get(struct ns_pkt_pool *pool, uint64_t min_cap)
{
        unsigned cls = class_of(min_cap);
        uint64_t cap = cls == NS__PKT_CLASS_EXACT ? min_cap : class_cap[cls];
        struct ns_pkt_data *d;

        if (!data_allowed(pool, cap))
                return NULL;
        d = data_get(pool, cls, cap);
        if (d) {
                d->refcnt = 1;
                update_peak(pool);
        }
        retune(pool);
        return d;
}

void ns__pkt_data_release(struct ns_pkt_pool *pool, struct ns_pkt_data *d)
{
        if (--d->refcnt > 0)
                return;
        put_data(pool, d);
        retune_room(pool);
}

/*
 * Everything the inline warm path does not serve: other size classes, an
 * empty pair cache, a limit about to be crossed, failures. The order of the
 * steps is the one the counters document: a struct is taken (from the
 * allocator when none is cached) before storage is checked and taken.
 */
NS__COLD struct ns_pkt *ns__pkt_alloc_slow(struct ns_pkt_pool *pool, uint32_t headroom,
                                           uint32_t size)
{
        uint64_t need = (uint64_t)headroom + size;
        unsigned cls = class_of(need);
        uint64_t cap = cls == NS__PKT_CLASS_EXACT ? need : class_cap[cls];
        struct ns_pkt *p = NULL;
        struct ns_pkt_data *d;

        if (!struct_allowed(pool))
                goto fail;
        /* With a struct cached, taking it can wait until storage is sure;
         * without one, the allocator is asked first. */
        if (pool->n_free_pkts == 0 && pairs(pool) == 0) {
                p = struct_get(pool);
                if (!p)
                        goto fail;
        }
        if (!data_allowed(pool, cap))
                goto undo;
        if (!p && cls == 0 && pairs(pool)) {
                p = pair_pop(pool);
                d = p->buf;
        } else {
                d = data_get(pool, cls, cap);
                if (!d)
                        goto undo;
                if (!p)
                        p = take_struct(pool);
                ns__pkt_attach(p, d);
        }
        d->refcnt = 1;
        ns__pkt_reset(p, headroom);
        pool->allocs++;
        update_peak(pool);
        retune(pool);
        return p;
undo:
        if (p)
                put_struct(pool, p);
fail:
        pool->alloc_failures++;
        retune_room(pool);
        return NULL;
}

struct ns_pkt *ns_pkt_alloc(struct ns_pkt_pool *pool, uint32_t headroom, uint32_t size)
{
        struct ns_pkt *p = ns__pkt_alloc_warm(pool, headroom, size);

        if (p)
                return p;
        return ns__pkt_alloc_slow(pool, headroom, size);
}

/* ns_pkt_free() for everything but the last reference to class-0 storage
 * with room for the pair. */
static NS__COLD void free_slow(struct ns_pkt *pkt, struct ns_pkt_pool *pool, struct ns_pkt_data *d)
{
        if (--d->refcnt == 0)
                put_data(pool, d);
        put_struct(pool, pkt);
        if (pool->dead) {
                if (pool->owned_pkts == 0)
                        pool_release(pool);
                return;
        }
        retune_room(pool);
}

void ns_pkt_free(struct ns_pkt *pkt)
{
        struct ns_pkt_pool *pool;
        struct ns_pkt_data *d;

        if (!pkt)
                return;
        pool = pkt->pool;
        d = pkt->buf;
        /* The last reference: the storage keeps refcnt 1 in the pair. */
        if (__builtin_expect(ns__pkt_data_sole_class0(d) &&
                                 ns__pkt_pair_depth(pool->pairs) < pool->pair_room,
                             1)) {
                ns__pkt_pair_push(pool, pkt);
                return;
        }
        free_slow(pkt, pool, d);
}

struct ns_pkt *ns_pkt_clone(struct ns_pkt *p)
{
        struct ns_pkt_pool *pool = p->pool;
        struct ns_pkt *c = struct_allowed(pool) ? struct_get(pool) : NULL;

        if (!c) {
                pool->alloc_failures++;
                return NULL;
        }
        *c = *p;
        c->next = NULL;
        c->buf->refcnt++;
        pool->allocs++;
        retune_room(pool);
        return c;
}

bool ns_pkt_is_shared(const struct ns_pkt *p)
{
        return p->buf->refcnt > 1;
}
