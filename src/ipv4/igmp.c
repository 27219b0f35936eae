/*
 * The IGMP host state machine; see igmp.h. v1/v2 behaviour follows gVisor's
 * igmp.go and generic_multicast_protocol.go (RFC 2236 section 6); v3
 * follows RFC 3376 sections 5 and 7 with Linux's choices (net/ipv4/igmp.c)
 * where the RFC leaves room. Our only reception state per group is
 * EXCLUDE {} (any-source joins), so every v3 record carries either no
 * source or the sources a query asked about.
 */
#include <string.h>

#include <netstack/err.h>
#include <netstack/igmp.h>

#include "core/rng.h"
#include "ipv4/ipv4.h"
#include "wire/igmp.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL

/* RFC 2236 section 8.11: Version 1 Router Present Timeout. */
#define V1_ROUTER_PRESENT_NS (400 * NS_PER_S)
/* RFC 2236 section 4: a v1 query's Max Response Time 0 means 10 s. */
#define V1_MAX_RESP_NS (10 * NS_PER_S)
/* RFC 3376 section 8.2: default Query Interval. */
#define DEFAULT_QI_S 125

/* The longest v3 report we build: a record per group, no sources. */
#define V3_REPORT_MAX (NS_IGMP_LEN + NS_IGMPV3_REC_HDR * NS_IGMP_MAX_GROUPS)
_Static_assert(NS_IGMPV3_REC_HDR + 4 * NS_IGMP_MAX_QUERY_SOURCES <=
                   NS_IGMPV3_REC_HDR * NS_IGMP_MAX_GROUPS,
               "a query response record fits V3_REPORT_MAX");

/* IP header with Router Alert, then the IGMP message. */
#define IGMP_IP_HDR 24

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)

void ns__igmp_cfg_init(struct ns_igmp_cfg *cfg)
{
        cfg->enabled = true;
        cfg->version = 3;
        cfg->unsolicited_count = 2;
        cfg->robustness = 2;
        cfg->v2_interval_ms = 10000;
        cfg->v3_interval_ms = 1000;
}

static const struct ns_igmp_cfg *cfg_of(const struct ns_ipv4_ep *ep)
{
        return &ep->p->igmp;
}

static int64_t now_ns(const struct ns_ipv4_ep *ep)
{
        return ns__stack_now(ep->p->s);
}

/* gVisor's igmpState.Enabled: never on loopback, which has no neighbours. */
static bool performing(const struct ns_ipv4_ep *ep)
{
        return cfg_of(ep)->enabled && ep->enabled && !ep->nic->loopback;
}

/*
 * gVisor's ShouldPerformProtocol (RFC 2236 section 6): the all-systems
 * group is never reported (lwIP bug #39145, HOSTILE-INPUTS 70).
 */
static bool should_perform(const struct ns_igmp_group *g)
{
        return g->addr != NS_IP4_ALL_SYSTEMS && performing(g->ep);
}

/* The Host Compatibility Mode (RFC 3376 7.2.1), capped by the setting. */
static unsigned mode(const struct ns_ipv4_ep *ep)
{
        unsigned v = cfg_of(ep)->version;
        if (v > 1 && ns__timer_armed(&ep->igmp.v1_timer))
                return 1;
        if (v > 2 && ns__timer_armed(&ep->igmp.v2_timer))
                return 2;
        return v;
}

/* The Robustness Variable in use: the querier's when heard (as Linux). */
static uint8_t robustness(const struct ns_ipv4_ep *ep)
{
        return ep->igmp.qrv ? ep->igmp.qrv : cfg_of(ep)->robustness;
}

static bool slot_used(const struct ns_igmp_group *g)
{
        return g->joins > 0 || g->change_left > 0;
}

static void arm(struct ns_ipv4_ep *ep, struct ns_timer *t, int64_t deadline)
{
        /* Arming fails only when the heap cannot grow; the report is then
         * lost, as a lost packet would be. */
        (void)ns__timer_arm(&ep->p->s->timers, t, deadline);
}

static void cancel(struct ns_ipv4_ep *ep, struct ns_timer *t)
{
        ns__timer_cancel(&ep->p->s->timers, t);
}

/* ---- sending ------------------------------------------------------------ */

