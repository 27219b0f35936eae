/*
 * The send side of the IPv4 endpoint: header construction (the seed's
 * addIPHeader), WritePacket, WritePackets and WriteHeaderIncludedPacket.
 */
#include <string.h>

#include <netstack/err.h>

#include "core/neigh.h"
#include "ipv4/fragment.h"
#include "ipv4/ipv4.h"
#include "wire/hash.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

/* ns_hash_ip4_word(): the four bytes reversed, as one instruction where there is one. */
static inline uint32_t hash_word(ns_ip4 a)
{
#if defined(__GNUC__)
        return __builtin_bswap32(a);
#else
        return ns_hash_ip4_word(a);
#endif
}

uint16_t ns__ipv4_next_id(struct ns_ipv4 *p, ns_ip4 src, ns_ip4 dst, uint8_t proto)
{
        /* ns_hash_route(src, dst, proto, p->hash_iv), the seed's hashRoute(). */
        uint32_t b =
            ns_hash3_words(hash_word(src), hash_word(dst), proto, p->hash_iv) % NS_IPV4_ID_BUCKETS;
        return (uint16_t)++p->ids[b];
}

int ns__ipv4_network_mtu(uint32_t link_mtu, uint32_t hdr_len, uint32_t *out)
{
        /* RFC 791: every host must take a 68-byte datagram in one piece. */
        if (link_mtu < 68)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (hdr_len > NS_IPV4_MAX_HDR)
                return NS_ERR_MALFORMED_HEADER;
        uint32_t mtu = link_mtu > NS_IPV4_MAX_TOTAL ? NS_IPV4_MAX_TOTAL : link_mtu;
        *out = mtu - hdr_len;
        return 0;
}

/* Stores v big-endian at p as one 32-bit store where the compiler allows. */
static inline void put_be32(uint8_t *p, uint32_t v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap32(v);
        memcpy(p, &v, sizeof(v));
#else
        ns_store_be32(p, v);
#endif
}

/*
 * The header checksum of a 20-byte header from its five 32-bit words (the
 * checksum field zero): the RFC 1071 sum folded in the same four steps as
 * ns_ipv4_fill_checksum(), so the result is the same, without reading the
 * bytes back.
 */
static inline uint16_t hdr_csum5(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, uint32_t w4)
{
        uint64_t s = (uint64_t)w0 + w1 + w2 + w3 + w4;
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffu) + (s >> 16);
        s = (s & 0xffffu) + (s >> 16);
        return (uint16_t)~s;
}

/* The seed's addIPHeader. The packet is untouched on failure. */
static int add_header(struct ns_ipv4 *p, ns_ip4 src, ns_ip4 dst, struct ns_pkt *pkt,
                      const struct ns_ipv4_params *params)
{
        uint32_t opt_len = (params->options_len + 3u) & ~3u;
        uint32_t hlen = NS_IPV4_MIN_HDR + opt_len;
        if (hlen > NS_IPV4_MAX_HDR)
                return NS_ERR_MESSAGE_TOO_LONG;
        if (ns_pkt_len(pkt) + hlen > NS_IPV4_MAX_TOTAL)
                return NS_ERR_MESSAGE_TOO_LONG;
        uint8_t *h = ns_pkt_push(pkt, hlen);
        if (!h)
                return NS_ERR_NO_BUFFER_SPACE;
        /*
         * RFC 6864 4.3: every non-atomic datagram needs a unique ID, and DF is
         * never set here, so every datagram gets one. Flags and fragment
         * offset are zero; the checksum field is zero until filled below.
         */
        uint32_t w0 =
            (uint32_t)(0x40 | (hlen >> 2)) << 24 | (uint32_t)params->tos << 16 | ns_pkt_len(pkt);
        uint32_t w1 = (uint32_t)ns__ipv4_next_id(p, src, dst, params->proto) << 16;
        uint32_t w2 = (uint32_t)params->ttl << 24 | (uint32_t)params->proto << 16;
        put_be32(h, w0);
        put_be32(h + 4, w1);
        put_be32(h + 8, w2);
        put_be32(h + 12, src);
        put_be32(h + 16, dst);
        if (opt_len) {
                memcpy(h + 20, params->options, params->options_len);
                memset(h + 20 + params->options_len, 0, opt_len - params->options_len);
                ns_ipv4_fill_checksum(h);
        } else {
                ns_ipv4_set_checksum(h, hdr_csum5(w0, w1, w2, src, dst));
        }
        ns_pkt_set_network_header(pkt);
        pkt->net_proto = 0x0800;
        pkt->transport_proto = params->proto;
        return 0;
}

