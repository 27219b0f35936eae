/*
 * Raw writes with a caller-built header (IP_HDRINCL; the seed's
 * WriteHeaderIncludedPacket and TestWriteHeaderIncludedPacket): each
 * fix-up the stack makes and each header it refuses.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/err.h>
#include <netstack/ipv4.h>

#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL  NS_IP4(192, 0, 2, 1)
#define REMOTE NS_IP4(203, 0, 113, 9)
#define PROTO  253

static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, LOCAL, 24);
        struct ns_route_entry r = { .nic_id = 1, .gateway = NS_IP4(192, 0, 2, 254) };
        assert_int_equal(ns_route_add(env->s, &r), 0);
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

/* Writes len bytes as a header-included packet along the route to remote. */
static int write_raw(struct ns_test_env *env, ns_ip4 remote, const uint8_t *bytes, uint32_t len)
{
        struct ns_path path;
        assert_int_equal(ns__stack_find_route(env->s, 0, NS_IP4_ANY, remote, false, &path), 0);
        struct ns_pkt *pkt =
            ns_pkt_from_bytes(ns_stack_pool(env->s), NS_IPV4_TX_HEADROOM, bytes, len);
        assert_non_null(pkt);
        int err = ns__ipv4_write_header_included(ns__ipv4_of(env->s), &path, pkt);
        ns__path_release(&path);
        return err;
}

static const uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

struct fixup_row {
        const char *name;
        struct ipv4_spec spec;
        bool garble_checksum; /* write a wrong checksum after building */
        ns_ip4 want_src;
        bool want_id_assigned; /* else the ID stays as given */
};

#define BASE .proto = PROTO, .ttl = 33, .tos = 0x10, .payload = body, .payload_len = 8

static const struct fixup_row fixup_rows[] = {
        { "unspecified source is filled in",
          { BASE, .src = 0, .dst = REMOTE, .id = 7 },
          false,
          LOCAL,
          false },
        { "given source is kept",
          { BASE, .src = NS_IP4(198, 51, 100, 3), .dst = REMOTE, .id = 7 },
          false,
          NS_IP4(198, 51, 100, 3),
          false },
        /* The seed: the destination always comes from the route. */
        { "destination comes from the route",
          { BASE, .src = LOCAL, .dst = NS_IP4(1, 2, 3, 4), .id = 7 },
          false,
          LOCAL,
          false },
        /* Total Length is always set to the bytes written. */
        { "total length too big is fixed",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 7, .force_total_len = true, .total_len = 999 },
          false,
          LOCAL,
          false },
        { "total length zero is fixed",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 7, .force_total_len = true, .total_len = 0 },
          false,
          LOCAL,
          false },
        { "checksum is recomputed",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 7 },
          true,
          LOCAL,
          false },
        /* RFC 6864 4.3: a non-atomic datagram needs a unique ID. */
        { "zero ID without DF is assigned",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 0 },
          false,
          LOCAL,
          true },
        /* RFC 6864 4.1: an atomic datagram's ID means nothing; kept zero. */
        { "zero ID with DF stays zero",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 0, .flags = NS_IPV4_FLAG_DF },
          false,
          LOCAL,
          false },
        { "zero ID with DF and MF is assigned",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 0,
            .flags = NS_IPV4_FLAG_DF | NS_IPV4_FLAG_MF },
          false,
          LOCAL,
          true },
        { "zero ID with DF and an offset is assigned",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 0, .flags = NS_IPV4_FLAG_DF, .frag_off = 64 },
          false,
          LOCAL,
          true },
        { "options are kept",
          { BASE, .src = LOCAL, .dst = REMOTE, .id = 7, .options = (const uint8_t[]){ 1, 1, 1, 0 },
            .options_len = 4 },
          false,
          LOCAL,
          false },
};

static void test_fixups(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(fixup_rows) / sizeof(fixup_rows[0]); i++) {
                const struct fixup_row *row = &fixup_rows[i];
                print_message("row: %s\n", row->name);
                struct ns_test_env env;
                setup(&env);
                uint8_t buf[128];
                size_t n = ipv4_build(buf, sizeof(buf), &row->spec);
                if (row->garble_checksum)
                        ns_ipv4_set_checksum(buf, 0xdead);
                size_t hlen = 20 + row->spec.options_len;
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                assert_int_equal(write_raw(&env, REMOTE, buf, (uint32_t)n), 0);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after, "ip.packets_sent=1");
                struct ns_pkt *p = ns_channel_read(env.ch[1]);
                assert_non_null(p);
                const uint8_t *h = ns_pkt_data(p);
                assert_int_equal(ns_pkt_len(p), n);
                assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(p)), NS_IPV4_VALID);
                assert_true(ns_ipv4_checksum_ok(h, hlen));
                assert_int_equal(ns_ipv4_hdr_len(h), hlen);
                assert_int_equal(ns_ipv4_total_len(h), n);
                assert_int_equal(ns_ipv4_src(h), row->want_src);
                assert_int_equal(ns_ipv4_dst(h), REMOTE);
                assert_int_equal(ns_ipv4_ttl(h), 33);
                assert_int_equal(ns_ipv4_tos(h), 0x10);
                assert_int_equal(ns_ipv4_proto(h), PROTO);
                assert_int_equal(ns_ipv4_flags(h), row->spec.flags);
                assert_int_equal(ns_ipv4_frag_off(h), row->spec.frag_off);
                if (row->want_id_assigned)
                        assert_int_not_equal(ns_ipv4_id(h), 0);
                else
                        assert_int_equal(ns_ipv4_id(h), row->spec.id);
                assert_memory_equal(h + 20, buf + 20, n - 20); /* options and payload */
                ns_pkt_free(p);
                teardown(&env);
        }
}

