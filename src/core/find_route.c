/*
 * Route resolution for locally generated packets: the seed's callers of
 * Stack.FindRoute (gVisor stack.go, 2021), with Linux's connected routes.
 */
#include <string.h>

#include <netstack/err.h>

#include "core/stack.h"

/* The source address entry for sending from `nic` (the seed's getAddressEP). */
static struct ns_addr_entry *address_for(struct ns_nic *nic, ns_ip4 local, ns_ip4 remote)
{
        if (local == NS_IP4_ANY)
                return ns__addr_acquire_outgoing_primary(&nic->addrs, remote, false);
        /* Usually one of the NIC's own addresses: the same entry, found cheaply. */
        struct ns_addr_entry *e = ns__addr_acquire_permanent(&nic->addrs, local);
        if (e)
                return e;
        return ns__nic_acquire_assigned(nic, local, nic->spoofing, NS_PEB_CAN_BE_PRIMARY);
}

/*
 * ns__stack_nic_with_address(s, addr) != NULL in one pass over each NIC's
 * flat address arrays: an address, subnet broadcast, or (on a loopback NIC)
 * any address of an assigned subnet, as ns__nic_has_address() matches. The
 * Bloom filter passes over a NIC that has neither (loopback subnets are
 * not in it).
 */
static bool owned_by_a_nic(const struct ns_stack *s, ns_ip4 addr)
{
        uint64_t bit = ns__addr_bloom_bit(addr);
        /* NIC ids start at 1 (ns_nic_create() refuses 0). */
        for (uint32_t id = 1; id < s->nic_end; id++) {
                const struct ns_nic *nic = s->nics[id];
                if (!nic)
                        continue;
                const struct ns_addr_state *st = &nic->addrs;
                if (!(st->fast_bloom & bit) && !nic->loopback)
                        continue;
                for (uint32_t i = 0; i < st->n_fast; i++) {
                        if (st->fast_addr[i] == addr || st->fast_bcast[i] == addr ||
                            (nic->loopback && ((addr ^ st->fast_addr[i]) & st->fast_mask[i]) == 0))
                                return true;
                }
        }
        return false;
}

static void make_route(struct ns_stack *s, struct ns_path *out, struct ns_nic *out_nic,
                       struct ns_addr_entry *e, ns_ip4 local, ns_ip4 remote, ns_ip4 gateway,
                       uint32_t route_mtu, bool multicast_loop)
{
        if (local == NS_IP4_ANY)
                local = e->pfx.addr;
        uint32_t loop = NS_LOOP_OUT;
        /*
         * A loopback NIC loops everything at the link; elsewhere a copy of
         * broadcasts and (when asked) multicasts is delivered locally, and a
         * packet to our own address only loops (gVisor makeRoute).
         */
        if (!out_nic->loopback) {
                if (s->handle_local && remote == local)
                        loop = NS_LOOP_IN;
                else if (multicast_loop && ns_ip4_is_multicast(remote))
                        loop |= NS_LOOP_IN;
                else if (remote == NS_IP4_BROADCAST)
                        loop |= NS_LOOP_IN;
                else if (ns_ip4_prefix_is_broadcast(e->pfx, remote))
                        loop |= NS_LOOP_IN;
        }
        out->nic = out_nic;
        out->local_nic = out_nic;
        out->local = local;
        out->remote = remote;
        out->next_hop = gateway != NS_IP4_ANY ? gateway : remote;
        out->loop = loop;
        out->mtu = route_mtu ? route_mtu : ns__nic_mtu(out_nic);
        out->local_entry = e;
}

/*
 * A route to one of our own addresses: delivered by looping, never sent
 * (the seed's findLocalRouteFromNICRLocked). Broadcasts are not local routes.
 */
static bool local_route_from(struct ns_stack *s, struct ns_nic *local_nic, ns_ip4 local,
                             ns_ip4 remote, struct ns_path *out)
{
        struct ns_addr_entry *e =
            ns__nic_acquire_assigned(local_nic, local, false, NS_PEB_NEVER_PRIMARY);
        if (!e)
                return false;
        struct ns_nic *out_nic = ns__nic_has_address(local_nic, remote)
                                     ? local_nic
                                     : ns__stack_nic_with_address(s, remote);
        if (!out_nic || remote == NS_IP4_BROADCAST || ns_ip4_prefix_is_broadcast(e->pfx, remote)) {
                ns__addr_release(&local_nic->addrs, e);
                return false;
        }
        out->nic = out_nic;
        out->local_nic = local_nic;
        out->local = local;
        out->remote = remote;
        out->next_hop = remote;
        out->loop = NS_LOOP_IN;
        out->mtu = ns__nic_mtu(out_nic);
        out->local_entry = e;
        return true;
}

