/*
 * Forwarding: the seed's forwardPacket completed to RFC 1812 the way Linux
 * forwards (ip_route_input_slow, then ip_forward):
 *
 *   1. addresses that are never forwarded, each with its counter: multicast
 *      (no multicast routing), limited or link-layer broadcast, unspecified,
 *      0/8 and class E sources, link-local source or destination;
 *   2. a destination another NIC of ours owns is delivered there (weak host
 *      model), before any TTL or option work, as Linux delivers it; a
 *      directed broadcast of another NIC's subnet is delivered there too,
 *      and forwarded onto that subnet only when asked (RFC 2644);
 *   3. the ingress NIC's forwarding switch, then a source that is ours;
 *   4. the route; none gets destination network unreachable (Linux ip_error);
 *   5. a Loose or Strict Source Route option drops the packet (Linux's
 *      accept_source_route=0; HOSTILE-INPUTS 20), then TTL <= 1 gets time
 *      exceeded (RFC 1812 5.3.1; the seed only TTL 0);
 *   6. options with the forward usage, Record Route and Timestamp recording
 *      the egress interface's address (RFC 791, RFC 1812 5.2.1: the seed
 *      records the ingress one and marks that as unfinished), a bad one parameter problem;
 *   7. DF and larger than the egress MTU: fragmentation needed with the
 *      next-hop MTU (RFC 1191, RFC 1812 5.2.6), never a silent drop;
 *   8. FORWARD hook, TTL-1 with an RFC 1624 checksum patch, and out: the send
 *      path fragments a datagram without DF to the egress MTU.
 *
 * Every refusal bumps its own counter; those that are the sender's error
 * (not ordinary multicast or broadcast traffic) also bump forward_errors, as
 * gVisor's Forwarding.Errors. Nothing here reads past the IPv4 header: the
 * payload (an ICMP error quoting anything, say) is carried untouched.
 */
#include <string.h>

#include <netstack/err.h>

#include "ipv4/ipv4.h"
#include "ipv4/options.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)

/* Frees pkt after one counter (ordinary traffic we do not forward). */
#define NOT_FORWARDED(ep, pkt, field)                    \
        do {                                             \
                NS_STAT_INC(EPS(ep), SS(ep), ip, field); \
                ns_pkt_free(pkt);                        \
        } while (0)

/* Frees pkt after its reason's counter and forward_errors. */
#define REFUSE(ep, pkt, field)                                    \
        do {                                                      \
                NS_STAT_INC(EPS(ep), SS(ep), ip, field);          \
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_errors); \
                ns_pkt_free(pkt);                                 \
        } while (0)

/* Sends an ICMP error about pkt (borrowed) as a router. */
static void icmp_error(struct ns_ipv4 *p, const struct ns_pkt *pkt, uint8_t type, uint8_t code,
                       uint32_t arg)
{
        struct ns_icmp_reason why = { .type = type, .code = code, .arg = arg, .forwarding = true };
        (void)ns__icmp4_send_error(p, &why, pkt);
}

/*
 * Step 1: bit tests on the addresses. Returns false when pkt was refused
 * (and freed).
 */
