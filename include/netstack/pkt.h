/**
 * @file
 * Packets and their pool.
 *
 * A struct ns_pkt is one packet: a view (offset and length) into one
 * contiguous block of storage laid out as headroom, data, tailroom. Headers
 * are pushed into the headroom as a packet travels down the stack and pulled
 * off the front as it travels up; nothing ever reallocates the payload to
 * make room. The vocabulary is Linux's sk_buff: push, pull, put, trim,
 * reserve, clone, copy.
 *
 * Storage is reference counted: ns_pkt_clone() makes a second ns_pkt that
 * shares the bytes, and the storage returns to its pool when the last
 * packet referring to it is freed. Shared storage is read-only by
 * convention: a holder calls ns_pkt_make_writable() before writing any byte
 * of it, including through ns_pkt_push() and ns_pkt_put().
 *
 * Every packet comes from a struct ns_pkt_pool and returns to the same pool.
 * A pool recycles packet structs and storage through free lists in a few
 * size classes, so after warm-up the per-packet path never calls the
 * allocator.
 *
 * Threading: none of this is thread safe and none of it uses atomics. A pool
 * and every packet taken from it belong to one stack, which one thread
 * drives at a time (DESIGN.md, "One owner per stack"). Handing a packet to
 * another thread's stack means copying it into that stack's pool
 * (ns_pkt_copy()).
 *
 * Ownership: a function taking a non-const struct ns_pkt * consumes the
 * caller's reference only where its comment says "consumes"; here that is
 * ns_pkt_free() and ns_pkt_list_free(). Everything else borrows.
 */
#ifndef NETSTACK_PKT_H
#define NETSTACK_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/alloc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Value of a header offset that has not been set. */
#define NS_PKT_NO_HDR UINT32_MAX

/** A per-stack pool of packets and storage; opaque. */
struct ns_pkt_pool;

/** Shared, reference-counted storage of one or more packets; opaque. */
struct ns_pkt_data;

/**
 * One packet. Invariant: off + len <= cap. Fields may be read directly;
 * head, cap, off, len and buf change only through the functions below.
 */
struct ns_pkt {
        /** Free for the current owner's lists and queues (NULL on alloc). */
        struct ns_pkt *next;
        /** Storage, shared by clones. */
        struct ns_pkt_data *buf;
        /** First byte of storage. */
        uint8_t *head;
        /** Bytes of storage (at least headroom + size asked for). */
        uint32_t cap;
        /** Offset of the first data byte from head (= headroom). */
        uint32_t off;
        /** Bytes of data. */
        uint32_t len;
        uint32_t link_hdr, /**< offset from head of the link header, or NS_PKT_NO_HDR */
            net_hdr,       /**< offset from head of the network header, or NS_PKT_NO_HDR */
            transport_hdr; /**< offset from head of the transport header, or NS_PKT_NO_HDR */
        /** NIC the packet arrived on or leaves by; 0 means none. */
        uint32_t nic_id;
        /** NS_PKT_F_* bits. */
        uint32_t flags;
        /** Filter mark. */
        uint32_t mark;
        /** Ethertype of the network header (0x0800 IPv4, 0x0806 ARP); 0 if unknown. */
        uint16_t net_proto;
        /** IP protocol number once known; 0 until then. */
        uint8_t transport_proto;
        /** The pool the packet returns to. */
        struct ns_pkt_pool *pool;
        /**
         * Link-layer destination (Ethernet MAC) chosen by neighbour
         * resolution on the way out; meaningful while NS_PKT_F_LINK_DST is
         * set. Not copied by ns_pkt_copy() or fragmentation: the NIC sets it
         * on each packet just before the link.
         */
        uint8_t link_dst[6];
};

/** Packet flags (struct ns_pkt.flags). */
enum {
        /** The transport checksum has already been validated. */
        NS_PKT_F_CSUM_VERIFIED = 1u << 0,
        /** Received as a broadcast (the seed's LocalAddressBroadcast). */
        NS_PKT_F_LOCAL_BCAST = 1u << 1,
        /** Delivered by the local loop. */
        NS_PKT_F_LOOPED = 1u << 2,
        /** A filter hook rewrote the destination. */
        NS_PKT_F_NAT_DONE = 1u << 3,
        /** Arrived in a link-layer broadcast or multicast frame. */
        NS_PKT_F_LINK_BCAST = 1u << 4,
        /** Being forwarded. */
        NS_PKT_F_FORWARDED = 1u << 5,
        /** link_dst holds the frame's destination (set by resolution). */
        NS_PKT_F_LINK_DST = 1u << 6,
};

