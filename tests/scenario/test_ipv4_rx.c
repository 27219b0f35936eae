/*
 * IPv4 receive scenarios over the channel link: the header cases of the
 * seed's TestIPv4Sanity that are not about options, the broadcast rules of
 * TestExcludeBroadcast and RFC 1122 3.2.1.3, and every receive drop. Each
 * row gives the packet in, the packet out (or none) and exactly which
 * counters moved.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/ipv4.h>

#include "core/filter.h"
#include "ipv4/ipv4.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL  NS_IP4(192, 168, 1, 58)
#define BCAST  NS_IP4(192, 168, 1, 255)
#define REMOTE NS_IP4(10, 0, 0, 1)
#define PROTO  253 /* RFC 3692 experimental: the capture handler */

/* The seed's TestIPv4Sanity stack: one NIC, 192.168.1.58/24, a default route. */
static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, LOCAL, 24);
        struct ns_route_entry r = { .nic_id = 1 };
        assert_int_equal(ns_route_add(env->s, &r), 0);
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

static void inject(struct ns_test_env *env, uint32_t nic, const struct ipv4_spec *spec)
{
        uint8_t buf[2048];
        size_t n = ipv4_build(buf, sizeof(buf), spec);
        assert_int_equal(ns_channel_inject_bytes(env->ch[nic], 0x0800, buf, (uint32_t)n), 0);
}

/* ---- TestIPv4Sanity, header rows ------------------------------------- */

enum reply { REPLY_NONE, REPLY_ECHO, REPLY_ERROR };

struct sanity_row {
        const char *name;
        uint8_t ihl;
        bool bad_checksum;
        bool force_total_len;
        uint16_t total_len;
        uint8_t version;
        uint8_t proto;
        uint8_t ttl;
        uint32_t pad;
        enum reply reply;
        uint8_t icmp_type, icmp_code;
        const char *deltas;
};

#define ECHO_OK                                                                     \
        "ip.packets_received=1 ip.valid_packets_received=1 ip.packets_delivered=1 " \
        "ip.packets_sent=1 "                                                        \
        "icmp.received_total=1 icmp.received_echo_request=1 icmp.sent_total=1 "     \
        "icmp.sent_echo_reply=1"
#define MALFORMED "ip.packets_received=1 ip.malformed_packets_received=1"

static const struct sanity_row sanity_rows[] = {
        { .name = "valid no options",
          .proto = 1,
          .ttl = 255,
          .reply = REPLY_ECHO,
          .deltas = ECHO_OK },
        /* RFC 1071: the header must sum to all ones. */
        { .name = "bad header checksum",
          .proto = 1,
          .ttl = 255,
          .bad_checksum = true,
          .deltas = MALFORMED " ip.checksum_errors_received=1" },
        /* RFC 1122 3.2.1.7: a host MUST NOT discard a datagram for TTL < 2. */
        { .name = "zero TTL", .proto = 1, .ttl = 0, .reply = REPLY_ECHO, .deltas = ECHO_OK },
        { .name = "one TTL", .proto = 1, .ttl = 1, .reply = REPLY_ECHO, .deltas = ECHO_OK },
        /* RFC 791 3.1: IHL is at least 5. */
        { .name = "bad header length (IHL 4)",
          .ihl = 4,
          .proto = 1,
          .ttl = 255,
          .deltas = MALFORMED },
        { .name = "header length past the packet (IHL 15)",
          .ihl = 15,
          .proto = 1,
          .ttl = 255,
          .deltas = MALFORMED },
        { .name = "bad total length (0)",
          .force_total_len = true,
          .total_len = 0,
          .proto = 1,
          .ttl = 255,
          .deltas = MALFORMED },
        { .name = "bad total length (ip - 1)",
          .force_total_len = true,
          .total_len = 19,
          .proto = 1,
          .ttl = 255,
          .deltas = MALFORMED },
        /* A valid IP datagram whose 7-byte ICMP message is too short (RFC 792). */
        { .name = "bad total length (ip + icmp - 1)",
          .force_total_len = true,
          .total_len = 27,
          .proto = 1,
          .ttl = 255,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=1 ip.packets_delivered=1 "
                    "icmp.received_total=1 "
                    "icmp.received_invalid=1" },
        /* Total Length beyond the bytes received: Linux InTruncatedPkts. */
        { .name = "total length past the bytes (ip + icmp + 1)",
          .force_total_len = true,
          .total_len = 29,
          .proto = 1,
          .ttl = 255,
          .deltas = MALFORMED " ip.truncated_packets_received=1" },
        { .name = "version 6", .version = 6, .proto = 1, .ttl = 255, .deltas = MALFORMED },
        /* HOSTILE-INPUTS A.3: link padding past Total Length is trimmed. */
        { .name = "link padding trimmed",
          .proto = 1,
          .ttl = 64,
          .pad = 18,
          .reply = REPLY_ECHO,
          .deltas = ECHO_OK },
        /* RFC 1122 3.2.2.1: code 2 when the protocol is not supported. */
        { .name = "bad protocol",
          .proto = 99,
          .ttl = 255,
          .reply = REPLY_ERROR,
          .icmp_type = 3,
          .icmp_code = 2,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=1 ip.packets_delivered=1 "
                    "ip.unknown_protocol_received=1 ip.packets_sent=1 icmp.sent_total=1 "
                    "icmp.sent_dst_unreachable=1" },
};

