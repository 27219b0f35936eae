/*
 * UDP endpoints over channel NICs (RFC 768, RFC 1122 4.1): datagrams in
 * built byte by byte, datagrams out checked field by field, counters after.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include <netstack/udp.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };

#define US   NS_IP4(192, 0, 2, 1)
#define PEER NS_IP4(192, 0, 2, 2)
#define US2  NS_IP4(198, 51, 100, 1)

/* How build_udp() fills the checksum field. */
enum csum_mode { CSUM_GOOD, CSUM_ZERO, CSUM_BAD };

/*
 * Writes an IPv4+UDP datagram to buf; ulen_field 0 means the true length.
 * Extra bytes after the payload (not counted in the UDP length) come from
 * pad. Returns the total length.
 */
static size_t build_udp_ex(uint8_t *buf, ns_ip4 src, ns_ip4 dst, uint16_t sport, uint16_t dport,
                           const void *payload, size_t plen, enum csum_mode mode,
                           uint16_t ulen_field, size_t pad)
{
        uint8_t *u = buf + 20;
        memcpy(u + 8, payload, plen);
        memset(u + 8 + plen, 0xee, pad);
        size_t ulen = 8 + plen;
        assert_int_equal(ns_udp_emit_datagram(u, ulen, sport, dport, src, dst), 8);
        if (mode == CSUM_ZERO)
                ns_udp_set_checksum(u, 0);
        else if (mode == CSUM_BAD)
                ns_udp_set_checksum(u, (uint16_t)(ns_udp_checksum(u) ^ 0x5a5a));
        if (ulen_field)
                ns_udp_set_length(u, ulen_field);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + ulen + pad),
                                    .id = 99,
                                    .ttl = 64,
                                    .proto = 17,
                                    .src = src,
                                    .dst = dst };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        return 20 + ulen + pad;
}

static size_t build_udp(uint8_t *buf, ns_ip4 src, ns_ip4 dst, uint16_t sport, uint16_t dport,
                        const char *text)
{
        return build_udp_ex(buf, src, dst, sport, dport, text, strlen(text), CSUM_GOOD, 0, 0);
}

static void inject(struct ns_test_env *env, uint32_t nic, const uint8_t *buf, size_t n)
{
        assert_int_equal(ns_channel_inject_bytes(env->ch[nic], 0x0800, buf, (uint32_t)n), 0);
}

/* What a receive callback saw. */
struct rx_log {
        int count;
        struct ns_udp_datagram last;
        uint8_t data[256];
        bool close_self;
};

static void on_recv(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        struct rx_log *log = ctx;
        log->count++;
        log->last = *d;
        memcpy(log->data, d->data, d->len < sizeof(log->data) ? d->len : sizeof(log->data));
        if (log->close_self)
                ns_udp_close(ep);
}

struct err_log {
        int count;
        struct ns_udp_error last;
};

static void on_error(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_error *e)
{
        (void)ep;
        struct err_log *log = ctx;
        log->count++;
        log->last = *e;
}

static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, US, 24);
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

static struct ns_udp_ep *open_reuse(struct ns_test_env *env, ns_ip4 addr, uint16_t port,
                                    uint32_t nic, struct rx_log *log, bool reuse)
{
        struct ns_udp_ep *ep;
        assert_int_equal(ns_udp_open(env->s, &ep), 0);
        ns_udp_set_reuse_addr(ep, reuse);
        assert_int_equal(ns_udp_bind(ep, addr, port, nic), 0);
        if (log)
                ns_udp_set_recv_cb(ep, on_recv, log);
        return ep;
}

static struct ns_udp_ep *open_bound(struct ns_test_env *env, ns_ip4 addr, uint16_t port,
                                    uint32_t nic, struct rx_log *log)
{
        return open_reuse(env, addr, port, nic, log, false);
}

static struct ns_stats stats(struct ns_test_env *env)
{
        struct ns_stats st;
        ns_stack_get_stats(env->s, &st);
        return st;
}

