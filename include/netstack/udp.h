/**
 * @file
 * UDP endpoints (RFC 768), like Linux's SOCK_DGRAM sockets: bind, connect,
 * send, and receive through a callback or a bounded queue. Attach the
 * module by listing &ns_module_udp after &ns_module_ipv4 in
 * ns_stack_config.modules. Endpoints belong to the stack's one driving
 * thread; callbacks run from inside ns_channel_inject() and friends (and
 * from ns_udp_send() when a datagram loops back to this host).
 */
#ifndef NETSTACK_UDP_H
#define NETSTACK_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>
#include <netstack/stack.h>

/** The UDP module (IP protocol 17). Needs ns_module_ipv4 attached before it. */
NS_API extern const struct ns_module ns_module_udp;

/** A UDP endpoint; opaque. */
struct ns_udp_ep;

/** First ephemeral port (Linux's ip_local_port_range default). */
#define NS_UDP_EPHEMERAL_FIRST 32768
/** Last ephemeral port (Linux's ip_local_port_range default). */
#define NS_UDP_EPHEMERAL_LAST 60999

/** Default receive queue limit in bytes of buffer (Linux's rmem_default). */
#define NS_UDP_DEFAULT_RCVBUF 212992

/** A received datagram, as a receive callback or ns_udp_recv() sees it. */
struct ns_udp_datagram {
        ns_ip4 src,        /**< the sender's address */
            dst;           /**< the address it was sent to (ours, a group or a broadcast) */
        uint16_t src_port, /**< the sender's port */
            dst_port;      /**< the port it was sent to */
        /** NIC it arrived on. */
        uint32_t nic_id;
        uint8_t ttl, /**< the IP header's TTL */
            tos;     /**< the IP header's TOS */
        /** Sent to a broadcast or multicast address. */
        bool broadcast;
        /**
         * The IP header (with options); borrowed for the duration of a
         * receive callback only. NULL from ns_udp_recv().
         */
        const uint8_t *ip_hdr;
        /** Bytes at ip_hdr. */
        size_t ip_hdr_len;
        /**
         * The payload; borrowed for the duration of a receive callback
         * only. NULL from ns_udp_recv().
         */
        const uint8_t *data;
        /** Payload bytes (from ns_udp_recv(): the whole datagram's, even when truncated). */
        size_t len;
};

/** An ICMP error about a datagram this endpoint sent (RFC 1122 4.1.3.3). */
struct ns_udp_error {
        /**
         * What Linux would report: NS_ERR_CONNECTION_REFUSED (port
         * unreachable), NS_ERR_HOST_UNREACHABLE (host unreachable, time
         * exceeded), NS_ERR_NETWORK_UNREACHABLE, NS_ERR_PROTOCOL_UNREACHABLE,
         * NS_ERR_MESSAGE_TOO_LONG (fragmentation needed; see mtu),
         * NS_ERR_MALFORMED_HEADER (parameter problem), NS_ERR_NOT_PERMITTED
         * (administratively prohibited).
         */
        int err;
        uint8_t icmp_type, /**< the ICMP message's type */
            icmp_code;     /**< the ICMP message's code */
        /** Next-hop MTU for fragmentation needed (floored at 552 as Linux), else 0. */
        uint32_t mtu;
        ns_ip4 src,        /**< the quoted datagram's source (ours) */
            dst;           /**< the quoted datagram's destination */
        uint16_t src_port, /**< the quoted datagram's source port (ours) */
            dst_port;      /**< the quoted datagram's destination port */
        /** NIC the ICMP message arrived on. */
        uint32_t nic_id;
};

/** Receive callback: d and the bytes it points to are borrowed for the call. */
typedef void (*ns_udp_recv_fn)(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d);

/** Error callback: e is borrowed for the call. */
typedef void (*ns_udp_error_fn)(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_error *e);

/**
 * Creates an unbound endpoint. NS_ERR_INVALID_ENDPOINT_STATE when the UDP
 * module is not attached, NS_ERR_NO_MEMORY.
 */
NS_API int ns_udp_open(struct ns_stack *s, struct ns_udp_ep **out);

/**
 * Closes an endpoint: unbinds it and frees its queued datagrams. Safe from
 * inside the endpoint's own callbacks (the memory is freed once the
 * callback returns). NULL is ignored.
 */
NS_API void ns_udp_close(struct ns_udp_ep *ep);

/**
 * Binds to a local address (0: any; a multicast or broadcast address
 * receives only datagrams sent to it), a port (0: an ephemeral port chosen
 * at random from NS_UDP_EPHEMERAL_FIRST..LAST) and a NIC (0: any).
 * Errors: NS_ERR_INVALID_ENDPOINT_STATE (already bound), NS_ERR_UNKNOWN_NIC,
 * NS_ERR_BAD_LOCAL_ADDRESS (not an address of this host / that NIC),
 * NS_ERR_PORT_IN_USE (an endpoint with the same port and an overlapping
 * address and NIC exists and not both set ns_udp_set_reuse_addr(), or no
 * ephemeral port is free).
 */
