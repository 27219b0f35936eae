/*
 * Internals of the packet pool shared by the files of the buffer layer:
 * the storage header, the pool itself and the inline warm path of
 * ns_pkt_alloc(). Nothing outside src/buf/ includes this header.
 */
#ifndef NS_BUF_PKT_POOL_H
#define NS_BUF_PKT_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netstack/alloc.h>
#include <netstack/pkt.h>

/** Size class of storage allocated to exact size and never cached. */
#define NS__PKT_CLASS_EXACT 0xffu

/** Number of cached size classes. */
#define NS__PKT_NUM_CLASSES 3u

/** Capacity of class 0, the storage of a pair. */
#define NS__PKT_CLASS0_CAP 2048u

/**
 * Header of one block of storage; the packet bytes follow it at
 * NS__PKT_DATA_HDR bytes from its start (a cache-line multiple, so the
 * bytes are as aligned as the allocator's blocks up to 64).
 */
struct ns_pkt_data {
        /**
         * Packets referring to these bytes. A pair's storage keeps 1, so
         * that the warm paths need not touch it; alone in a cache it is
         * meaningless.
         */
        uint32_t refcnt;
        /** Bytes of storage after the header. */
        uint32_t cap;
        /** Index of the size class, or NS__PKT_CLASS_EXACT. */
        uint8_t cls;
        /** Link in the pool's cache of its size class. */
        struct ns_pkt_data *next_free;
};

#define NS__PKT_DATA_HDR ((sizeof(struct ns_pkt_data) + 63u) & ~(size_t)63u)

_Static_assert(offsetof(struct ns_pkt_data, refcnt) == 0 &&
                   offsetof(struct ns_pkt_data, cap) == sizeof(uint32_t),
               "refcnt and cap are read as one 64-bit word");

/**
 * Returns whether d is class-0 storage with one reference, comparing refcnt
 * and cap at once (no other class has class 0's capacity).
 */
static inline bool ns__pkt_data_sole_class0(const struct ns_pkt_data *d)
{
        static const uint32_t want[2] = { 1, NS__PKT_CLASS0_CAP };
        uint64_t have_word, want_word;

        memcpy(&have_word, d, sizeof(have_word));
        memcpy(&want_word, want, sizeof(want_word));
        return have_word == want_word;
}

/*
 * The pool caches packet structs and storage separately, and also as pairs:
 * a struct still attached to class-0 storage with refcnt 1. A pair counts
 * as one cached struct and one cached class-0 buffer, so caching pairs
 * changes no counter; it lets a warm ns_pkt_alloc() pop one list and a
 * last ns_pkt_free() push one.
 *
 * The pairs form a stack linked through next that ends in a sentinel
 * struct inside the pool. Each cached pair's struct holds in its mark field
 * the number of pairs cached up to and including it (the sentinel holds 0),
 * so the count is read from the top and no pop needs to store it.
 *
 * The warm paths keep no counter but allocs. Everything else in struct
 * ns_pkt_pool_stats is derived from the structs the pool owns, what it
 * caches and bytes_base (ns_pkt_pool_get_stats()). Two limits kept by the
 * slow paths tell the warm paths when to step aside: pair_floor so that a
 * pop never crosses max_bytes or the peak (which then needs updating),
 * pair_room so that a push never exceeds max_cached. A destroyed pool has
 * room 0, so that nothing is warm.
 */
struct ns_pkt_pool {
        /* Warm paths. */
        /** Top of the pair stack; &pairs_end when it is empty. */
        struct ns_pkt *pairs;
        /** A pop is allowed while the pair count > pair_floor. */
        uint32_t pair_floor;
        /** A push is allowed while the pair count < pair_room. */
        uint32_t pair_room;
        /** Packets handed out. */
        uint64_t allocs;

        /* Everything else. */
        struct ns_allocator a;
        /** Set by ns_pkt_pool_destroy() while packets are still live. */
        bool dead;
        uint32_t max_cached;
        uint32_t max_cached_cls[NS__PKT_NUM_CLASSES];
        uint32_t max_in_use;
        uint64_t max_bytes;
        /** Structs not in a pair. */
        struct ns_pkt *free_pkts;
        uint32_t n_free_pkts;
        /** Storage not in a pair, per class. */
        struct ns_pkt_data *free_data[NS__PKT_NUM_CLASSES];
        uint32_t n_free_data[NS__PKT_NUM_CLASSES];
        /** Structs taken from the allocator and not yet returned. */
        uint64_t owned_pkts;
        /**
         * bytes_in_use + 2048 for each cached pair: what would be live if
         * the pairs were, so that only work outside the warm paths changes it.
         */
        uint64_t bytes_base;
        /** Bottom of the pair stack; its mark is 0. */
        struct ns_pkt pairs_end;
        uint64_t alloc_failures;
        uint64_t mallocs;
        uint64_t peak_bytes_in_use;
};

/** Returns the first byte of storage of d. */
static inline uint8_t *ns__pkt_data_bytes(struct ns_pkt_data *d)
{
        return (uint8_t *)d + NS__PKT_DATA_HDR;
}

/** Points p at storage d (offsets unchanged). */
static inline void ns__pkt_attach(struct ns_pkt *p, struct ns_pkt_data *d)
{
        p->buf = d;
        p->head = ns__pkt_data_bytes(d);
        p->cap = d->cap;
}