/* Checks an outgoing datagram field by field; returns its IP ID. */
static uint16_t expect_udp(struct ns_pkt *r, ns_ip4 src, ns_ip4 dst, uint16_t sport, uint16_t dport,
                           const char *text, uint8_t ttl)
{
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        size_t plen = strlen(text);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, 20));
        assert_int_equal(ns_pkt_len(r), 20 + 8 + plen);
        assert_int_equal(ns_ipv4_proto(h), 17);
        assert_int_equal(ns_ipv4_ttl(h), ttl);
        assert_int_equal(ns_ipv4_src(h), src);
        assert_int_equal(ns_ipv4_dst(h), dst);
        const uint8_t *u = h + 20;
        assert_int_equal(ns_udp_src_port(u), sport);
        assert_int_equal(ns_udp_dst_port(u), dport);
        assert_int_equal(ns_udp_length(u), 8 + plen);
        assert_memory_equal(u + 8, text, plen);
        /* The checksum from scratch: pseudo-header plus datagram sums to all ones. */
        assert_int_not_equal(ns_udp_checksum(u), 0);
        uint8_t pseudo[12];
        ns_store_be32(pseudo, src);
        ns_store_be32(pseudo + 4, dst);
        pseudo[8] = 0;
        pseudo[9] = 17;
        ns_store_be16(pseudo + 10, (uint16_t)(8 + plen));
        uint32_t sum = 0;
        for (size_t i = 0; i < 12; i += 2)
                sum += ns_load_be16(pseudo + i);
        for (size_t i = 0; i < 8 + plen; i += 2)
                sum += (uint32_t)(u[i] << 8) | (i + 1 < 8 + plen ? u[i + 1] : 0);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        assert_int_equal(sum, 0xffff);
        return ns_ipv4_id(h);
}

