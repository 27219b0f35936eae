/*
 * The receive side of the IPv4 endpoint: the seed's HandlePacket,
 * handleLocalPacket and handlePacket, with Linux's martian rules where the
 * issue asks for them. Every drop bumps exactly one counter (plus the
 * fragment counter where the seed bumps both).
 */
#include <netstack/err.h>

#include "ipv4/ipv4.h"
#include "ipv4/options.h"
#include "ipv4/reasm.h"
#include "wire/ipv4.h"

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)
#define DROP(ep, pkt, field)                             \
        do {                                             \
                NS_STAT_INC(EPS(ep), SS(ep), ip, field); \
                ns_pkt_free(pkt);                        \
        } while (0)

/*
 * The seed's parse: structure checks, trimming of link padding to the Total
 * Length (HOSTILE-INPUTS A.3), and the network header mark. False when the
 * packet is malformed.
 */
static bool parse(struct ns_pkt *pkt)
{
        const uint8_t *h = ns_pkt_data(pkt);
        if (ns_ipv4_validate(h, ns_pkt_len(pkt)) != NS_IPV4_VALID)
                return false;
        ns_pkt_trim(pkt, ns_ipv4_total_len(h));
        ns_pkt_set_network_header(pkt);
        pkt->transport_proto = ns_ipv4_proto(h);
        return true;
}

static inline __attribute__((always_inline)) void handle_packet(struct ns_ipv4_ep *ep,
                                                                struct ns_pkt *pkt,
                                                                const struct ns_addr_entry *src_e,
                                                                bool from_link);

/* PREROUTING or INPUT when a function or rules are installed. */
static __attribute__((noinline)) bool hook_accepts(struct ns_ipv4 *p, enum ns_hook hook,
                                                   const struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct ns_filter_info info = { .hook = hook, .in_nic = nic->id, .in_name = nic->name };
        return ns__filter_run(&p->s->filter, hook, pkt, &info) == NS_VERDICT_ACCEPT;
}

static __attribute__((noinline, cold)) void drop_bad_checksum(struct ns_ipv4_ep *ep,
                                                              struct ns_pkt *pkt)
{
        NS_STAT_INC(EPS(ep), SS(ep), ip, checksum_errors_received);
        DROP(ep, pkt, malformed_packets_received);
}

/* RFC 1071: the header sums to all ones; -0 and +0 need no special case. */
static inline bool checksum_ok(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        const uint8_t *h = ns_pkt_data(pkt);
        if (__builtin_expect(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)), 1))
                return true;
        drop_bad_checksum(ep, pkt);
        return false;
}

void ns__ipv4_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct ns_ipv4 *p = ctx;
        struct ns_ipv4_ep *ep = ns__ipv4_ep(p, nic);
        NS_STAT_INC(EPS(ep), SS(ep), ip, packets_received);
        if (!ep->enabled) {
                DROP(ep, pkt, disabled_packets_received);
                return;
        }
        if (!parse(pkt)) {
                enum ns_ipv4_invalid why = ns_ipv4_validate(ns_pkt_data(pkt), ns_pkt_len(pkt));
                /* The seed counts a fragment ending past 65535 twice. */
                if (why == NS_IPV4_FRAG_TOO_LONG)
                        NS_STAT_INC(EPS(ep), SS(ep), ip, malformed_fragments_received);
                /* Total Length past the bytes received: Linux's InTruncatedPkts. */
                if (why == NS_IPV4_TOTAL_LEN_LONG)
                        NS_STAT_INC(EPS(ep), SS(ep), ip, truncated_packets_received);
                DROP(ep, pkt, malformed_packets_received);
                return;
        }
        if (!nic->loopback) {
                const uint8_t *h = ns_pkt_data(pkt);
                /*
                 * Linux ip_rcv_core: the header checksum before PREROUTING
                 * and the martian checks of routing (the seed checks it
                 * after them, in handlePacket). A corrupted packet is
                 * counted as such, not as whatever its bits resemble.
                 */
                if (!checksum_ok(ep, pkt))
                        return;
                ns_ip4 src = ns_ipv4_src(h);
                /*
                 * A packet from one of our own addresses arriving on a real link
                 * is a martian (Linux fib_validate_source; the seed checks only
                 * with HandleLocal and only this NIC's addresses).
                 */
                bool own;
                const struct ns_addr_entry *src_e = ns__nic_match(nic, src, &own);
                if (src_e && own) {
                        DROP(ep, pkt, invalid_source_addresses_received);
                        return;
                }
                /* 127/8 never arrives on a real link (RFC 1122 3.2.1.3). */
                if (ns_ip4_is_loopback(src) || ns_ip4_is_loopback(ns_ipv4_dst(h))) {
                        DROP(ep, pkt, martian_loopback_dropped);
                        return;
                }
                if (ns__filter_active(&p->s->filter, NS_HOOK_PREROUTING) &&
                    !hook_accepts(p, NS_HOOK_PREROUTING, nic, pkt)) {
                        DROP(ep, pkt, iptables_prerouting_dropped);
                        return;
                }
                /* PREROUTING may rewrite the destination, never the source. */
                handle_packet(ep, pkt, src_e, true);
                return;
        }
        ns__ipv4_handle_packet(ep, pkt);
}

