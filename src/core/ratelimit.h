/*
 * Token buckets and the ICMP error rate limiter.
 *
 * Time is an argument (int64_t nanoseconds from the stack's monotonic
 * clock); nothing here reads a clock, allocates after init, or keeps global
 * state.
 */
#ifndef NS_CORE_RATELIMIT_H
#define NS_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/addr.h>
#include <netstack/ratelimit.h>
#include <netstack/alloc.h>

/*
 * A token bucket holding up to `burst` tokens, refilled at `rate` tokens
 * per second. Credit is kept in token-nanoseconds (one token is 1e9
 * units and every elapsed nanosecond adds `rate` units), so refills are
 * exact integer arithmetic: no rounding drift however the calls are spaced.
 * A rate of 0 means unlimited (every take succeeds). A new bucket is full.
 */
struct ns_token_bucket {
        uint64_t credit; /* token-nanoseconds, at most burst * 1e9 */
        int64_t last_ns; /* time of the last refill */
        uint32_t rate;   /* tokens per second; 0 = unlimited */
        uint32_t burst;  /* bucket depth in tokens */
};

/** Makes b a full bucket of `burst` tokens refilled at `rate` per second. */
void ns__tb_init(struct ns_token_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ns);

/**
 * Refills b up to now_ns and returns whether a whole token is available,
 * without taking it. A now_ns earlier than the last refill adds nothing.
 */
bool ns__tb_peek(struct ns_token_bucket *b, int64_t now_ns);

/** Refills b up to now_ns, then takes one token; returns false when none is left. */
bool ns__tb_take(struct ns_token_bucket *b, int64_t now_ns);

/*
 * The ICMP rate limiter: the seed's global bucket (gVisor's
 * ICMPRateLimiter, 1000/s with a burst of 50) and Linux's per-destination
 * bucket (icmpv4_xrlim_allow(): net.ipv4.icmp_ratelimit = 1000 ms, i.e. one
 * per second, with a burst of 6 as inet_peer_xrlim_allow() allows),
 * applied to the types in net.ipv4.icmp_ratemask (default 6168: destination
 * unreachable, source quench, time exceeded, parameter problem).
 *
 * The per-destination buckets live in a table allocated once at init and
 * never grown: 8-way set associative, the set chosen by SipHash-2-4 of the
 * destination under a key from the stack's RNG, so an off-path sender
 * cannot aim many destinations at one set (HOSTILE-INPUTS 41). A new
 * destination takes a free way of its set or evicts the way used least
 * recently. Evicting only ever forgets a bucket (the destination starts
 * again with a full burst); the global bucket still bounds the total.
 *
 * Per-destination limiting is also what keeps the global bucket from being
 * a single observable counter (SAD DNS, CVE-2020-25705; HOSTILE-INPUTS 65):
 * one spoofed source cannot drain it. Linux additionally randomises the
 * cost of each global token; `randomize_global` turns that on here.
 */
/* struct ns_icmp_ratelimit_config is public: <netstack/ratelimit.h>. */

/** Fills c with the defaults above. */
void ns__icmp_rl_config_default(struct ns_icmp_ratelimit_config *c);

/* One per-destination bucket. */
struct ns_icmp_rl_entry {
        ns_ip4 dst;
        uint32_t used; /* 0 = free way */
        int64_t last_use_ns;
        struct ns_token_bucket tb;
};

/** The limiter; fields are private to ratelimit.c. */
struct ns_icmp_ratelimit {
        struct ns_icmp_ratelimit_config cfg;
        struct ns_token_bucket global;
        struct ns_icmp_rl_entry *table; /* nsets * 8 entries, NULL when host_rate is 0 */
        uint32_t set_mask;              /* nsets - 1 */
        uint32_t entries_used;
        uint64_t k0, k1; /* SipHash key */
        uint64_t rng;    /* splitmix64 state for randomize_global */
        struct ns_allocator alloc;
};

/** Answer of ns__icmp_rl_check(). */
enum ns_icmp_rl_verdict {
        NS_ICMP_RL_ALLOW = 0,
        NS_ICMP_RL_LIMITED_HOST,   /* the destination's bucket was empty (OutRateLimitHost) */
        NS_ICMP_RL_LIMITED_GLOBAL, /* the global bucket was empty (OutRateLimitGlobal) */
};

/**
 * Sets up rl with cfg (NULL means the defaults) and allocates its table
 * through a (NULL means malloc), keying the destination hash with `secret`,
 * which the caller draws from the stack's RNG. Buckets start full at
 * now_ns. Returns 0, NS_ERR_INVALID_ARGUMENT for a burst of 0 with a
 * non-zero rate or a table of more than 2^24 entries, or NS_ERR_NO_MEMORY.
 */
int ns__icmp_rl_init(struct ns_icmp_ratelimit *rl, const struct ns_allocator *a,
                     const struct ns_icmp_ratelimit_config *cfg, int64_t now_ns, uint64_t secret);

/** Frees rl's table. rl may be zeroed or already destroyed. */
void ns__icmp_rl_destroy(struct ns_icmp_ratelimit *rl);

/**
 * Decides whether an ICMP message of (type, code) may be sent to dst now.
 *
 * - Echo replies (type 0) pass untouched unless limit_echo_reply is set.
 * - Fragmentation needed (type 3 code 4) always passes and takes no token:
 *   Linux never limits it (icmpv4_mask_allow()), because a dropped one
 *   black-holes path MTU discovery (RFC 1191).
 * - Types in cfg.mask first need a token from dst's bucket, then every
 *   message needs one from the global bucket.
 *
 * A refusal takes no token from either bucket, so a destination that is
 * over its limit does not drain the global bucket, and a global refusal
 * does not cost the destination. The caller counts the answer in
 * icmp.sent_rate_limited and sent_rate_limited_host or _global.
 */
enum ns_icmp_rl_verdict ns__icmp_rl_check(struct ns_icmp_ratelimit *rl, uint8_t type, uint8_t code,
                                          ns_ip4 dst, int64_t now_ns);

/** ns__icmp_rl_check() for code 0: true when the message may be sent. */
bool ns__icmp_rl_allow(struct ns_icmp_ratelimit *rl, uint8_t type, ns_ip4 dst, int64_t now_ns);

/**
 * SipHash-2-4 (Aumasson and Bernstein) of the 4-byte message w, taken as
 * little-endian bytes, under the key (k0, k1). A keyed PRF: without the key
 * nobody can predict which set of the table a destination lands in.
 */
uint64_t ns__siphash24_u32(uint64_t k0, uint64_t k1, uint32_t w);

/** Number of destinations the table currently tracks (at most its size). */
uint32_t ns__icmp_rl_tracked(const struct ns_icmp_ratelimit *rl);

/** Size of the per-destination table in entries (0 when unused). */
uint32_t ns__icmp_rl_capacity(const struct ns_icmp_ratelimit *rl);

#endif
