/*
 * HOSTILE-INPUTS.md sections C and D (items 23-46) on the stack path:
 * hostile fragment sequences injected on a channel NIC. Every row asserts
 * that the stack survives, that exactly the right reassembly counters
 * moved, that memory (reassembly bytes and live packets) is back to its
 * baseline once the timer has run, and that a legitimate fragmented echo
 * request is still answered afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>

#include "ipv4/ipv4.h"
#include "ipv4/reasm.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define US    NS_IP4(192, 0, 2, 1)
#define PEER  NS_IP4(192, 0, 2, 2)
#define PEER2 NS_IP4(192, 0, 2, 3)

#define SECOND_NS 1000000000LL
#define MF        true
#define LAST      false

/* ---- building and sending ---- */

/* The ICMP echo request of `len` bytes (header included) with seq. */
static uint8_t *echo_msg(uint32_t len, uint16_t seq)
{
        static uint8_t buf[65536];
        uint8_t *data = malloc(len);
        assert_non_null(data);
        for (uint32_t i = 0; i < len - 8; i++)
                data[i] = (uint8_t)(i * 13 + seq);
        assert_int_equal(ns_icmp4_emit_echo(buf, len, NS_ICMP4_ECHO, 0x4242, seq, data, len - 8),
                         len);
        free(data);
        return buf;
}

struct fspec {
        ns_ip4 src;
        uint16_t id;
        uint8_t proto;
        uint8_t opt_len; /* NOP options, a multiple of 4 */
};

/* Filler for fragments whose bytes do not matter (any offset + length). */
static uint8_t zero[65536 + 64];

static const struct fspec DEF = { PEER, 1, 1, 0 };

/* Injects bytes [off, off + len) of msg as one fragment. */
static void inject(struct ns_test_env *env, struct fspec f, const uint8_t *msg, uint32_t off,
                   uint32_t len, bool more)
{
        static uint8_t buf[65536 + 60];
        uint8_t opts[40];
        memset(opts, 1, sizeof opts);
        uint32_t hlen = 20u + f.opt_len;
        struct ns_ipv4_fields h = { .total_len = (uint16_t)(hlen + len),
                                    .id = f.id,
                                    .flags = more ? NS_IPV4_FLAG_MF : 0,
                                    .frag_off = (uint16_t)off,
                                    .ttl = 64,
                                    .proto = f.proto,
                                    .src = f.src,
                                    .dst = US,
                                    .options = opts,
                                    .options_len = f.opt_len };
        assert_int_equal(ns_ipv4_emit(buf, sizeof buf, &h), hlen);
        if (len)
                memcpy(buf + hlen, msg + off, len);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, hlen + len), 0);
}

static void frag(struct ns_test_env *env, const uint8_t *msg, uint32_t off, uint32_t len, bool more)
{
        inject(env, DEF, msg, off, len, more);
}

/* ---- what came back ---- */

struct replies {
        uint32_t count; /* complete datagrams */
        uint8_t type, code;
        uint32_t last_len; /* ICMP bytes of the last one */
};

/*
 * Reads everything queued on NIC 1, joining fragmented replies (they leave
 * in order), checking each whole reply's IPv4 header and ICMP checksum.
 */
static struct replies collect(struct ns_test_env *env)
{
        static uint8_t whole[65536];
        struct replies r = { 0 };
        uint32_t have = 0;
        struct ns_pkt *p;
        while ((p = ns_channel_read(env->ch[1])) != NULL) {
                const uint8_t *h = ns_pkt_data(p);
                assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(p)), NS_IPV4_VALID);
                assert_true(ns_pkt_len(p) <= 1500);
                assert_int_equal(ns_ipv4_src(h), US);
                uint32_t hl = (uint32_t)ns_ipv4_hdr_len(h), pl = ns_pkt_len(p) - hl;
                if (ns_ipv4_frag_off(h) == 0)
                        have = 0;
                assert_int_equal(ns_ipv4_frag_off(h), have);
                memcpy(whole + have, h + hl, pl);
                have += pl;
                if (!ns_ipv4_mf(h)) {
                        assert_true(ns_icmp4_checksum_ok(whole, have));
                        r.count++;
                        r.type = whole[0];
                        r.code = whole[1];
                        r.last_len = have;
                }
                ns_pkt_free(p);
        }
        return r;
}

