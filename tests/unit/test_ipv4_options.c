/*
 * IPv4 option processing (ns__ipv4_process_options). The first table is
 * every option row of gVisor's TestIPv4Sanity (pkg/tcpip/network/ipv4),
 * with its option bytes, reply options and Parameter Problem pointer; the
 * stack there has address 192.168.1.58 and a clock 0x10203040 ms past the
 * epoch, 0x00ad1c40 ms past midnight UT. Then the per-usage policy, the
 * counters, and HOSTILE-INPUTS B.14-17 and 20.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ipv4/options.h"
#include "wire/ipv4_opts.h"

#define OPTS_MAX 40
#define LOCAL    NS_IP4(192, 168, 1, 58)
#define TS_MS    0x00ad1c40u
/* TS_MS and LOCAL as they appear in the option, network order. */
#define TIME_BYTES 0x00, 0xad, 0x1c, 0x40
#define ADDR_BYTES 192, 168, 1, 58

static struct ns_opt_ctx ctx_default(void)
{
        return (struct ns_opt_ctx){ .local_addr = LOCAL, .have_local_addr = true, .ts_ms = TS_MS };
}

struct outcome {
        bool ok;
        struct ns_opt_problem prob;
        size_t out_len;
        uint8_t out[OPTS_MAX];
};

/*
 * Runs the function on an exactly-sized heap copy of the input and an
 * exactly-sized output (so ASan sees any access past either), with the
 * output pre-filled with garbage to prove every byte is written.
 */
static struct outcome run(const uint8_t *in, size_t len, enum ns_opt_usage usage,
                          struct ns_opt_ctx *ctx)
{
        struct outcome r = { 0 };
        uint8_t *in_copy = malloc(len ? len : 1);
        uint8_t *out = malloc(len ? len : 1);
        assert_non_null(in_copy);
        assert_non_null(out);
        memcpy(in_copy, in, len);
        memset(out, 0xa5, len);
        r.out_len = 12345;
        r.ok = ns__ipv4_process_options(in_copy, len, usage, ctx, out, &r.out_len, &r.prob);
        /* The input is never touched. */
        assert_memory_equal(in_copy, in, len);
        assert_true(len <= OPTS_MAX);
        memcpy(r.out, out, len);
        free(in_copy);
        free(out);
        if (r.ok) {
                assert_false(r.prob.present);
                assert_true(r.out_len <= len);
                assert_int_equal(r.out_len % 4, 0);
                /* Everything past the replacement is EOL padding. */
                for (size_t i = r.out_len; i < len; i++)
                        assert_int_equal(r.out[i], 0);
        } else {
                assert_true(r.prob.present);
                assert_int_equal(r.out_len, 0);
        }
        return r;
}

static void assert_replaced(struct outcome r, const uint8_t *want, size_t want_len)
{
        assert_true(r.ok);
        assert_int_equal(r.out_len, want_len);
        if (want_len)
                assert_memory_equal(r.out, want, want_len);
}

static void assert_problem(struct outcome r, uint8_t pointer, bool need_icmp)
{
        assert_false(r.ok);
        assert_int_equal(r.prob.pointer, pointer);
        assert_int_equal(r.prob.need_icmp, need_icmp);
}

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* ---- gVisor TestIPv4Sanity, option rows ---- */

struct row {
        const char *name;
        uint8_t in[OPTS_MAX];
        size_t in_len;
        bool ok;
        uint8_t want[OPTS_MAX]; /* the reply options, out_len bytes */
        size_t want_len;
        uint8_t ptr;      /* the Parameter Problem pointer (need_icmp always) */
        bool has_unknown; /* echo strips, receive/forward keep: tested apart */
};

#define IN(...) .in = { __VA_ARGS__ }, .in_len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define WANT(...) \
        .ok = true, .want = { __VA_ARGS__ }, .want_len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define FAIL(p) .ok = false, .ptr = (p)

