/*
 * The neighbour cache (see core/neigh.h for the states and bounds) and the
 * public ns_arp_* table API over it.
 */
#include <string.h>

#include <netstack/err.h>

#include "core/neigh.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

#define NEIGH_BUCKETS 64
/* Index value meaning "none" in the hash chains. */
#define NEIGH_NONE UINT16_MAX

struct neigh_entry {
        struct ns_neigh_table *t;
        struct ns_timer timer;
        struct ns_pkt_list queue;
        /** Last state change or confirmation: eviction takes the oldest. */
        int64_t updated_ns;
        /** When the last request for ip left; INT64_MIN when none did. */
        int64_t last_request_ns;
        ns_ip4 ip;
        /** Source address of the newest packet waiting (ARP sender hint). */
        ns_ip4 sender;
        uint8_t mac[NS_ETH_ALEN];
        /** enum ns_arp_state, or 0 when the slot is free. */
        uint8_t state;
        /** Requests sent in the current INCOMPLETE or PROBE round. */
        uint8_t probes;
        uint16_t next; /* hash chain */
};

struct ns_neigh_table {
        struct ns_nic *nic;
        uint32_t count;
        uint16_t buckets[NEIGH_BUCKETS];
        struct neigh_entry e[NS_ARP_MAX_ENTRIES];
};

static uint32_t bucket_of(ns_ip4 ip)
{
        return (ip * 2654435761u) >> 26; /* Fibonacci hash to 6 bits */
}

static struct ns_stack *stack_of(const struct ns_neigh_table *t)
{
        return t->nic->stack;
}

static int64_t now_ns(const struct ns_neigh_table *t)
{
        return ns__stack_now(stack_of(t));
}

static struct neigh_entry *find(const struct ns_neigh_table *t, ns_ip4 ip)
{
        for (uint16_t i = t->buckets[bucket_of(ip)]; i != NEIGH_NONE; i = t->e[i].next)
                if (t->e[i].ip == ip)
                        return (struct neigh_entry *)&t->e[i];
        return NULL;
}

static void count_queue_drops(struct ns_neigh_table *t, uint32_t n)
{
        NS_STAT_ADD(&t->nic->stats, &stack_of(t)->stats, arp, pending_queue_dropped, n);
}

/* Unlinks e from its chain, frees its queue (counted) and marks it free. */
static void release(struct ns_neigh_table *t, struct neigh_entry *e)
{
        uint16_t idx = (uint16_t)(e - t->e);
        uint16_t *pp = &t->buckets[bucket_of(e->ip)];
        while (*pp != NEIGH_NONE && *pp != idx)
                pp = &t->e[*pp].next;
        if (*pp == idx)
                *pp = e->next;
        ns__timer_cancel(&stack_of(t)->timers, &e->timer);
        count_queue_drops(t, e->queue.count);
        ns_pkt_list_free(&e->queue);
        e->state = 0;
        e->next = NEIGH_NONE;
        t->count--;
}

/* The oldest entry that is not static, or NULL. */
static struct neigh_entry *oldest_dynamic(struct ns_neigh_table *t)
{
        struct neigh_entry *best = NULL;
        for (uint32_t i = 0; i < NS_ARP_MAX_ENTRIES; i++) {
                struct neigh_entry *e = &t->e[i];
                if (e->state == 0 || e->state == NS_ARP_STATIC)
                        continue;
                if (!best || e->updated_ns < best->updated_ns)
                        best = e;
        }
        return best;
}

static void on_timer(void *arg);

/*
 * A free slot for ip, evicting the oldest dynamic entry when the table is
 * full (lwIP and Linux's forced GC do the same). NULL when every entry is
 * static.
 */