static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, US, 24);
}

static const struct ns_reasm *reasm_of(struct ns_test_env *env)
{
        return ((struct ns_ipv4 *)env->s->ipv4)->reasm;
}

/* Runs every timer, then checks memory is back where it started. */
static void back_to_baseline(struct ns_test_env *env)
{
        ns_test_advance(env, 31 * SECOND_NS);
        ns_test_drain_all(env);
        assert_int_equal(ns__reasm_bytes_held(reasm_of(env)), 0);
        assert_int_equal(ns__reasm_datagrams_held(reasm_of(env)), 0);
        assert_int_equal(ns_test_packets_in_use(env), 0);
}

/* A legitimate echo request in two fragments is answered and leaves nothing behind. */
static void legit_echo_answered(struct ns_test_env *env)
{
        uint32_t in_use = ns_test_packets_in_use(env);
        const uint8_t *m = echo_msg(1008, 77);
        struct fspec f = { PEER, 0x7777, 1, 0 };
        inject(env, f, m, 0, 512, MF);
        inject(env, f, m, 512, 496, LAST);
        struct replies r = collect(env);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.type, NS_ICMP4_ECHO_REPLY);
        assert_int_equal(r.last_len, 1008);
        assert_true(ns_test_packets_in_use(env) <= in_use);
}

/* ---- rows ---- */

struct row {
        const char *name;
        void (*inject)(struct ns_test_env *env);
        /* What must have happened once inject returned. */
        uint32_t replies;
        uint8_t reply_type, reply_code;
        uint32_t reply_len;
        uint64_t oks, fails, overlaps, malformed;
        bool held; /* something is still being reassembled */
};

/* 23: a later fragment starting inside an earlier one (teardrop). */
static void overlap_start_inside(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 512, MF);
        frag(e, m, 504, 504, LAST);
        /* The datagram is gone: the rest starts a new one that never completes. */
        frag(e, m, 512, 496, LAST);
}

/* 23: a fragment wholly inside another (packetimpact "fragment subset"). */
static void overlap_subset(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 512, MF);
        frag(e, m, 8, 16, MF);
        frag(e, m, 512, 496, LAST);
}

/* 24: an exact duplicate is ignored and the datagram completes. */
static void exact_duplicate(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 512, MF);
        frag(e, m, 0, 512, MF);
        frag(e, m, 512, 496, LAST);
        frag(e, m, 512, 496, LAST); /* after completion: a new, lone datagram */
}

/* 25: a first fragment overlapping the next (lwIP bug #51596). */
static void overlap_at_head(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 512, 496, LAST);
        frag(e, m, 0, 520, MF);
}

/* 25: overlap with the successor at the tail. */
static void overlap_at_tail(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 256, MF);
        frag(e, m, 512, 496, LAST);
        frag(e, m, 256, 264, MF);
}

/* 25: overlap with the predecessor in the middle. */
static void overlap_in_middle(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 256, MF);
        frag(e, m, 768, 240, LAST);
        frag(e, m, 512, 256, MF);
        frag(e, m, 248, 264, MF);
}

/* 26: first and last with a hole between: never complete (lwIP #51606). */
static void hole_remains(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 256, MF);
        frag(e, m, 512, 496, LAST);
}

/* 26: a discarded final fragment is not assumed to have arrived (lwIP #51597). */
static void discarded_final_not_assumed(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 512, MF);
        frag(e, m, 1008, 0, LAST); /* no payload: malformed, dropped */
        frag(e, m, 512, 496, MF);  /* every byte is there, but no final */
}

/* 27: 64 KiB of fragments, MF set on every one. */
static void full_64k_with_mf(struct ns_test_env *e)
{
        for (uint32_t off = 0; off + 1480 <= 65480; off += 1480)
                frag(e, zero, off, 1480, MF);
}