static void test_send_fields(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_udp_ep *ep = open_bound(&env, NS_IP4_ANY, 4000, 0, NULL);
        assert_int_equal(ns_udp_send(ep, PEER, 53, "hello", 5), 0);
        assert_int_equal(ns_udp_send(ep, PEER, 53, "world!", 6), 0);
        struct ns_pkt *a = ns_channel_read(env.ch[1]);
        struct ns_pkt *b = ns_channel_read(env.ch[1]);
        uint16_t id1 = expect_udp(a, US, PEER, 4000, 53, "hello", 64);
        uint16_t id2 = expect_udp(b, US, PEER, 4000, 53, "world!", 64);
        assert_int_not_equal(id1, id2);
        ns_pkt_free(a);
        ns_pkt_free(b);
        /* A set TTL and TOS are used; -1 restores the default. */
        assert_int_equal(ns_udp_set_ttl(ep, 7), 0);
        ns_udp_set_tos(ep, 0x10);
        assert_int_equal(ns_udp_send(ep, PEER, 53, "x", 1), 0);
        struct ns_pkt *c = ns_channel_read(env.ch[1]);
        expect_udp(c, US, PEER, 4000, 53, "x", 7);
        assert_int_equal(ns_ipv4_tos(ns_pkt_data(c)), 0x10);
        ns_pkt_free(c);
        assert_int_equal(ns_udp_set_ttl(ep, 0), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_udp_set_ttl(ep, -1), 0);
        assert_int_equal(ns_udp_send(ep, PEER, 53, "y", 1), 0);
        c = ns_channel_read(env.ch[1]);
        expect_udp(c, US, PEER, 4000, 53, "y", 64);
        ns_pkt_free(c);
        /* An empty datagram is fine too. */
        assert_int_equal(ns_udp_send(ep, PEER, 53, NULL, 0), 0);
        c = ns_channel_read(env.ch[1]);
        expect_udp(c, US, PEER, 4000, 53, "", 64);
        ns_pkt_free(c);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.packets_sent, 5);
        assert_int_equal(st.udp.packet_send_errors, 0);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_send_errors(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_udp_ep *ep;
        assert_int_equal(ns_udp_open(env.s, &ep), 0);
        assert_int_equal(ns_udp_send(ep, NS_IP4_ANY, 0, "a", 1), NS_ERR_NOT_CONNECTED);
        assert_int_equal(ns_udp_send(ep, PEER, 0, "a", 1), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_udp_send(ep, PEER, 9, NULL, 3), NS_ERR_INVALID_ARGUMENT);
        static uint8_t big[65508];
        assert_int_equal(ns_udp_send(ep, PEER, 9, big, sizeof(big)), NS_ERR_MESSAGE_TOO_LONG);
        /* No route to 203.0.113.9: an error returned and counted. */
        int err = ns_udp_send(ep, NS_IP4(203, 0, 113, 9), 9, "a", 1);
        assert_true(err == NS_ERR_NO_ROUTE || err == NS_ERR_NETWORK_UNREACHABLE);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.packet_send_errors, 1);
        assert_int_equal(st.udp.packets_sent, 0);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_receive_round_trip(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log log = { 0 };
        struct ns_udp_ep *ep = open_bound(&env, NS_IP4_ANY, 7000, 0, &log);
        uint8_t buf[256];
        size_t n = build_udp(buf, PEER, US, 1234, 7000, "ping!");
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.src, PEER);
        assert_int_equal(log.last.dst, US);
        assert_int_equal(log.last.src_port, 1234);
        assert_int_equal(log.last.dst_port, 7000);
        assert_int_equal(log.last.nic_id, 1);
        assert_int_equal(log.last.ttl, 64);
        assert_false(log.last.broadcast);
        assert_int_equal(log.last.ip_hdr_len, 20);
        assert_int_equal(log.last.len, 5);
        assert_memory_equal(log.data, "ping!", 5);
        /* Answer to the sender, as an echo server would. */
        assert_int_equal(ns_udp_send(ep, log.last.src, log.last.src_port, "pong", 4), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        expect_udp(r, US, PEER, 7000, 1234, "pong", 64);
        ns_pkt_free(r);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.packets_received, 1);
        assert_int_equal(st.udp.unknown_port_errors, 0);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_ephemeral_ports(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_udp_ep *a = open_bound(&env, NS_IP4_ANY, 0, 0, NULL);
        struct ns_udp_ep *b = open_bound(&env, US, 0, 0, NULL);
        uint16_t pa, pb;
        ns_ip4 la;
        ns_udp_local(a, &la, &pa);
        ns_udp_local(b, NULL, &pb);
        assert_int_equal(la, NS_IP4_ANY);
        assert_in_range(pa, NS_UDP_EPHEMERAL_FIRST, NS_UDP_EPHEMERAL_LAST);
        assert_in_range(pb, NS_UDP_EPHEMERAL_FIRST, NS_UDP_EPHEMERAL_LAST);
        assert_int_not_equal(pa, pb);
        /* Sending from an unbound endpoint binds it to an ephemeral port. */
        struct ns_udp_ep *c;
        assert_int_equal(ns_udp_open(env.s, &c), 0);
        uint16_t pc;
        ns_udp_local(c, NULL, &pc);
        assert_int_equal(pc, 0);
        assert_int_equal(ns_udp_send(c, PEER, 9, "a", 1), 0);
        ns_udp_local(c, NULL, &pc);
        assert_in_range(pc, NS_UDP_EPHEMERAL_FIRST, NS_UDP_EPHEMERAL_LAST);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_int_equal(ns_udp_src_port(ns_pkt_data(r) + 20), pc);
        ns_pkt_free(r);
        /* Binding twice is refused. */
        assert_int_equal(ns_udp_bind(c, NS_IP4_ANY, 5555, 0), NS_ERR_INVALID_ENDPOINT_STATE);
        ns_udp_close(a);
        ns_udp_close(b);
        ns_udp_close(c);
        teardown(&env);
}

