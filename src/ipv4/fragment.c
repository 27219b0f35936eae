/*
 * IPv4 fragmentation (see fragment.h for the contract).
 *
 * The later fragments are built first, each a fresh packet holding a
 * prepared header and one copy of its slice of the payload; the original
 * packet is turned into the first fragment last, so a pool failure part way
 * leaves nothing to undo but freeing what was built.
 */
#include "ipv4/fragment.h"

#include <stdbool.h>
#include <string.h>

#include <netstack/err.h>

#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"

/*
 * Writes the header of a non-first fragment to out (60 bytes of room): the
 * fixed part of hdr, then each option of hdr's option area whose copied
 * flag is set, padded with EOL to a multiple of 4 (RFC 791 3.1). Stops at
 * EOL. Returns the header length, or 0 when the options do not parse.
 */
static uint32_t later_header(const uint8_t *hdr, uint8_t *out)
{
        struct ns_ipv4_opt_iter it;
        struct ns_ipv4_opt opt;
        enum ns_ipv4_opt_result res;
        uint32_t len = NS_IPV4_MIN_HDR;

        memcpy(out, hdr, NS_IPV4_MIN_HDR);
        ns_ipv4_opt_iter_init(&it, ns_ipv4_options(hdr), ns_ipv4_options_len(hdr));
        while ((res = ns_ipv4_opt_next(&it, &opt)) == NS_IPV4_OPT_OK) {
                if (opt.type == NS_IPV4_OPT_EOL)
                        break;
                if (!ns_ipv4_opt_copied(opt.type))
                        continue;
                /* Copied options are a subset of an area of <= 40 bytes. */
                memcpy(out + len, opt.opt, opt.len);
                len += opt.len;
        }
        if (res == NS_IPV4_OPT_MALFORMED)
                return 0;
        while (len % 4 != 0)
                out[len++] = NS_IPV4_OPT_EOL;
        ns_ipv4_set_version_ihl(out, len);
        return len;
}

/* Sets the per-fragment fields of the header at h and its checksum. */
static void finish_header(uint8_t *h, uint32_t hlen, uint32_t chunk, uint8_t flags, bool more,
                          uint32_t off_bytes)
{
        ns_ipv4_set_total_len(h, (uint16_t)(hlen + chunk));
        ns_ipv4_set_flags_frag_off(
            h, (uint8_t)((flags & ~NS_IPV4_FLAG_MF) | (more ? NS_IPV4_FLAG_MF : 0)), off_bytes);
        ns_ipv4_fill_checksum(h);
}

/* Copies the metadata a fragment inherits from the original packet. */
static void inherit(struct ns_pkt *f, const struct ns_pkt *orig)
{
        f->nic_id = orig->nic_id;
        f->flags = orig->flags;
        f->mark = orig->mark;
        f->net_proto = orig->net_proto;
        f->transport_proto = orig->transport_proto;
        ns_pkt_set_network_header(f);
}

/*
 * Returns a new packet from pool holding hlen bytes of hdr followed by
 * chunk bytes of payload, or NULL when the pool refuses.
 */
static struct ns_pkt *build(struct ns_pkt_pool *pool, uint32_t headroom, const uint8_t *hdr,
                            uint32_t hlen, const uint8_t *payload, uint32_t chunk)
{
        struct ns_pkt *f = ns_pkt_alloc(pool, headroom, hlen + chunk);
        uint8_t *d;

        if (!f)
                return NULL;
        d = ns_pkt_put(f, hlen + chunk);
        if (!d) {
                ns_pkt_free(f);
                return NULL;
        }
        memcpy(d, hdr, hlen);
        memcpy(d + hlen, payload, chunk);
        return f;
}

/* Validates the header at the data start of pkt; returns its Total Length or 0. */
static uint32_t datagram_len(const struct ns_pkt *pkt)
{
        const uint8_t *h = ns_pkt_data(pkt);
        uint32_t hlen, total;

        if (pkt->len < NS_IPV4_MIN_HDR || ns_ipv4_version(h) != NS_IPV4_VERSION)
                return 0;
        hlen = (uint32_t)ns_ipv4_hdr_len(h);
        total = ns_ipv4_total_len(h);
        if (hlen < NS_IPV4_MIN_HDR || total < hlen || total > pkt->len)
                return 0;
        /* Ping of death: the pieces' offsets would not fit the 13-bit field. */
        if (ns_ipv4_frag_off(h) + (total - hlen) > NS_IPV4_MAX_TOTAL)
                return 0;
        return total;
}