/* 28: two final fragments claiming different ends (gVisor f98c3ee32). */
static void finals_disagree(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 512, 496, LAST);
        frag(e, m, 0, 256, MF);
        frag(e, m, 256, 8, LAST);
}

/*
 * 29: the exact boundary. Header + payload end = 65535 is held; one byte
 * more is malformed, and so is a payload end past 65535 (ping of death).
 */
static void ping_of_death_boundary(struct ns_test_env *e)
{
        struct fspec f = DEF;
        f.id = 100;
        inject(e, f, zero, 65488, 27, LAST); /* 20 + 65515 = 65535: held */
        f.id = 101;
        inject(e, f, zero, 65488, 28, LAST); /* 20 + 65516: malformed */
        f.id = 102;
        inject(e, f, zero, 65528, 16, LAST); /* 65544 > 65535: malformed */
}

/*
 * 30: every fragment fits, but the first carries 40 bytes of options so
 * header + payload would be 65572 (picoTCP #529 sized this in 16 bits):
 * abandoned when the last piece arrives.
 */
static void first_header_makes_it_too_long(struct ns_test_env *e)
{
        struct fspec first = DEF;
        first.opt_len = 40;
        inject(e, first, zero, 0, 1480, MF);
        for (uint32_t off = 1480; off < 65120; off += 1480)
                frag(e, zero, off, 1480, MF);
        frag(e, zero, 65120, 392, LAST); /* 20 + 65512 alone would fit */
}

/* 31: lengths that are multiples of 256 (U-Boot's byte-order slip). */
static void lengths_multiple_of_256(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(768, 1);
        frag(e, m, 256, 256, MF);
        frag(e, m, 512, 256, LAST);
        frag(e, m, 0, 256, MF);
}

/* 32: the large first fragment arrives after the small rest. */
static void big_first_arrives_last(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1472, 1);
        frag(e, m, 1464, 8, LAST);
        frag(e, m, 1456, 8, MF);
        frag(e, m, 0, 1456, MF);
}

/* 33: a non-final fragment not a multiple of 8, and an empty one. */
static void bad_block_sizes(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 500, MF);
        frag(e, m, 0, 0, MF);
        frag(e, m, 512, 0, LAST);
}

/* 33: the last fragment may be any length. */
static void odd_last_fragment(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1001, 1);
        frag(e, m, 0, 512, MF);
        frag(e, m, 512, 489, LAST);
}

/* 34: the same ID under another protocol is another datagram. */
static void same_id_other_protocol(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        struct fspec udp = DEF;
        udp.proto = 17;
        frag(e, m, 0, 512, MF);
        inject(e, udp, m, 512, 496, LAST);
        frag(e, m, 512, 496, LAST);
}

/* 34: the same ID from another source is another datagram. */
static void same_id_other_source(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        struct fspec other = DEF;
        other.src = PEER2;
        frag(e, m, 0, 512, MF);
        inject(e, other, m, 512, 496, LAST);
        frag(e, m, 512, 496, LAST);
}

/* 35: an ID reused after its datagram completed, and a late straggler. */
static void id_reused(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 0, 512, MF);
        frag(e, m, 512, 496, LAST);
        m = echo_msg(1008, 2);
        frag(e, m, 512, 496, LAST);
        frag(e, m, 0, 512, MF);
        frag(e, m, 0, 512, MF); /* late copy: starts a datagram that times out */
}

/* 37: a non-first fragment whose bytes look like an echo request is not parsed. */
static void l4_lookalike_in_later_fragment(struct ns_test_env *e)
{
        static uint8_t fake[1024];
        memcpy(fake + 512, echo_msg(64, 3), 64);
        frag(e, fake, 512, 64, LAST);
}

/* 37b: fragmented IP-in-IP, which we do not carry: protocol unreachable. */
static void fragmented_ip_in_ip(struct ns_test_env *e)
{
        static uint8_t inner[1008];
        struct ns_ipv4_fields ih = { .total_len = 2000, /* lies: longer than held */
                                     .id = 5,
                                     .ttl = 64,
                                     .proto = 1,
                                     .src = PEER,
                                     .dst = US };
        assert_int_equal(ns_ipv4_emit(inner, sizeof inner, &ih), 20);
        struct fspec f = DEF;
        f.proto = 4;
        inject(e, f, inner, 0, 512, MF);
        inject(e, f, inner, 512, 496, LAST);
}

