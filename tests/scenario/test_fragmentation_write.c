/*
 * Fragmentation on send through ns__ipv4_write_packet and
 * ns__ipv4_write_packets, row for row after gVisor's fragmentationTests
 * (TestFragmentationWritePacket, TestFragmentationWritePackets) and
 * TestFragmentationErrors, plus headers with options (RFC 791 3.1: only
 * options with the copied flag go in every fragment). A mock link records
 * what it is given and can refuse packets after a number of them, as
 * gVisor's testutil.MockLinkEndpoint does.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/err.h>
#include <netstack/ipv4.h>

#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL  NS_IP4(192, 0, 2, 1)
#define REMOTE NS_IP4(203, 0, 113, 9)
#define PROTO  6 /* TCP's number, as the gVisor rows use */
#define TTL    42

/* ---- mock link ---- */

struct mock_link {
        struct ns_link link;
        struct ns_pkt_list written;
        uint32_t allow; /* packets accepted before every write fails */
        int err;        /* what a refused write returns */
};

static int mock_write(struct ns_link *link, struct ns_pkt_list *pkts)
{
        struct mock_link *m = (struct mock_link *)link;
        int n = 0;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(pkts)) != NULL) {
                if (m->allow == 0) {
                        ns_pkt_free(p);
                        continue;
                }
                m->allow--;
                ns_pkt_list_push_back(&m->written, p);
                n++;
        }
        return n > 0 ? n : m->err;
}

static const struct ns_link_ops mock_ops = { .write = mock_write };

static void mock_init(struct mock_link *m, uint32_t mtu, uint32_t allow, int err)
{
        memset(m, 0, sizeof(*m));
        m->link.ops = &mock_ops;
        m->link.mtu = mtu;
        m->allow = allow;
        m->err = err;
        ns_pkt_list_init(&m->written);
}

struct env {
        struct ns_test_env t;
        struct mock_link m;
};

static void setup(struct env *e, uint32_t mtu, uint32_t allow, int err)
{
        ns_test_env_init(&e->t, mods);
        mock_init(&e->m, mtu, allow, err);
        assert_int_equal(ns_nic_create(e->t.s, 1, &e->m.link, NULL), 0);
        struct ns_ip4_prefix p = { .addr = LOCAL, .prefix_len = 24 };
        assert_int_equal(ns_nic_add_address(e->t.s, 1, p), 0);
        struct ns_route_entry r = { .nic_id = 1, .gateway = NS_IP4(192, 0, 2, 254) };
        assert_int_equal(ns_route_add(e->t.s, &r), 0);
}

static void teardown(struct env *e)
{
        ns_pkt_list_free(&e->m.written);
        assert_int_equal(ns_test_packets_in_use(&e->t), 0);
        ns_test_env_destroy(&e->t);
}

/* A transport message of len bytes: byte i is i * 7 + tag. */
static struct ns_pkt *message(struct env *e, uint8_t tag, uint32_t len)
{
        struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(e->t.s), NS_IPV4_TX_HEADROOM, len);
        assert_non_null(pkt);
        uint8_t *d = ns_pkt_put(pkt, len);
        for (uint32_t i = 0; i < len; i++)
                d[i] = (uint8_t)(i * 7 + tag);
        return pkt;
}

/* ---- fragmentationTests ---- */

struct want_frag {
        uint16_t offset;
        uint16_t payload;
        bool more;
};

struct frag_row {
        const char *name;
        uint32_t mtu;
        uint32_t transport_len, payload_len; /* sent as one message */
        const uint8_t *options;
        uint8_t options_len;
        uint8_t later_options_len; /* options bytes in fragments after the first */
        struct want_frag want[8];
        uint32_t n_want;
};

/* Record Route (not copied): first fragment only. */
static const uint8_t opt_rr[39] = { 7, 39, 4 };
/* Router Alert (copied, RFC 2113): in every fragment. */
static const uint8_t opt_ra[] = { 148, 4, 0, 0 };

