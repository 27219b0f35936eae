/*
 * ARP (RFC 826) and the neighbour cache through the stack, over an
 * Ethernet NIC on the in-memory frame device: resolution, queueing,
 * retransmission and failure, learning rules, static entries, gratuitous
 * ARP (RFC 5227) and the addresses that need no resolution (RFC 1112 6.4).
 */
#include "test_arp_env.h"

/* An echo request from a peer we never heard of: who-has, is-at, then the reply. */
static void test_echo_from_unknown_peer_resolves(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        uint8_t f[128];
        size_t n = build_echo_frame(f, OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, 1);
        inject(&e, f, n);
        /* Never learned from IP packets (lwIP ETHARP_TRUST_IP_MAC, HOSTILE 75). */
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_INCOMPLETE);
        expect_request(&e, PEER_IP);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        inject_peer_reply(&e, PEER_MAC);
        struct ns_pkt *p = expect_ipv4_frame(&e, PEER_MAC);
        const uint8_t *h = ns_pkt_data(p) + NS_ETH_HDR;
        assert_int_equal(ns_ipv4_src(h), OUR_IP);
        assert_int_equal(ns_ipv4_dst(h), PEER_IP);
        assert_int_equal(h[20], NS_ICMP4_ECHO_REPLY);
        ns_pkt_free(p);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_REACHABLE);
        /* Known now: the next reply goes at once. */
        n = build_echo_frame(f, OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, 2);
        inject(&e, f, n);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent, 1);
        assert_int_equal(st.arp.replies_received - e.before.arp.replies_received, 1);
        assert_int_equal(st.arp.packets_received - e.before.arp.packets_received, 1);
        assert_int_equal(st.ip.packets_sent - e.before.ip.packets_sent, 2);
        assert_int_equal(st.nic.tx_packets - e.before.nic.tx_packets, 3);
        arp_env_destroy(&e);
}

/* RFC 826 reply: every field set, sent to the ARP sender, not the Ethernet source. */
static void test_request_for_us_answered_every_field(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        uint8_t f[60];
        /* genodelabs/genode#3624: the Ethernet source differs from the ARP sender. */
        build_arp(f, BCAST_MAC, ALT_MAC, NS_ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO_MAC, OUR_IP);
        inject(&e, f, sizeof(f));
        expect_arp_frame(&e, &(struct arp_expect){ .eth_dst = PEER_MAC,
                                                   .op = NS_ARP_OP_REPLY,
                                                   .spa = OUR_IP,
                                                   .tha = PEER_MAC,
                                                   .tpa = PEER_IP });
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        /* Linux neigh_event_ns: the requester is learned, stale (not confirmed). */
        struct ns_arp_entry ent;
        assert_int_equal(ns_arp_lookup(e.t.s, 1, PEER_IP, &ent), 0);
        assert_int_equal(ent.state, NS_ARP_STALE);
        assert_memory_equal(ent.mac, PEER_MAC, 6);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.requests_received - e.before.arp.requests_received, 1);
        assert_int_equal(st.arp.outgoing_replies_sent - e.before.arp.outgoing_replies_sent, 1);
        arp_env_destroy(&e);
}

/* RFC 5227 2.1.1 probe (sender 0.0.0.0) for our address: defended, not learned. */
static void test_probe_for_our_address_answered(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        uint8_t f[60];
        build_arp(f, BCAST_MAC, PEER_MAC, NS_ARP_OP_REQUEST, PEER_MAC, 0, ZERO_MAC, OUR_IP);
        inject(&e, f, sizeof(f));
        expect_arp_frame(&e, &(struct arp_expect){ .eth_dst = PEER_MAC,
                                                   .op = NS_ARP_OP_REPLY,
                                                   .spa = OUR_IP,
                                                   .tha = PEER_MAC,
                                                   .tpa = 0 });
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        arp_env_destroy(&e);
}