/* Turns pkt into (or copies it to) the first fragment; NULL when the pool refuses. */
static struct ns_pkt *first_fragment(struct ns_pkt_pool *pool, struct ns_pkt *pkt,
                                     uint32_t headroom, uint32_t hlen, uint32_t chunk)
{
        struct ns_pkt *f;

        if (!ns_pkt_is_shared(pkt) && ns_pkt_headroom(pkt) >= headroom) {
                ns_pkt_trim(pkt, hlen + chunk);
                ns_pkt_set_network_header(pkt);
                return pkt;
        }
        f = build(pool, headroom, ns_pkt_data(pkt), hlen, ns_pkt_data(pkt) + hlen, chunk);
        if (!f)
                return NULL;
        inherit(f, pkt);
        if (pkt->transport_hdr != NS_PKT_NO_HDR)
                f->transport_hdr = f->off + hlen;
        ns_pkt_free(pkt);
        return f;
}

int ns__ipv4_fragment(struct ns_pkt_pool *pool, struct ns_pkt *pkt, uint32_t mtu, uint32_t headroom,
                      struct ns_pkt_list *out)
{
        struct ns_pkt_list frags = { 0 };
        uint8_t later[NS_IPV4_MAX_HDR];
        uint32_t total, hlen, later_hlen, payload, first_chunk, later_chunk, base, pos;
        const uint8_t *h;
        uint8_t flags;
        bool orig_mf;
        struct ns_pkt *first;
        int n;

        if (!pkt || !out) {
                ns_pkt_free(pkt);
                return NS_ERR_INVALID_ARGUMENT;
        }
        total = datagram_len(pkt);
        if (!total) {
                ns_pkt_free(pkt);
                return NS_ERR_MALFORMED_HEADER;
        }
        if (mtu > NS_IPV4_MAX_TOTAL)
                mtu = NS_IPV4_MAX_TOTAL;
        if (total <= mtu) {
                ns_pkt_trim(pkt, total);
                ns_pkt_list_push_back(out, pkt);
                return 1;
        }
        h = ns_pkt_data(pkt);
        hlen = (uint32_t)ns_ipv4_hdr_len(h);
        /* gVisor "MTU smaller than header" (gvisor@58a3c2d44: no underflow). */
        if (mtu < hlen + NS_IPV4_FRAG_UNIT) {
                ns_pkt_free(pkt);
                return NS_ERR_MESSAGE_TOO_LONG;
        }
        later_hlen = later_header(h, later);
        if (!later_hlen) {
                ns_pkt_free(pkt);
                return NS_ERR_MALFORMED_HEADER;
        }
        payload = total - hlen;
        base = ns_ipv4_frag_off(h);
        flags = ns_ipv4_flags(h);
        orig_mf = (flags & NS_IPV4_FLAG_MF) != 0;
        first_chunk = (mtu - hlen) & ~(uint32_t)(NS_IPV4_FRAG_UNIT - 1);
        later_chunk = (mtu - later_hlen) & ~(uint32_t)(NS_IPV4_FRAG_UNIT - 1);

        for (pos = first_chunk; pos < payload;) {
                uint32_t chunk = payload - pos < later_chunk ? payload - pos : later_chunk;
                struct ns_pkt *f = build(pool, headroom, later, later_hlen, h + hlen + pos, chunk);

                if (!f) {
                        ns_pkt_list_free(&frags);
                        ns_pkt_free(pkt);
                        return NS_ERR_NO_BUFFER_SPACE;
                }
                inherit(f, pkt);
                finish_header(ns_pkt_data(f), later_hlen, chunk, flags,
                              pos + chunk < payload || orig_mf, base + pos);
                ns_pkt_list_push_back(&frags, f);
                pos += chunk;
        }

        first = first_fragment(pool, pkt, headroom, hlen, first_chunk);
        if (!first) {
                ns_pkt_list_free(&frags);
                ns_pkt_free(pkt);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        finish_header(ns_pkt_data(first), hlen, first_chunk, flags, true, base);
        n = (int)frags.count + 1;
        ns_pkt_list_push_back(out, first);
        if (frags.head) {
                out->tail->next = frags.head;
                out->tail = frags.tail;
                out->count += frags.count;
        }
        return n;
}