/* 38: a first fragment holding only the ICMP header. */
static void tiny_first_fragment(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 8, 1000, LAST);
        frag(e, m, 0, 8, MF);
}

/* 40: FragmentSmack: 500 8-byte fragments in a shuffled order. */
static void many_tiny_fragments_shuffled(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(4000, 1);
        uint32_t order[500];
        for (uint32_t i = 0; i < 500; i++)
                order[i] = i;
        uint64_t x = 0x9e3779b97f4a7c15ull;
        for (uint32_t i = 499; i > 0; i--) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                uint32_t j = (uint32_t)(x % (i + 1));
                uint32_t t = order[i];
                order[i] = order[j];
                order[j] = t;
        }
        for (uint32_t i = 0; i < 500; i++)
                frag(e, m, order[i] * 8, 8, order[i] != 499);
}

/* 40: more fragments than the per-datagram cap abandons the datagram. */
static void too_many_fragments(struct ns_test_env *e)
{
        for (uint32_t i = 0; i < NS_REASM_DEFAULT_MAX_FRAGS + 1; i++)
                frag(e, zero, i * 8, 8, MF);
}

/* 41: a thousand datagrams under one source with neighbouring IDs. */
static void many_datagrams(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        struct fspec f = DEF;
        for (uint32_t id = 0; id < 1000; id++) {
                f.id = (uint16_t)(id * 64);
                inject(e, f, m, 0, 512, MF);
        }
}

/* 43/44: one lone fragment; the timer alone must free it. */
static void lone_fragment(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        frag(e, m, 512, 496, LAST);
}

/* 45: every failure path in one datagram's life, interleaved with a good one. */
static void error_paths_interleaved(struct ns_test_env *e)
{
        const uint8_t *m = echo_msg(1008, 1);
        struct fspec good = DEF;
        good.id = 2;
        inject(e, good, m, 0, 512, MF);
        frag(e, m, 0, 256, MF);
        frag(e, m, 0, 250, MF);     /* malformed */
        frag(e, m, 128, 256, MF);   /* overlap: abandoned */
        frag(e, m, 256, 256, MF);   /* a new datagram */
        frag(e, m, 256, 256, MF);   /* duplicate */
        frag(e, m, 1000, 8, LAST);  /* a final */
        frag(e, m, 1000, 16, LAST); /* disagreeing final: abandoned */
        inject(e, good, m, 512, 496, LAST);
}

#define ROW(n, fn) .name = n, .inject = fn