static bool find_local_route(struct ns_stack *s, uint32_t nic_id, ns_ip4 local, ns_ip4 remote,
                             struct ns_path *out)
{
        /* Most sends are to other hosts: rule that out once, before any reference. */
        if (!owned_by_a_nic(s, remote))
                return false;
        if (local == NS_IP4_ANY)
                local = remote;
        if (nic_id != 0) {
                struct ns_nic *nic = ns__nic_get(s, nic_id);
                return nic && local_route_from(s, nic, local, remote, out);
        }
        for (uint32_t id = 0; id < s->nic_end; id++)
                if (s->nics[id] && local_route_from(s, s->nics[id], local, remote, out))
                        return true;
        return false;
}

static bool nic_up(uint32_t nic_id, void *ctx);

struct route_probe {
        struct ns_stack *s;
        ns_ip4 local, remote;
        struct ns_addr_entry *entry;
};

/* A route is usable when its NIC is up and can supply the source address. */
static bool route_usable(uint32_t nic_id, void *ctx)
{
        struct route_probe *p = ctx;
        struct ns_nic *nic = ns__nic_get(p->s, nic_id);
        if (!nic || !nic->enabled)
                return false;
        p->entry = address_for(nic, p->local, p->remote);
        return p->entry != NULL;
}

/* ns__stack_find_route() in full; see below for the shortcut. */
static __attribute__((noinline)) int find_route_slow(struct ns_stack *s, uint32_t nic_id,
                                                     ns_ip4 local, ns_ip4 remote,
                                                     bool multicast_loop, struct ns_path *out)
{
        memset(out, 0, sizeof(*out));
        bool is_bcast = remote == NS_IP4_BROADCAST;
        bool is_mcast = ns_ip4_is_multicast(remote);
        bool is_loop = ns_ip4_is_loopback(remote);
        bool need_route = !(is_bcast || is_mcast || is_loop);

        if (s->handle_local && !is_mcast && find_local_route(s, nic_id, local, remote, out))
                return 0;

        if (nic_id != 0 && !need_route) {
                struct ns_nic *nic = ns__nic_get(s, nic_id);
                if (nic && nic->enabled) {
                        struct ns_addr_entry *e = address_for(nic, local, remote);
                        if (e) {
                                make_route(s, out, nic, e, local, remote, NS_IP4_ANY, 0,
                                           multicast_loop);
                                return 0;
                        }
                }
                return is_loop ? NS_ERR_BAD_LOCAL_ADDRESS : NS_ERR_NETWORK_UNREACHABLE;
        }

        /* ok() runs once per candidate, as the seed's FindRoute asks each NIC once. */
        struct route_probe probe = { .s = s, .local = local, .remote = remote };
        const struct ns_route *r =
            ns__route_lookup(&s->routes, remote, nic_id, route_usable, &probe);
        if (r) {
                struct ns_nic *nic = ns__nic_get(s, r->nic_id);
                make_route(s, out, nic, probe.entry, local, remote,
                           need_route ? r->gateway : NS_IP4_ANY, r->mtu, multicast_loop);
                return 0;
        }
        /*
         * A router also answers from an address of another interface than
         * the one the reply leaves by (weak host model; gVisor's FindRoute
         * "chosenRoute" when forwarding, Linux always): route by destination
         * alone, take the source from the NIC asked for, or any NIC.
         */
        if (s->forwarding && local != NS_IP4_ANY && need_route) {
                const struct ns_route *fr = ns__route_lookup(&s->routes, remote, 0, nic_up, s);
                struct ns_nic *owner =
                    nic_id ? ns__nic_get(s, nic_id) : ns__stack_nic_with_address(s, local);
                struct ns_addr_entry *e = fr && owner ? address_for(owner, local, remote) : NULL;
                if (e) {
                        make_route(s, out, ns__nic_get(s, fr->nic_id), e, local, remote,
                                   fr->gateway, fr->mtu, multicast_loop);
                        out->local_nic = owner;
                        return 0;
                }
        }
        return need_route ? NS_ERR_NO_ROUTE : NS_ERR_NETWORK_UNREACHABLE;
}

void ns__route_local_rebuild(struct ns_stack *s)
{
        struct ns_route_table *t = &s->routes;
        t->local_bloom = 0;
        t->local_loopback = false;
        for (uint32_t id = 1; id < s->nic_end; id++) {
                const struct ns_nic *nic = s->nics[id];
                if (!nic)
                        continue;
                t->local_bloom |= nic->addrs.fast_bloom;
                t->local_loopback |= nic->loopback;
        }
        t->local_gen = t->gen;
        t->local_nics = s->nic_count;
        t->local_valid = true;
}

