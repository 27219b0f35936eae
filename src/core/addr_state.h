/*
 * The addresses of one network endpoint (one NIC's IPv4 endpoint), after
 * gVisor's stack.AddressableEndpointState as the seed uses it.
 *
 * Entries and references. Every address is a heap-allocated struct
 * ns_addr_entry with a reference count; pointers to entries stay valid for
 * as long as the holder keeps its reference. An entry is one of:
 *
 *   NS_ADDR_PERMANENT          added by the user; the state itself holds
 *                              one reference for as long as it stays so.
 *   NS_ADDR_PERMANENT_EXPIRED  a permanent address that was removed while
 *                              someone still held it (a route, a socket);
 *                              it stays until the last release.
 *   NS_ADDR_TEMPORARY          created on demand by ns__addr_acquire_assigned
 *                              (promiscuous or spoofing receive); it stays
 *                              until the last release.
 *
 * An entry is freed when its count reaches zero, which only expired and
 * temporary entries can do. Every function that returns an entry returns it
 * acquired: the caller owes one ns__addr_release().
 *
 * Primary order. Entries added with NS_PEB_FIRST_PRIMARY go to the front
 * of the primary list, NS_PEB_CAN_BE_PRIMARY to the back, NS_PEB_NEVER_PRIMARY
 * nowhere. As in gVisor, an entry keeps its place while expired (so that an
 * address still held can be chosen with allow_expired, and a re-added one
 * keeps its position), but the lists, ns__addr_main() and outgoing
 * selection without allow_expired report permanent entries only.
 *
 * Bounds: at most NS_ADDR_MAX_PER_NIC permanent entries and at most
 * NS_ADDR_MAX_TRANSIENT expired plus temporary ones, so nothing a peer
 * sends can grow the table without bound.
 */
#ifndef NS_CORE_ADDR_STATE_H
#define NS_CORE_ADDR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>
#include <netstack/alloc.h>

/** Most permanent addresses on one endpoint. */
#define NS_ADDR_MAX_PER_NIC 64
/** Most expired plus temporary entries on one endpoint. */
#define NS_ADDR_MAX_TRANSIENT 64
/** Capacity of the entry table. */
#define NS_ADDR_MAX_ENTRIES (NS_ADDR_MAX_PER_NIC + NS_ADDR_MAX_TRANSIENT)

/** Primary endpoint behaviour of an address (gVisor PrimaryEndpointBehavior). */
enum ns_peb {
        NS_PEB_CAN_BE_PRIMARY, /**< joins the back of the primary list */
        NS_PEB_FIRST_PRIMARY,  /**< joins the front of the primary list */
        NS_PEB_NEVER_PRIMARY,  /**< never a source address by default */
};

/** Lifecycle of an entry; see the top of this file. */
enum ns_addr_kind {
        NS_ADDR_PERMANENT,
        NS_ADDR_PERMANENT_EXPIRED,
        NS_ADDR_TEMPORARY,
};

/** One address. Fields are read-only outside addr_state.c. */
struct ns_addr_entry {
        struct ns_ip4_prefix pfx; /**< address and its subnet */
        enum ns_peb peb;
        enum ns_addr_kind kind;
        bool deprecated; /**< avoided as a source while others exist */
        uint32_t refs;   /**< holders, including the state for permanent ones */
};

/** The address table of one endpoint. Embed it; init before use. */
struct ns_addr_state {
        struct ns_allocator alloc;
        /** Entries in the order they were created. */
        struct ns_addr_entry *entries[NS_ADDR_MAX_ENTRIES];
        uint32_t n_entries;
        /** The primary list, front first (may include expired and
         * temporary entries; see above). */
        struct ns_addr_entry *primary[NS_ADDR_MAX_ENTRIES];
        uint32_t n_primary;
        uint32_t n_permanent;
        /*
         * The permanent addresses again as flat arrays, for matching a
         * packet's addresses without chasing entry pointers: address, mask,
         * and subnet broadcast (the address itself where the subnet has
         * none, RFC 3021). Kept in step with `kind` by addr_state.c.
         */
        uint32_t n_fast;
        ns_ip4 fast_addr[NS_ADDR_MAX_PER_NIC];
        ns_ip4 fast_mask[NS_ADDR_MAX_PER_NIC];
        ns_ip4 fast_bcast[NS_ADDR_MAX_PER_NIC];
        struct ns_addr_entry *fast_entry[NS_ADDR_MAX_PER_NIC];
        /*
         * A one-word Bloom filter of fast_addr and fast_bcast: bit
         * ns__addr_bloom_bit(a) is set for each. A clear bit proves that a
         * is neither an address nor a subnet broadcast here, so per-packet
         * scans over every NIC can pass a NIC over in one test.
         */
        uint64_t fast_bloom;
        /*
         * When not NULL, incremented on every change to the entries: one
         * added, promoted, removed, freed or (un)deprecated. ns_nic_create()
         * points it at the stack's route generation (route_table.h), which
         * the paths ns__stack_find_route() remembers are checked against.
         */
        uint64_t *gen;
};