static struct ns_filter_info out_info(struct ns_nic *nic, enum ns_hook hook)
{
        return (struct ns_filter_info){ .hook = hook, .out_nic = nic->id, .out_name = nic->name };
}

/* out_hook() when the point has a function or rules. */
static __attribute__((noinline)) bool out_hook_run(struct ns_ipv4 *p, struct ns_nic *nic,
                                                   enum ns_hook hook, struct ns_pkt *pkt)
{
        struct ns_filter_info info = out_info(nic, hook);
        if (ns__filter_run(&p->s->filter, hook, pkt, &info) == NS_VERDICT_ACCEPT)
                return true;
        struct ns_ipv4_ep *ep = ns__ipv4_ep(p, nic);
        struct ns_stats *eps = ep ? &nic->stats : NULL;
        if (hook == NS_HOOK_OUTPUT)
                NS_STAT_INC(eps, &p->s->stats, ip, iptables_output_dropped);
        else
                NS_STAT_INC(eps, &p->s->stats, ip, iptables_postrouting_dropped);
        return false;
}

/*
 * Runs a hook point on an outgoing packet; true when it may continue. With
 * nothing installed at the point this is one branch (filter.h), taken
 * before the filter's view of the packet is built.
 */
static inline bool out_hook(struct ns_ipv4 *p, struct ns_nic *nic, enum ns_hook hook,
                            struct ns_pkt *pkt)
{
        if (__builtin_expect((p->s->filter.active & (1u << hook)) == 0, 1))
                return true;
        return out_hook_run(p, nic, hook, pkt);
}

/*
 * After an OUTPUT hook rewrote the destination (DNAT), a packet now
 * addressed to one of our NICs is delivered here rather than sent
 * (the seed's NatDone handling). Returns true when it was.
 */
static bool nat_local(struct ns_ipv4 *p, struct ns_pkt *pkt)
{
        if (!(pkt->flags & NS_PKT_F_NAT_DONE))
                return false;
        struct ns_nic *nic = ns__stack_nic_with_address(p->s, ns_ipv4_dst(ns_pkt_data(pkt)));
        if (!nic)
                return false;
        ns__ipv4_handle_local(ns__ipv4_ep(p, nic), pkt, true);
        return true;
}

/*
 * ns__nic_write_via() for one packet. A NIC without a neighbour cache
 * resolves nothing, and ns__nic_write_list_via() hands its list straight to
 * ns__nic_link_write(): do that here without the list layers.
 */
static int nic_write_one(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt *pkt)
{
        if (nic->neigh)
                return ns__nic_write_via(nic, next_hop, pkt);
        pkt->next = NULL;
        struct ns_pkt_list l = { .head = pkt, .tail = pkt, .count = 1 };
        int n = ns__nic_link_write(nic, &l);
        return n == 1 ? 0 : (n < 0 ? n : NS_ERR_IO);
}

/*
 * Hands one complete packet to the NIC, fragmenting it to the MTU;
 * next_hop is the neighbour the NIC resolves (the route's gateway, or the
 * destination when on-link).
 */
