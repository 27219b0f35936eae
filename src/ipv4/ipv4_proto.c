/*
 * The IPv4 module: protocol state, per-NIC endpoints and their lifecycle
 * (the seed's NewEndpoint, Enable, Disable, Close), parameters, and
 * multicast group membership.
 */
#include <string.h>

#include <netstack/err.h>

#include "core/rng.h"
#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

static int ep_add(void *ctx, struct ns_nic *nic, unsigned slot)
{
        struct ns_ipv4 *p = ctx;
        struct ns_ipv4_ep *ep = ns_zalloc(&p->s->alloc, sizeof(*ep));
        if (!ep)
                return NS_ERR_NO_MEMORY;
        ep->nic = nic;
        ep->p = p;
        ns__igmp_init(ep);
        nic->ep[slot] = ep;
        /* Per-NIC forwarding follows the protocol switch unless turned off (forward.c). */
        nic->forwarding = true;
        return 0;
}

static void ep_remove(void *ctx, struct ns_nic *nic, unsigned slot)
{
        struct ns_ipv4 *p = ctx;
        ns__igmp_fini(nic->ep[slot]);
        ns_free(&p->s->alloc, nic->ep[slot]);
        nic->ep[slot] = NULL;
}

bool ns__ipv4_in_group(const struct ns_ipv4_ep *ep, ns_ip4 group)
{
        return ns__igmp_in_group(ep, group);
}

/*
 * The seed's Enable: refused while the NIC is down; adds the limited
 * broadcast address (never primary) so broadcasts are received, reports
 * the groups joined meanwhile (initializeAll), and joins the all-systems
 * group (RFC 1122 3.3.7).
 */
static int ep_enable(void *ctx, struct ns_nic *nic, unsigned slot)
{
        (void)ctx;
        struct ns_ipv4_ep *ep = nic->ep[slot];
        if (!nic->enabled)
                return NS_ERR_NOT_PERMITTED;
        if (ep->enabled)
                return 0;
        int err = 0;
        struct ns_ip4_prefix bcast = { .addr = NS_IP4_BROADCAST, .prefix_len = 32 };
        struct ns_addr_entry *e =
            ns__addr_add_permanent(&nic->addrs, bcast, NS_PEB_NEVER_PRIMARY, false, &err);
        if (!e && err != NS_ERR_DUPLICATE_ADDRESS)
                return err;
        if (e)
                ns__addr_release(&nic->addrs, e);
        ep->enabled = true;
        ns__igmp_initialize_all(ep);
        return ns__igmp_join(ep, NS_IP4_ALL_SYSTEMS);
}

/*
 * The seed's disableLocked: leave all-systems, leave every group towards
 * routers while keeping it locally (softLeaveAll), drop the broadcast
 * address, forget older queriers (resetV1Present).
 */
static void ep_disable(void *ctx, struct ns_nic *nic, unsigned slot)
{
        (void)ctx;
        struct ns_ipv4_ep *ep = nic->ep[slot];
        if (!ep->enabled)
                return;
        (void)ns__igmp_leave(ep, NS_IP4_ALL_SYSTEMS);
        ns__igmp_soft_leave_all(ep);
        (void)ns__addr_remove_permanent(&nic->addrs, NS_IP4_BROADCAST);
        ns__igmp_reset_queriers(ep);
        ep->enabled = false;
}

/* The seed's AddAndAcquirePermanentAddress: reports waiting for a source go. */
static void address_added(void *ctx, struct ns_nic *nic, struct ns_ip4_prefix addr)
{
        (void)addr;
        struct ns_ipv4 *p = ctx;
        ns__igmp_send_queued(ns__ipv4_ep(p, nic));
}

