/* Fuzz harness: stacks, checksum fix-up and the output oracle; see harness.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include <netstack/arp.h>
#include <netstack/ipv4.h>
#include <netstack/udp.h>

#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/igmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define SEC 1000000000LL

const uint8_t fuzz_mac_our[3][6] = {
        { 0 },
        { 0x02, 0, 0, 0, 0x01, 0x01 },
        { 0x02, 0, 0, 0, 0x02, 0x01 },
};
const uint8_t fuzz_mac_peer[3][6] = {
        { 0 },
        { 0x02, 0, 0, 0, 0x01, 0x02 },
        { 0x02, 0, 0, 0, 0x02, 0x02 },
};

/* The packet the oracle is looking at, printed when a check fails. */
static const uint8_t *checking;
static size_t checking_len;

_Noreturn void fuzz_fail(const char *file, int line, const char *what)
{
        fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", file, line, what);
        if (checking) {
                fprintf(stderr, "fuzz: in the packet sent:");
                for (size_t i = 0; i < checking_len; i++)
                        fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", checking[i]);
                fprintf(stderr, "\n");
        }
        abort();
}

static const struct ns_module *const mods_ip[] = { &ns_module_ipv4, &ns_module_udp, NULL };
static const struct ns_module *const mods_eth[] = { &ns_module_ipv4, &ns_module_arp, &ns_module_udp,
                                                    NULL };

/* The UDP endpoint echoes up to 512 bytes of what it receives, as a server would. */
static void udp_echo(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        struct fuzz_env *e = ctx;
        e->udp_received++;
        size_t n = d->len < 512 ? d->len : 512;
        (void)ns_udp_send(ep, d->src, d->src_port ? d->src_port : 9, d->data, n);
}

static void add_addr(struct ns_stack *s, uint32_t nic, ns_ip4 a, uint8_t len)
{
        struct ns_ip4_prefix p = { .addr = a, .prefix_len = len };
        FUZZ_CHECK(ns_nic_add_address(s, nic, p) == 0);
}

static void add_route(struct ns_stack *s, ns_ip4 dst, uint8_t len, ns_ip4 gw, uint32_t nic)
{
        struct ns_route_entry r = { .dst = { dst, len }, .gateway = gw, .nic_id = nic };
        FUZZ_CHECK(ns_route_add(s, &r) == 0);
}

void fuzz_env_init(struct fuzz_env *e, enum fuzz_env_kind kind)
{
        memset(e, 0, sizeof(*e));
        e->kind = kind;
        ns_manual_clock_init(&e->clock, SEC, 1767225600LL * SEC);
        ns_seeded_rng_init(&e->rng, 1);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&e->clock);
        cfg.rng = ns_seeded_rng_as_rng(&e->rng);
        cfg.modules = kind == FUZZ_ENV_IP ? mods_ip : mods_eth;
        FUZZ_CHECK(ns_stack_create(&cfg, &e->s) == 0);
        if (kind == FUZZ_ENV_IP) {
                e->ch = ns_channel_create(NULL, 1500, 256, 0);
                FUZZ_CHECK(e->ch != NULL);
                FUZZ_CHECK(ns_nic_create(e->s, 1, ns_channel_link(e->ch), NULL) == 0);
                add_addr(e->s, 1, FUZZ_OUR1, 24);
                add_route(e->s, 0, 0, FUZZ_PEER1, 1);
        } else {
                for (uint32_t i = 1; i <= 2; i++) {
                        e->fc[i] = ns_frame_channel_create(NULL, 1500, 256);
                        FUZZ_CHECK(e->fc[i] != NULL);
                        e->eth[i] =
                            ns_eth_create(NULL, ns_frame_channel_dev(e->fc[i]), fuzz_mac_our[i]);
                        FUZZ_CHECK(e->eth[i] != NULL);
                        FUZZ_CHECK(ns_nic_create(e->s, i, ns_eth_link(e->eth[i]), NULL) == 0);
                }
                add_addr(e->s, 1, FUZZ_OUR1, 24);
                add_addr(e->s, 2, FUZZ_OUR2, 24);
                FUZZ_CHECK(ns_arp_add_static(e->s, 1, FUZZ_PEER1, fuzz_mac_peer[1]) == 0);
                FUZZ_CHECK(ns_arp_add_static(e->s, 2, FUZZ_PEER2, fuzz_mac_peer[2]) == 0);
                add_route(e->s, 0, 0, FUZZ_PEER1, 1);
                add_route(e->s, FUZZ_FAR, 24, NS_IP4(198, 51, 100, 3), 2);
                FUZZ_CHECK(ns_ipv4_set_param(e->s, NS_IPV4_PARAM_FORWARDING, 1) == 0);
                FUZZ_CHECK(ns_ipv4_join_group(e->s, 1, FUZZ_GROUP) == 0);
        }
        FUZZ_CHECK(ns_udp_open(e->s, &e->udp) == 0);
        FUZZ_CHECK(ns_udp_bind(e->udp, 0, FUZZ_UDP_PORT, 0) == 0);
        ns_udp_set_recv_cb(e->udp, udp_echo, e);
        fuzz_env_check_output(e); /* gratuitous ARP, IGMP reports */
}

