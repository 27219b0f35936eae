/*
 * UDP endpoints (RFC 768, RFC 1122 4.1): a port table hashed by local port,
 * demultiplexing by best match (Linux's compute_score: a connected
 * endpoint beats a bound one beats a wildcard one), broadcast and multicast
 * fan-out, and the send path over IPv4.
 *
 * Re-entrancy: callbacks may send (a datagram to this host loops back and
 * is delivered at once), bind, or close any endpoint. While a callback
 * runs, a closed endpoint is unhashed but its memory and its chain link
 * are kept (a "zombie") until the outermost callback returns, so a fan-out
 * walk stays valid.
 */
#include <string.h>

#include <netstack/err.h>
#include <netstack/udp.h>

#include "core/rng.h"
#include "core/stack.h"
#include "core/stats.h"
#include "ipv4/ipv4.h"
#include "transport/tp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

/* Buckets of the port table (a power of two). */
#define UDP_BUCKETS 1024

/* The largest payload of one IPv4 datagram without options. */
#define UDP_MAX_PAYLOAD (NS_IPV4_MAX_TOTAL - NS_IPV4_MIN_HDR - NS_UDP_HDR)

struct ns_udp_ep {
        struct udp_state *u;
        /* Chain of the port's bucket (valid while hashed or a zombie). */
        struct ns_udp_ep *hnext, **hpprev;
        /* Every open endpoint, for detach. */
        struct ns_udp_ep *anext, **apprev;
        /* Zombie list (closed during a callback). */
        struct ns_udp_ep *znext;
        bool hashed;
        bool closed;
        /* The local address was given to bind (not taken from a route). */
        bool addr_bound;
        bool mcast_loop;
        bool reuse;
        ns_ip4 local, remote;
        uint16_t lport, rport;
        uint32_t nic_id;
        uint32_t mcast_nic;
        int16_t ttl; /* -1: the IPv4 default */
        uint8_t mcast_ttl;
        uint8_t tos;
        ns_udp_recv_fn recv_cb;
        void *recv_ctx;
        ns_udp_error_fn err_cb;
        void *err_ctx;
        struct ns_pkt_list queue;
        uint32_t queue_bytes;
        uint32_t rcvbuf;
};

struct udp_state {
        struct ns_stack *s;
        struct ns_udp_ep *buckets[UDP_BUCKETS];
        struct ns_udp_ep *all;
        struct ns_udp_ep *zombies;
        /* Callbacks running (nested through loopback). */
        uint32_t depth;
};

static inline struct ns_udp_ep **bucket(struct udp_state *u, uint16_t port)
{
        return &u->buckets[(port ^ (port >> 10)) & (UDP_BUCKETS - 1)];
}

/* ---- port table -------------------------------------------------------- */

static void hash_insert(struct ns_udp_ep *ep)
{
        struct ns_udp_ep **head = bucket(ep->u, ep->lport);
        ep->hnext = *head;
        if (*head)
                (*head)->hpprev = &ep->hnext;
        ep->hpprev = head;
        *head = ep;
        ep->hashed = true;
}

/* Unhashes ep; ep->hnext is kept so a walk standing on ep can go on. */
static void hash_remove(struct ns_udp_ep *ep)
{
        if (!ep->hashed)
                return;
        *ep->hpprev = ep->hnext;
        if (ep->hnext)
                ep->hnext->hpprev = ep->hpprev;
        ep->hashed = false;
}

/*
 * True when binding (local, port, nic) would clash with an endpoint of the
 * table: same port, overlapping addresses (equal, or either a wildcard) and
 * overlapping NICs, unless both set SO_REUSEADDR (Linux's UDP rule).
 */
static bool port_taken(struct udp_state *u, ns_ip4 local, uint16_t port, uint32_t nic_id,
                       bool reuse)
{
        for (struct ns_udp_ep *e = *bucket(u, port); e; e = e->hnext) {
                if (e->lport != port || (reuse && e->reuse))
                        continue;
                if (e->local && local && e->local != local)
                        continue;
                if (e->nic_id && nic_id && e->nic_id != nic_id)
                        continue;
                return true;
        }
        return false;
}

