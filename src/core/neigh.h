/*
 * The neighbour cache of one NIC (Linux net/core/neighbour.c, reduced):
 * IPv4 next hop -> link address, for links with
 * NS_LINK_CAP_RESOLUTION_REQUIRED. The core owns the states and timers; a
 * resolver registered in struct ns_stack (the ARP module) sends the
 * requests and is told about packets that could not be resolved.
 *
 * States and timers (one timer per entry):
 *
 *   INCOMPLETE  request at once, then every NS_ARP_RETRANS_NS; after
 *               NS_ARP_MAX_PROBES unanswered, FAILED: each queued packet
 *               goes to resolver.failed (ICMP host unreachable) and
 *               arp.resolution_failures counts the entry.
 *   REACHABLE   after NS_ARP_REACHABLE_NS, STALE.
 *   STALE       used as is; the first use starts DELAY. Freed when unused
 *               for NS_ARP_GC_STALE_NS.
 *   DELAY       used as is, nothing sent; a confirmation (a unicast ARP
 *               reply) within NS_ARP_DELAY_FIRST_PROBE_NS makes it
 *               REACHABLE with no probe at all, else PROBE (Linux
 *               __neigh_event_send, neigh_timer_handler). Only ARP confirms
 *               here: no upper layer calls a neigh_confirm().
 *   PROBE       used as is; a unicast request at once, then every
 *               NS_ARP_RETRANS_NS, and FAILED after NS_ARP_MAX_PROBES
 *               unanswered (Linux ucast_solicit, RFC 1122 2.3.2.1).
 *   FAILED      freed after NS_ARP_GC_STALE_NS; a packet restarts INCOMPLETE.
 *   STATIC      never expires, never learned over.
 *
 * Disabling the NIC (ns__neigh_ifdown) frees every entry, static ones
 * included, with their queued packets, so a NIC enabled again starts from
 * an empty cache (Linux neigh_ifdown on an administrative link down).
 *
 * Bounds: NS_ARP_MAX_ENTRIES entries (the oldest non-static one is evicted
 * to make room, its queued packets counted in arp.pending_queue_dropped)
 * and NS_ARP_QUEUE_LEN packets per entry (the oldest is dropped, as Linux's
 * unres_qlen). Requests for one address are never closer than
 * NS_ARP_RETRANS_NS (smoltcp#68's ARP storm).
 */
#ifndef NS_CORE_NEIGH_H
#define NS_CORE_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/arp.h>

#include "core/stack.h"

/** How ns__neigh_learn() treats what an ARP packet told us. */
enum ns_neigh_learn {
        /** A request for one of our addresses: create or refresh, stale. */
        NS_NEIGH_LEARN_CREATE_STALE,
        /** Unsolicited (gratuitous ARP, broadcast reply): update only, stale. */
        NS_NEIGH_LEARN_UPDATE_STALE,
        /** A reply sent to us: update only, reachable. */
        NS_NEIGH_LEARN_UPDATE_REACHABLE,
};

/** Creates nic->neigh. 0 or NS_ERR_NO_MEMORY. */
int ns__neigh_table_create(struct ns_nic *nic);

/** Cancels every timer, frees every queued packet and nic->neigh. NULL-safe. */
void ns__neigh_table_destroy(struct ns_nic *nic);

/**
 * Picks the link destination of one outgoing packet (consumed on every
 * path). An IPv4 packet to the limited or a subnet broadcast address goes to
 * ff:ff:ff:ff:ff:ff, one to a multicast group to 01:00:5e + the group's low
 * 23 bits (RFC 1112 6.4); otherwise next_hop (0: the packet's destination)
 * is looked up. Another protocol's packet must carry NS_PKT_F_LINK_DST.
 * Returns 1 with the packet appended to ready (link_dst set), 0 when it was
 * queued until resolution, or a negative ns_err when it was dropped.
 */
int ns__neigh_output(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt *pkt,
                     struct ns_pkt_list *ready);

/**
 * Applies what an ARP packet said about ip (see enum ns_neigh_learn). Static
 * entries are never touched. When an entry becomes known its queued
 * packets are sent.
 */
void ns__neigh_learn(struct ns_nic *nic, ns_ip4 ip, const uint8_t mac[6], enum ns_neigh_learn how);

/**
 * The NIC went down: frees every entry, static ones included, cancelling
 * their timers; packets waiting for resolution are freed and counted in
 * arp.pending_queue_dropped. NULL-safe (a NIC without a cache).
 */
void ns__neigh_ifdown(struct ns_nic *nic);

/** Entries in the NIC's cache (0 without one). */
uint32_t ns__neigh_count(const struct ns_nic *nic);

/**
 * Writes packets whose link destination is set straight to the NIC's link
 * (nic.c), counting tx packets, bytes and errors. Consumes every packet.
 */
int ns__nic_link_write(struct ns_nic *nic, struct ns_pkt_list *pkts);

#endif