/* HOSTILE 72: requests for addresses we do not own get nothing (KallistiOS#200). */
static void test_request_for_other_address_not_answered(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                ns_ip4 target;
        } rows[] = {
                { "another host on the subnet", NS_IP4(192, 0, 2, 77) },
                { "the subnet broadcast", NS_IP4(192, 0, 2, 255) },
                { "the limited broadcast", NS_IP4(255, 255, 255, 255) },
                { "another subnet", NS_IP4(198, 51, 100, 1) },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct arp_env e;
                arp_env_init(&e);
                uint8_t f[60];
                build_arp(f, BCAST_MAC, PEER_MAC, NS_ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO_MAC,
                          rows[i].target);
                inject(&e, f, sizeof(f));
                if (ns_frame_channel_queued(e.fc) != 0)
                        fail_msg("row %s: answered", rows[i].name);
                struct ns_stats st = arp_stats(&e);
                assert_int_equal(st.arp.requests_received_unknown_target_address -
                                     e.before.arp.requests_received_unknown_target_address,
                                 1);
                assert_int_equal(st.arp.outgoing_replies_sent, e.before.arp.outgoing_replies_sent);
                /* Nor is the requester learned (Linux arp_accept 0). */
                assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
                arp_env_destroy(&e);
        }
}

/* HOSTILE 76: NS_ARP_QUEUE_LEN packets wait; older ones are dropped and counted. */
static void test_pending_queue_is_bounded(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        uint8_t f[128];
        for (uint16_t seq = 1; seq <= 5; seq++) {
                size_t n = build_echo_frame(f, OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, seq);
                inject(&e, f, n);
        }
        /* One request only, however many packets wait (smoltcp#68). */
        expect_request(&e, PEER_IP);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        struct ns_arp_entry ent;
        assert_int_equal(ns_arp_lookup(e.t.s, 1, PEER_IP, &ent), 0);
        assert_int_equal(ent.queued, NS_ARP_QUEUE_LEN);
        inject_peer_reply(&e, PEER_MAC);
        /* The newest three, in order (Linux drops the oldest). */
        for (uint16_t seq = 3; seq <= 5; seq++) {
                struct ns_pkt *p = expect_ipv4_frame(&e, PEER_MAC);
                const uint8_t *h = ns_pkt_data(p) + NS_ETH_HDR;
                assert_int_equal(ns_icmp4_seq(h + 20), seq);
                ns_pkt_free(p);
        }
        assert_null(ns_frame_channel_read(e.fc));
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.pending_queue_dropped - e.before.arp.pending_queue_dropped, 2);
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent, 1);
        arp_env_destroy(&e);
}

struct udp_err_log {
        int n;
        struct ns_udp_error last;
};

static void on_udp_error(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_error *err)
{
        (void)ep;
        struct udp_err_log *log = ctx;
        log->n++;
        log->last = *err;
}

/*
 * Three requests a second apart, then the seed's HandleLinkResolutionFailure:
 * ICMP host unreachable to the local sender (Linux ipv4_link_failure).
 */
static void test_unanswered_fails_with_host_unreachable(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        struct ns_udp_ep *u;
        assert_int_equal(ns_udp_open(e.t.s, &u), 0);
        struct udp_err_log log = { 0 };
        ns_udp_set_error_cb(u, on_udp_error, &log);
        assert_int_equal(ns_udp_send(u, PEER_IP, 9, "x", 1), 0);
        expect_request(&e, PEER_IP);
        /* Nothing more before the second has passed (one request a second). */
        ns_test_advance(&e.t, SEC - 1);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        assert_int_equal(ns_udp_send(u, PEER_IP, 9, "y", 1), 0);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        ns_test_advance(&e.t, 1);
        expect_request(&e, PEER_IP);
        ns_test_advance(&e.t, SEC);
        expect_request(&e, PEER_IP);
        assert_int_equal(log.n, 0);
        ns_test_advance(&e.t, SEC);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_FAILED);
        /* One host unreachable per queued datagram, delivered to the socket. */
        assert_int_equal(log.n, 2);
        assert_int_equal(log.last.err, NS_ERR_HOST_UNREACHABLE);
        assert_int_equal(log.last.icmp_type, NS_ICMP4_DEST_UNREACH);
        assert_int_equal(log.last.icmp_code, NS_ICMP4_HOST_UNREACH);
        assert_int_equal(log.last.dst, PEER_IP);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent, 3);
        assert_int_equal(st.arp.resolution_failures - e.before.arp.resolution_failures, 1);
        assert_int_equal(st.icmp.sent_dst_unreachable - e.before.icmp.sent_dst_unreachable, 2);
        /* Silence afterwards: no retransmission storm. */
        ns_test_advance(&e.t, 10 * SEC);
        assert_int_equal(ns_frame_channel_queued(e.fc), 0);
        /* A new datagram starts over (Linux), with a fresh request. */
        assert_int_equal(ns_udp_send(u, PEER_IP, 9, "z", 1), 0);
        expect_request(&e, PEER_IP);
        inject_peer_reply(&e, PEER_MAC);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        ns_udp_close(u);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        arp_env_destroy(&e);
}