static void run_sanity_row(const struct sanity_row *row)
{
        print_message("row: %s\n", row->name);
        struct ns_test_env env;
        setup(&env);
        uint8_t icmp[8];
        icmp_echo_build(icmp, sizeof(icmp), 42, 123, 0);
        struct ipv4_spec spec = { .src = REMOTE,
                                  .dst = LOCAL,
                                  .proto = row->proto,
                                  .ttl = row->ttl,
                                  .payload = icmp,
                                  .payload_len = sizeof(icmp),
                                  .ihl = row->ihl,
                                  .force_total_len = row->force_total_len,
                                  .total_len = row->total_len,
                                  .version = row->version,
                                  .bad_checksum = row->bad_checksum,
                                  .pad = row->pad };
        uint8_t orig[64];
        size_t orig_len = ipv4_build(orig, sizeof(orig), &spec);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, orig, (uint32_t)orig_len), 0);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, row->deltas);

        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        if (row->reply == REPLY_NONE) {
                assert_null(r);
                teardown(&env);
                return;
        }
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        uint32_t len = ns_pkt_len(r);
        assert_int_equal(ns_ipv4_validate(h, len), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
        assert_int_equal(ns_ipv4_src(h), LOCAL);
        assert_int_equal(ns_ipv4_dst(h), REMOTE);
        assert_int_equal(ns_ipv4_hdr_len(h), 20);
        assert_int_equal(ns_ipv4_proto(h), 1);
        assert_int_equal(ns_ipv4_ttl(h), 64);
        assert_true(ns_icmp4_checksum_ok(h + 20, len - 20));
        if (row->reply == REPLY_ECHO) {
                assert_int_equal(len, 28); /* padding is not echoed */
                assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_ECHO_REPLY);
                assert_int_equal(ns_icmp4_code(h + 20), 0);
                assert_int_equal(ns_icmp4_id(h + 20), 42);
                assert_int_equal(ns_icmp4_seq(h + 20), 123);
        } else {
                /* The whole offending datagram is quoted (RFC 1812 4.3.2.3). */
                assert_int_equal(len, 20 + 8 + 28);
                assert_int_equal(ns_icmp4_type(h + 20), row->icmp_type);
                assert_int_equal(ns_icmp4_code(h + 20), row->icmp_code);
                assert_memory_equal(h + 28, orig, 28);
        }
        ns_pkt_free(r);
        assert_null(ns_channel_read(env.ch[1]));
        teardown(&env);
}

static void test_sanity_header_rows(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(sanity_rows) / sizeof(sanity_rows[0]); i++)
                run_sanity_row(&sanity_rows[i]);
}

/* ---- addresses: TestExcludeBroadcast and RFC 1122 3.2.1.3 ------------ */

