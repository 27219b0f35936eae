/*
 * HOSTILE-INPUTS A (header validation) items that had no test of their own:
 *
 *    6  A link that says it verified checksums (NS_PKT_F_CSUM_VERIFIED, as
 *       an offloading NIC would) never switches the length checks off, nor
 *       the IPv4 header checksum, which is always verified in software.
 *    7  An IP header arriving in pieces: ns_pkt holds one contiguous buffer,
 *       so there is no chain to pull up; the packet is built here from two
 *       pieces split at every byte and placed at every alignment, and also
 *       cut short at every byte (the second piece never arriving).
 *
 * Every test asserts no crash (the ASan and valgrind runs too), the counter
 * that must move, the pool back to its baseline, and a legitimate echo and
 * UDP datagram served right after.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/ipv4.h>
#include <netstack/pkt.h>
#include <netstack/udp.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define OUR   NS_IP4(192, 0, 2, 1)
#define PEER  NS_IP4(192, 0, 2, 2)
#define UPORT 7
#define SEC   1000000000LL

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };

struct env {
        struct ns_test_env t;
        struct ns_udp_ep *udp;
};

static void env_up(struct env *e)
{
        ns_test_env_init(&e->t, mods);
        ns_test_add_nic(&e->t, 1, 1500, OUR, 24);
        assert_int_equal(ns_udp_open(e->t.s, &e->udp), 0);
        assert_int_equal(ns_udp_bind(e->udp, NS_IP4_ANY, UPORT, 0), 0);
}

static struct ns_stats stats_now(struct env *e)
{
        struct ns_stats st;
        ns_stack_get_stats(e->t.s, &st);
        return st;
}

/* Hands len bytes to NIC 1 as a packet with `flags`, the payload at `headroom`. */
static void inject_raw(struct env *e, const uint8_t *b, uint32_t len, uint32_t headroom,
                       uint32_t flags)
{
        struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(e->t.s), headroom, len);
        assert_non_null(p);
        if (len)
                memcpy(ns_pkt_put(p, len), b, len);
        p->flags |= flags;
        ns_channel_inject(e->t.ch[1], 0x0800, p);
}

/* A UDP datagram from PEER:4000 to OUR:UPORT of `len` payload bytes into out. */
static uint32_t udp(uint8_t *out, uint32_t len)
{
        for (uint32_t i = 0; i < len; i++)
                out[8 + i] = (uint8_t)(i + 1);
        assert_int_equal(ns_udp_emit_datagram(out, 8 + len, 4000, UPORT, PEER, OUR), 8);
        return 8 + len;
}

/* Takes the one packet sent, an echo reply to PEER with sequence seq. */
static void expect_echo_reply(struct env *e, uint16_t seq)
{
        struct ns_pkt *r = ns_channel_read(e->t.ch[1]);
        assert_non_null(r);
        assert_null(ns_channel_read(e->t.ch[1]));
        const uint8_t *h = ns_pkt_data(r);
        size_t hl = ns_ipv4_hdr_len(h);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        assert_int_equal(ns_icmp4_type(h + hl), NS_ICMP4_ECHO_REPLY);
        assert_int_equal(ns_icmp4_seq(h + hl), seq);
        assert_true(ns_icmp4_checksum_ok(h + hl, ns_pkt_len(r) - hl));
        ns_pkt_free(r);
}

/* An echo and a UDP datagram are served; then the pool is back to zero. */
static void expect_served_and_clean(struct env *e)
{
        uint8_t m[128], b[256];
        uint32_t n = (uint32_t)icmp_echo_build(m, sizeof(m), 1, 99, 32);
        size_t bl = ipv4_build(
            b, sizeof(b),
            &(struct ipv4_spec){
                .src = PEER, .dst = OUR, .proto = 1, .ttl = 64, .payload = m, .payload_len = n });
        inject_raw(e, b, (uint32_t)bl, 64, 0);
        expect_echo_reply(e, 99);

        n = udp(m, 16);
        bl = ipv4_build(
            b, sizeof(b),
            &(struct ipv4_spec){
                .src = PEER, .dst = OUR, .proto = 17, .ttl = 64, .payload = m, .payload_len = n });
        inject_raw(e, b, (uint32_t)bl, 64, 0);
        uint8_t got[64];
        assert_int_equal(ns_udp_recv(e->udp, got, sizeof(got), NULL), 16);
        assert_memory_equal(got, m + 8, 16);

        ns_test_advance(&e->t, 60 * SEC);
        ns_test_drain_all(&e->t);
        assert_int_equal(ns_test_packets_in_use(&e->t), 0);
}

static void env_down(struct env *e)
{
        ns_udp_close(e->udp);
        ns_test_drain_all(&e->t);
        assert_int_equal(ns_test_packets_in_use(&e->t), 0);
        ns_test_env_destroy(&e->t);
}

/*
 * Item 6 (FreeRTOS+TCP skipped its length checks along with the checksum
 * checks): with the link's "checksum verified" flag on every packet, a
 * Total Length past the bytes, an IHL below 5, a bad header checksum and a
 * UDP length past the IP payload are each dropped and counted, and nothing
 * is answered or delivered.
 */
