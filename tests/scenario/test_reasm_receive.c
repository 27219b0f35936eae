/*
 * Reassembly through the whole receive path, row for row after gVisor's
 * TestReceiveFragments, TestInvalidFragments and
 * TestFragmentReassemblyTimeout (ipv4_test.go): fragments injected on a
 * channel NIC, datagrams caught by a transport handler on UDP's protocol
 * number, counters compared afterwards. Where netstack-c follows Linux
 * rather than gVisor the row says so.
 */
#include <stdlib.h>
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>

#include "core/stack.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define ADDR1 NS_IP4(192, 0, 2, 1)
#define ADDR2 NS_IP4(192, 0, 2, 2) /* us */
#define ADDR3 NS_IP4(192, 0, 2, 3)

#define SECOND_NS 1000000000LL

/* ---- building fragments ---- */

/* One header as gVisor's IPv4Fields encodes it, with its deliberate faults. */
struct raw_hdr {
        ns_ip4 src, dst;
        uint16_t id;
        uint8_t flags;      /* NS_IPV4_FLAG_* */
        uint32_t off;       /* bytes, written as off / 8 like header.IPv4.Encode */
        uint8_t proto;      /* 0: UDP */
        uint16_t total_len; /* 0: 20 + payload */
        uint8_t ihl_bytes;  /* 0: 20; otherwise IHL = ihl_bytes / 4, bytes 20.. EOL */
};

/* Writes header and payload to buf; returns the bytes to inject. */
static size_t build(uint8_t *buf, const struct raw_hdr *r, const uint8_t *payload, uint32_t len)
{
        uint8_t ihl = r->ihl_bytes ? r->ihl_bytes : NS_IPV4_MIN_HDR;
        memset(buf, 0, NS_IPV4_MIN_HDR);
        buf[0] = (uint8_t)(0x40 | (ihl / 4));
        ns_ipv4_set_total_len(buf, r->total_len ? r->total_len : (uint16_t)(20 + len));
        ns_ipv4_set_id(buf, r->id);
        ns_ipv4_set_flags_frag_off(buf, r->flags, r->off);
        ns_ipv4_set_ttl(buf, 48);
        ns_ipv4_set_proto(buf, r->proto ? r->proto : 17);
        ns_ipv4_set_src(buf, r->src);
        ns_ipv4_set_dst(buf, r->dst);
        if (len)
                memcpy(buf + NS_IPV4_MIN_HDR, payload, len);
        /* RFC 791: "The padding is zero", as the gVisor test pads. */
        for (uint32_t i = NS_IPV4_MIN_HDR; i < ihl; i++)
                buf[i] = 0;
        if (ihl >= NS_IPV4_MIN_HDR)
                ns_ipv4_fill_checksum(buf);
        else
                ns_ipv4_set_checksum(buf, 0);
        return NS_IPV4_MIN_HDR + len;
}

static void inject(struct ns_test_env *env, const struct raw_hdr *r, const uint8_t *payload,
                   uint32_t len)
{
        static uint8_t buf[NS_IPV4_MIN_HDR + 65536];
        size_t n = build(buf, r, payload, len);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)n), 0);
}

/* ---- catching datagrams ---- */

struct catcher {
        uint32_t count;
        uint32_t len[4];
        uint8_t *data[4]; /* transport bytes, malloc'd */
        uint8_t ip[4][60];
};

static enum ns_deliver_result catch_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        (void)nic;
        struct catcher *c = ctx;
        if (c->count < 4) {
                uint32_t len = ns_pkt_len(pkt);
                c->data[c->count] = malloc(len ? len : 1);
                assert_non_null(c->data[c->count]);
                memcpy(c->data[c->count], ns_pkt_data(pkt), len);
                c->len[c->count] = len;
                memcpy(c->ip[c->count], ns_pkt_network_header(pkt), NS_IPV4_MIN_HDR);
        }
        c->count++;
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