/*
 * Sends the len-byte IGMP message msg to dst with TTL 1 and a Router Alert
 * option (RFC 2236 section 2, RFC 3376 section 4), from the NIC's primary
 * address. Returns 1 when sent, 0 when the NIC has no address yet (the
 * caller queues; the seed's SendReport returning false), or a negative
 * ns_err. Sent packets are not looped back: Linux's igmp_rcv ignores its
 * own looped reports, so they could never suppress anything.
 */
static int send_msg(struct ns_ipv4_ep *ep, ns_ip4 dst, const uint8_t *msg, size_t len)
{
        struct ns_nic *nic = ep->nic;
        struct ns_addr_entry *e = ns__addr_acquire_outgoing_primary(&nic->addrs, dst, false);
        if (!e)
                return 0;
        struct ns_pkt *pkt =
            ns_pkt_alloc(ep->p->s->pool, NS_IPV4_TX_HEADROOM + NS_IPV4_MAX_HDR, (uint32_t)len);
        int err = NS_ERR_NO_BUFFER_SPACE;
        if (pkt) {
                memcpy(ns_pkt_put(pkt, (uint32_t)len), msg, len);
                uint8_t ra[NS_IPV4_OPT_RA_LEN];
                struct ns_ipv4_params params = {
                        .proto = NS_IPV4_PROTO_IGMP,
                        .ttl = 1,
                        .options = ra,
                        .options_len = (uint8_t)ns_ipv4_opt_put_router_alert(ra, sizeof(ra)),
                };
                struct ns_path path = {
                        .nic = nic,
                        .local_nic = nic,
                        .local = e->pfx.addr,
                        .remote = dst,
                        .next_hop = dst,
                        .loop = NS_LOOP_OUT,
                        .mtu = ns__nic_mtu(nic),
                        .local_entry = e,
                };
                err = ns__ipv4_write_packet(ep->p, &path, &params, pkt);
        }
        ns__addr_release(&nic->addrs, e);
        if (err) {
                NS_STAT_INC(EPS(ep), SS(ep), igmp, sent_dropped);
                return err;
        }
        return 1;
}

/* A v1 or v2 report for the group (the seed's SendReport). */
static int send_v12_report(struct ns_ipv4_ep *ep, ns_ip4 group)
{
        bool v1 = mode(ep) == 1;
        uint8_t msg[NS_IGMP_LEN];
        (void)ns_igmp_emit(msg, sizeof(msg), v1 ? NS_IGMP_V1_REPORT : NS_IGMP_V2_REPORT, 0, group);
        int r = send_msg(ep, group, msg, sizeof(msg));
        if (r == 1 && v1)
                NS_STAT_INC(EPS(ep), SS(ep), igmp, sent_v1_membership_report);
        else if (r == 1)
                NS_STAT_INC(EPS(ep), SS(ep), igmp, sent_v2_membership_report);
        return r;
}

/* A v3 report of n records to 224.0.0.22 (RFC 3376 4.2.14). */
static int send_v3_report(struct ns_ipv4_ep *ep, const struct ns_igmpv3_rec_out *recs, uint16_t n)
{
        uint8_t msg[V3_REPORT_MAX];
        size_t len = ns_igmpv3_emit_report(msg, sizeof(msg), recs, n);
        if (len == 0)
                return NS_ERR_NO_BUFFER_SPACE;
        int r = send_msg(ep, NS_IP4_IGMPV3_ROUTERS, msg, len);
        if (r == 1)
                NS_STAT_INC(EPS(ep), SS(ep), igmp, sent_v3_membership_report);
        return r;
}

/* ---- v1/v2: gVisor's generic multicast protocol ---------------------------- */

/*
 * gVisor's setDelayTimerForAddressLocked (RFC 2236 section 3): at least one
 * report is owed; a running timer is kept when it fires within max_ns,
 * else re-armed at a random delay in [0, max_ns].
 */
static void set_delay(struct ns_igmp_group *g, int64_t max_ns)
{
        struct ns_ipv4_ep *ep = g->ep;
        if (!should_perform(g))
                return;
        if (g->tx_left < 1)
                g->tx_left = 1;
        int64_t now = now_ns(ep);
        if (ns__timer_armed(&g->report_timer) && g->report_timer.deadline_ns - now <= max_ns)
                return;
        arm(ep, &g->report_timer, now + ns__rng_duration(&ep->p->s->rng, max_ns));
}