/** What ns__pkt_reset() copies: the fields of a fresh packet. */
static const struct ns_pkt ns__pkt_fresh = {
        .link_hdr = NS_PKT_NO_HDR,
        .net_hdr = NS_PKT_NO_HDR,
        .transport_hdr = NS_PKT_NO_HDR,
};

/* ns__pkt_reset() copies two byte ranges of ns__pkt_fresh: from link_hdr
 * up to pool, and from link_dst to the end. They hold every field a fresh
 * packet resets but next, off and len (set one by one), and none of buf,
 * head, cap and pool. */
#define NS__PKT_RESET_A     offsetof(struct ns_pkt, link_hdr)
#define NS__PKT_RESET_A_END offsetof(struct ns_pkt, pool)
#define NS__PKT_RESET_B     offsetof(struct ns_pkt, link_dst)
#define NS__PKT_RESET_END   sizeof(struct ns_pkt)
#define NS__PKT_IN_RESET_A(f)                             \
        (offsetof(struct ns_pkt, f) >= NS__PKT_RESET_A && \
         offsetof(struct ns_pkt, f) < NS__PKT_RESET_A_END)
_Static_assert(NS__PKT_IN_RESET_A(net_hdr) && NS__PKT_IN_RESET_A(transport_hdr) &&
                   NS__PKT_IN_RESET_A(nic_id) && NS__PKT_IN_RESET_A(flags) &&
                   NS__PKT_IN_RESET_A(mark) && NS__PKT_IN_RESET_A(net_proto) &&
                   NS__PKT_IN_RESET_A(transport_proto) &&
                   offsetof(struct ns_pkt, next) < NS__PKT_RESET_A &&
                   offsetof(struct ns_pkt, buf) < NS__PKT_RESET_A &&
                   offsetof(struct ns_pkt, head) < NS__PKT_RESET_A &&
                   offsetof(struct ns_pkt, cap) < NS__PKT_RESET_A &&
                   offsetof(struct ns_pkt, off) < NS__PKT_RESET_A &&
                   offsetof(struct ns_pkt, len) < NS__PKT_RESET_A &&
                   NS__PKT_RESET_A_END < NS__PKT_RESET_B,
               "ns__pkt_reset() ranges match struct ns_pkt");

/**
 * Gives p the state of a fresh packet with `headroom` bytes of headroom and
 * len 0: everything but buf, head, cap and pool.
 */
static inline void ns__pkt_reset(struct ns_pkt *p, uint32_t headroom)
{
        unsigned char *b = (unsigned char *)p;
        const unsigned char *f = (const unsigned char *)&ns__pkt_fresh;

        p->next = NULL;
        p->off = headroom;
        p->len = 0;
        memcpy(b + NS__PKT_RESET_A, f + NS__PKT_RESET_A, NS__PKT_RESET_A_END - NS__PKT_RESET_A);
        memcpy(b + NS__PKT_RESET_B, f + NS__PKT_RESET_B, NS__PKT_RESET_END - NS__PKT_RESET_B);
}

/** Returns how many pairs are cached from p, a pair or the sentinel, down. */
static inline uint32_t ns__pkt_pair_depth(const struct ns_pkt *p)
{
        return p->mark;
}

/** Caches pkt, attached to class-0 storage with refcnt 1, as a pair. */
static inline void ns__pkt_pair_push(struct ns_pkt_pool *pool, struct ns_pkt *pkt)
{
        struct ns_pkt *top = pool->pairs;

        pkt->mark = ns__pkt_pair_depth(top) + 1;
        pkt->next = top;
        pool->pairs = pkt;
}

/** ns_pkt_alloc() for everything the warm path does not serve. */
struct ns_pkt *ns__pkt_alloc_slow(struct ns_pkt_pool *pool, uint32_t headroom, uint32_t size);

/**
 * The warm path of ns_pkt_alloc(): pops a pair when the packet fits class-0
 * storage and the pop crosses no limit. Returns NULL when it does not apply
 * (then ns__pkt_alloc_slow() decides).
 */
static inline struct ns_pkt *ns__pkt_alloc_warm(struct ns_pkt_pool *pool, uint32_t headroom,
                                                uint32_t size)
{
        struct ns_pkt *p = pool->pairs;

        if (__builtin_expect((uint64_t)headroom + size > NS__PKT_CLASS0_CAP ||
                                 ns__pkt_pair_depth(p) <= pool->pair_floor,
                             0))
                return NULL;
        pool->pairs = p->next;
        pool->allocs++;
        ns__pkt_reset(p, headroom);
        return p;
}

/**
 * Takes storage of at least min_cap bytes from pool with refcnt 1, counted
 * in bytes_in_use. Returns NULL when the pool is destroyed, max_bytes would
 * be exceeded or the allocator refuses; does not count the failure.
 */
struct ns_pkt_data *ns__pkt_data_get(struct ns_pkt_pool *pool, uint64_t min_cap);

/** Drops one reference to d; the last one returns it to pool. */
void ns__pkt_data_release(struct ns_pkt_pool *pool, struct ns_pkt_data *d);

/** Counts one refused request in the pool's alloc_failures. */
void ns__pkt_pool_count_failure(struct ns_pkt_pool *pool);

#endif