static __attribute__((noinline)) int send_out_full(struct ns_ipv4 *p, struct ns_nic *nic,
                                                   uint32_t link_mtu, ns_ip4 next_hop,
                                                   struct ns_pkt *pkt)
{
        struct ns_stats *eps = &nic->stats, *ss = &p->s->stats;
        uint8_t *h = ns_pkt_data(pkt);
        uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(h);
        uint32_t mtu;
        int err = ns__ipv4_network_mtu(link_mtu, hlen, &mtu);
        if (err) {
                NS_STAT_INC(eps, ss, ip, outgoing_packet_errors);
                ns_pkt_free(pkt);
                return err;
        }
        if (!out_hook(p, nic, NS_HOOK_POSTROUTING, pkt)) {
                ns_pkt_free(pkt);
                return 0;
        }
        if (ns_pkt_len(pkt) - hlen <= mtu) {
                err = nic_write_one(nic, next_hop, pkt);
                if (err) {
                        NS_STAT_INC(eps, ss, ip, outgoing_packet_errors);
                        return err;
                }
                NS_STAT_INC(eps, ss, ip, packets_sent);
                return 0;
        }
        if (ns_ipv4_df(h)) {
                NS_STAT_INC(eps, ss, ip, frag_fails);
                if (pkt->flags & NS_PKT_F_FORWARDED) {
                        /*
                         * Never a silent drop for a router (RFC 1812 5.2.6, RFC
                         * 1191): fragmentation needed with the next-hop MTU, as
                         * Linux's ip_fragment(). forward.c checks this before
                         * the FORWARD hook; this catches a packet a later hook grew.
                         */
                        struct ns_icmp_reason why = { .type = NS_ICMP4_DEST_UNREACH,
                                                      .code = NS_ICMP4_FRAG_NEEDED,
                                                      .arg = mtu + hlen,
                                                      .forwarding = true };
                        (void)ns__icmp4_send_error(p, &why, pkt);
                        NS_STAT_INC(eps, ss, ip, forward_packet_too_big);
                        NS_STAT_INC(eps, ss, ip, forward_errors);
                        ns_pkt_free(pkt);
                        return NS_ERR_MESSAGE_TOO_LONG;
                }
                /* A local sender asking for DF gets EMSGSIZE rather than fragments (Linux). */
                NS_STAT_INC(eps, ss, ip, outgoing_packet_errors);
                ns_pkt_free(pkt);
                return NS_ERR_MESSAGE_TOO_LONG;
        }
        struct ns_pkt_list frags;
        ns_pkt_list_init(&frags);
        int n = ns__ipv4_fragment(p->s->pool, pkt,
                                  link_mtu > NS_IPV4_MAX_TOTAL ? NS_IPV4_MAX_TOTAL : link_mtu,
                                  NS_IPV4_TX_HEADROOM + ns__nic_max_header_len(nic), &frags);
        if (n < 0) {
                NS_STAT_INC(eps, ss, ip, outgoing_packet_errors);
                NS_STAT_INC(eps, ss, ip, frag_fails);
                return n;
        }
        NS_STAT_INC(eps, ss, ip, frag_oks);
        NS_STAT_ADD(eps, ss, ip, frag_creates, n);
        int written = ns__nic_write_list_via(nic, next_hop, &frags);
        uint32_t ok = written > 0 ? (uint32_t)written : 0;
        NS_STAT_ADD(eps, ss, ip, packets_sent, ok);
        NS_STAT_ADD(eps, ss, ip, outgoing_packet_errors, (uint32_t)n - ok);
        if (written < 0)
                return written;
        return ok == (uint32_t)n ? 0 : NS_ERR_IO;
}

/*
 * send_out_full() for the usual packet, as a leaf: a link MTU of at least
 * 68 that the whole packet fits (so no fragmentation and no DF question),
 * nothing installed at POSTROUTING, and a NIC without a neighbour cache,
 * whose ns__nic_write_list_via() is ns__nic_link_write(). Same counters,
 * same return values.
 */
static inline int send_out(struct ns_ipv4 *p, struct ns_nic *nic, uint32_t link_mtu,
                           ns_ip4 next_hop, struct ns_pkt *pkt)
{
        uint32_t len = ns_pkt_len(pkt);
        if (link_mtu < 68 || len > link_mtu || len > NS_IPV4_MAX_TOTAL || nic->neigh ||
            (p->s->filter.active & (1u << NS_HOOK_POSTROUTING)))
                return send_out_full(p, nic, link_mtu, next_hop, pkt);
        pkt->next = NULL;
        struct ns_pkt_list l = { .head = pkt, .tail = pkt, .count = 1 };
        int n = ns__nic_link_write(nic, &l);
        if (n == 1) {
                NS_STAT_INC(&nic->stats, &p->s->stats, ip, packets_sent);
                return 0;
        }
        NS_STAT_INC(&nic->stats, &p->s->stats, ip, outgoing_packet_errors);
        return n < 0 ? n : NS_ERR_IO;
}