static bool addresses_forwardable(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, ns_ip4 src, ns_ip4 dst)
{
        /* Not a member, and no multicast routing. */
        if (ns_ip4_is_multicast(dst)) {
                NOT_FORWARDED(ep, pkt, forward_multicast);
                return false;
        }
        /*
         * RFC 1812 5.3.5.1: never forward a limited broadcast; 5.3.4 and
         * Linux's PACKET_HOST rule in ip_forward: nor a datagram that came
         * in a link-layer broadcast or multicast frame.
         */
        if (dst == NS_IP4_BROADCAST || (pkt->flags & NS_PKT_F_LINK_BCAST)) {
                NOT_FORWARDED(ep, pkt, forward_limited_broadcast);
                return false;
        }
        /* RFC 1812 5.3.7: "this host on this network" is only for booting. */
        if (src == NS_IP4_ANY) {
                REFUSE(ep, pkt, forward_initializing_source);
                return false;
        }
        /* RFC 1812 5.3.7: 0/8, 127/8 and class E are never sources (Linux martians). */
        if ((src >> 24) == 0 || ns_ip4_is_loopback(src) || (src >> 28) == 0xf) {
                REFUSE(ep, pkt, forward_martian_source);
                return false;
        }
        /* RFC 3927 section 7: link-local datagrams never cross a router. */
        if (ns_ip4_is_link_local(src)) {
                REFUSE(ep, pkt, forward_link_local_source);
                return false;
        }
        if (ns_ip4_is_link_local(dst)) {
                REFUSE(ep, pkt, forward_link_local_destination);
                return false;
        }
        /* Linux martian destination: 0/8 names no host. */
        if ((dst >> 24) == 0) {
                NOT_FORWARDED(ep, pkt, invalid_destination_addresses_received);
                return false;
        }
        return true;
}

/* What one pass over every NIC's addresses says about a packet. */
struct local_match {
        struct ns_nic *dst_nic; /* the NIC owning dst, or NULL */
        bool dst_bcast;         /* dst is a subnet broadcast of dst_nic */
        bool src_ours;          /* src is one of our addresses or broadcasts */
};

/*
 * The seed's findEndpointWithAddress (the first NIC whose address or
 * subnet broadcast is dst, by ns__nic_match()'s rule) and Linux's
 * fib_validate_source own-address test, in one pass over the flat address
 * arrays. A NIC whose Bloom filter has neither address, and which has no
 * loopback subnets to match, cannot change the answer and is passed over;
 * when the union of every NIC's filter (route_table.h) has neither, the
 * answer is "none" without visiting any.
 */
static inline __attribute__((always_inline)) void match_local(struct ns_stack *s, ns_ip4 src,
                                                              ns_ip4 dst, struct local_match *m)
{
        uint64_t bits = ns__addr_bloom_bit(src) | ns__addr_bloom_bit(dst);
        const struct ns_route_table *t = &s->routes;
        if (!t->local_valid || t->local_gen != t->gen || t->local_nics != s->nic_count)
                ns__route_local_rebuild(s);
        if (!(t->local_bloom & bits) && !t->local_loopback)
                return;
        /* NIC ids start at 1 (ns_nic_create() refuses 0). */
        for (uint32_t id = 1; id < s->nic_end; id++) {
                struct ns_nic *nic = s->nics[id];
                if (!nic)
                        continue;
                const struct ns_addr_state *st = &nic->addrs;
                if (!(st->fast_bloom & bits) && !nic->loopback)
                        continue;
                for (uint32_t i = 0; i < st->n_fast; i++) {
                        ns_ip4 a = st->fast_addr[i], b = st->fast_bcast[i];
                        if (a == src || b == src)
                                m->src_ours = true;
                        if (m->dst_nic && (m->dst_nic != nic || !m->dst_bcast))
                                continue;
                        if (a == dst) {
                                m->dst_nic = nic;
                                m->dst_bcast = false;
                        } else if (!m->dst_nic &&
                                   (b == dst ||
                                    (nic->loopback && ((dst ^ a) & st->fast_mask[i]) == 0))) {
                                m->dst_nic = nic;
                                m->dst_bcast = b == dst;
                        }
                }
        }
}

/*
 * Step 2: dst is ours on another NIC. Delivers pkt there; returns true
 * when the original should still be forwarded (a directed broadcast with
 * directed_broadcast on: a copy was delivered).
 */