/* Remembers the path the short path below just resolved. */
static void memo_fill(struct ns_stack *s, uint32_t nic_id, ns_ip4 local, ns_ip4 remote,
                      bool multicast_loop, const struct ns_path *out, uint32_t route_mtu)
{
        struct ns_route_memo *m = &s->routes.memo;
        m->valid = true;
        m->multicast_loop = multicast_loop;
        m->nic_id = nic_id;
        m->local = local;
        m->remote = remote;
        m->gen = s->routes.gen;
        m->nic_count = s->nic_count;
        m->nic = out->nic;
        m->entry = out->local_entry;
        m->path_local = out->local;
        m->next_hop = out->next_hop;
        m->loop = out->loop;
        m->route_mtu = route_mtu;
}

/*
 * The usual send, to another host by unicast: not one of our addresses
 * (else a local route), and the route table's cached first candidate
 * usable with a permanent source (the NIC's primary choice, or the given
 * address). That is what find_route_slow() would conclude too, by the same
 * steps. Anything else takes it; the steps tried here have no side effect
 * when they fail (a temporary source, which allocates, is left to it).
 */
static __attribute__((noinline)) int find_route_short(struct ns_stack *s, uint32_t nic_id,
                                                      ns_ip4 local, ns_ip4 remote,
                                                      bool multicast_loop, struct ns_path *out)
{
        if (remote != NS_IP4_BROADCAST && !ns_ip4_is_multicast(remote) &&
            !ns_ip4_is_loopback(remote) && !(s->handle_local && owned_by_a_nic(s, remote))) {
                const struct ns_route *r = ns__route_cached(&s->routes, remote, nic_id);
                struct ns_nic *nic = r ? ns__nic_get(s, r->nic_id) : NULL;
                if (nic && nic->enabled) {
                        struct ns_addr_entry *e =
                            local == NS_IP4_ANY
                                ? ns__addr_acquire_outgoing_primary(&nic->addrs, remote, false)
                                : ns__addr_acquire_permanent(&nic->addrs, local);
                        if (e) {
                                make_route(s, out, nic, e, local, remote, r->gateway, r->mtu,
                                           multicast_loop);
                                memo_fill(s, nic_id, local, remote, multicast_loop, out, r->mtu);
                                return 0;
                        }
                }
        }
        return find_route_slow(s, nic_id, local, remote, multicast_loop, out);
}

int ns__stack_find_route(struct ns_stack *s, uint32_t nic_id, ns_ip4 local, ns_ip4 remote,
                         bool multicast_loop, struct ns_path *out)
{
        /*
         * The same question as last time, with no route, address or NIC
         * change since (route_table.h, struct ns_route_memo): the same
         * answer, the source entry acquired again. The generation and NIC
         * count are compared before m->nic is touched: a removed NIC
         * changed both.
         */
        const struct ns_route_memo *m = &s->routes.memo;
        if (m->valid && m->remote == remote && m->local == local && m->nic_id == nic_id &&
            m->multicast_loop == multicast_loop && m->gen == s->routes.gen &&
            m->nic_count == s->nic_count && m->nic->enabled) {
                ns__addr_acquire(m->entry);
                out->nic = m->nic;
                out->local_nic = m->nic;
                out->local = m->path_local;
                out->remote = remote;
                out->next_hop = m->next_hop;
                out->loop = m->loop;
                out->mtu = m->route_mtu ? m->route_mtu : ns__nic_mtu(m->nic);
                out->local_entry = m->entry;
                return 0;
        }
        return find_route_short(s, nic_id, local, remote, multicast_loop, out);
}

void ns__path_release(struct ns_path *p)
{
        if (p->local_entry) {
                ns__addr_release(&p->local_nic->addrs, p->local_entry);
                p->local_entry = NULL;
        }
}

/* Forwarding needs only a NIC that is up: the source stays the packet's. */
static bool nic_up(uint32_t nic_id, void *ctx)
{
        const struct ns_nic *nic = ns__nic_get(ctx, nic_id);
        return nic && nic->enabled;
}

int ns__stack_route_forward(struct ns_stack *s, ns_ip4 dst, struct ns_nic **nic, ns_ip4 *next_hop,
                            uint32_t *mtu)
{
        const struct ns_route *r = ns__route_cached(&s->routes, dst, 0);
        if (!r || !nic_up(r->nic_id, s))
                r = ns__route_lookup(&s->routes, dst, 0, nic_up, s);
        if (!r)
                return NS_ERR_NO_ROUTE;
        *nic = ns__nic_get(s, r->nic_id);
        *next_hop = r->gateway != NS_IP4_ANY ? r->gateway : dst;
        *mtu = r->mtu ? r->mtu : ns__nic_mtu(*nic);
        return 0;
}
