/**
 * @file
 * In-memory links: the channel link (packets in by injection, out into a
 * bounded queue the caller reads), used by tests, benchmarks and embedders
 * that move packets themselves; and the loopback link.
 */
#ifndef NETSTACK_CHANNEL_H
#define NETSTACK_CHANNEL_H

#include <stdint.h>

#include <netstack/export.h>
#include <netstack/alloc.h>
#include <netstack/link.h>

/** An in-memory link (packets in by injection, out into a queue); opaque. */
struct ns_channel;

/**
 * Creates a channel link with the given MTU (network-layer bytes), outbound
 * queue bound (packets; 0 means 1024) and NS_LINK_CAP_* capabilities.
 * NULL on allocation failure.
 */
NS_API struct ns_channel *ns_channel_create(const struct ns_allocator *a, uint32_t mtu,
                                            uint32_t queue_len, uint32_t caps);

/** Frees the channel and every packet still queued. Remove its NIC first. */
NS_API void ns_channel_destroy(struct ns_channel *ch);

/** The link to give to ns_nic_create(). */
NS_API struct ns_link *ns_channel_link(struct ns_channel *ch);

/** Hands pkt (data at the network header) to the attached NIC. Consumes pkt. */
NS_API void ns_channel_inject(struct ns_channel *ch, uint16_t net_proto, struct ns_pkt *pkt);

/**
 * Copies len bytes into a packet from the attached stack's pool and injects
 * it, as a real link copies from its device. NS_ERR_INVALID_ENDPOINT_STATE
 * when not attached, NS_ERR_NO_BUFFER_SPACE when the pool is exhausted.
 */
NS_API int ns_channel_inject_bytes(struct ns_channel *ch, uint16_t net_proto, const void *data,
                                   uint32_t len);

/** Takes the oldest outbound packet (the caller owns it), or NULL. */
NS_API struct ns_pkt *ns_channel_read(struct ns_channel *ch);

/** Number of outbound packets waiting. */
NS_API uint32_t ns_channel_queued(const struct ns_channel *ch);

/** Outbound packets dropped because the queue was full. */
NS_API uint64_t ns_channel_dropped(const struct ns_channel *ch);

/** Frees every queued outbound packet. */
NS_API void ns_channel_drain(struct ns_channel *ch);

/**
 * Creates a loopback link: every packet written is delivered back to its
 * own NIC (NS_LINK_CAP_LOOPBACK), like Linux's lo. Free with
 * ns_loopback_destroy() after removing its NIC.
 */
NS_API struct ns_link *ns_loopback_create(const struct ns_allocator *a, uint32_t mtu);

/** Frees a loopback link. */
NS_API void ns_loopback_destroy(struct ns_link *link);

#endif