struct addr_row {
        const char *name;
        ns_ip4 src, dst;
        bool delivered;
        bool local_bcast; /* NS_PKT_F_LOCAL_BCAST on the delivered packet */
        const char *deltas;
};

#define DELIVERED "ip.packets_received=1 ip.valid_packets_received=1 ip.packets_delivered=1"

static const struct addr_row addr_rows[] = {
        { .name = "unicast to us",
          .src = REMOTE,
          .dst = LOCAL,
          .delivered = true,
          .deltas = DELIVERED },
        { .name = "limited broadcast 255.255.255.255 received",
          .src = REMOTE,
          .dst = NS_IP4_BROADCAST,
          .delivered = true,
          .local_bcast = true,
          .deltas = DELIVERED " ip.broadcast_packets_received=1" },
        { .name = "subnet broadcast received",
          .src = REMOTE,
          .dst = BCAST,
          .delivered = true,
          .local_bcast = true,
          .deltas = DELIVERED " ip.broadcast_packets_received=1" },
        { .name = "all-systems multicast received",
          .src = REMOTE,
          .dst = NS_IP4_ALL_SYSTEMS,
          .delivered = true,
          .deltas = DELIVERED " ip.multicast_packets_received=1" },
        { .name = "group not joined",
          .src = REMOTE,
          .dst = NS_IP4(239, 1, 2, 3),
          .deltas = "ip.packets_received=1 ip.valid_packets_received=1 "
                    "ip.invalid_destination_addresses_received=1" },
        /* RFC 1122 3.2.1.3: never a broadcast or multicast source. */
        { .name = "limited broadcast source (caught as our own address, as the seed)",
          .src = NS_IP4_BROADCAST,
          .dst = LOCAL,
          .deltas = "ip.packets_received=1 "
                    "ip.invalid_source_addresses_received=1" },
        { .name = "multicast source",
          .src = NS_IP4(224, 0, 0, 5),
          .dst = LOCAL,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=1 "
                    "ip.invalid_source_addresses_received=1" },
        { .name = "subnet broadcast source",
          .src = BCAST,
          .dst = LOCAL,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=1 "
                    "ip.invalid_source_addresses_received=1" },
        /* Our own address arriving on a real link (Linux fib_validate_source). */
        { .name = "own address as source",
          .src = LOCAL,
          .dst = LOCAL,
          .deltas = "ip.packets_received=1 "
                    "ip.invalid_source_addresses_received=1" },
        /* RFC 1122 3.2.1.3: 127/8 never appears outside a host. */
        { .name = "loopback source on a real link",
          .src = NS_IP4(127, 0, 0, 1),
          .dst = LOCAL,
          .deltas = "ip.packets_received=1 ip.martian_loopback_dropped=1" },
        { .name = "loopback destination on a real link",
          .src = REMOTE,
          .dst = NS_IP4(127, 0, 0, 1),
          .deltas = "ip.packets_received=1 ip.martian_loopback_dropped=1" },
        /* Not ours and forwarding off. */
        { .name = "another host's address",
          .src = REMOTE,
          .dst = NS_IP4(192, 168, 1, 77),
          .deltas = "ip.packets_received=1 ip.valid_packets_received=1 "
                    "ip.invalid_destination_addresses_received=1" },
};

static void test_address_rows(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(addr_rows) / sizeof(addr_rows[0]); i++) {
                const struct addr_row *row = &addr_rows[i];
                print_message("row: %s\n", row->name);
                struct ns_test_env env;
                setup(&env);
                struct capture cap;
                capture_register(env.s, PROTO, &cap);
                uint8_t payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
                struct ipv4_spec spec = { .src = row->src,
                                          .dst = row->dst,
                                          .proto = PROTO,
                                          .ttl = 64,
                                          .payload = payload,
                                          .payload_len = 8 };
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                inject(&env, 1, &spec);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after, row->deltas);
                assert_int_equal(cap.count, row->delivered ? 1 : 0);
                if (row->delivered) {
                        assert_int_equal(cap.last_nic, 1);
                        assert_int_equal(cap.last_len, 8);
                        assert_memory_equal(cap.last, payload, 8);
                        assert_int_equal((cap.last_flags & NS_PKT_F_LOCAL_BCAST) != 0,
                                         row->local_bcast);
                }
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                teardown(&env);
        }
}

