/*
 * Internals of the packet pool shared by the files of the buffer layer.
 * Nothing outside src/buf/ includes this header.
 */
#ifndef NS_BUF_PKT_POOL_H
#define NS_BUF_PKT_POOL_H

#include <stdint.h>

#include <netstack/pkt.h>

/** Size class of storage allocated to exact size and never cached. */
#define NS__PKT_CLASS_EXACT 0xffu

/**
 * Header of one block of storage; the packet bytes follow it at
 * NS__PKT_DATA_HDR bytes from its start (a cache-line multiple, so the
 * bytes are as aligned as the allocator's blocks up to 64).
 */
struct ns_pkt_data {
        /** Packets referring to these bytes; 0 while cached. */
        uint32_t refcnt;
        /** Bytes of storage after the header. */
        uint32_t cap;
        /** Index of the size class, or NS__PKT_CLASS_EXACT. */
        uint8_t cls;
        /** Link in the pool's cache of its size class. */
        struct ns_pkt_data *next_free;
};

#define NS__PKT_DATA_HDR ((sizeof(struct ns_pkt_data) + 63u) & ~(size_t)63u)

/** Returns the first byte of storage of d. */
static inline uint8_t *ns__pkt_data_bytes(struct ns_pkt_data *d)
{
        return (uint8_t *)d + NS__PKT_DATA_HDR;
}

/**
 * Takes a packet struct from pool (cache first, then the allocator),
 * zeroed except for pool, with header marks unset; counts it in allocs and
 * in_use. Returns NULL when the pool is destroyed, max_in_use is reached or
 * the allocator refuses; does not count the failure.
 */
struct ns_pkt *ns__pkt_struct_get(struct ns_pkt_pool *pool);

/** Returns a struct taken by ns__pkt_struct_get() whose storage is not attached. */
void ns__pkt_struct_put(struct ns_pkt_pool *pool, struct ns_pkt *p);

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

/** Points p at storage d (offsets unchanged). */
static inline void ns__pkt_attach(struct ns_pkt *p, struct ns_pkt_data *d)
{
        p->buf = d;
        p->head = ns__pkt_data_bytes(d);
        p->cap = d->cap;
}

#endif