void fuzz_env_inject(struct fuzz_env *e, uint32_t nic, const uint8_t *p, size_t len)
{
        if (len > 65535 + NS_ETH_HDR)
                len = 65535 + NS_ETH_HDR;
        if (e->kind == FUZZ_ENV_IP)
                (void)ns_channel_inject_bytes(e->ch, NS_ETHERTYPE_IPV4, p, (uint32_t)len);
        else
                (void)ns_frame_channel_inject_bytes(e->fc[nic == 2 ? 2 : 1], p, (uint32_t)len);
        fuzz_env_check_output(e);
}

void fuzz_env_advance(struct fuzz_env *e, int64_t ns)
{
        ns_manual_clock_advance(&e->clock, ns);
        ns_stack_poll(e->s);
        fuzz_env_check_output(e);
}

static bool is_ours(ns_ip4 a)
{
        return a == FUZZ_OUR1 || a == FUZZ_OUR2;
}

static uint16_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
        return ns_csum_finish(ns_csum_partial(p, len, sum));
}

void fuzz_check_sent_ipv4(const uint8_t *ip, size_t len, bool padded)
{
        checking = ip;
        checking_len = len;
        FUZZ_CHECK(ns_ipv4_validate(ip, len) == NS_IPV4_VALID);
        size_t hlen = ns_ipv4_hdr_len(ip);
        FUZZ_CHECK(ns_ipv4_checksum_ok(ip, hlen));
        size_t total = ns_ipv4_total_len(ip);
        FUZZ_CHECK(padded ? total <= len : total == len);
        /* HOSTILE 11: never emit 127/8 on a link. */
        FUZZ_CHECK(!ns_ip4_is_loopback(ns_ipv4_src(ip)));
        FUZZ_CHECK(!ns_ip4_is_loopback(ns_ipv4_dst(ip)));
        FUZZ_CHECK(ns_ipv4_ttl(ip) != 0);
        if (!is_ours(ns_ipv4_src(ip)) || ns_ipv4_is_fragment(ip)) {
                checking = NULL;
                return;
        }
        const uint8_t *l4 = ip + hlen;
        size_t l4len = total - hlen;
        switch (ns_ipv4_proto(ip)) {
        case NS_IPV4_PROTO_ICMP:
                FUZZ_CHECK(l4len >= 8);
                FUZZ_CHECK(ns_icmp4_checksum_ok(l4, l4len));
                if (ns_icmp4_is_error(ns_icmp4_type(l4))) {
                        /* RFC 1812 4.3.2.3: the quote fits in 576 bytes. */
                        FUZZ_CHECK(total <= 576);
                }
                break;
        case NS_IPV4_PROTO_IGMP:
                FUZZ_CHECK(l4len >= 8);
                FUZZ_CHECK(sum16(l4, l4len, 0) == 0);
                break;
        case NS_IPV4_PROTO_UDP:
                FUZZ_CHECK(l4len >= 8);
                FUZZ_CHECK(ns_udp_length(l4) == l4len);
                FUZZ_CHECK(ns_udp_checksum_ok(l4, l4len, ns_ipv4_src(ip), ns_ipv4_dst(ip)));
                break;
        default:
                break;
        }
        checking = NULL;
}

