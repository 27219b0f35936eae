/*
 * The IPv4 protocol module: endpoints per NIC, receive and send paths,
 * options, ICMPv4, fragmentation and reassembly, multicast membership.
 * Attach it by listing &ns_module_ipv4 in ns_stack_config.modules.
 */
#ifndef NETSTACK_IPV4_H
#define NETSTACK_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>
#include <netstack/stack.h>

/** The IPv4 module (ethertype 0x0800). */
NS_API extern const struct ns_module ns_module_ipv4;

/** Settings of the IPv4 protocol (the seed's protocol options, and more). */
enum ns_ipv4_param {
        /** Default TTL of packets this host sends, 1..255 (default 64). */
        NS_IPV4_PARAM_DEFAULT_TTL = 1,
        /** Forward packets not addressed to us (0/1, default 0). */
        NS_IPV4_PARAM_FORWARDING,
        /**
         * Ignore echo requests sent to broadcast or multicast addresses (0/1,
         * default 1, Linux's icmp_echo_ignore_broadcasts: no Smurf replies).
         */
        NS_IPV4_PARAM_ECHO_IGNORE_BROADCASTS,
        /**
         * Forward a directed broadcast (one to the broadcast address of a
         * subnet of another NIC) onto that subnet as well as taking it (0/1,
         * default 0: RFC 2644, Linux's bc_forwarding).
         */
        NS_IPV4_PARAM_DIRECTED_BROADCAST,
        /**
         * The least path MTU a received fragmentation-needed may set, bytes
         * (68..65535, default 552: Linux's net.ipv4.route.min_pmtu). Also the
         * floor of the MTU reported to sockets.
         */
        NS_IPV4_PARAM_MIN_PMTU,
        /**
         * How long a learnt path MTU lasts, milliseconds (>= 1, default
         * 600000: Linux's net.ipv4.route.mtu_expires).
         */
        NS_IPV4_PARAM_PMTU_TIMEOUT_MS,
};

/**
 * Sets a parameter. NS_ERR_UNKNOWN_PROTOCOL_OPTION for an unknown one (as
 * the seed's SetOption), NS_ERR_INVALID_ARGUMENT for a value out of range,
 * NS_ERR_INVALID_ENDPOINT_STATE when the module is not attached.
 */
NS_API int ns_ipv4_set_param(struct ns_stack *s, enum ns_ipv4_param p, int64_t value);

/** Reads a parameter into *value; errors as ns_ipv4_set_param(). */
NS_API int ns_ipv4_get_param(const struct ns_stack *s, enum ns_ipv4_param p, int64_t *value);

/**
 * Joins a multicast group on a NIC (joins are counted: two joins need two
 * leaves). NS_ERR_BAD_ADDRESS for a non-multicast address.
 */
NS_API int ns_ipv4_join_group(struct ns_stack *s, uint32_t nic_id, ns_ip4 group);

/** Leaves a group. NS_ERR_BAD_LOCAL_ADDRESS when not joined. */
NS_API int ns_ipv4_leave_group(struct ns_stack *s, uint32_t nic_id, ns_ip4 group);

/**
 * Turns forwarding of packets arriving on one NIC on or off (Linux's
 * net.ipv4.conf.NIC.forwarding). On by default: NS_IPV4_PARAM_FORWARDING
 * is the switch for the whole protocol, and a packet is forwarded only when
 * both are on. A NIC that does not forward still takes packets for the
 * addresses of the other NICs (weak host model). NS_ERR_UNKNOWN_NIC.
 */
NS_API int ns_ipv4_set_nic_forwarding(struct ns_stack *s, uint32_t nic_id, bool on);

/** Reads the NIC's forwarding switch into *on; NS_ERR_UNKNOWN_NIC. */
NS_API int ns_ipv4_get_nic_forwarding(const struct ns_stack *s, uint32_t nic_id, bool *on);

/**
 * The path MTU learnt for dst from a fragmentation-needed (RFC 1191) and
 * not yet expired, into *mtu: what locally generated datagrams to dst are
 * fragmented to when it is below the route's MTU. NS_ERR_NOT_FOUND when
 * none is known.
 */
NS_API int ns_ipv4_get_pmtu(struct ns_stack *s, ns_ip4 dst, uint32_t *mtu);

/**
 * Reassembly in progress: datagrams with fragments held and the bytes
 * those fragments occupy (bounded by the 4 MiB high threshold). Either
 * pointer may be NULL. NS_ERR_INVALID_ENDPOINT_STATE without the module.
 */
NS_API int ns_ipv4_reasm_in_flight(const struct ns_stack *s, uint32_t *datagrams, uint64_t *bytes);

/** True when the NIC is a member of group. */
NS_API bool ns_ipv4_is_in_group(const struct ns_stack *s, uint32_t nic_id, ns_ip4 group);

#endif