/* gVisor's maybeSendReportLocked. */
static void maybe_send_report(struct ns_igmp_group *g)
{
        if (g->tx_left == 0)
                return;
        if (send_v12_report(g->ep, g->addr) != 1)
                return; /* queued until an address appears, or lost */
        g->last_reporter = true;
        if (--g->tx_left > 0)
                set_delay(g, (int64_t)cfg_of(g->ep)->v2_interval_ms * NS_PER_MS);
}

/* ---- v3: RFC 3376 section 5 ------------------------------------------------ */

static void free_if_done(struct ns_igmp_group *g)
{
        if (slot_used(g))
                return;
        cancel(g->ep, &g->report_timer);
        cancel(g->ep, &g->change_timer);
        g->addr = 0;
        g->query_pending = false;
        g->tx_left = 0;
        g->last_reporter = false;
}

/*
 * Sends one transmission of the group's state-change report (RFC 3376 5.1)
 * and schedules the next at a random delay up to the v3 Unsolicited Report
 * Interval. With no address yet, nothing is sent and nothing scheduled:
 * the address_added hook sends it.
 */
static void send_change(struct ns_igmp_group *g)
{
        struct ns_ipv4_ep *ep = g->ep;
        if (g->change_left == 0)
                return;
        struct ns_igmpv3_rec_out rec = { .type = g->change_type, .group = g->addr };
        if (send_v3_report(ep, &rec, 1) == 1) {
                g->last_reporter = g->change_type == NS_IGMPV3_CHANGE_TO_EXCLUDE;
                if (--g->change_left > 0) {
                        int64_t max = (int64_t)cfg_of(ep)->v3_interval_ms * NS_PER_MS;
                        arm(ep, &g->change_timer,
                            now_ns(ep) + ns__rng_duration(&ep->p->s->rng, max));
                }
        }
        free_if_done(g);
}

static void start_change(struct ns_igmp_group *g, uint8_t type)
{
        cancel(g->ep, &g->change_timer);
        g->change_type = type;
        g->change_left = robustness(g->ep);
        send_change(g);
}

/* The current-state record answering a pending group(-and-source) query. */
static void send_query_response(struct ns_igmp_group *g)
{
        struct ns_igmpv3_rec_out rec = { .group = g->addr };
        if (!g->query_pending || g->query_all) {
                /* A whole-group query, or a v2 report timer outliving v2 mode. */
                rec.type = NS_IGMPV3_MODE_IS_EXCLUDE;
        } else {
                /* RFC 3376 5.2: for EXCLUDE (A) the sources are B - A, and A is {}. */
                rec.type = NS_IGMPV3_MODE_IS_INCLUDE;
                rec.sources = g->qsrc;
                rec.nsources = g->n_qsrc;
        }
        g->query_pending = false;
        g->n_qsrc = 0;
        if (send_v3_report(g->ep, &rec, 1) == 1)
                g->last_reporter = true;
}

/*
 * Leaving v3 mode for an older one (RFC 3376 7.2.1: "cancel all pending
 * response and retransmission timers"), or going down: pending v3 work is
 * forgotten and slots kept only for leaving are freed.
 */
static void drop_v3_pending(struct ns_ipv4_ep *ep)
{
        cancel(ep, &ep->igmp.gq_timer);
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (!slot_used(g))
                        continue;
                cancel(ep, &g->change_timer);
                g->change_left = 0;
                if (g->query_pending) {
                        cancel(ep, &g->report_timer);
                        g->query_pending = false;
                        g->n_qsrc = 0;
                }
                free_if_done(g);
        }
}

/* ---- timers ----------------------------------------------------------------- */

static void report_fired(void *arg)
{
        struct ns_igmp_group *g = arg;
        if (!should_perform(g))
                return;
        if (mode(g->ep) == 3) {
                g->tx_left = 0;
                if (g->joins > 0)
                        send_query_response(g);
                return;
        }
        maybe_send_report(g);
}

static void change_fired(void *arg)
{
        struct ns_igmp_group *g = arg;
        if (!performing(g->ep) || mode(g->ep) != 3) {
                g->change_left = 0;
                free_if_done(g);
                return;
        }
        send_change(g);
}