/**
 * The bit of ns_addr_state.fast_bloom that address a sets: the top six bits
 * of a multiply, xor-shift, multiply mix, so that neighbouring addresses
 * (a host and its peer, a subnet's broadcast) spread over the word.
 */
static inline uint64_t ns__addr_bloom_bit(ns_ip4 a)
{
        uint32_t x = a * 0x9e3779b1u;
        x ^= x >> 16;
        x *= 0x85ebca6bu;
        return (uint64_t)1 << (x >> 26);
}

/** True when a lies in p's subnet (p.addr need not be masked). */
static inline bool ns_ip4_prefix_contains(struct ns_ip4_prefix p, ns_ip4 a)
{
        ns_ip4 m = ns_ip4_mask(p.prefix_len);
        return (a & m) == (p.addr & m);
}

/**
 * True when a is the directed broadcast address of p's subnet: the
 * all-ones host. /31 and /32 have none (RFC 3021 section 2.1: both /31
 * addresses are host addresses; /32 is a host route), as in gVisor's
 * Subnet.IsBroadcast and Linux.
 */
static inline bool ns_ip4_prefix_is_broadcast(struct ns_ip4_prefix p, ns_ip4 a)
{
        return p.prefix_len <= 30 && a == (p.addr | ~ns_ip4_mask(p.prefix_len));
}

/** Makes s empty; a (copied) supplies entry memory, NULL means malloc. */
void ns__addr_state_init(struct ns_addr_state *s, const struct ns_allocator *a);

/**
 * Removes every address and frees every entry, whether or not references
 * are still held (the endpoint is going away; holders must not use their
 * pointers afterwards).
 */
void ns__addr_state_cleanup(struct ns_addr_state *s);

/**
 * Adds pfx as a permanent address and returns its entry acquired for the
 * caller (who releases it when done; the address stays). An existing
 * expired or temporary entry of the same address is promoted in place, as
 * gVisor does: it takes the new prefix length, deprecation and behaviour,
 * and keeps its primary slot when peb allows. On failure returns NULL and
 * sets *err (if err is not NULL) to NS_ERR_DUPLICATE_ADDRESS (already
 * permanent), NS_ERR_INVALID_ARGUMENT (prefix_len > 32 or bad peb),
 * NS_ERR_NO_BUFFER_SPACE (NS_ADDR_MAX_PER_NIC reached) or NS_ERR_NO_MEMORY;
 * on success *err is 0.
 */
struct ns_addr_entry *ns__addr_add_permanent(struct ns_addr_state *s, struct ns_ip4_prefix pfx,
                                             enum ns_peb peb, bool deprecated, int *err);

/**
 * Removes the permanent address addr: the entry becomes expired and drops
 * the state's reference; it is freed at once if nobody else holds it.
 * Returns 0, or NS_ERR_BAD_LOCAL_ADDRESS when addr is not permanent here.
 */
int ns__addr_remove_permanent(struct ns_addr_state *s, ns_ip4 addr);

/** Sets the deprecation of an existing entry. NS_ERR_BAD_LOCAL_ADDRESS if none. */
int ns__addr_set_deprecated(struct ns_addr_state *s, ns_ip4 addr, bool deprecated);

/** Predicate for ns__addr_acquire_assigned(): does entry e answer for addr? */
typedef bool (*ns_addr_match_fn)(const struct ns_addr_entry *e, ns_ip4 addr, void *ctx);