/* ---- echo to broadcast (Linux icmp_echo_ignore_broadcasts) ------------- */

static void echo_to(struct ns_test_env *env, ns_ip4 dst)
{
        uint8_t icmp[16];
        icmp_echo_build(icmp, sizeof(icmp), 7, 9, 8);
        struct ipv4_spec spec = {
                .src = REMOTE, .dst = dst, .proto = 1, .ttl = 64, .payload = icmp, .payload_len = 16
        };
        inject(env, 1, &spec);
}

static void test_echo_to_broadcast_ignored_by_default(void **state)
{
        (void)state;
        const ns_ip4 dsts[] = { NS_IP4_BROADCAST, BCAST, NS_IP4_ALL_SYSTEMS };
        for (size_t i = 0; i < 3; i++) {
                struct ns_test_env env;
                setup(&env);
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                echo_to(&env, dsts[i]);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after,
                              i < 2 ? DELIVERED " ip.broadcast_packets_received=1 "
                                                "icmp.received_total=1 icmp.received_echo_request=1"
                                    : DELIVERED
                                  " ip.multicast_packets_received=1 "
                                  "icmp.received_total=1 icmp.received_echo_request=1");
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                teardown(&env);
        }
}

static void test_echo_to_broadcast_answered_from_unicast(void **state)
{
        (void)state;
        const ns_ip4 dsts[] = { NS_IP4_BROADCAST, BCAST, NS_IP4_ALL_SYSTEMS };
        for (size_t i = 0; i < 3; i++) {
                struct ns_test_env env;
                setup(&env);
                assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_ECHO_IGNORE_BROADCASTS, 0),
                                 0);
                echo_to(&env, dsts[i]);
                struct ns_pkt *r = ns_channel_read(env.ch[1]);
                assert_non_null(r);
                const uint8_t *h = ns_pkt_data(r);
                /* RFC 1122 3.2.1.3: the reply's source is one of our unicast addresses. */
                assert_int_equal(ns_ipv4_src(h), LOCAL);
                assert_int_equal(ns_ipv4_dst(h), REMOTE);
                assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_ECHO_REPLY);
                assert_int_equal(ns_pkt_len(r), 20 + 16);
                ns_pkt_free(r);
                teardown(&env);
        }
}

/* ---- other drops ------------------------------------------------------- */

static void test_disabled_endpoint_counts(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        /* The seed's endpoint.Disable() with the NIC still up. */
        struct ns_ipv4 *p = ns__ipv4_of(env.s);
        struct ns_nic *nic = ns__nic_get(env.s, 1);
        const struct ns_netproto *np = &env.s->netprotos[p->slot];
        np->nic_disable(np->ctx, nic, p->slot);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        echo_to(&env, LOCAL);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, "ip.packets_received=1 ip.disabled_packets_received=1");
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        /* Enabled again, the same packet is answered. */
        assert_int_equal(np->nic_enable(np->ctx, nic, p->slot), 0);
        echo_to(&env, LOCAL);
        assert_int_equal(ns_channel_queued(env.ch[1]), 1);
        teardown(&env);
}

/*
 * Linux ip_rcv_core checks the header checksum before PREROUTING and the
 * martian-source checks; the seed checks it after them. A corrupted packet
 * from one of our own addresses counts as a checksum error.
 */
