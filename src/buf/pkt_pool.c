/*
 * The packet pool: free lists of packet structs and of storage in a few
 * size classes, caps on live packets and bytes, and the counters that show
 * whether the hot path still reaches the allocator.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netstack/alloc.h>
#include <netstack/pkt.h>

#include "buf/pkt_pool.h"

/* Storage capacities of the cached size classes. The largest holds a
 * 64 KiB datagram plus 256 bytes of headroom. Bigger requests get exact-size
 * storage that is freed, not cached. */
static const uint32_t class_cap[] = { 2048u, 16384u, 65536u + 256u };
#define NUM_CLASSES (sizeof(class_cap) / sizeof(class_cap[0]))

/* Default cache bounds: packet structs, then storage per size class. */
#define DEFAULT_MAX_CACHED_PKTS 1024u
static const uint32_t default_class_cached[] = { 1024u, 256u, 32u };

struct ns_pkt_pool {
        struct ns_allocator a;
        uint32_t max_cached;
        uint32_t max_cached_cls[NUM_CLASSES];
        uint32_t max_in_use;
        uint64_t max_bytes;
        /* Set by ns_pkt_pool_destroy() while packets are still live. */
        bool dead;
        struct ns_pkt *free_pkts;
        uint32_t n_free_pkts;
        struct ns_pkt_data *free_data[NUM_CLASSES];
        uint32_t n_free_data[NUM_CLASSES];
        struct ns_pkt_pool_stats st;
};

static void *pool_malloc(struct ns_pkt_pool *pool, size_t size)
{
        pool->st.mallocs++;
        return ns_alloc(&pool->a, size);
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
        for (size_t i = 0; i < NUM_CLASSES; i++)
                pool->max_cached_cls[i] = default_class_cached[i];
        if (cfg) {
                if (cfg->max_cached) {
                        pool->max_cached = cfg->max_cached;
                        for (size_t i = 0; i < NUM_CLASSES; i++)
                                pool->max_cached_cls[i] = cfg->max_cached;
                }
                pool->max_in_use = cfg->max_in_use;
                pool->max_bytes = cfg->max_bytes;
        }
        pool->st.mallocs = 1; /* the pool itself */
        return pool;
}

/* Frees everything the pool caches. */
static void drain_caches(struct ns_pkt_pool *pool)
{
        while (pool->free_pkts) {
                struct ns_pkt *p = pool->free_pkts;
                pool->free_pkts = p->next;
                ns_free(&pool->a, p);
        }
        pool->n_free_pkts = 0;
        for (size_t c = 0; c < NUM_CLASSES; c++) {
                while (pool->free_data[c]) {
                        struct ns_pkt_data *d = pool->free_data[c];
                        pool->free_data[c] = d->next_free;
                        ns_free(&pool->a, d);
                }
                pool->n_free_data[c] = 0;
        }
        pool->st.cached = 0;
        pool->st.cached_pkts = 0;
        pool->st.cached_bytes = 0;
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
        if (pool->st.in_use == 0) {
                pool_release(pool);
                return;
        }
        /* Live packets: a caller bug. Keep the pool until the last one is
         * freed (ns_pkt_free() finishes the job). */
        pool->dead = true;
}

void ns_pkt_pool_shrink(struct ns_pkt_pool *pool)
{
        drain_caches(pool);
}

void ns_pkt_pool_get_stats(const struct ns_pkt_pool *pool, struct ns_pkt_pool_stats *out)
{
        *out = pool->st;
}

void ns__pkt_pool_count_failure(struct ns_pkt_pool *pool)
{
        pool->st.alloc_failures++;
}

struct ns_pkt *ns__pkt_struct_get(struct ns_pkt_pool *pool)
{
        struct ns_pkt *p;

        if (pool->dead)
                return NULL;
        if (pool->max_in_use && pool->st.in_use >= pool->max_in_use)
                return NULL;
        p = pool->free_pkts;
        if (p) {
                pool->free_pkts = p->next;
                pool->n_free_pkts--;
                pool->st.cached_pkts--;
        } else {
                p = pool_malloc(pool, sizeof(*p));
                if (!p)
                        return NULL;
        }
        memset(p, 0, sizeof(*p));
        p->link_hdr = NS_PKT_NO_HDR;
        p->net_hdr = NS_PKT_NO_HDR;
        p->transport_hdr = NS_PKT_NO_HDR;
        p->pool = pool;
        pool->st.in_use++;
        pool->st.allocs++;
        return p;
}

