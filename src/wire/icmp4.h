/*
 * ICMPv4 codec (RFC 792, RFC 950, RFC 1122 3.2.2, RFC 1191). Messages are
 * (const uint8_t *, size_t) spans starting at the ICMP type byte; the
 * length is the one IP gives (Total Length minus header), never one taken
 * from inside the message (HOSTILE-INPUTS F.62).
 */
#ifndef NS_WIRE_ICMP4_H
#define NS_WIRE_ICMP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>

#include "wire/bytes.h"

#define NS_ICMP4_HDR           8  /* type, code, checksum, 4 bytes of rest */
#define NS_ICMP4_TIMESTAMP_LEN 20 /* header + three 32-bit timestamps */
#define NS_ICMP4_ADDR_MASK_LEN 12 /* header + mask (RFC 950) */

/* Types. */
#define NS_ICMP4_ECHO_REPLY      0
#define NS_ICMP4_DEST_UNREACH    3
#define NS_ICMP4_SOURCE_QUENCH   4
#define NS_ICMP4_REDIRECT        5
#define NS_ICMP4_ECHO            8
#define NS_ICMP4_ROUTER_ADVERT   9
#define NS_ICMP4_ROUTER_SOLICIT  10
#define NS_ICMP4_TIME_EXCEEDED   11
#define NS_ICMP4_PARAM_PROBLEM   12
#define NS_ICMP4_TIMESTAMP       13
#define NS_ICMP4_TIMESTAMP_REPLY 14
#define NS_ICMP4_INFO_REQUEST    15
#define NS_ICMP4_INFO_REPLY      16
#define NS_ICMP4_ADDR_MASK       17
#define NS_ICMP4_ADDR_MASK_REPLY 18

/* Destination Unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
#define NS_ICMP4_NET_UNREACH       0
#define NS_ICMP4_HOST_UNREACH      1
#define NS_ICMP4_PROTO_UNREACH     2
#define NS_ICMP4_PORT_UNREACH      3
#define NS_ICMP4_FRAG_NEEDED       4
#define NS_ICMP4_SRC_ROUTE_FAILED  5
#define NS_ICMP4_NET_UNKNOWN       6
#define NS_ICMP4_HOST_UNKNOWN      7
#define NS_ICMP4_HOST_ISOLATED     8
#define NS_ICMP4_NET_PROHIBITED    9
#define NS_ICMP4_HOST_PROHIBITED   10
#define NS_ICMP4_NET_UNREACH_TOS   11
#define NS_ICMP4_HOST_UNREACH_TOS  12
#define NS_ICMP4_ADMIN_PROHIBITED  13
#define NS_ICMP4_HOST_PRECEDENCE   14
#define NS_ICMP4_PRECEDENCE_CUTOFF 15

/* Redirect codes. */
#define NS_ICMP4_REDIRECT_NET      0
#define NS_ICMP4_REDIRECT_HOST     1
#define NS_ICMP4_REDIRECT_TOS_NET  2
#define NS_ICMP4_REDIRECT_TOS_HOST 3

/* Time Exceeded codes. */
#define NS_ICMP4_TTL_EXCEEDED       0
#define NS_ICMP4_REASSEMBLY_TIMEOUT 1

/* Parameter Problem codes (RFC 792, RFC 1122 3.2.2.5). */
#define NS_ICMP4_PARAM_POINTER        0
#define NS_ICMP4_PARAM_MISSING_OPTION 1
#define NS_ICMP4_PARAM_BAD_LENGTH     2

/* Why ns_icmp4_validate() rejected a message; checked in this order. */
#define NS_ICMP4_INVALID_TABLE(X)                                                   \
        X(NS_ICMP4_VALID, "valid")                                                  \
        X(NS_ICMP4_TOO_SHORT, "too_short")             /* < 8 bytes */              \
        X(NS_ICMP4_TIMESTAMP_SHORT, "timestamp_short") /* type 13/14, < 20 bytes */ \
        X(NS_ICMP4_ADDR_MASK_SHORT, "addr_mask_short") /* type 17/18, < 12 bytes */ \
        X(NS_ICMP4_BAD_CHECKSUM, "bad_checksum")       /* from checksum_ok */

enum ns_icmp4_invalid {
#define NS_ICMP4_ENUM(name, str) name,
        NS_ICMP4_INVALID_TABLE(NS_ICMP4_ENUM)
#undef NS_ICMP4_ENUM
};

/* ---- accessors: p holds 8 bytes (timestamps: 20, mask: 12) ---- */

static inline uint8_t ns_icmp4_type(const uint8_t *p)
{
        return p[0];
}
static inline uint8_t ns_icmp4_code(const uint8_t *p)
{
        return p[1];
}
static inline uint16_t ns_icmp4_checksum(const uint8_t *p)
{
        return ns_load_be16(p + 2);
}
/* Bytes 4..7 as one word: the "rest of header". */
static inline uint32_t ns_icmp4_rest(const uint8_t *p)
{
        return ns_load_be32(p + 4);
}
/* Echo, timestamp, info, address mask: identifier and sequence number. */
static inline uint16_t ns_icmp4_id(const uint8_t *p)
{
        return ns_load_be16(p + 4);
}
static inline uint16_t ns_icmp4_seq(const uint8_t *p)
{
        return ns_load_be16(p + 6);
}
/* Parameter Problem: offset of the faulty byte in the quoted header. */
static inline uint8_t ns_icmp4_pointer(const uint8_t *p)
{
        return p[4];
}
/* Fragmentation Needed: next-hop MTU (RFC 1191 section 4), 0 from old
 * routers. */