static void test_checksum_checked_before_martians(void **state)
{
        (void)state;
        const ns_ip4 srcs[] = { LOCAL, NS_IP4(127, 0, 0, 1) };
        const char *good[] = { "ip.packets_received=1 ip.invalid_source_addresses_received=1",
                               "ip.packets_received=1 ip.martian_loopback_dropped=1" };
        for (size_t i = 0; i < 2; i++) {
                for (int bad = 0; bad < 2; bad++) {
                        struct ns_test_env env;
                        setup(&env);
                        struct ipv4_spec spec = { .src = srcs[i],
                                                  .dst = LOCAL,
                                                  .proto = PROTO,
                                                  .ttl = 64,
                                                  .bad_checksum = bad != 0 };
                        struct ns_stats before, after;
                        ns_stack_get_stats(env.s, &before);
                        inject(&env, 1, &spec);
                        ns_stack_get_stats(env.s, &after);
                        expect_deltas(&before, &after,
                                      bad ? "ip.packets_received=1 "
                                            "ip.checksum_errors_received=1 "
                                            "ip.malformed_packets_received=1"
                                          : good[i]);
                        teardown(&env);
                }
        }
}

/* The seed drops an empty fragment as malformed (and as a malformed fragment). */
static void test_empty_fragment_is_malformed(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ipv4_spec spec = {
                .src = REMOTE, .dst = LOCAL, .proto = PROTO, .ttl = 64, .flags = NS_IPV4_FLAG_MF
        };
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        inject(&env, 1, &spec);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after,
                      MALFORMED " ip.valid_packets_received=1 ip.malformed_fragments_received=1");
        teardown(&env);
}

static enum ns_verdict drop_all(void *ctx, struct ns_pkt *pkt, const struct ns_filter_info *info)
{
        (void)pkt;
        (void)info;
        (*(int *)ctx)++;
        return NS_VERDICT_DROP;
}

static void test_prerouting_and_input_drops(void **state)
{
        (void)state;
        const struct {
                enum ns_hook hook;
                const char *deltas;
        } rows[] = {
                { NS_HOOK_PREROUTING, "ip.packets_received=1 ip.iptables_prerouting_dropped=1" },
                { NS_HOOK_INPUT,
                  "ip.packets_received=1 ip.valid_packets_received=1 ip.iptables_input_dropped=1" },
        };
        for (size_t i = 0; i < 2; i++) {
                struct ns_test_env env;
                setup(&env);
                int calls = 0;
                assert_int_equal(
                    ns__filter_set_hook(&env.s->filter, rows[i].hook, drop_all, &calls), 0);
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                echo_to(&env, LOCAL);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after, rows[i].deltas);
                assert_int_equal(calls, 1);
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                teardown(&env);
        }
}

/* A rule drops only the packets it matches; the rest are answered. */
static void test_input_rule_drops_some(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_filter_rule rule = { .src = { NS_IP4(10, 0, 0, 9), 32 },
                                       .action = NS_FILTER_DROP };
        assert_int_equal(ns__filter_add_rule(&env.s->filter, NS_HOOK_INPUT, &rule, NULL), 0);
        uint8_t icmp[8];
        icmp_echo_build(icmp, sizeof(icmp), 1, 1, 0);
        struct ipv4_spec a = { .src = REMOTE,
                               .dst = LOCAL,
                               .proto = 1,
                               .ttl = 64,
                               .payload = icmp,
                               .payload_len = 8 };
        struct ipv4_spec b = a;
        b.src = NS_IP4(10, 0, 0, 9);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        inject(&env, 1, &a);
        inject(&env, 1, &b);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after,
                      "ip.packets_received=2 ip.valid_packets_received=2 "
                      "ip.iptables_input_dropped=1 ip.packets_delivered=1 "
                      "ip.packets_sent=1 icmp.received_total=1 icmp.received_echo_request=1 "
                      "icmp.sent_total=1 icmp.sent_echo_reply=1");
        assert_int_equal(ns_channel_queued(env.ch[1]), 1);
        teardown(&env);
}