/* The current-state report answering a general query (RFC 3376 5.2):
 * MODE_IS_EXCLUDE {} for every group, as many records as fit the MTU. */
static void gq_fired(void *arg)
{
        struct ns_ipv4_ep *ep = arg;
        if (!performing(ep) || mode(ep) != 3)
                return;
        uint32_t room = ns__nic_mtu(ep->nic) - IGMP_IP_HDR - NS_IGMP_LEN;
        uint32_t per = room / NS_IGMPV3_REC_HDR;
        if (per == 0)
                return;
        if (per > NS_IGMP_MAX_GROUPS)
                per = NS_IGMP_MAX_GROUPS;
        struct ns_igmpv3_rec_out recs[NS_IGMP_MAX_GROUPS];
        uint16_t n = 0;
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (g->joins == 0 || !should_perform(g))
                        continue;
                recs[n++] = (struct ns_igmpv3_rec_out){ .type = NS_IGMPV3_MODE_IS_EXCLUDE,
                                                        .group = g->addr };
                g->last_reporter = true;
                if (n == per) {
                        (void)send_v3_report(ep, recs, n);
                        n = 0;
                }
        }
        if (n > 0)
                (void)send_v3_report(ep, recs, n);
}

static void querier_gone(void *arg)
{
        /* The mode follows from which timers run; nothing else changes
         * when an older querier goes quiet (as Linux). */
        (void)arg;
}

/* ---- membership ------------------------------------------------------------- */

static struct ns_igmp_group *find(const struct ns_ipv4_ep *ep, ns_ip4 group)
{
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                const struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (slot_used(g) && g->addr == group)
                        return (struct ns_igmp_group *)g;
        }
        return NULL;
}

/* gVisor's initializeNewMemberLocked, with v3's state-change report. */
static void init_new_member(struct ns_igmp_group *g)
{
        g->last_reporter = false;
        if (!should_perform(g))
                return;
        if (mode(g->ep) == 3) {
                start_change(g, NS_IGMPV3_CHANGE_TO_EXCLUDE);
                return;
        }
        g->tx_left = cfg_of(g->ep)->unsolicited_count;
        maybe_send_report(g);
}

/*
 * gVisor's transitionToNonMemberLocked: timers stop; v2 sends a Leave to
 * 224.0.0.2 when we were the last to report (RFC 2236 section 6 "MAY be
 * skipped" otherwise), v1 never; v3 sends CHANGE_TO_INCLUDE {} Robustness
 * times when retransmit is set, once otherwise (going down).
 */
static void to_non_member(struct ns_igmp_group *g, bool retransmit)
{
        struct ns_ipv4_ep *ep = g->ep;
        if (!should_perform(g))
                return;
        cancel(ep, &g->report_timer);
        g->tx_left = 0;
        g->query_pending = false;
        g->n_qsrc = 0;
        switch (mode(ep)) {
        case 1:
                break;
        case 2:
                if (g->last_reporter) {
                        uint8_t msg[NS_IGMP_LEN];
                        (void)ns_igmp_emit(msg, sizeof(msg), NS_IGMP_LEAVE, 0, g->addr);
                        if (send_msg(ep, NS_IP4_ALL_ROUTERS, msg, sizeof(msg)) == 1)
                                NS_STAT_INC(EPS(ep), SS(ep), igmp, sent_leave_group);
                }
                break;
        default:
                cancel(ep, &g->change_timer);
                g->change_type = NS_IGMPV3_CHANGE_TO_INCLUDE;
                g->change_left = retransmit ? robustness(ep) : 1;
                send_change(g);
                if (!retransmit) {
                        cancel(ep, &g->change_timer);
                        g->change_left = 0;
                }
                break;
        }
        g->last_reporter = false;
}

int ns__igmp_join(struct ns_ipv4_ep *ep, ns_ip4 group)
{
        if (!ns_ip4_is_multicast(group))
                return NS_ERR_BAD_ADDRESS;
        struct ns_igmp_group *g = find(ep, group);
        if (g && g->joins > 0) {
                g->joins++;
                return 0;
        }
        if (!g) {
                /* A free slot, else one only retransmitting a leave. */
                struct ns_igmp_group *leaving = NULL;
                for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS && !g; i++) {
                        struct ns_igmp_group *c = &ep->igmp.groups[i];
                        if (!slot_used(c))
                                g = c;
                        else if (c->joins == 0 && !leaving)
                                leaving = c;
                }
                if (!g && !leaving)
                        return NS_ERR_NO_BUFFER_SPACE;
                if (!g) {
                        g = leaving;
                        g->change_left = 0;
                        free_if_done(g);
                }
                g->addr = group;
        }
        /* A group still leaving is simply joined again (RFC 3376 5.1). */
        g->joins = 1;
        init_new_member(g);
        return 0;
}