static void test_port_in_use(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        ns_test_add_nic(&env, 2, 1500, US2, 24);
        struct ns_udp_ep *a = open_bound(&env, NS_IP4_ANY, 5000, 0, NULL);
        struct ns_udp_ep *b;
        assert_int_equal(ns_udp_open(env.s, &b), 0);
        assert_int_equal(ns_udp_bind(b, NS_IP4_ANY, 5000, 0), NS_ERR_PORT_IN_USE);
        assert_int_equal(ns_udp_bind(b, US, 5000, 0), NS_ERR_PORT_IN_USE);
        assert_int_equal(ns_udp_bind(b, US, 5000, 1), NS_ERR_PORT_IN_USE);
        assert_int_equal(ns_udp_bind(b, NS_IP4(203, 0, 113, 1), 5001, 0), NS_ERR_BAD_LOCAL_ADDRESS);
        assert_int_equal(ns_udp_bind(b, US2, 5001, 1), NS_ERR_BAD_LOCAL_ADDRESS);
        assert_int_equal(ns_udp_bind(b, NS_IP4_ANY, 5001, 9), NS_ERR_UNKNOWN_NIC);
        /* SO_REUSEADDR on one side only is not enough. */
        ns_udp_set_reuse_addr(b, true);
        assert_int_equal(ns_udp_bind(b, NS_IP4_ANY, 5000, 0), NS_ERR_PORT_IN_USE);
        ns_udp_set_reuse_addr(b, false);
        /* Two specific addresses on one port do not overlap. */
        assert_int_equal(ns_udp_bind(b, US, 5001, 0), 0);
        struct ns_udp_ep *c = open_bound(&env, US2, 5001, 0, NULL);
        /* Closing frees the port. */
        ns_udp_close(a);
        struct ns_udp_ep *d = open_bound(&env, NS_IP4_ANY, 5000, 0, NULL);
        ns_udp_close(b);
        ns_udp_close(c);
        ns_udp_close(d);
        teardown(&env);
}

static void test_nic_bound_endpoints_demux(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        ns_test_add_nic(&env, 2, 1500, US2, 24);
        struct rx_log l1 = { 0 }, l2 = { 0 };
        struct ns_udp_ep *a = open_bound(&env, NS_IP4_ANY, 6000, 1, &l1);
        struct ns_udp_ep *b = open_bound(&env, NS_IP4_ANY, 6000, 2, &l2);
        uint8_t buf[128];
        size_t n = build_udp(buf, NS_IP4(198, 51, 100, 7), US2, 1, 6000, "two");
        inject(&env, 2, buf, n);
        assert_int_equal(l1.count, 0);
        assert_int_equal(l2.count, 1);
        assert_int_equal(l2.last.nic_id, 2);
        n = build_udp(buf, PEER, US, 1, 6000, "one");
        inject(&env, 1, buf, n);
        assert_int_equal(l1.count, 1);
        assert_int_equal(l2.count, 1);
        ns_udp_close(a);
        ns_udp_close(b);
        teardown(&env);
}