void ns__ipv4_handle_local(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, bool csum_ok)
{
        NS_STAT_INC(EPS(ep), SS(ep), ip, packets_received);
        pkt->flags = csum_ok ? NS_PKT_F_CSUM_VERIFIED | NS_PKT_F_LOOPED : NS_PKT_F_LOOPED;
        pkt->nic_id = ep->nic->id;
        if (!parse(pkt)) {
                DROP(ep, pkt, malformed_packets_received);
                return;
        }
        ns__ipv4_handle_packet(ep, pkt);
}

/*
 * Processes the options of a packet for local delivery in place (the
 * seed's optionUsageReceive). False when the packet was dropped (and an
 * ICMP parameter problem sent when the seed sends one).
 */
static bool receive_options(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, enum ns_opt_usage usage)
{
        uint8_t *h = ns_pkt_network_header(pkt);
        size_t olen = ns_ipv4_options_len(h);
        if (olen == 0)
                return true;
        uint8_t out[NS_IPV4_MAX_OPTS];
        size_t out_len = 0;
        if (!ns__ipv4_options_run(ep, pkt, usage, false, out, &out_len)) {
                ns_pkt_free(pkt);
                return false;
        }
        if (usage == NS_OPT_USAGE_VERIFY)
                return true;
        if (ns_pkt_make_writable(pkt) != 0) {
                DROP(ep, pkt, outgoing_packet_errors);
                return false;
        }
        h = ns_pkt_network_header(pkt);
        uint8_t *opts = h + NS_IPV4_MIN_HDR;
        for (size_t i = 0; i < olen; i++)
                opts[i] = i < out_len ? out[i] : 0; /* RFC 791: "The padding is zero" */
        ns_ipv4_fill_checksum(h);
        return true;
}

/* Fragment handling (the seed's block in handlePacket). Returns the
 * reassembled packet, or NULL when the fragment was consumed. */
static struct ns_pkt *reassemble(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        uint8_t *h = ns_pkt_data(pkt);
        uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(h);
        uint32_t payload = ns_pkt_len(pkt) - hlen;
        if (payload == 0) {
                NS_STAT_INC(EPS(ep), SS(ep), ip, malformed_fragments_received);
                DROP(ep, pkt, malformed_packets_received);
                return NULL;
        }
        /* Options are checked before reassembly but not changed (seed). */
        if (!receive_options(ep, pkt, NS_OPT_USAGE_VERIFY))
                return NULL;
        struct ns_reasm_key key = { .src = ns_ipv4_src(h),
                                    .dst = ns_ipv4_dst(h),
                                    .id = ns_ipv4_id(h),
                                    .proto = ns_ipv4_proto(h) };
        struct ns_pkt *whole = NULL;
        enum ns_reasm_result r =
            ns__reasm_add(ep->p->reasm, &key, ns_ipv4_frag_off(h), payload, ns_ipv4_mf(h), hlen,
                          pkt, ns__stack_now(ep->p->s), &whole);
        ns__ipv4_reasm_arm(ep->p);
        switch (r) {
        case NS_REASM_COMPLETE:
                break;
        case NS_REASM_MALFORMED:
                NS_STAT_INC(EPS(ep), SS(ep), ip, malformed_fragments_received);
                NS_STAT_INC(EPS(ep), SS(ep), ip, malformed_packets_received);
                return NULL;
        default:
                return NULL;
        }
        /* The reassembler does not fix the header: total length, no flags. */
        h = ns_pkt_data(whole);
        ns_ipv4_set_total_len(h, (uint16_t)ns_pkt_len(whole));
        ns_ipv4_set_flags_frag_off(h, 0, 0);
        ns_ipv4_fill_checksum(h);
        ns_pkt_set_network_header(whole);
        whole->nic_id = ep->nic->id;
        return whole;
}

static void dispatch_transport(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        struct ns_stack *s = ep->p->s;
        const uint8_t *h = ns_pkt_data(pkt);
        uint8_t proto = ns_ipv4_proto(h);
        uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(h);
        const struct ns_transport_handler *th = &s->transport[proto];
        enum ns_deliver_result res = NS_DELIVER_PROTO_UNREACHABLE;
        if (th->deliver) {
                ns_pkt_pull(pkt, hlen);
                ns_pkt_set_transport_header(pkt);
                res = th->deliver(th->ctx, ep->nic, pkt);
                if (res == NS_DELIVER_HANDLED)
                        return;
                ns_pkt_push(pkt, hlen); /* back to the IP header for the quote */
        }
        struct ns_icmp_reason why = { .type = 3 };
        if (res == NS_DELIVER_PORT_UNREACHABLE) {
                /* RFC 1122 3.2.2.1: code 3 when the transport cannot demultiplex. */
                why.code = 3;
        } else {
                /* RFC 1122 3.2.2.1: code 2 when the protocol is not supported. */
                why.code = 2;
                NS_STAT_INC(EPS(ep), SS(ep), ip, unknown_protocol_received);
        }
        (void)ns__icmp4_send_error(ep->p, &why, pkt);
        ns_pkt_free(pkt);
}

