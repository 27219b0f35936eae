/**
 * @file
 * Random numbers. The stack never reads randomness itself (DESIGN.md,
 * "Sans-I/O core"): it asks an injected struct ns_rng, for IP ID hash keys,
 * timer jitter (IGMP report delays, RFC 2236 section 3) and the like. Tests,
 * fuzzers and replays use the seeded generator below; a real program uses
 * ns_system_rng() from <netstack/sys.h>.
 */
#ifndef NETSTACK_RNG_H
#define NETSTACK_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A source of random bytes, passed by value. */
struct ns_rng {
        /** Fills len bytes at buf with random bytes; cannot fail. */
        void (*fill)(void *ctx, void *buf, size_t len);
        /** Passed back to fill. */
        void *ctx;
};

/**
 * A deterministic generator: xoshiro256** (Blackman and Vigna) whose state
 * is seeded from one 64-bit value through splitmix64. The same seed always
 * gives the same byte stream on every platform. Not cryptographic: use it
 * for tests, fuzzing and replay, not to key a production stack.
 */
struct ns_seeded_rng {
        uint64_t s[4]; /**< generator state; never all zero */
};

/** Seeds r; any seed, including 0, is valid. */
NS_API void ns_seeded_rng_init(struct ns_seeded_rng *r, uint64_t seed);

/**
 * Returns a struct ns_rng that draws from r. The result borrows r, which
 * must outlive every user of the returned generator. Each fill() consumes
 * one 64-bit output per started 8 bytes, written least significant byte
 * first; the unused bytes of a final partial output are discarded.
 */
NS_API struct ns_rng ns_seeded_rng_as_rng(struct ns_seeded_rng *r);

#ifdef __cplusplus
}
#endif

#endif