static void test_connect(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log log = { 0 };
        struct ns_udp_ep *ep;
        assert_int_equal(ns_udp_open(env.s, &ep), 0);
        ns_udp_set_recv_cb(ep, on_recv, &log);
        assert_int_equal(ns_udp_connect(ep, PEER, 0), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_udp_connect(ep, PEER, 53), 0);
        ns_ip4 local;
        uint16_t port;
        ns_udp_local(ep, &local, &port);
        /* Linux: connect binds an ephemeral port and fixes the route's source. */
        assert_int_equal(local, US);
        assert_in_range(port, NS_UDP_EPHEMERAL_FIRST, NS_UDP_EPHEMERAL_LAST);
        assert_int_equal(ns_udp_send(ep, NS_IP4_ANY, 0, "q", 1), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        expect_udp(r, US, PEER, port, 53, "q", 64);
        ns_pkt_free(r);
        uint8_t buf[128];
        /* From the peer: taken. From another port or host: not ours (port unreachable). */
        size_t n = build_udp(buf, PEER, US, 53, port, "a");
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 1);
        n = build_udp(buf, PEER, US, 54, port, "b");
        inject(&env, 1, buf, n);
        n = build_udp(buf, NS_IP4(192, 0, 2, 3), US, 53, port, "c");
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(stats(&env).udp.unknown_port_errors, 2);
        ns_test_drain_all(&env);
        /* Disconnected: anyone may send again. */
        assert_int_equal(ns_udp_connect(ep, NS_IP4_ANY, 0), 0);
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 2);
        assert_int_equal(ns_udp_send(ep, NS_IP4_ANY, 0, "q", 1), NS_ERR_NOT_CONNECTED);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_checksum_error_counted(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log log = { 0 };
        struct ns_udp_ep *ep = open_bound(&env, NS_IP4_ANY, 7000, 0, &log);
        uint8_t buf[128];
        size_t n = build_udp_ex(buf, PEER, US, 1, 7000, "data", 4, CSUM_BAD, 0, 0);
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 0);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.checksum_errors, 1);
        assert_int_equal(st.udp.malformed_packets_received, 1);
        assert_int_equal(st.udp.packets_received, 0);
        /* A bad datagram is dropped silently: no ICMP. */
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_zero_checksum_accepted(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log log = { 0 };
        struct ns_udp_ep *ep = open_bound(&env, NS_IP4_ANY, 7000, 0, &log);
        uint8_t buf[128];
        size_t n = build_udp_ex(buf, PEER, US, 1, 7000, "nocsum", 6, CSUM_ZERO, 0, 0);
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 1);
        assert_memory_equal(log.data, "nocsum", 6);
        assert_int_equal(stats(&env).udp.checksum_errors, 0);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_length_field(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log log = { 0 };
        struct ns_udp_ep *ep = open_bound(&env, NS_IP4_ANY, 7000, 0, &log);
        uint8_t buf[128];
        /* Padding after the UDP length is trimmed (the checksum covers 8 + 5 bytes). */
        size_t n = build_udp_ex(buf, PEER, US, 1, 7000, "hello", 5, CSUM_GOOD, 0, 7);
        inject(&env, 1, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.len, 5);
        /* A length field beyond the bytes present: malformed. */
        n = build_udp_ex(buf, PEER, US, 1, 7000, "hello", 5, CSUM_ZERO, 8 + 6, 0);
        inject(&env, 1, buf, n);
        /* A length field below the header size: malformed. */
        n = build_udp_ex(buf, PEER, US, 1, 7000, "hello", 5, CSUM_ZERO, 7, 0);
        inject(&env, 1, buf, n);
        /* Fewer than 8 bytes of UDP: malformed. */
        struct ns_ipv4_fields f = {
                .total_len = 20 + 5, .id = 1, .ttl = 64, .proto = 17, .src = PEER, .dst = US
        };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        memcpy(buf + 20, "\x00\x01\x1b\x58\x00", 5);
        inject(&env, 1, buf, 25);
        assert_int_equal(log.count, 1);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.malformed_packets_received, 3);
        assert_int_equal(st.udp.packets_received, 1);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_port_unreachable(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        uint8_t buf[128];
        size_t n = build_udp(buf, PEER, US, 4321, 9999, "anyone?");
        inject(&env, 1, buf, n);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_proto(h), 1);
        assert_int_equal(ns_ipv4_src(h), US);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        const uint8_t *icmp = h + ns_ipv4_hdr_len(h);
        size_t ilen = ns_pkt_len(r) - ns_ipv4_hdr_len(h);
        assert_int_equal(ns_icmp4_type(icmp), NS_ICMP4_DEST_UNREACH);
        assert_int_equal(ns_icmp4_code(icmp), NS_ICMP4_PORT_UNREACH);
        assert_true(ns_icmp4_checksum_ok(icmp, ilen));
        /* The quote: our datagram's IP header and (at least) its UDP header. */
        const uint8_t *q = icmp + 8;
        assert_true(ilen >= 8 + 20 + 8);
        assert_int_equal(ns_ipv4_src(q), PEER);
        assert_int_equal(ns_ipv4_dst(q), US);
        assert_int_equal(ns_ipv4_proto(q), 17);
        assert_int_equal(ns_udp_src_port(q + 20), 4321);
        assert_int_equal(ns_udp_dst_port(q + 20), 9999);
        ns_pkt_free(r);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.unknown_port_errors, 1);
        assert_int_equal(st.icmp.sent_dst_unreachable, 1);
        teardown(&env);
}

