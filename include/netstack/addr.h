/**
 * @file
 * IPv4 addresses as used across the API: a host-order uint32_t
 * (192.0.2.1 is 0xc0000201). Bytes on the wire are converted at the codec
 * boundary; nothing above the wire layer handles network order.
 */
#ifndef NETSTACK_ADDR_H
#define NETSTACK_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/export.h>

/** An IPv4 address in host byte order. */
typedef uint32_t ns_ip4;

/** Builds an address from its four dotted-quad parts. */
#define NS_IP4(a, b, c, d)                                                               \
        ((ns_ip4)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | \
                  (uint32_t)(d)))

#define NS_IP4_ANY            ((ns_ip4)0)           /**< 0.0.0.0 */
#define NS_IP4_BROADCAST      ((ns_ip4)0xffffffffu) /**< 255.255.255.255 */
#define NS_IP4_ALL_SYSTEMS    NS_IP4(224, 0, 0, 1)  /**< all-systems multicast group */
#define NS_IP4_ALL_ROUTERS    NS_IP4(224, 0, 0, 2)  /**< all-routers multicast group */
#define NS_IP4_IGMPV3_ROUTERS NS_IP4(224, 0, 0, 22) /**< IGMPv3 reports go here */

/** An address with its prefix length (192.0.2.1/24). */
struct ns_ip4_prefix {
        ns_ip4 addr;        /**< the address, host order */
        uint8_t prefix_len; /**< 0..32 */
};

/** Returns the netmask of a prefix length (24 gives 0xffffff00). */
static inline ns_ip4 ns_ip4_mask(uint8_t prefix_len)
{
        return prefix_len == 0
                   ? 0
                   : (ns_ip4)(0xffffffffu << (32 - (prefix_len > 32 ? 32 : prefix_len)));
}

/** True for 224.0.0.0/4. */
static inline bool ns_ip4_is_multicast(ns_ip4 a)
{
        return (a & 0xf0000000u) == 0xe0000000u;
}

/** True for 127.0.0.0/8. */
static inline bool ns_ip4_is_loopback(ns_ip4 a)
{
        return (a >> 24) == 127;
}

/** True for 169.254.0.0/16 (RFC 3927). */
static inline bool ns_ip4_is_link_local(ns_ip4 a)
{
        return (a >> 16) == 0xa9fe;
}

/**
 * Parses dotted-quad text ("192.0.2.1") into *out. Returns true on success;
 * rejects leading/trailing garbage, empty parts and values above 255.
 */
NS_API bool ns_ip4_parse(const char *text, ns_ip4 *out);

/**
 * Formats a as dotted-quad text into buf (at least 16 bytes). Returns buf.
 */
NS_API char *ns_ip4_format(ns_ip4 a, char *buf);

#endif