static struct neigh_entry *create(struct ns_neigh_table *t, ns_ip4 ip, uint8_t state)
{
        struct neigh_entry *e = NULL;
        if (t->count == NS_ARP_MAX_ENTRIES) {
                e = oldest_dynamic(t);
                if (!e)
                        return NULL;
                release(t, e);
        } else {
                for (uint32_t i = 0; i < NS_ARP_MAX_ENTRIES && !e; i++)
                        if (t->e[i].state == 0)
                                e = &t->e[i];
                /* count < max guarantees a free slot; say so to the compiler too. */
                if (!e)
                        return NULL;
        }
        memset(e->mac, 0, sizeof(e->mac));
        e->ip = ip;
        e->sender = NS_IP4_ANY;
        e->state = state;
        e->probes = 0;
        e->updated_ns = now_ns(t);
        e->last_request_ns = INT64_MIN;
        ns_pkt_list_init(&e->queue);
        uint32_t b = bucket_of(ip);
        e->next = t->buckets[b];
        t->buckets[b] = (uint16_t)(e - t->e);
        t->count++;
        return e;
}

static void arm(struct neigh_entry *e, int64_t deadline_ns)
{
        /* A heap that cannot grow leaves the entry untimed; eviction still bounds it. */
        (void)ns__timer_arm(&stack_of(e->t)->timers, &e->timer, deadline_ns);
}

/*
 * Sends the next request of an INCOMPLETE or PROBE round unless one left
 * less than NS_ARP_RETRANS_NS ago, and arms the timer for the one after.
 */
static void solicit(struct neigh_entry *e)
{
        struct ns_neigh_table *t = e->t;
        struct ns_stack *s = stack_of(t);
        int64_t now = now_ns(t);
        if (e->last_request_ns == INT64_MIN || now - e->last_request_ns >= NS_ARP_RETRANS_NS) {
                e->probes++;
                e->last_request_ns = now;
                if (s->resolver.request)
                        (void)s->resolver.request(s->resolver.ctx, t->nic, e->ip, e->sender,
                                                  e->state == NS_ARP_PROBE ? e->mac : NULL);
        }
        arm(e, e->last_request_ns + NS_ARP_RETRANS_NS);
}

/* Gives up on e: FAILED, and every queued packet to resolver.failed. */
static void fail(struct neigh_entry *e)
{
        struct ns_neigh_table *t = e->t;
        struct ns_stack *s = stack_of(t);
        struct ns_nic *nic = t->nic;
        struct ns_pkt_list q = e->queue;
        ns_pkt_list_init(&e->queue);
        e->state = NS_ARP_FAILED;
        e->probes = 0;
        e->updated_ns = now_ns(t);
        arm(e, e->updated_ns + NS_ARP_GC_STALE_NS);
        NS_STAT_INC(&nic->stats, &s->stats, arp, resolution_failures);
        /* The hooks may send (and so change the table): e is not touched again. */
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(&q)) != NULL) {
                if (s->resolver.failed)
                        s->resolver.failed(s->resolver.ctx, nic, p);
                else
                        ns_pkt_free(p);
        }
}

static void on_timer(void *arg)
{
        struct neigh_entry *e = arg;
        switch (e->state) {
        case NS_ARP_INCOMPLETE:
        case NS_ARP_PROBE:
                if (e->probes >= NS_ARP_MAX_PROBES)
                        fail(e);
                else
                        solicit(e);
                break;
        case NS_ARP_REACHABLE:
                e->state = NS_ARP_STALE;
                arm(e, now_ns(e->t) + NS_ARP_GC_STALE_NS);
                break;
        case NS_ARP_DELAY:
                /*
                 * No confirmation within delay_first_probe_time (a reply would
                 * have made the entry REACHABLE and cancelled this timer):
                 * Linux neigh_timer_handler goes to PROBE and sends the first
                 * unicast probe at once (RFC 1122 2.3.2.1).
                 */
                e->state = NS_ARP_PROBE;
                e->probes = 0;
                e->updated_ns = now_ns(e->t);
                solicit(e);
                break;
        case NS_ARP_STALE:
        case NS_ARP_FAILED:
                release(e->t, e);
                break;
        default:
                break;
        }
}