/** Pool limits. Zero in any field means its default. */
struct ns_pkt_pool_config {
        /**
         * Packet structs kept for reuse, and storage buffers kept for reuse
         * in each size class. 0 means the defaults: 1024 packet structs and
         * 2 KiB buffers (a datagram of 500 tiny fragments must not fall back
         * to malloc), 256 16 KiB buffers, 32 64 KiB buffers (2 MiB).
         */
        uint32_t max_cached;
        /** Hard cap on live packets (clones count); 0 means unlimited. */
        uint32_t max_in_use;
        /**
         * Hard cap on live storage bytes, counted as the capacity of each
         * live buffer (a clone adds nothing); 0 means unlimited.
         */
        uint64_t max_bytes;
};

/**
 * Creates a pool. All of its memory comes from a, which is copied (NULL
 * means the C library's malloc and free). cfg may be NULL for the defaults.
 * Returns NULL when the allocator refuses.
 */
NS_API struct ns_pkt_pool *ns_pkt_pool_create(const struct ns_allocator *a,
                                              const struct ns_pkt_pool_config *cfg);

/**
 * Destroys a pool and frees the memory it caches. NULL is ignored.
 *
 * Packets still live at this point are a bug in the caller, but they stay
 * valid: the pool stops handing out packets (alloc, clone, copy into it and
 * make_writable fail), returns each remaining packet's memory to the
 * allocator as it is freed, and frees itself when the last one is freed.
 */
NS_API void ns_pkt_pool_destroy(struct ns_pkt_pool *pool);

/**
 * Returns every cached packet struct and buffer to the allocator, for an
 * embedder that wants memory back after a burst. Live packets are untouched.
 */
NS_API void ns_pkt_pool_shrink(struct ns_pkt_pool *pool);

/** Pool counters, copied out by ns_pkt_pool_get_stats(). */
struct ns_pkt_pool_stats {
        /** Packets handed out (ns_pkt_alloc, ns_pkt_clone, ns_pkt_copy and friends). */
        uint64_t allocs;
        /** Packets freed. */
        uint64_t frees;
        /** Requests refused by a cap, a dead pool or the allocator. */
        uint64_t alloc_failures;
        /** Calls into the allocator, successful or not. */
        uint64_t mallocs;
        /** Live packets (allocs - frees). */
        uint32_t in_use;
        /** Storage buffers held for reuse, over all size classes. */
        uint32_t cached;
        /** Live storage bytes (capacity of every live buffer). */
        uint64_t bytes_in_use;
        /** Highest bytes_in_use seen. */
        uint64_t peak_bytes_in_use;
        /** Packet structs held for reuse. */
        uint32_t cached_pkts;
        /** Bytes of storage held for reuse. */
        uint64_t cached_bytes;
};

/** Copies the pool's counters into *out. */
NS_API void ns_pkt_pool_get_stats(const struct ns_pkt_pool *pool, struct ns_pkt_pool_stats *out);

/**
 * Returns a new packet with `headroom` bytes before the data and room for at
 * least `size` bytes of data after it; len is 0, header offsets are unset,
 * metadata is zero. The caller owns the one reference. Returns NULL when
 * headroom + size does not fit in 32 bits, a pool cap would be exceeded, the
 * pool is destroyed, or the allocator refuses.
 */
NS_API struct ns_pkt *ns_pkt_alloc(struct ns_pkt_pool *pool, uint32_t headroom, uint32_t size);

/**
 * Like ns_pkt_alloc(pool, headroom, len) followed by copying len bytes from
 * data as the packet's data. data may be NULL only when len is 0.
 */
NS_API struct ns_pkt *ns_pkt_from_bytes(struct ns_pkt_pool *pool, uint32_t headroom,
                                        const void *data, uint32_t len);