static const struct row sanity[] = {
        { "End options", IN(0, 0, 0, 0), WANT(0, 0, 0, 0) },
        { "NOP options", IN(1, 1, 1, 1), WANT(1, 1, 1, 1) },
        { "NOP and End options", IN(1, 1, 0, 0), WANT(1, 1, 0, 0) },
        /* RFC 791: a full data area bumps the overflow count (high nibble). */
        { "timestamp option overflow", IN(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4),
          WANT(68, 12, 13, 0x21, 192, 168, 1, 12, 1, 2, 3, 4) },
        /* RFC 791: the overflow count itself overflows -> the flags byte. */
        { "timestamp option overflow full", IN(68, 12, 13, 0xf1, 192, 168, 1, 12, 1, 2, 3, 4),
          FAIL(20 + 3) },
        { "unknown option", IN(10, 4, 9, 0), .ok = true, .want_len = 0, .has_unknown = true },
        { "bad option - no length", IN(1, 1, 1, 68), FAIL(20 + 3) },
        /* Linux points at the option's type byte for a bad length. */
        { "bad option - length 0", IN(68, 0, 9, 0, 1, 2, 3, 4), FAIL(20) },
        { "bad option - length 1", IN(68, 1, 9, 0, 1, 2, 3, 4), FAIL(20) },
        { "bad option - length big", IN(68, 9, 9, 0, 1, 2, 3, 4), FAIL(20) },
        /* Length 7 is no multiple of 4, but Linux blames the pointer. */
        { "bad option - length bad", IN(68, 7, 5, 0, 1, 2, 3, 0), FAIL(20 + 2) },
        { "multiple type 0 with room",
          IN(68, 24, 21, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0),
          WANT(68, 24, 25, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
               TIME_BYTES) },
        { "type 0 with no room", IN(68, 8, 9, 0x00, 1, 2, 3, 4), WANT(68, 8, 9, 0x10, 1, 2, 3, 4) },
        { "multiple type 1 timestamps",
          IN(68, 20, 21, 0x11, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8),
          WANT(68, 20, 21, 0x21, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8) },
        { "multiple type 1 timestamps with room",
          IN(68, 28, 21, 0x01, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8, 0, 0, 0, 0,
             0, 0, 0, 0),
          WANT(68, 28, 29, 0x01, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8,
               ADDR_BYTES, TIME_BYTES) },
        /* RFC 791: "The smallest legal value is 5." */
        { "timestamp pointer invalid", IN(68, 8, 0, 0x00, 0, 0, 0, 0), FAIL(20 + 2) },
        { "timestamp pointer too small by 1", IN(68, 8, 4, 0x00, 0, 0, 0, 0), FAIL(20 + 2) },
        { "valid timestamp pointer", IN(68, 8, 5, 0x00, 0, 0, 0, 0),
          WANT(68, 8, 9, 0x00, TIME_BYTES) },
        /* Flag 1 needs 8 bytes; 4 are left. */
        { "bad timer element alignment",
          IN(68, 20, 17, 0x01, 192, 168, 1, 12, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0), FAIL(20 + 2) },
        /* What follows EOL is never parsed, and is zeroed in the reply. */
        { "end of options list", IN(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4, 0, 10, 3, 99),
          WANT(68, 12, 13, 0x21, 192, 168, 1, 12, 1, 2, 3, 4, 0, 0, 0, 0) },
        /* gVisor TestForwarding "end of options list": 7 more junk bytes. */
        { "end of options list (forwarding)",
          IN(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4, 0, 10, 3, 99, 1, 2, 3, 4),
          WANT(68, 12, 13, 0x21, 192, 168, 1, 12, 1, 2, 3, 4, 0, 0, 0, 0) },
        { "timestamp truncated", IN(68, 1, 0, 0), FAIL(20) },
        { "single record route with room", IN(7, 7, 4, 0, 0, 0, 0, 0),
          WANT(7, 7, 8, ADDR_BYTES, 0) },
        { "multiple record route with room",
          IN(7, 23, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0, 0),
          WANT(7, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, ADDR_BYTES, 0) },
        /* RFC 791: a full route area passes unrecorded, no error. */
        { "single record route with no room", IN(7, 7, 8, 1, 2, 3, 4, 0),
          WANT(7, 7, 8, 1, 2, 3, 4, 0) },
        { "multiple record route with no room",
          IN(7, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0),
          WANT(7, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
               0) },
        /* RFC 791: "the smallest legal value for the pointer is 4". */
        { "record route pointer zero", IN(7, 8, 0, 0, 0, 0, 0, 0), FAIL(20 + 2) },
        { "record route pointer too small by 1", IN(7, 8, 3, 0, 0, 0, 0, 0), FAIL(20 + 2) },
        { "valid record route pointer", IN(7, 7, 4, 0, 0, 0, 0, 0), WANT(7, 7, 8, ADDR_BYTES, 0) },
        /* One byte left, four needed: Linux blames the pointer. */
        { "multiple record route with not enough room", IN(7, 8, 8, 1, 2, 3, 4, 0), FAIL(20 + 2) },
        /* RFC 791 3.1: at most one of each; the repeat's own offset. */
        { "duplicate record route", IN(7, 7, 8, 1, 2, 3, 4, 7, 7, 8, 1, 2, 3, 4, 0, 0),
          FAIL(20 + 7) },
        /* RFC 791 flag 3: stamp only when the next prespecified address is
         * ours (gVisor's UpdateTimestamp). */
        { "timestamp with predefined addresses",
          IN(68, 20, 5, 0x03, ADDR_BYTES, 0, 0, 0, 0, 10, 0, 0, 1, 0, 0, 0, 0),
          WANT(68, 20, 13, 0x03, ADDR_BYTES, TIME_BYTES, 10, 0, 0, 1, 0, 0, 0, 0) },
        { "timestamp with predefined addresses, not ours",
          IN(68, 20, 5, 0x03, 10, 0, 0, 1, 0, 0, 0, 0, ADDR_BYTES, 0, 0, 0, 0),
          WANT(68, 20, 5, 0x03, 10, 0, 0, 1, 0, 0, 0, 0, ADDR_BYTES, 0, 0, 0, 0) },
        /* Flag 3 with a full area: nobody left to stamp, no overflow bump,
         * even with the counter at 15. */
        { "timestamp with predefined addresses, full", IN(68, 12, 13, 0xf3, ADDR_BYTES, 1, 2, 3, 4),
          WANT(68, 12, 13, 0xf3, ADDR_BYTES, 1, 2, 3, 4) },
};

