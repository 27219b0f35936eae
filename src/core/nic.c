/*
 * NICs: creation over a link, enable/disable/remove, the receive entry point
 * from links, the transmit path to links, and their addresses.
 */
#include <string.h>

#include <netstack/err.h>
#include <netstack/eth.h>

#include "core/neigh.h"
#include "core/stack.h"

/* NIC ids index an array; this bounds its size. */
#define NS_NIC_ID_MAX 4096

static int grow_nics(struct ns_stack *s, uint32_t id)
{
        if (id < s->nic_cap)
                return 0;
        uint32_t cap = s->nic_cap ? s->nic_cap : 8;
        while (cap <= id)
                cap *= 2;
        struct ns_nic **n = ns_zalloc(&s->alloc, cap * sizeof(*n));
        if (!n)
                return NS_ERR_NO_MEMORY;
        if (s->nics)
                memcpy(n, s->nics, s->nic_cap * sizeof(*n));
        ns_free(&s->alloc, s->nics);
        s->nics = n;
        s->nic_cap = cap;
        return 0;
}

int ns_nic_create(struct ns_stack *s, uint32_t id, struct ns_link *link,
                  const struct ns_nic_config *cfg)
{
        if (id == 0 || id >= NS_NIC_ID_MAX || !link || !link->ops || !link->ops->write || link->nic)
                return NS_ERR_INVALID_ARGUMENT;
        if (ns__nic_get(s, id))
                return NS_ERR_DUPLICATE_NIC;
        if (cfg && cfg->name && ns_nic_find(s, cfg->name))
                return NS_ERR_DUPLICATE_NIC;
        int err = grow_nics(s, id);
        if (err)
                return err;
        struct ns_nic *nic = ns_zalloc(&s->alloc, sizeof(*nic));
        if (!nic)
                return NS_ERR_NO_MEMORY;
        nic->stack = s;
        nic->id = id;
        if (cfg && cfg->name) {
                strncpy(nic->name, cfg->name, NS_NIC_NAME_MAX - 1);
        } else {
                /* "nic" + up to 4 digits fits in NS_NIC_NAME_MAX. */
                char num[8];
                int n = 0;
                uint32_t v = id;
                do {
                        num[n++] = (char)('0' + v % 10);
                        v /= 10;
                } while (v);
                memcpy(nic->name, "nic", 3);
                for (int i = 0; i < n; i++)
                        nic->name[3 + i] = num[n - 1 - i];
        }
        nic->link = link;
        nic->loopback = (link->caps & NS_LINK_CAP_LOOPBACK) != 0;
        nic->promiscuous = cfg && cfg->promiscuous;
        nic->spoofing = cfg && cfg->spoofing;
        ns__addr_state_init(&nic->addrs, &s->alloc);
        /* Address changes invalidate what the route table remembers
         * (route_table.h: struct ns_route_memo, the local-address filter). */
        nic->addrs.gen = &s->routes.gen;
        if (link->caps & NS_LINK_CAP_RESOLUTION_REQUIRED) {
                err = ns__neigh_table_create(nic);
                if (err) {
                        ns__addr_state_cleanup(&nic->addrs);
                        ns_free(&s->alloc, nic);
                        return err;
                }
        }
        s->nics[id] = nic;
        s->nic_count++;
        if (id >= s->nic_end)
                s->nic_end = id + 1;
        link->nic = nic;

        for (unsigned i = 0; i < s->n_netprotos; i++) {
                const struct ns_netproto *p = &s->netprotos[i];
                if (p->nic_add && (err = p->nic_add(p->ctx, nic, i)) != 0) {
                        ns_nic_remove(s, id);
                        return err;
                }
        }
        if (!(cfg && cfg->disabled)) {
                err = ns_nic_enable(s, id);
                if (err) {
                        ns_nic_remove(s, id);
                        return err;
                }
        }
        return 0;
}

