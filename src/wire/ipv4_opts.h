/*
 * IPv4 options (RFC 791 section 3.1): an iterator over an option area with
 * exact fault positions, accessors for Record Route and Timestamp, and a
 * serializer for the options this stack sends. No policy lives here (which
 * options to honour, duplicates, what to answer): that is the IPv4 layer's
 * job. This file only guarantees that every option it yields lies wholly
 * inside the area and that every accessor stays inside its option.
 *
 * Fault positions ("pointers") are byte offsets from the start of the IP
 * header, the value an ICMP Parameter Problem carries (RFC 792); the option
 * area starts at 20. They match gVisor's IPv4OptionIterator and Linux's
 * __ip_options_compile().
 */
#ifndef NS_WIRE_IPV4_OPTS_H
#define NS_WIRE_IPV4_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>

/* Option types. Bit 7 is the "copied" flag, bits 5-6 the class. */
#define NS_IPV4_OPT_EOL          0   /* end of option list */
#define NS_IPV4_OPT_NOP          1   /* no operation */
#define NS_IPV4_OPT_RR           7   /* record route */
#define NS_IPV4_OPT_TS           68  /* internet timestamp */
#define NS_IPV4_OPT_LSRR         131 /* loose source route */
#define NS_IPV4_OPT_SSRR         137 /* strict source route */
#define NS_IPV4_OPT_ROUTER_ALERT 148 /* RFC 2113 */

/* Offsets inside an option. */
#define NS_IPV4_OPT_LEN_OFF     1 /* length byte */
#define NS_IPV4_OPT_PTR_OFF     2 /* RR/TS pointer byte (1-based, from the type) */
#define NS_IPV4_OPT_TS_OFLW_OFF 3 /* TS overflow (high nibble) and flags */

#define NS_IPV4_OPT_RR_HDR     3 /* type, length, pointer */
#define NS_IPV4_OPT_TS_HDR     4 /* type, length, pointer, oflw/flags */
#define NS_IPV4_OPT_RA_LEN     4 /* router alert is always 4 bytes */
#define NS_IPV4_OPT_RR_MIN_PTR 4 /* smallest legal RR pointer */
#define NS_IPV4_OPT_TS_MIN_PTR 5 /* smallest legal TS pointer */

/* Timestamp flags (low nibble of byte 3). */
#define NS_IPV4_OPT_TS_ONLY    0 /* timestamps only */
#define NS_IPV4_OPT_TS_ADDR    1 /* address + timestamp */
#define NS_IPV4_OPT_TS_PRESPEC 3 /* prespecified addresses */

/* What ns_ipv4_opt_next() found. */
enum ns_ipv4_opt_result {
        NS_IPV4_OPT_OK = 0,    /* *out holds an option */
        NS_IPV4_OPT_DONE,      /* no more options (end of area, or after EOL) */
        NS_IPV4_OPT_MALFORMED, /* see it->fault and it->fault_ptr */
};

/* Why an option is malformed; fault_ptr says where. */
#define NS_IPV4_OPT_FAULT_TABLE(X)                                              \
        X(NS_IPV4_OPT_FAULT_NONE, "none")                                       \
        X(NS_IPV4_OPT_FAULT_NO_LENGTH, "no_length") /* type in the last byte */ \
        X(NS_IPV4_OPT_FAULT_LEN_SMALL, "len_small") /* length 0 or 1 */         \
        X(NS_IPV4_OPT_FAULT_LEN_BIG, "len_big")     /* length past the area */  \
        X(NS_IPV4_OPT_FAULT_RR_SHORT, "rr_short")   /* RR length < 3 */         \
        X(NS_IPV4_OPT_FAULT_TS_SHORT, "ts_short")   /* TS length < 4 */         \
        X(NS_IPV4_OPT_FAULT_RA_LEN, "ra_len")       /* Router Alert length != 4 */

enum ns_ipv4_opt_fault {
#define NS_IPV4_OPT_FAULT_ENUM(name, str) name,
        NS_IPV4_OPT_FAULT_TABLE(NS_IPV4_OPT_FAULT_ENUM)
#undef NS_IPV4_OPT_FAULT_ENUM
};

/* One option yielded by the iterator. */
struct ns_ipv4_opt {
        uint8_t type;
        uint8_t len;        /* whole option in bytes: 1 for EOL/NOP, else its length byte */
        uint8_t offset;     /* of its type byte from the start of the IP header */
        const uint8_t *opt; /* its type byte; len bytes are readable */
};

/*
 * Iterator state. Fields are read-only for callers except as documented:
 * cursor is the header offset of the option last yielded or found faulty
 * (gVisor's ErrCursor); fault and fault_ptr describe a malformed option.
 */
struct ns_ipv4_opt_iter {
        const uint8_t *area;
        uint8_t area_len;
        uint8_t pos; /* next unread byte of the area */
        bool done;
        uint8_t cursor;
        enum ns_ipv4_opt_fault fault;
        uint8_t fault_ptr;
};

/*
 * Starts iterating over the len-byte option area at opts (the bytes after
 * the fixed 20-byte header; len <= 40, larger values are clamped to 40).
 * Borrows opts for the life of the iterator.
 */