NS_API int ns_udp_bind(struct ns_udp_ep *ep, ns_ip4 local, uint16_t port, uint32_t nic_id);

/**
 * Connects to remote:port: only datagrams from there are received, and
 * ns_udp_send() with dst 0 goes there. Binds an ephemeral port first when
 * unbound, and (as Linux) fixes the local address to the route's source
 * unless bound to one. remote 0 disconnects. Errors: NS_ERR_INVALID_ARGUMENT
 * (port 0), the route errors of sending (NS_ERR_NO_ROUTE, ...), and those of
 * ns_udp_bind().
 */
NS_API int ns_udp_connect(struct ns_udp_ep *ep, ns_ip4 remote, uint16_t port);

/**
 * Sends len bytes as one datagram to dst:dport (dst 0: the connected peer,
 * dport then ignored), with the checksum always computed. Binds an
 * ephemeral port first when unbound. The source is the bound address, or
 * the route's. Returns 0 or NS_ERR_NOT_CONNECTED (dst 0, unconnected),
 * NS_ERR_INVALID_ARGUMENT (dport 0, data NULL with len > 0),
 * NS_ERR_MESSAGE_TOO_LONG (len > 65507), route errors (NS_ERR_NO_ROUTE,
 * NS_ERR_NETWORK_UNREACHABLE, NS_ERR_BAD_LOCAL_ADDRESS),
 * NS_ERR_NO_BUFFER_SPACE, or the link's error. Counts udp.packets_sent or
 * udp.packet_send_errors.
 */
NS_API int ns_udp_send(struct ns_udp_ep *ep, ns_ip4 dst, uint16_t dport, const void *data,
                       size_t len);

/**
 * Sets the receive callback (NULL: queue datagrams for ns_udp_recv()
 * instead). Datagrams already queued stay queued.
 */
NS_API void ns_udp_set_recv_cb(struct ns_udp_ep *ep, ns_udp_recv_fn cb, void *ctx);

/** Sets the callback for ICMP errors quoting this endpoint's datagrams (NULL: none). */
NS_API void ns_udp_set_error_cb(struct ns_udp_ep *ep, ns_udp_error_fn cb, void *ctx);

/**
 * Takes the oldest queued datagram (used when no receive callback is set):
 * copies up to cap payload bytes into buf, fills *info when not NULL
 * (info->len is the whole payload length; data and ip_hdr are NULL) and
 * returns the bytes copied. NS_ERR_WOULD_BLOCK when the queue is empty.
 */
NS_API int ns_udp_recv(struct ns_udp_ep *ep, void *buf, size_t cap, struct ns_udp_datagram *info);

/**
 * Bounds the receive queue, in bytes of packet buffer (Linux's SO_RCVBUF
 * counts truesize alike). A datagram that would pass it is dropped and
 * counted in udp.receive_buffer_errors. Default NS_UDP_DEFAULT_RCVBUF.
 */
NS_API void ns_udp_set_rcvbuf(struct ns_udp_ep *ep, uint32_t bytes);

/** TTL of unicast datagrams: 1..255, or -1 for the IPv4 default. NS_ERR_INVALID_ARGUMENT. */
NS_API int ns_udp_set_ttl(struct ns_udp_ep *ep, int ttl);

/** TTL of multicast datagrams: 1..255, or -1 for the default 1 (RFC 1112 6.1). */
NS_API int ns_udp_set_multicast_ttl(struct ns_udp_ep *ep, int ttl);

/** Whether multicast datagrams sent are also delivered to this host (default on, as Linux). */
NS_API void ns_udp_set_multicast_loop(struct ns_udp_ep *ep, bool on);

/**
 * NIC multicast datagrams leave by when the endpoint is not bound to one
 * (Linux's IP_MULTICAST_IF); 0 routes them. NS_ERR_UNKNOWN_NIC.
 */
NS_API int ns_udp_set_multicast_nic(struct ns_udp_ep *ep, uint32_t nic_id);

/**
 * SO_REUSEADDR: endpoints that all set it may bind overlapping addresses on
 * one port (several multicast or broadcast listeners each get a copy; a
 * unicast datagram goes to the best match). Set before ns_udp_bind().
 */
NS_API void ns_udp_set_reuse_addr(struct ns_udp_ep *ep, bool on);

/** TOS byte of datagrams sent (default 0). */
NS_API void ns_udp_set_tos(struct ns_udp_ep *ep, uint8_t tos);

/** The bound local address and port (0 and 0 when unbound); either pointer may be NULL. */
NS_API void ns_udp_local(const struct ns_udp_ep *ep, ns_ip4 *addr, uint16_t *port);

#endif
