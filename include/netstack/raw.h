/**
 * @file
 * Raw IPv4 endpoints, like Linux's SOCK_RAW sockets: every datagram of
 * one IP protocol delivered to this host is shown to the endpoint (from
 * the IP header on), alongside the protocol's own handling; datagrams are
 * sent with a header the stack builds or, with ns_raw_send_hdrincl(), one
 * the caller built (IP_HDRINCL). Attach by listing &ns_module_raw after
 * &ns_module_ipv4 (and after UDP and ping, in any order among them).
 *
 * What reaches a raw endpoint: datagrams of protocols handled by UDP or
 * ping (copies, before those demultiplex, as Linux's raw_local_deliver()),
 * and of protocols nobody else handles (then no ICMP protocol unreachable
 * is sent). For ICMP the IPv4 layer passes on only echo replies, timestamp
 * replies and echo requests with a bad checksum; IGMP is not passed on.
 */
#ifndef NETSTACK_RAW_H
#define NETSTACK_RAW_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>
#include <netstack/stack.h>

/** The raw IPv4 endpoint module. Needs ns_module_ipv4 attached before it. */
NS_API extern const struct ns_module ns_module_raw;

/** A raw endpoint; opaque. */
struct ns_raw_ep;

/** A received datagram; every pointer is borrowed for the callback only. */
struct ns_raw_datagram {
        /** The whole datagram from its IP header (reassembled). */
        const uint8_t *data;
        /** Bytes at data: the whole datagram, header included. */
        size_t len;
        /** Bytes of IP header (with options) at the start of data. */
        size_t ip_hdr_len;
        ns_ip4 src, /**< the IP header's source address */
            dst;    /**< the IP header's destination address */
        /** The IP header's protocol number. */
        uint8_t proto;
        /** NIC it arrived on. */
        uint32_t nic_id;
};

/** Receive callback: d is borrowed for the call. */
typedef void (*ns_raw_recv_fn)(void *ctx, struct ns_raw_ep *ep, const struct ns_raw_datagram *d);

/**
 * Opens an endpoint for IP protocol proto (1..255; 255 is Linux's
 * IPPROTO_RAW: send only). NS_ERR_INVALID_ARGUMENT for 0,
 * NS_ERR_INVALID_ENDPOINT_STATE when the module is not attached,
 * NS_ERR_NO_MEMORY.
 */
NS_API int ns_raw_open(struct ns_stack *s, uint8_t proto, struct ns_raw_ep **out);

/** Closes an endpoint; safe from inside its own callback. NULL is ignored. */
NS_API void ns_raw_close(struct ns_raw_ep *ep);

/**
 * Restricts the endpoint to datagrams addressed to local (0: any) that
 * arrive on nic_id (0: any); local also becomes the source of datagrams
 * sent. NS_ERR_UNKNOWN_NIC, NS_ERR_BAD_LOCAL_ADDRESS (not an address of
 * this host or of that NIC).
 */
NS_API int ns_raw_bind(struct ns_raw_ep *ep, ns_ip4 local, uint32_t nic_id);

/** Sets the receive callback (NULL: datagrams are seen but dropped). */
NS_API void ns_raw_set_recv_cb(struct ns_raw_ep *ep, ns_raw_recv_fn cb, void *ctx);

/**
 * Sends len bytes as the payload of one datagram of the endpoint's
 * protocol to dst, with the default TTL and a header the stack builds; a
 * payload checksum (ICMP, ...) is the caller's. Returns 0,
 * NS_ERR_INVALID_ARGUMENT (dst 0, data NULL with len > 0),
 * NS_ERR_MESSAGE_TOO_LONG, route errors, NS_ERR_NO_BUFFER_SPACE or the
 * link's error.
 */
NS_API int ns_raw_send(struct ns_raw_ep *ep, ns_ip4 dst, const void *data, size_t len);

/**
 * Sends a datagram whose IPv4 header the caller built (Linux IP_HDRINCL):
 * the route goes to the header's destination; total length and checksum
 * are always filled in, the source when 0 (from the route) and the ID when
 * 0 (unless DF is set). Returns 0, NS_ERR_MALFORMED_HEADER (shorter than
 * its header, bad version or IHL), NS_ERR_MESSAGE_TOO_LONG, route errors,
 * NS_ERR_NO_BUFFER_SPACE or the link's error.
 */
NS_API int ns_raw_send_hdrincl(struct ns_raw_ep *ep, const void *ip_packet, size_t len);

#endif