static void test_broadcast(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        uint8_t buf[128];
        /* No endpoint: counted, but RFC 1122 4.1.3.1 forbids the port unreachable. */
        size_t n = build_udp(buf, PEER, NS_IP4(192, 0, 2, 255), 68, 6767, "b");
        inject(&env, 1, buf, n);
        n = build_udp(buf, PEER, NS_IP4_BROADCAST, 68, 6767, "b");
        inject(&env, 1, buf, n);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        assert_int_equal(stats(&env).udp.unknown_port_errors, 2);
        /* Every wildcard endpoint on the port gets one; one bound to a unicast address not. */
        struct rx_log l1 = { 0 }, l2 = { 0 }, l3 = { 0 };
        struct ns_udp_ep *a = open_reuse(&env, NS_IP4_ANY, 6767, 1, &l1, true);
        struct ns_udp_ep *b = open_reuse(&env, NS_IP4_BROADCAST, 6767, 0, &l2, true);
        struct ns_udp_ep *c = open_bound(&env, US, 6768, 0, &l3);
        n = build_udp(buf, PEER, NS_IP4_BROADCAST, 68, 6767, "all");
        inject(&env, 1, buf, n);
        n = build_udp(buf, PEER, NS_IP4(192, 0, 2, 255), 68, 6768, "subnet");
        inject(&env, 1, buf, n);
        assert_int_equal(l1.count, 1);
        assert_int_equal(l2.count, 1);
        assert_true(l1.last.broadcast);
        assert_memory_equal(l2.data, "all", 3);
        assert_int_equal(l3.count, 0);
        assert_int_equal(stats(&env).udp.packets_received, 2);
        /* The subnet broadcast to 6768 matches nobody (c is bound to a unicast address). */
        assert_int_equal(stats(&env).udp.unknown_port_errors, 3);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        ns_udp_close(a);
        ns_udp_close(b);
        ns_udp_close(c);
        teardown(&env);
}

static void test_multicast(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        const ns_ip4 group = NS_IP4(239, 1, 2, 3);
        struct rx_log l1 = { 0 }, l2 = { 0 };
        struct ns_udp_ep *a = open_reuse(&env, NS_IP4_ANY, 5353, 0, &l1, true);
        uint8_t buf[128];
        size_t n = build_udp(buf, PEER, group, 5353, 5353, "m");
        /* Not joined: the IP layer drops it. */
        inject(&env, 1, buf, n);
        assert_int_equal(l1.count, 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, group), 0);
        struct ns_udp_ep *b = open_reuse(&env, group, 5353, 0, &l2, true);
        inject(&env, 1, buf, n);
        assert_int_equal(l1.count, 1);
        assert_int_equal(l2.count, 1);
        assert_true(l2.last.broadcast);
        assert_int_equal(l2.last.dst, group);
        /* Sending: TTL 1 by default, and looped back to our own members. */
        ns_test_drain_all(&env);
        struct ns_udp_ep *tx = open_bound(&env, NS_IP4_ANY, 0, 0, NULL);
        assert_int_equal(ns_udp_set_multicast_nic(tx, 1), 0);
        assert_int_equal(ns_udp_set_multicast_nic(tx, 7), NS_ERR_UNKNOWN_NIC);
        assert_int_equal(ns_udp_send(tx, group, 5353, "hi", 2), 0);
        uint16_t txport;
        ns_udp_local(tx, NULL, &txport);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        expect_udp(r, US, group, txport, 5353, "hi", 1);
        ns_pkt_free(r);
        assert_int_equal(l1.count, 2);
        assert_int_equal(l2.count, 2);
        assert_memory_equal(l1.data, "hi", 2);
        /* Loop off: only the wire copy; a set multicast TTL is used. */
        ns_udp_set_multicast_loop(tx, false);
        assert_int_equal(ns_udp_set_multicast_ttl(tx, 5), 0);
        assert_int_equal(ns_udp_send(tx, group, 5353, "hi", 2), 0);
        r = ns_channel_read(env.ch[1]);
        expect_udp(r, US, group, txport, 5353, "hi", 5);
        ns_pkt_free(r);
        assert_int_equal(l1.count, 2);
        ns_udp_close(a);
        ns_udp_close(b);
        ns_udp_close(tx);
        teardown(&env);
}

/* Builds an ICMP error from router about a datagram we sent (its first bytes in orig). */
static size_t build_icmp_error(uint8_t *buf, ns_ip4 from, uint8_t type, uint8_t code, uint32_t rest,
                               const uint8_t *orig, size_t orig_len)
{
        size_t m = ns_icmp4_emit_error(buf + 20, 576, type, code, rest, orig, orig_len);
        assert_true(m > 0);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + m),
                                    .id = 5,
                                    .ttl = 64,
                                    .proto = 1,
                                    .src = from,
                                    .dst = US };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        return 20 + m;
}