static void check_row(const struct row *t, enum ns_opt_usage usage)
{
        print_message("  %s (usage %d)\n", t->name, (int)usage);
        struct ns_opt_ctx ctx = ctx_default();
        struct outcome r = run(t->in, t->in_len, usage, &ctx);
        if (t->ok)
                assert_replaced(r, t->want, t->want_len);
        else
                assert_problem(r, t->ptr, true);
}

/* The reply options of an echo, as TestIPv4Sanity checks them. */
static void test_sanity_rows_echo(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(sanity) / sizeof(sanity[0]); i++)
                check_row(&sanity[i], NS_OPT_USAGE_ECHO);
}

/* Receive and forward act alike on timestamp and record route. */
static void test_sanity_rows_receive_and_forward(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(sanity) / sizeof(sanity[0]); i++) {
                if (sanity[i].has_unknown)
                        continue;
                check_row(&sanity[i], NS_OPT_USAGE_RECEIVE);
                check_row(&sanity[i], NS_OPT_USAGE_FORWARD);
        }
}

/* gVisor "unknown option": stripped from the echo reply (checked in the
 * table), passed unchanged to a transport or the next hop. */
static void test_unknown_option_passed_on_receive_and_forward(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_replaced(run(BYTES(10, 4, 9, 0), NS_OPT_USAGE_RECEIVE, &ctx), BYTES(10, 4, 9, 0));
        assert_replaced(run(BYTES(10, 4, 9, 0), NS_OPT_USAGE_FORWARD, &ctx), BYTES(10, 4, 9, 0));
        assert_replaced(run(BYTES(10, 4, 9, 0), NS_OPT_USAGE_VERIFY, &ctx), NULL, 0);
        assert_int_equal(ctx.seen.unknown, 3);
}

/* gVisor TestForwarding "TS type 1 full" and "TS type 0". */
static void test_forwarding_rows(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(
            run(BYTES(68, 12, 13, 0xf1, 192, 168, 1, 12, 1, 2, 3, 4), NS_OPT_USAGE_FORWARD, &ctx),
            20 + 3, true);
        assert_replaced(run(BYTES(68, 24, 21, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                  15, 16, 0, 0, 0, 0),
                            NS_OPT_USAGE_FORWARD, &ctx),
                        BYTES(68, 24, 25, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                              16, TIME_BYTES));
}

/* ---- more option rules ---- */