/* Assigned IDs come from the flow's counter: consecutive for one flow. */
static void test_assigned_ids_are_consecutive(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ipv4_spec spec = { BASE, .src = LOCAL, .dst = REMOTE };
        uint8_t buf[64];
        size_t n = ipv4_build(buf, sizeof(buf), &spec);
        uint16_t ids[2];
        for (int i = 0; i < 2; i++) {
                assert_int_equal(write_raw(&env, REMOTE, buf, (uint32_t)n), 0);
                struct ns_pkt *p = ns_channel_read(env.ch[1]);
                ids[i] = ns_ipv4_id(ns_pkt_data(p));
                ns_pkt_free(p);
        }
        assert_int_equal(ids[1], (uint16_t)(ids[0] + 1));
        teardown(&env);
}

struct reject_row {
        const char *name;
        struct ipv4_spec spec;
        uint32_t len;       /* bytes to write (0: all built) */
        uint8_t first_byte; /* version and IHL byte to write instead (0: as built) */
};

static const struct reject_row reject_rows[] = {
        { .name = "shorter than 20 bytes",
          .spec = { BASE, .src = LOCAL, .dst = REMOTE },
          .len = 19 },
        { .name = "IHL below 5", .spec = { BASE, .src = LOCAL, .dst = REMOTE, .ihl = 4 } },
        { .name = "IHL of 0", .spec = { BASE, .src = LOCAL, .dst = REMOTE }, .first_byte = 0x40 },
        /* IHL 15 (60 bytes) but only 28 bytes written. */
        { .name = "IHL past the data", .spec = { BASE, .src = LOCAL, .dst = REMOTE, .ihl = 15 } },
        /* IHL 6 on a bare 20-byte header. */
        { .name = "IHL past a bare header",
          .spec = { .proto = PROTO, .ttl = 1, .src = LOCAL, .ihl = 6 } },
        { .name = "version 6", .spec = { BASE, .src = LOCAL, .dst = REMOTE, .version = 6 } },
        /* RFC 791: offset + payload must end within 65535 bytes. */
        { .name = "fragment ending past 65535",
          .spec = { BASE, .src = LOCAL, .dst = REMOTE, .frag_off = 65528 } },
};

static void test_rejections(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(reject_rows) / sizeof(reject_rows[0]); i++) {
                const struct reject_row *row = &reject_rows[i];
                print_message("row: %s\n", row->name);
                struct ns_test_env env;
                setup(&env);
                uint8_t buf[128];
                size_t n = ipv4_build(buf, sizeof(buf), &row->spec);
                if (row->first_byte)
                        buf[0] = row->first_byte;
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                assert_int_equal(write_raw(&env, REMOTE, buf, row->len ? row->len : (uint32_t)n),
                                 NS_ERR_MALFORMED_HEADER);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after, "");
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                teardown(&env);
        }
}

/* A header-included packet to ourselves loops, and its checksums are checked. */
static void test_loop_checks_checksums(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct capture cap;
        capture_register(env.s, PROTO, &cap);
        struct ipv4_spec spec = { BASE, .src = 0, .dst = 0, .id = 9 };
        uint8_t buf[64];
        size_t n = ipv4_build(buf, sizeof(buf), &spec);
        assert_int_equal(write_raw(&env, LOCAL, buf, (uint32_t)n), 0);
        assert_int_equal(cap.count, 1);
        assert_false(cap.last_flags & NS_PKT_F_CSUM_VERIFIED);
        assert_true(cap.last_flags & NS_PKT_F_LOOPED);
        assert_int_equal(ns_ipv4_src(cap.last_ip), LOCAL);
        assert_int_equal(ns_ipv4_dst(cap.last_ip), LOCAL);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        teardown(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixups),
                cmocka_unit_test(test_assigned_ids_are_consecutive),
                cmocka_unit_test(test_rejections),
                cmocka_unit_test(test_loop_checks_checksums),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