/* The seed's writePacket: local loop, then the NIC. Consumes pkt. */
static int write_routed(struct ns_ipv4 *p, const struct ns_path *path, struct ns_pkt *pkt,
                        bool header_included)
{
        struct ns_nic *nic = path->nic;
        struct ns_ipv4_ep *ep = ns__ipv4_ep(p, nic);
        if (path->loop & NS_LOOP_IN) {
                if (!(path->loop & NS_LOOP_OUT)) {
                        /* The stack built it, so its checksums are right. */
                        ns__ipv4_handle_local(ep, pkt, !header_included);
                        return 0;
                }
                /* Broadcast/multicast: a private copy is looped, the original sent. */
                struct ns_pkt *copy = ns_pkt_copy(p->s->pool, pkt, NS_IPV4_TX_HEADROOM);
                if (copy)
                        ns__ipv4_handle_local(ep, copy, !header_included);
        }
        if (!(path->loop & NS_LOOP_OUT)) {
                ns_pkt_free(pkt);
                return 0;
        }
        /* RFC 4293 ipSystemStatsOutMcastPkts / OutBcastPkts. */
        if (ns_ip4_is_multicast(path->remote))
                NS_STAT_INC(&nic->stats, &p->s->stats, ip, multicast_packets_sent);
        else if (path->loop & NS_LOOP_IN)
                NS_STAT_INC(&nic->stats, &p->s->stats, ip, broadcast_packets_sent);
        return send_out(p, nic, ns__ipv4_path_mtu(p, path->remote, path->mtu), path->next_hop, pkt);
}

int ns__ipv4_write_packet(struct ns_ipv4 *p, const struct ns_path *path,
                          const struct ns_ipv4_params *params, struct ns_pkt *pkt)
{
        int err = add_header(p, path->local, path->remote, pkt, params);
        if (err) {
                NS_STAT_INC(&path->nic->stats, &p->s->stats, ip, outgoing_packet_errors);
                ns_pkt_free(pkt);
                return err;
        }
        if (!out_hook(p, path->nic, NS_HOOK_OUTPUT, pkt)) {
                ns_pkt_free(pkt);
                return 0;
        }
        if (nat_local(p, pkt))
                return 0;
        /* write_routed() for the usual route: out of the NIC, nothing looped or counted. */
        if (path->loop == NS_LOOP_OUT && !ns_ip4_is_multicast(path->remote))
                return send_out(p, path->nic, ns__ipv4_path_mtu(p, path->remote, path->mtu),
                                path->next_hop, pkt);
        return write_routed(p, path, pkt, false);
}

