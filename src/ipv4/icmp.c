/*
 * ICMPv4 (RFC 792): echo and timestamp answers, delivery of replies and
 * errors to transports, and sending errors with the seed's returnError
 * rules plus RFC 1122 / RFC 1812 suppression and Linux's rate limits.
 */
#include <string.h>

#include <netstack/checksum.h>
#include <netstack/err.h>

#include "ipv4/ipv4.h"
#include "ipv4/options.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)

/* RFC 1812 4.3.2.3: an error datagram is at most 576 bytes. */
#define ICMP_ERROR_MAX_DATAGRAM 576

static inline void count_sent(struct ns_stats *eps, struct ns_stats *ss, uint8_t type)
{
        NS_STAT_INC(eps, ss, icmp, sent_total);
        switch (type) {
        case NS_ICMP4_ECHO_REPLY:
                NS_STAT_INC(eps, ss, icmp, sent_echo_reply);
                break;
        case NS_ICMP4_DEST_UNREACH:
                NS_STAT_INC(eps, ss, icmp, sent_dst_unreachable);
                break;
        case NS_ICMP4_TIME_EXCEEDED:
                NS_STAT_INC(eps, ss, icmp, sent_time_exceeded);
                break;
        case NS_ICMP4_PARAM_PROBLEM:
                NS_STAT_INC(eps, ss, icmp, sent_param_problem);
                break;
        case NS_ICMP4_TIMESTAMP_REPLY:
                NS_STAT_INC(eps, ss, icmp, sent_timestamp_reply);
                break;
        case NS_ICMP4_ECHO:
                NS_STAT_INC(eps, ss, icmp, sent_echo_request);
                break;
        default:
                break;
        }
}

static void count_rate_limited(struct ns_stats *eps, struct ns_stats *ss, enum ns_icmp_rl_verdict v)
{
        NS_STAT_INC(eps, ss, icmp, sent_rate_limited);
        if (v == NS_ICMP_RL_LIMITED_HOST)
                NS_STAT_INC(eps, ss, icmp, sent_rate_limited_host);
        else
                NS_STAT_INC(eps, ss, icmp, sent_rate_limited_global);
}

/* Milliseconds since midnight UT (RFC 791 timestamps, RFC 792 type 13/14). */
uint32_t ns__ipv4_ms_since_midnight(const struct ns_stack *s)
{
        int64_t wall = s->clock.wall_ns ? s->clock.wall_ns(s->clock.ctx) : 0;
        if (wall < 0)
                wall = 0;
        return (uint32_t)((wall / 1000000) % 86400000);
}