/* HOSTILE 75 (lwIP bug #48477): the network never overwrites a static entry. */
static void test_static_entry_not_overwritten(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        assert_int_equal(ns_arp_add_static(e.t.s, 1, PEER_IP, PEER_MAC), 0);
        uint8_t f[60];
        /* A reply, a request for us and a gratuitous ARP, all claiming ALT_MAC. */
        build_arp(f, OUR_MAC, ALT_MAC, NS_ARP_OP_REPLY, ALT_MAC, PEER_IP, OUR_MAC, OUR_IP);
        inject(&e, f, sizeof(f));
        build_arp(f, BCAST_MAC, ALT_MAC, NS_ARP_OP_REQUEST, ALT_MAC, PEER_IP, ZERO_MAC, OUR_IP);
        inject(&e, f, sizeof(f));
        /* The request for us is still answered, to the MAC it came with. */
        expect_arp_frame(&e, &(struct arp_expect){ .eth_dst = ALT_MAC,
                                                   .op = NS_ARP_OP_REPLY,
                                                   .spa = OUR_IP,
                                                   .tha = ALT_MAC,
                                                   .tpa = PEER_IP });
        build_arp(f, BCAST_MAC, ALT_MAC, NS_ARP_OP_REQUEST, ALT_MAC, PEER_IP, ZERO_MAC, PEER_IP);
        inject(&e, f, sizeof(f));
        struct ns_arp_entry ent;
        assert_int_equal(ns_arp_lookup(e.t.s, 1, PEER_IP, &ent), 0);
        assert_int_equal(ent.state, NS_ARP_STATIC);
        assert_memory_equal(ent.mac, PEER_MAC, 6);
        /* Used at once, never probed, never expiring. */
        ns_test_advance(&e.t, 3600 * SEC);
        uint8_t ef[128];
        size_t n = build_echo_frame(ef, OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, 1);
        inject(&e, ef, n);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(ns_arp_remove(e.t.s, 1, PEER_IP), 0);
        assert_int_equal(ns_arp_lookup(e.t.s, 1, PEER_IP, &ent), NS_ERR_NOT_FOUND);
        arp_env_destroy(&e);
}

/* Makes PEER_IP reachable at PEER_MAC through a request and its answer. */
static void resolve_peer(struct arp_env *e)
{
        struct ns_udp_ep *u;
        assert_int_equal(ns_udp_open(e->t.s, &u), 0);
        assert_int_equal(ns_udp_send(u, PEER_IP, 9, "x", 1), 0);
        expect_request(e, PEER_IP);
        inject_peer_reply(e, PEER_MAC);
        ns_pkt_free(expect_ipv4_frame(e, PEER_MAC));
        ns_udp_close(u);
        assert_int_equal(arp_state(e, PEER_IP), NS_ARP_REACHABLE);
}

/*
 * HOSTILE 74 (gvisor@a6fe4d1d8, zephyr#10188, mirage-tcpip#225): a
 * gratuitous ARP, in request or reply form, updates an existing entry but
 * does not mark it reachable, and creates none.
 */
