/*
 * Raw IPv4 endpoints (Linux net/ipv4/raw.c): per-protocol lists of
 * endpoints. UDP and ping offer each datagram here before demultiplexing
 * (ns__raw_tap); for a protocol no other transport handles, the first
 * raw endpoint registers this module's own handler, so the datagram is
 * taken (no ICMP protocol unreachable, as Linux's ip_local_deliver_finish
 * does when a raw socket received it) and the last one to close removes it.
 *
 * Callbacks may close endpoints: a closed endpoint is unlinked at once but
 * freed only when the outermost callback returns, so a walk stays valid.
 */
#include <string.h>

#include <netstack/err.h>
#include <netstack/raw.h>

#include "core/stack.h"
#include "core/stats.h"
#include "ipv4/ipv4.h"
#include "transport/tp.h"
#include "wire/ipv4.h"

/* Linux's IPPROTO_RAW: an endpoint that only sends. */
#define RAW_PROTO_SEND_ONLY 255

struct ns_raw_ep {
        struct raw_state *r;
        struct ns_raw_ep *next; /* per-protocol list; kept while a zombie */
        struct ns_raw_ep *znext;
        bool closed;
        uint8_t proto;
        ns_ip4 local;
        uint32_t nic_id;
        ns_raw_recv_fn cb;
        void *ctx;
};

struct raw_state {
        /* Must stay first: other transports read it through s->raw. */
        struct ns__raw_tap_view view;
        struct ns_stack *s;
        struct ns_raw_ep *heads[256];
        /* Protocols whose transport handler is ours. */
        bool owns[256];
        struct ns_raw_ep *zombies;
        uint32_t depth;
};

static void reap(struct raw_state *r)
{
        while (r->zombies) {
                struct ns_raw_ep *z = r->zombies;
                r->zombies = z->znext;
                ns_free(&r->s->alloc, z);
        }
}

bool ns__raw_tap(struct ns_stack *s, struct ns_nic *nic, const struct ns_pkt *pkt, uint8_t proto)
{
        struct raw_state *r = s->raw;
        const uint8_t *ih = ns_pkt_network_header(pkt);
        if (!r || !ih)
                return false;
        ns_ip4 dst = ns_ipv4_dst(ih);
        /* Linux raw_v4_match: protocol, bound address, bound device. */
        struct ns_raw_datagram d = {
                .data = ih,
                .len = (size_t)(ns_pkt_data(pkt) - ih) + ns_pkt_len(pkt),
                .ip_hdr_len = ns_ipv4_hdr_len(ih),
                .src = ns_ipv4_src(ih),
                .dst = dst,
                .proto = proto,
                .nic_id = nic->id,
        };
        bool taken = false;
        r->depth++;
        for (struct ns_raw_ep *e = r->heads[proto]; e; e = e->next) {
                if (e->closed || (e->local && e->local != dst) ||
                    (e->nic_id && e->nic_id != nic->id))
                        continue;
                taken = true;
                if (e->cb)
                        e->cb(e->ctx, e, &d);
        }
        if (--r->depth == 0 && r->zombies)
                reap(r);
        return taken;
}

/* The handler of protocols only raw endpoints take. */
static enum ns_deliver_result raw_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct raw_state *r = ctx;
        uint8_t proto = ns_ipv4_proto(ns_pkt_network_header(pkt));
        if (!ns__raw_tap(r->s, nic, pkt, proto))
                return NS_DELIVER_PROTO_UNREACHABLE;
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

int ns_raw_open(struct ns_stack *s, uint8_t proto, struct ns_raw_ep **out)
{
        struct raw_state *r = s ? s->raw : NULL;
        if (!r || !out)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (proto == 0)
                return NS_ERR_INVALID_ARGUMENT;
        struct ns_raw_ep *ep = ns_zalloc(&s->alloc, sizeof(*ep));
        if (!ep)
                return NS_ERR_NO_MEMORY;
        ep->r = r;
        ep->proto = proto;
        if (proto != RAW_PROTO_SEND_ONLY) {
                if (!s->transport[proto].deliver) {
                        struct ns_transport_handler h = { .deliver = raw_deliver, .ctx = r };
                        int err = ns__stack_register_transport(s, proto, &h);
                        if (err) {
                                ns_free(&s->alloc, ep);
                                return err;
                        }
                        r->owns[proto] = true;
                }
                r->view.n_eps[proto]++;
        }
        /* Send-only endpoints are listed too (for detach) but never offered datagrams. */
        ep->next = r->heads[proto];
        r->heads[proto] = ep;
        *out = ep;
        return 0;
}

void ns_raw_close(struct ns_raw_ep *ep)
{
        if (!ep || ep->closed)
                return;
        struct raw_state *r = ep->r;
        ep->closed = true;
        for (struct ns_raw_ep **pp = &r->heads[ep->proto]; *pp; pp = &(*pp)->next) {
                if (*pp == ep) {
                        *pp = ep->next; /* ep->next kept for a walk standing on ep */
                        break;
                }
        }
        if (ep->proto != RAW_PROTO_SEND_ONLY) {
                if (--r->view.n_eps[ep->proto] == 0 && r->owns[ep->proto]) {
                        ns__stack_unregister_transport(r->s, ep->proto);
                        r->owns[ep->proto] = false;
                }
        }
        if (r->depth) {
                ep->znext = r->zombies;
                r->zombies = ep;
                return;
        }
        ns_free(&r->s->alloc, ep);
}