/* Options seen on delivered packets are counted by kind (RFC 791 3.1). */
static void test_option_counters(void **state)
{
        (void)state;
        static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };
        static const uint8_t ts[12] = { 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        static const uint8_t unknown[4] = { 0x5e, 4, 0, 0 };
        const struct {
                const char *name;
                const uint8_t *opt;
                uint8_t len;
                const char *deltas;
        } rows[] = {
                { "record route", rr, 8, DELIVERED " ip.option_record_route_received=1" },
                { "timestamp", ts, 12, DELIVERED " ip.option_timestamp_received=1" },
                { "unknown option", unknown, 4, DELIVERED " ip.option_unknown_received=1" },
        };
        for (size_t i = 0; i < 3; i++) {
                print_message("row: %s\n", rows[i].name);
                struct ns_test_env env;
                setup(&env);
                struct capture cap;
                capture_register(env.s, PROTO, &cap);
                uint8_t payload[4] = { 9, 9, 9, 9 };
                struct ipv4_spec spec = { .src = REMOTE,
                                          .dst = LOCAL,
                                          .proto = PROTO,
                                          .ttl = 64,
                                          .options = rows[i].opt,
                                          .options_len = rows[i].len,
                                          .payload = payload,
                                          .payload_len = 4 };
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                inject(&env, 1, &spec);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after, rows[i].deltas);
                assert_int_equal(cap.count, 1);
                assert_int_equal(cap.last_len, 4);
                teardown(&env);
        }
}

/* A transport with no endpoint for the port: ICMP 3/3, not counted as unknown protocol. */
static void test_port_unreachable(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct capture cap;
        capture_register(env.s, PROTO, &cap);
        cap.port_unreachable = true;
        uint8_t payload[8] = { 0 };
        struct ipv4_spec spec = { .src = REMOTE,
                                  .dst = LOCAL,
                                  .proto = PROTO,
                                  .ttl = 64,
                                  .payload = payload,
                                  .payload_len = 8 };
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        inject(&env, 1, &spec);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after,
                      DELIVERED " ip.packets_sent=1 icmp.sent_total=1 icmp.sent_dst_unreachable=1");
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        assert_int_equal(ns_icmp4_type(ns_pkt_data(r) + 20), 3);
        assert_int_equal(ns_icmp4_code(ns_pkt_data(r) + 20), 3);
        ns_pkt_free(r);
        teardown(&env);
}

/* The seed's forwardPacket: forwarded with TTL-1, or dropped at FORWARD. */
static void test_forward_and_forward_drop(void **state)
{
        (void)state;
        for (int drop = 0; drop < 2; drop++) {
                struct ns_test_env env;
                setup(&env);
                ns_test_add_nic(&env, 2, 1500, NS_IP4(198, 51, 100, 1), 24);
                assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
                int calls = 0;
                if (drop)
                        assert_int_equal(
                            ns__filter_set_hook(&env.s->filter, NS_HOOK_FORWARD, drop_all, &calls),
                            0);
                uint8_t payload[8] = { 0 };
                struct ipv4_spec spec = { .src = REMOTE,
                                          .dst = NS_IP4(198, 51, 100, 7),
                                          .proto = PROTO,
                                          .ttl = 9,
                                          .payload = payload,
                                          .payload_len = 8 };
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                inject(&env, 1, &spec);
                ns_stack_get_stats(env.s, &after);
                if (drop) {
                        expect_deltas(&before, &after,
                                      "ip.packets_received=1 ip.valid_packets_received=1 "
                                      "ip.iptables_forward_dropped=1");
                        assert_int_equal(ns_channel_queued(env.ch[2]), 0);
                } else {
                        expect_deltas(&before, &after,
                                      "ip.packets_received=1 ip.valid_packets_received=1 "
                                      "ip.forwarded=1 ip.packets_sent=1");
                        struct ns_pkt *p = ns_channel_read(env.ch[2]);
                        assert_non_null(p);
                        assert_int_equal(ns_ipv4_ttl(ns_pkt_data(p)), 8);
                        assert_true(ns_ipv4_checksum_ok(ns_pkt_data(p), 20));
                        ns_pkt_free(p);
                }
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                teardown(&env);
        }
}

/* ---- per-NIC and stack counters, two stacks ---------------------------- */