static void catcher_register(struct ns_test_env *env, struct catcher *c)
{
        memset(c, 0, sizeof(*c));
        struct ns_transport_handler h = { .deliver = catch_deliver, .ctx = c };
        assert_int_equal(ns__stack_register_transport(env->s, 17, &h), 0);
}

static void catcher_free(struct catcher *c)
{
        for (int i = 0; i < 4; i++)
                free(c->data[i]);
}

static void setup(struct ns_test_env *env, uint32_t mtu)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, mtu, ADDR2, 24);
}

/* Lets every held fragment time out, then checks nothing is left. */
static void finish(struct ns_test_env *env)
{
        ns_test_advance(env, 31 * SECOND_NS);
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

/* ---- TestReceiveFragments ---- */

/* The UDP datagrams of the gVisor test: header plus payload[i] = i * mult. */
enum dgram_sel { D1_A1, D1_A3, D2_A1, D3_A1, D4_A1, D5_A1, NUM_DGRAMS };

static const struct {
        uint32_t payload_len;
        uint8_t mult;
        ns_ip4 src;
} dgram_spec[NUM_DGRAMS] = {
        [D1_A1] = { 256, 1, ADDR1 },
        [D1_A3] = { 256, 1, ADDR3 },
        [D2_A1] = { 128, 2, ADDR1 },
        [D3_A1] = { 127, 3, ADDR1 }, /* not a multiple of 8 (RFC 791 3.1) */
        /* UDP's maximum: 65535 bytes of UDP, 65555 of IP (gVisor's row). */
        [D4_A1] = { 65535 - 8, 4, ADDR1 },
        /* IPv4's maximum: 65535 bytes of IP, the largest Linux reassembles. */
        [D5_A1] = { 65535 - 20 - 8, 4, ADDR1 },
};

static uint8_t *dgrams[NUM_DGRAMS];
static uint32_t dgram_len[NUM_DGRAMS];

static int make_dgrams(void **state)
{
        (void)state;
        for (int d = 0; d < NUM_DGRAMS; d++) {
                uint32_t len = 8 + dgram_spec[d].payload_len;
                dgrams[d] = malloc(len);
                if (!dgrams[d])
                        return -1;
                for (uint32_t i = 0; i < dgram_spec[d].payload_len; i++)
                        dgrams[d][8 + i] = (uint8_t)((uint8_t)i * dgram_spec[d].mult);
                if (ns_udp_emit_datagram(dgrams[d], len, 5555, 80, dgram_spec[d].src, ADDR2) != 8)
                        return -1;
                dgram_len[d] = len;
        }
        return 0;
}

static int free_dgrams(void **state)
{
        (void)state;
        for (int d = 0; d < NUM_DGRAMS; d++)
                free(dgrams[d]);
        return 0;
}

#define END UINT32_MAX

struct rx_frag {
        ns_ip4 src;
        uint16_t id;
        bool more;
        uint32_t off; /* the offset field, in bytes (rounded down to 8 on the wire) */
        enum dgram_sel d;
        uint32_t from, to; /* slice of the datagram carried; END = its end */
};

struct rx_row {
        const char *name;
        struct rx_frag frags[4];
        uint32_t n_frags;
        int expect[2]; /* datagrams delivered, in order; -1 none */
        uint64_t malformed_fragments;
};

#define F(s, i, m, o, dd, a, b)                                                     \
        {                                                                           \
                .src = s, .id = i, .more = m, .off = o, .d = dd, .from = a, .to = b \
        }

static const struct rx_row rx_rows[] = {
        { "no fragmentation", { F(ADDR1, 1, false, 0, D1_A1, 0, END) }, 1, { D1_A1, -1 }, 0 },
        { "no fragmentation with size not a multiple of fragment block size",
          { F(ADDR1, 1, false, 0, D3_A1, 0, END) },
          1,
          { D3_A1, -1 },
          0 },
        /* gVisor's row sends the whole datagram with MF set: it is held. */
        { "more fragments without payload",
          { F(ADDR1, 1, true, 0, D1_A1, 0, END) },
          1,
          { -1, -1 },
          0 },
        { "non-zero fragment offset without payload",
          { F(ADDR1, 1, false, 8, D1_A1, 0, END) },
          1,
          { -1, -1 },
          0 },
        /* The same two rows with truly empty fragments: malformed (seed). */
        { "more fragments with zero payload",
          { F(ADDR1, 1, true, 0, D1_A1, 0, 0) },
          1,
          { -1, -1 },
          1 },
        { "non-zero offset with zero payload",
          { F(ADDR1, 1, false, 8, D1_A1, 0, 0) },
          1,
          { -1, -1 },
          1 },
        { "two fragments",
          { F(ADDR1, 1, true, 0, D1_A1, 0, 64), F(ADDR1, 1, false, 64, D1_A1, 64, END) },
          2,
          { D1_A1, -1 },
          0 },
        { "two fragments out of order",
          { F(ADDR1, 1, false, 64, D1_A1, 64, END), F(ADDR1, 1, true, 0, D1_A1, 0, 64) },
          2,
          { D1_A1, -1 },
          0 },
        { "two fragments with last fragment size not a multiple of fragment block size",
          { F(ADDR1, 1, true, 0, D3_A1, 0, 64), F(ADDR1, 1, false, 64, D3_A1, 64, END) },
          2,
          { D3_A1, -1 },
          0 },
        /* 63 bytes with MF is malformed; the second lands at 56 (63 / 8 * 8). */
        { "two fragments with first fragment size not a multiple of fragment block size",
          { F(ADDR1, 1, true, 0, D3_A1, 0, 63), F(ADDR1, 1, false, 63, D3_A1, 63, END) },
          2,
          { -1, -1 },
          1 },
        { "second fragment has more fragments set",
          { F(ADDR1, 1, true, 0, D1_A1, 0, 64), F(ADDR1, 1, true, 64, D1_A1, 64, END) },
          2,
          { -1, -1 },
          0 },
        { "two fragments with different ids",
          { F(ADDR1, 1, true, 0, D1_A1, 0, 64), F(ADDR1, 2, false, 64, D1_A1, 64, END) },
          2,
          { -1, -1 },
          0 },
        { "two interleaved fragmented packets",
          { F(ADDR1, 1, true, 0, D1_A1, 0, 64), F(ADDR1, 2, true, 0, D2_A1, 0, 64),
            F(ADDR1, 1, false, 64, D1_A1, 64, END), F(ADDR1, 2, false, 64, D2_A1, 64, END) },
          4,
          { D1_A1, D2_A1 },
          0 },
        /* RFC 791 2.3: the key includes the source (HOSTILE-INPUTS 34). */
        { "two interleaved fragmented packets from different sources but with same id",
          { F(ADDR1, 1, true, 0, D1_A1, 0, 64), F(ADDR3, 1, true, 0, D1_A3, 0, 32),
            F(ADDR1, 1, false, 64, D1_A1, 64, END), F(ADDR3, 1, false, 32, D1_A3, 32, END) },
          4,
          { D1_A1, D1_A3 },
          0 },
        { "fragment without followup", { F(ADDR1, 1, true, 0, D1_A1, 0, 64) }, 1, { -1, -1 }, 0 },
        /*
         * gVisor reassembles 65535 bytes of UDP (65555 of IP). Linux does not
         * (ip_frag_reasm: header + payload > 65535 is "oversized"), nor do we:
         * the last fragment is malformed because 20 + 65535 > 65535.
         */
        { "two fragments reassembled into a maximum udp packet (linux: oversized)",
          { F(ADDR1, 1, true, 0, D4_A1, 0, 65512), F(ADDR1, 1, false, 65512, D4_A1, 65512, END) },
          2,
          { -1, -1 },
          1 },
        { "two fragments with mf flag reassembled into a maximum udp packet",
          { F(ADDR1, 1, true, 0, D4_A1, 0, 65512), F(ADDR1, 1, true, 65512, D4_A1, 65512, END) },
          2,
          { -1, -1 },
          1 },
        /* The largest datagram IPv4 can carry does reassemble. */
        { "two fragments reassembled into a maximum ipv4 datagram",
          { F(ADDR1, 1, false, 65512, D5_A1, 65512, END), F(ADDR1, 1, true, 0, D5_A1, 0, 65512) },
          2,
          { D5_A1, -1 },
          0 },
};

static void run_rx_row(const struct rx_row *row)
{
        struct ns_test_env env;
        struct catcher c;
        setup(&env, 1280);
        catcher_register(&env, &c);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        for (uint32_t i = 0; i < row->n_frags; i++) {
                const struct rx_frag *f = &row->frags[i];
                uint32_t to = f->to == END ? dgram_len[f->d] : f->to;
                struct raw_hdr r = { .src = f->src,
                                     .dst = ADDR2,
                                     .id = f->id,
                                     .flags = f->more ? NS_IPV4_FLAG_MF : 0,
                                     .off = f->off };
                inject(&env, &r, dgrams[f->d] + f->from, to - f->from);
        }
        ns_stack_get_stats(env.s, &after);
        uint32_t want = 0;
        for (int i = 0; i < 2; i++) {
                if (row->expect[i] < 0)
                        continue;
                int d = row->expect[i];
                if (c.count <= (uint32_t)i)
                        fail_msg("%s: datagram %d not delivered", row->name, i);
                assert_int_equal(c.len[i], dgram_len[d]);
                assert_memory_equal(c.data[i], dgrams[d], dgram_len[d]);
                /* The rebuilt header: whole length, no fragment bits, valid sum. */
                assert_int_equal(ns_ipv4_total_len(c.ip[i]), NS_IPV4_MIN_HDR + dgram_len[d]);
                assert_false(ns_ipv4_is_fragment(c.ip[i]));
                assert_true(ns_ipv4_checksum_ok(c.ip[i], NS_IPV4_MIN_HDR));
                assert_int_equal(ns_ipv4_src(c.ip[i]), dgram_spec[d].src);
                want++;
        }
        if (c.count != want)
                fail_msg("%s: %u datagrams delivered, want %u", row->name, c.count, want);
        assert_int_equal(after.ip.packets_delivered - before.ip.packets_delivered, want);
        if (after.ip.malformed_fragments_received - before.ip.malformed_fragments_received !=
            row->malformed_fragments)
                fail_msg("%s: malformed_fragments_received moved by %llu, want %llu", row->name,
                         (unsigned long long)(after.ip.malformed_fragments_received -
                                              before.ip.malformed_fragments_received),
                         (unsigned long long)row->malformed_fragments);
        assert_int_equal(after.ip.malformed_packets_received - before.ip.malformed_packets_received,
                         row->malformed_fragments);
        catcher_free(&c);
        finish(&env);
}

static void test_receive_fragments(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(rx_rows) / sizeof(rx_rows[0]); i++)
                run_rx_row(&rx_rows[i]);
}