static int ipv4_attach(struct ns_stack *s)
{
        struct ns_ipv4 *p = ns_zalloc(&s->alloc, sizeof(*p));
        if (!p)
                return NS_ERR_NO_MEMORY;
        p->s = s;
        p->default_ttl = 64;
        p->echo_ignore_broadcasts = true;
        ns__pmtu_init(&p->pmtu);
        ns__igmp_cfg_init(&p->igmp);
        /* The seed draws 1 + buckets random words: the counters and the IV. */
        s->rng.fill(s->rng.ctx, p->ids, sizeof(p->ids));
        p->hash_iv = ns__rng_u32(&s->rng);
        s->ipv4 = p;
        int err = ns__ipv4_reasm_init(p);
        if (err) {
                s->ipv4 = NULL;
                ns_free(&s->alloc, p);
                return err;
        }
        struct ns_netproto np = {
                .ethertype = 0x0800,
                .ctx = p,
                .nic_add = ep_add,
                .nic_remove = ep_remove,
                .nic_enable = ep_enable,
                .nic_disable = ep_disable,
                .deliver = ns__ipv4_deliver,
                .address_added = address_added,
        };
        int slot = ns__stack_register_netproto(s, &np);
        if (slot < 0) {
                ns__ipv4_reasm_fini(p);
                s->ipv4 = NULL;
                ns_free(&s->alloc, p);
                return slot;
        }
        p->slot = (unsigned)slot;
        return 0;
}

static void ipv4_detach(struct ns_stack *s)
{
        struct ns_ipv4 *p = s->ipv4;
        if (!p)
                return;
        ns__ipv4_reasm_fini(p);
        s->ipv4 = NULL;
        ns_free(&s->alloc, p);
}

const struct ns_module ns_module_ipv4 = {
        .name = "ipv4",
        .attach = ipv4_attach,
        .detach = ipv4_detach,
};

int ns_ipv4_set_param(struct ns_stack *s, enum ns_ipv4_param param, int64_t v)
{
        struct ns_ipv4 *p = ns__ipv4_of(s);
        if (!p)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        switch (param) {
        case NS_IPV4_PARAM_DEFAULT_TTL:
                if (v < 1 || v > 255)
                        return NS_ERR_INVALID_ARGUMENT;
                p->default_ttl = (uint8_t)v;
                return 0;
        case NS_IPV4_PARAM_FORWARDING:
                p->forwarding = v != 0;
                s->forwarding = p->forwarding;
                return 0;
        case NS_IPV4_PARAM_ECHO_IGNORE_BROADCASTS:
                p->echo_ignore_broadcasts = v != 0;
                return 0;
        default:
                return ns__ipv4_forward_set_param(p, param, v);
        }
}

int ns_ipv4_get_param(const struct ns_stack *s, enum ns_ipv4_param param, int64_t *v)
{
        const struct ns_ipv4 *p = ns__ipv4_of(s);
        if (!p)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        switch (param) {
        case NS_IPV4_PARAM_DEFAULT_TTL:
                *v = p->default_ttl;
                return 0;
        case NS_IPV4_PARAM_FORWARDING:
                *v = p->forwarding;
                return 0;
        case NS_IPV4_PARAM_ECHO_IGNORE_BROADCASTS:
                *v = p->echo_ignore_broadcasts;
                return 0;
        default:
                return ns__ipv4_forward_get_param(p, param, v);
        }
}

static struct ns_ipv4_ep *ep_by_id(const struct ns_stack *s, uint32_t nic_id)
{
        const struct ns_ipv4 *p = ns__ipv4_of(s);
        struct ns_nic *nic = ns__nic_get(s, nic_id);
        return p && nic ? ns__ipv4_ep(p, nic) : NULL;
}

int ns_ipv4_join_group(struct ns_stack *s, uint32_t nic_id, ns_ip4 group)
{
        struct ns_ipv4_ep *ep = ep_by_id(s, nic_id);
        return ep ? ns__igmp_join(ep, group) : NS_ERR_UNKNOWN_NIC;
}

int ns_ipv4_leave_group(struct ns_stack *s, uint32_t nic_id, ns_ip4 group)
{
        struct ns_ipv4_ep *ep = ep_by_id(s, nic_id);
        return ep ? ns__igmp_leave(ep, group) : NS_ERR_UNKNOWN_NIC;
}

bool ns_ipv4_is_in_group(const struct ns_stack *s, uint32_t nic_id, ns_ip4 group)
{
        const struct ns_ipv4_ep *ep = ep_by_id(s, nic_id);
        return ep && ns__ipv4_in_group(ep, group);
}
