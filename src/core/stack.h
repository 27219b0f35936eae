/*
 * Internal view of a stack and its NICs, shared by the core and the
 * protocol modules. Modules register network protocols (by ethertype) and
 * transport handlers (by IP protocol number) here; the core never calls a
 * protocol by name.
 */
#ifndef NS_CORE_STACK_H
#define NS_CORE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/stack.h>
#include <netstack/filter.h>

#include "core/addr_state.h"
#include "core/filter.h"
#include "core/ratelimit.h"
#include "core/route_table.h"
#include "core/stats.h"
#include "core/timer.h"

/** Most network protocols one stack carries (IPv4, ARP, room to spare). */
#define NS_MAX_NETPROTOS 4

struct ns_nic;

/**
 * A network protocol attached to the stack, after gVisor's
 * NetworkProtocol/NetworkEndpoint pair. Per-NIC state lives in
 * nic->ep[slot]. Every hook but deliver may be NULL.
 */
struct ns_netproto {
        uint16_t ethertype;
        void *ctx;
        /** Creates the NIC's endpoint (stores it in nic->ep[slot]). */
        int (*nic_add)(void *ctx, struct ns_nic *nic, unsigned slot);
        /** Frees the NIC's endpoint (after nic_disable). */
        void (*nic_remove)(void *ctx, struct ns_nic *nic, unsigned slot);
        /** Enables the endpoint; the NIC is enabled already. */
        int (*nic_enable)(void *ctx, struct ns_nic *nic, unsigned slot);
        /** Disables the endpoint. */
        void (*nic_disable)(void *ctx, struct ns_nic *nic, unsigned slot);
        /** A packet arrived on an enabled NIC. Consumes pkt. */
        void (*deliver)(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt);
        /** An address was added to the NIC (IGMP queued reports, gratuitous ARP). */
        void (*address_added)(void *ctx, struct ns_nic *nic, struct ns_ip4_prefix addr);
};

/** What a transport handler did with a packet (the seed's TransportPacket*). */
enum ns_deliver_result {
        /** Taken: the handler consumed the packet. */
        NS_DELIVER_HANDLED = 0,
        /** No endpoint for the port: the caller still owns pkt (ICMP 3/3). */
        NS_DELIVER_PORT_UNREACHABLE,
        /** No such protocol: the caller still owns pkt (ICMP 3/2). */
        NS_DELIVER_PROTO_UNREACHABLE,
};

/** An ICMP error about a packet this host sent, for the transport layer. */
struct ns_transport_error {
        uint8_t icmp_type;
        uint8_t icmp_code;
        /** Next-hop MTU for fragmentation needed, else 0. */
        uint32_t mtu;
        /** The host that sent the ICMP error (a router, or the destination). */
        ns_ip4 from;
        /** The quoted original datagram's addresses and protocol. */
        ns_ip4 src, dst;
        uint8_t proto;
        /** The quoted transport header bytes (at least 8 when known). */
        const uint8_t *transport;
        uint32_t transport_len;
};

/** A transport protocol's entry points (UDP, ICMP sockets, raw). */
struct ns_transport_handler {
        /**
         * A datagram for this protocol arrived, reassembled, data starting at
         * the transport header (network header marked). Consumes pkt only when
         * it returns NS_DELIVER_HANDLED.
         */
        enum ns_deliver_result (*deliver)(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt);
        /** An ICMP error quoting one of our datagrams (may be NULL). */
        void (*error)(void *ctx, struct ns_nic *nic, const struct ns_transport_error *err);
        void *ctx;
};

/**
 * Link-address resolution for NICs whose link needs it (the ARP module
 * fills stack->resolver; see core/neigh.h). Either hook may be NULL.
 */
struct ns_resolver {
        void *ctx;
        /**
         * Sends one request for target out of nic: broadcast when dst_mac is
         * NULL, else unicast to dst_mac (re-confirming a stale entry). sender
         * is the source of the packet waiting for it (0: none); the resolver
         * may choose another of the NIC's addresses. 0 or a negative ns_err.
         */
        int (*request)(void *ctx, struct ns_nic *nic, ns_ip4 target, ns_ip4 sender,
                       const uint8_t *dst_mac);
        /**
         * A packet queued for a neighbour that could not be resolved (the
         * seed's HandleLinkResolutionFailure). Consumes pkt.
         */
        void (*failed)(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt);
};

