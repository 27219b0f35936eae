/*
 * IGMP codec: v1/v2 messages (RFC 1112, RFC 2236: 8 bytes) and IGMPv3
 * queries and reports (RFC 3376 4.1, 4.2). Lengths come from the IP layer;
 * every count inside a message is checked against the bytes present before
 * anything it counts is read (HOSTILE-INPUTS G.69).
 */
#ifndef NS_WIRE_IGMP_H
#define NS_WIRE_IGMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>

#include "wire/bytes.h"

#define NS_IGMP_LEN         8  /* v1/v2 message, v3 report header */
#define NS_IGMPV3_QUERY_MIN 12 /* v3 query without sources */
#define NS_IGMPV3_REC_HDR   8  /* v3 group record without sources */

#define NS_IGMP_QUERY     0x11 /* membership query, all versions */
#define NS_IGMP_V1_REPORT 0x12
#define NS_IGMP_V2_REPORT 0x16
#define NS_IGMP_LEAVE     0x17 /* v2 leave group */
#define NS_IGMP_V3_REPORT 0x22

/* IGMPv3 group record types (RFC 3376 4.2.12). */
#define NS_IGMPV3_MODE_IS_INCLUDE   1
#define NS_IGMPV3_MODE_IS_EXCLUDE   2
#define NS_IGMPV3_CHANGE_TO_INCLUDE 3
#define NS_IGMPV3_CHANGE_TO_EXCLUDE 4
#define NS_IGMPV3_ALLOW_NEW         5
#define NS_IGMPV3_BLOCK_OLD         6

/* Why ns_igmp_validate() rejected a message. */
#define NS_IGMP_INVALID_TABLE(X)                                                     \
        X(NS_IGMP_VALID, "valid")                                                    \
        X(NS_IGMP_TOO_SHORT, "too_short")                 /* < 8 bytes */            \
        X(NS_IGMP_QUERY_BAD_LEN, "query_bad_len")         /* query of 9..11 bytes */ \
        X(NS_IGMP_SOURCES_TRUNCATED, "sources_truncated") /* v3 query sources */     \
        X(NS_IGMP_RECORD_TRUNCATED, "record_truncated")   /* v3 report record */     \
        X(NS_IGMP_BAD_CHECKSUM, "bad_checksum")           /* from checksum_ok */

enum ns_igmp_invalid {
#define NS_IGMP_ENUM(name, str) name,
        NS_IGMP_INVALID_TABLE(NS_IGMP_ENUM)
#undef NS_IGMP_ENUM
};

/* Query versions told apart by length and Max Resp (RFC 3376 7.1). */
enum ns_igmp_query_version {
        NS_IGMP_QUERY_INVALID = 0,
        NS_IGMP_QUERY_V1, /* 8 bytes, Max Resp 0 */
        NS_IGMP_QUERY_V2, /* 8 bytes, Max Resp non-zero */
        NS_IGMP_QUERY_V3, /* 12 bytes or more */
};

/* ---- v1/v2 accessors (8 bytes) ---- */

static inline uint8_t ns_igmp_type(const uint8_t *p)
{
        return p[0];
}
/* v2: Max Response Time in tenths of a second; v3: the Max Resp Code. */
static inline uint8_t ns_igmp_max_resp(const uint8_t *p)
{
        return p[1];
}
static inline uint16_t ns_igmp_checksum(const uint8_t *p)
{
        return ns_load_be16(p + 2);
}
static inline ns_ip4 ns_igmp_group(const uint8_t *p)
{
        return ns_load_be32(p + 4);
}

/* ---- v3 query accessors (12 bytes; sources bounded by validate) ---- */

/* S flag: suppress router-side processing. */
static inline bool ns_igmpv3_query_s_flag(const uint8_t *p)
{
        return (p[8] & 0x08) != 0;
}
/* Querier's Robustness Variable, 0..7. */
static inline uint8_t ns_igmpv3_query_qrv(const uint8_t *p)
{
        return p[8] & 0x07;
}
/* Querier's Query Interval Code; decode with ns_igmpv3_decode_code(). */
static inline uint8_t ns_igmpv3_query_qqic(const uint8_t *p)
{
        return p[9];
}
static inline uint16_t ns_igmpv3_query_nsources(const uint8_t *p)
{
        return ns_load_be16(p + 10);
}
/* Source i; i < nsources of a validated query. */
static inline ns_ip4 ns_igmpv3_query_source(const uint8_t *p, uint16_t i)
{
        return ns_load_be32(p + NS_IGMPV3_QUERY_MIN + 4 * (size_t)i);
}

