/*
 * IPv4 header codec (RFC 791 section 3.1). Pure functions over bytes:
 *
 *  - inline accessors and setters take a pointer already validated to hold
 *    the header (ns_ipv4_validate(), or a buffer the caller sized itself);
 *  - ns_ipv4_validate() checks structure and returns the first problem found
 *    as a specific reason; the header checksum is checked separately by
 *    ns_ipv4_checksum_ok() so callers can skip it when a link verified it;
 *  - struct ns_ipv4_fields is the host-order view, with ns_ipv4_parse() and
 *    ns_ipv4_emit() such that parsing an emitted header gives the fields
 *    back.
 *
 * Addresses are host-order ns_ip4 here; network order exists only in bytes.
 */
#ifndef NS_WIRE_IPV4_H
#define NS_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netstack/addr.h>

#include "wire/bytes.h"

#define NS_IPV4_VERSION   4
#define NS_IPV4_MIN_HDR   20    /* IHL 5 */
#define NS_IPV4_MAX_HDR   60    /* IHL 15 */
#define NS_IPV4_MAX_OPTS  40    /* NS_IPV4_MAX_HDR - NS_IPV4_MIN_HDR */
#define NS_IPV4_MAX_TOTAL 65535 /* largest Total Length */
#define NS_IPV4_FRAG_UNIT 8     /* fragment offsets count 8-byte blocks */

/* Values of the 3-bit flags field (bit 0 of the field is reserved). */
#define NS_IPV4_FLAG_MF 0x1 /* more fragments */
#define NS_IPV4_FLAG_DF 0x2 /* don't fragment */

/* Protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
#define NS_IPV4_PROTO_ICMP 1
#define NS_IPV4_PROTO_IGMP 2
#define NS_IPV4_PROTO_IPIP 4
#define NS_IPV4_PROTO_TCP  6
#define NS_IPV4_PROTO_UDP  17

/*
 * Why ns_ipv4_validate() rejected a header, in the order it checks. The
 * first three are decided from the first byte only, after making sure 20
 * bytes are present (HOSTILE-INPUTS A.8: never read IHL first).
 */
#define NS_IPV4_INVALID_TABLE(X)                                                   \
        X(NS_IPV4_VALID, "valid")                                                  \
        X(NS_IPV4_TOO_SHORT, "too_short")             /* < 20 bytes present */     \
        X(NS_IPV4_BAD_VERSION, "bad_version")         /* version != 4 */           \
        X(NS_IPV4_BAD_IHL, "bad_ihl")                 /* IHL < 5 */                \
        X(NS_IPV4_HDR_TRUNCATED, "hdr_truncated")     /* IHL*4 > bytes present */  \
        X(NS_IPV4_TOTAL_LEN_SHORT, "total_len_short") /* Total Length < IHL*4 */   \
        X(NS_IPV4_TOTAL_LEN_LONG, "total_len_long")   /* Total Length > present */ \
        X(NS_IPV4_FRAG_TOO_LONG, "frag_too_long")     /* offset+payload > 65535 */ \
        X(NS_IPV4_BAD_CHECKSUM, "bad_checksum")       /* from ns_ipv4_checksum_ok */

enum ns_ipv4_invalid {
#define NS_IPV4_ENUM(name, str) name,
        NS_IPV4_INVALID_TABLE(NS_IPV4_ENUM)
#undef NS_IPV4_ENUM
};

/* The IPv4 header as host values. */
struct ns_ipv4_fields {
        uint8_t tos;
        uint16_t total_len; /* header, options and payload, bytes */
        uint16_t id;
        uint8_t flags;     /* NS_IPV4_FLAG_* bits, 0..7 */
        uint16_t frag_off; /* bytes, a multiple of 8, at most 65528 */
        uint8_t ttl;
        uint8_t proto;
        ns_ip4 src;
        ns_ip4 dst;
        /* Option bytes (parse: pointer into the parsed header, padding
         * included; emit: copied, then padded with EOL to a multiple of 4). */
        const uint8_t *options;
        uint8_t options_len;
};

/* ---- accessors: p holds at least 20 bytes (options: IHL*4) ---- */