static void test_icmp_errors_reach_right_endpoint(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct err_log ea = { 0 }, eb = { 0 };
        struct ns_udp_ep *a = open_bound(&env, NS_IP4_ANY, 4001, 0, NULL);
        struct ns_udp_ep *b = open_bound(&env, NS_IP4_ANY, 4002, 0, NULL);
        ns_udp_set_error_cb(a, on_error, &ea);
        ns_udp_set_error_cb(b, on_error, &eb);
        assert_int_equal(ns_udp_send(a, PEER, 53, "from a", 6), 0);
        assert_int_equal(ns_udp_send(b, PEER, 53, "from b", 6), 0);
        struct ns_pkt *pa = ns_channel_read(env.ch[1]);
        struct ns_pkt *pb = ns_channel_read(env.ch[1]);
        uint8_t buf[700];
        size_t n = build_icmp_error(buf, PEER, NS_ICMP4_DEST_UNREACH, NS_ICMP4_PORT_UNREACH, 0,
                                    ns_pkt_data(pa), 28);
        inject(&env, 1, buf, n);
        assert_int_equal(ea.count, 1);
        assert_int_equal(eb.count, 0);
        assert_int_equal(ea.last.err, NS_ERR_CONNECTION_REFUSED);
        assert_int_equal(ea.last.icmp_type, 3);
        assert_int_equal(ea.last.icmp_code, 3);
        assert_int_equal(ea.last.src, US);
        assert_int_equal(ea.last.dst, PEER);
        assert_int_equal(ea.last.src_port, 4001);
        assert_int_equal(ea.last.dst_port, 53);
        assert_int_equal(ea.last.nic_id, 1);
        /* Fragmentation needed with an MTU, from a router, about b's datagram. */
        n = build_icmp_error(buf, NS_IP4(192, 0, 2, 254), NS_ICMP4_DEST_UNREACH,
                             NS_ICMP4_FRAG_NEEDED, ns_icmp4_rest_mtu(1400), ns_pkt_data(pb),
                             ns_pkt_len(pb));
        inject(&env, 1, buf, n);
        assert_int_equal(ea.count, 1);
        assert_int_equal(eb.count, 1);
        assert_int_equal(eb.last.err, NS_ERR_MESSAGE_TOO_LONG);
        assert_int_equal(eb.last.mtu, 1400);
        assert_int_equal(eb.last.src_port, 4002);
        /* Host unreachable quoting a port nobody has: nobody hears. */
        ns_udp_set_src_port(ns_pkt_data(pb) + 20, 4003);
        n = build_icmp_error(buf, PEER, NS_ICMP4_DEST_UNREACH, NS_ICMP4_HOST_UNREACH, 0,
                             ns_pkt_data(pb), 28);
        inject(&env, 1, buf, n);
        assert_int_equal(ea.count + eb.count, 2);
        ns_pkt_free(pa);
        ns_pkt_free(pb);
        ns_udp_close(a);
        ns_udp_close(b);
        teardown(&env);
}

static void test_loopback_to_own_address(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log log = { 0 };
        struct ns_udp_ep *rx = open_bound(&env, US, 8080, 0, &log);
        struct ns_udp_ep *tx = open_bound(&env, NS_IP4_ANY, 0, 0, NULL);
        assert_int_equal(ns_udp_send(tx, US, 8080, "self", 4), 0);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.src, US);
        assert_int_equal(log.last.dst, US);
        assert_memory_equal(log.data, "self", 4);
        uint16_t txport;
        ns_udp_local(tx, NULL, &txport);
        assert_int_equal(log.last.src_port, txport);
        /* To a closed local port: the error comes back to the sender. */
        struct err_log el = { 0 };
        ns_udp_set_error_cb(tx, on_error, &el);
        assert_int_equal(ns_udp_send(tx, US, 8081, "x", 1), 0);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        assert_int_equal(el.count, 1);
        assert_int_equal(el.last.err, NS_ERR_CONNECTION_REFUSED);
        ns_udp_close(rx);
        ns_udp_close(tx);
        teardown(&env);
}

