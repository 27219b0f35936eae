/*
 * The path-MTU cache (RFC 1191): what a received ICMP fragmentation-needed
 * taught us about the MTU towards one destination, for the local send path.
 * Linux keeps these as route exceptions (fib_nh_exception) with a floor
 * (net.ipv4.route.min_pmtu, 552) and a lifetime (mtu_expires, 600 s); this
 * is the same rule in a fixed table.
 *
 * The table is direct mapped: a destination has one slot, chosen by a hash,
 * and a newer destination takes a slot from an older one. Memory is bounded
 * whatever peers send, and a lookup is one slot compare. Forwarded packets
 * never consult it (Linux ip_forward_use_pmtu defaults to 0).
 */
#ifndef NS_IPV4_PMTU_H
#define NS_IPV4_PMTU_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/addr.h>

/** Slots in the cache (a power of two). */
#define NS_PMTU_SLOTS 256

/** Linux's min_pmtu: the least MTU a fragmentation-needed may teach us. */
#define NS_PMTU_MIN_DEFAULT 552

/** Linux's mtu_expires: a learnt MTU is forgotten after ten minutes. */
#define NS_PMTU_TIMEOUT_DEFAULT_NS (600LL * 1000000000LL)

struct ns_pmtu_entry {
        ns_ip4 dst;         /**< 0: the slot is free */
        uint32_t mtu;       /**< learnt path MTU, bytes of IPv4 datagram */
        int64_t expires_ns; /**< stack time when the entry stops counting */
};

struct ns_pmtu {
        /** Slots in use, counting expired entries not yet seen by a lookup. */
        uint32_t used;
        /** Floor of a learnt MTU, 68..65535. */
        uint32_t min_mtu;
        /** Lifetime of an entry, > 0. */
        int64_t timeout_ns;
        struct ns_pmtu_entry slot[NS_PMTU_SLOTS];
};

/** Empties the cache and sets the defaults. */
void ns__pmtu_init(struct ns_pmtu *c);

/**
 * Records that the path to dst carries at most `reported` bytes (the MTU
 * field of a fragmentation-needed), floored at min_mtu, at time now_ns. As
 * Linux's __ip_rt_update_pmtu, a live entry is only ever lowered (an equal
 * report refreshes its lifetime). Returns the floored MTU.
 */
uint32_t ns__pmtu_learn(struct ns_pmtu *c, ns_ip4 dst, uint32_t reported, int64_t now_ns);

/**
 * The learnt MTU towards dst at now_ns, or 0 when none is live. An expired
 * entry found here is freed.
 */
uint32_t ns__pmtu_get(struct ns_pmtu *c, ns_ip4 dst, int64_t now_ns);

#endif
