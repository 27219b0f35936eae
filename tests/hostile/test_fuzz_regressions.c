/*
 * Byte-vector regression tests for what the fuzz targets (tests/fuzz/)
 * found, one test per finding, each named after it and replaying the
 * exact input, then checking a legitimate exchange still works.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/ipv4.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

#define OUR  NS_IP4(192, 0, 2, 1)
#define PEER NS_IP4(192, 0, 2, 2)

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, OUR, 24);
}

/* Reads the one packet sent on NIC 1 into buf; returns its length. */
static size_t read_one(struct ns_test_env *env, uint8_t *buf, size_t cap)
{
        assert_int_equal(ns_channel_queued(env->ch[1]), 1);
        struct ns_pkt *p = ns_channel_read(env->ch[1]);
        size_t n = ns_pkt_len(p);
        assert_true(n <= cap);
        memcpy(buf, ns_pkt_data(p), n);
        ns_pkt_free(p);
        return n;
}

/*
 * fuzz_icmp4, first finding: an echo request whose words are all zero but
 * type and checksum (id 0, seq 0, zero data; here with 3 odd data bytes,
 * the fuzzer's input "08 00 f7 ff 00*7") got a reply with checksum 0x0000
 * from the RFC 1624 patch, which no receiver accepts: the right one is
 * 0xffff. Every data length from 0 to 9 is checked.
 */
static void test_fuzz_icmp4_all_zero_echo_reply_checksum(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        for (uint32_t data_len = 0; data_len < 10; data_len++) {
                uint8_t icmp[32] = { NS_ICMP4_ECHO, 0 };
                ns_icmp4_fill_checksum(icmp, 8 + data_len);
                assert_int_equal(ns_icmp4_checksum(icmp), 0xf7ff);
                uint8_t pkt[64];
                size_t n = ipv4_build(pkt, sizeof(pkt),
                                      &(struct ipv4_spec){ .src = PEER,
                                                           .dst = OUR,
                                                           .proto = NS_IPV4_PROTO_ICMP,
                                                           .payload = icmp,
                                                           .payload_len = 8 + data_len });
                assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, pkt, (uint32_t)n), 0);
                uint8_t out[64];
                size_t m = read_one(&env, out, sizeof(out));
                assert_int_equal(m, n);
                const uint8_t *reply = out + ns_ipv4_hdr_len(out);
                assert_int_equal(ns_icmp4_type(reply), NS_ICMP4_ECHO_REPLY);
                if (!ns_icmp4_checksum_ok(reply, 8 + data_len))
                        fail_msg("%u data bytes: reply checksum %04x", data_len,
                                 ns_icmp4_checksum(reply));
                assert_int_equal(ns_icmp4_checksum(reply), 0xffff);
        }
        /* An ordinary echo is still answered with a right checksum. */
        uint8_t icmp[64];
        size_t il = icmp_echo_build(icmp, sizeof(icmp), 0x4242, 7, 32);
        uint8_t pkt[128];
        size_t n = ipv4_build(pkt, sizeof(pkt),
                              &(struct ipv4_spec){ .src = PEER,
                                                   .dst = OUR,
                                                   .proto = NS_IPV4_PROTO_ICMP,
                                                   .payload = icmp,
                                                   .payload_len = (uint32_t)il });
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, pkt, (uint32_t)n), 0);
        uint8_t out[128];
        size_t m = read_one(&env, out, sizeof(out));
        assert_true(ns_icmp4_checksum_ok(out + ns_ipv4_hdr_len(out), m - ns_ipv4_hdr_len(out)));
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fuzz_icmp4_all_zero_echo_reply_checksum),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