static void test_recv_queue(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_udp_ep *ep = open_bound(&env, NS_IP4_ANY, 7000, 0, NULL);
        uint8_t buf[128], out[16];
        struct ns_udp_datagram info;
        assert_int_equal(ns_udp_recv(ep, out, sizeof(out), &info), NS_ERR_WOULD_BLOCK);
        size_t n = build_udp(buf, PEER, US, 1111, 7000, "first");
        inject(&env, 1, buf, n);
        n = build_udp(buf, PEER, US, 2222, 7000, "second, a longer one");
        inject(&env, 1, buf, n);
        assert_int_equal(ns_udp_recv(ep, out, sizeof(out), &info), 5);
        assert_memory_equal(out, "first", 5);
        assert_int_equal(info.src_port, 1111);
        assert_int_equal(info.src, PEER);
        assert_int_equal(info.nic_id, 1);
        /* Truncated to the buffer; len tells the whole size. */
        assert_int_equal(ns_udp_recv(ep, out, 6, &info), 6);
        assert_memory_equal(out, "second", 6);
        assert_int_equal(info.len, 20);
        assert_int_equal(ns_udp_recv(ep, out, sizeof(out), NULL), NS_ERR_WOULD_BLOCK);
        /* A full queue drops and counts. */
        ns_udp_set_rcvbuf(ep, 1);
        inject(&env, 1, buf, n);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.udp.receive_buffer_errors, 1);
        assert_int_equal(st.udp.packets_received, 2);
        /* Queued datagrams are freed on close. */
        ns_udp_set_rcvbuf(ep, NS_UDP_DEFAULT_RCVBUF);
        inject(&env, 1, buf, n);
        ns_udp_close(ep);
        teardown(&env);
}

static void test_close_in_callback(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct rx_log l1 = { .close_self = true }, l2 = { .close_self = true };
        struct ns_udp_ep *a = open_reuse(&env, NS_IP4_ANY, 6000, 0, &l1, true);
        (void)a;
        struct ns_udp_ep *b = open_reuse(&env, NS_IP4_BROADCAST, 6000, 0, &l2, true);
        (void)b;
        uint8_t buf[128];
        size_t n = build_udp(buf, PEER, NS_IP4_BROADCAST, 1, 6000, "bye");
        inject(&env, 1, buf, n);
        inject(&env, 1, buf, n);
        assert_int_equal(l1.count, 1);
        assert_int_equal(l2.count, 1);
        /* Endpoints left open are freed by the module (ASan checks). */
        struct ns_udp_ep *c = open_bound(&env, NS_IP4_ANY, 6001, 0, NULL);
        (void)c;
        n = build_udp(buf, PEER, US, 1, 6001, "queued");
        inject(&env, 1, buf, n);
        assert_int_equal(ns_test_packets_in_use(&env), 1);
        ns_test_env_destroy(&env);
}

static void test_module_needs_ipv4(void **state)
{
        (void)state;
        static const struct ns_module *const only_udp[] = { &ns_module_udp, NULL };
        struct ns_stack_config cfg;
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        ns_stack_config_init(&cfg);
        ns_manual_clock_init(&clock, 0, 0);
        ns_seeded_rng_init(&rng, 1);
        cfg.clock = ns_manual_clock_as_clock(&clock);
        cfg.rng = ns_seeded_rng_as_rng(&rng);
        cfg.modules = only_udp;
        struct ns_stack *s = NULL;
        assert_int_equal(ns_stack_create(&cfg, &s), NS_ERR_INVALID_ENDPOINT_STATE);
        struct ns_udp_ep *ep;
        assert_int_equal(ns_udp_open(NULL, &ep), NS_ERR_INVALID_ENDPOINT_STATE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_send_fields),
                cmocka_unit_test(test_send_errors),
                cmocka_unit_test(test_receive_round_trip),
                cmocka_unit_test(test_ephemeral_ports),
                cmocka_unit_test(test_port_in_use),
                cmocka_unit_test(test_nic_bound_endpoints_demux),
                cmocka_unit_test(test_connect),
                cmocka_unit_test(test_checksum_error_counted),
                cmocka_unit_test(test_zero_checksum_accepted),
                cmocka_unit_test(test_length_field),
                cmocka_unit_test(test_port_unreachable),
                cmocka_unit_test(test_broadcast),
                cmocka_unit_test(test_multicast),
                cmocka_unit_test(test_icmp_errors_reach_right_endpoint),
                cmocka_unit_test(test_loopback_to_own_address),
                cmocka_unit_test(test_recv_queue),
                cmocka_unit_test(test_close_in_callback),
                cmocka_unit_test(test_module_needs_ipv4),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