static bool deliver_owned(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, const struct local_match *m)
{
        struct ns_ipv4 *p = ep->p;
        struct ns_ipv4_ep *owner = ns__ipv4_ep(p, m->dst_nic);
        if (!m->dst_bcast || m->dst_nic == ep->nic) {
                ns__ipv4_handle_packet(owner, pkt);
                return false;
        }
        /*
         * A directed broadcast of another NIC's subnet: Linux delivers it
         * (brd_input) and forwards it onto the subnet only with bc_forwarding
         * (RFC 2644: off by default).
         */
        if (!p->directed_broadcast) {
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_directed_broadcast);
                ns__ipv4_handle_packet(owner, pkt);
                return false;
        }
        struct ns_pkt *copy = ns_pkt_copy(p->s->pool, pkt, NS_IPV4_TX_HEADROOM);
        if (copy) {
                ns_pkt_set_network_header(copy);
                copy->transport_proto = pkt->transport_proto;
                ns__ipv4_handle_packet(owner, copy);
        }
        return true;
}

/* The address a router records for the egress NIC (Linux's preferred source). */
static ns_ip4 egress_address(struct ns_nic *out, ns_ip4 next_hop)
{
        struct ns_addr_entry *e = ns__addr_acquire_outgoing_primary(&out->addrs, next_hop, false);
        if (!e)
                return NS_IP4_ANY; /* unnumbered: the ingress NIC's, as the seed */
        ns_ip4 a = e->pfx.addr;
        ns__addr_release(&out->addrs, e);
        return a;
}

/* ns__filter_check() at FORWARD, the filter's view built only when something is installed. */
static __attribute__((noinline)) bool forward_hook_run(struct ns_ipv4_ep *ep, struct ns_nic *out,
                                                       struct ns_pkt *pkt)
{
        struct ns_filter_info info = { .hook = NS_HOOK_FORWARD,
                                       .in_nic = ep->nic->id,
                                       .in_name = ep->nic->name,
                                       .out_nic = out->id,
                                       .out_name = out->name };
        return ns__filter_run(&ep->p->s->filter, NS_HOOK_FORWARD, pkt, &info) == NS_VERDICT_ACCEPT;
}

static inline bool forward_hook(struct ns_ipv4_ep *ep, struct ns_nic *out, struct ns_pkt *pkt)
{
        if (__builtin_expect((ep->p->s->filter.active & (1u << NS_HOOK_FORWARD)) == 0, 1))
                return true;
        return forward_hook_run(ep, out, pkt);
}

/*
 * RFC 791: decrement the TTL (> 1 here), and patch the checksum as RFC 1624
 * equation 3 does, HC' = ~(~HC + ~m + m'), with m the TTL/protocol word:
 * ns_ipv4_dec_ttl()'s arithmetic, inline. ~m + m' is 0xffff - 0x100, and
 * one fold brings ~HC + 0xfeff (at most 0x1fefe) back to 16 bits.
 */
static inline void dec_ttl(uint8_t *h)
{
        h[8]--;
        uint32_t sum = (uint32_t)(uint16_t)~ns_ipv4_checksum(h) + 0xfeffu;
        sum = (sum & 0xffffu) + (sum >> 16);
        ns_ipv4_set_checksum(h, (uint16_t)~sum);
}

/*
 * Steps 5 to 8 once the route is known. opts (olen bytes) replaces the
 * option area when olen is not 0.
 */