int ns__icmp4_send_error(struct ns_ipv4 *p, const struct ns_icmp_reason *why,
                         const struct ns_pkt *orig)
{
        struct ns_stack *s = p->s;
        const uint8_t *h = ns_pkt_network_header(orig);
        if (!h)
                h = ns_pkt_data(orig);
        uint32_t orig_len = (uint32_t)(ns_pkt_data(orig) + ns_pkt_len(orig) - h);
        if (orig_len < NS_IPV4_MIN_HDR)
                return 0;
        ns_ip4 src = ns_ipv4_src(h), dst = ns_ipv4_dst(h);
        struct ns_nic *in_nic = ns__nic_get(s, orig->nic_id);
        struct ns_stats *eps = in_nic ? &in_nic->stats : NULL;

        /*
         * Never about a datagram sent to a broadcast or multicast address or
         * received as a link broadcast, nor from an address that is not one
         * host (RFC 1122 3.2.2, RFC 1812 4.3.2.7).
         */
        if ((orig->flags & (NS_PKT_F_LOCAL_BCAST | NS_PKT_F_LINK_BCAST)) ||
            dst == NS_IP4_BROADCAST || ns_ip4_is_multicast(dst))
                return 0;
        if (src == NS_IP4_ANY || src == NS_IP4_BROADCAST || ns_ip4_is_multicast(src) ||
            ns_ip4_is_loopback(src) != ns_ip4_is_loopback(dst))
                return 0;
        /* Only about the first fragment (RFC 1122 3.2.2). */
        if (ns_ipv4_frag_off(h) != 0)
                return 0;
        /* Never about an ICMP error: only queries and replies may provoke one. */
        size_t hlen = ns_ipv4_hdr_len(h);
        if (ns_ipv4_proto(h) == NS_IPV4_PROTO_ICMP) {
                if (orig_len <= hlen || !ns_icmp4_may_provoke_error(h[hlen]))
                        return 0;
        }

        /* From the address the datagram was sent to, or the route's when forwarding. */
        ns_ip4 local = why->forwarding ? NS_IP4_ANY : dst;
        struct ns_path path;
        if (ns__stack_find_route(s, orig->nic_id, local, src, false, &path) != 0 &&
            ns__stack_find_route(s, 0, NS_IP4_ANY, src, false, &path) != 0) {
                NS_STAT_INC(eps, &s->stats, icmp, sent_dropped);
                return NS_ERR_NO_ROUTE;
        }
        enum ns_icmp_rl_verdict v =
            ns__icmp_rl_check(&s->icmp_rl, why->type, why->code, src, ns__stack_now(s));
        if (v != NS_ICMP_RL_ALLOW) {
                count_rate_limited(eps, &s->stats, v);
                ns__path_release(&path);
                return 0;
        }

        /* Quote as much of the original as fits in 576 bytes (RFC 1812 4.3.2.3). */
        uint32_t room = ICMP_ERROR_MAX_DATAGRAM - NS_IPV4_MIN_HDR - NS_ICMP4_HDR;
        uint32_t quote = orig_len < room ? orig_len : room;
        struct ns_pkt *pkt =
            ns_pkt_alloc(s->pool, NS_IPV4_TX_HEADROOM + NS_IPV4_MAX_HDR, NS_ICMP4_HDR + quote);
        if (!pkt) {
                NS_STAT_INC(eps, &s->stats, icmp, sent_dropped);
                ns__path_release(&path);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        uint32_t rest = 0;
        if (why->type == NS_ICMP4_PARAM_PROBLEM)
                rest = ns_icmp4_rest_pointer((uint8_t)why->arg);
        else if (why->type == NS_ICMP4_DEST_UNREACH && why->code == NS_ICMP4_FRAG_NEEDED)
                rest = ns_icmp4_rest_mtu((uint16_t)why->arg);
        uint8_t *out = ns_pkt_put(pkt, NS_ICMP4_HDR + quote);
        ns_icmp4_emit_error(out, NS_ICMP4_HDR + quote, why->type, why->code, rest, h, quote);
        /* Linux: internetwork-control precedence with the original's TOS bits. */
        struct ns_ipv4_params params = { .proto = NS_IPV4_PROTO_ICMP,
                                         .ttl = p->default_ttl,
                                         .tos = (uint8_t)((ns_ipv4_tos(h) & 0x1e) | 0xc0) };
        struct ns_stats *out_eps = &path.nic->stats;
        int err = ns__ipv4_write_packet(p, &path, &params, pkt);
        if (err == 0)
                count_sent(out_eps, &s->stats, why->type);
        else
                NS_STAT_INC(out_eps, &s->stats, icmp, sent_dropped);
        ns__path_release(&path);
        return err;
}

/* Hands an ICMP packet to the ICMP transport (ping and raw endpoints). */
static bool to_transport(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        const struct ns_transport_handler *th = &ep->p->s->transport[NS_IPV4_PROTO_ICMP];
        if (!th->deliver)
                return false;
        uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(ns_pkt_data(pkt));
        ns_pkt_pull(pkt, hlen);
        ns_pkt_set_transport_header(pkt);
        if (th->deliver(th->ctx, ep->nic, pkt) == NS_DELIVER_HANDLED)
                return true;
        ns_pkt_push(pkt, hlen);
        return false;
}

/*
 * True when an echo reply may be built in the request's own buffer instead
 * of a new one (saving an allocation and a copy per echo). HOSTILE 64 asks
 * that a reply never be written over bytes someone else may still read, so
 * this holds only when nobody else can see the buffer: the storage has no
 * other reference (no clone kept by a link tap, a test or a caller), and no
 * ICMP transport (ping or raw endpoints) is registered, which could be
 * offered the request. body is the request's ICMP message, hlen bytes past
 * the data start (the IP header); the reply's IP header of out_hlen bytes
 * must fit in front of it with the headroom a new packet would get.
 */
static bool may_reply_in_place(const struct ns_stack *s, const struct ns_pkt *req,
                               const uint8_t *body, uint32_t hlen, uint32_t out_hlen)
{
        return body == ns_pkt_data(req) + hlen && !ns_pkt_is_shared(req) &&
               !s->transport[NS_IPV4_PROTO_ICMP].deliver &&
               ns_pkt_headroom(req) + hlen >= NS_IPV4_TX_HEADROOM + out_hlen;
}

/*
 * Turns the request req into an empty-metadata packet whose data is its
 * len-byte ICMP message, hlen bytes past the data start: what
 * ns_pkt_alloc() plus ns_pkt_put() would give, with the bytes already in
 * place. Every field but the storage and the data window is reset, so no
 * receive-side flag, mark, NIC or header mark leaks into the reply.
 */
static void recycle_as_reply(struct ns_pkt *req, uint32_t hlen, uint32_t len)
{
        ns_pkt_pull(req, hlen);
        ns_pkt_trim(req, len);
        *req = (struct ns_pkt){ .buf = req->buf,
                                .head = req->head,
                                .cap = req->cap,
                                .off = req->off,
                                .len = req->len,
                                .link_hdr = NS_PKT_NO_HDR,
                                .net_hdr = NS_PKT_NO_HDR,
                                .transport_hdr = NS_PKT_NO_HDR,
                                .pool = req->pool };
}

/*
 * ns_csum_update16(req_csum, ECHO << 8 | code, ECHO_REPLY << 8 | code),
 * RFC 1624 equation 3 for the one word an echo reply changes, inline: ~m +
 * m' is 0xf7ff whatever the code, and one fold brings the sum (at most
 * 0x1f7fe) back to 16 bits.
 */
static inline uint16_t echo_reply_csum(uint16_t req_csum)
{
        uint32_t sum = (uint32_t)(uint16_t)~req_csum + 0xf7ffu;
        sum = (sum & 0xffffu) + (sum >> 16);
        return (uint16_t)~sum;
}

/*
 * Builds and sends an answer (echo or timestamp reply) to a request.
 * Consumes req: an echo reply reuses it when may_reply_in_place() allows,
 * any other answer is built in a new packet and req is freed.
 */
static inline __attribute__((always_inline)) void reply(struct ns_ipv4_ep *ep, struct ns_pkt *req,
                                                        uint8_t type, const uint8_t *body,
                                                        uint32_t len, const uint8_t *opts,
                                                        size_t opts_len)
{
        struct ns_ipv4 *p = ep->p;
        struct ns_stack *s = p->s;
        const uint8_t *h = ns_pkt_network_header(req);
        /*
         * Echo replies ask the limiter too, which passes them unless the
         * stack's limits say limit_echo_reply (Linux's icmp_reply() asks
         * icmpv4_xrlim_allow(); echo reply is outside the default mask).
         */
        if (type == NS_ICMP4_ECHO_REPLY) {
                enum ns_icmp_rl_verdict v =
                    ns__icmp_rl_check(&s->icmp_rl, type, 0, ns_ipv4_src(h), ns__stack_now(s));
                if (v != NS_ICMP_RL_ALLOW) {
                        count_rate_limited(EPS(ep), SS(ep), v);
                        ns_pkt_free(req);
                        return;
                }
        }
        ns_ip4 local = ns_ipv4_dst(h);
        /* RFC 1122 3.2.1.3: never from a broadcast or multicast address. */
        if ((req->flags & NS_PKT_F_LOCAL_BCAST) || ns_ip4_is_multicast(local))
                local = NS_IP4_ANY;
        struct ns_path path;
        if (ns__stack_find_route(s, ep->nic->id, local, ns_ipv4_src(h), false, &path) != 0) {
                NS_STAT_INC(EPS(ep), SS(ep), icmp, sent_dropped);
                ns_pkt_free(req);
                return;
        }
        /* Everything the reply needs from the request header, read before
         * an in-place reply writes its own header over it. */
        struct ns_ipv4_params params = { .proto = NS_IPV4_PROTO_ICMP,
                                         .ttl = p->default_ttl,
                                         .tos = ns_ipv4_tos(h),
                                         .options = opts,
                                         .options_len = (uint8_t)opts_len };
        uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(h);
        uint8_t req_type = body[0];
        uint16_t req_csum = ns_icmp4_checksum(body);
        uint8_t *out;
        struct ns_pkt *pkt;
        if (type == NS_ICMP4_ECHO_REPLY &&
            may_reply_in_place(s, req, body, hlen, NS_IPV4_MIN_HDR + ((opts_len + 3u) & ~3u))) {
                recycle_as_reply(req, hlen, len);
                pkt = req;
                out = ns_pkt_data(pkt);
        } else {
                /* A new buffer: never answer in place of a packet others may see (HOSTILE 64). */
                pkt = ns_pkt_alloc(s->pool, NS_IPV4_TX_HEADROOM + NS_IPV4_MAX_HDR, len);
                if (!pkt) {
                        NS_STAT_INC(EPS(ep), SS(ep), icmp, sent_dropped);
                        ns__path_release(&path);
                        ns_pkt_free(req);
                        return;
                }
                out = ns_pkt_put(pkt, len);
                memcpy(out, body, len);
                ns_pkt_free(req);
        }
        if (req_type == NS_ICMP4_ECHO && type == NS_ICMP4_ECHO_REPLY) {
                /*
                 * The request's checksum was verified and only the type
                 * changes: patch it (RFC 1624) instead of summing again.
                 */
                ns_icmp4_set_type(out, type);
                uint16_t csum = echo_reply_csum(req_csum);
                /*
                 * Equation 3 never yields 0xffff, the only right checksum
                 * of a reply whose words are all zero (id 0, seq 0, zero
                 * data; found by fuzz_icmp4): sum such a rare one again.
                 */
                if (csum == 0)
                        csum = ns_icmp4_compute_checksum(out, len);
                ns_icmp4_set_checksum(out, csum);
        } else {
                ns_icmp4_set_type(out, type);
                ns_icmp4_set_checksum(out, 0);
                ns_icmp4_set_checksum(out, ns_icmp4_compute_checksum(out, len));
        }
        struct ns_stats *out_eps = &path.nic->stats;
        if (ns__ipv4_write_packet(p, &path, &params, pkt) == 0)
                count_sent(out_eps, &s->stats, type);
        else
                NS_STAT_INC(out_eps, &s->stats, icmp, sent_dropped);
        /* ns__path_release(), inline. */
        if (path.local_entry)
                ns__addr_release(&path.local_nic->addrs, path.local_entry);
}

/*
 * Echo and timestamp requests: options with the echo usage, then the reply.
 * Consumes pkt.
 */
static inline __attribute__((always_inline)) void
answer_request(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, uint8_t reply_type)
{
        const uint8_t *h = ns_pkt_network_header(pkt);
        bool bcast = (pkt->flags & NS_PKT_F_LOCAL_BCAST) || ns_ip4_is_multicast(ns_ipv4_dst(h));
        /* Linux icmp_echo_ignore_broadcasts: no Smurf amplification. */
        if (bcast && ep->p->echo_ignore_broadcasts) {
                ns_pkt_free(pkt);
                return;
        }
        uint8_t opts[NS_IPV4_MAX_OPTS];
        size_t opts_len = 0;
        if (ns_ipv4_options_len(h) &&
            !ns__ipv4_options_run(ep, pkt, NS_OPT_USAGE_ECHO, false, opts, &opts_len)) {
                ns_pkt_free(pkt);
                return;
        }
        size_t hlen = ns_ipv4_hdr_len(h);
        uint32_t len = ns_ipv4_total_len(h) - (uint32_t)hlen;
        const uint8_t *body = h + hlen;
        if (reply_type == NS_ICMP4_TIMESTAMP_REPLY) {
                /* RFC 792: originate copied; receive and transmit are now. */
                uint8_t ts[NS_ICMP4_TIMESTAMP_LEN];
                uint32_t now = ns__ipv4_ms_since_midnight(ep->p->s);
                memcpy(ts, body, NS_ICMP4_TIMESTAMP_LEN);
                ns_icmp4_set_receive_ts(ts, now);
                ns_icmp4_set_transmit_ts(ts, now);
                reply(ep, pkt, reply_type, ts, NS_ICMP4_TIMESTAMP_LEN, opts, opts_len);
                return;
        }
        /* Echo: the request's identifier, sequence and data come back. */
        reply(ep, pkt, reply_type, body, len, opts, opts_len);
}

/* answer_request() for a timestamp, out of line: only echo is inlined into ns__icmp4_handle(). */
static __attribute__((noinline)) void answer_timestamp(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        answer_request(ep, pkt, NS_ICMP4_TIMESTAMP_REPLY);
}

/* The quoted datagram of an ICMP error, for the transport that sent it. */
static void notify_transport(struct ns_ipv4_ep *ep, ns_ip4 from, const uint8_t *icmp, uint32_t len)
{
        if (len < NS_ICMP4_HDR + NS_IPV4_MIN_HDR)
                return;
        const uint8_t *q = icmp + NS_ICMP4_HDR;
        uint32_t qlen = len - NS_ICMP4_HDR;
        size_t qh = ns_ipv4_hdr_len(q);
        /* Lengths come from the bytes we hold, never from inner fields (HOSTILE 62). */
        if (ns_ipv4_version(q) != 4 || qh < NS_IPV4_MIN_HDR || qh > qlen)
                return;
        /* Only the first fragment carries the transport header. */
        if (ns_ipv4_frag_off(q) != 0)
                return;
        uint8_t proto = ns_ipv4_proto(q);
        const struct ns_transport_handler *th = &ep->p->s->transport[proto];
        if (!th->error)
                return;
        struct ns_transport_error err = {
                .icmp_type = ns_icmp4_type(icmp),
                .icmp_code = ns_icmp4_code(icmp),
                .from = from,
                .src = ns_ipv4_src(q),
                .dst = ns_ipv4_dst(q),
                .proto = proto,
                .transport = q + qh,
                .transport_len = qlen - (uint32_t)qh,
        };
        if (err.icmp_type == NS_ICMP4_DEST_UNREACH && err.icmp_code == NS_ICMP4_FRAG_NEEDED) {
                /*
                 * Linux floors PMTU at min_pmtu (552, settable, never below 68:
                 * HOSTILE 61) and remembers it for the destination (forward.c).
                 */
                err.mtu = ns__ipv4_pmtu_learn(ep->p, err.src, err.dst, ns_icmp4_mtu(icmp));
        }
        th->error(th->ctx, ep->nic, &err);
}

void ns__icmp4_handle(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        const uint8_t *h = ns_pkt_data(pkt);
        size_t hlen = ns_ipv4_hdr_len(h);
        uint32_t len = ns_pkt_len(pkt) - (uint32_t)hlen;
        const uint8_t *icmp = h + hlen;
        NS_STAT_INC(EPS(ep), SS(ep), icmp, received_total);
        /* An ICMP message has at least its 8-byte header (HOSTILE 55). */
        if (len < NS_ICMP4_HDR) {
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_invalid);
                ns_pkt_free(pkt);
                return;
        }
        uint8_t type = ns_icmp4_type(icmp);
        if (!(pkt->flags & NS_PKT_F_CSUM_VERIFIED) && !ns_icmp4_checksum_ok(icmp, len)) {
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_checksum_errors);
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_invalid);
                /*
                 * The seed still hands a bad echo request to the transport (raw
                 * sockets may want it); nothing else is processed.
                 */
                if (type == NS_ICMP4_ECHO && to_transport(ep, pkt))
                        return;
                ns_pkt_free(pkt);
                return;
        }
        switch (type) {
        case NS_ICMP4_ECHO:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_echo_request);
                answer_request(ep, pkt, NS_ICMP4_ECHO_REPLY);
                return;
        case NS_ICMP4_ECHO_REPLY:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_echo_reply);
                if (to_transport(ep, pkt))
                        return;
                break;
        case NS_ICMP4_TIMESTAMP:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_timestamp);
                if (len < NS_ICMP4_TIMESTAMP_LEN) {
                        NS_STAT_INC(EPS(ep), SS(ep), icmp, received_invalid);
                        break;
                }
                answer_timestamp(ep, pkt);
                return;
        case NS_ICMP4_TIMESTAMP_REPLY:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_timestamp_reply);
                if (to_transport(ep, pkt))
                        return;
                break;
        case NS_ICMP4_DEST_UNREACH:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_dst_unreachable);
                notify_transport(ep, ns_ipv4_src(h), icmp, len);
                break;
        case NS_ICMP4_TIME_EXCEEDED:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_time_exceeded);
                notify_transport(ep, ns_ipv4_src(h), icmp, len);
                break;
        case NS_ICMP4_PARAM_PROBLEM:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_param_problem);
                notify_transport(ep, ns_ipv4_src(h), icmp, len);
                break;
        case NS_ICMP4_SOURCE_QUENCH:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_src_quench);
                break;
        case NS_ICMP4_REDIRECT:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_redirect);
                break;
        case NS_ICMP4_INFO_REQUEST:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_info_request);
                break;
        case NS_ICMP4_INFO_REPLY:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_info_reply);
                break;
        case NS_ICMP4_ADDR_MASK:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_addr_mask_request);
                break;
        case NS_ICMP4_ADDR_MASK_REPLY:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_addr_mask_reply);
                break;
        default:
                NS_STAT_INC(EPS(ep), SS(ep), icmp, received_unknown_type);
                break;
        }
        ns_pkt_free(pkt);
}
