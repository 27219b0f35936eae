/*
 * Fuzz target: IGMP (src/wire/igmp.c and src/ipv4/igmp_rx.c). Input: a
 * control byte and TTL (see fuzz_wrap_l4()), IPv4 options (Router Alert in
 * the seeds), then one IGMP message of any version, wrapped with the
 * checksums fixed up and given to a stack that joined FUZZ_GROUP; then the
 * report timers run. The wire codecs see the message first: validate, the
 * query version, the v3 record iterator and the Max Resp decoder (never a
 * division by zero, CVE-2012-0207).
 */
#include <stdlib.h>

#include "harness.h"

#include <netstack/ipv4.h>

#include "wire/igmp.h"
#include "wire/ipv4.h"

static void wire(const uint8_t *m, size_t len)
{
        enum ns_igmp_invalid v = ns_igmp_validate(m, len);
        (void)ns_igmp_invalid_name(v);
        (void)ns_igmp_checksum_ok(m, len);
        if (len < NS_IGMP_LEN)
                return;
        (void)ns_igmp_query_version(len, ns_igmp_max_resp(m));
        (void)ns_igmpv3_decode_code(ns_igmp_max_resp(m));
        if (v != NS_IGMP_VALID)
                return;
        if (ns_igmp_type(m) == NS_IGMP_QUERY && len >= NS_IGMPV3_QUERY_MIN) {
                uint16_t n = ns_igmpv3_query_nsources(m);
                for (uint16_t i = 0; i < n; i++)
                        (void)ns_igmpv3_query_source(m, i);
        }
        if (ns_igmp_type(m) == NS_IGMP_V3_REPORT) {
                struct ns_igmpv3_rec_iter it;
                struct ns_igmpv3_rec r;
                ns_igmpv3_rec_iter_init(&it, m, len);
                for (unsigned steps = 0; ns_igmpv3_rec_next(&it, &r) == NS_IGMPV3_REC_OK; steps++) {
                        FUZZ_CHECK(steps < 65536);
                        for (uint16_t i = 0; i < r.nsources; i++)
                                (void)ns_igmpv3_rec_source(&r, i);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = { data, size };
        static uint8_t pkt[2048];
        size_t len = fuzz_wrap_l4(&in, NS_IPV4_PROTO_IGMP, pkt, sizeof(pkt));
        size_t hlen = ns_ipv4_hdr_len(pkt);
        wire(pkt + hlen, len - hlen);
        struct fuzz_env e;
        fuzz_env_init(&e, FUZZ_ENV_IP);
        FUZZ_CHECK(ns_ipv4_join_group(e.s, 1, FUZZ_GROUP) == 0);
        fuzz_env_check_output(&e);
        fuzz_env_inject(&e, 1, pkt, len);
        fuzz_env_advance(&e, 100000000);
        fuzz_env_inject(&e, 1, pkt, len);
        fuzz_env_finish(&e);
        return 0;
}
