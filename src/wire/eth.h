/*
 * Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894) and MAC
 * address helpers. Pure functions over bytes: a frame is (const uint8_t *,
 * size_t); accessors take a pointer already known to hold NS_ETH_HDR bytes.
 */
#ifndef NS_WIRE_ETH_H
#define NS_WIRE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netstack/addr.h>

#include "wire/bytes.h"

#define NS_ETH_ALEN 6  /* bytes in a MAC address */
#define NS_ETH_HDR  14 /* destination, source, EtherType */

#define NS_ETHERTYPE_IPV4 0x0800
#define NS_ETHERTYPE_ARP  0x0806
#define NS_ETHERTYPE_VLAN 0x8100
#define NS_ETHERTYPE_IPV6 0x86dd

/* A 48-bit MAC address, bytes in wire order. */
struct ns_mac {
        uint8_t b[NS_ETH_ALEN];
};

/* The Ethernet header as host values. */
struct ns_eth_fields {
        struct ns_mac dst;
        struct ns_mac src;
        uint16_t ethertype;
};

/* Why ns_eth_validate() rejected a frame. */
enum ns_eth_invalid {
        NS_ETH_VALID = 0,
        NS_ETH_TOO_SHORT, /* fewer than NS_ETH_HDR bytes */
};

static inline const uint8_t *ns_eth_dst(const uint8_t *f)
{
        return f;
}

static inline const uint8_t *ns_eth_src(const uint8_t *f)
{
        return f + NS_ETH_ALEN;
}

static inline uint16_t ns_eth_ethertype(const uint8_t *f)
{
        return ns_load_be16(f + 2 * NS_ETH_ALEN);
}

static inline void ns_eth_set_ethertype(uint8_t *f, uint16_t type)
{
        ns_store_be16(f + 2 * NS_ETH_ALEN, type);
}

/* NS_ETH_VALID when len bytes hold a whole header. */
enum ns_eth_invalid ns_eth_validate(const uint8_t *f, size_t len);

/* Returns a static name for a reason ("too_short"); never NULL. */
const char *ns_eth_invalid_name(enum ns_eth_invalid why);

/* Validates and copies the header of f into *out. */
enum ns_eth_invalid ns_eth_parse(const uint8_t *f, size_t len, struct ns_eth_fields *out);

/*
 * Writes the 14-byte header to out. Returns NS_ETH_HDR, or 0 (nothing
 * written) when cap is smaller.
 */
size_t ns_eth_emit(uint8_t *out, size_t cap, const struct ns_eth_fields *h);

static inline struct ns_mac ns_mac_from_bytes(const uint8_t *p)
{
        struct ns_mac m;
        memcpy(m.b, p, NS_ETH_ALEN);
        return m;
}

static inline struct ns_mac ns_mac_broadcast(void)
{
        struct ns_mac m = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
        return m;
}

static inline bool ns_mac_equal(const struct ns_mac *a, const struct ns_mac *b)
{
        return memcmp(a->b, b->b, NS_ETH_ALEN) == 0;
}

/* True for ff:ff:ff:ff:ff:ff. */
static inline bool ns_mac_is_broadcast(const struct ns_mac *m)
{
        return (m->b[0] & m->b[1] & m->b[2] & m->b[3] & m->b[4] & m->b[5]) == 0xff;
}

/* True when the group bit (the low bit of the first byte) is set; this
 * includes broadcast. */
static inline bool ns_mac_is_multicast(const struct ns_mac *m)
{
        return (m->b[0] & 1) != 0;
}

/* True for 00:00:00:00:00:00. */
static inline bool ns_mac_is_zero(const struct ns_mac *m)
{
        return (m->b[0] | m->b[1] | m->b[2] | m->b[3] | m->b[4] | m->b[5]) == 0;
}

/*
 * The MAC an IPv4 multicast group maps to (RFC 1112 section 6.4):
 * 01:00:5e followed by the low 23 bits of the group address. The caller
 * passes a multicast address; other addresses map the same way.
 */
static inline struct ns_mac ns_mac_from_ip4_multicast(ns_ip4 group)
{
        struct ns_mac m = { { 0x01, 0x00, 0x5e, (uint8_t)((group >> 16) & 0x7f),
                              (uint8_t)(group >> 8), (uint8_t)group } };
        return m;
}

#endif