/**
 * Consumes pkt: drops this reference. The packet struct returns to its pool,
 * and so does the storage when no clone still refers to it. NULL is ignored.
 * pkt->next is not followed (see ns_pkt_list_free()).
 */
NS_API void ns_pkt_free(struct ns_pkt *pkt);

/** Returns the first data byte. */
static inline uint8_t *ns_pkt_data(const struct ns_pkt *p)
{
        return p->head + p->off;
}

/** Returns the number of data bytes. */
static inline uint32_t ns_pkt_len(const struct ns_pkt *p)
{
        return p->len;
}

/** Returns the bytes free before the data. */
static inline uint32_t ns_pkt_headroom(const struct ns_pkt *p)
{
        return p->off;
}

/** Returns the bytes free after the data. */
static inline uint32_t ns_pkt_tailroom(const struct ns_pkt *p)
{
        return p->cap - p->off - p->len;
}

/**
 * Prepends n bytes from the headroom and returns the new data start, or
 * returns NULL and leaves p unchanged when the headroom is less than n.
 * Never reallocates. The caller writes the new bytes, so the storage must
 * not be shared (ns_pkt_make_writable()).
 */
static inline uint8_t *ns_pkt_push(struct ns_pkt *p, uint32_t n)
{
        if (n > p->off)
                return NULL;
        p->off -= n;
        p->len += n;
        return p->head + p->off;
}

/**
 * Drops n bytes from the front of the data and returns the new data start,
 * or returns NULL and leaves p unchanged when len < n. Header marks stay
 * where they were.
 */
static inline uint8_t *ns_pkt_pull(struct ns_pkt *p, uint32_t n)
{
        if (n > p->len)
                return NULL;
        p->off += n;
        p->len -= n;
        return p->head + p->off;
}

/**
 * Appends n bytes at the tail and returns a pointer to the first of them,
 * or returns NULL and leaves p unchanged when the tailroom is less than n.
 * The caller writes the new bytes, so the storage must not be shared.
 */
static inline uint8_t *ns_pkt_put(struct ns_pkt *p, uint32_t n)
{
        uint8_t *tail;

        if (n > p->cap - p->off - p->len)
                return NULL;
        tail = p->head + p->off + p->len;
        p->len += n;
        return tail;
}

/** Shrinks the data to len bytes; does nothing when it is not longer. */
static inline void ns_pkt_trim(struct ns_pkt *p, uint32_t len)
{
        if (len < p->len)
                p->len = len;
}

/**
 * Moves the (empty) data start n bytes further from head, growing the
 * headroom by n at the cost of tailroom. Only meaningful on an empty packet:
 * it does nothing when p has data or less than n bytes of tailroom.
 */
static inline void ns_pkt_reserve(struct ns_pkt *p, uint32_t n)
{
        if (p->len == 0 && n <= p->cap - p->off)
                p->off += n;
}

/** Marks the current data start as the link-layer header. */
static inline void ns_pkt_set_link_header(struct ns_pkt *p)
{
        p->link_hdr = p->off;
}

/** Marks the current data start as the network header. */
static inline void ns_pkt_set_network_header(struct ns_pkt *p)
{
        p->net_hdr = p->off;
}

/** Marks the current data start as the transport header. */
static inline void ns_pkt_set_transport_header(struct ns_pkt *p)
{
        p->transport_hdr = p->off;
}

/** Returns the link-layer header, or NULL when it was never marked. */
static inline uint8_t *ns_pkt_link_header(const struct ns_pkt *p)
{
        return p->link_hdr == NS_PKT_NO_HDR ? NULL : p->head + p->link_hdr;
}

/** Returns the network header, or NULL when it was never marked. */
static inline uint8_t *ns_pkt_network_header(const struct ns_pkt *p)
{
        return p->net_hdr == NS_PKT_NO_HDR ? NULL : p->head + p->net_hdr;
}

/** Returns the transport header, or NULL when it was never marked. */
static inline uint8_t *ns_pkt_transport_header(const struct ns_pkt *p)
{
        return p->transport_hdr == NS_PKT_NO_HDR ? NULL : p->head + p->transport_hdr;
}

