/*
 * ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet with hardware
 * type 1, protocol type 0x0800, address lengths 6 and 4. Anything else is
 * rejected with its own reason, as gVisor's ARP.IsValid does.
 */
#ifndef NS_WIRE_ARP_H
#define NS_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>

#include "wire/bytes.h"
#include "wire/eth.h"

#define NS_ARP_LEN         28 /* Ethernet/IPv4 ARP packet */
#define NS_ARP_HTYPE_ETHER 1
#define NS_ARP_PTYPE_IPV4  0x0800
#define NS_ARP_OP_REQUEST  1
#define NS_ARP_OP_REPLY    2

/* Why ns_arp_validate() rejected a packet; checked in this order. */
#define NS_ARP_INVALID_TABLE(X)                                   \
        X(NS_ARP_VALID, "valid")                                  \
        X(NS_ARP_TOO_SHORT, "too_short") /* < 28 bytes */         \
        X(NS_ARP_BAD_HTYPE, "bad_htype") /* hardware type != 1 */ \
        X(NS_ARP_BAD_PTYPE, "bad_ptype") /* protocol != 0x0800 */ \
        X(NS_ARP_BAD_HLEN, "bad_hlen")   /* hardware len != 6 */  \
        X(NS_ARP_BAD_PLEN, "bad_plen")   /* protocol len != 4 */  \
        X(NS_ARP_BAD_OP, "bad_op")       /* opcode not 1 or 2 */

enum ns_arp_invalid {
#define NS_ARP_ENUM(name, str) name,
        NS_ARP_INVALID_TABLE(NS_ARP_ENUM)
#undef NS_ARP_ENUM
};

/* An Ethernet/IPv4 ARP packet as host values. */
struct ns_arp_fields {
        uint16_t op; /* NS_ARP_OP_REQUEST or NS_ARP_OP_REPLY */
        struct ns_mac sha;
        ns_ip4 spa;
        struct ns_mac tha;
        ns_ip4 tpa;
};

/* Accessors on a packet already validated to hold NS_ARP_LEN bytes. */
static inline uint16_t ns_arp_htype(const uint8_t *p)
{
        return ns_load_be16(p);
}
static inline uint16_t ns_arp_ptype(const uint8_t *p)
{
        return ns_load_be16(p + 2);
}
static inline uint8_t ns_arp_hlen(const uint8_t *p)
{
        return p[4];
}
static inline uint8_t ns_arp_plen(const uint8_t *p)
{
        return p[5];
}
static inline uint16_t ns_arp_op(const uint8_t *p)
{
        return ns_load_be16(p + 6);
}
static inline const uint8_t *ns_arp_sha(const uint8_t *p)
{
        return p + 8;
}
static inline ns_ip4 ns_arp_spa(const uint8_t *p)
{
        return ns_load_be32(p + 14);
}
static inline const uint8_t *ns_arp_tha(const uint8_t *p)
{
        return p + 18;
}
static inline ns_ip4 ns_arp_tpa(const uint8_t *p)
{
        return ns_load_be32(p + 24);
}

/* Checks length, then each fixed field, in the order of the table above. */
enum ns_arp_invalid ns_arp_validate(const uint8_t *p, size_t len);

/* Returns a static name for a reason ("bad_hlen"); never NULL. */
const char *ns_arp_invalid_name(enum ns_arp_invalid why);

/* Validates p and, when valid, fills *out. Bytes past 28 (padding) are
 * ignored. */
enum ns_arp_invalid ns_arp_parse(const uint8_t *p, size_t len, struct ns_arp_fields *out);

/* Writes a 28-byte packet. Returns NS_ARP_LEN, or 0 when cap is smaller. */
size_t ns_arp_emit(uint8_t *out, size_t cap, const struct ns_arp_fields *a);

#endif
