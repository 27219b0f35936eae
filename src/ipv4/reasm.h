/*
 * Fragment reassembly, generic over the network protocol (like gVisor's
 * network/internal/fragmentation package and Linux's inet_fragment.c): it
 * knows keys, payload offsets, lengths and packets, never IPv4 header
 * semantics. The IPv4 layer validates the header, extracts the offset, MF
 * flag and payload length, hands the fragment in, and fixes Total Length,
 * flags and checksum of the datagram it gets back.
 *
 * Rules (HOSTILE-INPUTS.md C and D):
 *  - an exact duplicate of a held fragment is ignored and the datagram is
 *    kept (Linux ade446403bfb; gVisor keeps duplicates too);
 *  - any other overlap abandons the whole datagram (Linux 7969e5c40dfd,
 *    gVisor 2020; RFC 8200 4.5 demands it for IPv6): reasm_overlaps and
 *    reasm_fails;
 *  - a fragment past the end fixed by an accepted final fragment, or a final
 *    fragment disagreeing with the held ones, abandons it too (reasm_fails);
 *  - a non-final fragment must carry a non-zero multiple of 8 bytes, every
 *    offset must be a multiple of 8, offset + length must not pass 65535,
 *    and its header plus offset + length must not pass max_datagram (ping
 *    of death; Linux ip_frag_queue() checks end + ihl > 65535 the same
 *    way): otherwise the fragment alone is dropped as malformed and the
 *    datagram is untouched;
 *  - a datagram whose offset-0 header plus payload would pass max_datagram
 *    is abandoned at completion (Linux ip_frag_reasm() "oversized"), so a
 *    completed datagram's length always fits IPv4's Total Length;
 *  - a datagram completes only when its final fragment was accepted and no
 *    hole remains;
 *  - bookkeeping lives in nodes outside packet memory (U-Boot
 *    CVE-2022-30790); sizes are 32-bit (picoTCP #529);
 *  - held fragments sit in a per-datagram AVL tree keyed by offset, so
 *    insertion is O(log n) whatever the arrival order (FragmentSmack,
 *    CVE-2018-5391), and a datagram holding more than max_frags fragments
 *    is abandoned;
 *  - memory is accounted as the storage really held (each fragment's buffer
 *    capacity plus the bookkeeping), and going above high_bytes evicts the
 *    oldest datagrams until low_bytes (Linux's ipfrag_high/low_thresh,
 *    lwIP's oldest-first eviction);
 *  - datagrams live in a hash table keyed by a secret (CVE-2003-0364);
 *  - each datagram's deadline is fixed when its first fragment arrives
 *    (RFC 791 3.2 / RFC 1122 3.3.2 timer); ns__reasm_expire() drops those
 *    due and reports them so the caller can send ICMP Time Exceeded code 1.
 *
 * Completed datagrams are built by one copy of each payload byte into a
 * fresh contiguous packet; the fragments are freed at that point.
 *
 * Not thread safe: one struct ns_reasm belongs to one stack (DESIGN.md).
 */
#ifndef NS_IPV4_REASM_H
#define NS_IPV4_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/addr.h>
#include <netstack/alloc.h>
#include <netstack/pkt.h>
#include <netstack/stats.h>

/* Default limits: the seed's HighFragThreshold / LowFragThreshold and
 * ReassembleTimeout (Linux: ipfrag_high_thresh 4 MiB, low 3 MiB, 30 s). */
#define NS_REASM_DEFAULT_HIGH_BYTES (4u << 20)
#define NS_REASM_DEFAULT_LOW_BYTES  (3u << 20)
#define NS_REASM_DEFAULT_TIMEOUT_NS (30LL * 1000000000LL)
#define NS_REASM_DEFAULT_MAX_FRAGS  1024u

/* Headroom left before the network header of a completed datagram. */
#define NS_REASM_HEADROOM 128u

/* Largest payload offset + length of a datagram, whatever its header. */
#define NS_REASM_MAX_PAYLOAD 65535u

/* Default largest header + payload of a completed datagram: IPv4's Total
 * Length (RFC 791 3.1). IPv6 would use 40 + 65535. */
#define NS_REASM_DEFAULT_MAX_DATAGRAM 65535u

/* Identifies the datagram a fragment belongs to (RFC 791 2.3: source,
 * destination, protocol and identification). IPv4 ids are 16 bits. */
struct ns_reasm_key {
        ns_ip4 src, dst;
        uint32_t id;
        uint8_t proto;
};

/* Limits. A zero field means its default; low_bytes above high_bytes is
 * lowered to high_bytes. */
struct ns_reasm_config {
        uint64_t high_bytes;   /* eviction starts above this many bytes held */
        uint64_t low_bytes;    /* and stops at or below this many */
        int64_t timeout_ns;    /* from a datagram's first fragment */
        uint32_t max_frags;    /* fragments held per datagram */
        uint32_t max_datagram; /* header + payload bytes of a completed datagram */
};

