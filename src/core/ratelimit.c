/*
 * Token buckets and the ICMP error rate limiter (see ratelimit.h for the
 * contract and where each default comes from).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netstack/err.h>

#include "core/ratelimit.h"

/* Credit units per token: one token is a second's worth of nanoseconds. */
#define UNITS_PER_TOKEN 1000000000ull

/* Ways per set of the per-destination table. */
#define WAYS 8u

/* Largest per-destination table we agree to allocate. */
#define MAX_ENTRIES (1u << 24)

void ns__tb_init(struct ns_token_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ns)
{
        b->rate = rate;
        b->burst = burst;
        b->credit = (uint64_t)burst * UNITS_PER_TOKEN;
        b->last_ns = now_ns;
}

/*
 * Adds the credit earned since last_ns, capped at a full bucket. Exact:
 * when the elapsed time is enough to fill the bucket we set it full
 * without multiplying (which could overflow); otherwise elapsed * rate is
 * at most the missing credit and fits.
 */
static void tb_refill(struct ns_token_bucket *b, int64_t now_ns)
{
        uint64_t full, missing, elapsed;

        if (b->rate == 0 || now_ns <= b->last_ns)
                return;
        elapsed = (uint64_t)now_ns - (uint64_t)b->last_ns;
        b->last_ns = now_ns;
        full = (uint64_t)b->burst * UNITS_PER_TOKEN;
        missing = full - b->credit;
        if (missing == 0)
                return;
        if (elapsed > missing / b->rate)
                b->credit = full;
        else
                b->credit += elapsed * b->rate;
}

bool ns__tb_peek(struct ns_token_bucket *b, int64_t now_ns)
{
        if (b->rate == 0)
                return true;
        tb_refill(b, now_ns);
        return b->credit >= UNITS_PER_TOKEN;
}

bool ns__tb_take(struct ns_token_bucket *b, int64_t now_ns)
{
        if (!ns__tb_peek(b, now_ns))
                return false;
        if (b->rate != 0)
                b->credit -= UNITS_PER_TOKEN;
        return true;
}

void ns__icmp_rl_config_default(struct ns_icmp_ratelimit_config *c)
{
        memset(c, 0, sizeof(*c));
        c->global_rate = 1000;
        c->global_burst = 50;
        c->host_rate = 1;
        c->host_burst = 6;
        c->host_entries = 1024;
        c->mask = (1u << 3) | (1u << 4) | (1u << 11) | (1u << 12); /* 6168 */
        c->limit_echo_reply = false;
        c->randomize_global = false;
}

/* splitmix64 (Steele, Lea, Flood): expands the one secret into keys and noise. */
static uint64_t splitmix64(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
        return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)     \
        do {                         \
                v0 += v1;            \
                v1 = rotl64(v1, 13); \
                v1 ^= v0;            \
                v0 = rotl64(v0, 32); \
                v2 += v3;            \
                v3 = rotl64(v3, 16); \
                v3 ^= v2;            \
                v0 += v3;            \
                v3 = rotl64(v3, 21); \
                v3 ^= v0;            \
                v2 += v1;            \
                v1 = rotl64(v1, 17); \
                v1 ^= v2;            \
                v2 = rotl64(v2, 32); \
        } while (0)

/* A message under 8 bytes is all final block: c = 2 rounds, then d = 4. */
uint64_t ns__siphash24_u32(uint64_t k0, uint64_t k1, uint32_t w)
{
        uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
        uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
        uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
        uint64_t v3 = k1 ^ 0x7465646279746573ull;
        uint64_t b = ((uint64_t)4 << 56) | w;

        v3 ^= b;
        SIPROUND(v0, v1, v2, v3);
        SIPROUND(v0, v1, v2, v3);
        v0 ^= b;
        v2 ^= 0xff;
        for (int i = 0; i < 4; i++)
                SIPROUND(v0, v1, v2, v3);
        return v0 ^ v1 ^ v2 ^ v3;
}

static int config_valid(const struct ns_icmp_ratelimit_config *c)
{
        if (c->global_rate != 0 && c->global_burst == 0)
                return 0;
        if (c->host_rate != 0 && (c->host_burst == 0 || c->host_entries > MAX_ENTRIES))
                return 0;
        return 1;
}

int ns__icmp_rl_init(struct ns_icmp_ratelimit *rl, const struct ns_allocator *a,
                     const struct ns_icmp_ratelimit_config *cfg, int64_t now_ns, uint64_t secret)
{
        uint32_t entries;

        memset(rl, 0, sizeof(*rl));
        if (cfg)
                rl->cfg = *cfg;
        else
                ns__icmp_rl_config_default(&rl->cfg);
        if (!config_valid(&rl->cfg))
                return NS_ERR_INVALID_ARGUMENT;
        if (a)
                rl->alloc = *a;
        rl->k0 = splitmix64(&secret);
        rl->k1 = splitmix64(&secret);
        rl->rng = splitmix64(&secret);
        ns__tb_init(&rl->global, rl->cfg.global_rate, rl->cfg.global_burst, now_ns);
        if (rl->cfg.host_rate == 0)
                return 0;

        entries = WAYS;
        while (entries < rl->cfg.host_entries)
                entries <<= 1;
        rl->table = ns_zalloc(&rl->alloc, (size_t)entries * sizeof(rl->table[0]));
        if (!rl->table)
                return NS_ERR_NO_MEMORY;
        rl->set_mask = entries / WAYS - 1;
        return 0;
}