/* RFC 791 defines timestamp flags 0, 1 and 3; the rest fail at byte 3. */
static void test_timestamp_bad_flags(void **state)
{
        (void)state;
        for (uint8_t flags = 0; flags < 16; flags++) {
                struct ns_opt_ctx ctx = ctx_default();
                uint8_t in[16] = { 1, 1, 1, 1, 68, 12, 5, flags, 0, 0, 0, 0, 0, 0, 0, 0 };
                struct outcome r = run(in, sizeof(in), NS_OPT_USAGE_RECEIVE, &ctx);
                if (flags == 0 || flags == 1 || flags == 3)
                        assert_true(r.ok);
                else
                        assert_problem(r, 24 + 3, true);
                /* Checked flags or not, the option was seen. */
                assert_int_equal(ctx.seen.ts, 1);
        }
}

/* Flag 3 has no entry to check unless it is fully there: 4 of 8 bytes
 * left is partial room, at the pointer. */
static void test_timestamp_prespecified_partial_room(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(run(BYTES(68, 16, 13, 0x03, ADDR_BYTES, 0, 0, 0, 0, ADDR_BYTES),
                           NS_OPT_USAGE_ECHO, &ctx),
                       22, true);
}

/* Record Route needs room for one address (3 + 4 bytes): shorter is a
 * length fault, at the length byte; shorter than 3 the iterator reports,
 * also at the length byte. */
static void test_record_route_too_short(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(run(BYTES(7, 6, 4, 0, 0, 0, 0, 0), NS_OPT_USAGE_RECEIVE, &ctx), 21, true);
        assert_problem(run(BYTES(1, 7, 3, 4), NS_OPT_USAGE_RECEIVE, &ctx), 22, true);
        assert_problem(run(BYTES(7, 2, 0, 0), NS_OPT_USAGE_RECEIVE, &ctx), 21, true);
        /* Only the first two reached handle_record_route and were counted. */
        assert_int_equal(ctx.seen.rr, 2);
}

/* Router Alert is an "other" option here (the seed has no action for it):
 * counted apart, passed on receive, stripped from echo; a wrong length is
 * the iterator's fault, at the length byte. */
static void test_router_alert_is_unknown(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_replaced(run(BYTES(148, 4, 0, 0), NS_OPT_USAGE_RECEIVE, &ctx), BYTES(148, 4, 0, 0));
        assert_replaced(run(BYTES(148, 4, 0, 0), NS_OPT_USAGE_ECHO, &ctx), NULL, 0);
        assert_int_equal(ctx.seen.ra, 2);
        assert_int_equal(ctx.seen.unknown, 0);
        assert_problem(run(BYTES(148, 3, 0, 1), NS_OPT_USAGE_RECEIVE, &ctx), 21, true);
        assert_problem(run(BYTES(148, 4, 0, 0, 148, 4, 0, 0), NS_OPT_USAGE_RECEIVE, &ctx), 24,
                       true);
}

/* RFC 791 3.1: duplicates of any type are refused at the repeat, NOPs
 * excepted; the first copy is counted, the repeat is not. */
static void test_duplicates(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(run(BYTES(68, 8, 5, 0, 0, 0, 0, 0, 1, 68, 8, 5, 0, 0, 0, 0, 0, 0, 0, 0),
                           NS_OPT_USAGE_ECHO, &ctx),
                       29, true);
        assert_int_equal(ctx.seen.ts, 1);
        assert_problem(run(BYTES(10, 2, 10, 2), NS_OPT_USAGE_ECHO, &ctx), 22, true);
        assert_int_equal(ctx.seen.unknown, 1);
        /* Removal does not hide a duplicate. */
        assert_problem(run(BYTES(10, 2, 10, 2), NS_OPT_USAGE_VERIFY, &ctx), 22, true);
        /* A duplicate of a bad option is never reached: the first fails. */
        assert_problem(
            run(BYTES(7, 8, 0, 0, 0, 0, 0, 0, 7, 8, 4, 0, 0, 0, 0, 0), NS_OPT_USAGE_ECHO, &ctx), 22,
            true);
        /* Many NOPs are fine, and so are distinct unknown types. */
        assert_replaced(
            run(BYTES(1, 1, 1, 1, 1, 1, 1, 10, 2, 11, 2, 1), NS_OPT_USAGE_FORWARD, &ctx),
            BYTES(1, 1, 1, 1, 1, 1, 1, 10, 2, 11, 2, 1));
}

