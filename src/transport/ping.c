/*
 * Ping endpoints (Linux net/ipv4/ping.c, SOCK_DGRAM IPPROTO_ICMP): echo
 * requests out, echo replies and errors about our requests back to the
 * endpoint that sent them. Endpoints sit in one list: ping is not a hot
 * path. The module owns ICMP's transport slot, so it also offers every
 * ICMP datagram it sees to raw endpoints first.
 */
#include <string.h>

#include <netstack/err.h>
#include <netstack/ping.h>

#include "core/stack.h"
#include "core/stats.h"
#include "ipv4/ipv4.h"
#include "transport/tp.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

struct ns_ping_ep {
        struct ping_state *ps;
        struct ns_ping_ep *next;
        bool has_id;
        /* The last request went to a broadcast or multicast address. */
        bool peer_any;
        uint16_t id;
        ns_ip4 peer;
        ns_ping_recv_fn cb;
        void *ctx;
};

struct ping_state {
        struct ns_stack *s;
        struct ns_ping_ep *eps;
};

/* The endpoint expecting a reply with id from src (Linux ping_lookup by ident). */
static struct ns_ping_ep *lookup(struct ping_state *ps, uint16_t id, ns_ip4 src)
{
        for (struct ns_ping_ep *e = ps->eps; e; e = e->next)
                if (e->has_id && e->id == id && (e->peer_any || e->peer == src))
                        return e;
        return NULL;
}

int ns_ping_open(struct ns_stack *s, struct ns_ping_ep **out)
{
        struct ping_state *ps = s ? s->ping : NULL;
        if (!ps || !out)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct ns_ping_ep *ep = ns_zalloc(&s->alloc, sizeof(*ep));
        if (!ep)
                return NS_ERR_NO_MEMORY;
        ep->ps = ps;
        ep->next = ps->eps;
        ps->eps = ep;
        *out = ep;
        return 0;
}

/*
 * Nothing walks the list after a callback returns, so closing from inside
 * one frees at once.
 */
void ns_ping_close(struct ns_ping_ep *ep)
{
        if (!ep)
                return;
        struct ping_state *ps = ep->ps;
        for (struct ns_ping_ep **pp = &ps->eps; *pp; pp = &(*pp)->next) {
                if (*pp == ep) {
                        *pp = ep->next;
                        break;
                }
        }
        ns_free(&ps->s->alloc, ep);
}

void ns_ping_set_recv_cb(struct ns_ping_ep *ep, ns_ping_recv_fn cb, void *ctx)
{
        if (!ep)
                return;
        ep->cb = cb;
        ep->ctx = ctx;
}