int ns__igmp_leave(struct ns_ipv4_ep *ep, ns_ip4 group)
{
        struct ns_igmp_group *g = find(ep, group);
        if (!g || g->joins == 0)
                return NS_ERR_BAD_LOCAL_ADDRESS;
        if (--g->joins > 0)
                return 0;
        to_non_member(g, true);
        free_if_done(g);
        return 0;
}

bool ns__igmp_in_group(const struct ns_ipv4_ep *ep, ns_ip4 group)
{
        /* Asked for every packet not addressed to us: unicast answers at once. */
        if (!ns_ip4_is_multicast(group))
                return false;
        const struct ns_igmp_group *g = find(ep, group);
        return g && g->joins > 0;
}

void ns__igmp_initialize_all(struct ns_ipv4_ep *ep)
{
        if (!performing(ep))
                return;
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (g->joins > 0)
                        init_new_member(g);
        }
}

void ns__igmp_soft_leave_all(struct ns_ipv4_ep *ep)
{
        if (!performing(ep))
                return;
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (g->joins > 0)
                        to_non_member(g, false);
        }
        drop_v3_pending(ep);
}

void ns__igmp_reset_queriers(struct ns_ipv4_ep *ep)
{
        cancel(ep, &ep->igmp.v1_timer);
        cancel(ep, &ep->igmp.v2_timer);
        cancel(ep, &ep->igmp.gq_timer);
        ep->igmp.qrv = 0;
        ep->igmp.qi_s = 0;
}

void ns__igmp_send_queued(struct ns_ipv4_ep *ep)
{
        if (!performing(ep))
                return;
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (!slot_used(g))
                        continue;
                if (g->change_left > 0 && !ns__timer_armed(&g->change_timer))
                        send_change(g);
                else if (g->joins > 0 && !ns__timer_armed(&g->report_timer))
                        maybe_send_report(g);
        }
}

/* ---- received messages ---------------------------------------------------- */

/*
 * RFC 3376 8.12 Older Version Querier Present Timeout (Robustness times
 * Query Interval plus the query's Max Response Time, as Linux computes
 * it); a v2-only host keeps RFC 2236's 400 s Version 1 Router Present
 * Timeout.
 */
static int64_t older_querier_timeout(const struct ns_ipv4_ep *ep, int64_t max_resp_ns)
{
        if (cfg_of(ep)->version < 3)
                return V1_ROUTER_PRESENT_NS;
        uint32_t qi = ep->igmp.qi_s ? ep->igmp.qi_s : DEFAULT_QI_S;
        return (int64_t)robustness(ep) * qi * NS_PER_S + max_resp_ns;
}

/* gVisor's HandleQueryLocked, for v1/v2 mode. */
static void v2_query(struct ns_ipv4_ep *ep, ns_ip4 group, int64_t max_ns)
{
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ep->igmp.groups[i];
                if (g->joins > 0 && (group == NS_IP4_ANY || g->addr == group))
                        set_delay(g, max_ns);
        }
}

/* Adds a query's sources to the group's pending list (RFC 3376 5.2 rule 5);
 * more than fit turn the response into a whole-group one. */
static void add_sources(struct ns_igmp_group *g, const struct ns_igmp_query *q)
{
        for (uint16_t i = 0; i < q->nsources && !g->query_all; i++) {
                ns_ip4 s = ns_load_be32(q->sources + 4 * (size_t)i);
                bool have = false;
                for (uint8_t k = 0; k < g->n_qsrc && !have; k++)
                        have = g->qsrc[k] == s;
                if (have)
                        continue;
                if (g->n_qsrc == NS_IGMP_MAX_QUERY_SOURCES) {
                        g->query_all = true;
                        g->n_qsrc = 0;
                } else {
                        g->qsrc[g->n_qsrc++] = s;
                }
        }
}