static const struct frag_row frag_rows[] = {
        { "no fragmentation", 1280, 0, 1000, NULL, 0, 0, { { 0, 1000, false } }, 1 },
        { "fragmented", 1280, 0, 2000, NULL, 0, 0, { { 0, 1256, true }, { 1256, 744, false } }, 2 },
        { "fragmented with the minimum mtu",
          68,
          0,
          100,
          NULL,
          0,
          0,
          { { 0, 48, true }, { 48, 48, true }, { 96, 4, false } },
          3 },
        { "fragmented with mtu not a multiple of 8",
          69,
          0,
          100,
          NULL,
          0,
          0,
          { { 0, 48, true }, { 48, 48, true }, { 96, 4, false } },
          3 },
        { "no fragmentation with big header",
          2000,
          100,
          1000,
          NULL,
          0,
          0,
          { { 0, 1100, false } },
          1 },
        { "fragmented with big header",
          1280,
          100,
          1200,
          NULL,
          0,
          0,
          { { 0, 1256, true }, { 1256, 44, false } },
          2 },
        { "fragmented with mtu smaller than header",
          300,
          1000,
          500,
          NULL,
          0,
          0,
          { { 0, 280, true },
            { 280, 280, true },
            { 560, 280, true },
            { 840, 280, true },
            { 1120, 280, true },
            { 1400, 100, false } },
          6 },
        /* 60-byte first header: 1220 -> 1216 bytes; then 20-byte headers. */
        { "fragmented with 40 bytes of record route",
          1280,
          0,
          2000,
          opt_rr,
          sizeof opt_rr,
          0,
          { { 0, 1216, true }, { 1216, 784, false } },
          2 },
        /* 24-byte headers throughout: (1280 - 24) rounded down to 8 is 1256. */
        { "fragmented with a copied option",
          1280,
          0,
          2000,
          opt_ra,
          sizeof opt_ra,
          4,
          { { 0, 1256, true }, { 1256, 744, false } },
          2 },
        /* The minimum MTU with a 60-byte header leaves 8 bytes a fragment. */
        { "minimum mtu with a 60-byte first header",
          68,
          0,
          40,
          opt_rr,
          sizeof opt_rr,
          0,
          { { 0, 8, true }, { 8, 32, false } },
          2 },
};

/*
 * Checks frags (in order) against row: each a valid datagram within the
 * MTU, with the source's header but for length, offset, MF and checksum,
 * and their payloads together the message sent (gVisor's compareFragments).
 */
static void compare_fragments(const struct frag_row *row, struct ns_pkt **frags, uint16_t *id_out)
{
        uint32_t total = row->transport_len + row->payload_len;
        uint32_t opt_pad = ((uint32_t)row->options_len + 3u) & ~3u;
        uint32_t later_pad = ((uint32_t)row->later_options_len + 3u) & ~3u;
        uint32_t next = 0;
        uint16_t id = 0;
        for (uint32_t i = 0; i < row->n_want; i++) {
                const uint8_t *h = ns_pkt_data(frags[i]);
                uint32_t len = ns_pkt_len(frags[i]);
                if (ns_ipv4_validate(h, len) != NS_IPV4_VALID)
                        fail_msg("%s: fragment %u is not a valid datagram", row->name, i);
                assert_true(len <= row->mtu);
                assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
                assert_int_equal(ns_ipv4_proto(h), PROTO);
                assert_int_equal(ns_ipv4_ttl(h), TTL);
                assert_int_equal(ns_ipv4_src(h), LOCAL);
                assert_int_equal(ns_ipv4_dst(h), REMOTE);
                assert_false(ns_ipv4_df(h));
                assert_int_equal(frags[i]->net_proto, 0x0800);
                if (i == 0)
                        id = ns_ipv4_id(h);
                assert_int_equal(ns_ipv4_id(h), id);
                uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(h);
                assert_int_equal(hlen, 20 + (i == 0 ? opt_pad : later_pad));
                if (i == 0 && row->options_len)
                        assert_memory_equal(h + 20, row->options, row->options_len);
                if (i > 0 && row->later_options_len)
                        assert_memory_equal(h + 20, row->options, row->later_options_len);
                if (ns_ipv4_frag_off(h) != row->want[i].offset ||
                    len - hlen != row->want[i].payload || ns_ipv4_mf(h) != row->want[i].more)
                        fail_msg("%s: fragment %u: offset %u payload %u mf %d", row->name, i,
                                 ns_ipv4_frag_off(h), len - hlen, ns_ipv4_mf(h));
                assert_int_equal(ns_ipv4_frag_off(h), next);
                for (uint32_t k = 0; k < len - hlen; k++)
                        if (h[hlen + k] != (uint8_t)((next + k) * 7 + 1))
                                fail_msg("%s: fragment %u byte %u", row->name, i, k);
                next += len - hlen;
                /* Room for a link header in front of every fragment. */
                assert_true(ns_pkt_headroom(frags[i]) >= 14);
        }
        assert_int_equal(next, total);
        if (id_out)
                *id_out = id;
}