static void forward_routed(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, struct ns_nic *out,
                           ns_ip4 next_hop, uint32_t mtu)
{
        struct ns_ipv4 *p = ep->p;
        /*
         * Linux drops source-routed packets once the route is known and
         * before ip_forward looks at the TTL (ip_rcv_options,
         * accept_source_route=0; HOSTILE-INPUTS 20).
         */
        const uint8_t *h = ns_pkt_data(pkt);
        size_t olen = ns_ipv4_options_len(h);
        /* Without options it has nothing to look at and answers NS_SRR_NONE. */
        enum ns_srr_verdict srr = olen ? ns__ipv4_drop_source_routed(ep, pkt, true) : NS_SRR_NONE;
        if (srr != NS_SRR_NONE) {
                if (srr == NS_SRR_BAD_OPTS)
                        NS_STAT_INC(EPS(ep), SS(ep), ip, forward_errors);
                return;
        }
        if (ns_ipv4_ttl(h) <= 1) {
                icmp_error(p, pkt, NS_ICMP4_TIME_EXCEEDED, NS_ICMP4_TTL_EXCEEDED, 0);
                REFUSE(ep, pkt, forward_ttl_exceeded);
                return;
        }
        uint8_t opts[NS_IPV4_MAX_OPTS];
        if (olen) {
                size_t out_len = 0;
                if (!ns__ipv4_options_run_from(ep, pkt, NS_OPT_USAGE_FORWARD, true,
                                               egress_address(out, next_hop), opts, &out_len)) {
                        /* options_run sent the parameter problem and counted it. */
                        NS_STAT_INC(EPS(ep), SS(ep), ip, forward_errors);
                        ns_pkt_free(pkt);
                        return;
                }
        }
        /*
         * RFC 1812 5.2.6 and RFC 1191: DF and too big is answered with the
         * next-hop MTU, quoting the header as it came (Linux ip_forward).
         */
        uint32_t cap = mtu > NS_IPV4_MAX_TOTAL ? NS_IPV4_MAX_TOTAL : mtu;
        if (ns_pkt_len(pkt) > cap && ns_ipv4_df(h)) {
                icmp_error(p, pkt, NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED, cap);
                NS_STAT_INC(EPS(ep), SS(ep), ip, frag_fails);
                REFUSE(ep, pkt, forward_packet_too_big);
                return;
        }
        if (!forward_hook(ep, out, pkt)) {
                NOT_FORWARDED(ep, pkt, iptables_forward_dropped);
                return;
        }
        if (ns_pkt_make_writable(pkt) != 0) {
                REFUSE(ep, pkt, outgoing_packet_errors);
                return;
        }
        uint8_t *wh = ns_pkt_data(pkt);
        if (olen) {
                /* The option area keeps its size; the rest is EOL padding. */
                memcpy(wh + NS_IPV4_MIN_HDR, opts, olen);
                ns_ipv4_fill_checksum(wh);
        }
        dec_ttl(wh);
        pkt->flags = NS_PKT_F_FORWARDED;
        NS_STAT_INC(EPS(ep), SS(ep), ip, forwarded);
        if (ns__ipv4_output(p, out, mtu, next_hop, pkt) != 0)
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_errors);
}

/*
 * ns__stack_route_forward() with its usual answer inline: the route table's
 * cached first route, when its NIC is up, is the route it would return.
 */
static inline int route_forward(struct ns_stack *s, ns_ip4 dst, struct ns_nic **nic,
                                ns_ip4 *next_hop, uint32_t *mtu)
{
        const struct ns_route *r = ns__route_cached(&s->routes, dst, 0);
        struct ns_nic *n = r ? ns__nic_get(s, r->nic_id) : NULL;
        if (!n || !n->enabled)
                return ns__stack_route_forward(s, dst, nic, next_hop, mtu);
        *nic = n;
        *next_hop = r->gateway != NS_IP4_ANY ? r->gateway : dst;
        *mtu = r->mtu ? r->mtu : ns__nic_mtu(n);
        return 0;
}

void ns__ipv4_forward(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        struct ns_ipv4 *p = ep->p;
        struct ns_stack *s = p->s;
        const uint8_t *h = ns_pkt_data(pkt);
        ns_ip4 src = ns_ipv4_src(h), dst = ns_ipv4_dst(h);
        if (!addresses_forwardable(ep, pkt, src, dst))
                return;
        struct local_match m = { 0 };
        match_local(s, src, dst, &m);
        if (m.dst_nic && !deliver_owned(ep, pkt, &m))
                return;
        /* Linux IN_DEV_FORWARD(in_dev): a NIC that does not forward drops (InAddrErrors). */
        if (!ep->nic->forwarding) {
                NOT_FORWARDED(ep, pkt, invalid_destination_addresses_received);
                return;
        }
        /* Linux fib_validate_source: our own address as the source is a martian. */
        if (m.src_ours) {
                REFUSE(ep, pkt, forward_martian_source);
                return;
        }
        struct ns_nic *out;
        ns_ip4 next_hop;
        uint32_t mtu;
        if (route_forward(s, dst, &out, &next_hop, &mtu) != 0) {
                /* Linux ip_error: ENETUNREACH is network unreachable, InNoRoutes. */
                icmp_error(p, pkt, NS_ICMP4_DEST_UNREACH, NS_ICMP4_NET_UNREACH, 0);
                NS_STAT_INC(EPS(ep), SS(ep), ip, in_no_routes);
                REFUSE(ep, pkt, forward_unrouteable);
                return;
        }
        forward_routed(ep, pkt, out, next_hop, mtu);
}