static void test_gratuitous_arp_updates_without_confirming(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                uint16_t op;
                const uint8_t *tha;
        } rows[] = {
                { "RFC 5227 request form (tha zero)", NS_ARP_OP_REQUEST, ZERO_MAC },
                { "reply form (tha = sha), broadcast", NS_ARP_OP_REPLY, ALT_MAC },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct arp_env e;
                arp_env_init(&e);
                resolve_peer(&e);
                uint8_t f[60];
                build_arp(f, BCAST_MAC, ALT_MAC, rows[i].op, ALT_MAC, PEER_IP, rows[i].tha,
                          PEER_IP);
                inject(&e, f, sizeof(f));
                /* Also one for a host we have no entry for. */
                build_arp(f, BCAST_MAC, ALT_MAC, rows[i].op, ALT_MAC, OTHER_IP, rows[i].tha,
                          OTHER_IP);
                inject(&e, f, sizeof(f));
                if (ns_frame_channel_queued(e.fc) != 0)
                        fail_msg("row %s: answered a gratuitous ARP", rows[i].name);
                struct ns_arp_entry ent;
                assert_int_equal(ns_arp_lookup(e.t.s, 1, PEER_IP, &ent), 0);
                assert_memory_equal(ent.mac, ALT_MAC, 6);
                if (ent.state != NS_ARP_STALE)
                        fail_msg("row %s: state %d, want stale", rows[i].name, ent.state);
                assert_int_equal(ns_arp_lookup(e.t.s, 1, OTHER_IP, &ent), NS_ERR_NOT_FOUND);
                arp_env_destroy(&e);
        }
}

/* A gratuitous ARP with the MAC we already have keeps the entry reachable (Linux). */
static void test_gratuitous_same_mac_keeps_reachable(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        resolve_peer(&e);
        uint8_t f[60];
        build_arp(f, BCAST_MAC, PEER_MAC, NS_ARP_OP_REQUEST, PEER_MAC, PEER_IP, ZERO_MAC, PEER_IP);
        inject(&e, f, sizeof(f));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_REACHABLE);
        arp_env_destroy(&e);
}

/* An unsolicited reply creates nothing (Linux arp_accept 0). */
static void test_unsolicited_reply_creates_nothing(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        inject_peer_reply(&e, PEER_MAC);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.replies_received - e.before.arp.replies_received, 1);
        arp_env_destroy(&e);
}

/* RFC 5227 section 3: an added address is announced, request form. */
static void test_address_added_sends_gratuitous_arp(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        ns_ip4 a = NS_IP4(192, 0, 2, 9);
        assert_int_equal(ns_nic_add_address(e.t.s, 1, (struct ns_ip4_prefix){ a, 24 }), 0);
        expect_arp_frame(&e, &(struct arp_expect){ .eth_dst = BCAST_MAC,
                                                   .op = NS_ARP_OP_REQUEST,
                                                   .spa = a,
                                                   .tha = ZERO_MAC,
                                                   .tpa = a });
        assert_null(ns_frame_channel_read(e.fc));
        arp_env_destroy(&e);
}

/* Makes PEER_IP reachable at PEER_MAC, then lets it go stale (30 s unconfirmed). */
static void stale_peer(struct arp_env *e)
{
        resolve_peer(e);
        ns_test_advance(&e->t, NS_ARP_REACHABLE_NS - 1);
        assert_int_equal(arp_state(e, PEER_IP), NS_ARP_REACHABLE);
        ns_test_advance(&e->t, 1);
        assert_int_equal(arp_state(e, PEER_IP), NS_ARP_STALE);
}

/* An echo request from the peer: our reply is a packet for PEER_IP to send. */
static void send_to_peer(struct arp_env *e, uint16_t seq)
{
        uint8_t f[128];
        size_t n = build_echo_frame(f, OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, seq);
        inject(e, f, n);
}

