/**
 * @file
 * Ping endpoints: ICMP echo from user code, like Linux's SOCK_DGRAM
 * IPPROTO_ICMP sockets. The caller picks the identifier and sequence
 * number of each request; echo replies with the identifier of an
 * endpoint's last request (from the host it was sent to, or from anyone
 * when it went to a broadcast or multicast address) reach the endpoint's
 * callback, and so do ICMP errors quoting its requests. Attach by listing
 * &ns_module_ping after &ns_module_ipv4.
 */
#ifndef NETSTACK_PING_H
#define NETSTACK_PING_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>
#include <netstack/stack.h>

/** The ping module (ICMP echo endpoints). Needs ns_module_ipv4 attached before it. */
NS_API extern const struct ns_module ns_module_ping;

/** A ping endpoint; opaque. */
struct ns_ping_ep;

/** Per-request settings for ns_ping_send(); zero-initialised means defaults. */
struct ns_ping_send_opts {
        /** TTL, 0: the IPv4 default (1 for multicast destinations). */
        uint8_t ttl;
        /** TOS byte. */
        uint8_t tos;
        /** Raw IP options (Record Route, Timestamp, ...), at most 40 bytes; padded with EOL. */
        const uint8_t *ip_options;
        /** Bytes at ip_options (0..40; 0: no options). */
        uint8_t ip_options_len;
        /** Send out of this NIC (0: route). */
        uint32_t nic_id;
};

/** An echo reply or an ICMP error, as the callback sees it. */
struct ns_ping_msg {
        /**
         * 0 for an echo reply; for an error quoting one of our requests,
         * what Linux reports (NS_ERR_HOST_UNREACHABLE, NS_ERR_MESSAGE_TOO_LONG,
         * ... as for UDP errors in <netstack/udp.h>).
         */
        int err;
        uint8_t icmp_type, /**< ICMP type of the message received */
            icmp_code;     /**< ICMP code of the message received */
        uint16_t id,       /**< identifier (of the reply, or of the quoted request) */
            seq;           /**< sequence number (of the reply, or of the quoted request) */
        ns_ip4 src,        /**< reply: its source; error: the quoted request's */
            dst;           /**< reply: its destination; error: the quoted request's */
        /** NIC the message arrived on. */
        uint32_t nic_id;
        /** Next-hop MTU of fragmentation needed, else 0. */
        uint32_t mtu;
        /** Reply only: its IP header with options (RR, TS); borrowed for the call. */
        const uint8_t *ip_hdr;
        /** Reply only: bytes at ip_hdr. */
        size_t ip_hdr_len;
        /** Reply only: the IP header's TTL. */
        uint8_t ttl;
        /** Reply: the echoed data. Error: NULL. Borrowed for the call. */
        const uint8_t *data;
        /** Bytes at data. */
        size_t len;
};

/** Receive callback: m and its pointers are borrowed for the call. */
typedef void (*ns_ping_recv_fn)(void *ctx, struct ns_ping_ep *ep, const struct ns_ping_msg *m);

/**
 * Creates an endpoint. NS_ERR_INVALID_ENDPOINT_STATE when the module is
 * not attached, NS_ERR_NO_MEMORY.
 */
NS_API int ns_ping_open(struct ns_stack *s, struct ns_ping_ep **out);

/** Closes an endpoint; safe from inside its callback. NULL is ignored. */
NS_API void ns_ping_close(struct ns_ping_ep *ep);

/** Sets the callback (NULL: replies are taken and dropped). */
NS_API void ns_ping_set_recv_cb(struct ns_ping_ep *ep, ns_ping_recv_fn cb, void *ctx);

/**
 * Sends an echo request (RFC 792) to dst with identifier id, sequence
 * number seq and len bytes of data; opts may be NULL. The endpoint then
 * takes replies with this id. Counts icmp.sent_echo_request and
 * icmp.sent_total, or icmp.sent_dropped. Returns 0,
 * NS_ERR_INVALID_ARGUMENT (dst 0, data NULL with len > 0, options over 40
 * bytes), NS_ERR_MESSAGE_TOO_LONG, route errors, NS_ERR_NO_BUFFER_SPACE
 * or the link's error.
 */
NS_API int ns_ping_send(struct ns_ping_ep *ep, ns_ip4 dst, uint16_t id, uint16_t seq,
                        const void *data, size_t len, const struct ns_ping_send_opts *opts);

#endif