int ns_nic_enable(struct ns_stack *s, uint32_t id)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        if (nic->enabled)
                return 0;
        nic->enabled = true;
        for (unsigned i = 0; i < s->n_netprotos; i++) {
                const struct ns_netproto *p = &s->netprotos[i];
                int err = p->nic_enable ? p->nic_enable(p->ctx, nic, i) : 0;
                if (err) {
                        ns_nic_disable(s, id);
                        return err;
                }
        }
        return 0;
}

int ns_nic_disable(struct ns_stack *s, uint32_t id)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        if (!nic->enabled)
                return 0;
        for (unsigned i = s->n_netprotos; i-- > 0;) {
                const struct ns_netproto *p = &s->netprotos[i];
                if (p->nic_disable)
                        p->nic_disable(p->ctx, nic, i);
        }
        nic->enabled = false;
        /* Link down: the learned neighbours go, with what waited for them (Linux). */
        ns__neigh_ifdown(nic);
        return 0;
}

int ns_nic_remove(struct ns_stack *s, uint32_t id)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        ns_nic_disable(s, id);
        for (unsigned i = s->n_netprotos; i-- > 0;) {
                const struct ns_netproto *p = &s->netprotos[i];
                if (p->nic_remove && nic->ep[i])
                        p->nic_remove(p->ctx, nic, i);
                nic->ep[i] = NULL;
        }
        ns__neigh_table_destroy(nic);
        ns__route_del_nic(&s->routes, id);
        ns__addr_state_cleanup(&nic->addrs);
        s->nics[id] = NULL;
        s->nic_count--;
        while (s->nic_end > 0 && !s->nics[s->nic_end - 1])
                s->nic_end--;
        nic->link->nic = NULL;
        if (nic->link->ops->detach)
                nic->link->ops->detach(nic->link);
        /* The stack's totals keep what this NIC counted (core/stats.h). */
        ns_stats_add(&s->stats, &nic->stats);
        ns_free(&s->alloc, nic);
        return 0;
}

bool ns_nic_is_enabled(const struct ns_stack *s, uint32_t id)
{
        const struct ns_nic *nic = ns__nic_get(s, id);
        return nic && nic->enabled;
}

int ns_nic_set_promiscuous(struct ns_stack *s, uint32_t id, bool on)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        nic->promiscuous = on;
        return 0;
}

int ns_nic_set_spoofing(struct ns_stack *s, uint32_t id, bool on)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        nic->spoofing = on;
        return 0;
}

const char *ns_nic_name(const struct ns_stack *s, uint32_t id)
{
        const struct ns_nic *nic = ns__nic_get(s, id);
        return nic ? nic->name : NULL;
}

uint32_t ns_nic_find(const struct ns_stack *s, const char *name)
{
        for (uint32_t id = 0; id < s->nic_cap; id++)
                if (s->nics[id] && strncmp(s->nics[id]->name, name, NS_NIC_NAME_MAX) == 0)
                        return id;
        return 0;
}

int ns_nic_get_stats(const struct ns_stack *s, uint32_t id, struct ns_stats *out)
{
        const struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        *out = nic->stats;
        return 0;
}

/* ---- receive ----------------------------------------------------------- */

void ns_link_deliver(struct ns_link *link, uint16_t net_proto, struct ns_pkt *pkt)
{
        struct ns_nic *nic = link->nic;
        if (!nic) {
                ns_pkt_free(pkt);
                return;
        }
        struct ns_stack *s = nic->stack;
        NS_STAT_INC(&nic->stats, &s->stats, nic, rx_packets);
        NS_STAT_ADD(&nic->stats, &s->stats, nic, rx_bytes, ns_pkt_len(pkt));
        if (!nic->enabled) {
                NS_STAT_INC(&nic->stats, &s->stats, nic, disabled_rx);
                ns_pkt_free(pkt);
                return;
        }
        pkt->nic_id = nic->id;
        pkt->net_proto = net_proto;
        for (unsigned i = 0; i < s->n_netprotos; i++) {
                const struct ns_netproto *p = &s->netprotos[i];
                if (p->ethertype == net_proto) {
                        p->deliver(p->ctx, nic, pkt);
                        return;
                }
        }
        NS_STAT_INC(&nic->stats, &s->stats, nic, unknown_l3_protocol);
        ns_pkt_free(pkt);
}