/**
 * The entry that makes addr local (gVisor AcquireAssignedAddressOrMatching),
 * tried in this order:
 *  1. the entry for exactly addr, if permanent; or, only when allow_temp,
 *     if temporary or expired (an expired address still held is accepted
 *     wherever a temporary one would be created, as in gVisor);
 *  2. else the first permanent entry, in creation order, for which
 *     match(e, addr, ctx) is true (match may be NULL). The IPv4 layer
 *     passes "addr is e's subnet broadcast, or the NIC is loopback and e's
 *     subnet contains addr";
 *  3. else, when allow_temp and no entry for addr exists, a new temporary
 *     addr/32 with behaviour temp_peb, freed at its last release.
 * Returns the entry acquired, or NULL (also when a temporary cannot be
 * created: NS_ADDR_MAX_TRANSIENT reached or no memory).
 */
struct ns_addr_entry *ns__addr_acquire_assigned(struct ns_addr_state *s, ns_ip4 addr,
                                                ns_addr_match_fn match, void *ctx, bool allow_temp,
                                                enum ns_peb temp_peb);

/** Takes one more reference on e. */
static inline void ns__addr_acquire(struct ns_addr_entry *e)
{
        e->refs++;
}

/** The slow path of ns__addr_release(): e holds at most one reference. */
void ns__addr_release_last(struct ns_addr_state *s, struct ns_addr_entry *e);

/**
 * Drops one reference on e; an expired or temporary entry whose count
 * reaches zero is removed and freed. e must have come from s. Inline for
 * the per-packet case: a permanent address held by a path keeps at least
 * the state's reference, so only a count of one or zero needs a call.
 */
static inline void ns__addr_release(struct ns_addr_state *s, struct ns_addr_entry *e)
{
        if (e->refs > 1) {
                e->refs--;
                return;
        }
        ns__addr_release_last(s, e);
}

/**
 * Rule 1 of ns__addr_acquire_assigned() for a permanent address alone: the
 * permanent entry for exactly addr, acquired, or NULL, found in the flat
 * arrays. An address has one entry whatever its kind, so when this finds
 * one, ns__addr_acquire_assigned() returns the same entry; when it does
 * not, the caller asks ns__addr_acquire_assigned() for the other rules.
 */
static inline struct ns_addr_entry *ns__addr_acquire_permanent(struct ns_addr_state *s, ns_ip4 addr)
{
        for (uint32_t i = 0; i < s->n_fast; i++) {
                if (s->fast_addr[i] == addr) {
                        struct ns_addr_entry *e = s->fast_entry[i];
                        e->refs++;
                        return e;
                }
        }
        return NULL;
}

/**
 * Chooses the source address for a packet to remote among the primary
 * entries that are permanent (or expired, when allow_expired; temporary
 * entries never qualify, unlike gVisor, since Linux has no such source).
 * Non-deprecated entries beat deprecated ones; within each, as Linux's
 * inet_select_addr() does, the first entry whose subnet contains remote
 * beats the first in primary order. remote 0 means no preference. Returns
 * the entry acquired, or NULL when there is no candidate.
 */
struct ns_addr_entry *ns__addr_acquire_outgoing_primary(struct ns_addr_state *s, ns_ip4 remote,
                                                        bool allow_expired);

/**
 * The endpoint's main address (the seed's MainAddress): the first
 * permanent primary entry, a non-deprecated one preferred; {0, 0} when
 * there is none.
 */
struct ns_ip4_prefix ns__addr_main(const struct ns_addr_state *s);

/**
 * Copies the permanent primary addresses, in primary order, into out (at
 * most max). Returns how many there are, which may exceed max.
 */
size_t ns__addr_primary_list(const struct ns_addr_state *s, struct ns_ip4_prefix *out, size_t max);

/**
 * Copies all permanent addresses (any behaviour), in the order their
 * entries were created (a re-added address keeps its old place while its
 * expired entry was still held), into out (at most max). Returns how many
 * there are.
 */
size_t ns__addr_permanent_list(const struct ns_addr_state *s, struct ns_ip4_prefix *out,
                               size_t max);

/** True when addr is exactly a permanent address here. */
bool ns__addr_has_assigned(const struct ns_addr_state *s, ns_ip4 addr);

/**
 * Returns the entry for exactly addr, whatever its kind, without acquiring
 * it (valid until the next call that can free entries), or NULL.
 */
struct ns_addr_entry *ns__addr_find(const struct ns_addr_state *s, ns_ip4 addr);

#endif