static void test_nic_and_stack_counters_both_move(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        ns_test_add_nic(&env, 2, 1500, NS_IP4(198, 51, 100, 1), 24);
        echo_to(&env, LOCAL);
        struct ipv4_spec bad = { .src = REMOTE,
                                 .dst = NS_IP4(198, 51, 100, 1),
                                 .proto = 1,
                                 .ttl = 64,
                                 .bad_checksum = true };
        inject(&env, 2, &bad);
        struct ns_stats s, n1, n2;
        ns_stack_get_stats(env.s, &s);
        assert_int_equal(ns_nic_get_stats(env.s, 1, &n1), 0);
        assert_int_equal(ns_nic_get_stats(env.s, 2, &n2), 0);
        assert_int_equal(n1.ip.packets_received, 1);
        assert_int_equal(n1.ip.packets_delivered, 1);
        assert_int_equal(n1.ip.packets_sent, 1);
        assert_int_equal(n1.ip.malformed_packets_received, 0);
        assert_int_equal(n2.ip.packets_received, 1);
        assert_int_equal(n2.ip.malformed_packets_received, 1);
        assert_int_equal(n2.ip.checksum_errors_received, 1);
        assert_int_equal(n2.ip.packets_delivered, 0);
        assert_int_equal(s.ip.packets_received, 2);
        assert_int_equal(s.ip.packets_delivered, 1);
        assert_int_equal(s.ip.malformed_packets_received, 1);
        assert_int_equal(s.icmp.sent_echo_reply, 1);
        assert_int_equal(n1.icmp.sent_echo_reply, 1);
        /* The stack's totals keep what a removed NIC counted. */
        assert_int_equal(ns_nic_remove(env.s, 2), 0);
        struct ns_stats after;
        ns_stack_get_stats(env.s, &after);
        assert_memory_equal(&after.ip, &s.ip, sizeof(s.ip));
        assert_int_equal(after.nic.rx_packets, s.nic.rx_packets);
        assert_int_equal(after.nic.rx_packets, 2);
        /* NIC 2 itself is gone. */
        assert_int_equal(ns_nic_get_stats(env.s, 2, &n2), NS_ERR_UNKNOWN_NIC);
        teardown(&env);
}

static void test_two_stacks_do_not_interfere(void **state)
{
        (void)state;
        struct ns_test_env a, b;
        setup(&a);
        setup(&b);
        assert_int_equal(ns_ipv4_set_param(b.s, NS_IPV4_PARAM_DEFAULT_TTL, 7), 0);
        echo_to(&a, LOCAL);
        echo_to(&a, LOCAL);
        echo_to(&b, LOCAL);
        struct ns_stats sa, sb;
        ns_stack_get_stats(a.s, &sa);
        ns_stack_get_stats(b.s, &sb);
        assert_int_equal(sa.ip.packets_received, 2);
        assert_int_equal(sb.ip.packets_received, 1);
        assert_int_equal(ns_channel_queued(a.ch[1]), 2);
        assert_int_equal(ns_channel_queued(b.ch[1]), 1);
        struct ns_pkt *ra = ns_channel_read(a.ch[1]);
        struct ns_pkt *rb = ns_channel_read(b.ch[1]);
        assert_int_equal(ns_ipv4_ttl(ns_pkt_data(ra)), 64);
        assert_int_equal(ns_ipv4_ttl(ns_pkt_data(rb)), 7);
        ns_pkt_free(ra);
        ns_pkt_free(rb);
        teardown(&a);
        teardown(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sanity_header_rows),
                cmocka_unit_test(test_address_rows),
                cmocka_unit_test(test_echo_to_broadcast_ignored_by_default),
                cmocka_unit_test(test_echo_to_broadcast_answered_from_unicast),
                cmocka_unit_test(test_disabled_endpoint_counts),
                cmocka_unit_test(test_empty_fragment_is_malformed),
                cmocka_unit_test(test_prerouting_and_input_drops),
                cmocka_unit_test(test_input_rule_drops_some),
                cmocka_unit_test(test_option_counters),
                cmocka_unit_test(test_port_unreachable),
                cmocka_unit_test(test_forward_and_forward_drop),
                cmocka_unit_test(test_nic_and_stack_counters_both_move),
                cmocka_unit_test(test_checksum_checked_before_martians),
                cmocka_unit_test(test_two_stacks_do_not_interfere),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
