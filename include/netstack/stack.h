/**
 * @file
 * The stack: NICs, addresses, routes, timers and the protocols attached to
 * them. One thread drives a stack at a time; nothing here takes a lock.
 * Time and randomness come from the clock and RNG in the config, and timers
 * fire only from ns_stack_poll().
 */
#ifndef NETSTACK_STACK_H
#define NETSTACK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>
#include <netstack/alloc.h>
#include <netstack/clock.h>
#include <netstack/rng.h>
#include <netstack/pkt.h>
#include <netstack/link.h>
#include <netstack/stats.h>

/** A stack: created by ns_stack_create(), driven by one thread at a time; opaque. */
struct ns_stack;
#include <netstack/ratelimit.h>

/**
 * A protocol module (IPv4, ARP, UDP, ...). The stack calls attach() once at
 * creation, in the order of ns_stack_config.modules, and detach() in
 * reverse order at destruction. Modules are listed in their own headers
 * (ns_module_ipv4 in <netstack/ipv4.h>, ...).
 */
struct ns_module {
        /** Short name ("ipv4", "arp", ...), static. */
        const char *name;
        /** Registers the module's protocols; returns 0 or a negative ns_err. */
        int (*attach)(struct ns_stack *s);
        /** Frees everything attach() made. */
        void (*detach)(struct ns_stack *s);
};

/** Maximum number of modules in one stack. */
#define NS_STACK_MAX_MODULES 16

/** What a stack is made of. Zero-initialise, then fill. */
struct ns_stack_config {
        /** Time source (required). */
        struct ns_clock clock;
        /** Randomness (required): IP ID seeds, timer jitter, hash keys. */
        struct ns_rng rng;
        /** Memory hooks; NULL means malloc/free. */
        const struct ns_allocator *alloc;
        /** Packet pool limits (zero fields take the defaults). */
        struct ns_pkt_pool_config pool;
        /** NULL-terminated list of modules to attach; NULL attaches none. */
        const struct ns_module *const *modules;
        /**
         * The seed's HandleLocal: packets to one of the stack's own addresses
         * are looped back instead of sent. Set by ns_stack_config_init().
         */
        bool handle_local;
        /**
         * ICMP error rate limits (global and per destination; see
         * <netstack/ratelimit.h>), copied at creation. NULL takes the defaults:
         * 1000/s with a burst of 50 overall, 1/s with a burst of 6 per
         * destination for Linux's icmp_ratemask 6168. ns_stack_create()
         * returns NS_ERR_INVALID_ARGUMENT when the limits are inconsistent.
         */
        const struct ns_icmp_ratelimit_config *icmp_ratelimit;
};

/** Fills cfg with the defaults (handle_local on, everything else zero). */
NS_API void ns_stack_config_init(struct ns_stack_config *cfg);

/**
 * Creates a stack. Returns 0 and sets *out, or NS_ERR_INVALID_ARGUMENT (no
 * clock or RNG, too many modules), NS_ERR_NO_MEMORY, or a module's error.
 */
NS_API int ns_stack_create(const struct ns_stack_config *cfg, struct ns_stack **out);

/** Destroys a stack: detaches modules, removes NICs, frees all packets held. */
NS_API void ns_stack_destroy(struct ns_stack *s);

/**
 * Fires every timer that is due at the clock's current time and returns the
 * next deadline (monotonic nanoseconds, INT64_MAX when no timer is armed).
 * A caller sleeps until then or until a link has input.
 */
NS_API int64_t ns_stack_poll(struct ns_stack *s);

/** The stack's packet pool, for links and callers building packets. */
NS_API struct ns_pkt_pool *ns_stack_pool(struct ns_stack *s);

/**
 * Copies the stack-wide counters out: every event of every NIC, present or
 * removed, plus those that belong to no NIC. Costs one pass over the NICs.
 */
NS_API void ns_stack_get_stats(const struct ns_stack *s, struct ns_stats *out);

/* ---- NICs ------------------------------------------------------------- */

/** Maximum NIC name length, including the terminating NUL. */
#define NS_NIC_NAME_MAX 16

/** How to create a NIC. */
struct ns_nic_config {
        /** Name (may be NULL: "nicN"); truncated to NS_NIC_NAME_MAX - 1. */
        const char *name;
        /** Start disabled (ns_nic_enable() later). */
        bool disabled;
        /** Accept packets for any destination address (temporary addresses). */
        bool promiscuous;
        /** Allow sending from addresses not assigned to the NIC. */
        bool spoofing;
};

/**
 * Adds a NIC over `link` with the given id (non-zero, unique). The link
 * must not be attached to another NIC. Enabled unless cfg->disabled.
 * Errors: NS_ERR_DUPLICATE_NIC, NS_ERR_INVALID_ARGUMENT, NS_ERR_NO_MEMORY.
 */