void ns_ipv4_opt_iter_init(struct ns_ipv4_opt_iter *it, const uint8_t *opts, size_t len);

/*
 * Yields the next option into *out. EOL is yielded once, then the iterator
 * reports DONE: bytes after EOL are padding (RFC 791 "End of Option List")
 * and are never parsed. Faults, with fault_ptr:
 *  - a type other than EOL/NOP in the last byte: its own offset
 *    (gVisor "bad option - no length": options 1,1,1,68 give 23);
 *  - a length byte of 0 or 1, or one running past the area: the option's
 *    type byte (Linux reports the option start, not the length byte);
 *  - RR shorter than 3, TS shorter than 4, Router Alert not 4: the length
 *    byte (type offset + 1), as gVisor.
 * After a fault every later call returns MALFORMED again.
 */
enum ns_ipv4_opt_result ns_ipv4_opt_next(struct ns_ipv4_opt_iter *it, struct ns_ipv4_opt *out);

/* Returns a static name for a fault ("len_big"); never NULL. */
const char *ns_ipv4_opt_fault_name(enum ns_ipv4_opt_fault fault);

/* The copied flag (bit 7): the option goes into every fragment (RFC 791
 * 3.1, 3.2 "Fragmentation"). */
static inline bool ns_ipv4_opt_copied(uint8_t type)
{
        return (type & 0x80) != 0;
}

/* ---- Record Route (type 7), on an option yielded by the iterator ---- */

static inline uint8_t ns_ipv4_opt_rr_pointer(const uint8_t *opt)
{
        return opt[NS_IPV4_OPT_PTR_OFF];
}

/*
 * Stores addr in the slot the pointer names and advances the pointer by 4.
 * Returns false, writing nothing, unless 4 <= pointer and pointer + 3 <=
 * length (a whole slot inside the option).
 */
bool ns_ipv4_opt_rr_store(uint8_t *opt, ns_ip4 addr);

/* ---- Timestamp (type 68), on an option yielded by the iterator ---- */

static inline uint8_t ns_ipv4_opt_ts_pointer(const uint8_t *opt)
{
        return opt[NS_IPV4_OPT_PTR_OFF];
}
/* Overflow counter: hosts that could not register (high nibble). */
static inline uint8_t ns_ipv4_opt_ts_overflow(const uint8_t *opt)
{
        return opt[NS_IPV4_OPT_TS_OFLW_OFF] >> 4;
}
/* Flags: NS_IPV4_OPT_TS_ONLY, _ADDR or _PRESPEC (other values invalid). */
static inline uint8_t ns_ipv4_opt_ts_flags(const uint8_t *opt)
{
        return opt[NS_IPV4_OPT_TS_OFLW_OFF] & 0x0f;
}

/*
 * Adds one to the overflow counter, keeping the flags. Returns the new
 * value, 0 when the 4-bit counter wrapped (RFC 791: the datagram is then
 * in error).
 */
uint8_t ns_ipv4_opt_ts_inc_overflow(uint8_t *opt);

/*
 * Stores a 32-bit timestamp at the pointer and advances it by 4. Returns
 * false, writing nothing, unless 5 <= pointer and pointer + 3 <= length.
 */
bool ns_ipv4_opt_ts_store(uint8_t *opt, uint32_t ts);

/*
 * Stores addr then a timestamp at the pointer and advances it by 8 (flags
 * 1, or 3 after the caller matched the prespecified address). Returns
 * false, writing nothing, unless 5 <= pointer and pointer + 7 <= length.
 */
bool ns_ipv4_opt_ts_store_addr(uint8_t *opt, ns_ip4 addr, uint32_t ts);

/*
 * Reads the address in the slot at the pointer (flags 3). Returns false
 * unless 5 <= pointer and pointer + 7 <= length.
 */
bool ns_ipv4_opt_ts_slot_addr(const uint8_t *opt, ns_ip4 *addr);

/* ---- serializer for options we send; each returns bytes written or 0
 * (nothing written) when it does not fit in cap or exceeds 40 bytes ---- */

/* Router Alert, value 0 "examine packet" (RFC 2113 2.1): 148, 4, 0, 0. */
size_t ns_ipv4_opt_put_router_alert(uint8_t *out, size_t cap);

/* Record Route with `slots` empty addresses (1..9), pointer 4. */
size_t ns_ipv4_opt_put_rr(uint8_t *out, size_t cap, unsigned slots);

/*
 * Timestamp with `slots` empty entries, pointer 5 and overflow 0: 4 bytes
 * per slot for NS_IPV4_OPT_TS_ONLY (1..9), 8 for _ADDR (1..4); for _PRESPEC
 * the slots carry the addresses prespec[0..slots-1] (1..4). Other flags
 * are refused.
 */
size_t ns_ipv4_opt_put_ts(uint8_t *out, size_t cap, uint8_t flags, unsigned slots,
                          const ns_ip4 *prespec);

/*
 * Pads len bytes of options at out with EOL (zero) bytes up to a multiple
 * of 4. Returns the padded length (0 for len 0), or 0 when that exceeds
 * cap.
 */
size_t ns_ipv4_opt_pad(uint8_t *out, size_t len, size_t cap);

#endif