/* Our unicast who-has for PEER_IP, to the MAC we have (RFC 1122 2.3.2.1). */
static void expect_unicast_probe(struct arp_env *e)
{
        expect_arp_frame(e, &(struct arp_expect){ .eth_dst = PEER_MAC,
                                                  .op = NS_ARP_OP_REQUEST,
                                                  .spa = OUR_IP,
                                                  .tha = ZERO_MAC,
                                                  .tpa = PEER_IP });
}

/*
 * Linux __neigh_event_send / neigh_timer_handler: a stale entry in use goes
 * to DELAY and is used as is; only after delay_first_probe_time (5 s)
 * without confirmation does a unicast probe leave, and its answer makes
 * the entry reachable again.
 */
static void test_stale_in_use_delays_then_probes(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        stale_peer(&e);
        send_to_peer(&e, 1);
        /* The packet leaves at once to the old MAC, and nothing else does. */
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_DELAY);
        /* Used again while delayed: still as is, still no request. */
        ns_test_advance(&e.t, SEC);
        send_to_peer(&e, 2);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        ns_test_advance(&e.t, NS_ARP_DELAY_FIRST_PROBE_NS - SEC - 1);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_DELAY);
        /* Five seconds after the first use: PROBE, one unicast request. */
        ns_test_advance(&e.t, 1);
        expect_unicast_probe(&e);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_PROBE);
        inject_peer_reply(&e, PEER_MAC);
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_REACHABLE);
        struct ns_stats st = arp_stats(&e);
        /* The resolution's broadcast request and the one probe. */
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent, 2);
        /* Stale and unused: gone after the GC time. */
        ns_test_advance(&e.t, NS_ARP_REACHABLE_NS);
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_STALE);
        ns_test_advance(&e.t, NS_ARP_GC_STALE_NS);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        assert_null(ns_frame_channel_read(e.fc));
        arp_env_destroy(&e);
}

/* A reply from the neighbour while delayed confirms it: no probe at all (Linux neigh_update). */
static void test_delay_confirmed_without_probe(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        stale_peer(&e);
        send_to_peer(&e, 1);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_DELAY);
        ns_test_advance(&e.t, NS_ARP_DELAY_FIRST_PROBE_NS - SEC);
        inject_peer_reply(&e, PEER_MAC);
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_REACHABLE);
        /* Well past the probe time and within reachable_time: silence. */
        ns_test_advance(&e.t, 10 * SEC);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_REACHABLE);
        struct ns_stats st = arp_stats(&e);
        /* Only the resolution's broadcast request ever left. */
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent, 1);
        arp_env_destroy(&e);
}

/*
 * Only a unicast reply confirms (Linux arp_process): a broadcast reply
 * with the MAC we have is "stale" news, which leaves a DELAY entry as it
 * is (neigh_update keeps the state), so the probe still leaves at 5 s.
 */
static void test_delay_not_confirmed_by_broadcast_reply(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        stale_peer(&e);
        send_to_peer(&e, 1);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        uint8_t f[60];
        build_arp(f, BCAST_MAC, PEER_MAC, NS_ARP_OP_REPLY, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
        inject(&e, f, sizeof(f));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_DELAY);
        ns_test_advance(&e.t, NS_ARP_DELAY_FIRST_PROBE_NS);
        expect_unicast_probe(&e);
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_PROBE);
        arp_env_destroy(&e);
}

/*
 * A probe nobody answers: from 5 s after the use, three unicast requests a
 * second apart (ucast_solicit 3, retrans_time 1 s), then FAILED. The
 * packets sent meanwhile left with the old MAC, so none is queued and no
 * host unreachable is due (Linux neigh_invalidate reports only the queue).
 */