int ns_raw_bind(struct ns_raw_ep *ep, ns_ip4 local, uint32_t nic_id)
{
        if (!ep || ep->closed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct ns_stack *s = ep->r->s;
        struct ns_nic *nic = nic_id ? ns__nic_get(s, nic_id) : NULL;
        if (nic_id && !nic)
                return NS_ERR_UNKNOWN_NIC;
        if (local != NS_IP4_ANY && !ns_ip4_is_multicast(local) && local != NS_IP4_BROADCAST) {
                bool ok = nic ? ns__nic_has_address(nic, local)
                              : ns__stack_nic_with_address(s, local) != NULL;
                if (!ok)
                        return NS_ERR_BAD_LOCAL_ADDRESS;
        }
        ep->local = local;
        ep->nic_id = nic_id;
        return 0;
}

void ns_raw_set_recv_cb(struct ns_raw_ep *ep, ns_raw_recv_fn cb, void *ctx)
{
        if (!ep)
                return;
        ep->cb = cb;
        ep->ctx = ctx;
}

/* The route for a datagram to dst: the bound NIC, and the bound address when unicast. */
static int raw_route(struct ns_raw_ep *ep, ns_ip4 dst, struct ns_path *path)
{
        ns_ip4 l = ep->local;
        if (l == NS_IP4_BROADCAST || ns_ip4_is_multicast(l))
                l = NS_IP4_ANY;
        return ns__stack_find_route(ep->r->s, ep->nic_id, l, dst, true, path);
}

int ns_raw_send(struct ns_raw_ep *ep, ns_ip4 dst, const void *data, size_t len)
{
        if (!ep || ep->closed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (dst == NS_IP4_ANY || (!data && len))
                return NS_ERR_INVALID_ARGUMENT;
        if (len > NS_IPV4_MAX_TOTAL - NS_IPV4_MIN_HDR)
                return NS_ERR_MESSAGE_TOO_LONG;
        struct ns_stack *s = ep->r->s;
        struct ns_ipv4 *p = ns__ipv4_of(s);
        struct ns_path path;
        int err = raw_route(ep, dst, &path);
        if (err)
                return err;
        struct ns_pkt *pkt =
            ns_pkt_alloc(s->pool, NS_IPV4_TX_HEADROOM + NS_IPV4_MAX_HDR, (uint32_t)len);
        if (!pkt) {
                ns__path_release(&path);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        if (len)
                memcpy(ns_pkt_put(pkt, (uint32_t)len), data, len);
        ns_pkt_set_transport_header(pkt);
        struct ns_ipv4_params params = { .proto = ep->proto,
                                         .ttl = ns_ip4_is_multicast(dst) ? 1 : p->default_ttl };
        err = ns__ipv4_write_packet(p, &path, &params, pkt);
        ns__path_release(&path);
        return err;
}

int ns_raw_send_hdrincl(struct ns_raw_ep *ep, const void *ip_packet, size_t len)
{
        if (!ep || ep->closed)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (!ip_packet || len < NS_IPV4_MIN_HDR)
                return NS_ERR_MALFORMED_HEADER;
        if (len > NS_IPV4_MAX_TOTAL)
                return NS_ERR_MESSAGE_TOO_LONG;
        const uint8_t *h = ip_packet;
        if (ns_ipv4_version(h) != 4)
                return NS_ERR_MALFORMED_HEADER;
        struct ns_stack *s = ep->r->s;
        struct ns_path path;
        int err = raw_route(ep, ns_ipv4_dst(h), &path);
        if (err)
                return err;
        struct ns_pkt *pkt = ns_pkt_from_bytes(s->pool, NS_IPV4_TX_HEADROOM, h, (uint32_t)len);
        if (!pkt) {
                ns__path_release(&path);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        err = ns__ipv4_write_header_included(ns__ipv4_of(s), &path, pkt);
        ns__path_release(&path);
        return err;
}

static int raw_attach(struct ns_stack *s)
{
        if (!s->ipv4)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct raw_state *r = ns_zalloc(&s->alloc, sizeof(*r));
        if (!r)
                return NS_ERR_NO_MEMORY;
        r->s = s;
        s->raw = r;
        return 0;
}

static void raw_detach(struct ns_stack *s)
{
        struct raw_state *r = s->raw;
        if (!r)
                return;
        for (unsigned proto = 0; proto < 256; proto++) {
                while (r->heads[proto]) {
                        struct ns_raw_ep *ep = r->heads[proto];
                        r->heads[proto] = ep->next;
                        ns_free(&s->alloc, ep);
                }
                if (r->owns[proto])
                        ns__stack_unregister_transport(s, (uint8_t)proto);
        }
        reap(r);
        ns_free(&s->alloc, r);
        s->raw = NULL;
}

const struct ns_module ns_module_raw = { .name = "raw",
                                         .attach = raw_attach,
                                         .detach = raw_detach };