/* ---- v3 report ---- */

static inline uint16_t ns_igmpv3_report_nrecords(const uint8_t *p)
{
        return ns_load_be16(p + 6);
}

/*
 * Decodes an IGMPv3 Max Resp Code or QQIC (RFC 3376 4.1.1, 4.1.7): values
 * below 128 are taken as is; otherwise (mant | 0x10) << (exp + 3). Max
 * Resp units are tenths of a second, QQIC seconds. A code of 0 decodes to
 * 0, which callers must treat as "respond now" and never divide by
 * (CVE-2012-0207).
 */
static inline uint32_t ns_igmpv3_decode_code(uint8_t code)
{
        if (code < 128)
                return code;
        return (uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

/* The query version of a len-byte query with this Max Resp (RFC 3376 7.1);
 * NS_IGMP_QUERY_INVALID for 9..11 bytes or fewer than 8. */
enum ns_igmp_query_version ns_igmp_query_version(size_t len, uint8_t max_resp);

/*
 * Structure only: at least 8 bytes; a query is 8 bytes or a v3 query whose
 * sources all lie within len; a v3 report's records all lie within len.
 * Other types need just 8 bytes. Bytes beyond what a message describes are
 * allowed.
 */
enum ns_igmp_invalid ns_igmp_validate(const uint8_t *p, size_t len);

/* Returns a static name for a reason; never NULL. */
const char *ns_igmp_invalid_name(enum ns_igmp_invalid why);

/* True when the len-byte message sums to 0xffff. Reads only (gVisor
 * once mutated the packet to check it: HOSTILE-INPUTS G.68). */
bool ns_igmp_checksum_ok(const uint8_t *p, size_t len);

/* The checksum field of the len-byte message, taking the field as zero. */
uint16_t ns_igmp_compute_checksum(const uint8_t *p, size_t len);

/* One group record of a v3 report, as the iterator yields it. */
struct ns_igmpv3_rec {
        uint8_t type;      /* NS_IGMPV3_* record type */
        uint8_t aux_words; /* auxiliary data length in 32-bit words */
        uint16_t nsources;
        ns_ip4 group;
        const uint8_t *sources; /* nsources * 4 bytes */
        const uint8_t *aux;     /* aux_words * 4 bytes */
};

static inline ns_ip4 ns_igmpv3_rec_source(const struct ns_igmpv3_rec *r, uint16_t i)
{
        return ns_load_be32(r->sources + 4 * (size_t)i);
}

enum ns_igmpv3_rec_result {
        NS_IGMPV3_REC_OK = 0,
        NS_IGMPV3_REC_DONE,
        NS_IGMPV3_REC_TRUNCATED, /* a record runs past the message */
};

struct ns_igmpv3_rec_iter {
        const uint8_t *msg;
        size_t len;
        size_t pos;
        uint16_t left; /* records not yet yielded */
        bool bad;
};

/* Iterates the records of the len-byte v3 report at msg (len >= 8). */
void ns_igmpv3_rec_iter_init(struct ns_igmpv3_rec_iter *it, const uint8_t *msg, size_t len);

/* Yields the next record; TRUNCATED (then always TRUNCATED) when its
 * header, sources or aux data run past the message. */
enum ns_igmpv3_rec_result ns_igmpv3_rec_next(struct ns_igmpv3_rec_iter *it,
                                             struct ns_igmpv3_rec *out);

/* ---- emitters: bytes written, or 0 having written nothing ---- */

/* An 8-byte message (v1/v2 query, v2 report, leave) with its checksum. */
size_t ns_igmp_emit(uint8_t *out, size_t cap, uint8_t type, uint8_t max_resp, ns_ip4 group);

/* A v3 query with its checksum; qrv is truncated to 3 bits. */
size_t ns_igmpv3_emit_query(uint8_t *out, size_t cap, uint8_t max_resp_code, ns_ip4 group,
                            bool s_flag, uint8_t qrv, uint8_t qqic, const ns_ip4 *sources,
                            uint16_t nsources);

/* A group record to emit in a v3 report (no auxiliary data). */
struct ns_igmpv3_rec_out {
        uint8_t type;
        ns_ip4 group;
        const ns_ip4 *sources;
        uint16_t nsources;
};

/* A v3 report of nrecs records with its checksum. */
size_t ns_igmpv3_emit_report(uint8_t *out, size_t cap, const struct ns_igmpv3_rec_out *recs,
                             uint16_t nrecs);

#endif