/* RFC 3376 5.2: scheduling the response to a v3 query. */
static void v3_query(struct ns_ipv4_ep *ep, const struct ns_igmp_query *q)
{
        int64_t now = now_ns(ep);
        int64_t at = now + ns__rng_duration(&ep->p->s->rng, q->max_resp_ns);
        struct ns_timer *gq = &ep->igmp.gq_timer;
        /* Rule 1: a general response due sooner covers this query too. */
        if (ns__timer_armed(gq) && gq->deadline_ns <= at)
                return;
        if (q->group == NS_IP4_ANY) {
                arm(ep, gq, at); /* rule 2 */
                return;
        }
        struct ns_igmp_group *g = find(ep, q->group);
        if (!g || g->joins == 0 || !should_perform(g))
                return;
        if (!g->query_pending) {
                /* Rule 3. */
                g->query_pending = true;
                g->query_all = q->nsources == 0;
                g->n_qsrc = 0;
                add_sources(g, q);
                arm(ep, &g->report_timer, at);
                return;
        }
        /* Rules 4 and 5: one response, at the earlier of the two times. */
        if (q->nsources == 0 || g->query_all) {
                g->query_all = true;
                g->n_qsrc = 0;
        } else {
                add_sources(g, q);
        }
        if (!ns__timer_armed(&g->report_timer) || at < g->report_timer.deadline_ns)
                arm(ep, &g->report_timer, at);
}

void ns__igmp_on_query(struct ns_ipv4_ep *ep, const struct ns_igmp_query *q)
{
        if (!performing(ep))
                return;
        const struct ns_igmp_cfg *cfg = cfg_of(ep);
        int64_t max_ns = q->max_resp_ns;
        if (cfg->version == 1) {
                /* RFC 1112 hosts answer every query within 10 s. */
                v2_query(ep, q->group, V1_MAX_RESP_NS);
                return;
        }
        if (q->version == 3 && cfg->version == 3) {
                /* RFC 3376 4.1.6, 4.1.7: adopt the querier's QRV and QQI. */
                if (q->qrv)
                        ep->igmp.qrv = q->qrv;
                if (q->qqi_s)
                        ep->igmp.qi_s = q->qqi_s;
                if (mode(ep) == 3) {
                        v3_query(ep, q);
                        return;
                }
        }
        if (q->version == 1 || (q->version == 2 && cfg->version == 3)) {
                bool was_v3 = mode(ep) == 3;
                if (q->version == 1)
                        max_ns = V1_MAX_RESP_NS;
                struct ns_timer *t = q->version == 1 ? &ep->igmp.v1_timer : &ep->igmp.v2_timer;
                arm(ep, t, now_ns(ep) + older_querier_timeout(ep, max_ns));
                if (was_v3)
                        drop_v3_pending(ep);
        }
        /* v1/v2 mode: v3 queries are taken as v2 ones (RFC 3376 7.2.1). */
        v2_query(ep, q->group, max_ns);
}

void ns__igmp_on_report(struct ns_ipv4_ep *ep, ns_ip4 group)
{
        /* gVisor's HandleReportLocked (RFC 2236 section 3). IGMPv3 has no
         * report suppression (RFC 3376 section 5.1 sends every report). */
        if (!performing(ep) || mode(ep) == 3)
                return;
        struct ns_igmp_group *g = find(ep, group);
        if (!g || g->joins == 0)
                return;
        cancel(ep, &g->report_timer);
        g->tx_left = 0;
        g->last_reporter = false;
}

/* ---- lifecycle and settings ------------------------------------------------- */

void ns__igmp_init(struct ns_ipv4_ep *ep)
{
        struct ns_igmp_ep *ig = &ep->igmp;
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                struct ns_igmp_group *g = &ig->groups[i];
                g->ep = ep;
                ns__timer_init(&g->report_timer, report_fired, g);
                ns__timer_init(&g->change_timer, change_fired, g);
        }
        ns__timer_init(&ig->v1_timer, querier_gone, ep);
        ns__timer_init(&ig->v2_timer, querier_gone, ep);
        ns__timer_init(&ig->gq_timer, gq_fired, ep);
}

