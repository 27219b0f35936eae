/*
 * The IPv4 routing table of a stack: longest-prefix match over routes that
 * each name a NIC and, for off-link destinations, a gateway.
 *
 * Layout: one array kept sorted by (prefix length descending, destination,
 * metric, insertion order), plus the start of each prefix length's run. A
 * lookup tries each prefix length present, longest first, and binary
 * searches that run for the destination masked to that length; the first
 * acceptable route found is the answer. That is at most 33 small binary
 * searches whatever the size of the table, and a handful of comparisons for
 * the usual two or three routes. Changes are O(n) (array insertion), which
 * suits tables changed by configuration and read per packet.
 */
#ifndef NS_CORE_ROUTE_TABLE_H
#define NS_CORE_ROUTE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>
#include <netstack/alloc.h>

/** One route. */
struct ns_route {
        struct ns_ip4_prefix dst; /**< destination subnet (host bits are cleared on add) */
        ns_ip4 gateway;           /**< next hop; 0 means on-link */
        uint32_t nic_id;          /**< outgoing NIC; never 0 */
        uint32_t metric;          /**< lower wins among equal prefixes */
        uint32_t mtu;             /**< path MTU; 0 means the NIC's */
};

/** A route and the order it was added in. */
struct ns_route_slot {
        struct ns_route route;
        uint64_t seq;
};

struct ns_nic;
struct ns_addr_entry;

/**
 * The last send path ns__stack_find_route() resolved by its short path
 * (find_route.c): the question (nic_id, local, remote, multicast_loop) and
 * the answer, valid while the table's `gen` and the stack's NIC count are
 * what they were and the NIC is enabled. `entry` is a permanent address
 * entry, held by nobody on the memo's behalf: any change that could free
 * it changes `gen` first.
 */
struct ns_route_memo {
        bool valid;
        bool multicast_loop;
        uint32_t nic_id;
        ns_ip4 local, remote;
        uint64_t gen;
        uint32_t nic_count;
        struct ns_nic *nic;
        struct ns_addr_entry *entry;
        ns_ip4 path_local, next_hop;
        uint32_t loop, route_mtu;
};

/** The table. Embed it; init before use. */
struct ns_route_table {
        struct ns_allocator alloc;
        struct ns_route_slot *slots; /**< sorted; see above */
        uint32_t count, cap;
        uint64_t next_seq;
        /** Routes with prefix length L occupy slots [start[32 - L], start[33 - L]). */
        uint32_t start[34];
        /**
         * Bit g is set when group g (prefix length 32 - g) holds a route, so
         * a lookup visits only the lengths present; kept with start[].
         */
        uint64_t groups;
        /*
         * One-entry lookup cache: the first route in lookup order to
         * cache_dst through cache_nic (0: any), before the caller's ok()
         * filter, as slot index + 1 (0: there is none). Valid while
         * cache_valid; every change to the table clears it.
         */
        bool cache_valid;
        ns_ip4 cache_dst;
        uint32_t cache_nic;
        uint32_t cache_slot;
        /*
         * Generation of everything a resolved send path depends on: bumped
         * by every change to this table and, through ns_addr_state.gen, by
         * every change to a NIC's addresses.
         */
        uint64_t gen;
        struct ns_route_memo memo;
        /*
         * The union of every NIC's address Bloom filter (ns_addr_state.
         * fast_bloom), and whether some NIC is loopback (its subnets are in
         * no filter), as of generation local_gen with local_nics NICs:
         * rebuilt by ns__route_local_rebuild() when either moved.
         */
        bool local_valid;
        bool local_loopback;
        uint32_t local_nics;
        uint64_t local_gen;
        uint64_t local_bloom;
};

struct ns_stack;

/**
 * Rebuilds s->routes.local_bloom and local_loopback from every NIC
 * (find_route.c; each NIC's address table reports its changes to
 * s->routes.gen from ns_nic_create() on). A clear bit of local_bloom then proves, while gen and
 * the NIC count stay, that no NIC has that address or subnet broadcast.
 */
