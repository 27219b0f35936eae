/**
 * @file
 * Ethernet II framing (RFC 894) as a link wrapper, and an in-memory frame
 * device for tests and embedders.
 *
 * A frame device (struct ns_frame_dev) carries whole Ethernet frames: a
 * TAP device, the in-memory ns_frame_channel below, a pcap replay. The
 * Ethernet link sits on one and is the struct ns_link a NIC takes: it has
 * NS_LINK_CAP_RESOLUTION_REQUIRED (the stack resolves next hops with ARP,
 * <netstack/arp.h>), its MTU is the device's, its header 14 bytes, and its
 * address its MAC.
 *
 *   frame device --deliver_frame--> ns_eth --ns_link_deliver--> NIC
 *   frame device <--ops->write----- ns_eth <--ops->write-------- NIC
 *
 * Receive drops, each counted: frames shorter than 14 bytes or longer than
 * MTU + 14 (nic.malformed_l2; HOSTILE 77), frames for another unicast MAC
 * unless promiscuous (ns_eth_stats.rx_other_host). Frames sent to a
 * broadcast or multicast MAC reach the stack flagged NS_PKT_F_LINK_BCAST
 * (ICMP never answers them). Send: the 14-byte header from pkt->link_dst
 * (set by resolution), padded to the 60-byte minimum frame.
 */
#ifndef NETSTACK_ETH_H
#define NETSTACK_ETH_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/alloc.h>
#include <netstack/link.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of an Ethernet II header. */
#define NS_ETH_HEADER_LEN 14
/** Smallest frame on the wire without the FCS; shorter ones are padded. */
#define NS_ETH_MIN_FRAME 60

struct ns_frame_dev;

/** Operations of a frame device. */
struct ns_frame_dev_ops {
        /**
         * Sends the frames of `frames` (data at the Ethernet header) in order
         * and consumes every one, sent or not; the list is left empty.
         * Returns the number written or a negative ns_err when the first one
         * could not be.
         */
        int (*write)(struct ns_frame_dev *dev, struct ns_pkt_list *frames);
};

/** A device carrying Ethernet frames. Fill ops and mtu; the wrapper fills the rest. */
struct ns_frame_dev {
        /** The device's operations (static, outliving the device). */
        const struct ns_frame_dev_ops *ops;
        /** Largest payload after the 14-byte header (1500 for Ethernet). */
        uint32_t mtu;
        /** Set by ns_eth_create(): where received frames go. */
        void (*deliver_frame)(void *ctx, struct ns_pkt *frame);
        /** Set by ns_eth_create(): passed back to deliver_frame. */
        void *deliver_ctx;
        /** Set by ns_eth_create(): the link above, for its packet pool. */
        struct ns_link *upper;
};

/**
 * Hands one received frame (data at the Ethernet header) to the layer above
 * the device. Consumes frame; a device with nothing above frees it.
 */
NS_API void ns_frame_dev_deliver(struct ns_frame_dev *dev, struct ns_pkt *frame);

/** The packet pool of the stack above the device, or NULL while detached. */
NS_API struct ns_pkt_pool *ns_frame_dev_pool(const struct ns_frame_dev *dev);

/* ---- the Ethernet link ------------------------------------------------ */

struct ns_eth;

/** Counters of one Ethernet link (drops the NIC cannot see). */
struct ns_eth_stats {
        /** Frames for another host's unicast MAC (dropped unless promiscuous). */
        uint64_t rx_other_host;
        /** Frames shorter than the header or longer than MTU + 14. */
        uint64_t rx_length_errors;
        /** Packets without a link destination (not resolved). */
        uint64_t tx_no_destination;
        /** Packets over the MTU, or without headroom or tailroom. */
        uint64_t tx_errors;
};

/**
 * Creates an Ethernet link over `lower` (which must outlive it) with the
 * given unicast MAC. NULL when mac is a group address, lower is unusable,
 * or allocation fails.
 */
NS_API struct ns_eth *ns_eth_create(const struct ns_allocator *a, struct ns_frame_dev *lower,
                                    const uint8_t mac[6]);

/** Frees the link. Remove its NIC first. NULL is ignored. */
NS_API void ns_eth_destroy(struct ns_eth *eth);

/** The link to give to ns_nic_create(). */
NS_API struct ns_link *ns_eth_link(struct ns_eth *eth);

/** Accepts frames for any MAC (off by default). */
NS_API void ns_eth_set_promiscuous(struct ns_eth *eth, bool on);

/** Copies the link's counters out. */
NS_API void ns_eth_get_stats(const struct ns_eth *eth, struct ns_eth_stats *out);

/* ---- the in-memory frame device --------------------------------------- */

struct ns_frame_channel;

/**
 * Creates an in-memory frame device: frames in by injection, frames out
 * into a bounded queue the caller reads (queue_len 0 means 1024). NULL on
 * allocation failure.
 */
NS_API struct ns_frame_channel *ns_frame_channel_create(const struct ns_allocator *a, uint32_t mtu,
                                                        uint32_t queue_len);

/** Frees the device and every queued frame. Destroy the link above first. */
NS_API void ns_frame_channel_destroy(struct ns_frame_channel *fc);

/** The device, for ns_eth_create(). */
NS_API struct ns_frame_dev *ns_frame_channel_dev(struct ns_frame_channel *fc);

/**
 * Copies len bytes (a whole frame) into a packet from the stack's pool and
 * delivers it up. NS_ERR_INVALID_ENDPOINT_STATE when nothing is attached
 * above, NS_ERR_NO_BUFFER_SPACE when the pool is exhausted.
 */
NS_API int ns_frame_channel_inject_bytes(struct ns_frame_channel *fc, const void *frame,
                                         uint32_t len);

/** Takes the oldest frame written (the caller owns it), or NULL. */
NS_API struct ns_pkt *ns_frame_channel_read(struct ns_frame_channel *fc);

/** Frames waiting to be read. */
NS_API uint32_t ns_frame_channel_queued(const struct ns_frame_channel *fc);

/** Frees every frame waiting. */
NS_API void ns_frame_channel_drain(struct ns_frame_channel *fc);

#ifdef __cplusplus
}
#endif

#endif