/*
 * Chooses a free ephemeral port: a random start in the range, then the
 * next ones in turn (Linux's __inet_hash_connect scan without the
 * per-destination offset). 0 when every port is taken.
 */
static uint16_t pick_ephemeral(struct udp_state *u, ns_ip4 local, uint32_t nic_id)
{
        const uint32_t n = NS_UDP_EPHEMERAL_LAST - NS_UDP_EPHEMERAL_FIRST + 1;
        uint32_t off = ns__rng_below(&u->s->rng, n);
        for (uint32_t i = 0; i < n; i++) {
                uint16_t port = (uint16_t)(NS_UDP_EPHEMERAL_FIRST + (off + i) % n);
                if (!port_taken(u, local, port, nic_id, false))
                        return port;
        }
        return 0;
}

/*
 * The best endpoint for a datagram remote:rport -> local:lport that arrived
 * on nic_id, or NULL. An endpoint matches when each of its set fields
 * equals the datagram's; more set fields win (Linux compute_score).
 */
static struct ns_udp_ep *lookup(struct udp_state *u, ns_ip4 local, uint16_t lport, ns_ip4 remote,
                                uint16_t rport, uint32_t nic_id)
{
        struct ns_udp_ep *best = NULL;
        int best_score = -1;
        for (struct ns_udp_ep *e = *bucket(u, lport); e; e = e->hnext) {
                if (e->lport != lport)
                        continue;
                int score = 0;
                if (e->local) {
                        if (e->local != local)
                                continue;
                        score += 4;
                }
                if (e->remote) {
                        if (e->remote != remote)
                                continue;
                        score += 4;
                }
                if (e->rport) {
                        if (e->rport != rport)
                                continue;
                        score += 4;
                }
                if (e->nic_id) {
                        if (e->nic_id != nic_id)
                                continue;
                        score += 4;
                }
                if (score > best_score) {
                        best = e;
                        best_score = score;
                }
        }
        return best;
}

/* True when e takes a broadcast or multicast datagram (Linux __udp_is_mcast_sock). */
static bool mcast_match(const struct ns_udp_ep *e, ns_ip4 local, uint16_t lport, ns_ip4 remote,
                        uint16_t rport, uint32_t nic_id)
{
        return e->hashed && e->lport == lport && (!e->local || e->local == local) &&
               (!e->remote || e->remote == remote) && (!e->rport || e->rport == rport) &&
               (!e->nic_id || e->nic_id == nic_id);
}

/* ---- endpoint lifetime ------------------------------------------------- */

static void ep_free(struct ns_udp_ep *ep)
{
        ns_pkt_list_free(&ep->queue);
        ns_free(&ep->u->s->alloc, ep);
}

static void reap_zombies(struct udp_state *u)
{
        while (u->zombies) {
                struct ns_udp_ep *z = u->zombies;
                u->zombies = z->znext;
                ep_free(z);
        }
}

static inline void cb_enter(struct udp_state *u)
{
        u->depth++;
}

static inline void cb_leave(struct udp_state *u)
{
        if (--u->depth == 0 && u->zombies)
                reap_zombies(u);
}

int ns_udp_open(struct ns_stack *s, struct ns_udp_ep **out)
{
        struct udp_state *u = s ? s->udp : NULL;
        if (!u || !out)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct ns_udp_ep *ep = ns_zalloc(&s->alloc, sizeof(*ep));
        if (!ep)
                return NS_ERR_NO_MEMORY;
        ep->u = u;
        ep->ttl = -1;
        ep->mcast_ttl = 1;
        ep->mcast_loop = true;
        ep->rcvbuf = NS_UDP_DEFAULT_RCVBUF;
        ns_pkt_list_init(&ep->queue);
        ep->anext = u->all;
        if (u->all)
                u->all->apprev = &ep->anext;
        ep->apprev = &u->all;
        u->all = ep;
        *out = ep;
        return 0;
}