struct ns_neigh_table;

/** A NIC: a link, its addresses, its counters and its protocol endpoints. */
struct ns_nic {
        struct ns_stack *stack;
        uint32_t id;
        char name[NS_NIC_NAME_MAX];
        struct ns_link *link;
        bool enabled;
        bool promiscuous;
        bool spoofing;
        bool loopback;
        /** Per-NIC forwarding switch (RFC 1812; the protocol switch must be on too). */
        bool forwarding;
        struct ns_addr_state addrs;
        /** Endpoint-level counters; every bump also bumps the stack's. */
        struct ns_stats stats;
        void *ep[NS_MAX_NETPROTOS];
        /** Neighbour cache when the link needs resolution (core/neigh.h), else NULL. */
        struct ns_neigh_table *neigh;
};

/** The stack. Every field is owned by the one thread driving it. */
struct ns_stack {
        struct ns_allocator alloc;
        struct ns_clock clock;
        struct ns_rng rng;
        struct ns_pkt_pool *pool;
        struct ns_timer_heap timers;
        bool handle_local;
        /** IPv4 forwarding is on (set by the IPv4 module): weak-host source choice. */
        bool forwarding;

        /* NICs indexed by id; nic_cap entries, NULL where unused. */
        struct ns_nic **nics;
        uint32_t nic_cap;
        uint32_t nic_count;
        /*
         * One past the highest id in use (0 when there is none), <= nic_cap:
         * the per-packet scans over every NIC stop here instead of walking
         * the unused tail of the array. Kept by ns_nic_create/remove().
         */
        uint32_t nic_end;

        struct ns_route_table routes;
        struct ns_stats stats;
        struct ns_filter filter;
        struct ns_icmp_ratelimit icmp_rl;

        struct ns_netproto netprotos[NS_MAX_NETPROTOS];
        unsigned n_netprotos;
        struct ns_transport_handler transport[256];

        /* State of the standard modules, opaque to the core. */
        void *ipv4;
        void *arp;
        void *udp;
        void *ping;
        void *raw;
        /** Link-address resolution (ARP), used by NICs with a neighbour cache. */
        struct ns_resolver resolver;

        const struct ns_module *modules[NS_STACK_MAX_MODULES];
        unsigned n_modules;
};

/** The stack's monotonic time, in nanoseconds. */
static inline int64_t ns__stack_now(const struct ns_stack *s)
{
        return s->clock.now_ns(s->clock.ctx);
}

/** The NIC with this id, or NULL. */
static inline struct ns_nic *ns__nic_get(const struct ns_stack *s, uint32_t id)
{
        return id < s->nic_cap ? s->nics[id] : NULL;
}

/**
 * Registers a network protocol. Returns its slot (index into nic->ep) or a
 * negative ns_err (NS_ERR_ALREADY_EXISTS for a duplicate ethertype,
 * NS_ERR_NO_BUFFER_SPACE when full). Endpoints are created for NICs that
 * already exist.
 */
int ns__stack_register_netproto(struct ns_stack *s, const struct ns_netproto *p);

/** Sets the handler for IP protocol `proto`; NS_ERR_ALREADY_EXISTS if taken. */
int ns__stack_register_transport(struct ns_stack *s, uint8_t proto,
                                 const struct ns_transport_handler *h);

/** Clears the handler for `proto`. */
void ns__stack_unregister_transport(struct ns_stack *s, uint8_t proto);

/**
 * Acquires the NIC's address entry that `addr` is or matches, with IPv4's
 * matching rule: an assigned address, the subnet broadcast of one, and on a
 * loopback NIC any address of an assigned subnet (as Linux treats lo).
 * allow_temp creates a temporary entry (promiscuous or spoofing NICs).
 * Release with ns__addr_release(&nic->addrs, e).
 */
struct ns_addr_entry *ns__nic_acquire_assigned(struct ns_nic *nic, ns_ip4 addr, bool allow_temp,
                                               enum ns_peb temp_peb);

