/*
 * UDP header codec (RFC 768) with the IPv4 pseudo-header checksum. A zero
 * checksum field means "no checksum" over IPv4 (RFC 768, RFC 1122 4.1.3.4);
 * a computed checksum of 0 is therefore sent as 0xffff.
 */
#ifndef NS_WIRE_UDP_H
#define NS_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>

#include "wire/bytes.h"

#define NS_UDP_HDR 8

/* Why ns_udp_validate() rejected a datagram; checked in this order. */
#define NS_UDP_INVALID_TABLE(X)                                                     \
        X(NS_UDP_VALID, "valid")                                                    \
        X(NS_UDP_TOO_SHORT, "too_short")         /* fewer than 8 bytes present */   \
        X(NS_UDP_LEN_TOO_SMALL, "len_too_small") /* length field < 8 */             \
        X(NS_UDP_LEN_TOO_LONG, "len_too_long")   /* length field > bytes present */ \
        X(NS_UDP_BAD_CHECKSUM, "bad_checksum")

enum ns_udp_invalid {
#define NS_UDP_ENUM(name, str) name,
        NS_UDP_INVALID_TABLE(NS_UDP_ENUM)
#undef NS_UDP_ENUM
};

/* The UDP header as host values. */
struct ns_udp_fields {
        uint16_t src_port;
        uint16_t dst_port;
        uint16_t length;   /* header plus payload, bytes */
        uint16_t checksum; /* as on the wire; 0 means none */
};

static inline uint16_t ns_udp_src_port(const uint8_t *p)
{
        return ns_load_be16(p);
}
static inline uint16_t ns_udp_dst_port(const uint8_t *p)
{
        return ns_load_be16(p + 2);
}
static inline uint16_t ns_udp_length(const uint8_t *p)
{
        return ns_load_be16(p + 4);
}
static inline uint16_t ns_udp_checksum(const uint8_t *p)
{
        return ns_load_be16(p + 6);
}
static inline void ns_udp_set_src_port(uint8_t *p, uint16_t v)
{
        ns_store_be16(p, v);
}
static inline void ns_udp_set_dst_port(uint8_t *p, uint16_t v)
{
        ns_store_be16(p + 2, v);
}
static inline void ns_udp_set_length(uint8_t *p, uint16_t v)
{
        ns_store_be16(p + 4, v);
}
static inline void ns_udp_set_checksum(uint8_t *p, uint16_t v)
{
        ns_store_be16(p + 6, v);
}

/*
 * Structure only: at least 8 bytes present, 8 <= length field <= len.
 * Bytes beyond the length field (link padding) are allowed; the caller
 * trims to ns_udp_length().
 */
enum ns_udp_invalid ns_udp_validate(const uint8_t *p, size_t len);

/* Returns a static name for a reason ("len_too_long"); never NULL. */
const char *ns_udp_invalid_name(enum ns_udp_invalid why);

/*
 * The checksum field for the len-byte datagram at p (header and payload),
 * taking the field itself as zero, with the pseudo-header of src and dst.
 * Never returns 0: a computed 0 is returned as 0xffff.
 */
uint16_t ns_udp_compute_checksum(const uint8_t *p, size_t len, ns_ip4 src, ns_ip4 dst);

/*
 * The same from a partial sum (ns_csum_partial) of the whole datagram with
 * its checksum field zero, for callers whose payload is not contiguous.
 */
uint16_t ns_udp_checksum_from_partial(uint32_t partial, uint16_t len, ns_ip4 src, ns_ip4 dst);

/*
 * True when the checksum field is 0 (none sent) or verifies over the
 * len-byte datagram and the pseudo-header. Reads only. len is the UDP
 * length (at most 65535) of a datagram ns_udp_validate() accepted.
 */
bool ns_udp_checksum_ok(const uint8_t *p, size_t len, ns_ip4 src, ns_ip4 dst);

/* Validates p (structure only) and copies the header into *out. */
enum ns_udp_invalid ns_udp_parse(const uint8_t *p, size_t len, struct ns_udp_fields *out);

/* Writes the 8 header bytes exactly as given. Returns 8, or 0 if cap < 8. */
size_t ns_udp_emit(uint8_t *out, size_t cap, const struct ns_udp_fields *h);

/*
 * Writes a header for a datagram of len bytes whose payload already sits at
 * dgram + 8, then fills its checksum for src and dst. Returns 8, or 0 when
 * len < 8 or len > 65535.
 */
size_t ns_udp_emit_datagram(uint8_t *dgram, size_t len, uint16_t src_port, uint16_t dst_port,
                            ns_ip4 src, ns_ip4 dst);

#endif