struct ns_reasm;

/*
 * Creates a reassembler whose bookkeeping comes from a (copied; NULL means
 * malloc) and whose completed datagrams come from pool. cfg NULL means the
 * defaults. hash_secret keys the table (take it from the stack's RNG).
 * stats, when not NULL, receives reasm_reqds, reasm_oks, reasm_fails,
 * reasm_timeout and reasm_overlaps and must outlive the reassembler.
 * Returns NULL when the allocator refuses.
 */
struct ns_reasm *ns__reasm_create(const struct ns_allocator *a, struct ns_pkt_pool *pool,
                                  const struct ns_reasm_config *cfg, uint64_t hash_secret,
                                  struct ns_ip_stats *stats);

/* Frees every held fragment and all bookkeeping. NULL is ignored. */
void ns__reasm_destroy(struct ns_reasm *r);

/* What ns__reasm_add() did with a fragment. */
enum ns_reasm_result {
        NS_REASM_HELD = 0,  /* kept; the datagram is still incomplete */
        NS_REASM_COMPLETE,  /* *out is the whole datagram */
        NS_REASM_DUPLICATE, /* an exact copy of a held fragment; dropped */
        NS_REASM_MALFORMED, /* bad offset or length; dropped, datagram kept */
        NS_REASM_OVERLAP,   /* partial overlap; datagram abandoned */
        NS_REASM_CONFLICT,  /* past the final end, finals disagree, or the
                             * whole would pass max_datagram; abandoned */
        NS_REASM_TOO_MANY,  /* more than max_frags fragments; abandoned */
        NS_REASM_NO_MEMORY, /* over the memory limit or out of buffers; abandoned */
};

/* Returns a static name for a result ("overlap"); never NULL. */
const char *ns__reasm_result_name(enum ns_reasm_result res);

/*
 * Adds one fragment at time now_ns. Consumes pkt on every path.
 *
 * pkt's data starts at the network header (hdr_len bytes, options
 * included), followed by at least payload_len bytes of payload (bytes
 * beyond are ignored, as link padding). offset is the payload's byte
 * offset in the original datagram; more is the MF flag.
 *
 * Returns NS_REASM_COMPLETE with *out set to the whole datagram: one
 * contiguous packet (owned by the caller) holding the offset-0 fragment's
 * hdr_len header bytes as received followed by the full payload, with
 * NS_REASM_HEADROOM bytes of headroom, its network header marked at the
 * data start, and nic_id, flags, mark and net_proto taken from the offset-0
 * fragment. A fragment that is a whole datagram by itself (offset 0, more
 * false, nothing held for its key) is returned as *out, unchanged but for
 * the network header mark. The
 * caller fixes the header's Total Length, flags and checksum. On every
 * other result *out is NULL.
 *
 * A fragment arriving for a datagram whose deadline has passed (the
 * caller has not yet run ns__reasm_expire()) finds it dropped as timed out,
 * without a report, and starts a new one.
 */
enum ns_reasm_result ns__reasm_add(struct ns_reasm *r, const struct ns_reasm_key *key,
                                   uint32_t offset, uint32_t payload_len, bool more,
                                   uint32_t hdr_len, struct ns_pkt *pkt, int64_t now_ns,
                                   struct ns_pkt **out);

/* The earliest deadline of a held datagram, or INT64_MAX when none is held. */
int64_t ns__reasm_next_expiry(const struct ns_reasm *r);

/*
 * Drops every datagram whose deadline is <= now_ns, oldest first, counting
 * reasm_timeout and reasm_fails for each (as Linux's ip_expire() does).
 * Before dropping one it calls on_timeout (when not NULL) with its key and
 * the held offset-0 fragment, borrowed for the call only (data at the
 * network header, as received), or NULL when that fragment never arrived:
 * RFC 792 / RFC 1122 3.3.2 allow Time Exceeded code 1 only in the first
 * case. on_timeout must not call back into r.
 */
void ns__reasm_expire(struct ns_reasm *r, int64_t now_ns,
                      void (*on_timeout)(void *ctx, const struct ns_reasm_key *key,
                                         const struct ns_pkt *first),
                      void *ctx);

/* Bytes accounted to held fragments and their bookkeeping. */
uint64_t ns__reasm_bytes_held(const struct ns_reasm *r);

/* Datagrams being reassembled. */
uint32_t ns__reasm_datagrams_held(const struct ns_reasm *r);

/*
 * For tests: whether every held datagram's fragment tree is a valid AVL
 * tree (ordered by offset, stored heights exact, balance factors within
 * one, as many nodes as fragments held); the greatest height goes to
 * *max_height when not NULL.
 */
bool ns__reasm_trees_valid(const struct ns_reasm *r, uint32_t *max_height);

#endif