NS_API int ns_nic_create(struct ns_stack *s, uint32_t id, struct ns_link *link,
                         const struct ns_nic_config *cfg);

/** Enables a NIC and its protocol endpoints. NS_ERR_UNKNOWN_NIC. */
NS_API int ns_nic_enable(struct ns_stack *s, uint32_t id);

/**
 * Disables a NIC; received packets are counted and dropped. Like Linux's
 * link down, it empties the NIC's neighbour cache, static entries
 * included, and frees the packets waiting for resolution
 * (arp.pending_queue_dropped).
 */
NS_API int ns_nic_disable(struct ns_stack *s, uint32_t id);

/** Removes a NIC: disables it, drops its routes, detaches its link. */
NS_API int ns_nic_remove(struct ns_stack *s, uint32_t id);

/** True when the NIC exists and is enabled. */
NS_API bool ns_nic_is_enabled(const struct ns_stack *s, uint32_t id);

/** Sets promiscuous mode (accept any destination). */
NS_API int ns_nic_set_promiscuous(struct ns_stack *s, uint32_t id, bool on);

/** Sets spoofing (send from any source address). */
NS_API int ns_nic_set_spoofing(struct ns_stack *s, uint32_t id, bool on);

/** The NIC's name, or NULL for an unknown id. */
NS_API const char *ns_nic_name(const struct ns_stack *s, uint32_t id);

/** The id of the NIC called name, or 0. */
NS_API uint32_t ns_nic_find(const struct ns_stack *s, const char *name);

/** Copies a NIC's own counters (the endpoint-level ones) out. */
NS_API int ns_nic_get_stats(const struct ns_stack *s, uint32_t id, struct ns_stats *out);

/** Which addresses become the primary source address (the seed's PEB). */
enum ns_primary {
        NS_PRIMARY_CAN_BE = 0, /**< primary, after the existing ones */
        NS_PRIMARY_FIRST,      /**< primary, before the existing ones */
        NS_PRIMARY_NEVER,      /**< never chosen as a source */
};

/**
 * Assigns an address with its prefix. Errors: NS_ERR_UNKNOWN_NIC,
 * NS_ERR_DUPLICATE_ADDRESS, NS_ERR_BAD_ADDRESS (multicast, prefix > 32),
 * NS_ERR_NO_BUFFER_SPACE (too many addresses).
 */
NS_API int ns_nic_add_address(struct ns_stack *s, uint32_t id, struct ns_ip4_prefix addr);

/** ns_nic_add_address() with the primary behaviour and deprecated flag. */
NS_API int ns_nic_add_address_ex(struct ns_stack *s, uint32_t id, struct ns_ip4_prefix addr,
                                 enum ns_primary primary, bool deprecated);

/** Removes an address. NS_ERR_BAD_LOCAL_ADDRESS when it is not assigned. */
NS_API int ns_nic_remove_address(struct ns_stack *s, uint32_t id, ns_ip4 addr);

/**
 * The NIC's main address (first primary, non-deprecated preferred).
 * NS_ERR_NOT_FOUND when it has none.
 */
NS_API int ns_nic_main_address(const struct ns_stack *s, uint32_t id, struct ns_ip4_prefix *out);

/** Writes up to max permanent addresses; returns how many there are. */
NS_API size_t ns_nic_addresses(const struct ns_stack *s, uint32_t id, struct ns_ip4_prefix *out,
                               size_t max);

/** Writes up to max primary addresses in order; returns how many there are. */
NS_API size_t ns_nic_primary_addresses(const struct ns_stack *s, uint32_t id,
                                       struct ns_ip4_prefix *out, size_t max);

/* ---- routes ----------------------------------------------------------- */

/** A route: destination prefix via gateway (0: on-link) out of a NIC. */
struct ns_route_entry {
        /** Destination prefix; the longest matching prefix wins. */
        struct ns_ip4_prefix dst;
        /** Next hop, or 0 when the destination is on the link. */
        ns_ip4 gateway;
        /** NIC the route leaves by. */
        uint32_t nic_id;
        /** Among equally long prefixes, the lowest metric wins. */
        uint32_t metric;
        uint32_t mtu; /**< 0: the NIC's MTU */
};

/** Adds a route. NS_ERR_ALREADY_EXISTS, NS_ERR_INVALID_ARGUMENT, NS_ERR_UNKNOWN_NIC. */
NS_API int ns_route_add(struct ns_stack *s, const struct ns_route_entry *r);

/** Removes the matching route (gateway 0 / nic 0 match any). NS_ERR_NOT_FOUND. */
NS_API int ns_route_del(struct ns_stack *s, struct ns_ip4_prefix dst, ns_ip4 gateway,
                        uint32_t nic_id);

/** Writes up to max routes; returns how many there are. */
NS_API size_t ns_route_list(const struct ns_stack *s, struct ns_route_entry *out, size_t max);

#endif