/* Appends pkt to e's queue, dropping the oldest when full (Linux unres_qlen). */
static void enqueue(struct neigh_entry *e, struct ns_pkt *pkt)
{
        if (e->queue.count >= NS_ARP_QUEUE_LEN) {
                ns_pkt_free(ns_pkt_list_pop_front(&e->queue));
                count_queue_drops(e->t, 1);
        }
        ns_pkt_list_push_back(&e->queue, pkt);
}

static void set_dst(struct ns_pkt *pkt, const uint8_t *mac)
{
        memcpy(pkt->link_dst, mac, NS_ETH_ALEN);
        pkt->flags |= NS_PKT_F_LINK_DST;
}

/* True when ip is the directed broadcast of one of the NIC's subnets. */
static bool is_subnet_broadcast(const struct ns_nic *nic, ns_ip4 ip)
{
        for (uint32_t i = 0; i < nic->addrs.n_entries; i++)
                if (ns_ip4_prefix_is_broadcast(nic->addrs.entries[i]->pfx, ip))
                        return true;
        return false;
}

int ns__neigh_output(struct ns_nic *nic, ns_ip4 next_hop, struct ns_pkt *pkt,
                     struct ns_pkt_list *ready)
{
        struct ns_neigh_table *t = nic->neigh;
        if (pkt->net_proto != NS_ETHERTYPE_IPV4) {
                /* ARP and the like choose their destination themselves. */
                if (!(pkt->flags & NS_PKT_F_LINK_DST)) {
                        ns_pkt_free(pkt);
                        return NS_ERR_NO_ROUTE;
                }
                ns_pkt_list_push_back(ready, pkt);
                return 1;
        }
        if (ns_pkt_len(pkt) < NS_IPV4_MIN_HDR) {
                ns_pkt_free(pkt);
                return NS_ERR_MALFORMED_HEADER;
        }
        ns_ip4 dst = ns_ipv4_dst(ns_pkt_data(pkt));
        ns_ip4 nh = next_hop != NS_IP4_ANY ? next_hop : dst;
        if (ns_ip4_is_multicast(dst)) {
                struct ns_mac m = ns_mac_from_ip4_multicast(dst);
                set_dst(pkt, m.b);
                ns_pkt_list_push_back(ready, pkt);
                return 1;
        }
        if (dst == NS_IP4_BROADCAST || nh == NS_IP4_BROADCAST || is_subnet_broadcast(nic, nh)) {
                struct ns_mac m = ns_mac_broadcast();
                set_dst(pkt, m.b);
                ns_pkt_list_push_back(ready, pkt);
                return 1;
        }
        struct neigh_entry *e = find(t, nh);
        if (e) {
                switch (e->state) {
                case NS_ARP_STALE:
                        /*
                         * First use of a stale entry: DELAY, still used as is,
                         * giving the neighbour delay_first_probe_time to
                         * confirm before any probe (Linux __neigh_event_send).
                         */
                        e->state = NS_ARP_DELAY;
                        e->updated_ns = now_ns(t);
                        e->sender = ns_ipv4_src(ns_pkt_data(pkt));
                        arm(e, e->updated_ns + NS_ARP_DELAY_FIRST_PROBE_NS);
                        /* fall through */
                case NS_ARP_REACHABLE:
                case NS_ARP_DELAY:
                case NS_ARP_PROBE:
                case NS_ARP_STATIC:
                        set_dst(pkt, e->mac);
                        ns_pkt_list_push_back(ready, pkt);
                        return 1;
                case NS_ARP_FAILED:
                        /* Linux restarts resolution for a failed neighbour in use. */
                        e->state = NS_ARP_INCOMPLETE;
                        e->probes = 0;
                        e->updated_ns = now_ns(t);
                        e->sender = ns_ipv4_src(ns_pkt_data(pkt));
                        enqueue(e, pkt);
                        solicit(e);
                        return 0;
                default: /* INCOMPLETE */
                        e->sender = ns_ipv4_src(ns_pkt_data(pkt));
                        enqueue(e, pkt);
                        return 0;
                }
        }
        e = create(t, nh, NS_ARP_INCOMPLETE);
        if (!e) {
                count_queue_drops(t, 1);
                ns_pkt_free(pkt);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        e->sender = ns_ipv4_src(ns_pkt_data(pkt));
        enqueue(e, pkt);
        solicit(e);
        return 0;
}

/* Sends what waited for e, now that its MAC is known. */
static void flush(struct neigh_entry *e)
{
        if (ns_pkt_list_empty(&e->queue))
                return;
        struct ns_pkt_list q = e->queue;
        ns_pkt_list_init(&e->queue);
        for (struct ns_pkt *p = q.head; p; p = p->next)
                set_dst(p, e->mac);
        (void)ns__nic_link_write(e->t->nic, &q);
}

/* Makes e known with mac in state (REACHABLE, STALE or STATIC) and arms its timer. */
static void settle(struct neigh_entry *e, const uint8_t *mac, uint8_t state)
{
        struct ns_stack *s = stack_of(e->t);
        memcpy(e->mac, mac, NS_ETH_ALEN);
        e->state = state;
        e->probes = 0;
        e->updated_ns = now_ns(e->t);
        ns__timer_cancel(&s->timers, &e->timer);
        if (state == NS_ARP_REACHABLE)
                arm(e, e->updated_ns + NS_ARP_REACHABLE_NS);
        else if (state == NS_ARP_STALE)
                arm(e, e->updated_ns + NS_ARP_GC_STALE_NS);
        flush(e);
}

void ns__neigh_learn(struct ns_nic *nic, ns_ip4 ip, const uint8_t mac[6], enum ns_neigh_learn how)
{
        struct ns_neigh_table *t = nic->neigh;
        if (!t)
                return;
        struct neigh_entry *e = find(t, ip);
        uint8_t state = how == NS_NEIGH_LEARN_UPDATE_REACHABLE ? NS_ARP_REACHABLE : NS_ARP_STALE;
        if (!e) {
                if (how != NS_NEIGH_LEARN_CREATE_STALE)
                        return; /* Linux: no entry from unsolicited ARP (arp_accept 0) */
                e = create(t, ip, NS_ARP_STALE);
                if (!e)
                        return;
                settle(e, mac, NS_ARP_STALE);
                return;
        }
        switch (e->state) {
        case NS_ARP_STATIC:
                return; /* lwIP bug #48477: the network never overwrites these */
        case NS_ARP_INCOMPLETE:
        case NS_ARP_FAILED:
                settle(e, mac, state);
                return;
        default:
                break;
        }
        /*
         * Known already. Linux neigh_update: the same address with only "stale"
         * news keeps the state (a gratuitous ARP or a request does not demote
         * a reachable entry, RFC 5227; gvisor@a6fe4d1d8); a new address or a
         * confirmation takes the new state.
         */
        if (state == NS_ARP_STALE && memcmp(e->mac, mac, NS_ETH_ALEN) == 0)
                return;
        settle(e, mac, state);
}

void ns__neigh_ifdown(struct ns_nic *nic)
{
        struct ns_neigh_table *t = nic->neigh;
        if (!t)
                return;
        /*
         * An administrative link down in Linux (neigh_ifdown, NETDEV_DOWN)
         * drops every neighbour of the device, NUD_PERMANENT ones included,
         * with their arp_queue: what was known may not hold when the link
         * comes back. Only carrier loss (neigh_carrier_down) keeps the
         * permanent ones; gVisor's NIC disable drops them too.
         */
        for (uint32_t i = 0; i < NS_ARP_MAX_ENTRIES; i++) {
                struct neigh_entry *e = &t->e[i];
                if (e->state != 0)
                        release(t, e);
        }
}

uint32_t ns__neigh_count(const struct ns_nic *nic)
{
        return nic->neigh ? nic->neigh->count : 0;
}

int ns__neigh_table_create(struct ns_nic *nic)
{
        struct ns_stack *s = nic->stack;
        struct ns_neigh_table *t = ns_zalloc(&s->alloc, sizeof(*t));
        if (!t)
                return NS_ERR_NO_MEMORY;
        t->nic = nic;
        for (uint32_t i = 0; i < NEIGH_BUCKETS; i++)
                t->buckets[i] = NEIGH_NONE;
        for (uint32_t i = 0; i < NS_ARP_MAX_ENTRIES; i++) {
                t->e[i].t = t;
                t->e[i].next = NEIGH_NONE;
                ns__timer_init(&t->e[i].timer, on_timer, &t->e[i]);
                ns_pkt_list_init(&t->e[i].queue);
        }
        nic->neigh = t;
        return 0;
}

void ns__neigh_table_destroy(struct ns_nic *nic)
{
        struct ns_neigh_table *t = nic->neigh;
        if (!t)
                return;
        for (uint32_t i = 0; i < NS_ARP_MAX_ENTRIES; i++) {
                ns__timer_cancel(&nic->stack->timers, &t->e[i].timer);
                ns_pkt_list_free(&t->e[i].queue);
        }
        nic->neigh = NULL;
        ns_free(&nic->stack->alloc, t);
}

/* ---- public table API (<netstack/arp.h>) ------------------------------ */

static int table_of(const struct ns_stack *s, uint32_t nic_id, struct ns_neigh_table **out)
{
        const struct ns_nic *nic = ns__nic_get(s, nic_id);
        if (!nic)
                return NS_ERR_UNKNOWN_NIC;
        if (!nic->neigh)
                return NS_ERR_NOT_SUPPORTED;
        *out = nic->neigh;
        return 0;
}

int ns_arp_add_static(struct ns_stack *s, uint32_t nic_id, ns_ip4 addr, const uint8_t mac[6])
{
        struct ns_neigh_table *t;
        int err = table_of(s, nic_id, &t);
        if (err)
                return err;
        if (!mac || addr == NS_IP4_ANY || addr == NS_IP4_BROADCAST || ns_ip4_is_multicast(addr) ||
            (mac[0] & 1))
                return NS_ERR_BAD_ADDRESS;
        struct neigh_entry *e = find(t, addr);
        if (!e)
                e = create(t, addr, NS_ARP_STATIC);
        if (!e)
                return NS_ERR_NO_BUFFER_SPACE;
        settle(e, mac, NS_ARP_STATIC);
        return 0;
}

int ns_arp_remove(struct ns_stack *s, uint32_t nic_id, ns_ip4 addr)
{
        struct ns_neigh_table *t;
        int err = table_of(s, nic_id, &t);
        if (err)
                return err;
        struct neigh_entry *e = find(t, addr);
        if (!e)
                return NS_ERR_NOT_FOUND;
        release(t, e);
        return 0;
}

static void copy_out(const struct neigh_entry *e, struct ns_arp_entry *out)
{
        out->addr = e->ip;
        memcpy(out->mac, e->mac, NS_ETH_ALEN);
        out->state = (enum ns_arp_state)e->state;
        out->queued = e->queue.count;
}

int ns_arp_lookup(const struct ns_stack *s, uint32_t nic_id, ns_ip4 addr, struct ns_arp_entry *out)
{
        struct ns_neigh_table *t;
        int err = table_of(s, nic_id, &t);
        if (err)
                return err == NS_ERR_NOT_SUPPORTED ? NS_ERR_NOT_FOUND : err;
        const struct neigh_entry *e = find(t, addr);
        if (!e)
                return NS_ERR_NOT_FOUND;
        copy_out(e, out);
        return 0;
}

size_t ns_arp_entries(const struct ns_stack *s, uint32_t nic_id, struct ns_arp_entry *out,
                      size_t max)
{
        struct ns_neigh_table *t;
        if (table_of(s, nic_id, &t) != 0)
                return 0;
        size_t n = 0;
        for (uint32_t i = 0; i < NS_ARP_MAX_ENTRIES; i++) {
                if (t->e[i].state == 0)
                        continue;
                if (out && n < max)
                        copy_out(&t->e[i], &out[n]);
                n++;
        }
        return n;
}