void ns_link_drop_malformed(struct ns_link *link, struct ns_pkt *pkt)
{
        struct ns_nic *nic = link->nic;
        if (nic)
                NS_STAT_INC(&nic->stats, &nic->stack->stats, nic, malformed_l2);
        ns_pkt_free(pkt);
}

struct ns_pkt_pool *ns_link_pool(const struct ns_link *link)
{
        return link->nic ? link->nic->stack->pool : NULL;
}

/* ---- transmit ---------------------------------------------------------- */

int ns__nic_link_write(struct ns_nic *nic, struct ns_pkt_list *pkts)
{
        struct ns_stack *s = nic->stack;
        uint32_t count = pkts->count;
        uint64_t bytes = 0;
        for (struct ns_pkt *p = pkts->head; p; p = p->next)
                bytes += ns_pkt_len(p);
        int n = nic->link->ops->write(nic->link, pkts);
        /* The link consumed every packet, sent or not. */
        ns_pkt_list_init(pkts);
        uint32_t written = n > 0 ? (uint32_t)n : 0;
        NS_STAT_ADD(&nic->stats, &s->stats, nic, tx_packets, written);
        if (written == count)
                NS_STAT_ADD(&nic->stats, &s->stats, nic, tx_bytes, bytes);
        if (written < count)
                NS_STAT_ADD(&nic->stats, &s->stats, nic, tx_errors, count - written);
        return n;
}

int ns__nic_write_list_via(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt_list *pkts)
{
        if (!nic->neigh)
                return ns__nic_link_write(nic, pkts);
        /* Resolution before the link: known neighbours go out together. */
        struct ns_pkt_list ready;
        ns_pkt_list_init(&ready);
        int queued = 0, first_err = 0;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(pkts)) != NULL) {
                int r = ns__neigh_output(nic, next_hop, p, &ready);
                if (r == 0)
                        queued++;
                else if (r < 0 && !first_err)
                        first_err = r;
        }
        int n = ready.count ? ns__nic_link_write(nic, &ready) : 0;
        int total = queued + (n > 0 ? n : 0);
        if (total > 0)
                return total;
        return n < 0 ? n : first_err;
}

int ns__nic_write_list(struct ns_nic *nic, struct ns_pkt_list *pkts)
{
        return ns__nic_write_list_via(nic, NS_IP4_ANY, pkts);
}

int ns__nic_write_via(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt *pkt)
{
        struct ns_pkt_list l;
        ns_pkt_list_init(&l);
        ns_pkt_list_push_back(&l, pkt);
        int n = ns__nic_write_list_via(nic, next_hop, &l);
        return n == 1 ? 0 : (n < 0 ? n : NS_ERR_IO);
}

int ns__nic_write(struct ns_nic *nic, struct ns_pkt *pkt)
{
        return ns__nic_write_via(nic, NS_IP4_ANY, pkt);
}

/* ---- addresses --------------------------------------------------------- */

static bool ipv4_address_matches(const struct ns_addr_entry *e, ns_ip4 addr, void *ctx)
{
        const struct ns_nic *nic = ctx;
        /*
         * IPv4 answers for the subnet broadcast of an assigned address, and a
         * loopback device owns the whole subnet of its addresses (Linux: lo
         * with 127.0.0.1/8 answers for every 127/8 address).
         */
        return ns_ip4_prefix_is_broadcast(e->pfx, addr) ||
               (nic->loopback && ns_ip4_prefix_contains(e->pfx, addr));
}

