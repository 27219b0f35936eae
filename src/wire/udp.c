/* UDP header codec; see udp.h for the contract. */
#include "wire/udp.h"

#include <netstack/checksum.h>

#define UDP_PROTO 17

enum ns_udp_invalid ns_udp_validate(const uint8_t *p, size_t len)
{
        if (len < NS_UDP_HDR)
                return NS_UDP_TOO_SHORT;
        if (ns_udp_length(p) < NS_UDP_HDR)
                return NS_UDP_LEN_TOO_SMALL;
        if (ns_udp_length(p) > len)
                return NS_UDP_LEN_TOO_LONG;
        return NS_UDP_VALID;
}

const char *ns_udp_invalid_name(enum ns_udp_invalid why)
{
        switch (why) {
#define NS_UDP_CASE(name, str) \
        case name:             \
                return str;
                NS_UDP_INVALID_TABLE(NS_UDP_CASE)
#undef NS_UDP_CASE
        }
        return "unknown";
}

uint16_t ns_udp_checksum_from_partial(uint32_t partial, uint16_t len, ns_ip4 src, ns_ip4 dst)
{
        uint32_t pseudo = ns_csum_pseudo_ip4(src, dst, UDP_PROTO, len);
        uint16_t c = ns_csum_finish(ns_csum_combine(pseudo, partial, 0));
        return c == 0 ? 0xffff : c;
}

uint16_t ns_udp_compute_checksum(const uint8_t *p, size_t len, ns_ip4 src, ns_ip4 dst)
{
        /* Sum around the checksum field at bytes 6..7 so the input is not
         * modified. The first piece is 6 bytes: even, so no byte swap. */
        uint32_t s = ns_csum_partial(p, 6, 0);
        if (len > NS_UDP_HDR)
                s = ns_csum_combine(s, ns_csum_partial(p + NS_UDP_HDR, len - NS_UDP_HDR, 0), 6);
        return ns_udp_checksum_from_partial(s, (uint16_t)len, src, dst);
}

bool ns_udp_checksum_ok(const uint8_t *p, size_t len, ns_ip4 src, ns_ip4 dst)
{
        if (ns_udp_checksum(p) == 0)
                return true;
        /*
         * RFC 768 pseudo-header (src, dst, zero, protocol, length) as the
         * initial value of the datagram's sum, unfolded (ns_csum_partial
         * takes any initial below 2^31; this one is below 2^19).
         */
        uint32_t pseudo = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) +
                          UDP_PROTO + (uint32_t)len;
        uint32_t s = ns_csum_partial(p, len, pseudo);
        return ns_csum_finish(s) == 0;
}

enum ns_udp_invalid ns_udp_parse(const uint8_t *p, size_t len, struct ns_udp_fields *out)
{
        enum ns_udp_invalid why = ns_udp_validate(p, len);
        if (why != NS_UDP_VALID)
                return why;
        out->src_port = ns_udp_src_port(p);
        out->dst_port = ns_udp_dst_port(p);
        out->length = ns_udp_length(p);
        out->checksum = ns_udp_checksum(p);
        return NS_UDP_VALID;
}

size_t ns_udp_emit(uint8_t *out, size_t cap, const struct ns_udp_fields *h)
{
        if (cap < NS_UDP_HDR)
                return 0;
        ns_udp_set_src_port(out, h->src_port);
        ns_udp_set_dst_port(out, h->dst_port);
        ns_udp_set_length(out, h->length);
        ns_udp_set_checksum(out, h->checksum);
        return NS_UDP_HDR;
}

size_t ns_udp_emit_datagram(uint8_t *dgram, size_t len, uint16_t src_port, uint16_t dst_port,
                            ns_ip4 src, ns_ip4 dst)
{
        if (len < NS_UDP_HDR || len > 0xffff)
                return 0;
        ns_udp_set_src_port(dgram, src_port);
        ns_udp_set_dst_port(dgram, dst_port);
        ns_udp_set_length(dgram, (uint16_t)len);
        ns_udp_set_checksum(dgram, ns_udp_compute_checksum(dgram, len, src, dst));
        return NS_UDP_HDR;
}