static const struct row rows[] = {
        { ROW("23 overlap: fragment starts inside an earlier one", overlap_start_inside),
          .fails = 1, .overlaps = 1, .held = true },
        { ROW("23 overlap: fragment is a subset of another", overlap_subset), .fails = 1,
          .overlaps = 1, .held = true },
        { ROW("24 exact duplicate is ignored", exact_duplicate), .replies = 1,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1008, .oks = 1, .held = true },
        { ROW("25 overlap at the head", overlap_at_head), .fails = 1, .overlaps = 1 },
        { ROW("25 overlap at the tail", overlap_at_tail), .fails = 1, .overlaps = 1 },
        { ROW("25 overlap in the middle", overlap_in_middle), .fails = 1, .overlaps = 1 },
        { ROW("26 no completion while a hole remains", hole_remains), .held = true },
        { ROW("26 discarded final fragment is not assumed", discarded_final_not_assumed),
          .malformed = 1, .held = true },
        { ROW("27 64 KiB with more fragments set never completes", full_64k_with_mf),
          .held = true },
        { ROW("28 final fragments disagree", finals_disagree), .fails = 1 },
        { ROW("29 ping of death: header plus end 65535 held, 65536 malformed",
              ping_of_death_boundary),
          .malformed = 2, .held = true },
        { ROW("30 first header with options makes the whole pass 65535",
              first_header_makes_it_too_long),
          .fails = 1 },
        { ROW("31 lengths that are multiples of 256", lengths_multiple_of_256), .replies = 1,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 768, .oks = 1 },
        { ROW("32 large first fragment arrives last", big_first_arrives_last), .replies = 1,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1472, .oks = 1 },
        { ROW("33 non-final not a multiple of 8, and empty fragments", bad_block_sizes),
          .malformed = 3 },
        { ROW("33 last fragment of any length", odd_last_fragment), .replies = 1,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1001, .oks = 1 },
        { ROW("34 same id under another protocol does not mix", same_id_other_protocol),
          .replies = 1, .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1008, .oks = 1,
          .held = true },
        { ROW("34 same id from another source does not mix", same_id_other_source), .replies = 1,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1008, .oks = 1, .held = true },
        { ROW("35 id reused after completion, late straggler", id_reused), .replies = 2,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1008, .oks = 2, .held = true },
        { ROW("37 later fragment is never parsed as l4", l4_lookalike_in_later_fragment),
          .held = true },
        /* RFC 1122 3.2.2.1: quoting the reassembled datagram's first 548 bytes. */
        { ROW("37b fragmented ip-in-ip answers protocol unreachable", fragmented_ip_in_ip),
          .replies = 1, .reply_type = NS_ICMP4_DEST_UNREACH, .reply_code = 2, .reply_len = 8 + 548,
          .oks = 1 },
        { ROW("38 tiny first fragment", tiny_first_fragment), .replies = 1,
          .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1008, .oks = 1 },
        { ROW("40 500 8-byte fragments in random order", many_tiny_fragments_shuffled),
          .replies = 1, .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 4000, .oks = 1 },
        { ROW("40 more fragments than the per-datagram cap", too_many_fragments), .fails = 1 },
        { ROW("41 a thousand datagrams with neighbouring ids", many_datagrams), .held = true },
        { ROW("43 lone fragment freed by the timer", lone_fragment), .held = true },
        { ROW("45 error paths interleaved with a good datagram", error_paths_interleaved),
          .replies = 1, .reply_type = NS_ICMP4_ECHO_REPLY, .reply_len = 1008, .oks = 1, .fails = 2,
          .overlaps = 1, .malformed = 1, .held = false },
};

static void run_row(void **state)
{
        const struct row *row = *state;
        struct ns_test_env env;
        setup(&env);
        struct ns_stats b, a;
        ns_stack_get_stats(env.s, &b);
        row->inject(&env);
        ns_stack_get_stats(env.s, &a);
        struct replies r = collect(&env);
#define D(f) (unsigned long long)(a.ip.f - b.ip.f)
        if (r.count != row->replies || D(reasm_oks) != row->oks || D(reasm_fails) != row->fails ||
            D(reasm_overlaps) != row->overlaps || D(malformed_fragments_received) != row->malformed)
                fail_msg("%s: replies %u oks %llu fails %llu overlaps %llu malformed %llu",
                         row->name, r.count, D(reasm_oks), D(reasm_fails), D(reasm_overlaps),
                         D(malformed_fragments_received));
        /* A malformed fragment is also a malformed packet (seed). */
        assert_int_equal(D(malformed_packets_received), row->malformed);
        assert_int_equal(D(reasm_timeout), 0);
#undef D
        if (row->replies) {
                assert_int_equal(r.type, row->reply_type);
                assert_int_equal(r.code, row->reply_code);
                assert_int_equal(r.last_len, row->reply_len);
        }
        if (row->held != (ns__reasm_datagrams_held(reasm_of(&env)) > 0))
                fail_msg("%s: %u datagrams held", row->name,
                         ns__reasm_datagrams_held(reasm_of(&env)));
        assert_true(ns__reasm_bytes_held(reasm_of(&env)) <= NS_REASM_DEFAULT_HIGH_BYTES);
        back_to_baseline(&env);
        legit_echo_answered(&env);
        ns_test_env_destroy(&env);
}