static void test_fragmentation_write_packet(void **state)
{
        (void)state;
        for (size_t r = 0; r < sizeof(frag_rows) / sizeof(frag_rows[0]); r++) {
                const struct frag_row *row = &frag_rows[r];
                struct env e;
                setup(&e, row->mtu, UINT32_MAX, NS_ERR_IO);
                struct ns_path path;
                assert_int_equal(ns__stack_find_route(e.t.s, 0, NS_IP4_ANY, REMOTE, false, &path),
                                 0);
                struct ns_ipv4_params params = { .proto = PROTO,
                                                 .ttl = TTL,
                                                 .options = row->options,
                                                 .options_len = row->options_len };
                int err =
                    ns__ipv4_write_packet(ns__ipv4_of(e.t.s), &path, &params,
                                          message(&e, 1, row->transport_len + row->payload_len));
                ns__path_release(&path);
                if (err)
                        fail_msg("%s: write_packet: %s", row->name, ns_strerror(err));
                if (e.m.written.count != row->n_want)
                        fail_msg("%s: %u packets written, want %u", row->name, e.m.written.count,
                                 row->n_want);
                struct ns_pkt *frags[8];
                struct ns_pkt *p = e.m.written.head;
                for (uint32_t i = 0; i < row->n_want; i++, p = p->next)
                        frags[i] = p;
                compare_fragments(row, frags, NULL);
                struct ns_stats st;
                ns_stack_get_stats(e.t.s, &st);
                assert_int_equal(st.ip.packets_sent, row->n_want);
                assert_int_equal(st.ip.outgoing_packet_errors, 0);
                assert_int_equal(st.ip.frag_oks, row->n_want > 1 ? 1 : 0);
                assert_int_equal(st.ip.frag_creates, row->n_want > 1 ? row->n_want : 0);
                assert_int_equal(st.ip.frag_fails, 0);
                teardown(&e);
        }
}

struct batch_row {
        const char *name;
        uint32_t before, after; /* tiny packets around the big one */
};

static const struct batch_row batch_rows[] = {
        { "single packet", 0, 0 },
        { "with packet before", 1, 0 },
        { "with packet after", 0, 1 },
        { "with packet before and after", 1, 1 },
};

static void test_fragmentation_write_packets(void **state)
{
        (void)state;
        for (size_t b = 0; b < sizeof(batch_rows) / sizeof(batch_rows[0]); b++) {
                const struct batch_row *br = &batch_rows[b];
                for (size_t r = 0; r < sizeof(frag_rows) / sizeof(frag_rows[0]); r++) {
                        const struct frag_row *row = &frag_rows[r];
                        /* The tiny packets must fit unfragmented for the count. */
                        if (21 + 20 + ((row->options_len + 3u) & ~3u) > row->mtu)
                                continue;
                        struct env e;
                        setup(&e, row->mtu, UINT32_MAX, NS_ERR_IO);
                        struct ns_pkt_list l;
                        ns_pkt_list_init(&l);
                        /* A 20-byte TCP header plus one byte, as gVisor's tinyPacket. */
                        for (uint32_t i = 0; i < br->before; i++)
                                ns_pkt_list_push_back(&l, message(&e, 100, 21));
                        ns_pkt_list_push_back(
                            &l, message(&e, 1, row->transport_len + row->payload_len));
                        for (uint32_t i = 0; i < br->after; i++)
                                ns_pkt_list_push_back(&l, message(&e, 100, 21));
                        struct ns_path path;
                        assert_int_equal(
                            ns__stack_find_route(e.t.s, 0, NS_IP4_ANY, REMOTE, false, &path), 0);
                        struct ns_ipv4_params params = { .proto = PROTO,
                                                         .ttl = TTL,
                                                         .options = row->options,
                                                         .options_len = row->options_len };
                        int n = ns__ipv4_write_packets(ns__ipv4_of(e.t.s), &path, &params, &l);
                        ns__path_release(&path);
                        assert_true(ns_pkt_list_empty(&l));
                        uint32_t want = row->n_want + br->before + br->after;
                        if (n != (int)want || e.m.written.count != want)
                                fail_msg("%s / %s: returned %d, wrote %u, want %u", br->name,
                                         row->name, n, e.m.written.count, want);
                        struct ns_pkt *all[10];
                        struct ns_pkt *p = e.m.written.head;
                        for (uint32_t i = 0; i < want; i++, p = p->next)
                                all[i] = p;
                        compare_fragments(row, all + br->before, NULL);
                        /* The tiny packets keep their place around the fragments. */
                        for (uint32_t i = 0; i < br->before; i++)
                                assert_int_equal(ns_pkt_len(all[i]),
                                                 21 + 20 + ((row->options_len + 3u) & ~3u));
                        if (br->after)
                                assert_false(ns_ipv4_is_fragment(ns_pkt_data(all[want - 1])));
                        struct ns_stats st;
                        ns_stack_get_stats(e.t.s, &st);
                        assert_int_equal(st.ip.packets_sent, want);
                        assert_int_equal(st.ip.outgoing_packet_errors, 0);
                        teardown(&e);
                }
        }
}

/* ---- TestFragmentationErrors ---- */

struct err_row {
        const char *name;
        uint32_t mtu;
        uint32_t transport_len, payload_len;
        uint32_t allow;
        int mock_err, want_err;
        uint64_t sent, errors, frag_fails;
};