/* The seed refuses any option area, silently, when it has no address to
 * record (no main address, broadcast or multicast destination). */
static void test_no_local_address(void **state)
{
        (void)state;
        for (int u = NS_OPT_USAGE_VERIFY; u <= NS_OPT_USAGE_ECHO; u++) {
                struct ns_opt_ctx ctx = ctx_default();
                ctx.have_local_addr = false;
                assert_problem(run(BYTES(1, 1, 1, 1), (enum ns_opt_usage)u, &ctx), 0, false);
                assert_problem(run(BYTES(7, 7, 4, 0, 0, 0, 0, 0), (enum ns_opt_usage)u, &ctx), 0,
                               false);
                assert_int_equal(ctx.seen.rr, 0);
        }
}

/* ---- per-usage policy on one mixed area ---- */

/* NOP, RR with room, TS flag 1 with room, unknown 10. */
static const uint8_t mixed[24] = {
        1,                                       /* 20 */
        7,  7,  4, 0,    0, 0, 0,                /* 21: RR */
        68, 12, 5, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, /* 28: TS */
        10, 4,  1, 2,                            /* 40: unknown */
};
static const uint8_t mixed_processed[20] = {
        1, 7, 7, 8, ADDR_BYTES, 68, 12, 13, 0x01, ADDR_BYTES, TIME_BYTES,
};

static void test_verify_never_modifies_and_removes_unknown(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_replaced(run(mixed, sizeof(mixed), NS_OPT_USAGE_VERIFY, &ctx), mixed, 20);
        assert_int_equal(ctx.seen.ts, 1);
        assert_int_equal(ctx.seen.rr, 1);
        assert_int_equal(ctx.seen.unknown, 1);
        /* A full timestamp area: the check runs (0xf1 still fails) but the
         * overflow counter is not bumped in the output. */
        assert_replaced(
            run(BYTES(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4), NS_OPT_USAGE_VERIFY, &ctx),
            BYTES(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4));
        assert_problem(
            run(BYTES(68, 12, 13, 0xf1, 192, 168, 1, 12, 1, 2, 3, 4), NS_OPT_USAGE_VERIFY, &ctx),
            23, true);
        /* Every other check applies to verify too. */
        assert_problem(run(BYTES(7, 8, 8, 1, 2, 3, 4, 0), NS_OPT_USAGE_VERIFY, &ctx), 22, true);
        assert_problem(run(BYTES(68, 8, 4, 0, 0, 0, 0, 0), NS_OPT_USAGE_VERIFY, &ctx), 22, true);
}

static void test_receive_and_forward_process_and_pass_unknown(void **state)
{
        (void)state;
        uint8_t want[24];
        memcpy(want, mixed_processed, 20);
        memcpy(want + 20, mixed + 20, 4);
        for (int u = NS_OPT_USAGE_RECEIVE; u <= NS_OPT_USAGE_FORWARD; u++) {
                struct ns_opt_ctx ctx = ctx_default();
                assert_replaced(run(mixed, sizeof(mixed), (enum ns_opt_usage)u, &ctx), want,
                                sizeof(want));
                assert_int_equal(ctx.seen.unknown, 1);
        }
}

static void test_echo_processes_and_strips_unknown(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_replaced(run(mixed, sizeof(mixed), NS_OPT_USAGE_ECHO, &ctx), mixed_processed,
                        sizeof(mixed_processed));
        assert_int_equal(ctx.seen.ts, 1);
        assert_int_equal(ctx.seen.rr, 1);
        assert_int_equal(ctx.seen.unknown, 1);
        /* Stripping closes the gap: a later option moves up. */
        assert_replaced(run(BYTES(10, 3, 0, 7, 7, 4, 0, 0, 0, 0, 0, 0), NS_OPT_USAGE_ECHO, &ctx),
                        BYTES(7, 7, 8, ADDR_BYTES, 0));
}

/* The counters accumulate across calls; the caller moves them to stats. */
static void test_counters_accumulate(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        for (int i = 0; i < 3; i++)
                (void)run(mixed, sizeof(mixed), NS_OPT_USAGE_ECHO, &ctx);
        assert_int_equal(ctx.seen.ts, 3);
        assert_int_equal(ctx.seen.rr, 3);
        assert_int_equal(ctx.seen.unknown, 3);
}