/* ---- TestInvalidFragments ---- */

#define INV_SRC NS_IP4(192, 0, 2, 1)

struct inv_frag {
        struct raw_hdr h;
        uint32_t payload_len; /* bytes of 0x30 after the fixed header */
};

struct inv_row {
        const char *name;
        struct inv_frag frags[3];
        uint32_t n_frags;
        uint64_t malformed_packets, malformed_fragments, reasm_fails;
};

#define H(flg, o, tl, ihl)                                                                 \
        {                                                                                  \
                .src = INV_SRC, .dst = ADDR2, .id = 1, .flags = flg, .off = o, .proto = 6, \
                .total_len = tl, .ihl_bytes = ihl                                          \
        }
#define MF NS_IPV4_FLAG_MF
#define DF NS_IPV4_FLAG_DF

static const struct inv_row inv_rows[] = {
        /* A total length of 0 is written as the true length by Encode in gVisor
         * only when non-zero; here it stays 0, which is malformed either way. */
        { "ihl and total length zero, fragment offset non-zero",
          { { H(DF | MF, 59776, 0xffff, 4), 12 } },
          1,
          1,
          0,
          0 },
        { "ihl and total length zero, fragment offset zero",
          { { H(MF, 0, 0xffff, 4), 12 } },
          1,
          1,
          0,
          0 },
        /* Ping of death (HOSTILE-INPUTS 29): the seed counts it twice. */
        { "fragment ends past 65536", { { H(0, 65520, 0, 0), 17 } }, 1, 1, 1, 0 },
        /*
         * gVisor holds a fragment ending at exactly 65536. It can never be part
         * of a datagram whose Total Length fits 16 bits, so netstack-c drops it
         * at once as a malformed fragment (Linux would hold it and fail the
         * datagram at reassembly as oversized).
         */
        { "fragment ends exactly at 65536", { { H(0, 65520, 0, 0), 16 } }, 1, 1, 1, 0 },
        { "ihl less than ipv4 minimum size",
          { { H(0, 1944, 20 + 28, 8), 28 }, { H(MF, 0, 8, 8), 28 } },
          2,
          2,
          0,
          0 },
        /* Bytes past Total Length are link padding: trimmed (HOSTILE-INPUTS 3). */
        { "fragment with short total length and extra payload",
          { { H(0, 28816, 20 + 28, 24), 28 }, { H(MF, 0, 24, 24), 28 } },
          2,
          1,
          1,
          0 },
        /*
         * Two finals that disagree abandon the datagram (HOSTILE-INPUTS 28). The
         * seed counts the second one as a malformed fragment; netstack-c counts
         * it as Linux's ip_frag_queue() does, in ReasmFails only. The third
         * fragment then starts a new datagram.
         */
        { "multiple fragments with more fragments flag set to false",
          { { H(0, 128, 0, 0), 8 }, { H(0, 8, 0, 0), 8 }, { H(MF, 0, 0, 0), 8 } },
          3,
          0,
          0,
          1 },
};

