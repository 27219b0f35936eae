/*
 * Fuzz target: the reassembler fed a sequence of fragments
 * (src/ipv4/reasm.c). Input: one byte choosing the limits (memory
 * threshold 16..128 KiB, 8..64 fragments per datagram), then records of
 * five bytes: control (bits 0-2: which of 8 keys, two sources x two ids x
 * two protocols; bit 3: MF; bits 4-6: time step before it; bit 7: 24-byte
 * header), offset (16 bits, bytes, any value) and payload length (16
 * bits). Every payload byte is a function of its offset in the datagram,
 * so a completed datagram proves each byte came from the right place.
 *
 * Checks: memory held never above the high threshold after an add; a
 * completed datagram has the offset-0 header and exactly the pattern;
 * the counters agree with the results; ns__reasm_expire() reports only
 * offset-0 fragments; everything is freed at the end (pool at zero).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "ipv4/reasm.h"

#define SEC 1000000000LL

static uint8_t pattern(uint32_t x)
{
        return (uint8_t)(x * 7u + (x >> 8));
}

static void on_timeout(void *ctx, const struct ns_reasm_key *key, const struct ns_pkt *first)
{
        (void)key;
        uint64_t *n = ctx;
        (*n)++;
        if (first)
                FUZZ_CHECK(ns_pkt_len(first) >= 20);
}

static void check_complete(struct ns_pkt *out, uint32_t hdr_len)
{
        FUZZ_CHECK(ns_pkt_len(out) >= hdr_len);
        FUZZ_CHECK(ns_pkt_len(out) <= NS_REASM_DEFAULT_MAX_DATAGRAM);
        const uint8_t *d = ns_pkt_data(out);
        FUZZ_CHECK(d[0] == 0x45 || d[0] == 0x46);
        uint32_t h = (uint32_t)(d[0] & 0x0f) * 4;
        for (uint32_t i = h; i < ns_pkt_len(out); i++)
                if (d[i] != pattern(i - h))
                        FUZZ_CHECK(!"reassembled byte out of place");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = { data, size };
        uint8_t lim = fuzz_u8(&in);
        struct ns_reasm_config cfg = {
                .high_bytes = (16u << 10) << (lim & 3),
                .max_frags = 8u << ((lim >> 2) & 3),
        };
        cfg.low_bytes = cfg.high_bytes * 3 / 4;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        FUZZ_CHECK(pool != NULL);
        struct ns_ip_stats st;
        memset(&st, 0, sizeof(st));
        struct ns_reasm *r = ns__reasm_create(NULL, pool, &cfg, 42, &st);
        FUZZ_CHECK(r != NULL);
        int64_t now = SEC;
        uint64_t completes = 0, timeouts = 0, adds = 0;
        for (unsigned n = 0; in.len >= 5 && n < 4096; n++) {
                uint8_t ctl = fuzz_u8(&in);
                uint32_t off = fuzz_u16(&in);
                uint32_t plen = fuzz_u16(&in);
                now += fuzz_time_step(ctl >> 4);
                if (n % 16 == 0 || (ctl >> 4) >= 5)
                        ns__reasm_expire(r, now, on_timeout, &timeouts);
                struct ns_reasm_key key = {
                        .src = NS_IP4(192, 0, 2, 2 + (ctl & 1)),
                        .dst = FUZZ_OUR1,
                        .id = 0x100u + ((ctl >> 1) & 1),
                        .proto = (ctl & 4) ? 1 : 17,
                };
                uint32_t hdr_len = (ctl & 0x80) ? 24 : 20;
                struct ns_pkt *p = ns_pkt_alloc(pool, 0, hdr_len + plen);
                if (!p)
                        continue;
                uint8_t *d = ns_pkt_put(p, hdr_len + plen);
                memset(d, 0, hdr_len);
                d[0] = (uint8_t)(0x40 | hdr_len / 4);
                for (uint32_t i = 0; i < plen; i++)
                        d[hdr_len + i] = pattern(off + i);
                struct ns_pkt *out = NULL;
                enum ns_reasm_result res =
                    ns__reasm_add(r, &key, off, plen, (ctl & 8) != 0, hdr_len, p, now, &out);
                adds++;
                (void)ns__reasm_result_name(res);
                FUZZ_CHECK((res == NS_REASM_COMPLETE) == (out != NULL));
                FUZZ_CHECK(ns__reasm_bytes_held(r) <= cfg.high_bytes);
                if (out) {
                        /* A whole datagram by itself bypasses the table. */
                        if (off == 0 && !(ctl & 8))
                                FUZZ_CHECK(ns_pkt_len(out) == hdr_len + plen);
                        check_complete(out, hdr_len);
                        completes++;
                        ns_pkt_free(out);
                }
        }
        /* ns__reasm_add() also drops due datagrams, counted without a report. */
        FUZZ_CHECK(st.reasm_timeout >= timeouts);
        FUZZ_CHECK(st.reasm_oks <= completes);
        (void)ns__reasm_next_expiry(r);
        ns__reasm_expire(r, now + 60 * SEC, on_timeout, &timeouts);
        FUZZ_CHECK(ns__reasm_datagrams_held(r) == 0);
        FUZZ_CHECK(ns__reasm_bytes_held(r) == 0);
        ns__reasm_destroy(r);
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(pool, &ps);
        FUZZ_CHECK(ps.in_use == 0);
        ns_pkt_pool_destroy(pool);
        (void)adds;
        return 0;
}
