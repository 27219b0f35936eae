/*
 * The seeded generator (<netstack/rng.h>) and the distribution helpers of
 * core/rng.h.
 *
 * xoshiro256** and splitmix64 are the public-domain algorithms of Blackman
 * and Vigna (https://prng.di.unimi.it/); this is our own rendering of them.
 */
#include <string.h>

#include <netstack/rng.h>

#include "core/rng.h"

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        return z ^ (z >> 31);
}

static uint64_t xoshiro_next(struct ns_seeded_rng *r)
{
        uint64_t *s = r->s;
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
}

void ns_seeded_rng_init(struct ns_seeded_rng *r, uint64_t seed)
{
        uint64_t sm = seed;
        for (int i = 0; i < 4; i++)
                r->s[i] = splitmix64(&sm);
        /* splitmix64 is a bijection of its counter, so four consecutive
         * outputs are never all zero; xoshiro's one forbidden state cannot
         * occur. */
}

static void seeded_fill(void *ctx, void *buf, size_t len)
{
        struct ns_seeded_rng *r = ctx;
        uint8_t *out = buf;

        while (len > 0) {
                uint64_t v = xoshiro_next(r);
                size_t n = len < 8 ? len : 8;
                /* Least significant byte first, whatever the host's order,
                 * so a seed gives the same bytes everywhere. */
                for (size_t i = 0; i < n; i++)
                        out[i] = (uint8_t)(v >> (8 * i));
                out += n;
                len -= n;
        }
}

struct ns_rng ns_seeded_rng_as_rng(struct ns_seeded_rng *r)
{
        struct ns_rng rng = { .fill = seeded_fill, .ctx = r };
        return rng;
}

uint32_t ns__rng_u32(const struct ns_rng *r)
{
        uint8_t b[4];
        r->fill(r->ctx, b, sizeof(b));
        return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t ns__rng_u64(const struct ns_rng *r)
{
        uint8_t b[8];
        uint64_t v = 0;
        r->fill(r->ctx, b, sizeof(b));
        for (int i = 7; i >= 0; i--)
                v = v << 8 | b[i];
        return v;
}

uint32_t ns__rng_below(const struct ns_rng *r, uint32_t n)
{
        if (n == 0)
                return 0;
        /* Values below `floor` would make some residues one more likely than
         * others; (2^32 - n) mod n is how many there are. Rejecting them
         * leaves a whole number of copies of [0, n), so x % n is exact. The
         * loop runs more than once with probability below 1/2. */
        uint32_t floor = (uint32_t)(0u - n) % n;
        uint32_t x;
        do {
                x = ns__rng_u32(r);
        } while (x < floor);
        return x % n;
}

int64_t ns__rng_duration(const struct ns_rng *r, int64_t max_ns)
{
        if (max_ns <= 0)
                return 0;
        /* The range [0, max_ns] has max_ns + 1 <= 2^63 values; same
         * rejection as ns__rng_below, in 64 bits. */
        uint64_t n = (uint64_t)max_ns + 1;
        uint64_t floor = (0 - n) % n;
        uint64_t x;
        do {
                x = ns__rng_u64(r);
        } while (x < floor);
        return (int64_t)(x % n);
}