static void test_invalid_fragments(void **state)
{
        (void)state;
        uint8_t payload[64];
        memset(payload, 0x30, sizeof payload);
        for (size_t i = 0; i < sizeof(inv_rows) / sizeof(inv_rows[0]); i++) {
                const struct inv_row *row = &inv_rows[i];
                struct ns_test_env env;
                setup(&env, 1500);
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                for (uint32_t k = 0; k < row->n_frags; k++) {
                        struct raw_hdr h = row->frags[k].h;
                        /* 0xffff marks "write a Total Length of zero". */
                        uint32_t plen = row->frags[k].payload_len;
                        static uint8_t buf[256];
                        size_t n = build(buf, &h, payload, plen);
                        if (h.total_len == 0xffff) {
                                ns_ipv4_set_total_len(buf, 0);
                                ns_ipv4_set_checksum(buf, 0);
                        }
                        assert_int_equal(
                            ns_channel_inject_bytes(env.ch[1], 0x0800, buf, (uint32_t)n), 0);
                }
                ns_stack_get_stats(env.s, &after);
#define DELTA(f) (after.ip.f - before.ip.f)
                if (DELTA(malformed_packets_received) != row->malformed_packets ||
                    DELTA(malformed_fragments_received) != row->malformed_fragments ||
                    DELTA(reasm_fails) != row->reasm_fails)
                        fail_msg("%s: malformed packets %llu fragments %llu reasm_fails %llu",
                                 row->name, (unsigned long long)DELTA(malformed_packets_received),
                                 (unsigned long long)DELTA(malformed_fragments_received),
                                 (unsigned long long)DELTA(reasm_fails));
#undef DELTA
                finish(&env);
        }
}