static inline uint8_t ns_ipv4_version(const uint8_t *p)
{
        return p[0] >> 4;
}
static inline uint8_t ns_ipv4_ihl(const uint8_t *p)
{
        return p[0] & 0x0f;
}
/* Header length in bytes (IHL * 4), 0..60. */
static inline size_t ns_ipv4_hdr_len(const uint8_t *p)
{
        return (size_t)(p[0] & 0x0f) * 4;
}
static inline uint8_t ns_ipv4_tos(const uint8_t *p)
{
        return p[1];
}
static inline uint16_t ns_ipv4_total_len(const uint8_t *p)
{
        return ns_load_be16(p + 2);
}
static inline uint16_t ns_ipv4_id(const uint8_t *p)
{
        return ns_load_be16(p + 4);
}
/* The 3-bit flags field: NS_IPV4_FLAG_DF | NS_IPV4_FLAG_MF, reserved bit 4. */
static inline uint8_t ns_ipv4_flags(const uint8_t *p)
{
        return p[6] >> 5;
}
static inline bool ns_ipv4_df(const uint8_t *p)
{
        return (ns_ipv4_flags(p) & NS_IPV4_FLAG_DF) != 0;
}
static inline bool ns_ipv4_mf(const uint8_t *p)
{
        return (ns_ipv4_flags(p) & NS_IPV4_FLAG_MF) != 0;
}
/* Fragment offset in bytes (the field times 8), 0..65528. */
static inline uint32_t ns_ipv4_frag_off(const uint8_t *p)
{
        return (uint32_t)(ns_load_be16(p + 6) & 0x1fff) * NS_IPV4_FRAG_UNIT;
}
static inline uint8_t ns_ipv4_ttl(const uint8_t *p)
{
        return p[8];
}
static inline uint8_t ns_ipv4_proto(const uint8_t *p)
{
        return p[9];
}
static inline uint16_t ns_ipv4_checksum(const uint8_t *p)
{
        return ns_load_be16(p + 10);
}
static inline ns_ip4 ns_ipv4_src(const uint8_t *p)
{
        return ns_load_be32(p + 12);
}
static inline ns_ip4 ns_ipv4_dst(const uint8_t *p)
{
        return ns_load_be32(p + 16);
}
/* The option area: starts at byte 20, IHL*4 - 20 bytes (0 when IHL <= 5). */
static inline const uint8_t *ns_ipv4_options(const uint8_t *p)
{
        return p + NS_IPV4_MIN_HDR;
}
static inline size_t ns_ipv4_options_len(const uint8_t *p)
{
        size_t h = ns_ipv4_hdr_len(p);
        return h > NS_IPV4_MIN_HDR ? h - NS_IPV4_MIN_HDR : 0;
}
/* True for any fragment: MF set or a non-zero offset (RFC 791 3.2). */
static inline bool ns_ipv4_is_fragment(const uint8_t *p)
{
        return (ns_load_be16(p + 6) & 0x3fff) != 0;
}
/* True for a fragment other than the first (offset != 0): it carries no
 * transport header. */
static inline bool ns_ipv4_is_later_fragment(const uint8_t *p)
{
        return (ns_load_be16(p + 6) & 0x1fff) != 0;
}

/* ---- setters: none of them updates the checksum ---- */

static inline void ns_ipv4_set_version_ihl(uint8_t *p, size_t hdr_len_bytes)
{
        p[0] = (uint8_t)(NS_IPV4_VERSION << 4 | ((hdr_len_bytes / 4) & 0x0f));
}
static inline void ns_ipv4_set_tos(uint8_t *p, uint8_t tos)
{
        p[1] = tos;
}
static inline void ns_ipv4_set_total_len(uint8_t *p, uint16_t len)
{
        ns_store_be16(p + 2, len);
}
static inline void ns_ipv4_set_id(uint8_t *p, uint16_t id)
{
        ns_store_be16(p + 4, id);
}
/* flags: NS_IPV4_FLAG_* (0..7); off_bytes: a multiple of 8, <= 65528
 * (lower bits are dropped). */
static inline void ns_ipv4_set_flags_frag_off(uint8_t *p, uint8_t flags, uint32_t off_bytes)
{
        ns_store_be16(p + 6, (uint16_t)((uint16_t)(flags & 7) << 13 |
                                        ((off_bytes / NS_IPV4_FRAG_UNIT) & 0x1fff)));
}
static inline void ns_ipv4_set_ttl(uint8_t *p, uint8_t ttl)
{
        p[8] = ttl;
}
static inline void ns_ipv4_set_proto(uint8_t *p, uint8_t proto)
{
        p[9] = proto;
}
static inline void ns_ipv4_set_checksum(uint8_t *p, uint16_t csum)
{
        ns_store_be16(p + 10, csum);
}
static inline void ns_ipv4_set_src(uint8_t *p, ns_ip4 a)
{
        ns_store_be32(p + 12, a);
}
static inline void ns_ipv4_set_dst(uint8_t *p, ns_ip4 a)
{
        ns_store_be32(p + 16, a);
}

/* ---- validation ---- */