/**
 * The NIC's permanent address entry that addr is (*exact true) or matches
 * by the rule of ns__nic_acquire_assigned() (*exact false), without taking
 * a reference: for per-packet classification. NULL when none.
 */
const struct ns_addr_entry *ns__nic_match(const struct ns_nic *nic, ns_ip4 addr, bool *exact);

/** True when addr is assigned to (or matches an address of) the NIC. */
bool ns__nic_has_address(const struct ns_nic *nic, ns_ip4 addr);

/**
 * The stack's NIC that owns `addr` (exact assigned address, not broadcast),
 * or NULL: the seed's findEndpointWithAddress.
 */
struct ns_nic *ns__stack_nic_with_address(struct ns_stack *s, ns_ip4 addr);

/**
 * Sends a list of network packets out of the NIC's link, consuming all of
 * them. Counts tx packets/bytes and errors on the NIC. Returns the number
 * the link accepted or a negative ns_err. On a link that needs resolution
 * each packet first gets its link destination from the neighbour cache for
 * its IPv4 destination (core/neigh.h); a packet waiting for resolution
 * counts as accepted.
 */
int ns__nic_write_list(struct ns_nic *nic, struct ns_pkt_list *pkts);

/** ns__nic_write_list() for one packet; 0 or a negative ns_err. */
int ns__nic_write(struct ns_nic *nic, struct ns_pkt *pkt);

/**
 * ns__nic_write_list() resolving next_hop (the route's gateway, or the
 * destination when on-link; 0 means each packet's destination).
 */
int ns__nic_write_list_via(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt_list *pkts);

/** ns__nic_write_list_via() for one packet; 0 or a negative ns_err. */
int ns__nic_write_via(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt *pkt);

/** The MTU of the NIC's link (network-layer bytes). */
static inline uint32_t ns__nic_mtu(const struct ns_nic *nic)
{
        return nic->link->mtu;
}

/** Bytes a link header needs in front of the network header. */
static inline uint16_t ns__nic_max_header_len(const struct ns_nic *nic)
{
        return nic->link->max_header_len;
}

/* ---- route resolution (the seed's Stack.FindRoute) -------------------- */

/** Route loop flags (gVisor's PacketOut / PacketLoop). */
enum {
        NS_LOOP_OUT = 1u << 0, /**< send out of the NIC */
        NS_LOOP_IN = 1u << 1,  /**< deliver a copy locally */
};

/** A resolved route for sending: where a packet goes and from which source. */
struct ns_path {
        struct ns_nic *nic;       /**< outgoing NIC */
        struct ns_nic *local_nic; /**< NIC owning the local address */
        ns_ip4 local;
        ns_ip4 remote;
        ns_ip4 next_hop;                   /**< gateway, or remote when on-link */
        uint32_t loop;                     /**< NS_LOOP_* */
        uint32_t mtu;                      /**< route MTU (link MTU or the route's) */
        struct ns_addr_entry *local_entry; /**< acquired; released by ns__path_release */
};

/**
 * Finds a route from `local` (0: choose) to `remote` out of NIC `nic_id`
 * (0: any), with the seed's semantics: local delivery when handle_local and
 * the remote is ours, no route needed for broadcast/multicast/loopback when
 * a NIC is given, longest-prefix match otherwise, the source chosen from the
 * outgoing NIC. Errors: NS_ERR_NO_ROUTE, NS_ERR_NETWORK_UNREACHABLE,
 * NS_ERR_BAD_LOCAL_ADDRESS.
 */
int ns__stack_find_route(struct ns_stack *s, uint32_t nic_id, ns_ip4 local, ns_ip4 remote,
                         bool multicast_loop, struct ns_path *out);

/**
 * The route a forwarded packet to dst takes: outgoing NIC (enabled), next
 * hop and MTU, by longest-prefix match. No source address is chosen.
 * NS_ERR_NO_ROUTE when none.
 */
int ns__stack_route_forward(struct ns_stack *s, ns_ip4 dst, struct ns_nic **nic, ns_ip4 *next_hop,
                            uint32_t *mtu);

/** Releases the local address reference a path holds. */
void ns__path_release(struct ns_path *p);

#endif