static const struct err_row err_rows[] = {
        { "no frag", 2000, 0, 1000, 0, NS_ERR_IO, NS_ERR_IO, 0, 1, 0 },
        { "error on first frag", 500, 0, 1000, 0, NS_ERR_IO, NS_ERR_IO, 0, 3, 0 },
        /* The link took one fragment: a short write is an I/O error. */
        { "error on second frag", 500, 0, 1000, 1, NS_ERR_IO, NS_ERR_IO, 1, 2, 0 },
        { "error on first frag mtu smaller than header", 500, 1000, 500, 0, NS_ERR_IO, NS_ERR_IO, 0,
          4, 0 },
        /* RFC 791: a link must carry 68 bytes; the seed's ErrInvalidEndpointState. */
        { "error when mtu is smaller than ipv4 minimum mtu", 67, 0, 500, 0, 0,
          NS_ERR_INVALID_ENDPOINT_STATE, 0, 1, 0 },
};

static void test_fragmentation_errors(void **state)
{
        (void)state;
        for (size_t r = 0; r < sizeof(err_rows) / sizeof(err_rows[0]); r++) {
                const struct err_row *row = &err_rows[r];
                for (int batch = 0; batch < 2; batch++) {
                        struct env e;
                        setup(&e, row->mtu, row->allow, row->mock_err);
                        struct ns_path path;
                        assert_int_equal(
                            ns__stack_find_route(e.t.s, 0, NS_IP4_ANY, REMOTE, false, &path), 0);
                        struct ns_ipv4_params params = { .proto = PROTO, .ttl = TTL };
                        struct ns_pkt *pkt = message(&e, 1, row->transport_len + row->payload_len);
                        int err;
                        if (batch) {
                                struct ns_pkt_list l;
                                ns_pkt_list_init(&l);
                                ns_pkt_list_push_back(&l, pkt);
                                err =
                                    ns__ipv4_write_packets(ns__ipv4_of(e.t.s), &path, &params, &l);
                                /* WritePackets returns how many went out, or the error. */
                                if (row->sent)
                                        assert_int_equal(err, (int)row->sent);
                                else
                                        assert_int_equal(err, row->want_err);
                        } else {
                                err =
                                    ns__ipv4_write_packet(ns__ipv4_of(e.t.s), &path, &params, pkt);
                                if (err != row->want_err)
                                        fail_msg("%s: got %s, want %s", row->name, ns_strerror(err),
                                                 ns_strerror(row->want_err));
                        }
                        ns__path_release(&path);
                        struct ns_stats st;
                        ns_stack_get_stats(e.t.s, &st);
                        if (st.ip.packets_sent != row->sent ||
                            st.ip.outgoing_packet_errors != row->errors ||
                            st.ip.frag_fails != row->frag_fails)
                                fail_msg("%s (%s): sent %llu errors %llu frag_fails %llu",
                                         row->name, batch ? "batch" : "single",
                                         (unsigned long long)st.ip.packets_sent,
                                         (unsigned long long)st.ip.outgoing_packet_errors,
                                         (unsigned long long)st.ip.frag_fails);
                        teardown(&e);
                }
        }
}

/* A datagram with DF set that does not fit is refused, not fragmented (Linux EMSGSIZE). */
static void test_df_header_included_not_fragmented(void **state)
{
        (void)state;
        struct env e;
        setup(&e, 1280, UINT32_MAX, NS_ERR_IO);
        struct ns_pkt *pkt = message(&e, 1, 20 + 2000);
        uint8_t *h = ns_pkt_data(pkt);
        struct ns_ipv4_fields f = { .total_len = 2020,
                                    .flags = NS_IPV4_FLAG_DF,
                                    .ttl = TTL,
                                    .proto = PROTO,
                                    .src = LOCAL,
                                    .dst = REMOTE };
        assert_int_equal(ns_ipv4_emit(h, 20, &f), 20);
        struct ns_path path;
        assert_int_equal(ns__stack_find_route(e.t.s, 0, NS_IP4_ANY, REMOTE, false, &path), 0);
        assert_int_equal(ns__ipv4_write_header_included(ns__ipv4_of(e.t.s), &path, pkt),
                         NS_ERR_MESSAGE_TOO_LONG);
        ns__path_release(&path);
        struct ns_stats st;
        ns_stack_get_stats(e.t.s, &st);
        assert_int_equal(e.m.written.count, 0);
        assert_int_equal(st.ip.frag_fails, 1);
        assert_int_equal(st.ip.outgoing_packet_errors, 1);
        assert_int_equal(st.ip.packets_sent, 0);
        teardown(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fragmentation_write_packet),
                cmocka_unit_test(test_fragmentation_write_packets),
                cmocka_unit_test(test_fragmentation_errors),
                cmocka_unit_test(test_df_header_included_not_fragmented),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
