/*
 * Running the option processor on a received packet: the local address and
 * clock it needs, the option counters, and the parameter problem the seed
 * sends when an option is bad. Shared by local delivery, echo and
 * forwarding.
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv4/options.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"

void ns__ipv4_opt_ctx_init(struct ns_opt_ctx *ctx, struct ns_ipv4_ep *ep, const struct ns_pkt *pkt)
{
        memset(ctx, 0, sizeof(*ctx));
        /*
         * The seed records the NIC's main address, else the destination --
         * unless that is a broadcast or multicast one, when no address will do.
         */
        struct ns_ip4_prefix main = ns__addr_main(&ep->nic->addrs);
        ctx->have_local_addr = true;
        if (main.addr != NS_IP4_ANY) {
                ctx->local_addr = main.addr;
        } else {
                ns_ip4 dst = ns_ipv4_dst(ns_pkt_network_header(pkt));
                if ((pkt->flags & NS_PKT_F_LOCAL_BCAST) || ns_ip4_is_multicast(dst))
                        ctx->have_local_addr = false;
                ctx->local_addr = dst;
        }
        ctx->ts_ms = ns__ipv4_ms_since_midnight(ep->p->s);
}

bool ns__ipv4_options_run(struct ns_ipv4_ep *ep, const struct ns_pkt *pkt, enum ns_opt_usage usage,
                          bool forwarding, uint8_t *out, size_t *out_len)
{
        return ns__ipv4_options_run_from(ep, pkt, usage, forwarding, NS_IP4_ANY, out, out_len);
}

bool ns__ipv4_options_run_from(struct ns_ipv4_ep *ep, const struct ns_pkt *pkt,
                               enum ns_opt_usage usage, bool forwarding, ns_ip4 record_addr,
                               uint8_t *out, size_t *out_len)
{
        const uint8_t *h = ns_pkt_network_header(pkt);
        struct ns_stats *eps = &ep->nic->stats, *ss = &ep->p->s->stats;
        struct ns_opt_problem prob = { 0 };
        struct ns_opt_ctx octx;
        ns__ipv4_opt_ctx_init(&octx, ep, pkt);
        if (record_addr != NS_IP4_ANY) {
                octx.local_addr = record_addr;
                octx.have_local_addr = true;
        }
        bool ok = ns__ipv4_process_options(ns_ipv4_options(h), ns_ipv4_options_len(h), usage, &octx,
                                           out, out_len, &prob);
        NS_STAT_ADD(eps, ss, ip, option_timestamp_received, octx.seen.ts);
        NS_STAT_ADD(eps, ss, ip, option_record_route_received, octx.seen.rr);
        NS_STAT_ADD(eps, ss, ip, option_router_alert_received, octx.seen.ra);
        NS_STAT_ADD(eps, ss, ip, option_unknown_received, octx.seen.unknown);
        if (!ok && prob.need_icmp) {
                struct ns_icmp_reason why = { .type = NS_ICMP4_PARAM_PROBLEM,
                                              .arg = prob.pointer,
                                              .forwarding = forwarding };
                (void)ns__icmp4_send_error(ep->p, &why, pkt);
                NS_STAT_INC(eps, ss, ip, malformed_packets_received);
        }
        return ok;
}

/* Whether the option area holds LSRR or SSRR before its end or a fault. */
static bool has_source_route(const uint8_t *h)
{
        struct ns_ipv4_opt_iter it;
        ns_ipv4_opt_iter_init(&it, ns_ipv4_options(h), ns_ipv4_options_len(h));
        struct ns_ipv4_opt o;
        while (ns_ipv4_opt_next(&it, &o) == NS_IPV4_OPT_OK) {
                if (o.type == NS_IPV4_OPT_EOL)
                        return false;
                if (o.type == NS_IPV4_OPT_LSRR || o.type == NS_IPV4_OPT_SSRR)
                        return true;
        }
        return false;
}

enum ns_srr_verdict ns__ipv4_drop_source_routed(struct ns_ipv4_ep *ep, struct ns_pkt *pkt,
                                                bool forwarding)
{
        const uint8_t *h = ns_pkt_network_header(pkt);
        if (ns_ipv4_options_len(h) == 0 || !has_source_route(h))
                return NS_SRR_NONE;
        /* Checked whole, changed nowhere: a bad area is answered as before. */
        uint8_t out[NS_IPV4_MAX_OPTS];
        size_t out_len = 0;
        if (!ns__ipv4_options_run(ep, pkt, NS_OPT_USAGE_VERIFY, forwarding, out, &out_len)) {
                ns_pkt_free(pkt);
                return NS_SRR_BAD_OPTS;
        }
        NS_STAT_INC(&ep->nic->stats, &ep->p->s->stats, ip, source_route_dropped);
        ns_pkt_free(pkt);
        return NS_SRR_DROPPED;
}