void ns_udp_close(struct ns_udp_ep *ep)
{
        if (!ep || ep->closed)
                return;
        struct udp_state *u = ep->u;
        ep->closed = true;
        hash_remove(ep);
        *ep->apprev = ep->anext;
        if (ep->anext)
                ep->anext->apprev = ep->apprev;
        if (u->depth) {
                ep->znext = u->zombies;
                u->zombies = ep;
                return;
        }
        ep_free(ep);
}

/* True when addr may be a bound local address (Linux inet_bind's check). */
static bool local_ok(struct ns_stack *s, ns_ip4 addr, uint32_t nic_id)
{
        if (addr == NS_IP4_ANY || addr == NS_IP4_BROADCAST || ns_ip4_is_multicast(addr))
                return true;
        if (nic_id)
                return ns__nic_has_address(ns__nic_get(s, nic_id), addr);
        if (ns__stack_nic_with_address(s, addr))
                return true;
        /* A subnet broadcast address of one of our NICs. */
        for (uint32_t i = 0; i < s->nic_cap; i++)
                if (s->nics[i] && ns__nic_has_address(s->nics[i], addr))
                        return true;
        return false;
}

int ns_udp_bind(struct ns_udp_ep *ep, ns_ip4 local, uint16_t port, uint32_t nic_id)
{
        if (!ep || ep->closed || ep->hashed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct udp_state *u = ep->u;
        if (nic_id && !ns__nic_get(u->s, nic_id))
                return NS_ERR_UNKNOWN_NIC;
        if (!local_ok(u->s, local, nic_id))
                return NS_ERR_BAD_LOCAL_ADDRESS;
        if (port == 0) {
                port = pick_ephemeral(u, local, nic_id);
                if (port == 0)
                        return NS_ERR_PORT_IN_USE;
        } else if (port_taken(u, local, port, nic_id, ep->reuse)) {
                return NS_ERR_PORT_IN_USE;
        }
        ep->local = local;
        ep->addr_bound = local != NS_IP4_ANY;
        ep->lport = port;
        ep->nic_id = nic_id;
        hash_insert(ep);
        return 0;
}

static int autobind(struct ns_udp_ep *ep)
{
        return ep->hashed ? 0 : ns_udp_bind(ep, NS_IP4_ANY, 0, ep->nic_id);
}

/* The source address to ask the route for: a bound unicast address, else any. */
static ns_ip4 route_local(const struct ns_udp_ep *ep)
{
        ns_ip4 l = ep->local;
        return (l == NS_IP4_BROADCAST || ns_ip4_is_multicast(l)) ? NS_IP4_ANY : l;
}

/* Resolves the route for a datagram to dst; the NIC per Linux's IP_MULTICAST_IF rule. */
static int route(struct ns_udp_ep *ep, ns_ip4 dst, struct ns_path *path)
{
        uint32_t nic = ep->nic_id;
        if (!nic && ns_ip4_is_multicast(dst))
                nic = ep->mcast_nic;
        return ns__stack_find_route(ep->u->s, nic, route_local(ep), dst, ep->mcast_loop, path);
}

int ns_udp_connect(struct ns_udp_ep *ep, ns_ip4 remote, uint16_t port)
{
        if (!ep || ep->closed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (remote == NS_IP4_ANY) {
                /* Linux __udp_disconnect: forget the peer and any route-chosen source. */
                ep->remote = NS_IP4_ANY;
                ep->rport = 0;
                if (!ep->addr_bound)
                        ep->local = NS_IP4_ANY;
                return 0;
        }
        if (port == 0)
                return NS_ERR_INVALID_ARGUMENT;
        struct ns_path path;
        int err = route(ep, remote, &path);
        if (err)
                return err;
        ns_ip4 src = path.local;
        ns__path_release(&path);
        err = autobind(ep);
        if (err)
                return err;
        /* Linux ip4_datagram_connect: the route's source becomes the bound address. */
        if (!ep->addr_bound)
                ep->local = src;
        ep->remote = remote;
        ep->rport = port;
        return 0;
}

/* ---- send -------------------------------------------------------------- */

int ns_udp_send(struct ns_udp_ep *ep, ns_ip4 dst, uint16_t dport, const void *data, size_t len)
{
        if (!ep || ep->closed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (!data && len)
                return NS_ERR_INVALID_ARGUMENT;
        if (dst == NS_IP4_ANY) {
                if (!ep->remote)
                        return NS_ERR_NOT_CONNECTED;
                dst = ep->remote;
                dport = ep->rport;
        } else if (dport == 0) {
                return NS_ERR_INVALID_ARGUMENT;
        }
        if (len > UDP_MAX_PAYLOAD)
                return NS_ERR_MESSAGE_TOO_LONG;
        int err = autobind(ep);
        if (err)
                return err;
        struct udp_state *u = ep->u;
        struct ns_stack *s = u->s;
        struct ns_ipv4 *p = ns__ipv4_of(s);
        struct ns_path path;
        err = route(ep, dst, &path);
        if (err) {
                NS_STAT_INC(NULL, &s->stats, udp, packet_send_errors);
                return err;
        }
        uint32_t ulen = (uint32_t)len + NS_UDP_HDR;
        struct ns_pkt *pkt = ns_pkt_alloc(s->pool, NS_IPV4_TX_HEADROOM + NS_IPV4_MAX_HDR, ulen);
        if (!pkt) {
                NS_STAT_INC(&path.nic->stats, &s->stats, udp, packet_send_errors);
                ns__path_release(&path);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        uint8_t *uh = ns_pkt_put(pkt, ulen);
        if (len)
                memcpy(uh + NS_UDP_HDR, data, len);
        /* RFC 1122 4.1.3.4: we always send a checksum (0 goes out as 0xffff). */
        ns_udp_emit_datagram(uh, ulen, ep->lport, dport, path.local, dst);
        ns_pkt_set_transport_header(pkt);
        struct ns_ipv4_params params = { .proto = NS_IPV4_PROTO_UDP, .tos = ep->tos };
        if (ns_ip4_is_multicast(dst))
                params.ttl = ep->mcast_ttl;
        else
                params.ttl = ep->ttl < 0 ? p->default_ttl : (uint8_t)ep->ttl;
        struct ns_stats *eps = &path.nic->stats;
        err = ns__ipv4_write_packet(p, &path, &params, pkt);
        if (err)
                NS_STAT_INC(eps, &s->stats, udp, packet_send_errors);
        else
                NS_STAT_INC(eps, &s->stats, udp, packets_sent);
        ns__path_release(&path);
        return err;
}

/* ---- receive ----------------------------------------------------------- */

/*
 * Hands one datagram (pkt: data at the payload, headers marked) to ep.
 * owned: the caller gives up its reference (else pkt is borrowed). A
 * callback borrows; a queue keeps a reference, bounded by rcvbuf.
 */
static inline __attribute__((always_inline)) void ep_receive_inline(struct udp_state *u,
                                                                    struct ns_udp_ep *ep,
                                                                    struct ns_nic *nic,
                                                                    struct ns_pkt *pkt, bool owned)
{
        struct ns_stack *s = u->s;
        if (ep->recv_cb) {
                NS_STAT_INC(&nic->stats, &s->stats, udp, packets_received);
                const uint8_t *ih = ns_pkt_network_header(pkt);
                const uint8_t *uh = ns_pkt_transport_header(pkt);
                struct ns_udp_datagram d = {
                        .src = ns_ipv4_src(ih),
                        .dst = ns_ipv4_dst(ih),
                        .src_port = ns_udp_src_port(uh),
                        .dst_port = ns_udp_dst_port(uh),
                        .nic_id = nic->id,
                        .ttl = ns_ipv4_ttl(ih),
                        .tos = ns_ipv4_tos(ih),
                        .broadcast = (pkt->flags & NS_PKT_F_LOCAL_BCAST) ||
                                     ns_ip4_is_multicast(ns_ipv4_dst(ih)),
                        .ip_hdr = ih,
                        .ip_hdr_len = ns_ipv4_hdr_len(ih),
                        .data = ns_pkt_data(pkt),
                        .len = ns_pkt_len(pkt),
                };
                cb_enter(u);
                ep->recv_cb(ep->recv_ctx, ep, &d);
                cb_leave(u);
                if (owned)
                        ns_pkt_free(pkt);
                return;
        }
        if (ep->queue_bytes + pkt->cap > ep->rcvbuf) {
                NS_STAT_INC(&nic->stats, &s->stats, udp, receive_buffer_errors);
                if (owned)
                        ns_pkt_free(pkt);
                return;
        }
        struct ns_pkt *q = owned ? pkt : ns_pkt_clone(pkt);
        if (!q) {
                NS_STAT_INC(&nic->stats, &s->stats, udp, receive_buffer_errors);
                return;
        }
        NS_STAT_INC(&nic->stats, &s->stats, udp, packets_received);
        ep->queue_bytes += q->cap;
        ns_pkt_list_push_back(&ep->queue, q);
}

/* ep_receive_inline() for the fan-out path, out of line. */
static void ep_receive(struct udp_state *u, struct ns_udp_ep *ep, struct ns_nic *nic,
                       struct ns_pkt *pkt, bool owned)
{
        ep_receive_inline(u, ep, nic, pkt, owned);
}

/*
 * RFC 1122 4.1.3.5 / Linux __udp4_lib_mcast_deliver: a broadcast or
 * multicast datagram goes to every matching endpoint; no port unreachable
 * is ever sent for one (RFC 1122 3.2.2.1, 4.1.3.1). Consumes pkt.
 */
static void deliver_fanout(struct udp_state *u, struct ns_nic *nic, struct ns_pkt *pkt, ns_ip4 src,
                           ns_ip4 dst, uint16_t sport, uint16_t dport)
{
        struct ns_udp_ep *prev = NULL;
        bool matched = false;
        cb_enter(u);
        for (struct ns_udp_ep *e = *bucket(u, dport); e; e = e->hnext) {
                if (!mcast_match(e, dst, dport, src, sport, nic->id))
                        continue;
                /* A callback may have closed the endpoint matched before it. */
                if (prev && !prev->closed)
                        ep_receive(u, prev, nic, pkt, false);
                prev = e;
                matched = true;
        }
        if (prev && !prev->closed) {
                ep_receive(u, prev, nic, pkt, true);
        } else {
                if (!matched)
                        NS_STAT_INC(&nic->stats, &u->s->stats, udp, unknown_port_errors);
                ns_pkt_free(pkt);
        }
        cb_leave(u);
}

static enum ns_deliver_result udp_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct udp_state *u = ctx;
        struct ns_stack *s = u->s;
        if (ns__raw_wants(s, NS_IPV4_PROTO_UDP))
                (void)ns__raw_tap(s, nic, pkt, NS_IPV4_PROTO_UDP);
        const uint8_t *uh = ns_pkt_data(pkt);
        uint32_t len = ns_pkt_len(pkt);
        /* RFC 768: the length field covers header and data; more bytes than that are padding. */
        uint32_t ulen = len >= NS_UDP_HDR ? ns_udp_length(uh) : 0;
        if (ulen < NS_UDP_HDR || ulen > len) {
                NS_STAT_INC(&nic->stats, &s->stats, udp, malformed_packets_received);
                ns_pkt_free(pkt);
                return NS_DELIVER_HANDLED;
        }
        ns_pkt_trim(pkt, ulen);
        const uint8_t *ih = ns_pkt_network_header(pkt);
        ns_ip4 src = ns_ipv4_src(ih), dst = ns_ipv4_dst(ih);
        /*
         * RFC 1122 4.1.3.4: a zero checksum means none was sent. Linux counts
         * a bad one in both InCsumErrors and InErrors.
         */
        if (!(pkt->flags & NS_PKT_F_CSUM_VERIFIED) && !ns_udp_checksum_ok(uh, ulen, src, dst)) {
                NS_STAT_INC(&nic->stats, &s->stats, udp, checksum_errors);
                NS_STAT_INC(&nic->stats, &s->stats, udp, malformed_packets_received);
                ns_pkt_free(pkt);
                return NS_DELIVER_HANDLED;
        }
        uint16_t sport = ns_udp_src_port(uh), dport = ns_udp_dst_port(uh);
        bool bcast = (pkt->flags & NS_PKT_F_LOCAL_BCAST) || ns_ip4_is_multicast(dst);
        ns_pkt_pull(pkt, NS_UDP_HDR);
        if (bcast) {
                deliver_fanout(u, nic, pkt, src, dst, sport, dport);
                return NS_DELIVER_HANDLED;
        }
        struct ns_udp_ep *ep = lookup(u, dst, dport, src, sport, nic->id);
        if (!ep) {
                NS_STAT_INC(&nic->stats, &s->stats, udp, unknown_port_errors);
                ns_pkt_push(pkt, NS_UDP_HDR);
                return NS_DELIVER_PORT_UNREACHABLE;
        }
        ep_receive_inline(u, ep, nic, pkt, true);
        return NS_DELIVER_HANDLED;
}

int ns_udp_recv(struct ns_udp_ep *ep, void *buf, size_t cap, struct ns_udp_datagram *info)
{
        if (!ep || ep->closed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (!buf && cap)
                return NS_ERR_INVALID_ARGUMENT;
        struct ns_pkt *pkt = ns_pkt_list_pop_front(&ep->queue);
        if (!pkt)
                return NS_ERR_WOULD_BLOCK;
        ep->queue_bytes -= pkt->cap;
        size_t len = ns_pkt_len(pkt);
        size_t n = len < cap ? len : cap; /* len <= 65535, so n fits an int */
        if (n)
                memcpy(buf, ns_pkt_data(pkt), n);
        if (info) {
                const uint8_t *ih = ns_pkt_network_header(pkt);
                const uint8_t *uh = ns_pkt_transport_header(pkt);
                *info = (struct ns_udp_datagram){
                        .src = ns_ipv4_src(ih),
                        .dst = ns_ipv4_dst(ih),
                        .src_port = ns_udp_src_port(uh),
                        .dst_port = ns_udp_dst_port(uh),
                        .nic_id = pkt->nic_id,
                        .ttl = ns_ipv4_ttl(ih),
                        .tos = ns_ipv4_tos(ih),
                        .broadcast = (pkt->flags & NS_PKT_F_LOCAL_BCAST) ||
                                     ns_ip4_is_multicast(ns_ipv4_dst(ih)),
                        .ip_hdr_len = ns_ipv4_hdr_len(ih),
                        .len = len,
                };
        }
        ns_pkt_free(pkt);
        return (int)n;
}

/*
 * An ICMP error quoting a datagram we sent: only the endpoint the quoted
 * 4-tuple demultiplexes to hears of it (Linux __udp4_lib_err looks the
 * socket up with the quoted addresses reversed).
 */
static void udp_error(void *ctx, struct ns_nic *nic, const struct ns_transport_error *err)
{
        struct udp_state *u = ctx;
        /* RFC 792: the quote holds at least the 8 bytes of our header; ports need 4. */
        if (err->transport_len < 4)
                return;
        uint16_t sport = ns_udp_src_port(err->transport);
        uint16_t dport = ns_udp_dst_port(err->transport);
        struct ns_udp_ep *ep = lookup(u, err->src, sport, err->dst, dport, nic->id);
        if (!ep || !ep->err_cb)
                return;
        struct ns_udp_error e = {
                .err = ns__tp_icmp_error_code(err->icmp_type, err->icmp_code),
                .icmp_type = err->icmp_type,
                .icmp_code = err->icmp_code,
                .mtu = err->mtu,
                .src = err->src,
                .dst = err->dst,
                .src_port = sport,
                .dst_port = dport,
                .nic_id = nic->id,
        };
        cb_enter(u);
        ep->err_cb(ep->err_ctx, ep, &e);
        cb_leave(u);
}

/* ---- options ----------------------------------------------------------- */

void ns_udp_set_recv_cb(struct ns_udp_ep *ep, ns_udp_recv_fn cb, void *ctx)
{
        if (!ep)
                return;
        ep->recv_cb = cb;
        ep->recv_ctx = ctx;
}

void ns_udp_set_error_cb(struct ns_udp_ep *ep, ns_udp_error_fn cb, void *ctx)
{
        if (!ep)
                return;
        ep->err_cb = cb;
        ep->err_ctx = ctx;
}

void ns_udp_set_rcvbuf(struct ns_udp_ep *ep, uint32_t bytes)
{
        if (ep)
                ep->rcvbuf = bytes;
}

int ns_udp_set_ttl(struct ns_udp_ep *ep, int ttl)
{
        if (!ep || (ttl != -1 && (ttl < 1 || ttl > 255)))
                return NS_ERR_INVALID_ARGUMENT;
        ep->ttl = (int16_t)ttl;
        return 0;
}

int ns_udp_set_multicast_ttl(struct ns_udp_ep *ep, int ttl)
{
        if (!ep || (ttl != -1 && (ttl < 1 || ttl > 255)))
                return NS_ERR_INVALID_ARGUMENT;
        ep->mcast_ttl = ttl == -1 ? 1 : (uint8_t)ttl;
        return 0;
}

void ns_udp_set_multicast_loop(struct ns_udp_ep *ep, bool on)
{
        if (ep)
                ep->mcast_loop = on;
}

int ns_udp_set_multicast_nic(struct ns_udp_ep *ep, uint32_t nic_id)
{
        if (!ep)
                return NS_ERR_INVALID_ARGUMENT;
        if (nic_id && !ns__nic_get(ep->u->s, nic_id))
                return NS_ERR_UNKNOWN_NIC;
        ep->mcast_nic = nic_id;
        return 0;
}

void ns_udp_set_reuse_addr(struct ns_udp_ep *ep, bool on)
{
        if (ep)
                ep->reuse = on;
}

void ns_udp_set_tos(struct ns_udp_ep *ep, uint8_t tos)
{
        if (ep)
                ep->tos = tos;
}

void ns_udp_local(const struct ns_udp_ep *ep, ns_ip4 *addr, uint16_t *port)
{
        if (addr)
                *addr = ep && ep->hashed ? ep->local : NS_IP4_ANY;
        if (port)
                *port = ep && ep->hashed ? ep->lport : 0;
}

/* ---- module ------------------------------------------------------------ */

static int udp_attach(struct ns_stack *s)
{
        if (!s->ipv4)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct udp_state *u = ns_zalloc(&s->alloc, sizeof(*u));
        if (!u)
                return NS_ERR_NO_MEMORY;
        u->s = s;
        struct ns_transport_handler h = { .deliver = udp_deliver, .error = udp_error, .ctx = u };
        int err = ns__stack_register_transport(s, NS_IPV4_PROTO_UDP, &h);
        if (err) {
                ns_free(&s->alloc, u);
                return err;
        }
        s->udp = u;
        return 0;
}

static void udp_detach(struct ns_stack *s)
{
        struct udp_state *u = s->udp;
        if (!u)
                return;
        ns__stack_unregister_transport(s, NS_IPV4_PROTO_UDP);
        while (u->all) {
                struct ns_udp_ep *ep = u->all;
                u->all = ep->anext;
                ep_free(ep);
        }
        reap_zombies(u);
        ns_free(&s->alloc, u);
        s->udp = NULL;
}

const struct ns_module ns_module_udp = { .name = "udp",
                                         .attach = udp_attach,
                                         .detach = udp_detach };