/*
 * Structure only, never the checksum: returns NS_IPV4_VALID or the first
 * failing rule of NS_IPV4_INVALID_TABLE for the len bytes at p. Bytes
 * beyond Total Length (link padding) are allowed; the caller trims them.
 * A datagram ending exactly at byte 65535 of its original is valid; one
 * byte more is NS_IPV4_FRAG_TOO_LONG (ping of death).
 */
static inline enum ns_ipv4_invalid ns_ipv4_validate(const uint8_t *p, size_t len)
{
        /* Nothing is read before 20 bytes are known to be present. */
        if (len < NS_IPV4_MIN_HDR)
                return NS_IPV4_TOO_SHORT;
        if (ns_ipv4_version(p) != NS_IPV4_VERSION)
                return NS_IPV4_BAD_VERSION;
        size_t hlen = ns_ipv4_hdr_len(p);
        if (hlen < NS_IPV4_MIN_HDR)
                return NS_IPV4_BAD_IHL;
        if (hlen > len)
                return NS_IPV4_HDR_TRUNCATED;
        size_t total = ns_ipv4_total_len(p);
        if (total < hlen)
                return NS_IPV4_TOTAL_LEN_SHORT;
        if (total > len)
                return NS_IPV4_TOTAL_LEN_LONG;
        /* RFC 791 limits a datagram to 65535 bytes; a fragment whose payload
         * would end past that in the original is malformed. 32-bit sums
         * cannot wrap here: at most 65528 + 65515. */
        if (ns_ipv4_frag_off(p) + (uint32_t)(total - hlen) > NS_IPV4_MAX_TOTAL)
                return NS_IPV4_FRAG_TOO_LONG;
        return NS_IPV4_VALID;
}

/* Returns a static name for a reason ("bad_ihl"); never NULL. */
const char *ns_ipv4_invalid_name(enum ns_ipv4_invalid why);

/* A 32-bit word in the host's byte order, for sums that do not care. */
static inline uint32_t ns__load_ne32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

/* ns_ipv4_checksum_ok() for any hlen. */
bool ns__ipv4_checksum_ok_any(const uint8_t *hdr, size_t hlen);

/*
 * True when the hlen-byte header at hdr sums to 0xffff (RFC 1071). Reads
 * only. hlen is normally ns_ipv4_hdr_len(hdr) of a validated header. The
 * option-less header, nearly every packet, is summed inline: five words in
 * native byte order, since the one's-complement sum is the same in either
 * order up to a byte swap (RFC 1071 2(B)) and 0xffff is its own swap.
 */
static inline bool ns_ipv4_checksum_ok(const uint8_t *hdr, size_t hlen)
{
        if (hlen != NS_IPV4_MIN_HDR)
                return ns__ipv4_checksum_ok_any(hdr, hlen);
        uint64_t s = (uint64_t)ns__load_ne32(hdr) + ns__load_ne32(hdr + 4) +
                     ns__load_ne32(hdr + 8) + ns__load_ne32(hdr + 12) + ns__load_ne32(hdr + 16);
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffu) + (s >> 16);
        s = (s & 0xffffu) + (s >> 16);
        return s == 0xffff;
}

/*
 * The checksum field for the hlen-byte header at hdr, taking the field
 * itself as zero (it is not read or written).
 */
uint16_t ns_ipv4_compute_checksum(const uint8_t *hdr, size_t hlen);

/* Stores ns_ipv4_compute_checksum(hdr, ns_ipv4_hdr_len(hdr)). */
void ns_ipv4_fill_checksum(uint8_t *hdr);

/*
 * Decrements the TTL of a header with a valid checksum and patches the
 * checksum incrementally (RFC 1624 eqn. 3), as a router does. Returns the
 * new TTL. The caller has checked the TTL is above 1 (RFC 1812 5.3.1).
 */
uint8_t ns_ipv4_dec_ttl(uint8_t *hdr);

/* ---- host-order view ---- */

/*
 * Validates the structure of the len bytes at p (not the checksum) and,
 * when valid, fills *out; out->options points into p.
 */
enum ns_ipv4_invalid ns_ipv4_parse(const uint8_t *p, size_t len, struct ns_ipv4_fields *out);

/*
 * Writes the header for *f to out, options included and padded with EOL
 * (zero) bytes to a multiple of 4 (RFC 791 3.1 "Padding"), and its
 * checksum. Returns the header length in bytes, or 0 having written
 * nothing when it does not fit in cap, options_len > 40, options is NULL
 * with a non-zero length, flags > 7 or frag_off is not a multiple of 8.
 * total_len is written as given.
 */
size_t ns_ipv4_emit(uint8_t *out, size_t cap, const struct ns_ipv4_fields *f);

#endif
