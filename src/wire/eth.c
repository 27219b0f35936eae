/* Ethernet II header codec; see eth.h for the contract. */
#include "wire/eth.h"

enum ns_eth_invalid ns_eth_validate(const uint8_t *f, size_t len)
{
        (void)f;
        return len < NS_ETH_HDR ? NS_ETH_TOO_SHORT : NS_ETH_VALID;
}

const char *ns_eth_invalid_name(enum ns_eth_invalid why)
{
        switch (why) {
        case NS_ETH_VALID:
                return "valid";
        case NS_ETH_TOO_SHORT:
                return "too_short";
        }
        return "unknown";
}

enum ns_eth_invalid ns_eth_parse(const uint8_t *f, size_t len, struct ns_eth_fields *out)
{
        enum ns_eth_invalid why = ns_eth_validate(f, len);
        if (why != NS_ETH_VALID)
                return why;
        out->dst = ns_mac_from_bytes(ns_eth_dst(f));
        out->src = ns_mac_from_bytes(ns_eth_src(f));
        out->ethertype = ns_eth_ethertype(f);
        return NS_ETH_VALID;
}

size_t ns_eth_emit(uint8_t *out, size_t cap, const struct ns_eth_fields *h)
{
        if (cap < NS_ETH_HDR)
                return 0;
        memcpy(out, h->dst.b, NS_ETH_ALEN);
        memcpy(out + NS_ETH_ALEN, h->src.b, NS_ETH_ALEN);
        ns_eth_set_ethertype(out, h->ethertype);
        return NS_ETH_HDR;
}