struct ns_addr_entry *ns__nic_acquire_assigned(struct ns_nic *nic, ns_ip4 addr, bool allow_temp,
                                               enum ns_peb temp_peb)
{
        return ns__addr_acquire_assigned(&nic->addrs, addr, ipv4_address_matches, nic, allow_temp,
                                         temp_peb);
}

const struct ns_addr_entry *ns__nic_match(const struct ns_nic *nic, ns_ip4 addr, bool *exact)
{
        /* The rule of ipv4_address_matches(), over the flat permanent arrays. */
        const struct ns_addr_state *st = &nic->addrs;
        uint32_t n = st->n_fast;
        for (uint32_t i = 0; i < n; i++) {
                if (st->fast_addr[i] == addr) {
                        *exact = true;
                        return st->fast_entry[i];
                }
        }
        *exact = false;
        for (uint32_t i = 0; i < n; i++) {
                if (st->fast_bcast[i] == addr ||
                    (nic->loopback && ((addr ^ st->fast_addr[i]) & st->fast_mask[i]) == 0))
                        return st->fast_entry[i];
        }
        return NULL;
}

bool ns__nic_has_address(const struct ns_nic *nic, ns_ip4 addr)
{
        bool exact;
        return ns__nic_match(nic, addr, &exact) != NULL;
}

struct ns_nic *ns__stack_nic_with_address(struct ns_stack *s, ns_ip4 addr)
{
        for (uint32_t id = 0; id < s->nic_end; id++) {
                struct ns_nic *nic = s->nics[id];
                if (nic && ns__nic_has_address(nic, addr))
                        return nic;
        }
        return NULL;
}

static enum ns_peb to_peb(enum ns_primary p)
{
        switch (p) {
        case NS_PRIMARY_FIRST:
                return NS_PEB_FIRST_PRIMARY;
        case NS_PRIMARY_NEVER:
                return NS_PEB_NEVER_PRIMARY;
        case NS_PRIMARY_CAN_BE:
        default:
                return NS_PEB_CAN_BE_PRIMARY;
        }
}

static struct ns_route connected_route(const struct ns_nic *nic, struct ns_ip4_prefix a)
{
        struct ns_route r = { 0 };
        r.dst.addr = a.addr & ns_ip4_mask(a.prefix_len);
        r.dst.prefix_len = a.prefix_len;
        r.nic_id = nic->id;
        return r;
}

int ns_nic_add_address_ex(struct ns_stack *s, uint32_t id, struct ns_ip4_prefix addr,
                          enum ns_primary primary, bool deprecated)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        if (addr.prefix_len > 32 || ns_ip4_is_multicast(addr.addr) || addr.addr == NS_IP4_ANY)
                return NS_ERR_BAD_ADDRESS;
        int err = 0;
        struct ns_addr_entry *e =
            ns__addr_add_permanent(&nic->addrs, addr, to_peb(primary), deprecated, &err);
        if (!e)
                return err;
        ns__addr_release(&nic->addrs, e);
        /*
         * Like Linux, assigning an address adds the connected route for its
         * subnet (a /32 has none; the broadcast NS_PRIMARY_NEVER address is
         * the IPv4 endpoint's own business).
         */
        if (addr.prefix_len < 32 && primary != NS_PRIMARY_NEVER) {
                struct ns_route r = connected_route(nic, addr);
                int rerr = ns__route_add(&s->routes, &r);
                (void)rerr; /* already present from another address of the subnet */
        }
        for (unsigned i = 0; i < s->n_netprotos; i++) {
                const struct ns_netproto *p = &s->netprotos[i];
                if (p->address_added)
                        p->address_added(p->ctx, nic, addr);
        }
        return 0;
}

int ns_nic_add_address(struct ns_stack *s, uint32_t id, struct ns_ip4_prefix addr)
{
        return ns_nic_add_address_ex(s, id, addr, NS_PRIMARY_CAN_BE, false);
}