/* ---- 39, 42: memory under a flood of fragments that never complete ---- */

static void test_64mib_of_incomplete_fragments_stay_bounded(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        const struct ns_reasm *r = reasm_of(&env);
        uint64_t sent = 0, peak = 0;
        uint32_t n = 0;
        /*
         * Rose attack (item 39): an offset-0 fragment and one near 64 KiB per
         * datagram, from 254 sources with every ID, 64 MiB in all.
         */
        while (sent < (64ull << 20)) {
                struct fspec f = { NS_IP4(198, 51, 100, 1 + n % 254), (uint16_t)(n / 254), 17, 0 };
                inject(&env, f, zero, 0, 1480, MF);
                inject(&env, f, zero, 64000, 1480, MF);
                sent += 2 * 1500;
                n++;
                uint64_t held = ns__reasm_bytes_held(r);
                if (held > peak)
                        peak = held;
                if (held > NS_REASM_DEFAULT_HIGH_BYTES)
                        fail_msg("%llu bytes held after %u datagrams", (unsigned long long)held, n);
        }
        /* The table did fill up: eviction, not luck, kept it bounded. */
        assert_true(peak > NS_REASM_DEFAULT_LOW_BYTES);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.reasm_reqds, 2ull * n);
        assert_true(n > 20000);
        assert_true(st.ip.reasm_fails > 0);
        assert_int_equal(st.ip.reasm_oks, 0);
        /* Normal traffic still flows while the table is full (item 42). */
        legit_echo_answered(&env);
        back_to_baseline(&env);
        legit_echo_answered(&env);
        ns_test_env_destroy(&env);
}

/* ---- 46: time exceeded for many datagrams at once is rate limited ---- */

static void test_timeout_icmp_is_rate_limited(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        const uint8_t *m = echo_msg(1008, 1);
        struct fspec f = DEF;
        for (uint32_t id = 0; id < 200; id++) {
                f.id = (uint16_t)id;
                inject(&env, f, m, 0, 512, MF);
        }
        ns_test_advance(&env, 30 * SECOND_NS);
        struct replies r = collect(&env);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.reasm_timeout, 200);
        assert_int_equal(r.count, st.icmp.sent_time_exceeded);
        assert_true(st.icmp.sent_time_exceeded >= 1);
        assert_true(st.icmp.sent_time_exceeded < 200);
        assert_int_equal(st.icmp.sent_time_exceeded + st.icmp.sent_rate_limited, 200);
        assert_int_equal(r.type, NS_ICMP4_TIME_EXCEEDED);
        assert_int_equal(r.code, NS_ICMP4_REASSEMBLY_TIMEOUT);
        back_to_baseline(&env);
        ns_test_advance(&env, 10 * SECOND_NS); /* let the limiter refill */
        legit_echo_answered(&env);
        ns_test_env_destroy(&env);
}

/* ---- 79 (with 45): teardown while fragments are held ---- */

static void test_teardown_with_every_kind_held(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        full_64k_with_mf(&env);
        ping_of_death_boundary(&env);
        many_datagrams(&env);
        assert_true(ns__reasm_datagrams_held(reasm_of(&env)) > 1000);
        /* ASan/LSan: destroy frees every held fragment. */
        ns_test_env_destroy(&env);
}

int main(void)
{
        enum { N = sizeof(rows) / sizeof(rows[0]) };
        struct CMUnitTest tests[N + 3];
        for (size_t i = 0; i < N; i++)
                tests[i] = (struct CMUnitTest){ .name = rows[i].name,
                                                .test_func = run_row,
                                                .initial_state = (void *)&rows[i] };
        tests[N] =
            (struct CMUnitTest)cmocka_unit_test(test_64mib_of_incomplete_fragments_stay_bounded);
        tests[N + 1] = (struct CMUnitTest)cmocka_unit_test(test_timeout_icmp_is_rate_limited);
        tests[N + 2] = (struct CMUnitTest)cmocka_unit_test(test_teardown_with_every_kind_held);
        return _cmocka_run_group_tests("frag_reassembly", tests, N + 3, NULL, NULL);
}