/* A 40-byte area with one NOP: the reply is 4 bytes, the rest zero. */
static void test_padding_to_32_bits(void **state)
{
        (void)state;
        uint8_t in[OPTS_MAX];
        memset(in, 0, sizeof(in));
        in[0] = 1;
        in[1] = 10;
        in[2] = 2;
        struct ns_opt_ctx ctx = ctx_default();
        assert_replaced(run(in, sizeof(in), NS_OPT_USAGE_ECHO, &ctx), BYTES(1, 0, 0, 0));
        assert_replaced(run(in, 0, NS_OPT_USAGE_ECHO, &ctx), NULL, 0);
}

/* ---- HOSTILE-INPUTS B ---- */

/* B.14: length 0 or 1 on any type, at any position -> the option start. */
static void test_hostile_14_length_0_or_1(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(run(BYTES(10, 0, 0, 0), NS_OPT_USAGE_FORWARD, &ctx), 20, true);
        assert_problem(run(BYTES(7, 1, 0, 0), NS_OPT_USAGE_FORWARD, &ctx), 20, true);
        assert_problem(run(BYTES(1, 1, 131, 1), NS_OPT_USAGE_FORWARD, &ctx), 22, true);
        assert_problem(run(BYTES(1, 1, 1, 1, 1, 1, 137, 0), NS_OPT_USAGE_ECHO, &ctx), 26, true);
}

/* B.15: a length past the area -> the option start. */
static void test_hostile_15_length_past_area(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(run(BYTES(10, 9, 0, 0, 0, 0, 0, 0), NS_OPT_USAGE_FORWARD, &ctx), 20, true);
        assert_problem(run(BYTES(1, 7, 255, 4, 0, 0, 0, 0), NS_OPT_USAGE_RECEIVE, &ctx), 21, true);
        assert_problem(run(BYTES(7, 7, 4, 0, 0, 0, 0, 68, 6, 5, 0, 0), NS_OPT_USAGE_ECHO, &ctx), 27,
                       true);
}

/* B.16: a type needing a length in the last byte -> its own offset. */
static void test_hostile_16_no_length_byte(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_problem(run(BYTES(1, 1, 1, 7), NS_OPT_USAGE_RECEIVE, &ctx), 23, true);
        assert_problem(run(BYTES(1, 1, 1, 131), NS_OPT_USAGE_FORWARD, &ctx), 23, true);
        assert_problem(run(BYTES(68), NS_OPT_USAGE_VERIFY, &ctx), 20, true);
}

/*
 * B.17 (the named gVisor rows are in the sanity table): every RR and TS
 * shape in a 40-byte area of NOPs -- each length, pointer and
 * flags/overflow byte -- is either rejected with a pointer inside the option, or
 * accepted with a replacement no longer than the input, without touching
 * memory past either buffer (ASan build).
 */
static void test_hostile_17_every_rr_and_ts_shape(void **state)
{
        (void)state;
        static const uint8_t oflw_flags[] = { 0x00, 0x01, 0x02, 0x03, 0x0f, 0xf0, 0xf1, 0xf3 };
        size_t accepted = 0, rejected = 0;
        for (unsigned len = 0; len <= OPTS_MAX + 1; len++) {
                for (unsigned ptr = 0; ptr <= OPTS_MAX + 2; ptr++) {
                        for (size_t f = 0; f < sizeof(oflw_flags); f++) {
                                uint8_t in[OPTS_MAX];
                                memset(in, NS_IPV4_OPT_NOP, sizeof(in));
                                for (int type = 0; type < 2; type++) {
                                        in[0] = type ? NS_IPV4_OPT_TS : NS_IPV4_OPT_RR;
                                        in[1] = (uint8_t)len;
                                        in[2] = (uint8_t)ptr;
                                        in[3] = oflw_flags[f];
                                        struct ns_opt_ctx ctx = ctx_default();
                                        struct outcome r =
                                            run(in, sizeof(in), NS_OPT_USAGE_FORWARD, &ctx);
                                        if (r.ok) {
                                                accepted++;
                                                assert_true(len >= 2 && len <= OPTS_MAX);
                                                assert_int_equal(r.out[0], in[0]);
                                                assert_int_equal(r.out[1], len);
                                        } else {
                                                rejected++;
                                                assert_true(r.prob.need_icmp);
                                                /* A whole header: the fault is in it.
                                                 * Else later bytes parse as options. */
                                                if (len >= 4 && len <= OPTS_MAX)
                                                        assert_in_range(r.prob.pointer, 20, 23);
                                                else
                                                        assert_in_range(r.prob.pointer, 20,
                                                                        20 + OPTS_MAX - 1);
                                        }
                                }
                        }
                }
        }
        assert_true(accepted > 0);
        assert_true(rejected > 0);
}