void ns__ipv4_handle_packet(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        handle_packet(ep, pkt, NULL, false);
}

/*
 * The seed's handlePacket. from_link: ns__ipv4_deliver() has checked the
 * header checksum and src_e is ns__nic_match() of the source on this NIC;
 * otherwise both are done here.
 */
static inline __attribute__((always_inline)) void handle_packet(struct ns_ipv4_ep *ep,
                                                                struct ns_pkt *pkt,
                                                                const struct ns_addr_entry *src_e,
                                                                bool from_link)
{
        struct ns_nic *nic = ep->nic;
        struct ns_ipv4 *p = ep->p;
        pkt->nic_id = nic->id;
        const uint8_t *h = ns_pkt_data(pkt);

        if (!from_link && !checksum_ok(ep, pkt))
                return;
        /* Structure and checksum are good (gVisor's handleValidatedPacket). */
        NS_STAT_INC(EPS(ep), SS(ep), ip, valid_packets_received);
        ns_ip4 src = ns_ipv4_src(h), dst = ns_ipv4_dst(h);

        /*
         * RFC 1122 3.2.1.3: a source is one of the sender's own addresses,
         * never a broadcast or multicast address; MUST discard otherwise.
         */
        if (src == NS_IP4_BROADCAST || ns_ip4_is_multicast(src)) {
                DROP(ep, pkt, invalid_source_addresses_received);
                return;
        }
        bool exact;
        if (!from_link)
                src_e = ns__nic_match(nic, src, &exact);
        if (src_e && ns_ip4_prefix_is_broadcast(src_e->pfx, src)) {
                DROP(ep, pkt, invalid_source_addresses_received);
                return;
        }

        /*
         * Is it ours, a broadcast we take, or a group we joined? Classified
         * without references; a promiscuous NIC may also create a temporary
         * address for it (the seed's allowTemp), which needs the full path.
         */
        struct ns_ip4_prefix dpfx = { 0 };
        bool ours = false;
        if (!nic->promiscuous) {
                const struct ns_addr_entry *e = ns__nic_match(nic, dst, &exact);
                if (e) {
                        ours = true;
                        dpfx = e->pfx;
                }
        } else {
                struct ns_addr_entry *te =
                    ns__nic_acquire_assigned(nic, dst, true, NS_PEB_CAN_BE_PRIMARY);
                if (te) {
                        ours = true;
                        dpfx = te->pfx;
                        ns__addr_release(&nic->addrs, te);
                }
        }
        if (ours) {
                if (ns_ip4_prefix_is_broadcast(dpfx, dst) || dst == NS_IP4_BROADCAST) {
                        pkt->flags |= NS_PKT_F_LOCAL_BCAST;
                        NS_STAT_INC(EPS(ep), SS(ep), ip, broadcast_packets_received);
                }
        } else if (ns__ipv4_in_group(ep, dst)) {
                NS_STAT_INC(EPS(ep), SS(ep), ip, multicast_packets_received);
        } else {
                if (!p->forwarding) {
                        DROP(ep, pkt, invalid_destination_addresses_received);
                        return;
                }
                ns__ipv4_forward(ep, pkt);
                return;
        }

        /* Linux ip_rcv_options: after the route, before LOCAL_IN (HOSTILE 20). */
        if (ns_ipv4_options_len(h) != 0 &&
            ns__ipv4_drop_source_routed(ep, pkt, false) != NS_SRR_NONE)
                return;

        if (ns__filter_active(&p->s->filter, NS_HOOK_INPUT) &&
            !hook_accepts(p, NS_HOOK_INPUT, nic, pkt)) {
                DROP(ep, pkt, iptables_input_dropped);
                return;
        }

        if (ns_ipv4_is_fragment(h)) {
                uint32_t flags = pkt->flags;
                pkt = reassemble(ep, pkt);
                if (!pkt)
                        return;
                pkt->flags = flags;
                h = ns_pkt_data(pkt);
        }
        NS_STAT_INC(EPS(ep), SS(ep), ip, packets_delivered);

        uint8_t proto = ns_ipv4_proto(h);
        if (proto == NS_IPV4_PROTO_ICMP) {
                /* ICMP processes options itself (echo usage for requests). */
                ns__icmp4_handle(ep, pkt);
                return;
        }
        if (ns_ipv4_options_len(h) != 0 && !receive_options(ep, pkt, NS_OPT_USAGE_RECEIVE))
                return;
        if (proto == NS_IPV4_PROTO_IGMP) {
                ns__igmp_handle(ep, pkt);
                return;
        }
        dispatch_transport(ep, pkt);
}