void ns__route_local_rebuild(struct ns_stack *s);

/** Makes t empty; a (copied) supplies memory, NULL means malloc. */
void ns__route_table_init(struct ns_route_table *t, const struct ns_allocator *a);

/** Frees every route. */
void ns__route_table_destroy(struct ns_route_table *t);

/**
 * Adds a copy of r, with the host bits of r->dst cleared. Returns 0;
 * NS_ERR_INVALID_ARGUMENT when the prefix length exceeds 32 or nic_id is 0;
 * NS_ERR_ALREADY_EXISTS when a route with the same (dst, gateway, nic_id)
 * exists, whatever its metric; NS_ERR_NO_MEMORY when the table cannot grow.
 * Invalidates pointers returned by ns__route_lookup().
 */
int ns__route_add(struct ns_route_table *t, const struct ns_route *r);

/**
 * Deletes one route to exactly dst (host bits ignored; prefix length must
 * match) whose gateway and NIC match, where gateway 0 and nic_id 0 match
 * any. Like Linux's `ip route del`, only the first match in lookup order
 * (lowest metric, then oldest) goes. Returns 0 or NS_ERR_NOT_FOUND.
 */
int ns__route_del(struct ns_route_table *t, struct ns_ip4_prefix dst, ns_ip4 gateway,
                  uint32_t nic_id);

/** Deletes every route through nic_id (the NIC is being removed). */
/**
 * Like ns__route_del() but gateway and nic_id match exactly (0 means "no
 * gateway", not "any"): removes the connected route of an address without
 * touching a gateway route to the same prefix.
 */
int ns__route_del_exact(struct ns_route_table *t, struct ns_ip4_prefix dst, ns_ip4 gateway,
                        uint32_t nic_id);

void ns__route_del_nic(struct ns_route_table *t, uint32_t nic_id);

/** Filter for ns__route_lookup(): may a route through nic_id be used now? */
typedef bool (*ns_route_nic_ok_fn)(uint32_t nic_id, void *ctx);

/**
 * The route for dst: the longest prefix containing dst; among equal
 * prefixes the lowest metric, then the oldest. Routes through other NICs
 * than nic_id (unless it is 0) and routes whose NIC fails ok(nic, ctx)
 * (when ok is not NULL; the stack passes "NIC exists and is enabled") are
 * skipped, and the search goes on to the next candidate, shorter prefixes
 * included. Returns a pointer into the table, valid until the next change
 * to it, or NULL when nothing matches.
 *
 * The first candidate (the route the answer is when ok() accepts it) is a
 * function of the table, dst and nic_id alone, so the table remembers it
 * for the last (dst, nic_id) asked, until the table changes. ok() is
 * called on every lookup, cached or not, so NIC and address state never
 * go stale: only a refused first candidate takes the full search again.
 */
const struct ns_route *ns__route_lookup(struct ns_route_table *t, ns_ip4 dst, uint32_t nic_id,
                                        ns_route_nic_ok_fn ok, void *ctx);

/**
 * The cached first candidate of ns__route_lookup(t, dst, nic_id, ...) when
 * the cache holds one for exactly (dst, nic_id), else NULL. A caller that
 * gets a route checks it as its ok() would and, when that refuses it (or
 * on NULL), calls ns__route_lookup(), which answers the same as without
 * this shortcut. Saves the call and the search on the per-packet path.
 */
static inline const struct ns_route *ns__route_cached(const struct ns_route_table *t, ns_ip4 dst,
                                                      uint32_t nic_id)
{
        if (t->cache_valid && t->cache_dst == dst && t->cache_nic == nic_id && t->cache_slot)
                return &t->slots[t->cache_slot - 1].route;
        return NULL;
}

/**
 * Copies up to max routes into out, in lookup order (longest prefix first).
 * Returns the number of routes in the table, which may exceed max.
 */
size_t ns__route_list(const struct ns_route_table *t, struct ns_route *out, size_t max);

/** Returns the number of routes. */
static inline size_t ns__route_count(const struct ns_route_table *t)
{
        return t->count;
}

#endif