/* Caches p for reuse or frees it; touches no usage counter. */
static void struct_recycle(struct ns_pkt_pool *pool, struct ns_pkt *p)
{
        if (pool->dead || pool->n_free_pkts >= pool->max_cached) {
                ns_free(&pool->a, p);
                return;
        }
        p->next = pool->free_pkts;
        p->buf = NULL;
        p->head = NULL;
        pool->free_pkts = p;
        pool->n_free_pkts++;
        pool->st.cached_pkts++;
}

void ns__pkt_struct_put(struct ns_pkt_pool *pool, struct ns_pkt *p)
{
        pool->st.in_use--;
        pool->st.frees++;
        struct_recycle(pool, p);
}

/* Returns the smallest class holding min_cap bytes, or NS__PKT_CLASS_EXACT. */
static unsigned class_of(uint64_t min_cap)
{
        for (unsigned c = 0; c < NUM_CLASSES; c++)
                if (min_cap <= class_cap[c])
                        return c;
        return NS__PKT_CLASS_EXACT;
}

struct ns_pkt_data *ns__pkt_data_get(struct ns_pkt_pool *pool, uint64_t min_cap)
{
        unsigned cls = class_of(min_cap);
        uint64_t cap = cls == NS__PKT_CLASS_EXACT ? min_cap : class_cap[cls];
        struct ns_pkt_data *d = NULL;

        if (pool->dead || cap > UINT32_MAX || cap > SIZE_MAX - NS__PKT_DATA_HDR)
                return NULL;
        if (pool->max_bytes && cap > pool->max_bytes - pool->st.bytes_in_use)
                return NULL;
        if (cls != NS__PKT_CLASS_EXACT && pool->free_data[cls]) {
                d = pool->free_data[cls];
                pool->free_data[cls] = d->next_free;
                pool->n_free_data[cls]--;
                pool->st.cached--;
                pool->st.cached_bytes -= cap;
        } else {
                d = pool_malloc(pool, NS__PKT_DATA_HDR + (size_t)cap);
                if (!d)
                        return NULL;
                d->cap = (uint32_t)cap;
                d->cls = (uint8_t)cls;
        }
        d->refcnt = 1;
        d->next_free = NULL;
        pool->st.bytes_in_use += cap;
        if (pool->st.bytes_in_use > pool->st.peak_bytes_in_use)
                pool->st.peak_bytes_in_use = pool->st.bytes_in_use;
        return d;
}

void ns__pkt_data_release(struct ns_pkt_pool *pool, struct ns_pkt_data *d)
{
        if (--d->refcnt > 0)
                return;
        pool->st.bytes_in_use -= d->cap;
        if (pool->dead || d->cls == NS__PKT_CLASS_EXACT ||
            pool->n_free_data[d->cls] >= pool->max_cached_cls[d->cls]) {
                ns_free(&pool->a, d);
                return;
        }
        d->next_free = pool->free_data[d->cls];
        pool->free_data[d->cls] = d;
        pool->n_free_data[d->cls]++;
        pool->st.cached++;
        pool->st.cached_bytes += d->cap;
}

struct ns_pkt *ns_pkt_alloc(struct ns_pkt_pool *pool, uint32_t headroom, uint32_t size)
{
        struct ns_pkt *p;
        struct ns_pkt_data *d;

        p = ns__pkt_struct_get(pool);
        if (!p)
                goto fail;
        d = ns__pkt_data_get(pool, (uint64_t)headroom + size);
        if (!d) {
                /* The struct was never handed out: undo its counting. */
                pool->st.in_use--;
                pool->st.allocs--;
                struct_recycle(pool, p);
                goto fail;
        }
        ns__pkt_attach(p, d);
        p->off = headroom;
        return p;
fail:
        ns__pkt_pool_count_failure(pool);
        return NULL;
}

void ns_pkt_free(struct ns_pkt *pkt)
{
        struct ns_pkt_pool *pool;

        if (!pkt)
                return;
        pool = pkt->pool;
        ns__pkt_data_release(pool, pkt->buf);
        ns__pkt_struct_put(pool, pkt);
        if (pool->dead && pool->st.in_use == 0)
                pool_release(pool);
}

struct ns_pkt *ns_pkt_clone(struct ns_pkt *p)
{
        struct ns_pkt_pool *pool = p->pool;
        struct ns_pkt *c = ns__pkt_struct_get(pool);

        if (!c) {
                ns__pkt_pool_count_failure(pool);
                return NULL;
        }
        *c = *p;
        c->next = NULL;
        c->buf->refcnt++;
        return c;
}

bool ns_pkt_is_shared(const struct ns_pkt *p)
{
        return p->buf->refcnt > 1;
}