static void test_unanswered_probe_fails(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        stale_peer(&e);
        send_to_peer(&e, 1);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        assert_null(ns_frame_channel_read(e.fc));
        ns_test_advance(&e.t, NS_ARP_DELAY_FIRST_PROBE_NS);
        expect_unicast_probe(&e);
        /* Still used as is while probing. */
        send_to_peer(&e, 2);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        for (int i = 0; i < 2; i++) {
                ns_test_advance(&e.t, SEC - 1);
                assert_null(ns_frame_channel_read(e.fc));
                ns_test_advance(&e.t, 1);
                expect_unicast_probe(&e);
                assert_null(ns_frame_channel_read(e.fc));
                assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_PROBE);
        }
        ns_test_advance(&e.t, SEC);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_FAILED);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.resolution_failures - e.before.arp.resolution_failures, 1);
        /* One broadcast request to resolve, three probes. */
        assert_int_equal(st.arp.outgoing_requests_sent - e.before.arp.outgoing_requests_sent, 4);
        assert_int_equal(st.icmp.sent_dst_unreachable, e.before.icmp.sent_dst_unreachable);
        /* The old MAC is no longer used: the next packet waits for a broadcast request. */
        send_to_peer(&e, 3);
        expect_request(&e, PEER_IP);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_INCOMPLETE);
        arp_env_destroy(&e);
}

/*
 * Link down (Linux neigh_ifdown on NETDEV_DOWN): every neighbour goes,
 * static ones included, and the packets waiting for one are freed and
 * counted, with no timer left to fire. Enabled again, the cache starts
 * over with a broadcast request.
 */
static void test_disable_flushes_neighbours(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        const ns_ip4 static_ip = NS_IP4(192, 0, 2, 4);
        assert_int_equal(ns_arp_add_static(e.t.s, 1, static_ip, ALT_MAC), 0);
        resolve_peer(&e); /* REACHABLE */
        struct ns_udp_ep *u;
        assert_int_equal(ns_udp_open(e.t.s, &u), 0);
        struct udp_err_log log = { 0 };
        ns_udp_set_error_cb(u, on_udp_error, &log);
        assert_int_equal(ns_udp_send(u, OTHER_IP, 9, "a", 1), 0);
        assert_int_equal(ns_udp_send(u, OTHER_IP, 9, "b", 1), 0);
        expect_request(&e, OTHER_IP);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, OTHER_IP), NS_ARP_INCOMPLETE);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 3);
        struct ns_stats mid = arp_stats(&e);

        assert_int_equal(ns_nic_disable(e.t.s, 1), 0);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        /* The two queued datagrams: freed and counted, nothing reported or sent. */
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        struct ns_stats st = arp_stats(&e);
        assert_int_equal(st.arp.pending_queue_dropped - mid.arp.pending_queue_dropped, 2);
        /* No timer survives: no retransmission attempt, no failure, no ICMP. */
        ns_test_advance(&e.t, NS_ARP_GC_STALE_NS);
        assert_null(ns_frame_channel_read(e.fc));
        st = arp_stats(&e);
        assert_int_equal(st.arp.outgoing_requests_dropped, mid.arp.outgoing_requests_dropped);
        assert_int_equal(st.arp.resolution_failures, mid.arp.resolution_failures);
        assert_int_equal(st.icmp.sent_dst_unreachable, mid.icmp.sent_dst_unreachable);
        assert_int_equal(log.n, 0);

        assert_int_equal(ns_nic_enable(e.t.s, 1), 0);
        ns_frame_channel_drain(e.fc);
        assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
        /* The peer was reachable before: now it is resolved afresh, by broadcast. */
        assert_int_equal(ns_udp_send(u, PEER_IP, 9, "c", 1), 0);
        expect_request(&e, PEER_IP);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(arp_state(&e, PEER_IP), NS_ARP_INCOMPLETE);
        inject_peer_reply(&e, PEER_MAC);
        ns_pkt_free(expect_ipv4_frame(&e, PEER_MAC));
        /* The static entry went with the rest: its address is resolved
         * like any other, until it is added again. */
        assert_int_equal(ns_udp_send(u, static_ip, 9, "d", 1), 0);
        expect_request(&e, static_ip);
        assert_null(ns_frame_channel_read(e.fc));
        assert_int_equal(ns_arp_add_static(e.t.s, 1, static_ip, ALT_MAC), 0);
        ns_pkt_free(expect_ipv4_frame(&e, ALT_MAC));
        assert_null(ns_frame_channel_read(e.fc));
        ns_udp_close(u);
        assert_int_equal(ns_test_packets_in_use(&e.t), 0);
        arp_env_destroy(&e);
}