static void test_item_06_checksum_offload_keeps_length_checks(void **state)
{
        (void)state;
        struct env e;
        env_up(&e);
        uint8_t m[128], b[256];
        uint32_t n = (uint32_t)icmp_echo_build(m, sizeof(m), 1, 6, 32);
        const struct {
                const char *name;
                struct ipv4_spec spec;
                uint32_t cut; /* bytes removed from the end */
                const char *deltas;
        } rows[] = {
                { "total length past the bytes",
                  { .force_total_len = true, .total_len = (uint16_t)(20 + n + 1) },
                  0,
                  "ip.packets_received=1 ip.malformed_packets_received=1 "
                  "ip.truncated_packets_received=1" },
                { "bytes cut short of total length",
                  { 0 },
                  5,
                  "ip.packets_received=1 ip.malformed_packets_received=1 "
                  "ip.truncated_packets_received=1" },
                { "IHL 4",
                  { .ihl = 4 },
                  0,
                  "ip.packets_received=1 ip.malformed_packets_received=1" },
                { "bad header checksum",
                  { .bad_checksum = true },
                  0,
                  "ip.packets_received=1 ip.malformed_packets_received=1 "
                  "ip.checksum_errors_received=1" },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                print_message("row: %s\n", rows[i].name);
                struct ipv4_spec s = rows[i].spec;
                s.src = PEER;
                s.dst = OUR;
                s.proto = 1;
                s.ttl = 64;
                s.payload = m;
                s.payload_len = n;
                size_t bl = ipv4_build(b, sizeof(b), &s);
                struct ns_stats before = stats_now(&e);
                inject_raw(&e, b, (uint32_t)(bl - rows[i].cut), 64, NS_PKT_F_CSUM_VERIFIED);
                assert_null(ns_channel_read(e.t.ch[1]));
                struct ns_stats after = stats_now(&e);
                expect_deltas(&before, &after, rows[i].deltas);
        }

        /* UDP claiming 8 bytes more than the IP payload holds. */
        n = udp(m, 16);
        ns_udp_set_length(m, (uint16_t)(n + 8));
        size_t bl = ipv4_build(
            b, sizeof(b),
            &(struct ipv4_spec){
                .src = PEER, .dst = OUR, .proto = 17, .ttl = 64, .payload = m, .payload_len = n });
        struct ns_stats before = stats_now(&e);
        inject_raw(&e, b, (uint32_t)bl, 64, NS_PKT_F_CSUM_VERIFIED);
        uint8_t got[64];
        assert_int_equal(ns_udp_recv(e.udp, got, sizeof(got), NULL), NS_ERR_WOULD_BLOCK);
        assert_null(ns_channel_read(e.t.ch[1]));
        struct ns_stats after = stats_now(&e);
        assert_int_equal(
            after.udp.malformed_packets_received - before.udp.malformed_packets_received, 1);
        assert_int_equal(after.udp.packets_received, before.udp.packets_received);

        expect_served_and_clean(&e);
        env_down(&e);
}

/*
 * Item 7 (lwIP refused headers split across pbufs; a scatter-gather stack
 * must pull IHL*4 bytes up before reading options). An echo request with a
 * 24-byte header (a Record Route option) is built from two pieces split at
 * every byte, at 16 alignments of the header in memory: each is answered,
 * the option recorded. The same packet cut at every byte (the rest never
 * arriving) is dropped as malformed and never read past (ASan, valgrind).
 */
static void test_item_07_header_split_at_every_byte(void **state)
{
        (void)state;
        struct env e;
        env_up(&e);
        uint8_t m[128], b[256];
        uint32_t n = (uint32_t)icmp_echo_build(m, sizeof(m), 1, 7, 40);
        const uint8_t rr[8] = { 1, 7, 7, 4, 0, 0, 0, 0 }; /* NOP, RR with one slot */
        uint32_t len = (uint32_t)ipv4_build(b, sizeof(b),
                                            &(struct ipv4_spec){ .src = PEER,
                                                                 .dst = OUR,
                                                                 .proto = 1,
                                                                 .ttl = 64,
                                                                 .options = rr,
                                                                 .options_len = 8,
                                                                 .payload = m,
                                                                 .payload_len = n });
        for (uint32_t split = 1; split < 28 + 8; split++) {
                struct ns_pkt *p = ns_pkt_alloc(ns_stack_pool(e.t.s), 64 + split % 16, len);
                assert_non_null(p);
                memcpy(ns_pkt_put(p, split), b, split);
                memcpy(ns_pkt_put(p, len - split), b + split, len - split);
                ns_channel_inject(e.t.ch[1], 0x0800, p);
                struct ns_pkt *r = ns_channel_read(e.t.ch[1]);
                assert_non_null(r);
                const uint8_t *h = ns_pkt_data(r);
                assert_int_equal(ns_ipv4_hdr_len(h), 28);
                assert_int_equal(h[20 + 3], 8); /* RR pointer moved past our address */
                assert_memory_equal(h + 24, ((const uint8_t[]){ 192, 0, 2, 1 }), 4);
                assert_int_equal(ns_icmp4_type(h + 28), NS_ICMP4_ECHO_REPLY);
                ns_pkt_free(r);
        }
        for (uint32_t cut = 0; cut < len; cut++) {
                struct ns_stats before = stats_now(&e);
                inject_raw(&e, b, cut, 64 + cut % 16, 0);
                assert_null(ns_channel_read(e.t.ch[1]));
                struct ns_stats after = stats_now(&e);
                assert_int_equal(
                    after.ip.malformed_packets_received - before.ip.malformed_packets_received, 1);
                assert_int_equal(after.ip.packets_delivered, before.ip.packets_delivered);
        }
        expect_served_and_clean(&e);
        env_down(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_item_06_checksum_offload_keeps_length_checks),
                cmocka_unit_test(test_item_07_header_split_at_every_byte),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