int ns_nic_remove_address(struct ns_stack *s, uint32_t id, ns_ip4 addr)
{
        struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        struct ns_ip4_prefix list[NS_ADDR_MAX_PER_NIC];
        size_t n = ns__addr_permanent_list(&nic->addrs, list, NS_ADDR_MAX_PER_NIC);
        struct ns_ip4_prefix removed = { 0 };
        for (size_t i = 0; i < n && i < NS_ADDR_MAX_PER_NIC; i++)
                if (list[i].addr == addr)
                        removed = list[i];
        int err = ns__addr_remove_permanent(&nic->addrs, addr);
        if (err)
                return err;
        if (removed.prefix_len > 0 && removed.prefix_len < 32) {
                /* Keep the connected route while another address shares the subnet. */
                ns_ip4 mask = ns_ip4_mask(removed.prefix_len);
                bool shared = false;
                for (size_t i = 0; i < n && i < NS_ADDR_MAX_PER_NIC; i++)
                        if (list[i].addr != addr && list[i].prefix_len == removed.prefix_len &&
                            (list[i].addr & mask) == (addr & mask))
                                shared = true;
                if (!shared) {
                        struct ns_route r = connected_route(nic, removed);
                        ns__route_del_exact(&s->routes, r.dst, 0, id);
                }
        }
        return 0;
}

int ns_nic_main_address(const struct ns_stack *s, uint32_t id, struct ns_ip4_prefix *out)
{
        const struct ns_nic *nic = ns__nic_get(s, id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        struct ns_ip4_prefix p = ns__addr_main(&nic->addrs);
        if (p.addr == 0 && p.prefix_len == 0)
                return NS_ERR_NOT_FOUND;
        *out = p;
        return 0;
}

size_t ns_nic_addresses(const struct ns_stack *s, uint32_t id, struct ns_ip4_prefix *out,
                        size_t max)
{
        const struct ns_nic *nic = ns__nic_get(s, id);
        return nic ? ns__addr_permanent_list(&nic->addrs, out, max) : 0;
}

size_t ns_nic_primary_addresses(const struct ns_stack *s, uint32_t id, struct ns_ip4_prefix *out,
                                size_t max)
{
        const struct ns_nic *nic = ns__nic_get(s, id);
        return nic ? ns__addr_primary_list(&nic->addrs, out, max) : 0;
}

/* ---- routes ------------------------------------------------------------ */

int ns_route_add(struct ns_stack *s, const struct ns_route_entry *r)
{
        if (!r || r->dst.prefix_len > 32)
                return NS_ERR_INVALID_ARGUMENT;
        if (r->nic_id == 0 || !ns__nic_get(s, r->nic_id))
                return NS_ERR_UNKNOWN_NIC;
        struct ns_route in = { .dst = r->dst,
                               .gateway = r->gateway,
                               .nic_id = r->nic_id,
                               .metric = r->metric,
                               .mtu = r->mtu };
        return ns__route_add(&s->routes, &in);
}

int ns_route_del(struct ns_stack *s, struct ns_ip4_prefix dst, ns_ip4 gateway, uint32_t nic_id)
{
        return ns__route_del(&s->routes, dst, gateway, nic_id);
}

size_t ns_route_list(const struct ns_stack *s, struct ns_route_entry *out, size_t max)
{
        size_t total = ns__route_list(&s->routes, NULL, 0);
        size_t n = total < max ? total : max;
        if (n == 0)
                return total;
        struct ns_route *tmp = ns_alloc(&s->alloc, n * sizeof(*tmp));
        if (!tmp)
                return 0;
        ns__route_list(&s->routes, tmp, n);
        for (size_t i = 0; i < n; i++)
                out[i] = (struct ns_route_entry){ .dst = tmp[i].dst,
                                                  .gateway = tmp[i].gateway,
                                                  .nic_id = tmp[i].nic_id,
                                                  .metric = tmp[i].metric,
                                                  .mtu = tmp[i].mtu };
        ns_free(&s->alloc, tmp);
        return total;
}