static void check_frame(const uint8_t *f, size_t len)
{
        FUZZ_CHECK(len >= NS_ETH_MIN_FRAME && len <= 1500 + NS_ETH_HDR);
        struct ns_mac src = ns_mac_from_bytes(ns_eth_src(f));
        FUZZ_CHECK(!ns_mac_is_multicast(&src) && !ns_mac_is_zero(&src));
        switch (ns_eth_ethertype(f)) {
        case NS_ETHERTYPE_IPV4:
                fuzz_check_sent_ipv4(f + NS_ETH_HDR, len - NS_ETH_HDR, true);
                break;
        case NS_ETHERTYPE_ARP:
                FUZZ_CHECK(ns_arp_validate(f + NS_ETH_HDR, len - NS_ETH_HDR) == NS_ARP_VALID);
                break;
        default:
                FUZZ_CHECK(!"unexpected ethertype sent");
        }
}

void fuzz_env_check_output(struct fuzz_env *e)
{
        struct ns_pkt *p;
        if (e->kind == FUZZ_ENV_IP) {
                while ((p = ns_channel_read(e->ch)) != NULL) {
                        fuzz_check_sent_ipv4(ns_pkt_data(p), ns_pkt_len(p), false);
                        e->sent_checked++;
                        ns_pkt_free(p);
                }
                return;
        }
        for (int i = 1; i <= 2; i++) {
                while ((p = ns_frame_channel_read(e->fc[i])) != NULL) {
                        check_frame(ns_pkt_data(p), ns_pkt_len(p));
                        e->sent_checked++;
                        ns_pkt_free(p);
                }
        }
}

void fuzz_env_finish(struct fuzz_env *e)
{
        /*
         * Jump from deadline to deadline until no timer is due within ten
         * minutes (reassembly gives up after 30 s, then its Time Exceeded
         * may wait 3 s for ARP; IGMP reports go within 10 s; ARP entries
         * are collected after 60 s): then nothing may still hold a packet.
         */
        int64_t end = e->clock.mono_ns + 600 * SEC;
        for (int i = 0; i < 10000; i++) {
                int64_t next = ns_stack_poll(e->s);
                fuzz_env_check_output(e);
                if (next == INT64_MAX || next > end)
                        break;
                if (next > e->clock.mono_ns)
                        ns_manual_clock_advance(&e->clock, next - e->clock.mono_ns);
        }
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(ns_stack_pool(e->s), &ps);
        if (getenv("FUZZ_VERBOSE")) {
                struct ns_stats st;
                ns_stack_get_stats(e->s, &st);
                fprintf(stderr,
                        "fuzz: sent %llu, udp %llu, delivered %llu, reasm_oks %llu, "
                        "forwarded %llu, icmp sent %llu, malformed %llu\n",
                        (unsigned long long)e->sent_checked, (unsigned long long)e->udp_received,
                        (unsigned long long)st.ip.packets_delivered,
                        (unsigned long long)st.ip.reasm_oks, (unsigned long long)st.ip.forwarded,
                        (unsigned long long)st.icmp.sent_total,
                        (unsigned long long)st.ip.malformed_packets_received);
        }
        if (ps.in_use != 0) {
                fprintf(stderr, "fuzz: %u packets still in use after the timers\n", ps.in_use);
                abort();
        }
        ns_udp_close(e->udp);
        ns_stack_destroy(e->s);
        if (e->kind == FUZZ_ENV_IP) {
                ns_channel_destroy(e->ch);
        } else {
                for (int i = 1; i <= 2; i++) {
                        ns_eth_destroy(e->eth[i]);
                        ns_frame_channel_destroy(e->fc[i]);
                }
        }
}

