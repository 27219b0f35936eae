/**
 * @file
 * The link contract: what a link endpoint (in-memory channel, loopback,
 * Ethernet over TAP, TUN, pcap wrapper, or an embedder's own device) gives
 * a NIC, and how it hands received packets up.
 *
 * A link is a struct ns_link with an ops table. The stack never frees a link;
 * whoever created it closes it after removing its NIC.
 */
#ifndef NETSTACK_LINK_H
#define NETSTACK_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/pkt.h>

struct ns_link;
/** A NIC of a stack; opaque, named by its id in the API (<netstack/stack.h>). */
struct ns_nic;

/** Capabilities a link reports in ns_link.caps. */
enum {
        /** Packets sent come straight back in (the loopback device). */
        NS_LINK_CAP_LOOPBACK = 1u << 0,
        /** The link needs a link-layer address for the next hop (Ethernet: ARP). */
        NS_LINK_CAP_RESOLUTION_REQUIRED = 1u << 1,
        /** The link verifies transport checksums on receive. */
        NS_LINK_CAP_RX_CSUM_OFFLOAD = 1u << 2,
        /** The link computes transport checksums on send. */
        NS_LINK_CAP_TX_CSUM_OFFLOAD = 1u << 3,
};

/** Operations of a link endpoint. */
struct ns_link_ops {
        /**
         * Sends the packets of `pkts` in order and consumes every one of them,
         * sent or not; the list is left empty. Each packet's data starts at its
         * network header and pkt->net_proto names the protocol (0x0800 IPv4,
         * 0x0806 ARP). A link that adds a header pushes it into the headroom
         * (at least ns_link.max_header_len bytes are reserved by the stack).
         * Returns the number of packets written, or a negative ns_err when the
         * first one could not be written.
         */
        int (*write)(struct ns_link *link, struct ns_pkt_list *pkts);
        /** Optional: called when the NIC using the link is removed. */
        void (*detach)(struct ns_link *link);
};

/** A link endpoint. Fill ops, mtu, caps and max_header_len, then attach. */
struct ns_link {
        /** The link's operations (static, outliving the link). */
        const struct ns_link_ops *ops;
        /** Largest network-layer packet the link carries, in bytes. */
        uint32_t mtu;
        /** NS_LINK_CAP_* bits. */
        uint32_t caps;
        /** Bytes of link header the link pushes in front of each packet. */
        uint16_t max_header_len;
        /** The link's own address (Ethernet MAC), when it has one. */
        uint8_t addr[6];
        /** Set by the stack when a NIC takes the link; NULL when detached. */
        struct ns_nic *nic;
};

/**
 * Hands one received packet to the NIC the link is attached to. Consumes
 * pkt. The packet's data starts at the network header; net_proto is its
 * ethertype. A link with no NIC frees the packet. Counted and dropped, never
 * fatal, whatever the bytes are.
 */
NS_API void ns_link_deliver(struct ns_link *link, uint16_t net_proto, struct ns_pkt *pkt);

/**
 * For link endpoints: counts a frame too short or too long to carry a
 * network packet in the NIC's nic.malformed_l2 and frees it. Consumes pkt.
 */
NS_API void ns_link_drop_malformed(struct ns_link *link, struct ns_pkt *pkt);

/**
 * The packet pool of the stack the link is attached to (NULL when
 * detached). Links take receive buffers from it so the hot path never
 * calls malloc.
 */
NS_API struct ns_pkt_pool *ns_link_pool(const struct ns_link *link);

#endif