/* ---- settings ------------------------------------------------------------ */

int ns__ipv4_forward_set_param(struct ns_ipv4 *p, enum ns_ipv4_param param, int64_t v)
{
        switch (param) {
        case NS_IPV4_PARAM_DIRECTED_BROADCAST:
                p->directed_broadcast = v != 0;
                return 0;
        case NS_IPV4_PARAM_MIN_PMTU:
                if (v < 68 || v > NS_IPV4_MAX_TOTAL)
                        return NS_ERR_INVALID_ARGUMENT;
                p->pmtu.min_mtu = (uint32_t)v;
                return 0;
        case NS_IPV4_PARAM_PMTU_TIMEOUT_MS:
                if (v < 1 || v > INT64_MAX / 1000000)
                        return NS_ERR_INVALID_ARGUMENT;
                p->pmtu.timeout_ns = v * 1000000;
                return 0;
        default:
                return NS_ERR_UNKNOWN_PROTOCOL_OPTION;
        }
}

int ns__ipv4_forward_get_param(const struct ns_ipv4 *p, enum ns_ipv4_param param, int64_t *v)
{
        switch (param) {
        case NS_IPV4_PARAM_DIRECTED_BROADCAST:
                *v = p->directed_broadcast;
                return 0;
        case NS_IPV4_PARAM_MIN_PMTU:
                *v = p->pmtu.min_mtu;
                return 0;
        case NS_IPV4_PARAM_PMTU_TIMEOUT_MS:
                *v = p->pmtu.timeout_ns / 1000000;
                return 0;
        default:
                return NS_ERR_UNKNOWN_PROTOCOL_OPTION;
        }
}

int ns_ipv4_set_nic_forwarding(struct ns_stack *s, uint32_t nic_id, bool on)
{
        struct ns_nic *nic = ns__nic_get(s, nic_id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        nic->forwarding = on;
        return 0;
}

int ns_ipv4_get_nic_forwarding(const struct ns_stack *s, uint32_t nic_id, bool *on)
{
        const struct ns_nic *nic = ns__nic_get(s, nic_id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        *on = nic->forwarding;
        return 0;
}

/* ---- path MTU -------------------------------------------------------------- */

uint32_t ns__ipv4_pmtu_learn(struct ns_ipv4 *p, ns_ip4 src, ns_ip4 dst, uint32_t reported)
{
        /*
         * Only about a datagram we sent (Linux updates the route exception of
         * a socket's flow): a forged error for someone else's flow teaches
         * nothing.
         */
        struct local_match m = { 0 };
        match_local(p->s, src, NS_IP4_BROADCAST, &m);
        if (src == NS_IP4_ANY || !m.src_ours) {
                uint32_t floor = p->pmtu.min_mtu;
                return reported < floor ? floor : reported;
        }
        return ns__pmtu_learn(&p->pmtu, dst, reported, ns__stack_now(p->s));
}

int ns_ipv4_get_pmtu(struct ns_stack *s, ns_ip4 dst, uint32_t *mtu)
{
        struct ns_ipv4 *p = ns__ipv4_of(s);
        if (!p)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        uint32_t m = ns__pmtu_get(&p->pmtu, dst, ns__stack_now(s));
        if (!m)
                return NS_ERR_NOT_FOUND;
        *mtu = m;
        return 0;
}