void fuzz_fix_ipv4(uint8_t *ip, size_t len)
{
        if (len < NS_IPV4_MIN_HDR || ns_ipv4_version(ip) != 4 || ns_ipv4_ihl(ip) < 5)
                return;
        size_t hlen = ns_ipv4_hdr_len(ip);
        if (hlen > len)
                return;
        ns_ipv4_fill_checksum(ip);
        size_t total = ns_ipv4_total_len(ip);
        if (total < hlen || total > len || ns_ipv4_is_later_fragment(ip))
                return;
        uint8_t *l4 = ip + hlen;
        size_t l4len = total - hlen;
        /* A first fragment's checksum cannot be right; fix only whole datagrams. */
        if (ns_ipv4_mf(ip))
                return;
        switch (ns_ipv4_proto(ip)) {
        case NS_IPV4_PROTO_ICMP:
                if (l4len >= 4)
                        ns_icmp4_fill_checksum(l4, l4len);
                break;
        case NS_IPV4_PROTO_IGMP:
                if (l4len >= 4) {
                        l4[2] = l4[3] = 0;
                        uint16_t c = sum16(l4, l4len, 0);
                        l4[2] = (uint8_t)(c >> 8);
                        l4[3] = (uint8_t)c;
                }
                break;
        case NS_IPV4_PROTO_UDP:
                if (l4len >= 8) {
                        ns_udp_set_checksum(l4, 0);
                        uint16_t c =
                            ns_udp_compute_checksum(l4, l4len, ns_ipv4_src(ip), ns_ipv4_dst(ip));
                        ns_udp_set_checksum(l4, c);
                }
                break;
        default:
                break;
        }
}

size_t fuzz_wrap_l4(struct fuzz_in *in, uint8_t proto, uint8_t *out, size_t cap)
{
        uint8_t ctl = fuzz_u8(in);
        uint8_t ttl = fuzz_u8(in);
        static const ns_ip4 dsts[4] = { FUZZ_OUR1, NS_IP4(192, 0, 2, 255), 0xffffffffu,
                                        NS_IP4(224, 0, 0, 1) };
        ns_ip4 dst = dsts[(ctl >> 1) & 3];
        if (dst == NS_IP4(224, 0, 0, 1) && proto == NS_IPV4_PROTO_IGMP)
                dst = FUZZ_GROUP;
        size_t olen = 4u * ((ctl >> 3) & 7);
        size_t got;
        const uint8_t *opts = fuzz_bytes(in, olen, &got);
        uint8_t optbuf[NS_IPV4_MAX_OPTS] = { 0 };
        memcpy(optbuf, opts, got);
        size_t hlen = NS_IPV4_MIN_HDR + olen;
        const uint8_t *l4 = fuzz_bytes(in, cap - hlen, &got);
        struct ns_ipv4_fields f = {
                .total_len = (uint16_t)(hlen + got),
                .id = 0x1234,
                .flags = (ctl & 0x80) ? NS_IPV4_FLAG_DF : 0,
                .ttl = ttl,
                .proto = proto,
                .src = (ctl & 0x40) ? NS_IP4(203, 0, 113, 9) : FUZZ_PEER1,
                .dst = dst,
                .options = optbuf,
                .options_len = (uint8_t)olen,
        };
        FUZZ_CHECK(ns_ipv4_emit(out, cap, &f) == hlen);
        memcpy(out + hlen, l4, got);
        if (!(ctl & 1))
                fuzz_fix_ipv4(out, hlen + got);
        return hlen + got;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
        if (in->len == 0)
                return 0;
        uint8_t v = in->p[0];
        in->p++;
        in->len--;
        return v;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
        uint16_t hi = fuzz_u8(in);
        return (uint16_t)(hi << 8 | fuzz_u8(in));
}

const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
        if (n > in->len)
                n = in->len;
        const uint8_t *p = in->p;
        in->p += n;
        in->len -= n;
        *got = n;
        return p;
}

int64_t fuzz_time_step(unsigned sel)
{
        static const int64_t steps[8] = {
                0, 1000000LL, 100000000LL, SEC, 3 * SEC, 10 * SEC, 29 * SEC, 31 * SEC,
        };
        return steps[sel & 7];
}
