/*
 * Fuzz target: ICMPv4 (src/wire/icmp4.c and src/ipv4/icmp.c). Input: a
 * control byte and TTL (see fuzz_wrap_l4()), IPv4 options, then one ICMP
 * message, which the harness wraps in an IPv4 header with the checksums
 * fixed up and gives to a one-NIC stack twice (1 ms apart, so the rate
 * limiter and duplicate handling run too). Every reply goes through the
 * oracle: valid header and checksums, quote within 576 bytes.
 */
#include <stdlib.h>

#include "harness.h"

#include "wire/icmp4.h"
#include "wire/ipv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = { data, size };
        static uint8_t pkt[2048];
        size_t len = fuzz_wrap_l4(&in, NS_IPV4_PROTO_ICMP, pkt, sizeof(pkt));
        const uint8_t *icmp = pkt + ns_ipv4_hdr_len(pkt);
        size_t icmp_len = len - ns_ipv4_hdr_len(pkt);
        if (ns_icmp4_validate(icmp, icmp_len) == 0 && icmp_len >= 8) {
                (void)ns_icmp4_is_error(ns_icmp4_type(icmp));
                (void)ns_icmp4_may_provoke_error(ns_icmp4_type(icmp));
                (void)ns_icmp4_checksum_ok(icmp, icmp_len);
        }
        struct fuzz_env e;
        fuzz_env_init(&e, FUZZ_ENV_IP);
        fuzz_env_inject(&e, 1, pkt, len);
        fuzz_env_advance(&e, 1000000);
        fuzz_env_inject(&e, 1, pkt, len);
        fuzz_env_finish(&e);
        return 0;
}