/* ---- TestFragmentReassemblyTimeout ---- */

static const char timeout_data[] = "TEST_FRAGMENT_REASSEMBLY_TIMEOUT"; /* 32 bytes */

struct to_frag {
        uint8_t flags;
        uint32_t off;
        uint32_t from, to; /* slice of timeout_data */
};

struct to_row {
        const char *name;
        struct to_frag frags[2];
        uint32_t n_frags;
        bool expect_icmp;
};

static const struct to_row to_rows[] = {
        { "first fragment only", { { MF, 0, 0, 16 } }, 1, true },
        { "two first fragments", { { MF, 0, 0, 16 }, { MF, 0, 0, 16 } }, 2, true },
        /* RFC 1122 3.3.2: no Time Exceeded unless fragment zero arrived. */
        { "second fragment only", { { 0, 8, 16, 32 } }, 1, false },
        { "two fragments with a gap", { { MF, 0, 0, 8 }, { 0, 16, 16, 32 } }, 2, true },
        { "two fragments with a gap in reverse order",
          { { 0, 16, 16, 32 }, { MF, 0, 0, 8 } },
          2,
          true },
};

static void test_reassembly_timeout(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(to_rows) / sizeof(to_rows[0]); i++) {
                const struct to_row *row = &to_rows[i];
                struct ns_test_env env;
                setup(&env, 1500);
                struct ns_route_entry rt = { .nic_id = 1 };
                assert_int_equal(ns_route_add(env.s, &rt), 0);
                uint8_t first[64];
                size_t first_len = 0;
                for (uint32_t k = 0; k < row->n_frags; k++) {
                        const struct to_frag *f = &row->frags[k];
                        struct raw_hdr h = { .src = ADDR1,
                                             .dst = ADDR2,
                                             .id = 1,
                                             .flags = f->flags,
                                             .off = f->off,
                                             .proto = 99 };
                        uint8_t buf[64];
                        size_t n = build(buf, &h, (const uint8_t *)timeout_data + f->from,
                                         f->to - f->from);
                        if (first_len == 0 && f->off == 0) {
                                memcpy(first, buf, n);
                                first_len = n;
                        }
                        assert_int_equal(
                            ns_channel_inject_bytes(env.ch[1], 0x0800, buf, (uint32_t)n), 0);
                }
                /* Exactly the reassembly timeout after the first fragment. */
                ns_test_advance(&env, 30 * SECOND_NS - 1);
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                ns_test_advance(&env, 1);
                struct ns_pkt *r = ns_channel_read(env.ch[1]);
                if (!row->expect_icmp) {
                        if (r)
                                fail_msg("%s: unexpected reply", row->name);
                } else {
                        if (!r)
                                fail_msg("%s: no time exceeded", row->name);
                        const uint8_t *h = ns_pkt_data(r);
                        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
                        assert_int_equal(ns_ipv4_src(h), ADDR2);
                        assert_int_equal(ns_ipv4_dst(h), ADDR1);
                        assert_int_equal(ns_ipv4_hdr_len(h), NS_IPV4_MIN_HDR);
                        assert_int_equal(ns_ipv4_total_len(h), 20 + 8 + first_len);
                        assert_int_equal(h[20], NS_ICMP4_TIME_EXCEEDED);
                        assert_int_equal(h[21], NS_ICMP4_REASSEMBLY_TIMEOUT);
                        assert_true(ns_icmp4_checksum_ok(h + 20, 8 + first_len));
                        /* The quote is the offset-0 fragment as it arrived. */
                        assert_memory_equal(h + 28, first, first_len);
                        ns_pkt_free(r);
                        assert_null(ns_channel_read(env.ch[1]));
                }
                struct ns_stats st;
                ns_stack_get_stats(env.s, &st);
                assert_int_equal(st.ip.reasm_timeout, 1);
                assert_int_equal(st.icmp.sent_time_exceeded, row->expect_icmp ? 1 : 0);
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_receive_fragments),
                cmocka_unit_test(test_invalid_fragments),
                cmocka_unit_test(test_reassembly_timeout),
        };
        return cmocka_run_group_tests(tests, make_dgrams, free_dgrams);
}