/**
 * Returns a new packet from p's pool that shares p's storage (one more
 * reference) with the same offsets, header marks and metadata; its next is
 * NULL. Borrows p. Returns NULL when the pool refuses a packet struct.
 * Neither packet may write the shared bytes until it has called
 * ns_pkt_make_writable().
 */
NS_API struct ns_pkt *ns_pkt_clone(struct ns_pkt *p);

/** Returns whether another packet shares p's storage. */
NS_API bool ns_pkt_is_shared(const struct ns_pkt *p);

/**
 * Makes p the only user of its storage. When the storage is shared, copies
 * it into a new buffer from p's pool of the same capacity, keeping every
 * offset (the bytes from the earliest marked header through the end of the
 * data are copied) and leaving the other holders untouched. Returns 0, or
 * NS_ERR_NO_BUFFER_SPACE with p unchanged and still valid when the pool
 * refuses.
 */
NS_API int ns_pkt_make_writable(struct ns_pkt *p);

/**
 * Returns a deep copy of p taken from `pool` (which may differ from p's).
 * The copied bytes run from the earliest marked header at or before the
 * data start through the end of the data, and `headroom` bytes precede
 * them, so the copy's headroom is headroom plus the size of those headers
 * and its header marks point at the same bytes as p's. A mark past the end
 * of the data is dropped (NS_PKT_NO_HDR). Metadata (nic_id, flags, mark,
 * net_proto, transport_proto) is copied; next is NULL. Borrows p. Returns
 * NULL when the pool refuses.
 */
NS_API struct ns_pkt *ns_pkt_copy(struct ns_pkt_pool *pool, const struct ns_pkt *p,
                                  uint32_t headroom);

/** A FIFO of packets linked through ->next. Zero-initialised is empty. */
struct ns_pkt_list {
        struct ns_pkt *head, /**< first packet, or NULL when empty */
            *tail;           /**< last packet, or NULL when empty */
        /** Packets in the list. */
        uint32_t count;
};

/** Makes l empty (without freeing anything it held). */
static inline void ns_pkt_list_init(struct ns_pkt_list *l)
{
        l->head = NULL;
        l->tail = NULL;
        l->count = 0;
}

/** Returns whether l holds no packet. */
static inline bool ns_pkt_list_empty(const struct ns_pkt_list *l)
{
        return l->head == NULL;
}

/** Appends p to l; the list takes the caller's reference. */
static inline void ns_pkt_list_push_back(struct ns_pkt_list *l, struct ns_pkt *p)
{
        p->next = NULL;
        if (l->tail)
                l->tail->next = p;
        else
                l->head = p;
        l->tail = p;
        l->count++;
}

/** Prepends p to l; the list takes the caller's reference. */
static inline void ns_pkt_list_push_front(struct ns_pkt_list *l, struct ns_pkt *p)
{
        p->next = l->head;
        l->head = p;
        if (!l->tail)
                l->tail = p;
        l->count++;
}

/**
 * Removes and returns the first packet (its next is NULL), or NULL when l is
 * empty. The caller gets the list's reference.
 */
static inline struct ns_pkt *ns_pkt_list_pop_front(struct ns_pkt_list *l)
{
        struct ns_pkt *p = l->head;

        if (!p)
                return NULL;
        l->head = p->next;
        if (!l->head)
                l->tail = NULL;
        l->count--;
        p->next = NULL;
        return p;
}

/**
 * Inserts p after pos, which must be in l; pos NULL inserts at the front.
 * The list takes the caller's reference.
 */
NS_API void ns_pkt_list_insert_after(struct ns_pkt_list *l, struct ns_pkt *pos, struct ns_pkt *p);

/**
 * Unlinks p from l in O(n) and sets its next to NULL; the caller gets the
 * list's reference. Does nothing when p is not in l.
 */
NS_API void ns_pkt_list_remove(struct ns_pkt_list *l, struct ns_pkt *p);

/** Consumes every packet in l (ns_pkt_free()) and leaves l empty. */
NS_API void ns_pkt_list_free(struct ns_pkt_list *l);

#ifdef __cplusplus
}
#endif

#endif
