/* Ethernet/IPv4 ARP codec; see arp.h for the contract. */
#include "wire/arp.h"

enum ns_arp_invalid ns_arp_validate(const uint8_t *p, size_t len)
{
        if (len < NS_ARP_LEN)
                return NS_ARP_TOO_SHORT;
        if (ns_arp_htype(p) != NS_ARP_HTYPE_ETHER)
                return NS_ARP_BAD_HTYPE;
        if (ns_arp_ptype(p) != NS_ARP_PTYPE_IPV4)
                return NS_ARP_BAD_PTYPE;
        if (ns_arp_hlen(p) != NS_ETH_ALEN)
                return NS_ARP_BAD_HLEN;
        if (ns_arp_plen(p) != 4)
                return NS_ARP_BAD_PLEN;
        if (ns_arp_op(p) != NS_ARP_OP_REQUEST && ns_arp_op(p) != NS_ARP_OP_REPLY)
                return NS_ARP_BAD_OP;
        return NS_ARP_VALID;
}

const char *ns_arp_invalid_name(enum ns_arp_invalid why)
{
        switch (why) {
#define NS_ARP_CASE(name, str) \
        case name:             \
                return str;
                NS_ARP_INVALID_TABLE(NS_ARP_CASE)
#undef NS_ARP_CASE
        }
        return "unknown";
}

enum ns_arp_invalid ns_arp_parse(const uint8_t *p, size_t len, struct ns_arp_fields *out)
{
        enum ns_arp_invalid why = ns_arp_validate(p, len);
        if (why != NS_ARP_VALID)
                return why;
        out->op = ns_arp_op(p);
        out->sha = ns_mac_from_bytes(ns_arp_sha(p));
        out->spa = ns_arp_spa(p);
        out->tha = ns_mac_from_bytes(ns_arp_tha(p));
        out->tpa = ns_arp_tpa(p);
        return NS_ARP_VALID;
}

size_t ns_arp_emit(uint8_t *out, size_t cap, const struct ns_arp_fields *a)
{
        if (cap < NS_ARP_LEN)
                return 0;
        ns_store_be16(out, NS_ARP_HTYPE_ETHER);
        ns_store_be16(out + 2, NS_ARP_PTYPE_IPV4);
        out[4] = NS_ETH_ALEN;
        out[5] = 4;
        ns_store_be16(out + 6, a->op);
        memcpy(out + 8, a->sha.b, NS_ETH_ALEN);
        ns_store_be32(out + 14, a->spa);
        memcpy(out + 18, a->tha.b, NS_ETH_ALEN);
        ns_store_be32(out + 24, a->tpa);
        return NS_ARP_LEN;
}