static inline uint16_t ns_icmp4_mtu(const uint8_t *p)
{
        return ns_load_be16(p + 6);
}
/* Redirect: the gateway address. */
static inline ns_ip4 ns_icmp4_gateway(const uint8_t *p)
{
        return ns_load_be32(p + 4);
}
static inline uint32_t ns_icmp4_originate_ts(const uint8_t *p)
{
        return ns_load_be32(p + 8);
}
static inline uint32_t ns_icmp4_receive_ts(const uint8_t *p)
{
        return ns_load_be32(p + 12);
}
static inline uint32_t ns_icmp4_transmit_ts(const uint8_t *p)
{
        return ns_load_be32(p + 16);
}
static inline ns_ip4 ns_icmp4_addr_mask(const uint8_t *p)
{
        return ns_load_be32(p + 8);
}
/* Error messages: the quoted datagram starts after the 8-byte header. */
static inline const uint8_t *ns_icmp4_payload(const uint8_t *p)
{
        return p + NS_ICMP4_HDR;
}

static inline void ns_icmp4_set_type(uint8_t *p, uint8_t t)
{
        p[0] = t;
}
static inline void ns_icmp4_set_code(uint8_t *p, uint8_t c)
{
        p[1] = c;
}
static inline void ns_icmp4_set_checksum(uint8_t *p, uint16_t c)
{
        ns_store_be16(p + 2, c);
}
static inline void ns_icmp4_set_rest(uint8_t *p, uint32_t rest)
{
        ns_store_be32(p + 4, rest);
}
static inline void ns_icmp4_set_id(uint8_t *p, uint16_t id)
{
        ns_store_be16(p + 4, id);
}
static inline void ns_icmp4_set_seq(uint8_t *p, uint16_t seq)
{
        ns_store_be16(p + 6, seq);
}
static inline void ns_icmp4_set_originate_ts(uint8_t *p, uint32_t ts)
{
        ns_store_be32(p + 8, ts);
}
static inline void ns_icmp4_set_receive_ts(uint8_t *p, uint32_t ts)
{
        ns_store_be32(p + 12, ts);
}
static inline void ns_icmp4_set_transmit_ts(uint8_t *p, uint32_t ts)
{
        ns_store_be32(p + 16, ts);
}

/* "Rest of header" words for ns_icmp4_emit_error(). */
static inline uint32_t ns_icmp4_rest_pointer(uint8_t pointer)
{
        return (uint32_t)pointer << 24;
}
static inline uint32_t ns_icmp4_rest_mtu(uint16_t mtu)
{
        return mtu;
}

/* ---- validation and checksum ---- */

/* Structure only: enough bytes for the header and for the type's fixed
 * body. Never reads past len. */
enum ns_icmp4_invalid ns_icmp4_validate(const uint8_t *p, size_t len);

/* Returns a static name for a reason ("too_short"); never NULL. */
const char *ns_icmp4_invalid_name(enum ns_icmp4_invalid why);

/* True when the len-byte message sums to 0xffff. Reads only. */
bool ns_icmp4_checksum_ok(const uint8_t *p, size_t len);

/* The checksum field for the len-byte message, taking the field as zero. */
uint16_t ns_icmp4_compute_checksum(const uint8_t *p, size_t len);

/* Stores ns_icmp4_compute_checksum(p, len); len >= 4. */
void ns_icmp4_fill_checksum(uint8_t *p, size_t len);

/*
 * True for error messages: destination unreachable, source quench,
 * redirect, time exceeded, parameter problem (RFC 1122 3.2.2).
 */
bool ns_icmp4_is_error(uint8_t type);

/*
 * True only for the query types an ICMP error may answer: echo and echo
 * reply, timestamp and its reply, information request and reply. Anything
 * else, unknown types included, is treated as a possible error and never
 * answered (RFC 1122 3.2.2; the seed's returnError rule).
 */
bool ns_icmp4_may_provoke_error(uint8_t type);

/* ---- emitters: each returns bytes written or 0 having written nothing
 * when the message does not fit in cap ---- */

/*
 * Echo (8) or echo reply (0) with id, seq and data_len bytes of data,
 * checksum filled. data may already sit at out + 8 (it is moved, not
 * copied).
 */
size_t ns_icmp4_emit_echo(uint8_t *out, size_t cap, uint8_t type, uint16_t id, uint16_t seq,
                          const uint8_t *data, size_t data_len);

/*
 * An error message: the 8-byte header (type, code, `rest` as bytes 4..7,
 * see ns_icmp4_rest_*) followed by quote_len bytes of the offending
 * datagram the caller chose (RFC 1812 4.3.2.3: as much as fits in 576),
 * checksum filled. quote may already sit at out + 8.
 */
size_t ns_icmp4_emit_error(uint8_t *out, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                           const uint8_t *quote, size_t quote_len);

#endif