/* RFC 1112 6.4 and broadcasts: the MAC follows from the address, no ARP. */
static void test_broadcast_and_multicast_need_no_arp(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                ns_ip4 dst;
                uint8_t mac[6];
        } rows[] = {
                { "limited broadcast",
                  NS_IP4(255, 255, 255, 255),
                  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
                { "subnet broadcast",
                  NS_IP4(192, 0, 2, 255),
                  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
                { "multicast, low 23 bits",
                  NS_IP4(239, 129, 2, 3),
                  { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 } },
                { "all-systems", NS_IP4(224, 0, 0, 1), { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct arp_env e;
                arp_env_init(&e);
                struct ns_udp_ep *u;
                assert_int_equal(ns_udp_open(e.t.s, &u), 0);
                assert_int_equal(ns_udp_bind(u, OUR_IP, 0, 1), 0);
                int err = ns_udp_send(u, rows[i].dst, 9, "b", 1);
                if (err)
                        fail_msg("row %s: send %s", rows[i].name, ns_strerror(err));
                struct ns_pkt *p = expect_ipv4_frame(&e, rows[i].mac);
                ns_pkt_free(p);
                assert_null(ns_frame_channel_read(e.fc));
                assert_int_equal(ns_arp_entries(e.t.s, 1, NULL, 0), 0);
                ns_udp_close(u);
                arp_env_destroy(&e);
        }
}

/* Off-link destinations resolve the gateway, not the destination. */
static void test_gateway_is_resolved(void **state)
{
        (void)state;
        struct arp_env e;
        arp_env_init(&e);
        struct ns_route_entry r = { .dst = { NS_IP4(198, 51, 100, 0), 24 },
                                    .gateway = PEER_IP,
                                    .nic_id = 1 };
        assert_int_equal(ns_route_add(e.t.s, &r), 0);
        struct ns_udp_ep *u;
        assert_int_equal(ns_udp_open(e.t.s, &u), 0);
        assert_int_equal(ns_udp_send(u, NS_IP4(198, 51, 100, 7), 9, "g", 1), 0);
        expect_request(&e, PEER_IP);
        inject_peer_reply(&e, PEER_MAC);
        struct ns_pkt *p = expect_ipv4_frame(&e, PEER_MAC);
        assert_int_equal(ns_ipv4_dst(ns_pkt_data(p) + NS_ETH_HDR), NS_IP4(198, 51, 100, 7));
        ns_pkt_free(p);
        ns_udp_close(u);
        arp_env_destroy(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_echo_from_unknown_peer_resolves),
                cmocka_unit_test(test_request_for_us_answered_every_field),
                cmocka_unit_test(test_probe_for_our_address_answered),
                cmocka_unit_test(test_request_for_other_address_not_answered),
                cmocka_unit_test(test_pending_queue_is_bounded),
                cmocka_unit_test(test_unanswered_fails_with_host_unreachable),
                cmocka_unit_test(test_static_entry_not_overwritten),
                cmocka_unit_test(test_gratuitous_arp_updates_without_confirming),
                cmocka_unit_test(test_gratuitous_same_mac_keeps_reachable),
                cmocka_unit_test(test_unsolicited_reply_creates_nothing),
                cmocka_unit_test(test_address_added_sends_gratuitous_arp),
                cmocka_unit_test(test_stale_in_use_delays_then_probes),
                cmocka_unit_test(test_delay_confirmed_without_probe),
                cmocka_unit_test(test_delay_not_confirmed_by_broadcast_reply),
                cmocka_unit_test(test_unanswered_probe_fails),
                cmocka_unit_test(test_disable_flushes_neighbours),
                cmocka_unit_test(test_broadcast_and_multicast_need_no_arp),
                cmocka_unit_test(test_gateway_is_resolved),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
