/**
 * @file
 * ARP (RFC 826) and the neighbour cache it fills.
 *
 * Attach the module by listing &ns_module_arp in ns_stack_config.modules
 * (with ns_module_ipv4). It handles ethertype 0x0806 on every NIC whose link
 * has NS_LINK_CAP_RESOLUTION_REQUIRED (an Ethernet link, <netstack/eth.h>);
 * other NICs have no neighbour cache and drop ARP.
 *
 * Each such NIC keeps a bounded cache of neighbours (NS_ARP_MAX_ENTRIES).
 * Entries are learned only from ARP, never from IP packets (lwIP dropped
 * ETHARP_TRUST_IP_MAC as insecure), following Linux's arp_process: a
 * request for one of our addresses creates or refreshes its sender's entry
 * (stale); a reply updates an entry that exists (reachable when it was sent
 * to us unicast, stale when broadcast); a gratuitous ARP updates an
 * existing entry without asserting reachability (RFC 5227). Static entries
 * are never changed by the network.
 */
#ifndef NETSTACK_ARP_H
#define NETSTACK_ARP_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>
#include <netstack/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ARP module (ethertype 0x0806). */
NS_API extern const struct ns_module ns_module_arp;

/** Neighbour entries one NIC keeps; the oldest non-static one makes room. */
#define NS_ARP_MAX_ENTRIES 256
/** Packets queued per neighbour while it resolves (lwIP ARP_QUEUE_LEN). */
#define NS_ARP_QUEUE_LEN 3
/** Requests sent before an entry fails (Linux mcast_probes / ucast_probes). */
#define NS_ARP_MAX_PROBES 3
/** Gap between requests for one address: never more than one a second. */
#define NS_ARP_RETRANS_NS 1000000000LL
/** Time a confirmed entry stays reachable (Linux base_reachable_time). */
#define NS_ARP_REACHABLE_NS 30000000000LL
/** Time an unused stale or failed entry is kept (Linux gc_staletime). */
#define NS_ARP_GC_STALE_NS 60000000000LL
/**
 * Time a stale entry in use waits for a confirmation before its first probe
 * (Linux delay_first_probe_time).
 */
#define NS_ARP_DELAY_FIRST_PROBE_NS 5000000000LL

/**
 * State of a neighbour entry (Linux NUD_*). NS_ARP_DELAY comes last so the
 * values of 0.1.0 keep their meaning; Linux orders it between STALE and PROBE.
 */
enum ns_arp_state {
        /** Resolving: requests are being sent, packets wait in its queue. */
        NS_ARP_INCOMPLETE = 1,
        /** Confirmed within NS_ARP_REACHABLE_NS. */
        NS_ARP_REACHABLE,
        /** Known but unconfirmed: used as is; the first use starts NS_ARP_DELAY. */
        NS_ARP_STALE,
        /** A delayed entry still unconfirmed, re-confirmed with unicast requests. */
        NS_ARP_PROBE,
        /** Resolution gave up; the next packet starts it again. */
        NS_ARP_FAILED,
        /** Added by ns_arp_add_static(); never expires or changes (a disabled NIC drops it). */
        NS_ARP_STATIC,
        /**
         * A stale entry in use: used as is for NS_ARP_DELAY_FIRST_PROBE_NS,
         * waiting for a confirmation, then NS_ARP_PROBE.
         */
        NS_ARP_DELAY,
};

/** One neighbour entry, copied out. */
struct ns_arp_entry {
        /** The neighbour's IPv4 address. */
        ns_ip4 addr;
        /** The neighbour's MAC; zero while incomplete or failed. */
        uint8_t mac[6];
        /** Where the entry is in resolution (RFC 1122 2.3.2.1 / Linux NUD states). */
        enum ns_arp_state state;
        /** Packets waiting for resolution. */
        uint32_t queued;
};

/**
 * Adds or replaces a static entry (like `ip neigh replace ... nud
 * permanent`); packets queued for the address leave at once. Errors:
 * NS_ERR_UNKNOWN_NIC, NS_ERR_NOT_SUPPORTED (the NIC's link needs no
 * resolution), NS_ERR_BAD_ADDRESS (multicast, broadcast or zero address,
 * or a multicast MAC), NS_ERR_NO_BUFFER_SPACE (every entry is static).
 */
NS_API int ns_arp_add_static(struct ns_stack *s, uint32_t nic_id, ns_ip4 addr,
                             const uint8_t mac[6]);

/**
 * Removes the entry for addr, static or not; its queued packets are freed.
 * NS_ERR_UNKNOWN_NIC, NS_ERR_NOT_SUPPORTED, NS_ERR_NOT_FOUND.
 */
NS_API int ns_arp_remove(struct ns_stack *s, uint32_t nic_id, ns_ip4 addr);

/** Copies the entry for addr into *out. NS_ERR_UNKNOWN_NIC, NS_ERR_NOT_FOUND. */
NS_API int ns_arp_lookup(const struct ns_stack *s, uint32_t nic_id, ns_ip4 addr,
                         struct ns_arp_entry *out);

/**
 * Writes up to max entries of the NIC's cache to out (any order) and
 * returns how many there are; 0 for an unknown NIC or one without a cache.
 */
NS_API size_t ns_arp_entries(const struct ns_stack *s, uint32_t nic_id, struct ns_arp_entry *out,
                             size_t max);

#ifdef __cplusplus
}
#endif

#endif
