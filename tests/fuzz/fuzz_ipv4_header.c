/*
 * Fuzz target: the IPv4 header codec and the option iterator
 * (src/wire/ipv4.c, src/wire/ipv4_opts.c). Input: one IPv4 packet.
 *
 * Checks: validate and parse agree; a parsed header emits and re-parses
 * to the same fields (parse(emit(x)) == x); TTL decrement keeps the
 * checksum right; the option iterator yields options wholly inside the
 * area, in order, and ends; the Record Route and Timestamp writers stay
 * inside their option whatever its pointer and length say.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"

static void iterate_options(uint8_t *area, size_t len)
{
        struct ns_ipv4_opt_iter it;
        ns_ipv4_opt_iter_init(&it, area, len);
        size_t clamp = len > NS_IPV4_MAX_OPTS ? NS_IPV4_MAX_OPTS : len;
        unsigned prev_end = NS_IPV4_MIN_HDR;
        for (unsigned steps = 0;; steps++) {
                FUZZ_CHECK(steps <= NS_IPV4_MAX_OPTS + 1);
                struct ns_ipv4_opt o;
                enum ns_ipv4_opt_result r = ns_ipv4_opt_next(&it, &o);
                if (r == NS_IPV4_OPT_DONE)
                        break;
                if (r == NS_IPV4_OPT_MALFORMED) {
                        FUZZ_CHECK(it.fault != NS_IPV4_OPT_FAULT_NONE);
                        FUZZ_CHECK(it.fault_ptr >= NS_IPV4_MIN_HDR);
                        FUZZ_CHECK(it.fault_ptr < NS_IPV4_MIN_HDR + clamp);
                        FUZZ_CHECK(ns_ipv4_opt_next(&it, &o) == NS_IPV4_OPT_MALFORMED);
                        break;
                }
                FUZZ_CHECK(o.len >= 1);
                FUZZ_CHECK(o.offset == prev_end);
                FUZZ_CHECK(o.offset + o.len <= NS_IPV4_MIN_HDR + clamp);
                FUZZ_CHECK(o.opt == area + (o.offset - NS_IPV4_MIN_HDR));
                prev_end = o.offset + o.len;
                uint8_t *opt = area + (o.offset - NS_IPV4_MIN_HDR);
                /* The writers must stay inside o.len bytes; a copy with no
                 * slack after it lets ASan see any overrun. */
                uint8_t *c = malloc(o.len);
                if (!c)
                        abort();
                memcpy(c, opt, o.len);
                if (o.type == NS_IPV4_OPT_RR && o.len >= NS_IPV4_OPT_RR_HDR) {
                        uint8_t before = ns_ipv4_opt_rr_pointer(c);
                        if (ns_ipv4_opt_rr_store(c, 0xc0000201))
                                FUZZ_CHECK(ns_ipv4_opt_rr_pointer(c) == before + 4);
                } else if (o.type == NS_IPV4_OPT_TS && o.len >= NS_IPV4_OPT_TS_HDR) {
                        ns_ip4 a;
                        (void)ns_ipv4_opt_ts_slot_addr(c, &a);
                        (void)ns_ipv4_opt_ts_store_addr(c, 0xc0000201, 12345);
                        (void)ns_ipv4_opt_ts_store(c, 678);
                        (void)ns_ipv4_opt_ts_inc_overflow(c);
                }
                free(c);
        }
}

static void roundtrip(const uint8_t *p, size_t len, const struct ns_ipv4_fields *f)
{
        uint8_t *buf = malloc(len);
        if (!buf)
                abort();
        memcpy(buf, p, len);
        size_t hlen = ns_ipv4_emit(buf, ns_ipv4_hdr_len(p), f);
        FUZZ_CHECK(hlen == ns_ipv4_hdr_len(p));
        FUZZ_CHECK(ns_ipv4_checksum_ok(buf, hlen));
        struct ns_ipv4_fields g;
        FUZZ_CHECK(ns_ipv4_parse(buf, len, &g) == NS_IPV4_VALID);
        FUZZ_CHECK(g.tos == f->tos && g.total_len == f->total_len && g.id == f->id);
        FUZZ_CHECK(g.flags == f->flags && g.frag_off == f->frag_off && g.ttl == f->ttl);
        FUZZ_CHECK(g.proto == f->proto && g.src == f->src && g.dst == f->dst);
        FUZZ_CHECK(g.options_len == f->options_len);
        FUZZ_CHECK(!f->options_len || !memcmp(g.options, f->options, f->options_len));
        if (g.ttl > 1) {
                uint8_t ttl = ns_ipv4_dec_ttl(buf);
                FUZZ_CHECK(ttl == g.ttl - 1);
                FUZZ_CHECK(ns_ipv4_checksum_ok(buf, hlen));
        }
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        enum ns_ipv4_invalid v = ns_ipv4_validate(data, size);
        struct ns_ipv4_fields f;
        enum ns_ipv4_invalid w = ns_ipv4_parse(data, size, &f);
        FUZZ_CHECK(v == w);
        (void)ns_ipv4_invalid_name(v);
        if (size >= NS_IPV4_MIN_HDR) {
                size_t hlen = ns_ipv4_hdr_len(data);
                if (hlen <= size && hlen >= NS_IPV4_MIN_HDR) {
                        /* A header carrying its computed checksum verifies. */
                        uint8_t *h = malloc(hlen);
                        if (!h)
                                abort();
                        memcpy(h, data, hlen);
                        (void)ns_ipv4_checksum_ok(h, hlen);
                        ns_ipv4_fill_checksum(h);
                        FUZZ_CHECK(ns_ipv4_checksum_ok(h, hlen));
                        free(h);
                }
        }
        if (v == NS_IPV4_VALID) {
                FUZZ_CHECK(ns_ipv4_version(data) == 4 && ns_ipv4_ihl(data) >= 5);
                FUZZ_CHECK(ns_ipv4_hdr_len(data) <= ns_ipv4_total_len(data));
                FUZZ_CHECK(ns_ipv4_total_len(data) <= size);
                FUZZ_CHECK(ns_ipv4_frag_off(data) + ns_ipv4_total_len(data) -
                               ns_ipv4_hdr_len(data) <=
                           65535);
                roundtrip(data, size, &f);
        }
        /* The option iterator over whatever follows byte 20, valid or not. */
        if (size > NS_IPV4_MIN_HDR) {
                size_t n = size - NS_IPV4_MIN_HDR;
                if (n > NS_IPV4_MAX_OPTS)
                        n = NS_IPV4_MAX_OPTS;
                uint8_t *area = malloc(n);
                if (!area)
                        abort();
                memcpy(area, data + NS_IPV4_MIN_HDR, n);
                iterate_options(area, n);
                free(area);
        }
        return 0;
}