int ns__ipv4_write_packets(struct ns_ipv4 *p, const struct ns_path *path,
                           const struct ns_ipv4_params *params, struct ns_pkt_list *pkts)
{
        struct ns_nic *nic = path->nic;
        struct ns_stats *eps = &nic->stats, *ss = &p->s->stats;
        struct ns_pkt_list out;
        ns_pkt_list_init(&out);
        uint32_t path_mtu = ns__ipv4_path_mtu(p, path->remote, path->mtu);
        int handled = 0, first_err = 0;
        struct ns_pkt *pkt;
        while ((pkt = ns_pkt_list_pop_front(pkts)) != NULL) {
                int err = add_header(p, path->local, path->remote, pkt, params);
                if (err) {
                        NS_STAT_INC(eps, ss, ip, outgoing_packet_errors);
                        ns_pkt_free(pkt);
                        if (!first_err)
                                first_err = err;
                        continue;
                }
                if (!out_hook(p, nic, NS_HOOK_OUTPUT, pkt)) {
                        ns_pkt_free(pkt);
                        handled++; /* dropped packets are not errors (seed) */
                        continue;
                }
                if (nat_local(p, pkt)) {
                        handled++;
                        continue;
                }
                if (path->loop != NS_LOOP_OUT) {
                        /* Looped routes take the one-packet path. */
                        err = write_routed(p, path, pkt, false);
                        if (!err)
                                handled++;
                        continue;
                }
                uint32_t mtu, hlen = (uint32_t)ns_ipv4_hdr_len(ns_pkt_data(pkt));
                err = ns__ipv4_network_mtu(path_mtu, hlen, &mtu);
                if (!err && ns_pkt_len(pkt) - hlen > mtu) {
                        int n = ns__ipv4_fragment(p->s->pool, pkt, path_mtu,
                                                  NS_IPV4_TX_HEADROOM + ns__nic_max_header_len(nic),
                                                  &out);
                        if (n < 0) {
                                err = n;
                        } else {
                                NS_STAT_INC(eps, ss, ip, frag_oks);
                                NS_STAT_ADD(eps, ss, ip, frag_creates, n);
                        }
                } else if (!err) {
                        ns_pkt_list_push_back(&out, pkt);
                } else {
                        ns_pkt_free(pkt);
                }
                if (err) {
                        NS_STAT_INC(eps, ss, ip, outgoing_packet_errors);
                        if (!first_err)
                                first_err = err;
                }
        }
        uint32_t count = out.count;
        if (count) {
                int written = ns__nic_write_list_via(nic, path->next_hop, &out);
                uint32_t ok = written > 0 ? (uint32_t)written : 0;
                NS_STAT_ADD(eps, ss, ip, packets_sent, ok);
                NS_STAT_ADD(eps, ss, ip, outgoing_packet_errors, count - ok);
                handled += (int)ok;
                if (written < 0 && !first_err)
                        first_err = written;
        }
        return handled > 0 || !first_err ? handled : first_err;
}

int ns__ipv4_write_header_included(struct ns_ipv4 *p, const struct ns_path *path,
                                   struct ns_pkt *pkt)
{
        uint32_t len = ns_pkt_len(pkt);
        uint8_t *h = ns_pkt_data(pkt);
        int err = 0;
        if (len < NS_IPV4_MIN_HDR || ns_ipv4_hdr_len(h) < NS_IPV4_MIN_HDR ||
            ns_ipv4_hdr_len(h) > len) {
                err = NS_ERR_MALFORMED_HEADER;
                goto drop;
        }
        if (len > NS_IPV4_MAX_TOTAL) {
                err = NS_ERR_MESSAGE_TOO_LONG;
                goto drop;
        }
        /* Always the true length; the source when unset; the route's destination. */
        ns_ipv4_set_total_len(h, (uint16_t)len);
        if (ns_ipv4_src(h) == NS_IP4_ANY)
                ns_ipv4_set_src(h, path->local);
        ns_ipv4_set_dst(h, path->remote);
        /*
         * RFC 6864 4.3: a zero ID is replaced on every non-atomic datagram (DF
         * clear, or a fragment). The seed hashes with protocol 0 here.
         */
        if (ns_ipv4_id(h) == 0 && (!ns_ipv4_df(h) || ns_ipv4_is_fragment(h)))
                ns_ipv4_set_id(h, ns__ipv4_next_id(p, path->local, path->remote, 0));
        ns_ipv4_fill_checksum(h);
        if (ns_ipv4_validate(h, len) != NS_IPV4_VALID) {
                err = NS_ERR_MALFORMED_HEADER;
                goto drop;
        }
        ns_pkt_set_network_header(pkt);
        pkt->net_proto = 0x0800;
        pkt->transport_proto = ns_ipv4_proto(h);
        return write_routed(p, path, pkt, true);
drop:
        ns_pkt_free(pkt);
        return err;
}

int ns__ipv4_output(struct ns_ipv4 *p, struct ns_nic *nic, uint32_t mtu, ns_ip4 next_hop,
                    struct ns_pkt *pkt)
{
        return send_out(p, nic, mtu, next_hop, pkt);
}
