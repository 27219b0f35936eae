/*
 * Helpers that turn an injected struct ns_rng into numbers with a given
 * distribution. Every helper draws fresh bytes from r->fill() and is exact:
 * ranges are reduced by rejection, never by a biased modulo.
 */
#ifndef NS_CORE_RNG_H
#define NS_CORE_RNG_H

#include <stdint.h>

#include <netstack/rng.h>

/** Returns 32 uniformly random bits. */
uint32_t ns__rng_u32(const struct ns_rng *r);

/** Returns 64 uniformly random bits. */
uint64_t ns__rng_u64(const struct ns_rng *r);

/**
 * Returns a value uniform in [0, n). n must be positive; n == 0 returns 0
 * without drawing, so a caller's bug cannot divide by zero.
 */
uint32_t ns__rng_below(const struct ns_rng *r, uint32_t n);

/**
 * Returns a duration uniform in [0, max_ns], both ends included (RFC 2236
 * section 3: "a random value between 0 and the Max Response Time"). max_ns
 * <= 0 returns 0 without drawing.
 */
int64_t ns__rng_duration(const struct ns_rng *r, int64_t max_ns);

#endif
