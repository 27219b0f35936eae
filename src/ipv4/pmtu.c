/*
 * The path-MTU cache (see pmtu.h for the contract).
 */
#include "ipv4/pmtu.h"

#include <string.h>

/* Fibonacci hashing: the top bits of dst times 2^32 / phi pick the slot. */
static struct ns_pmtu_entry *slot_of(struct ns_pmtu *c, ns_ip4 dst)
{
        uint32_t h = (uint32_t)(dst * 2654435769u);
        return &c->slot[h >> (32 - 8)];
}

_Static_assert(NS_PMTU_SLOTS == 1u << 8, "slot_of() takes 8 bits of the hash");

void ns__pmtu_init(struct ns_pmtu *c)
{
        memset(c, 0, sizeof(*c));
        c->min_mtu = NS_PMTU_MIN_DEFAULT;
        c->timeout_ns = NS_PMTU_TIMEOUT_DEFAULT_NS;
}

uint32_t ns__pmtu_learn(struct ns_pmtu *c, ns_ip4 dst, uint32_t reported, int64_t now_ns)
{
        uint32_t mtu = reported < c->min_mtu ? c->min_mtu : reported;
        if (mtu > 65535)
                mtu = 65535;
        if (dst == NS_IP4_ANY)
                return mtu;
        struct ns_pmtu_entry *e = slot_of(c, dst);
        bool live = e->dst != NS_IP4_ANY && e->expires_ns > now_ns;
        /* Linux __ip_rt_update_pmtu: a learnt MTU only goes down while it lives. */
        if (live && e->dst == dst && e->mtu < mtu)
                return mtu;
        if (e->dst == NS_IP4_ANY)
                c->used++;
        e->dst = dst;
        e->mtu = mtu;
        e->expires_ns = now_ns + c->timeout_ns;
        return mtu;
}

uint32_t ns__pmtu_get(struct ns_pmtu *c, ns_ip4 dst, int64_t now_ns)
{
        struct ns_pmtu_entry *e = slot_of(c, dst);
        if (e->dst != dst || dst == NS_IP4_ANY)
                return 0;
        if (e->expires_ns <= now_ns) {
                e->dst = NS_IP4_ANY;
                c->used--;
                return 0;
        }
        return e->mtu;
}