void ns__igmp_fini(struct ns_ipv4_ep *ep)
{
        struct ns_igmp_ep *ig = &ep->igmp;
        for (unsigned i = 0; i < NS_IGMP_MAX_GROUPS; i++) {
                cancel(ep, &ig->groups[i].report_timer);
                cancel(ep, &ig->groups[i].change_timer);
        }
        ns__igmp_reset_queriers(ep);
}

/* Runs fn on the IPv4 endpoint of every NIC. */
static void each_ep(struct ns_ipv4 *p, void (*fn)(struct ns_ipv4_ep *ep))
{
        for (uint32_t id = 0; id < p->s->nic_cap; id++)
                if (p->s->nics[id])
                        fn(ns__ipv4_ep(p, p->s->nics[id]));
}

static void go_quiet(struct ns_ipv4_ep *ep)
{
        ns__igmp_soft_leave_all(ep);
        ns__igmp_reset_queriers(ep);
}

static bool in_range(int64_t v, int64_t lo, int64_t hi)
{
        return v >= lo && v <= hi;
}

int ns_igmp_set_param(struct ns_stack *s, enum ns_igmp_param param, int64_t v)
{
        struct ns_ipv4 *p = ns__ipv4_of(s);
        if (!p)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        struct ns_igmp_cfg *cfg = &p->igmp;
        switch (param) {
        case NS_IGMP_PARAM_ENABLED:
                if (!in_range(v, 0, 1))
                        return NS_ERR_INVALID_ARGUMENT;
                if (cfg->enabled && !v)
                        each_ep(p, go_quiet);
                cfg->enabled = v != 0;
                if (v)
                        each_ep(p, ns__igmp_initialize_all);
                return 0;
        case NS_IGMP_PARAM_VERSION:
                if (!in_range(v, 1, 3))
                        return NS_ERR_INVALID_ARGUMENT;
                /* Pending v3 work belongs to the old version (RFC 3376 7.2.1). */
                each_ep(p, drop_v3_pending);
                cfg->version = (uint8_t)v;
                return 0;
        case NS_IGMP_PARAM_UNSOLICITED_REPORT_COUNT:
                if (!in_range(v, 1, 10))
                        return NS_ERR_INVALID_ARGUMENT;
                cfg->unsolicited_count = (uint8_t)v;
                return 0;
        case NS_IGMP_PARAM_V2_UNSOLICITED_REPORT_INTERVAL_MS:
        case NS_IGMP_PARAM_V3_UNSOLICITED_REPORT_INTERVAL_MS:
                if (!in_range(v, 0, 3600000))
                        return NS_ERR_INVALID_ARGUMENT;
                if (param == NS_IGMP_PARAM_V2_UNSOLICITED_REPORT_INTERVAL_MS)
                        cfg->v2_interval_ms = (uint32_t)v;
                else
                        cfg->v3_interval_ms = (uint32_t)v;
                return 0;
        case NS_IGMP_PARAM_ROBUSTNESS:
                if (!in_range(v, 1, 7))
                        return NS_ERR_INVALID_ARGUMENT;
                cfg->robustness = (uint8_t)v;
                return 0;
        default:
                return NS_ERR_UNKNOWN_PROTOCOL_OPTION;
        }
}

int ns_igmp_get_param(const struct ns_stack *s, enum ns_igmp_param param, int64_t *v)
{
        const struct ns_ipv4 *p = ns__ipv4_of(s);
        if (!p)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        const struct ns_igmp_cfg *cfg = &p->igmp;
        switch (param) {
        case NS_IGMP_PARAM_ENABLED:
                *v = cfg->enabled;
                return 0;
        case NS_IGMP_PARAM_VERSION:
                *v = cfg->version;
                return 0;
        case NS_IGMP_PARAM_UNSOLICITED_REPORT_COUNT:
                *v = cfg->unsolicited_count;
                return 0;
        case NS_IGMP_PARAM_V2_UNSOLICITED_REPORT_INTERVAL_MS:
                *v = cfg->v2_interval_ms;
                return 0;
        case NS_IGMP_PARAM_V3_UNSOLICITED_REPORT_INTERVAL_MS:
                *v = cfg->v3_interval_ms;
                return 0;
        case NS_IGMP_PARAM_ROBUSTNESS:
                *v = cfg->robustness;
                return 0;
        default:
                return NS_ERR_UNKNOWN_PROTOCOL_OPTION;
        }
}