int ns_ping_send(struct ns_ping_ep *ep, ns_ip4 dst, uint16_t id, uint16_t seq, const void *data,
                 size_t len, const struct ns_ping_send_opts *opts)
{
        static const struct ns_ping_send_opts none;
        if (!ep)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (!opts)
                opts = &none;
        if (dst == NS_IP4_ANY || (!data && len) || opts->ip_options_len > NS_IPV4_MAX_OPTS ||
            (opts->ip_options_len && !opts->ip_options))
                return NS_ERR_INVALID_ARGUMENT;
        uint32_t opt_room = (opts->ip_options_len + 3u) & ~3u;
        if (len > NS_IPV4_MAX_TOTAL - NS_IPV4_MIN_HDR - opt_room - NS_ICMP4_HDR)
                return NS_ERR_MESSAGE_TOO_LONG;
        struct ns_stack *s = ep->ps->s;
        struct ns_ipv4 *p = ns__ipv4_of(s);
        struct ns_path path;
        int err = ns__stack_find_route(s, opts->nic_id, NS_IP4_ANY, dst, true, &path);
        if (err) {
                NS_STAT_INC(NULL, &s->stats, icmp, sent_dropped);
                return err;
        }
        uint32_t mlen = NS_ICMP4_HDR + (uint32_t)len;
        struct ns_pkt *pkt = ns_pkt_alloc(s->pool, NS_IPV4_TX_HEADROOM + NS_IPV4_MAX_HDR, mlen);
        if (!pkt) {
                NS_STAT_INC(&path.nic->stats, &s->stats, icmp, sent_dropped);
                ns__path_release(&path);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        uint8_t *m = ns_pkt_put(pkt, mlen);
        ns_icmp4_emit_echo(m, mlen, NS_ICMP4_ECHO, id, seq, data, len);
        ns_pkt_set_transport_header(pkt);
        /* Both loop flags: the destination is a broadcast or multicast address. */
        ep->peer_any = (path.loop & (NS_LOOP_IN | NS_LOOP_OUT)) == (NS_LOOP_IN | NS_LOOP_OUT) ||
                       ns_ip4_is_multicast(dst) || dst == NS_IP4_BROADCAST;
        ep->peer = dst;
        ep->id = id;
        ep->has_id = true;
        struct ns_ipv4_params params = {
                .proto = NS_IPV4_PROTO_ICMP,
                .ttl = opts->ttl                  ? opts->ttl
                       : ns_ip4_is_multicast(dst) ? 1
                                                  : p->default_ttl,
                .tos = opts->tos,
                .options = opts->ip_options,
                .options_len = opts->ip_options_len,
        };
        struct ns_stats *eps = &path.nic->stats;
        err = ns__ipv4_write_packet(p, &path, &params, pkt);
        if (err) {
                NS_STAT_INC(eps, &s->stats, icmp, sent_dropped);
        } else {
                NS_STAT_INC(eps, &s->stats, icmp, sent_echo_request);
                NS_STAT_INC(eps, &s->stats, icmp, sent_total);
        }
        ns__path_release(&path);
        return err;
}

/*
 * ICMP the IPv4 layer passes up: echo replies, timestamp replies and echo
 * requests with a bad checksum (data at the ICMP header, checksum checked
 * for all but the last). Raw endpoints see each first.
 */
static enum ns_deliver_result ping_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct ping_state *ps = ctx;
        bool taken = false;
        if (ns__raw_wants(ps->s, NS_IPV4_PROTO_ICMP))
                taken = ns__raw_tap(ps->s, nic, pkt, NS_IPV4_PROTO_ICMP);
        const uint8_t *m = ns_pkt_data(pkt);
        uint32_t len = ns_pkt_len(pkt);
        if (len >= NS_ICMP4_HDR && ns_icmp4_type(m) == NS_ICMP4_ECHO_REPLY) {
                const uint8_t *ih = ns_pkt_network_header(pkt);
                struct ns_ping_ep *ep = lookup(ps, ns_icmp4_id(m), ns_ipv4_src(ih));
                if (ep) {
                        taken = true;
                        if (ep->cb) {
                                struct ns_ping_msg msg = {
                                        .icmp_type = NS_ICMP4_ECHO_REPLY,
                                        .id = ns_icmp4_id(m),
                                        .seq = ns_icmp4_seq(m),
                                        .src = ns_ipv4_src(ih),
                                        .dst = ns_ipv4_dst(ih),
                                        .nic_id = nic->id,
                                        .ip_hdr = ih,
                                        .ip_hdr_len = ns_ipv4_hdr_len(ih),
                                        .ttl = ns_ipv4_ttl(ih),
                                        .data = m + NS_ICMP4_HDR,
                                        .len = len - NS_ICMP4_HDR,
                                };
                                ep->cb(ep->ctx, ep, &msg);
                        }
                }
        }
        if (!taken)
                return NS_DELIVER_PORT_UNREACHABLE;
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

/* An ICMP error quoting an echo request: to the endpoint that sent it (Linux ping_err). */
static void ping_error(void *ctx, struct ns_nic *nic, const struct ns_transport_error *err)
{
        struct ping_state *ps = ctx;
        const uint8_t *q = err->transport;
        if (err->transport_len < NS_ICMP4_HDR || ns_icmp4_type(q) != NS_ICMP4_ECHO)
                return;
        struct ns_ping_ep *ep = lookup(ps, ns_icmp4_id(q), err->dst);
        if (!ep || !ep->cb)
                return;
        struct ns_ping_msg msg = {
                .err = ns__tp_icmp_error_code(err->icmp_type, err->icmp_code),
                .icmp_type = err->icmp_type,
                .icmp_code = err->icmp_code,
                .id = ns_icmp4_id(q),
                .seq = ns_icmp4_seq(q),
                .src = err->src,
                .dst = err->dst,
                .nic_id = nic->id,
                .mtu = err->mtu,
        };
        ep->cb(ep->ctx, ep, &msg);
}

static int ping_attach(struct ns_stack *s)
{
        if (!s->ipv4)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct ping_state *ps = ns_zalloc(&s->alloc, sizeof(*ps));
        if (!ps)
                return NS_ERR_NO_MEMORY;
        ps->s = s;
        struct ns_transport_handler h = { .deliver = ping_deliver, .error = ping_error, .ctx = ps };
        int err = ns__stack_register_transport(s, NS_IPV4_PROTO_ICMP, &h);
        if (err) {
                ns_free(&s->alloc, ps);
                return err;
        }
        s->ping = ps;
        return 0;
}

static void ping_detach(struct ns_stack *s)
{
        struct ping_state *ps = s->ping;
        if (!ps)
                return;
        ns__stack_unregister_transport(s, NS_IPV4_PROTO_ICMP);
        while (ps->eps) {
                struct ns_ping_ep *ep = ps->eps;
                ps->eps = ep->next;
                ns_free(&s->alloc, ep);
        }
        ns_free(&s->alloc, ps);
        s->ping = NULL;
}

const struct ns_module ns_module_ping = { .name = "ping",
                                          .attach = ping_attach,
                                          .detach = ping_detach };
