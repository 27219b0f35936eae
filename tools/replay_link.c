/*
 * The interfaces `netstack replay` feeds: an in-memory Ethernet device for
 * Ethernet captures, an in-memory raw-IP link (no Ethernet, no ARP, like a
 * TUN device) for raw-IP captures.
 */
#include <pcap/pcap.h>

#include "replay.h"

/* IPv4 in a packet's own headers: EtherType 0x0800 (RFC 894). */
#define ETHERTYPE_IPV4 0x0800
/* The queue holds what one poll sends; the replay empties it after each. */
#define QUEUE_LEN 65536

bool replay_kind_of(int dlt, enum replay_kind *out)
{
        switch (dlt) {
        case DLT_EN10MB:
                *out = REPLAY_ETHERNET;
                return true;
        /*
         * LINKTYPE_RAW (101) in a file: IPv4 or IPv6 with no link header,
         * told apart by the version nibble; libpcap reports it as DLT_RAW
         * (12, or 14 on OpenBSD: the macro has the platform's value).
         */
        case DLT_RAW:
#ifdef DLT_IPV4
        /* LINKTYPE_IPV4 (228): raw IPv4 only, no link header. */
        case DLT_IPV4:
#endif
                *out = REPLAY_RAW;
                return true;
        default:
                return false;
        }
}

const char *replay_kind_name(enum replay_kind k)
{
        return k == REPLAY_RAW ? "raw IP" : "Ethernet";
}

enum ns_pcap_linktype replay_pcap_linktype(enum replay_kind k)
{
        return k == REPLAY_RAW ? NS_PCAP_RAW : NS_PCAP_ETHERNET;
}

bool replay_raw_is_ipv4(const uint8_t *data, uint32_t len)
{
        return len > 0 && (data[0] >> 4) == 4;
}

int replay_link_attach(struct replay_link *l, enum replay_kind kind, struct cli_stack *cs,
                       const struct cli_opts *o, size_t i)
{
        l->kind = kind;
        uint32_t mtu = o->ifaces[i].mtu;
        if (kind == REPLAY_RAW) {
                /* No capabilities: no link-layer resolution, as on a TUN link. */
                l->ch = ns_channel_create(NULL, mtu, QUEUE_LEN, 0);
                if (!l->ch) {
                        fprintf(stderr, "netstack replay: %s: out of memory\n", o->ifaces[i].name);
                        return -1;
                }
                return cli_stack_add_link(cs, o, i, ns_channel_link(l->ch));
        }
        l->fc = ns_frame_channel_create(NULL, mtu, QUEUE_LEN);
        if (!l->fc) {
                fprintf(stderr, "netstack replay: %s: out of memory\n", o->ifaces[i].name);
                return -1;
        }
        return cli_stack_add_iface(cs, o, i, ns_frame_channel_dev(l->fc), NULL, true);
}

int replay_link_inject(struct replay_link *l, const void *data, uint32_t len)
{
        if (l->kind == REPLAY_RAW)
                return ns_channel_inject_bytes(l->ch, ETHERTYPE_IPV4, data, len);
        return ns_frame_channel_inject_bytes(l->fc, data, len);
}

struct ns_pkt *replay_link_read(struct replay_link *l)
{
        if (l->kind == REPLAY_RAW)
                return l->ch ? ns_channel_read(l->ch) : NULL;
        return l->fc ? ns_frame_channel_read(l->fc) : NULL;
}

void replay_link_destroy(struct replay_link *l)
{
        ns_channel_destroy(l->ch);
        ns_frame_channel_destroy(l->fc);
        l->ch = NULL;
        l->fc = NULL;
}