void ns__icmp_rl_destroy(struct ns_icmp_ratelimit *rl)
{
        if (rl->table)
                ns_free(&rl->alloc, rl->table);
        rl->table = NULL;
        rl->entries_used = 0;
}

/*
 * Returns dst's bucket, creating it (full) in a free way of its set or in
 * place of the set's least recently used entry.
 */
static struct ns_token_bucket *host_bucket(struct ns_icmp_ratelimit *rl, ns_ip4 dst, int64_t now_ns)
{
        uint32_t set = (uint32_t)ns__siphash24_u32(rl->k0, rl->k1, dst) & rl->set_mask;
        struct ns_icmp_rl_entry *w = &rl->table[(size_t)set * WAYS];
        struct ns_icmp_rl_entry *victim = NULL;

        for (uint32_t i = 0; i < WAYS; i++) {
                if (w[i].used && w[i].dst == dst) {
                        w[i].last_use_ns = now_ns;
                        return &w[i].tb;
                }
        }
        for (uint32_t i = 0; i < WAYS; i++) {
                if (!w[i].used) {
                        victim = &w[i];
                        break;
                }
                if (!victim || w[i].last_use_ns < victim->last_use_ns)
                        victim = &w[i];
        }
        if (!victim->used)
                rl->entries_used++;
        victim->used = 1;
        victim->dst = dst;
        victim->last_use_ns = now_ns;
        ns__tb_init(&victim->tb, rl->cfg.host_rate, rl->cfg.host_burst, now_ns);
        return &victim->tb;
}

/* Takes the global token; Linux's randomised cost when configured. */
static void take_global(struct ns_icmp_ratelimit *rl, int64_t now_ns)
{
        uint64_t cost;

        if (!rl->cfg.randomize_global) {
                ns__tb_take(&rl->global, now_ns);
                return;
        }
        if (rl->global.rate == 0)
                return;
        cost = (splitmix64(&rl->rng) % 3) * UNITS_PER_TOKEN;
        rl->global.credit = rl->global.credit > cost ? rl->global.credit - cost : 0;
}

/* The buckets, for a message the exemptions of ns__icmp_rl_check() do not cover. */
static __attribute__((noinline)) enum ns_icmp_rl_verdict
check_buckets(struct ns_icmp_ratelimit *rl, uint8_t type, ns_ip4 dst, int64_t now_ns)
{
        struct ns_token_bucket *host = NULL;

        if (rl->table && type < 32 && (rl->cfg.mask >> type) & 1u)
                host = host_bucket(rl, dst, now_ns);
        /* Look at both before taking from either: a refusal costs nothing. */
        if (host && !ns__tb_peek(host, now_ns))
                return NS_ICMP_RL_LIMITED_HOST;
        if (!ns__tb_peek(&rl->global, now_ns))
                return NS_ICMP_RL_LIMITED_GLOBAL;
        if (host)
                ns__tb_take(host, now_ns);
        take_global(rl, now_ns);
        return NS_ICMP_RL_ALLOW;
}

enum ns_icmp_rl_verdict ns__icmp_rl_check(struct ns_icmp_ratelimit *rl, uint8_t type, uint8_t code,
                                          ns_ip4 dst, int64_t now_ns)
{
        /* Every echo reply (by default) and every fragmentation needed pass
         * without touching a bucket: answered before any other work. */
        if (type == 0 && !rl->cfg.limit_echo_reply)
                return NS_ICMP_RL_ALLOW;
        if (type == 3 && code == 4)
                return NS_ICMP_RL_ALLOW;
        return check_buckets(rl, type, dst, now_ns);
}

bool ns__icmp_rl_allow(struct ns_icmp_ratelimit *rl, uint8_t type, ns_ip4 dst, int64_t now_ns)
{
        return ns__icmp_rl_check(rl, type, 0, dst, now_ns) == NS_ICMP_RL_ALLOW;
}

uint32_t ns__icmp_rl_tracked(const struct ns_icmp_ratelimit *rl)
{
        return rl->entries_used;
}

uint32_t ns__icmp_rl_capacity(const struct ns_icmp_ratelimit *rl)
{
        return rl->table ? (rl->set_mask + 1) * WAYS : 0;
}

void ns_icmp_ratelimit_config_default(struct ns_icmp_ratelimit_config *c)
{
        ns__icmp_rl_config_default(c);
}