/*
 * B.20: Loose and Strict Source Route (131, 137) are not honoured: no
 * pointer moves, no route is read. By the seed's rules for unknown
 * options they are passed on forward and receive and removed from echo
 * replies and verify output. The receive and forward paths drop
 * source-routed packets before this function is called (Linux's
 * accept_source_route=0): tests/hostile/test_options_items.c.
 */
static void test_hostile_20_source_routes_not_honoured(void **state)
{
        (void)state;
        struct ns_opt_ctx ctx = ctx_default();
        assert_replaced(run(BYTES(131, 7, 4, 192, 0, 2, 1, 0), NS_OPT_USAGE_FORWARD, &ctx),
                        BYTES(131, 7, 4, 192, 0, 2, 1, 0));
        assert_replaced(run(BYTES(137, 7, 4, 192, 0, 2, 1, 0), NS_OPT_USAGE_RECEIVE, &ctx),
                        BYTES(137, 7, 4, 192, 0, 2, 1, 0));
        /* A nonsense pointer is not looked at either. */
        assert_replaced(run(BYTES(131, 7, 0, 192, 0, 2, 1, 0), NS_OPT_USAGE_FORWARD, &ctx),
                        BYTES(131, 7, 0, 192, 0, 2, 1, 0));
        /* Removed; the EOL after it stays, padded to 4. */
        assert_replaced(run(BYTES(131, 7, 4, 192, 0, 2, 1, 0), NS_OPT_USAGE_ECHO, &ctx),
                        BYTES(0, 0, 0, 0));
        assert_replaced(run(BYTES(137, 7, 4, 192, 0, 2, 1, 0), NS_OPT_USAGE_VERIFY, &ctx),
                        BYTES(0, 0, 0, 0));
        assert_int_equal(ctx.seen.unknown, 5);
        assert_int_equal(ctx.seen.rr, 0);
        /* Both at once, or twice: distinct types pass, a repeat is refused. */
        assert_replaced(run(BYTES(131, 3, 4, 137, 3, 4, 0, 0), NS_OPT_USAGE_FORWARD, &ctx),
                        BYTES(131, 3, 4, 137, 3, 4, 0, 0));
        assert_problem(run(BYTES(131, 3, 4, 131, 3, 4, 0, 0), NS_OPT_USAGE_FORWARD, &ctx), 23,
                       true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sanity_rows_echo),
                cmocka_unit_test(test_sanity_rows_receive_and_forward),
                cmocka_unit_test(test_unknown_option_passed_on_receive_and_forward),
                cmocka_unit_test(test_forwarding_rows),
                cmocka_unit_test(test_timestamp_bad_flags),
                cmocka_unit_test(test_timestamp_prespecified_partial_room),
                cmocka_unit_test(test_record_route_too_short),
                cmocka_unit_test(test_router_alert_is_unknown),
                cmocka_unit_test(test_duplicates),
                cmocka_unit_test(test_no_local_address),
                cmocka_unit_test(test_verify_never_modifies_and_removes_unknown),
                cmocka_unit_test(test_receive_and_forward_process_and_pass_unknown),
                cmocka_unit_test(test_echo_processes_and_strips_unknown),
                cmocka_unit_test(test_counters_accumulate),
                cmocka_unit_test(test_padding_to_32_bits),
                cmocka_unit_test(test_hostile_14_length_0_or_1),
                cmocka_unit_test(test_hostile_15_length_past_area),
                cmocka_unit_test(test_hostile_16_no_length_byte),
                cmocka_unit_test(test_hostile_17_every_rr_and_ts_shape),
                cmocka_unit_test(test_hostile_20_source_routes_not_honoured),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
