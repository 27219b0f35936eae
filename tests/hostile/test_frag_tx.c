/*
 * HOSTILE-INPUTS.md items 47 and 48 on the send path: link MTUs below what
 * IPv4 allows, MTUs that are not a multiple of 8, and a sweep of MTUs and
 * datagram sizes through ns__ipv4_write_packet checking that fragments
 * never pass the MTU, offsets are contiguous, only the last has MF clear
 * and the payload comes back whole (lwIP PR #64, gvisor@58a3c2d44).
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/err.h>
#include <netstack/ipv4.h>

#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL  NS_IP4(192, 0, 2, 1)
#define REMOTE NS_IP4(192, 0, 2, 9)

static int send_one(struct ns_test_env *env, uint32_t len)
{
        struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(env->s), NS_IPV4_TX_HEADROOM, len);
        assert_non_null(pkt);
        uint8_t *d = ns_pkt_put(pkt, len);
        for (uint32_t i = 0; i < len; i++)
                d[i] = (uint8_t)(i ^ (i >> 8));
        struct ns_path path;
        assert_int_equal(ns__stack_find_route(env->s, 0, NS_IP4_ANY, REMOTE, false, &path), 0);
        const struct ns_ipv4_params params = { .proto = 17, .ttl = 64 };
        int err = ns__ipv4_write_packet(ns__ipv4_of(env->s), &path, &params, pkt);
        ns__path_release(&path);
        return err;
}

/* Reads what was sent and checks it against a len-byte payload. */
static void check_fragments(struct ns_test_env *env, uint32_t mtu, uint32_t len)
{
        uint32_t next = 0, count = 0;
        uint16_t id = 0;
        bool last_seen = false;
        struct ns_pkt *p;
        while ((p = ns_channel_read(env->ch[1])) != NULL) {
                const uint8_t *h = ns_pkt_data(p);
                uint32_t plen = ns_pkt_len(p);
                if (ns_ipv4_validate(h, plen) != NS_IPV4_VALID || plen > mtu || last_seen)
                        fail_msg("mtu %u len %u: fragment %u invalid (%u bytes)", mtu, len, count,
                                 plen);
                if (count == 0)
                        id = ns_ipv4_id(h);
                assert_int_equal(ns_ipv4_id(h), id);
                assert_true(ns_ipv4_checksum_ok(h, 20));
                uint32_t off = ns_ipv4_frag_off(h), pl = plen - 20;
                if (off != next)
                        fail_msg("mtu %u len %u: offset %u, want %u", mtu, len, off, next);
                /* Every fragment but the last carries a multiple of 8. */
                if (ns_ipv4_mf(h))
                        assert_int_equal(pl % 8, 0);
                else
                        last_seen = true;
                for (uint32_t i = 0; i < pl; i++)
                        if (h[20 + i] != (uint8_t)((off + i) ^ ((off + i) >> 8)))
                                fail_msg("mtu %u len %u: byte %u", mtu, len, off + i);
                next += pl;
                count++;
                ns_pkt_free(p);
        }
        if (!last_seen || next != len)
                fail_msg("mtu %u len %u: %u bytes in %u fragments", mtu, len, next, count);
}

static void test_48_fragment_sizes_across_mtus(void **state)
{
        (void)state;
        uint32_t mtus[400], n_mtus = 0;
        for (uint32_t m = 68; m <= 140; m++)
                mtus[n_mtus++] = m;
        for (uint32_t m = 141; m <= 9000; m += 53)
                mtus[n_mtus++] = m;
        mtus[n_mtus++] = 1500;
        mtus[n_mtus++] = 1280;
        mtus[n_mtus++] = 9000;
        uint64_t frag_oks = 0;
        for (uint32_t k = 0; k < n_mtus; k++) {
                uint32_t mtu = mtus[k];
                struct ns_test_env env;
                ns_test_env_init(&env, mods);
                ns_test_add_nic(&env, 1, mtu, LOCAL, 24);
                uint32_t sizes[] = { 1,        7,   8,       9,       mtu - 28, mtu - 21, mtu - 20,
                                     mtu - 19, mtu, mtu + 1, 2 * mtu, 3524,     8000,     65515 };
                for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                        /* The largest size only for every fourth MTU: it is the slow one. */
                        if (sizes[s] == 65515 && k % 4 != 0)
                                continue;
                        assert_int_equal(send_one(&env, sizes[s]), 0);
                        check_fragments(&env, mtu, sizes[s]);
                        if (sizes[s] + 20 > mtu)
                                frag_oks++;
                }
                struct ns_stats st;
                ns_stack_get_stats(env.s, &st);
                assert_int_equal(st.ip.outgoing_packet_errors, 0);
                assert_int_equal(st.ip.frag_fails, 0);
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
        assert_true(frag_oks > 1000);
}

/* 47: an MTU below RFC 791's 68 is refused, not underflowed. */
static void test_47_link_mtu_below_68(void **state)
{
        (void)state;
        static const uint32_t mtus[] = { 0, 1, 20, 27, 28, 60, 67 };
        for (size_t k = 0; k < sizeof mtus / sizeof mtus[0]; k++) {
                struct ns_test_env env;
                ns_test_env_init(&env, mods);
                env.ch[1] = ns_channel_create(NULL, mtus[k], 16, 0);
                assert_non_null(env.ch[1]);
                if (ns_nic_create(env.s, 1, ns_channel_link(env.ch[1]), NULL) != 0) {
                        ns_test_env_destroy(&env); /* refusing the NIC is fine too */
                        continue;
                }
                struct ns_ip4_prefix p = { .addr = LOCAL, .prefix_len = 24 };
                assert_int_equal(ns_nic_add_address(env.s, 1, p), 0);
                for (uint32_t len = 0; len < 100; len += 33) {
                        int err = send_one(&env, len);
                        if (err != NS_ERR_INVALID_ENDPOINT_STATE)
                                fail_msg("mtu %u len %u: %s", mtus[k], len, ns_strerror(err));
                }
                struct ns_stats st;
                ns_stack_get_stats(env.s, &st);
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                assert_int_equal(st.ip.outgoing_packet_errors, 4);
                assert_int_equal(st.ip.packets_sent, 0);
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_48_fragment_sizes_across_mtus),
                cmocka_unit_test(test_47_link_mtu_below_68),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
